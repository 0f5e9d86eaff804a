/* src/reg.c - mixed-effects meta-regression with ten tau^2 estimators.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Definitions follow metafor 3.8's rma.uni() with moderators (Viechtbauer
 * 2010, J Stat Softw 36(3); Viechtbauer 2005, J Educ Behav Stat 30:261;
 * Knapp & Hartung 2003, Stat Med 22:2693; formulas collected in
 * notes/metafor_formulas.md sections 1-6, general-X forms).
 *
 * Linear algebra.  For weights w (W = diag w, S = W^(1/2)) metafor's
 * projector is P = W - W X (X'WX)^-1 X'W = S (I - H) S, where H = Q Q' is
 * the hat matrix of S X = Q R (thin QR, Householder, LAPACKE dgeqrf).  All
 * quantities the estimators need follow from Q (k x p), its row norms
 * h_i = ||q_i||^2 (leverages) and p x p products, never from a k x k matrix:
 *   y'Py          = ||(I - H) S y||^2   = sum of squares of the last k-p
 *                   entries of Q_full' S y (no cancellation),
 *   P y           = W e,  e = y - X b   (b the GLS estimate),
 *   tr P          = sum w_i (1 - h_i)  (= sum w - tr((X'WX)^-1 X'W^2 X)),
 *   tr((I-H) A (I-H) B) = sum a_i b_i (1 - 2 h_i) + <Q'AQ, Q'BQ>_F
 *                   for diagonal A, B; with A = B = W this is tr(PP), with
 *                   A = B = V and W = I it is tr(P_ols V P_ols V), and so on.
 * (X'WX)^-1 = R^-1 R^-T comes from LAPACKE dpotri on R.
 *
 * Iterative estimators are solved to the converged optimum (relative change
 * epsrel, default 1e-12), not to metafor's stopping rule |change| < 1e-5:
 * REML and ML by Newton steps on the score with Fisher scoring where the
 * Newton slope has the wrong sign and bisection inside a bracket that is
 * tightened at every step (as src/pool.c does for X = 1); EB by the same
 * safeguarded Newton on Q(tau2) = k - p; PM by GSL's Brent solver. */
#include "metapool/reg.h"
#include "metapool/pool.h"
#include "internal.h"

#include <cblas.h>
#include <float.h>
#include "metapool/quantile.h"
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_roots.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void mp_reg_opts_init(mp_reg_opts *o)
{
    if (!o) return;
    o->method = MP_METHOD_REML;
    o->test = MP_TEST_Z;
    o->level = 95.0;
    o->epsrel = 1e-12;
    o->maxiter = 1000;
    o->intercept = 1;
    o->r2 = 1;
}

void mp_reg_result_free(mp_reg_result *res)
{
    if (!res) return;
    free(res->beta); /* one block holds every p-array and vb */
    res->beta = res->se = res->stat = res->pval = res->ci_lb = res->ci_ub = res->vb = NULL;
}

/* ---- workspace: one weighted least-squares problem ------------------- */

typedef struct regws {
    size_t k, p;
    const double *X, *y, *v; /* the data (X column-major k x p) */
    double *w;     /* k weights */
    double *s;     /* k square roots of the weights */
    double *A;     /* k x p: Householder QR factors of S X */
    double *tq;    /* p Householder scalars */
    double *Q;     /* k x p: explicit thin Q */
    double *h;     /* k leverages ||q_i||^2 */
    double *z;     /* k: Q_full' S y */
    double *e;     /* k residuals y - X b */
    double *u;     /* k scratch */
    double *B;     /* k x p scratch (row-scaled Q) */
    double *M1;    /* p x p scratch */
    double *M2;    /* p x p scratch */
    double *beta;  /* p GLS estimates */
    double rss;    /* y'Py = sum w e^2 */
    double logdet; /* log |X'WX| = 2 sum log |R_jj| */
    gsl_root_fsolver *brent;
} regws;

static void regws_free(regws *ws)
{
    if (!ws) return;
    free(ws->w);
    if (ws->brent) gsl_root_fsolver_free(ws->brent);
}

static mp_status regws_init(regws *ws, const double *X, const double *y, const double *v,
                            size_t k, size_t p)
{
    memset(ws, 0, sizeof *ws);
    ws->k = k;
    ws->p = p;
    ws->X = X;
    ws->y = y;
    ws->v = v;
    /* doubles needed: 6 k-vectors, 3 k x p, 2 p x p, 2 p-vectors */
    size_t kp = mp_mul_size(k, p), pp = mp_mul_size(p, p);
    if (!kp || !pp) return MP_FAIL(MP_ENOMEM);
    size_t n = 6 * k + 3 * kp + 2 * pp + 2 * p;
    size_t bytes = mp_mul_size(n, sizeof(double));
    if (!bytes || n < kp) return MP_FAIL(MP_ENOMEM);
    double *b = malloc(bytes);
    if (!b) return MP_FAIL(MP_ENOMEM);
    ws->w = b;           b += k;
    ws->s = b;           b += k;
    ws->h = b;           b += k;
    ws->z = b;           b += k;
    ws->e = b;           b += k;
    ws->u = b;           b += k;
    ws->A = b;           b += kp;
    ws->Q = b;           b += kp;
    ws->B = b;           b += kp;
    ws->M1 = b;          b += pp;
    ws->M2 = b;          b += pp;
    ws->tq = b;          b += p;
    ws->beta = b;
    ws->brent = gsl_root_fsolver_alloc(gsl_root_fsolver_brent);
    if (!ws->brent) { regws_free(ws); return MP_FAIL(MP_ENOMEM); }
    return MP_OK;
}

static void set_weights(regws *ws, double tau2)
{
    for (size_t i = 0; i < ws->k; i++) ws->w[i] = 1.0 / (ws->v[i] + tau2);
}

/* Weighted least squares at the weights in ws->w: QR of S X, thin Q,
 * leverages, GLS estimate, residuals, y'Py and log|X'WX|. */
static mp_status wls(regws *ws)
{
    const size_t k = ws->k, p = ws->p;
    const lapack_int lk = (lapack_int)k, lp = (lapack_int)p;
    for (size_t i = 0; i < k; i++) {
        if (!(ws->w[i] > 0) || !isfinite(ws->w[i])) return MP_FAIL(MP_EDOM);
        ws->s[i] = sqrt(ws->w[i]);
    }
    for (size_t j = 0; j < p; j++)
        for (size_t i = 0; i < k; i++) ws->A[i + j * k] = ws->s[i] * ws->X[i + j * k];
    if (LAPACKE_dgeqrf(LAPACK_COL_MAJOR, lk, lp, ws->A, lk, ws->tq) != 0)
        return MP_FAIL(MP_ESING);
    double ld = 0;
    for (size_t j = 0; j < p; j++) {
        double r = fabs(ws->A[j + j * k]);
        if (!(r > 0) || !isfinite(r)) return MP_FAIL(MP_ESING);
        ld += log(r);
    }
    ws->logdet = 2.0 * ld;
    memcpy(ws->Q, ws->A, k * p * sizeof(double));
    if (LAPACKE_dorgqr(LAPACK_COL_MAJOR, lk, lp, lp, ws->Q, lk, ws->tq) != 0)
        return MP_FAIL(MP_ESING);
    for (size_t i = 0; i < k; i++) {
        double hi = 0;
        for (size_t j = 0; j < p; j++) hi += ws->Q[i + j * k] * ws->Q[i + j * k];
        ws->h[i] = hi;
    }
    /* z = Q_full' S y; b = R^-1 z[0..p); S e = Q_full [0; z[p..k)] */
    for (size_t i = 0; i < k; i++) ws->z[i] = ws->s[i] * ws->y[i];
    if (LAPACKE_dormqr(LAPACK_COL_MAJOR, 'L', 'T', lk, 1, lp, ws->A, lk, ws->tq, ws->z, lk) != 0)
        return MP_FAIL(MP_ESING);
    double rss = 0;
    for (size_t i = p; i < k; i++) rss += ws->z[i] * ws->z[i];
    ws->rss = rss;
    memcpy(ws->beta, ws->z, p * sizeof(double));
    cblas_dtrsv(CblasColMajor, CblasUpper, CblasNoTrans, CblasNonUnit, (int)p, ws->A, (int)k,
                ws->beta, 1);
    for (size_t i = 0; i < k; i++) ws->u[i] = i < p ? 0.0 : ws->z[i];
    if (LAPACKE_dormqr(LAPACK_COL_MAJOR, 'L', 'N', lk, 1, lp, ws->A, lk, ws->tq, ws->u, lk) != 0)
        return MP_FAIL(MP_ESING);
    for (size_t i = 0; i < k; i++) ws->e[i] = ws->u[i] / ws->s[i];
    for (size_t j = 0; j < p; j++)
        if (!isfinite(ws->beta[j])) return MP_FAIL(MP_ESING);
    return MP_OK;
}

/* M = Q' diag(a) Q (upper triangle), a >= 0. */
static void qaq(regws *ws, const double *a, double *M)
{
    const size_t k = ws->k, p = ws->p;
    for (size_t j = 0; j < p; j++)
        for (size_t i = 0; i < k; i++) ws->B[i + j * k] = sqrt(a[i]) * ws->Q[i + j * k];
    cblas_dsyrk(CblasColMajor, CblasUpper, CblasTrans, (int)p, (int)k, 1.0, ws->B, (int)k, 0.0,
                M, (int)p);
}

/* tr((I - H) diag(a) (I - H) diag(b)) for a, b >= 0 (b may equal a). */
static double tr_ihih(regws *ws, const double *a, const double *b)
{
    const size_t k = ws->k, p = ws->p;
    double t = 0;
    for (size_t i = 0; i < k; i++) t += a[i] * b[i] * (1.0 - 2.0 * ws->h[i]);
    qaq(ws, a, ws->M1);
    const double *M2 = ws->M1;
    if (b != a) { qaq(ws, b, ws->M2); M2 = ws->M2; }
    double f = 0;
    for (size_t j = 0; j < p; j++) {
        f += ws->M1[j + j * p] * M2[j + j * p];
        for (size_t i = 0; i < j; i++) f += 2.0 * ws->M1[i + j * p] * M2[i + j * p];
    }
    return t + f;
}

/* tr P = sum w (1 - h). */
static double tr_p(const regws *ws)
{
    double t = 0;
    for (size_t i = 0; i < ws->k; i++) t += ws->w[i] * (1.0 - ws->h[i]);
    return t;
}

/* x'Px = ||(I - H) S x||^2, via the Householder factors (uses ws->u). */
static double quad_p(regws *ws, const double *x)
{
    const size_t k = ws->k, p = ws->p;
    for (size_t i = 0; i < k; i++) ws->u[i] = ws->s[i] * x[i];
    if (LAPACKE_dormqr(LAPACK_COL_MAJOR, 'L', 'T', (lapack_int)k, 1, (lapack_int)p, ws->A,
                       (lapack_int)k, ws->tq, ws->u, (lapack_int)k) != 0)
        return NAN;
    double q = 0;
    for (size_t i = p; i < k; i++) q += ws->u[i] * ws->u[i];
    return q;
}

static double sum(const double *a, size_t k)
{
    double s = 0;
    for (size_t i = 0; i < k; i++) s += a[i];
    return s;
}

static double sum_sq(const double *a, size_t k)
{
    double s = 0;
    for (size_t i = 0; i < k; i++) s += a[i] * a[i];
    return s;
}

/* ---- the Hedges (HE) estimator: OLS projector ------------------------- */

/* tau2_HE = (y'P_ols y - tr(P_ols V))/(k - p); also tr(P_ols V) and
 * tr(P_ols V P_ols V) for its SE.  Leaves ws at unit weights. */
static mp_status tau2_he(regws *ws, double *tau2, double *trPV, double *trPVPV)
{
    const size_t k = ws->k;
    for (size_t i = 0; i < k; i++) ws->w[i] = 1.0;
    mp_status s = wls(ws);
    if (s != MP_OK) return s;
    double t = 0;
    for (size_t i = 0; i < k; i++) t += ws->v[i] * (1.0 - ws->h[i]);
    *trPV = t;
    *trPVPV = tr_ihih(ws, ws->v, ws->v);
    *tau2 = (ws->rss - t) / (double)(k - ws->p);
    return MP_OK;
}

/* ---- safeguarded Newton for estimating equations g(tau2) = 0 --------- */

typedef enum { EQ_REML, EQ_ML, EQ_EB } eqkind;

/* g, g' and the Fisher-scoring scale of the estimating equation at tau2. */
static mp_status eq_eval(eqkind kind, regws *ws, double tau2, double *g, double *dg,
                         double *fisher)
{
    const size_t k = ws->k, p = ws->p;
    set_weights(ws, tau2);
    mp_status s = wls(ws);
    if (s != MP_OK) return s;
    /* u = P y = W e; y'PPy = ||W e||^2; y'PPPy = (We)' P (We) */
    double *we = ws->B; /* k scratch (B is only used inside qaq) */
    for (size_t i = 0; i < k; i++) we[i] = ws->w[i] * ws->e[i];
    double yppy = sum_sq(we, k);
    switch (kind) {
    case EQ_REML: { /* twice the score of the restricted likelihood */
        double ypppy = quad_p(ws, we);
        double trP = tr_p(ws), trPP = tr_ihih(ws, ws->w, ws->w);
        *g = yppy - trP;
        *dg = -2.0 * ypppy + trPP;
        *fisher = trPP;
        break;
    }
    case EQ_ML: {
        double ypppy = quad_p(ws, we), s2 = sum_sq(ws->w, k);
        *g = yppy - sum(ws->w, k);
        *dg = -2.0 * ypppy + s2;
        *fisher = s2;
        break;
    }
    case EQ_EB: /* Morris: Q k/(k-p) = k, i.e. Q(tau2) = k - p; dQ/dtau2 = -y'PPy */
        *g = ws->rss - (double)(k - p);
        *dg = -yppy;
        *fisher = sum(ws->w, k) * (double)(k - p) / (double)k; /* metafor's EB step scale */
        break;
    }
    return MP_OK;
}

typedef struct {
    eqkind kind;
    regws *ws;
} eq_ctx;

static mp_status eq_cb(void *ctx, double x, double *g, double *dg, double *fi)
{
    const eq_ctx *c = ctx;
    return eq_eval(c->kind, c->ws, x, g, dg, fi);
}

/* Solve g(tau2) = 0 on (lo, hi) given g(lo) > 0 >= g(hi) (hi may be
 * infinite): the safeguarded Newton solve of src/models/root.c. */
static mp_status solve_eq(eqkind kind, regws *ws, double lo, double hi, double start,
                          const mp_reg_opts *o, double *root, size_t *niter)
{
    eq_ctx c = {kind, ws};
    return mp_root_solve(eq_cb, &c, lo, hi, start, o->epsrel, o->maxiter, root, niter);
}

/* ---- the global maximum of ML / REML ------------------------------------ */

/* Twice the (restricted) log-likelihood at tau2, constants dropped:
 * -sum log(v + tau2) - y'Py [- log |X'WX|]. */
static mp_status loglik2(eqkind kind, regws *ws, double t, double *ll)
{
    set_weights(ws, t);
    mp_status s = wls(ws);
    if (s != MP_OK) return s;
    double l = 0;
    for (size_t i = 0; i < ws->k; i++) l -= log(ws->v[i] + t);
    *ll = l - ws->rss - (kind == EQ_REML ? ws->logdet : 0.0);
    return MP_OK;
}

#define ML_GRID_N 24
#define ML_GRID_LO 1e-6

/* The global maximum on [0, inf) of the ML or REML likelihood (issue 11;
 * the same rule as src/models/pool.c).  With c the mean of y (models with
 * an intercept) or 0, R = max |y_i - c| bounds the weighted residuals
 * (y'Py <= sum w (y - c)^2 since the GLS fit minimises it), so the ML score
 * sum w^2 e^2 - sum w <= sum w (w R^2 - 1) < 0 once tau2 >= R^2; REML's
 * bound starts at 2 R^2 and both are doubled until the score there is
 * negative.  The score's sign on a geometric grid of 24 points over
 * [1e-6 T, T] brackets every stationary point the grid resolves; each
 * local maximum is solved in its cell, 0 is a candidate when the score
 * there is not positive, and the highest likelihood wins. */
static mp_status ml_global(eqkind kind, regws *ws, const mp_reg_opts *o, double *tau2,
                           size_t *niter)
{
    const size_t k = ws->k;
    double g0, g, dg, fi, c = 0, R = 0;
    mp_status st = eq_eval(kind, ws, 0.0, &g0, &dg, &fi);
    if (st != MP_OK) return st;
    if (o->intercept) c = sum(ws->y, k) / (double)k;
    for (size_t i = 0; i < k; i++) R = fmax(R, fabs(ws->y[i] - c));
    *niter = 0; /* iterations of the root solves; 1 when none was needed */
    *tau2 = 0.0;
    double T = (kind == EQ_REML ? 2.0 : 1.0) * R * R;
    if (!(T > 0)) T = 1.0;
    for (int i = 0; i < 64; i++, T *= 2.0) {
        if ((st = eq_eval(kind, ws, T, &g, &dg, &fi)) != MP_OK) return st;
        if (g < 0) break;
    }
    if (!(g < 0) || !isfinite(T)) return MP_FAIL(MP_ENOCONV);
    const double ratio = pow(1.0 / ML_GRID_LO, 1.0 / (ML_GRID_N - 1));
    double best = 0.0, best_ll = NAN, prev_t = 0.0, prev_g = g0, t = T * ML_GRID_LO;
    int have = 0;
    mp_status bad = MP_OK;
    if (!(g0 > 0)) {
        if ((st = loglik2(kind, ws, 0.0, &best_ll)) != MP_OK) return st;
        have = 1;
    }
    for (int j = 0; j < ML_GRID_N; j++, t = j == ML_GRID_N - 1 ? T : t * ratio) {
        if ((st = eq_eval(kind, ws, t, &g, &dg, &fi)) != MP_OK) return st;
        if (prev_g > 0 && !(g > 0)) {
            double root, ll;
            size_t it = 0;
            st = solve_eq(kind, ws, prev_t, t, prev_t > 0 ? sqrt(prev_t * t) : 0.5 * t, o, &root,
                          &it);
            *niter += it;
            if (st != MP_OK) bad = st;
            else if ((st = loglik2(kind, ws, root, &ll)) != MP_OK) return st;
            else if (!have || ll > best_ll) { best = root; best_ll = ll; have = 1; }
        }
        prev_t = t;
        prev_g = g;
    }
    if (*niter == 0) *niter = 1;
    if (!have) return bad != MP_OK ? bad : MP_FAIL(MP_ENOCONV);
    *tau2 = best;
    return bad;
}

/* ---- Paule-Mandel: Brent on the generalised Q ------------------------- */

typedef struct {
    regws *ws;
    double target;
} qgen_params;

static double qgen_fn(double tau2, void *par)
{
    qgen_params *q = par;
    set_weights(q->ws, tau2);
    if (wls(q->ws) != MP_OK) return NAN;
    return q->ws->rss - q->target;
}

static mp_status tau2_pm(regws *ws, double QE, double trP, const mp_reg_opts *o, double *tau2,
                         size_t *niter)
{
    double df = (double)(ws->k - ws->p);
    if (QE <= df) { *tau2 = 0.0; return MP_OK; }
    qgen_params qp = {ws, df};
    /* an upper bracket: double from a DL-sized start until Q(hi) < k - p */
    double hi = fmax(100.0, 10.0 * fmax(0.0, (QE - df) / trP)), f = NAN;
    for (int i = 0; i < 2100 && isfinite(hi); i++, hi *= 2) {
        f = qgen_fn(hi, &qp);
        if (!(f >= 0)) break;
    }
    if (!(f < 0)) return MP_FAIL(MP_ENOCONV);
    gsl_function F = {qgen_fn, &qp};
    if (gsl_root_fsolver_set(ws->brent, &F, 0.0, hi) != GSL_SUCCESS) return MP_FAIL(MP_ENOCONV);
    for (size_t it = 1; it <= o->maxiter; it++) {
        *niter = it;
        if (gsl_root_fsolver_iterate(ws->brent) != GSL_SUCCESS) return MP_FAIL(MP_ENOCONV);
        double a = gsl_root_fsolver_x_lower(ws->brent), b = gsl_root_fsolver_x_upper(ws->brent);
        *tau2 = gsl_root_fsolver_root(ws->brent);
        if (gsl_root_test_interval(a, b, DBL_MIN, o->epsrel) == GSL_SUCCESS || a == b)
            return MP_OK;
    }
    return MP_FAIL(MP_ENOCONV);
}

/* ---- rank check --------------------------------------------------------- */

mp_status mp_reg_check_rank(const double *X, size_t k, size_t p, double tol, size_t *col)
{
    mp_blas_single_thread();
    if (!X || p == 0) return MP_FAIL(MP_EINVAL);
    if (k < p) return MP_FAIL(MP_ETOOFEW);
    if (!(tol > 0)) tol = 1e-7;
    size_t kp = mp_mul_size(k, p);
    size_t bytes = mp_mul_size(kp + p, sizeof(double));
    if (!kp || !bytes) return MP_FAIL(MP_ENOMEM);
    double *A = malloc(bytes);
    if (!A) return MP_FAIL(MP_ENOMEM);
    double *tq = A + kp;
    memcpy(A, X, kp * sizeof(double));
    mp_status st = MP_OK;
    if (LAPACKE_dgeqrf(LAPACK_COL_MAJOR, (lapack_int)k, (lapack_int)p, A, (lapack_int)k, tq) != 0) {
        st = MP_FAIL(MP_ESING);
        if (col) *col = 0;
    } else {
        for (size_t j = 0; j < p; j++) {
            double nrm = cblas_dnrm2((int)k, X + j * k, 1);
            if (!(nrm > 0) || !(fabs(A[j + j * k]) > tol * nrm)) {
                if (col) *col = j;
                st = MP_FAIL(MP_ESING);
                break;
            }
        }
    }
    free(A);
    return st;
}

/* ---- the fit ------------------------------------------------------------- */

static mp_status result_alloc(mp_reg_result *r, size_t p)
{
    size_t pp = mp_mul_size(p, p), n = pp + 6 * p;
    size_t bytes = mp_mul_size(n, sizeof(double));
    if (!pp || !bytes || n < pp) return MP_FAIL(MP_ENOMEM);
    double *b = malloc(bytes);
    if (!b) return MP_FAIL(MP_ENOMEM);
    for (size_t i = 0; i < n; i++) b[i] = NAN;
    r->beta = b;
    r->se = b + p;
    r->stat = b + 2 * p;
    r->pval = b + 3 * p;
    r->ci_lb = b + 4 * p;
    r->ci_ub = b + 5 * p;
    r->vb = b + 6 * p;
    return MP_OK;
}

static void result_nan(mp_reg_result *r)
{
    r->df = r->s2w = r->tau2 = r->tau2_se = r->I2 = r->H2 = r->R2 = r->tau2_RE = r->vt = NAN;
    r->QE = r->QE_df = r->QE_pval = r->QM = r->QM_df = r->QM_pval = NAN;
}

/* QM: Wald test of beta[b0..p) with covariance vb (already knha-scaled). */
static mp_status wald(const mp_reg_result *r, size_t b0, double *out)
{
    size_t p = r->p, m = p - b0;
    double *L = malloc(mp_mul_size(m * m + m, sizeof(double)));
    if (!L) return MP_FAIL(MP_ENOMEM);
    double *x = L + m * m;
    for (size_t j = 0; j < m; j++) {
        x[j] = r->beta[b0 + j];
        for (size_t i = 0; i < m; i++) L[i + j * m] = r->vb[(b0 + i) + (b0 + j) * p];
    }
    mp_status st = MP_OK;
    lapack_int lm = (lapack_int)m;
    if (LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'U', lm, L, lm) != 0 ||
        LAPACKE_dpotrs(LAPACK_COL_MAJOR, 'U', lm, 1, L, lm, x, lm) != 0) {
        st = MP_FAIL(MP_ESING);
    } else {
        double q = 0;
        for (size_t j = 0; j < m; j++) q += r->beta[b0 + j] * x[j];
        *out = q;
    }
    free(L);
    return st;
}

/* The FE quantities the estimators and the SEs of tau^2 need. */
typedef struct fe_stats {
    double QE;      /* residual Q under the weights 1/v */
    double trP;     /* tr(P) at tau2 = 0 */
    double trPP;    /* tr(PP) at tau2 = 0 */
    double sw;      /* sum of 1/v */
} fe_stats;

/* Step 2 of a fit: tau^2 by the estimator o->method from the FE
 * quantities; *se2 its variance for HE and SJ (NaN otherwise).  Negative
 * closed forms are truncated at 0 (MP_WARN_TRUNC). */
static mp_status estimate_tau2(regws *ws, const fe_stats *f, const mp_reg_opts *o,
                               mp_reg_result *r, double *tau2_out, double *se2_out)
{
    const size_t k = ws->k, p = ws->p;
    const double kk = (double)k, df = (double)(k - p);
    const double *y = ws->y, *v = ws->v;
    const mp_method m = o->method;
    const double QE = f->QE, trP_fe = f->trP, sw_fe = f->sw;
    mp_status st;
    double tau2 = 0.0, se2 = NAN;
    switch (m) {
    case MP_METHOD_FE: break;
    case MP_METHOD_DL: tau2 = (QE - df) / trP_fe; break;
    case MP_METHOD_HS: tau2 = (QE - kk) / sw_fe; break;
    case MP_METHOD_HSK: tau2 = (kk / df * QE - kk) / sw_fe; break;
    case MP_METHOD_HE: {
        double trPV, trPVPV;
        if ((st = tau2_he(ws, &tau2, &trPV, &trPVPV)) != MP_OK) return st;
        double t = fmax(tau2, 0.0);
        se2 = (2.0 * trPVPV + 4.0 * t * trPV + 2.0 * t * t * df) / (df * df);
        break;
    }
    case MP_METHOD_SJ: {
        /* start: the biased variance of y (any X), then one Q step */
        double my = sum(y, k) / kk, t0 = 0;
        for (size_t i = 0; i < k; i++) t0 += (y[i] - my) * (y[i] - my);
        t0 /= kk;
        if (!(t0 > 0)) { tau2 = 0.0; break; }
        set_weights(ws, t0);
        if ((st = wls(ws)) != MP_OK) return st;
        tau2 = t0 * ws->rss / df;
        /* P = S(I-H)S at tau0: tr(PVPV) = tr((I-H)D(I-H)D), tr(PPV) =
         * tr((I-H)W(I-H)D), tr(PP) = tr((I-H)W(I-H)W), with D = diag(w v) */
        double *d = ws->e; /* residuals are not needed any more here */
        for (size_t i = 0; i < k; i++) d[i] = ws->w[i] * v[i];
        double trPVPV = tr_ihih(ws, d, d), trPPV = tr_ihih(ws, ws->w, d);
        double trPP = tr_ihih(ws, ws->w, ws->w), t = fmax(tau2, 0.0);
        se2 = t0 * t0 / (df * df) * (2.0 * trPVPV + 4.0 * t * trPPV + 2.0 * t * t * trPP);
        break;
    }
    case MP_METHOD_REML:
    case MP_METHOD_ML:
        st = ml_global(m == MP_METHOD_REML ? EQ_REML : EQ_ML, ws, o, &tau2, &r->niter);
        if (st != MP_OK) {
            r->converged = 0;
            return st == MP_ESING ? st : MP_FAIL(MP_ENOCONV);
        }
        break;
    case MP_METHOD_EB: {
        /* Q(tau2) = k - p: the generalised Q decreases strictly in tau2, so
         * the root is unique (no grid) */
        double he, trPV, trPVPV, g0, dg, fi;
        if ((st = tau2_he(ws, &he, &trPV, &trPVPV)) != MP_OK) return st;
        if ((st = eq_eval(EQ_EB, ws, 0.0, &g0, &dg, &fi)) != MP_OK) return st;
        if (g0 > 0) {
            st = solve_eq(EQ_EB, ws, 0.0, INFINITY, fmax(0.0, he), o, &tau2, &r->niter);
        } else {
            tau2 = 0.0;
            r->niter = 1;
        }
        if (st != MP_OK) {
            r->converged = 0;
            return st == MP_ESING ? st : MP_FAIL(MP_ENOCONV);
        }
        break;
    }
    case MP_METHOD_PM:
        st = tau2_pm(ws, QE, trP_fe, o, &tau2, &r->niter);
        if (st != MP_OK) { r->converged = 0; return st; }
        break;
    default: return MP_FAIL(MP_EINVAL);
    }
    if (tau2 < 0) { tau2 = 0.0; r->warn |= MP_WARN_TRUNC; }
    *tau2_out = tau2;
    *se2_out = se2;
    return MP_OK;
}

/* Step 4: the SE of tau^2 as metafor computes it for each estimator
 * (section 2), and the residual I^2 and H^2. */
static void heterogeneity(regws *ws, const fe_stats *f, mp_method m, double tau2, double se2,
                          mp_reg_result *r)
{
    const size_t k = ws->k, p = ws->p;
    const double kk = (double)k, df = (double)(k - p);
    const double QE = f->QE, trP_fe = f->trP, trPP_fe = f->trPP, sw_fe = f->sw;
    {
        double t = tau2, num = 2.0 * df + 4.0 * t * trP_fe + 2.0 * t * t * trPP_fe;
        switch (m) {
        case MP_METHOD_FE: r->tau2_se = NAN; break;
        case MP_METHOD_DL: r->tau2_se = sqrt(num) / trP_fe; break;
        case MP_METHOD_HS: r->tau2_se = sqrt(num) / sw_fe; break;
        case MP_METHOD_HSK: r->tau2_se = kk / df * sqrt(num) / sw_fe; break;
        case MP_METHOD_HE:
        case MP_METHOD_SJ: r->tau2_se = sqrt(se2); break;
        case MP_METHOD_ML: r->tau2_se = sqrt(2.0 / sum_sq(ws->w, k)); break;
        case MP_METHOD_REML: r->tau2_se = sqrt(2.0 / tr_ihih(ws, ws->w, ws->w)); break;
        case MP_METHOD_EB:
        case MP_METHOD_PM: r->tau2_se = sqrt(2.0 * kk * kk / df) / sum(ws->w, k); break;
        default: break;
        }
    }
    if (m == MP_METHOD_FE) {
        r->I2 = QE > 0 ? fmax(0.0, 100.0 * (QE - df) / QE) : 0.0;
        r->H2 = QE / df;
    } else {
        r->I2 = 100.0 * tau2 / (r->vt + tau2);
        r->H2 = tau2 / r->vt + 1.0;
    }

}

/* Step 5: the coefficients, their covariance (X'WX)^-1 = R^-1 R^-T (knha:
 * times s2w), z or t tests and CIs, and the omnibus test QM. */
static mp_status coefficients(regws *ws, const mp_reg_opts *o, mp_reg_result *r)
{
    const size_t k = ws->k, p = ws->p;
    const double df = (double)(k - p);
    const mp_method m = o->method;
    for (size_t j = 0; j < p; j++) {
        r->beta[j] = ws->beta[j];
        for (size_t i = 0; i < p; i++) r->vb[i + j * p] = i <= j ? ws->A[i + j * k] : 0.0;
    }
    if (LAPACKE_dpotri(LAPACK_COL_MAJOR, 'U', (lapack_int)p, r->vb, (lapack_int)p) != 0)
        return MP_FAIL(MP_ESING);
    for (size_t j = 0; j < p; j++)
        for (size_t i = j + 1; i < p; i++) r->vb[i + j * p] = r->vb[j + i * p];

    const double alpha = 1.0 - o->level / 100.0;
    double crit;
    if (o->test == MP_TEST_KNHA) {
        if (m == MP_METHOD_FE) r->warn |= MP_WARN_FE_KNHA;
        r->s2w = ws->rss <= DBL_EPSILON ? 0.0 : ws->rss / df;
        for (size_t i = 0; i < p * p; i++) r->vb[i] *= r->s2w;
        r->df = df;
        crit = mp_qt_upper(alpha / 2.0, df);
    } else {
        r->s2w = 1.0;
        crit = mp_qnorm_upper(alpha / 2.0);
    }
    for (size_t j = 0; j < p; j++) {
        double se = sqrt(r->vb[j + j * p]);
        r->se[j] = se;
        r->stat[j] = r->beta[j] / se;
        r->pval[j] = o->test == MP_TEST_KNHA ? 2.0 * gsl_cdf_tdist_Q(fabs(r->stat[j]), df)
                                             : 2.0 * gsl_cdf_ugaussian_Q(fabs(r->stat[j]));
        r->ci_lb[j] = r->beta[j] - crit * se;
        r->ci_ub[j] = r->beta[j] + crit * se;
    }

    /* omnibus test: the non-intercept coefficients (all if no intercept or
     * an intercept-only model), metafor's default btt */
    size_t b0 = o->intercept && p > 1 ? 1 : 0, mm = p - b0;
    double qm = NAN;
    if (wald(r, b0, &qm) == MP_OK) {
        r->QM_df = (double)mm;
        if (o->test == MP_TEST_KNHA) {
            r->QM = qm / (double)mm;
            r->QM_pval = gsl_cdf_fdist_Q(r->QM, (double)mm, df);
        } else {
            r->QM = qm;
            r->QM_pval = mp_pchisq_upper(qm, (double)mm);
        }
    }

    return MP_OK;
}

/* Step 6: pseudo R^2 (section 6): only with an intercept and moderators;
 * the intercept-only model by the same estimator. */
static void pseudo_r2(regws *ws, const mp_reg_opts *o, double QE, double tau2, mp_reg_result *r)
{
    const size_t k = ws->k, p = ws->p;
    const double kk = (double)k, df = (double)(k - p);
    const double *y = ws->y, *v = ws->v;
    const mp_method m = o->method;
    if (o->intercept && p > 1 && o->r2) {
        if (m == MP_METHOD_FE) {
            /* adjusted R^2 of lm(y ~ X, weights = 1/v): R^2 = 1 - QE/Q0 with
             * Q0 the weighted total sum of squares about the weighted mean */
            double my = sum(y, k) / kk, vy = 0, sw = 0, swy = 0, q0 = 0;
            for (size_t i = 0; i < k; i++) vy += (y[i] - my) * (y[i] - my);
            for (size_t i = 0; i < k; i++) { sw += 1.0 / v[i]; swy += y[i] / v[i]; }
            for (size_t i = 0; i < k; i++) q0 += (y[i] - swy / sw) * (y[i] - swy / sw) / v[i];
            if (vy == 0) r->R2 = 0.0;
            else r->R2 = fmax(0.0, 100.0 * (1.0 - (QE / q0) * (kk - 1.0) / df));
        } else {
            mp_pool_opts po;
            mp_pool_result pr;
            mp_pool_opts_init(&po);
            po.method = m;
            po.epsrel = o->epsrel;
            po.maxiter = o->maxiter;
            po.tau2_ci = 0;
            if (mp_pool(y, v, k, &po, NULL, &pr) == MP_OK) {
                r->tau2_RE = pr.tau2;
                r->R2 = pr.tau2 == 0 ? 0.0 : fmax(0.0, 100.0 * (pr.tau2 - tau2) / pr.tau2);
            }
        }
    }
}

/* One fit: residual heterogeneity under the FE weights, tau^2, the WLS fit
 * at tau^2, tau^2's SE with I^2 and H^2, the coefficients with their tests,
 * and the pseudo R^2. */
static mp_status fit(regws *ws, const mp_reg_opts *o, mp_reg_result *r)
{
    const size_t k = ws->k, p = ws->p;
    const double df = (double)(k - p);
    mp_status st;

    /* Step 1: residual heterogeneity under the FE weights 1/v (metafor section 3) */
    set_weights(ws, 0.0);
    if ((st = wls(ws)) != MP_OK) return st;
    fe_stats f = {fmax(0.0, ws->rss), tr_p(ws), tr_ihih(ws, ws->w, ws->w), sum(ws->w, k)};
    r->QE = f.QE;
    r->QE_df = df;
    r->QE_pval = mp_pchisq_upper(f.QE, df);
    r->vt = df / f.trP;

    double tau2 = 0.0, se2 = NAN;
    if ((st = estimate_tau2(ws, &f, o, r, &tau2, &se2)) != MP_OK) return st;

    /* Step 3: the fit at the final tau2 */
    set_weights(ws, tau2);
    if ((st = wls(ws)) != MP_OK) return st;
    r->tau2 = tau2;
    heterogeneity(ws, &f, o->method, tau2, se2, r);
    if ((st = coefficients(ws, o, r)) != MP_OK) return st;
    pseudo_r2(ws, o, f.QE, tau2, r);
    return MP_OK;
}

mp_status mp_reg_fit(const double *y, const double *v, const double *X, size_t k, size_t p,
                     const mp_reg_opts *o, mp_reg_result *res)
{
    mp_blas_single_thread();
    mp_reg_opts def;
    if (!o) { mp_reg_opts_init(&def); o = &def; }
    if (!res) return MP_FAIL(MP_EINVAL);
    memset(res, 0, sizeof *res);
    result_nan(res);
    res->k = k;
    res->p = p;
    res->method = o->method;
    res->test = o->test;
    res->level = o->level;
    res->converged = 1;
    if (!y || !v || !X || p == 0) return MP_FAIL(MP_EINVAL);
    if ((unsigned)o->method >= MP_METHOD_COUNT || (unsigned)o->test >= MP_TEST_COUNT ||
        !(o->level > 0 && o->level < 100) || !(o->epsrel > 0) || o->maxiter == 0)
        return MP_FAIL(MP_EINVAL);
    mp_status st = result_alloc(res, p);
    if (st != MP_OK) return st;
    if (k <= p) return MP_FAIL(MP_ETOOFEW);
    /* the range pool supports (MP_POOL_YMAX etc.), and moderators as large:
     * beyond it squares overflow and a fit would not be a number to trust */
    for (size_t i = 0; i < k; i++)
        if (!(fabs(y[i]) <= MP_POOL_YMAX) || !(v[i] >= MP_POOL_VMIN && v[i] <= MP_POOL_VMAX))
            return MP_FAIL(MP_EDOM);
    size_t kp = mp_mul_size(k, p);
    if (!kp) return MP_FAIL(MP_ENOMEM);
    for (size_t i = 0; i < kp; i++)
        if (!(fabs(X[i]) <= MP_POOL_YMAX)) return MP_FAIL(MP_EDOM);
    if ((st = mp_reg_check_rank(X, k, p, 0.0, NULL)) != MP_OK) return st;
    regws ws;
    if ((st = regws_init(&ws, X, y, v, k, p)) != MP_OK) return st;
    st = fit(&ws, o, res);
    regws_free(&ws);
    for (size_t j = 0; st == MP_OK && j < p; j++) /* found by fuzzing (tests/fuzz/regressions) */
        if (!isfinite(res->beta[j]) || !isfinite(res->se[j]) || !isfinite(res->ci_lb[j]) ||
            !isfinite(res->ci_ub[j]))
            st = MP_FAIL(MP_EDOM); /* the data span more than a double can hold */
    if (st != MP_OK) {
        /* nothing half-computed is left behind as if it were a result */
        size_t n = 6 * p + p * p;
        for (size_t i = 0; i < n; i++) res->beta[i] = NAN;
        double QE = res->QE, QE_df = res->QE_df, QE_pval = res->QE_pval, vt = res->vt;
        result_nan(res);
        if (st == MP_ENOCONV) { /* QE does not depend on the estimator */
            res->QE = QE; res->QE_df = QE_df; res->QE_pval = QE_pval; res->vt = vt;
            res->converged = 0;
        }
    }
    return st;
}

/* ---- predictions (metafor's predict.rma) ---- */

void mp_reg_pred_free(mp_reg_pred *pr)
{
    if (!pr) return;
    free(pr->pred); free(pr->se); free(pr->ci_lb); free(pr->ci_ub); free(pr->pi_lb); free(pr->pi_ub);
    memset(pr, 0, sizeof *pr);
}

mp_status mp_reg_predict(const double *beta, const double *vb, size_t p, const double *Xnew,
                         size_t n, double tau2, double df, double level, mp_reg_pred *out)
{
    if (!out) return MP_FAIL(MP_EINVAL);
    memset(out, 0, sizeof *out);
    if (!beta || !vb || !p || (n && !Xnew) || !(level > 0 && level < 100) || !(tau2 >= 0))
        return MP_FAIL(MP_EINVAL);
    size_t m = n ? n : 1;
    out->pred = malloc(m * sizeof(double)); out->se = malloc(m * sizeof(double));
    out->ci_lb = malloc(m * sizeof(double)); out->ci_ub = malloc(m * sizeof(double));
    out->pi_lb = malloc(m * sizeof(double)); out->pi_ub = malloc(m * sizeof(double));
    if (!out->pred || !out->se || !out->ci_lb || !out->ci_ub || !out->pi_lb || !out->pi_ub) {
        mp_reg_pred_free(out);
        return MP_FAIL(MP_ENOMEM);
    }
    out->n = n;
    double a = (1 - level / 100) / 2;
    double crit = isfinite(df) ? gsl_cdf_tdist_Qinv(a, df) : gsl_cdf_ugaussian_Qinv(a);
    for (size_t i = 0; i < n; i++) {
        double pr = 0, vp = 0;
        for (size_t j = 0; j < p; j++) {
            double xj = Xnew[i + j * n];
            pr += xj * beta[j];
            for (size_t l = 0; l < p; l++) vp += xj * vb[j + l * p] * Xnew[i + l * n];
        }
        double se = sqrt(vp > 0 ? vp : 0), sp = sqrt(vp + tau2);
        out->pred[i] = pr;
        out->se[i] = se;
        out->ci_lb[i] = pr - crit * se;
        out->ci_ub[i] = pr + crit * se;
        out->pi_lb[i] = pr - crit * sp;
        out->pi_ub[i] = pr + crit * sp;
    }
    return MP_OK;
}
