/* tests/test_multilevel.c - formula terms, predictions, CR1/CR2 and rma.mv models against R oracles.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Expected values: tests/reference/multilevel/expected.csv, made by
 * tests/reference/multilevel/gen.R with R 4.2, metafor 3.8-1 (rma, rma.mv
 * converged past its defaults: nlminb, then optim BFGS and Nelder-Mead at
 * reltol 1e-15, the best likelihood kept, components at the boundary refitted
 * fixed at 0), predict(), robust() with
 * adjust = TRUE (CR1) and clubSandwich = TRUE (clubSandwich 0.5.8, CR2).
 * The cases (cases.csv) cover terms on dat.bcg (interactions without main
 * effects, I() products, no intercept, ML with knha), predictions, the
 * three-level model of dat.assink2016 (REML, ML, moderators, predictions,
 * robust on rma.uni and rma.mv with a 3-df HTZ test) and a synthetic
 * unbalanced nested-plus-crossed design (study/es, outcome), with one
 * variance component on its boundary, four nested levels, nested plus
 * crossed with a factor moderator by ML (two components at 0) and its
 * predictions, a single-level random factor (fixed at 0 as metafor), and
 * profile-likelihood CIs of the variance components (confint(), uniroot
 * tol 1e-12; they agree to 5e-12), and 12 random designs (unbalanced
 * studies, crossed outcomes, true components 0 or not, REML and ML).  Tolerance 1e-6 relative plus 1e-9
 * absolute (the reference checker's). */
#include "testutil.h"
#include "metapool/metapool.h"

#include <gsl/gsl_errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RTOL 1e-6
#define ATOL 1e-9

typedef struct uctx { const double *v; double tau2; } uctx;
static void u_vblock(void *ctx, const size_t *rows, size_t n, double *V)
{
    const uctx *u = ctx;
    for (size_t a = 0; a < n; a++)
        for (size_t b = 0; b < n; b++) V[a + b * n] = a == b ? u->v[rows[a]] + u->tau2 : 0.0;
}
typedef struct mctx { const mp_mv_random *re; const double *v; const double *s2; } mctx;
static void m_vblock(void *ctx, const size_t *rows, size_t n, double *V)
{
    const mctx *m = ctx;
    mp_mv_marginal(m->re, m->v, m->s2, rows, n, V);
}

static const char *ml_path(const char *rel)
{
    static char buf[8400];
    snprintf(buf, sizeof buf, "%s/tests/reference/multilevel/%s", MP_SOURCE_DIR, rel);
    return buf;
}

static const char *cell(const mp_table *t, size_t i, const char *col)
{
    long c = mp_table_col(t, col);
    ck_assert_int_ge(c, 0);
    return mp_table_cell(t, i, (size_t)c);
}

/* One fitted case: everything a key can ask for. */
typedef struct fitted {
    mp_design d;
    mp_reg_result r;       /* rma.uni, or a view of the rma.mv fit */
    mp_mv_result mv;
    mp_mv_random re;
    mp_robust_result rb;
    mp_reg_pred pr;
    double ci_lb[8], ci_ub[8]; /* profile CIs of sigma2 */
    int is_mv, is_rb;
} fitted;

static void fit_case(const mp_table *cases, size_t ci, fitted *F)
{
    memset(F, 0, sizeof *F);
    mp_table *t = NULL;
    mp_effects e;
    mp_error err;
    mp_es_opts eo;
    mp_es_opts_init(&eo);
    const char *id = cell(cases, ci, "id");
    char path[4096];
    snprintf(path, sizeof path, "data/%s", cell(cases, ci, "data"));
    ck_assert_msg(mp_table_read(ml_path(path), &t, &err) == MP_OK, "%s: %s", id, err.msg);
    ck_assert_int_eq(mp_effects_compute(t, &eo, &e, &err), MP_OK);
    ck_assert_msg(mp_design_build_formula(t, &e, cell(cases, ci, "mods"), &F->d, &err) == MP_OK,
                  "%s: %s", id, err.msg);
    mp_method method;
    ck_assert_int_eq(mp_method_parse(cell(cases, ci, "method"), &method), MP_OK);
    mp_test test;
    ck_assert_int_eq(mp_test_parse(cell(cases, ci, "test"), &test), MP_OK);
    const char *random = cell(cases, ci, "random");
    double tau2pi;
    if (*random) {
        F->is_mv = 1;
        ck_assert_int_eq(mp_mv_random_build(t, F->d.row, F->d.k, random, &F->re, &err), MP_OK);
        mp_mv_opts mo;
        mp_mv_opts_init(&mo);
        mo.method = method;
        mo.intercept = F->d.intercept;
        ck_assert_msg(mp_mv_fit(F->d.y, F->d.v, F->d.X, F->d.k, F->d.p, &F->re, &mo, &F->mv) == MP_OK,
                      "%s: rma.mv fit failed", id);
        ck_assert_int_eq(F->mv.converged, 1);
        ck_assert_uint_le(F->re.ncomp, 8);
        ck_assert_int_eq(mp_mv_profile_ci(F->d.y, F->d.v, F->d.X, F->d.k, F->d.p, &F->re, &mo, &F->mv,
                                          F->ci_lb, F->ci_ub),
                         MP_OK);
        mp_reg_result *r = &F->r;
        r->k = F->mv.k; r->p = F->mv.p; r->beta = F->mv.beta; r->se = F->mv.se; r->stat = F->mv.stat;
        r->pval = F->mv.pval; r->ci_lb = F->mv.ci_lb; r->ci_ub = F->mv.ci_ub; r->vb = F->mv.vb;
        r->QE = F->mv.QE; r->QE_pval = F->mv.QE_pval; r->QM = F->mv.QM; r->QM_pval = F->mv.QM_pval;
        r->df = NAN; r->tau2 = NAN; r->level = 95;
        tau2pi = 0;
        for (size_t q = 0; q < F->re.ncomp; q++) tau2pi += F->mv.sigma2[q];
    } else {
        mp_reg_opts o;
        mp_reg_opts_init(&o);
        o.method = method;
        o.test = test;
        o.intercept = F->d.intercept;
        o.epsrel = 1e-14;
        ck_assert_int_eq(mp_reg_fit(F->d.y, F->d.v, F->d.X, F->d.k, F->d.p, &o, &F->r), MP_OK);
        tau2pi = F->r.tau2;
    }
    const char *cl = cell(cases, ci, "cluster");
    if (*cl) {
        F->is_rb = 1;
        size_t *ids = malloc(F->d.k * sizeof *ids), J = 0;
        ck_assert_int_eq(mp_robust_cluster_ids(t, F->d.row, F->d.k, cl, ids, &J, &err), MP_OK);
        mp_vcov_type vt;
        ck_assert_int_eq(mp_vcov_parse(cell(cases, ci, "vcov"), &vt), MP_OK);
        uctx uc = {F->d.v, F->r.tau2};
        mctx mc = {&F->re, F->d.v, F->mv.sigma2};
        double wsc = 1;
        if (!F->is_mv) {
            wsc = 0;
            for (size_t i = 0; i < F->d.k; i++) wsc += 1 / (F->d.v[i] + F->r.tau2) / (double)F->d.k;
        }
        ck_assert_int_eq(mp_robust(F->d.X, F->d.y, F->d.k, F->d.p, F->r.beta, ids, J,
                                   F->is_mv ? m_vblock : u_vblock, F->is_mv ? (void *)&mc : (void *)&uc,
                                   wsc, vt, 1, 95, &F->rb),
                         MP_OK);
        free(ids);
    }
    const char *nd = cell(cases, ci, "newdata");
    if (*nd) {
        mp_table *nt = NULL;
        double *Xn = NULL;
        size_t n = 0;
        snprintf(path, sizeof path, "data/%s", nd);
        ck_assert_int_eq(mp_table_read(ml_path(path), &nt, &err), MP_OK);
        ck_assert_msg(mp_design_newrows(&F->d, nt, &Xn, &n, &err) == MP_OK, "%s", err.msg);
        if (F->is_rb)
            ck_assert_int_eq(mp_robust_predict(&F->rb, F->r.beta, Xn, n, tau2pi, 95, &F->pr), MP_OK);
        else
            ck_assert_int_eq(mp_reg_predict(F->r.beta, F->r.vb, F->d.p, Xn, n, tau2pi,
                                            F->r.test == MP_TEST_KNHA ? F->r.df : NAN, 95, &F->pr),
                             MP_OK);
        free(Xn);
        mp_table_free(nt);
    }
    mp_effects_free(&e);
    mp_table_free(t);
}

static void fitted_free(fitted *F)
{
    if (F->is_mv) memset(&F->r, 0, sizeof F->r);
    mp_reg_result_free(&F->r);
    mp_mv_result_free(&F->mv);
    mp_mv_random_free(&F->re);
    mp_robust_result_free(&F->rb);
    mp_reg_pred_free(&F->pr);
    mp_design_free(&F->d);
}

/* The value of key for F; *str set for string keys. NaN if unknown. */
static double lookup(const fitted *F, const char *key, const char **str)
{
    *str = NULL;
    size_t j;
    char field[64];
    const mp_reg_result *r = &F->r;
    const mp_robust_result *b = &F->rb;
    if (sscanf(key, "name:%zu", &j) == 1) { *str = F->d.names[j - 1]; return 0; }
    if (sscanf(key, "coef:%zu:%63s", &j, field) == 2) {
        j--;
        ck_assert_uint_lt(j, F->d.p);
        if (!strcmp(field, "estimate")) return r->beta[j];
        if (!strcmp(field, "se")) return F->is_rb ? b->se[j] : r->se[j];
        if (!strcmp(field, "stat")) return F->is_rb ? b->stat[j] : r->stat[j];
        if (!strcmp(field, "pval")) return F->is_rb ? b->pval[j] : r->pval[j];
        if (!strcmp(field, "ci_lb")) return F->is_rb ? b->ci_lb[j] : r->ci_lb[j];
        if (!strcmp(field, "ci_ub")) return F->is_rb ? b->ci_ub[j] : r->ci_ub[j];
        if (!strcmp(field, "df")) return F->is_rb ? b->df[j] : r->df;
    }
    if (sscanf(key, "pred:%zu:%63s", &j, field) == 2) {
        j--;
        ck_assert_uint_lt(j, F->pr.n);
        if (!strcmp(field, "pred")) return F->pr.pred[j];
        if (!strcmp(field, "se")) return F->pr.se[j];
        if (!strcmp(field, "ci_lb")) return F->pr.ci_lb[j];
        if (!strcmp(field, "ci_ub")) return F->pr.ci_ub[j];
        if (!strcmp(field, "pi_lb")) return F->pr.pi_lb[j];
        if (!strcmp(field, "pi_ub")) return F->pr.pi_ub[j];
    }
    if (sscanf(key, "sigma2:%zu", &j) == 1) return F->mv.sigma2[j - 1];
    if (sscanf(key, "sigma2_ci_lb:%zu", &j) == 1) return F->ci_lb[j - 1];
    if (sscanf(key, "sigma2_ci_ub:%zu", &j) == 1) return F->ci_ub[j - 1];
    if (sscanf(key, "sigma2_name:%zu", &j) == 1) { *str = F->re.names[j - 1]; return 0; }
    if (sscanf(key, "n_levels:%zu", &j) == 1) return (double)F->re.nlev[j - 1];
    if (!strcmp(key, "QE")) return r->QE;
    if (!strcmp(key, "QE_pval")) return r->QE_pval;
    if (!strcmp(key, "QM")) return F->is_rb ? b->QM : r->QM;
    if (!strcmp(key, "QM_pval")) return F->is_rb ? b->QM_pval : r->QM_pval;
    if (!strcmp(key, "QM_ddf")) return b->QM_ddf;
    if (!strcmp(key, "tau2")) return r->tau2;
    if (!strcmp(key, "logLik")) return F->mv.logLik;
    ck_abort_msg("unknown key %s", key);
    return NAN;
}

START_TEST(test_oracles)
{
    mp_table *cases = NULL, *ex = NULL;
    mp_error err;
    ck_assert_int_eq(mp_table_read(ml_path("cases.csv"), &cases, &err), MP_OK);
    ck_assert_int_eq(mp_table_read(ml_path("expected.csv"), &ex, &err), MP_OK);
    size_t nc = mp_table_nrows(cases), ne = mp_table_nrows(ex), checked = 0;
    ck_assert_uint_ge(nc, 20);
    for (size_t ci = 0; ci < nc; ci++) {
        fitted F;
        fit_case(cases, ci, &F);
        const char *id = cell(cases, ci, "id");
        size_t nk = 0;
        for (size_t i = 0; i < ne; i++) {
            if (strcmp(cell(ex, i, "id"), id) != 0) continue;
            const char *key = cell(ex, i, "key"), *want = cell(ex, i, "value"), *s;
            double got = lookup(&F, key, &s);
            if (s) {
                ck_assert_msg(strcmp(s, want) == 0, "%s %s: '%s', expected '%s'", id, key, s, want);
            } else {
                double w = strtod(want, NULL);
                ck_assert_msg(fabs(got - w) <= RTOL * fabs(w) + ATOL, "%s %s = %.17g, expected %.17g", id,
                              key, got, w);
            }
            nk++;
        }
        ck_assert_uint_ge(nk, 9);
        checked += nk;
        fitted_free(&F);
    }
    ck_assert_uint_eq(checked, ne); /* every expected value belongs to a case */
    mp_table_free(cases);
    mp_table_free(ex);
}
END_TEST

/* The formula parser: R's term order, labels and errors. */
START_TEST(test_formula)
{
    mp_formula f;
    mp_error err;
    char buf[256];
    ck_assert_int_eq(mp_formula_parse("~ b:a + a", &f, &err), MP_OK);
    ck_assert_uint_eq(f.nterm, 2);
    ck_assert_str_eq(mp_formula_term_label(&f, f.term[0], buf, sizeof buf), "a");
    ck_assert_str_eq(mp_formula_term_label(&f, f.term[1], buf, sizeof buf), "b:a");
    mp_formula_free(&f);
    ck_assert_int_eq(mp_formula_parse("a*b*c", &f, &err), MP_OK);
    const char *want[] = {"a", "b", "c", "a:b", "a:c", "b:c", "a:b:c"};
    ck_assert_uint_eq(f.nterm, 7);
    for (size_t i = 0; i < 7; i++)
        ck_assert_str_eq(mp_formula_term_label(&f, f.term[i], buf, sizeof buf), want[i]);
    ck_assert_int_eq(f.intercept, 1);
    mp_formula_free(&f);
    ck_assert_int_eq(mp_formula_parse("(a + b)*c - 1", &f, &err), MP_OK);
    ck_assert_uint_eq(f.nterm, 5);
    ck_assert_int_eq(f.intercept, 0);
    mp_formula_free(&f);
    /* deparsed as R names the columns */
    ck_assert_int_eq(mp_formula_parse("I(x ^ 2) + I(a*b) + I(-x/100000) + I((x+1)^2)", &f, &err), MP_OK);
    ck_assert_str_eq(f.var[0].label, "I(x^2)");
    ck_assert_str_eq(f.var[1].label, "I(a * b)"); /* R: blanks around * but not / */
    ck_assert_str_eq(f.var[2].label, "I(-x/1e+05)");
    ck_assert_str_eq(f.var[3].label, "I((x + 1)^2)");
    double xv[1] = {3};
    ck_assert_double_eq(mp_formula_eval(&f.var[3], xv), 16);
    mp_formula_free(&f);
    ck_assert_int_eq(mp_formula_parse("a, factor(g) + a", &f, &err), MP_OK);
    ck_assert_uint_eq(f.nterm, 2);
    ck_assert_str_eq(f.var[1].label, "factor(g)");
    mp_formula_free(&f);
    /* errors name the term */
    ck_assert_int_eq(mp_formula_parse("a + log(b)", &f, &err), MP_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "'log(b)'"));
    ck_assert_int_eq(mp_formula_parse("a + b %in% c", &f, &err), MP_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "%in%"));
    ck_assert_int_eq(mp_formula_parse("a - b", &f, &err), MP_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "'-b'"));
    ck_assert_int_eq(mp_formula_parse("I(a + foo(b))", &f, &err), MP_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "foo(b)"));
    ck_assert_int_eq(mp_formula_parse("a + 2", &f, &err), MP_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "'2'"));
    ck_assert_int_eq(mp_formula_parse("a + (b", &f, &err), MP_EINVAL);
    /* 13 crossed variables expand to 2^13 - 1 terms: refused, not expanded forever */
    ck_assert_int_eq(mp_formula_parse("a*b*c*d*e*f*g*h*i*j*k*l*m", &f, &err), MP_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "more than 4096 terms"));
    ck_assert_int_eq(mp_formula_parse("a*b*c*d*e*f*g*h*i*j*k", &f, &err), MP_OK); /* 2047 terms */
    ck_assert_uint_eq(f.nterm, 2047);
    mp_formula_free(&f);
    ck_assert_int_eq(mp_formula_parse("", &f, &err), MP_EINVAL);
    ck_assert_int_eq(mp_formula_parse("factor(a, b)", &f, &err), MP_EINVAL);
    ck_assert_int_eq(mp_formula_parse("- 1", &f, &err), MP_EINVAL); /* no terms at all */
}
END_TEST

/* Errors of the structure, fit and robust entry points. */
START_TEST(test_errors)
{
    const char *csv = "yi,vi,s,e,x\n0.1,0.01,a,1,1\n0.3,0.02,a,2,2\n0.2,0.03,b,1,3\n0.5,0.01,b,2,1\n"
                      "0.4,0.02,c,1,5\n0.1,0.02,c,2,\n";
    mp_table *t = NULL;
    mp_error err;
    ck_assert_int_eq(mp_table_read_mem("m.csv", csv, strlen(csv), &t, &err), MP_OK);
    size_t rows[6] = {0, 1, 2, 3, 4, 5};
    mp_mv_random re;
    ck_assert_int_eq(mp_mv_random_build(t, rows, 6, "s/nope", &re, &err), MP_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "'nope'"));
    ck_assert_int_eq(mp_mv_random_build(t, rows, 6, "s,s", &re, &err), MP_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "twice"));
    ck_assert_int_eq(mp_mv_random_build(t, rows, 6, "s//e", &re, &err), MP_EINVAL);
    ck_assert_int_eq(mp_mv_random_build(t, rows, 6, "x", &re, &err), MP_EPARSE); /* row 6 missing */
    ck_assert_int_eq(mp_mv_random_build(t, rows, 6, "s/e", &re, &err), MP_OK);
    ck_assert_uint_eq(re.ncomp, 2);
    ck_assert_str_eq(re.names[1], "s/e");
    ck_assert_uint_eq(re.nlev[0], 3);
    ck_assert_uint_eq(re.nlev[1], 6);
    const double y[6] = {0.1, 0.3, 0.2, 0.5, 0.4, 0.1}, v[6] = {0.01, 0.02, 0.03, 0.01, 0.02, 0.02};
    double X[12] = {1, 1, 1, 1, 1, 1, 1, 2, 3, 1, 5, 2};
    mp_mv_result mv;
    mp_mv_opts o;
    mp_mv_opts_init(&o);
    o.method = MP_METHOD_DL;
    ck_assert_int_eq(mp_mv_fit(y, v, X, 6, 1, &re, &o, &mv), MP_EINVAL);
    mp_mv_opts_init(&o);
    double vbad[6] = {0.01, 0.02, -1, 0.01, 0.02, 0.02};
    ck_assert_int_eq(mp_mv_fit(y, vbad, X, 6, 1, &re, &o, &mv), MP_EDOM);
    double Xs[12] = {1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2};
    ck_assert_int_eq(mp_mv_fit(y, v, Xs, 6, 2, &re, &o, &mv), MP_ESING);
    ck_assert_int_eq(mp_mv_fit(y, v, X, 6, 2, &re, &o, &mv), MP_OK);
    mp_mv_result_free(&mv);
    /* robust: one cluster, too few clusters for CR1, bad ids */
    size_t one[6] = {0, 0, 0, 0, 0, 0}, three[6] = {0, 0, 1, 1, 2, 2};
    uctx uc = {v, 0.01};
    mp_robust_result rb;
    double beta[2] = {0.2, 0.01};
    ck_assert_int_eq(mp_robust(X, y, 6, 2, beta, one, 1, u_vblock, &uc, 1, MP_VCOV_CR1, 1, 95, &rb), MP_EINVAL);
    ck_assert_int_eq(mp_robust(X, y, 6, 2, beta, three, 2, u_vblock, &uc, 1, MP_VCOV_CR1, 1, 95, &rb), MP_EINVAL);
    size_t two[6] = {0, 0, 0, 1, 1, 1};
    ck_assert_int_eq(mp_robust(X, y, 6, 2, beta, two, 2, u_vblock, &uc, 1, MP_VCOV_CR1, 1, 95, &rb), MP_ETOOFEW);
    ck_assert_int_eq(mp_robust(X, y, 6, 2, beta, three, 3, u_vblock, &uc, 1, MP_VCOV_CR2, 1, 95, &rb), MP_OK);
    mp_robust_result_free(&rb);
    mp_vcov_type vt;
    ck_assert_int_eq(mp_vcov_parse("CR3", &vt), MP_EINVAL);
    ck_assert_int_eq(mp_vcov_parse("cr2", &vt), MP_OK);
    size_t ids[6], J;
    ck_assert_int_eq(mp_robust_cluster_ids(t, rows, 6, "nope", ids, &J, &err), MP_EINVAL);
    ck_assert_int_eq(mp_robust_cluster_ids(t, rows, 6, "x", ids, &J, &err), MP_EPARSE);
    ck_assert_int_eq(mp_robust_cluster_ids(t, rows, 6, "s", ids, &J, &err), MP_OK);
    ck_assert_uint_eq(J, 3);
    mp_mv_random_free(&re);
    /* predictions: a level not in the data fitted */
    mp_effects e;
    mp_es_opts eo;
    mp_es_opts_init(&eo);
    ck_assert_int_eq(mp_effects_compute(t, &eo, &e, &err), MP_OK);
    mp_design d;
    ck_assert_int_eq(mp_design_build_formula(t, &e, "s", &d, &err), MP_OK);
    const char *nd = "s\nb\nz\n";
    mp_table *nt = NULL;
    ck_assert_int_eq(mp_table_read_mem("new.csv", nd, strlen(nd), &nt, &err), MP_OK);
    double *Xn = NULL;
    size_t n;
    ck_assert_int_eq(mp_design_newrows(&d, nt, &Xn, &n, &err), MP_EPARSE);
    ck_assert_ptr_nonnull(strstr(err.msg, "'z' is not a level"));
    mp_table_free(nt);
    ck_assert_int_eq(mp_table_read_mem("new.csv", "q\n1\n", 4, &nt, &err), MP_OK);
    ck_assert_int_eq(mp_design_newrows(&d, nt, &Xn, &n, &err), MP_EINVAL);
    mp_table_free(nt);
    mp_design_free(&d);
    /* an I() of constants is a constant column: collinear with the intercept (R
     * would drop it; metapool refuses rank deficiency) */
    ck_assert_int_eq(mp_design_build_formula(t, &e, "I(41)", &d, &err), MP_ESING);
    ck_assert_ptr_nonnull(strstr(err.msg, "'I(41)'"));
    ck_assert_int_eq(mp_design_build_formula(t, &e, "x + log(x)", &d, &err), MP_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "'log(x)'"));
    mp_effects_free(&e);
    mp_table_free(t);
}
END_TEST

int main(void)
{
    gsl_set_error_handler_off();
    Suite *s = suite_create("multilevel");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_oracles);
    tcase_add_test(tc, test_formula);
    tcase_add_test(tc, test_errors);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf ? 1 : 0;
}
