/* include/metapool/pool.h - fixed- and random-effects pooling.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Estimators and statistics as R's metafor 3.8 defines them for
 * rma(yi, vi, method = ...) (Viechtbauer 2010; Viechtbauer 2005, J Educ
 * Behav Stat 30:261; Knapp & Hartung 2003; Viechtbauer 2007 for the
 * Q-profile interval).  The core fits many analyses in one call over
 * contiguous arrays; mp_pool() is the single-analysis convenience. */
#ifndef MP_POOL_H
#define MP_POOL_H

#include <stddef.h>
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** tau^2 estimators (FE = fixed effect, no tau^2). */
typedef enum mp_method {
    MP_METHOD_FE = 0, MP_METHOD_DL, MP_METHOD_HE, MP_METHOD_HS, MP_METHOD_HSK,
    MP_METHOD_SJ, MP_METHOD_ML, MP_METHOD_REML, MP_METHOD_EB, MP_METHOD_PM,
    MP_METHOD_COUNT
} mp_method;

/** Tests and intervals for the pooled estimate. */
typedef enum mp_test {
    MP_TEST_Z = 0, /**< normal (Wald) */
    MP_TEST_KNHA,  /**< Hartung-Knapp-Sidik-Jonkman: adjusted SE, t with k-1 df */
    MP_TEST_COUNT
} mp_test;

MP_EXPORT const char *mp_method_name(mp_method m);   /**< "REML", never NULL */
MP_EXPORT mp_status mp_method_parse(const char *s, mp_method *out); /**< MP_OK/MP_EINVAL */
MP_EXPORT const char *mp_test_name(mp_test t);        /**< "z" or "knha" */
MP_EXPORT mp_status mp_test_parse(const char *s, mp_test *out);

/** Options for pooling. */
typedef struct mp_pool_opts {
    mp_method method;  /**< tau^2 estimator [REML] */
    mp_test test;      /**< z or knha [z] */
    double level;      /**< confidence level in percent [95] */
    double epsrel;     /**< relative convergence tolerance of iterative estimators [1e-12] */
    size_t maxiter;    /**< iteration limit [1000] */
    int tau2_ci;       /**< compute Q-profile CIs for tau^2, I^2, H^2 [1] */
} mp_pool_opts;

/** Fill `o` with the defaults shown above. */
MP_EXPORT void mp_pool_opts_init(mp_pool_opts *o);

/** Warning flags of one fit. */
enum {
    MP_WARN_K1 = 1u << 0,          /**< k = 1: the study itself, no heterogeneity */
    MP_WARN_TAU2_CI_LB = 1u << 1,  /**< Q-profile lower bound could not be found */
    MP_WARN_TAU2_CI_UB = 1u << 2,  /**< Q-profile upper bound could not be found */
    MP_WARN_FE_KNHA = 1u << 3,     /**< knha with the FE model (metafor warns too) */
    MP_WARN_TRUNC = 1u << 4,       /**< the tau^2 estimate was truncated at 0 */
    MP_WARN_KNHA_K1 = 1u << 5      /**< knha asked with k = 1: z used (as metafor) */
};

/** Result of one pooled analysis.  Values that are not defined for the
 *  model (tau2_se for FE, df for z tests, Q for k = 1, ...) are NaN. */
typedef struct mp_pool_result {
    size_t k;            /**< studies */
    mp_method method;    /**< estimator used */
    mp_test test;        /**< test used (z when knha was asked with k = 1) */
    double level;        /**< confidence level, percent */
    double estimate;     /**< pooled estimate */
    double se;           /**< its standard error (knha-adjusted for knha) */
    double stat;         /**< z or t statistic */
    double df;           /**< t degrees of freedom (knha), NaN for z */
    double pval;         /**< two-sided p-value */
    double ci_lb, ci_ub; /**< confidence interval of the estimate */
    double pi_lb, pi_ub; /**< prediction interval (NaN for FE) */
    double tau2;         /**< between-study variance (0 for FE) */
    double tau2_se;      /**< its standard error as metafor computes it */
    double tau2_ci_lb, tau2_ci_ub; /**< Q-profile CI of tau^2 (roots; see the limit flags) */
    double tau;          /**< sqrt(tau2) */
    double I2, I2_ci_lb, I2_ci_ub; /**< I^2 (percent) and its CI */
    double H2, H2_ci_lb, H2_ci_ub; /**< H^2 and its CI */
    double Q, Q_df, Q_pval;        /**< Cochran's Q, k-1, upper-tail p */
    double vt;           /**< typical within-study variance (k-1)/(sum w - sum w^2/sum w) */
    double sum_w;        /**< sum of the model weights 1/(vi + tau2) */
    size_t niter;        /**< iterations used by an iterative estimator */
    int converged;       /**< 1 if converged (always 1 for closed forms) */
    unsigned warn;       /**< MP_WARN_* flags */
    /** 1 when no root of the Q-profile equation exists in the range of a
     *  double: the bound is then DBL_MAX (the root lies beyond) or, for the
     *  empty interval (Q(0) below the lower quantile, metafor's ci.null),
     *  0 with both flags set.  The bounds are otherwise roots, searched as
     *  far as they lie (not cut at metafor's range max(100, 10 tau2)). */
    int tau2_ci_lb_limit, tau2_ci_ub_limit;
} mp_pool_result;

/** The supported range of the data: |y| <= MP_POOL_YMAX and
 *  MP_POOL_VMIN <= v <= MP_POOL_VMAX.  Beyond it squared weights 1/v^2 and
 *  squared effects leave the range of a double, so results could not be
 *  trusted; such input gives MP_EDOM instead of a silently wrong number. */
#define MP_POOL_YMAX 1e150
#define MP_POOL_VMIN 1e-150
#define MP_POOL_VMAX 1e150

/** Scratch space for fits of up to kmax studies (opaque). */
typedef struct mp_pool_workspace mp_pool_workspace;

/** Allocate a workspace for analyses of up to kmax studies; NULL on failure. */
MP_EXPORT mp_pool_workspace *mp_pool_workspace_alloc(size_t kmax);
/** Free a workspace. NULL-safe. */
MP_EXPORT void mp_pool_workspace_free(mp_pool_workspace *w);

/** Pool one analysis of k studies: effects y[0..k), variances v[0..k)
 *  (all finite, v > 0).  `w` may be NULL (then one is allocated inside).
 *  Returns MP_OK; MP_ETOOFEW for k = 0; MP_EDOM for y or v outside the
 *  supported range (MP_POOL_YMAX, MP_POOL_VMIN, MP_POOL_VMAX; NaN, Inf and
 *  v <= 0 included); MP_EINVAL for a level outside (0, 100), epsrel outside
 *  (0, 1) or maxiter 0; MP_ENOCONV if an iterative estimator did not converge
 *  (res is then filled as far as possible with converged = 0); MP_ENOMEM. */
MP_EXPORT mp_status mp_pool(const double *y, const double *v, size_t k, const mp_pool_opts *o,
                            mp_pool_workspace *w, mp_pool_result *res);

/** Pool n analyses held contiguously: analysis a uses y[off[a] .. off[a+1])
 *  and v likewise (off has n+1 entries, non-decreasing).  `w` must hold the
 *  largest analysis (or be NULL: allocated once inside).  `status[a]` (may
 *  be NULL) gets each analysis' status; the return value is MP_OK if all
 *  succeeded, otherwise the first failing status.  No allocation happens
 *  inside the loop. */
MP_EXPORT mp_status mp_pool_many(const double *y, const double *v, const size_t *off, size_t n,
                                 const mp_pool_opts *o, mp_pool_workspace *w,
                                 mp_pool_result *res, mp_status *status);

/** Percent weights of each study in a fit with between-study variance tau2:
 *  100 (1/(v_i + tau2)) / sum_j (1/(v_j + tau2)).  No allocation. */
MP_EXPORT void mp_pool_weights(const double *v, size_t k, double tau2, double *weight);

/** Test for subgroup differences: Q = sum (est_g - est_fe)^2 / se_g^2 over
 *  n subgroup estimates, df = n - 1, p upper-tail chi-square (metafor's
 *  fixed-effect model on the subgroup estimates).  MP_ETOOFEW if n < 2. */
MP_EXPORT mp_status mp_pool_subgroup_test(const double *est, const double *se, size_t n,
                                          double *Q, double *df, double *pval);

#ifdef __cplusplus
}
#endif
#endif /* MP_POOL_H */
