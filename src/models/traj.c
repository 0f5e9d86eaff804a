/* src/traj.c - time-trajectory fits: rma.mv(yi, V, mods, random = ~ time | study) by REML.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Model (metafor 3.8 rma.mv, see /work/notes/metafor_formulas.md section 8):
 *     y = X beta + u + e,  e ~ N(0, V),  u ~ N(0, blockdiag_s G_s)
 * with V block-diagonal over studies, V_ij = phi^|t_i - t_j| sqrt(v_i v_j)
 * within a study (metafor vcalc(vi, cluster, time1, phi); phi = 0 gives a
 * diagonal V), and G_s the structure's L x L matrix restricted to the time
 * levels of study s.  The restricted log-likelihood with REMLf = TRUE is
 *     l_R = -(k-p)/2 log 2pi + 1/2 log|X'X| - 1/2 log|M| - 1/2 log|X'M^-1X|
 *           - 1/2 (y - Xb)'M^-1(y - Xb),   M = V + G,  b the GLS estimate.
 * Every quantity is a sum over study blocks: M_s is factorised by LAPACK's
 * dpotrf, inverted by dpotri (blocks hold a handful of effects), and the
 * blocks' contributions to X'M^-1X, X'M^-1y, log|M| and the residual sum of
 * squares are accumulated, so the cost is linear in the number of studies.
 *
 * The REML score is analytic (Harville 1977, JASA 72:320, eq. for the
 * restricted likelihood; Searle, Casella & McCulloch 1992, ch. 6):
 *     dl_R/dtheta = -1/2 tr(P dM) + 1/2 r'M^-1 dM M^-1 r,
 *     tr(P dM) = sum_s tr(M_s^-1 dM_s) - tr((X'M^-1X)^-1 sum_s X_s'M_s^-1 dM_s M_s^-1 X_s),
 * again block by block.  Parameters are optimised on metafor's
 * unconstrained scale: log tau2, atanh rho (rho in (-1, 1)) and, for CAR,
 * logit rho (rho in (0, 1)).  GSL's vector BFGS2 does the approach
 * (Nelder-Mead nmsimplex2 restarts it if its line search gives up, e.g.
 * across a region where M is not positive definite); Newton steps on a
 * central-difference Hessian of the analytic score then polish to
 * |score| <= epsabs.  A component that runs to its bound (tau2 -> 0,
 * |rho| -> 1) creeps on the unconstrained scale; an active set holds it at
 * the bound when that does not lower l_R and the natural-scale derivative
 * there points outwards (KKT), and releases it when that stops being so. */
#include "metapool/traj.h"
#include "internal.h"
#include "traj_internal.h"

#include <cblas.h>
#include <float.h>
#include "metapool/quantile.h"
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_min.h>
#include <gsl/gsl_roots.h>
#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MP_TRAJ_PI 3.14159265358979323846

static const char *const model_names[MP_TRAJ_MODEL_COUNT] = {"factor", "loglinear", "quadratic",
                                                             "spline"};
static const char *const struct_names[MP_TRAJ_STRUCT_COUNT] = {"INT", "CS", "HCS", "AR",
                                                               "HAR", "CAR", "ID"};

const char *mp_traj_model_name(mp_traj_model m)
{
    return (unsigned)m < MP_TRAJ_MODEL_COUNT ? model_names[m] : "?";
}

mp_status mp_traj_model_parse(const char *s, mp_traj_model *out)
{
    for (int i = 0; s && i < MP_TRAJ_MODEL_COUNT; i++)
        if (strcmp(s, model_names[i]) == 0) { *out = (mp_traj_model)i; return MP_OK; }
    return MP_FAIL(MP_EINVAL);
}

const char *mp_traj_struct_name(mp_traj_struct s)
{
    return (unsigned)s < MP_TRAJ_STRUCT_COUNT ? struct_names[s] : "?";
}

static int streq_nocase(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = *a >= 'a' && *a <= 'z' ? (char)(*a - 32) : *a;
        if (x != *b) return 0;
    }
    return *a == *b;
}

mp_status mp_traj_struct_parse(const char *s, mp_traj_struct *out)
{
    for (int i = 0; s && i < MP_TRAJ_STRUCT_COUNT; i++)
        if (streq_nocase(s, struct_names[i])) { *out = (mp_traj_struct)i; return MP_OK; }
    return MP_FAIL(MP_EINVAL);
}

void mp_traj_opts_init(mp_traj_opts *o)
{
    o->model = MP_TRAJ_FACTOR;
    o->structure = MP_TRAJ_CS;
    o->phi = 0.0;
    o->level = 95.0;
    o->epsabs = 1e-9;
    o->maxiter = 1000;
    o->ngrid = 50;
}

void mp_traj_result_free(mp_traj_result *r)
{
    if (!r) return;
    free(r->times);
    free(r->coef);
    free(r->vb);
    free(r->tau2);
    free(r->curve);
    memset(r, 0, sizeof *r);
}

/* ------------------------------------------------------------------ */
/* Fixed part                                                          */

/* Number of coefficients of a model with L distinct times and nk knots. */
static size_t model_p(mp_traj_model m, size_t L, size_t nk)
{
    switch (m) {
    case MP_TRAJ_FACTOR: return L;
    case MP_TRAJ_LOGLINEAR: return 2;
    case MP_TRAJ_QUADRATIC: return 3;
    default: return nk;
    }
}

/* Harrell's restricted cubic spline term j (0-based, j < K-2) at u:
 * (u-k_j)+^3 - (u-k_{K-2})+^3 (k_{K-1}-k_j)/(k_{K-1}-k_{K-2})
 *            + (u-k_{K-1})+^3 (k_{K-2}-k_j)/(k_{K-1}-k_{K-2}),
 * divided by (k_{K-1}-k_0)^2 for scale.  Beyond the last knot the cubic and
 * quadratic parts cancel, so the function is linear there (natural spline). */
static double rcs_term(double u, const double *kn, size_t K, size_t j)
{
    double a = kn[K - 2], b = kn[K - 1], d = b - a, s = kn[K - 1] - kn[0];
    double p0 = u > kn[j] ? u - kn[j] : 0, p1 = u > a ? u - a : 0, p2 = u > b ? u - b : 0;
    double r = p0 * p0 * p0 - p1 * p1 * p1 * (b - kn[j]) / d + p2 * p2 * p2 * (a - kn[j]) / d;
    return r / (s * s);
}

/* Design row x (p entries) at time t.  Returns 0, or -1 if t is outside the
 * model's domain (t <= 0 for log models, t not a fitted time for factor). */
static int design_row(mp_traj_model m, double t, const double *times, size_t L,
                      const double *kn, size_t nk, double *x)
{
    if (m == MP_TRAJ_FACTOR) {
        size_t lo = 0, hi = L;
        while (lo < hi) { /* binary search over the sorted distinct times */
            size_t mid = lo + (hi - lo) / 2;
            if (times[mid] < t) lo = mid + 1;
            else hi = mid;
        }
        if (lo >= L || times[lo] != t) return -1;
        for (size_t j = 0; j < L; j++) x[j] = j == lo ? 1.0 : 0.0;
        return 0;
    }
    if (!(t > 0) || !isfinite(t)) return -1;
    double u = log(t);
    x[0] = 1.0;
    x[1] = u;
    if (m == MP_TRAJ_QUADRATIC) x[2] = u * u;
    if (m == MP_TRAJ_SPLINE)
        for (size_t j = 0; j + 2 < nk; j++) x[2 + j] = rcs_term(u, kn, nk, j);
    return 0;
}

/* Quantile of sorted x[0..n) at probability q, R's type 7. */
static double quantile7(const double *x, size_t n, double q)
{
    double h = (double)(n - 1) * q;
    size_t i = (size_t)floor(h);
    if (i + 1 >= n) return x[n - 1];
    return x[i] + (h - (double)i) * (x[i + 1] - x[i]);
}

/* Shortest "%g" form of x that reads back exactly. */
static void fmt_num(char *buf, size_t n, double x)
{
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, n, "%.*g", p, x);
        if (strtod(buf, NULL) == x) return;
    }
}

/* ------------------------------------------------------------------ */
/* Workspace: data sorted into study blocks and scratch space           */

typedef struct traj_ws {
    size_t k, p, L, S, nmax;   /* effects, coefficients, levels, studies, largest block */
    mp_traj_struct st;         /* structure */
    int hetero;                /* one tau2 per level (HCS, HAR) */
    int has_rho;               /* rho is a free parameter */
    size_t ntau, nth;          /* variance parameters; all parameters */
    double *y, *v, *t;         /* sorted effects, variances, times */
    size_t *lev;               /* level (rank of the time) of each sorted effect */
    double *X;                 /* k x p design, row-major, sorted order */
    size_t *blk;               /* S+1 block offsets into the sorted effects */
    size_t *woff;              /* S+1 offsets of the blocks' n_s^2 matrices */
    double *V;                 /* sampling covariance blocks */
    double *W;                 /* M_s^-1 blocks of the last evaluation */
    double *dist;              /* L x L exponents of rho (CS: 1; AR: |rank diff|; CAR: |t diff|) */
    double *G, *dG;            /* L x L structure and nth derivatives w.r.t. theta */
    double *A, *Ainv, *b, *beta, *C; /* p x p, p x p, p, p, nth p x p */
    double *M, *D, *WX, *T, *r, *u;  /* block scratch */
    double *resid;             /* k residuals y - X beta of the last evaluation */
    double logdetXX;           /* log|X'X| (REMLf term) */
    size_t nev;                /* evaluations (diagnostics) */
} traj_ws;

static void ws_free(traj_ws *w)
{
    free(w->y); free(w->v); free(w->t); free(w->lev); free(w->X); free(w->blk);
    free(w->woff); free(w->V); free(w->W); free(w->dist); free(w->G); free(w->dG);
    free(w->A); free(w->Ainv); free(w->b); free(w->beta); free(w->C); free(w->M);
    free(w->D); free(w->WX); free(w->T); free(w->r); free(w->u); free(w->resid);
}

static double *dalloc(size_t n)
{
    size_t bytes = mp_mul_size(n ? n : 1, sizeof(double));
    return bytes ? malloc(bytes) : NULL;
}

/* Natural parameters from theta. */
static void theta_nat(const traj_ws *w, const double *th, double *tau2, double *rho)
{
    for (size_t j = 0; j < w->ntau; j++) tau2[j] = exp(th[j]);
    if (!w->has_rho) *rho = 0.0;
    else if (w->st == MP_TRAJ_CAR) *rho = 1.0 / (1.0 + exp(-th[w->ntau]));
    else *rho = tanh(th[w->ntau]);
}

static void nat_theta(const traj_ws *w, const double *tau2, double rho, double *th)
{
    for (size_t j = 0; j < w->ntau; j++) th[j] = log(tau2[j]);
    if (w->has_rho) th[w->ntau] = w->st == MP_TRAJ_CAR ? log(rho / (1 - rho)) : atanh(rho);
}

/* G (L x L) and its derivatives w.r.t. theta (chain factors evaluated from
 * the natural values, so a component exactly at its bound has derivative 0). */
static void build_G(traj_ws *w, const double *tau2, double rho)
{
    size_t L = w->L, LL = L * L;
    double *G = w->G, *dG = w->dG;
    memset(dG, 0, w->nth * LL * sizeof *dG);
    for (size_t a = 0; a < L; a++)
        for (size_t c = 0; c < L; c++) {
            double g;
            if (w->st == MP_TRAJ_INT) g = tau2[0];
            else if (w->st == MP_TRAJ_ID) g = a == c ? tau2[0] : 0.0;
            else {
                double s = w->hetero ? sqrt(tau2[a] * tau2[c]) : tau2[0];
                double cr = a == c ? 1.0 : (w->has_rho ? pow(rho, w->dist[a * L + c]) : 0.0);
                g = s * cr;
                if (w->has_rho && a != c) {
                    double d = w->dist[a * L + c], dr;
                    if (w->st == MP_TRAJ_CAR) /* d rho^d/d logit = d rho^d (1 - rho) */
                        dr = d * pow(rho, d) * (1.0 - rho);
                    else /* d rho^d / d atanh = d rho^(d-1) (1 - rho^2) */
                        dr = d * pow(rho, d - 1.0) * (1.0 - rho * rho);
                    dG[w->ntau * LL + a * L + c] = s * dr;
                }
            }
            G[a * L + c] = g;
            if (w->hetero) { /* dG_ac/dlog tau2_j = G_ac ([a==j] + [c==j]) / 2 */
                dG[a * LL + a * L + c] += 0.5 * g;
                dG[c * LL + a * L + c] += 0.5 * g;
            } else {
                dG[a * L + c] = g;
            }
        }
}

enum { EV_OK = 0, EV_NOTPD = 1, EV_SING = 2 };

/* Evaluate l_R at (tau2, rho); with grad != NULL also the score w.r.t. theta.
 * Leaves beta, Ainv = (X'M^-1X)^-1, resid and the W blocks in w.  With
 * tau2 == NULL G = 0 (the V-only fit: *rss is then QE). */
static int traj_eval(traj_ws *w, const double *tau2, double rho, double *ll, double *grad,
                     double *rss_out)
{
    size_t p = w->p, L = w->L;
    w->nev++;
    if (tau2) build_G(w, tau2, rho);
    else memset(w->G, 0, L * L * sizeof *w->G);
    memset(w->A, 0, p * p * sizeof *w->A);
    memset(w->b, 0, p * sizeof *w->b);
    double logdetM = 0.0;
    for (size_t s = 0; s < w->S; s++) {
        size_t r0 = w->blk[s], n = w->blk[s + 1] - r0;
        double *Wb = w->W + w->woff[s], *M = w->M;
        const double *Vb = w->V + w->woff[s];
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++)
                M[i * n + j] = Vb[i * n + j] + w->G[w->lev[r0 + i] * L + w->lev[r0 + j]];
        if (LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)n, M, (lapack_int)n) != 0)
            return EV_NOTPD;
        for (size_t i = 0; i < n; i++) logdetM += 2.0 * log(M[i * n + i]);
        if (LAPACKE_dpotri(LAPACK_ROW_MAJOR, 'L', (lapack_int)n, M, (lapack_int)n) != 0)
            return EV_NOTPD;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j <= i; j++) Wb[i * n + j] = Wb[j * n + i] = M[i * n + j];
        const double *Xs = w->X + r0 * p;
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)p, (int)n, 1.0, Wb,
                    (int)n, Xs, (int)p, 0.0, w->WX, (int)p);
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)p, (int)p, (int)n, 1.0, Xs,
                    (int)p, w->WX, (int)p, 1.0, w->A, (int)p);
        cblas_dgemv(CblasRowMajor, CblasTrans, (int)n, (int)p, 1.0, w->WX, (int)p, w->y + r0, 1,
                    1.0, w->b, 1);
    }
    /* beta = A^-1 b via the Cholesky factor of A; Ainv for vb and the score */
    memcpy(w->Ainv, w->A, p * p * sizeof *w->A);
    if (LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)p, w->Ainv, (lapack_int)p) != 0)
        return EV_SING;
    double logdetA = 0.0;
    for (size_t i = 0; i < p; i++) logdetA += 2.0 * log(w->Ainv[i * p + i]);
    memcpy(w->beta, w->b, p * sizeof *w->b);
    if (LAPACKE_dpotrs(LAPACK_ROW_MAJOR, 'L', (lapack_int)p, 1, w->Ainv, (lapack_int)p, w->beta,
                       1) != 0 ||
        LAPACKE_dpotri(LAPACK_ROW_MAJOR, 'L', (lapack_int)p, w->Ainv, (lapack_int)p) != 0)
        return EV_SING;
    for (size_t i = 0; i < p; i++)
        for (size_t j = 0; j < i; j++) w->Ainv[j * p + i] = w->Ainv[i * p + j];

    /* second pass: residuals, RSS and (optionally) the score */
    double rss = 0.0;
    size_t nth = w->nth, LL = L * L;
    double trWD[64], uDu[64];
    if (grad) {
        memset(w->C, 0, nth * p * p * sizeof *w->C);
        for (size_t q = 0; q < nth; q++) trWD[q] = uDu[q] = 0.0;
    }
    for (size_t s = 0; s < w->S; s++) {
        size_t r0 = w->blk[s], n = w->blk[s + 1] - r0;
        const double *Wb = w->W + w->woff[s], *Xs = w->X + r0 * p;
        for (size_t i = 0; i < n; i++) {
            double f = 0.0;
            for (size_t j = 0; j < p; j++) f += Xs[i * p + j] * w->beta[j];
            w->r[i] = w->resid[r0 + i] = w->y[r0 + i] - f;
        }
        cblas_dsymv(CblasRowMajor, CblasLower, (int)n, 1.0, Wb, (int)n, w->r, 1, 0.0, w->u, 1);
        rss += cblas_ddot((int)n, w->r, 1, w->u, 1);
        if (!grad) continue;
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)p, (int)n, 1.0, Wb,
                    (int)n, Xs, (int)p, 0.0, w->WX, (int)p);
        for (size_t q = 0; q < nth; q++) {
            const double *dg = w->dG + q * LL;
            double tr = 0.0, quad = 0.0;
            for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < n; j++) {
                    double d = dg[w->lev[r0 + i] * L + w->lev[r0 + j]];
                    w->D[i * n + j] = d;
                    tr += Wb[i * n + j] * d;
                    quad += w->u[i] * d * w->u[j];
                }
            trWD[q] += tr;
            uDu[q] += quad;
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)p, (int)n, 1.0,
                        w->D, (int)n, w->WX, (int)p, 0.0, w->T, (int)p);
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)p, (int)p, (int)n, 1.0,
                        w->WX, (int)p, w->T, (int)p, 1.0, w->C + q * p * p, (int)p);
        }
    }
    if (grad)
        for (size_t q = 0; q < nth; q++) {
            double trAC = 0.0;
            for (size_t i = 0; i < p * p; i++) trAC += w->Ainv[i] * w->C[q * p * p + i];
            grad[q] = -0.5 * (trWD[q] - trAC) + 0.5 * uDu[q];
        }
    if (rss_out) *rss_out = rss;
    if (ll)
        *ll = -0.5 * (double)(w->k - p) * log(2.0 * MP_TRAJ_PI) + 0.5 * w->logdetXX - 0.5 * logdetM -
              0.5 * logdetA - 0.5 * rss;
    return EV_OK;
}

/* ------------------------------------------------------------------ */
/* Optimisation                                                        */

/* Objective for the optimiser (no components held at bounds). */
static int opt_obj(void *ctx, const double *th, double *f, double *g)
{
    traj_ws *w = ctx;
    double tau2[64], rho, ll;
    theta_nat(w, th, tau2, &rho);
    for (size_t j = 0; j < w->ntau; j++)
        if (!(tau2[j] < HUGE_VAL)) return -1;
    if (traj_eval(w, tau2, rho, &ll, g, NULL) != EV_OK || !isfinite(ll)) return -1;
    *f = -ll;
    if (g)
        for (size_t q = 0; q < w->nth; q++) g[q] = -g[q];
    return 0;
}

/* -l_R and its gradient at theta with the components in `pin` held at their
 * bounds (value given by pinval). Returns 0 or -1. */
typedef struct pin_state {
    int pin[64];        /* 1 = held at its bound */
    double val[64];     /* the bound on the natural scale (tau2 = 0, rho = +-1 or 0, 1) */
} pin_state;

static int eval_pinned(traj_ws *w, const double *th, const pin_state *ps, double *f, double *g)
{
    double tau2[64], rho, ll;
    theta_nat(w, th, tau2, &rho);
    for (size_t j = 0; j < w->ntau; j++)
        if (ps->pin[j]) tau2[j] = ps->val[j];
    if (w->has_rho && ps->pin[w->ntau]) rho = ps->val[w->ntau];
    for (size_t j = 0; j < w->ntau; j++)
        if (!(tau2[j] < HUGE_VAL)) return -1;
    if (traj_eval(w, tau2, rho, &ll, g, NULL) != EV_OK || !isfinite(ll)) return -1;
    *f = -ll;
    if (g)
        for (size_t q = 0; q < w->nth; q++) g[q] = ps->pin[q] ? 0.0 : -g[q];
    return 0;
}

static double max_abs(const double *g, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(g[i]));
    return m;
}

/* Natural parameters at theta with held components at their bounds. */
static void nat_pinned(const traj_ws *w, const double *th, const pin_state *ps, double *tau2,
                       double *rho)
{
    theta_nat(w, th, tau2, rho);
    for (size_t j = 0; j < w->ntau; j++)
        if (ps->pin[j]) tau2[j] = ps->val[j];
    if (w->has_rho && ps->pin[w->ntau]) *rho = ps->val[w->ntau];
}

/* d l_R / d(natural parameter q) with component q moved to `at` (just inside
 * its bound) and everything else as at (th, ps).  The score on the theta
 * scale is divided by the chain factor d nat / d theta there. */
static int nat_deriv(traj_ws *w, const double *th, const pin_state *ps, size_t q, double at,
                     double *d)
{
    double tau2[64], rho, ll, g[64], J;
    nat_pinned(w, th, ps, tau2, &rho);
    if (q < w->ntau) { tau2[q] = at; J = at; }
    else { rho = at; J = w->st == MP_TRAJ_CAR ? at * (1.0 - at) : 1.0 - at * at; }
    if (traj_eval(w, tau2, rho, &ll, g, NULL) != EV_OK || !(J > 0)) return -1;
    *d = g[q] / J;
    return 0;
}

/* Active set for the bounds (tau2 >= 0; rho in [-1, 1], CAR [0, 1]).  A
 * free component close to a bound is held there when l_R does not drop and
 * its derivative at the bound points outwards (the KKT condition); a held
 * component whose derivative points inwards is released.  `tol` scales the
 * derivative test as the theta-scale score does.  Returns 1 if the set
 * changed; *kkt_ok tells whether every held component satisfies KKT. */
static int update_bounds(traj_ws *w, double *th, pin_state *ps, double vscale, double tol,
                         int *kkt_ok)
{
    const double near = 1e-4, eps = 1e-9;
    double tau2[64], rho, f0, f1, d;
    int changed = 0;
    *kkt_ok = 1;
    if (eval_pinned(w, th, ps, &f0, NULL) != 0) return 0;
    for (size_t q = 0; q < w->nth; q++) {
        nat_pinned(w, th, ps, tau2, &rho);
        double bound, inside, scale;
        if (q < w->ntau) {
            bound = 0.0;
            inside = eps * vscale;
            scale = vscale;
            if (!ps->pin[q] && !(tau2[q] < near * vscale)) continue;
        } else {
            double r = ps->pin[q] ? ps->val[q] : rho;
            int car = w->st == MP_TRAJ_CAR;
            if (car && r < 0.5) { bound = 0.0; inside = eps; }
            else if (r >= 0) { bound = 1.0; inside = 1.0 - eps; }
            else { bound = -1.0; inside = -1.0 + eps; }
            scale = 1.0; /* rho is unitless */
            if (!ps->pin[q] && !(fabs(r - bound) < near)) continue;
        }
        if (nat_deriv(w, th, ps, q, inside, &d) != 0) continue;
        /* outward: towards the bound from inside */
        double outward = bound > inside ? d : -d;
        if (ps->pin[q]) {
            if (outward < -tol / scale) { /* l_R rises moving inwards: release */
                ps->pin[q] = 0;
                double rin = bound == 0.0 ? near : bound > 0 ? 1.0 - near : -1.0 + near;
                th[q] = q < w->ntau ? log(near * vscale)
                        : w->st == MP_TRAJ_CAR ? log(rin / (1.0 - rin)) : atanh(rin);
                changed = 1;
                eval_pinned(w, th, ps, &f0, NULL);
            }
            continue;
        }
        if (outward < -tol / scale) continue; /* an interior optimum close to the bound */
        ps->pin[q] = 1;
        ps->val[q] = bound;
        if (eval_pinned(w, th, ps, &f1, NULL) == 0 && f1 <= f0 + 1e-10 * (1.0 + fabs(f0))) {
            f0 = f1;
            changed = 1;
        } else {
            ps->pin[q] = 0;
        }
    }
    /* KKT for the held ones at the final set */
    for (size_t q = 0; q < w->nth; q++) {
        if (!ps->pin[q]) continue;
        double bound = ps->val[q], inside;
        if (q < w->ntau) inside = eps * vscale;
        else inside = bound == 0.0 ? eps : bound > 0 ? 1.0 - eps : -1.0 + eps;
        if (nat_deriv(w, th, ps, q, inside, &d) != 0) { *kkt_ok = 0; continue; }
        double outward = bound > inside ? d : -d;
        double scale = q < w->ntau ? vscale : 1.0;
        if (outward * scale < -tol) *kkt_ok = 0;
    }
    return changed;
}

/* Newton steps on the free components with a central-difference Hessian of
 * the analytic score; step halving keeps -l_R from rising.  Uses at most
 * `budget` steps; returns the steps taken. */
static size_t newton_polish(traj_ws *w, double *th, const pin_state *ps, double epsabs,
                            size_t budget, double *gmax_out)
{
    size_t n = w->nth, it = 0;
    double g[64], gp[64], gm[64], H[64 * 64], d[64], th2[64], f, f2;
    size_t fr[64], nf = 0;
    for (size_t q = 0; q < n; q++)
        if (!ps->pin[q]) fr[nf++] = q;
    *gmax_out = HUGE_VAL;
    if (eval_pinned(w, th, ps, &f, g) != 0) return 0;
    *gmax_out = max_abs(g, n);
    while (*gmax_out > epsabs && it < budget && nf > 0) {
        it++;
        for (size_t a = 0; a < nf; a++) {
            double h = 1e-5 * fmax(1.0, fabs(th[fr[a]]));
            memcpy(th2, th, n * sizeof *th);
            th2[fr[a]] = th[fr[a]] + h;
            if (eval_pinned(w, th2, ps, &f2, gp) != 0) return it;
            th2[fr[a]] = th[fr[a]] - h;
            if (eval_pinned(w, th2, ps, &f2, gm) != 0) return it;
            for (size_t c = 0; c < nf; c++) H[c * nf + a] = (gp[fr[c]] - gm[fr[c]]) / (2 * h);
        }
        for (size_t a = 0; a < nf; a++)
            for (size_t c = 0; c < a; c++)
                H[a * nf + c] = H[c * nf + a] = 0.5 * (H[a * nf + c] + H[c * nf + a]);
        /* Levenberg shift until positive definite */
        double Hc[64 * 64], dmax = 0.0, lam = 0.0;
        for (size_t a = 0; a < nf; a++) dmax = fmax(dmax, fabs(H[a * nf + a]));
        for (int tries = 0; tries < 60; tries++) {
            memcpy(Hc, H, nf * nf * sizeof *H);
            for (size_t a = 0; a < nf; a++) Hc[a * nf + a] += lam;
            if (LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)nf, Hc, (lapack_int)nf) == 0)
                break;
            lam = lam == 0.0 ? 1e-10 * (dmax > 0 ? dmax : 1.0) : lam * 4;
        }
        for (size_t a = 0; a < nf; a++) d[a] = -g[fr[a]];
        if (LAPACKE_dpotrs(LAPACK_ROW_MAJOR, 'L', (lapack_int)nf, 1, Hc, (lapack_int)nf, d, 1) != 0)
            return it;
        double step = 1.0, gnew[64];
        int ok = 0;
        for (int h = 0; h < 40; h++, step *= 0.5) {
            memcpy(th2, th, n * sizeof *th);
            for (size_t a = 0; a < nf; a++) th2[fr[a]] += step * d[a];
            if (eval_pinned(w, th2, ps, &f2, gnew) != 0) continue;
            if (f2 <= f + 1e-13 * (1.0 + fabs(f)) || max_abs(gnew, n) < *gmax_out) {
                ok = 1;
                break;
            }
        }
        if (!ok) return it;
        memcpy(th, th2, n * sizeof *th);
        f = f2;
        memcpy(g, gnew, n * sizeof *g);
        *gmax_out = max_abs(g, n);
    }
    return it;
}

/* Optimise theta from its starting value: BFGS to a moderate tolerance,
 * then rounds of (bounds active set, Newton polish) until the free part of
 * the score is below epsabs and the held components satisfy KKT.  Returns
 * 1 if converged, 0 if not, -1 if allocation failed. */
static int optimise(traj_ws *w, double *th, pin_state *ps, const mp_traj_opts *o, double vscale,
                    size_t *niter, double *gmax)
{
    double tol_bfgs = o->epsabs > 1e-6 ? o->epsabs : 1e-6;
    /* BFGS only for the approach: when a component runs to a bound it
     * creeps, and the active set below does better */
    size_t cap = 100 + 20 * w->nth;
    long used = mp_traj_minimise_(opt_obj, w, w->nth, th, o->maxiter < cap ? o->maxiter : cap,
                                  tol_bfgs);
    *gmax = HUGE_VAL;
    *niter = 0;
    if (used < 0) return -1;
    size_t it = (size_t)used;
    int kkt = 1;
    for (int round = 0; round < 20; round++) {
        int changed = update_bounds(w, th, ps, vscale, o->epsabs, &kkt);
        size_t budget = o->maxiter > it ? o->maxiter - it : 0;
        size_t steps = newton_polish(w, th, ps, o->epsabs, budget, gmax);
        it += steps;
        if (*gmax <= o->epsabs) {
            changed = update_bounds(w, th, ps, vscale, o->epsabs, &kkt);
            if (!changed && kkt) break;
        } else if (!changed && steps == 0) {
            break;
        }
        if (it >= o->maxiter) break;
    }
    *niter = it;
    if (*gmax > o->epsabs) return 0;
    return kkt;
}

/* ------------------------------------------------------------------ */
/* Curve features                                                      */

typedef struct curve_ctx {
    const mp_traj_result *r;
    int which; /* 0: lb*ub (CI excludes 0 where > 0); 1: -|estimate| */
} curve_ctx;

static double curve_fn(double u, void *par)
{
    const curve_ctx *c = par;
    mp_traj_point pt;
    if (mp_traj_predict(c->r, exp(u), &pt) != MP_OK) return GSL_NAN;
    return c->which == 0 ? pt.ci_lb * pt.ci_ub : -fabs(pt.estimate);
}

static int excludes0(const mp_traj_point *pt) { return pt->ci_lb > 0 || pt->ci_ub < 0; }

/* Root of lb*ub in log time between a and b (continuous models). */
static double refine_root(const mp_traj_result *r, double a, double b)
{
    curve_ctx c = {r, 0};
    gsl_function F = {curve_fn, &c};
    gsl_root_fsolver *s = gsl_root_fsolver_alloc(gsl_root_fsolver_brent);
    double x = 0.5 * (a + b);
    if (s && gsl_root_fsolver_set(s, &F, a, b) == GSL_SUCCESS) {
        for (int i = 0; i < 200; i++) {
            if (gsl_root_fsolver_iterate(s) != GSL_SUCCESS) break;
            x = gsl_root_fsolver_root(s);
            double lo = gsl_root_fsolver_x_lower(s), hi = gsl_root_fsolver_x_upper(s);
            if (gsl_root_test_interval(lo, hi, 1e-12, 1e-12) == GSL_SUCCESS) break;
        }
    }
    gsl_root_fsolver_free(s);
    return x;
}

static void curve_features(mp_traj_result *r)
{
    size_t n = r->n_curve;
    const mp_traj_point *c = r->curve;
    int cont = r->model != MP_TRAJ_FACTOR;
    r->onset = r->peak = r->offset = NAN;
    if (n == 0) return;
    size_t m = 0;
    for (size_t i = 1; i < n; i++)
        if (fabs(c[i].estimate) > fabs(c[m].estimate)) m = i;
    double upeak = cont ? log(c[m].time) : 0.0;
    r->peak = c[m].time;
    if (cont && m > 0 && m + 1 < n && fabs(c[m].estimate) > fabs(c[m - 1].estimate) &&
        fabs(c[m].estimate) > fabs(c[m + 1].estimate)) {
        curve_ctx cc = {r, 1};
        gsl_function F = {curve_fn, &cc};
        gsl_min_fminimizer *s = gsl_min_fminimizer_alloc(gsl_min_fminimizer_brent);
        if (s && gsl_min_fminimizer_set(s, &F, log(c[m].time), log(c[m - 1].time),
                                        log(c[m + 1].time)) == GSL_SUCCESS) {
            for (int i = 0; i < 200; i++) {
                if (gsl_min_fminimizer_iterate(s) != GSL_SUCCESS) break;
                upeak = gsl_min_fminimizer_x_minimum(s);
                if (gsl_min_test_interval(gsl_min_fminimizer_x_lower(s),
                                          gsl_min_fminimizer_x_upper(s), 1e-10, 0.0) ==
                    GSL_SUCCESS)
                    break;
            }
            r->peak = exp(upeak);
        }
        gsl_min_fminimizer_free(s);
    }
    for (size_t i = 0; i < n; i++)
        if (excludes0(&c[i])) {
            r->onset = (i == 0 || !cont) ? c[i].time
                                          : exp(refine_root(r, log(c[i - 1].time), log(c[i].time)));
            break;
        }
    mp_traj_point pk;
    if (mp_traj_predict(r, r->peak, &pk) != MP_OK || !excludes0(&pk)) return;
    for (size_t i = 0; i < n; i++) {
        if (c[i].time <= r->peak || excludes0(&c[i])) continue;
        if (!cont) { r->offset = c[i].time; return; }
        double a = log(c[i - 1].time);
        if (a < upeak) a = upeak;
        r->offset = exp(refine_root(r, a, log(c[i].time)));
        return;
    }
}

/* ------------------------------------------------------------------ */
/* The fit                                                             */

typedef struct row_key {
    size_t study;
    double time;
    size_t idx;
} row_key;

static int cmp_row(const void *a, const void *b)
{
    const row_key *x = a, *y = b;
    if (x->study != y->study) return x->study < y->study ? -1 : 1;
    if (x->time != y->time) return x->time < y->time ? -1 : 1;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

mp_status mp_traj_predict(const mp_traj_result *r, double time, mp_traj_point *out)
{
    double x[64];
    if (!r || !out || r->p == 0 || r->p > 64) return MP_FAIL(MP_EINVAL);
    if (design_row(r->model, time, r->times, r->n_times, r->knots, r->n_knots, x) != 0)
        return MP_FAIL(MP_EDOM);
    double est = 0.0, var = 0.0;
    for (size_t i = 0; i < r->p; i++) {
        est += x[i] * r->coef[i].estimate;
        for (size_t j = 0; j < r->p; j++) var += x[i] * r->vb[i * r->p + j] * x[j];
    }
    double z = mp_qnorm_upper((1.0 - r->level / 100.0) / 2.0);
    double se = sqrt(fmax(var, 0.0));
    out->time = time;
    out->estimate = est;
    out->se = se;
    out->ci_lb = est - z * se;
    out->ci_ub = est + z * se;
    return MP_OK;
}

/* Step 1 of mp_traj_fit: finite data, vi > 0, positive times for the
 * log-time models.  MP_OK or MP_EDOM with err naming the effect. */
static mp_status check_inputs(const double *y, const double *v, const double *time, size_t k,
                              const mp_traj_opts *o, mp_error *err)
{
    int logm = o->model != MP_TRAJ_FACTOR;
    for (size_t i = 0; i < k; i++) {
        if (!isfinite(y[i]) || !isfinite(time[i]) || !(v[i] > 0) || !isfinite(v[i])) {
            mp_error_set(err, NULL, 0, 0, "effect %zu: yi, vi and time must be finite and vi > 0",
                         i + 1);
            return MP_FAIL(MP_EDOM);
        }
        if (logm && !(time[i] > 0)) {
            mp_error_set(err, NULL, 0, 0,
                         "effect %zu: time %g is not > 0, as the %s model (log time) needs",
                         i + 1, time[i], model_names[o->model]);
            return MP_FAIL(MP_EDOM);
        }
    }
    return MP_OK;
}

/* Step 2: the distinct times ut[0..*L) (sorted), the spline knots kn[0..*nk)
 * at quantiles of the distinct log times (as rms::rcs places them), and the
 * number of fixed effects *p; errors when the model needs more times than
 * the data have or more than the fixed-size arrays hold. */
static mp_status model_times(double *ut, size_t k, const mp_traj_opts *o, size_t *L, double *kn,
                             size_t *nk, size_t *p, mp_error *err)
{
    qsort(ut, k, sizeof *ut, cmp_dbl);
    size_t n = 0;
    for (size_t i = 0; i < k; i++)
        if (n == 0 || ut[i] != ut[n - 1]) ut[n++] = ut[i];
    *L = n;
    *nk = 0;
    if (o->model == MP_TRAJ_SPLINE) {
        if (n < 3) {
            mp_error_set(err, NULL, 0, 0, "the spline model needs at least 3 distinct times, got %zu", n);
            return MP_FAIL(MP_EDOM);
        }
        *nk = n <= 5 ? 3 : n <= 9 ? 4 : 5;
        double lu[1024], *lt = n <= 1024 ? lu : dalloc(n);
        if (!lt) return MP_FAIL(MP_ENOMEM);
        for (size_t i = 0; i < n; i++) lt[i] = log(ut[i]);
        for (size_t j = 0; j < *nk; j++) kn[j] = quantile7(lt, n, (double)j / (double)(*nk - 1));
        if (lt != lu) free(lt);
    }
    size_t need = o->model == MP_TRAJ_LOGLINEAR ? 2 : o->model == MP_TRAJ_QUADRATIC ? 3 : 1;
    if (n < need) {
        mp_error_set(err, NULL, 0, 0, "the %s model needs at least %zu distinct times, got %zu",
                     model_names[o->model], need, n);
        return MP_FAIL(MP_EDOM);
    }
    *p = model_p(o->model, n, *nk);
    if (*p > 64 || n > 63) { /* fixed-size parameter and score arrays (64) */
        mp_error_set(err, NULL, 0, 0,
                     "at most 63 distinct times and 64 fixed-effect coefficients are supported "
                     "(got %zu times, %zu coefficients); group the times into windows", n, *p);
        return MP_FAIL(MP_EDOM);
    }
    if (k <= *p) return MP_FAIL(MP_ETOOFEW);
    return MP_OK;
}

/* Step 3: the workspace: the data sorted by study and time, the design
 * matrix, the study blocks with their sampling covariances (phi^|t1-t2|
 * correlation, metafor's vcalc), the distances of the structure, and
 * log|X'X| for metafor's REML likelihood. */
static mp_status build_workspace(traj_ws *w, const double *y, const double *v,
                                 const double *time, const row_key *key, size_t k, size_t p,
                                 const double *ut, size_t L, const double *kn, size_t nk,
                                 const mp_traj_opts *o)
{
    w->k = k; w->p = p; w->L = L; w->st = o->structure;
    w->y = dalloc(k); w->v = dalloc(k); w->t = dalloc(k); w->X = dalloc(k * p);
    w->lev = malloc(k * sizeof *w->lev);
    w->blk = malloc((k + 1) * sizeof *w->blk);
    w->woff = malloc((k + 1) * sizeof *w->woff);
    w->resid = dalloc(k);
    if (!w->y || !w->v || !w->t || !w->X || !w->lev || !w->blk || !w->woff || !w->resid)
        return MP_FAIL(MP_ENOMEM);
    size_t S = 0, tot = 0, nmax = 0;
    int multi = 0; /* some study has two distinct time levels */
    for (size_t i = 0; i < k; i++) {
        size_t idx = key[i].idx;
        w->y[i] = y[idx]; w->v[i] = v[idx]; w->t[i] = time[idx];
        double *tp = bsearch(&w->t[i], ut, L, sizeof *ut, cmp_dbl);
        w->lev[i] = (size_t)(tp - ut);
        design_row(o->model, w->t[i], ut, L, kn, nk, w->X + i * p);
        if (i == 0 || key[i].study != key[i - 1].study) w->blk[S++] = i;
        else if (w->lev[i] != w->lev[i - 1]) multi = 1;
    }
    w->blk[S] = k;
    w->S = S;
    for (size_t s = 0; s < S; s++) {
        size_t n = w->blk[s + 1] - w->blk[s];
        w->woff[s] = tot;
        tot += n * n;
        if (n > nmax) nmax = n;
    }
    w->woff[S] = tot;
    w->nmax = nmax;
    w->hetero = o->structure == MP_TRAJ_HCS || o->structure == MP_TRAJ_HAR;
    int rho_struct = o->structure != MP_TRAJ_INT && o->structure != MP_TRAJ_ID;
    w->has_rho = rho_struct && L > 1 && multi;
    w->ntau = w->hetero ? L : 1;
    w->nth = w->ntau + (w->has_rho ? 1 : 0);
    w->V = dalloc(tot); w->W = dalloc(tot); w->dist = dalloc(L * L); w->G = dalloc(L * L);
    w->dG = dalloc(w->nth * L * L); w->A = dalloc(p * p); w->Ainv = dalloc(p * p); w->b = dalloc(p);
    w->beta = dalloc(p); w->C = dalloc(w->nth * p * p); w->M = dalloc(nmax * nmax);
    w->D = dalloc(nmax * nmax); w->WX = dalloc(nmax * p); w->T = dalloc(nmax * p);
    w->r = dalloc(nmax); w->u = dalloc(nmax);
    if (!w->V || !w->W || !w->dist || !w->G || !w->dG || !w->A || !w->Ainv || !w->b || !w->beta ||
        !w->C || !w->M || !w->D || !w->WX || !w->T || !w->r || !w->u)
        return MP_FAIL(MP_ENOMEM);
    for (size_t s = 0; s < S; s++) {
        size_t r0 = w->blk[s], n = w->blk[s + 1] - r0;
        double *Vb = w->V + w->woff[s];
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++) {
                double c = i == j ? 1.0
                                  : o->phi > 0 ? pow(o->phi, fabs(w->t[r0 + i] - w->t[r0 + j])) : 0.0;
                Vb[i * n + j] = c * sqrt(w->v[r0 + i] * w->v[r0 + j]);
            }
    }
    for (size_t a = 0; a < L; a++)
        for (size_t c = 0; c < L; c++) {
            double d = 1.0;
            if (o->structure == MP_TRAJ_AR || o->structure == MP_TRAJ_HAR)
                d = a > c ? (double)(a - c) : (double)(c - a);
            else if (o->structure == MP_TRAJ_CAR)
                d = fabs(ut[a] - ut[c]);
            w->dist[a * L + c] = d;
        }
    double *XX = w->A; /* log|X'X| */
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)p, (int)p, (int)k, 1.0, w->X,
                (int)p, w->X, (int)p, 0.0, XX, (int)p);
    if (LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)p, XX, (lapack_int)p) != 0)
        return MP_FAIL(MP_ESING);
    w->logdetXX = 0.0;
    for (size_t i = 0; i < p; i++) w->logdetXX += 2.0 * log(XX[i * p + i]);
    return MP_OK;
}

/* Step 4: QE of the V-only fit and metafor's starting value
 * total = max(0.001, var(y - X b_FE) - 1/mean(1/v)), written as the
 * parameters th; *hm is the harmonic mean of the vi.  MP_OK or MP_ESING. */
static mp_status start_values(traj_ws *w, double *th, double *QE, double *hm)
{
    size_t k = w->k;
    double total, h = 0.0;
    for (size_t i = 0; i < k; i++) h += 1.0 / w->v[i];
    h = (double)k / h;
    *hm = h;
    *QE = NAN;
    if (traj_eval(w, NULL, 0.0, NULL, NULL, QE) == EV_OK) {
        double mean = 0.0, ss = 0.0;
        for (size_t i = 0; i < k; i++) mean += w->resid[i];
        mean /= (double)k;
        for (size_t i = 0; i < k; i++) ss += (w->resid[i] - mean) * (w->resid[i] - mean);
        total = k > 1 ? ss / (double)(k - 1) - h : 0.0;
        if (!(total > 0.001)) total = 0.001;
    } else {
        double mean = 0.0, ss = 0.0;
        for (size_t i = 0; i < k; i++) mean += w->y[i];
        mean /= (double)k;
        for (size_t i = 0; i < k; i++) ss += (w->y[i] - mean) * (w->y[i] - mean);
        total = k > 1 && ss > 0 ? ss / (double)(k - 1) : 1.0;
        *QE = NAN;
    }
    double tau2[64], rho = 0.0, ll0;
    for (size_t j = 0; j < w->ntau; j++) tau2[j] = total;
    if (w->has_rho) rho = 0.5;
    nat_theta(w, tau2, rho, th);
    if (traj_eval(w, tau2, rho, &ll0, NULL, NULL) != EV_OK) {
        if (w->has_rho) { rho = 0.0; nat_theta(w, tau2, rho, th); }
        if (traj_eval(w, tau2, rho, &ll0, NULL, NULL) != EV_OK) return MP_FAIL(MP_ESING);
    }
    return MP_OK;
}

/* Coefficient names as metafor prints them for each model. */
static void coef_name(mp_traj_model m, size_t j, const double *ut, char *buf, size_t n)
{
    char num[40];
    if (m == MP_TRAJ_FACTOR) {
        fmt_num(num, sizeof num, ut[j]);
        snprintf(buf, n, "time=%s", num);
    } else if (j == 0) {
        snprintf(buf, n, "intrcpt");
    } else if (j == 1) {
        snprintf(buf, n, "log(time)");
    } else if (m == MP_TRAJ_QUADRATIC) {
        snprintf(buf, n, "I(log(time)^2)");
    } else {
        snprintf(buf, n, "rcs(log(time))%zu", j - 1);
    }
}

/* Step 6: the result at the optimum: coefficients with Wald tests and CIs,
 * variance components, fit statistics, the fitted curve and its onset, peak
 * and offset.  R's arrays are allocated here (MP_ENOMEM). */
static mp_status fill_result(mp_traj_result *R, const traj_ws *w, const mp_traj_opts *o,
                             const double *ut, const double *kn, size_t nk, const double *tau2,
                             double rho, double ll, double QE)
{
    size_t k = w->k, p = w->p, L = w->L;
    int rho_struct = o->structure != MP_TRAJ_INT && o->structure != MP_TRAJ_ID;
    R->k = k; R->n_studies = w->S; R->n_times = L; R->model = o->model;
    R->structure = o->structure; R->phi = o->phi; R->level = o->level; R->p = p; R->n_knots = nk;
    memcpy(R->knots, kn, nk * sizeof *kn);
    R->times = dalloc(L);
    R->coef = calloc(p, sizeof *R->coef);
    R->vb = dalloc(p * p);
    R->n_tau2 = w->ntau;
    R->tau2 = dalloc(w->ntau);
    size_t ncurve = o->model == MP_TRAJ_FACTOR ? L : (o->ngrid < 2 ? 2 : o->ngrid);
    R->curve = calloc(ncurve, sizeof *R->curve);
    if (!R->times || !R->coef || !R->vb || !R->tau2 || !R->curve) return MP_FAIL(MP_ENOMEM);
    memcpy(R->times, ut, L * sizeof *ut);
    memcpy(R->vb, w->Ainv, p * p * sizeof *R->vb);
    memcpy(R->tau2, tau2, w->ntau * sizeof *tau2);
    R->rho = rho_struct ? rho : NAN;
    R->logLik = ll;
    R->QE = QE;
    R->QE_df = (double)(k - p);
    R->QE_pval = isfinite(QE) ? mp_pchisq_upper(QE, (double)(k - p)) : NAN;
    if (rho_struct && !w->has_rho) R->warn |= MP_TRAJ_WARN_RHO_FIXED;
    double z = mp_qnorm_upper((1.0 - o->level / 100.0) / 2.0);
    for (size_t j = 0; j < p; j++) {
        mp_traj_coef *c = &R->coef[j];
        coef_name(o->model, j, ut, c->name, sizeof c->name);
        c->estimate = w->beta[j];
        c->se = sqrt(w->Ainv[j * p + j]);
        c->stat = c->estimate / c->se;
        c->pval = 2.0 * gsl_cdf_ugaussian_Q(fabs(c->stat));
        c->ci_lb = c->estimate - z * c->se;
        c->ci_ub = c->estimate + z * c->se;
    }
    R->n_curve = ncurve;
    for (size_t i = 0; i < ncurve; i++) {
        double t;
        if (o->model == MP_TRAJ_FACTOR) t = ut[i];
        else if (i + 1 == ncurve) t = ut[L - 1];
        else if (i == 0) t = ut[0];
        else
            t = exp(log(ut[0]) + (log(ut[L - 1]) - log(ut[0])) * (double)i / (double)(ncurve - 1));
        mp_traj_predict(R, t, &R->curve[i]);
    }
    curve_features(R);
    return MP_OK;
}

mp_status mp_traj_fit(const double *y, const double *v, const double *time,
                      const size_t *study, size_t k, const mp_traj_opts *o,
                      mp_traj_result *res, mp_error *err)
{
    mp_blas_single_thread();
    if (!y || !v || !time || !study || !o || !res) return MP_FAIL(MP_EINVAL);
    if ((unsigned)o->model >= MP_TRAJ_MODEL_COUNT || (unsigned)o->structure >= MP_TRAJ_STRUCT_COUNT ||
        !(o->phi >= 0 && o->phi <= 1) || !(o->level > 0 && o->level < 100) || !(o->epsabs > 0))
        return MP_FAIL(MP_EINVAL);
    if (k == 0) return MP_FAIL(MP_ETOOFEW);
    mp_status status = check_inputs(y, v, time, k, o, err);
    if (status != MP_OK) return status;
    traj_ws w;
    memset(&w, 0, sizeof w);
    mp_traj_result R;
    memset(&R, 0, sizeof R);
    size_t kbytes = mp_mul_size(k, sizeof(row_key));
    row_key *key = kbytes ? malloc(kbytes) : NULL;
    double *ut = dalloc(k);
    if (!key || !ut) { status = MP_FAIL(MP_ENOMEM); goto fail; }
    for (size_t i = 0; i < k; i++) { key[i] = (row_key){study[i], time[i], i}; ut[i] = time[i]; }
    qsort(key, k, sizeof *key, cmp_row);
    size_t L = 0, nk = 0, p = 0;
    double kn[8] = {0};
    status = model_times(ut, k, o, &L, kn, &nk, &p, err);
    if (status == MP_OK) status = build_workspace(&w, y, v, time, key, k, p, ut, L, kn, nk, o);
    double th[64], QE, hm;
    if (status == MP_OK) status = start_values(&w, th, &QE, &hm);
    if (status != MP_OK) goto fail;

    /* Step 5: maximise the restricted likelihood (optimise()), then
     * evaluate at the optimum with pinned boundary components */
    pin_state ps;
    memset(&ps, 0, sizeof ps);
    size_t niter = 0;
    double gmax = HUGE_VAL, tau2[64], rho, ll;
    int conv = optimise(&w, th, &ps, o, hm, &niter, &gmax);
    if (conv < 0) { status = MP_FAIL(MP_ENOMEM); goto fail; }
    theta_nat(&w, th, tau2, &rho);
    for (size_t j = 0; j < w.ntau; j++)
        if (ps.pin[j]) tau2[j] = ps.val[j];
    if (w.has_rho && ps.pin[w.ntau]) rho = ps.val[w.ntau];
    int ev = traj_eval(&w, tau2, rho, &ll, NULL, NULL);
    if (ev != EV_OK) { status = MP_FAIL(ev == EV_SING ? MP_ESING : MP_ENOCONV); goto fail; }

    status = fill_result(&R, &w, o, ut, kn, nk, tau2, rho, ll, QE);
    if (status != MP_OK) goto fail;
    R.niter = niter;
    R.grad_max = gmax;
    R.converged = conv;
    for (size_t q = 0; q < w.nth; q++)
        if (ps.pin[q]) R.warn |= MP_TRAJ_WARN_BOUNDARY;
    *res = R;
    free(key);
    free(ut);
    ws_free(&w);
    return conv ? MP_OK : MP_FAIL(MP_ENOCONV);
fail:
    mp_traj_result_free(&R);
    free(key);
    free(ut);
    ws_free(&w);
    return status;
}

mp_status mp_traj_windows(const double *y, const double *v, const double *time, size_t k,
                          const double *times, size_t n_times, double level,
                          mp_pool_result *win, mp_status *wst)
{
    double *wy = malloc((k ? k : 1) * sizeof *wy), *wv = malloc((k ? k : 1) * sizeof *wv);
    mp_pool_workspace *pw = mp_pool_workspace_alloc(k ? k : 1);
    if (!wy || !wv || !pw) {
        free(wy);
        free(wv);
        mp_pool_workspace_free(pw);
        return MP_FAIL(MP_ENOMEM);
    }
    mp_pool_opts po;
    mp_pool_opts_init(&po);
    po.level = level;
    po.tau2_ci = 0;
    for (size_t w = 0; w < n_times; w++) {
        size_t n = 0;
        for (size_t i = 0; i < k; i++)
            if (time[i] == times[w]) { wy[n] = y[i]; wv[n] = v[i]; n++; }
        memset(&win[w], 0, sizeof win[w]);
        wst[w] = mp_pool(wy, wv, n, &po, pw, &win[w]);
        win[w].k = n;
        if (wst[w] != MP_OK && wst[w] != MP_ENOCONV) {
            win[w].estimate = win[w].ci_lb = win[w].ci_ub = win[w].tau2 = NAN;
            win[w].se = win[w].pval = win[w].I2 = NAN;
        }
    }
    free(wy);
    free(wv);
    mp_pool_workspace_free(pw);
    return MP_OK;
}
