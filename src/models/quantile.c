/* src/models/quantile.c - chi-square, t and normal quantiles for every df.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * GSL's inverse CDFs are fast and right for small df, but gsl_cdf_chisq_Qinv
 * and _Pinv return values far from the quantile (or NaN) for many df above
 * about 2,300 (issue 11).  GSL's CDFs (incomplete gamma and beta functions)
 * stay accurate there, so each quantile here is GSL's value checked by its
 * CDF and, where the tail probability at that value is off by more than
 * 1e-12 relative (or the value is not finite), the root of CDF(x) = p found
 * by bracketing and Brent's method (GSL gsl_root_fsolver_brent) on the tail
 * that is inverted: the upper tail Q for upper quantiles, the lower tail P
 * for lower ones, so that small p never meets a 1 - p cancellation.
 * Brent stops when the bracket is within 4 ulp of x: the quantile as close
 * as a double and the CDF's own accuracy allow.  GSL's chi-square CDF
 * itself fails for df above about 2e6 (below): there Temme's uniform
 * expansion gives the tails, and the quantile is solved on it. */
#include "metapool/quantile.h"

#include <float.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_roots.h>
#include <gsl/gsl_sf_gamma.h>
#include <gsl/gsl_sf_log.h>
#include <math.h>

typedef struct {
    double (*tail)(double x, double df); /* Q (decreasing) or P (increasing) */
    double df, p;
} tail_eq;

static double tail_fn(double x, void *par)
{
    const tail_eq *e = par;
    return e->tail(x, e->df) - e->p;
}

/* Temme's uniform asymptotic expansion of the regularised incomplete gamma
 * function (Temme 1979, SIAM J Math Anal 10:757; the form GSL uses for
 * a >= 1e6 in gamma_inc_Q_asymp_unif): with lambda = x/a, eps = lambda - 1,
 * eta = sign(eps) sqrt(2 (eps - log(1 + eps))),
 *   Q(a, x) = erfc(eta sqrt(a/2))/2 + R,  P(a, x) = erfc(-eta sqrt(a/2))/2 - R,
 *   R = exp(-a eta^2/2)/sqrt(2 pi a) (c0(eta) + c1(eta)/a),
 * with relative error O(a^-2) uniformly in x.  GSL's own evaluation loses
 * digits as a grows and fails outright above a = 1e6: its large-x
 * asymptotic series is taken for x > 1e6 also when x is near a (gamma_inc.c
 * "error in large x asymptotic"), so gsl_cdf_chisq_Q is wrong or NaN for
 * df above about 2e6 (issue 11). */
static double temme_R(double a, double x, double *eta_out)
{
    double eps = (x - a) / a;
    gsl_sf_result lt;
    if (gsl_sf_log_1plusx_mx_e(eps, &lt) != GSL_SUCCESS) return NAN; /* log(1+eps) - eps */
    double eta = (eps < 0 ? -1.0 : 1.0) * sqrt(-2.0 * lt.val), c0, c1;
    if (fabs(eps) < 1e-3) { /* series in eps: the closed forms below cancel */
        c0 = -1.0 / 3.0 + eps * (1.0 / 12.0 - eps * (23.0 / 540.0 - eps * (353.0 / 12960.0 - eps * 589.0 / 30240.0)));
        c1 = -1.0 / 540.0 - eps / 288.0;
    } else {
        double rt = sqrt(-2.0 * lt.val / (eps * eps)), lam = x / a, e3 = eta * eta * eta;
        c0 = (1.0 - 1.0 / rt) / eps;
        c1 = -(e3 * (lam * lam + 10.0 * lam + 1.0) - 12.0 * eps * eps * eps) / (12.0 * e3 * eps * eps * eps);
    }
    *eta_out = eta;
    return exp(-0.5 * a * eta * eta) / sqrt(6.283185307179586477 * a) /* 2 pi a */ * (c0 + c1 / a);
}

/* Chi-square tails: GSL's incomplete gamma where it reports success and
 * a = df/2 is below TEMME_A; Temme's expansion above (and where GSL fails).
 * Measured against the density integrated numerically (tests/test_quantile.c
 * does the same): GSL's relative error grows with a (6e-12 at a = 5000,
 * 3e-10 at 1e4, 1e-5 at 2e5 in the tails), Temme's two-term error falls
 * as a^-2 (2e-11 at 5000, 3e-12 at 1e4, ~2e-13 from 3e4 on); they cross
 * near a = 6000, so every df gets a tail to about 2e-11 relative (which
 * moves a quantile by ~1e-13 relative). */
#define TEMME_A 6000.0

/* The upper tail of a chi-square with a whole number of df <= SMALL_DF at
 * x/2 = h <= SMALL_H, in closed form (Abramowitz & Stegun 26.4.4-5, from
 * Q(a + 1, h) = Q(a, h) + h^a e^-h / Gamma(a + 1)):
 *   even df = 2n:     Q = e^-h (1 + h + h^2/2! + ... + h^(n-1)/(n-1)!),
 *   odd df = 2n + 1:  Q = erfc(sqrt h) + e^-h sum_{j<n} h^(j+1/2) / Gamma(j + 3/2).
 * Every term is positive, so the sum is good to a few ulp (GSL's general
 * incomplete gamma takes logs and lgamma and costs several times as much;
 * the Q p-value of every pooled fit goes through here, tests/test_quantile.c
 * holds the two to 1e-13).  SMALL_H keeps e^-h away from underflow. */
#define SMALL_DF 200.0
#define SMALL_H 600.0
static double chisq_Q_small(double h, double df)
{
    double t, q, j0;
    size_t n = (size_t)(df / 2);
    if (fmod(df, 2.0) == 0.0) { t = exp(-h); q = 0.0; j0 = 1.0; }
    else { t = 1.1283791670955125739 /* 2/sqrt(pi) */ * sqrt(h) * exp(-h); q = erfc(sqrt(h)); j0 = 1.5; }
    /* n = floor(df/2) terms t_j = t_0 h^j / (j0 (j0 + 1) ... (j0 + j - 1)) */
    double s = 0.0;
    for (size_t j = 0; j + 1 < n; j++) { s += t; t *= h / (j0 + (double)j); }
    s += n ? t : 0.0;
    return q + s;
}

static double chisq_Q(double x, double df)
{
    double a = 0.5 * df, h = 0.5 * x;
    if (!(x > 0)) return 1.0;
    if (df <= SMALL_DF && h <= SMALL_H && df == floor(df)) return chisq_Q_small(h, df);
    gsl_sf_result r;
    if (a < TEMME_A && gsl_sf_gamma_inc_Q_e(a, h, &r) == GSL_SUCCESS) return r.val;
    double eta, R = temme_R(a, h, &eta);
    return 0.5 * erfc(eta * sqrt(0.5 * a)) + R;
}

static double chisq_P(double x, double df)
{
    double a = 0.5 * df, h = 0.5 * x;
    if (!(x > 0)) return 0.0;
    gsl_sf_result r;
    if (a < TEMME_A && gsl_sf_gamma_inc_P_e(a, h, &r) == GSL_SUCCESS) return r.val;
    double eta, R = temme_R(a, h, &eta);
    return 0.5 * erfc(-eta * sqrt(0.5 * a)) - R;
}

double mp_pchisq_upper(double x, double df)
{
    if (!(df > 0) || !isfinite(df) || isnan(x)) return NAN;
    return chisq_Q(x, df);
}

double mp_pchisq_lower(double x, double df)
{
    if (!(df > 0) || !isfinite(df) || isnan(x)) return NAN;
    return chisq_P(x, df);
}
static double t_Q(double x, double df) { return gsl_cdf_tdist_Q(x, df); }
static double t_P(double x, double df) { return gsl_cdf_tdist_P(x, df); }
static double norm_Q(double x, double df) { (void)df; return gsl_cdf_ugaussian_Q(x); }
static double norm_P(double x, double df) { (void)df; return gsl_cdf_ugaussian_P(x); }

/* GSL's value x0 is kept when the tail at x0 equals p to 1e-12 relative. */
static int close_enough(const tail_eq *e, double x0)
{
    if (!isfinite(x0)) return 0;
    double f = e->tail(x0, e->df);
    return fabs(f - e->p) <= 1e-12 * e->p;
}

/* The root x > 0 of tail(x) = p, from the guess g > 0.  `up` = 1 when the
 * tail decreases in x (Q), 0 when it increases (P); the caller guarantees
 * the root is positive (tail at 0 on the other side of p).  The bracket
 * grows geometrically from g (first by 1e-6 relative, the step quadrupling)
 * until the sign changes, up to the range of a double. */
static double solve_tail(const tail_eq *e, int up, double g)
{
    if (!(g > 0) || !isfinite(g)) g = 1.0;
    gsl_function F = {tail_fn, (void *)e};
    double fg = tail_fn(g, (void *)e);
    if (fg == 0) return g;
    if (!isfinite(fg)) return NAN;
    /* the root lies above g when tail(g) is still on the side of tail(0) */
    int above = up ? fg > 0 : fg < 0;
    double lo = g, hi = g, d = 1e-6;
    for (int i = 0; i < 4000; i++, d *= 4) {
        if (above) {
            lo = hi;
            hi = g * (1.0 + d);
            if (!isfinite(hi)) hi = DBL_MAX;
            double f = tail_fn(hi, (void *)e);
            if (f == 0) return hi;
            if (up ? f < 0 : f > 0) break;
            if (hi == DBL_MAX) return NAN;
        } else {
            hi = lo;
            lo = g / (1.0 + d);
            double f = tail_fn(lo, (void *)e);
            if (f == 0) return lo;
            if (up ? f > 0 : f < 0) break;
            if (!(lo > 0)) return NAN;
        }
    }
    gsl_root_fsolver *s = gsl_root_fsolver_alloc(gsl_root_fsolver_brent);
    if (!s) return NAN;
    double x = NAN;
    if (gsl_root_fsolver_set(s, &F, lo, hi) == GSL_SUCCESS) {
        for (int it = 0; it < 500; it++) {
            if (gsl_root_fsolver_iterate(s) != GSL_SUCCESS) { x = NAN; break; }
            x = gsl_root_fsolver_root(s);
            double a = gsl_root_fsolver_x_lower(s), b = gsl_root_fsolver_x_upper(s);
            if (gsl_root_test_interval(a, b, 0.0, 4.0 * DBL_EPSILON) == GSL_SUCCESS) break;
        }
    }
    gsl_root_fsolver_free(s);
    return x;
}

/* Wilson-Hilferty start for chi-square(df) at the normal quantile z:
 * df (1 - 2/(9 df) + z sqrt(2/(9 df)))^3, or df where that is not positive. */
static double wilson_hilferty(double df, double z)
{
    double c = 2.0 / (9.0 * df), b = 1.0 - c + z * sqrt(c);
    double x = df * b * b * b;
    return x > 0 && isfinite(x) ? x : df;
}

double mp_qchisq_upper(double p, double df)
{
    if (!(p > 0 && p < 1) || !(df > 0) || !isfinite(df)) return NAN;
    tail_eq e = {chisq_Q, df, p};
    double x0 = df < 2.0 * TEMME_A ? gsl_cdf_chisq_Qinv(p, df) : NAN;
    if (close_enough(&e, x0) && x0 > 0) return x0;
    double g = x0 > 0 && isfinite(x0) && fabs(x0 / df - 1.0) < 1.0 ? x0
             : wilson_hilferty(df, gsl_cdf_ugaussian_Qinv(p));
    return solve_tail(&e, 1, g);
}

double mp_qchisq_lower(double p, double df)
{
    if (!(p > 0 && p < 1) || !(df > 0) || !isfinite(df)) return NAN;
    tail_eq e = {chisq_P, df, p};
    double x0 = df < 2.0 * TEMME_A ? gsl_cdf_chisq_Pinv(p, df) : NAN;
    if (close_enough(&e, x0) && x0 > 0) return x0;
    double g = x0 > 0 && isfinite(x0) && fabs(x0 / df - 1.0) < 1.0 ? x0
             : wilson_hilferty(df, gsl_cdf_ugaussian_Pinv(p));
    return solve_tail(&e, 0, g);
}

/* Upper quantiles of symmetric distributions: p < 1/2 solves Q(x) = p on
 * x > 0; p > 1/2 gives -y with P(y) = p (Q(-y) = P(y)); p = 1/2 gives 0. */
static double q_symmetric(double p, double df, double x0, double (*Q)(double, double),
                          double (*P)(double, double))
{
    if (p == 0.5) return 0.0;
    if (p < 0.5) {
        tail_eq e = {Q, df, p};
        if (close_enough(&e, x0) && x0 > 0) return x0;
        return solve_tail(&e, 1, x0 > 0 && isfinite(x0) ? x0 : gsl_cdf_ugaussian_Qinv(p));
    }
    tail_eq e = {P, df, p};
    if (close_enough(&e, -x0) && x0 < 0) return x0;
    return -solve_tail(&e, 0, x0 < 0 && isfinite(x0) ? -x0 : gsl_cdf_ugaussian_Pinv(p));
}

double mp_qt_upper(double p, double df)
{
    if (!(p > 0 && p < 1) || !(df > 0) || isnan(df)) return NAN;
    return q_symmetric(p, df, gsl_cdf_tdist_Qinv(p, df), t_Q, t_P);
}

double mp_qnorm_upper(double p)
{
    if (!(p > 0 && p < 1)) return NAN;
    return q_symmetric(p, 0.0, gsl_cdf_ugaussian_Qinv(p), norm_Q, norm_P);
}
