/* include/metapool/mv.h - multilevel meta-analysis: nested and crossed random intercepts (metafor's rma.mv).
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The model y = X b + sum_r Z_r u_r + e, u_r ~ N(0, sigma2_r I), e ~ N(0,
 * diag(v)), as metafor 3.8's rma.mv(yi, vi, mods, random = ~ 1 | a/b) or
 * random = list(~ 1 | a, ~ 1 | b) fits it (Viechtbauer 2010, J Stat Softw
 * 36(3); Konstantopoulos 2011, Res Synth Methods 2:61 for the three-level
 * model), by REML (log-likelihood with metafor's +1/2 log|X'X|) or ML.
 *
 * No k x k matrix is formed.  Components whose levels each hold one row (the
 * innermost level of a nesting, `es` in study/es) add to the diagonal; the
 * others are handled by the Woodbury identity per connected block of rows
 * (rows that share a level of some component), in two stages: the
 * component with the most levels in the block by one scalar step per level,
 * the qo levels of the others on top by a dense qo x qo system.  Nested
 * models cost O(k) per likelihood evaluation, crossed ones O(k + qo^3). */
#ifndef MP_MV_H
#define MP_MV_H

#include <stddef.h>
#include "status.h"
#include "pool.h"
#include "table.h"
#include "robust.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Random-effects structure: ncomp variance components, each a grouping of
 *  the k rows into levels. */
typedef struct mp_mv_random {
    size_t ncomp;    /**< number of variance components */
    size_t k;        /**< rows */
    char **names;    /**< ncomp names as metafor's s.names: "district", "district/school" */
    size_t **level;  /**< level[r][i]: 0-based level of row i in component r */
    size_t *nlev;    /**< number of levels of each component */
} mp_mv_random;

/** Build the structure of SPEC over the table rows `rows[0..k-1]`: SPEC is a
 *  comma-separated list of nesting paths, "study/es" (metafor's ~ 1 |
 *  study/es: components "study" and "study/es"), "a,b" (list(~ 1 | a, ~ 1 |
 *  b): crossed) or both ("a/b,c").  Levels are the distinct cell texts (of
 *  the path's columns together).  Returns MP_OK; MP_EINVAL (a column not in
 *  the header, an empty or repeated component: err says which); MP_EPARSE
 *  (a missing cell: err gives file:line:col); MP_ENOMEM. */
MP_EXPORT mp_status mp_mv_random_build(const mp_table *t, const size_t *rows, size_t k,
                                       const char *spec, mp_mv_random *out, mp_error *err);

/** Free the arrays of `r`. NULL-safe. */
MP_EXPORT void mp_mv_random_free(mp_mv_random *r);

/** Options of an rma.mv fit. */
typedef struct mp_mv_opts {
    mp_method method; /**< MP_METHOD_REML [default] or MP_METHOD_ML */
    double level;     /**< confidence level in percent [95] */
    int t_test;       /**< 1: t and F tests on k - p df (metafor's test = "t") [0: z] */
    int intercept;    /**< 1 if column 0 of X is the intercept (QM leaves it out) [1] */
    size_t maxiter;   /**< iteration limit of the optimiser [1000] */
    double epsrel;    /**< relative convergence tolerance of the variance components [1e-13] */
} mp_mv_opts;

/** Fill `o` with the defaults shown above. */
MP_EXPORT void mp_mv_opts_init(mp_mv_opts *o);

/** Result of an rma.mv fit; arrays owned (free with mp_mv_result_free()). */
typedef struct mp_mv_result {
    size_t k, p, ncomp;
    mp_method method;
    double level;
    int t_test;
    double *beta, *se, *stat, *pval, *ci_lb, *ci_ub; /**< p each */
    double *vb;          /**< p x p covariance of beta, column-major */
    double *sigma2;      /**< ncomp variance components */
    double df;           /**< k - p for t tests, NaN for z */
    double logLik;       /**< REML (with +1/2 log|X'X|) or ML log-likelihood */
    double deviance, AIC, BIC;
    double QE, QE_df, QE_pval;
    double QM, QM_df, QM_pval;
    size_t niter;        /**< Newton iterations of the final polish */
    int converged;       /**< 1 if the score vanished (or pointed out of a 0 bound) */
    size_t nfixed;       /**< components with a single level, fixed at 0 as metafor does */
} mp_mv_result;

/** Fit y = X b + random effects by o->method.  y, v (k, v > 0), X (k x p,
 *  column-major), the structure re (re->k == k).  The optimum of the
 *  (restricted) likelihood over sigma2 >= 0 is found by quasi-Newton
 *  (GSL BFGS on log sigma2) from several starts, then Newton steps on the
 *  exact score (Hessian by central differences of the score), with
 *  components at the boundary 0 held there when the score points outwards;
 *  the best of the starts is kept.  A component with a single level is
 *  fixed at 0 (res->nfixed counts them), as metafor does with a warning.
 *  Returns MP_OK; MP_EINVAL; MP_EDOM (non-finite data, v <= 0); MP_ETOOFEW
 *  (k <= p); MP_ESING (X not of full rank); MP_ENOCONV (res->converged = 0,
 *  estimates at the last point); MP_ENOMEM. */
MP_EXPORT mp_status mp_mv_fit(const double *y, const double *v, const double *X, size_t k,
                              size_t p, const mp_mv_random *re, const mp_mv_opts *o,
                              mp_mv_result *res);

/** Profile-likelihood confidence intervals of the variance components, as
 *  metafor's confint() of an rma.mv fit: for each sigma2_r the values where
 *  the (restricted) log-likelihood maximised over the other components
 *  falls qchisq(level, 1)/2 below fit->logLik (o->level; Brent's method,
 *  relative 1e-11).  lb[r] is 0 when the profile at 0 stays above that
 *  line; ub[r] is Inf when no crossing exists below 2^80 times the start.
 *  fit must come from mp_mv_fit() with the same data and options.  Returns
 *  MP_OK; MP_EINVAL; MP_ENOCONV (a profile fit failed); MP_ENOMEM. */
MP_EXPORT mp_status mp_mv_profile_ci(const double *y, const double *v, const double *X, size_t k,
                                     size_t p, const mp_mv_random *re, const mp_mv_opts *o,
                                     const mp_mv_result *fit, double *lb, double *ub);

/** The marginal covariance V of the rows rows[0..n-1] (n x n, column-major)
 *  at variance components sigma2: diag(v) + sum_r sigma2_r [same level]. */
/** 1 if every level of every random component of re lies within one
 *  cluster (cluster[i] of the k rows), 0 if not, -1 when out of memory. */
MP_EXPORT int mp_mv_nested_in(const mp_mv_random *re, const size_t *cluster, size_t k);

/** mp_robust() for an rma.mv fit (metafor's robust() on rma.mv): the
 *  model's marginal covariance as the working covariance, weight scale 1.
 *  The random effects must be nested in the clusters: MP_EDOM if not;
 *  otherwise as mp_robust(). */
MP_EXPORT mp_status mp_robust_mv(const double *X, const double *y, const double *v,
                                 const mp_mv_random *re, const double *sigma2, size_t k, size_t p,
                                 const double *beta, const size_t *cluster, size_t J,
                                 mp_vcov_type type, size_t b0, double level,
                                 mp_robust_result *out);

MP_EXPORT void mp_mv_marginal(const mp_mv_random *re, const double *v, const double *sigma2,
                              const size_t *rows, size_t n, double *V);

/** Free the arrays of a result. NULL-safe. */
MP_EXPORT void mp_mv_result_free(mp_mv_result *r);

#ifdef __cplusplus
}
#endif
#endif /* MP_MV_H */
