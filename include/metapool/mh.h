/* include/metapool/mh.h - Mantel-Haenszel and Peto pooling of 2x2 tables and rates.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Fixed-effect pooling from the tables themselves, as R's metafor 3.8
 * rma.mh() and rma.peto() compute it with their defaults:
 *  - OR: Mantel & Haenszel (1959) estimate sum(a d/N) / sum(b c/N), variance
 *    of its log by Robins, Breslow & Greenland (1986); the Cochran-Mantel-
 *    Haenszel test with continuity correction and N - 1 in the variance
 *    (`MH`), Cochran's test without them (`CO`); the Breslow-Day test and
 *    Tarone's (1985) correction of it (`BD`, `TA`);
 *  - RR: sum(a n2/N) / sum(c n1/N), variance of Greenland & Robins (1985);
 *  - RD: sum((a n2 - c n1)/N) / sum(n1 n2/N), variance of Sato (Greenland &
 *    Robins 1985; Sato 1989);
 *  - IRR, IRD (events x1, x2 in person-times t1, t2): the rate counterparts
 *    (Greenland & Robins 1985; Rothman, Greenland & Lash), with the MH test
 *    for IRR;
 *  - Peto's one-step odds ratio (Yusuf et al. 1985): sum(O - E) / sum(V).
 * The MH estimate and tests use the raw counts of every table (no 1/2
 * added: rma.mh's add[2] = 0); Q, I2 and H2 come from the per-table effect
 * sizes of escalc() with 1/2 added to tables with a zero cell and the
 * tables without events (or non-events) in both arms left out (rma.mh's
 * drop00[1] = TRUE): Q = sum w (y - est)^2 over those k_yi tables,
 * Q_df = k_yi - 1, I2 = max(0, (Q - Q_df)/Q) 100, H2 = Q/Q_df (may be
 * below 1, as metafor reports it); for k_yi <= 1, Q = 0, p = 1, I2 = 0,
 * H2 = 1.  Peto's Q is sum (O - E)^2/V - (sum (O - E))^2 / sum V over the
 * tables with V > 0. */
#ifndef MP_MH_H
#define MP_MH_H

#include <stddef.h>
#include "escalc.h"
#include "pool.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Pooling from the tables themselves (0: none, inverse variance). */
typedef enum mp_mh_method { MP_MH_NONE = 0, MP_MH_MH, MP_MH_PETO } mp_mh_method;

/** Result of a Mantel-Haenszel or Peto analysis.  Values not defined for
 *  the measure (TA for RR, ...) or not estimable (no events at all) are NaN. */
typedef struct mp_mh_result {
    size_t k;               /**< tables */
    size_t k_yi;            /**< tables with a per-table effect size (those Q uses) */
    double level;           /**< confidence level, percent */
    double estimate, se;    /**< pooled estimate (log scale for OR, RR, IRR, PETO) and SE */
    double stat, pval;      /**< z statistic and its two-sided p-value */
    double ci_lb, ci_ub;    /**< Wald confidence interval */
    double Q, Q_df, Q_pval; /**< heterogeneity as rma.mh()/rma.peto() compute it */
    double I2, H2;          /**< from Q (percent; H2 may be < 1) */
    double MH, MH_pval;     /**< CMH test (OR, continuity-corrected, N - 1 variance); MH test (IRR) */
    double CO, CO_pval;     /**< Cochran's test (OR; no correction, N variance) */
    double BD, BD_pval;     /**< Breslow-Day test (OR) */
    double TA, TA_pval;     /**< Tarone's test (OR) */
    double TA_df;           /**< df of BD and TA: tables with a positive fitted a and both
                                 margins positive, minus 1 */
} mp_mh_result;

/** Mantel-Haenszel pooling of k tables.  `cells` holds 4 numbers per
 *  table: a, b, c, d (events, non-events in the treatment arm, then in the
 *  control arm) for MP_MEASURE_OR, RR, RD; x1, t1, x2, t2 for IRR, IRD.
 *  Counts >= 0 and finite, each arm non-empty (t > 0 for rates).
 *  Returns MP_OK; MP_ETOOFEW for k = 0; MP_EINVAL for another measure or a
 *  level outside (0, 100); MP_EDOM for a bad cell (res untouched).
 *  When the estimate is not estimable (OR: sum(a d/N) or sum(b c/N) is 0;
 *  RR, IRR: no events in one of the groups) the result has NaN estimate
 *  and MP_EDOM is returned with the other fields filled where defined. */
MP_EXPORT mp_status mp_mh(mp_measure m, const double *cells, size_t k, double level,
                          mp_mh_result *res);

/** Peto's one-step pooled log odds ratio of k 2x2 tables (cells a, b, c, d
 *  as for mp_mh).  MP_OK; MP_ETOOFEW (k = 0); MP_EINVAL (level); MP_EDOM
 *  (bad cell, or sum V = 0: no table with events and non-events). */
MP_EXPORT mp_status mp_peto(const double *cells, size_t k, double level, mp_mh_result *res);

/** Copy an MH/Peto result into the fields of a pool result the reporter
 *  reads: estimate, se, stat, pval, CI, Q, Q_df, Q_pval, I2, H2; k; test z,
 *  method FE; tau2 and every random-effects field NaN. */
MP_EXPORT void mp_mh_to_pool(const mp_mh_result *h, mp_pool_result *p);

/** Percent weights of the tables in a Mantel-Haenszel (peto = 0) or Peto
 *  (peto = 1) analysis, as metafor's weights() of rma.mh / rma.peto: OR
 *  b c/N, RR c n1/N, RD n1 n2/N, IRR x2 t1/T, IRD t1 t2/T; Peto V.  Each
 *  divided by their sum, times 100 (NaN when the sum is 0).  No allocation. */
MP_EXPORT void mp_mh_weights(mp_measure m, int peto, const double *cells, size_t k,
                             double *weight);

#ifdef __cplusplus
}
#endif
#endif /* MP_MH_H */
