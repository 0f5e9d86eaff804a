/* src/models/blas_threads.c - BLAS runs on one thread inside the library.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The library's parallelism is its own threads (batch mode, diagnostics);
 * the matrices of one fit are small.  OpenBLAS's default threading made
 * `trajectory` with 2,000 studies 20-45x slower on a busy machine (its
 * threads spin waiting for cores) and its last digits depended on the BLAS
 * thread count, since a threaded kernel sums in another order (issue 11).
 * So before the first BLAS or LAPACK call of a fit, OpenBLAS is set to one
 * thread, once per process (pthread_once).  openblas_set_num_threads is
 * declared weak: linked against another BLAS it is absent and nothing is
 * changed.  The setting is process-wide, as OpenBLAS offers no other; the
 * public headers (reg.h, traj.h) say so. */
#include "internal.h"

#include <pthread.h>

extern void openblas_set_num_threads(int num_threads) __attribute__((weak));

static pthread_once_t blas_once = PTHREAD_ONCE_INIT;

static void blas_one_thread(void)
{
    if (openblas_set_num_threads) openblas_set_num_threads(1);
}

void mp_blas_single_thread(void)
{
    pthread_once(&blas_once, blas_one_thread);
}
