/* src/report/report_internal.h - helpers shared by the reporters (table, CSV, SVG, methods).
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Internal to the report stage (the .c files of src/report); not installed.
 * Values are kept on the analysis scale (log for OR, RR, ROM); rp_disp() maps them to the scale
 * shown to the reader (exp unless --transf none), as metafor's forest() does
 * with atransf = exp. */
#ifndef MP_REPORT_INTERNAL_H
#define MP_REPORT_INTERNAL_H

#include <stddef.h>
#include "metapool/report.h"
#include "internal.h"

/* 1 if the reporter shows exp() of the analysis-scale values (a ratio
 * measure and --transf not none). */
int rp_expo(const mp_report *r);
/* x on the displayed scale (exp(x) when rp_expo, else x). */
double rp_disp(const mp_report *r, double x);
/* The back-transformation the report applies (MP_TRANSF_NONE with --transf
 * none or for measures shown as analysed); rp_disp() applies it. */
mp_transf rp_transf(const mp_report *r);
/* Axis ticks for the report's scale: rp_make_ticks() for exp and none;
 * for the other transformations nice values on the displayed scale
 * (proportions, correlations, rates) placed at their analysis-scale
 * positions (the forward transformation). */
struct rp_ticks;
void rp_make_ticks_r(const mp_report *r, double lo, double hi, double len, double charw,
                     double gap, struct rp_ticks *t);
/* The note that says how results are shown ("shown as proportions (inverse
 * logit)"), or "" when shown as analysed. */
const char *rp_transf_note(const mp_report *r, char *buf, size_t n);
/* Axis title on the displayed scale ("Proportion", "Odds Ratio (log scale)"). */
const char *rp_axis_title(const mp_report *r, char *buf, size_t n);
/* The pooled row's label: "Mantel-Haenszel", "Peto" or "Fixed effect". */
const char *rp_fe_label(const mp_report *r);
/* Upper (1 - level/100)/2 normal quantile, the multiplier of the study CIs
 * (metafor's forest() and escalc summaries use z for the studies). */
double rp_zcrit(double level);
/* The requested model is a random-effects model (method != FE). */
/* The test the report names: the requested one, except for a single
 * analysis of one study, where knha is not possible and z was used. */
mp_test rp_test(const mp_report *r);
int rp_is_re(const mp_report_analysis *a);

/* The fixed-effect row as shown: a->fit for --method FE; otherwise a->fe,
 * except that a Hartung-Knapp
 * adjustment (which cmd_pool may carry over from --test knha) is undone:
 * the fixed-effect row uses the Wald z test with SE = 1/sqrt(sum w), as R's
 * meta does, since the adjustment is meant for random-effects models
 * (metafor warns about knha with FE). */
void rp_fe_view(const mp_report_analysis *a, mp_pool_result *out);

/* Axis limits on the analysis scale shared by every block of the report:
 * they hold all point estimates, pooled CIs, prediction intervals and the
 * no-effect value; study CIs widen them, but by no more than the span of
 * that core on each side (wider CIs are drawn clipped, with an arrow). */
void rp_range(const mp_report *r, double *lo, double *hi);

/* Axis ticks (analysis scale) and their labels (displayed scale).  `len` is
 * the axis length in some unit, `charw` the width of one label character in
 * that unit and `gap` the least room between neighbouring labels.  Ratio
 * scales (expo) use 1-2-5, then 0.1-0.5-1-2-10, then powers of ten; linear
 * scales use steps of 1, 2, 2.5 or 5 times a power of ten.  Returns the
 * number of ticks (<= RP_MAXTICK). */
#define RP_MAXTICK 24
typedef struct rp_ticks {
    size_t n;                      /* ticks */
    double at[RP_MAXTICK];         /* positions, analysis scale */
    char label[RP_MAXTICK][24];    /* labels, displayed scale */
} rp_ticks;
void rp_make_ticks(int expo, double lo, double hi, double len, double charw, double gap,
                   rp_ticks *t);

/* Fixed-decimal number: "NA" for NaN/Inf, never "-0.00". Returns buf. */
char *rp_fmt(char *buf, size_t n, double x, int digits);
/* p-value: "< 0.001" style below 10^-d (d = max(3, digits)), else d decimals;
 * writes "p < 0.001" or "p = 0.042" into buf. */
char *rp_fmt_p(char *buf, size_t n, double p, int digits);
/* Shortest round-trip form for CSV; empty for NaN/Inf. */
void rp_csv_num(FILE *f, double x);

/* UTF-8 helpers. rp_clean() copies s to a fresh string with control bytes
 * replaced by '?' and invalid UTF-8 sequences replaced by U+FFFD (or '?'
 * when ascii); the result is valid UTF-8 (caller frees; NULL on ENOMEM). */
char *rp_clean(const char *s, int ascii);
/* Display columns of valid UTF-8 text (one per code point). */
size_t rp_cols(const char *s);
/* Byte length of the longest prefix of s that fills at most `cols` columns. */
size_t rp_prefix(const char *s, size_t cols);

/* How the subgroups were fitted, for the subgroup-test line: "common tau2",
 * "separate tau2" (UTF-8 or ASCII), or "fixed effect" for the FE model. */
const char *rp_tau2_mode(const mp_report *r);

/* Where a picture goes: rp_plot_open() gives a stream to write the SVG
 * document to (the file itself for a .svg path, memory otherwise);
 * rp_plot_close() closes it and, for .png and .pdf, renders the document
 * there with mp_report_render() at MP_REPORT_DPI.  MP_OK, MP_EIO (errno) or
 * mp_report_render's statuses; nothing is left at path on failure. */
typedef struct rp_plot {
    FILE *f;            /* write the SVG here */
    const char *path;   /* destination */
    char *mem;          /* the document, when rendered */
    size_t len;         /* its length */
    int render;         /* 1: PNG or PDF by the extension */
} rp_plot;
mp_status rp_plot_open(rp_plot *p, const char *path);
mp_status rp_plot_close(rp_plot *p);

/* Text for an SVG document: valid UTF-8 (rp_clean), XML-escaped, cut to
 * `cols` characters with an ellipsis (0 = no limit).  Every plot writer
 * uses it. */
void rp_xml_text(FILE *f, const char *s, size_t cols);

/* Names for text.  Short effect name shown in headers ("RR", "log RR",
 * "SMD", "Estimate"); long name ("risk ratio"); axis title. */
const char *rp_effect_short(const mp_report *r, char *buf, size_t n);
const char *rp_measure_long(mp_measure m);
const char *rp_method_long(mp_method m);

#endif
