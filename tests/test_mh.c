/* tests/test_mh.c - Mantel-Haenszel and Peto pooling against metafor and by hand.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Sources of the expected values:
 * - tests/reference/escalc2/expected_mh.csv: R metafor 3.8-1 rma.mh() and
 *   rma.peto() with their defaults (gen.R beside it) on a synthetic set with
 *   a zero cell, a table without events and a table with only events
 *   (counts.csv), 25 small trials with rare events (rare.csv) and rates with
 *   zero counts (rates.csv); 17 significant digits; tolerance 1e-10.
 * - ../shared/reference/wave2/mh_*.json (run by check_reference.py): BCG,
 *   Nielweise 2007 and 2008.
 * - Two 2x2 tables worked by hand below. */
#include "testutil.h"

#include <metapool/metapool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double num(const mp_table *t, size_t i, const char *col)
{
    long j = mp_table_col(t, col);
    ck_assert_msg(j >= 0, "no column %s", col);
    const char *s = mp_table_cell(t, i, (size_t)j);
    return strcmp(s, "NA") == 0 ? NAN : strtod(s, NULL);
}

/* Cells of an input file in the order mp_mh() reads them. */
static double *read_cells(const char *csv, int rates, size_t *k)
{
    char path[512];
    snprintf(path, sizeof path, "escalc2/%s", csv);
    mp_table *t = NULL;
    mp_error err;
    ck_assert_int_eq(mp_table_read(tu_ref(path), &t, &err), MP_OK);
    *k = mp_table_nrows(t);
    double *c = malloc(4 * *k * sizeof *c);
    for (size_t i = 0; i < *k; i++) {
        if (rates) {
            c[4 * i] = num(t, i, "x1i");
            c[4 * i + 1] = num(t, i, "t1i");
            c[4 * i + 2] = num(t, i, "x2i");
            c[4 * i + 3] = num(t, i, "t2i");
        } else { /* ai, n1i, ci, n2i -> a, b, c, d */
            c[4 * i] = num(t, i, "ai");
            c[4 * i + 1] = num(t, i, "n1i") - c[4 * i];
            c[4 * i + 2] = num(t, i, "ci");
            c[4 * i + 3] = num(t, i, "n2i") - c[4 * i + 2];
        }
    }
    mp_table_free(t);
    return c;
}

START_TEST(test_oracle)
{
    mp_table *ex = NULL;
    mp_error err;
    ck_assert_int_eq(mp_table_read(tu_ref("escalc2/expected_mh.csv"), &ex, &err), MP_OK);
    long jc = mp_table_col(ex, "csv"), jm = mp_table_col(ex, "measure"), jt = mp_table_col(ex, "method");
    size_t n = mp_table_nrows(ex);
    ck_assert_uint_eq(n, 10);
    for (size_t i = 0; i < n; i++) {
        const char *csv = mp_table_cell(ex, i, (size_t)jc), *ms = mp_table_cell(ex, i, (size_t)jm);
        int peto = strcmp(mp_table_cell(ex, i, (size_t)jt), "PETO") == 0;
        mp_measure m;
        ck_assert_int_eq(mp_measure_parse(ms, &m), MP_OK);
        size_t k;
        double *cells = read_cells(csv, m == MP_MEASURE_IRR || m == MP_MEASURE_IRD, &k);
        mp_mh_result r;
        mp_status st = peto ? mp_peto(cells, k, 95, &r) : mp_mh(m, cells, k, 95, &r);
        ck_assert_msg(st == MP_OK, "%s %s: %s", csv, ms, mp_strerror(st));
        ck_assert_uint_eq(r.k, k);
        const struct { const char *key; double got; } kv[] = {
            {"beta", r.estimate}, {"se", r.se}, {"zval", r.stat}, {"pval", r.pval},
            {"ci_lb", r.ci_lb}, {"ci_ub", r.ci_ub}, {"QE", r.Q}, {"QEp", r.Q_pval},
            {"I2", r.I2}, {"H2", r.H2}, {"MH", r.MH}, {"MHp", r.MH_pval}, {"TA", r.TA},
            {"TAp", r.TA_pval}, {"CO", r.CO}, {"COp", r.CO_pval}, {"BD", r.BD},
            {"BDp", r.BD_pval}, {"k_yi", (double)r.k_yi}};
        for (size_t j = 0; j < sizeof kv / sizeof kv[0]; j++) {
            double want = num(ex, i, kv[j].key);
            ck_assert_msg(rel_close(kv[j].got, want, 1e-10), "%s %s %s: %s = %.17g, want %.17g", csv,
                          ms, peto ? "PETO" : "MH", kv[j].key, kv[j].got, want);
        }
        ck_assert_rel(r.Q_df, num(ex, i, "k_yi") - 1, 0);
        if (m == MP_MEASURE_OR && !peto) ck_assert_rel(r.TA_df, num(ex, i, "k_pos") - 1, 0);
        /* weights: percent, summing to 100 */
        double *w = malloc(k * sizeof *w), sum = 0;
        mp_mh_weights(m, peto, cells, k, w);
        for (size_t j = 0; j < k; j++) sum += w[j];
        ck_assert_rel(sum, 100.0, 1e-12);
        free(w);
        free(cells);
    }
    mp_table_free(ex);
}
END_TEST

/* Two tables, a b c d = (2, 8, 4, 6) and (3, 7, 1, 9), N = 20 each:
 * R = sum(a d/N) = (12 + 27)/20 = 1.95, S = sum(b c/N) = (32 + 7)/20 = 1.95:
 * OR_MH = 1, log 0.  RBG: P = (a + d)/N = (.4, .6), Q = (.6, .4),
 * R_i = (.6, 1.35), S_i = (1.6, .35): sum P R = .24 + .81 = 1.05,
 * sum(P S + Q R) = (.64 + .36) + (.21 + .54) = 1.75, sum Q S = .96 + .14 = 1.10;
 * var = (1.05/1.95^2 + 1.75/1.95^2 + 1.10/1.95^2)/2 = 3.90/(2 * 3.8025).
 * CMH: sum(a - n1 xt/N) = (2 - 3) + (3 - 2) = 0, so MH = (|0| - 1/2)^2 / V with
 * V = sum n1 n2 xt yt/(N^2 (N - 1)) = (10*10*6*14 + 10*10*4*16)/(400*19)
 * = (8400 + 6400)/7600 = 14800/7600.
 * RR_MH = sum(a n2/N)/sum(c n1/N) = (1 + 1.5)/(2 + .5) = 1.
 * RD_MH = sum((a n2 - c n1)/N)/sum(n1 n2/N) = ((20 - 40) + (30 - 10))/20/10 = 0.
 * Peto: O - E = (-1, 1), V = (6*14/4/19, 4*16/4/19) = (21/19, 16/19):
 * estimate 0, se 1/sqrt(37/19); Q = 19/21 + 19/16 - 0. */
START_TEST(test_hand)
{
    const double cells[] = {2, 8, 4, 6, 3, 7, 1, 9};
    mp_mh_result r;
    ck_assert_int_eq(mp_mh(MP_MEASURE_OR, cells, 2, 95, &r), MP_OK);
    ck_assert(fabs(r.estimate) < 1e-15);
    ck_assert_rel(r.se, sqrt(3.90 / (2 * 3.8025)), 1e-14);
    ck_assert_rel(r.MH, 0.25 / (14800.0 / 7600.0), 1e-14);
    ck_assert_rel(r.pval, 1.0, 1e-14);
    ck_assert_rel(r.ci_ub, 1.959963984540054 * r.se, 1e-14);
    ck_assert_int_eq(mp_mh(MP_MEASURE_RR, cells, 2, 95, &r), MP_OK);
    ck_assert(fabs(r.estimate) < 1e-15);
    ck_assert_int_eq(mp_mh(MP_MEASURE_RD, cells, 2, 95, &r), MP_OK);
    ck_assert(fabs(r.estimate) < 1e-15);
    ck_assert_int_eq(mp_peto(cells, 2, 95, &r), MP_OK);
    ck_assert(fabs(r.estimate) < 1e-15);
    ck_assert_rel(r.se, 1 / sqrt(37.0 / 19), 1e-14);
    ck_assert_rel(r.Q, 19.0 / 21 + 19.0 / 16, 1e-14);
    ck_assert_rel(r.Q_df, 1, 0);
    /* weights: OR b c/N = (1.6, .35) -> 100 * 1.6/1.95 */
    double w[2];
    mp_mh_weights(MP_MEASURE_OR, 0, cells, 2, w);
    ck_assert_rel(w[0], 100 * 1.6 / 1.95, 1e-14);
    mp_mh_weights(MP_MEASURE_OR, 1, cells, 2, w);
    ck_assert_rel(w[0], 100 * 21.0 / 37, 1e-14);
}
END_TEST

START_TEST(test_errors)
{
    const double cells[] = {2, 8, 4, 6, 3, 7, 1, 9};
    mp_mh_result r;
    ck_assert_int_eq(mp_mh(MP_MEASURE_OR, cells, 0, 95, &r), MP_ETOOFEW);
    ck_assert_int_eq(mp_peto(cells, 0, 95, &r), MP_ETOOFEW);
    ck_assert_int_eq(mp_mh(MP_MEASURE_SMD, cells, 2, 95, &r), MP_EINVAL);
    ck_assert_int_eq(mp_mh(MP_MEASURE_PETO, cells, 2, 95, &r), MP_EINVAL);
    ck_assert_int_eq(mp_mh(MP_MEASURE_OR, cells, 2, 100, &r), MP_EINVAL);
    ck_assert_int_eq(mp_peto(cells, 2, 0, &r), MP_EINVAL);
    ck_assert_int_eq(mp_mh(MP_MEASURE_OR, NULL, 2, 95, &r), MP_EINVAL);
    const double neg[] = {2, -8, 4, 6};
    ck_assert_int_eq(mp_mh(MP_MEASURE_OR, neg, 1, 95, &r), MP_EDOM);
    ck_assert_int_eq(mp_peto(neg, 1, 95, &r), MP_EDOM);
    const double empty[] = {0, 0, 4, 6};
    ck_assert_int_eq(mp_mh(MP_MEASURE_RD, empty, 1, 95, &r), MP_EDOM);
    const double t0[] = {2, 0, 4, 6}; /* person-time 0 */
    ck_assert_int_eq(mp_mh(MP_MEASURE_IRR, t0, 1, 95, &r), MP_EDOM);
    /* no events in the treatment arms: the MH RR is not estimable (metafor: NA) */
    const double noev[] = {0, 10, 3, 7, 0, 12, 2, 8};
    ck_assert_int_eq(mp_mh(MP_MEASURE_RR, noev, 2, 95, &r), MP_EDOM);
    ck_assert(isnan(r.estimate) && isnan(r.se));
    ck_assert_int_eq(mp_mh(MP_MEASURE_OR, noev, 2, 95, &r), MP_EDOM);
    ck_assert(isnan(r.estimate) && isnan(r.TA));
    ck_assert(!isnan(r.MH)); /* the CMH test is still defined */
    /* no table with both events and non-events: Peto's sum V = 0 */
    const double none[] = {0, 10, 0, 7};
    ck_assert_int_eq(mp_peto(none, 1, 95, &r), MP_EDOM);
    /* one table: Q = 0, p = 1, I2 = 0, H2 = 1 (rma.mh with k.yi = 1) */
    ck_assert_int_eq(mp_mh(MP_MEASURE_OR, cells, 1, 95, &r), MP_OK);
    ck_assert(r.Q == 0 && r.Q_pval == 1 && r.I2 == 0 && r.H2 == 1);
    ck_assert_rel(r.estimate, log(2.0 * 6 / (8 * 4)), 1e-14);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("mh");
    TCase *tc = tcase_create("mh");
    tcase_add_test(tc, test_oracle);
    tcase_add_test(tc, test_hand);
    tcase_add_test(tc, test_errors);
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
