/* include/metapool/bias.h - small-study effects and publication bias.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The tests and adjustments of metafor 3.8-1 (Viechtbauer 2010, J Stat Softw
 * 36(3)), each on one set of k effects y[] with sampling variances v[]:
 *  - Egger's regression test as regtest() (Egger et al. 1997, BMJ 315:629;
 *    Sterne & Egger 2005): the effects regressed on a precision predictor,
 *    with the limit estimate (the intercept) of Stanley & Doucouliagos 2014;
 *  - Begg & Mazumdar's rank correlation (1994, Biometrics 50:1088) as
 *    ranktest(): Kendall's tau of the standardised effects and v, with the
 *    exact p-value whenever there are no ties (metafor 3.8-1 passes
 *    exact = TRUE to cor.test), the normal approximation with ties;
 *  - trim-and-fill (Duval & Tweedie 2000, Biometrics 56:455; JASA 95:89) as
 *    trimfill(): estimators L0, R0, Q0, side chosen as metafor chooses it;
 *  - fail-safe N as fsn(): Rosenthal (1979), Orwin (1983), Rosenberg (2005);
 *  - PET and PEESE (Stanley & Doucouliagos 2014): weighted least squares of y
 *    on sqrt(v) and on v, weights 1/v, as lm(y ~ sei, weights = 1/vi);
 *  - the step-function selection model (Vevea & Hedges 1995, Psychometrika
 *    60:419) as selmodel(type = "stepfun"), fitted by maximum likelihood.
 *
 * Asymmetry tests mean little with fewer than 10 studies (Cochrane Handbook
 * 10.4.3.1; Sterne et al. 2011, BMJ 343:d4002): MP_BIAS_FEW_STUDIES says so.
 * Nothing here prints; every call returns an mp_status. */
#ifndef MP_BIAS_H
#define MP_BIAS_H

#include <stddef.h>
#include "status.h"
#include "pool.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Below this many studies the asymmetry tests are flagged (not refused). */
#define MP_BIAS_FEW_STUDIES 10

/* ---- Egger's regression test ------------------------------------------ */

/** Predictor of regtest(): the standard error (default), the variance, the
 *  sample size, its inverse, its square root and the inverse of that. */
typedef enum mp_egger_predictor {
    MP_EGGER_SEI = 0, MP_EGGER_VI, MP_EGGER_NI, MP_EGGER_NINV, MP_EGGER_SQRTNI,
    MP_EGGER_SQRTNINV, MP_EGGER_PREDICTOR_COUNT
} mp_egger_predictor;

/** Model of regtest(): the meta-regression rma(yi, vi, mods = pred) with the
 *  fit's estimator and test, or weighted least squares lm(yi ~ pred,
 *  weights = 1/vi) (t test, k - 2 df). */
typedef enum mp_egger_model { MP_EGGER_RMA = 0, MP_EGGER_LM, MP_EGGER_MODEL_COUNT } mp_egger_model;

MP_EXPORT const char *mp_egger_predictor_name(mp_egger_predictor p); /**< "sei", ... */
MP_EXPORT mp_status mp_egger_predictor_parse(const char *s, mp_egger_predictor *out);
MP_EXPORT const char *mp_egger_model_name(mp_egger_model m);         /**< "rma" or "lm" */
MP_EXPORT mp_status mp_egger_model_parse(const char *s, mp_egger_model *out);
/** 1 if the predictor needs sample sizes. */
MP_EXPORT int mp_egger_predictor_needs_ni(mp_egger_predictor p);

/** Result of Egger's test.  The limit estimate (the intercept: the effect
 *  of a study with infinite precision) exists for sei, vi, ninv and sqrtninv
 *  only; it is NaN (has_limit = 0) for ni and sqrtni. */
typedef struct mp_egger_result {
    mp_egger_model model;
    mp_egger_predictor predictor;
    size_t k;
    double slope, slope_se;  /**< coefficient of the predictor and its SE */
    double stat;             /**< its z (rma, test z) or t (lm, or rma with knha) */
    double df;               /**< t df (k - 2), NaN for z */
    double pval;             /**< two-sided p-value of the asymmetry test */
    int has_limit;           /**< 1 if the limit estimate is defined */
    double limit_estimate, limit_ci_lb, limit_ci_ub;
    double tau2;             /**< residual tau^2 of the rma model (0 for FE and lm) */
} mp_egger_result;

/** Egger's regression test as metafor's regtest(fit, model, predictor).
 *  `o` gives the estimator, test and level of the fit (NULL: REML, z, 95);
 *  `ni` (may be NULL) the sample sizes, needed by the n predictors.
 *  Returns MP_OK; MP_EINVAL (NULL y/v/res, bad enum, ni needed but NULL);
 *  MP_EDOM (non-finite data, v <= 0, ni <= 0); MP_ETOOFEW (k < 3: no residual
 *  df); MP_ESING (the predictor is constant: metafor's "no longer of full
 *  rank"); MP_ENOCONV; MP_ENOMEM. */
MP_EXPORT mp_status mp_bias_egger(const double *y, const double *v, const double *ni, size_t k,
                                  mp_egger_model model, mp_egger_predictor predictor,
                                  const mp_pool_opts *o, mp_egger_result *res);

/* ---- Begg and Mazumdar's rank correlation ------------------------------ */

/** Result of the rank correlation test. */
typedef struct mp_rank_result {
    size_t k;
    double tau;     /**< Kendall's tau-b of (y - b)/sqrt(v - 1/sum(1/v)) and v */
    double pval;    /**< two-sided p-value */
    double stat;    /**< z of the normal approximation (NaN when exact) */
    double S;       /**< Kendall's score (concordant - discordant pairs) */
    int exact;      /**< 1 if the exact null distribution was used */
    int ties;       /**< 1 if either variable has ties */
} mp_rank_result;

/** Largest k for which ranktest uses the exact distribution (O(k^3) time,
 *  O(k^2) memory: about a second and 70 MB at the limit); beyond it the
 *  normal approximation, whose error is far below the p-value's meaning there. */
#define MP_KENDALL_EXACT_MAX 3000

/** ranktest(fit) of metafor 3.8-1 (cor.test(..., method = "kendall",
 *  exact = TRUE), two-sided).  Without ties the p-value comes from the exact
 *  null distribution of the number of concordant pairs (mp_kendall_cdf) for
 *  k <= MP_KENDALL_EXACT_MAX; with ties (or beyond) from the normal
 *  approximation with R's tie-corrected variance.
 *  Returns MP_OK; MP_EINVAL; MP_EDOM; MP_ETOOFEW (k < 2); MP_ENOMEM. */
MP_EXPORT mp_status mp_bias_ranktest(const double *y, const double *v, size_t k,
                                     mp_rank_result *res);

/** P(T <= q) for T the number of inversions of a uniformly random permutation
 *  of n (equivalently, of concordant pairs under independence without ties):
 *  R's pkendall(q, n).  Computed exactly in long double by the recurrence
 *  f_n(q) = (1/n) sum_{j=0}^{min(q, n-1)} f_{n-1}(q - j) on probabilities (not
 *  counts, which overflow), truncated at min(q, n(n-1)/2 - q) and using the
 *  symmetry f(q) = f(n(n-1)/2 - q): O(n min(q, M - q)) time, no cancellation
 *  in the tail that is summed.  q beyond n(n-1)/2 gives 1.  MP_ENOMEM. */
MP_EXPORT mp_status mp_kendall_cdf(double q, size_t n, double *p);

/* ---- trim and fill ------------------------------------------------------ */

typedef enum mp_tf_estimator { MP_TF_L0 = 0, MP_TF_R0, MP_TF_Q0, MP_TF_ESTIMATOR_COUNT } mp_tf_estimator;
typedef enum mp_tf_side { MP_TF_SIDE_AUTO = 0, MP_TF_SIDE_LEFT, MP_TF_SIDE_RIGHT } mp_tf_side;

MP_EXPORT const char *mp_tf_estimator_name(mp_tf_estimator e); /**< "L0", "R0", "Q0" */
MP_EXPORT mp_status mp_tf_estimator_parse(const char *s, mp_tf_estimator *out);
MP_EXPORT const char *mp_tf_side_name(mp_tf_side s);           /**< "auto", "left", "right" */

/** Result of trim and fill; free with mp_trimfill_result_free(). */
typedef struct mp_trimfill_result {
    mp_tf_estimator estimator;
    mp_tf_side side;     /**< the side the missing studies were filled on (never AUTO) */
    size_t k0;           /**< studies filled */
    double k0_raw;       /**< the unrounded k0 of the last iteration */
    double se_k0;        /**< its standard error (metafor's se.k0, from k0_raw) */
    double p_k0;         /**< R0 only: P(R0 >= k0) under no asymmetry; NaN otherwise */
    size_t niter;        /**< iterations of the trimming loop */
    double *fill_y;      /**< k0 imputed effects (reflections about the trimmed estimate) */
    double *fill_v;      /**< their variances */
    mp_pool_result fit;  /**< the model of the k + k0 studies (the input model if k0 = 0) */
} mp_trimfill_result;

/** Trim and fill as metafor's trimfill(rma(y, v, method), estimator, side):
 *  side AUTO is "right" when the slope of rma(y, v, mods = sqrt(v)) is
 *  negative, else "left"; the effects are ranked about the estimate of the
 *  k - k0 least extreme ones until k0 repeats (at most `maxiter` rounds,
 *  0 = 100, metafor's default); the k0 most extreme are reflected about the
 *  last estimate and the model refitted to all k + k0 (z test and 95%:
 *  trimfill() passes neither the model's test nor its level on; with k0 = 0 the
 *  result is the input model with o's test and level).  `o`: estimator and level (NULL: REML, 95).
 *  Returns MP_OK; MP_EINVAL; MP_EDOM; MP_ETOOFEW (k < 3); MP_ENOCONV (a fit,
 *  or the trimming loop, did not converge); MP_ENOMEM.  res must be freed
 *  with mp_trimfill_result_free() whatever the return value. */
MP_EXPORT mp_status mp_bias_trimfill(const double *y, const double *v, size_t k,
                                     mp_tf_estimator estimator, mp_tf_side side,
                                     const mp_pool_opts *o, size_t maxiter,
                                     mp_trimfill_result *res);
/** Free the arrays of a trim-and-fill result. NULL-safe. */
MP_EXPORT void mp_trimfill_result_free(mp_trimfill_result *res);

/* ---- fail-safe N ------------------------------------------------------- */

/** Fail-safe numbers of metafor's fsn() with its defaults (alpha = .05). */
typedef struct mp_fsn_result {
    double rosenthal;      /**< Rosenthal (Stouffer): studies averaging z = 0 needed to make
                                the one-sided combined p exceed alpha (rounded up) */
    double rosenthal_pval; /**< one-sided p of |sum z_i| / sqrt(k) */
    double orwin;          /**< Orwin: studies with effect 0 that bring the unweighted mean
                                to the target (mean / 2, so always k with the defaults) */
    double orwin_mean, orwin_target;
    double rosenberg;      /**< Rosenberg: studies with effect 0 (average weight) that make
                                the fixed-effect estimate non-significant (two-sided) */
    double rosenberg_pval; /**< two-sided p of the fixed-effect estimate */
} mp_fsn_result;

/** fsn(y, v) for type Rosenthal, Orwin and Rosenberg; alpha in (0, 1) (0 =
 *  0.05).  metafor's rounding: a number within sqrt(eps) of an integer is
 *  rounded, others rounded up.  MP_OK; MP_EINVAL; MP_EDOM; MP_ETOOFEW (k = 0). */
MP_EXPORT mp_status mp_bias_fsn(const double *y, const double *v, size_t k, double alpha,
                                mp_fsn_result *res);

/* ---- PET and PEESE ----------------------------------------------------- */

/** The intercept of a weighted least-squares regression of y on sqrt(v)
 *  (PET) or v (PEESE), weights 1/v: lm()'s t test and CI with k - 2 df. */
typedef struct mp_wls_result {
    size_t k;
    double estimate, se, stat, df, pval, ci_lb, ci_ub; /**< the intercept */
    double slope, slope_se, slope_pval;                /**< the precision term */
} mp_wls_result;

/** PET (peese = 0) or PEESE (peese = 1) at confidence level `level` percent
 *  (0 = 95).  MP_OK; MP_EINVAL; MP_EDOM; MP_ETOOFEW (k < 3); MP_ESING (v
 *  constant); MP_ENOMEM. */
MP_EXPORT mp_status mp_bias_pet_peese(const double *y, const double *v, size_t k, int peese,
                                      double level, mp_wls_result *res);

/* ---- step-function selection model ------------------------------------- */

/** Options of the selection model. */
typedef struct mp_selmodel_opts {
    const double *steps; /**< cut points of the one-sided p-values, increasing in (0, 1];
                              1 is appended when missing (metafor) [NULL: 0.025, 1] */
    size_t nsteps;       /**< number of steps */
    int fixed_effect;    /**< 1: tau^2 fixed at 0 (the FE model) [0] */
    double level;        /**< confidence level, percent [95] */
    size_t maxiter;      /**< iteration limit of each optimiser [1000] */
} mp_selmodel_opts;

MP_EXPORT void mp_selmodel_opts_init(mp_selmodel_opts *o);

/** Result of the selection model; free with mp_selmodel_result_free(). */
typedef struct mp_selmodel_result {
    size_t k;
    size_t nsteps;      /**< N, the number of intervals (steps incl. 1) */
    double *steps;      /**< N cut points */
    size_t *kint;       /**< N studies per interval of one-sided p */
    double *delta;      /**< N selection weights (delta[0] = 1, fixed) */
    double *delta_se;   /**< N their SEs (delta_se[0] NaN) */
    double estimate, se, stat, pval, ci_lb, ci_ub; /**< the mean effect (z test) */
    double tau2, tau2_se;  /**< tau^2 (0 and NaN for FE) */
    double logLik;      /**< maximised log-likelihood of the selection model */
    double logLik0;     /**< ML log-likelihood of the model without selection */
    double LRT, LRT_df, LRT_pval; /**< 2 (logLik - logLik0), N - 1 df */
    double ml_estimate, ml_tau2;  /**< the ML fit without selection */
    double max_abs_grad;  /**< largest |gradient| over the free parameters at the end */
    int boundary;       /**< 1 if an estimate sits on a bound (tau^2 = 0 of a random-effects
                             model, a delta at 0 or at metafor's upper bound 100) */
    size_t niter;       /**< optimiser iterations (quasi-Newton plus Newton) */
    int converged;
} mp_selmodel_result;

/** selmodel(rma(y, v, method = "ML" or "FE"), type = "stepfun", steps,
 *  alternative = "greater") of metafor 3.8-1: the density of study i is
 *  delta_j phi(y_i; mu, v_i + tau2) / A_i for its one-sided p-value in
 *  interval j, A_i = sum_j delta_j P(p_i in interval j).  The log-likelihood
 *  is maximised over mu, tau2 >= 0 and 0 <= delta_j <= 100 (j >= 2): GSL's
 *  BFGS on metafor's transformed scale (log tau2, logistic delta), then
 *  Newton steps with the analytic gradient and Hessian on the natural scale
 *  until the step is below 1e-12 relative; bounds that hold the optimum are
 *  kept active (res->boundary).  SEs from the inverse of the analytic Hessian
 *  (metafor uses a numerical one of the same function).  The LRT compares with
 *  the ML (or FE) model without selection.
 *  Returns MP_OK; MP_EINVAL (bad steps or options); MP_EDOM; MP_ETOOFEW (k
 *  below the number of parameters, or an interval whose delta is estimated
 *  holds no study, which metafor refuses too); MP_ENOCONV (res->converged =
 *  0); MP_ENOMEM.  SEs are NaN where the Hessian is not negative definite
 *  (with tau2 = 0 on its bound, tau2 is then held fixed for the other SEs).
 *  res must be freed with mp_selmodel_result_free() whatever the return. */
MP_EXPORT mp_status mp_bias_selmodel(const double *y, const double *v, size_t k,
                                     const mp_selmodel_opts *o, mp_selmodel_result *res);
/** Free the arrays of a selection-model result. NULL-safe. */
MP_EXPORT void mp_selmodel_result_free(mp_selmodel_result *res);

#ifdef __cplusplus
}
#endif
#endif /* MP_BIAS_H */
