/* include/metapool/sensitivity.h - leave-one-out, cumulative meta-analysis, influence diagnostics.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The sensitivity analyses of metafor 3.8: leave1out(), cumul(),
 * influence() and baujat() for rma.uni fits (Viechtbauer & Cheung 2010,
 * Res Synth Methods 1:112 for the influence measures; Baujat et al. 2002,
 * Stat Med 21:2641 for the Baujat plot).  Every analysis is many fits of
 * one data set: the fits of cumul go through mp_pool_many() over a
 * prepared contiguous layout (the subsets copied one after another); the
 * leave-one-out refits are O(1) each from downdated power sums and their
 * Taylor series in tau2, to full precision, with the refits the series
 * cannot do (tau2 at or near 0, HE, SJ, k = 2) through the same
 * mp_pool_many() layout; those of influence for a meta-regression go
 * through mp_reg_fit().  Nothing is printed; results are returned. */
#ifndef MP_SENSITIVITY_H
#define MP_SENSITIVITY_H

#include <stddef.h>
#include "status.h"
#include "pool.h"
#include "reg.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Leave-one-out analysis (metafor's leave1out()): the model refitted k
 *  times, each time without one study.
 *
 *  y, v:   k >= 2 effects and sampling variances (as mp_pool()).
 *  o:      options (NULL: defaults); the refits use o without the
 *          Q-profile CI of tau^2 (metafor's leave1out() reports none).
 *  full:   (may be NULL) the fit of all k studies, with o as given.
 *  rows:   k results; rows[i] is the fit without study i.  A fit of one
 *          study (k = 2) gets metafor's values for k = 1: Q 0, Q_pval 1,
 *          tau2 0, I2 0, H2 1 (and the z test when knha was asked).
 *  status: (may be NULL) k statuses, one per row.
 *
 *  Returns MP_OK; MP_ETOOFEW for k < 2 (metafor: "Stopped because k = 1");
 *  MP_EINVAL for NULL arguments; otherwise the first failing status of
 *  the full fit or a refit (MP_EDOM, MP_ENOCONV, ...): every row is filled
 *  as far as its own fit got, and status[] says which rows failed. */
MP_EXPORT mp_status mp_leave1out(const double *y, const double *v, size_t k,
                                 const mp_pool_opts *o, mp_pool_result *full,
                                 mp_pool_result *rows, mp_status *status);

/** The order in which cumul() adds studies: the permutation that sorts
 *  key[0..k) increasingly (or decreasingly), stable in both directions
 *  (ties keep file order, as R's order(x, decreasing = TRUE) does).  NaN
 *  keys go last (R's na.last = TRUE).  perm gets k indices.
 *  Returns MP_OK, MP_EINVAL (NULL arguments), MP_ENOMEM. */
MP_EXPORT mp_status mp_cumul_order(const double *key, size_t k, int decreasing, size_t *perm);

/** Cumulative meta-analysis (metafor's cumul()): rows[j] is the fit of
 *  studies perm[0], ..., perm[j] (perm NULL: file order).  Row 0 has one
 *  study and gets metafor's k = 1 values (see mp_leave1out).  o is used
 *  without the Q-profile CI.  Returns MP_OK; MP_ETOOFEW for k = 0;
 *  MP_EINVAL (NULL arguments, perm not a permutation); else the first
 *  failing status of a fit (status[] per row, may be NULL). */
MP_EXPORT mp_status mp_cumul(const double *y, const double *v, size_t k, const size_t *perm,
                             const mp_pool_opts *o, mp_pool_result *rows, mp_status *status);

/** Influence diagnostics of one model (metafor's influence() and the
 *  coordinates of baujat()), one entry per study.  Arrays of k values
 *  (dfbetas: k x p, row i at dfbetas + i p), owned by the struct.  A value
 *  whose leave-one-out fit failed is NaN (status[i] says why). */
typedef struct mp_influence {
    size_t k;          /**< studies */
    size_t p;          /**< coefficients (1 without moderators) */
    double *rstudent;  /**< externally studentized residual */
    double *dffits;    /**< DFFITS */
    double *cook_d;    /**< Cook's distance (all p coefficients) */
    double *cov_r;     /**< covariance ratio det(Vb(-i)) / det(Vb) */
    double *tau2_del;  /**< tau^2 with the study deleted (0 for FE) */
    double *QE_del;    /**< Q (residual heterogeneity) with the study deleted */
    double *hat;       /**< hat value (diagonal of the hat matrix) */
    double *weight;    /**< weight in the full fit, percent */
    double *dfbetas;   /**< DFBETAS, p per study */
    double *baujat_x;  /**< squared Pearson residual (y - yhat)^2 / (tau2 + v) */
    double *baujat_y;  /**< influence on the fitted value (yhat - yhat(-i))^2 / Var(yhat(-i)) */
    int *influential;  /**< metafor's rule (see mp_influence_pool) */
    mp_status *status; /**< status of each leave-one-out fit */
    mp_status full_status; /**< status of the fit of all k studies */
} mp_influence;

/** Influence diagnostics of the intercept-only model (metafor's
 *  influence(rma(yi, vi, method, test))): the k leave-one-out fits are one
 *  mp_leave1out() call.  Definitions as metafor 3.8 computes them, with
 *  w = 1/(v + tau2), s2w the knha scale of a fit (1 for z):
 *    hat_i = w_i / sum w; weight_i = 100 hat_i;
 *    rstudent_i = (y_i - b(-i)) / sqrt(s2w(-i) (v_i + tau2(-i)) + Var b(-i));
 *    dffits_i = (b - b(-i)) / sqrt(s2w(-i) hat_i (tau2(-i) + v_i));
 *    dfbetas_i = (b - b(-i)) / sqrt(s2w(-i) / sum_j 1/(v_j + tau2(-i)))
 *      (sum over all k studies, as metafor);
 *    cook_d_i = (b - b(-i))^2 / Var b; cov_r_i = Var b(-i) / Var b;
 *    influential: |dffits| > 3 sqrt(p/(k-p)), or pchisq(cook_d, p) > 0.5,
 *      or hat > 3 p/k, or any |dfbetas| > 1.
 *  o: options (NULL: defaults).  full (may be NULL) gets the full fit.
 *  `out` is allocated here; free with mp_influence_free() whatever the
 *  return value.  Returns MP_OK; MP_ETOOFEW (k < 2), MP_EINVAL, MP_ENOMEM;
 *  else the first failing status of a fit: out->full_status says whether
 *  the full fit failed (then nothing is computed), out->status[i] whether
 *  the fit without study i did (then row i is NaN, the others computed). */
MP_EXPORT mp_status mp_influence_pool(const double *y, const double *v, size_t k,
                                      const mp_pool_opts *o, mp_pool_result *full,
                                      mp_influence *out);

/** Influence diagnostics of a meta-regression (metafor's influence() of
 *  rma(yi, vi, mods = ...)), X as for mp_reg_fit() (k x p, column-major).
 *  The same definitions in matrix form: hat_i = w_i x_i' (X'WX)^-1 x_i,
 *  Var b(-i) and b(-i) from the refit without study i (mp_reg_fit, the
 *  pseudo R^2 skipped as metafor's skipr2), DFBETAS with
 *  diag((X' W(-i) X)^-1) where W(-i) = diag(1/(v + tau2(-i))) over all k
 *  rows, Cook's distance (b - b(-i))' Vb^-1 (b - b(-i)), cov_r a ratio of
 *  determinants.  A refit with no residual df (k - 1 <= p) leaves its row
 *  NaN (status MP_ETOOFEW).  full (may be NULL) gets the full fit (free it
 *  with mp_reg_result_free()).  Returns as mp_influence_pool; also MP_ESING
 *  for a rank-deficient X. */
MP_EXPORT mp_status mp_influence_reg(const double *y, const double *v, const double *X,
                                     size_t k, size_t p, const mp_reg_opts *o,
                                     mp_reg_result *full, mp_influence *out);

/** Free the arrays of `inf` and set them to NULL. NULL-safe. */
MP_EXPORT void mp_influence_free(mp_influence *inf);

#ifdef __cplusplus
}
#endif
#endif /* MP_SENSITIVITY_H */
