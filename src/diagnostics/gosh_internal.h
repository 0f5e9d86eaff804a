/* src/diagnostics/gosh_internal.h - test hooks into the GOSH core, not installed.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef MP_GOSH_INTERNAL_H
#define MP_GOSH_INTERNAL_H

#include "metapool/gosh.h"

/* The rows of one block of the exhaustive run: high pattern h (studies
 * L.., L = min(k, 10)) with every low pattern l in [0, 2^L), computed by
 * the same code as mp_gosh_run (FE, DL: the table + block sums; REML: a fit
 * per subset).  Arrays of 2^L; mask[l] = (h << L) | l; ok[0] = 0 when
 * h = 0 (the empty set).  *L_out gets L.  MP_OK, MP_EINVAL, MP_EDOM
 * (h out of range), MP_ENOMEM. */
mp_status mp_gosh_block_(const double *y, const double *v, size_t k, mp_method method,
                         uint64_t h, size_t *L_out, uint64_t *mask, double *est, double *Q,
                         double *I2, double *H2, double *tau2, unsigned char *ok);

#endif
