/* tests/test_permute.c - permutation tests (mp_permute_pool, mp_permute_reg) against metafor's permutest().
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Oracles: tests/reference/gosh/perm_*.csv (gen.R there: R 4.2.2, metafor
 * 3.8-1, permutest(fit, exact = TRUE)) and metafor's numbers for bcg trials
 * 1-8 ~ ablat (../shared/reference/wave2/permute_bcg8_ablat.json, copied
 * below; data in tests/reference/gosh/bcg8_rr_yivi.csv).  Exact p-values are
 * counts over 2^k or k!/prod(ties!) refits: they must agree to rounding. */
#include "metapool/permute.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct { double y[32], v[32], x1[32], x2[32]; size_t k; } dataset;

/* "study","yi","vi"[,"x1","x2"] or "study","ablat","yi","vi" */
static void read_data(const char *file, dataset *d, int ablat_first)
{
    char path[512], line[1024];
    snprintf(path, sizeof path, "gosh/%s", file);
    FILE *f = fopen(tu_ref(path), "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    ck_assert(fgets(line, sizeof line, f) != NULL);
    d->k = 0;
    while (fgets(line, sizeof line, f) && d->k < 32) {
        char *q = strchr(line + 1, '"'), *e;
        ck_assert(q != NULL);
        double a = strtod(q + 2, &e), b = strtod(e + 1, &e), c = strtod(e + 1, &e);
        if (ablat_first) { d->x1[d->k] = a; d->y[d->k] = b; d->v[d->k] = c; }
        else {
            d->y[d->k] = a;
            d->v[d->k] = b;
            d->x1[d->k] = c;
            d->x2[d->k] = *e == ',' ? strtod(e + 1, &e) : 0;
        }
        d->k++;
    }
    fclose(f);
}

static double value(const char *file, const char *key)
{
    char path[512], line[512];
    snprintf(path, sizeof path, "gosh/%s", file);
    FILE *f = fopen(tu_ref(path), "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    double val = NAN;
    size_t kl = strlen(key);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, key, kl) == 0 && line[kl] == ',') { val = strtod(line + kl + 1, NULL); break; }
    fclose(f);
    ck_assert_msg(!isnan(val), "%s: no key %s", path, key);
    return val;
}

static const struct { const char *data, *method; } pool_cases[] = {
    {"normand1999", "FE"}, {"normand1999", "DL"}, {"normand1999", "REML"},
    {"synth10", "FE"},     {"synth10", "DL"},     {"homog8", "FE"},
    {"homog8", "DL"},      {"homog8", "REML"},
};

/* Exact sign flips: every case metafor computed. */
START_TEST(test_perm_pool_exact)
{
    dataset d;
    char file[128];
    snprintf(file, sizeof file, "%s.csv", pool_cases[_i].data);
    read_data(file, &d, 0);
    mp_pool_opts po;
    mp_pool_opts_init(&po);
    ck_assert_int_eq(mp_method_parse(pool_cases[_i].method, &po.method), MP_OK);
    mp_perm_opts o;
    mp_perm_opts_init(&o);
    o.exact = 1;
    mp_perm_result r;
    ck_assert_int_eq(mp_permute_pool(d.y, d.v, d.k, &po, &o, &r), MP_OK);
    snprintf(file, sizeof file, "perm_%s_%s.csv", pool_cases[_i].data, pool_cases[_i].method);
    ck_assert_rel(r.pval[0], value(file, "pval"), 1e-12);
    ck_assert_uint_eq(r.permutations, (uint64_t)value(file, "permutations"));
    ck_assert_int_eq(r.exact, 1);
    ck_assert_uint_eq(r.failed, 0);
    ck_assert(isnan(r.QM_pval));
    mp_perm_result_free(&r);
}
END_TEST

/* Exact row orderings of a two-moderator regression (k = 7: 5040). */
START_TEST(test_perm_reg_exact)
{
    dataset d;
    read_data("synth7.csv", &d, 0);
    const char *methods[2] = {"REML", "DL"};
    double X[3 * 32];
    for (size_t i = 0; i < d.k; i++) { X[i] = 1; X[i + d.k] = d.x1[i]; X[i + 2 * d.k] = d.x2[i]; }
    mp_reg_opts ro;
    mp_reg_opts_init(&ro);
    ck_assert_int_eq(mp_method_parse(methods[_i], &ro.method), MP_OK);
    mp_perm_opts o;
    mp_perm_opts_init(&o);
    o.exact = 1;
    mp_perm_result r;
    ck_assert_int_eq(mp_permute_reg(d.y, d.v, X, d.k, 3, &ro, &o, &r), MP_OK);
    char file[128];
    snprintf(file, sizeof file, "perm_synth7_reg_%s.csv", methods[_i]);
    ck_assert_rel(r.pval[0], value(file, "pval_1"), 1e-12);
    ck_assert_rel(r.pval[1], value(file, "pval_2"), 1e-12);
    ck_assert_rel(r.pval[2], value(file, "pval_3"), 1e-12);
    ck_assert_rel(r.QM_pval, value(file, "QM_pval"), 1e-12);
    ck_assert_uint_eq(r.permutations, 5040);
    mp_perm_result_free(&r);
}
END_TEST

/* bcg trials 1-8 ~ ablat, REML: ablat has two ties (44, 13), so 10080
 * distinct orderings; metafor 3.8-1 (wave2 permute_bcg8_ablat.json):
 * intercept 0.936309523809524, ablat 0.0438492063492063, QM the same.
 * One ordering's REML fit needs the sub-tolerance-step rule in reg.c. */
START_TEST(test_perm_reg_bcg8_ties)
{
    dataset d;
    read_data("bcg8_rr_yivi.csv", &d, 1);
    ck_assert_uint_eq(d.k, 8);
    double X[16];
    for (size_t i = 0; i < 8; i++) { X[i] = 1; X[i + 8] = d.x1[i]; }
    mp_reg_opts ro;
    mp_reg_opts_init(&ro);
    mp_perm_opts o;
    mp_perm_opts_init(&o);
    o.exact = 1;
    mp_perm_result r;
    ck_assert_int_eq(mp_permute_reg(d.y, d.v, X, 8, 2, &ro, &o, &r), MP_OK);
    ck_assert_uint_eq(r.permutations, 10080);
    ck_assert_uint_eq(r.failed, 0);
    ck_assert_rel(r.pval[0], 0.936309523809524, 1e-12);
    ck_assert_rel(r.pval[1], 0.0438492063492063, 1e-12);
    ck_assert_rel(r.QM_pval, 0.0438492063492063, 1e-12);
    mp_perm_result_free(&r);
    /* iter >= the distinct count: exact automatically (as metafor) */
    o.exact = 0;
    o.iter = 20000;
    ck_assert_int_eq(mp_permute_reg(d.y, d.v, X, 8, 2, &ro, &o, &r), MP_OK);
    ck_assert_int_eq(r.exact, 1);
    ck_assert_uint_eq(r.permutations, 10080);
    mp_perm_result_free(&r);
}
END_TEST

/* Random permutations: the same answer for 1, 2 and 3 threads and on a
 * repeat; another seed gives another sample; the first permutation is the
 * identity; and the estimate is near the exact p (5 binomial SEs; a fixed
 * seed, so the check is deterministic). */
START_TEST(test_perm_random)
{
    dataset d;
    read_data("normand1999.csv", &d, 0);
    mp_pool_opts po;
    mp_pool_opts_init(&po);
    mp_perm_opts o;
    mp_perm_opts_init(&o);
    o.iter = 5000; /* > 2^9: would be exact; use a larger k below */
    mp_perm_result r;
    ck_assert_int_eq(mp_permute_pool(d.y, d.v, d.k, &po, &o, &r), MP_OK);
    ck_assert_int_eq(r.exact, 1);
    ck_assert_uint_eq(r.permutations, 512);
    mp_perm_result_free(&r);

    read_data("synth10.csv", &d, 0);
    po.method = MP_METHOD_DL;
    o.exact = 1;
    ck_assert_int_eq(mp_permute_pool(d.y, d.v, d.k, &po, &o, &r), MP_OK);
    double pex = r.pval[0];
    mp_perm_result_free(&r);
    o.exact = 0;
    o.iter = 1000; /* < 2^10 */
    double p[3];
    for (size_t t = 1; t <= 3; t++) {
        o.threads = t;
        ck_assert_int_eq(mp_permute_pool(d.y, d.v, d.k, &po, &o, &r), MP_OK);
        ck_assert_int_eq(r.exact, 0);
        ck_assert_uint_eq(r.permutations, 1000);
        p[t - 1] = r.pval[0];
        mp_perm_result_free(&r);
    }
    ck_assert(p[0] == p[1] && p[1] == p[2]);
    ck_assert_msg(fabs(p[0] - pex) <= 5 * sqrt(pex * (1 - pex) / 1000) + 1e-3, "random %g exact %g", p[0], pex);
    ck_assert(p[0] >= 1.0 / 1000); /* the identity counts */
    o.seed = 2;
    ck_assert_int_eq(mp_permute_pool(d.y, d.v, d.k, &po, &o, &r), MP_OK);
    double p2 = r.pval[0];
    mp_perm_result_free(&r);
    o.seed = 1;
    ck_assert_int_eq(mp_permute_pool(d.y, d.v, d.k, &po, &o, &r), MP_OK);
    ck_assert(r.pval[0] == p[0]);
    mp_perm_result_free(&r);
    (void)p2; /* a different seed may give the same share; no assertion on it */

    /* regression, random orderings: thread independence */
    read_data("synth10.csv", &d, 0);
    double X[30];
    for (size_t i = 0; i < 10; i++) { X[i] = 1; X[i + 10] = d.x1[i]; X[i + 20] = d.x2[i]; }
    mp_reg_opts ro;
    mp_reg_opts_init(&ro);
    o.iter = 3000;
    double q[2][4];
    for (size_t t = 1; t <= 2; t++) {
        o.threads = t;
        ck_assert_int_eq(mp_permute_reg(d.y, d.v, X, 10, 3, &ro, &o, &r), MP_OK);
        ck_assert_int_eq(r.exact, 0);
        for (int j = 0; j < 3; j++) q[t - 1][j] = r.pval[j];
        q[t - 1][3] = r.QM_pval;
        mp_perm_result_free(&r);
    }
    ck_assert(memcmp(q[0], q[1], sizeof q[0]) == 0);
}
END_TEST

START_TEST(test_perm_errors)
{
    double y[30], v[30], X[60];
    for (int i = 0; i < 30; i++) { y[i] = 0.01 * i; v[i] = 0.1; X[i] = 1; X[i + 30] = i; }
    mp_pool_opts po;
    mp_pool_opts_init(&po);
    mp_reg_opts ro;
    mp_reg_opts_init(&ro);
    mp_perm_opts o;
    mp_perm_opts_init(&o);
    mp_perm_result r;
    o.exact = 1;
    ck_assert_int_eq(mp_permute_pool(y, v, 25, &po, &o, &r), MP_EDOM);
    mp_perm_result_free(&r);
    double X11[22];
    for (int i = 0; i < 11; i++) { X11[i] = 1; X11[i + 11] = i; }
    ck_assert_int_eq(mp_permute_reg(y, v, X11, 11, 2, &ro, &o, &r), MP_EDOM);
    mp_perm_result_free(&r);
    o.exact = 0;
    o.iter = 0;
    ck_assert_int_eq(mp_permute_pool(y, v, 5, &po, &o, &r), MP_EINVAL);
    mp_perm_result_free(&r);
    o.iter = 10;
    o.comptol = NAN;
    ck_assert_int_eq(mp_permute_pool(y, v, 5, &po, &o, &r), MP_EINVAL);
    mp_perm_result_free(&r);
    mp_perm_opts_init(&o);
    ck_assert_int_eq(mp_permute_pool(NULL, v, 5, &po, &o, &r), MP_EINVAL);
    mp_perm_result_free(&r);
    ck_assert_int_eq(mp_permute_pool(y, v, 5, &po, &o, NULL), MP_EINVAL);
    ck_assert_int_eq(mp_permute_reg(y, v, X, 30, 0, &ro, &o, &r), MP_EINVAL);
    mp_perm_result_free(&r);
    ck_assert_int_eq(mp_permute_pool(y, v, 0, &po, &o, &r), MP_ETOOFEW);
    mp_perm_result_free(&r);
    /* the observed fit's failure is returned: k <= p */
    ck_assert_int_eq(mp_permute_reg(y, v, X, 2, 2, &ro, &o, &r), MP_ETOOFEW);
    mp_perm_result_free(&r);
    double vb[5] = {0.1, -1, 0.1, 0.1, 0.1};
    ck_assert_int_eq(mp_permute_pool(y, vb, 5, &po, &o, &r), MP_EDOM);
    mp_perm_result_free(&r);
    mp_perm_result_free(NULL);
}
END_TEST

static Suite *perm_suite(void)
{
    Suite *s = suite_create("permute");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, test_perm_pool_exact, 0, (int)(sizeof pool_cases / sizeof pool_cases[0]));
    tcase_add_loop_test(tc, test_perm_reg_exact, 0, 2);
    tcase_add_test(tc, test_perm_reg_bcg8_ties);
    tcase_add_test(tc, test_perm_random);
    tcase_add_test(tc, test_perm_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(perm_suite());
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
