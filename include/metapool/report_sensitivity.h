/* include/metapool/report_sensitivity.h - the reporter of leave1out, cumul and influence.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Tables, CSV, JSON and SVG plots of the sensitivity analyses of
 * sensitivity.h, in the layout of metafor's print methods and plots:
 * leave1out() and cumul() as a forest table (one row per refit, against
 * the fit of all studies) and forest plot (metafor's forest(cumul(...))),
 * influence() as its table with influential studies marked "*", baujat()
 * as a scatter plot.  Values are shown on the reader's scale (exp() for
 * log ratio measures unless opt->transf is 0), as report.h does.  Writes
 * only to the FILE or path given; never prints elsewhere, never exits. */
#ifndef MP_REPORT_SENSITIVITY_H
#define MP_REPORT_SENSITIVITY_H

#include <stdio.h>
#include "status.h"
#include "escalc.h"
#include "pool.h"
#include "sensitivity.h"
#include "report.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Which analysis the rows hold. */
typedef enum mp_sens_kind {
    MP_SENS_LEAVE1OUT = 0, /**< row i: all studies but label[i] ("omitted") */
    MP_SENS_CUMUL          /**< row j: the first j+1 studies, label[j] the one added ("added") */
} mp_sens_kind;

/** A leave-one-out or cumulative analysis as the reporter sees it. */
typedef struct mp_report_sens {
    const char *file;           /**< input name */
    mp_measure measure;         /**< effect measure */
    const mp_report_opts *opt;  /**< layout and model (method, test, level) */
    mp_sens_kind kind;          /**< leave-one-out or cumulative */
    size_t k;                   /**< rows (= studies) */
    const char **label;         /**< k labels: the study omitted / added */
    const mp_pool_result *rows; /**< k fits */
    const mp_status *status;    /**< k statuses (NULL: all MP_OK); failed rows are shown as NA */
    const mp_pool_result *full; /**< the fit of all studies (NULL: none) */
    const char *order;          /**< cumul: the --order column (NULL: file order) */
    int decreasing;             /**< cumul: 1 if ordered decreasingly */
    const mp_msgs *warnings;    /**< listed in JSON (may be NULL) */
} mp_report_sens;

/** The forest table: one line per row (label, estimate [CI], a text CI bar
 *  against the full estimate, p, tau^2, I^2, Q), then the full fit. */
MP_EXPORT void mp_report_sens_table(FILE *f, const mp_report_sens *r);
/** One CSV line per row: omitted|added,k,estimate,se,stat,df,pval,ci_lb,ci_ub,
 *  Q,Q_pval,tau2,I2,H2 (analysis scale); the full fit as a last line labelled
 *  "(all studies)" when r->full is set. */
MP_EXPORT void mp_report_sens_csv(FILE *f, const mp_report_sens *r);
/** The contract's JSON object: {"k", "method", "test", "level", "measure",
 *  "full": {...}, "rows": [{"omitted"|"added", "k", "estimate", "se", "stat",
 *  "df", "pval", "ci_lb", "ci_ub", "Q", "Q_pval", "tau2", "I2", "H2"}],
 *  "warnings"} (cumul adds "order" and "decreasing"). */
MP_EXPORT void mp_report_sens_json(FILE *f, const mp_report_sens *r);
/** The forest plot of the rows (SVG): one "study-marker" per row, the full
 *  fit as a "diamond", the line of no effect and a dashed line at the full
 *  estimate.  MP_OK or MP_EIO (errno tells why). */
MP_EXPORT mp_status mp_report_sens_svg(const char *path, const mp_report_sens *r);

/** Influence diagnostics as the reporter sees them. */
typedef struct mp_report_infl {
    const char *file;             /**< input name */
    const mp_report_opts *opt;    /**< digits, ascii, method/test for the title */
    const char **label;           /**< k study labels */
    const mp_influence *inf;      /**< the diagnostics (k, p) */
    const char *const *coef;      /**< p coefficient names (NULL: "intrcpt") */
    const mp_msgs *warnings;      /**< listed in JSON (may be NULL) */
} mp_report_infl;

/** metafor's print(influence(...)) layout: rstudent, dffits, cook.d, cov.r,
 *  tau2.del, QE.del, hat, weight, dfbs (one column per coefficient) and
 *  "*" for an influential study; a legend with the rule. */
MP_EXPORT void mp_report_infl_table(FILE *f, const mp_report_infl *r);
/** One CSV line per study: study,rstudent,...,weight,dfbetas_NAME...,
 *  influential,baujat_x,baujat_y. */
MP_EXPORT void mp_report_infl_csv(FILE *f, const mp_report_infl *r);
/** The contract's JSON object {"k", "p", "method", "test", "coef": [...],
 *  "rows": [{"study", "rstudent", "dffits", "cook_d", "cov_r", "tau2_del",
 *  "QE_del", "hat", "weight", "dfbetas": [...], "influential", "baujat_x",
 *  "baujat_y"}], "warnings"}. */
MP_EXPORT void mp_report_infl_json(FILE *f, const mp_report_infl *r);
/** The Baujat plot (SVG): x = contribution to heterogeneity, y = influence
 *  on the result, one "study-marker" with its label per study (influential
 *  ones filled red).  MP_OK or MP_EIO. */
MP_EXPORT mp_status mp_report_baujat_svg(const char *path, const mp_report_infl *r);

#ifdef __cplusplus
}
#endif
#endif /* MP_REPORT_SENSITIVITY_H */
