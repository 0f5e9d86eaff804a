/* include/metapool/escalc.h - effect sizes and sampling variances.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Definitions follow metafor's escalc() (Viechtbauer 2010, J Stat Softw
 * 36(3); metafor documentation of escalc, version 3.8). */
#ifndef MP_ESCALC_H
#define MP_ESCALC_H

#include <stddef.h>
#include "status.h"
#include "table.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Effect-size measures. */
typedef enum mp_measure {
    MP_MEASURE_GEN = 0, /**< yi as given (generic) */
    MP_MEASURE_SMD,     /**< standardized mean difference, Hedges' g */
    MP_MEASURE_MD,      /**< raw mean difference */
    MP_MEASURE_ROM,     /**< log ratio of means */
    MP_MEASURE_OR,      /**< log odds ratio */
    MP_MEASURE_RR,      /**< log risk ratio */
    MP_MEASURE_RD,      /**< risk difference */
    MP_MEASURE_COUNT
} mp_measure;

/** Variance conventions for Hedges' g (only SMD uses them). */
typedef enum mp_smd_vtype {
    MP_SMD_VAR_LS = 0, /**< metafor default: 1/n1 + 1/n2 + g^2/(2(n1+n2)) */
    MP_SMD_VAR_UB,     /**< unbiased (metafor vtype "UB"): 1/n1 + 1/n2 + (1 - (m-2)/(m c^2)) g^2 */
    MP_SMD_VAR_REVMAN, /**< RevMan 5: 1/n1 + 1/n2 + g^2/(2(n1+n2-3.94)) */
    MP_SMD_VAR_CMA,    /**< CMA: J^2 (1/n1 + 1/n2 + d^2/(2(n1+n2))), d uncorrected */
    MP_SMD_VAR_COUNT
} mp_smd_vtype;

/** Name of a measure ("SMD"), never NULL. */
MP_EXPORT const char *mp_measure_name(mp_measure m);
/** Parse a measure name (case-sensitive, as metafor). MP_OK or MP_EINVAL. */
MP_EXPORT mp_status mp_measure_parse(const char *s, mp_measure *out);
/** 1 for measures analysed on the log scale (OR, RR, ROM). */
MP_EXPORT int mp_measure_is_log(mp_measure m);
/** Name of an SMD variance convention ("LS", "UB", "RevMan", "CMA"). */
MP_EXPORT const char *mp_smd_vtype_name(mp_smd_vtype v);
/** Parse an SMD variance convention name (case-insensitive). */
MP_EXPORT mp_status mp_smd_vtype_parse(const char *s, mp_smd_vtype *out);

/** Hedges' exact small-sample correction c(m) = Gamma(m/2) /
 *  (sqrt(m/2) Gamma((m-1)/2)), computed in log space; m > 1 degrees of freedom. */
MP_EXPORT double mp_hedges_c(double m);

/** Single-study effect sizes.  All return MP_OK or MP_EDOM for values outside
 *  the domain (non-positive sizes or SDs, negative counts, ...).  No allocation. */
MP_EXPORT mp_status mp_es_smd(double m1, double sd1, double n1, double m2, double sd2, double n2,
                              mp_smd_vtype vtype, double *yi, double *vi);
/** Variance of a given Hedges' g from the group sizes. */
MP_EXPORT mp_status mp_es_smd_var(double g, double n1, double n2, mp_smd_vtype vtype,
                                  double *vi);
MP_EXPORT mp_status mp_es_md(double m1, double sd1, double n1, double m2, double sd2, double n2,
                             double *yi, double *vi);
MP_EXPORT mp_status mp_es_rom(double m1, double sd1, double n1, double m2, double sd2,
                              double n2, double *yi, double *vi);
/** 2x2 table: a, b events / non-events in the treatment arm, c, d in the
 *  control arm.  If any cell is 0, 1/2 is added to every cell (metafor's
 *  add = 1/2, to = "only0").  For OR and RR a table with no events in
 *  both arms (or only events in both) returns MP_EDOM (left out). */
MP_EXPORT mp_status mp_es_2x2(mp_measure m, double a, double b, double c, double d, double *yi,
                              double *vi);

/** Options for computing effect sizes from a table. */
typedef struct mp_es_opts {
    mp_measure measure;    /**< requested measure; GEN = use yi as given */
    int measure_given;     /**< 0 if the user did not choose (auto-detect) */
    mp_smd_vtype vtype;    /**< SMD variance convention */
    double level;          /**< confidence level in percent, for yi + ci_lb/ci_ub input */
} mp_es_opts;

/** Defaults: GEN (auto), LS variances, level 95. */
MP_EXPORT void mp_es_opts_init(mp_es_opts *o);

/** How the effect sizes were obtained. */
typedef enum mp_es_source {
    MP_SRC_YI_VI = 0, MP_SRC_YI_SEI, MP_SRC_YI_CI, MP_SRC_YI_N, MP_SRC_MEANS, MP_SRC_COUNTS
} mp_es_source;

/** Effect sizes for every row of a table. */
typedef struct mp_effects {
    size_t n;              /**< rows of the table */
    double *yi;            /**< n effect sizes (NaN where the row is left out) */
    double *vi;            /**< n sampling variances (NaN where left out) */
    unsigned char *used;   /**< n flags: 1 if the row enters the analysis */
    size_t k;              /**< rows used */
    mp_measure measure;    /**< measure in effect (label when yi is given) */
    mp_es_source source;   /**< which columns were used */
    mp_smd_vtype vtype;    /**< SMD variance convention used */
    mp_msgs warnings;      /**< rows left out, with row numbers and reasons */
} mp_effects;

/** Compute yi and vi for every row of `t`, finding columns by metafor's
 *  names (yi, vi, sei, ci_lb, ci_ub, n1i, n2i, m1i, sd1i, m2i, sd2i, ai,
 *  bi, ci, di).  Bad cells give MP_EPARSE with `err` naming the file, line
 *  and column; a missing required column gives MP_EINVAL; cells holding NA
 *  leave their row out with a warning, as do zero-event tables for OR/RR.
 *  Allocates; free with mp_effects_free(). */
MP_EXPORT mp_status mp_effects_compute(const mp_table *t, const mp_es_opts *o, mp_effects *out,
                                       mp_error *err);

/** Free the arrays of `e` and its warnings. NULL-safe. */
MP_EXPORT void mp_effects_free(mp_effects *e);

#ifdef __cplusplus
}
#endif
#endif /* MP_ESCALC_H */
