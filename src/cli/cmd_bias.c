/* src/cli/cmd_bias.c - `metapool bias`: small-study effects and publication bias.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Runs the methods of include/metapool/bias.h on the model of `pool`
 * (metafor's regtest, ranktest, trimfill, fsn, PET-PEESE by lm, selmodel)
 * and hands the results to the reporter (mp_report_bias_*, the funnel plot). */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Sample sizes of the used rows, from ni, n1i + n2i or ai + bi + ci + di;
 * NULL when the table has none of these (or a value is missing). */
static double *sample_sizes(const mp_table *t, const mp_effects *e)
{
    static const char *const sets[3][4] = {
        {"ni", NULL, NULL, NULL}, {"n1i", "n2i", NULL, NULL}, {"ai", "bi", "ci", "di"}};
    for (int s = 0; s < 3; s++) {
        long col[4];
        int n = 0, ok = 1;
        for (int j = 0; j < 4 && sets[s][j]; j++, n++)
            if ((col[j] = mp_table_col(t, sets[s][j])) < 0) ok = 0;
        if (!ok) continue;
        double *ni = malloc((e->k ? e->k : 1) * sizeof *ni);
        if (!ni) return NULL;
        size_t m = 0;
        for (size_t i = 0; i < e->n && ok; i++) {
            if (!e->used[i]) continue;
            double sum = 0, x;
            mp_error err;
            for (int j = 0; j < n && ok; j++) {
                if (mp_table_is_na(t, i, (size_t)col[j]) ||
                    mp_table_number(t, i, (size_t)col[j], &x, &err) != MP_OK)
                    ok = 0;
                sum += x;
            }
            ni[m++] = sum;
        }
        if (ok) return ni;
        free(ni);
    }
    return NULL;
}

/* A method that could not be run: a warning naming it and why. */
static void note(const char *cmd, mp_msgs *w, const char *what, mp_status st, int *noconv)
{
    int sel = !strcmp(what, "the selection model");
    const char *why = st == MP_ETOOFEW && sel ? "too few studies, or an interval of --steps holds no study"
                      : st == MP_ETOOFEW ? "too few studies"
                      : st == MP_EDOM && !strcmp(what, "trim and fill")
                          ? "k0 cannot be estimated from these ranks (with Q0: 2k^2 - 4 Sr + 1/4 < 0; try --estimator L0)"
                      : st == MP_ESING ? "the predictor does not vary across studies"
                      : st == MP_ENOCONV ? "the fit did not converge"
                                         : mp_strerror(st);
    if (st == MP_ENOCONV) *noconv = 1;
    mp_msgs_add(w, "%s not computed: %s", what, why);
    cli_errorf(cmd, "warning: %s not computed: %s", what, why);
}

int cmd_bias(int argc, char **argv)
{
    const char *cmd = "bias";
    cli_common c;
    int go = cli_parse(&bias_spec, argc, argv, &c);
    if (go != CLI_GO_ON) return go;
    if (c.contours && !c.plot) {
        cli_errorf(cmd, "--contours draws on the funnel plot: give --plot FILE too");
        return CLI_USAGE;
    }
    if (c.plot) {
        if (cli_check_writable(cmd, c.plot) != 0) return CLI_USAGE;
    }

    mp_table *t = NULL;
    mp_effects e;
    int status = cli_load(cmd, c.file, &c, &t, &e);
    if (status != CLI_OK) return status;

    mp_msgs warn = {0};
    double *y = malloc((e.k ? e.k : 1) * 2 * sizeof *y);
    double *ni = NULL;
    mp_egger_result eg;
    mp_rank_result rk;
    mp_trimfill_result tf;
    mp_fsn_result fs;
    mp_wls_result pet, peese;
    mp_selmodel_result sm;
    memset(&tf, 0, sizeof tf);
    memset(&sm, 0, sizeof sm);
    if (!y) { cli_errorf(cmd, "out of memory"); status = CLI_FAIL; goto out; }
    double *v = y + e.k;
    size_t k = 0;
    for (size_t i = 0; i < e.n; i++)
        if (e.used[i]) { y[k] = e.yi[i]; v[k] = e.vi[i]; k++; }
    for (size_t i = 0; i < e.warnings.n; i++) mp_msgs_add(&warn, "%s", e.warnings.v[i]);

    ni = sample_sizes(t, &e);
    if (mp_egger_predictor_needs_ni(c.predictor) && !ni) {
        cli_errorf(cmd, "%s: --predictor %s needs sample sizes (a column ni, or n1i and n2i, "
                        "or ai, bi, ci, di, without missing values)",
                   mp_table_name(t), mp_egger_predictor_name(c.predictor));
        status = CLI_USAGE;
        goto out;
    }

    mp_pool_opts po = c.pool;
    po.tau2_ci = 0;
    mp_pool_result fit;
    mp_status s = mp_pool(y, v, k, &po, NULL, &fit);
    if (s != MP_OK) {
        if (s == MP_ENOCONV)
            cli_errorf(cmd, "%s: the %s estimator of tau2 did not converge (iteration limit %zu)",
                       mp_table_name(t), mp_method_name(po.method), fit.niter);
        else cli_errorf(cmd, "%s: the model could not be fitted: %s", mp_table_name(t), mp_strerror(s));
        status = CLI_FAIL;
        goto out;
    }
    if (k < MP_BIAS_FEW_STUDIES) {
        char m[200];
        snprintf(m, sizeof m, "k = %zu: with fewer than %d studies the asymmetry tests have little "
                 "power and are not meaningful (Cochrane Handbook 10.4.3.1)", k, MP_BIAS_FEW_STUDIES);
        mp_msgs_add(&warn, "%s", m);
        cli_errorf(cmd, "warning: %s", m);
    }

    int noconv = 0;
    mp_bias_report br;
    memset(&br, 0, sizeof br);
    br.egger_st = mp_bias_egger(y, v, ni, k, c.egger_model, c.predictor, &po, &eg);
    if (br.egger_st) note(cmd, &warn, "Egger's test", br.egger_st, &noconv);
    br.rank_st = mp_bias_ranktest(y, v, k, &rk);
    if (br.rank_st) note(cmd, &warn, "the rank correlation test", br.rank_st, &noconv);
    br.tf_st = mp_bias_trimfill(y, v, k, c.estimator, MP_TF_SIDE_AUTO, &po, 0, &tf);
    if (br.tf_st) note(cmd, &warn, "trim and fill", br.tf_st, &noconv);
    br.fsn_st = mp_bias_fsn(y, v, k, 0.05, &fs);
    if (br.fsn_st) note(cmd, &warn, "fail-safe N", br.fsn_st, &noconv);
    br.pet_st = mp_bias_pet_peese(y, v, k, 0, po.level, &pet);
    if (br.pet_st) note(cmd, &warn, "PET", br.pet_st, &noconv);
    br.peese_st = mp_bias_pet_peese(y, v, k, 1, po.level, &peese);
    if (br.peese_st) note(cmd, &warn, "PEESE", br.peese_st, &noconv);
    mp_selmodel_opts so;
    mp_selmodel_opts_init(&so);
    if (c.nsteps) { so.steps = c.steps; so.nsteps = c.nsteps; }
    so.fixed_effect = po.method == MP_METHOD_FE;
    so.level = po.level;
    so.maxiter = po.maxiter;
    br.sel_st = mp_bias_selmodel(y, v, k, &so, &sm);
    if (br.sel_st) note(cmd, &warn, "the selection model", br.sel_st, &noconv);
    else if (sm.boundary) {
        const char *m = "selection model: an estimate is on the boundary of its range (a delta at 0 "
                        "or 100, or tau^2 = 0); read it with caution";
        mp_msgs_add(&warn, "%s", m);
        cli_errorf(cmd, "warning: %s", m);
    }

    br.file = mp_table_name(t);
    br.measure = e.measure;
    br.opt = &c.rep;
    br.k = k;
    br.yi = y;
    br.vi = v;
    br.fit = &fit;
    br.egger = &eg;
    br.rank = &rk;
    br.tf = &tf;
    br.fsn = &fs;
    br.pet = &pet;
    br.peese = &peese;
    br.sel = &sm;
    br.warnings = &warn;
    if (c.format == CLI_FMT_JSON) mp_report_bias_json(stdout, &br);
    else if (c.format == CLI_FMT_CSV) mp_report_bias_csv(stdout, &br);
    else mp_report_bias_table(stdout, &br);
    if (c.plot && mp_report_funnel_svg(c.plot, &br, c.contours) != MP_OK) {
        cli_errorf(cmd, "%s: cannot write the funnel plot", c.plot);
        status = CLI_FAIL;
    }
    if (noconv) status = CLI_FAIL;
out:
    mp_trimfill_result_free(&tf);
    mp_selmodel_result_free(&sm);
    mp_msgs_free(&warn);
    free(ni);
    free(y);
    mp_effects_free(&e);
    mp_table_free(t);
    return cli_finish(cmd, status);
}
