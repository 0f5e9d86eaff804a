/* tests/test_quantile.c - chi-square, t and normal quantiles for every df.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Sources of the expected values:
 *  - tests/reference/quantile/quantiles.csv: R 4.2.2's qchisq, qt and qnorm
 *    (gen.R beside it) at df = 1 .. 1e7, p = 1e-10 .. 0.975;
 *  - the defining equation: the tail probability at the returned quantile
 *    equals p, to what rounding the quantile to a double allows, checked
 *    at df up to 1e8 (GSL's inverse CDFs fail this above df ~ 2,300:
 *    issue 11). */
#include "testutil.h"
#include "metapool/metapool.h"

#include <float.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_math.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_sf_log.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* R's qchisq/qt solve to about 1e-15 relative (Newton steps on pgamma/pt);
 * GSL's CDFs agree with R's to ~1e-14 at these df, so 1e-11 relative in x
 * is a tight bound that still leaves room for the CDFs' own rounding. */
#define R_RTOL 1e-11

START_TEST(test_against_r)
{
    FILE *f = fopen(tu_src("tests/reference/quantile/quantiles.csv"), "r");
    ck_assert_ptr_nonnull(f);
    char line[256], dist[32], dfs[64];
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f)); /* header */
    size_t n = 0;
    while (fgets(line, sizeof line, f)) {
        double p, q;
        ck_assert_int_eq(sscanf(line, "%31[^,],%lf,%63[^,],%lf", dist, &p, dfs, &q), 4);
        double df = strcmp(dfs, "NA") == 0 ? NAN : strtod(dfs, NULL), got = NAN;
        if (strcmp(dist, "chisq_upper") == 0) got = mp_qchisq_upper(p, df);
        else if (strcmp(dist, "chisq_lower") == 0) got = mp_qchisq_lower(p, df);
        else if (strcmp(dist, "t_upper") == 0) got = mp_qt_upper(p, df);
        else if (strcmp(dist, "norm_upper") == 0) got = mp_qnorm_upper(p);
        else ck_abort_msg("unknown dist %s", dist);
        ck_assert_msg(rel_close(got, q, R_RTOL), "%s p=%g df=%s: %.17g, R %.17g", dist, p, dfs,
                      got, q);
        n++;
    }
    fclose(f);
    ck_assert_uint_eq(n, 312);
}
END_TEST

/* The tail at q equals p up to the change that rounding q to a double can
 * make and the tail's own accuracy: 1e-12 relative for GSL's incomplete
 * gamma and t CDFs at df < 1000; 3e-11 for df >= 1000, where the library's
 * chi-square tail is accurate to about 2e-11 (src/models/quantile.c, GSL
 * and Temme's expansion) and the integral here to ~1e-13.  A relative
 * error of 3e-11 in p moves these quantiles by ~1e-13 relative.
 * |F(q) - p| <= rt p + pdf(q) |q| 4 eps. */
static double rtol_tail = 1e-12;
static void check_tail(double F, double p, double pdf, double q, const char *what, double df)
{
    double tol = rtol_tail * p + pdf * fabs(q) * 4.0 * DBL_EPSILON;
    ck_assert_msg(isfinite(q) && fabs(F - p) <= tol,
                  "%s df=%g p=%g: q=%.17g tail %.17g (|diff| %g > tol %g)", what, df, p, q, F,
                  fabs(F - p), tol);
}

static const double dfs[] = {0.5, 1, 3, 10, 99, 1000, 2299, 2323, 2324, 3001, 12345, 65536,
                             1e5, 333333, 999999, 1e6, 3e6, 1e7, 5e7, 1e8};
static const double ps[] = {1e-12, 1e-6, 0.001, 0.005, 0.025, 0.05, 0.1, 0.3, 0.5, 0.7, 0.975};

START_TEST(test_chisq_defining_equation)
{
    for (size_t i = 0; i < sizeof dfs / sizeof dfs[0]; i++)
        for (size_t j = 0; j < sizeof ps / sizeof ps[0]; j++) {
            double df = dfs[i], p = ps[j];
            double qu = mp_qchisq_upper(p, df), ql = mp_qchisq_lower(p, df);
            if (df < 1000) {
                rtol_tail = 1e-12;
                check_tail(gsl_cdf_chisq_Q(qu, df), p, gsl_ran_chisq_pdf(qu, df), qu, "upper", df);
                check_tail(gsl_cdf_chisq_P(ql, df), p, gsl_ran_chisq_pdf(ql, df), ql, "lower", df);
            } else {
                /* the density at q by the same mode-relative form (GSL's
                 * chisq pdf loses digits at large df; only the tolerance
                 * uses it) */
                rtol_tail = 3e-11;
                double a = 0.5 * df, pu = exp(a * gsl_sf_log_1plusx_mx(0.5 * qu / a - 1.0)) /
                                          sqrt(4.0 * M_PI * a),
                       pl = exp(a * gsl_sf_log_1plusx_mx(0.5 * ql / a - 1.0)) / sqrt(4.0 * M_PI * a);
                check_tail(tu_chisq_tail(qu, df, 1), p, pu, qu, "upper", df);
                check_tail(tu_chisq_tail(ql, df, 0), p, pl, ql, "lower", df);
                /* the library's own tail agrees with the integral */
                ck_assert_rel(mp_pchisq_upper(qu, df), tu_chisq_tail(qu, df, 1), 3e-11);
                ck_assert_msg(rel_close(mp_pchisq_lower(ql, df), tu_chisq_tail(ql, df, 0), 3e-11), "df %g p %g", df, p);
            }
        }
}
END_TEST

/* The closed form of the upper tail for whole df <= 200 (A&S 26.4.4-5)
 * against GSL's incomplete gamma function, an independent evaluation, over
 * x from 1e-6 to 1300 (x/2 up to the closed form's limit and past it), and
 * against R's pchisq at a few points. */
START_TEST(test_chisq_small_df_closed_form)
{
    double worst = 0;
    for (int df = 1; df <= 205; df += (df < 40 ? 1 : 7))
        for (double x = 1e-6; x < 1300; x *= 1.37) {
            double ours = mp_pchisq_upper(x, df), gsl = gsl_cdf_chisq_Q(x, df);
            if (gsl < 1e-290) continue; /* GSL underflows to 0 before we do */
            /* the tail's own condition number: d log Q / d log x ~ x/2 for large x,
             * so rounding sqrt(x/2) or x/2 alone moves it by ~x eps */
            double rel = fabs(ours - gsl) / gsl, tol = 2e-15 * (20.0 + x);
            if (rel > worst) worst = rel;
            ck_assert_msg(rel < tol, "df %d x %.17g: %.17g vs GSL %.17g", df, x, ours, gsl);
        }
    ck_assert(worst > 0); /* not GSL in disguise: the closed form did run */
    /* R 4.2's pchisq(x, df, lower.tail = FALSE) (its own algorithm) */
    static const double rv[][3] = {
        {1, 0.01, 0.92034432544594202},
        {1, 2.5, 0.11384629800665812},
        {1, 12.3, 0.00045295829392355211},
        {1, 250, 2.5968070393401867e-56},
        {3, 0.01, 0.99973483494134441},
        {3, 2.5, 0.47529108334302067},
        {3, 12.3, 0.0064230575765779358},
        {3, 250, 6.543750030967993e-54},
        {8, 0.01, 0.9999999999740623},
        {8, 2.5, 0.96173094571037765},
        {8, 12.3, 0.13831215638282779},
        {8, 250, 1.722791179945691e-49},
        {9, 0.01, 0.99999999999915912},
        {9, 2.5, 0.98088349140281339},
        {9, 12.3, 0.19692022639855317},
        {9, 250, 9.9761514692988236e-49},
        {30, 2.5, 0.99999999999324807},
        {30, 12.3, 0.99823021801475875},
        {30, 250, 1.5157414203687211e-36},
        {199, 250, 0.0082301130447247611},
    };
    for (size_t i = 0; i < sizeof rv / sizeof rv[0]; i++)
        ck_assert_msg(rel_close(mp_pchisq_upper(rv[i][1], rv[i][0]), rv[i][2], 1e-13),
                      "df %g x %g: %.17g vs R %.17g", rv[i][0], rv[i][1],
                      mp_pchisq_upper(rv[i][1], rv[i][0]), rv[i][2]);
    /* known values: Q(x; 2) = e^(-x/2), Q(x; 1) = erfc(sqrt(x/2)) */
    ck_assert_rel(mp_pchisq_upper(3.0, 2), exp(-1.5), 1e-15);
    ck_assert_rel(mp_pchisq_upper(3.0, 1), erfc(sqrt(1.5)), 1e-15);
}
END_TEST

START_TEST(test_t_defining_equation)
{
    rtol_tail = 1e-12;
    for (size_t i = 0; i < sizeof dfs / sizeof dfs[0]; i++)
        for (size_t j = 0; j < sizeof ps / sizeof ps[0]; j++) {
            double df = dfs[i], p = ps[j], q = mp_qt_upper(p, df);
            /* for p > 1/2 the quantile is negative: compare P(T <= -q) = p */
            double F = p <= 0.5 ? gsl_cdf_tdist_Q(q, df) : gsl_cdf_tdist_P(-q, df);
            check_tail(F, p, gsl_ran_tdist_pdf(q, df), q, "t", df);
            ck_assert_msg(p < 0.5 ? q > 0 : p > 0.5 ? q < 0 : q == 0, "sign of q");
        }
    for (size_t j = 0; j < sizeof ps / sizeof ps[0]; j++) {
        double p = ps[j], q = mp_qnorm_upper(p);
        double F = p <= 0.5 ? gsl_cdf_ugaussian_Q(q) : gsl_cdf_ugaussian_P(-q);
        check_tail(F, p, gsl_ran_ugaussian_pdf(q), q, "norm", 0);
    }
}
END_TEST

/* What issue 11 found: GSL's own inverse is wrong at df = 2323 and NaN at
 * df = 1e6; these are the cases the module must repair (the first assertion
 * pins the GSL defect so the test documents why the module exists). */
START_TEST(test_gsl_failures_repaired)
{
    double g = gsl_cdf_chisq_Qinv(0.025, 2323.0);
    double q = mp_qchisq_upper(0.025, 2323.0);
    ck_assert_rel(gsl_cdf_chisq_Q(q, 2323.0), 0.025, 1e-11);
    if (fabs(gsl_cdf_chisq_Q(g, 2323.0) - 0.025) > 1e-6)
        ck_assert_msg(fabs(q - g) > 1.0, "the repaired value differs from GSL's");
    ck_assert(isfinite(mp_qchisq_lower(0.025, 1e6)));
    ck_assert_rel(gsl_cdf_chisq_P(mp_qchisq_lower(0.025, 1e6), 1e6), 0.025, 1e-10);
}
END_TEST

START_TEST(test_bad_arguments)
{
    const double badp[] = {0.0, 1.0, -0.1, 1.5, NAN};
    for (size_t i = 0; i < sizeof badp / sizeof badp[0]; i++) {
        ck_assert(isnan(mp_qchisq_upper(badp[i], 5)));
        ck_assert(isnan(mp_qchisq_lower(badp[i], 5)));
        ck_assert(isnan(mp_qt_upper(badp[i], 5)));
        ck_assert(isnan(mp_qnorm_upper(badp[i])));
    }
    const double baddf[] = {0.0, -1.0, NAN};
    for (size_t i = 0; i < sizeof baddf / sizeof baddf[0]; i++) {
        ck_assert(isnan(mp_qchisq_upper(0.05, baddf[i])));
        ck_assert(isnan(mp_qchisq_lower(0.05, baddf[i])));
        ck_assert(isnan(mp_qt_upper(0.05, baddf[i])));
    }
    ck_assert(isnan(mp_qchisq_upper(0.05, INFINITY)));
}
END_TEST

int main(void)
{
    gsl_set_error_handler_off();
    Suite *s = suite_create("quantile");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_against_r);
    tcase_add_test(tc, test_chisq_defining_equation);
    tcase_add_test(tc, test_chisq_small_df_closed_form);
    tcase_add_test(tc, test_t_defining_equation);
    tcase_add_test(tc, test_gsl_failures_repaired);
    tcase_add_test(tc, test_bad_arguments);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf == 0 ? 0 : 1;
}
