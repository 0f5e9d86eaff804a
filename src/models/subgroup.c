/* src/models/subgroup.c - subgroup analysis with one tau^2 common to all subgroups.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * metafor fits subgroups with a common tau^2 as a meta-regression on the
 * subgroup factor: rma(yi, vi, mods = ~ factor(g) - 1) gives each
 * subgroup's estimate (the cell-means parametrisation), and the test for
 * subgroup differences is QM of rma(yi, vi, mods = ~ factor(g)) (the
 * intercept parametrisation, where QM tests every contrast with the first
 * subgroup).  Both parametrisations span the same column space, so they
 * have the same (restricted) likelihood and the same tau^2; metapool fits
 * both through mp_reg_fit() exactly as metafor does, so the knha (t and F)
 * variants follow too.  Prediction intervals are metafor's predict():
 * estimate -/+ crit * sqrt(se^2 + tau^2), crit the z or t (k - p df)
 * quantile. */
#include "metapool/reg.h"
#include "metapool/pool.h"
#include "internal.h"

#include "metapool/quantile.h"
#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The k x m indicator matrix (column-major) of the groups, with a leading
 * intercept column and the first group dropped when `intercept`. */
static double *group_design(const size_t *group, size_t k, size_t ng, int intercept, size_t *p)
{
    size_t m = ng; /* ng cell means, or the intercept and ng - 1 contrasts */
    double *X = calloc(mp_mul_size(k, m) ? k * m : 1, sizeof *X);
    if (!X) return NULL;
    for (size_t i = 0; i < k; i++) {
        if (intercept) {
            X[i] = 1.0;
            if (group[i] > 0) X[i + group[i] * k] = 1.0;
        } else {
            X[i + group[i] * k] = 1.0;
        }
    }
    *p = m;
    return X;
}

mp_status mp_reg_subgroups(const double *y, const double *v, const size_t *group, size_t k,
                           size_t ng, const mp_pool_opts *o, mp_pool_result *res, double *Q,
                           double *Q_df, double *Q_pval)
{
    if (!y || !v || !group || !o || !res || !Q || !Q_df || !Q_pval || ng < 2)
        return MP_FAIL(MP_EINVAL);
    size_t *kg = calloc(ng, sizeof *kg);
    if (!kg) return MP_FAIL(MP_ENOMEM);
    for (size_t i = 0; i < k; i++) {
        if (group[i] >= ng) { free(kg); return MP_FAIL(MP_EINVAL); }
        kg[group[i]]++;
    }
    for (size_t g = 0; g < ng; g++)
        if (kg[g] == 0) { free(kg); return MP_FAIL(MP_EINVAL); }

    mp_reg_opts ro;
    mp_reg_opts_init(&ro);
    ro.method = o->method;
    ro.test = o->test;
    ro.level = o->level;
    ro.epsrel = o->epsrel;
    ro.maxiter = o->maxiter;
    ro.r2 = 0;
    mp_reg_result cells, contrasts;
    memset(&cells, 0, sizeof cells);
    memset(&contrasts, 0, sizeof contrasts);
    size_t p = 0;
    mp_status s = MP_OK;
    double *X = group_design(group, k, ng, 0, &p);
    if (!X) { s = MP_FAIL(MP_ENOMEM); goto out; }
    ro.intercept = 0;
    s = mp_reg_fit(y, v, X, k, p, &ro, &cells);
    free(X);
    if (s != MP_OK) goto out;
    X = group_design(group, k, ng, 1, &p);
    if (!X) { s = MP_FAIL(MP_ENOMEM); goto out; }
    ro.intercept = 1;
    s = mp_reg_fit(y, v, X, k, p, &ro, &contrasts);
    free(X);
    if (s != MP_OK) goto out;

    double alpha = 1.0 - o->level / 100.0;
    double crit = ro.test == MP_TEST_KNHA ? mp_qt_upper(alpha / 2.0, cells.df)
                                          : mp_qnorm_upper(alpha / 2.0);
    for (size_t g = 0; g < ng; g++) {
        mp_pool_result *r = &res[g];
        r->k = kg[g];
        r->method = o->method;
        r->test = o->test;
        r->level = o->level;
        r->estimate = cells.beta[g];
        r->se = cells.se[g];
        r->stat = cells.stat[g];
        r->df = cells.df;
        r->pval = cells.pval[g];
        r->ci_lb = cells.ci_lb[g];
        r->ci_ub = cells.ci_ub[g];
        r->tau2 = cells.tau2;
        r->tau = sqrt(cells.tau2);
        r->tau2_se = cells.tau2_se;
        r->tau2_ci_lb = r->tau2_ci_ub = NAN;
        r->I2 = cells.I2;
        r->H2 = cells.H2;
        r->I2_ci_lb = r->I2_ci_ub = r->H2_ci_lb = r->H2_ci_ub = NAN;
        if (o->method == MP_METHOD_FE) {
            r->pi_lb = r->pi_ub = NAN;
        } else {
            double h = crit * sqrt(r->se * r->se + cells.tau2);
            r->pi_lb = r->estimate - h;
            r->pi_ub = r->estimate + h;
        }
        r->niter = cells.niter;
        r->converged = cells.converged;
        r->warn |= cells.warn;
    }
    *Q = contrasts.QM;
    *Q_df = contrasts.QM_df;
    *Q_pval = contrasts.QM_pval;
out:
    free(kg);
    mp_reg_result_free(&cells);
    mp_reg_result_free(&contrasts);
    return s;
}
