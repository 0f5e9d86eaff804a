/* tests/test_numparse.c - mp_parse_double: grammar, edge cases, correct rounding.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Reference: glibc's strtod (correctly rounded, IEEE round-half-even) in the
 * C locale, on the same text.  Random inputs come from a fixed-seed
 * splitmix64 generator, so every run tests the same strings. */
#include "testutil.h"

#include <errno.h>
#include <float.h>
#include <metapool/metapool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state = 0x20260101u;
static uint64_t rng(void) /* splitmix64 */
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}
static int rnd(int n) { return (int)(rng() % (uint64_t)n); }

static int same_double(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

/* Parse with ours and with strtod; they must agree bit for bit, and on
 * overflow ours must say -1. */
static void agree(const char *s)
{
    double ours = 12345.0;
    int r = mp_parse_double(s, strlen(s), &ours);
    errno = 0;
    char *end;
    double ref = strtod(s, &end);
    int overflow = !isfinite(ref);
    ck_assert_msg(*end == '\0', "strtod did not take all of '%s'", s);
    if (overflow) {
        ck_assert_msg(r == -1, "'%s': %d, expected -1 (overflow)", s, r);
    } else {
        ck_assert_msg(r == 1, "'%s': returned %d", s, r);
        ck_assert_msg(same_double(ours, ref), "'%s': %.17g (%a), strtod %.17g (%a)", s, ours, ours,
                      ref, ref);
    }
}

START_TEST(test_random_decimals)
{
    char buf[200];
    for (int it = 0; it < 100000; it++) {
        size_t w = 0;
        if (rnd(3) == 0) buf[w++] = rnd(2) ? '-' : '+';
        int ni = rnd(22), nf = rnd(22);
        if (ni + nf == 0) ni = 1;
        for (int k = 0; k < ni; k++) buf[w++] = (char)('0' + rnd(10));
        if (nf || rnd(4) == 0) buf[w++] = '.';
        for (int k = 0; k < nf; k++) buf[w++] = (char)('0' + rnd(10));
        if (rnd(2)) {
            int e = rnd(700) - 350;
            w += (size_t)snprintf(buf + w, sizeof buf - w, "%c%s%d", rnd(2) ? 'e' : 'E',
                                  e >= 0 && rnd(2) ? "+" : "", e);
        }
        buf[w] = '\0';
        agree(buf);
    }
}
END_TEST

/* Short numbers as data files hold them (the fast path) */
START_TEST(test_random_short)
{
    char buf[64];
    for (int it = 0; it < 100000; it++) {
        int digits = 1 + rnd(17), point = rnd(digits + 1);
        size_t w = 0;
        if (rnd(2)) buf[w++] = '-';
        for (int k = 0; k < digits; k++) {
            if (k == point && k) buf[w++] = '.';
            buf[w++] = (char)('0' + rnd(10));
        }
        if (rnd(3) == 0) w += (size_t)snprintf(buf + w, sizeof buf - w, "e%d", rnd(61) - 30);
        buf[w] = '\0';
        agree(buf);
    }
}
END_TEST

/* Values right at and next to the halfway point between two adjacent
 * doubles: the hard cases of correct rounding.  The midpoint is exact in
 * x87 long double (64-bit significand); printed with 17, 25 and 40
 * significant digits, and exactly (its expansion ends within 800 digits). */
START_TEST(test_halfway)
{
#if LDBL_MANT_DIG >= 64
    static char buf[1200];
    for (int it = 0; it < 4000; it++) {
        uint64_t bits = rng() & 0x7fefffffffffffffu; /* finite, positive */
        double x;
        memcpy(&x, &bits, sizeof x);
        double y = nextafter(x, INFINITY);
        long double mid = ((long double)x + (long double)y) / 2;
        static const int prec[] = {16, 24, 39, 780};
        for (int p = 0; p < 4; p++) {
            snprintf(buf, sizeof buf, "%.*Le", prec[p], mid);
            agree(buf);
        }
    }
#endif
    /* ties to even on the integer grid above 2^53 */
    double v;
    ck_assert_int_eq(mp_parse_double("9007199254740993", 16, &v), 1);
    ck_assert(v == 9007199254740992.0);
    ck_assert_int_eq(mp_parse_double("9007199254740995", 16, &v), 1);
    ck_assert(v == 9007199254740996.0);
    ck_assert_int_eq(mp_parse_double("9007199254740993.0000000000000001", 33, &v), 1);
    ck_assert(v == 9007199254740994.0);
}
END_TEST

/* Round trip: every double printed with %.17g reads back as itself. */
START_TEST(test_round_trip)
{
    char buf[64];
    for (int it = 0; it < 100000; it++) {
        uint64_t bits = rng();
        double x;
        memcpy(&x, &bits, sizeof x);
        if (!isfinite(x)) continue;
        snprintf(buf, sizeof buf, "%.17g", x);
        double got;
        ck_assert_int_eq(mp_parse_double(buf, strlen(buf), &got), 1);
        ck_assert_msg(same_double(got, x), "%s -> %a, expected %a", buf, got, x);
    }
}
END_TEST

typedef struct pcase {
    const char *s; /* input (NUL-terminated; whole string parsed) */
    int ret;       /* 1 number, 0 not a number, -1 NaN/Inf/overflow */
    double want;   /* for ret == 1 */
} pcase;

static const pcase cases[] = {
    {"0", 1, 0.0},
    {"+0.000e-5", 1, 0.0},
    {"  1.5\t", 1, 1.5},
    {"\t-2 ", 1, -2.0},
    {"1.", 1, 1.0},
    {".5", 1, 0.5},
    {"+.5e+2", 1, 50.0},
    {"1E3", 1, 1000.0},
    {"007", 1, 7.0},
    {"0.1", 1, 0.1},
    {"-0.25", 1, -0.25},
    {"1e22", 1, 1e22},
    {"1e23", 1, 1e23},
    {"123456789012345678901234567890", 1, 123456789012345678901234567890.0},
    {"1.7976931348623157e308", 1, DBL_MAX},
    {"2.2250738585072014e-308", 1, DBL_MIN},
    {"4.9406564584124654e-324", 1, 0x1p-1074},
    {"1e-400", 1, 0.0},          /* underflow: the nearest double is 0 */
    {"1e-99999999999999999999", 1, 0.0},
    {"0e99999999999999999999", 1, 0.0},
    {"1.7976931348623159e308", -1, 0}, /* rounds to Inf: out of range */
    {"1e999", -1, 0},
    {"-1e999", -1, 0},
    {"1e99999999999999999999", -1, 0},
    {"nan", -1, 0},
    {"NaN", -1, 0},
    {"-inf", -1, 0},
    {"+Inf", -1, 0},
    {"Infinity", -1, 0},
    {"infinit", 0, 0},
    {"nano", 0, 0},
    {"", 0, 0},
    {"   ", 0, 0},
    {".", 0, 0},
    {"-", 0, 0},
    {"+", 0, 0},
    {"e5", 0, 0},
    {"1e", 0, 0},
    {"1e+", 0, 0},
    {"1e+-5", 0, 0},
    {"--1", 0, 0},
    {"+-1", 0, 0},
    {"0x10", 0, 0},
    {"0X1P3", 0, 0},
    {"0x1p-3", 0, 0},
    {"0.3 0.4", 0, 0},
    {"1 000", 0, 0},
    {"1,5", 0, 0},
    {"1_000", 0, 0},
    {"1e5x", 0, 0},
    {"12abc", 0, 0},
    {"1.2.3", 0, 0},
    {"..5", 0, 0},
    {"NA", 0, 0},
    {"\xc2\xa0" "1", 0, 0}, /* a no-break space is not a blank */
};
#define NCASES (sizeof cases / sizeof cases[0])

START_TEST(test_edge_cases)
{
    const pcase *c = &cases[_i];
    double v = 42.0;
    int r = mp_parse_double(c->s, strlen(c->s), &v);
    ck_assert_msg(r == c->ret, "'%s': returned %d, expected %d", c->s, r, c->ret);
    if (r == 1) ck_assert_msg(v == c->want, "'%s': %.17g, expected %.17g", c->s, v, c->want);
    else ck_assert_msg(v == 42.0, "'%s': *out written on failure", c->s);
}
END_TEST

START_TEST(test_lengths_and_signs)
{
    double v;
    /* -0 keeps its sign */
    ck_assert_int_eq(mp_parse_double("-0", 2, &v), 1);
    ck_assert(v == 0.0 && signbit(v));
    ck_assert_int_eq(mp_parse_double("-0.0e10", 7, &v), 1);
    ck_assert(signbit(v));
    /* only s[0..len) is read: no NUL needed */
    ck_assert_int_eq(mp_parse_double("12345", 3, &v), 1);
    ck_assert(v == 123.0);
    ck_assert_int_eq(mp_parse_double("1.5e3xyz", 5, &v), 1);
    ck_assert(v == 1500.0);
    ck_assert_int_eq(mp_parse_double("1.5e3xyz", 6, &v), 0);
    ck_assert_int_eq(mp_parse_double("7", 0, &v), 0);
    /* a long text takes the allocated slow path */
    char buf[400];
    size_t w = 0;
    buf[w++] = '0';
    buf[w++] = '.';
    for (int k = 0; k < 300; k++) buf[w++] = '0';
    buf[w++] = '1';
    buf[w] = '\0';
    ck_assert_int_eq(mp_parse_double(buf, w, &v), 1);
    ck_assert(v == 1e-301);
    agree(buf);
    /* 400 significant digits, value near 1/3 */
    w = 0;
    buf[w++] = '.';
    for (int k = 0; k < 390; k++) buf[w++] = '3';
    buf[w] = '\0';
    ck_assert_int_eq(mp_parse_double(buf, w, &v), 1);
    ck_assert(v == 1.0 / 3.0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("numparse");
    TCase *tc = tcase_create("numparse");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, test_edge_cases, 0, NCASES);
    tcase_add_test(tc, test_lengths_and_signs);
    tcase_add_test(tc, test_random_decimals);
    tcase_add_test(tc, test_random_short);
    tcase_add_test(tc, test_halfway);
    tcase_add_test(tc, test_round_trip);
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
