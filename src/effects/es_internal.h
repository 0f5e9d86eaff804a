/* src/effects/es_internal.h - effect sizes from named columns: one plan, two readers.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The whole-file loader (mp_effects_compute, effects.c) and the streaming
 * batch reader (batch.c) find the effect-size columns and turn a row's
 * numbers into (yi, vi) here, so both apply the same rules and give the
 * same messages; each reader only parses its cells and places errors. */
#ifndef MP_ES_INTERNAL_H
#define MP_ES_INTERNAL_H

#include <stddef.h>
#include "metapool/escalc.h"

/* Columns by metafor's names. */
enum { MP_ESC_YI, MP_ESC_VI, MP_ESC_SEI, MP_ESC_CILB, MP_ESC_CIUB, MP_ESC_N1, MP_ESC_N2,
       MP_ESC_M1, MP_ESC_SD1, MP_ESC_M2, MP_ESC_SD2, MP_ESC_AI, MP_ESC_BI, MP_ESC_CI,
       MP_ESC_DI, MP_ESC_NI, MP_ESC_RI, MP_ESC_XI, MP_ESC_TI, MP_ESC_X1, MP_ESC_T1, MP_ESC_X2,
       MP_ESC_T2, MP_ESC_NCOL };

/* Column name of MP_ESC_* c. */
extern const char *const mp_es_colname[MP_ESC_NCOL];

/* Which columns a data set's effect sizes come from, and how. */
typedef struct mp_es_plan {
    long col[MP_ESC_NCOL]; /* column index of each name, -1 if absent */
    int use[8];            /* MP_ESC_* columns read per row, -1 terminated */
    mp_es_source src;      /* where yi and vi come from */
    mp_measure measure;    /* measure in effect */
    mp_smd_vtype vtype;    /* Hedges' g variance convention */
    double zcrit;          /* normal quantile for yi + CI input, else 0 */
    int drop00;            /* leave out OR/RR/PETO/IRR tables without events in both arms */
    int na_fatal;          /* MP_ESC_* column whose NA is an input error (ri of the paired
                              measures: a paired design cannot be analysed without it), or -1 */
} mp_es_plan;

/* Choose the source of the effect sizes from the columns present, as
 * mp_effects_compute() documents.  colfn(ctx, name) gives a column's index
 * or -1; `file` and `hdr_line` (the header's line) place the messages.  MP_OK, or MP_EINVAL with err
 * saying which columns are missing or which --measure to choose. */
mp_status mp_es_plan_make(const char *file, size_t hdr_line,
                          long (*colfn)(const void *ctx, const char *name), const void *ctx,
                          const mp_es_opts *o, mp_es_plan *p, mp_error *err);

/* The error for an NA in the plan's na_fatal column. */
#define MP_ES_NA_FATAL_MSG                                                                  \
    "the correlation between the two measurements is missing; a paired measure needs it "   \
    "(impute it, e.g. from studies that report it, and say so)"

/* Outcome of one row. */
typedef struct mp_es_row {
    double yi, vi;   /* effect size and variance (when used) */
    double cell[4];  /* raw a, b, c, d (counts) or x1, t1, x2, t2 (rates), when used */
    double size;     /* ni (PFT) or ti (IRFT) for the back-transformation, else NaN */
    int zero00;      /* 1: a table without events in both arms (kept with 1/2 added when the
                        row is used, left out as not estimable with drop00) */
    int corrected;   /* 1: 1/2 was added to every cell of the row's table (a zero cell) */
    int bad;         /* MP_ESC_* column of a domain error, or -1 */
    char msg[160];   /* the error ("column 'vi': ...") or why the row is left out */
} mp_es_row;

/* yi and vi of one row from its numbers x[MP_ESC_*] (only p->use read).
 * Returns 1 (used; msg empty, or a note to report by row, e.g. a table
 * without events in both arms kept with drop00 = 0), 0 (left out on
 * purpose: msg says why, e.g. such a table with drop00 = 1) or -1 (bad
 * input: bad names the column, msg the problem).  No allocation. */
int mp_es_plan_row(const mp_es_plan *p, const double *x, mp_es_row *r);

/* Issue 11 item 6: yi, ci_lb, ci_ub given with GEN that look like a ratio
 * and its CI printed on the ratio scale.  Feed every used row; `suggest`
 * says whether to warn. */
typedef struct mp_es_asym {
    size_t n;          /* rows with 0 < lb < yi < ub */
    size_t other;      /* rows that cannot be a ratio CI (a value <= 0, yi outside the CI) */
    double raw, logs;  /* sums of the relative asymmetries on the raw and the log scale */
} mp_es_asym;
void mp_es_asym_add(mp_es_asym *a, double yi, double lb, double ub);
int mp_es_asym_suggest(const mp_es_asym *a);
#define MP_ES_ASYM_MSG                                                                      \
    "the confidence intervals are asymmetric around yi but symmetric on the log scale: "   \
    "they look like ratios printed on the ratio scale; if so, use --measure OR, RR, HR or " \
    "IRR (logs are then taken)"

#endif
