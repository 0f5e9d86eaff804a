/* src/models/root.c - the safeguarded Newton solve of a tau2 estimating equation.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Shared by pool.c and reg.c: both solve g(tau2) = 0 inside a bracket
 * where g changes sign from + to - (a local maximum of the likelihood, or
 * the root of an empirical Bayes / Paule-Mandel type equation).
 *
 * Newton's method alone can cycle: between a local minimum and a local
 * maximum of the likelihood the score's slope changes sign, and a Newton
 * step from one side and a Fisher-scoring step from the other can land
 * back where they started, forever, with both points inside the bracket
 * (a k = 9 REML fit of a simulated data set cycled for 1000 iterations
 * and was reported as not converged; tests/test_numerics.c keeps it).
 * The safeguard is that of rtsafe (Press et al., Numerical Recipes, 3rd
 * ed., section 9.4): once both ends of the bracket are finite, a step
 * that leaves it, or that is not at most half the step before the last
 * one, is replaced by a bisection, so the bracket at least halves every
 * two iterations and the solve ends in O(log(width / tol)) steps. */
#include "internal.h"

#include <math.h>

mp_status mp_root_solve(mp_eq_fn f, void *ctx, double lo, double hi, double start, double epsrel,
                        size_t maxiter, double *root, size_t *niter)
{
    double x = start > lo ? start : lo, g, dg, fi;
    double dx1 = INFINITY, dx2 = INFINITY; /* the last two steps taken */
    for (size_t it = 1; it <= maxiter; it++) {
        mp_status s = f(ctx, x, &g, &dg, &fi);
        *niter = it;
        if (s != MP_OK) return s;
        if (!isfinite(g)) return MP_FAIL(MP_ENOCONV);
        if (g == 0) { *root = x; return MP_OK; }
        if (g > 0) lo = x; else hi = x;
        double step = dg < 0 ? -g / dg /* Newton */ : g / fi /* Fisher scoring */;
        double xn = x + step;
        /* A step below the tolerance is convergence even when rounding puts
         * xn on the bracket end (g = +-1e-15 noise at the root, step
         * 2.7e-17, xn == x == lo): test it before the bracket. */
        if (fabs(step) <= epsrel * fabs(x)) {
            *root = xn;
            return MP_OK;
        }
        if (!(xn > lo && xn < hi) || (isfinite(hi) && !(fabs(step) <= 0.5 * fabs(dx2)))) {
            /* a step leaving the bracket happens only once both ends are
             * known (from g > 0 both kinds of step go right) */
            if (isinf(hi)) return MP_FAIL(MP_ENOCONV);
            xn = 0.5 * (lo + hi);
        }
        if (fabs(xn - x) <= epsrel * fabs(xn) || (isfinite(hi) && hi - lo <= epsrel * lo)) {
            *root = xn;
            return MP_OK;
        }
        dx2 = dx1;
        dx1 = xn - x;
        x = xn;
    }
    *root = x;
    return MP_FAIL(MP_ENOCONV);
}
