/* src/effects/es_plan.c - effect-size column resolution and per-row computation.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Shared by mp_effects_compute() (effects.c) and the batch reader (io/batch.c);
 * see es_internal.h.  Formulas: the mp_es_* functions of escalc.c. */
#include "es_internal.h"
#include "internal.h"

#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

const char *const mp_es_colname[MP_ESC_NCOL] = {"yi",  "vi",   "sei", "ci_lb", "ci_ub",
                                                "n1i", "n2i",  "m1i", "sd1i",  "m2i",
                                                "sd2i", "ai",  "bi",  "ci",    "di"};

static int has(const long *col, const int *need)
{
    for (; *need >= 0; need++)
        if (col[*need] < 0) return 0;
    return 1;
}

/* Say which columns a measure needs, for the error message. */
static mp_status missing_cols(const char *file, size_t line, const long *col, const int *need,
                              const char *what, mp_error *err)
{
    char list[200] = "";
    for (; *need >= 0; need++) {
        if (col[*need] >= 0) continue;
        size_t l = strlen(list);
        snprintf(list + l, sizeof list - l, "%s%s", l ? ", " : "", mp_es_colname[*need]);
    }
    mp_error_set(err, file, line, 0, "%s needs the column%s %s", what, strchr(list, ',') ? "s" : "",
                 list);
    return MP_FAIL(MP_EINVAL);
}

mp_status mp_es_plan_make(const char *file, size_t line,
                          long (*colfn)(const void *ctx, const char *name), const void *ctx,
                          const mp_es_opts *o, mp_es_plan *p, mp_error *err)
{
    static const int need_vi[] = {MP_ESC_YI, MP_ESC_VI, -1},
                     need_sei[] = {MP_ESC_YI, MP_ESC_SEI, -1},
                     need_ci[] = {MP_ESC_YI, MP_ESC_CILB, MP_ESC_CIUB, -1},
                     need_n[] = {MP_ESC_YI, MP_ESC_N1, MP_ESC_N2, -1},
                     need_means[] = {MP_ESC_M1, MP_ESC_SD1, MP_ESC_N1, MP_ESC_M2, MP_ESC_SD2,
                                     MP_ESC_N2, -1},
                     need_ab[] = {MP_ESC_AI, MP_ESC_CI, -1},
                     need_all[] = {MP_ESC_AI, MP_ESC_BI, MP_ESC_CI, MP_ESC_DI, -1};
    long *col = p->col;
    for (int c = 0; c < MP_ESC_NCOL; c++) col[c] = colfn(ctx, mp_es_colname[c]);
    mp_measure meas = o->measure;
    mp_es_source src;
    const int *use = NULL;
    if (has(col, need_vi)) { src = MP_SRC_YI_VI; use = need_vi; }
    else if (has(col, need_sei)) { src = MP_SRC_YI_SEI; use = need_sei; }
    else if (has(col, need_ci)) { src = MP_SRC_YI_CI; use = need_ci; }
    else if (col[MP_ESC_YI] >= 0 && (meas == MP_MEASURE_SMD || !o->measure_given) &&
             has(col, need_n)) {
        src = MP_SRC_YI_N;
        use = need_n;
        meas = MP_MEASURE_SMD; /* yi with group sizes only makes sense as Hedges' g */
    } else if (col[MP_ESC_YI] >= 0) {
        return missing_cols(file, line, col, meas == MP_MEASURE_SMD ? need_n : need_vi,
                            meas == MP_MEASURE_SMD ? "yi with --measure SMD" : "yi", err);
    } else if (meas == MP_MEASURE_SMD || meas == MP_MEASURE_MD || meas == MP_MEASURE_ROM) {
        if (!has(col, need_means))
            return missing_cols(file, line, col, need_means, mp_measure_name(meas), err);
        src = MP_SRC_MEANS;
        use = need_means;
    } else if (meas == MP_MEASURE_OR || meas == MP_MEASURE_RR || meas == MP_MEASURE_RD) {
        if (!has(col, need_ab) || (col[MP_ESC_BI] < 0 && col[MP_ESC_N1] < 0) ||
            (col[MP_ESC_DI] < 0 && col[MP_ESC_N2] < 0))
            return missing_cols(file, line, col, need_all, mp_measure_name(meas), err);
        src = MP_SRC_COUNTS;
    } else if (has(col, need_means)) {
        mp_error_set(err, file, line, 0, "group means and SDs found: choose --measure SMD, MD or ROM");
        return MP_FAIL(MP_EINVAL);
    } else if (col[MP_ESC_AI] >= 0 && col[MP_ESC_CI] >= 0) {
        mp_error_set(err, file, line, 0, "2x2 counts found: choose --measure OR, RR or RD");
        return MP_FAIL(MP_EINVAL);
    } else {
        mp_error_set(err, file, line, 0,
                     "no effect-size columns: need yi and vi (or sei, or ci_lb and ci_ub), "
                     "group means (m1i, sd1i, n1i, m2i, sd2i, n2i) or counts (ai, bi, ci, di)");
        return MP_FAIL(MP_EINVAL);
    }
    if (use) {
        size_t u = 0;
        for (; use[u] >= 0; u++) p->use[u] = use[u];
        p->use[u] = -1;
    } else { /* counts: bi and di, or the group sizes they follow from */
        p->use[0] = MP_ESC_AI;
        p->use[1] = col[MP_ESC_BI] >= 0 ? MP_ESC_BI : MP_ESC_N1;
        p->use[2] = MP_ESC_CI;
        p->use[3] = col[MP_ESC_DI] >= 0 ? MP_ESC_DI : MP_ESC_N2;
        p->use[4] = -1;
    }
    if (src == MP_SRC_YI_CI && !(o->level > 0 && o->level < 100)) {
        mp_error_set(err, file, 0, 0, "confidence level must be in (0, 100), got %g", o->level);
        return MP_FAIL(MP_EINVAL);
    }
    p->src = src;
    p->measure = meas;
    p->vtype = o->vtype;
    p->drop00 = o->drop00;
    p->zcrit = src == MP_SRC_YI_CI ? gsl_cdf_ugaussian_Qinv((1.0 - o->level / 100.0) / 2.0) : 0.0;
    return MP_OK;
}

int mp_es_plan_row(const mp_es_plan *p, const double *x, mp_es_row *r)
{
    const long *col = p->col;
    r->bad = -1;
    r->corrected = 0;
    r->msg[0] = '\0';
    /* domain checks, each naming the offending column */
#define BAD(c, cond, what)                                                                  \
    do {                                                                                    \
        if (cond) {                                                                         \
            r->bad = (c);                                                                   \
            snprintf(r->msg, sizeof r->msg, "column '%s': %s (got %g)", mp_es_colname[c],   \
                     what, x[c]);                                                           \
            return -1;                                                                      \
        }                                                                                   \
    } while (0)
    double yi = NAN, vi = NAN;
    mp_status s = MP_OK;
    switch (p->src) {
    case MP_SRC_YI_VI:
        BAD(MP_ESC_VI, !(x[MP_ESC_VI] > 0), "sampling variance must be positive");
        yi = x[MP_ESC_YI];
        vi = x[MP_ESC_VI];
        break;
    case MP_SRC_YI_SEI:
        BAD(MP_ESC_SEI, !(x[MP_ESC_SEI] > 0), "standard error must be positive");
        yi = x[MP_ESC_YI];
        vi = x[MP_ESC_SEI] * x[MP_ESC_SEI];
        break;
    case MP_SRC_YI_CI: {
        BAD(MP_ESC_CIUB, !(x[MP_ESC_CIUB] > x[MP_ESC_CILB]), "upper CI bound must exceed the lower one");
        double se = (x[MP_ESC_CIUB] - x[MP_ESC_CILB]) / (2.0 * p->zcrit);
        yi = x[MP_ESC_YI];
        vi = se * se;
        break;
    }
    case MP_SRC_YI_N:
        BAD(MP_ESC_N1, !(x[MP_ESC_N1] > 0), "group size must be positive");
        BAD(MP_ESC_N2, !(x[MP_ESC_N2] > 0), "group size must be positive");
        yi = x[MP_ESC_YI];
        s = mp_es_smd_var(yi, x[MP_ESC_N1], x[MP_ESC_N2], p->vtype, &vi);
        BAD(MP_ESC_N1, s != MP_OK, "group sizes too small for this variance formula");
        break;
    case MP_SRC_MEANS: {
        const double m1 = x[MP_ESC_M1], sd1 = x[MP_ESC_SD1], n1 = x[MP_ESC_N1];
        const double m2 = x[MP_ESC_M2], sd2 = x[MP_ESC_SD2], n2 = x[MP_ESC_N2];
        BAD(MP_ESC_N1, !(n1 > 0), "group size must be positive");
        BAD(MP_ESC_N2, !(n2 > 0), "group size must be positive");
        BAD(MP_ESC_SD1, !(sd1 > 0), "standard deviation must be positive");
        BAD(MP_ESC_SD2, !(sd2 > 0), "standard deviation must be positive");
        if (p->measure == MP_MEASURE_ROM) {
            BAD(MP_ESC_M1, !(m1 > 0), "ROM needs positive means");
            BAD(MP_ESC_M2, !(m2 > 0), "ROM needs positive means");
            s = mp_es_rom(m1, sd1, n1, m2, sd2, n2, &yi, &vi);
        } else if (p->measure == MP_MEASURE_MD) {
            s = mp_es_md(m1, sd1, n1, m2, sd2, n2, &yi, &vi);
        } else {
            s = mp_es_smd(m1, sd1, n1, m2, sd2, n2, p->vtype, &yi, &vi);
        }
        BAD(MP_ESC_N1, s != MP_OK, "group sizes too small for this measure");
        break;
    }
    case MP_SRC_COUNTS: {
        int b_is_n = col[MP_ESC_BI] < 0, d_is_n = col[MP_ESC_DI] < 0;
        int cb = b_is_n ? MP_ESC_N1 : MP_ESC_BI, cd = d_is_n ? MP_ESC_N2 : MP_ESC_DI;
        BAD(MP_ESC_AI, !(x[MP_ESC_AI] >= 0), "count must not be negative");
        BAD(MP_ESC_CI, !(x[MP_ESC_CI] >= 0), "count must not be negative");
        BAD(cb, !(x[cb] >= 0), b_is_n ? "group size must not be negative" : "count must not be negative");
        BAD(cd, !(x[cd] >= 0), d_is_n ? "group size must not be negative" : "count must not be negative");
        BAD(MP_ESC_AI, b_is_n && x[MP_ESC_AI] > x[MP_ESC_N1], "events exceed the group size n1i");
        BAD(MP_ESC_CI, d_is_n && x[MP_ESC_CI] > x[MP_ESC_N2], "events exceed the group size n2i");
        double a = x[MP_ESC_AI], c = x[MP_ESC_CI];
        double b = b_is_n ? x[MP_ESC_N1] - a : x[MP_ESC_BI], d = d_is_n ? x[MP_ESC_N2] - c : x[MP_ESC_DI];
        BAD(cb, a + b <= 0, "treatment arm is empty");
        BAD(cd, c + d <= 0, "control arm is empty");
        int zero2 = (p->measure == MP_MEASURE_OR || p->measure == MP_MEASURE_RR) &&
                    ((a == 0 && c == 0) || (b == 0 && d == 0));
        /* mp_es_2x2 adds 1/2 to every cell of a table with a zero cell */
        r->corrected = a == 0 || b == 0 || c == 0 || d == 0;
        if (zero2 && !p->drop00) { /* metafor's escalc()/rma() default: keep, 1/2 added */
            s = mp_es_2x2(p->measure, a + 0.5, b + 0.5, c + 0.5, d + 0.5, &yi, &vi);
            snprintf(r->msg, sizeof r->msg, "%s in both arms: kept with 1/2 added to every cell",
                     a == 0 && c == 0 ? "no events" : "no non-events");
            break;
        }
        s = mp_es_2x2(p->measure, a, b, c, d, &yi, &vi);
        if (s == MP_EDOM) { /* metafor's drop00: OR/RR not estimable */
            snprintf(r->msg, sizeof r->msg, "%s in both arms (%s not estimable)",
                     a == 0 && c == 0 ? "no events" : "no non-events", mp_measure_name(p->measure));
            return 0;
        }
        break;
    }
    }
#undef BAD
    if (!isfinite(yi) || !isfinite(vi) || !(vi > 0)) {
        r->bad = p->use[0];
        snprintf(r->msg, sizeof r->msg, "effect size or variance is not finite (yi=%g, vi=%g)", yi, vi);
        return -1;
    }
    r->yi = yi;
    r->vi = vi;
    return 1;
}
