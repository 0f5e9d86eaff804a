/* include/metapool/robust.h - cluster-robust (sandwich) inference for meta-regression: CR1 and CR2.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * CR1 as metafor 3.8's robust(fit, cluster, adjust = TRUE): the sandwich
 * M (sum_j X_j' W_j e_j e_j' W_j X_j) M, M = (X'WX)^-1, times J/(J - p), t
 * tests on J - p df, QM = Wald/m on F(m, J - p) (Hedges, Tipton & Johnson
 * 2010, Res Synth Methods 1:39).  CR2 as robust(fit, cluster, clubSandwich
 * = TRUE), i.e. clubSandwich 0.5.8's vcovCR(type = "CR2") with the working
 * model as target, coef_test/conf_int "Satterthwaite" and Wald_test "HTZ"
 * (Tipton & Pustejovsky 2015, J Educ Behav Stat 40:604; Pustejovsky &
 * Tipton 2018, J Bus Econ Stat 36:672; Bell & McCaffrey 2002).  The working
 * covariance V must be block diagonal by cluster (W_j = V_j^-1). */
#ifndef MP_ROBUST_H
#define MP_ROBUST_H

#include <stddef.h>
#include "status.h"
#include "table.h"
#include "reg.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Small-sample type of the sandwich. */
typedef enum mp_vcov_type { MP_VCOV_CR1 = 1, MP_VCOV_CR2 = 2 } mp_vcov_type;

/** Parse "CR1" / "CR2" (case-insensitive). MP_OK or MP_EINVAL. */
MP_EXPORT mp_status mp_vcov_parse(const char *s, mp_vcov_type *out);

/** Fills V (n x n, column-major) with the working covariance of the rows
 *  rows[0..n-1] (0-based indices into the fitted data). */
typedef void (*mp_vblock_fn)(void *ctx, const size_t *rows, size_t n, double *V);

/** Result of robust inference; arrays owned (free with mp_robust_result_free()). */
typedef struct mp_robust_result {
    size_t p, n_clusters;
    mp_vcov_type type;
    double *vb;                         /**< p x p robust covariance */
    double *se, *stat, *df, *pval, *ci_lb, *ci_ub; /**< p each: t tests on df */
    double QM, QM_df, QM_ddf, QM_pval;  /**< F test of coefficients b0..p-1 (NaN if none) */
    struct mp_robust_work *work;        /**< CR2: what contrast df need (opaque) */
} mp_robust_result;

/** Robust inference for the GLS fit beta of y on X (k x p, column-major)
 *  with working covariance V (vblock), rows grouped by cluster[i] in
 *  0..J-1.  w_scale is the scale clubSandwich applies to the weights
 *  (mean of 1/(v + tau2) for rma.uni fits, 1 for rma.mv): it only moves
 *  the cut-off (1e-12) below which an eigenvalue of CR2's adjustment is
 *  treated as zero.  b0 is the first coefficient QM tests (1 with an
 *  intercept).  Returns MP_OK; MP_EINVAL (NULL, J < 2, a cluster id out of
 *  range, bad level); MP_ETOOFEW (J <= p for CR1); MP_ESING (a working
 *  covariance block or X'WX not positive definite); MP_ENOMEM. */
MP_EXPORT mp_status mp_robust(const double *X, const double *y, size_t k, size_t p,
                              const double *beta, const size_t *cluster, size_t J,
                              mp_vblock_fn vblock, void *ctx, double w_scale, mp_vcov_type type,
                              size_t b0, double level, mp_robust_result *out);

/** mp_robust() for an rma.uni fit (metafor's robust(fit, cluster)): working
 *  covariance diag(v + tau2), clubSandwich's weight scale mean(1/(v + tau2)).
 *  Returns as mp_robust(). */
MP_EXPORT mp_status mp_robust_uni(const double *X, const double *y, const double *v, double tau2,
                                  size_t k, size_t p, const double *beta, const size_t *cluster,
                                  size_t J, mp_vcov_type type, size_t b0, double level,
                                  mp_robust_result *out);

/** Satterthwaite df of the contrast c'beta (c: p values): J - p for CR1,
 *  clubSandwich's Satterthwaite approximation for CR2 (as for a coefficient,
 *  with the contrast in place of the unit vector).  NaN on bad input. */
MP_EXPORT double mp_robust_contrast_df(const mp_robust_result *rb, const double *c);

/** Predictions at the n rows of Xnew (n x p) with the robust covariance, as
 *  metafor's predict() of a robust() fit: t quantiles with the df of each
 *  row's contrast (CR2: Satterthwaite per row; CR1: J - p); the prediction
 *  interval adds tau2.  MP_OK, MP_EINVAL, MP_ENOMEM (free with
 *  mp_reg_pred_free()). */
MP_EXPORT mp_status mp_robust_predict(const mp_robust_result *rb, const double *beta,
                                      const double *Xnew, size_t n, double tau2, double level,
                                      mp_reg_pred *out);

/** Cluster ids 0..J-1 of the table rows rows[0..k-1] from column `col`
 *  (distinct cell texts, sorted).  MP_OK; MP_EINVAL (no such column: err);
 *  MP_EPARSE (a missing cell: err gives file:line:col); MP_ENOMEM. */
MP_EXPORT mp_status mp_robust_cluster_ids(const mp_table *t, const size_t *rows, size_t k,
                                          const char *col, size_t *ids, size_t *J, mp_error *err);

/** Free the arrays of a result. NULL-safe. */
MP_EXPORT void mp_robust_result_free(mp_robust_result *r);

#ifdef __cplusplus
}
#endif
#endif /* MP_ROBUST_H */
