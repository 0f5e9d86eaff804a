/* src/diagnostics/selmodel.c - the step-function selection model (mp_bias_selmodel).
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Vevea & Hedges (1995, Psychometrika 60:419) as metafor 3.8-1's
 * selmodel(x, type = "stepfun", steps, alternative = "greater") fits it
 * (.selmodel.ll.stepfun): the one-sided p-value of study i, p_i = 1 -
 * Phi(y_i / sqrt(v_i)), falls in interval j (steps[j-1] < p <= steps[j]);
 * studies there are published with relative probability delta_j (delta_1 = 1),
 * so the log-likelihood is
 *   l = sum_i [ log delta_{g(i)} + log phi(y_i; mu, v_i + tau2) - log A_i ],
 *   A_i = sum_j delta_j P_j,  P_j = P(c_j < Y_i <= c_{j-1}),  Y_i ~ N(mu, v_i + tau2),
 * c_j = sqrt(v_i) Phi^{-1}(1 - steps[j]) (c_0 = +Inf, c_N = -Inf).  metafor
 * maximises it with optim(BFGS) over (beta, log tau2, logistic delta in
 * [0, 100]) and takes SEs from numDeriv's Hessian of l on the natural scale.
 * Here: GSL's BFGS on the same transformed scale, then Newton steps with the
 * analytic gradient and Hessian (derivatives of the normal tail in the
 * comments of sel_eval) to the converged optimum, and SEs from the analytic
 * Hessian.  Always ML: a REML/DL fit is refitted by ML (metafor does too). */
#include "metapool/bias.h"
#include "internal.h"

#include <float.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_multimin.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DELTA_MAX 100.0 /* metafor's delta.max for stepfun */

void mp_selmodel_opts_init(mp_selmodel_opts *o)
{
    if (!o) return;
    memset(o, 0, sizeof *o);
    o->level = 95;
    o->maxiter = 1000;
}

void mp_selmodel_result_free(mp_selmodel_result *res)
{
    if (!res) return;
    free(res->steps);
    free(res->kint);
    free(res->delta);
    free(res->delta_se);
    res->steps = res->delta = res->delta_se = NULL;
    res->kint = NULL;
}

typedef struct {
    size_t k, N;       /* studies, intervals */
    const double *y, *v;
    double *c;         /* k x (N-1) cut points, c[i (N-1) + j] for the upper end of interval j+1 */
    size_t *g;         /* interval of each study, 0..N-1 */
    int fe;            /* tau2 fixed at 0 */
    size_t D;          /* parameters: mu, tau2, delta_2..delta_N  (N + 1) */
    double *work;      /* 4 (N+1) + (N+1)^2 scratch */
} selctx;

/* log-likelihood at th = (mu, tau2, delta_2, ..., delta_N); gradient gr (D)
 * and Hessian H (D x D, row-major) when not NULL.  Derivatives of the upper
 * tail F(u) = Q(u), u = (c - mu)/s, s^2 = v + tau2 (phi the normal density):
 *   dF/dmu = phi/s,              dF/dtau2 = u phi/(2 s^2),
 *   d2F/dmu2 = u phi/s^2,        d2F/dmu dtau2 = (u^2 - 1) phi/(2 s^3),
 *   d2F/dtau2^2 = u (u^2 - 3) phi/(4 s^4);
 * P_1 = F_1, P_j = F_j - F_{j-1}, P_N = 1 - F_{N-1} (computed as the lower tail,
 * as metafor does), A = sum delta_j P_j is linear in delta. */
static double sel_eval(const selctx *cx, const double *th, double *gr, double *H)
{
    size_t N = cx->N, D = cx->D;
    double mu = th[0], tau2 = th[1];
    double *dl = cx->work;          /* N deltas */
    double *P = dl + N;             /* N */
    double *Pm = P + N, *Pt = Pm + N; /* dP/dmu, dP/dtau2 */
    double *Pmm = Pt + N, *Pmt = Pmm + N, *Ptt = Pmt + N;
    dl[0] = 1.0;
    for (size_t j = 1; j < N; j++) dl[j] = th[1 + j];
    if (gr) memset(gr, 0, D * sizeof *gr);
    if (H) memset(H, 0, D * D * sizeof *H);
    long double ll = 0;
    for (size_t i = 0; i < cx->k; i++) {
        double s2 = cx->v[i] + tau2, s = sqrt(s2), r = cx->y[i] - mu;
        const double *c = cx->c + i * (N - 1);
        double Fp = 0, Fmp = 0, Ftp = 0, Fmmp = 0, Fmtp = 0, Fttp = 0; /* F_{j-1} and derivatives */
        for (size_t j = 0; j < N; j++) {
            double F, Fm, Ft, Fmm, Fmt, Ftt;
            if (j + 1 < N) {
                double u = (c[j] - mu) / s, ph = gsl_ran_ugaussian_pdf(u);
                F = gsl_cdf_ugaussian_Q(u);
                Fm = ph / s;
                Ft = u * ph / (2 * s2);
                Fmm = u * ph / s2;
                Fmt = (u * u - 1) * ph / (2 * s2 * s);
                Ftt = u * (u * u - 3) * ph / (4 * s2 * s2);
                P[j] = j == 0 ? F : F - Fp;
            } else {
                F = 1;
                Fm = Ft = Fmm = Fmt = Ftt = 0;
                double u = (c[j - 1] - mu) / s;
                P[j] = gsl_cdf_ugaussian_P(u);
            }
            Pm[j] = Fm - Fmp;
            Pt[j] = Ft - Ftp;
            Pmm[j] = Fmm - Fmmp;
            Pmt[j] = Fmt - Fmtp;
            Ptt[j] = Ftt - Fttp;
            Fp = F; Fmp = Fm; Ftp = Ft; Fmmp = Fmm; Fmtp = Fmt; Fttp = Ftt;
        }
        double A = 0, Am = 0, At = 0, Amm = 0, Amt = 0, Att = 0;
        for (size_t j = 0; j < N; j++) {
            A += dl[j] * P[j];
            Am += dl[j] * Pm[j];
            At += dl[j] * Pt[j];
            Amm += dl[j] * Pmm[j];
            Amt += dl[j] * Pmt[j];
            Att += dl[j] * Ptt[j];
        }
        size_t gi = cx->g[i];
        ll += log(dl[gi]) - 0.5 * log(2 * M_PI * s2) - r * r / (2 * s2) - log(A);
        if (gr) {
            gr[0] += r / s2 - Am / A;
            gr[1] += -1 / (2 * s2) + r * r / (2 * s2 * s2) - At / A;
            for (size_t j = 1; j < N; j++) gr[1 + j] += (gi == j ? 1 / dl[j] : 0) - P[j] / A;
        }
        if (H) {
            /* -log A: -A_ab/A + A_a A_b/A^2; A_{delta_j, theta} = dP_j/dtheta, A_{delta delta} = 0 */
            double a[2] = {Am, At};
            H[0] += -1 / s2 - Amm / A + Am * Am / (A * A);
            H[1] += -r / (s2 * s2) - Amt / A + Am * At / (A * A);
            H[D + 1] += 1 / (2 * s2 * s2) - r * r / (s2 * s2 * s2) - Att / A + At * At / (A * A);
            for (size_t j = 1; j < N; j++) {
                double dpj[2] = {Pm[j], Pt[j]};
                for (size_t t = 0; t < 2; t++)
                    H[t * D + 1 + j] += -dpj[t] / A + a[t] * P[j] / (A * A);
                for (size_t l = 1; l < N; l++) H[(1 + j) * D + 1 + l] += P[j] * P[l] / (A * A);
                if (gi == j) H[(1 + j) * D + 1 + j] -= 1 / (dl[j] * dl[j]);
            }
        }
    }
    if (H)
        for (size_t a = 0; a < D; a++)
            for (size_t b = 0; b < a; b++) H[a * D + b] = H[b * D + a];
    return (double)ll;
}

/* ---- stage 1: BFGS on metafor's scale ---------------------------------- */

typedef struct {
    selctx *cx;
    double *th, *gr; /* natural parameters and gradient */
} bfgsctx;

/* x = (mu, [log tau2], logit(delta/100)...) -> natural th */
static void to_natural(const bfgsctx *b, const gsl_vector *x)
{
    const selctx *cx = b->cx;
    size_t o = 0;
    b->th[0] = gsl_vector_get(x, o++);
    b->th[1] = cx->fe ? 0.0 : exp(gsl_vector_get(x, o++));
    for (size_t j = 1; j < cx->N; j++)
        b->th[1 + j] = DELTA_MAX / (1 + exp(-gsl_vector_get(x, o++)));
}

static double bf_f(const gsl_vector *x, void *p)
{
    bfgsctx *b = p;
    to_natural(b, x);
    double l = sel_eval(b->cx, b->th, NULL, NULL);
    return isfinite(l) ? -l : GSL_POSINF;
}

static void bf_df_fdf(const gsl_vector *x, void *p, double *f, gsl_vector *g)
{
    bfgsctx *b = p;
    const selctx *cx = b->cx;
    to_natural(b, x);
    double l = sel_eval(cx, b->th, b->gr, NULL);
    if (f) *f = isfinite(l) ? -l : GSL_POSINF;
    size_t o = 0;
    gsl_vector_set(g, o++, -b->gr[0]);
    if (!cx->fe) gsl_vector_set(g, o++, -b->gr[1] * b->th[1]);
    for (size_t j = 1; j < cx->N; j++) {
        double d = b->th[1 + j];
        gsl_vector_set(g, o++, -b->gr[1 + j] * d * (DELTA_MAX - d) / DELTA_MAX);
    }
}

static void bf_df(const gsl_vector *x, void *p, gsl_vector *g) { bf_df_fdf(x, p, NULL, g); }
static void bf_fdf(const gsl_vector *x, void *p, double *f, gsl_vector *g) { bf_df_fdf(x, p, f, g); }

static mp_status stage_bfgs(selctx *cx, double *th, size_t maxiter, size_t *niter)
{
    size_t n = cx->N - 1 + (cx->fe ? 1 : 2);
    double *gr = malloc(mp_mul_size(cx->D, sizeof *gr));
    gsl_vector *x = gsl_vector_alloc(n);
    gsl_multimin_fdfminimizer *m = gsl_multimin_fdfminimizer_alloc(gsl_multimin_fdfminimizer_vector_bfgs2, n);
    if (!gr || !x || !m) {
        free(gr);
        if (x) gsl_vector_free(x);
        if (m) gsl_multimin_fdfminimizer_free(m);
        return MP_FAIL(MP_ENOMEM);
    }
    size_t o = 0;
    gsl_vector_set(x, o++, th[0]);
    if (!cx->fe) gsl_vector_set(x, o++, log(th[1] + 0.001)); /* metafor's tau2.init */
    for (size_t j = 1; j < cx->N; j++) {
        double d = th[1 + j];
        gsl_vector_set(x, o++, log(d / (DELTA_MAX - d)));
    }
    bfgsctx b = {cx, th, gr};
    gsl_multimin_function_fdf fn = {bf_f, bf_df, bf_fdf, n, &b};
    mp_status st = MP_OK;
    if (gsl_multimin_fdfminimizer_set(m, &fn, x, 0.01, 0.1) != GSL_SUCCESS) {
        st = MP_FAIL(MP_ENOCONV);
    } else {
        size_t it = 0;
        for (; it < maxiter; it++) {
            int s = gsl_multimin_fdfminimizer_iterate(m);
            if (s) break; /* no further progress: the Newton stage takes over */
            if (gsl_multimin_test_gradient(m->gradient, 1e-8) == GSL_SUCCESS) break;
        }
        *niter += it;
        to_natural(&b, m->x);
        for (size_t i = 0; i < cx->D; i++)
            if (!isfinite(th[i])) st = MP_FAIL(MP_ENOCONV);
    }
    gsl_multimin_fdfminimizer_free(m);
    gsl_vector_free(x);
    free(gr);
    return st;
}

/* ---- stage 2: Newton on the natural scale with active bounds ----------- */

static void project(const selctx *cx, double *th)
{
    if (cx->fe || th[1] < 0) th[1] = 0;
    for (size_t j = 1; j < cx->N; j++) th[1 + j] = fmin(DELTA_MAX, fmax(0.0, th[1 + j]));
}

/* is parameter a held at a bound by the gradient? (tau2 always, for FE) */
static int at_bound(const selctx *cx, const double *th, const double *gr, size_t a)
{
    if (a == 0) return 0;
    if (a == 1) return cx->fe || (th[1] <= 0 && gr[1] <= 0);
    return (th[a] <= 0 && gr[a] <= 0) || (th[a] >= DELTA_MAX && gr[a] >= 0);
}

static mp_status stage_newton(selctx *cx, double *th, size_t maxiter, size_t *niter,
                              int *converged, double *maxgrad)
{
    size_t D = cx->D;
    double *gr = malloc(mp_mul_size(D * (2 * D + 3), sizeof *gr));
    if (!gr) return MP_FAIL(MP_ENOMEM);
    double *H = gr + D, *step = H + D * D, *tn = step + D, *A = tn + D;
    size_t *fr = malloc(mp_mul_size(D, sizeof *fr));
    if (!fr) { free(gr); return MP_FAIL(MP_ENOMEM); }
    /* a tau2 that BFGS drove towards 0 on the log scale starts at the bound */
    if (!cx->fe && th[1] < 1e-10) th[1] = 0;
    project(cx, th);
    *converged = 0;
    mp_status st = MP_OK;
    for (size_t it = 0; it < maxiter; it++) {
        double l = sel_eval(cx, th, gr, H);
        if (!isfinite(l)) { st = MP_FAIL(MP_ENOCONV); break; }
        size_t nf = 0;
        double gmax = 0;
        for (size_t a = 0; a < D; a++)
            if (!at_bound(cx, th, gr, a)) { fr[nf++] = a; gmax = fmax(gmax, fabs(gr[a])); }
        *maxgrad = gmax;
        /* solve (-H_FF) step = g_F; Levenberg damping if -H_FF is not positive definite */
        double lam = 0;
        int ok = 0;
        for (int tries = 0; tries < 60 && !ok; tries++) {
            for (size_t a = 0; a < nf; a++)
                for (size_t b = 0; b < nf; b++)
                    A[a * nf + b] = -H[fr[a] * D + fr[b]] + (a == b ? lam : 0);
            gsl_matrix_view mv = gsl_matrix_view_array(A, nf, nf);
            if (nf == 0 || gsl_linalg_cholesky_decomp1(&mv.matrix) == GSL_SUCCESS) {
                ok = 1;
                if (nf) {
                    gsl_vector_view bv = gsl_vector_view_array(step, nf);
                    for (size_t a = 0; a < nf; a++) step[a] = gr[fr[a]];
                    gsl_linalg_cholesky_svx(&mv.matrix, &bv.vector);
                }
            } else {
                double dmax = 0;
                for (size_t a = 0; a < nf; a++) dmax = fmax(dmax, fabs(H[fr[a] * D + fr[a]]));
                lam = lam == 0 ? 1e-8 * (dmax + 1) : lam * 10;
            }
        }
        if (!ok) { st = MP_FAIL(MP_ENOCONV); break; }
        double alpha = 1, lnew = -INFINITY;
        int accepted = 0;
        for (int h = 0; h < 60; h++) {
            memcpy(tn, th, D * sizeof *tn);
            for (size_t a = 0; a < nf; a++) tn[fr[a]] += alpha * step[a];
            project(cx, tn);
            lnew = sel_eval(cx, tn, NULL, NULL);
            if (isfinite(lnew) && lnew >= l - 1e-13 * (1 + fabs(l))) { accepted = 1; break; }
            alpha /= 2;
        }
        (*niter)++;
        if (!accepted) {
            /* no ascent along the Newton direction: at the optimum to working precision */
            *converged = gmax <= 1e-6 * (1 + fabs(l));
            break;
        }
        double dmax = 0;
        for (size_t a = 0; a < D; a++) dmax = fmax(dmax, fabs(tn[a] - th[a]) / fmax(1.0, fabs(th[a])));
        memcpy(th, tn, D * sizeof *th);
        if (dmax <= 1e-12) {
            sel_eval(cx, th, gr, NULL);
            gmax = 0;
            for (size_t a = 0; a < D; a++)
                if (!at_bound(cx, th, gr, a)) gmax = fmax(gmax, fabs(gr[a]));
            *maxgrad = gmax;
            *converged = 1;
            break;
        }
    }
    free(fr);
    free(gr);
    return st;
}

/* ---- driver ------------------------------------------------------------- */

mp_status mp_bias_selmodel(const double *y, const double *v, size_t k, const mp_selmodel_opts *o,
                           mp_selmodel_result *res)
{
    if (!y || !v || !res) return MP_FAIL(MP_EINVAL);
    memset(res, 0, sizeof *res);
    res->estimate = res->se = res->stat = res->pval = res->ci_lb = res->ci_ub = NAN;
    res->tau2 = res->tau2_se = res->logLik = res->logLik0 = NAN;
    res->LRT = res->LRT_df = res->LRT_pval = res->ml_estimate = res->ml_tau2 = NAN;
    res->max_abs_grad = NAN;
    res->k = k;
    mp_selmodel_opts def;
    if (!o) { mp_selmodel_opts_init(&def); o = &def; }
    double level = o->level == 0 ? 95 : o->level;
    if (!(level > 0 && level < 100)) return MP_FAIL(MP_EINVAL);
    size_t maxiter = o->maxiter ? o->maxiter : 1000;
    static const double def_steps[2] = {0.025, 1};
    const double *st_in = o->steps ? o->steps : def_steps;
    size_t ns = o->steps ? o->nsteps : 2;
    if (ns == 0) return MP_FAIL(MP_EINVAL);
    for (size_t j = 0; j < ns; j++) {
        if (!(st_in[j] > 0 && st_in[j] <= 1)) return MP_FAIL(MP_EINVAL);
        if (j && !(st_in[j] > st_in[j - 1])) return MP_FAIL(MP_EINVAL);
    }
    size_t N = ns + (st_in[ns - 1] < 1);
    if (N < 2) return MP_FAIL(MP_EINVAL); /* steps = 1 alone: no selection to model */
    for (size_t i = 0; i < k; i++)
        if (!isfinite(y[i]) || !isfinite(v[i]) || !(v[i] > 0) || fabs(y[i]) > MP_POOL_YMAX ||
            v[i] < MP_POOL_VMIN || v[i] > MP_POOL_VMAX)
            return MP_FAIL(MP_EDOM);
    res->nsteps = N;
    res->steps = malloc(mp_mul_size(N, sizeof *res->steps));
    res->delta = malloc(mp_mul_size(N, sizeof *res->delta));
    res->delta_se = malloc(mp_mul_size(N, sizeof *res->delta_se));
    res->kint = calloc(N, sizeof *res->kint);
    if (!res->steps || !res->delta || !res->delta_se || !res->kint) return MP_FAIL(MP_ENOMEM);
    for (size_t j = 0; j < N; j++) {
        res->steps[j] = j < ns ? st_in[j] : 1.0;
        res->delta[j] = res->delta_se[j] = NAN;
    }
    res->delta[0] = 1;
    int fe = o->fixed_effect != 0;
    size_t npar = 1 + (fe ? 0 : 1) + (N - 1);
    if (k < npar) return MP_FAIL(MP_ETOOFEW);

    selctx cx;
    memset(&cx, 0, sizeof cx);
    cx.k = k; cx.N = N; cx.y = y; cx.v = v; cx.fe = fe; cx.D = N + 1;
    size_t D = cx.D;
    cx.c = malloc(mp_mul_size(k * (N - 1) + 1, sizeof *cx.c));
    cx.g = malloc(mp_mul_size(k, sizeof *cx.g));
    cx.work = malloc(mp_mul_size(7 * N, sizeof *cx.work));
    double *th = malloc(mp_mul_size(D * (D + 2), sizeof *th));
    mp_status st = MP_OK;
    if (!cx.c || !cx.g || !cx.work || !th) { st = MP_FAIL(MP_ENOMEM); goto done; }
    for (size_t i = 0; i < k; i++) {
        double sv = sqrt(v[i]);
        double p = gsl_cdf_ugaussian_Q(y[i] / sv); /* metafor's .selmodel.pval, "greater" */
        size_t g = 0;
        while (g + 1 < N && !(p <= res->steps[g])) g++;
        cx.g[i] = g;
        res->kint[g]++;
        for (size_t j = 0; j + 1 < N; j++) cx.c[i * (N - 1) + j] = sv * gsl_cdf_ugaussian_Qinv(res->steps[j]);
    }
    for (size_t j = 1; j < N; j++)
        if (res->kint[j] == 0) { st = MP_FAIL(MP_ETOOFEW); goto done; } /* metafor refuses too */

    /* the model without selection: ML (or FE) */
    mp_pool_opts po;
    mp_pool_opts_init(&po);
    po.method = fe ? MP_METHOD_FE : MP_METHOD_ML;
    po.tau2_ci = 0;
    po.epsrel = 1e-14;
    po.maxiter = 10000;
    mp_pool_result pr;
    st = mp_pool(y, v, k, &po, NULL, &pr);
    if (st) goto done;
    res->ml_estimate = pr.estimate;
    res->ml_tau2 = fe ? 0.0 : pr.tau2;
    th[0] = pr.estimate;
    th[1] = res->ml_tau2;
    for (size_t j = 1; j < N; j++) th[1 + j] = 1;
    res->logLik0 = sel_eval(&cx, th, NULL, NULL); /* all delta = 1: A_i = 1, the plain ML logLik */

    st = stage_bfgs(&cx, th, maxiter, &res->niter);
    if (st) goto done;
    st = stage_newton(&cx, th, maxiter, &res->niter, &res->converged, &res->max_abs_grad);
    if (st) goto done;
    if (!res->converged) { st = MP_FAIL(MP_ENOCONV); goto done; }

    res->logLik = sel_eval(&cx, th, NULL, NULL);
    res->estimate = th[0];
    res->tau2 = th[1];
    for (size_t j = 1; j < N; j++) res->delta[j] = th[1 + j];
    res->boundary = !fe && th[1] <= 0;
    for (size_t j = 1; j < N; j++)
        if (th[1 + j] <= 0 || th[1 + j] >= DELTA_MAX) res->boundary = 1;

    /* SEs: inverse of -H over the estimated parameters (metafor's hest: beta,
     * tau2 unless fixed, every estimated delta) */
    {
        double *gr = th + D; /* th has room for D (D + 2) */
        double *HH = malloc(mp_mul_size(2 * D * D, sizeof *HH));
        size_t *ix = malloc(mp_mul_size(D, sizeof *ix));
        if (!HH || !ix) { free(HH); free(ix); st = MP_FAIL(MP_ENOMEM); goto done; }
        sel_eval(&cx, th, gr, HH);
        double *M = HH + D * D;
        /* with tau2 = 0 at its bound the full -H is often not positive
         * definite; then tau2 is treated as fixed there (its SE stays NaN) */
        for (int pass = 0; pass < 2; pass++) {
            if (pass == 1 && (fe || th[1] > 0)) break;
            size_t n = 0;
            for (size_t a = 0; a < D; a++)
                if (!(a == 1 && (fe || pass == 1))) ix[n++] = a;
            for (size_t a = 0; a < n; a++)
                for (size_t b = 0; b < n; b++) M[a * n + b] = -HH[ix[a] * D + ix[b]];
            gsl_matrix_view mv = gsl_matrix_view_array(M, n, n);
            if (gsl_linalg_cholesky_decomp1(&mv.matrix) == GSL_SUCCESS &&
                gsl_linalg_cholesky_invert(&mv.matrix) == GSL_SUCCESS) {
                for (size_t a = 0; a < n; a++) {
                    double se = sqrt(M[a * n + a]);
                    if (ix[a] == 0) res->se = se;
                    else if (ix[a] == 1) res->tau2_se = se;
                    else res->delta_se[ix[a] - 1] = se;
                }
                break;
            }
        }
        free(HH);
        free(ix);
    }
    {
        double z = gsl_cdf_ugaussian_Qinv((1 - level / 100) / 2);
        res->stat = res->estimate / res->se;
        res->pval = 2 * gsl_cdf_ugaussian_Q(fabs(res->stat));
        res->ci_lb = res->estimate - z * res->se;
        res->ci_ub = res->estimate + z * res->se;
    }
    res->LRT = fmax(0.0, -2 * (res->logLik0 - res->logLik));
    res->LRT_df = (double)(N - 1);
    res->LRT_pval = gsl_cdf_chisq_Q(res->LRT, res->LRT_df);
done:
    free(cx.c);
    free(cx.g);
    free(cx.work);
    free(th);
    return st;
}
