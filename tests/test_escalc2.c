/* tests/test_escalc2.c - proportions, correlations, rates, paired designs, Peto, ratio + CI.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Sources of the expected values:
 * - tests/reference/escalc2/expected_escalc.csv: R metafor 3.8-1 escalc()
 *   with its defaults on synthetic sets with zero cells and edge cases
 *   (gen.R beside it; 17 significant digits), read through our loader;
 *   tolerance 1e-12 relative.
 * - tests/reference/escalc2/expected_transf.csv: metafor's transf.ilogit,
 *   transf.ztor, transf.iarcsin, transf.ipft.hm, transf.isqrt, transf.iirft
 *   (gen.R); tolerance 1e-13.
 * - One value per measure worked by hand from the definitions (metafor's
 *   escalc documentation; Freeman & Tukey 1950; Fisher 1921; Becker 1988;
 *   Yusuf et al. 1985), written out below with the arithmetic; the
 *   small-sample factor J = Gamma(m/2) / (sqrt(m/2) Gamma((m-1)/2)) from
 *   libm's lgamma, not from the library. */
#include "testutil.h"

#include <metapool/metapool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double PI = 3.14159265358979323846;

static mp_table *load_mem(const char *txt)
{
    mp_table *t = NULL;
    mp_error err;
    mp_status s = mp_table_read_mem("mem.csv", txt, strlen(txt), &t, &err);
    ck_assert_msg(s == MP_OK, "%s: %s", mp_strerror(s), err.msg);
    return t;
}

static mp_status compute(const mp_table *t, const char *measure, mp_effects *e, mp_error *err)
{
    mp_es_opts o;
    mp_es_opts_init(&o);
    if (measure) {
        ck_assert_int_eq(mp_measure_parse(measure, &o.measure), MP_OK);
        o.measure_given = 1;
    }
    mp_error_clear(err);
    return mp_effects_compute(t, &o, e, err);
}

static double num(const mp_table *t, size_t i, const char *col)
{
    long j = mp_table_col(t, col);
    ck_assert_msg(j >= 0, "no column %s", col);
    const char *s = mp_table_cell(t, i, (size_t)j);
    if (strcmp(s, "NA") == 0) return NAN;
    return strtod(s, NULL);
}

static double J(double m) { return exp(lgamma(m / 2) - 0.5 * log(m / 2) - lgamma((m - 1) / 2)); }

/* ---- metafor oracle sets ---- */

START_TEST(test_oracle)
{
    mp_table *ex = NULL;
    mp_error err;
    ck_assert_int_eq(mp_table_read(tu_ref("escalc2/expected_escalc.csv"), &ex, &err), MP_OK);
    size_t n = mp_table_nrows(ex), i = 0, groups = 0;
    long jc = mp_table_col(ex, "csv"), jm = mp_table_col(ex, "measure");
    while (i < n) {
        const char *csv = mp_table_cell(ex, i, (size_t)jc), *meas = mp_table_cell(ex, i, (size_t)jm);
        char path[512];
        snprintf(path, sizeof path, "escalc2/%s", csv);
        mp_table *t = NULL;
        ck_assert_int_eq(mp_table_read(tu_ref(path), &t, &err), MP_OK);
        mp_effects e;
        ck_assert_msg(compute(t, meas, &e, &err) == MP_OK, "%s %s: %s", csv, meas, err.msg);
        ck_assert_uint_eq(e.n, mp_table_nrows(t));
        for (size_t r = 0; r < e.n; r++, i++) {
            ck_assert_str_eq(mp_table_cell(ex, i, (size_t)jm), meas);
            double y = num(ex, i, "yi"), v = num(ex, i, "vi");
            ck_assert_msg(rel_close(e.yi[r], y, 1e-12) && rel_close(e.vi[r], v, 1e-12),
                          "%s %s row %zu: got %.17g %.17g want %.17g %.17g", csv, meas, r + 1,
                          e.yi[r], e.vi[r], y, v);
            ck_assert(e.used[r]);
        }
        mp_effects_free(&e);
        mp_table_free(t);
        groups++;
    }
    ck_assert_uint_eq(groups, 21); /* every (file, measure) of gen.R */
    mp_table_free(ex);
}
END_TEST

START_TEST(test_transf_oracle)
{
    mp_table *ex = NULL;
    mp_error err;
    ck_assert_int_eq(mp_table_read(tu_ref("escalc2/expected_transf.csv"), &ex, &err), MP_OK);
    long jf = mp_table_col(ex, "fn");
    for (size_t i = 0; i < mp_table_nrows(ex); i++) {
        const char *fn = mp_table_cell(ex, i, (size_t)jf);
        mp_transf t = strcmp(fn, "ilogit") == 0    ? MP_TRANSF_ILOGIT
                      : strcmp(fn, "ztor") == 0    ? MP_TRANSF_ZTOR
                      : strcmp(fn, "iarcsin") == 0 ? MP_TRANSF_IARCSIN
                      : strcmp(fn, "ipft_hm") == 0 ? MP_TRANSF_IPFT_HM
                      : strcmp(fn, "isqrt") == 0   ? MP_TRANSF_ISQRT
                                                   : MP_TRANSF_IIRFT_HM;
        double got = mp_transf_apply(t, num(ex, i, "x"), num(ex, i, "aux"));
        ck_assert_msg(rel_close(got, num(ex, i, "value"), 1e-13), "%s(%g) = %.17g, want %.17g", fn,
                      num(ex, i, "x"), got, num(ex, i, "value"));
    }
    mp_table_free(ex);
    /* which transformation each measure gets (interface.md) */
    ck_assert_int_eq(mp_measure_transf(MP_MEASURE_PLO), MP_TRANSF_ILOGIT);
    ck_assert_int_eq(mp_measure_transf(MP_MEASURE_ZCOR), MP_TRANSF_ZTOR);
    ck_assert_int_eq(mp_measure_transf(MP_MEASURE_PFT), MP_TRANSF_IPFT_HM);
    ck_assert_int_eq(mp_measure_transf(MP_MEASURE_PAS), MP_TRANSF_IARCSIN);
    ck_assert_int_eq(mp_measure_transf(MP_MEASURE_PR), MP_TRANSF_NONE);
    ck_assert_int_eq(mp_measure_transf(MP_MEASURE_COR), MP_TRANSF_NONE);
    ck_assert_int_eq(mp_measure_transf(MP_MEASURE_RD), MP_TRANSF_NONE);
    const mp_measure logs[] = {MP_MEASURE_OR, MP_MEASURE_RR, MP_MEASURE_ROM, MP_MEASURE_PETO,
                               MP_MEASURE_IRR, MP_MEASURE_HR, MP_MEASURE_PLN, MP_MEASURE_IRLN};
    for (size_t i = 0; i < sizeof logs / sizeof logs[0]; i++) ck_assert(mp_measure_is_log(logs[i]));
    ck_assert(!mp_measure_is_log(MP_MEASURE_IRD) && !mp_measure_is_log(MP_MEASURE_MC));
    ck_assert_rel(mp_transf_apply(MP_TRANSF_EXP, log(2.5), 0), 2.5, 1e-15);
    ck_assert(isnan(mp_transf_apply(MP_TRANSF_ILOGIT, NAN, 0)));
    ck_assert_str_eq(mp_transf_name(MP_TRANSF_NONE), "");
    ck_assert_str_eq(mp_measure_scale_label(MP_MEASURE_PFT), "Proportion");
    ck_assert_str_eq(mp_measure_scale_label(MP_MEASURE_ZCOR), "Correlation");
}
END_TEST

/* ---- hand-worked values, one or more per measure ---- */

START_TEST(test_hand_values)
{
    double y, v;
    /* PR, x = 4 of n = 8: p = 1/2, vi = p(1-p)/n = 1/32 */
    ck_assert_int_eq(mp_es_prop(MP_MEASURE_PR, 4, 8, &y, &v), MP_OK);
    ck_assert_rel(y, 0.5, 1e-15);
    ck_assert_rel(v, 0.03125, 1e-15);
    /* PR, x = 0 of 10: 1/2 added to x and n - x: p = 0.5/11, vi = p(1-p)/11 */
    ck_assert_int_eq(mp_es_prop(MP_MEASURE_PR, 0, 10, &y, &v), MP_OK);
    ck_assert_rel(y, 0.5 / 11, 1e-15);
    ck_assert_rel(v, (0.5 / 11) * (10.5 / 11) / 11, 1e-15);
    /* PLN, 4 of 8: log(1/2), 1/4 - 1/8 = 0.125 */
    ck_assert_int_eq(mp_es_prop(MP_MEASURE_PLN, 4, 8, &y, &v), MP_OK);
    ck_assert_rel(y, -0.69314718055994531, 1e-15);
    ck_assert_rel(v, 0.125, 1e-15);
    /* PLO, 0 of 10: x = .5, n - x = 10.5: log(.5/10.5) = -log 21, vi = 2 + 1/10.5 */
    ck_assert_int_eq(mp_es_prop(MP_MEASURE_PLO, 0, 10, &y, &v), MP_OK);
    ck_assert_rel(y, -3.0445224377234230, 1e-15);
    ck_assert_rel(v, 2.0 + 1.0 / 10.5, 1e-15);
    /* PAS, 1 of 4: asin(1/2) = pi/6, vi = 1/16 (no 1/2 added, also for 0 of 4: 0) */
    ck_assert_int_eq(mp_es_prop(MP_MEASURE_PAS, 1, 4, &y, &v), MP_OK);
    ck_assert_rel(y, PI / 6, 1e-15);
    ck_assert_rel(v, 1.0 / 16, 1e-15);
    ck_assert_int_eq(mp_es_prop(MP_MEASURE_PAS, 0, 4, &y, &v), MP_OK);
    ck_assert(y == 0.0);
    /* PFT, 0 of 3: (asin 0 + asin sqrt(1/4))/2 = pi/12, vi = 1/(4*3 + 2) = 1/14 */
    ck_assert_int_eq(mp_es_prop(MP_MEASURE_PFT, 0, 3, &y, &v), MP_OK);
    ck_assert_rel(y, PI / 12, 1e-15);
    ck_assert_rel(v, 1.0 / 14, 1e-15);
    /* PFT, 3 of 3: (asin sqrt(3/4) + asin 1)/2 = (pi/3 + pi/2)/2 = 5 pi/12 */
    ck_assert_int_eq(mp_es_prop(MP_MEASURE_PFT, 3, 3, &y, &v), MP_OK);
    ck_assert_rel(y, 5 * PI / 12, 1e-15);
    /* COR, r = .5, n = 11: vi = (1 - .25)^2/10 = 0.05625 */
    ck_assert_int_eq(mp_es_cor(MP_MEASURE_COR, 0.5, 11, &y, &v), MP_OK);
    ck_assert_rel(y, 0.5, 1e-15);
    ck_assert_rel(v, 0.05625, 1e-15);
    /* ZCOR, r = .5, n = 13: z = log(3)/2 = 0.5493061443340549, vi = 1/10 */
    ck_assert_int_eq(mp_es_cor(MP_MEASURE_ZCOR, 0.5, 13, &y, &v), MP_OK);
    ck_assert_rel(y, 0.54930614433405489, 1e-15);
    ck_assert_rel(v, 0.1, 1e-15);
    /* IR, 5 events in 100: 0.05, vi = 0.05/100; IRLN: log 0.05, 1/5; IRS: sqrt .05, 1/400 */
    ck_assert_int_eq(mp_es_ir(MP_MEASURE_IR, 5, 100, &y, &v), MP_OK);
    ck_assert_rel(y, 0.05, 1e-15);
    ck_assert_rel(v, 0.0005, 1e-15);
    ck_assert_int_eq(mp_es_ir(MP_MEASURE_IRLN, 5, 100, &y, &v), MP_OK);
    ck_assert_rel(y, -2.9957322735539909, 1e-15);
    ck_assert_rel(v, 0.2, 1e-15);
    ck_assert_int_eq(mp_es_ir(MP_MEASURE_IRS, 5, 100, &y, &v), MP_OK);
    ck_assert_rel(y, 0.22360679774997897, 1e-15);
    ck_assert_rel(v, 0.0025, 1e-15);
    /* IRLN, 0 events in 10: x = 1/2: log(.05), vi = 2 */
    ck_assert_int_eq(mp_es_ir(MP_MEASURE_IRLN, 0, 10, &y, &v), MP_OK);
    ck_assert_rel(y, -2.9957322735539909, 1e-15);
    ck_assert_rel(v, 2.0, 1e-15);
    /* IRFT, 0 events in 4: (0 + sqrt(1/4))/2 = 1/4, vi = 1/16 */
    ck_assert_int_eq(mp_es_ir(MP_MEASURE_IRFT, 0, 4, &y, &v), MP_OK);
    ck_assert_rel(y, 0.25, 1e-15);
    ck_assert_rel(v, 0.0625, 1e-15);
    /* IRR, 4/100 vs 2/200: log 4, vi = 1/4 + 1/2;  IRD: 0.03, 4/100^2 + 2/200^2 = 0.00045 */
    ck_assert_int_eq(mp_es_irr(MP_MEASURE_IRR, 4, 100, 2, 200, &y, &v), MP_OK);
    ck_assert_rel(y, 1.3862943611198906, 1e-15);
    ck_assert_rel(v, 0.75, 1e-15);
    ck_assert_int_eq(mp_es_irr(MP_MEASURE_IRD, 4, 100, 2, 200, &y, &v), MP_OK);
    ck_assert_rel(y, 0.03, 1e-14);
    ck_assert_rel(v, 0.00045, 1e-14);
    /* IRR, 0/100 vs 2/200: 1/2 added to both counts: log(.5/100) - log(2.5/200) = log .4 */
    ck_assert_int_eq(mp_es_irr(MP_MEASURE_IRR, 0, 100, 2, 200, &y, &v), MP_OK);
    ck_assert_rel(y, log(0.4), 1e-15);
    ck_assert_rel(v, 2.0 + 0.4, 1e-15);
    /* MC: m1 10, m2 7, sd 3 and 4, n 25, r .5: 3, (9 + 16 - 12)/25 = 0.52 */
    ck_assert_int_eq(mp_es_paired(MP_MEASURE_MC, 10, 7, 3, 4, 25, 0.5, &y, &v), MP_OK);
    ck_assert_rel(y, 3.0, 1e-15);
    ck_assert_rel(v, 0.52, 1e-15);
    /* SMCC: J(24) 3/sqrt(13), vi = 1/25 + g^2/50 */
    double g = J(24) * 3 / sqrt(13.0);
    ck_assert_int_eq(mp_es_paired(MP_MEASURE_SMCC, 10, 7, 3, 4, 25, 0.5, &y, &v), MP_OK);
    ck_assert_rel(y, g, 1e-14);
    ck_assert_rel(v, 1.0 / 25 + g * g / 50, 1e-14);
    /* SMCR: J(24) 3/3, vi = 2(1 - .5)/25 + g^2/50 (sd2 unused: NaN allowed) */
    g = J(24);
    ck_assert_int_eq(mp_es_paired(MP_MEASURE_SMCR, 10, 7, 3, NAN, 25, 0.5, &y, &v), MP_OK);
    ck_assert_rel(y, g, 1e-14);
    ck_assert_rel(v, 0.04 + g * g / 50, 1e-14);
    /* PETO, a b c d = 2 8 4 6: N 20, E = 6*10/20 = 3, V = 6*14*(1/2)(1/2)/19 = 21/19:
     * yi = (2 - 3)/V = -19/21, vi = 19/21 */
    ck_assert_int_eq(mp_es_2x2(MP_MEASURE_PETO, 2, 8, 4, 6, &y, &v), MP_OK);
    ck_assert_rel(y, -19.0 / 21, 1e-15);
    ck_assert_rel(v, 19.0 / 21, 1e-15);
    /* PETO with a zero cell: 1/2 in every cell: 0.5 10.5 3.5 7.5, N 22, n1 = n2 = 11,
     * xt 4, yt 18: E = 2, V = 4*18/4/21 = 6/7; yi = -1.5 * 7/6 = -1.75 */
    ck_assert_int_eq(mp_es_2x2(MP_MEASURE_PETO, 0, 10, 3, 7, &y, &v), MP_OK);
    ck_assert_rel(y, -1.75, 1e-15);
    ck_assert_rel(v, 7.0 / 6, 1e-15);
    ck_assert_int_eq(mp_es_2x2(MP_MEASURE_PETO, 0, 10, 0, 7, &y, &v), MP_EDOM);
    /* ratio + CI (Hackshaw 1998's first study, OR 1.18 [0.90, 1.54]):
     * log 1.18, ((log 1.54 - log 0.90)/(2 * 1.959963984540054))^2 */
    ck_assert_int_eq(mp_es_ratio_ci(1.18, 0.90, 1.54, 1.959963984540054, &y, &v), MP_OK);
    ck_assert_rel(y, 0.16551443847757333, 1e-14);
    ck_assert_rel(v, 0.018776885485068111, 1e-12);
}
END_TEST

/* Domain errors of the single-study API. */
START_TEST(test_domain)
{
    double y, v;
    ck_assert_int_eq(mp_es_prop(MP_MEASURE_PR, 5, 4, &y, &v), MP_EDOM);   /* x > n */
    ck_assert_int_eq(mp_es_prop(MP_MEASURE_PR, -1, 4, &y, &v), MP_EDOM);
    ck_assert_int_eq(mp_es_prop(MP_MEASURE_PR, 0, 0, &y, &v), MP_EDOM);
    ck_assert_int_eq(mp_es_prop(MP_MEASURE_COR, 1, 4, &y, &v), MP_EINVAL);
    ck_assert_int_eq(mp_es_cor(MP_MEASURE_COR, 1.01, 40, &y, &v), MP_EDOM);
    ck_assert_int_eq(mp_es_cor(MP_MEASURE_ZCOR, 0.2, 3, &y, &v), MP_EDOM);
    ck_assert_int_eq(mp_es_cor(MP_MEASURE_ZCOR, 1.0, 30, &y, &v), MP_EDOM);
    ck_assert_int_eq(mp_es_cor(MP_MEASURE_PR, 0.2, 30, &y, &v), MP_EINVAL);
    ck_assert_int_eq(mp_es_ir(MP_MEASURE_IR, 1, 0, &y, &v), MP_EDOM);
    ck_assert_int_eq(mp_es_ir(MP_MEASURE_IR, -1, 10, &y, &v), MP_EDOM);
    ck_assert_int_eq(mp_es_ir(MP_MEASURE_OR, 1, 10, &y, &v), MP_EINVAL);
    ck_assert_int_eq(mp_es_irr(MP_MEASURE_IRR, 0, 10, 0, 10, &y, &v), MP_EDOM);
    ck_assert_int_eq(mp_es_irr(MP_MEASURE_IRD, 0, 10, 0, 10, &y, &v), MP_OK); /* kept */
    ck_assert_int_eq(mp_es_irr(MP_MEASURE_IRR, 1, -10, 0, 10, &y, &v), MP_EDOM);
    ck_assert_int_eq(mp_es_irr(MP_MEASURE_PR, 1, 10, 1, 10, &y, &v), MP_EINVAL);
    ck_assert_int_eq(mp_es_paired(MP_MEASURE_MC, 1, 2, 1, 1, 10, 1.2, &y, &v), MP_EDOM);
    ck_assert_int_eq(mp_es_paired(MP_MEASURE_SMCC, 1, 2, 1, 1, 10, 1.0, &y, &v), MP_EDOM); /* sdd 0 */
    ck_assert_int_eq(mp_es_paired(MP_MEASURE_SMCR, 1, 2, 0, 1, 10, 0.5, &y, &v), MP_EDOM);
    ck_assert_int_eq(mp_es_paired(MP_MEASURE_SMCC, 1, 2, 1, 1, 2, 0.5, &y, &v), MP_EDOM);  /* J(1) */
    ck_assert_int_eq(mp_es_paired(MP_MEASURE_OR, 1, 2, 1, 1, 20, 0.5, &y, &v), MP_EINVAL);
    ck_assert_int_eq(mp_es_ratio_ci(0, 0.5, 2, 1.96, &y, &v), MP_EDOM);
    ck_assert_int_eq(mp_es_ratio_ci(1, -0.5, 2, 1.96, &y, &v), MP_EDOM);
    ck_assert_int_eq(mp_es_ratio_ci(1, 2, 0.5, 1.96, &y, &v), MP_EDOM);
}
END_TEST

/* ---- tables: columns, bad input with file:line:col, rows left out ---- */

static void expect_error(const char *text, const char *measure, mp_status st, size_t line,
                         size_t col, const char *msg)
{
    mp_table *t = load_mem(text);
    mp_effects e;
    mp_error err;
    ck_assert_int_eq(compute(t, measure, &e, &err), st);
    ck_assert_uint_eq(err.line, line);
    ck_assert_uint_eq(err.col, col);
    ck_assert_msg(strstr(err.msg, msg), "message '%s' lacks '%s'", err.msg, msg);
    ck_assert(e.yi == NULL && e.cells == NULL);
    mp_table_free(t);
}

START_TEST(test_bad_input)
{
    expect_error("xi,ni\n3,10\n12,10\n", "PR", MP_EPARSE, 3, 1, "events exceed the sample size ni");
    expect_error("ri,ni\n0.3,10\n-1.2,10\n", "COR", MP_EPARSE, 3, 1,
                 "column 'ri': a correlation must lie in [-1, 1]");
    expect_error("ri,ni\n1,10\n", "ZCOR", MP_EPARSE, 2, 1, "Fisher's z is infinite");
    expect_error("xi,ti\n3,0\n", "IR", MP_EPARSE, 2, 3, "column 'ti': person-time must be positive");
    expect_error("x1i,t1i,x2i,t2i\n3,10,2,-5\n", "IRR", MP_EPARSE, 2, 8,
                 "column 't2i': person-time must be positive");
    expect_error("m1i,m2i,sd1i,sd2i,ni,ri\n5,4,1,1,10,0.5\n5,4,1,1,10,NA\n", "MC", MP_EPARSE, 3, 12,
                 "column 'ri': the correlation between the two measurements is missing");
    expect_error("m1i,m2i,sd1i,sd2i,ni,ri\n5,4,1,1,10,1.5\n", "SMCC", MP_EPARSE, 2, 12,
                 "column 'ri': a correlation must lie in [-1, 1]");
    expect_error("yi,ci_lb,ci_ub\n0.75,0.60,0.94\n-0.2,0.5,0.9\n", "HR", MP_EPARSE, 3, 1,
                 "a ratio must be positive (the logarithm is taken)");
    expect_error("yi,ci_lb,ci_ub\n0.75,0,0.94\n", "OR", MP_EPARSE, 2, 6, "CI bound must be positive");
    expect_error("m1i,m2i,sd1i,sd2i,ni,ri\n5,4,1,1,10,1\n", "SMCC", MP_EPARSE, 2, 5,
                 "column 'sd1i': the SD of the differences is 0");
    expect_error("m1i,m2i,sd1i,sd2i,ni,ri\n5,4,1,1,2,0.5\n", "SMCR", MP_EPARSE, 2, 9,
                 "column 'ni': the small-sample correction needs ni > 2");
    expect_error("m1i,m2i,sd1i,sd2i,ni,ri\n5,4,0,1,20,0.5\n", "SMCR", MP_EPARSE, 2, 5,
                 "column 'sd1i': standard deviation must be positive");
    expect_error("m1i,m2i,sd1i,sd2i,ni,ri\n5,4,1,-1,20,0.5\n", "MC", MP_EPARSE, 2, 7,
                 "column 'sd2i': standard deviation must not be negative");
    expect_error("m1i,m2i,sd1i,sd2i,ni,ri\n5,4,1,1,0,0.5\n", "MC", MP_EPARSE, 2, 9,
                 "column 'ni': sample size must be positive");
    expect_error("ri,ni\n0.3,1\n", "COR", MP_EPARSE, 2, 5, "column 'ni': the variance of r needs ni > 1");
    expect_error("ri,ni\n0.3,0\n", "COR", MP_EPARSE, 2, 5, "column 'ni': sample size must be positive");
    expect_error("xi,ni\n3,0\n", "PR", MP_EPARSE, 2, 3, "column 'ni': sample size must be positive");
    expect_error("xi,ni\n-3,10\n", "PAS", MP_EPARSE, 2, 1, "column 'xi': count must not be negative");
    expect_error("xi,ti\n-3,10\n", "IRS", MP_EPARSE, 2, 1, "column 'xi': count must not be negative");
    expect_error("x1i,t1i,x2i,t2i\n-3,10,2,5\n", "IRD", MP_EPARSE, 2, 1,
                 "column 'x1i': count must not be negative");
    expect_error("x1i,t1i,x2i,t2i\n3,10,-2,5\n", "IRD", MP_EPARSE, 2, 6,
                 "column 'x2i': count must not be negative");
    expect_error("x1i,t1i,x2i,t2i\n3,0,2,5\n", "IRR", MP_EPARSE, 2, 3,
                 "column 't1i': person-time must be positive");
    expect_error("yi,ci_lb,ci_ub\n0.75,0.9,0.8\n", "RR", MP_EPARSE, 2, 10,
                 "upper CI bound must exceed the lower one");
    /* a measure whose columns are absent names the columns it needs */
    expect_error("study,xi\nA,3\n", "PLO", MP_EINVAL, 1, 0, "PLO needs the column ni");
    expect_error("study,ri\nA,.3\n", "ZCOR", MP_EINVAL, 1, 0, "ZCOR needs the column ni");
    expect_error("xi,ni\n3,10\n", "IRFT", MP_EINVAL, 1, 0, "IRFT needs the column ti");
    expect_error("x1i,t1i\n3,10\n", "IRD", MP_EINVAL, 1, 0, "IRD needs the columns x2i, t2i");
    expect_error("m1i,m2i,sd1i,ni\n1,2,3,4\n", "SMCC", MP_EINVAL, 1, 0,
                 "SMCC needs the columns sd2i, ri");
    expect_error("m1i,m2i,sd1i,ni\n1,2,3,4\n", "SMCR", MP_EINVAL, 1, 0, "SMCR needs the column ri");
    expect_error("study,yi\nA,1\n", "HR", MP_EINVAL, 1, 0, "--measure HR needs the columns ci_lb, ci_ub");
    expect_error("study,xi\nA,1\n", "HR", MP_EINVAL, 1, 0,
                 "--measure HR (a hazard ratio and its CI) needs the columns yi, ci_lb, ci_ub");
    expect_error("yi,ci_lb\n1,.5\n", "RR", MP_EINVAL, 1, 0, "needs the column ci_ub");
    expect_error("xi,ni\n1,2\n", NULL, MP_EINVAL, 1, 0, "choose --measure PR, PLN, PLO, PAS or PFT");
    expect_error("ri,ni\n.1,20\n", NULL, MP_EINVAL, 1, 0, "choose --measure COR or ZCOR");
    expect_error("xi,ti\n1,20\n", NULL, MP_EINVAL, 1, 0, "choose --measure IR, IRLN, IRS or IRFT");
    expect_error("x1i,t1i,x2i,t2i\n1,20,1,2\n", NULL, MP_EINVAL, 1, 0, "choose --measure IRR or IRD");
    expect_error("m1i,m2i,sd1i,sd2i,ni,ri\n1,2,3,4,5,.5\n", NULL, MP_EINVAL, 1, 0,
                 "choose --measure MC, SMCC or SMCR");
}
END_TEST

START_TEST(test_rows)
{
    mp_effects e;
    mp_error err;
    /* ZCOR with ni <= 3: metafor's vi is NA; the row is left out with a warning */
    mp_table *t = load_mem("ri,ni\n0.3,3\n0.5,13\n");
    ck_assert_int_eq(compute(t, "ZCOR", &e, &err), MP_OK);
    ck_assert_uint_eq(e.k, 1);
    ck_assert(!e.used[0] && e.used[1]);
    ck_assert_str_eq(e.warnings.v[0],
                     "row 1 (line 2) left out: ni = 3: the variance of Fisher's z needs ni > 3");
    mp_effects_free(&e);
    mp_table_free(t);
    /* an NA in a non-correlation cell of a paired measure leaves the row out */
    t = load_mem("m1i,m2i,sd1i,sd2i,ni,ri\n10,7,3,4,25,0.5\nNA,7,3,4,25,0.5\n");
    ck_assert_int_eq(compute(t, "MC", &e, &err), MP_OK);
    ck_assert_uint_eq(e.k, 1);
    ck_assert_rel(e.vi[0], 0.52, 1e-15);
    mp_effects_free(&e);
    mp_table_free(t);
    /* SMCR does not need sd2i */
    t = load_mem("m1i,m2i,sd1i,ni,ri\n10,7,3,25,0.5\n");
    ck_assert_int_eq(compute(t, "SMCR", &e, &err), MP_OK);
    ck_assert_rel(e.yi[0], J(24), 1e-14);
    mp_effects_free(&e);
    mp_table_free(t);
    /* PFT and IRFT keep the sizes for the back-transformation; rates keep the cells */
    t = load_mem("xi,ni\n0,3\n3,3\n");
    ck_assert_int_eq(compute(t, "PFT", &e, &err), MP_OK);
    ck_assert(e.size && e.size[0] == 3 && e.size[1] == 3 && e.cells == NULL);
    ck_assert_int_eq(e.source, MP_SRC_PROP);
    mp_effects_free(&e);
    mp_table_free(t);
    t = load_mem("x1i,t1i,x2i,t2i\n0,10,0,12\n3,10,1,12\n");
    ck_assert_int_eq(compute(t, "IRR", &e, &err), MP_OK); /* double zero kept, 1/2 added */
    ck_assert_uint_eq(e.k, 2);
    ck_assert(e.zero00[0] && !e.zero00[1]);
    ck_assert(e.cells[0] == 0 && e.cells[1] == 10 && e.cells[6] == 1 && e.cells[7] == 12);
    ck_assert_rel(e.yi[0], log(0.5 / 10) - log(0.5 / 12), 1e-15);
    ck_assert_str_eq(e.warnings.v[0], "row 1 (line 2): no events in both groups: kept with 1/2 added to the counts");
    mp_effects_free(&e);
    mp_es_opts o;
    mp_es_opts_init(&o);
    o.measure = MP_MEASURE_IRR;
    o.measure_given = 1;
    o.drop00 = 1;
    ck_assert_int_eq(mp_effects_compute(t, &o, &e, &err), MP_OK);
    ck_assert_uint_eq(e.k, 1);
    ck_assert_str_eq(e.warnings.v[0], "row 1 (line 2) left out: no events in both groups (IRR not estimable)");
    mp_effects_free(&e);
    mp_table_free(t);
    /* with --measure HR|OR|RR|IRR a ratio and its CI: logs taken; with yi, vi
     * the yi is used as given (already on the log scale) */
    t = load_mem("yi,ci_lb,ci_ub\n0.75,0.60,0.94\n");
    ck_assert_int_eq(compute(t, "HR", &e, &err), MP_OK);
    ck_assert_int_eq(e.source, MP_SRC_RATIO_CI);
    ck_assert_rel(e.yi[0], log(0.75), 1e-15);
    double se = (log(0.94) - log(0.60)) / (2 * 1.959963984540054);
    ck_assert_rel(e.vi[0], se * se, 1e-12);
    mp_effects_free(&e);
    mp_table_free(t);
    t = load_mem("yi,vi\n-0.28,0.01\n");
    ck_assert_int_eq(compute(t, "OR", &e, &err), MP_OK);
    ck_assert_int_eq(e.source, MP_SRC_YI_VI);
    ck_assert(e.yi[0] == -0.28);
    mp_effects_free(&e);
    mp_table_free(t);
}
END_TEST

/* Issue 11 item 6: ratio CIs given with GEN get a warning; raw-scale CIs do not. */
START_TEST(test_ratio_suggestion)
{
    const char *msg = "they look like ratios printed on the ratio scale";
    mp_effects e;
    mp_error err;
    /* Hackshaw 1998's first rows: OR [CI] as published */
    mp_table *t = load_mem("yi,ci_lb,ci_ub\n1.18,0.9,1.54\n1.45,1.02,2.08\n2.02,0.48,8.56\n");
    ck_assert_int_eq(compute(t, NULL, &e, &err), MP_OK);
    ck_assert_uint_eq(e.warnings.n, 1);
    ck_assert(strstr(e.warnings.v[0], msg) != NULL);
    mp_effects_free(&e);
    ck_assert_int_eq(compute(t, "GEN", &e, &err), MP_OK);
    ck_assert_uint_eq(e.warnings.n, 1);
    mp_effects_free(&e);
    ck_assert_int_eq(compute(t, "OR", &e, &err), MP_OK); /* logs taken: no warning */
    ck_assert_uint_eq(e.warnings.n, 0);
    mp_effects_free(&e);
    mp_table_free(t);
    /* the same studies on the log scale (yi +- 1.96 se): symmetric, no warning */
    t = load_mem("yi,ci_lb,ci_ub\n0.166,-0.102,0.434\n0.372,0.017,0.727\n0.703,-0.733,2.139\n");
    ck_assert_int_eq(compute(t, NULL, &e, &err), MP_OK);
    ck_assert_uint_eq(e.warnings.n, 0);
    mp_effects_free(&e);
    mp_table_free(t);
    /* positive values with symmetric raw intervals (means, say): no warning */
    t = load_mem("yi,ci_lb,ci_ub\n5.2,4.1,6.3\n3.0,1.0,5.0\n");
    ck_assert_int_eq(compute(t, NULL, &e, &err), MP_OK);
    ck_assert_uint_eq(e.warnings.n, 0);
    mp_effects_free(&e);
    mp_table_free(t);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("escalc2");
    TCase *tc = tcase_create("measures");
    tcase_add_test(tc, test_oracle);
    tcase_add_test(tc, test_transf_oracle);
    tcase_add_test(tc, test_hand_values);
    tcase_add_test(tc, test_domain);
    tcase_add_test(tc, test_bad_input);
    tcase_add_test(tc, test_rows);
    tcase_add_test(tc, test_ratio_suggestion);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
