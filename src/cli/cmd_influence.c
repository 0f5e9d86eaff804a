/* src/cli/cmd_influence.c - `metapool influence`: influence diagnostics per study and the Baujat plot.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * metafor's influence(rma(...)) and baujat(rma(...)), also for a model with
 * moderators (--mods, the design rules of `metapool reg`).  The diagnostics
 * are mp_influence_pool() / mp_influence_reg() (sensitivity.h), the output
 * the reporter's mp_report_infl_* (report_sensitivity.h). */
#include "cli.h"
#include "metapool/report_sensitivity.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int cmd_influence(int argc, char **argv)
{
    const char *cmd = "influence";
    cli_common c;
    int status = cli_parse(&influence_spec, argc, argv, &c);
    if (status != CLI_GO_ON) return status;
    if (c.plot && cli_check_writable(cmd, c.plot) != 0) return CLI_USAGE;
    mp_table *t = NULL;
    mp_effects e;
    cli_packed p;
    mp_design d;
    mp_influence inf;
    mp_msgs warn = {0};
    char **modv = NULL, *modbuf = NULL;
    const char **lab = NULL;
    memset(&p, 0, sizeof p);
    memset(&d, 0, sizeof d);
    memset(&inf, 0, sizeof inf);
    size_t nmods = 0;
    if (c.mods) {
        modv = cli_split_mods(c.mods, &nmods, &modbuf);
        if (!modv) { cli_errorf(cmd, "out of memory"); return CLI_FAIL; }
        if (nmods == 0) {
            cli_errorf(cmd, "--mods names no column");
            free(modv);
            free(modbuf);
            return CLI_USAGE;
        }
    }
    status = cli_load(cmd, c.file, &c, &t, &e);
    if (status != CLI_OK) { free(modv); free(modbuf); return status; }
    const char *file = mp_table_name(t);
    if ((status = cli_pack(cmd, t, &e, c.study, &p)) != CLI_OK) goto out;
    mp_status s;
    if (modv) {
        mp_error err;
        mp_error_clear(&err);
        s = mp_design_build(t, &e, (const char *const *)modv, nmods, 1, &d, &err);
        if (s != MP_OK) {
            if (err.msg[0]) cli_input_error(cmd, &err);
            else cli_errorf(cmd, "%s: %s", file, mp_strerror(s));
            status = s == MP_EINVAL || s == MP_EPARSE ? CLI_USAGE : CLI_FAIL;
            goto out;
        }
        cli_warnings(cmd, &d.warnings);
        for (size_t i = 0; i < d.warnings.n; i++) mp_msgs_add(&warn, "%s", d.warnings.v[i]);
        lab = malloc((d.k ? d.k : 1) * sizeof *lab);
        if (!lab) { cli_errorf(cmd, "out of memory"); status = CLI_FAIL; goto out; }
        for (size_t i = 0; i < d.k; i++) lab[i] = p.all[d.row[i]];
        mp_reg_opts o;
        mp_reg_opts_init(&o);
        o.method = c.pool.method;
        o.test = c.pool.test;
        o.level = c.pool.level;
        o.maxiter = c.pool.maxiter;
        o.epsrel = c.pool.epsrel;
        s = mp_influence_reg(d.y, d.v, d.X, d.k, d.p, &o, NULL, &inf);
    } else {
        if (p.k < 2) {
            cli_errorf(cmd, "%s: influence needs at least 2 studies (k = %zu)", file, p.k);
            status = CLI_FAIL;
            goto out;
        }
        s = mp_influence_pool(p.y, p.v, p.k, &c.pool, NULL, &inf);
        lab = malloc(p.k * sizeof *lab);
        if (!lab) { cli_errorf(cmd, "out of memory"); status = CLI_FAIL; goto out; }
        memcpy(lab, p.lab, p.k * sizeof *lab);
    }
    if (s == MP_ETOOFEW && !inf.status) {
        cli_errorf(cmd, "%s: influence needs more studies than coefficients plus one", file);
        status = CLI_FAIL;
        goto out;
    }
    if (s == MP_ENOMEM && !inf.status) { cli_errorf(cmd, "out of memory"); status = CLI_FAIL; goto out; }
    if (inf.full_status != MP_OK) {
        if (inf.full_status == MP_ENOCONV)
            cli_errorf(cmd, "%s: the %s estimator of tau2 did not converge", file, mp_method_name(c.pool.method));
        else if (inf.full_status == MP_EDOM)
            cli_errorf(cmd, "%s: effect sizes or variances outside the supported range", file);
        else
            cli_errorf(cmd, "%s: the model could not be fitted: %s", file, mp_strerror(inf.full_status));
        status = inf.full_status == MP_EDOM ? CLI_USAGE : CLI_FAIL;
        goto out;
    }
    for (size_t i = 0; i < inf.k; i++) {
        if (inf.status[i] == MP_OK) continue;
        mp_msgs_add(&warn, "the fit without '%s' failed (%s): its row is NA", lab[i],
                    mp_strerror(inf.status[i]));
        if (inf.status[i] == MP_ENOCONV) status = CLI_FAIL;
    }
    if (c.pool.method == MP_METHOD_FE && c.pool.test == MP_TEST_KNHA)
        mp_msgs_add(&warn, "the Knapp-Hartung adjustment is not meant for the fixed-effect model");
    cli_warnings(cmd, &warn);
    for (size_t i = 0; i < e.warnings.n; i++) mp_msgs_add(&warn, "%s", e.warnings.v[i]);
    mp_report_infl r = {file, &c.rep, lab, &inf, modv ? (const char *const *)d.names : NULL, &warn};
    if (c.format == CLI_FMT_JSON) mp_report_infl_json(stdout, &r);
    else if (c.format == CLI_FMT_CSV) mp_report_infl_csv(stdout, &r);
    else mp_report_infl_table(stdout, &r);
    if (c.plot) status = cli_plot_status(cmd, c.plot, mp_report_baujat_svg(c.plot, &r), status);
out:
    free(lab);
    free(modv);
    free(modbuf);
    mp_influence_free(&inf);
    mp_design_free(&d);
    mp_msgs_free(&warn);
    cli_packed_free(&p);
    mp_effects_free(&e);
    mp_table_free(t);
    return cli_finish(cmd, status);
}
