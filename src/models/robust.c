/* src/models/robust.c - cluster-robust sandwich inference: CR1 (metafor robust) and CR2 (clubSandwich).
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Definitions in include/metapool/robust.h.  CR2 follows clubSandwich 0.5.8
 * step by step (functions vcov_CR, CR2, get_GH, get_P_array, Satterthwaite,
 * Wald_testing, total_variance_mat; inverse_var = TRUE, the case of rma.uni
 * and rma.mv fits without user weights):
 *   R_j upper Cholesky factor of V_j;  G_j = R_j (V_j - X_j M X_j') R_j';
 *   A_j = R_j' G_j^-1/2 R_j (eigenvalues below 1e-12 dropped);
 *   vcov = M (sum_j X_j'W_j A_j e_j e_j' A_j W_j X_j) M;
 *   with E_j = M X_j' W_j A_j: g_j = E_j R_j', h_j = E_j X_j L (L L' = M),
 *   P[c,c'] = delta_cc' g_c g_c' - h_c h_c' (per coefficient or contrast pair),
 *   Satterthwaite df = (tr P)^2 / ||P||^2, and the HTZ test's
 *   nu = q(q+1) / sum_st Var(Omega^-1/2 P Omega^-1/2)_st. */
#include "metapool/robust.h"
#include "internal.h"

#include <ctype.h>
#include <gsl/gsl_cdf.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

mp_status mp_vcov_parse(const char *s, mp_vcov_type *out)
{
    if (!s || !out) return MP_FAIL(MP_EINVAL);
    if ((s[0] == 'C' || s[0] == 'c') && (s[1] == 'R' || s[1] == 'r') && s[3] == '\0') {
        if (s[2] == '1') { *out = MP_VCOV_CR1; return MP_OK; }
        if (s[2] == '2') { *out = MP_VCOV_CR2; return MP_OK; }
    }
    return MP_FAIL(MP_EINVAL);
}

struct mp_robust_work {
    size_t J, p, k;
    size_t *start;   /* J + 1 cluster offsets */
    double *gm;      /* p x k: g_j blocks */
    double *hh;      /* p x p x J */
};

static void work_free(struct mp_robust_work *w)
{
    if (!w) return;
    free(w->start);
    free(w->gm);
    free(w->hh);
    free(w);
}

void mp_robust_result_free(mp_robust_result *r)
{
    if (!r) return;
    work_free(r->work);
    free(r->vb); free(r->se); free(r->stat); free(r->df); free(r->pval); free(r->ci_lb); free(r->ci_ub);
    memset(r, 0, sizeof *r);
}

typedef struct keyidx { const char *s; size_t i; } keyidx;
static int cmp_keyidx(const void *a, const void *b)
{
    const keyidx *x = a, *y = b;
    int c = strcmp(x->s, y->s);
    return c ? c : (x->i > y->i) - (x->i < y->i);
}

mp_status mp_robust_cluster_ids(const mp_table *t, const size_t *rows, size_t k, const char *col,
                                size_t *ids, size_t *J, mp_error *err)
{
    if (!t || !col || !ids || !J || (k && !rows)) return MP_FAIL(MP_EINVAL);
    long c = mp_table_col(t, col);
    if (c < 0) {
        mp_error_set(err, mp_table_name(t), 1, 0, "--cluster: no column '%.200s' in the header", col);
        return MP_FAIL(MP_EINVAL);
    }
    keyidx *ki = malloc((k ? k : 1) * sizeof *ki);
    if (!ki) return MP_FAIL(MP_ENOMEM);
    for (size_t i = 0; i < k; i++) {
        if (mp_table_is_missing(t, rows[i], (size_t)c)) {
            mp_error_set(err, mp_table_name(t), mp_table_line(t, rows[i]), (size_t)c + 1,
                         "--cluster: missing value in column '%s'", col);
            free(ki);
            return MP_FAIL(MP_EPARSE);
        }
        ki[i].s = mp_table_cell(t, rows[i], (size_t)c);
        ki[i].i = i;
    }
    qsort(ki, k, sizeof *ki, cmp_keyidx);
    size_t n = 0;
    for (size_t i = 0; i < k; i++) {
        if (i && strcmp(ki[i - 1].s, ki[i].s) != 0) n++;
        ids[ki[i].i] = n;
    }
    *J = k ? n + 1 : 0;
    free(ki);
    return MP_OK;
}

/* Satterthwaite df of c'beta from the g and h matrices (clubSandwich's
 * get_P_array and Satterthwaite with the contrast c):
 * P[j,j'] = delta gg_j - h_j . h_j', df = (tr P)^2 / ||P||_F^2. */
static double satt_df(const struct mp_robust_work *w, const double *c)
{
    const size_t p = w->p;
    double tr = 0, f2 = 0;
    double *Kg = calloc(p * p, sizeof *Kg), *hv = malloc(p * sizeof *hv);
    if (!Kg || !hv) { free(Kg); free(hv); return NAN; }
    for (size_t j = 0; j < w->J; j++) {
        size_t n = w->start[j + 1] - w->start[j];
        const double *g = w->gm + p * w->start[j], *h = w->hh + j * p * p;
        double gg = 0, hc = 0;
        for (size_t a = 0; a < n; a++) {
            double s = 0;
            for (size_t i = 0; i < p; i++) s += c[i] * g[i + a * p];
            gg += s * s;
        }
        for (size_t x = 0; x < p; x++) {
            double s = 0;
            for (size_t i = 0; i < p; i++) s += c[i] * h[i + x * p];
            hv[x] = s;
            hc += s * s;
        }
        tr += gg - hc;
        f2 += gg * gg - 2 * gg * hc;
        for (size_t x = 0; x < p; x++)
            for (size_t z = 0; z < p; z++) Kg[x + z * p] += hv[x] * hv[z];
    }
    for (size_t x = 0; x < p * p; x++) f2 += Kg[x] * Kg[x];
    free(Kg);
    free(hv);
    return tr * tr / f2;
}

double mp_robust_contrast_df(const mp_robust_result *rb, const double *c)
{
    if (!rb || !c || !rb->p) return NAN;
    if (rb->type == MP_VCOV_CR1) return (double)(rb->n_clusters - rb->p);
    if (!rb->work) return NAN;
    return satt_df(rb->work, c);
}

mp_status mp_robust_predict(const mp_robust_result *rb, const double *beta, const double *Xnew,
                            size_t n, double tau2, double level, mp_reg_pred *out)
{
    if (!out) return MP_FAIL(MP_EINVAL);
    memset(out, 0, sizeof *out);
    if (!rb || !beta || !rb->vb || (n && !Xnew)) return MP_FAIL(MP_EINVAL);
    const size_t p = rb->p;
    double *row = malloc(p * sizeof *row);
    if (!row) return MP_FAIL(MP_ENOMEM);
    mp_status st = MP_OK;
    mp_reg_pred one;
    for (size_t i = 0; i < n && st == MP_OK; i++) {
        for (size_t j = 0; j < p; j++) row[j] = Xnew[i + j * n];
        double df = mp_robust_contrast_df(rb, row);
        st = mp_reg_predict(beta, rb->vb, p, row, 1, tau2, df, level, &one);
        if (st != MP_OK) break;
        if (i == 0) {
            /* allocate the output through a call of the full size, then fill */
            st = mp_reg_predict(beta, rb->vb, p, Xnew, n, tau2, df, level, out);
            if (st != MP_OK) { mp_reg_pred_free(&one); break; }
        }
        out->ci_lb[i] = one.ci_lb[0];
        out->ci_ub[i] = one.ci_ub[0];
        out->pi_lb[i] = one.pi_lb[0];
        out->pi_ub[i] = one.pi_ub[0];
        mp_reg_pred_free(&one);
    }
    free(row);
    if (st != MP_OK) mp_reg_pred_free(out);
    return st;
}

/* x^(-1/2) of a symmetric n x n matrix (clubSandwich's matrix_power: eigen
 * values at or below tol/scale2 count as 0); S overwritten. */
static int sym_nsqrt(double *S, size_t n, double scale2, double *out)
{
    double *w = malloc((n ? n : 1) * sizeof *w);
    if (!w) return -1;
    if (LAPACKE_dsyev(LAPACK_COL_MAJOR, 'V', 'L', (lapack_int)n, S, (lapack_int)n, w) != 0) {
        free(w);
        return -1;
    }
    for (size_t a = 0; a < n; a++)
        for (size_t b = 0; b < n; b++) {
            double s = 0;
            for (size_t l = 0; l < n; l++)
                if (w[l] * scale2 > 1e-12) s += S[a + l * n] * S[b + l * n] / sqrt(w[l]);
            out[a + b * n] = s;
        }
    free(w);
    return 0;
}

mp_status mp_robust(const double *X, const double *y, size_t k, size_t p, const double *beta,
                    const size_t *cluster, size_t J, mp_vblock_fn vblock, void *ctx, double w_scale,
                    mp_vcov_type type, size_t b0, double level, mp_robust_result *out)
{
    if (!out) return MP_FAIL(MP_EINVAL);
    memset(out, 0, sizeof *out);
    if (!X || !y || !beta || !cluster || !vblock || p == 0 || J < 2 || b0 > p ||
        !(level > 0 && level < 100) || (type != MP_VCOV_CR1 && type != MP_VCOV_CR2) ||
        !(w_scale > 0))
        return MP_FAIL(MP_EINVAL);
    for (size_t i = 0; i < k; i++)
        if (cluster[i] >= J) return MP_FAIL(MP_EINVAL);
    if (type == MP_VCOV_CR1 && J <= p) return MP_FAIL(MP_ETOOFEW);
    mp_status st = MP_OK;
    /* rows of each cluster */
    size_t *start = calloc(J + 1, sizeof *start), *ord = malloc((k ? k : 1) * sizeof *ord);
    size_t *pos = malloc((J ? J : 1) * sizeof *pos);
    size_t nmax = 0;
    double *M = calloc(p * p, sizeof *M), *meat = calloc(p * p, sizeof *meat), *L = malloc(p * p * sizeof *L);
    double *e = malloc((k ? k : 1) * sizeof *e);
    double *Vb = NULL, *Wb = NULL, *Rb = NULL, *Gb = NULL, *Ab = NULL, *Tb = NULL, *u = malloc(p * sizeof *u);
    double *gm = NULL, *hh = NULL; /* CR2: per cluster p x n_j (g) and p x p (h) */
    size_t *goff = NULL;
    if (!start || !ord || !pos || !M || !meat || !L || !e || !u) { st = MP_FAIL(MP_ENOMEM); goto out; }
    for (size_t i = 0; i < k; i++) start[cluster[i] + 1]++;
    for (size_t j = 0; j < J; j++) {
        if (start[j + 1] > nmax) nmax = start[j + 1];
        start[j + 1] += start[j];
        pos[j] = start[j];
    }
    for (size_t i = 0; i < k; i++) ord[pos[cluster[i]]++] = i;
    for (size_t i = 0; i < k; i++) {
        double r = y[i];
        for (size_t c = 0; c < p; c++) r -= X[i + c * k] * beta[c];
        e[i] = r;
    }
    size_t nn = nmax * nmax;
    Vb = malloc(nn * sizeof *Vb); Wb = malloc(nn * sizeof *Wb); Rb = malloc(nn * sizeof *Rb);
    Gb = malloc(nn * sizeof *Gb); Ab = malloc(nn * sizeof *Ab);
    Tb = malloc(nmax * (p + 1) * sizeof *Tb);
    if (!Vb || !Wb || !Rb || !Gb || !Ab || !Tb) { st = MP_FAIL(MP_ENOMEM); goto out; }

    /* pass 1: M = (X'WX)^-1 */
    for (size_t j = 0; j < J; j++) {
        size_t n = start[j + 1] - start[j];
        const size_t *rw = ord + start[j];
        if (!n) continue;
        vblock(ctx, rw, n, Wb);
        if (LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', (lapack_int)n, Wb, (lapack_int)n) != 0 ||
            LAPACKE_dpotri(LAPACK_COL_MAJOR, 'L', (lapack_int)n, Wb, (lapack_int)n) != 0) {
            st = MP_FAIL(MP_ESING);
            goto out;
        }
        for (size_t a = 0; a < n; a++)
            for (size_t b = a + 1; b < n; b++) Wb[a + b * n] = Wb[b + a * n];
        for (size_t c1 = 0; c1 < p; c1++)
            for (size_t c2 = 0; c2 < p; c2++) {
                double s = 0;
                for (size_t a = 0; a < n; a++)
                    for (size_t b = 0; b < n; b++) s += X[rw[a] + c1 * k] * Wb[a + b * n] * X[rw[b] + c2 * k];
                M[c1 + c2 * p] += s;
            }
    }
    if (LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', (lapack_int)p, M, (lapack_int)p) != 0) { st = MP_FAIL(MP_ESING); goto out; }
    LAPACKE_dpotri(LAPACK_COL_MAJOR, 'L', (lapack_int)p, M, (lapack_int)p);
    for (size_t a = 0; a < p; a++)
        for (size_t b = a + 1; b < p; b++) M[a + b * p] = M[b + a * p];
    memcpy(L, M, p * p * sizeof *L);
    if (LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', (lapack_int)p, L, (lapack_int)p) != 0) { st = MP_FAIL(MP_ESING); goto out; }
    for (size_t a = 0; a < p; a++)
        for (size_t b = a + 1; b < p; b++) L[a + b * p] = 0;

    if (type == MP_VCOV_CR2) {
        goff = malloc((J + 1) * sizeof *goff);
        gm = malloc(mp_mul_size(p, k ? k : 1) * sizeof *gm);
        hh = malloc(mp_mul_size(p * p, J) * sizeof *hh);
        if (!goff || !gm || !hh) { st = MP_FAIL(MP_ENOMEM); goto out; }
    }
    /* pass 2: the meat, and for CR2 the g and h matrices */
    for (size_t j = 0; j < J; j++) {
        size_t n = start[j + 1] - start[j];
        const size_t *rw = ord + start[j];
        if (goff) goff[j] = p * start[j];
        if (!n) continue;
        vblock(ctx, rw, n, Vb);
        memcpy(Wb, Vb, n * n * sizeof *Wb);
        LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', (lapack_int)n, Wb, (lapack_int)n);
        LAPACKE_dpotri(LAPACK_COL_MAJOR, 'L', (lapack_int)n, Wb, (lapack_int)n);
        for (size_t a = 0; a < n; a++)
            for (size_t b = a + 1; b < n; b++) Wb[a + b * n] = Wb[b + a * n];
        /* Tb = W_j X_j (n x p) */
        for (size_t c = 0; c < p; c++)
            for (size_t a = 0; a < n; a++) {
                double s = 0;
                for (size_t b = 0; b < n; b++) s += Wb[a + b * n] * X[rw[b] + c * k];
                Tb[a + c * n] = s;
            }
        if (type == MP_VCOV_CR1) {
            for (size_t c = 0; c < p; c++) {
                double s = 0;
                for (size_t a = 0; a < n; a++) s += Tb[a + c * n] * e[rw[a]];
                u[c] = s;
            }
        } else {
            /* R upper with V = R'R */
            memcpy(Rb, Vb, n * n * sizeof *Rb);
            if (LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'U', (lapack_int)n, Rb, (lapack_int)n) != 0) {
                st = MP_FAIL(MP_ESING);
                goto out;
            }
            for (size_t a = 0; a < n; a++)
                for (size_t b = 0; b < a; b++) Rb[a + b * n] = 0;
            /* Ab = V_j - X_j M X_j' */
            for (size_t a = 0; a < n; a++)
                for (size_t b = 0; b < n; b++) {
                    double s = 0;
                    for (size_t c1 = 0; c1 < p; c1++)
                        for (size_t c2 = 0; c2 < p; c2++) s += X[rw[a] + c1 * k] * M[c1 + c2 * p] * X[rw[b] + c2 * k];
                    Ab[a + b * n] = Vb[a + b * n] - s;
                }
            /* G = R Ab R' */
            for (size_t a = 0; a < n; a++)
                for (size_t b = 0; b < n; b++) {
                    double s = 0;
                    for (size_t c = 0; c < n; c++) s += Rb[a + c * n] * Ab[c + b * n];
                    Wb[a + b * n] = s; /* temporarily R Ab */
                }
            for (size_t a = 0; a < n; a++)
                for (size_t b = 0; b < n; b++) {
                    double s = 0;
                    for (size_t c = 0; c < n; c++) s += Wb[a + c * n] * Rb[b + c * n];
                    Gb[a + b * n] = s;
                }
            for (size_t a = 0; a < n; a++)
                for (size_t b = a + 1; b < n; b++) Gb[a + b * n] = Gb[b + a * n] = 0.5 * (Gb[a + b * n] + Gb[b + a * n]);
            if (sym_nsqrt(Gb, n, w_scale * w_scale, Ab) != 0) { st = MP_FAIL(MP_ESING); goto out; }
            /* A = R' G^-1/2 R, into Gb */
            for (size_t a = 0; a < n; a++)
                for (size_t b = 0; b < n; b++) {
                    double s = 0;
                    for (size_t c = 0; c < n; c++) s += Ab[a + c * n] * Rb[c + b * n];
                    Wb[a + b * n] = s; /* G^-1/2 R */
                }
            for (size_t a = 0; a < n; a++)
                for (size_t b = 0; b < n; b++) {
                    double s = 0;
                    for (size_t c = 0; c < n; c++) s += Rb[c + a * n] * Wb[c + b * n];
                    Gb[a + b * n] = s;
                }
            /* E' = A W X = A Tb (n x p), stored in Ab as n x p */
            for (size_t c = 0; c < p; c++)
                for (size_t a = 0; a < n; a++) {
                    double s = 0;
                    for (size_t b = 0; b < n; b++) s += Gb[a + b * n] * Tb[b + c * n];
                    Ab[a + c * n] = s;
                }
            for (size_t c = 0; c < p; c++) {
                double s = 0;
                for (size_t a = 0; a < n; a++) s += Ab[a + c * n] * e[rw[a]];
                u[c] = s;
            }
            /* ME = M E (p x n): ME[c, a] = sum_c2 M[c,c2] Ab[a,c2] */
            double *g = gm + goff[j], *h = hh + j * p * p;
            double *ME = Tb; /* reuse: p x n */
            for (size_t a = 0; a < n; a++)
                for (size_t c = 0; c < p; c++) {
                    double s = 0;
                    for (size_t c2 = 0; c2 < p; c2++) s += M[c + c2 * p] * Ab[a + c2 * n];
                    ME[c + a * p] = s;
                }
            /* g = ME R' (p x n) */
            for (size_t c = 0; c < p; c++)
                for (size_t a = 0; a < n; a++) {
                    double s = 0;
                    for (size_t b = 0; b < n; b++) s += ME[c + b * p] * Rb[a + b * n];
                    g[c + a * p] = s;
                }
            /* h = ME X_j L (p x p) */
            for (size_t c = 0; c < p; c++)
                for (size_t c2 = 0; c2 < p; c2++) {
                    double s = 0;
                    for (size_t a = 0; a < n; a++) {
                        double xl = 0;
                        for (size_t c3 = 0; c3 < p; c3++) xl += X[rw[a] + c3 * k] * L[c3 + c2 * p];
                        s += ME[c + a * p] * xl;
                    }
                    h[c + c2 * p] = s;
                }
        }
        for (size_t a = 0; a < p; a++)
            for (size_t b = 0; b < p; b++) meat[a + b * p] += u[a] * u[b];
    }
    if (goff) goff[J] = p * k;
    out->p = p;
    out->n_clusters = J;
    out->type = type;
    out->vb = malloc(p * p * sizeof(double));
    out->se = malloc(p * sizeof(double)); out->stat = malloc(p * sizeof(double));
    out->df = malloc(p * sizeof(double)); out->pval = malloc(p * sizeof(double));
    out->ci_lb = malloc(p * sizeof(double)); out->ci_ub = malloc(p * sizeof(double));
    if (!out->vb || !out->se || !out->stat || !out->df || !out->pval || !out->ci_lb || !out->ci_ub) {
        st = MP_FAIL(MP_ENOMEM);
        goto out;
    }
    double adj = type == MP_VCOV_CR1 ? (double)J / (double)(J - p) : 1.0;
    for (size_t a = 0; a < p; a++)
        for (size_t b = 0; b < p; b++) {
            double s = 0;
            for (size_t c1 = 0; c1 < p; c1++)
                for (size_t c2 = 0; c2 < p; c2++) s += M[a + c1 * p] * meat[c1 + c2 * p] * M[c2 + b * p];
            out->vb[a + b * p] = adj * s;
        }
    double alpha = 1 - level / 100;
    for (size_t c = 0; c < p; c++) {
        out->se[c] = sqrt(out->vb[c + c * p]);
        out->stat[c] = beta[c] / out->se[c];
        if (type == MP_VCOV_CR1) {
            out->df[c] = (double)(J - p);
        } else {
            /* Satterthwaite with the unit vector of coefficient c */
            struct mp_robust_work wk = {J, p, k, start, gm, hh};
            double *e1 = calloc(p, sizeof *e1);
            if (!e1) { st = MP_FAIL(MP_ENOMEM); goto out; }
            e1[c] = 1;
            out->df[c] = satt_df(&wk, e1);
            free(e1);
        }
        out->pval[c] = 2 * gsl_cdf_tdist_Q(fabs(out->stat[c]), out->df[c]);
        double crit = gsl_cdf_tdist_Qinv(alpha / 2, out->df[c]);
        out->ci_lb[c] = beta[c] - crit * out->se[c];
        out->ci_ub[c] = beta[c] + crit * out->se[c];
    }
    /* the omnibus test of coefficients b0..p-1 */
    out->QM = out->QM_df = out->QM_ddf = out->QM_pval = NAN;
    size_t q = p - b0;
    if (q > 0) {
        double *Vs = malloc(q * q * sizeof *Vs), *t = malloc(q * sizeof *t);
        if (!Vs || !t) { free(Vs); free(t); st = MP_FAIL(MP_ENOMEM); goto out; }
        for (size_t a = 0; a < q; a++) {
            t[a] = beta[b0 + a];
            for (size_t b = 0; b < q; b++) Vs[a + b * q] = out->vb[(b0 + a) + (b0 + b) * p];
        }
        double Q = NAN;
        if (LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', (lapack_int)q, Vs, (lapack_int)q) == 0) {
            LAPACKE_dpotrs(LAPACK_COL_MAJOR, 'L', (lapack_int)q, 1, Vs, (lapack_int)q, t, (lapack_int)q);
            Q = 0;
            for (size_t a = 0; a < q; a++) Q += beta[b0 + a] * t[a];
        }
        free(Vs);
        free(t);
        out->QM_df = (double)q;
        if (type == MP_VCOV_CR1) {
            out->QM = Q / (double)q;
            out->QM_ddf = (double)(J - p);
        } else {
            /* HTZ: Omega, its inverse square root, the transformed g and h */
            double *Om = calloc(q * q, sizeof *Om), *On = malloc(q * q * sizeof *On);
            double *gt = malloc(mp_mul_size(q, k ? k : 1) * sizeof *gt), *ht = malloc(mp_mul_size(q * p, J) * sizeof *ht);
            double *Ks = malloc(mp_mul_size(q * q, p * p) * sizeof *Ks);
            if (!Om || !On || !gt || !ht || !Ks) {
                free(Om); free(On); free(gt); free(ht); free(Ks);
                st = MP_FAIL(MP_ENOMEM);
                goto out;
            }
            for (size_t j = 0; j < J; j++) {
                size_t n = start[j + 1] - start[j];
                const double *g = gm + goff[j], *h = hh + j * p * p;
                for (size_t s = 0; s < q; s++)
                    for (size_t t2 = 0; t2 < q; t2++) {
                        double a = 0;
                        for (size_t i = 0; i < n; i++) a += g[b0 + s + i * p] * g[b0 + t2 + i * p];
                        for (size_t x = 0; x < p; x++) a -= h[b0 + s + x * p] * h[b0 + t2 + x * p];
                        Om[s + t2 * q] += a;
                    }
            }
            if (sym_nsqrt(Om, q, 1.0, On) != 0) {
                free(Om); free(On); free(gt); free(ht); free(Ks);
                st = MP_FAIL(MP_ESING);
                goto out;
            }
            for (size_t j = 0; j < J; j++) {
                size_t n = start[j + 1] - start[j];
                const double *g = gm + goff[j], *h = hh + j * p * p;
                double *gj = gt + q * start[j], *hj = ht + j * q * p;
                for (size_t s = 0; s < q; s++) {
                    for (size_t i = 0; i < n; i++) {
                        double a = 0;
                        for (size_t s2 = 0; s2 < q; s2++) a += On[s + s2 * q] * g[b0 + s2 + i * p];
                        gj[s + i * q] = a;
                    }
                    for (size_t x = 0; x < p; x++) {
                        double a = 0;
                        for (size_t s2 = 0; s2 < q; s2++) a += On[s + s2 * q] * h[b0 + s2 + x * p];
                        hj[s + x * q] = a;
                    }
                }
            }
            /* K^{su}_{xy} = sum_c h_csx h_cuy */
            memset(Ks, 0, q * q * p * p * sizeof *Ks);
            for (size_t j = 0; j < J; j++) {
                const double *hj = ht + j * q * p;
                for (size_t s = 0; s < q; s++)
                    for (size_t u2 = 0; u2 < q; u2++)
                        for (size_t x = 0; x < p; x++)
                            for (size_t y2 = 0; y2 < p; y2++)
                                Ks[((s + u2 * q) * p + x) * p + y2] += hj[s + x * q] * hj[u2 + y2 * q];
            }
            /* F(st, uv) = sum_cc' B[s,t,c,c'] B[u,v,c,c'] */
#define AC(j, s, t2, val)                                                                        \
    do {                                                                                        \
        size_t n_ = start[(j) + 1] - start[(j)];                                                \
        const double *gj_ = gt + q * start[(j)];                                                \
        double a_ = 0;                                                                          \
        for (size_t i_ = 0; i_ < n_; i_++) a_ += gj_[(s) + i_ * q] * gj_[(t2) + i_ * q];        \
        (val) = a_;                                                                             \
    } while (0)
            double total = 0;
            for (size_t s = 0; s < q; s++)
                for (size_t t2 = 0; t2 < q; t2++) {
                    /* var[s,t] = F(st, ts) + F(ss, tt) */
                    size_t idx[2][4] = {{s, t2, t2, s}, {s, s, t2, t2}};
                    for (int z = 0; z < 2; z++) {
                        size_t S1 = idx[z][0], T1 = idx[z][1], U1 = idx[z][2], V1 = idx[z][3];
                        double F = 0;
                        for (size_t j = 0; j < J; j++) {
                            const double *hj = ht + j * q * p;
                            double ast, auv, huv = 0, hst = 0;
                            AC(j, S1, T1, ast);
                            AC(j, U1, V1, auv);
                            for (size_t x = 0; x < p; x++) {
                                huv += hj[U1 + x * q] * hj[V1 + x * q];
                                hst += hj[S1 + x * q] * hj[T1 + x * q];
                            }
                            F += ast * auv - ast * huv - auv * hst;
                        }
                        const double *K1 = Ks + (S1 + U1 * q) * p * p, *K2 = Ks + (T1 + V1 * q) * p * p;
                        for (size_t x = 0; x < p * p; x++) F += K1[x] * K2[x];
                        total += F;
                    }
                }
#undef AC
            double nu = (double)(q * (q + 1)) / total;
            double delta = (nu - (double)q + 1) / nu;
            if (delta < 0) delta = 0;
            out->QM = delta * Q / (double)q;
            out->QM_ddf = nu - (double)q + 1;
            free(Om); free(On); free(gt); free(ht); free(Ks);
        }
        out->QM_pval = out->QM_ddf > 0 ? gsl_cdf_fdist_Q(out->QM, (double)q, out->QM_ddf) : NAN;
    }
    if (type == MP_VCOV_CR2) {
        out->work = malloc(sizeof *out->work);
        if (!out->work) { st = MP_FAIL(MP_ENOMEM); goto out; }
        out->work->J = J; out->work->p = p; out->work->k = k;
        out->work->start = start; out->work->gm = gm; out->work->hh = hh;
        start = NULL; gm = NULL; hh = NULL;
    }
out:
    free(start); free(ord); free(pos); free(M); free(meat); free(L); free(e);
    free(Vb); free(Wb); free(Rb); free(Gb); free(Ab); free(Tb); free(u); free(gm); free(hh); free(goff);
    if (st != MP_OK) mp_robust_result_free(out);
    return st;
}
