/* include/metapool/gosh.h - GOSH: the model fitted to every subset of the studies.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * "Graphical display of study heterogeneity" (Olkin, Dahabreh & Trikalinos
 * 2012, Res Synth Methods 3:214) as R's metafor 3.8 computes it in gosh():
 * the intercept-only model is fitted to each non-empty subset of the k
 * studies (all 2^k - 1 of them, or N random ones), and each fit reports
 * the estimate, Q, I^2, H^2 and tau^2.  Conventions (metafor's closed form
 * for FE and DL, .profile.rma.uni with model = 1, 2):
 *   - FE and DL: I^2 = max(0, 100 (Q - (k-1))/Q), H^2 = Q/(k-1) even when
 *     Q < k-1; DL's tau^2 = max(0, (Q - (k-1))/(S1 - S2/S1)) and the
 *     estimate is the random-effects mean at that tau^2;
 *   - REML: a full rma() fit per subset (I^2 = 100 tau2/(vt + tau2),
 *     H^2 = 1 + tau2/vt);
 *   - a one-study subset: Q = 0, I^2 = 0, H^2 = 1, tau^2 = 0.
 *
 * How the exhaustive FE/DL run is fast (see gosh.c for the detail): the
 * studies are split into L "low" ones (L = min(k, 10)) and k - L "high"
 * ones.  The sums S1 = sum w, Sy = sum w y, Syy = sum w y^2, S2 = sum w^2 of
 * every low subset are tabulated once; a subset's sums are then the sum of
 * its high part's sums (computed directly once per block of 2^L subsets)
 * and one table entry, so every subset costs O(1) for FE and a fixed number
 * of vectorised divisions for DL, and no running sum can drift.
 *
 * Summaries are built on the fly and are mergeable (mp_gosh_summary_merge:
 * integer counts add, sums add, minima/maxima combine), so a run split
 * across processes can be combined. */
#ifndef MP_GOSH_H
#define MP_GOSH_H

#include <stddef.h>
#include <stdint.h>
#include "status.h"
#include "pool.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Largest k for an exhaustive run (2^k - 1 subsets fit in a uint64_t mask
 *  and a run of 2^40 subsets already takes hours). */
#define MP_GOSH_KMAX_ALL 40
/** Largest k at all (subset masks are 64-bit). */
#define MP_GOSH_KMAX 63

/** A batch of per-subset rows handed to the row callback (arrays of n). */
typedef struct mp_gosh_rows {
    size_t n;                /**< rows in this batch */
    const uint64_t *mask;    /**< subset: bit i set = study i included */
    const double *estimate;  /**< pooled estimate */
    const double *Q;         /**< Cochran's Q (0 for one study) */
    const double *I2;        /**< I^2 in percent */
    const double *H2;        /**< H^2 */
    const double *tau2;      /**< tau^2 (0 for FE) */
    const unsigned char *ok; /**< 1 = fitted; 0 = the fit failed (REML did not converge) */
} mp_gosh_rows;

/** Row callback: called in subset order (exhaustive: increasing mask), from
 *  one thread at a time.  A non-MP_OK return stops the run with that status. */
typedef mp_status (*mp_gosh_row_fn)(void *ctx, const mp_gosh_rows *rows);

/** Progress callback: `done` of `total` subsets fitted.  Called from a
 *  worker thread, one at a time, about once per work chunk. */
typedef void (*mp_gosh_progress_fn)(void *ctx, uint64_t done, uint64_t total);

/** Options of a GOSH run. */
typedef struct mp_gosh_opts {
    mp_method method;      /**< MP_METHOD_FE, MP_METHOD_DL or MP_METHOD_REML [FE] */
    uint64_t subsets;      /**< 0 = all 2^k - 1 subsets; N = N random subsets [0] */
    unsigned long seed;    /**< seed of the random subsets [1] */
    size_t threads;        /**< worker threads, 0 = online CPUs [0]; the results do not
                                depend on it (fixed work chunks, merged in order) */
    double epsrel;         /**< REML convergence tolerance [1e-12] */
    size_t maxiter;        /**< REML iteration limit [1000] */
    uint64_t exact_max;    /**< quantiles exact (all values kept) up to this many
                                subsets; a histogram above [2^22] */
    size_t hist_bins;      /**< bins of the quantile histograms [2^16] */
    int exact_quantiles;   /**< above exact_max: a second pass that collects the values of
                                the bins holding the quantiles' order statistics and
                                selects them, so q05/median/q95 are exact (twice the
                                time; not with parts > 1) [0] */
    size_t grid_nx, grid_ny; /**< density grid of (I^2, estimate) for plots; 0 = none [0] */
    size_t highlight;      /**< study whose subsets get their own density grid;
                                (size_t)-1 = none [none] */
    size_t part, parts;    /**< run only part `part` of `parts` equal shares of the work
                                (e.g. one MPI rank's); the partial summaries (res->sum)
                                merge with mp_gosh_summary_merge() and
                                mp_gosh_summarise() gives the whole run's result [0, 1] */
    mp_gosh_row_fn row_fn; /**< per-subset rows (NULL: none); forces one thread */
    void *row_ctx;         /**< passed to row_fn */
    mp_gosh_progress_fn progress_fn; /**< progress (NULL: none) */
    void *progress_ctx;    /**< passed to progress_fn */
} mp_gosh_opts;

/** Fill `o` with the defaults shown above. */
MP_EXPORT void mp_gosh_opts_init(mp_gosh_opts *o);

/** Five-number summary of one statistic over the fitted subsets:
 *  min, R's quantile(type = 7) at .05, .5, .95, max. */
typedef struct mp_gosh_stat {
    double min, q05, median, q95, max;
} mp_gosh_stat;

/** Mergeable summary of a set of subset fits (the state a run accumulates;
 *  two runs over disjoint subsets merge into the summary of their union).
 *  Owned arrays; free with mp_gosh_summary_free(). */
typedef struct mp_gosh_summary {
    size_t k;               /**< studies */
    uint64_t n;             /**< subsets fitted (failed fits not counted) */
    uint64_t failed;        /**< subsets whose fit failed */
    double est_min, est_max, i2_min, i2_max; /**< extremes (+-Inf when n = 0) */
    /* per study j (arrays of k): sums and counts over the subsets with and
     * without study j */
    double *est_with, *est_without, *i2_with, *i2_without; /**< sums */
    uint64_t *n_with, *n_without;                           /**< counts */
    /* quantile state: either every value (exact) or histograms */
    int exact;              /**< 1: values kept in `est_vals`, `i2_vals` */
    uint64_t nvals, mvals;  /**< values kept / allocated (exact mode) */
    double *est_vals, *i2_vals; /**< the values (exact mode; order unspecified) */
    size_t bins;            /**< histogram bins (histogram mode) */
    double est_lo, est_hi;  /**< histogram range of the estimate (min y .. max y) */
    uint64_t *est_hist;     /**< counts of the estimate over [est_lo, est_hi] */
    uint64_t *i2_hist;      /**< counts of I^2 > 0 over (0, 100] */
    uint64_t i2_zero;       /**< subsets with I^2 exactly 0 */
    /* density grid (I^2 on x over [0, 100], estimate on y over [est_lo, est_hi]) */
    size_t nx, ny;          /**< grid size (0 = none) */
    uint64_t *grid;         /**< nx*ny counts, row-major by y (cell (ix, iy) at iy*nx + ix) */
    uint64_t *grid_hl;      /**< the same for the subsets that include the highlighted study */
    size_t highlight;       /**< the highlighted study, (size_t)-1 = none */
} mp_gosh_summary;

/** Result of a GOSH run. */
typedef struct mp_gosh_result {
    size_t k;               /**< studies */
    mp_method method;       /**< model */
    uint64_t subsets;       /**< subsets visited (fitted + failed; this part's with parts > 1) */
    int exhaustive;         /**< 1 if every non-empty subset was fitted */
    uint64_t failed;        /**< fits that failed (REML non-convergence); left out of the summaries */
    mp_gosh_stat estimate;  /**< summary of the estimates */
    mp_gosh_stat I2;        /**< summary of I^2 */
    int quantiles_exact;    /**< 1: q05/median/q95 exact; 0: from the histogram */
    double est_qerr, i2_qerr; /**< bound on |quantile error| (0 when exact): one bin width */
    double *mean_est_with, *mean_est_without; /**< per study (k): mean estimate over the
                                                   subsets with / without it (NaN if none) */
    double *mean_i2_with, *mean_i2_without;   /**< the same for I^2 */
    mp_gosh_summary sum;    /**< the merged summary (grids for plots live here) */
    /* parts > 1 only: this part's per-study sums chunk by chunk, so that the
     * parts' sums add up bit for bit as one run adds them (floating-point
     * addition is not associative): see mp_gosh_summary_chunk_sums() */
    uint64_t chunk0, nchunk; /**< this part's chunks [chunk0, chunk0 + nchunk) */
    double *chunk_sums;     /**< nchunk * k * 4: per chunk and study est_with, est_without,
                                 i2_with, i2_without */
} mp_gosh_result;

/** Run GOSH on k studies (effects y, variances v; finite, v > 0).
 *
 *  Returns MP_OK; MP_EINVAL (NULL pointers, a method other than FE, DL,
 *  REML, a bad option, highlight >= k); MP_ETOOFEW (k < 2, as metafor);
 *  MP_EDOM (y or v outside pool.h's supported range; k above
 *  MP_GOSH_KMAX_ALL for an exhaustive run or above MP_GOSH_KMAX); MP_ENOMEM;
 *  or the status a row callback returned.  REML fits that do not converge
 *  are counted in res->failed (their rows have ok = 0) and the call still
 *  returns MP_OK: the caller reports them.  `res` is filled on MP_OK and
 *  must be freed with mp_gosh_result_free() whatever the return value.
 *  Allocates the summary; no output to any stream. */
MP_EXPORT mp_status mp_gosh_run(const double *y, const double *v, size_t k,
                                const mp_gosh_opts *o, mp_gosh_result *res);

/** Free the arrays of a result. NULL-safe. */
MP_EXPORT void mp_gosh_result_free(mp_gosh_result *res);

/** Make an empty summary for k studies shaped as `shape` (same mode, bins,
 *  range, grid; the arrays are allocated and zeroed).  MP_OK or MP_ENOMEM. */
MP_EXPORT mp_status mp_gosh_summary_init_like(mp_gosh_summary *s, const mp_gosh_summary *shape);

/** Merge `b` into `a` (same k, mode, bins, range and grid: MP_EINVAL
 *  otherwise).  Exact mode appends b's values (may allocate: MP_ENOMEM). */
MP_EXPORT mp_status mp_gosh_summary_merge(mp_gosh_summary *a, const mp_gosh_summary *b);

/** Set the per-study sums of `s` (est_with, est_without, i2_with,
 *  i2_without) to the per-chunk sums `sums` (nchunk * s->k * 4, as
 *  mp_gosh_result.chunk_sums, the parts' arrays one after another in part
 *  order) added in chunk order from zero, exactly as one mp_gosh_run()
 *  adds them: the parts of a run merge into its sums bit for bit.  The
 *  counts are left alone (integers merge exactly).  MP_OK or MP_EINVAL. */
MP_EXPORT mp_status mp_gosh_summary_chunk_sums(mp_gosh_summary *s, const double *sums,
                                               uint64_t nchunk);

/** Free a summary's arrays. NULL-safe. */
MP_EXPORT void mp_gosh_summary_free(mp_gosh_summary *s);

/** The five-number summaries, bounds and per-study means of a summary,
 *  written into res (res->sum is not touched).  Exact mode reorders the
 *  kept values.  MP_OK, MP_ETOOFEW (no fitted subset), MP_ENOMEM. */
MP_EXPORT mp_status mp_gosh_summarise(mp_gosh_summary *s, mp_gosh_result *res);

/** R's quantile(x, p, type = 7) of n values (x is reordered: selection,
 *  not a sort).  NaN for n = 0. */
MP_EXPORT double mp_quantile7(double *x, size_t n, double p);

#ifdef __cplusplus
}
#endif
#endif /* MP_GOSH_H */
