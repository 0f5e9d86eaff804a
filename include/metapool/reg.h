/* include/metapool/reg.h - mixed-effects meta-regression (metafor's rma(yi, vi, mods = ~ ...)).
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The model is y = X b + u + e, u ~ N(0, tau2 I), e ~ N(0, diag(v)), fitted
 * as metafor 3.8's rma.uni() fits it (Viechtbauer 2010, J Stat Softw 36(3);
 * Viechtbauer 2005, J Educ Behav Stat 30:261 for ML/REML/EB; Knapp & Hartung
 * 2003, Stat Med 22:2693 for test = "knha"; Raudenbush 2009 for the pseudo
 * R^2).  Every quantity metafor builds from k x k matrices (P, PP, PV, ...) is
 * computed here from the thin QR factorisation of W^(1/2) X (LAPACKE): no
 * k x k matrix is formed, the work per evaluation is O(k p^2).
 *
 * Design matrices are built from a table by mp_design_build() (design.h). */
#ifndef MP_REG_H
#define MP_REG_H

#include <stddef.h>
#include "status.h"
#include "pool.h"
#include "design.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Options of a meta-regression fit. */
typedef struct mp_reg_opts {
    mp_method method; /**< tau^2 estimator [REML] */
    mp_test test;     /**< z or knha [z] */
    double level;     /**< confidence level in percent [95] */
    double epsrel;    /**< relative convergence tolerance of iterative estimators [1e-12] */
    size_t maxiter;   /**< iteration limit of iterative estimators [1000] */
    int intercept;    /**< 1 if column 0 of X is the intercept [1]; then QM tests
                           columns 1..p-1 and R^2 is computed (metafor's btt, int.incl) */
    int r2;           /**< compute the pseudo R^2 (refits the intercept-only model) [1] */
} mp_reg_opts;

/** Fill `o` with the defaults shown above. */
MP_EXPORT void mp_reg_opts_init(mp_reg_opts *o);

/** Result of one meta-regression.  The p-arrays are owned by the result
 *  (free with mp_reg_result_free()).  Values that are not defined for the
 *  model are NaN (tau2_se for FE, df for z tests, R2 without moderators). */
typedef struct mp_reg_result {
    size_t k;            /**< studies (rows of X) */
    size_t p;            /**< coefficients (columns of X) */
    mp_method method;    /**< estimator used */
    mp_test test;        /**< test used */
    double level;        /**< confidence level, percent */
    double *beta;        /**< p coefficients (GLS estimates at weights 1/(v + tau2)) */
    double *se;          /**< p standard errors (knha: scaled by sqrt(s2w)) */
    double *stat;        /**< p z or t statistics */
    double *pval;        /**< p two-sided p-values (upper tails) */
    double *ci_lb;       /**< p lower confidence limits */
    double *ci_ub;       /**< p upper confidence limits */
    double *vb;          /**< p x p covariance of beta, column-major (knha: times s2w) */
    double df;           /**< residual df k - p of the t and F tests (knha); NaN for z */
    double s2w;          /**< knha scale sum w (y - Xb)^2 / (k - p), untruncated; 1 for z */
    double tau2;         /**< residual between-study variance (0 for FE) */
    double tau2_se;      /**< its standard error as metafor computes it (NaN for FE) */
    double I2;           /**< residual I^2 in percent: 100 tau2/(vt + tau2) (FE: from QE) */
    double H2;           /**< residual H^2: 1 + tau2/vt (FE: QE/(k-p)) */
    double R2;           /**< pseudo R^2 in percent (NaN when not computed / undefined) */
    double tau2_RE;      /**< tau^2 of the intercept-only model by the same estimator (NaN if not fitted) */
    double vt;           /**< typical within-study variance (k - p)/tr(P_FE) */
    double QE, QE_df, QE_pval; /**< test for residual heterogeneity (FE weights), df k - p */
    double QM, QM_df, QM_pval; /**< omnibus test of the moderators: Wald chi^2 (z) or
                                     F = chi^2/m on (m, k-p) df (knha); QM_df = m */
    size_t niter;        /**< iterations of an iterative estimator (0 for closed forms) */
    int converged;       /**< 1 if converged (always 1 for closed forms) */
    unsigned warn;       /**< MP_WARN_* flags (pool.h): MP_WARN_FE_KNHA, MP_WARN_TRUNC */
} mp_reg_result;

/** Fit the meta-regression y = X b + u + e by the estimator o->method.
 *
 *  y, v:  k effect sizes (finite) and sampling variances (finite, > 0).
 *  X:     k x p design matrix, column-major (element (i, j) at X[i + j k]);
 *         with o->intercept, column 0 should be all ones.
 *  o:     options (NULL: defaults).
 *  res:   the result; its arrays are allocated here and must be freed with
 *         mp_reg_result_free() whatever the return value.
 *
 *  Estimators (metafor_formulas.md sections 1-2, general X): DL, HE, HS,
 *  HSk and SJ in closed form; ML and REML at the global maximum of the
 *  (restricted) likelihood on [0, inf): every local maximum bracketed by
 *  the sign of the score on a grid scaled to the data and solved by
 *  safeguarded Newton steps (Fisher scoring where Newton's slope has the
 *  wrong sign, bisection inside the bracket) to relative change epsrel, 0
 *  included, the highest kept; EB (unique root: Q decreases in tau2) by
 *  the same Newton from the HE estimate; PM by Brent's method (GSL) on
 *  Q(tau2) = k - p.
 *
 *  Threads: BLAS runs single-threaded inside the library's fits.  The
 *  first call of mp_reg_fit, mp_reg_check_rank or mp_traj_fit sets
 *  OpenBLAS to one thread for the whole process
 *  (openblas_set_num_threads(1), once), so results do not depend on
 *  OPENBLAS_NUM_THREADS and fits run in parallel on the caller's threads
 *  without oversubscribing the cores.
 *
 *  Returns MP_OK; MP_EINVAL (NULL pointers, p = 0, a bad option);
 *  MP_EDOM (y, v or X outside the range pool supports: |y|, |X| <= MP_POOL_YMAX,
 *  MP_POOL_VMIN <= v <= MP_POOL_VMAX, or a result that is not finite because
 *  the data span more than a double holds); MP_ETOOFEW (k <= p: no
 *  residual degrees of freedom); MP_ESING (X not of full column rank);
 *  MP_ENOCONV (an iterative estimator did not converge: res->converged = 0,
 *  res->niter set, the estimates NaN); MP_ENOMEM.  No output is written to
 *  any stream. */
MP_EXPORT mp_status mp_reg_fit(const double *y, const double *v, const double *X, size_t k,
                               size_t p, const mp_reg_opts *o, mp_reg_result *res);

/** Check that the k x p matrix X (column-major) has full column rank in
 *  the sense R's lm() uses when metafor looks for redundant predictors:
 *  Householder QR without pivoting, column j is dependent when
 *  |R_jj| <= tol * ||X_j|| (tol <= 0: 1e-7, lm's default).
 *  Returns MP_OK, MP_ESING with *col (may be NULL) the first column that is
 *  a linear combination of the earlier ones (or all zero), MP_ETOOFEW if
 *  k < p, MP_EINVAL, MP_ENOMEM.  Allocates scratch internally. */
MP_EXPORT mp_status mp_reg_check_rank(const double *X, size_t k, size_t p, double tol,
                                      size_t *col);

/** Subgroups with a common tau^2, as metafor fits them: the estimate of
 *  each subgroup from rma(yi, vi, mods = ~ factor(g) - 1) and the test for
 *  subgroup differences from QM of rma(yi, vi, mods = ~ factor(g)).
 *
 *  y, v, group: k effects, variances and subgroup indices (0..ng-1, every
 *  subgroup non-empty, ng >= 2).  o: estimator, test, level, tolerances.
 *  res[0..ng): per subgroup k, estimate, se, stat, df (knha), pval, ci_lb,
 *  ci_ub, pi_lb/pi_ub (metafor's predict(): +/- crit sqrt(se^2 + tau2)),
 *  tau2 and tau2_se (the common ones), I2 and H2 (the model's residual
 *  ones); the tau2, I2, H2 intervals NaN; other fields (Q, Q_df, Q_pval,
 *  vt, sum_w) are left as they were.  *Q, *Q_df, *Q_pval: the test for
 *  subgroup differences (Wald chi^2, or F on (ng - 1, k - ng) df for knha).
 *  Returns MP_OK or what mp_reg_fit() returns (MP_EINVAL for a bad group
 *  index or an empty subgroup). */
MP_EXPORT mp_status mp_reg_subgroups(const double *y, const double *v, const size_t *group,
                                     size_t k, size_t ng, const mp_pool_opts *o,
                                     mp_pool_result *res, double *Q, double *Q_df,
                                     double *Q_pval);

/** Predictions at new moderator values (metafor's predict(fit, newmods =)). */
typedef struct mp_reg_pred {
    size_t n;                   /**< rows */
    double *pred, *se;          /**< x'b and sqrt(x' vb x) */
    double *ci_lb, *ci_ub;      /**< pred -/+ crit se */
    double *pi_lb, *pi_ub;      /**< pred -/+ crit sqrt(se^2 + tau2) (prediction interval) */
} mp_reg_pred;

/** Predictions at the n rows of Xnew (n x p, column-major) from the
 *  coefficients beta and their covariance vb (p x p): crit is the normal
 *  quantile (df NaN) or that of t with df degrees of freedom (knha, robust)
 *  at `level` percent; tau2 is the heterogeneity added for the prediction
 *  interval (the sum of the variance components for multilevel models, as
 *  metafor's predict.rma.mv without a tau2 structure).  Returns MP_OK,
 *  MP_EINVAL, MP_ENOMEM; free with mp_reg_pred_free(). */
MP_EXPORT mp_status mp_reg_predict(const double *beta, const double *vb, size_t p,
                                   const double *Xnew, size_t n, double tau2, double df,
                                   double level, mp_reg_pred *out);
/** Free the arrays of predictions. NULL-safe. */
MP_EXPORT void mp_reg_pred_free(mp_reg_pred *pr);

/** Free the arrays of a result and set them to NULL. NULL-safe. */
MP_EXPORT void mp_reg_result_free(mp_reg_result *res);

#ifdef __cplusplus
}
#endif
#endif /* MP_REG_H */
