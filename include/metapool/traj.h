/* include/metapool/traj.h - time-trajectory fits: multivariate REML over times within studies.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The model is R metafor's
 *     rma.mv(yi, V, mods = X, random = ~ time | study, struct = S, method = "REML")
 * (Viechtbauer 2010, J Stat Softw 36(3); metafor documentation of rma.mv and
 * vcalc, version 3.8; Ishak et al. 2007, Clin Trials 4:17 for the use with
 * effects at several follow-up times).  Within a study the sampling errors
 * of effects at times t1, t2 have covariance phi^|t1 - t2| sqrt(v1 v2)
 * (metafor vcalc(vi, cluster = study, time1 = time, phi = phi)); the true
 * effects of one study over its time levels have covariance G (the
 * structure).  Everything is computed study block by study block, so the
 * cost is linear in the number of studies; no k x k matrix is formed. */
#ifndef MP_TRAJ_H
#define MP_TRAJ_H

#include <stddef.h>
#include "status.h"
#include "pool.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Fixed part of the model (in the time variable t). */
typedef enum mp_traj_model {
    MP_TRAJ_FACTOR = 0,  /**< one mean per distinct time (mods = ~ factor(time) - 1) */
    MP_TRAJ_LOGLINEAR,   /**< intercept + log(t) */
    MP_TRAJ_QUADRATIC,   /**< intercept + log(t) + log(t)^2 */
    MP_TRAJ_SPLINE,      /**< natural cubic spline in log(t) (see mp_traj_fit) */
    MP_TRAJ_MODEL_COUNT
} mp_traj_model;

/** Between-study structure of the true effects over the time levels of a
 *  study (metafor struct = ...; L distinct time values, ranks 1..L). */
typedef enum mp_traj_struct {
    MP_TRAJ_INT = 0, /**< random = ~ 1 | study: cov tau2 between any two effects of a study */
    MP_TRAJ_CS,      /**< compound symmetry: tau2 on the diagonal, rho tau2 off it */
    MP_TRAJ_HCS,     /**< heteroscedastic CS: tau2_l per time, rho sqrt(tau2_a tau2_b) */
    MP_TRAJ_AR,      /**< AR(1) over time ranks: tau2 rho^|rank_a - rank_b| */
    MP_TRAJ_HAR,     /**< heteroscedastic AR(1): sqrt(tau2_a tau2_b) rho^|rank_a - rank_b| */
    MP_TRAJ_CAR,     /**< continuous-time AR: tau2 rho^|t_a - t_b|, rho in [0, 1] */
    MP_TRAJ_ID,      /**< independent times: tau2 on the diagonal, 0 elsewhere */
    MP_TRAJ_STRUCT_COUNT
} mp_traj_struct;

/** Name of a model ("factor", "loglinear", "quadratic", "spline"); never NULL. */
MP_EXPORT const char *mp_traj_model_name(mp_traj_model m);
/** Parse a model name (case-sensitive).  MP_OK or MP_EINVAL. */
MP_EXPORT mp_status mp_traj_model_parse(const char *s, mp_traj_model *out);
/** Name of a structure ("INT", "CS", ...); never NULL. */
MP_EXPORT const char *mp_traj_struct_name(mp_traj_struct s);
/** Parse a structure name (upper case as metafor; lower case accepted).  MP_OK or MP_EINVAL. */
MP_EXPORT mp_status mp_traj_struct_parse(const char *s, mp_traj_struct *out);

/** Options of a trajectory fit. */
typedef struct mp_traj_opts {
    mp_traj_model model;       /**< fixed part [MP_TRAJ_FACTOR] */
    mp_traj_struct structure;  /**< between-study structure [MP_TRAJ_CS, as metafor] */
    double phi;                /**< within-study sampling-error correlation per time unit, [0, 1] [0] */
    double level;              /**< confidence level in percent [95] */
    double epsabs;             /**< optimiser stops when every component of the gradient of the
                                    restricted log-likelihood on the unconstrained scale is
                                    below this [1e-9] */
    size_t maxiter;            /**< iteration limit of the optimiser [1000] */
    size_t ngrid;              /**< points of the fitted curve for continuous models [50] */
} mp_traj_opts;

/** Fill `o` with the defaults shown above. */
MP_EXPORT void mp_traj_opts_init(mp_traj_opts *o);

/** One fixed-effect coefficient with its Wald (z) inference. */
typedef struct mp_traj_coef {
    char name[64];        /**< "time=3", "intrcpt", "log(time)", "I(log(time)^2)", "ns1", ... */
    double estimate;      /**< coefficient */
    double se;            /**< standard error from (X'M^-1 X)^-1 */
    double stat;          /**< z = estimate / se */
    double pval;          /**< two-sided normal p-value */
    double ci_lb, ci_ub;  /**< normal confidence interval at the level */
} mp_traj_coef;

/** The fitted mean effect at one time with its pointwise CI. */
typedef struct mp_traj_point {
    double time;          /**< time (original scale) */
    double estimate;      /**< x(time)' beta */
    double se;            /**< sqrt(x' (X'M^-1 X)^-1 x) */
    double ci_lb, ci_ub;  /**< normal pointwise confidence interval */
} mp_traj_point;

/** Warning flags of a fit. */
enum {
    MP_TRAJ_WARN_RHO_FIXED = 1u << 0, /**< rho fixed at 0: one time level, or every study seen
                                          at one time only (metafor does the same) */
    MP_TRAJ_WARN_BOUNDARY = 1u << 1   /**< a variance component or rho ended at its bound */
};

/** Result of a trajectory fit.  Arrays are owned by the result; free them
 *  with mp_traj_result_free().  NaN marks values not defined for the fit. */
typedef struct mp_traj_result {
    size_t k;               /**< effects used */
    size_t n_studies;       /**< studies */
    size_t n_times;         /**< distinct time values L */
    double *times;          /**< the L distinct times, ascending */
    mp_traj_model model;    /**< fixed part */
    mp_traj_struct structure; /**< structure */
    double phi;             /**< within-study correlation used */
    double level;           /**< confidence level, percent */
    size_t p;               /**< fixed-effect coefficients */
    mp_traj_coef *coef;     /**< p coefficients */
    double *vb;             /**< p x p covariance of the coefficients, row-major */
    size_t n_knots;         /**< spline knots (log-time scale); 0 for other models */
    double knots[8];        /**< the knots: boundary knots first and last */
    size_t n_tau2;          /**< 1, or L for HCS and HAR */
    double *tau2;           /**< variance component(s); for INT metafor's sigma2 */
    double rho;             /**< correlation; NaN for ID and INT; 0 when fixed */
    double logLik;          /**< restricted log-likelihood incl. +1/2 log|X'X| (REMLf = TRUE) */
    double QE, QE_df, QE_pval; /**< test of residual heterogeneity with V only (df = k - p) */
    size_t n_curve;         /**< points of the fitted curve */
    mp_traj_point *curve;   /**< the curve: the distinct times (factor) or a grid in log time */
    double onset;           /**< first time at which the curve's CI excludes 0 (NaN if never) */
    double peak;            /**< time of the largest absolute fitted effect */
    double offset;          /**< first time after the peak at which the CI includes 0 again
                                 (NaN if the CI at the peak includes 0 or it never happens) */
    size_t niter;           /**< optimiser iterations */
    double grad_max;        /**< largest |gradient component| at the end (unconstrained scale) */
    int converged;          /**< 1 when the optimiser met the tolerance */
    unsigned warn;          /**< MP_TRAJ_WARN_* flags */
} mp_traj_result;

/** Free the arrays of a result and zero it.  NULL-safe. */
MP_EXPORT void mp_traj_result_free(mp_traj_result *r);

/** Fit the trajectory model by REML.
 *
 *  y[i], v[i], time[i], study[i] (i < k) are the effect, its sampling
 *  variance (> 0), its time and its study id (any size_t values; equal ids =
 *  same study; rows may be in any order).  Log-time models need time > 0.
 *
 *  Variance parameters are optimised on an unconstrained scale (log tau2;
 *  atanh rho, or logit rho for CAR, as metafor) with GSL's BFGS
 *  (gsl_multimin_fdfminimizer_vector_bfgs2) on the analytic REML score,
 *  Nelder-Mead as a fallback, and Newton steps on a finite-difference Hessian
 *  of the score as a polish; the REML optimum is reached to `epsabs`.
 *  A component whose optimum is on its bound (tau2 = 0, rho = +-1, CAR rho
 *  = 0 or 1) is held there when the derivative at the bound points outwards
 *  (KKT), and reported exactly at the bound with MP_TRAJ_WARN_BOUNDARY.
 *  When the supremum lies where M stops being positive definite (CS/HCS
 *  with rho towards -1 on small data) no optimum exists: MP_ENOCONV.
 *  rho is fixed at 0 when there is one time level or no study has two.
 *
 *  Spline model: the natural cubic spline basis of Harrell's restricted
 *  cubic splines (linear beyond the boundary knots) in log(t), with the
 *  boundary knots at the smallest and largest log time and K - 2 interior
 *  knots at the quantiles j/(K-1) (R type 7) of the distinct log times;
 *  K = 3 for 3..5 distinct times, 4 for 6..9, 5 for more.  The fitted curve
 *  equals R's lm/rma with ns(log(t), knots = <same>, Boundary.knots = range).
 *
 *  Returns MP_OK; MP_EINVAL for bad options; MP_ETOOFEW if k <= p;
 *  MP_EDOM for a non-finite y or time, v <= 0, time <= 0 in a log model,
 *  too few distinct times for the model (err then names the effect, 1-based);
 *  MP_ESING if X'M^-1X is singular; MP_ENOCONV if the optimiser did not
 *  converge (res is filled with converged = 0); MP_ENOMEM.  On failures
 *  other than MP_ENOCONV res holds nothing to free.  Allocates.  Sets
 *  OpenBLAS to one thread for the process on first use (see mp_reg_fit in
 *  reg.h): results are the same for every OPENBLAS_NUM_THREADS. */
MP_EXPORT mp_status mp_traj_fit(const double *y, const double *v, const double *time,
                                const size_t *study, size_t k, const mp_traj_opts *o,
                                mp_traj_result *res, mp_error *err);

/** The fitted mean and its pointwise CI at `time` (> 0 for log models).
 *  MP_OK or MP_EDOM (time outside the model's domain; for factor models a
 *  time that is not one of the fitted times). No allocation. */
/** Separate pooled analyses per time value, beside the joint model: for each
 *  times[w] (w < n_times), the REML random-effects model (mp_pool, z test,
 *  CIs at `level` percent, no tau^2 CI) of the effects y[i], v[i] with
 *  time[i] == times[w].  win[w] and wst[w] receive each fit and its status
 *  (win[w].k the number of effects; the numbers NaN when the status is
 *  neither MP_OK nor MP_ENOCONV).  Returns MP_OK, or MP_ENOMEM (nothing
 *  written).  Allocates scratch space of size k only. */
MP_EXPORT mp_status mp_traj_windows(const double *y, const double *v, const double *time,
                                    size_t k, const double *times, size_t n_times,
                                    double level, mp_pool_result *win, mp_status *wst);

MP_EXPORT mp_status mp_traj_predict(const mp_traj_result *r, double time, mp_traj_point *out);

#ifdef __cplusplus
}
#endif
#endif /* MP_TRAJ_H */
