/* tests/test_report.c - unit tests of the reporter's helpers: axis range, ticks, number formats, UTF-8.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The helpers are internal to the report stage of the library
 * (src/report/report_util.c, declared in report_internal.h); the static
 * library this test links exports them.  Expected values are derived by
 * hand in the comments. */
#include "testutil.h"

#include "report/report_internal.h"

#include <stdlib.h>
#include <string.h>

/* ---- numbers ---- */

START_TEST(test_fmt)
{
    char b[64];
    ck_assert_str_eq(rp_fmt(b, sizeof b, 0.41093865, 2), "0.41");
    ck_assert_str_eq(rp_fmt(b, sizeof b, -0.001, 2), "0.00");   /* never "-0.00" */
    ck_assert_str_eq(rp_fmt(b, sizeof b, -0.0, 0), "0");
    ck_assert_str_eq(rp_fmt(b, sizeof b, -0.5, 0), "0");       /* printf gives "-0" (half to even) */
}
END_TEST

START_TEST(test_fmt_special)
{
    char b[64];
    ck_assert_str_eq(rp_fmt(b, sizeof b, NAN, 2), "NA");
    ck_assert_str_eq(rp_fmt(b, sizeof b, INFINITY, 2), "NA");
    ck_assert_str_eq(rp_fmt(b, sizeof b, -1.005, 1), "-1.0");
    ck_assert_str_eq(rp_fmt_p(b, sizeof b, 7.05e-05, 2), "p < 0.001");
    ck_assert_str_eq(rp_fmt_p(b, sizeof b, 0.0421, 2), "p = 0.042");
    ck_assert_str_eq(rp_fmt_p(b, sizeof b, 7.05e-05, 4), "p < 0.0001");
    ck_assert_str_eq(rp_fmt_p(b, sizeof b, 0.001, 2), "p = 0.001");
    ck_assert_str_eq(rp_fmt_p(b, sizeof b, NAN, 2), "p = NA");
}
END_TEST

/* ---- UTF-8 ---- */

START_TEST(test_clean)
{
    static const struct { const char *in; int ascii; const char *out; } c[] = {
        {"plain", 0, "plain"},
        {"a\x01" "b\x1b[31m", 0, "a?b?[31m"},             /* control bytes, incl. ESC */
        {"Caf\xe9", 0, "Caf\xef\xbf\xbd"},                /* Latin-1 byte -> U+FFFD */
        {"\xc0\xaf", 0, "\xef\xbf\xbd\xef\xbf\xbd"},       /* overlong '/' */
        {"\xed\xa0\x80x", 0, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdx"}, /* surrogate */
        {"\xc3\x9cn\xc3\xaf", 0, "\xc3\x9cn\xc3\xaf"},     /* "Ünï" kept */
        {"\xc3\x9cn\xc3\xaf", 1, "?n?"},                   /* --ascii */
        {"\xf0\x9f\x98\x80", 0, "\xf0\x9f\x98\x80"},       /* 4-byte sequence kept */
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        char *o = rp_clean(c[i].in, c[i].ascii);
        ck_assert_ptr_nonnull(o);
        ck_assert_msg(strcmp(o, c[i].out) == 0, "case %zu: got \"%s\"", i, o);
        free(o);
    }
}
END_TEST

START_TEST(test_cols)
{
    const char *s = "\xc3\x9cn\xc3\xaf" "c"; /* "Ünïc": 4 characters, 6 bytes */
    ck_assert_uint_eq(rp_cols(s), 4);
    ck_assert_uint_eq(rp_prefix(s, 0), 0);
    ck_assert_uint_eq(rp_prefix(s, 1), 2);  /* "Ü" */
    ck_assert_uint_eq(rp_prefix(s, 2), 3);  /* "Ün" */
    ck_assert_uint_eq(rp_prefix(s, 3), 5);  /* "Ünï" */
    ck_assert_uint_eq(rp_prefix(s, 9), 6);
}
END_TEST

/* ---- ticks ---- */

static int has_tick(const rp_ticks *t, const char *lab)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->label[i], lab) == 0) return 1;
    return 0;
}

/* Ticks are ascending, and their labels (width charw each character,
 * centred) keep the gap: checked independently of the chooser. */
static void assert_spaced(const rp_ticks *t, double lo, double hi, double len, double charw,
                          double gap)
{
    for (size_t i = 0; i + 1 < t->n; i++) {
        double p0 = (t->at[i] - lo) / (hi - lo) * len, p1 = (t->at[i + 1] - lo) / (hi - lo) * len;
        double w0 = strlen(t->label[i]) * charw, w1 = strlen(t->label[i + 1]) * charw;
        ck_assert_msg(p1 - p0 >= (w0 + w1) / 2 + gap - 1e-9, "labels %s and %s collide",
                      t->label[i], t->label[i + 1]);
    }
    for (size_t i = 0; i < t->n; i++) ck_assert(t->at[i] >= lo - 1e-12 && t->at[i] <= hi + 1e-12);
}

START_TEST(test_ticks_ratio_svg)
{
    /* RR axis 0.07 .. 6.5 on 360 px, digits 8.3 px, gap 10: the 1-2-5 series
     * gives 0.1 0.2 0.5 1 2 5; the closest pair (x2 on a log range of
     * log(6.5/0.07) = 4.53) is 0.693/4.53*360 = 55 px apart > 25 + 10. */
    rp_ticks t;
    double lo = log(0.07), hi = log(6.5);
    rp_make_ticks(1, lo, hi, 360, 8.3, 10, &t);
    ck_assert_uint_eq(t.n, 6);
    const char *want[] = {"0.1", "0.2", "0.5", "1", "2", "5"};
    for (size_t i = 0; i < 6; i++) {
        ck_assert_str_eq(t.label[i], want[i]);
        ck_assert_rel(exp(t.at[i]), atof(want[i]), 1e-12);
    }
    assert_spaced(&t, lo, hi, 360, 8.3, 10);
}
END_TEST

START_TEST(test_ticks_ratio_terminal)
{
    /* the same range in 24 character cells: the 1-2-5 series collides
     * (0.1 and 0.2 are 0.693/4.53*24 = 3.7 cells apart < 3 + 1), so a
     * coarser set is used; it must still hold 1 and keep the labels apart */
    rp_ticks t;
    double lo = log(0.07), hi = log(6.5);
    rp_make_ticks(1, lo, hi, 24, 1, 1, &t);
    ck_assert_uint_ge(t.n, 2);
    ck_assert(has_tick(&t, "1"));
    assert_spaced(&t, lo, hi, 24, 1, 1);
}
END_TEST

START_TEST(test_ticks_ratio_narrow)
{
    /* RR 0.84 .. 1.22 on 30 cells: 1-2-5 gives only "1", so evenly spaced
     * values are used: step 0.05 collides at the top (log(1.2/1.15) = 0.0426
     * of 0.3733 -> 3.4 cells < 4.5), step 0.1 fits: 0.9 1 1.1 1.2 */
    rp_ticks t;
    double lo = log(0.84), hi = log(1.22);
    rp_make_ticks(1, lo, hi, 30, 1, 1, &t);
    ck_assert_uint_eq(t.n, 4);
    ck_assert_str_eq(t.label[0], "0.9");
    ck_assert_str_eq(t.label[1], "1");
    ck_assert_str_eq(t.label[2], "1.1");
    ck_assert_str_eq(t.label[3], "1.2");
    assert_spaced(&t, lo, hi, 30, 1, 1);
}
END_TEST

START_TEST(test_ticks_linear)
{
    /* -2.8 .. 1.8 on 360 px (78.26 px per unit), 8.3 px per character,
     * gap 10.  Steps are tried from fine to coarse: 0.2 (23 ticks, 15.7 px
     * apart) and 0.25 (19 ticks, 19.6 px) collide; 0.5 gives ticks 39.1 px
     * apart, and the widest neighbours ("-2.5" and "-2", or "-1.5" and "-1")
     * need (33.2 + 16.6)/2 + 10 = 34.9 px: it fits.  Expected:
     * -2.5 -2 -1.5 -1 -0.5 0 0.5 1 1.5 */
    rp_ticks t;
    rp_make_ticks(0, -2.8, 1.8, 360, 8.3, 10, &t);
    const char *want[] = {"-2.5", "-2", "-1.5", "-1", "-0.5", "0", "0.5", "1", "1.5"};
    ck_assert_uint_eq(t.n, 9);
    for (size_t i = 0; i < 9; i++) ck_assert_str_eq(t.label[i], want[i]);
    assert_spaced(&t, -2.8, 1.8, 360, 8.3, 10);
}
END_TEST

START_TEST(test_ticks_degenerate)
{
    rp_ticks t;
    rp_make_ticks(0, 1.0, 1.0, 100, 1, 1, &t);   /* empty range */
    ck_assert_uint_eq(t.n, 0);
    rp_make_ticks(1, -1.0, 1.0, 0, 1, 1, &t);    /* no room */
    ck_assert_uint_eq(t.n, 0);
    rp_make_ticks(1, log(1e-9), log(1e9), 20, 1, 1, &t); /* 18 decades in 20 cells */
    assert_spaced(&t, log(1e-9), log(1e9), 20, 1, 1);
}
END_TEST

/* ---- axis range ---- */

START_TEST(test_range)
{
    /* studies yi = 0, 1, 0.5 with vi = 0.01, 0.01, 100 (the last CI is
     * 0.5 +/- 19.6); pooled CI [0.3, 0.7], PI [-0.2, 1.2], FE CI [0.4, 0.6].
     * Core (points, pooled CIs, PI, 0) = [-0.2, 1.2], span 1.4, so the wide
     * CI widens the axis by at most 1.4 per side: [-1.6, 2.6]; then 2% of
     * 4.2 = 0.084 of air on each side: [-1.684, 2.684]. */
    static const double yi[] = {0, 1, 0.5}, vi[] = {0.01, 0.01, 100};
    double w[] = {49, 49, 2};
    const char *lab[] = {"a", "b", "c"};
    mp_report_opts opt;
    mp_report_opts_init(&opt);
    mp_report_analysis a;
    memset(&a, 0, sizeof a);
    a.k = 3; a.yi = yi; a.vi = vi; a.weight = w; a.label = lab;
    a.fit.method = MP_METHOD_REML; a.fit.test = MP_TEST_Z; a.fit.level = 95;
    a.fit.estimate = 0.5; a.fit.ci_lb = 0.3; a.fit.ci_ub = 0.7;
    a.fit.pi_lb = -0.2; a.fit.pi_ub = 1.2;
    a.fe = a.fit;
    a.fe.method = MP_METHOD_FE; a.fe.ci_lb = 0.4; a.fe.ci_ub = 0.6;
    mp_report r;
    memset(&r, 0, sizeof r);
    r.measure = MP_MEASURE_GEN; r.opt = &opt; r.a = &a; r.n = 1;
    double lo, hi;
    rp_range(&r, &lo, &hi);
    ck_assert_rel(lo, -1.684, 1e-12);
    ck_assert_rel(hi, 2.684, 1e-12);
    /* without the wide study, the study CIs (+/- 0.196) stay inside the core
     * except 1 + 0.196 = 1.196 < 1.2 and 0 - 0.196 > -0.2: [-0.2, 1.2] + 2% */
    a.k = 2;
    rp_range(&r, &lo, &hi);
    ck_assert_rel(lo, -0.2 - 0.028, 1e-12);
    ck_assert_rel(hi, 1.2 + 0.028, 1e-12);
}
END_TEST

START_TEST(test_fe_view)
{
    /* a knha-adjusted FE fit shown next to a random-effects model gets the
     * Wald interval: SE = 1/sqrt(sum w) = 1/sqrt(25) = 0.2, CI = est +/-
     * 1.959964 * 0.2, p = 2 Q(|0.5/0.2|) = 2 Q(2.5) = 0.012419330651552 */
    mp_report_analysis a;
    memset(&a, 0, sizeof a);
    a.fit.method = MP_METHOD_REML;
    a.fe.method = MP_METHOD_FE; a.fe.test = MP_TEST_KNHA; a.fe.level = 95;
    a.fe.estimate = 0.5; a.fe.se = 0.3; a.fe.sum_w = 25; a.fe.df = 4;
    mp_pool_result v;
    rp_fe_view(&a, &v);
    ck_assert_rel(v.se, 0.2, 1e-15);
    ck_assert_rel(v.ci_lb, 0.5 - 1.959963984540054 * 0.2, 1e-14);
    ck_assert_rel(v.pval, 0.012419330651552, 1e-12);
    ck_assert(isnan(v.df));
    /* with --method FE the requested (knha) fit is shown as it is */
    a.fit = a.fe;
    rp_fe_view(&a, &v);
    ck_assert_rel(v.se, 0.3, 0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("report");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_fmt);
    tcase_add_test(tc, test_fmt_special);
    tcase_add_test(tc, test_clean);
    tcase_add_test(tc, test_cols);
    tcase_add_test(tc, test_ticks_ratio_svg);
    tcase_add_test(tc, test_ticks_ratio_terminal);
    tcase_add_test(tc, test_ticks_ratio_narrow);
    tcase_add_test(tc, test_ticks_linear);
    tcase_add_test(tc, test_ticks_degenerate);
    tcase_add_test(tc, test_range);
    tcase_add_test(tc, test_fe_view);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf == 0 ? 0 : 1;
}
