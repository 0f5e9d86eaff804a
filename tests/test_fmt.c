/* tests/test_fmt.c - the shortest round-trip double formatter (mp_format_double).
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Oracles, none of them our code:
 *   - round trip: glibc's strtod (correctly rounded) reads the text back as
 *     the same 64 bits;
 *   - shortest: if ours has n significant digits, no decimal of n - 1 digits
 *     reads back: glibc's printf("%.*e", n - 2) (correctly rounded, so the
 *     (n-1)-digit decimal nearest x) and its two neighbours on the (n-1)-digit
 *     grid do not (any (n-1)-digit decimal inside the rounding interval would
 *     make one of the grid points next to x lie inside it);
 *   - closest: when printf("%.*e", n - 1) (the n-digit decimal nearest x, a
 *     tie to even) reads back, ours is that decimal;
 *   - CPython's repr() (David Gay's dtoa, shortest and closest) for 5917
 *     doubles, saved in tests/reference/fmt/repr.txt by gen_repr.py beside it;
 *   - decimals of at most 15 digits come back digit for digit (DBL_DIG = 15:
 *     two such decimals never share a double), integers below 2^53 as printf's
 *     "%llu" writes them.
 * The layout (printf's %g rules with the switch to exponent form at 10^17) is
 * checked by a grammar, and the exact multi-word path of fmt.c
 * (mp_fmt_double_exact) against the fast one byte for byte on many doubles
 * of every kind (random bits, batch-like numbers, subnormals, integers, the
 * neighbourhoods of powers of two and ten, short decimals). */
#include "testutil.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/fmt.h"
#include "metapool/batch.h"

/* Check's ck_assert_* record a mark point (a write to a pipe) on every call;
 * the loops below make millions of checks, so they test first and call
 * Check only on a failure. */
#define REQUIRE(cond, ...)                               \
    do {                                                 \
        if (!(cond)) ck_abort_msg(__VA_ARGS__);          \
    } while (0)

static uint64_t bits_of(double x)
{
    uint64_t b;
    memcpy(&b, &x, sizeof b);
    return b;
}

static double of_bits(uint64_t b)
{
    double x;
    memcpy(&x, &b, sizeof x);
    return x;
}

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* The significant digits of a decimal string (no leading or trailing zeros)
 * into dig, the sign into *neg, and the decimal exponent of the first
 * significant digit into *e10.  Accepts [-]digits[.digits][e[+-]digits].
 * Returns 0 if s is not of that form or has no nonzero digit. */
static int decompose(const char *s, char *dig, size_t cap, int *neg, int *e10)
{
    *neg = *s == '-';
    if (*s == '-' || *s == '+') s++;
    size_t n = 0;
    int point = -1, pos = 0, first = -1; /* pos counts digits read */
    for (; *s && *s != 'e' && *s != 'E'; s++) {
        if (*s == '.') {
            if (point >= 0) return 0;
            point = pos;
            continue;
        }
        if (*s < '0' || *s > '9') return 0;
        if (first < 0 && *s == '0') { pos++; continue; }
        if (first < 0) first = pos;
        if (n + 1 >= cap) return 0;
        dig[n++] = *s;
        pos++;
    }
    if (point < 0) point = pos;
    int ex = 0;
    if (*s == 'e' || *s == 'E') ex = atoi(s + 1);
    if (first < 0) return 0;
    while (n > 0 && dig[n - 1] == '0') n--;
    dig[n] = '\0';
    *e10 = point - first - 1 + ex;
    return 1;
}

/* printf's %g layout with the exponent switch at 17 digits: exponent form
 * iff the exponent of the first digit is < -4 or >= 17; plain numbers have
 * no exponent, no leading zeros other than "0." and no trailing zeros after
 * the point; exponent form is d[.ddd]e(+|-)XX[X] with no trailing zeros. */
static const char *layout_error(const char *s, double x)
{
    char dig[40];
    int neg, e10;
    if ((*s == '-') != (signbit(x) != 0)) return "sign";
    if (!decompose(s, dig, sizeof dig, &neg, &e10)) return "not a number";
    const char *b = s + neg;
    const char *e = strchr(b, 'e');
    if (e) {
        if (e10 >= -4 && e10 < 17) return "exponent form inside 1e-4..1e17";
        if (b[0] < '1' || b[0] > '9') return "mantissa's first digit";
        if (b + 1 != e && (b[1] != '.' || e == b + 2 || e[-1] == '0')) return "mantissa";
        if (e[1] != '+' && e[1] != '-') return "exponent sign";
        size_t ed = strlen(e + 2);
        if (ed < 2 || ed > 3 || strspn(e + 2, "0123456789") != ed) return "exponent digits";
        if (ed == 3 && e[2] == '0') return "exponent leading zero";
        return NULL;
    }
    if (e10 < -4 || e10 >= 17) return "plain form outside 1e-4..1e17";
    if (strspn(b, "0123456789.") != strlen(b)) return "characters";
    const char *pt = strchr(b, '.');
    if (b[0] == '0' && !(pt == b + 1)) return "leading zero";
    if (pt && (pt[1] == '\0' || b[strlen(b) - 1] == '0')) return "trailing zero or point";
    return NULL;
}

static int reads_back(const char *s, double x)
{
    return bits_of(strtod(s, NULL)) == bits_of(x);
}

/* Every property above for one finite x; returns the number of digits. */
static size_t check_one(double x)
{
    char a[40], c[64];
    size_t len = mp_format_double(x, a);
    REQUIRE(len == strlen(a), "%s: length %zu", a, len);
    REQUIRE(len <= 24, "%s: %zu characters", a, len);
    REQUIRE(reads_back(a, x), "%s does not read back as %a", a, x);
    if (x == 0) {
        REQUIRE(strcmp(a, signbit(x) ? "-0" : "0") == 0, "zero as %s", a);
        return 1;
    }
    const char *why = layout_error(a, x);
    REQUIRE(!why, "%s (for %a): %s", a, x, why);
    char dig[40], dig2[40];
    int neg, e10, neg2, e2;
    REQUIRE(decompose(a, dig, sizeof dig, &neg, &e10), "%s", a);
    size_t n = strlen(dig);
    REQUIRE(n >= 1 && n <= 17, "%s: %zu digits", a, n);
    double ax = fabs(x);
    if (n >= 2) { /* shortest */
        snprintf(c, sizeof c, "%.*e", (int)n - 2, ax);
        REQUIRE(!reads_back(c, ax), "%s is not shortest: %s reads back", a, c);
        /* the neighbours of c on its (n-1)-digit grid */
        char m[40];
        int ex;
        const char *ep = strchr(c, 'e');
        size_t ml = 0;
        for (const char *p = c; p < ep; p++)
            if (*p != '.') m[ml++] = *p;
        m[ml] = '\0';
        ex = atoi(ep + 1) - ((int)n - 2);
        unsigned long long mm = strtoull(m, NULL, 10);
        for (int d = -1; d <= 1; d += 2) {
            snprintf(c, sizeof c, "%llue%d", mm + (unsigned long long)(long long)d, ex);
            REQUIRE(!reads_back(c, ax), "%s is not shortest: %s reads back", a, c);
        }
    }
    snprintf(c, sizeof c, "%.*e", (int)n - 1, ax); /* closest */
    if (reads_back(c, ax)) {
        REQUIRE(decompose(c, dig2, sizeof dig2, &neg2, &e2), "%s", c);
        REQUIRE(strcmp(dig, dig2) == 0 && e10 == e2, "%s is not the closest: %s", a, c);
    }
    return n;
}

/* ---- fixed strings: zeros, infinities, NaN, the layout's edges ------------ */

START_TEST(test_fmt_specials_and_layout)
{
    char a[40], b[40];
    /* non-finite values as glibc's printf writes them */
    const double nf[] = {INFINITY, -INFINITY, NAN, -NAN};
    for (size_t i = 0; i < 4; i++) {
        size_t n = mp_format_double(nf[i], a);
        snprintf(b, sizeof b, "%.17g", nf[i]);
        ck_assert_str_eq(a, b);
        ck_assert_uint_eq(n, strlen(b));
    }
    /* the layout at its edges (printf %g rules, switch at 10^17); the digits
     * are those CPython's repr() gives for the same doubles */
    static const struct {
        double x;
        const char *s;
    } cases[] = {
        {0.0, "0"},
        {-0.0, "-0"},
        {1.0, "1"},
        {-2.5e-7, "-2.5e-07"},
        {0.1, "0.1"},
        {1e-4, "0.0001"},
        {1.5e-4, "0.00015"},
        {1e-5, "1e-05"},
        {9.9999999999999991e-5, "9.999999999999999e-05"},
        {1e16, "10000000000000000"},
        {99999999999999984.0, "99999999999999980"},
        {1e17, "1e+17"},
        {123456789012345678.0, "1.2345678901234568e+17"},
        {1e100, "1e+100"},
        {1e-100, "1e-100"},
        {5e-324, "5e-324"},
        {1.7976931348623157e308, "1.7976931348623157e+308"},
        {2.2250738585072014e-308, "2.2250738585072014e-308"},
        {12345.678, "12345.678"},
        {1.0 / 3.0, "0.3333333333333333"},
        {100.0, "100"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = mp_format_double(cases[i].x, a);
        ck_assert_str_eq(a, cases[i].s);
        ck_assert_uint_eq(n, strlen(a));
        mp_fmt_double_exact(cases[i].x, b);
        ck_assert_str_eq(b, cases[i].s);
    }
    /* the layout checker itself rejects what it should */
    ck_assert_ptr_nonnull(layout_error("1e+16", 1e16));
    ck_assert_ptr_nonnull(layout_error("1.0", 1.0));
    ck_assert_ptr_nonnull(layout_error("1e-5", 1e-5));
    ck_assert_ptr_nonnull(layout_error("100000000000000000", 1e17));
    ck_assert_ptr_nonnull(layout_error("-1", 1.0));
    ck_assert_ptr_null(layout_error("1.5e-05", 1.5e-5));
}
END_TEST

/* ---- 10^6 random bit patterns --------------------------------------------- */

START_TEST(test_fmt_random_bits)
{
    uint64_t s = UINT64_C(88172645463325252) + (uint64_t)_i; /* fixed seeds */
    size_t n = 250000, hist[18] = {0};
    for (size_t i = 0; i < n; i++) {
        double x = of_bits(xorshift(&s));
        if (!isfinite(x)) continue;
        hist[check_one(x)]++;
    }
    /* random bit patterns mostly need 16 or 17 digits, some fewer */
    ck_assert_uint_gt(hist[17], n / 4);
    ck_assert_uint_gt(hist[16], n / 4);
    ck_assert_uint_gt(hist[15], 0);
}
END_TEST

/* ---- powers, ends of ranges, neighbours ----------------------------------- */

START_TEST(test_fmt_powers_and_edges)
{
    for (int e = -1074; e <= 1023; e++) { /* every power of two and its neighbours */
        double p = ldexp(1.0, e);
        check_one(p);
        check_one(-p);
        check_one(nextafter(p, 0.0));
        check_one(nextafter(p, INFINITY));
    }
    char t[16];
    for (int e = -323; e <= 308; e++) { /* every power of ten in range */
        snprintf(t, sizeof t, "1e%d", e);
        double p = strtod(t, NULL);
        REQUIRE(check_one(p) == 1, "%s", t); /* "1e-323" itself reads back */
        check_one(nextafter(p, 0.0));
        check_one(nextafter(p, INFINITY));
    }
    const double edges[] = {5e-324, 1e-323, DBL_MIN - 5e-324, DBL_MIN, DBL_MIN + 5e-324,
                            DBL_MAX, nextafter(DBL_MAX, 0.0), DBL_EPSILON, 1.0 - DBL_EPSILON / 2,
                            0.1, 0.2, 0.3, 2.0 / 3.0};
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) check_one(edges[i]);
    for (uint64_t b = 1; b < 2000; b++) check_one(of_bits(b)); /* the smallest subnormals */
    for (uint64_t b = 1; b < 2000; b++) check_one(of_bits((UINT64_C(1) << 52) - b)); /* the largest */
}
END_TEST

/* ---- decimals of 15, 16, 17 digits; integers ------------------------------ */

START_TEST(test_fmt_decimals_and_integers)
{
    uint64_t s = UINT64_C(0x9e3779b97f4a7c15);
    char t[64], a[40], dig[40], dig2[40];
    int neg, e10, neg2, e2;
    for (size_t i = 0; i < 60000; i++) {
        int nd = 1 + (int)(xorshift(&s) % 17); /* 1..17 digits */
        unsigned long long lo = 1, m;
        for (int j = 1; j < nd; j++) lo *= 10;
        m = lo + xorshift(&s) % (9 * lo);
        int e = (int)(xorshift(&s) % 600) - 300;
        snprintf(t, sizeof t, "%llue%d", m, e);
        double x = strtod(t, NULL);
        if (!isfinite(x) || x == 0) continue; /* beyond DBL_MAX or below 5e-324 */
        size_t n = check_one(x);
        REQUIRE(n <= (size_t)nd, "%s: %zu digits for a %d-digit decimal", t, n, nd);
        if (nd <= 15) { /* DBL_DIG: the decimal itself comes back */
            mp_format_double(x, a);
            REQUIRE(decompose(a, dig, sizeof dig, &neg, &e10), "%s", a);
            REQUIRE(decompose(t, dig2, sizeof dig2, &neg2, &e2), "%s", t);
            REQUIRE(strcmp(dig, dig2) == 0 && e10 == e2, "%s came back as %s", t, a);
        }
    }
    for (size_t i = 0; i < 60000; i++) { /* integers below 2^53 print as integers */
        unsigned long long v = (unsigned long long)(xorshift(&s) >> (11 + xorshift(&s) % 50));
        if (i < 1000) v = (UINT64_C(1) << 53) - i;
        mp_format_double((double)v, a);
        snprintf(t, sizeof t, "%llu", v);
        REQUIRE(strcmp(a, t) == 0, "%s printed as %s", t, a);
    }
    for (size_t i = 0; i < 20000; i++) { /* and beyond 2^53 */
        uint64_t v = xorshift(&s);
        check_one((double)v);
        check_one(ldexp((double)(v >> 11), 53 + (int)(xorshift(&s) % 200)));
    }
}
END_TEST

/* ---- CPython's repr ------------------------------------------------------- */

START_TEST(test_fmt_python_repr)
{
    FILE *f = fopen(tu_src("tests/reference/fmt/repr.txt"), "r");
    ck_assert_ptr_nonnull(f);
    char line[128], a[40], dig[40], dig2[40];
    int neg, e10, neg2, e2;
    size_t count = 0;
    while (fgets(line, sizeof line, f)) {
        char *sp = strchr(line, ' ');
        ck_assert_ptr_nonnull(sp);
        *sp = '\0';
        char *want = sp + 1;
        want[strcspn(want, "\n")] = '\0';
        double x = of_bits(strtoull(line, NULL, 16));
        mp_format_double(x, a);
        if (x == 0) {
            ck_assert_str_eq(a, signbit(x) ? "-0" : "0");
        } else {
            ck_assert(decompose(a, dig, sizeof dig, &neg, &e10));
            ck_assert_msg(decompose(want, dig2, sizeof dig2, &neg2, &e2), "bad line %s", want);
            ck_assert_msg(neg == neg2 && strcmp(dig, dig2) == 0 && e10 == e2,
                          "%s: ours %s, Python %s", line, a, want);
        }
        count++;
    }
    fclose(f);
    ck_assert_uint_eq(count, 5917);
}
END_TEST

/* ---- the exact multi-word path gives the same text ------------------------ */

START_TEST(test_fmt_exact_path_agrees)
{
    char a[40], b[40];
    uint64_t s = UINT64_C(1234567);
    for (size_t i = 0; i < 100000; i++) {
        double x = of_bits(xorshift(&s));
        if (!isfinite(x)) continue;
        mp_format_double(x, a);
        mp_fmt_double_exact(x, b);
        REQUIRE(strcmp(a, b) == 0, "%a: fast %s, exact %s", x, a, b);
    }
    for (int e = -1074; e <= 1023; e++) { /* every binade, both ends, the irregular gap */
        double p = ldexp(1.0, e);
        const double xs[] = {p, nextafter(p, 0.0), nextafter(p, INFINITY), p * 1.5};
        for (size_t j = 0; j < 4; j++) {
            if (!isfinite(xs[j]) || xs[j] == 0) continue;
            mp_format_double(xs[j], a);
            mp_fmt_double_exact(xs[j], b);
            REQUIRE(strcmp(a, b) == 0, "%a: fast %s, exact %s", xs[j], a, b);
            REQUIRE(reads_back(b, xs[j]), "%s", b);
        }
    }
    for (uint64_t v = 1; v < 100000; v++) { /* integers: exact scaled values */
        mp_format_double((double)v, a);
        mp_fmt_double_exact((double)v, b);
        REQUIRE(strcmp(a, b) == 0, "%s, exact %s", a, b);
    }
}
END_TEST

/* ---- the fast path against the exact one, on every kind of double --------
 * mp_format_double() decides almost every value with one 64 x 128-bit
 * product, derives the interval's ends from it, picks the decimal without
 * branches and writes the digits with lane arithmetic; mp_fmt_double_exact()
 * decides every floor and integer test with multi-word integers and takes
 * the general path for the rest.  Their texts must agree byte for byte; every
 * 16th value (and every value of the small sets) also goes through
 * check_one(): glibc strtod reads it back, no shorter decimal does, and it
 * is the closest of its length. */

static void same_text(double x)
{
    char a[40], b[40];
    memset(a, 'x', sizeof a);
    size_t na = mp_format_double(x, a), nb = mp_fmt_double_exact(x, b);
    REQUIRE(na == nb && strcmp(a, b) == 0, "%a: fast %s, exact %s", x, a, b);
    REQUIRE(a[25] == 'x', "%a: wrote past buf[24]", x); /* the header's bound */
}

static double unit(uint64_t *s) /* uniform in [0, 1) */
{
    return (double)(xorshift(s) >> 11) * 0x1p-53;
}

/* The 12 numbers of a `metapool batch` row (estimate, se, ci_lb, ci_ub,
 * pval, tau2, I2, H2, Q, Q_pval, pi_lb, pi_ub) of a made-up k = 9 fit, with
 * the same kinds of values: effects of every scale, p-values down to ~1e-300,
 * tau2 = 0 in about a third of rows (then I2 = 0 and H2 = 1 exactly). */
static void batch_row(uint64_t *s, double row[12])
{
    double scale = ldexp(1.0, (int)(xorshift(s) % 24) - 12); /* 2^-12 .. 2^11 */
    double est = (unit(s) - 0.45) * scale;
    double se = (0.02 + unit(s)) * scale * (unit(s) < 0.1 ? 1e-3 : 0.2);
    double z = est / se;
    double tau2 = unit(s) < 0.35 ? 0.0 : unit(s) * unit(s) * scale * scale * 0.05;
    double I2 = tau2 == 0 ? 0.0 : 100.0 * unit(s);
    double H2 = 100.0 / (100.0 - I2);
    double Q = 8.0 * H2 * (0.5 + unit(s));
    row[0] = est;
    row[1] = se;
    row[2] = est - 1.959963984540054 * se;
    row[3] = est + 1.959963984540054 * se;
    row[4] = erfc(fabs(z) / sqrt(2.0));
    row[5] = tau2;
    row[6] = I2;
    row[7] = H2;
    row[8] = Q;
    row[9] = exp(-Q / 2.0) * (1.0 + Q / 2.0); /* a chi-square-like tail */
    row[10] = est - 2.306004135204166 * sqrt(se * se + tau2);
    row[11] = est + 2.306004135204166 * sqrt(se * se + tau2);
}

START_TEST(test_fmt_fast_equals_exact_wide)
{
    uint64_t s = UINT64_C(0x2545f4914f6cdd1d) + (uint64_t)_i;
    size_t n = 0;
    /* random bit patterns over the whole range */
    for (size_t i = 0; i < 300000; i++) {
        double x = of_bits(xorshift(&s));
        if (!isfinite(x)) continue;
        same_text(x);
        if (i % 16 == 0) check_one(x);
        n++;
    }
    /* the batch-like distribution */
    for (size_t i = 0; i < 30000; i++) {
        double row[12];
        batch_row(&s, row);
        for (size_t j = 0; j < 12; j++) {
            same_text(row[j]);
            if ((i + j) % 16 == 0) check_one(row[j]);
            n++;
        }
    }
    /* subnormals (c < 2^52, all through the general path), random and the
     * smallest and largest */
    for (size_t i = 0; i < 40000; i++) {
        uint64_t b = xorshift(&s) >> (12 + xorshift(&s) % 52);
        if (i < 2000) b = i + 1;
        if (i >= 2000 && i < 4000) b = (UINT64_C(1) << 52) - (i - 1999);
        double x = of_bits(b | (i & 1 ? UINT64_C(1) << 63 : 0));
        if (x == 0) continue;
        same_text(x);
        if (i % 8 == 0) check_one(x);
        n++;
    }
    /* integers, small and beyond 2^53 */
    for (uint64_t v = 1; v <= 20000; v++) same_text((double)v);
    for (size_t i = 0; i < 40000; i++) {
        double x = (double)(xorshift(&s) >> (xorshift(&s) % 64));
        same_text(x);
        if (i % 16 == 0 && x != 0) check_one(x);
    }
    n += 60000;
    ck_assert_uint_gt(n, 700000);
}
END_TEST

START_TEST(test_fmt_fast_equals_exact_edges)
{
    /* every power of two, 8 ulps either side, and 1.5 times it */
    for (int e = -1074; e <= 1023; e++) {
        double p = ldexp(1.0, e);
        double lo = p, hi = p;
        same_text(p);
        same_text(p * 1.5);
        for (int u = 0; u < 8; u++) {
            lo = nextafter(lo, 0.0);
            hi = nextafter(hi, INFINITY);
            if (lo != 0) same_text(lo);
            if (isfinite(hi)) same_text(hi);
        }
        check_one(p);
        if (lo != 0) check_one(lo);
        if (isfinite(hi)) check_one(hi);
    }
    /* every power of ten, 64 ulps either side; and the 17-digit decimals
     * just below it (where the decimal's digit count changes) */
    char t[40];
    for (int e = -323; e <= 308; e++) {
        snprintf(t, sizeof t, "1e%d", e);
        double p = strtod(t, NULL);
        double lo = p, hi = p;
        same_text(p);
        for (int u = 0; u < 64; u++) {
            lo = nextafter(lo, 0.0);
            hi = nextafter(hi, INFINITY);
            if (lo != 0) same_text(lo);
            if (isfinite(hi)) same_text(hi);
            if (u < 4) {
                if (lo != 0) check_one(lo);
                if (isfinite(hi)) check_one(hi);
            }
        }
        for (int j = 1; j <= 20; j++) {
            snprintf(t, sizeof t, "%de%d", 100000000 - j, e - 8);
            double x = strtod(t, NULL);
            if (x != 0 && isfinite(x)) same_text(x);
            snprintf(t, sizeof t, "99999999999999%03de%d", 1000 - j, e - 17);
            x = strtod(t, NULL);
            if (x != 0 && isfinite(x)) {
                same_text(x);
                check_one(x);
            }
        }
    }
    /* the ends of the range, zeros, and non-finite values */
    const double xs[] = {DBL_MAX, -DBL_MAX, DBL_MIN, -DBL_MIN, 5e-324, -5e-324, 0.0, -0.0,
                         INFINITY, -INFINITY, NAN, DBL_EPSILON, 1.0, -1.0, 0.1, 0.5, 2.5e-7};
    for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++) same_text(xs[i]);
    /* decimals of 1..17 digits (nice numbers, with many zeros to drop) */
    uint64_t s = UINT64_C(0x853c49e6748fea9b);
    for (size_t i = 0; i < 60000; i++) {
        int nd = 1 + (int)(xorshift(&s) % 17);
        unsigned long long m = xorshift(&s) % 100000000000000000ULL;
        for (int j = nd; j < 17; j++) m /= 10; /* at most nd digits */
        if (m == 0) m = 1 + i % 9;
        snprintf(t, sizeof t, "%llue%d", m, (int)(xorshift(&s) % 640) - 340);
        double x = strtod(t, NULL);
        if (x == 0 || !isfinite(x)) continue;
        same_text(x);
        if (i % 8 == 0) check_one(x);
    }
}
END_TEST

static Suite *fmt_suite(void)
{
    Suite *s = suite_create("fmt");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_fmt_specials_and_layout);
    tcase_add_loop_test(tc, test_fmt_random_bits, 0, 4); /* 4 x 250 000 */
    tcase_add_test(tc, test_fmt_powers_and_edges);
    tcase_add_test(tc, test_fmt_decimals_and_integers);
    tcase_add_test(tc, test_fmt_python_repr);
    tcase_add_test(tc, test_fmt_exact_path_agrees);
    tcase_add_loop_test(tc, test_fmt_fast_equals_exact_wide, 0, 2);
    tcase_add_test(tc, test_fmt_fast_equals_exact_edges);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(fmt_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
