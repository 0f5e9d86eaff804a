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
    MP_MEASURE_PETO,    /**< Peto's log odds ratio (2x2 counts) */
    MP_MEASURE_PR,      /**< raw proportion (xi, ni) */
    MP_MEASURE_PLN,     /**< log proportion */
    MP_MEASURE_PLO,     /**< logit proportion */
    MP_MEASURE_PAS,     /**< arcsine square-root proportion */
    MP_MEASURE_PFT,     /**< Freeman-Tukey double-arcsine proportion */
    MP_MEASURE_COR,     /**< raw correlation (ri, ni) */
    MP_MEASURE_ZCOR,    /**< Fisher's r-to-z transformed correlation */
    MP_MEASURE_IR,      /**< incidence rate (xi, ti) */
    MP_MEASURE_IRLN,    /**< log incidence rate */
    MP_MEASURE_IRS,     /**< square-root incidence rate */
    MP_MEASURE_IRFT,    /**< Freeman-Tukey incidence rate */
    MP_MEASURE_IRR,     /**< log incidence rate ratio (x1i, t1i, x2i, t2i) */
    MP_MEASURE_IRD,     /**< incidence rate difference */
    MP_MEASURE_MC,      /**< raw mean change, paired design */
    MP_MEASURE_SMCC,    /**< standardized mean change, change-score standardization */
    MP_MEASURE_SMCR,    /**< standardized mean change, raw-score standardization */
    MP_MEASURE_HR,      /**< log hazard ratio (only from yi, ci_lb, ci_ub on the ratio scale) */
    MP_MEASURE_COUNT
} mp_measure;

/** Variance conventions for Hedges' g (only SMD uses them).  With
 *  m = n1 + n2 - 2, c = mp_hedges_c(m), g = c d the corrected and d the
 *  uncorrected standardized mean difference:
 *  - LS: metafor's default (escalc vtype "LS"; Hedges 1981 large-sample
 *    variance evaluated at g):  1/n1 + 1/n2 + g^2 / (2 (n1 + n2));
 *  - UB: metafor's vtype "UB", the unbiased estimate (Hedges 1983):
 *    1/n1 + 1/n2 + (1 - (m - 2) / (m c^2)) g^2;   needs m > 2;
 *  - RevMan: Review Manager 5 (Deeks & Higgins 2010, statistical
 *    algorithms in RevMan 5):  1/n1 + 1/n2 + g^2 / (2 (n1 + n2 - 3.94));
 *  - CMA: Comprehensive Meta-Analysis / Borenstein et al. (2009),
 *    Introduction to Meta-Analysis, ch. 4: V_g = J^2 V_d with
 *    V_d = 1/n1 + 1/n2 + d^2 / (2 (n1 + n2)), i.e.
 *    c^2 (1/n1 + 1/n2 + d^2 / (2 (n1 + n2))), d = g / c, J = c. */
typedef enum mp_smd_vtype {
    MP_SMD_VAR_LS = 0, /**< metafor default: 1/n1 + 1/n2 + g^2/(2(n1+n2)) */
    MP_SMD_VAR_UB,     /**< unbiased (metafor vtype "UB"): 1/n1 + 1/n2 + (1 - (m-2)/(m c^2)) g^2 */
    MP_SMD_VAR_REVMAN, /**< RevMan 5: 1/n1 + 1/n2 + g^2/(2(n1+n2-3.94)) */
    MP_SMD_VAR_CMA,    /**< CMA: c^2 (1/n1 + 1/n2 + d^2/(2(n1+n2))), d = g/c uncorrected */
    MP_SMD_VAR_COUNT
} mp_smd_vtype;

/** Name of a measure ("SMD"), never NULL. */
MP_EXPORT const char *mp_measure_name(mp_measure m);
/** Parse a measure name (case-sensitive, as metafor). MP_OK or MP_EINVAL. */
MP_EXPORT mp_status mp_measure_parse(const char *s, mp_measure *out);
/** 1 for measures analysed on the log scale and shown exponentiated (OR,
 *  RR, ROM, PETO, IRR, HR, PLN, IRLN). */
MP_EXPORT int mp_measure_is_log(mp_measure m);

/** How results of a measure are shown on the scale people read them
 *  (metafor's transf functions). */
typedef enum mp_transf {
    MP_TRANSF_NONE = 0, /**< as computed */
    MP_TRANSF_EXP,      /**< exp (log ratios, PLN, IRLN) */
    MP_TRANSF_ILOGIT,   /**< inverse logit (PLO; metafor's transf.ilogit) */
    MP_TRANSF_ZTOR,     /**< tanh (ZCOR as r; transf.ztor) */
    MP_TRANSF_IARCSIN,  /**< sin(x)^2, clamped to [0, 1] (PAS; transf.iarcsin) */
    MP_TRANSF_IPFT_HM,  /**< inverse Freeman-Tukey with the harmonic mean of the ni (PFT;
                             transf.ipft.hm, Miller 1978) */
    MP_TRANSF_ISQRT,    /**< x^2 for x >= 0, else 0 (IRS; transf.isqrt) */
    MP_TRANSF_IIRFT_HM  /**< inverse Freeman-Tukey rate with the harmonic mean of the ti
                             (IRFT; transf.iirft) */
} mp_transf;

/** The back-transformation of a measure (NONE for GEN, SMD, MD, RD, ...). */
MP_EXPORT mp_transf mp_measure_transf(mp_measure m);
/** Apply transformation t to x; `hm` is the harmonic mean of the sample
 *  sizes (IPFT_HM) or person-times (IIRFT_HM), ignored otherwise.  Returns
 *  NaN for NaN input. */
MP_EXPORT double mp_transf_apply(mp_transf t, double x, double hm);
/** Short name of a transformation for the note under a table ("exp",
 *  "inverse logit", ...); "" for NONE. */
MP_EXPORT const char *mp_transf_name(mp_transf t);
/** What a measure's back-transformed values are ("proportion",
 *  "correlation", "incidence rate", "odds ratio", ...): the axis label. */
MP_EXPORT const char *mp_measure_scale_label(mp_measure m);
/** Name of an SMD variance convention ("LS", "UB", "RevMan", "CMA"). */
MP_EXPORT const char *mp_smd_vtype_name(mp_smd_vtype v);
/** Parse an SMD variance convention name (case-insensitive). */
MP_EXPORT mp_status mp_smd_vtype_parse(const char *s, mp_smd_vtype *out);

/** Hedges' exact small-sample correction c(m) = Gamma(m/2) /
 *  (sqrt(m/2) Gamma((m-1)/2)) (Hedges 1981, eq. 6e; metafor's .cmicalc),
 *  computed in log space with gsl_sf_lngamma so that large m does not
 *  overflow; m > 1 degrees of freedom (n1 + n2 - 2).  c(m) ~ 1 - 3/(4m - 1).
 *  For m <= 1 the result is NaN (metafor: NA). */
MP_EXPORT double mp_hedges_c(double m);

/** Single-study effect sizes, as metafor's escalc() (no allocation; the
 *  outputs are written only on MP_OK).  All return MP_OK or MP_EDOM for
 *  values outside the domain (non-positive sizes, negative SDs, negative
 *  counts, m = n1 + n2 - 2 <= 1 for SMD, ...), MP_EINVAL for a bad
 *  vtype/measure.  An SD of 0 in one arm is accepted as metafor accepts it
 *  (the other arm gives the pooled SD or the variance); with both SDs 0
 *  SMD, MD and ROM return MP_EDOM (no positive variance; g undefined).
 *
 *  SMD: sp = sqrt(((n1-1) sd1^2 + (n2-1) sd2^2) / m), yi = c(m) (m1 - m2) / sp,
 *       vi per `vtype` (see mp_smd_vtype). */
MP_EXPORT mp_status mp_es_smd(double m1, double sd1, double n1, double m2, double sd2, double n2,
                              mp_smd_vtype vtype, double *yi, double *vi);
/** Variance of a given Hedges' g from the group sizes (the `yi`, `n1i`,
 *  `n2i` input; LS gives the interface's 1/n1 + 1/n2 + g^2/(2(n1+n2))). */
MP_EXPORT mp_status mp_es_smd_var(double g, double n1, double n2, mp_smd_vtype vtype,
                                  double *vi);
/** MD: yi = m1 - m2, vi = sd1^2/n1 + sd2^2/n2 (metafor vtype "LS"). */
MP_EXPORT mp_status mp_es_md(double m1, double sd1, double n1, double m2, double sd2, double n2,
                             double *yi, double *vi);
/** ROM: yi = log(m1/m2), vi = sd1^2/(n1 m1^2) + sd2^2/(n2 m2^2); means > 0. */
MP_EXPORT mp_status mp_es_rom(double m1, double sd1, double n1, double m2, double sd2,
                              double n2, double *yi, double *vi);
/** 2x2 table: a, b events / non-events in the treatment arm, c, d in the
 *  control arm (non-negative; need not be integers).
 *  Zero cells: if any cell is 0, 1/2 is added to every cell of that table
 *  (metafor's defaults add = 1/2, to = "only0", addyi = addvi = TRUE), for
 *  RD as well as OR and RR: metafor adjusts RD too.
 *  Zero-event tables: for OR and RR a table with no events in both arms
 *  (a = c = 0) or no non-events in both arms (b = d = 0) returns MP_EDOM:
 *  metafor's drop00 rule, (ai == 0 & ci == 0) | (bi == 0 & di == 0).  The
 *  project applies it by default (issue 2; metafor's rma.mh()/rma.peto()
 *  default); metafor's escalc() and rma() keep such tables with the 1/2
 *  added (drop00 = FALSE): mp_es_opts.drop00 = 0 does that, by calling this
 *  function on the adjusted counts.  RD keeps these tables (with the 1/2 added).
 *  With n1 = a + b, n2 = c + d, p1 = a/n1, p2 = c/n2 after the adjustment:
 *  OR: yi = log(a/b) - log(c/d),  vi = 1/a + 1/b + 1/c + 1/d;
 *  RR: yi = log(p1) - log(p2),    vi = 1/a - 1/n1 + 1/c - 1/n2;
 *  RD: yi = p1 - p2,              vi = p1 (1-p1)/n1 + p2 (1-p2)/n2;
 *  PETO (Peto's one-step log odds ratio, Yusuf et al. 1985; escalc "PETO",
 *  1/2 added as above): with xt = a + c, yt = b + d, N = n1 + n2,
 *  E = xt n1/N, V = xt yt (n1/N)(n2/N)/(N - 1):  yi = (a - E)/V, vi = 1/V
 *  (zero-event tables as for OR).
 *  Returns MP_OK, MP_EDOM (negative count, empty arm, zero-event table for
 *  OR/RR/PETO) or MP_EINVAL (m not OR, RR, RD or PETO). */
MP_EXPORT mp_status mp_es_2x2(mp_measure m, double a, double b, double c, double d, double *yi,
                              double *vi);

/** Single-group proportions (metafor's escalc, vtype "LS"): x events out
 *  of n (0 <= x <= n, n > 0).  PR, PLN and PLO add 1/2 to x and to n - x
 *  when either is 0 (add = 1/2, to = "only0"; n grows by 1); PAS and PFT
 *  add nothing (metafor's default add = 0 for them).  p = x/n:
 *  PR: yi = p, vi = p(1-p)/n;  PLN: yi = log p, vi = 1/x - 1/n;
 *  PLO: yi = log(p/(1-p)), vi = 1/x + 1/(n-x);
 *  PAS: yi = asin(sqrt p), vi = 1/(4n);
 *  PFT: yi = (asin(sqrt(x/(n+1))) + asin(sqrt((x+1)/(n+1))))/2, vi = 1/(4n+2)
 *  (Freeman & Tukey 1950).  MP_EDOM outside the domain, MP_EINVAL for another measure. */
MP_EXPORT mp_status mp_es_prop(mp_measure m, double x, double n, double *yi, double *vi);
/** Correlations: COR: yi = r, vi = (1 - r^2)^2/(n - 1); ZCOR: yi = atanh r,
 *  vi = 1/(n - 3) (Fisher 1921).  |r| <= 1 and n > 1 (ZCOR: n > 3, and |r| < 1),
 *  else MP_EDOM. */
MP_EXPORT mp_status mp_es_cor(mp_measure m, double r, double n, double *yi, double *vi);
/** Incidence rates: x events in person-time t (x >= 0, t > 0).  IR and
 *  IRLN add 1/2 to x = 0 (add = 1/2, to = "only0"); IRS and IRFT add
 *  nothing.  ir = x/t:  IR: yi = ir, vi = ir/t;  IRLN: yi = log ir, vi = 1/x;
 *  IRS: yi = sqrt(ir), vi = 1/(4t);  IRFT: yi = (sqrt(ir) + sqrt(ir + 1/t))/2,
 *  vi = 1/(4t). */
MP_EXPORT mp_status mp_es_ir(mp_measure m, double x, double t, double *yi, double *vi);
/** Two incidence rates: IRR: yi = log(x1/t1) - log(x2/t2), vi = 1/x1 + 1/x2;
 *  IRD: yi = x1/t1 - x2/t2, vi = x1/t1^2 + x2/t2^2.  1/2 added to both
 *  counts when either is 0 (metafor's default).  Both zero: IRR gives
 *  MP_EDOM as the 2x2 ratios (the caller decides: drop00); IRD is kept. */
MP_EXPORT mp_status mp_es_irr(mp_measure m, double x1, double t1, double x2, double t2,
                              double *yi, double *vi);
/** Paired design (means m1, m2 and SDs at two occasions, n pairs, their
 *  correlation r; metafor's escalc, Becker 1988, Morris 2000), J = c(n - 1):
 *  MC: yi = m1 - m2, vi = (sd1^2 + sd2^2 - 2 r sd1 sd2)/n;
 *  SMCC: sdd = sqrt(sd1^2 + sd2^2 - 2 r sd1 sd2), yi = J (m1 - m2)/sdd,
 *        vi = 1/n + yi^2/(2n);
 *  SMCR: yi = J (m1 - m2)/sd1, vi = 2(1 - r)/n + yi^2/(2n) (sd2 unused).
 *  |r| <= 1, n > 0 (SMCC/SMCR: n > 2), SDs >= 0, and a positive variance
 *  of the difference for SMCC, sd1 > 0 for SMCR; else MP_EDOM. */
MP_EXPORT mp_status mp_es_paired(mp_measure m, double m1, double m2, double sd1, double sd2,
                                 double n, double r, double *yi, double *vi);
/** A ratio with its CI on the ratio scale (as papers print it): yi = log
 *  est, vi = ((log ub - log lb)/(2 z))^2 with z the normal quantile of the
 *  level (later metafor's conv.wald).  est, lb, ub > 0 and ub > lb, else MP_EDOM. */
MP_EXPORT mp_status mp_es_ratio_ci(double est, double lb, double ub, double z, double *yi,
                                   double *vi);

/** Options for computing effect sizes from a table. */
typedef struct mp_es_opts {
    mp_measure measure;    /**< requested measure; GEN = use yi as given */
    int measure_given;     /**< 0 if the user did not choose (auto-detect) */
    mp_smd_vtype vtype;    /**< SMD variance convention */
    double level;          /**< confidence level in percent, for yi + ci_lb/ci_ub input */
    int drop00;            /**< 0: keep OR/RR/PETO/IRR tables without events (or without
                                non-events) in both arms with 1/2 added to every cell, as
                                metafor's escalc() and rma() do by default [0] (a note per
                                row); 1: leave them out (RevMan's and meta's rule) */
} mp_es_opts;

/** Defaults: GEN (auto), LS variances, level 95, drop00 0. */
MP_EXPORT void mp_es_opts_init(mp_es_opts *o);

/** How the effect sizes were obtained. */
typedef enum mp_es_source {
    MP_SRC_YI_VI = 0, MP_SRC_YI_SEI, MP_SRC_YI_CI, MP_SRC_YI_N, MP_SRC_MEANS, MP_SRC_COUNTS,
    MP_SRC_PROP,     /**< xi, ni */
    MP_SRC_COR,      /**< ri, ni */
    MP_SRC_IR,       /**< xi, ti */
    MP_SRC_RATES,    /**< x1i, t1i, x2i, t2i */
    MP_SRC_PAIRED,   /**< m1i, m2i, sd1i, sd2i, ni, ri */
    MP_SRC_RATIO_CI  /**< yi, ci_lb, ci_ub on the ratio scale (logs taken) */
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
    double *cells;         /**< 4 n raw numbers per row for Mantel-Haenszel and Peto pooling
                                (MP_SRC_COUNTS: a, b, c, d; MP_SRC_RATES: x1, t1, x2, t2;
                                NaN where the row is left out), else NULL */
    double *size;          /**< n sample sizes (PFT: ni) or person-times (IRFT: ti) for the
                                harmonic-mean back-transformation, else NULL */
    unsigned char *zero00; /**< n flags for 2x2 (or rate) tables without events (or
                                non-events) in both arms: 1 kept with 1/2 added, 2 left out
                                as not estimable (drop00); 0 otherwise; NULL for other data */
    unsigned char *corrected; /**< n flags: 1 where the row's table had 1/2 added to every
                                   cell (a zero cell; metafor's add = 1/2, to = "only0"), so
                                   that reports can mark it; rows left out have used[i] = 0 */
} mp_effects;

/** Compute yi and vi for every row of `t`, finding columns by metafor's
 *  names (yi, vi, sei, ci_lb, ci_ub, n1i, n2i, m1i, sd1i, m2i, sd2i, ai,
 *  bi, ci, di, ni, ri, xi, ti, x1i, t1i, x2i, t2i).  With --measure OR, RR,
 *  HR or IRR, yi + ci_lb + ci_ub are a ratio and its CI (logs taken, see
 *  mp_es_ratio_ci); PR..PFT read xi, ni; COR, ZCOR ri, ni; IR..IRFT xi, ti;
 *  IRR, IRD x1i, t1i, x2i, t2i; MC, SMCC, SMCR m1i, m2i, sd1i, sd2i, ni, ri
 *  (SMCR without sd2i).  Otherwise (first match wins):
 *  yi+vi; yi+sei (vi = sei^2); yi+ci_lb+ci_ub (vi = ((ub - lb) / (2 z))^2,
 *  z the normal quantile of `level`); yi+n1i+n2i (SMD; auto or --measure
 *  SMD); m1i,sd1i,n1i,m2i,sd2i,n2i (SMD, MD, ROM); ai,bi,ci,di (OR, RR,
 *  RD), where n1i may stand for bi and n2i for di (bi = n1i - ai).
 *
 *  Missing values and bad cells -- the rule:
 *  - a required cell holding exactly NA (blanks around allowed, see
 *    mp_table_is_na()) leaves its row out with a warning naming the row
 *    and line: "row 3 (line 4) left out: missing value (NA) in column 'vi'";
 *  - an EMPTY required cell is an error (MP_EPARSE "empty cell where a
 *    number is required"): in a hand-made file an empty cell is more often
 *    a slip (a lost value, a shifted column) than an intended gap, so the
 *    user must say NA to leave a row out on purpose (R's read.csv() would
 *    turn both into NA; we are stricter by design);
 *  - non-numeric, NaN/Inf, out-of-range cells, vi or sei <= 0, n <= 0,
 *    sd < 0, both SDs 0 (no positive variance), negative counts, ai > n1i (ci > n2i) when the sizes are given,
 *    ci_ub <= ci_lb: MP_EPARSE with `err` naming file, line and column of
 *    the offending cell;
 *  - a zero-event table for OR/RR (see mp_es_2x2()) leaves the row out
 *    with a warning naming it;
 *  - an SD of 0 in one arm is kept, as metafor's escalc() keeps it, with a
 *    warning naming the row ("row 2 (line 3): column 'sd1i' is 0: ...").
 *  A missing required column gives MP_EINVAL (err names the file and the
 *  missing columns).  Rows left out have used[i] = 0 and yi/vi NaN.
 *  Returns MP_OK, MP_EINVAL (also: `level` not in (0, 100) with CI input),
 *  MP_EPARSE or MP_ENOMEM; on failure nothing is
 *  left allocated in `out` (its arrays are NULL).
 *  Allocates; free with mp_effects_free(). */
MP_EXPORT mp_status mp_effects_compute(const mp_table *t, const mp_es_opts *o, mp_effects *out,
                                       mp_error *err);

/** The column check of mp_effects_compute() alone: MP_OK if the header of
 *  `t` has the columns the effect sizes need (rows are not looked at), else
 *  MP_EINVAL with `err` naming the missing columns, as mp_effects_compute()
 *  would.  Meant for mp_table_read_checked()'s header check. */
MP_EXPORT mp_status mp_effects_check_columns(const mp_table *t, const mp_es_opts *o,
                                             mp_error *err);

/** Free the arrays of `e` and its warnings. NULL-safe. */
MP_EXPORT void mp_effects_free(mp_effects *e);

/** Which arm-level data a table has, for reports (RevMan's columns beside
 *  each study). */
typedef enum mp_arm_kind {
    MP_ARMS_NONE = 0, /**< none */
    MP_ARMS_COUNTS,   /**< 2x2 data: events and total per arm (ai, bi, ci, di or ai, n1i, ci, n2i) */
    MP_ARMS_MEANS,    /**< mean, SD and size per arm (m1i, sd1i, n1i, m2i, sd2i, n2i) */
    MP_ARMS_PROP      /**< one group: events and size (xi, ni) */
} mp_arm_kind;

/** Numbers per row of mp_arms.v. */
#define MP_ARM_NV 6

/** Arm-level data of every row of a table. */
typedef struct mp_arms {
    mp_arm_kind kind;  /**< MP_ARMS_NONE when the table has no such columns */
    size_t n;          /**< rows of the table */
    double *v;         /**< MP_ARM_NV n numbers, row i at v + MP_ARM_NV i: COUNTS events1,
                            total1, events2, total2; MEANS m1, sd1, n1, m2, sd2, n2; PROP x, n;
                            NaN for NA cells and unused slots; NULL for NONE */
} mp_arms;

/** The arm-level data of `t` (whose effect sizes are `e`): the columns the
 *  effect sizes came from (2x2 counts, or means, SDs and sizes), else the
 *  first complete set present (counts, then means, then xi and ni), so a
 *  file of yi and vi that keeps the raw columns shows them too.  Totals of
 *  2x2 data are ai + bi (or n1i) and ci + di (or n2i).  Cells holding NA
 *  (or empty) are NaN.  MP_OK (out->kind may be NONE), MP_EPARSE with err at the cell
 *  when a column not used for the effect sizes holds a non-number, or
 *  MP_ENOMEM; free with mp_arms_free(). */
MP_EXPORT mp_status mp_effects_arms(const mp_table *t, const mp_effects *e, mp_arms *out,
                                    mp_error *err);
/** Free the numbers of `a`. NULL-safe. */
MP_EXPORT void mp_arms_free(mp_arms *a);

#ifdef __cplusplus
}
#endif
#endif /* MP_ESCALC_H */
