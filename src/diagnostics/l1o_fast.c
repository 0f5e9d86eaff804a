/* src/diagnostics/l1o_fast.c - leave-one-out refits in O(1) each: downdated power sums and their Taylor series in tau2.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every quantity pool.c needs for a fit of the intercept-only model at
 * between-study variance t is a function of the power sums
 *     S(m, n; t) = sum_j w_j(t)^m c_j^n,   w_j(t) = 1/(v_j + t),
 * m = 1..3, n = 0..2, with c = y - c0 centred (pool.c, "Quantities of the
 * intercept-only model"): S1 = S(1,0), mu = c0 + S(1,1)/S1, Q = sum w (c -
 * mu')^2, YPPY, YPPPY, tr P = S1 - S2/S1, tr PP = S2 - 2 S3/S1 + S2^2/S1^2.
 * Leaving study i out subtracts its term from each sum.  The refits' tau2
 * differ from the full fit's t0 by little (O(1/k) in large data sets), so
 * the sums at t = t0 + d come from their Taylor series around t0:
 *     w^m (t0 + d) = w^m (1 + d w)^-m = sum_r C(m+r-1, r) (-d)^r w^(m+r),
 * which needs the sums T(q, n) = sum_j w_j(t0)^q c_j^n for q up to 3 + R.
 * The series converges for rho = |d| max_j w_j < 1; its remainder after R
 * terms is below C(m+R, R+1) rho^(R+1) / (1 - rho) relative to S(m, |n|), and
 * R is chosen per evaluation so that this is below 1e-17.  A refit whose
 * rho exceeds RHO_MAX, whose estimating equation is not positive at 0 (a
 * root at or near 0, or two modes: pool.c's special cases), or with one
 * study left (k = 2) is not done here: the caller fits those exactly.
 *
 * Precision.  The sums are scaled by the largest weight (u = w / w_max <=
 * 1, no overflow at any q).  Downdating a sum by its largest term would
 * cancel, so for the study with the largest weight the sums of the others
 * are summed directly; for any other study the removed term is at most
 * half of what remains (the largest term stays), so nothing cancels.  The
 * sums with n = 1 are signed; their error is relative to sum |.|, which
 * enters mu' only as an absolute shift.  The centred sums of squares come
 * from sum w^m c^2 - 2 mu sum w^m c + mu^2 sum w^m, which loses the digits
 * of kappa = sum w^m c^2 / sum w^m (c - mu)^2 (c centred at the full fit's
 * mean, not the refit's); a refit with kappa > KAPPA_MAX = 1e4 is left to
 * the exact path.  Refits match the exact ones to ~1e-12 relative
 * (tests/test_sensitivity.c compares every one with mp_pool()).
 *
 * The root is found by the safeguarded Newton iteration of pool.c
 * (solve_eq) started at t0, with the same stopping rule.
 *
 * The global maximum (issue 11, items 2 and 9).  pool.c's ML/REML fit
 * returns the global maximum of the (restricted) likelihood on [0, inf):
 * it takes the score's sign on a grid in tau2 and solves every local
 * maximum (ml_global).  Newton from t0 finds the root nearest the full
 * fit's tau2, which can be a mere local maximum when a refit's likelihood
 * has more than one (tests/test_sensitivity.c, test_leave1out_fast_global,
 * has such data: without this guard the fast path returned tau2 = 1.89
 * where mp_pool() finds 0.00034 with a higher likelihood).  So every
 * ML/REML refit is guarded: the score's sign is taken on a grid at least
 * as fine as pool.c's (0, then ratio sqrt 2 from 0.01 times the smallest
 * variance of all studies, which is at most the subset's, up to 4 times
 * the full data's top T, which bounds the subsets' for ML; pool.c uses
 * ratio 2 from 0.01 times the subset's smallest variance), for all refits
 * at once:
 * the sums the score needs at each grid point are summed once over all
 * studies (O(k G)) and study i's terms subtracted (O(G) per refit).  A
 * refit is kept on the fast path only when its score is positive at 0,
 * changes sign exactly once on the grid (+ to -), is negative at the top,
 * and the fast root lies in that cell: then its likelihood has one local
 * maximum on the grid, which is the fast root.  Every other refit (two
 * maxima, a sign not trusted because |score| is within its rounding bound
 * computed from the undowndated sums, a non-finite sum) goes to the exact
 * path.  See grid_build and grid_ok. */
#include "sens_internal.h"

#include <float.h>
#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define RMAX 28              /* most Taylor terms */
#define QMAX (3 + RMAX + 1)  /* highest power of w kept */
#define RHO_MAX 0.25         /* largest |d| w_max expanded */
#define KAPPA_MAX 1e4        /* largest cancellation factor accepted (see stats_of) */

typedef struct {
    size_t k, imax;
    double c0, wmax, wmax2;   /* centre; largest and second largest w(t0) */
    double t0;
    double *u;                /* u_j = w_j(t0) / wmax */
    double *c;                /* c_j = y_j - c0 */
    double T[QMAX + 1][3];    /* sum_j u^q c^n, all j */
    double Tx[QMAX + 1][3];   /* the same without imax */
    /* fixed-effect (t = 0) sums, scaled by their own largest weight */
    size_t fimax;
    double fmax, fmax2;       /* largest and second largest 1/v */
    double F[4][3], Fx[4][3];
    double *fu;               /* 1/v_j / fmax */
    const struct l1o_grid *grid; /* ML/REML: the global-maximum guard (NULL: none) */
} l1o_sums;

/* binomial coefficients C(m + r - 1, r) for m = 1..3 */
static double binom(int m, int r)
{
    switch (m) {
    case 1: return 1.0;
    case 2: return (double)(r + 1);
    default: return 0.5 * (double)(r + 1) * (double)(r + 2);
    }
}

/* Power sums of the refit without i at t0 + d: S[m][n], m = 1..3.
 * Returns 0, or -1 when the series is not accurate enough (rho too big). */
static int sums_at(const l1o_sums *s, size_t i, double d, double S[4][3])
{
    double wm = i == s->imax ? s->wmax2 : s->wmax, rho = fabs(d) * wm;
    if (!(rho <= RHO_MAX)) return -1;
    /* without the largest weight the scaled sums are at most (wmax2/wmax)^q:
     * beyond a ratio of 1e-60 their powers would underflow */
    if (i == s->imax && !(s->wmax2 >= 1e-60 * s->wmax)) return -1;
    int R = 0;
    if (rho > 0) { /* smallest R with C(R+3, R+1) rho^(R+1) / (1 - rho) <= 1e-17 */
        double rp = rho;
        for (R = 0; R <= RMAX; R++, rp *= rho)
            if (0.5 * (double)(R + 2) * (double)(R + 3) * rp / (1.0 - rho) <= 1e-17) break;
        if (R > RMAX) return -1;
    }
    const double (*T)[3] = i == s->imax ? (const double (*)[3])s->Tx : (const double (*)[3])s->T;
    int sub = i != s->imax;
    double ui = s->u[i], ci = s->c[i], x = -d * s->wmax;
    /* T(q, n) of the refit, q = 1..3 + R */
    double Tq[QMAX + 1][3];
    double uq = 1.0;
    for (int q = 1; q <= 3 + R; q++) {
        uq *= ui;
        for (int n = 0; n < 3; n++) {
            double term = n == 0 ? uq : n == 1 ? uq * ci : uq * ci * ci;
            Tq[q][n] = T[q][n] - (sub ? term : 0.0);
        }
    }
    for (int m = 1; m <= 3; m++) {
        double scale = m == 1 ? s->wmax : m == 2 ? s->wmax * s->wmax : s->wmax * s->wmax * s->wmax;
        for (int n = 0; n < 3; n++) {
            /* Horner in x over r = R..0 */
            double acc = 0;
            for (int r = R; r >= 0; r--) acc = acc * x + binom(m, r) * Tq[m + r][n];
            S[m][n] = acc * scale;
        }
    }
    return 0;
}

/* The fixed-effect sums of the refit without i (exact downdates). */
static void fe_sums(const l1o_sums *s, size_t i, double S[4][3])
{
    const double (*F)[3] = i == s->fimax ? (const double (*)[3])s->Fx : (const double (*)[3])s->F;
    int sub = i != s->fimax;
    double ui = s->fu[i], ci = s->c[i], uq = 1.0, scale = 1.0;
    for (int m = 1; m <= 3; m++) {
        uq *= ui;
        scale *= s->fmax;
        for (int n = 0; n < 3; n++) {
            double term = n == 0 ? uq : n == 1 ? uq * ci : uq * ci * ci;
            S[m][n] = (F[m][n] - (sub ? term : 0.0)) * scale;
        }
    }
}

/* pool.c's pstats from power sums (centred: mu here is the offset from c0). */
typedef struct {
    double S1, S2, mu, Q, YPPY, YPPPY, trP, trPP;
    double kappa; /* cancellation factor of the centred sums (1 = none) */
} qstats;

static qstats stats_of(double S[4][3])
{
    qstats q;
    q.S1 = S[1][0];
    q.S2 = S[2][0];
    q.mu = S[1][1] / S[1][0];
    double mu = q.mu;
    q.Q = fmax(0.0, S[1][2] - mu * S[1][1]);
    q.YPPY = fmax(0.0, S[2][2] - 2.0 * mu * S[2][1] + mu * mu * S[2][0]);
    double swe = S[2][1] - mu * S[2][0], swee = fmax(0.0, S[3][2] - 2.0 * mu * S[3][1] + mu * mu * S[3][0]);
    q.YPPPY = swee - swe * swe / q.S1;
    q.trP = q.S1 - q.S2 / q.S1;
    q.trPP = q.S2 - 2.0 * S[3][0] / q.S1 + q.S2 * q.S2 / (q.S1 * q.S1);
    /* sum w^m (c - mu)^2 from sum w^m c^2 loses the digits of their ratio
     * (c is centred at the full fit's mean, not the refit's) */
    q.kappa = fmax(fmax(S[1][2] / q.Q, S[2][2] / q.YPPY), S[3][2] / swee);
    if (!(q.kappa >= 1.0)) q.kappa = q.Q == 0 || q.YPPY == 0 || swee == 0 ? INFINITY : 1.0;
    return q;
}

static void build(l1o_sums *s, const double *y, const double *v, size_t k, double t0,
                  double *u, double *c, double *fu)
{
    memset(s, 0, sizeof *s);
    s->k = k;
    s->t0 = t0;
    s->u = u;
    s->c = c;
    s->fu = fu;
    /* centre: the weighted mean at t0 */
    double sw = 0, swy = 0;
    for (size_t j = 0; j < k; j++) {
        double w = 1.0 / (v[j] + t0);
        sw += w;
        swy += w * y[j];
        if (w > s->wmax) { s->wmax2 = s->wmax; s->wmax = w; s->imax = j; }
        else if (w > s->wmax2) s->wmax2 = w;
    }
    s->c0 = swy / sw;
    double fm = 0;
    for (size_t j = 0; j < k; j++) {
        c[j] = y[j] - s->c0;
        u[j] = 1.0 / (v[j] + t0) / s->wmax;
        double f = 1.0 / v[j];
        if (f > fm) { s->fmax2 = fm; fm = f; s->fimax = j; }
        else if (f > s->fmax2) s->fmax2 = f;
    }
    s->fmax = fm;
    for (size_t j = 0; j < k; j++) {
        fu[j] = 1.0 / v[j] / fm;
        double uq = 1.0;
        for (int q = 1; q <= QMAX; q++) {
            uq *= u[j];
            double t[3] = {uq, uq * c[j], uq * c[j] * c[j]};
            for (int n = 0; n < 3; n++) {
                s->T[q][n] += t[n];
                if (j != s->imax) s->Tx[q][n] += t[n];
            }
        }
        double fq = 1.0;
        for (int q = 1; q <= 3; q++) {
            fq *= fu[j];
            double t[3] = {fq, fq * c[j], fq * c[j] * c[j]};
            for (int n = 0; n < 3; n++) {
                s->F[q][n] += t[n];
                if (j != s->fimax) s->Fx[q][n] += t[n];
            }
        }
    }
}

typedef enum { EQ_REML, EQ_ML, EQ_EB } eqkind;

/* ---- the global-maximum guard (see the file header) -------------------- */

#define GRID_MAX 1200
#define GRID_RATIO 1.4142135623730951 /* sqrt 2 */ /* most grid points; beyond, every ML/REML refit is exact */

/* The score's sums at each grid point t_j over all studies, with the
 * weights scaled by the smallest variance (u = vmin / (v + t) <= 1, so no
 * sum overflows) and c = y - c0:
 *     U1 = sum u, U2 = sum u^2, A = sum u c, B = sum u^2 c, C = sum u^2 c^2,
 * and Aa = sum u |c|, Ba = sum u^2 |c| for the rounding bounds.  For the
 * refit without i (its sums minus study i's terms, mu = A / U1):
 *     vmin^2 y'PPy = C - 2 mu B + mu^2 U2,
 *     vmin^2 score = vmin^2 y'PPy - vmin U1          (ML)
 *                  = vmin^2 y'PPy - vmin (U1 - U2 / U1)   (REML),
 * the score of pool.c (twice the derivative of the log-likelihood) times
 * vmin^2 > 0, so the same sign. */
typedef struct l1o_grid {
    int G;                    /* points t[0] = 0 < t[1] < ... < t[G-1] */
    eqkind kind;
    double vmin, cerr;        /* cerr: relative rounding bound of a sum of k terms */
    double *t, *U1, *U2, *A, *B, *C, *Aa, *Ba;
} l1o_grid;

/* vmin^2 times the ML/REML score from the sums (scaled as above). */
static double grid_score(eqkind kind, double vmin, double U1, double U2, double A, double B,
                         double C)
{
    double mu = A / U1, yppy = C - 2.0 * mu * B + mu * mu * U2;
    return kind == EQ_REML ? yppy - vmin * (U1 - U2 / U1) : yppy - vmin * U1;
}

/* The full-data score at one t (for the top of the grid). */
static double full_score(eqkind kind, const double *c, const double *v, size_t k, double vmin,
                         double t)
{
    double U1 = 0, U2 = 0, A = 0, B = 0, C = 0;
    for (size_t j = 0; j < k; j++) {
        double u = vmin / (v[j] + t), u2 = u * u;
        U1 += u;
        U2 += u2;
        A += u * c[j];
        B += u2 * c[j];
        C += u2 * c[j] * c[j];
    }
    return grid_score(kind, vmin, U1, U2, A, B, C);
}

/* The grid and its sums.  Top: pool.c's T for the full data (R^2 for ML,
 * 2 R^2 doubled until the score is negative for REML, R = max y - min y,
 * which bounds every subset's R), times 4; a refit whose score is not
 * negative at the top is sent to the exact path.  Bottom: 0, then
 * 0.01 min v (at most pool.c's first point of any subset), ratio sqrt 2.
 * g->G = 0 (no guard: every ML/REML refit exact) when the grid would be
 * too long or the data degenerate.  Returns -1 on allocation failure. */
static int grid_build(l1o_grid *g, eqkind kind, const double *y, const double *c,
                      const double *v, size_t k)
{
    memset(g, 0, sizeof *g);
    g->kind = kind;
    double ymin = y[0], ymax = y[0], vmin = v[0];
    for (size_t j = 1; j < k; j++) {
        ymin = fmin(ymin, y[j]);
        ymax = fmax(ymax, y[j]);
        vmin = fmin(vmin, v[j]);
    }
    double R = ymax - ymin;
    if (!(R > 0) || !(vmin > 0) || !isfinite(R * R)) return 0;
    g->vmin = vmin;
    double T = (kind == EQ_REML ? 2.0 : 1.0) * R * R;
    if (kind == EQ_REML)
        for (int it = 0; it < 64 && !(full_score(kind, c, v, k, vmin, T) < 0); it++) T *= 2.0;
    T *= 4.0;
    if (!isfinite(T)) return 0;
    int G = 2;
    for (double t = 0.01 * vmin; t < T && G <= GRID_MAX; t *= GRID_RATIO) G++;
    if (G > GRID_MAX) return 0;
    double *mem = calloc((size_t)G * 8, sizeof *mem);
    if (!mem) return -1;
    g->t = mem;
    g->U1 = mem + G;
    g->U2 = mem + 2 * G;
    g->A = mem + 3 * G;
    g->B = mem + 4 * G;
    g->C = mem + 5 * G;
    g->Aa = mem + 6 * G;
    g->Ba = mem + 7 * G;
    g->t[0] = 0.0;
    double t = 0.01 * vmin;
    for (int j = 1; j < G - 1; j++, t *= GRID_RATIO) g->t[j] = t;
    g->t[G - 1] = fmax(T, g->t[G - 2] * GRID_RATIO);
    for (size_t i = 0; i < k; i++) {
        const double vi = v[i], ci = c[i], ai = fabs(ci);
        for (int j = 0; j < G; j++) {
            double u = vmin / (vi + g->t[j]), u2 = u * u;
            g->U1[j] += u;
            g->U2[j] += u2;
            g->A[j] += u * ci;
            g->B[j] += u2 * ci;
            g->C[j] += u2 * ci * ci;
            g->Aa[j] += u * ai;
            g->Ba[j] += u2 * ai;
        }
    }
    /* recursive summation of k terms: error <= (k - 1) eps sum |terms|;
     * the downdate adds one rounding, the score's formula a few more */
    g->cerr = ((double)k + 16.0) * DBL_EPSILON;
    g->G = G;
    return 0;
}

/* 1 when the refit without i has one local maximum on the grid and the
 * fast root `root` lies in its cell; 0 sends the refit to the exact path. */
static int grid_ok(const l1o_grid *g, const double *v, const double *c, size_t i, double root)
{
    if (!g || g->G == 0) return 0;
    const double vmin = g->vmin, vi = v[i], ci = c[i], e = g->cerr;
    int pos = 1, cell = -1;
    for (int j = 0; j < g->G; j++) {
        double u = vmin / (vi + g->t[j]), u2 = u * u;
        double U1 = g->U1[j] - u, U2 = g->U2[j] - u2, A = g->A[j] - u * ci,
               B = g->B[j] - u2 * ci, C = g->C[j] - u2 * ci * ci;
        double sc = grid_score(g->kind, vmin, U1, U2, A, B, C);
        /* rounding bound of sc from the full sums (the refit's terms are
         * at most those): the sums, then mu's error through d sc/d mu */
        double mu = A / U1, amu = fabs(mu);
        double dmu = e * (g->Aa[j] + amu * g->U1[j]) / U1;
        double err = e * (g->C[j] + 2.0 * amu * g->Ba[j] + mu * mu * g->U2[j] +
                          vmin * (g->U1[j] + g->U2[j] / U1)) +
                     2.0 * (g->Ba[j] + amu * g->U2[j]) * dmu;
        if (!isfinite(sc) || !isfinite(err) || !(fabs(sc) > err)) return 0;
        if (j == 0 && sc < 0) return 0;
        if (sc < 0 && pos) { pos = 0; cell = j; }
        else if (sc > 0 && !pos) return 0; /* - to +: a second local maximum */
    }
    if (pos || cell < 1) return 0; /* not negative at the top */
    return root >= g->t[cell - 1] && root <= g->t[cell];
}

static void eq_from(eqkind kind, const qstats *ps, double kk, double *g, double *dg, double *fisher)
{
    switch (kind) {
    case EQ_REML:
        *g = ps->YPPY - ps->trP;
        *dg = -2.0 * ps->YPPPY + ps->trPP;
        *fisher = ps->trPP;
        break;
    case EQ_ML:
        *g = ps->YPPY - ps->S1;
        *dg = -2.0 * ps->YPPPY + ps->S2;
        *fisher = ps->S2;
        break;
    case EQ_EB:
        *g = ps->Q - (kk - 1.0);
        *dg = -ps->YPPY;
        *fisher = ps->S1 * (kk - 1.0) / kk;
        break;
    }
}

/* pool.c's solve_eq from t0 on the series; -1 if the series cannot follow. */
static int solve(const l1o_sums *s, size_t i, eqkind kind, double kk, const mp_pool_opts *o,
                 double *root, size_t *niter)
{
    double lo = 0.0, hi = INFINITY, x = s->t0, g, dg, fi, S[4][3];
    for (size_t it = 1; it <= o->maxiter; it++) {
        if (sums_at(s, i, x - s->t0, S) != 0) return -1;
        qstats ps = stats_of(S);
        if (!(ps.kappa <= KAPPA_MAX)) return -1;
        eq_from(kind, &ps, kk, &g, &dg, &fi);
        *niter = it;
        if (!isfinite(g)) return -1;
        if (g == 0) { *root = x; return 0; }
        if (g > 0) lo = x; else hi = x;
        double step = dg < 0 ? -g / dg : g / fi, xn = x + step;
        if (fabs(step) <= o->epsrel * fabs(x)) { *root = xn; return 0; }
        if (!(xn > lo && xn < hi)) {
            if (isinf(hi)) return -1;
            xn = 0.5 * (lo + hi);
        }
        if (fabs(xn - x) <= o->epsrel * fabs(xn) || (isfinite(hi) && hi - lo <= o->epsrel * lo)) {
            *root = xn;
            return 0;
        }
        x = xn;
    }
    return -1;
}

/* One refit without study i; 0 done, -1 left to the exact path. */
static int refit(const l1o_sums *s, const double *v, size_t i, const mp_pool_opts *o, double zc,
                 double tc, mp_pool_result *r)
{
    if (i == s->fimax && !(s->fmax2 >= 1e-60 * s->fmax)) return -1; /* as in sums_at */
    const size_t k = s->k - 1;
    const double kk = (double)k, df = kk - 1.0;
    const mp_method m = o->method;
    double F[4][3], S[4][3];
    fe_sums(s, i, F);
    qstats fe = stats_of(F), ps;
    if (!(fe.kappa <= KAPPA_MAX)) return -1;
    memset(r, 0, sizeof *r);
    r->k = k;
    r->method = m;
    r->test = o->test;
    r->level = o->level;
    r->converged = 1;
    r->pi_lb = r->pi_ub = r->df = r->tau2_se = NAN;
    r->tau2_ci_lb = r->tau2_ci_ub = r->I2_ci_lb = r->I2_ci_ub = r->H2_ci_lb = r->H2_ci_ub = NAN;
    r->Q = fe.Q;
    r->Q_df = df;
    r->Q_pval = gsl_cdf_chisq_Q(fe.Q, df);
    r->vt = df / fe.trP;
    double tau2 = 0.0;
    switch (m) {
    case MP_METHOD_FE: break;
    case MP_METHOD_DL: tau2 = (fe.Q - df) / fe.trP; break;
    case MP_METHOD_HS: tau2 = (fe.Q - kk) / fe.S1; break;
    case MP_METHOD_HSK: tau2 = (kk / df * fe.Q - kk) / fe.S1; break;
    case MP_METHOD_REML:
    case MP_METHOD_ML:
    case MP_METHOD_EB:
    case MP_METHOD_PM: {
        eqkind kind = m == MP_METHOD_REML ? EQ_REML : m == MP_METHOD_ML ? EQ_ML : EQ_EB;
        double g0, dg, fi;
        eq_from(kind, &fe, kk, &g0, &dg, &fi);
        if (m == MP_METHOD_PM) {
            if (fe.Q <= df) { tau2 = 0.0; break; }
        } else if (!(g0 > 0)) {
            return -1; /* tau2 = 0 or pool.c's interior-mode check: exact path */
        }
        if (solve(s, i, kind, kk, o, &tau2, &r->niter) != 0) return -1;
        /* ML/REML: the fast root must be the global maximum (issue 11) */
        if (kind != EQ_EB && !grid_ok(s->grid, v, s->c, i, tau2)) return -1;
        break;
    }
    default: return -1; /* HE, SJ: the exact path */
    }
    if (tau2 < 0) { tau2 = 0.0; r->warn |= MP_WARN_TRUNC; }
    if (tau2 == 0.0) ps = fe;
    else {
        if (sums_at(s, i, tau2 - s->t0, S) != 0) return -1;
        ps = stats_of(S);
        if (!(ps.kappa <= KAPPA_MAX)) return -1;
    }
    r->tau2 = tau2;
    r->tau = sqrt(tau2);
    r->sum_w = ps.S1;
    r->estimate = s->c0 + ps.mu;
    const double t = tau2;
    switch (m) {
    case MP_METHOD_DL: r->tau2_se = sqrt(2.0 * df + 4.0 * t * fe.trP + 2.0 * t * t * fe.trPP) / fe.trP; break;
    case MP_METHOD_HS: r->tau2_se = sqrt(2.0 * df + 4.0 * t * fe.trP + 2.0 * t * t * fe.trPP) / fe.S1; break;
    case MP_METHOD_HSK:
        r->tau2_se = kk / df * sqrt(2.0 * df + 4.0 * t * fe.trP + 2.0 * t * t * fe.trPP) / fe.S1;
        break;
    case MP_METHOD_ML: r->tau2_se = sqrt(2.0 / ps.S2); break;
    case MP_METHOD_REML: r->tau2_se = sqrt(2.0 / ps.trPP); break;
    case MP_METHOD_EB:
    case MP_METHOD_PM: r->tau2_se = sqrt(2.0 * kk * kk / df) / ps.S1; break;
    default: break;
    }
    if (m == MP_METHOD_FE) {
        r->I2 = fe.Q > 0 ? fmax(0.0, 100.0 * (fe.Q - df) / fe.Q) : 0.0;
        r->H2 = fe.Q / df;
    } else {
        r->I2 = 100.0 * tau2 / (r->vt + tau2);
        r->H2 = tau2 / r->vt + 1.0;
    }
    double se = 1.0 / sqrt(ps.S1), crit;
    if (o->test == MP_TEST_KNHA) {
        if (m == MP_METHOD_FE) r->warn |= MP_WARN_FE_KNHA;
        double s2w = ps.Q <= DBL_EPSILON ? 0.0 : ps.Q / df;
        se *= sqrt(s2w);
        r->df = df;
        crit = tc;
        r->stat = r->estimate / se;
        r->pval = 2.0 * gsl_cdf_tdist_Q(fabs(r->stat), df);
    } else {
        crit = zc;
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
    }
    return 0;
}

mp_status mp_l1o_fast(const double *y, const double *v, size_t k, const mp_pool_opts *o,
                      double t0, mp_pool_result *rows, unsigned char *done, size_t *ndone)
{
    *ndone = 0;
    if (k < 3 || o->method == MP_METHOD_SJ || o->method == MP_METHOD_HE) return MP_OK;
    if (!(t0 >= 0) || !isfinite(t0)) return MP_OK;
    double *u = malloc(k * sizeof *u), *c = malloc(k * sizeof *c), *fu = malloc(k * sizeof *fu);
    l1o_sums *s = malloc(sizeof *s);
    if (!u || !c || !fu || !s) {
        free(u); free(c); free(fu); free(s);
        return MP_FAIL(MP_ENOMEM);
    }
    build(s, y, v, k, t0, u, c, fu);
    l1o_grid grid;
    if (o->method == MP_METHOD_ML || o->method == MP_METHOD_REML) {
        if (grid_build(&grid, o->method == MP_METHOD_REML ? EQ_REML : EQ_ML, y, c, v, k) != 0) {
            free(u); free(c); free(fu); free(s);
            return MP_FAIL(MP_ENOMEM);
        }
        s->grid = &grid;
    }
    double alpha = 1.0 - o->level / 100.0, df = (double)k - 2.0;
    double zc = gsl_cdf_ugaussian_Qinv(alpha / 2.0);
    double tc = o->test == MP_TEST_KNHA ? gsl_cdf_tdist_Qinv(alpha / 2.0, df) : NAN;
    for (size_t i = 0; i < k; i++) {
        done[i] = refit(s, v, i, o, zc, tc, &rows[i]) == 0;
        *ndone += done[i];
    }
    if (s->grid) free(grid.t);
    free(u);
    free(c);
    free(fu);
    free(s);
    return MP_OK;
}
