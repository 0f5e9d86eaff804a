/* src/diagnostics/sens_internal.h - helpers of the sensitivity analyses, not installed.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef MP_SENS_INTERNAL_H
#define MP_SENS_INTERNAL_H

#include "metapool/sensitivity.h"
#include "internal.h"

/* Leave-one-out refits of the intercept-only model from downdated power
 * sums and their Taylor series around the full fit's tau2 t0 (l1o_fast.c):
 * rows[i] is filled and done[i] set to 1 for every refit the series can do
 * to full precision; the others (done[i] = 0) are for the exact path.
 * *ndone counts the rows done.  Methods FE, DL, HS, HSk, ML, REML, EB, PM;
 * HE and SJ, k < 3, and refits whose estimating equation is not positive at
 * 0 are always left to the exact path.  MP_OK or MP_ENOMEM. */
mp_status mp_l1o_fast(const double *y, const double *v, size_t k, const mp_pool_opts *o,
                      double t0, mp_pool_result *rows, unsigned char *done, size_t *ndone);

#endif
