/* src/diagnostics/bias.c - Egger's test, the rank correlation test, trim and fill,
 * fail-safe N, PET and PEESE (include/metapool/bias.h).
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Each follows metafor 3.8-1's R code of regtest(), ranktest(), trimfill()
 * and fsn() step by step (the formulas are cited at each function); the model
 * fits use mp_pool() and mp_reg_fit(), themselves checked against metafor. */
#include "metapool/bias.h"
#include "metapool/reg.h"
#include "internal.h"

#include <float.h>
#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- names ------------------------------------------------------------- */

static const char *const pred_names[MP_EGGER_PREDICTOR_COUNT] = {"sei", "vi", "ni", "ninv",
                                                                 "sqrtni", "sqrtninv"};
static const char *const model_names[MP_EGGER_MODEL_COUNT] = {"rma", "lm"};
static const char *const tf_names[MP_TF_ESTIMATOR_COUNT] = {"L0", "R0", "Q0"};

const char *mp_egger_predictor_name(mp_egger_predictor p)
{
    return (unsigned)p < MP_EGGER_PREDICTOR_COUNT ? pred_names[p] : "?";
}

mp_status mp_egger_predictor_parse(const char *s, mp_egger_predictor *out)
{
    int i = mp_name_index(pred_names, MP_EGGER_PREDICTOR_COUNT, s);
    if (!out || i < 0) return MP_FAIL(MP_EINVAL);
    *out = (mp_egger_predictor)i;
    return MP_OK;
}

const char *mp_egger_model_name(mp_egger_model m)
{
    return (unsigned)m < MP_EGGER_MODEL_COUNT ? model_names[m] : "?";
}

mp_status mp_egger_model_parse(const char *s, mp_egger_model *out)
{
    int i = mp_name_index(model_names, MP_EGGER_MODEL_COUNT, s);
    if (!out || i < 0) return MP_FAIL(MP_EINVAL);
    *out = (mp_egger_model)i;
    return MP_OK;
}

int mp_egger_predictor_needs_ni(mp_egger_predictor p)
{
    return p == MP_EGGER_NI || p == MP_EGGER_NINV || p == MP_EGGER_SQRTNI ||
           p == MP_EGGER_SQRTNINV;
}

const char *mp_tf_estimator_name(mp_tf_estimator e)
{
    return (unsigned)e < MP_TF_ESTIMATOR_COUNT ? tf_names[e] : "?";
}

mp_status mp_tf_estimator_parse(const char *s, mp_tf_estimator *out)
{
    int i = mp_name_index(tf_names, MP_TF_ESTIMATOR_COUNT, s);
    if (!out || i < 0) return MP_FAIL(MP_EINVAL);
    *out = (mp_tf_estimator)i;
    return MP_OK;
}

const char *mp_tf_side_name(mp_tf_side s)
{
    return s == MP_TF_SIDE_LEFT ? "left" : s == MP_TF_SIDE_RIGHT ? "right" : "auto";
}

/* ---- shared checks ------------------------------------------------------ */

static mp_status check_data(const double *y, const double *v, size_t k)
{
    for (size_t i = 0; i < k; i++) {
        if (!isfinite(y[i]) || !isfinite(v[i]) || !(v[i] > 0)) return MP_FAIL(MP_EDOM);
        if (fabs(y[i]) > MP_POOL_YMAX || v[i] < MP_POOL_VMIN || v[i] > MP_POOL_VMAX)
            return MP_FAIL(MP_EDOM);
    }
    return MP_OK;
}

static void pool_defaults(const mp_pool_opts *o, mp_pool_opts *out)
{
    if (o) *out = *o;
    else mp_pool_opts_init(out);
    out->tau2_ci = 0;
}

/* R's sum() accumulates in long double; so do these sums. */
static double wmean(const double *y, const double *w, size_t k, double *sumw)
{
    long double a = 0, b = 0;
    for (size_t i = 0; i < k; i++) { a += (long double)y[i] * w[i]; b += w[i]; }
    if (sumw) *sumw = (double)b;
    return (double)(a / b);
}

/* ---- Egger's regression test ------------------------------------------- */

/* regtest(x, model, predictor) (metafor 3.8-1): X = [1, pred]; model "rma"
 * fits rma(yi, vi, mods = X, intercept = FALSE, method, test, level) and tests
 * the predictor's coefficient; "lm" fits lm(yi ~ X - 1, weights = 1/vi), which
 * is the FE model with the residual variance estimated: exactly mp_reg_fit()'s
 * FE with the knha scale s2w = RSS_w/(k - 2) and t(k - 2).  The limit estimate
 * (coefficient 1 and its CI) for sei, vi, ninv and sqrtninv. */
mp_status mp_bias_egger(const double *y, const double *v, const double *ni, size_t k,
                        mp_egger_model model, mp_egger_predictor predictor,
                        const mp_pool_opts *o, mp_egger_result *res)
{
    if (!y || !v || !res) return MP_FAIL(MP_EINVAL);
    memset(res, 0, sizeof *res);
    res->stat = res->df = res->pval = res->slope = res->slope_se = NAN;
    res->limit_estimate = res->limit_ci_lb = res->limit_ci_ub = res->tau2 = NAN;
    if ((unsigned)model >= MP_EGGER_MODEL_COUNT || (unsigned)predictor >= MP_EGGER_PREDICTOR_COUNT)
        return MP_FAIL(MP_EINVAL);
    if (mp_egger_predictor_needs_ni(predictor) && !ni) return MP_FAIL(MP_EINVAL);
    res->model = model;
    res->predictor = predictor;
    res->k = k;
    mp_status st = check_data(y, v, k);
    if (st) return st;
    if (ni && mp_egger_predictor_needs_ni(predictor))
        for (size_t i = 0; i < k; i++)
            if (!isfinite(ni[i]) || !(ni[i] > 0)) return MP_FAIL(MP_EDOM);
    if (k < 3) return MP_FAIL(MP_ETOOFEW);
    mp_pool_opts po;
    pool_defaults(o, &po);

    double *X = malloc(mp_mul_size(2 * k, sizeof *X));
    if (!X) return MP_FAIL(MP_ENOMEM);
    for (size_t i = 0; i < k; i++) {
        double x = 0;
        switch (predictor) {
        case MP_EGGER_SEI: x = sqrt(v[i]); break;
        case MP_EGGER_VI: x = v[i]; break;
        case MP_EGGER_NI: x = ni[i]; break;
        case MP_EGGER_NINV: x = 1.0 / ni[i]; break;
        case MP_EGGER_SQRTNI: x = sqrt(ni[i]); break;
        default: x = 1.0 / sqrt(ni[i]); break;
        }
        X[i] = 1.0;
        X[k + i] = x;
    }
    /* metafor refuses a predictor that makes X rank-deficient (lm() check) */
    st = mp_reg_check_rank(X, k, 2, 0, NULL);
    if (st) { free(X); return st == MP_ESING ? MP_ESING : MP_FAIL(st); }

    mp_reg_opts ro;
    mp_reg_opts_init(&ro);
    ro.method = model == MP_EGGER_LM ? MP_METHOD_FE : po.method;
    ro.test = model == MP_EGGER_LM ? MP_TEST_KNHA : po.test;
    ro.level = po.level;
    ro.epsrel = po.epsrel;
    ro.maxiter = po.maxiter;
    ro.r2 = 0;
    mp_reg_result r;
    memset(&r, 0, sizeof r);
    st = mp_reg_fit(y, v, X, k, 2, &ro, &r);
    free(X);
    if (st) { mp_reg_result_free(&r); return st; }
    res->slope = r.beta[1];
    res->slope_se = r.se[1];
    res->stat = r.stat[1];
    res->pval = r.pval[1];
    res->df = ro.test == MP_TEST_KNHA ? r.df : NAN;
    res->tau2 = model == MP_EGGER_LM ? 0.0 : r.tau2;
    if (predictor == MP_EGGER_SEI || predictor == MP_EGGER_VI || predictor == MP_EGGER_NINV ||
        predictor == MP_EGGER_SQRTNINV) {
        res->has_limit = 1;
        res->limit_estimate = r.beta[0];
        res->limit_ci_lb = r.ci_lb[0];
        res->limit_ci_ub = r.ci_ub[0];
    }
    mp_reg_result_free(&r);
    return MP_OK;
}

/* ---- Kendall's exact null distribution --------------------------------- */

/* P(T <= q), T the number of inversions of a random permutation of n.  The
 * generating function of inversions is prod_{m=1}^{n} (1 + x + ... + x^{m-1})
 * (Knuth, TAOCP 3, 5.1.1), so the probabilities obey
 *   f_m(t) = (1/m) sum_{j=0}^{min(t, m-1)} f_{m-1}(t - j),
 * evaluated here with a sliding window sum.  Only t <= Q = min(q, M - q) are
 * needed (T is symmetric about M/2, M = n(n-1)/2): every term is a
 * probability, the window adds the larger end and drops the smaller one, so
 * the lower tail is computed without cancellation. */
mp_status mp_kendall_cdf(double q, size_t n, double *p)
{
    if (!p) return MP_FAIL(MP_EINVAL);
    if (n > (size_t)1 << 20) return MP_FAIL(MP_EINVAL);
    q = floor(q);
    double M = 0.5 * (double)n * ((double)n - 1.0);
    if (q < 0) { *p = 0.0; return MP_OK; }
    if (q >= M) { *p = 1.0; return MP_OK; }
    int upper = q > M - q - 1; /* P(T <= q) = 1 - P(T <= M - q - 1) */
    double qq = upper ? M - q - 1 : q;
    size_t Q = (size_t)qq;
    long double *f = malloc(mp_mul_size(Q + 1, sizeof *f));
    long double *g = malloc(mp_mul_size(Q + 1, sizeof *g));
    if (!f || !g) { free(f); free(g); return MP_FAIL(MP_ENOMEM); }
    for (size_t t = 0; t <= Q; t++) f[t] = t == 0 ? 1.0L : 0.0L;
    for (size_t m = 2; m <= n; m++) {
        long double win = 0;
        for (size_t t = 0; t <= Q; t++) {
            win += f[t];
            if (t >= m) win -= f[t - m];
            g[t] = win / (long double)m;
        }
        long double *tmp = f; f = g; g = tmp;
    }
    long double c = 0;
    for (size_t t = 0; t <= Q; t++) c += f[t];
    free(f);
    free(g);
    *p = upper ? (double)(1.0L - c) : (double)c;
    return MP_OK;
}

/* ---- Begg and Mazumdar's rank correlation ------------------------------ */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sums over groups of equal values of t(t-1), t(t-1)(2t+5), t(t-1)(t-2). */
static mp_status tie_sums(const double *x, size_t k, double s[3], int *any)
{
    double *c = malloc(mp_mul_size(k, sizeof *c));
    if (!c) return MP_FAIL(MP_ENOMEM);
    memcpy(c, x, k * sizeof *c);
    qsort(c, k, sizeof *c, cmp_double);
    s[0] = s[1] = s[2] = 0;
    *any = 0;
    for (size_t i = 0; i < k;) {
        size_t j = i + 1;
        while (j < k && c[j] == c[i]) j++;
        double t = (double)(j - i);
        if (j - i > 1) {
            *any = 1;
            s[0] += t * (t - 1);
            s[1] += t * (t - 1) * (2 * t + 5);
            s[2] += t * (t - 1) * (t - 2);
        }
        i = j;
    }
    free(c);
    return MP_OK;
}

/* ranktest() (metafor 3.8-1): y* = (y - b)/sqrt(v - 1/sum w), b the FE
 * estimate; cor.test(y*, v, method = "kendall", exact = TRUE): tau-b (R's
 * cor()), exact p from pkendall when neither has ties, else z = S/sqrt(var S)
 * with the tie-corrected var S of R's cor.test (Kendall 1970, ch. 4). */
mp_status mp_bias_ranktest(const double *y, const double *v, size_t k, mp_rank_result *res)
{
    if (!y || !v || !res) return MP_FAIL(MP_EINVAL);
    memset(res, 0, sizeof *res);
    res->tau = res->pval = res->stat = res->S = NAN;
    res->k = k;
    mp_status st = check_data(y, v, k);
    if (st) return st;
    if (k < 2) return MP_FAIL(MP_ETOOFEW);
    double *w = malloc(mp_mul_size(2 * k, sizeof *w));
    if (!w) return MP_FAIL(MP_ENOMEM);
    double *ys = w + k;
    for (size_t i = 0; i < k; i++) w[i] = 1.0 / v[i];
    double sw;
    double theta = wmean(y, w, k, &sw);
    double vb = 1.0 / sw;
    for (size_t i = 0; i < k; i++) ys[i] = (y[i] - theta) / sqrt(v[i] - vb);

    /* tau-b as R's cor(method = "kendall") computes it (src/library/stats/src/cov.c) */
    long long S = 0, nx = 0, ny = 0;
    for (size_t i = 0; i < k; i++)
        for (size_t j = 0; j < i; j++) {
            int sx = (ys[i] > ys[j]) - (ys[i] < ys[j]);
            int sy = (v[i] > v[j]) - (v[i] < v[j]);
            S += sx * sy;
            nx += sx * sx;
            ny += sy * sy;
        }
    double tx[3], ty[3];
    int tiex, tiey;
    st = tie_sums(ys, k, tx, &tiex);
    if (!st) st = tie_sums(v, k, ty, &tiey);
    free(w);
    if (st) return st;
    res->S = (double)S;
    if (nx == 0 || ny == 0) return MP_FAIL(MP_EDOM); /* a constant variable: tau undefined */
    res->tau = (double)S / (sqrt((double)nx) * sqrt((double)ny));
    res->ties = tiex || tiey;
    double n = (double)k;
    if (!res->ties && k <= MP_KENDALL_EXACT_MAX) {
        /* q = number of concordant pairs = (S + M)/2; two-sided as cor.test:
         * q > M/2 ? 1 - pkendall(q - 1) : pkendall(q), doubled, at most 1 */
        double M = n * (n - 1) / 2, q = ((double)S + M) / 2, p;
        if (q > M / 2) {
            st = mp_kendall_cdf(M - q, k, &p); /* P(T >= q) = P(T <= M - q) by symmetry */
        } else {
            st = mp_kendall_cdf(q, k, &p);
        }
        if (st) return st;
        res->exact = 1;
        res->pval = fmin(2 * p, 1.0);
        return MP_OK;
    }
    /* ties (or k beyond the exact limit): the normal approximation */
    double v0 = n * (n - 1) * (2 * n + 5);
    double var = (v0 - tx[1] - ty[1]) / 18 + tx[0] * ty[0] / (2 * n * (n - 1));
    if (k > 2) var += tx[2] * ty[2] / (9 * n * (n - 1) * (n - 2));
    /* R: S = tau * sqrt((T0 - T1)(T0 - T2)), which is the integer score */
    double T0 = n * (n - 1) / 2;
    double Sr = res->tau * sqrt((T0 - tx[0] / 2) * (T0 - ty[0] / 2));
    res->stat = Sr / sqrt(var);
    res->pval = 2 * fmin(gsl_cdf_ugaussian_P(res->stat), gsl_cdf_ugaussian_Q(res->stat));
    return MP_OK;
}

/* ---- trim and fill ------------------------------------------------------ */

typedef struct { double key; size_t i; } keyed;

static int cmp_keyed(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    if (x->key < y->key) return -1;
    if (x->key > y->key) return 1;
    return (x->i > y->i) - (x->i < y->i); /* stable, as R's order() */
}

void mp_trimfill_result_free(mp_trimfill_result *res)
{
    if (!res) return;
    free(res->fill_y);
    free(res->fill_v);
    res->fill_y = res->fill_v = NULL;
}

/* trimfill.rma.uni() of metafor 3.8-1 (Duval & Tweedie 2000):
 *  side: sign of the slope of rma(yi, vi, mods = sqrt(vi), method);
 *  right: yi <- -yi; sort (stable); repeat: fit the k - k0 smallest, centre,
 *  rank |yi - b| (ties first come first), signed ranks; L0 = (4 Sr - k(k+1))
 *  /(2k - 1), R0 = k - (largest rank of a negative) - 1, Q0 = k - 1/2 -
 *  sqrt(2k^2 - 4 Sr + 1/4) with metafor's se.k0; k0 <- max(0, round(k0))
 *  until k0 repeats; fill the reflections 2b - y of the k0 largest. */
mp_status mp_bias_trimfill(const double *y, const double *v, size_t k,
                           mp_tf_estimator estimator, mp_tf_side side, const mp_pool_opts *o,
                           size_t maxiter, mp_trimfill_result *res)
{
    if (!y || !v || !res) return MP_FAIL(MP_EINVAL);
    memset(res, 0, sizeof *res);
    res->se_k0 = res->k0_raw = res->p_k0 = NAN;
    if ((unsigned)estimator >= MP_TF_ESTIMATOR_COUNT || side > MP_TF_SIDE_RIGHT)
        return MP_FAIL(MP_EINVAL);
    res->estimator = estimator;
    mp_status st = check_data(y, v, k);
    if (st) return st;
    if (k < 3) return MP_FAIL(MP_ETOOFEW);
    if (maxiter == 0) maxiter = 100;
    mp_pool_opts po;
    pool_defaults(o, &po);

    if (side == MP_TF_SIDE_AUTO) {
        double *X = malloc(mp_mul_size(2 * k, sizeof *X));
        if (!X) return MP_FAIL(MP_ENOMEM);
        for (size_t i = 0; i < k; i++) { X[i] = 1; X[k + i] = sqrt(v[i]); }
        mp_reg_opts ro;
        mp_reg_opts_init(&ro);
        ro.method = po.method;
        ro.level = po.level;
        ro.epsrel = po.epsrel;
        ro.maxiter = po.maxiter;
        ro.r2 = 0;
        mp_reg_result r;
        memset(&r, 0, sizeof r);
        st = mp_reg_fit(y, v, X, k, 2, &ro, &r);
        free(X);
        if (st) { mp_reg_result_free(&r); return st; }
        side = r.beta[1] < 0 ? MP_TF_SIDE_RIGHT : MP_TF_SIDE_LEFT;
        mp_reg_result_free(&r);
    }
    res->side = side;
    double sgn = side == MP_TF_SIDE_RIGHT ? -1.0 : 1.0;

    keyed *ord = malloc(mp_mul_size(k, sizeof *ord));
    double *ys = malloc(mp_mul_size(3 * k, sizeof *ys));
    if (!ord || !ys) { free(ord); free(ys); return MP_FAIL(MP_ENOMEM); }
    double *vs = ys + k, *yc = ys + 2 * k;
    for (size_t i = 0; i < k; i++) { ord[i].key = sgn * y[i]; ord[i].i = i; }
    qsort(ord, k, sizeof *ord, cmp_keyed);
    for (size_t i = 0; i < k; i++) { ys[i] = ord[i].key; vs[i] = v[ord[i].i]; }

    /* trimfill() refits with rma.uni()'s defaults for the test and level
     * (it passes neither on): z and 95% whenever it refits */
    mp_pool_opts fo = po;
    fo.test = MP_TEST_Z;
    fo.level = 95;
    mp_pool_workspace *ws = mp_pool_workspace_alloc(k);
    if (!ws) { free(ord); free(ys); return MP_FAIL(MP_ENOMEM); }
    double kd = (double)k, beta = NAN, k0r = NAN, se = NAN;
    long k0 = 0, k0sav = -1;
    size_t iter = 0;
    while (k0 != k0sav) {
        k0sav = k0;
        if (++iter > maxiter) { st = MP_FAIL(MP_ENOCONV); break; }
        if ((size_t)k0 >= k) { st = MP_FAIL(MP_EDOM); break; }
        mp_pool_result pr;
        st = mp_pool(ys, vs, k - (size_t)k0, &fo, ws, &pr);
        if (st) break;
        beta = pr.estimate;
        for (size_t i = 0; i < k; i++) {
            yc[i] = ys[i] - beta;
            ord[i].key = fabs(yc[i]);
            ord[i].i = i;
        }
        qsort(ord, k, sizeof *ord, cmp_keyed); /* rank(abs(yi.c), ties.method = "first") */
        double Sr = 0, maxneg = -INFINITY;
        for (size_t r = 0; r < k; r++) {
            size_t i = ord[r].i;
            double rank = (double)(r + 1);
            if (yc[i] > 0) Sr += rank;
            else if (yc[i] < 0 && rank > maxneg) maxneg = rank;
        }
        if (estimator == MP_TF_R0) {
            k0r = (kd - maxneg) - 1; /* -Inf rank when no effect is below: k0 = +Inf */
            se = sqrt(2 * fmax(0, k0r) + 2);
        } else {
            if (estimator == MP_TF_L0) k0r = (4 * Sr - kd * (kd + 1)) / (2 * kd - 1);
            else k0r = kd - 0.5 - sqrt(2 * kd * kd - 4 * Sr + 0.25);
            double varSr = (kd * (kd + 1) * (2 * kd + 1) + 10 * k0r * k0r * k0r +
                            27 * k0r * k0r + 17 * k0r - 18 * kd * k0r * k0r - 18 * kd * k0r +
                            6 * kd * kd * k0r) / 24;
            if (estimator == MP_TF_L0) se = 4 * sqrt(varSr) / (2 * kd - 1);
            else se = 2 * sqrt(varSr) / sqrt((kd - 0.5) * (kd - 0.5) - k0r * (2 * kd - k0r - 1));
        }
        if (!isfinite(k0r)) { st = MP_FAIL(MP_EDOM); break; }
        double kr = fmax(0.0, nearbyint(k0r)); /* R's round(): half to even */
        if (kr >= kd) { st = MP_FAIL(MP_EDOM); break; }
        k0 = (long)kr;
        se = se > 0 ? se : (isnan(se) ? se : 0.0); /* max(0, se.k0) keeps NaN as R does */
    }
    res->niter = iter;
    res->k0_raw = k0r;
    res->se_k0 = se;
    if (!st) {
        res->k0 = (size_t)k0;
        if (estimator == MP_TF_R0) {
            /* p.k0 = 1 - sum_{m=-1}^{k0-1} choose(m+1, m+1) 0.5^(m+2) = 0.5^(k0+1) */
            res->p_k0 = ldexp(1.0, -(int)(k0 + 1 > 1000 ? 1000 : k0 + 1));
        }
        if (k0 > 0) {
            size_t kk = (size_t)k0, n = k + kk;
            double *ay = malloc(mp_mul_size(2 * n, sizeof *ay));
            res->fill_y = malloc(mp_mul_size(kk, sizeof *res->fill_y));
            res->fill_v = malloc(mp_mul_size(kk, sizeof *res->fill_v));
            if (!ay || !res->fill_y || !res->fill_v) {
                free(ay);
                st = MP_FAIL(MP_ENOMEM);
            } else {
                double *av = ay + n;
                memcpy(ay, y, k * sizeof *ay);
                memcpy(av, v, k * sizeof *av);
                for (size_t j = 0; j < kk; j++) {
                    size_t i = k - kk + j;
                    /* metafor: -(yi.c - beta) on the (possibly negated) scale = 2 b - y */
                    double f = -(yc[i] - beta);
                    res->fill_y[j] = sgn * f;
                    res->fill_v[j] = vs[i];
                    ay[k + j] = res->fill_y[j];
                    av[k + j] = vs[i];
                }
                mp_pool_workspace_free(ws);
                ws = mp_pool_workspace_alloc(n);
                st = ws ? mp_pool(ay, av, n, &fo, ws, &res->fit) : MP_FAIL(MP_ENOMEM);
                free(ay);
            }
        } else {
            /* no study filled: metafor returns the input model itself */
            st = mp_pool(y, v, k, &po, ws, &res->fit);
        }
    }
    mp_pool_workspace_free(ws);
    free(ord);
    free(ys);
    return st;
}

/* ---- fail-safe N -------------------------------------------------------- */

/* fsn()'s rounding: within sqrt(eps) of an integer -> round, else ceiling. */
static double fsn_round(double x)
{
    if (isinf(x)) return x;
    return fabs(x - nearbyint(x)) >= sqrt(DBL_EPSILON) ? ceil(x) : nearbyint(x);
}

/* fsn(yi, vi, type) of metafor 3.8-1:
 *  Rosenthal (1979) with Stouffer's z: z = |sum y/sqrt(v)|/sqrt(k), N =
 *    max(0, k (z/z_alpha)^2 - k), z_alpha the one-sided 1 - alpha quantile;
 *  Orwin (1983), unweighted: mean m, target m/2, N = max(0, k (m - t)/t);
 *  Rosenberg (2005): w = 1/v, N = max(0, k ((sum w y / z_{alpha/2})^2 - sum w)
 *    / sum w). */
mp_status mp_bias_fsn(const double *y, const double *v, size_t k, double alpha,
                      mp_fsn_result *res)
{
    if (!y || !v || !res) return MP_FAIL(MP_EINVAL);
    memset(res, 0, sizeof *res);
    if (alpha == 0) alpha = 0.05;
    if (!(alpha > 0 && alpha < 1)) return MP_FAIL(MP_EINVAL);
    mp_status st = check_data(y, v, k);
    if (st) return st;
    if (k == 0) return MP_FAIL(MP_ETOOFEW);
    double kd = (double)k;
    long double sz = 0, sy = 0, sw = 0, swy = 0;
    for (size_t i = 0; i < k; i++) {
        sz += y[i] / sqrt(v[i]);
        sy += y[i];
        sw += 1.0 / v[i];
        swy += (long double)(1.0 / v[i]) * y[i];
    }
    double zavg = fabs((double)sz / sqrt(kd));
    res->rosenthal_pval = gsl_cdf_ugaussian_Q(zavg);
    double za = gsl_cdf_ugaussian_Qinv(alpha);
    res->rosenthal = fsn_round(fmax(0.0, kd * (zavg / za) * (zavg / za) - kd));

    double m = (double)(sy / k), t = m / 2;
    res->orwin_mean = m;
    res->orwin_target = t;
    res->orwin = t == 0 ? INFINITY : fsn_round(fmax(0.0, kd * (m - t) / t));

    double W = (double)sw, WY = (double)swy;
    double est = WY / W, z = est / sqrt(1.0 / W);
    double za2 = gsl_cdf_ugaussian_Qinv(alpha / 2);
    double wp = (WY / za2) * (WY / za2) - W;
    res->rosenberg_pval = 2 * gsl_cdf_ugaussian_Q(fabs(z));
    res->rosenberg = fsn_round(fmax(0.0, kd * wp / W));
    return MP_OK;
}

/* ---- PET and PEESE ------------------------------------------------------ */

/* lm(yi ~ sei, weights = 1/vi) and lm(yi ~ vi, weights = 1/vi): the FE
 * meta-regression with the residual variance estimated (mp_reg_fit FE + knha
 * = lm's t(k - 2) test and CI). */
mp_status mp_bias_pet_peese(const double *y, const double *v, size_t k, int peese, double level,
                            mp_wls_result *res)
{
    if (!y || !v || !res) return MP_FAIL(MP_EINVAL);
    memset(res, 0, sizeof *res);
    res->estimate = res->se = res->stat = res->df = res->pval = res->ci_lb = res->ci_ub = NAN;
    res->slope = res->slope_se = res->slope_pval = NAN;
    res->k = k;
    if (level == 0) level = 95;
    if (!(level > 0 && level < 100)) return MP_FAIL(MP_EINVAL);
    mp_status st = check_data(y, v, k);
    if (st) return st;
    if (k < 3) return MP_FAIL(MP_ETOOFEW);
    double *X = malloc(mp_mul_size(2 * k, sizeof *X));
    if (!X) return MP_FAIL(MP_ENOMEM);
    for (size_t i = 0; i < k; i++) { X[i] = 1; X[k + i] = peese ? v[i] : sqrt(v[i]); }
    st = mp_reg_check_rank(X, k, 2, 0, NULL);
    if (st) { free(X); return st == MP_ESING ? MP_ESING : MP_FAIL(st); }
    mp_reg_opts ro;
    mp_reg_opts_init(&ro);
    ro.method = MP_METHOD_FE;
    ro.test = MP_TEST_KNHA;
    ro.level = level;
    ro.r2 = 0;
    mp_reg_result r;
    memset(&r, 0, sizeof r);
    st = mp_reg_fit(y, v, X, k, 2, &ro, &r);
    free(X);
    if (!st) {
        res->estimate = r.beta[0];
        res->se = r.se[0];
        res->stat = r.stat[0];
        res->df = r.df;
        res->pval = r.pval[0];
        res->ci_lb = r.ci_lb[0];
        res->ci_ub = r.ci_ub[0];
        res->slope = r.beta[1];
        res->slope_se = r.se[1];
        res->slope_pval = r.pval[1];
    }
    mp_reg_result_free(&r);
    return st;
}
