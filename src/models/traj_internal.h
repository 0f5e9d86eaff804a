/* src/traj_internal.h - pieces shared by src/traj.c and src/traj_opt.c (not installed).
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The optimiser lives in its own file because GSL's multimin header pulls
 * in gsl_cblas.h, whose declarations clash with OpenBLAS' cblas.h. */
#ifndef MP_TRAJ_INTERNAL_H
#define MP_TRAJ_INTERNAL_H

#include <stddef.h>

/* Objective on the unconstrained scale: *f = -l_R(th) and, when g is not
 * NULL, g = its gradient.  Returns 0, or nonzero where it is not defined
 * (M not positive definite), which the optimiser treats as +Inf. */
typedef int (*mp_traj_fdf_fn)(void *ctx, const double *th, double *f, double *g);

/* Minimise fn over n parameters from th (updated in place) with GSL's
 * vector BFGS2; when its line search stops far from a stationary point,
 * Nelder-Mead (nmsimplex2) restarts it (at most 3 rounds).  Stops when
 * max |g| <= epsabs or after maxiter iterations in all.  Returns the
 * iterations used, or -1 if allocation failed. */
long mp_traj_minimise_(mp_traj_fdf_fn fn, void *ctx, size_t n, double *th, size_t maxiter,
                       double epsabs);

#endif
