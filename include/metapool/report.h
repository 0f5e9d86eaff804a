/* include/metapool/report.h - the reporter: forest-plot table, CSV, JSON, SVG, methods text.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The last stage of the engine (loader -> effects -> models -> report).  A
 * report is a set of pooled analyses (one, or one per subgroup plus the
 * overall one) with the per-study data they were fitted to; the functions
 * below write it as the forest-plot table a reader sees, as CSV and JSON a
 * script parses, as an SVG forest plot, and as a methods paragraph naming
 * every convention.  The layout follows metafor's forest() (studies, their
 * CIs, the pooled diamond, the prediction interval) on the scale people read
 * (exp() for log ratio measures unless transf = 0).
 *
 * The reporter writes only to the FILE or path it is given; it never prints
 * elsewhere and never exits.  Nothing here allocates beyond the call. */
#ifndef MP_REPORT_H
#define MP_REPORT_H

#include <stddef.h>
#include <stdio.h>
#include "status.h"
#include "escalc.h"
#include "pool.h"
#include "traj.h"
#include "reg.h"
#include "robust.h"
#include "design.h"
#include "mh.h"
#include "bias.h"
#include "gosh.h"
#include "permute.h"

#ifdef __cplusplus
extern "C" {
#endif

/** How a report is laid out.  mp_report_opts_init() sets the defaults. */
typedef struct mp_report_opts {
    mp_pool_opts pool;   /**< the model the analyses were fitted with (method, test, level) */
    double es_level;     /**< level (percent) of CI input columns (yi, ci_lb, ci_ub) [95] */
    const char *by;      /**< name of the grouping column, or NULL for one analysis */
    int width;           /**< table width in columns; 0 = the terminal's, else 80 */
    int digits;          /**< decimals shown [2] */
    int ascii;           /**< 1: plain ASCII; 0: UTF-8 box drawing and symbols */
    int transf;          /**< 1: results shown on the scale people read (exp for log ratios,
                                  inverse logit for PLO, r for ZCOR, ...: mp_measure_transf) [1];
                                  0: as analysed */
    int color;           /**< 1: ANSI colours (the caller decides, e.g. from isatty and NO_COLOR) */
    int drop00;          /**< the mp_es_opts.drop00 the effects were computed with (methods text) */
    const char *arm_label[2]; /**< names of the two groups heading the arm-level columns
                                   ["Treatment", "Control"] */
    const char *favours[2];   /**< texts under the left and the right side of the axis
                                   ("Favours ketamine"), or NULL for none */
    const char *xlab;         /**< axis title; NULL = named after the measure */
    const char *title;        /**< title above the plot and the table, or NULL */
    double dpi;               /**< resolution of PNG pictures [MP_REPORT_DPI] */
} mp_report_opts;

/** Defaults: metafor's REML/z/95 %, 2 decimals, UTF-8, back-transformed, no colour. */
MP_EXPORT void mp_report_opts_init(mp_report_opts *o);

/** One pooled analysis as the reporter shows it.  The arrays are borrowed. */
typedef struct mp_report_analysis {
    const char *group;     /**< subgroup value, NULL for an ungrouped or the overall analysis */
    size_t k;              /**< studies */
    const char **label;    /**< k study labels */
    const double *yi;      /**< k effects (analysis scale: log for ratio measures) */
    const double *vi;      /**< k sampling variances */
    double *weight;        /**< k weights in percent under the model (mp_pool_weights) */
    mp_pool_result fit;    /**< the requested model */
    mp_pool_result fe;     /**< the fixed-effect fit (the table's FE row) */
    mp_status status;      /**< status of fit; only MP_OK analyses are drawn */
    const mp_mh_result *mh; /**< with Mantel-Haenszel or Peto pooling (mp_report.pooling): its
                                 tests (CMH, Tarone, ...); fit then holds its estimate, se, CI,
                                 Q, I2, H2 (mp_mh_to_pool); NULL otherwise */
    /* optional, NULL/0 when absent: */
    const double *arm;     /**< k rows of MP_ARM_NV arm-level numbers (mp_arms.v layout, kind
                                mp_report.arms), shown beside each study */
    const unsigned char *corrected; /**< k flags: 1 = 1/2 was added to the study's table */
    size_t n_ne;           /**< studies left out of this analysis ("not estimable": no events
                                in both arms with drop00, missing values), shown as rows */
    const char **ne_label; /**< n_ne labels */
    const double *ne_arm;  /**< n_ne rows of MP_ARM_NV arm-level numbers, or NULL */
    const size_t *ne_before; /**< n_ne positions in input order: row j comes before study
                                  ne_before[j] (k = after the last); nondecreasing */
} mp_report_analysis;

/** A whole report: one analysis, or one per subgroup plus the overall one. */
typedef struct mp_report {
    const char *file;            /**< input name (shown in the methods text) */
    mp_measure measure;          /**< effect measure of yi */
    mp_smd_vtype vtype;          /**< variance convention of Hedges' g */
    mp_es_source source;         /**< where yi and vi came from */
    const mp_report_opts *opt;   /**< layout and model options (not NULL) */
    mp_report_analysis *a;       /**< n analyses: one, or one per subgroup */
    size_t n;                    /**< number of analyses in a */
    mp_report_analysis *overall; /**< with subgroups: all studies together; else NULL */
    int has_subgroup_test;       /**< 1 when sub_Q, sub_df, sub_p hold the test */
    int tau2_common;             /**< 1: subgroups share one tau^2 (metafor's mods = ~ factor(g));
                                      the test is that model's QM */
    double sub_Q, sub_df, sub_p; /**< test for subgroup differences (Q, df, p) */
    const mp_msgs *warnings;     /**< warnings to list in JSON (may be NULL) */
    mp_mh_method pooling;        /**< MP_MH_NONE (inverse variance), MP_MH_MH or MP_MH_PETO */
    double transf_hm;            /**< harmonic mean of the ni (PFT) or ti (IRFT) of all studies,
                                      for the back-transformation (metafor's transf.ipft.hm);
                                      0 when not needed */
    mp_arm_kind arms;            /**< kind of the analyses' arm arrays (MP_ARMS_NONE: none) */
} mp_report;

/** The forest-plot table (studies, CIs drawn as text, weights, the FE and
 *  RE rows, the prediction interval, heterogeneity lines). */
MP_EXPORT void mp_report_table(FILE *f, const mp_report *r);
/** One CSV row per study and per pooled result (columns in the header). */
MP_EXPORT void mp_report_csv(FILE *f, const mp_report *r);
/** The contract's JSON object of `metapool pool` (one analysis, or the
 *  "by"/"groups"/"overall"/"subgroup_test" form), with r->warnings as
 *  "warnings".  `extra`, when not NULL, is written as further members: it
 *  is called after the last standard key with the stream positioned for a
 *  ",\n  \"key\": value" continuation, and ctx passed through. */
MP_EXPORT void mp_report_json(FILE *f, const mp_report *r,
                              void (*extra)(FILE *f, void *ctx), void *ctx);
/** The forest plot to `path`, as SVG, PNG or PDF by the path's extension
 *  (see mp_report_render; PNG at r->opt->dpi).  MP_OK, MP_EIO (errno tells
 *  why) or mp_report_render's other statuses. */
MP_EXPORT mp_status mp_report_svg(const char *path, const mp_report *r);
/** The SVG forest plot as a string (caller frees *svg); MP_OK or MP_ENOMEM. */
MP_EXPORT mp_status mp_report_svg_string(const mp_report *r, char **svg, size_t *len);

/* ---- pictures: SVG, PNG and PDF from one SVG drawing ----
 *
 * Every plot is drawn as SVG; mp_report_render() writes it in the format the
 * output file's name asks for.  Plot writers (forest, trajectory, funnel,
 * Baujat, bubble, GOSH) build the SVG in memory (open_memstream) and pass it
 * here, so --plot FILE.png and FILE.pdf work the same for every command. */

/** Picture formats, from the output file's extension. */
typedef enum mp_plot_format {
    MP_PLOT_UNKNOWN = 0, /**< none of the below */
    MP_PLOT_SVG,         /**< .svg: the drawing itself */
    MP_PLOT_PNG,         /**< .png: rendered at a resolution (dpi) */
    MP_PLOT_PDF          /**< .pdf: one page, vectors and text kept */
} mp_plot_format;

/** Default resolution of PNG pictures (dots per inch; SVG px are 1/96 in). */
#define MP_REPORT_DPI 150.0
/** Largest PNG in pixels (width times height; 256 MB of pixels). */
#define MP_REPORT_MAXPX (64.0 * 1024 * 1024)

/** The format named by path's extension (case-insensitive). */
MP_EXPORT mp_plot_format mp_report_plot_format(const char *path);
/** 1 when this library was built with librsvg and cairo (PNG and PDF
 *  output), 0 when only SVG is available. */
MP_EXPORT int mp_report_render_available(void);
/** Write the SVG document svg[0..len) to out_path in the format of its
 *  extension: SVG as it is; PNG rendered by librsvg at `dpi` (0 = the
 *  default MP_REPORT_DPI; 10 to 2400) with the document's width and height
 *  in px at 96 per inch; PDF as one page of the same size (1 px = 0.75 pt).
 *  MP_OK; MP_EINVAL for an unknown extension, for PNG/PDF without librsvg
 *  (mp_report_render_available() = 0) or an SVG without a size; MP_EPARSE
 *  for a document librsvg cannot read; MP_EDOM for a dpi out of range or a
 *  PNG larger than 32767 px a side or MP_REPORT_MAXPX in all; MP_EIO when the file cannot be written (errno says
 *  why; nothing is left under out_path). */
MP_EXPORT mp_status mp_report_render(const char *svg, size_t len, const char *out_path,
                                     double dpi);
/** The same from an SVG file. */
MP_EXPORT mp_status mp_report_render_file(const char *svg_path, const char *out_path,
                                          double dpi);
/** A methods paragraph for a paper naming the measure, estimator, test,
 *  conventions and references. */
MP_EXPORT void mp_report_methods(FILE *f, const mp_report *r);

/** The trajectory plot: per-window pooled estimates win[0..n_times)
 *  with CIs, the fitted curve with its band, the line of no effect, a
 *  log-time axis labelled in `unit` (NULL = unitless); SVG, PNG (at the
 *  default MP_REPORT_DPI) or PDF by the extension of path (mp_report_render;
 *  mp_report_traj_plot takes the dpi).  MP_OK or as mp_report_render. */
MP_EXPORT mp_status mp_report_traj_svg(const char *path, const mp_traj_result *r,
                                       const mp_pool_result *win, const char *unit,
                                       const char *title);
/** mp_report_traj_svg with the PNG resolution `dpi` (0 = MP_REPORT_DPI). */
MP_EXPORT mp_status mp_report_traj_plot(const char *path, const mp_traj_result *r,
                                        const mp_pool_result *win, const char *unit,
                                        const char *title, double dpi);
/** Readable label of time t given in `unit` (min, h, d, w, months, y; NULL =
 *  the number as it is), e.g. 0.67 h -> "40 min".  MP_OK, or MP_EINVAL for an
 *  unknown unit. */
MP_EXPORT mp_status mp_report_time_label(double t, const char *unit, char *buf, size_t n);

/* ---- meta-regression (metapool reg) ---- */

/** The coefficient table as metafor prints a model with moderators:
 *  heterogeneity (tau^2, I^2, H^2, R^2), QE, QM and the coefficients with
 *  `digits` decimals and significance codes; d names the coefficients. */
MP_EXPORT void mp_report_reg_table(FILE *f, const mp_design *d, const mp_reg_result *r,
                                   int digits);
/** One CSV row per coefficient. */
MP_EXPORT void mp_report_reg_csv(FILE *f, const mp_design *d, const mp_reg_result *r);
/** The contract's JSON object of `metapool reg` with `w` as "warnings". */
MP_EXPORT void mp_report_reg_json(FILE *f, mp_measure measure, const mp_design *d,
                                  const mp_reg_result *r, const mp_msgs *w);
/** The same with a permutation test (perm may be NULL): coef[].pval_perm,
 *  "QM_pval_perm", "permutations", "exact" (metafor's permutest()). */
MP_EXPORT void mp_report_reg_json_perm(FILE *f, mp_measure measure, const mp_design *d,
                                       const mp_reg_result *r, const mp_msgs *w,
                                       const mp_perm_result *perm);

/* ---- all subsets (metapool gosh) ---- */

/** The contract's JSON object of `metapool gosh`: k, method, subsets,
 *  exhaustive, estimate and I2 summaries, per-study means (labels[j] names
 *  study j), plus "failed", "quantiles" ("exact" or "histogram") with
 *  "quantile_error" bounds, and `w` as "warnings". */
MP_EXPORT void mp_report_gosh_json(FILE *f, const mp_gosh_result *r, const char *const *labels,
                                   const mp_msgs *w);
/** The summaries and per-study means as a text table with `digits` decimals. */
MP_EXPORT void mp_report_gosh_table(FILE *f, const mp_gosh_result *r, const char *const *labels,
                                    int digits);
/** Estimate against I^2 as a hexagonal-bin density (log-scaled shading)
 *  from the run's grid (r->sum.grid; mp_gosh_opts grid_nx/ny must have been
 *  set); with r->sum.grid_hl, each hexagon is coloured by the share of its
 *  subsets that include the highlighted study (labels[highlight]).  `ylab`
 *  names the estimate axis.  MP_OK, MP_EINVAL (no grid), MP_EIO. */
MP_EXPORT mp_status mp_report_gosh_svg(const char *path, const mp_gosh_result *r,
                                       const char *const *labels, const char *ylab);

/** What `reg` may add to its JSON, table and CSV (NULL pointers / zero
 *  counts leave a part out): cluster-robust inference, a multilevel model's
 *  variance components, predictions. */
typedef struct mp_report_reg_extra {
    const char *vcov;          /**< "CR1" or "CR2" (robust inference), or NULL */
    size_t n_clusters;         /**< clusters of the robust inference */
    const double *coef_df;     /**< p df per coefficient (robust), or NULL */
    double QM_ddf;             /**< denominator df of the robust QM (F test) */
    const double *sigma2;      /**< ncomp variance components (multilevel), or NULL */
    const char *const *sigma2_names; /**< their names */
    const size_t *n_levels;    /**< their numbers of levels */
    size_t ncomp;
    double logLik;             /**< multilevel: (restricted) log-likelihood */
    const double *sigma2_ci_lb, *sigma2_ci_ub; /**< profile-likelihood CIs of sigma2, or NULL */
    const char *random;        /**< multilevel: the --random SPEC */
    const mp_reg_pred *pred;   /**< predictions, or NULL */
    const char *const *pred_names; /**< names of the echoed moderator columns */
    const char *const *pred_cells; /**< pred->n x npred_names cells, row-major */
    size_t npred_names;
    int transf;                /**< 1: the table shows predictions exp()'d (log ratio measures) */
    const mp_perm_result *perm; /**< permutation tests (--permutations), or NULL */
} mp_report_reg_extra;

/** mp_report_reg_json() with the parts of `x` (may be NULL). */
MP_EXPORT void mp_report_reg_json_ex(FILE *f, mp_measure measure, const mp_design *d,
                                     const mp_reg_result *r, const mp_report_reg_extra *x,
                                     const mp_msgs *w);
/** mp_report_reg_csv() with the per-coefficient df of `x` (may be NULL). */
MP_EXPORT void mp_report_reg_csv_ex(FILE *f, const mp_design *d, const mp_reg_result *r,
                                    const mp_report_reg_extra *x);
/** mp_report_reg_table() with the parts of `x` (may be NULL). */
MP_EXPORT void mp_report_reg_table_ex(FILE *f, const mp_design *d, const mp_reg_result *r,
                                      const mp_report_reg_extra *x, int digits);

/** `pool --random`: the intercept-only multilevel model as a pool-like JSON
 *  object (estimate, se, stat, pval, ci, pi, sigma2, sigma2_names,
 *  n_levels, logLik, QE with Q aliases); r holds the one coefficient, pi the
 *  prediction interval (may be NULL). */
MP_EXPORT void mp_report_mv_pool_json(FILE *f, mp_measure measure, const mp_reg_result *r,
                                      const mp_report_reg_extra *x, const mp_reg_pred *pi,
                                      const mp_msgs *w);
/** The table of `pool --random` (variance components, QE, the estimate,
 *  back-transformed when transf is set in x). */
MP_EXPORT void mp_report_mv_pool_table(FILE *f, const mp_reg_result *r,
                                       const mp_report_reg_extra *x, const mp_reg_pred *pi,
                                       int digits);

/** Bubble plot of `reg --plot FILE.svg` (metafor's regplot()): the effects
 *  against the one column the formula reads (mp_design_axis()), circle area
 *  proportional to the weight 1/(v + tau2), the fitted line with its
 *  confidence band (predictions with beta, vb, crit from df: NaN = normal)
 *  or, for a factor, the group means with their CIs; t is the table the
 *  design was built from; transf labels the effect axis on the exp scale;
 *  rb (or NULL): a robust fit whose covariance and per-point df the band
 *  uses (mp_robust_predict()).
 *  The picture's format is path's extension (.svg, or .png/.pdf rendered
 *  by mp_report_render at MP_REPORT_DPI).
 *  MP_OK; MP_EINVAL (no single column to plot against: err says why; an
 *  unknown extension); MP_EIO (cannot write); MP_ENOMEM. */
MP_EXPORT mp_status mp_report_reg_bubble(const char *path, const mp_table *t, const mp_design *d,
                                         const double *beta, const double *vb, double level,
                                         double df, double tau2, int transf,
                                         const mp_robust_result *rb, mp_error *err);

/* ---- time trajectories (metapool trajectory) ---- */

/** The trajectory table: fixed effects, between-study structure, the
 *  separate analyses per time win[0..r->n_times) (status wst) beside the
 *  joint model, onset/peak/offset; times labelled in `unit` (NULL = as
 *  numbers), `time_col` names the time column, `digits` decimals. */
MP_EXPORT void mp_report_traj_table(FILE *f, const char *file, const char *time_col,
                                    const char *unit, int digits, const mp_traj_result *r,
                                    const mp_pool_result *win, const mp_status *wst);
/** The contract's JSON object of `metapool trajectory`, with "windows" (the
 *  separate analyses) and `warn` as "warnings". */
MP_EXPORT void mp_report_traj_json(FILE *f, const mp_traj_result *r, const mp_pool_result *win,
                                   const mp_status *wst, const mp_msgs *warn);

/* ---- small-study effects (metapool bias) ---- */

/** What `metapool bias` found: each method's result and status (a result
 *  pointer may be NULL when the method was not run).  Borrowed arrays. */
typedef struct mp_bias_report {
    const char *file;               /**< input name */
    mp_measure measure;             /**< effect measure of yi */
    const mp_report_opts *opt;      /**< model options (method, test, level), digits, transf */
    size_t k;                       /**< studies */
    const double *yi, *vi;          /**< the k effects and variances */
    const mp_pool_result *fit;      /**< the model the tests refer to */
    mp_status egger_st, rank_st, tf_st, fsn_st, pet_st, peese_st, sel_st; /**< MP_OK = result valid */
    const mp_egger_result *egger;
    const mp_rank_result *rank;
    const mp_trimfill_result *tf;
    const mp_fsn_result *fsn;
    const mp_wls_result *pet, *peese;
    const mp_selmodel_result *sel;
    const mp_msgs *warnings;        /**< listed in JSON and the table (may be NULL) */
} mp_bias_report;

/** One block per method, each with a one-line reading ("Egger's test: z =
 *  2.11, p = 0.035 - funnel asymmetry"). */
MP_EXPORT void mp_report_bias_table(FILE *f, const mp_bias_report *b);
/** The contract's JSON object of `metapool bias` ("egger", "rank",
 *  "trimfill", "fsn", "pet", "peese", "selmodel"; null for a method that
 *  could not be computed, with the reason in "warnings"). */
MP_EXPORT void mp_report_bias_json(FILE *f, const mp_bias_report *b);
/** CSV in long form: method,key,value (one row per number). */
MP_EXPORT void mp_report_bias_csv(FILE *f, const mp_bias_report *b);
/** The funnel plot (SVG) to `path`: effect against standard error (0 at the
 *  top), the pooled estimate with its pseudo-confidence region, the studies
 *  as filled points and trim-and-fill's imputed studies as open points;
 *  `contours` shades the regions where a study's two-sided p-value against
 *  0 lies in (0.05, 0.10], (0.01, 0.05] and below 0.01 (Peters et al. 2008).
 *  MP_OK, or MP_EIO (errno tells why). */
MP_EXPORT mp_status mp_report_funnel_svg(const char *path, const mp_bias_report *b, int contours);

/* ---- writing helpers shared by every JSON/CSV writer ---- */

/** A JSON number: the shortest of %.15g..%.17g that reads back exactly; null
 *  for NaN and infinities. */
MP_EXPORT void mp_json_num(FILE *f, double x);
/** A JSON string with escapes (NULL writes ""). */
MP_EXPORT void mp_json_str(FILE *f, const char *s);
/** A JSON array of the strings in w (NULL writes []). */
MP_EXPORT void mp_json_strings(FILE *f, const mp_msgs *w);
/** A CSV field, quoted (RFC 4180) when it holds delim, a quote or a line break. */
MP_EXPORT void mp_csv_field(FILE *f, const char *s, char delim);

/* ---- reproduction check (--compare): published numbers beside ours ----
 *
 * The published file is a CSV with the columns estimate, ci_lb, ci_ub
 * (required; cells may be empty when the paper did not print the number),
 * and optionally p, group and source; other columns are ignored.  A number
 * matches when ours, rounded to the decimals it was printed with, equals it
 * (both sides compared as correctly rounded decimal strings, so -0.7145
 * reproduces "-0.71" and "-0.7145" but not "-0.72").  A p given as an
 * inequality ("<0.001", "p < .05", ">=0.05", "≤0.01") matches when ours
 * satisfies it.  Estimates and CI bounds are compared on the scale the
 * paper used: exp() for OR, RR and ROM unless transf = 0.
 *
 * Rows and groups: with subgroups, a row's `group` names the subgroup
 * (matched as text, or as numbers when both are numeric, so "24" = "24.0");
 * an empty group means the overall analysis.  A group that is not in the
 * data gets the verdict "no such group" and counts as not reproduced, so a
 * published table that covers more time points than the data still prints
 * a full check.  Without subgroups, a row with a group is an error. */

typedef struct mp_compare_table mp_compare_table;   /**< published rows (opaque) */
typedef struct mp_compare_result mp_compare_result; /**< verdicts (opaque) */

/** Load and validate a published-results CSV.  MP_OK and a table in *out
 *  (free with mp_compare_free), or MP_EPARSE/MP_EIO/MP_ENOMEM with err
 *  naming file:line:col (a missing column, a cell that is neither empty nor
 *  a number, nor for p an inequality, or a row with nothing to check). */
MP_EXPORT mp_status mp_compare_load(const char *path, mp_compare_table **out, mp_error *err);
/** Free a published table.  NULL-safe. */
MP_EXPORT void mp_compare_free(mp_compare_table *t);
/** Judge the results in r against every published row.  MP_OK and the
 *  verdicts in *out (free with mp_compare_result_free; they outlive t), or
 *  MP_EINVAL (a row with a group but no subgroups; err says which line) or
 *  MP_ENOMEM. */
MP_EXPORT mp_status mp_compare_eval(const mp_compare_table *t, const mp_report *r,
                                    mp_compare_result **out, mp_error *err);
/** The JSON "compare" object (no trailing newline): {"file", "scale",
 *  "reproduced", "n_numbers", "n_matched", "rows": [{"group", "source",
 *  "line", "key", "published", "ours", "rounded", "match", "verdict"}]}. */
MP_EXPORT void mp_compare_json(FILE *f, const mp_compare_result *c);
/** The reproduction table (published | ours | verdict per number) and an
 *  overall verdict line, for printing after the forest table. */
MP_EXPORT void mp_compare_print(FILE *f, const mp_compare_result *c, const mp_report *r);
/** 1 when every published number was reproduced, else 0. */
MP_EXPORT int mp_compare_reproduced(const mp_compare_result *c);
/** Free verdicts.  NULL-safe. */
MP_EXPORT void mp_compare_result_free(mp_compare_result *c);

#ifdef __cplusplus
}
#endif

#endif
