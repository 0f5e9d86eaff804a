/* src/pool.c - fixed- and random-effects pooling, nine tau^2 estimators.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Definitions follow metafor 3.8's rma.uni() for the intercept-only model
 * (Viechtbauer 2010, J Stat Softw 36(3); Viechtbauer 2005, J Educ Behav Stat
 * 30:261-293 for ML/REML/EB and the SEs; Veroniki et al. 2016, Res Synth
 * Methods 7:55 for the estimator definitions).  With X = 1 every matrix
 * quantity metafor forms (P = W - W 1 1'W / sum w, tr P, tr PP, Y'PY, ...)
 * has an O(k) closed form, used here; no k x k matrix is ever built.
 *
 * Numerics.  With variances spanning 1e-12..1e12 one weight can dominate
 * the sum, and S1 - w_i (the sum of the other weights) cancels
 * catastrophically.  `sum_except` below computes "total minus element i"
 * exactly for the dominant element by summing the others directly.
 *
 * Iterative estimators are solved to the converged optimum (relative
 * tolerance epsrel, default 1e-12), not to metafor's default stopping
 * rules: REML and ML by Newton steps on the score with a Fisher-scoring
 * fallback inside a bracket that is tightened at every step; EB by the same
 * safeguarded Newton on its estimating equation; PM (and the Q-profile CI)
 * by Brent's method from GSL on the generalised Q statistic.
 *
 * Speed (issue 6; measurements in bench/README.md).  Batch mode fits
 * millions of small analyses, so the per-fit constant matters as much as
 * the O(k) passes: the O(k) passes (pstats_of) are branch-free loops in
 * index order that GCC vectorises (-fopt-info-vec), the quantiles of the
 * CI are remembered in the workspace across the fits of mp_pool_many()
 * (a t quantile costs microseconds), and the estimating equation at
 * tau2 = 0 reuses the fixed-effect pass.  REML runs per analysis from the
 * HE start that metafor uses: running analyses in lockstep across SIMD
 * lanes was measured slower (each group of lanes pays its slowest lane's
 * iterations), see bench/lockstep.c. */
#include "metapool/pool.h"
#include "internal.h"

#include <float.h>
#include "metapool/quantile.h"
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_roots.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const method_names[MP_METHOD_COUNT] = {"FE", "DL", "HE", "HS", "HSk",
                                                          "SJ", "ML", "REML", "EB", "PM"};

const char *mp_method_name(mp_method m)
{
    return (unsigned)m < MP_METHOD_COUNT ? method_names[m] : "?";
}

mp_status mp_method_parse(const char *s, mp_method *out)
{
    for (int i = 0; s && i < MP_METHOD_COUNT; i++)
        if (strcmp(s, method_names[i]) == 0) { *out = (mp_method)i; return MP_OK; }
    if (s && (strcmp(s, "EE") == 0 || strcmp(s, "CE") == 0)) { *out = MP_METHOD_FE; return MP_OK; }
    return MP_FAIL(MP_EINVAL);
}

const char *mp_test_name(mp_test t) { return t == MP_TEST_KNHA ? "knha" : "z"; }

mp_status mp_test_parse(const char *s, mp_test *out)
{
    if (s && strcmp(s, "z") == 0) { *out = MP_TEST_Z; return MP_OK; }
    if (s && (strcmp(s, "knha") == 0 || strcmp(s, "hksj") == 0)) { *out = MP_TEST_KNHA; return MP_OK; }
    return MP_FAIL(MP_EINVAL);
}

void mp_pool_opts_init(mp_pool_opts *o)
{
    o->method = MP_METHOD_REML;
    o->test = MP_TEST_Z;
    o->level = 95.0;
    o->epsrel = 1e-12;
    o->maxiter = 1000;
    o->tau2_ci = 1;
}

struct mp_pool_workspace {
    size_t kmax;
    double *w;                 /* weights 1/(v + tau2) */
    double *a;                 /* scratch */
    gsl_root_fsolver *brent;   /* reused by PM and the Q-profile CI */
    /* Quantiles of the last fits: many analyses share the level (and k),
     * and a t quantile costs microseconds (GSL inverts it iteratively). */
    double z_alpha, z_crit;          /* alpha/2 -> normal upper quantile */
    double t_alpha, t_df, t_crit;    /* (alpha/2, df) -> t upper quantile */
    double c_alpha, c_df, c_upper, c_lower; /* (alpha/2, df) -> chi2 quantiles */
};

/* Upper alpha/2 quantiles, remembered in the workspace (same values as
 * calling GSL each time: the cache only skips repeated calls). */
static double z_quantile(mp_pool_workspace *ws, double half_alpha)
{
    if (!(ws->z_alpha == half_alpha)) {
        ws->z_crit = mp_qnorm_upper(half_alpha);
        ws->z_alpha = half_alpha;
    }
    return ws->z_crit;
}

static double t_quantile(mp_pool_workspace *ws, double half_alpha, double df)
{
    if (!(ws->t_alpha == half_alpha && ws->t_df == df)) {
        ws->t_crit = mp_qt_upper(half_alpha, df);
        ws->t_alpha = half_alpha;
        ws->t_df = df;
    }
    return ws->t_crit;
}

mp_pool_workspace *mp_pool_workspace_alloc(size_t kmax)
{
    mp_pool_workspace *ws = calloc(1, sizeof *ws);
    size_t bytes = mp_mul_size(kmax ? kmax : 1, sizeof(double));
    if (!ws || !bytes) { free(ws); return NULL; }
    ws->kmax = kmax;
    ws->z_alpha = ws->t_alpha = ws->t_df = ws->c_alpha = ws->c_df = NAN;
    ws->w = malloc(bytes);
    ws->a = malloc(bytes);
    ws->brent = gsl_root_fsolver_alloc(gsl_root_fsolver_brent);
    if (!ws->w || !ws->a || !ws->brent) { mp_pool_workspace_free(ws); return NULL; }
    return ws;
}

void mp_pool_workspace_free(mp_pool_workspace *ws)
{
    if (!ws) return;
    free(ws->w);
    free(ws->a);
    if (ws->brent) gsl_root_fsolver_free(ws->brent);
    free(ws);
}

/* ---- sums that stay exact when one term dominates ------------------- */

typedef struct {
    double total; /* sum of all terms */
    double rest;  /* sum of all terms but the largest, summed directly */
    size_t imax;  /* index of the largest term */
} xsum;

static xsum xsum_of(const double *a, size_t k)
{
    xsum s = {0, 0, 0};
    for (size_t i = 1; i < k; i++)
        if (a[i] > a[s.imax]) s.imax = i;
    for (size_t i = 0; i < k; i++)
        if (i != s.imax) s.rest += a[i];
    s.total = a[s.imax] + s.rest;
    return s;
}

/* total - a[i], without cancellation for the dominant term */
static inline double sum_except(const xsum *s, const double *a, size_t i)
{
    return i == s->imax ? s->rest : s->total - a[i];
}

/* Quantities of the intercept-only model at weights w (metafor's P = W -
 * W11'W/S1): everything the estimators need, in O(k). */
typedef struct {
    double S1, S2;   /* sum w, sum w^2 */
    double mu;       /* weighted mean */
    double Q;        /* Y'PY = sum w (y - mu)^2 */
    double YPPY;     /* sum w^2 (y - mu)^2 */
    double YPPPY;    /* e'Pe with e = P y */
    double trP;      /* trace of P */
    double trPP;     /* trace of PP */
} pstats;

MP_CLONES
static void weights(const double *v, size_t k, double tau2, double *w)
{
    for (size_t i = 0; i < k; i++) w[i] = 1.0 / (v[i] + tau2);
}

/* Running sums of one pass over the studies. */
typedef struct {
    double s1, s2, swy;              /* sum w, sum w^2, sum w y (the largest w left out of s1, s2) */
    double Q, YPPY, swe, swee;       /* residual sums */
    double trP, trPP;                /* traces */
} psums;

/* sum w, sum w^2 and sum w y over i in [i0, i1). */
static inline void sums_range(const double *y, const double *w, size_t i0, size_t i1, psums *a)
{
    double s1 = a->s1, s2 = a->s2, swy = a->swy;
    for (size_t i = i0; i < i1; i++) {
        s1 += w[i];
        s2 += w[i] * w[i];
        swy += w[i] * y[i];
    }
    a->s1 = s1;
    a->s2 = s2;
    a->swy = swy;
}

/* Residual sums over i in [i0, i1), and with `traces` the tr P and tr PP
 * terms p_ii = w_i (S1 - w_i) / S1 and w_i^2 (S2 - w_i^2) / S1^2 (i is
 * never the largest weight here: S1 - w_i has no cancellation). */
static inline void resid_range(const double *y, const double *w, size_t i0, size_t i1, double mu,
                               double S1, double S2, double inv, int traces, psums *a)
{
    double Q = a->Q, YPPY = a->YPPY, swe = a->swe, swee = a->swee, trP = a->trP, trPP = a->trPP;
    const double inv2 = inv * inv;
    if (traces) {
        for (size_t i = i0; i < i1; i++) {
            double r = y[i] - mu, e = w[i] * r, w2 = w[i] * w[i], pii = w[i] * (S1 - w[i]) * inv;
            Q += e * r;
            YPPY += e * e;
            swe += w[i] * e;
            swee += w[i] * e * e;
            trP += pii;
            trPP += pii * pii + w2 * (S2 - w2) * inv2;
        }
    } else {
        for (size_t i = i0; i < i1; i++) {
            double r = y[i] - mu, e = w[i] * r;
            Q += e * r;
            YPPY += e * e;
            swe += w[i] * e;
            swee += w[i] * e * e;
        }
    }
    a->Q = Q;
    a->YPPY = YPPY;
    a->swe = swe;
    a->swee = swee;
    a->trP = trP;
    a->trPP = trPP;
}

/* Fill ps from weights w (already computed) and effects y.
 *
 * Three passes over the studies, none with a branch inside and none
 * allocating: the index of the largest weight (branch-free selects); the
 * sums, over the index ranges around it, so that S1 - w_max and
 * S2 - w_max^2 are exact (see sum_except; the largest weight's index is
 * also that of the largest w^2); the residual sums and traces, again
 * around the largest weight, whose trace terms use the exact sums of the
 * others.  Every sum keeps index order (no reassociation), so results do
 * not depend on the vector width the compiler chooses. */
static void pstats_of(const double *y, const double *w, size_t k, pstats *ps, int want_traces)
{
    size_t imax = 0;
    double wmax = w[0];
    for (size_t i = 1; i < k; i++) {
        int gt = w[i] > wmax;
        wmax = gt ? w[i] : wmax;
        imax = gt ? i : imax;
    }
    psums a = {0, 0, 0, 0, 0, 0, 0, 0, 0};
    sums_range(y, w, 0, imax, &a);
    a.swy += wmax * y[imax];
    sums_range(y, w, imax + 1, k, &a);
    const double rest1 = a.s1, rest2 = a.s2;
    const double S1 = wmax + rest1, S2 = wmax * wmax + rest2, mu = a.swy / S1, inv = 1.0 / S1;
    resid_range(y, w, 0, imax, mu, S1, S2, inv, want_traces, &a);
    {   /* the largest weight: its "others" are rest1 and rest2 */
        double r = y[imax] - mu, e = wmax * r, pmax = wmax * rest1 * inv;
        a.Q += e * r;
        a.YPPY += e * e;
        a.swe += wmax * e;
        a.swee += wmax * e * e;
        a.trP += pmax;
        a.trPP += pmax * pmax + wmax * wmax * rest2 * (inv * inv);
    }
    resid_range(y, w, imax + 1, k, mu, S1, S2, inv, want_traces, &a);
    ps->S1 = S1;
    ps->S2 = S2;
    ps->mu = mu;
    ps->Q = a.Q;
    ps->YPPY = a.YPPY;
    ps->YPPPY = a.swee - a.swe * a.swe / S1;
    ps->trP = a.trP;
    ps->trPP = a.trPP;
}

/* ---- closed-form estimators ------------------------------------------ */

/* Hedges (HE): var(y) - mean(v) in metafor's general form
 * (RSS - tr(PV))/(k-1) with the OLS projector. */
static double tau2_he(const double *y, const double *v, size_t k, double *se_part_trPVPV,
                      double *trPV)
{
    double my = 0, sv = 0, sv2 = 0;
    for (size_t i = 0; i < k; i++) { my += y[i]; sv += v[i]; sv2 += v[i] * v[i]; }
    my /= (double)k;
    double rss = 0;
    for (size_t i = 0; i < k; i++) rss += (y[i] - my) * (y[i] - my);
    double kk = (double)k;
    *trPV = (kk - 1.0) / kk * sv;
    *se_part_trPVPV = (kk - 2.0) / kk * sv2 + sv * sv / (kk * kk);
    return (rss - *trPV) / (kk - 1.0);
}

/* ---- safeguarded Newton for estimating equations g(tau2) = 0 --------- */

typedef enum { EQ_REML, EQ_ML, EQ_EB } eqkind;

/* g and g' of the estimating equation from the model quantities ps at some
 * tau2 (traces needed for REML and ML). */
static void eq_from(eqkind kind, const pstats *ps, size_t k, double *g, double *dg, double *fisher)
{
    switch (kind) {
    case EQ_REML: /* score of the restricted likelihood, times 2 */
        *g = ps->YPPY - ps->trP;
        *dg = -2.0 * ps->YPPPY + ps->trPP;
        *fisher = ps->trPP;
        break;
    case EQ_ML:
        *g = ps->YPPY - ps->S1;
        *dg = -2.0 * ps->YPPPY + ps->S2;
        *fisher = ps->S2;
        break;
    case EQ_EB: /* Morris: Q k/(k-1) = k, i.e. Q = k - 1 */
        *g = ps->Q - ((double)k - 1.0);
        *dg = -ps->YPPY;
        *fisher = ps->S1 * ((double)k - 1.0) / (double)k; /* metafor's EB step scale */
        break;
    }
}

/* g and g' of the estimating equation at tau2. */
static void eq_eval(eqkind kind, const double *y, const double *v, size_t k, double tau2,
                    mp_pool_workspace *ws, double *g, double *dg, double *fisher)
{
    pstats ps;
    weights(v, k, tau2, ws->w);
    pstats_of(y, ws->w, k, &ps, kind != EQ_EB);
    eq_from(kind, &ps, k, g, dg, fisher);
}

/* The equation of `kind` on one data set, for mp_root_solve(). */
typedef struct {
    eqkind kind;
    const double *y, *v;
    size_t k;
    mp_pool_workspace *ws;
} eq_ctx;

static mp_status eq_cb(void *ctx, double x, double *g, double *dg, double *fi)
{
    const eq_ctx *c = ctx;
    eq_eval(c->kind, c->y, c->v, c->k, x, c->ws, g, dg, fi);
    return MP_OK;
}

/* Solve g(tau2) = 0 on (lo, hi) given g(lo) > 0 >= g(hi) (hi may be
 * infinite): the safeguarded Newton solve of src/models/root.c. */
static mp_status solve_eq(eqkind kind, const double *y, const double *v, size_t k, double lo,
                          double hi, double start, const mp_pool_opts *o, mp_pool_workspace *ws,
                          double *root, size_t *niter)
{
    eq_ctx c = {kind, y, v, k, ws};
    return mp_root_solve(eq_cb, &c, lo, hi, start, o->epsrel, o->maxiter, root, niter);
}

/* ---- the global maximum of the (restricted) likelihood --------------- */

/* The ML or REML score (twice the derivative of the log-likelihood) at
 * tau2 in one fused pass, from y centred at the fixed-effect mean (yc):
 * with the sums S1 = sum w, S2 = sum w^2, and the weighted moments of yc,
 * y'PPy = sum w^2 (yc - mu)^2 = sum w^2 yc^2 - 2 mu sum w^2 yc + mu^2 S2.
 * Only its sign is used (to bracket roots on the grid); the roots are then
 * solved with the exact pass (eq_eval). */
static double score_fast(eqkind kind, const double *yc, const double *v, size_t k, double t)
{
    double s1 = 0, s2 = 0, swy = 0, s2y = 0, s2yy = 0;
    for (size_t i = 0; i < k; i++) {
        double w = 1.0 / (v[i] + t), w2 = w * w;
        s1 += w;
        s2 += w2;
        swy += w * yc[i];
        s2y += w2 * yc[i];
        s2yy += w2 * yc[i] * yc[i];
    }
    double mu = swy / s1, yppy = s2yy - 2.0 * mu * s2y + mu * mu * s2;
    return kind == EQ_REML ? yppy - s1 + s2 / s1 : yppy - s1;
}

/* score_fast at m <= ML_GRID_BLOCK points t[0..m) in one pass over the
 * studies: the inner loop runs over the grid points, whose sums are
 * independent, so it vectorises and has no serial dependency chain (one
 * pass per point was latency-bound and cost the REML bench ~60%). */
#define ML_GRID_BLOCK 32
MP_CLONES
static void score_grid(eqkind kind, const double *yc, const double *v, size_t k, const double *t,
                       int m, double *g)
{
    double s1[ML_GRID_BLOCK], s2[ML_GRID_BLOCK], swy[ML_GRID_BLOCK], s2y[ML_GRID_BLOCK],
        s2yy[ML_GRID_BLOCK];
    for (int j = 0; j < m; j++) s1[j] = s2[j] = swy[j] = s2y[j] = s2yy[j] = 0.0;
    for (size_t i = 0; i < k; i++) {
        const double vi = v[i], yi = yc[i], yy = yi * yi;
        for (int j = 0; j < m; j++) {
            double w = 1.0 / (vi + t[j]), w2 = w * w;
            s1[j] += w;
            s2[j] += w2;
            swy[j] += w * yi;
            s2y[j] += w2 * yi;
            s2yy[j] += w2 * yy;
        }
    }
    for (int j = 0; j < m; j++) {
        double mu = swy[j] / s1[j], yppy = s2yy[j] - 2.0 * mu * s2y[j] + mu * mu * s2[j];
        g[j] = kind == EQ_REML ? yppy - s1[j] + s2[j] / s1[j] : yppy - s1[j];
    }
}

/* Twice the log-likelihood (ML) or restricted log-likelihood (REML) at
 * tau2, constants dropped: -sum log(v + tau2) - Q(tau2) [- log sum w]. */
static double loglik2(eqkind kind, const double *y, const double *v, size_t k, double t,
                      mp_pool_workspace *ws)
{
    pstats a;
    weights(v, k, t, ws->w);
    pstats_of(y, ws->w, k, &a, 0);
    double l = 0;
    for (size_t i = 0; i < k; i++) l -= log(v[i] + t);
    return l - a.Q - (kind == EQ_REML ? log(a.S1) : 0.0);
}

/* The grid: 0, then geometric with ratio 2 from ML_GRID_LO times the
 * smallest variance up to T.  The weights 1/(v_i + tau2) change by less
 * than 1% below 0.01 min v, so the score is all but linear on the first
 * cell; a factor of 2 between points resolves stationary points down to
 * that spacing (tests/test_numerics.c checks the result against a grid of
 * 4000 points). */
#define ML_GRID_LO 0.01
#define ML_GRID_MAX 400
#define ML_MAX_MODES 32 /* local maxima kept (more: MP_ENOCONV) */

/* ML and REML: the global maximum on [0, inf) (issue 11).  The likelihood
 * of tau2 can have a local maximum at 0 and a higher one inside, or several
 * inside, so no single start is safe.  Every stationary point lies below
 * T: for ML, with r_i the residuals (|r_i| <= R = max y - min y), the
 * score sum w_i (w_i r_i^2 - 1) is negative once tau2 >= R^2; for REML
 * (score + sum w^2 / sum w) T starts at 2 R^2 and is doubled until the
 * score there is negative.  The score's sign is taken on the grid above
 * (0, then 0.01 min v doubling up to T), each change from + to - (a local maximum)
 * is solved exactly inside its cell, 0 is a candidate when the score there
 * is not positive, and the candidate with the highest likelihood wins
 * (ties to the smaller tau2, as metafor's ll0check keeps 0). */
static mp_status ml_global(eqkind kind, const double *y, const double *v, size_t k,
                           const pstats *fe, const mp_pool_opts *o, mp_pool_workspace *ws,
                           double *tau2, size_t *niter)
{
    double g0, dg0, fi0;
    eq_from(kind, fe, k, &g0, &dg0, &fi0);
    double ymin = y[0], ymax = y[0];
    for (size_t i = 1; i < k; i++) {
        ymin = y[i] < ymin ? y[i] : ymin;
        ymax = y[i] > ymax ? y[i] : ymax;
    }
    double R = ymax - ymin, vmin = v[0], vmax = v[0];
    for (size_t i = 1; i < k; i++) {
        vmin = v[i] < vmin ? v[i] : vmin;
        vmax = v[i] > vmax ? v[i] : vmax;
    }
    *niter = 0; /* iterations of the root solves; 1 when none was needed */
    *tau2 = 0.0;
    if (!(R > 0)) { *niter = 1; return MP_OK; } /* all effects equal: the score is negative everywhere */
    double *yc = ws->a;
    for (size_t i = 0; i < k; i++) yc[i] = y[i] - fe->mu;
    double T = (kind == EQ_REML ? 2.0 : 1.0) * R * R;
    {
        /* A second bound, much smaller at large k: with S = sum (y - ybar)^2,
         * sum w^2 r^2 <= w_max Q <= w_max^2 S, sum w^2/sum w <= w_max and
         * sum w >= k/(vmax + tau2); for tau2 >= vmax (so vmin + tau2 and
         * vmax + tau2 are within 2 tau2) the score is negative once
         * 2 S < k tau2 (ML) or 2 S + 4 tau2 < k tau2 (REML, k > 4). */
        double my = 0, S = 0;
        for (size_t i = 0; i < k; i++) my += y[i];
        my /= (double)k;
        for (size_t i = 0; i < k; i++) S += (y[i] - my) * (y[i] - my);
        double d = kind == EQ_REML ? (double)k - 4.0 : (double)k;
        if (d > 0) T = fmin(T, fmax(vmax, 2.0 * S / d) * (1.0 + 1e-9));
    }
    for (int i = 0; i < 64 && !(score_fast(kind, yc, v, k, T) < 0); i++) T *= 2.0;
    if (!isfinite(T)) return MP_FAIL(MP_ENOCONV);
    double t0 = fmin(ML_GRID_LO * vmin, 0.5 * T);
    int n = 1;
    for (double tn = 2.0 * t0; n < ML_GRID_MAX && tn < T; tn *= 2.0) n++; /* t0 2^n: exact */
    /* the brackets of the local maxima: the score changes from + to - */
    double blo[ML_MAX_MODES], bhi[ML_MAX_MODES], bst[ML_MAX_MODES], prev_t = 0.0, prev_g = g0,
        t = t0;
    int nb = 0, zero = !(g0 > 0);
    for (int j0 = 0; j0 <= n; j0 += ML_GRID_BLOCK) {
        double tg[ML_GRID_BLOCK], gg[ML_GRID_BLOCK];
        int m = n + 1 - j0 < ML_GRID_BLOCK ? n + 1 - j0 : ML_GRID_BLOCK;
        for (int j = 0; j < m; j++, t *= 2.0) tg[j] = j0 + j == n ? T : t;
        score_grid(kind, yc, v, k, tg, m, gg);
        for (int j = 0; j < m; j++) {
            if (prev_g > 0 && !(gg[j] > 0)) {
                if (nb == ML_MAX_MODES) return MP_FAIL(MP_ENOCONV);
                /* start Newton where the chord through the two scores
                 * crosses zero (the HE start is not in every bracket) */
                double f = prev_g / (prev_g - gg[j]);
                blo[nb] = prev_t;
                bst[nb] = prev_t + (f > 0 && f < 1 ? f : 0.5) * (tg[j] - prev_t);
                bhi[nb++] = tg[j];
            }
            prev_t = tg[j];
            prev_g = gg[j];
        }
    }
    /* solve each inside its bracket; the likelihoods are compared only
     * when there is more than one candidate (the common case has one) */
    double best = 0.0, best_ll = zero && nb > 0 ? loglik2(kind, y, v, k, 0.0, ws) : NAN;
    int have = zero;
    mp_status st = MP_OK;
    for (int b = 0; b < nb; b++) {
        double root, lo = blo[b], hi = bhi[b];
        size_t it = 0;
        mp_status s1 = solve_eq(kind, y, v, k, lo, hi, bst[b], o, ws, &root, &it);
        *niter += it;
        if (s1 != MP_OK) { st = s1; continue; }
        if (!zero && nb == 1) { best = root; have = 1; break; }
        double ll = loglik2(kind, y, v, k, root, ws);
        if (!have || ll > best_ll) { best = root; best_ll = ll; have = 1; }
    }
    if (*niter == 0) *niter = 1;
    if (!have) return st != MP_OK ? st : MP_FAIL(MP_ENOCONV);
    *tau2 = best;
    return st; /* a stationary point that could not be solved is reported */
}

/* ---- generalised Q and Brent root finding ---------------------------- */

typedef struct {
    const double *y, *v;
    size_t k;
    double target;
    double *w;
} qgen_params;

static double qgen(const double *y, const double *v, size_t k, double tau2, double *w)
{
    if (tau2 > 1e150) {
        /* weights tau2/(v + tau2) in (1/2, 1]: 1/(v + tau2) would be
         * subnormal (and lose digits) near the top of the double range, where
         * the Q-profile search may look for a root (v <= MP_POOL_VMAX) */
        double S1 = 0, swy = 0;
        for (size_t i = 0; i < k; i++) {
            w[i] = tau2 / (v[i] + tau2);
            S1 += w[i];
            swy += w[i] * y[i];
        }
        double mu = swy / S1, Q = 0;
        for (size_t i = 0; i < k; i++) Q += w[i] * (y[i] - mu) * ((y[i] - mu) / tau2);
        return Q;
    }
    double S1 = 0, swy = 0;
    for (size_t i = 0; i < k; i++) {
        w[i] = 1.0 / (v[i] + tau2);
        S1 += w[i];
        swy += w[i] * y[i];
    }
    double mu = swy / S1, Q = 0;
    for (size_t i = 0; i < k; i++) Q += w[i] * (y[i] - mu) * (y[i] - mu);
    return Q;
}

static double qgen_fn(double tau2, void *p)
{
    qgen_params *q = p;
    return qgen(q->y, q->v, q->k, tau2, q->w) - q->target;
}

/* Root of Q(tau2) = target on [lo, hi] (Q(lo) > target > Q(hi)). */
static mp_status brent_root(mp_pool_workspace *ws, qgen_params *qp, double lo, double hi,
                            const mp_pool_opts *o, double *root, size_t *niter)
{
    gsl_function F = {qgen_fn, qp};
    if (gsl_root_fsolver_set(ws->brent, &F, lo, hi) != GSL_SUCCESS) return MP_FAIL(MP_EDOM);
    for (size_t it = 1; it <= o->maxiter; it++) {
        if (gsl_root_fsolver_iterate(ws->brent) != GSL_SUCCESS) return MP_FAIL(MP_ENOCONV);
        double a = gsl_root_fsolver_x_lower(ws->brent), b = gsl_root_fsolver_x_upper(ws->brent);
        *root = gsl_root_fsolver_root(ws->brent);
        if (niter) *niter = it;
        if (gsl_root_test_interval(a, b, DBL_MIN, o->epsrel) == GSL_SUCCESS || a == b)
            return MP_OK;
    }
    return MP_FAIL(MP_ENOCONV);
}

/* An upper bracket: double from `start` until Q(hi) < target. */
static int bracket_hi(qgen_params *qp, double start, double *hi)
{
    double h = start > 0 ? start : 1.0;
    for (int i = 0; i < 2100; i++, h *= 2) {
        if (!isfinite(h)) return -1;
        if (qgen_fn(h, qp) < 0) { *hi = h; return 0; }
    }
    return -1;
}

/* ---- the fit ---------------------------------------------------------- */

static double sq(double x) { return x * x; }

/* Chi-square quantiles of the Q-profile CI, remembered in the workspace
 * like the t quantile (mp_qchisq_* may refine GSL's value by root search). */
static void chisq_crits(mp_pool_workspace *ws, double half_alpha, double df, double *cu, double *cl)
{
    if (!(ws->c_alpha == half_alpha && ws->c_df == df)) {
        ws->c_upper = mp_qchisq_upper(half_alpha, df);
        ws->c_lower = mp_qchisq_lower(half_alpha, df);
        ws->c_alpha = half_alpha;
        ws->c_df = df;
    }
    *cu = ws->c_upper;
    *cl = ws->c_lower;
}

/* The root of Q(tau2) = target above 0, given Q(0) > target (Q decreases
 * in tau2).  The bracket starts at metafor's search limit max(100, 10 tau2)
 * and doubles until Q falls below the target, up to the largest double:
 * the bound is a root, not the end of a search range (issue 11).  *limit
 * is set (and DBL_MAX returned) only when Q(DBL_MAX) is still above the
 * target: no root in the range of a double. */
static mp_status qprofile_root(mp_pool_workspace *ws, qgen_params *qp, double start,
                               const mp_pool_opts *o, double *root, int *limit)
{
    double lo = 0.0, hi = start;
    *limit = 0;
    for (;;) {
        double f = qgen_fn(hi, qp);
        if (f != f) return MP_FAIL(MP_ENOCONV);
        if (f == 0) { *root = hi; return MP_OK; }
        if (f < 0) break;
        if (hi == DBL_MAX) { *root = DBL_MAX; *limit = 1; return MP_OK; }
        lo = hi;
        hi = hi > DBL_MAX / 2 ? DBL_MAX : 2.0 * hi;
    }
    return brent_root(ws, qp, lo, hi, o, root, NULL);
}

/* Q-profile CI for tau2 (Viechtbauer 2007; metafor confint.rma.uni): the
 * roots of Q(tau2) = chi2 upper and lower alpha/2 quantiles with k - 1 df.
 * Where Q(0) is below the upper quantile the lower bound is 0 (the
 * parameter's boundary, no root above it); where Q(0) is below the lower
 * quantile the interval is empty: both bounds 0 and both limit flags set
 * (metafor's ci.null, printed "<0" on both sides). */
static void tau2_qprofile(const double *y, const double *v, size_t k, const mp_pool_opts *o,
                          mp_pool_workspace *ws, mp_pool_result *r)
{
    double alpha = 1.0 - o->level / 100.0, df = (double)k - 1.0, crit_u, crit_l;
    chisq_crits(ws, alpha / 2.0, df, &crit_u, &crit_l);
    double start = fmax(100.0, 10.0 * r->tau2);
    qgen_params qp = {y, v, k, 0, ws->w};
    double q0 = qgen(y, v, k, 0.0, ws->w);
    double lb = NAN, ub = NAN;
    if (!isfinite(crit_u) || !isfinite(crit_l)) {
        r->warn |= MP_WARN_TAU2_CI_LB | MP_WARN_TAU2_CI_UB;
    } else if (q0 < crit_l) {
        lb = ub = 0.0; /* the interval is the null set; metafor prints <0, <0 */
        r->tau2_ci_lb_limit = r->tau2_ci_ub_limit = 1;
    } else {
        qp.target = crit_l;
        if (qprofile_root(ws, &qp, start, o, &ub, &r->tau2_ci_ub_limit) != MP_OK) {
            ub = NAN;
            r->warn |= MP_WARN_TAU2_CI_UB;
        }
        if (q0 < crit_u) {
            lb = 0.0;
        } else {
            qp.target = crit_u;
            if (qprofile_root(ws, &qp, start, o, &lb, &r->tau2_ci_lb_limit) != MP_OK) {
                lb = NAN;
                r->warn |= MP_WARN_TAU2_CI_LB;
            }
        }
    }
    r->tau2_ci_lb = lb;
    r->tau2_ci_ub = ub;
    r->I2_ci_lb = 100.0 * (lb / (r->vt + lb)); /* no overflow for lb = DBL_MAX */
    r->I2_ci_ub = 100.0 * (ub / (r->vt + ub));
    r->H2_ci_lb = lb / r->vt + 1.0;
    r->H2_ci_ub = ub / r->vt + 1.0;
}

static void set_nan(mp_pool_result *r)
{
    r->estimate = r->se = r->stat = r->df = r->pval = NAN;
    r->ci_lb = r->ci_ub = r->pi_lb = r->pi_ub = NAN;
    r->tau2 = r->tau2_se = r->tau2_ci_lb = r->tau2_ci_ub = r->tau = NAN;
    r->I2 = r->I2_ci_lb = r->I2_ci_ub = r->H2 = r->H2_ci_lb = r->H2_ci_ub = NAN;
    r->Q = r->Q_df = r->Q_pval = r->vt = r->sum_w = NAN;
}

/* Fit one analysis with workspace ws (ws->kmax >= k). */
/* Step 1 of a fit: options in range, every y finite and |y| <= MP_POOL_YMAX,
 * MP_POOL_VMIN <= v <= MP_POOL_VMAX (one pass without branches). */
static mp_status check_fit_inputs(const double *y, const double *v, size_t k,
                                  const mp_pool_opts *o, const mp_pool_workspace *ws)
{
    if (k == 0) return MP_FAIL(MP_ETOOFEW);
    if (k > ws->kmax) return MP_FAIL(MP_EINVAL);
    if (!(o->level > 0 && o->level < 100) || !(o->epsrel > 0 && o->epsrel < 1) || o->maxiter == 0)
        return MP_FAIL(MP_EINVAL);
    int bad = 0;
    for (size_t i = 0; i < k; i++)
        bad |= !(fabs(y[i]) <= MP_POOL_YMAX) | !(v[i] >= MP_POOL_VMIN) | !(v[i] <= MP_POOL_VMAX);
    return bad ? MP_FAIL(MP_EDOM) : MP_OK;
}

/* Sidik-Jonkman: tau0^2 = sum (y - ybar)^2 / k, then tau0^2 Q(tau0^2)/(k-1);
 * *se2 its variance as metafor computes it,
 * tau0^4/(k-1)^2 (2 tr(PVPV) + 4 tau2 tr(PVP) + 2 tau2^2 tr(PP)). */
static double tau2_sj(const double *y, const double *v, size_t k, mp_pool_workspace *ws,
                      double *se2)
{
    const double kk = (double)k, df = kk - 1.0;
    double *w = ws->w;
    double my = 0, s = 0;
    for (size_t i = 0; i < k; i++) my += y[i];
    my /= kk;
    for (size_t i = 0; i < k; i++) s += sq(y[i] - my);
    double t0 = s / kk;
    if (!(t0 > 0)) { *se2 = 0.0; return 0.0; } /* metafor: tau0^2 (...) = 0 */
    pstats ps;
    weights(v, k, t0, w);
    pstats_of(y, w, k, &ps, 1);
    double tau2 = t0 * ps.Q / df;
    double *a = ws->a;
    for (size_t i = 0; i < k; i++) a[i] = w[i] * w[i] * v[i];
    xsum sw = xsum_of(w, k), sa = xsum_of(a, k);
    double S1 = sw.total, trPVPV = 0, trPPV = 0;
    /* second pass needs w^2 too: store it after using a */
    for (size_t i = 0; i < k; i++) {
        double pii = w[i] * sum_except(&sw, w, i) / S1;
        trPVPV += pii * pii * v[i] * v[i] + a[i] * sum_except(&sa, a, i) / (S1 * S1);
    }
    for (size_t i = 0; i < k; i++) a[i] = w[i] * w[i];
    xsum s2 = xsum_of(a, k);
    for (size_t i = 0; i < k; i++) {
        double pii = w[i] * sum_except(&sw, w, i) / S1;
        trPPV += (pii * pii + a[i] * sum_except(&s2, a, i) / (S1 * S1)) * v[i];
    }
    double t = fmax(tau2, 0.0);
    *se2 = t0 * t0 / (df * df) * (2.0 * trPVPV + 4.0 * t * trPPV + 2.0 * t * t * ps.trPP);
    return tau2;
}

/* Step 2: tau^2 by the estimator o->method (k > 1, not FE), from the FE
 * quantities fe; *se2 the variance for HE and SJ (NaN otherwise).  Negative
 * closed forms are truncated at 0 (MP_WARN_TRUNC). */
static mp_status estimate_tau2(const double *y, const double *v, size_t k, const pstats *fe,
                               const mp_pool_opts *o, mp_pool_workspace *ws, mp_pool_result *r,
                               double *tau2_out, double *se2)
{
    const double kk = (double)k, df = kk - 1.0;
    mp_status st = MP_OK;
    double tau2 = 0.0;
    *se2 = NAN;
    switch (o->method) {
    case MP_METHOD_DL: tau2 = (fe->Q - df) / fe->trP; break;
    case MP_METHOD_HS: tau2 = (fe->Q - kk) / fe->S1; break;
    case MP_METHOD_HSK: tau2 = (kk / df * fe->Q - kk) / fe->S1; break;
    case MP_METHOD_HE: {
        double trPVPV, trPV;
        tau2 = tau2_he(y, v, k, &trPVPV, &trPV);
        double t = fmax(tau2, 0.0);
        *se2 = (2.0 * trPVPV + 4.0 * t * trPV + 2.0 * t * t * df) / (df * df);
        break;
    }
    case MP_METHOD_SJ: tau2 = tau2_sj(y, v, k, ws, se2); break;
    case MP_METHOD_REML:
    case MP_METHOD_ML:
        st = ml_global(o->method == MP_METHOD_REML ? EQ_REML : EQ_ML, y, v, k, fe, o, ws, &tau2,
                       &r->niter);
        break;
    case MP_METHOD_EB: {
        /* Morris's equation Q(tau2) = k - 1: the generalised Q decreases
         * strictly in tau2, so there is at most one root (no grid) */
        double trPVPV, trPV, g0, dg, fi;
        double start = fmax(0.0, tau2_he(y, v, k, &trPVPV, &trPV));
        eq_from(EQ_EB, fe, k, &g0, &dg, &fi);
        if (g0 > 0) {
            st = solve_eq(EQ_EB, y, v, k, 0.0, INFINITY, start, o, ws, &tau2, &r->niter);
        } else {
            tau2 = 0.0;
            r->niter = 1;
        }
        break;
    }
    case MP_METHOD_PM: {
        qgen_params qp = {y, v, k, df, ws->w};
        if (fe->Q <= df) break;
        double hi;
        if (bracket_hi(&qp, fmax(100.0, 10.0 * fmax(0.0, (fe->Q - df) / fe->trP)), &hi) != 0) {
            st = MP_FAIL(MP_ENOCONV);
            break;
        }
        st = brent_root(ws, &qp, 0.0, hi, o, &tau2, &r->niter);
        break;
    }
    default: return MP_FAIL(MP_EINVAL);
    }
    if (st != MP_OK) r->converged = 0;
    if (tau2 < 0) { tau2 = 0.0; r->warn |= MP_WARN_TRUNC; }
    *tau2_out = tau2;
    return st;
}

/* Step 4: the SE of tau^2 as metafor computes it for each estimator, and
 * I^2, H^2 (FE: from Q; otherwise from tau^2 and the typical variance). */
static void heterogeneity(const pstats *fe, const pstats *ps, size_t k, mp_method m, double tau2,
                          double se2, mp_pool_result *r)
{
    const double kk = (double)k, df = kk - 1.0, t = tau2;
    switch (m) {
    case MP_METHOD_FE: break;
    case MP_METHOD_DL:
        r->tau2_se = sqrt(2.0 * df + 4.0 * t * fe->trP + 2.0 * t * t * fe->trPP) / fe->trP;
        break;
    case MP_METHOD_HS:
        r->tau2_se = sqrt(2.0 * df + 4.0 * t * fe->trP + 2.0 * t * t * fe->trPP) / fe->S1;
        break;
    case MP_METHOD_HSK:
        r->tau2_se = kk / df * sqrt(2.0 * df + 4.0 * t * fe->trP + 2.0 * t * t * fe->trPP) / fe->S1;
        break;
    case MP_METHOD_HE:
    case MP_METHOD_SJ: r->tau2_se = sqrt(se2); break;
    case MP_METHOD_ML: r->tau2_se = sqrt(2.0 / ps->S2); break;
    case MP_METHOD_REML: r->tau2_se = sqrt(2.0 / ps->trPP); break;
    case MP_METHOD_EB:
    case MP_METHOD_PM: r->tau2_se = sqrt(2.0 * kk * kk / df) / ps->S1; break;
    default: break;
    }
    if (m == MP_METHOD_FE) {
        r->I2 = fe->Q > 0 ? fmax(0.0, 100.0 * (fe->Q - df) / fe->Q) : 0.0;
        r->H2 = fe->Q / df;
    } else {
        r->I2 = 100.0 * tau2 / (r->vt + tau2);
        r->H2 = tau2 / r->vt + 1.0;
    }
}

/* Step 5: the test and intervals of the pooled estimate (z, or the
 * Hartung-Knapp-Sidik-Jonkman t on k - 1 df), the prediction interval and
 * the Q-profile CI of tau^2. */
static void test_and_intervals(const double *y, const double *v, size_t k, const pstats *ps,
                               double tau2, const mp_pool_opts *o, mp_pool_workspace *ws,
                               mp_pool_result *r)
{
    const double df = (double)k - 1.0;
    const mp_method m = o->method;
    double alpha = 1.0 - o->level / 100.0, crit, se = 1.0 / sqrt(ps->S1);
    if (o->test == MP_TEST_KNHA && k == 1) {
        /* no residual df: metafor sets test = "z" with a warning */
        r->test = MP_TEST_Z;
        r->warn |= MP_WARN_KNHA_K1;
    }
    if (r->test == MP_TEST_KNHA) {
        if (m == MP_METHOD_FE) r->warn |= MP_WARN_FE_KNHA;
        double s2w = ps->Q <= DBL_EPSILON ? 0.0 : ps->Q / df;
        se *= sqrt(s2w);
        r->df = df;
        crit = t_quantile(ws, alpha / 2.0, df);
        r->stat = r->estimate / se;
        r->pval = 2.0 * gsl_cdf_tdist_Q(fabs(r->stat), df);
    } else {
        crit = z_quantile(ws, alpha / 2.0);
        r->stat = r->estimate / se;
        r->pval = 2.0 * gsl_cdf_ugaussian_Q(fabs(r->stat));
    }
    r->se = se;
    r->ci_lb = r->estimate - crit * se;
    r->ci_ub = r->estimate + crit * se;
    if (m != MP_METHOD_FE) {
        double pse = sqrt(se * se + tau2);
        r->pi_lb = r->estimate - crit * pse;
        r->pi_ub = r->estimate + crit * pse;
        if (o->tau2_ci && k > 1) tau2_qprofile(y, v, k, o, ws, r);
    }
}

/* One fit: inputs checked, heterogeneity under the FE weights, tau^2 by the
 * estimator, the pooled estimate under weights 1/(v + tau^2), tau^2's SE,
 * I^2 and H^2, the test and the intervals. */
static mp_status fit(const double *y, const double *v, size_t k, const mp_pool_opts *o,
                     mp_pool_workspace *ws, mp_pool_result *r)
{
    memset(r, 0, sizeof *r);
    set_nan(r);
    r->k = k;
    r->method = o->method;
    r->test = o->test;
    r->level = o->level;
    r->converged = 1;
    mp_status st = check_fit_inputs(y, v, k, o, ws);
    if (st != MP_OK) return st;
    const double df = (double)k - 1.0;
    double *w = ws->w;

    /* Step 1b: heterogeneity under the FE weights: Q, vt and the FE projector traces */
    pstats fe;
    weights(v, k, 0.0, w);
    pstats_of(y, w, k, &fe, 1);
    if (k > 1) {
        r->Q = fe.Q;
        r->Q_df = df;
        r->Q_pval = mp_pchisq_upper(fe.Q, df);
        r->vt = df / fe.trP;
    } else {
        r->warn |= MP_WARN_K1;
    }
    double tau2 = 0.0, se2 = NAN;
    if (k > 1 && o->method != MP_METHOD_FE) {
        st = estimate_tau2(y, v, k, &fe, o, ws, r, &tau2, &se2);
        if (st == MP_EINVAL) return st;
    }

    /* Step 3: the pooled estimate under weights 1/(v + tau2) */
    pstats ps;
    if (tau2 == 0.0) {
        ps = fe; /* the FE weights again: same quantities */
    } else {
        weights(v, k, tau2, w);
        pstats_of(y, w, k, &ps, 1);
    }
    r->tau2 = tau2;
    r->tau = sqrt(tau2);
    r->sum_w = ps.S1;
    r->estimate = ps.mu;
    if (k > 1) heterogeneity(&fe, &ps, k, o->method, tau2, se2, r);
    test_and_intervals(y, v, k, &ps, tau2, o, ws, r);
    /* Inside the supported range a sum can still overflow (the knha scale
     * sum w (y - mu)^2 with w near 1/MP_POOL_VMIN): such a fit is reported,
     * not returned as a number (found by fuzzing, tests/fuzz/regressions). */
    if (st == MP_OK && !(isfinite(r->se) && isfinite(r->ci_lb) && isfinite(r->ci_ub)))
        st = MP_FAIL(MP_EDOM);
    return st;
}

mp_status mp_pool(const double *y, const double *v, size_t k, const mp_pool_opts *o,
                  mp_pool_workspace *w, mp_pool_result *res)
{
    mp_pool_opts def;
    if (!o) { mp_pool_opts_init(&def); o = &def; }
    if (!y || !v || !res) return MP_FAIL(MP_EINVAL);
    mp_pool_workspace *own = NULL;
    if (!w || w->kmax < k) {
        own = mp_pool_workspace_alloc(k);
        if (!own) return MP_FAIL(MP_ENOMEM);
        w = own;
    }
    mp_status s = fit(y, v, k, o, w, res);
    mp_pool_workspace_free(own);
    return s;
}

mp_status mp_pool_many(const double *y, const double *v, const size_t *off, size_t n,
                       const mp_pool_opts *o, mp_pool_workspace *w, mp_pool_result *res,
                       mp_status *status)
{
    mp_pool_opts def;
    if (!o) { mp_pool_opts_init(&def); o = &def; }
    if (!y || !v || !off || !res) return MP_FAIL(MP_EINVAL);
    size_t kmax = 0;
    for (size_t a = 0; a < n; a++) {
        if (off[a + 1] < off[a]) return MP_FAIL(MP_EINVAL);
        if (off[a + 1] - off[a] > kmax) kmax = off[a + 1] - off[a];
    }
    mp_pool_workspace *own = NULL;
    if (!w || w->kmax < kmax) {
        own = mp_pool_workspace_alloc(kmax);
        if (!own) return MP_FAIL(MP_ENOMEM);
        w = own;
    }
    mp_status first = MP_OK;
    for (size_t a = 0; a < n; a++) {
        mp_status s = fit(y + off[a], v + off[a], off[a + 1] - off[a], o, w, &res[a]);
        if (status) status[a] = s;
        if (s != MP_OK && first == MP_OK) first = s;
    }
    mp_pool_workspace_free(own);
    return first;
}

void mp_pool_weights(const double *v, size_t k, double tau2, double *weight)
{
    double s = 0;
    for (size_t i = 0; i < k; i++) s += 1.0 / (v[i] + tau2);
    for (size_t i = 0; i < k; i++) weight[i] = 100.0 / (v[i] + tau2) / s;
}

mp_status mp_pool_subgroup_test(const double *est, const double *se, size_t n, double *Q,
                                double *df, double *pval)
{
    if (n < 2) return MP_FAIL(MP_ETOOFEW);
    double sw = 0, swy = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(est[i]) || !(se[i] > 0)) return MP_FAIL(MP_EDOM);
        double w = 1.0 / (se[i] * se[i]);
        sw += w;
        swy += w * est[i];
    }
    double mu = swy / sw, q = 0;
    for (size_t i = 0; i < n; i++) q += sq(est[i] - mu) / (se[i] * se[i]);
    *Q = q;
    *df = (double)n - 1.0;
    *pval = mp_pchisq_upper(q, *df);
    return MP_OK;
}
