/* src/cli/cmd_reg.c - `metapool reg`: mixed-effects meta-regression on moderators.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * metafor's rma(yi, vi, mods = ~ a + b, method = ..., test = ...); the
 * design rules (numeric vs categorical moderators, missing values, rank
 * deficiency) are those of include/metapool/design.h. */
#include "cli.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int run(const char *cmd, cli_common *c, int pool_mode)
{
    const char *formula = pool_mode ? "1" : c->mods;
    mp_table *t = NULL, *nt = NULL;
    mp_effects e;
    mp_design d;
    mp_reg_result r;
    mp_mv_random re;
    mp_mv_result mv;
    mp_robust_result rb;
    mp_reg_pred pr, pip;
    mp_msgs warn = {0};
    double *Xn = NULL, *s2lb = NULL, *s2ub = NULL;
    const char **pcells = NULL, **pnames = NULL;
    size_t *cl = NULL;
    int borrowed = 0;
    memset(&d, 0, sizeof d);
    memset(&r, 0, sizeof r);
    memset(&re, 0, sizeof re);
    memset(&mv, 0, sizeof mv);
    memset(&rb, 0, sizeof rb);
    memset(&pr, 0, sizeof pr);
    memset(&pip, 0, sizeof pip);
    mp_report_reg_extra x;
    memset(&x, 0, sizeof x);
    mp_perm_result perm;
    memset(&perm, 0, sizeof perm);
    if (c->permutations && (c->random || c->cluster)) {
        cli_errorf(cmd, "--permutations tests the rma() model; it does not combine with %s",
                   c->random ? "--random" : "--cluster");
        return CLI_USAGE;
    }
    if (c->vcov && !c->cluster) {
        cli_errorf(cmd, "--vcov needs --cluster COL");
        return CLI_USAGE;
    }
    if (c->random && c->pool.method != MP_METHOD_REML && c->pool.method != MP_METHOD_ML) {
        cli_errorf(cmd, "--random fits by REML or ML (metafor's rma.mv), not %s",
                   mp_method_name(c->pool.method));
        return CLI_USAGE;
    }
    if (c->random && c->pool.test == MP_TEST_KNHA) {
        cli_errorf(cmd, "--test knha is not defined for --random models (metafor's rma.mv); use z");
        return CLI_USAGE;
    }
    if (pool_mode && (c->rep.by || c->compare || c->plot || c->format == CLI_FMT_CSV)) {
        cli_errorf(cmd, "--random does not combine with %s (yet)",
                   c->rep.by ? "--by" : c->compare ? "--compare" : c->plot ? "--plot" : "--format csv");
        return CLI_USAGE;
    }
    if (c->plot && !pool_mode && cli_check_writable(cmd, c->plot) != 0) return CLI_USAGE;
    int status = cli_load(cmd, c->file, c, &t, &e);
    if (status != CLI_OK) return status;

    mp_error err;
    mp_error_clear(&err);
    mp_status s = mp_design_build_formula(t, &e, formula, &d, &err);
    if (s != MP_OK) {
        if (err.msg[0]) cli_input_error(cmd, &err);
        else cli_errorf(cmd, "%s: %s", mp_table_name(t), mp_strerror(s));
        status = s == MP_EINVAL || s == MP_EPARSE ? CLI_USAGE : CLI_FAIL;
        goto out;
    }
    cli_warnings(cmd, &d.warnings);
    for (size_t i = 0; i < e.warnings.n; i++) mp_msgs_add(&warn, "%s", e.warnings.v[i]);
    for (size_t i = 0; i < d.warnings.n; i++) mp_msgs_add(&warn, "%s", d.warnings.v[i]);

    if (c->random) {
        s = mp_mv_random_build(t, d.row, d.k, c->random, &re, &err);
        if (s != MP_OK) {
            cli_input_error(cmd, &err);
            status = s == MP_ENOMEM ? CLI_FAIL : CLI_USAGE;
            goto out;
        }
        mp_mv_opts mo;
        mp_mv_opts_init(&mo);
        mo.method = c->pool.method;
        mo.level = c->pool.level;
        mo.intercept = d.intercept;
        mo.maxiter = c->pool.maxiter;
        s = mp_mv_fit(d.y, d.v, d.X, d.k, d.p, &re, &mo, &mv);
        if (s == MP_ENOCONV) {
            cli_errorf(cmd, "%s: the %s fit of the multilevel model did not converge (limit of %zu "
                       "Newton steps; see --maxiter)", mp_table_name(t), mp_method_name(mo.method),
                       mo.maxiter);
            status = CLI_FAIL;
            goto out;
        } else if (s != MP_OK) {
            status = cli_fit_failed(cmd, mp_table_name(t), "the model could not be fitted", s);
            goto out;
        }
        if (mv.nfixed) {
            const char *m = "a --random component with a single level has its sigma2 fixed at 0 "
                            "(as metafor does)";
            mp_msgs_add(&warn, "%s", m);
            cli_errorf(cmd, "warning: %s", m);
        }
        /* a view of the multilevel fit as a regression result */
        borrowed = 1;
        r.k = mv.k; r.p = mv.p; r.method = mv.method; r.test = MP_TEST_Z; r.level = mv.level;
        r.beta = mv.beta; r.se = mv.se; r.stat = mv.stat; r.pval = mv.pval; r.ci_lb = mv.ci_lb;
        r.ci_ub = mv.ci_ub; r.vb = mv.vb; r.df = NAN; r.s2w = 1;
        r.tau2 = r.tau2_se = r.I2 = r.H2 = r.R2 = r.tau2_RE = r.vt = NAN;
        r.QE = mv.QE; r.QE_df = mv.QE_df; r.QE_pval = mv.QE_pval;
        r.QM = mv.QM; r.QM_df = mv.QM_df; r.QM_pval = mv.QM_pval;
        r.niter = mv.niter; r.converged = mv.converged;
        x.sigma2 = mv.sigma2;
        x.sigma2_names = (const char *const *)re.names;
        x.n_levels = re.nlev;
        x.ncomp = re.ncomp;
        x.logLik = mv.logLik;
        x.random = c->random;
        s2lb = malloc(re.ncomp * sizeof *s2lb);
        s2ub = malloc(re.ncomp * sizeof *s2ub);
        if (!s2lb || !s2ub) { status = CLI_FAIL; goto out; }
        if (mp_mv_profile_ci(d.y, d.v, d.X, d.k, d.p, &re, &mo, &mv, s2lb, s2ub) == MP_OK) {
            x.sigma2_ci_lb = s2lb;
            x.sigma2_ci_ub = s2ub;
        } else {
            const char *m = "the profile-likelihood CIs of the variance components could not be computed";
            mp_msgs_add(&warn, "%s", m);
            cli_errorf(cmd, "warning: %s", m);
        }
    } else {
        mp_reg_opts o;
        mp_reg_opts_init(&o);
        o.method = c->pool.method;
        o.test = c->pool.test;
        o.level = c->pool.level;
        o.maxiter = c->pool.maxiter;
        o.intercept = d.intercept;
        s = mp_reg_fit(d.y, d.v, d.X, d.k, d.p, &o, &r);
        if (s == MP_ENOCONV) {
            cli_errorf(cmd, "%s: the %s estimator of tau2 did not converge (iteration limit %zu reached)",
                       mp_table_name(t), mp_method_name(o.method), r.niter);
            status = CLI_FAIL;
            goto out;
        } else if (s != MP_OK) {
            status = cli_fit_failed(cmd, mp_table_name(t), "the model could not be fitted", s);
            goto out;
        }
        if (r.warn & MP_WARN_FE_KNHA) {
            const char *m = "the Knapp-Hartung adjustment is not meant for the fixed-effect model";
            mp_msgs_add(&warn, "%s", m);
            cli_errorf(cmd, "warning: %s", m);
        }
        if (c->permutations) { /* metafor's permutest(): permuted rows of the moderators */
            mp_perm_opts po;
            mp_perm_opts_init(&po);
            po.exact = c->permutations < 0;
            po.iter = c->permutations > 0 ? (uint64_t)c->permutations : 1000;
            po.seed = c->seed;
            po.threads = (size_t)c->threads;
            s = mp_permute_reg(d.y, d.v, d.X, d.k, d.p, &o, &po, &perm);
            if (s == MP_EDOM) {
                cli_errorf(cmd, "--permutations exact: %zu! orderings are too many (k <= %d); give a "
                           "number of random permutations", d.k, MP_PERM_REG_EXACT_KMAX);
                status = CLI_USAGE;
                goto out;
            } else if (s != MP_OK) {
                cli_errorf(cmd, "%s: the permutation test failed: %s", mp_table_name(t),
                           mp_strerror(s));
                status = CLI_FAIL;
                goto out;
            }
            x.perm = &perm;
            if (perm.failed)
                mp_msgs_add(&warn, "%llu permuted fits did not converge and are left out of the "
                            "permutation test", (unsigned long long)perm.failed);
        }
    }

    /* cluster-robust inference replaces the model-based one */
    if (c->cluster) {
        size_t J = 0;
        cl = malloc((d.k ? d.k : 1) * sizeof *cl);
        if (!cl) { status = CLI_FAIL; goto out; }
        s = mp_robust_cluster_ids(t, d.row, d.k, c->cluster, cl, &J, &err);
        if (s != MP_OK) {
            cli_input_error(cmd, &err);
            status = s == MP_ENOMEM ? CLI_FAIL : CLI_USAGE;
            goto out;
        }
        mp_vcov_type vt = c->vcov ? (mp_vcov_type)c->vcov : MP_VCOV_CR1;
        if (c->random && mp_mv_nested_in(&re, cl, d.k) == 0) {
            cli_errorf(cmd, "--cluster %s: the random effects of --random %s are not nested in the "
                       "clusters", c->cluster, c->random);
            status = CLI_USAGE;
            goto out;
        }
        if (c->random)
            s = mp_robust_mv(d.X, d.y, d.v, &re, mv.sigma2, d.k, d.p, r.beta, cl, J, vt,
                             d.intercept ? 1 : 0, r.level, &rb);
        else
            s = mp_robust_uni(d.X, d.y, d.v, r.tau2, d.k, d.p, r.beta, cl, J, vt,
                              d.intercept ? 1 : 0, r.level, &rb);
        if (s != MP_OK) {
            cli_errorf(cmd, "%s: cluster-robust inference failed: %s%s", mp_table_name(t), mp_strerror(s),
                       s == MP_ETOOFEW || s == MP_EINVAL ? " (CR1 needs more clusters than coefficients, "
                                                           "and two clusters at least)" : "");
            status = CLI_FAIL;
            goto out;
        }
        memcpy(r.se, rb.se, d.p * sizeof(double));
        memcpy(r.stat, rb.stat, d.p * sizeof(double));
        memcpy(r.pval, rb.pval, d.p * sizeof(double));
        memcpy(r.ci_lb, rb.ci_lb, d.p * sizeof(double));
        memcpy(r.ci_ub, rb.ci_ub, d.p * sizeof(double));
        memcpy(r.vb, rb.vb, d.p * d.p * sizeof(double));
        r.QM = rb.QM; r.QM_df = rb.QM_df; r.QM_pval = rb.QM_pval;
        r.test = MP_TEST_KNHA; /* t and F tests */
        r.df = vt == MP_VCOV_CR1 ? (double)(J - d.p) : NAN;
        x.vcov = vt == MP_VCOV_CR1 ? "CR1" : "CR2";
        x.n_clusters = J;
        x.coef_df = rb.df;
        x.QM_ddf = rb.QM_ddf;
    }

    /* predictions */
    double tau2pi = c->random ? 0 : r.tau2;
    if (c->random)
        for (size_t q = 0; q < re.ncomp; q++) tau2pi += mv.sigma2[q];
    /* the df of prediction intervals: metafor's predict() on a robust fit
     * uses its ddf, the first coefficient's for CR2 (clubSandwich) */
    double pdf = c->cluster ? rb.df[0] : r.test == MP_TEST_KNHA ? r.df : NAN;
    if (c->predict) {
        s = mp_table_read(c->predict, &nt, &err);
        if (s == MP_OK) s = mp_design_newrows(&d, nt, &Xn, &pr.n, &err);
        if (s != MP_OK) {
            if (err.msg[0]) cli_input_error(cmd, &err);
            else cli_errorf(cmd, "%s: %s", c->predict, mp_strerror(s));
            status = s == MP_ENOMEM ? CLI_FAIL : CLI_USAGE;
            goto out;
        }
        size_t n = pr.n;
        s = c->cluster ? mp_robust_predict(&rb, r.beta, Xn, n, tau2pi, r.level, &pr)
                       : mp_reg_predict(r.beta, r.vb, d.p, Xn, n, tau2pi, pdf, r.level, &pr);
        if (s != MP_OK) {
            cli_errorf(cmd, "predictions failed: %s", mp_strerror(s));
            status = CLI_FAIL;
            goto out;
        }
        size_t nc = mp_table_ncols(nt);
        pnames = malloc((nc ? nc : 1) * sizeof *pnames);
        pcells = malloc(((n * nc) > 0 ? n * nc : 1) * sizeof *pcells);
        if (!pnames || !pcells) { status = CLI_FAIL; goto out; }
        for (size_t j = 0; j < nc; j++) pnames[j] = mp_table_colname(nt, j);
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < nc; j++) pcells[i * nc + j] = mp_table_cell(nt, i, j);
        x.pred = &pr;
        x.pred_names = pnames;
        x.pred_cells = pcells;
        x.npred_names = nc;
    }
    x.transf = c->rep.transf && mp_measure_is_log(e.measure);

    if (c->plot && !pool_mode) {
        mp_error_clear(&err);
        s = mp_report_reg_bubble(c->plot, t, &d, r.beta, r.vb, r.level, pdf, tau2pi, x.transf,
                                 c->cluster ? &rb : NULL, &err);
        if (s != MP_OK) {
            if (err.msg[0]) cli_errorf(cmd, "--plot: %s", err.msg);
            else cli_errorf(cmd, "%s: cannot write the plot: %s", c->plot, mp_strerror(s));
            status = s == MP_EINVAL ? CLI_USAGE : CLI_FAIL;
            goto out;
        }
    }
    if (pool_mode) {
        double one = 1;
        mp_reg_predict(r.beta, r.vb, 1, &one, 1, tau2pi, NAN, r.level, &pip);
        if (c->format == CLI_FMT_JSON) mp_report_mv_pool_json(stdout, e.measure, &r, &x, &pip, &warn);
        else mp_report_mv_pool_table(stdout, &r, &x, &pip, c->rep.digits);
    } else if (c->format == CLI_FMT_JSON) {
        mp_report_reg_json_ex(stdout, e.measure, &d, &r, &x, &warn);
    } else if (c->format == CLI_FMT_CSV) {
        mp_report_reg_csv_ex(stdout, &d, &r, &x);
    } else {
        mp_report_reg_table_ex(stdout, &d, &r, &x, c->rep.digits);
        if (x.perm) {
            fprintf(stdout, "\nPermutation tests (%s, %llu orderings of the moderator rows):\n",
                    perm.exact ? "exact" : "random", (unsigned long long)perm.permutations);
            for (size_t j = 0; j < d.p; j++)
                fprintf(stdout, "  %-20s p = %.4g\n", d.names[j], perm.pval[j]);
            if (!isnan(perm.QM_pval)) fprintf(stdout, "  %-20s p = %.4g\n", "QM", perm.QM_pval);
        }
    }
    if (c->methods) {
        if (!c->random)
            printf("\nA %s meta-regression on %s was fitted as metafor's rma() fits it (Viechtbauer "
                   "2010)%s.\n", r.method == MP_METHOD_FE ? "fixed-effect" : "mixed-effects", formula,
                   r.method == MP_METHOD_FE ? "" : ", with the residual heterogeneity estimated by the "
                                                   "method named in the table");
        if (c->random)
            printf("\nThe multilevel model was fitted by %s with random intercepts (%s) as metafor's "
                   "rma.mv() fits it; QE tests residual heterogeneity.\n",
                   r.method == MP_METHOD_ML ? "maximum likelihood" : "restricted maximum likelihood",
                   c->random);
        if (c->cluster)
            printf("Standard errors and tests are cluster-robust (%s, %zu clusters of %s)%s.\n", x.vcov,
                   x.n_clusters, c->cluster,
                   x.vcov[2] == '2' ? ", with the bias-reduced CR2 sandwich, Satterthwaite degrees of "
                                      "freedom and the HTZ Wald test (Pustejovsky & Tipton 2018)"
                                    : ", t tests on clusters - p degrees of freedom (Hedges, Tipton & "
                                      "Johnson 2010)");
    }
out:
    mp_perm_result_free(&perm);
    if (borrowed) memset(&r, 0, sizeof r);
    mp_reg_result_free(&r);
    mp_mv_result_free(&mv);
    mp_mv_random_free(&re);
    mp_robust_result_free(&rb);
    mp_reg_pred_free(&pr);
    mp_reg_pred_free(&pip);
    free(Xn);
    free(s2lb);
    free(s2ub);
    free(pcells);
    free(pnames);
    free(cl);
    mp_design_free(&d);
    mp_msgs_free(&warn);
    mp_effects_free(&e);
    mp_table_free(t);
    mp_table_free(nt);
    return cli_finish(cmd, status);
}

int cli_reg_multilevel_pool(cli_common *c)
{
    return run("pool", c, 1);
}

int cmd_reg(int argc, char **argv)
{
    const char *cmd = "reg";
    cli_common c;
    int go = cli_parse(&reg_spec, argc, argv, &c);
    if (go != CLI_GO_ON) return go;
    if (!c.mods || !*c.mods) {
        cli_errorf(cmd, "--mods is required (moderator columns, e.g. --mods ablat,alloc)");
        cli_help(stderr, &reg_spec);
        return CLI_USAGE;
    }
    if (strspn(c.mods, " \t~") == strlen(c.mods)) {
        cli_errorf(cmd, "--mods names no column");
        return CLI_USAGE;
    }
    return run(cmd, &c, 0);
}
