/* src/effects/es_plan.c - effect-size column resolution and per-row computation.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Shared by mp_effects_compute() (effects.c) and the batch reader (io/batch.c);
 * see es_internal.h.  Formulas: the mp_es_* functions of escalc.c. */
#include "es_internal.h"
#include "internal.h"

#include "metapool/quantile.h"
#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

const char *const mp_es_colname[MP_ESC_NCOL] = {"yi",  "vi",   "sei", "ci_lb", "ci_ub",
                                                "n1i", "n2i",  "m1i", "sd1i",  "m2i",
                                                "sd2i", "ai",  "bi",  "ci",    "di",
                                                "ni",  "ri",   "xi",  "ti",    "x1i",
                                                "t1i", "x2i",  "t2i"};

static int is_ratio(mp_measure m)
{
    return m == MP_MEASURE_OR || m == MP_MEASURE_RR || m == MP_MEASURE_HR || m == MP_MEASURE_IRR;
}
static int is_prop(mp_measure m) { return m >= MP_MEASURE_PR && m <= MP_MEASURE_PFT; }
static int is_cor(mp_measure m) { return m == MP_MEASURE_COR || m == MP_MEASURE_ZCOR; }
static int is_ir(mp_measure m) { return m >= MP_MEASURE_IR && m <= MP_MEASURE_IRFT; }
static int is_rates(mp_measure m) { return m == MP_MEASURE_IRR || m == MP_MEASURE_IRD; }
static int is_paired(mp_measure m) { return m >= MP_MEASURE_MC && m <= MP_MEASURE_SMCR; }
static int is_2x2(mp_measure m)
{
    return m == MP_MEASURE_OR || m == MP_MEASURE_RR || m == MP_MEASURE_RD || m == MP_MEASURE_PETO;
}

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
                     need_all[] = {MP_ESC_AI, MP_ESC_BI, MP_ESC_CI, MP_ESC_DI, -1},
                     need_prop[] = {MP_ESC_XI, MP_ESC_NI, -1},
                     need_cor[] = {MP_ESC_RI, MP_ESC_NI, -1},
                     need_ir[] = {MP_ESC_XI, MP_ESC_TI, -1},
                     need_rates[] = {MP_ESC_X1, MP_ESC_T1, MP_ESC_X2, MP_ESC_T2, -1},
                     need_paired[] = {MP_ESC_M1, MP_ESC_M2, MP_ESC_SD1, MP_ESC_SD2, MP_ESC_NI,
                                      MP_ESC_RI, -1},
                     need_smcr[] = {MP_ESC_M1, MP_ESC_M2, MP_ESC_SD1, MP_ESC_NI, MP_ESC_RI, -1};
    long *col = p->col;
    for (int c = 0; c < MP_ESC_NCOL; c++) col[c] = colfn(ctx, mp_es_colname[c]);
    mp_measure meas = o->measure;
    mp_es_source src;
    const int *use = NULL;
    const char *mname = mp_measure_name(meas);
    char what[64];
    p->na_fatal = -1;
    if (has(col, need_vi)) { src = MP_SRC_YI_VI; use = need_vi; }
    else if (has(col, need_sei)) { src = MP_SRC_YI_SEI; use = need_sei; }
    else if (is_ratio(meas) && o->measure_given && col[MP_ESC_YI] >= 0) {
        /* a ratio and its CI as papers print them: logs taken (interface.md) */
        if (!has(col, need_ci)) {
            snprintf(what, sizeof what, "yi (a ratio) with --measure %s", mname);
            return missing_cols(file, line, col, need_ci, what, err);
        }
        src = MP_SRC_RATIO_CI;
        use = need_ci;
    } else if (meas == MP_MEASURE_HR) {
        return missing_cols(file, line, col, need_ci, "--measure HR (a hazard ratio and its CI)", err);
    } else if (has(col, need_ci)) { src = MP_SRC_YI_CI; use = need_ci; }
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
            return missing_cols(file, line, col, need_means, mname, err);
        src = MP_SRC_MEANS;
        use = need_means;
    } else if (is_2x2(meas)) {
        if (!has(col, need_ab) || (col[MP_ESC_BI] < 0 && col[MP_ESC_N1] < 0) ||
            (col[MP_ESC_DI] < 0 && col[MP_ESC_N2] < 0)) {
            mp_status st = missing_cols(file, line, col, need_all, mname, err);
            if (err) {
                size_t l = strlen(err->msg);
                snprintf(err->msg + l, sizeof err->msg - l, " (or ai, n1i, ci, n2i)");
            }
            return st;
        }
        src = MP_SRC_COUNTS;
    } else if (is_prop(meas)) {
        if (!has(col, need_prop)) return missing_cols(file, line, col, need_prop, mname, err);
        src = MP_SRC_PROP;
        use = need_prop;
    } else if (is_cor(meas)) {
        if (!has(col, need_cor)) return missing_cols(file, line, col, need_cor, mname, err);
        src = MP_SRC_COR;
        use = need_cor;
    } else if (is_ir(meas)) {
        if (!has(col, need_ir)) return missing_cols(file, line, col, need_ir, mname, err);
        src = MP_SRC_IR;
        use = need_ir;
    } else if (is_rates(meas)) {
        if (!has(col, need_rates)) return missing_cols(file, line, col, need_rates, mname, err);
        src = MP_SRC_RATES;
        use = need_rates;
    } else if (is_paired(meas)) {
        use = meas == MP_MEASURE_SMCR ? need_smcr : need_paired;
        if (!has(col, use)) return missing_cols(file, line, col, use, mname, err);
        src = MP_SRC_PAIRED;
        p->na_fatal = MP_ESC_RI;
    } else if (has(col, need_means)) {
        mp_error_set(err, file, line, 0, "group means and SDs found: choose --measure SMD, MD or ROM");
        return MP_FAIL(MP_EINVAL);
    } else if (col[MP_ESC_AI] >= 0 && col[MP_ESC_CI] >= 0) {
        mp_error_set(err, file, line, 0, "2x2 counts found: choose --measure OR, RR or RD (or PETO)");
        return MP_FAIL(MP_EINVAL);
    } else if (has(col, need_paired)) {
        mp_error_set(err, file, line, 0, "paired-design columns found: choose --measure MC, SMCC or SMCR");
        return MP_FAIL(MP_EINVAL);
    } else if (has(col, need_rates)) {
        mp_error_set(err, file, line, 0, "event counts and person-times of two groups found: choose --measure IRR or IRD");
        return MP_FAIL(MP_EINVAL);
    } else if (has(col, need_prop)) {
        mp_error_set(err, file, line, 0, "events and sample sizes found: choose --measure PR, PLN, PLO, PAS or PFT");
        return MP_FAIL(MP_EINVAL);
    } else if (has(col, need_cor)) {
        mp_error_set(err, file, line, 0, "correlations and sample sizes found: choose --measure COR or ZCOR");
        return MP_FAIL(MP_EINVAL);
    } else if (has(col, need_ir)) {
        mp_error_set(err, file, line, 0, "events and person-times found: choose --measure IR, IRLN, IRS or IRFT");
        return MP_FAIL(MP_EINVAL);
    } else {
        mp_error_set(err, file, line, 0,
                     "no effect-size columns: need yi and vi (or sei, or ci_lb and ci_ub), "
                     "group means (m1i, sd1i, n1i, m2i, sd2i, n2i), counts (ai, bi, ci, di), "
                     "or xi and ni, ri and ni, xi and ti, x1i, t1i, x2i and t2i");
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
    if ((src == MP_SRC_YI_CI || src == MP_SRC_RATIO_CI) && !(o->level > 0 && o->level < 100)) {
        mp_error_set(err, file, 0, 0, "confidence level must be in (0, 100), got %g", o->level);
        return MP_FAIL(MP_EINVAL);
    }
    p->src = src;
    p->measure = meas;
    p->vtype = o->vtype;
    p->drop00 = o->drop00;
    p->zcrit = src == MP_SRC_YI_CI || src == MP_SRC_RATIO_CI
                   ? mp_qnorm_upper((1.0 - o->level / 100.0) / 2.0)
                   : 0.0;
    return MP_OK;
}

int mp_es_plan_row(const mp_es_plan *p, const double *x, mp_es_row *r)
{
    const long *col = p->col;
    r->bad = -1;
    r->corrected = 0;
    r->msg[0] = '\0';
    r->size = NAN;
    r->zero00 = 0;
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
        BAD(MP_ESC_SD1, !(sd1 >= 0), "standard deviation must not be negative");
        BAD(MP_ESC_SD2, !(sd2 >= 0), "standard deviation must not be negative");
        /* metafor's escalc() takes an SD of 0 as it is: the other arm
         * alone gives the pooled SD (SMD) or the variance (MD, ROM).  Only
         * both at 0 leaves no positive variance (SMD: no finite g either),
         * and that is refused. */
        BAD(MP_ESC_SD2, sd1 == 0 && sd2 == 0,
            p->measure == MP_MEASURE_MD || p->measure == MP_MEASURE_ROM
                ? "both standard deviations are 0: the sampling variance would be 0"
                : "both standard deviations are 0: the standardized mean difference is undefined");
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
        if (sd1 == 0 || sd2 == 0)
            snprintf(r->msg, sizeof r->msg,
                     "column '%s' is 0: the variance comes from the other arm (as metafor's escalc())",
                     mp_es_colname[sd1 == 0 ? MP_ESC_SD1 : MP_ESC_SD2]);
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
        r->cell[0] = a; r->cell[1] = b; r->cell[2] = c; r->cell[3] = d;
        int zero2 = (p->measure == MP_MEASURE_OR || p->measure == MP_MEASURE_RR ||
                     p->measure == MP_MEASURE_PETO) &&
                    ((a == 0 && c == 0) || (b == 0 && d == 0));
        /* mp_es_2x2 adds 1/2 to every cell of a table with a zero cell */
        r->corrected = a == 0 || b == 0 || c == 0 || d == 0;
        if (zero2 && !p->drop00) { /* metafor's escalc()/rma() default: keep, 1/2 added */
            s = mp_es_2x2(p->measure, a + 0.5, b + 0.5, c + 0.5, d + 0.5, &yi, &vi);
            snprintf(r->msg, sizeof r->msg, "%s in both arms: kept with 1/2 added to every cell",
                     a == 0 && c == 0 ? "no events" : "no non-events");
            r->zero00 = 1;
            break;
        }
        s = mp_es_2x2(p->measure, a, b, c, d, &yi, &vi);
        if (s == MP_EDOM) { /* metafor's drop00: OR/RR not estimable */
            r->zero00 = 1;
            snprintf(r->msg, sizeof r->msg, "%s in both arms (%s not estimable)",
                     a == 0 && c == 0 ? "no events" : "no non-events", mp_measure_name(p->measure));
            return 0;
        }
        break;
    }
    case MP_SRC_PROP: {
        const double xi = x[MP_ESC_XI], ni = x[MP_ESC_NI];
        BAD(MP_ESC_NI, !(ni > 0), "sample size must be positive");
        BAD(MP_ESC_XI, !(xi >= 0), "count must not be negative");
        BAD(MP_ESC_XI, xi > ni, "events exceed the sample size ni");
        s = mp_es_prop(p->measure, xi, ni, &yi, &vi);
        r->size = ni;
        break;
    }
    case MP_SRC_COR: {
        const double ri = x[MP_ESC_RI], ni = x[MP_ESC_NI];
        BAD(MP_ESC_RI, !(ri >= -1.0 && ri <= 1.0), "a correlation must lie in [-1, 1]");
        BAD(MP_ESC_NI, !(ni > 0), "sample size must be positive");
        if (p->measure == MP_MEASURE_ZCOR && !(ni > 3)) { /* metafor: vi NA, row omitted */
            snprintf(r->msg, sizeof r->msg, "ni = %g: the variance of Fisher's z needs ni > 3", ni);
            return 0;
        }
        BAD(MP_ESC_NI, !(ni > 1), "the variance of r needs ni > 1");
        BAD(MP_ESC_RI, p->measure == MP_MEASURE_ZCOR && !(fabs(ri) < 1.0),
            "Fisher's z is infinite for a correlation of -1 or 1");
        s = mp_es_cor(p->measure, ri, ni, &yi, &vi);
        break;
    }
    case MP_SRC_IR: {
        const double xi = x[MP_ESC_XI], ti = x[MP_ESC_TI];
        BAD(MP_ESC_TI, !(ti > 0), "person-time must be positive");
        BAD(MP_ESC_XI, !(xi >= 0), "count must not be negative");
        s = mp_es_ir(p->measure, xi, ti, &yi, &vi);
        r->size = ti;
        break;
    }
    case MP_SRC_RATES: {
        const double x1 = x[MP_ESC_X1], t1 = x[MP_ESC_T1], x2 = x[MP_ESC_X2], t2 = x[MP_ESC_T2];
        BAD(MP_ESC_X1, !(x1 >= 0), "count must not be negative");
        BAD(MP_ESC_X2, !(x2 >= 0), "count must not be negative");
        BAD(MP_ESC_T1, !(t1 > 0), "person-time must be positive");
        BAD(MP_ESC_T2, !(t2 > 0), "person-time must be positive");
        r->cell[0] = x1; r->cell[1] = t1; r->cell[2] = x2; r->cell[3] = t2;
        if (p->measure == MP_MEASURE_IRR && x1 == 0 && x2 == 0) {
            if (p->drop00) {
                r->zero00 = 1;
                snprintf(r->msg, sizeof r->msg, "no events in both groups (IRR not estimable)");
                return 0;
            }
            s = mp_es_irr(p->measure, 0.5, t1, 0.5, t2, &yi, &vi);
            snprintf(r->msg, sizeof r->msg, "no events in both groups: kept with 1/2 added to the counts");
            r->zero00 = 1;
            break;
        }
        s = mp_es_irr(p->measure, x1, t1, x2, t2, &yi, &vi);
        break;
    }
    case MP_SRC_PAIRED: {
        const int smcr = p->measure == MP_MEASURE_SMCR;
        const double ni = x[MP_ESC_NI], ri = x[MP_ESC_RI], sd1 = x[MP_ESC_SD1];
        const double sd2 = smcr ? NAN : x[MP_ESC_SD2];
        BAD(MP_ESC_NI, !(ni > 0), "sample size must be positive");
        BAD(MP_ESC_RI, !(ri >= -1.0 && ri <= 1.0), "a correlation must lie in [-1, 1]");
        BAD(MP_ESC_SD1, smcr ? !(sd1 > 0) : !(sd1 >= 0),
            smcr ? "standard deviation must be positive" : "standard deviation must not be negative");
        if (!smcr) BAD(MP_ESC_SD2, !(sd2 >= 0), "standard deviation must not be negative");
        BAD(MP_ESC_NI, p->measure != MP_MEASURE_MC && !(ni > 2),
            "the small-sample correction needs ni > 2");
        s = mp_es_paired(p->measure, x[MP_ESC_M1], x[MP_ESC_M2], sd1, sd2, ni, ri, &yi, &vi);
        BAD(MP_ESC_SD1, s != MP_OK, "the SD of the differences is 0 (sd1i, sd2i, ri)");
        break;
    }
    case MP_SRC_RATIO_CI: {
        BAD(MP_ESC_YI, !(x[MP_ESC_YI] > 0), "a ratio must be positive (the logarithm is taken)");
        BAD(MP_ESC_CILB, !(x[MP_ESC_CILB] > 0), "a ratio's CI bound must be positive (the logarithm is taken)");
        BAD(MP_ESC_CIUB, !(x[MP_ESC_CIUB] > x[MP_ESC_CILB]), "upper CI bound must exceed the lower one");
        s = mp_es_ratio_ci(x[MP_ESC_YI], x[MP_ESC_CILB], x[MP_ESC_CIUB], p->zcrit, &yi, &vi);
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

/* Relative asymmetry |(ub - y) - (y - lb)| / (ub - lb) of an interval around
 * y, on the raw and on the log scale.  A ratio's Wald CI is symmetric on the
 * log scale (up to the rounding of the printed numbers) and asymmetric on the
 * raw scale; an interval given on the analysis scale is symmetric there. */
void mp_es_asym_add(mp_es_asym *a, double yi, double lb, double ub)
{
    if (!(lb > 0 && yi > lb && ub > yi)) { a->other++; return; }
    double ly = log(yi), ll = log(lb), lu = log(ub);
    a->raw += fabs((ub - yi) - (yi - lb)) / (ub - lb);
    a->logs += fabs((lu - ly) - (ly - ll)) / (lu - ll);
    a->n++;
}

/* Warn when every row could be a ratio CI and, on average, the intervals
 * are clearly asymmetric on the raw scale (mean relative asymmetry >= 0.05,
 * e.g. 1.18 [0.90, 1.54] has 0.125) but at most a third of that on the log
 * scale (1.18 [0.90, 1.54]: 0.01). */
int mp_es_asym_suggest(const mp_es_asym *a)
{
    if (a->n == 0 || a->other) return 0;
    double raw = a->raw / (double)a->n, logs = a->logs / (double)a->n;
    return raw >= 0.05 && logs <= raw / 3.0;
}
