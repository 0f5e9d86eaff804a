/* src/models/robust_fits.c - cluster-robust inference for the two kinds of fit: rma.uni and rma.mv.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * mp_robust() takes the working covariance of a cluster's rows as a
 * callback; these wrappers supply it as metafor's robust() (and
 * clubSandwich's vcovCR()) does for each model: diag(v + tau2) with the
 * weights' mean as clubSandwich's scale for rma.uni, the model's marginal
 * covariance with scale 1 for rma.mv. */
#include "metapool/mv.h"
#include "metapool/robust.h"
#include "internal.h"

#include <stdlib.h>

/* Working covariance of rma.uni rows: diag(v + tau2). */
typedef struct uni_ctx { const double *v; double tau2; } uni_ctx;
static void uni_vblock(void *ctx, const size_t *rows, size_t n, double *V)
{
    const uni_ctx *u = ctx;
    for (size_t a = 0; a < n; a++)
        for (size_t b = 0; b < n; b++) V[a + b * n] = a == b ? u->v[rows[a]] + u->tau2 : 0.0;
}

/* Working covariance of rma.mv rows: the marginal covariance. */
typedef struct mv_ctx { const mp_mv_random *re; const double *v; const double *sigma2; } mv_ctx;
static void mv_vblock(void *ctx, const size_t *rows, size_t n, double *V)
{
    const mv_ctx *m = ctx;
    mp_mv_marginal(m->re, m->v, m->sigma2, rows, n, V);
}

mp_status mp_robust_uni(const double *X, const double *y, const double *v, double tau2, size_t k,
                        size_t p, const double *beta, const size_t *cluster, size_t J,
                        mp_vcov_type type, size_t b0, double level, mp_robust_result *out)
{
    if (!v || k == 0) return MP_FAIL(MP_EINVAL);
    uni_ctx uc = {v, tau2};
    double wsc = 0;
    for (size_t i = 0; i < k; i++) wsc += 1 / (v[i] + tau2) / (double)k;
    return mp_robust(X, y, k, p, beta, cluster, J, uni_vblock, &uc, wsc, type, b0, level, out);
}

int mp_mv_nested_in(const mp_mv_random *re, const size_t *cluster, size_t k)
{
    for (size_t r = 0; r < re->ncomp; r++) {
        size_t *first = malloc((re->nlev[r] ? re->nlev[r] : 1) * sizeof *first);
        if (!first) return -1;
        for (size_t l = 0; l < re->nlev[r]; l++) first[l] = (size_t)-1;
        int ok = 1;
        for (size_t i = 0; i < k && ok; i++) {
            size_t l = re->level[r][i];
            if (first[l] == (size_t)-1) first[l] = cluster[i];
            else ok = first[l] == cluster[i];
        }
        free(first);
        if (!ok) return 0;
    }
    return 1;
}

mp_status mp_robust_mv(const double *X, const double *y, const double *v, const mp_mv_random *re,
                       const double *sigma2, size_t k, size_t p, const double *beta,
                       const size_t *cluster, size_t J, mp_vcov_type type, size_t b0,
                       double level, mp_robust_result *out)
{
    if (!re || !v || !sigma2) return MP_FAIL(MP_EINVAL);
    int nested = mp_mv_nested_in(re, cluster, k);
    if (nested < 0) return MP_FAIL(MP_ENOMEM);
    if (!nested) return MP_FAIL(MP_EDOM);
    mv_ctx mc = {re, v, sigma2};
    return mp_robust(X, y, k, p, beta, cluster, J, mv_vblock, &mc, 1.0, type, b0, level, out);
}
