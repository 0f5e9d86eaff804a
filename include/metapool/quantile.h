/* include/metapool/quantile.h - quantiles of the chi-square, t and normal
 * distributions that hold for every degree of freedom.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * GSL's inverse CDFs (gsl_cdf_chisq_Qinv/Pinv) return wrong values or NaN
 * for many df above about 2,300 (issue 11: Qinv(0.025, 2323) = 2216 where
 * the quantile is 2458; NaN near df = 1e6).  These functions take GSL's
 * value, verify it with GSL's CDF, and where it is off (relative error of
 * the tail probability above 1e-12) or not finite, solve CDF(x) = p by a
 * bracketed root search (GSL's Brent solver) on the tail that is inverted
 * (the upper tail Q for upper quantiles, so no 1 - p cancels). */
#ifndef MP_QUANTILE_H
#define MP_QUANTILE_H

#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** x with P(X > x) = p for X ~ chi-square(df); p in (0, 1), df > 0; NaN otherwise. */
MP_EXPORT double mp_qchisq_upper(double p, double df);
/** x with P(X <= x) = p for X ~ chi-square(df); p in (0, 1), df > 0; NaN otherwise. */
MP_EXPORT double mp_qchisq_lower(double p, double df);
/** P(X > x) for X ~ chi-square(df), accurate for every df (GSL's
 *  gsl_cdf_chisq_Q fails above df ~ 2e6; Temme's uniform expansion there). */
MP_EXPORT double mp_pchisq_upper(double x, double df);
/** P(X <= x) for X ~ chi-square(df), as mp_pchisq_upper. */
MP_EXPORT double mp_pchisq_lower(double x, double df);
/** x with P(T > x) = p for T ~ Student t(df); p in (0, 1), df > 0; NaN otherwise. */
MP_EXPORT double mp_qt_upper(double p, double df);
/** x with P(Z > x) = p for Z ~ N(0, 1); p in (0, 1); NaN otherwise. */
MP_EXPORT double mp_qnorm_upper(double p);

#ifdef __cplusplus
}
#endif
#endif /* MP_QUANTILE_H */
