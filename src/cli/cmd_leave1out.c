/* src/cli/cmd_leave1out.c - `metapool leave1out` and `metapool cumul`: the analysis refitted on subsets.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * metafor's leave1out(rma(...)) and cumul(rma(...), order = COL); the fits
 * are mp_leave1out() / mp_cumul() (include/metapool/sensitivity.h), the
 * output the reporter's mp_report_sens_* (report_sensitivity.h). */
#include "cli.h"
#include "metapool/report_sensitivity.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The --order keys of the packed rows: numbers; NA (or empty) sorts last
 * with a warning, text is an input error naming file:line:col. */
static int order_keys(const char *cmd, const mp_table *t, const cli_packed *p, const char *col,
                      double *key, mp_msgs *warn)
{
    long j = mp_table_col(t, col);
    if (j < 0) {
        cli_errorf(cmd, "%s: no column '%s' for --order", mp_table_name(t), col);
        return CLI_USAGE;
    }
    for (size_t i = 0; i < p->k; i++) {
        size_t r = p->row[i];
        if (mp_table_is_missing(t, r, (size_t)j)) {
            key[i] = NAN;
            mp_msgs_add(warn, "row %zu (line %zu): no value in the --order column '%s': added last",
                        r + 1, mp_table_line(t, r), col);
            continue;
        }
        mp_error err;
        mp_error_clear(&err);
        if (mp_table_number(t, r, (size_t)j, &key[i], &err) != MP_OK) {
            cli_input_error(cmd, &err);
            return CLI_USAGE;
        }
    }
    return CLI_OK;
}

/* A fit status as a one-line reason and the exit status it implies. */
static int fit_failure(const char *cmd, const char *what, const mp_pool_result *r, mp_status s,
                       const mp_pool_opts *o)
{
    if (s == MP_ENOCONV) {
        cli_errorf(cmd, "%s: the %s estimator of tau2 did not converge in %zu iterations", what,
                   mp_method_name(o->method), r->niter);
        return CLI_FAIL;
    }
    if (s == MP_EDOM) {
        cli_errorf(cmd, "%s: effect sizes or variances outside the supported range "
                        "(|yi| <= %g, %g <= vi <= %g)", what, MP_POOL_YMAX, MP_POOL_VMIN, MP_POOL_VMAX);
        return CLI_USAGE;
    }
    cli_errorf(cmd, "%s: %s", what, mp_strerror(s));
    return CLI_FAIL;
}

static int run(const cli_spec *spec, mp_sens_kind kind, int argc, char **argv)
{
    const char *cmd = spec->name;
    cli_common c;
    int status = cli_parse(spec, argc, argv, &c);
    if (status != CLI_GO_ON) return status;
    if (c.decreasing && !c.order) {
        cli_errorf(cmd, "--decreasing needs --order COL");
        return CLI_USAGE;
    }
    if (c.plot && cli_check_writable(cmd, c.plot) != 0) return CLI_USAGE;
    mp_table *t = NULL;
    mp_effects e;
    cli_packed p;
    memset(&p, 0, sizeof p);
    mp_msgs warn = {0};
    mp_pool_result full, *rows = NULL;
    mp_status *st = NULL;
    double *key = NULL;
    size_t *perm = NULL;
    status = cli_load(cmd, c.file, &c, &t, &e);
    if (status != CLI_OK) return status;
    const char *file = mp_table_name(t);
    if ((status = cli_pack(cmd, t, &e, c.study, &p)) != CLI_OK) goto out;
    if (p.k < (kind == MP_SENS_LEAVE1OUT ? 2u : 1u)) {
        cli_errorf(cmd, "%s: %s needs at least %s (k = %zu)", file, cmd,
                   kind == MP_SENS_LEAVE1OUT ? "2 studies" : "1 study", p.k);
        status = CLI_FAIL;
        goto out;
    }
    rows = malloc(p.k * sizeof *rows);
    st = malloc(p.k * sizeof *st);
    const char **lab = malloc(p.k * sizeof *lab);
    if (!rows || !st || !lab) {
        free(lab);
        cli_errorf(cmd, "out of memory");
        status = CLI_FAIL;
        goto out;
    }
    /* the fit of all studies, as `pool` gives it */
    mp_status fs = mp_pool(p.y, p.v, p.k, &c.pool, NULL, &full);
    if (fs != MP_OK) {
        char what[300];
        snprintf(what, sizeof what, "%s (all studies)", file);
        status = fit_failure(cmd, what, &full, fs, &c.pool);
        free(lab);
        goto out;
    }
    if (kind == MP_SENS_LEAVE1OUT) {
        mp_leave1out(p.y, p.v, p.k, &c.pool, NULL, rows, st);
        memcpy(lab, p.lab, p.k * sizeof *lab);
    } else {
        key = malloc(p.k * sizeof *key);
        perm = malloc(p.k * sizeof *perm);
        if (!key || !perm) {
            free(lab);
            cli_errorf(cmd, "out of memory");
            status = CLI_FAIL;
            goto out;
        }
        if (c.order) {
            if ((status = order_keys(cmd, t, &p, c.order, key, &warn)) != CLI_OK) { free(lab); goto out; }
            mp_cumul_order(key, p.k, c.decreasing, perm);
        } else {
            for (size_t i = 0; i < p.k; i++) perm[i] = i;
        }
        mp_cumul(p.y, p.v, p.k, perm, &c.pool, rows, st);
        for (size_t i = 0; i < p.k; i++) lab[i] = p.lab[perm[i]];
    }
    /* failed rows: named on stderr, NA in the output, exit 1 */
    for (size_t i = 0; i < p.k; i++) {
        if (st[i] == MP_OK) continue;
        char what[400];
        snprintf(what, sizeof what, "%s: the fit %s '%s'", file,
                 kind == MP_SENS_CUMUL ? "adding" : "without", lab[i]);
        int s = fit_failure(cmd, what, &rows[i], st[i], &c.pool);
        mp_msgs_add(&warn, "the fit %s '%s' failed: %s", kind == MP_SENS_CUMUL ? "adding" : "without",
                    lab[i], mp_strerror(st[i]));
        if (status == CLI_OK) status = s == CLI_USAGE ? CLI_USAGE : CLI_FAIL;
    }
    int knha1 = 0;
    for (size_t i = 0; i < p.k; i++) knha1 |= st[i] == MP_OK && (rows[i].warn & MP_WARN_KNHA_K1);
    if (knha1)
        mp_msgs_add(&warn, "a fit of one study: the Knapp-Hartung test needs k > 1, the z test is used (as metafor)");
    if (full.warn & MP_WARN_FE_KNHA)
        mp_msgs_add(&warn, "the Knapp-Hartung adjustment is not meant for the fixed-effect model");
    cli_warnings(cmd, &warn);
    for (size_t i = 0; i < e.warnings.n; i++) mp_msgs_add(&warn, "%s", e.warnings.v[i]);

    mp_report_sens r = {file, e.measure, &c.rep, kind, p.k, lab, rows, st, &full,
                        kind == MP_SENS_CUMUL ? c.order : NULL, c.decreasing, &warn};
    if (c.format == CLI_FMT_JSON) mp_report_sens_json(stdout, &r);
    else if (c.format == CLI_FMT_CSV) mp_report_sens_csv(stdout, &r);
    else mp_report_sens_table(stdout, &r);
    if (c.plot) status = cli_plot_status(cmd, c.plot, mp_report_sens_svg(c.plot, &r), status);
    free(lab);
out:
    free(rows);
    free(st);
    free(key);
    free(perm);
    mp_msgs_free(&warn);
    cli_packed_free(&p);
    mp_effects_free(&e);
    mp_table_free(t);
    return cli_finish(cmd, status);
}

int cmd_leave1out(int argc, char **argv) { return run(&leave1out_spec, MP_SENS_LEAVE1OUT, argc, argv); }

int cmd_cumul(int argc, char **argv) { return run(&cumul_spec, MP_SENS_CUMUL, argc, argv); }
