/* src/cli/cmd_reg.c - `metapool reg`: mixed-effects meta-regression on moderators.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * metafor's rma(yi, vi, mods = ~ a + b, method = ..., test = ...); the
 * design rules (numeric vs categorical moderators, missing values, rank
 * deficiency) are those of include/metapool/design.h. */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const cli_optuse reg_opts[] = {
    {OPT_MODS, "moderator columns, as a,b or a + b\n"
               "A numeric column enters as it is; a text column (or factor(COL))\n"
               "becomes dummy variables, levels sorted as R's factor() sorts them\n"
               "(English UTF-8 locale: asia < EU < US), the first as reference.\n"
               "Rows with a missing (NA) moderator are left out (warning).",
     "--mods is required (moderator columns, e.g. --mods ablat,alloc)"},
    {OPT_MEASURE, NULL, NULL}, {OPT_VTYPE, NULL, NULL}, {OPT_DROP00, NULL, NULL},
    {OPT_METHOD, NULL, NULL},
    {OPT_TEST, "z or knha (Knapp-Hartung: t and F tests on k-p df) [z]", NULL},
    {OPT_LEVEL, NULL, NULL},
    {OPT_FORMAT, "table, json or csv (the coefficient table) [table]", NULL},
    {OPT_DIGITS, "decimals shown in the table [4]", NULL},
    {OPT_MAXITER, "iteration limit of REML, ML, EB and PM [1000]", NULL},
    {OPT_PERMUTATIONS, "permutation tests of the coefficients and QM (metafor's permutest():\n"
                       "permuted rows of the moderators): N random orderings or exact\n"
                       "(every distinct one, k <= 10; used anyway when there are at most N)", NULL},
    {OPT_SEED, NULL, NULL}, {OPT_THREADS, NULL, NULL},
    {0, NULL, NULL}};

static const cli_spec reg_spec = {
    "reg",
    "Mixed-effects meta-regression (metafor's rma(yi, vi, mods = ~ a + b)):\n"
    "         coefficients with tests and CIs, residual heterogeneity (QE), the\n"
    "         omnibus test of the moderators (QM), pseudo R^2, I^2 and H^2.",
    "metapool reg --mods a,b [OPTIONS] FILE  (FILE '-' is standard input)",
    reg_opts,
    "Exit status: 0 success; 1 the model could not be fitted (no convergence,\n"
    "collinear moderators, no more studies than coefficients); 2 bad usage or input.\n"};


int cmd_reg(int argc, char **argv)
{
    const char *cmd = "reg";
    cli_common c;
    cli_common_init(&c);
    c.rep.digits = 4; /* metafor prints 4 decimals */
    int go = cli_parse(&reg_spec, argc, argv, &c);
    if (go != CLI_GO_ON) return go;
    const char *mods = c.mods;
    if (!*mods) {
        cli_errorf(cmd, "--mods is required (moderator columns, e.g. --mods ablat,alloc)");
        cli_help(stderr, &reg_spec);
        return CLI_USAGE;
    }

    size_t nmods = 0;
    char *modbuf = NULL;
    char **modv = cli_split_mods(mods, &nmods, &modbuf);
    if (!modv) { cli_errorf(cmd, "out of memory"); return CLI_FAIL; }
    if (nmods == 0) {
        cli_errorf(cmd, "--mods names no column");
        free(modv);
        free(modbuf);
        return CLI_USAGE;
    }

    mp_table *t = NULL;
    mp_effects e;
    mp_design d;
    mp_reg_result r;
    mp_perm_result perm;
    int have_perm = 0;
    mp_msgs warn = {0};
    memset(&perm, 0, sizeof perm);
    memset(&d, 0, sizeof d);
    memset(&r, 0, sizeof r);
    int status = cli_load(cmd, c.file, &c, &t, &e);
    if (status != CLI_OK) { free(modv); free(modbuf); return status; }

    mp_error err;
    mp_error_clear(&err);
    mp_status s = mp_design_build(t, &e, (const char *const *)modv, nmods, 1, &d, &err);
    if (s != MP_OK) {
        if (err.msg[0]) cli_input_error(cmd, &err);
        else cli_errorf(cmd, "%s: %s", mp_table_name(t), mp_strerror(s));
        status = s == MP_EINVAL || s == MP_EPARSE ? CLI_USAGE : CLI_FAIL;
        goto out;
    }
    cli_warnings(cmd, &d.warnings);

    mp_reg_opts o;
    mp_reg_opts_init(&o);
    o.method = c.pool.method;
    o.test = c.pool.test;
    o.level = c.pool.level;
    o.maxiter = c.pool.maxiter;
    s = mp_reg_fit(d.y, d.v, d.X, d.k, d.p, &o, &r);
    if (s == MP_ENOCONV) {
        cli_errorf(cmd, "%s: the %s estimator of tau2 did not converge (iteration limit %zu reached)",
                   mp_table_name(t), mp_method_name(o.method), r.niter);
        status = CLI_FAIL;
        goto out;
    } else if (s != MP_OK) {
        cli_errorf(cmd, "%s: the model could not be fitted: %s", mp_table_name(t), mp_strerror(s));
        status = CLI_FAIL;
        goto out;
    }
    for (size_t i = 0; i < e.warnings.n; i++) mp_msgs_add(&warn, "%s", e.warnings.v[i]);
    for (size_t i = 0; i < d.warnings.n; i++) mp_msgs_add(&warn, "%s", d.warnings.v[i]);
    if (r.warn & MP_WARN_FE_KNHA) {
        const char *m = "the Knapp-Hartung adjustment is not meant for the fixed-effect model";
        mp_msgs_add(&warn, "%s", m);
        cli_errorf(cmd, "warning: %s", m);
    }

    if (c.permutations) {
        mp_perm_opts po;
        mp_perm_opts_init(&po);
        po.exact = c.permutations < 0;
        po.iter = c.permutations > 0 ? (uint64_t)c.permutations : 1000;
        po.seed = c.seed;
        po.threads = (size_t)c.threads;
        s = mp_permute_reg(d.y, d.v, d.X, d.k, d.p, &o, &po, &perm);
        if (s == MP_EDOM) {
            cli_errorf(cmd, "--permutations exact: %zu! orderings are too many (k <= %d); give a "
                       "number of random permutations", d.k, MP_PERM_REG_EXACT_KMAX);
            status = CLI_USAGE;
            goto out;
        } else if (s != MP_OK) {
            cli_errorf(cmd, "%s: the permutation test failed: %s", mp_table_name(t), mp_strerror(s));
            status = CLI_FAIL;
            goto out;
        }
        have_perm = 1;
        if (perm.failed)
            mp_msgs_add(&warn, "%llu permuted fits did not converge and are left out of the "
                        "permutation test", (unsigned long long)perm.failed);
    }

    if (c.format == CLI_FMT_JSON)
        mp_report_reg_json_perm(stdout, e.measure, &d, &r, &warn, have_perm ? &perm : NULL);
    else if (c.format == CLI_FMT_CSV) mp_report_reg_csv(stdout, &d, &r);
    else {
        mp_report_reg_table(stdout, &d, &r, c.rep.digits);
        if (have_perm) {
            fprintf(stdout, "\nPermutation tests (%s, %llu orderings of the moderator rows):\n",
                    perm.exact ? "exact" : "random", (unsigned long long)perm.permutations);
            for (size_t j = 0; j < d.p; j++) fprintf(stdout, "  %-20s p = %.4g\n", d.names[j], perm.pval[j]);
            if (!isnan(perm.QM_pval)) fprintf(stdout, "  %-20s p = %.4g\n", "QM", perm.QM_pval);
        }
    }
out:
    mp_perm_result_free(&perm);
    mp_reg_result_free(&r);
    mp_design_free(&d);
    mp_msgs_free(&warn);
    mp_effects_free(&e);
    mp_table_free(t);
    free(modv);
    free(modbuf);
    if (fflush(stdout) != 0 && status == CLI_OK) { cli_errorf(cmd, "write error"); status = CLI_FAIL; }
    return status;
}
