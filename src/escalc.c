/* src/escalc.c - effect sizes and sampling variances from table columns.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Formulas as metafor's escalc() (version 3.8) defines them; see
 * include/metapool/escalc.h.  RevMan's and CMA's Hedges' g variances are
 * from the RevMan 5 statistical methods guide (Deeks & Higgins 2010) and
 * Borenstein et al. (2009), Introduction to Meta-Analysis, ch. 4. */
#include "metapool/escalc.h"
#include "internal.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_sf_gamma.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const measure_names[MP_MEASURE_COUNT] = {"GEN", "SMD", "MD", "ROM",
                                                            "OR",  "RR",  "RD"};
static const char *const vtype_names[MP_SMD_VAR_COUNT] = {"LS", "UB", "RevMan", "CMA"};

const char *mp_measure_name(mp_measure m)
{
    return (unsigned)m < MP_MEASURE_COUNT ? measure_names[m] : "?";
}

mp_status mp_measure_parse(const char *s, mp_measure *out)
{
    for (int i = 0; i < MP_MEASURE_COUNT; i++)
        if (s && strcmp(s, measure_names[i]) == 0) { *out = (mp_measure)i; return MP_OK; }
    return MP_FAIL(MP_EINVAL);
}

int mp_measure_is_log(mp_measure m)
{
    return m == MP_MEASURE_OR || m == MP_MEASURE_RR || m == MP_MEASURE_ROM;
}

const char *mp_smd_vtype_name(mp_smd_vtype v)
{
    return (unsigned)v < MP_SMD_VAR_COUNT ? vtype_names[v] : "?";
}

mp_status mp_smd_vtype_parse(const char *s, mp_smd_vtype *out)
{
    for (int i = 0; i < MP_SMD_VAR_COUNT; i++)
        if (s && strcasecmp(s, vtype_names[i]) == 0) { *out = (mp_smd_vtype)i; return MP_OK; }
    return MP_FAIL(MP_EINVAL);
}

void mp_es_opts_init(mp_es_opts *o)
{
    o->measure = MP_MEASURE_GEN;
    o->measure_given = 0;
    o->vtype = MP_SMD_VAR_LS;
    o->level = 95.0;
}

double mp_hedges_c(double m)
{
    /* Gamma ratios overflow for m beyond ~340: stay in log space.  m <= 1
     * has no correction (metafor: NA); checked here so GSL never sees a
     * pole of lngamma (its error handler may abort). */
    if (!(m > 1.0)) return NAN;
    return exp(gsl_sf_lngamma(m / 2.0) - 0.5 * log(m / 2.0) - gsl_sf_lngamma((m - 1.0) / 2.0));
}

mp_status mp_es_smd_var(double g, double n1, double n2, mp_smd_vtype vtype, double *vi)
{
    if (!(n1 > 0) || !(n2 > 0) || !isfinite(g)) return MP_FAIL(MP_EDOM);
    double N = n1 + n2, m = N - 2.0, c;
    switch (vtype) {
    case MP_SMD_VAR_LS: *vi = 1.0 / n1 + 1.0 / n2 + g * g / (2.0 * N); break;
    case MP_SMD_VAR_UB:
        if (!(m > 2)) return MP_FAIL(MP_EDOM);
        c = mp_hedges_c(m);
        *vi = 1.0 / n1 + 1.0 / n2 + (1.0 - (m - 2.0) / (m * c * c)) * g * g;
        break;
    case MP_SMD_VAR_REVMAN:
        if (!(N > 3.94)) return MP_FAIL(MP_EDOM);
        *vi = 1.0 / n1 + 1.0 / n2 + g * g / (2.0 * (N - 3.94));
        break;
    case MP_SMD_VAR_CMA: {
        if (!(m > 1)) return MP_FAIL(MP_EDOM);
        c = mp_hedges_c(m);
        double d = g / c;
        *vi = c * c * (1.0 / n1 + 1.0 / n2 + d * d / (2.0 * N));
        break;
    }
    default: return MP_FAIL(MP_EINVAL);
    }
    return MP_OK;
}

mp_status mp_es_smd(double m1, double sd1, double n1, double m2, double sd2, double n2,
                    mp_smd_vtype vtype, double *yi, double *vi)
{
    if (!(n1 > 0) || !(n2 > 0) || !(sd1 > 0) || !(sd2 > 0)) return MP_FAIL(MP_EDOM);
    double m = n1 + n2 - 2.0;
    if (!(m > 1)) return MP_FAIL(MP_EDOM);
    double sp = sqrt(((n1 - 1.0) * sd1 * sd1 + (n2 - 1.0) * sd2 * sd2) / m);
    double g = mp_hedges_c(m) * (m1 - m2) / sp;
    mp_status s = mp_es_smd_var(g, n1, n2, vtype, vi);
    if (s == MP_OK) *yi = g;
    return s;
}

mp_status mp_es_md(double m1, double sd1, double n1, double m2, double sd2, double n2,
                   double *yi, double *vi)
{
    if (!(n1 > 0) || !(n2 > 0) || !(sd1 > 0) || !(sd2 > 0)) return MP_FAIL(MP_EDOM);
    *yi = m1 - m2;
    *vi = sd1 * sd1 / n1 + sd2 * sd2 / n2;
    return MP_OK;
}

mp_status mp_es_rom(double m1, double sd1, double n1, double m2, double sd2, double n2,
                    double *yi, double *vi)
{
    if (!(n1 > 0) || !(n2 > 0) || !(sd1 > 0) || !(sd2 > 0) || !(m1 > 0) || !(m2 > 0))
        return MP_FAIL(MP_EDOM);
    *yi = log(m1 / m2);
    *vi = sd1 * sd1 / (n1 * m1 * m1) + sd2 * sd2 / (n2 * m2 * m2);
    return MP_OK;
}

mp_status mp_es_2x2(mp_measure m, double a, double b, double c, double d, double *yi,
                    double *vi)
{
    if (!(a >= 0) || !(b >= 0) || !(c >= 0) || !(d >= 0)) return MP_FAIL(MP_EDOM);
    if (a + b <= 0 || c + d <= 0) return MP_FAIL(MP_EDOM);
    /* metafor's drop00 rule, (ai == 0 & ci == 0) | (bi == 0 & di == 0), for
     * the ratio measures: such a table carries no information on the ratio. */
    if ((m == MP_MEASURE_OR || m == MP_MEASURE_RR) &&
        ((a == 0 && c == 0) || (b == 0 && d == 0)))
        return MP_FAIL(MP_EDOM);
    if (a == 0 || b == 0 || c == 0 || d == 0) { a += 0.5; b += 0.5; c += 0.5; d += 0.5; }
    double n1 = a + b, n2 = c + d;
    switch (m) {
    case MP_MEASURE_OR:
        *yi = log(a / b) - log(c / d);
        *vi = 1.0 / a + 1.0 / b + 1.0 / c + 1.0 / d;
        break;
    case MP_MEASURE_RR:
        *yi = log(a / n1) - log(c / n2);
        *vi = 1.0 / a - 1.0 / n1 + 1.0 / c - 1.0 / n2;
        break;
    case MP_MEASURE_RD: {
        double p1 = a / n1, p2 = c / n2;
        *yi = p1 - p2;
        *vi = p1 * (1.0 - p1) / n1 + p2 * (1.0 - p2) / n2;
        break;
    }
    default: return MP_FAIL(MP_EINVAL);
    }
    return MP_OK;
}

/* ---- table level ---------------------------------------------------- */

enum { C_YI, C_VI, C_SEI, C_CILB, C_CIUB, C_N1, C_N2, C_M1, C_SD1, C_M2, C_SD2,
       C_AI, C_BI, C_CI, C_DI, C_NCOL };
static const char *const cname[C_NCOL] = {"yi",  "vi",  "sei", "ci_lb", "ci_ub",
                                          "n1i", "n2i", "m1i", "sd1i",  "m2i",
                                          "sd2i", "ai", "bi",  "ci",    "di"};

void mp_effects_free(mp_effects *e)
{
    if (!e) return;
    free(e->yi);
    free(e->vi);
    free(e->used);
    mp_msgs_free(&e->warnings);
    memset(e, 0, sizeof *e);
}

static int has(const long *col, const int *need)
{
    for (; *need >= 0; need++)
        if (col[*need] < 0) return 0;
    return 1;
}

/* Say which columns a measure needs, for the error message. */
static mp_status missing_cols(const mp_table *t, const long *col, const int *need,
                              const char *what, mp_error *err)
{
    char list[200] = "";
    for (; *need >= 0; need++) {
        if (col[*need] >= 0) continue;
        size_t l = strlen(list);
        snprintf(list + l, sizeof list - l, "%s%s", l ? ", " : "", cname[*need]);
    }
    mp_error_set(err, mp_table_name(t), 0, 0, "%s needs the column%s %s", what,
                 strchr(list, ',') ? "s" : "", list);
    return MP_FAIL(MP_EINVAL);
}

mp_status mp_effects_compute(const mp_table *t, const mp_es_opts *o, mp_effects *out,
                             mp_error *err)
{
    static const int need_vi[] = {C_YI, C_VI, -1}, need_sei[] = {C_YI, C_SEI, -1},
                     need_ci[] = {C_YI, C_CILB, C_CIUB, -1}, need_n[] = {C_YI, C_N1, C_N2, -1},
                     need_means[] = {C_M1, C_SD1, C_N1, C_M2, C_SD2, C_N2, -1},
                     need_ab[] = {C_AI, C_CI, -1};
    long col[C_NCOL];
    mp_es_opts defaults;
    if (!o) { mp_es_opts_init(&defaults); o = &defaults; }
    memset(out, 0, sizeof *out);
    for (int c = 0; c < C_NCOL; c++) col[c] = mp_table_col(t, cname[c]);

    mp_measure meas = o->measure;
    mp_es_source src;
    if (has(col, need_vi)) src = MP_SRC_YI_VI;
    else if (has(col, need_sei)) src = MP_SRC_YI_SEI;
    else if (has(col, need_ci)) src = MP_SRC_YI_CI;
    else if (col[C_YI] >= 0 && (meas == MP_MEASURE_SMD || !o->measure_given) &&
             has(col, need_n)) {
        src = MP_SRC_YI_N;
        meas = MP_MEASURE_SMD; /* yi with group sizes only makes sense as Hedges' g */
    } else if (col[C_YI] >= 0) {
        return missing_cols(t, col,
                            meas == MP_MEASURE_SMD ? need_n : need_vi,
                            meas == MP_MEASURE_SMD ? "yi with --measure SMD" : "yi", err);
    } else if (meas == MP_MEASURE_SMD || meas == MP_MEASURE_MD || meas == MP_MEASURE_ROM) {
        if (!has(col, need_means)) return missing_cols(t, col, need_means, mp_measure_name(meas), err);
        src = MP_SRC_MEANS;
    } else if (meas == MP_MEASURE_OR || meas == MP_MEASURE_RR || meas == MP_MEASURE_RD) {
        if (!has(col, need_ab) || (col[C_BI] < 0 && col[C_N1] < 0) ||
            (col[C_DI] < 0 && col[C_N2] < 0)) {
            static const int need_all[] = {C_AI, C_BI, C_CI, C_DI, -1};
            return missing_cols(t, col, need_all, mp_measure_name(meas), err);
        }
        src = MP_SRC_COUNTS;
    } else if (has(col, need_means)) {
        mp_error_set(err, mp_table_name(t), 0, 0,
                     "group means and SDs found: choose --measure SMD, MD or ROM");
        return MP_FAIL(MP_EINVAL);
    } else if (col[C_AI] >= 0 && col[C_CI] >= 0) {
        mp_error_set(err, mp_table_name(t), 0, 0,
                     "2x2 counts found: choose --measure OR, RR or RD");
        return MP_FAIL(MP_EINVAL);
    } else {
        mp_error_set(err, mp_table_name(t), 0, 0,
                     "no effect-size columns: need yi and vi (or sei, or ci_lb and ci_ub), "
                     "group means (m1i, sd1i, n1i, m2i, sd2i, n2i) or counts (ai, bi, ci, di)");
        return MP_FAIL(MP_EINVAL);
    }

    size_t n = mp_table_nrows(t);
    out->n = n;
    out->measure = meas;
    out->source = src;
    out->vtype = o->vtype;
    size_t bytes = mp_mul_size(n, sizeof(double));
    if (!bytes) return MP_FAIL(MP_ENOMEM);
    out->yi = malloc(bytes);
    out->vi = malloc(bytes);
    out->used = malloc(n);
    if (!out->yi || !out->vi || !out->used) { mp_effects_free(out); return MP_FAIL(MP_ENOMEM); }

    static const int use_vi[] = {C_YI, C_VI, -1}, use_sei[] = {C_YI, C_SEI, -1},
                     use_ci[] = {C_YI, C_CILB, C_CIUB, -1}, use_n[] = {C_YI, C_N1, C_N2, -1},
                     use_means[] = {C_M1, C_SD1, C_N1, C_M2, C_SD2, C_N2, -1};
    int use_counts[6] = {C_AI, col[C_BI] >= 0 ? C_BI : C_N1, C_CI, col[C_DI] >= 0 ? C_DI : C_N2, -1, -1};
    const int *use = src == MP_SRC_YI_VI ? use_vi : src == MP_SRC_YI_SEI ? use_sei
                   : src == MP_SRC_YI_CI ? use_ci : src == MP_SRC_YI_N ? use_n
                   : src == MP_SRC_MEANS ? use_means : use_counts;
    if (src == MP_SRC_YI_CI && !(o->level > 0 && o->level < 100)) {
        mp_error_set(err, mp_table_name(t), 0, 0, "confidence level must be in (0, 100), got %g",
                     o->level);
        mp_effects_free(out);
        return MP_FAIL(MP_EINVAL);
    }
    double zcrit = src == MP_SRC_YI_CI ? gsl_cdf_ugaussian_Qinv((1.0 - o->level / 100.0) / 2.0)
                                       : 0.0;

    for (size_t i = 0; i < n; i++) {
        double x[C_NCOL];
        int na = -1;
        out->yi[i] = out->vi[i] = NAN;
        out->used[i] = 0;
        for (const int *u = use; *u >= 0; u++) {
            size_t j = (size_t)col[*u];
            /* An explicit NA is a missing value (R's convention): the row
             * is left out and reported.  An empty cell is an error (see
             * mp_table_read() in table.h for the rule). */
            if (mp_table_is_na(t, i, j)) {
                if (na < 0) na = *u;
                continue;
            }
            mp_status s = mp_table_number(t, i, j, &x[*u], err);
            if (s != MP_OK) { mp_effects_free(out); return s; }
        }
        if (na >= 0) {
            if (mp_msgs_add(&out->warnings,
                            "row %zu (line %zu) left out: missing value (NA) in column '%s'",
                            i + 1, mp_table_line(t, i), cname[na]) != MP_OK) {
                mp_effects_free(out);
                return MP_FAIL(MP_ENOMEM);
            }
            continue;
        }
        /* domain checks, each naming the offending cell */
#define BAD(c, cond, what)                                                               \
    do {                                                                                 \
        if (cond) {                                                                      \
            mp_table_error(t, i, (size_t)col[c], err, "column '%s': %s (got %g)", cname[c], \
                           what, x[c]);                                                 \
            mp_effects_free(out);                                                        \
            return MP_FAIL(MP_EPARSE);                                                   \
        }                                                                                \
    } while (0)
        double yi = NAN, vi = NAN;
        mp_status s = MP_OK;
        switch (src) {
        case MP_SRC_YI_VI:
            BAD(C_VI, !(x[C_VI] > 0), "sampling variance must be positive");
            yi = x[C_YI]; vi = x[C_VI];
            break;
        case MP_SRC_YI_SEI:
            BAD(C_SEI, !(x[C_SEI] > 0), "standard error must be positive");
            yi = x[C_YI]; vi = x[C_SEI] * x[C_SEI];
            break;
        case MP_SRC_YI_CI: {
            BAD(C_CIUB, !(x[C_CIUB] > x[C_CILB]), "upper CI bound must exceed the lower one");
            double se = (x[C_CIUB] - x[C_CILB]) / (2.0 * zcrit);
            yi = x[C_YI]; vi = se * se;
            break;
        }
        case MP_SRC_YI_N:
            BAD(C_N1, !(x[C_N1] > 0), "group size must be positive");
            BAD(C_N2, !(x[C_N2] > 0), "group size must be positive");
            yi = x[C_YI];
            s = mp_es_smd_var(yi, x[C_N1], x[C_N2], o->vtype, &vi);
            BAD(C_N1, s != MP_OK, "group sizes too small for this variance formula");
            break;
        case MP_SRC_MEANS:
            BAD(C_N1, !(x[C_N1] > 0), "group size must be positive");
            BAD(C_N2, !(x[C_N2] > 0), "group size must be positive");
            BAD(C_SD1, !(x[C_SD1] > 0), "standard deviation must be positive");
            BAD(C_SD2, !(x[C_SD2] > 0), "standard deviation must be positive");
            if (meas == MP_MEASURE_ROM) {
                BAD(C_M1, !(x[C_M1] > 0), "ROM needs positive means");
                BAD(C_M2, !(x[C_M2] > 0), "ROM needs positive means");
                s = mp_es_rom(x[C_M1], x[C_SD1], x[C_N1], x[C_M2], x[C_SD2], x[C_N2], &yi, &vi);
            } else if (meas == MP_MEASURE_MD) {
                s = mp_es_md(x[C_M1], x[C_SD1], x[C_N1], x[C_M2], x[C_SD2], x[C_N2], &yi, &vi);
            } else {
                s = mp_es_smd(x[C_M1], x[C_SD1], x[C_N1], x[C_M2], x[C_SD2], x[C_N2], o->vtype,
                              &yi, &vi);
            }
            BAD(C_N1, s != MP_OK, "group sizes too small for this measure");
            break;
        case MP_SRC_COUNTS: {
            int b_is_n = col[C_BI] < 0, d_is_n = col[C_DI] < 0;
            int cb = b_is_n ? C_N1 : C_BI, cd = d_is_n ? C_N2 : C_DI;
            BAD(C_AI, !(x[C_AI] >= 0), "count must not be negative");
            BAD(C_CI, !(x[C_CI] >= 0), "count must not be negative");
            BAD(cb, !(x[cb] >= 0), b_is_n ? "group size must not be negative" : "count must not be negative");
            BAD(cd, !(x[cd] >= 0), d_is_n ? "group size must not be negative" : "count must not be negative");
            BAD(C_AI, b_is_n && x[C_AI] > x[C_N1], "events exceed the group size n1i");
            BAD(C_CI, d_is_n && x[C_CI] > x[C_N2], "events exceed the group size n2i");
            double a = x[C_AI], c = x[C_CI];
            double b = b_is_n ? x[C_N1] - a : x[C_BI], d = d_is_n ? x[C_N2] - c : x[C_DI];
            BAD(cb, a + b <= 0, "treatment arm is empty");
            BAD(cd, c + d <= 0, "control arm is empty");
            s = mp_es_2x2(meas, a, b, c, d, &yi, &vi);
            if (s == MP_EDOM) {
                if (mp_msgs_add(&out->warnings,
                                "row %zu (line %zu) left out: %s in both arms (%s not estimable)",
                                i + 1, mp_table_line(t, i),
                                a == 0 && c == 0 ? "no events" : "no non-events",
                                mp_measure_name(meas)) != MP_OK) {
                    mp_effects_free(out);
                    return MP_FAIL(MP_ENOMEM);
                }
                continue;
            }
            break;
        }
        }
#undef BAD
        if (!isfinite(yi) || !isfinite(vi) || !(vi > 0)) {
            mp_table_error(t, i, (size_t)col[use[0]], err,
                           "effect size or variance is not finite (yi=%g, vi=%g)", yi, vi);
            mp_effects_free(out);
            return MP_FAIL(MP_EPARSE);
        }
        out->yi[i] = yi;
        out->vi[i] = vi;
        out->used[i] = 1;
        out->k++;
    }
    return MP_OK;
}
