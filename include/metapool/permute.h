/* include/metapool/permute.h - permutation tests of pooled estimates and meta-regressions.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * As R's metafor 3.8 permutest() (Follmann & Proschan 1999, Biometrics
 * 55:732; Higgins & Thompson 2004, Stat Med 23:1663), with its defaults
 * (two-sided, statistic = the test statistic, comptol = sqrt(DBL_EPSILON)):
 *   - intercept-only model: the signs of the effects are flipped; exact =
 *     all 2^k sign vectors (the identity included); p = share of refits with
 *     |z*| >= |z| - comptol;
 *   - meta-regression: the rows of the design matrix are permuted; exact =
 *     every distinct ordering of the rows (k!/prod(ties!) of them, refused above
 *     MP_PERM_REG_EXACT_KMAX when asked for; the share
 *     equals that over all k! orderings); p per coefficient from |z*_j| >=
 *     |z_j| - comptol and for the omnibus test QM* >= QM - comptol;
 *   - random: N permutations of which the first is the identity (metafor
 *     puts the observed statistic first), the others drawn at random; a refit
 *     that fails is drawn again; exact is used instead whenever the exact
 *     count is at most N (as metafor).
 * Random draws come from GSL's MT19937, one stream per chunk of 1024
 * permutations seeded from (seed, chunk), so a run repeats exactly and the
 * thread count does not change the answer (counts are integers). */
#ifndef MP_PERMUTE_H
#define MP_PERMUTE_H

#include <stddef.h>
#include <stdint.h>
#include "status.h"
#include "pool.h"
#include "reg.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Largest k for exact sign flips (2^24 refits). */
#define MP_PERM_POOL_EXACT_KMAX 24
/** Largest k for exact row orderings (10! = 3628800 refits). */
#define MP_PERM_REG_EXACT_KMAX 10

/** Options of a permutation test. */
typedef struct mp_perm_opts {
    int exact;            /**< 1: enumerate every permutation [0] */
    uint64_t iter;        /**< random permutations (the identity counted) when not exact [1000] */
    unsigned long seed;   /**< generator seed [1] */
    size_t threads;       /**< worker threads, 0 = online CPUs [0] */
    double comptol;       /**< tolerance of the comparisons [sqrt(DBL_EPSILON)] */
} mp_perm_opts;

/** Fill `o` with the defaults shown above. */
MP_EXPORT void mp_perm_opts_init(mp_perm_opts *o);

/** Result of a permutation test. */
typedef struct mp_perm_result {
    uint64_t permutations; /**< permutations whose refit counted */
    uint64_t failed;       /**< refits that failed (exact mode: left out, as metafor's na.rm) */
    int exact;             /**< 1 if every permutation was enumerated */
    size_t p;              /**< coefficients */
    double *pval;          /**< p permutation p-values, one per coefficient (owned) */
    double QM_pval;        /**< permutation p-value of the omnibus test (NaN for pool) */
} mp_perm_result;

/** Sign-flip test of the intercept-only model fitted with `po` (its
 *  tau2_ci is ignored): y, v as mp_pool().  Returns MP_OK; MP_EINVAL (bad
 *  options, iter 0); MP_EDOM (exact with k > MP_PERM_POOL_EXACT_KMAX);
 *  the status of the observed fit if it fails; MP_ENOMEM.  `res` must be
 *  freed with mp_perm_result_free() whatever the return value. */
MP_EXPORT mp_status mp_permute_pool(const double *y, const double *v, size_t k,
                                    const mp_pool_opts *po, const mp_perm_opts *o,
                                    mp_perm_result *res);

/** Row-permutation test of the meta-regression y = X b (X k x p,
 *  column-major; ro->r2 is ignored).  Returns as mp_permute_pool();
 *  MP_EDOM for exact with k > MP_PERM_REG_EXACT_KMAX. */
MP_EXPORT mp_status mp_permute_reg(const double *y, const double *v, const double *X, size_t k,
                                   size_t p, const mp_reg_opts *ro, const mp_perm_opts *o,
                                   mp_perm_result *res);

/** Free the arrays of a result. NULL-safe. */
MP_EXPORT void mp_perm_result_free(mp_perm_result *res);

#ifdef __cplusplus
}
#endif
#endif /* MP_PERMUTE_H */
