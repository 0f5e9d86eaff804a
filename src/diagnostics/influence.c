/* src/diagnostics/influence.c - influence diagnostics and Baujat coordinates (metafor's influence(), baujat()).
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Definitions of metafor 3.8's influence.rma.uni() and baujat.rma()
 * (Viechtbauer & Cheung 2010, Res Synth Methods 1:112; Baujat et al. 2002,
 * Stat Med 21:2641), for the weighted model without user weights:
 *   w = 1/(v + tau2), hat = diag(X (X'WX)^-1 X'W) (1 when within 10 eps of 1),
 *   b(-i), Vb(-i), tau2(-i), QE(-i), s2w(-i): the refit without study i
 *   (Vb including the knha factor s2w, which is 1 for the z test),
 *   rstudent = (y_i - x_i'b(-i)) / sqrt(s2w(-i)(v_i + tau2(-i)) + x_i'Vb(-i)x_i)
 *     (a residual below 100 eps counts as 0, as metafor),
 *   dffits = x_i'(b - b(-i)) / sqrt(s2w(-i) hat_i (tau2(-i) + v_i)),
 *   dfbetas = (b - b(-i)) / sqrt(s2w(-i) diag((X' W(-i) X)^-1)), W(-i) over
 *     all k rows at tau2(-i) (metafor's vb.del),
 *   cook_d = (b - b(-i))' Vb^-1 (b - b(-i)), cov_r = det Vb(-i) / det Vb,
 *   baujat_x = (y_i - x_i'b)^2 / (tau2 + v_i),
 *   baujat_y = (x_i'b(-i) - x_i'b)^2 / x_i'Vb(-i)x_i,
 * and metafor's rule for an influential study: |dffits| > 3 sqrt(p/(k-p)),
 * pchisq(cook_d, p) > 0.5, hat > 3p/k, or any |dfbetas| > 1.
 *
 * The intercept-only model takes its k refits from mp_leave1out() (one
 * mp_pool_many() call); a meta-regression refits with mp_reg_fit(). */
#include "metapool/sensitivity.h"
#include "internal.h"

#include <float.h>
#include <gsl/gsl_cdf.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void mp_influence_free(mp_influence *f)
{
    if (!f) return;
    double **arr[] = {&f->rstudent, &f->dffits,   &f->cook_d,  &f->cov_r,
                      &f->tau2_del, &f->QE_del,   &f->hat,     &f->weight,
                      &f->dfbetas,  &f->baujat_x, &f->baujat_y};
    for (size_t i = 0; i < sizeof arr / sizeof arr[0]; i++) {
        free(*arr[i]);
        *arr[i] = NULL;
    }
    free(f->influential);
    free(f->status);
    f->influential = NULL;
    f->status = NULL;
}

static mp_status alloc_out(mp_influence *f, size_t k, size_t p)
{
    memset(f, 0, sizeof *f);
    f->k = k;
    f->p = p;
    size_t kb = mp_mul_size(k, sizeof(double)), kpb = mp_mul_size(mp_mul_size(k, p), sizeof(double));
    if (!kb || !kpb) return MP_FAIL(MP_ENOMEM);
    double **arr[] = {&f->rstudent, &f->dffits, &f->cook_d, &f->cov_r,    &f->tau2_del,
                      &f->QE_del,   &f->hat,    &f->weight, &f->baujat_x, &f->baujat_y};
    int bad = 0;
    for (size_t i = 0; i < sizeof arr / sizeof arr[0]; i++) {
        *arr[i] = malloc(kb);
        bad |= !*arr[i];
    }
    f->dfbetas = malloc(kpb);
    f->influential = calloc(k, sizeof(int));
    f->status = calloc(k, sizeof(mp_status));
    if (bad || !f->dfbetas || !f->influential || !f->status) {
        mp_influence_free(f);
        return MP_FAIL(MP_ENOMEM);
    }
    for (size_t i = 0; i < k; i++) {
        for (size_t j = 0; j < sizeof arr / sizeof arr[0]; j++) (*arr[j])[i] = NAN;
        for (size_t j = 0; j < p; j++) f->dfbetas[i * p + j] = NAN;
    }
    return MP_OK;
}

/* In place: A (p x p, column-major, symmetric positive definite) becomes
 * its inverse; *det gets det(A).  MP_ESING if A is not positive definite. */
static mp_status spd_inverse(double *A, size_t p, double *det)
{
    lapack_int n = (lapack_int)p;
    if (LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'U', n, A, n) != 0) return MP_FAIL(MP_ESING);
    double d = 1.0;
    for (size_t j = 0; j < p; j++) d *= A[j + j * p] * A[j + j * p];
    if (det) *det = d;
    if (LAPACKE_dpotri(LAPACK_COL_MAJOR, 'U', n, A, n) != 0) return MP_FAIL(MP_ESING);
    for (size_t j = 0; j < p; j++)
        for (size_t i = j + 1; i < p; i++) A[i + j * p] = A[j + i * p];
    return MP_OK;
}

/* X'WX with W = diag(1/(v + tau2)) over all k rows (column-major p x p). */
static void xtwx(const double *X, const double *v, size_t k, size_t p, double tau2, double *A)
{
    memset(A, 0, p * p * sizeof *A);
    for (size_t i = 0; i < k; i++) {
        double w = 1.0 / (v[i] + tau2);
        for (size_t a = 0; a < p; a++)
            for (size_t b = 0; b <= a; b++) A[a + b * p] += w * X[i + a * k] * X[i + b * k];
    }
    for (size_t a = 0; a < p; a++)
        for (size_t b = 0; b < a; b++) A[b + a * p] = A[a + b * p];
}

/* x_i' M x_i for row i of X and a p x p matrix M. */
static double quad_row(const double *X, size_t k, size_t p, size_t i, const double *M)
{
    double s = 0;
    for (size_t a = 0; a < p; a++)
        for (size_t b = 0; b < p; b++) s += X[i + a * k] * M[a + b * p] * X[i + b * k];
    return s;
}


/* The full model, as the measures need it. */
typedef struct {
    const double *y, *v, *X; /* X: k x p column-major (NULL: intercept only) */
    size_t k, p;
    const double *b;         /* p coefficients */
    const double *vb;        /* p x p covariance (knha: scaled) */
    double tau2;
} model;

/* One refit without study i. */
typedef struct {
    const double *b, *vb;    /* p coefficients, p x p covariance (knha: scaled) */
    double tau2, QE, s2w;
} refit;

static double xval(const model *m, size_t i, size_t a) { return m->X ? m->X[i + a * m->k] : 1.0; }

/* Hat values and weights of the full model. scratch: p*p doubles. */
static mp_status hats(const model *m, mp_influence *f, double *A)
{
    size_t k = m->k, p = m->p;
    double sw = 0;
    for (size_t i = 0; i < k; i++) sw += 1.0 / (m->v[i] + m->tau2);
    if (!m->X) {
        for (size_t i = 0; i < k; i++) f->hat[i] = 1.0 / (m->v[i] + m->tau2) / sw;
    } else {
        xtwx(m->X, m->v, k, p, m->tau2, A);
        mp_status st = spd_inverse(A, p, NULL);
        if (st != MP_OK) return st;
        for (size_t i = 0; i < k; i++)
            f->hat[i] = quad_row(m->X, k, p, i, A) / (m->v[i] + m->tau2);
    }
    for (size_t i = 0; i < k; i++) {
        if (f->hat[i] > 1.0 - 10.0 * DBL_EPSILON) f->hat[i] = 1.0; /* metafor's hatvalues() */
        f->weight[i] = 100.0 / (m->v[i] + m->tau2) / sw;
    }
    return MP_OK;
}

/* Row i from its refit r.  svb: Vb^-1 of the full model, detvb its
 * determinant; A, dfb: scratch of p*p and p doubles. */
static mp_status measures(const model *m, size_t i, const refit *r, const double *svb,
                          double detvb, double *A, double *dfb, mp_influence *f)
{
    size_t k = m->k, p = m->p;
    double pred = 0, delpred = 0, vdel = 0;
    for (size_t a = 0; a < p; a++) {
        pred += xval(m, i, a) * m->b[a];
        delpred += xval(m, i, a) * r->b[a];
        dfb[a] = m->b[a] - r->b[a];
        for (size_t c = 0; c < p; c++) vdel += xval(m, i, a) * r->vb[a + c * p] * xval(m, i, c);
    }
    f->tau2_del[i] = r->tau2;
    f->QE_del[i] = r->QE;
    double resid = m->y[i] - delpred;
    if (fabs(resid) < 100.0 * DBL_EPSILON) resid = 0.0;
    f->rstudent[i] = resid / sqrt(m->v[i] * r->s2w + vdel + r->tau2 * r->s2w);
    f->dffits[i] = (pred - delpred) / sqrt(r->s2w * f->hat[i] * (r->tau2 + m->v[i]));
    /* vb.del: (X' W(-i) X)^-1 over all k rows at tau2(-i) */
    if (!m->X) {
        double s = 0;
        for (size_t j = 0; j < k; j++) s += 1.0 / (m->v[j] + r->tau2);
        A[0] = 1.0 / s;
    } else {
        xtwx(m->X, m->v, k, p, r->tau2, A);
        mp_status st = spd_inverse(A, p, NULL);
        if (st != MP_OK) return st;
    }
    int infl = 0;
    double cook = 0;
    for (size_t a = 0; a < p; a++) {
        double d = dfb[a] / sqrt(r->s2w * A[a + a * p]);
        f->dfbetas[i * p + a] = d;
        infl |= fabs(d) > 1.0;
        for (size_t c = 0; c < p; c++) cook += dfb[a] * svb[a + c * p] * dfb[c];
    }
    f->cook_d[i] = cook;
    /* det Vb(-i): a copy factorised (A is free again) */
    memcpy(A, r->vb, p * p * sizeof *A);
    double det;
    mp_status st = spd_inverse(A, p, &det);
    f->cov_r[i] = st == MP_OK ? det / detvb : NAN;
    f->baujat_x[i] = (m->y[i] - pred) * (m->y[i] - pred) / (m->tau2 + m->v[i]);
    f->baujat_y[i] = (delpred - pred) * (delpred - pred) / vdel;
    double kk = (double)k, pp = (double)p;
    infl |= fabs(f->dffits[i]) > 3.0 * sqrt(pp / (kk - pp));
    infl |= !isnan(cook) && gsl_cdf_chisq_P(cook, pp) > 0.5;
    infl |= f->hat[i] > 3.0 * pp / kk;
    f->influential[i] = infl;
    return MP_OK;
}

/* Everything that does not depend on how the refits were made.  get(i)
 * fills the refit of row i or returns its failure status. */
typedef mp_status (*refit_fn)(void *ctx, size_t i, refit *r);

static mp_status compute(const model *m, refit_fn get, void *ctx, mp_influence *f)
{
    size_t p = m->p;
    double *svb = malloc(p * p * sizeof *svb), *A = malloc(p * p * sizeof *A),
           *dfb = malloc(p * sizeof *dfb);
    mp_status first = MP_OK, st;
    if (!svb || !A || !dfb) {
        first = MP_FAIL(MP_ENOMEM);
        goto done;
    }
    double detvb;
    memcpy(svb, m->vb, p * p * sizeof *svb);
    if ((st = spd_inverse(svb, p, &detvb)) != MP_OK || (st = hats(m, f, A)) != MP_OK) {
        first = st;
        f->full_status = st;
        goto done;
    }
    for (size_t i = 0; i < m->k; i++) {
        refit r;
        st = get(ctx, i, &r);
        if (st == MP_OK) st = measures(m, i, &r, svb, detvb, A, dfb, f);
        f->status[i] = st;
        if (st != MP_OK && first == MP_OK) first = st;
    }
done:
    free(svb);
    free(A);
    free(dfb);
    return first;
}

/* ---- intercept-only: refits from mp_leave1out() ---------------------- */

typedef struct {
    const mp_pool_result *rows;
    const mp_status *status;
    double b, vb;
} pool_ctx;

static mp_status pool_refit(void *ctx, size_t i, refit *r)
{
    pool_ctx *c = ctx;
    const mp_pool_result *q = &c->rows[i];
    if (c->status[i] != MP_OK) return c->status[i];
    r->b = &q->estimate;
    c->vb = q->se * q->se;
    r->vb = &c->vb;
    r->tau2 = q->tau2;
    r->QE = q->Q;
    /* se^2 = s2w / sum w for knha (pool.c), so s2w = se^2 sum w */
    r->s2w = q->test == MP_TEST_KNHA ? c->vb * q->sum_w : 1.0;
    return MP_OK;
}

mp_status mp_influence_pool(const double *y, const double *v, size_t k, const mp_pool_opts *o,
                            mp_pool_result *full, mp_influence *out)
{
    if (!out) return MP_FAIL(MP_EINVAL);
    memset(out, 0, sizeof *out);
    if (!y || !v) return MP_FAIL(MP_EINVAL);
    if (k < 2) return MP_FAIL(MP_ETOOFEW);
    mp_status st = alloc_out(out, k, 1);
    if (st != MP_OK) return st;
    mp_pool_result fr, *rows = malloc(k * sizeof *rows);
    mp_status *rs = malloc(k * sizeof *rs);
    if (!rows || !rs) {
        free(rows);
        free(rs);
        return MP_FAIL(MP_ENOMEM);
    }
    mp_pool_opts def;
    if (!o) { mp_pool_opts_init(&def); o = &def; }
    out->full_status = mp_pool(y, v, k, o, NULL, &fr);
    if (full) *full = fr;
    if (out->full_status != MP_OK) {
        st = out->full_status;
        for (size_t i = 0; i < k; i++) out->status[i] = st;
        goto done;
    }
    mp_leave1out(y, v, k, o, NULL, rows, rs);
    double vb = fr.se * fr.se;
    model m = {y, v, NULL, k, 1, &fr.estimate, &vb, fr.tau2};
    pool_ctx c = {rows, rs, 0, 0};
    st = compute(&m, pool_refit, &c, out);
done:
    free(rows);
    free(rs);
    return st;
}

/* ---- meta-regression: refits by mp_reg_fit() ------------------------- */

typedef struct {
    const double *y, *v, *X;
    size_t k, p;
    const mp_reg_opts *o;
    double *yd, *vd, *Xd; /* the data without row i */
    mp_reg_result res;
} reg_ctx;

static mp_status reg_refit(void *ctx, size_t i, refit *r)
{
    reg_ctx *c = ctx;
    size_t k = c->k, kd = k - 1;
    for (size_t j = 0, n = 0; j < k; j++) {
        if (j == i) continue;
        c->yd[n] = c->y[j];
        c->vd[n] = c->v[j];
        for (size_t a = 0; a < c->p; a++) c->Xd[n + a * kd] = c->X[j + a * k];
        n++;
    }
    mp_reg_result_free(&c->res);
    mp_status st = mp_reg_fit(c->yd, c->vd, c->Xd, kd, c->p, c->o, &c->res);
    if (st != MP_OK) return st;
    r->b = c->res.beta;
    r->vb = c->res.vb;
    r->tau2 = c->res.tau2;
    r->QE = c->res.QE;
    r->s2w = c->res.test == MP_TEST_KNHA ? c->res.s2w : 1.0;
    return MP_OK;
}

mp_status mp_influence_reg(const double *y, const double *v, const double *X, size_t k, size_t p,
                           const mp_reg_opts *o, mp_reg_result *full, mp_influence *out)
{
    if (!out) return MP_FAIL(MP_EINVAL);
    memset(out, 0, sizeof *out);
    if (full) memset(full, 0, sizeof *full);
    if (!y || !v || !X || p == 0) return MP_FAIL(MP_EINVAL);
    if (k < 2) return MP_FAIL(MP_ETOOFEW);
    mp_status st = alloc_out(out, k, p);
    if (st != MP_OK) return st;
    mp_reg_opts ro;
    if (o) ro = *o;
    else mp_reg_opts_init(&ro);
    ro.r2 = 0; /* metafor refits with skipr2 = TRUE; R^2 is not used */
    mp_reg_result fr;
    memset(&fr, 0, sizeof fr);
    reg_ctx c = {y, v, X, k, p, &ro, NULL, NULL, NULL, {0}};
    out->full_status = mp_reg_fit(y, v, X, k, p, &ro, &fr);
    if (out->full_status != MP_OK) {
        st = out->full_status;
        for (size_t i = 0; i < k; i++) out->status[i] = st;
        goto done;
    }
    c.yd = malloc(k * sizeof(double));
    c.vd = malloc(k * sizeof(double));
    c.Xd = malloc(mp_mul_size(k, p) * sizeof(double));
    if (!c.yd || !c.vd || !c.Xd) {
        st = MP_FAIL(MP_ENOMEM);
        goto done;
    }
    model m = {y, v, X, k, p, fr.beta, fr.vb, fr.tau2};
    st = compute(&m, reg_refit, &c, out);
done:
    mp_reg_result_free(&c.res);
    free(c.yd);
    free(c.vd);
    free(c.Xd);
    if (full) *full = fr;
    else mp_reg_result_free(&fr);
    return st;
}
