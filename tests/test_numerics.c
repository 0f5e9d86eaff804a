/* tests/test_numerics.c - issue 11's numerical items: Q-profile CIs at large
 * k and beyond metafor's search range, the global maximum of ML/REML.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Sources of the expected values:
 *  - tests/reference/largek/: R metafor 3.8-1 on a k = 2324 set (gen.R),
 *    confint() with the search range raised so every bound is a root;
 *  - a direct Q-profile root search written here (long double sums,
 *    bisection, chi-square quantiles from the numerically integrated
 *    density in testutil.c): nothing of the library's code path;
 *  - tests/reference/multimodal/: k = 15 sets whose likelihood has a local
 *    maximum at 0 and a higher one inside, found by a seeded search and
 *    fitted by metafor (gen.R);
 *  - the likelihood on a fine grid, computed here in long double. */
#include "testutil.h"
#include "metapool/metapool.h"

#include <float.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ------------------------------------------------------------ */

/* Read columns yi, vi (and x if asked) of a CSV written by gen.R. */
static size_t read_yv(const char *path, double **y, double **v, double **x)
{
    mp_table *t = NULL;
    mp_error err;
    ck_assert_msg(mp_table_read(path, &t, &err) == MP_OK, "cannot read %s", path);
    size_t n = mp_table_nrows(t);
    *y = malloc(n * sizeof(double));
    *v = malloc(n * sizeof(double));
    if (x) *x = malloc(n * sizeof(double));
    long jy = mp_table_col(t, "yi"), jv = mp_table_col(t, "vi"), jx = mp_table_col(t, "x");
    ck_assert(jy >= 0 && jv >= 0 && (!x || jx >= 0));
    for (size_t i = 0; i < n; i++) {
        (*y)[i] = strtod(mp_table_cell(t, i, (size_t)jy), NULL);
        (*v)[i] = strtod(mp_table_cell(t, i, (size_t)jv), NULL);
        if (x) (*x)[i] = strtod(mp_table_cell(t, i, (size_t)jx), NULL);
    }
    mp_table_free(t);
    return n;
}

/* The generalised Q statistic at tau2, in long double. */
static long double qgen_ld(const double *y, const double *v, size_t k, long double t)
{
    long double s1 = 0, swy = 0, q = 0;
    for (size_t i = 0; i < k; i++) {
        long double w = 1.0L / ((long double)v[i] + t);
        s1 += w;
        swy += w * y[i];
    }
    long double mu = swy / s1;
    for (size_t i = 0; i < k; i++) {
        long double r = (long double)y[i] - mu;
        q += r * r / ((long double)v[i] + t);
    }
    return q;
}

/* The root of Q(tau2) = target on [0, inf) by bisection (Q decreases). */
static double qprofile_direct(const double *y, const double *v, size_t k, double target)
{
    long double lo = 0, hi = 1;
    while (qgen_ld(y, v, k, hi) > target) { lo = hi; hi *= 2; }
    for (int i = 0; i < 200 && hi - lo > 1e-16L * hi; i++) {
        long double mid = 0.5L * (lo + hi);
        if (qgen_ld(y, v, k, mid) > target) lo = mid;
        else hi = mid;
    }
    return (double)(0.5L * (lo + hi));
}

/* ---- Q-profile CI at large k ------------------------------------------- */

START_TEST(test_largek_metafor)
{
    double *y, *v;
    size_t k = read_yv(tu_ref("largek/k2324.csv"), &y, &v, NULL);
    ck_assert_uint_eq(k, 2324);
    mp_table *e = NULL;
    mp_error err;
    ck_assert_int_eq(mp_table_read(tu_ref("largek/expected.csv"), &e, &err), MP_OK);
    for (size_t r = 0; r < mp_table_nrows(e); r++) {
        mp_pool_opts o;
        mp_pool_opts_init(&o);
        ck_assert_int_eq(mp_method_parse(mp_table_cell(e, r, (size_t)mp_table_col(e, "method")), &o.method), MP_OK);
        mp_pool_result res;
        ck_assert_int_eq(mp_pool(y, v, k, &o, NULL, &res), MP_OK);
#define EXP(name) strtod(mp_table_cell(e, r, (size_t)mp_table_col(e, name)), NULL)
        /* metafor converged to 1e-14 (tau2 ~ 0.04): 1e-8 relative */
        ck_assert_rel(res.tau2, EXP("tau2"), 1e-8);
        ck_assert_rel(res.tau2_ci_lb, EXP("tau2_ci_lb"), 1e-8);
        ck_assert_rel(res.tau2_ci_ub, EXP("tau2_ci_ub"), 1e-8);
        ck_assert_rel(res.I2_ci_lb, EXP("I2_ci_lb"), 1e-8);
        ck_assert_rel(res.I2_ci_ub, EXP("I2_ci_ub"), 1e-8);
        ck_assert_rel(res.H2_ci_lb, EXP("H2_ci_lb"), 1e-8);
        ck_assert_rel(res.H2_ci_ub, EXP("H2_ci_ub"), 1e-8);
        ck_assert(res.tau2_ci_lb <= res.tau2 && res.tau2 <= res.tau2_ci_ub);
        ck_assert(!res.tau2_ci_lb_limit && !res.tau2_ci_ub_limit);
#undef EXP
    }
    mp_table_free(e);
    free(y);
    free(v);
}
END_TEST

/* k = 1e6 (df = 999999, where GSL's lower quantile is NaN): the library's
 * bounds equal a direct Q-profile root search to 1e-8. */
START_TEST(test_qprofile_k1e6)
{
    const size_t k = 1000000;
    double *y = malloc(k * sizeof(double)), *v = malloc(k * sizeof(double));
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 20261201);
    for (size_t i = 0; i < k; i++) {
        v[i] = 0.01 + 0.29 * gsl_rng_uniform(rng);
        y[i] = 0.3 + gsl_ran_gaussian(rng, sqrt(v[i] + 0.04));
    }
    gsl_rng_free(rng);
    const mp_method methods[] = {MP_METHOD_DL, MP_METHOD_REML};
    double cu = tu_chisq_quantile(0.025, (double)(k - 1), 1);
    double cl = tu_chisq_quantile(0.025, (double)(k - 1), 0);
    double lb = qprofile_direct(y, v, k, cu), ub = qprofile_direct(y, v, k, cl);
    for (size_t m = 0; m < 2; m++) {
        mp_pool_opts o;
        mp_pool_opts_init(&o);
        o.method = methods[m];
        mp_pool_result res;
        ck_assert_int_eq(mp_pool(y, v, k, &o, NULL, &res), MP_OK);
        ck_assert_rel(res.tau2_ci_lb, lb, 1e-8);
        ck_assert_rel(res.tau2_ci_ub, ub, 1e-8);
        ck_assert(res.tau2_ci_lb < res.tau2 && res.tau2 < res.tau2_ci_ub);
        ck_assert(!res.tau2_ci_lb_limit && !res.tau2_ci_ub_limit && res.warn == 0);
    }
    free(y);
    free(v);
}
END_TEST

/* A bound beyond the largest double: two studies 2e150 apart, level
 * 99.9999999%: Q(tau2) ~ 2e300/tau2 meets the lower quantile (~1.6e-18)
 * only near 1e318.  The upper bound is flagged (DBL_MAX), the lower one is a
 * root (Q(lb) equals the upper quantile). */
START_TEST(test_ci_limit)
{
    const double y[] = {-1e150, 1e150}, v[] = {1.0, 1.0};
    mp_pool_opts o;
    mp_pool_opts_init(&o);
    o.method = MP_METHOD_DL;
    o.level = 99.9999999;
    mp_pool_result r;
    ck_assert_int_eq(mp_pool(y, v, 2, &o, NULL, &r), MP_OK);
    ck_assert_int_eq(r.tau2_ci_ub_limit, 1);
    ck_assert(r.tau2_ci_ub == DBL_MAX);
    ck_assert_int_eq(r.tau2_ci_lb_limit, 0);
    /* Q(lb) = 4e300/(2 (1 + lb)) for two studies of equal variance */
    double alpha2 = (1.0 - o.level / 100.0) / 2.0, cu = gsl_cdf_chisq_Qinv(alpha2, 1.0);
    ck_assert_rel(2e300 / (1.0 + r.tau2_ci_lb), cu, 1e-10);
    ck_assert_rel(r.I2_ci_ub, 100.0, 1e-12);
    /* a root metafor's range would cut (normand1999 DL: range 2054.09,
     * root 2889.45) is covered by tests/reference/expected_pool.csv */
}
END_TEST

/* The empty interval: Q(0) below the lower quantile.  Both bounds 0 and
 * both flags set (metafor: ci.null, "<0" on both sides). */
START_TEST(test_ci_null)
{
    const double y[] = {0.1, 0.1, 0.1000001, 0.1}, v[] = {1.0, 0.5, 1.0, 2.0};
    mp_pool_result r;
    ck_assert_int_eq(mp_pool(y, v, 4, NULL, NULL, &r), MP_OK);
    ck_assert(r.tau2_ci_lb == 0 && r.tau2_ci_ub == 0);
    ck_assert(r.tau2_ci_lb_limit && r.tau2_ci_ub_limit);
    /* a lower bound at the boundary 0 (no root above it) is exact: no flag */
    const double y2[] = {0.0, 1.0, 0.5, 0.2}, v2[] = {0.2, 0.2, 0.2, 0.2};
    ck_assert_int_eq(mp_pool(y2, v2, 4, NULL, NULL, &r), MP_OK);
    ck_assert(r.tau2_ci_lb == 0 && r.tau2_ci_ub > 0);
    ck_assert(!r.tau2_ci_lb_limit && !r.tau2_ci_ub_limit);
}
END_TEST

/* ---- the global maximum of ML / REML ------------------------------------ */

/* Twice the (restricted) log-likelihood of the intercept-only model at tau2
 * (constants dropped), in long double. */
static long double ll2_ld(const double *y, const double *v, size_t k, long double t, int reml)
{
    long double s1 = 0, swy = 0, q = 0, lv = 0;
    for (size_t i = 0; i < k; i++) {
        long double w = 1.0L / ((long double)v[i] + t);
        s1 += w;
        swy += w * y[i];
        lv += logl((long double)v[i] + t);
    }
    long double mu = swy / s1;
    for (size_t i = 0; i < k; i++) q += ((long double)y[i] - mu) * ((long double)y[i] - mu) / ((long double)v[i] + t);
    return -lv - q - (reml ? logl(s1) : 0.0L);
}

/* The returned tau2's likelihood is not below any point of a fine grid
 * (4000 points, geometric from 1e-8 to 100 times the range of y squared,
 * plus 0). */
static void assert_global(const double *y, const double *v, size_t k, int reml, double tau2,
                          const char *what)
{
    double ymin = y[0], ymax = y[0];
    for (size_t i = 1; i < k; i++) { ymin = fmin(ymin, y[i]); ymax = fmax(ymax, y[i]); }
    double R2 = (ymax - ymin) * (ymax - ymin), hi = 100.0 * R2, lo = 1e-8 * R2;
    long double best = ll2_ld(y, v, k, tau2, reml);
    for (int j = -1; j < 4000; j++) {
        double t = j < 0 ? 0.0 : lo * pow(hi / lo, j / 3999.0);
        long double l = ll2_ld(y, v, k, t, reml);
        ck_assert_msg(l <= best + 1e-12L * fabsl(best) + 1e-12L,
                      "%s: ll(%g) = %.15Lg above ll(tau2 = %.17g) = %.15Lg", what, t, l, tau2, best);
    }
}

START_TEST(test_multimodal_metafor)
{
    mp_table *e = NULL;
    mp_error err;
    ck_assert_int_eq(mp_table_read(tu_ref("multimodal/expected.csv"), &e, &err), MP_OK);
    size_t n = 0;
    for (size_t r = 0; r < mp_table_nrows(e); r++) {
#define CELL(name) mp_table_cell(e, r, (size_t)mp_table_col(e, name))
        if (strcmp(CELL("model"), "int") != 0) continue;
        char path[256];
        snprintf(path, sizeof path, "multimodal/%s", CELL("set"));
        double *y, *v;
        size_t k = read_yv(tu_ref(path), &y, &v, NULL);
        mp_pool_opts o;
        mp_pool_opts_init(&o);
        ck_assert_int_eq(mp_method_parse(CELL("method"), &o.method), MP_OK);
        mp_pool_result res;
        ck_assert_int_eq(mp_pool(y, v, k, &o, NULL, &res), MP_OK);
        /* metafor, tightly converged from the interior mode (gen.R) */
        ck_assert_msg(rel_close(res.tau2, strtod(CELL("tau2"), NULL), 1e-6), "%s %s: tau2 %.17g, metafor %s",
                      CELL("set"), CELL("method"), res.tau2, CELL("tau2"));
        ck_assert_rel(res.estimate, strtod(CELL("b0"), NULL), 1e-6);
        /* and its likelihood is above that at 0 (what the old code returned) */
        ck_assert(strtod(CELL("logLik"), NULL) > strtod(CELL("logLik0"), NULL));
        assert_global(y, v, k, o.method == MP_METHOD_REML, res.tau2, CELL("set"));
        free(y);
        free(v);
        n++;
#undef CELL
    }
    ck_assert_uint_ge(n, 2);
    mp_table_free(e);
}
END_TEST

/* The REML score of the intercept-only model at tau2, long double:
 * (sum w^2 r^2 - sum w + sum w^2 / sum w) / 2. */
static long double reml_score_ld(const double *y, const double *v, size_t k, long double t)
{
    long double s1 = 0, s2 = 0, swy = 0, q = 0;
    for (size_t i = 0; i < k; i++) {
        long double w = 1.0L / ((long double)v[i] + t);
        s1 += w;
        s2 += w * w;
        swy += w * y[i];
    }
    long double mu = swy / s1;
    for (size_t i = 0; i < k; i++) {
        long double w = 1.0L / ((long double)v[i] + t), r = (long double)y[i] - mu;
        q += w * w * r * r;
    }
    return 0.5L * (q - s1 + s2 / s1);
}

/* A k = 9 set on which Newton and Fisher-scoring steps cycled between the
 * local minimum (tau2 ~ 0.0041) and the local maximum (~ 0.0049) of the
 * REML likelihood until maxiter, so the fit was reported as not converged;
 * the global maximum is at 0 (tests/reference/newton_cycle/gen.R: metafor
 * 3.8-1 with threshold 1e-13 keeps 0 for REML, 9e-15 for ML). */
START_TEST(test_newton_cycle_metafor)
{
    double *y, *v;
    size_t k = read_yv(tu_ref("newton_cycle/data.csv"), &y, &v, NULL);
    ck_assert_uint_eq(k, 9);
    mp_table *e = NULL;
    mp_error err;
    ck_assert_int_eq(mp_table_read(tu_ref("newton_cycle/expected.csv"), &e, &err), MP_OK);
    for (size_t r = 0; r < mp_table_nrows(e); r++) {
#define CELL(name) strtod(mp_table_cell(e, r, (size_t)mp_table_col(e, name)), NULL)
        const char *m = mp_table_cell(e, r, (size_t)mp_table_col(e, "method"));
        mp_pool_opts o;
        mp_pool_opts_init(&o);
        ck_assert_int_eq(mp_method_parse(m, &o.method), MP_OK);
        mp_pool_result res;
        ck_assert_int_eq(mp_pool(y, v, k, &o, NULL, &res), MP_OK);
        ck_assert_msg(fabs(res.tau2 - CELL("tau2")) < 1e-10, "%s: tau2 %.17g", m, res.tau2);
        ck_assert_rel(res.estimate, CELL("b0"), 1e-9);
        ck_assert_rel(res.se, CELL("se"), 1e-9);
        assert_global(y, v, k, o.method == MP_METHOD_REML, res.tau2, m);
        /* the trap is there: the REML score (computed here in long double)
         * is negative at 0, positive at 0.0045 and negative at 0.006 */
        if (o.method == MP_METHOD_REML)
            ck_assert(reml_score_ld(y, v, k, 0) < 0 && reml_score_ld(y, v, k, 0.0045) > 0 &&
                      reml_score_ld(y, v, k, 0.006) < 0);
#undef CELL
    }
    mp_table_free(e);
    free(y);
    free(v);
}
END_TEST

/* Random sets of the kind that traps a single start (heterogeneous
 * variances, a few outlying effects): the returned value is the grid's
 * best for ML and REML. */
START_TEST(test_global_random)
{
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 11);
    double y[15], v[15];
    for (int rep = 0; rep < 300; rep++) {
        size_t k = 3 + gsl_rng_uniform_int(rng, 13);
        for (size_t i = 0; i < k; i++) {
            v[i] = exp(log(0.001) + gsl_rng_uniform(rng) * (log(2.0) - log(0.001)));
            y[i] = gsl_ran_gaussian(rng, sqrt(v[i]));
            if (gsl_rng_uniform(rng) < 0.15) y[i] += gsl_ran_gaussian(rng, 1.5);
        }
        for (int reml = 0; reml < 2; reml++) {
            mp_pool_opts o;
            mp_pool_opts_init(&o);
            o.method = reml ? MP_METHOD_REML : MP_METHOD_ML;
            o.tau2_ci = 0;
            mp_pool_result res;
            ck_assert_int_eq(mp_pool(y, v, k, &o, NULL, &res), MP_OK);
            char what[64];
            snprintf(what, sizeof what, "rep %d %s", rep, reml ? "REML" : "ML");
            assert_global(y, v, k, reml, res.tau2, what);
        }
    }
    gsl_rng_free(rng);
}
END_TEST

/* Twice the (restricted) log-likelihood of y ~ 1 + x at tau2, long double:
 * the 2 x 2 weighted normal equations solved in closed form. */
static long double ll2_reg_ld(const double *y, const double *v, const double *x, size_t k,
                              long double t, int reml)
{
    long double a = 0, b = 0, c = 0, d = 0, e = 0, lv = 0;
    for (size_t i = 0; i < k; i++) {
        long double w = 1.0L / ((long double)v[i] + t);
        a += w; b += w * x[i]; c += w * x[i] * x[i]; d += w * y[i]; e += w * x[i] * y[i];
        lv += logl((long double)v[i] + t);
    }
    long double det = a * c - b * b, b0 = (c * d - b * e) / det, b1 = (a * e - b * d) / det, q = 0;
    for (size_t i = 0; i < k; i++) {
        long double r = (long double)y[i] - b0 - b1 * x[i];
        q += r * r / ((long double)v[i] + t);
    }
    return -lv - q - (reml ? logl(det) : 0.0L);
}

/* The reg sets (model "mod" in multimodal/ and multimodal_reg/): metafor's
 * interior maximum, and no grid point above the returned value. */
static size_t check_reg_sets(const char *dir)
{
    char path[256];
    snprintf(path, sizeof path, "%s/expected.csv", dir);
    mp_table *e = NULL;
    mp_error err;
    ck_assert_int_eq(mp_table_read(tu_ref(path), &e, &err), MP_OK);
    size_t n = 0;
    for (size_t r = 0; r < mp_table_nrows(e); r++) {
#define CELL(name) mp_table_cell(e, r, (size_t)mp_table_col(e, name))
        if (strcmp(CELL("model"), "mod") != 0) continue;
        snprintf(path, sizeof path, "%s/%s", dir, CELL("set"));
        double *y, *v, *x;
        size_t k = read_yv(tu_ref(path), &y, &v, &x);
        double *X = malloc(2 * k * sizeof(double));
        for (size_t i = 0; i < k; i++) { X[i] = 1.0; X[k + i] = x[i]; }
        mp_reg_opts o;
        mp_reg_opts_init(&o);
        ck_assert_int_eq(mp_method_parse(CELL("method"), &o.method), MP_OK);
        mp_reg_result res;
        ck_assert_int_eq(mp_reg_fit(y, v, X, k, 2, &o, &res), MP_OK);
        ck_assert_msg(rel_close(res.tau2, strtod(CELL("tau2"), NULL), 1e-6), "%s %s: tau2 %.17g, metafor %s",
                      CELL("set"), CELL("method"), res.tau2, CELL("tau2"));
        ck_assert_rel(res.beta[0], strtod(CELL("b0"), NULL), 1e-6);
        ck_assert_rel(res.beta[1], strtod(CELL("b1"), NULL), 1e-6);
        ck_assert(strtod(CELL("logLik"), NULL) > strtod(CELL("logLik0"), NULL));
        int reml = o.method == MP_METHOD_REML;
        long double best = ll2_reg_ld(y, v, x, k, res.tau2, reml);
        double ymin = y[0], ymax = y[0];
        for (size_t i = 1; i < k; i++) { ymin = fmin(ymin, y[i]); ymax = fmax(ymax, y[i]); }
        double R2 = (ymax - ymin) * (ymax - ymin);
        for (int j = -1; j < 4000; j++) {
            double t = j < 0 ? 0.0 : 1e-8 * R2 * pow(1e10, j / 3999.0);
            long double l = ll2_reg_ld(y, v, x, k, t, reml);
            ck_assert_msg(l <= best + 1e-12L * fabsl(best) + 1e-12L, "%s: ll(%g) above the fit's", CELL("set"), t);
        }
        mp_reg_result_free(&res);
        free(X); free(x); free(y); free(v);
        n++;
#undef CELL
    }
    mp_table_free(e);
    return n;
}

START_TEST(test_multimodal_reg_metafor)
{
    size_t n = check_reg_sets("multimodal") + check_reg_sets("multimodal_reg");
    ck_assert_uint_ge(n, 2);
}
END_TEST

/* ---- BLAS threads ---------------------------------------------------------- */

extern void openblas_set_num_threads(int) __attribute__((weak));
extern int openblas_get_num_threads(void) __attribute__((weak));

/* The first fit sets OpenBLAS to one thread (src/models/blas_threads.c),
 * whatever the process had; mp_traj_fit and mp_reg_check_rank do too.  Each
 * Check test runs in its own forked process, so every one starts before any
 * fit of its process. */
static void blas_two_threads(void)
{
    ck_assert_msg(openblas_set_num_threads && openblas_get_num_threads,
                  "the library is linked against OpenBLAS (CMakeLists.txt)");
    openblas_set_num_threads(2);
    ck_assert_int_eq(openblas_get_num_threads(), 2);
}

START_TEST(test_blas_one_thread_reg)
{
    blas_two_threads();
    const double y[] = {0.1, 0.5, 0.2, 0.9, 0.4}, v[] = {0.1, 0.2, 0.1, 0.3, 0.2},
                 X[] = {1, 1, 1, 1, 1, 1, 2, 3, 4, 5};
    mp_reg_result r;
    ck_assert_int_eq(mp_reg_fit(y, v, X, 5, 2, NULL, &r), MP_OK);
    mp_reg_result_free(&r);
    ck_assert_int_eq(openblas_get_num_threads(), 1);
}
END_TEST

START_TEST(test_blas_one_thread_rank)
{
    blas_two_threads();
    const double X[] = {1, 1, 1, 1, 2, 3};
    ck_assert_int_eq(mp_reg_check_rank(X, 3, 2, 0.0, NULL), MP_OK);
    ck_assert_int_eq(openblas_get_num_threads(), 1);
}
END_TEST

START_TEST(test_blas_one_thread_traj)
{
    blas_two_threads();
    const double y[] = {1, 2, 1.5, 2.5, 0.5, 1.8}, v[] = {0.1, 0.1, 0.2, 0.2, 0.1, 0.3},
                 tm[] = {1, 2, 1, 2, 1, 2};
    const size_t st[] = {0, 0, 1, 1, 2, 2};
    mp_traj_opts o;
    mp_traj_opts_init(&o);
    mp_traj_result r;
    mp_error err;
    mp_status s = mp_traj_fit(y, v, tm, st, 6, &o, &r, &err);
    if (s == MP_OK || s == MP_ENOCONV) mp_traj_result_free(&r);
    ck_assert_int_eq(openblas_get_num_threads(), 1);
}
END_TEST

int main(void)
{
    gsl_set_error_handler_off();
    Suite *s = suite_create("numerics");
    TCase *tc = tcase_create("qprofile");
    tcase_add_test(tc, test_largek_metafor);
    tcase_add_test(tc, test_qprofile_k1e6);
    tcase_add_test(tc, test_ci_limit);
    tcase_add_test(tc, test_ci_null);
    tcase_set_timeout(tc, 300);
    suite_add_tcase(s, tc);
    tc = tcase_create("global_max");
    tcase_add_test(tc, test_multimodal_metafor);
    tcase_add_test(tc, test_global_random);
    tcase_add_test(tc, test_newton_cycle_metafor);
    tcase_add_test(tc, test_multimodal_reg_metafor);
    tcase_set_timeout(tc, 300);
    suite_add_tcase(s, tc);
    tc = tcase_create("blas");
    tcase_add_test(tc, test_blas_one_thread_reg);
    tcase_add_test(tc, test_blas_one_thread_rank);
    tcase_add_test(tc, test_blas_one_thread_traj);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf == 0 ? 0 : 1;
}
