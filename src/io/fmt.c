/* src/io/fmt.c - shortest round-trip text for a double (mp_format_double).
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The text is the shortest decimal that reads back (strtod, round to
 * nearest, ties to even) as exactly x, and among the decimals of that length
 * the one closest to x (ties: the even last digit).  The method is the one of
 * R. Giulietti, "The Schubfach way to render doubles" (2020), with U. Adams,
 * "Ryu: fast float-to-string conversion" (PLDI 2018) for the idea of a table
 * of 128-bit powers of ten; the code and the error analysis below are ours.
 *
 * x = c 2^q (c < 2^53 an integer).  The decimals that read back as x are
 * those in the rounding interval around x: [c - 1/2, c + 1/2] 2^q, or
 * [c - 1/4, c + 1/2] 2^q when c = 2^52 is the smallest significand of its
 * binade (the gap below is half the gap above); the ends belong to the
 * interval when c is even (ties to even read back as x).  Choose k with
 * 10^k <= (width of the interval) < 10^(k+1).  Scaled by 10^-k the interval
 * is [L, R] with 1 <= R - L < 10, and v = x 10^-k lies in it, so
 *   - the interval holds at most one multiple of 10; if it holds one, that
 *     is the unique shortest decimal (its trailing zeros are dropped later);
 *   - otherwise it holds s = floor(v) or s + 1 (a gap of width >= 1 around
 *     v, at least 1/3 below and 2/3 above, cannot miss both), all the
 *     integers in it have the same number of digits, and the one closest to
 *     v is s or s + 1.
 * Every decision is a comparison of an integer n with L, R or v.  Work with
 * four times these: 4L = cbl 2^q 10^-k, 4v = 4c 2^q 10^-k, 4R = cbr 2^q
 * 10^-k (cbl = 4c - 2 or 4c - 1, cbr = 4c + 2), and encode each as
 * floor(X) | (1 if X is not an integer) ("round to odd"): compared with a
 * multiple of 4 (or of 2) that odd value orders exactly as X does.
 *
 * Computing floor(X) and whether X is an integer, X = m 2^q 10^-k, m < 2^55
 * (m = cbl, 4c or cbr): the table (fmt_pow10.h, made by scripts/gen_pow10.py
 * with exact integers) holds G = floor(10^-k 2^B) with 2^127 <= G < 2^128,
 * and X = m G' 2^-S with G' = 10^-k 2^B the exact value (G <= G' < G + 1),
 * S = B - q in [124, 127].
 *
 * The usual path (scaled3).  Fold the scale into the multiplier: with
 * j = 128 - S in [1, 4] and m' = m 2^j < 2^59, X = m' G' 2^-128.  The
 * product m' G (< 2^187, three words) is formed exactly; let y be its top
 * word and f the middle one, Y = y + f 2^-64 = floor(m' G / 2^64) 2^-64.
 * Then Y <= X < Y + 2^-64 + 2^-69 (dropping the low word costs less than
 * 2^-64, the table's truncation m' (G' - G) 2^-128 < 2^-69).  So
 *   - if f is neither 0 nor 2^64 - 1, X lies strictly between y and y + 1:
 *     floor(X) = y and X is not an integer (X >= Y >= y + 2^-64, and X <
 *     y + (2^64 - 2) 2^-64 + 2^-64 + 2^-69 < y + 1);
 *   - otherwise (f = 0 or all ones) the careful path below decides all
 *     three values.
 * The three products need not be three multiplications: m' = 4c 2^j,
 * 4c 2^j + 2^(j+1), 4c 2^j - 2^(j+1) (or - 2^j when cbl = 4c - 1), so with
 * P = (4c 2^j) G (two 64 x 64-bit products) the others are P + 2^(j+1) G and
 * P - 2^(j+1) G (2^j G), a shift of the table entry added to or subtracted
 * from P in three words; all are exact and none is negative.
 *
 * The careful path (scaled: for the values scaled3 leaves undecided, and
 * for every value of mp_fmt_double_exact(); subnormal and irregular x go
 * through format_any, which tries scaled3 first too).  Form
 * H = floor(m G / 2^64) exactly (64 x 128-bit product), so that
 * Y = H / 2^(S-64) satisfies Y <= X < Y + 2^-(S-64) + m 2^-S < Y + 2^-59
 * (the table's truncation costs less than m / 2^S < 2^-69, dropping the low
 * 64 bits less than 2^-(S-64) <= 2^-60).  With f the S-64 >= 60 fraction
 * bits of Y:
 *   - whether X is an integer is decided exactly by divisibility: for
 *     k <= 0, X = m 5^-k 2^(q-k) is an integer iff q - k >= 0 or 2^(k-q)
 *     divides m; for k > 0 (where q >= k, checked by the generator),
 *     X = m 2^(q-k) / 5^k is one iff 5^k divides m;
 *   - if X is an integer, it is floor(Y) or floor(Y) + 1, the latter exactly
 *     when f has all bits set (Y falls short of X by less than one unit of f
 *     plus a bit);
 *   - if not, floor(X) = floor(Y) unless f has all bits set; only then could
 *     the error carry X past the next integer, and the exact path below
 *     decides with multi-word integers.  (The papers' analyses of their own
 *     tables suggest that a non-integer X of a double never comes that close
 *     to an integer; we have not proved it for ours and do not rely on it.
 *     No test value reaches this branch; the tests run the exact path on
 *     every value through mp_fmt_double_exact() instead.)
 *
 * The choice (finish) is made without branches where the case is as good as
 * random for real data, and so are the digits (lanes8: a word of 8 ASCII
 * digits from two multiply-shift steps on lanes, no table) and the trailing
 * zeros (an exact divisibility test by multiplying with an inverse); each
 * step says why it is exact where it is.  The fast and careful paths give
 * the same floors and the same integer tests, so the same text:
 * tests/test_fmt.c checks that on many doubles of every kind, and the text
 * against glibc and CPython besides.
 * No floating-point arithmetic, no allocation, no state: thread-safe. */
#include "fmt.h"

#include "metapool/batch.h"

#include <stdint.h>
#include <string.h>

#include "fmt_pow10.h"

#if defined(__GNUC__)
#define FMT_ALWAYS_INLINE __attribute__((always_inline))
#define FMT_NOINLINE __attribute__((noinline))
#define FMT_UNLIKELY(c) __builtin_expect(!!(c), 0)
#else
#define FMT_ALWAYS_INLINE
#define FMT_NOINLINE
#define FMT_UNLIKELY(c) (c)
#endif

/* ---- 64 x 64 -> 128-bit products ------------------------------------------ */

#if defined(__SIZEOF_INT128__)
__extension__ typedef unsigned __int128 fmt_u128; /* gcc, clang on 64-bit targets */
#endif

static inline void mul64(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo)
{
#if defined(__SIZEOF_INT128__)
    fmt_u128 p = (fmt_u128)a * b;
    *hi = (uint64_t)(p >> 64);
    *lo = (uint64_t)p;
#else
    /* schoolbook on 32-bit halves */
    uint64_t a0 = a & 0xffffffffu, a1 = a >> 32, b0 = b & 0xffffffffu, b1 = b >> 32;
    uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    uint64_t mid = (p00 >> 32) + (p01 & 0xffffffffu) + (p10 & 0xffffffffu);
    *lo = (mid << 32) | (p00 & 0xffffffffu);
    *hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
#endif
}

/* ---- the exact path: multi-word integers ---------------------------------- */

/* The largest numbers formed: m 5^324 < 2^55 2^753 (k = -324) and
 * (y + 1) 2^750 with y < 2^60 (k - q <= 750), so 13 words; 16 leave room. */
#define BIG_WORDS 16

typedef struct {
    uint64_t w[BIG_WORDS]; /* little-endian words */
    size_t n;              /* words in use; w[n-1] != 0 unless n == 0 */
} big;

static void big_set(big *b, uint64_t v)
{
    b->w[0] = v;
    b->n = v != 0;
}

static void big_mul(big *b, uint64_t v)
{
    uint64_t carry = 0;
    for (size_t i = 0; i < b->n; i++) {
        uint64_t hi, lo;
        mul64(b->w[i], v, &hi, &lo);
        lo += carry;
        hi += lo < carry;
        b->w[i] = lo;
        carry = hi;
    }
    if (carry && b->n < BIG_WORDS) b->w[b->n++] = carry;
}

static void big_mul_pow5(big *b, int e)
{
    for (; e >= 27; e -= 27) big_mul(b, fmt_pow5[27]);
    if (e > 0) big_mul(b, fmt_pow5[e]);
}

static void big_shl(big *b, int bits)
{
    if (b->n == 0 || bits <= 0) return;
    size_t words = (size_t)bits / 64;
    unsigned r = (unsigned)bits % 64;
    size_t n = b->n + words + 1;
    if (n > BIG_WORDS) n = BIG_WORDS; /* cannot happen within the bound above */
    for (size_t i = n; i-- > 0;) {
        uint64_t hi = i >= words && i - words < b->n ? b->w[i - words] : 0;
        uint64_t lo = i >= words + 1 && i - words - 1 < b->n ? b->w[i - words - 1] : 0;
        b->w[i] = r ? (hi << r) | (lo >> (64 - r)) : hi;
    }
    b->n = n;
    while (b->n > 0 && b->w[b->n - 1] == 0) b->n--;
}

static int big_cmp(const big *a, const big *b)
{
    if (a->n != b->n) return a->n < b->n ? -1 : 1;
    for (size_t i = a->n; i-- > 0;)
        if (a->w[i] != b->w[i]) return a->w[i] < b->w[i] ? -1 : 1;
    return 0;
}

/* floor(m 2^q 10^-k) | (1 if that is not an integer), given y0 with
 * y0 <= floor(m 2^q 10^-k) <= y0 + 1: compare N = m 2^a2 5^a5 with
 * (y0 + 1) D and y D, D = 2^-a2 5^-a5 (each exponent on the side where it is
 * positive), a2 = q - k, a5 = -k. */
static uint64_t scaled_exact(uint64_t m, int q, int k, uint64_t y0)
{
    int a2 = q - k, a5 = -k;
    big num, t;
    big_set(&num, m);
    if (a5 > 0) big_mul_pow5(&num, a5);
    if (a2 > 0) big_shl(&num, a2);
    big_set(&t, y0 + 1);
    if (a5 < 0) big_mul_pow5(&t, -a5);
    if (a2 < 0) big_shl(&t, -a2);
    uint64_t y = y0;
    int c = big_cmp(&t, &num);
    if (c <= 0) { /* (y0 + 1) D <= N */
        y = y0 + 1;
        return c == 0 ? y : y | 1;
    }
    big_set(&t, y0);
    if (a5 < 0) big_mul_pow5(&t, -a5);
    if (a2 < 0) big_shl(&t, -a2);
    return big_cmp(&t, &num) == 0 ? y : y | 1;
}

/* ---- the fast path -------------------------------------------------------- */

static inline int ctz64(uint64_t v) /* v != 0 */
{
#if defined(__GNUC__)
    return __builtin_ctzll(v);
#else
    int n = 0;
    while (!(v & 1)) { v >>= 1; n++; }
    return n;
#endif
}

/* Whether m 2^q 10^-k is an integer (m > 0); see the file comment. */
static inline int scaled_is_int(uint64_t m, int q, int k)
{
    if (k <= 0) return q - k >= 0 || ctz64(m) >= k - q;
    return k <= 27 && m % fmt_pow5[k] == 0;
}

/* floor(m 2^q 10^-k) | (1 if that is not an integer), for m < 2^55, with
 * g the table entry of k and r = S - 64 = g->b - q - 64 in [60, 63]. */
static inline uint64_t scaled(uint64_t m, const fmt_pow10_entry *g, int r, int q, int k,
                              int force_exact)
{
    uint64_t ah, al, bh, bl;
    mul64(m, g->lo, &ah, &al);
    mul64(m, g->hi, &bh, &bl);
    uint64_t h0 = bl + ah; /* H = floor(m G / 2^64) = (bh, bl) + ah */
    uint64_t h1 = bh + (h0 < ah);
    uint64_t y = (h1 << (64 - r)) | (h0 >> r);
    uint64_t mask = (UINT64_C(1) << r) - 1;
    int full = (h0 & mask) == mask;
    (void)al;
    if (force_exact) return scaled_exact(m, q, k, y);
    if (scaled_is_int(m, q, k)) return y + (uint64_t)full;
    return full ? scaled_exact(m, q, k, y) : y | 1;
}

/* vbl, vb, vbr as scaled() gives them, with the scale folded into the
 * multiplier (see the file comment, "The usual path"): X = m 2^q 10^-k =
 * m' G' / 2^128 with m' = m 2^j, j = 128 - S in [1, 4], m' < 2^59; the
 * high word y of floor(m' G / 2^64) is floor(X) and X is not an integer
 * whenever the low word f is neither 0 nor 2^64 - 1.  Returns 0, and sets
 * nothing, when some f is one of those two (scaled() then decides). */
static inline int scaled3(uint64_t c, const fmt_pow10_entry *g, int r, int irregular,
                          uint64_t *vbl, uint64_t *vb, uint64_t *vbr)
{
    int j = 64 - r;             /* = 128 - S */
    uint64_t mb = c << (2 + j); /* (4c) 2^j */
    uint64_t ph, pl, qh, ql;
    mul64(mb, g->hi, &ph, &pl);
    mul64(mb, g->lo, &qh, &ql);
    /* mb G = (ph, pl + qh, ql) with the carry into ph */
    uint64_t fb = pl + qh, yb = ph + (fb < qh);
    /* 2^(j+1) G = (e2, e1, e0) and 2^(j+1-irregular) G = (l2, l1, l0) */
    int sr = j + 1, sl = j + 1 - irregular; /* in [1, 5] */
    uint64_t e0 = g->lo << sr, e1 = (g->hi << sr) | (g->lo >> (64 - sr)), e2 = g->hi >> (64 - sr);
    uint64_t l0 = g->lo << sl, l1 = (g->hi << sl) | (g->lo >> (64 - sl)), l2 = g->hi >> (64 - sl);
    /* (mb + 2^(j+1)) G = mb G + (e2, e1, e0) */
    uint64_t s0 = ql + e0, fr = fb + e1;
    uint64_t cr = fr < e1;
    fr += s0 < ql;
    cr += fr < (uint64_t)(s0 < ql);
    uint64_t yr = yb + e2 + cr;
    /* (mb - 2^(j+1-irregular)) G = mb G - (l2, l1, l0) */
    uint64_t bw0 = ql < l0, fl = fb - l1;
    uint64_t bl = fb < l1;
    bl += fl < bw0;
    fl -= bw0;
    uint64_t yl = yb - l2 - bl;
    /* f + 1 wraps to 0 for f = 2^64 - 1 */
    if (!((fb + 1 > 1) & (fr + 1 > 1) & (fl + 1 > 1))) return 0;
    *vb = yb | 1;
    *vbr = yr | 1;
    *vbl = yl | 1;
    return 1;
}

/* vbl, vb, vbr by scaled(), one product each: when scaled3() cannot decide,
 * and for mp_fmt_double_exact().  Kept out of line so that the registers of
 * the usual path are not spent on it. */
FMT_NOINLINE static void scaled_each(uint64_t c, const fmt_pow10_entry *g, int r, int q, int k,
                                     int irregular, int force_exact, uint64_t *vbl,
                                     uint64_t *vb, uint64_t *vbr)
{
    uint64_t cb = c << 2;
    *vb = scaled(cb, g, r, q, k, force_exact);
    *vbl = scaled(irregular ? cb - 1 : cb - 2, g, r, q, k, force_exact);
    *vbr = scaled(cb + 2, g, r, q, k, force_exact);
}

/* floor(q log10 2) and floor(q log10 2 + log10 3/4) for -1074 <= q <= 971
 * (the constants are checked by the generator); the offset keeps the shifted
 * value non-negative, since >> of a negative value is implementation-defined. */
static inline int k_regular(int q)
{
    return (int)((uint64_t)((int64_t)q * FMT_L2_MUL + ((int64_t)1024 << FMT_L2_SHIFT)) >>
                 FMT_L2_SHIFT) -
           1024;
}

static inline int k_irregular(int q)
{
    return (int)((uint64_t)((int64_t)q * FMT_L2_MUL - FMT_L34_SUB + ((int64_t)1024 << FMT_L2_SHIFT)) >>
                 FMT_L2_SHIFT) -
           1024;
}

/* ---- text ----------------------------------------------------------------- */

static const char digit_pairs[201] = "00010203040506070809"
                                     "10111213141516171819"
                                     "20212223242526272829"
                                     "30313233343536373839"
                                     "40414243444546474849"
                                     "50515253545556575859"
                                     "60616263646566676869"
                                     "70717273747576777879"
                                     "80818283848586878889"
                                     "90919293949596979899";

static const uint64_t pow10_u64[18] = {UINT64_C(1),
                                       UINT64_C(10),
                                       UINT64_C(100),
                                       UINT64_C(1000),
                                       UINT64_C(10000),
                                       UINT64_C(100000),
                                       UINT64_C(1000000),
                                       UINT64_C(10000000),
                                       UINT64_C(100000000),
                                       UINT64_C(1000000000),
                                       UINT64_C(10000000000),
                                       UINT64_C(100000000000),
                                       UINT64_C(1000000000000),
                                       UINT64_C(10000000000000),
                                       UINT64_C(100000000000000),
                                       UINT64_C(1000000000000000),
                                       UINT64_C(10000000000000000),
                                       UINT64_C(100000000000000000)};

/* The number of decimal digits of d, 0 < d < 2^57: t = floor(bits log10 2)
 * (1233 / 4096 < log10 2) is floor(log10 d) or one more. */
static inline int dec_len(uint64_t d)
{
#if defined(__GNUC__)
    int bits = 64 - __builtin_clzll(d);
#else
    int bits = 0;
    for (uint64_t v = d; v; v >>= 1) bits++;
#endif
    int t = (bits * 1233) >> 12;
    return t + (d >= pow10_u64[t]);
}

/* Eight digits as the bytes of a word, byte i (bits 8i..8i+7) the i-th
 * digit in ASCII, from x = a | b << 32 with a, b < 10^4 the first and the
 * last four (no table, no branch): each 32-bit lane is split into two 2-digit
 * lanes of 16 bits and those into 8-bit digits, all lanes at once.  The
 * quotients are multiply-and-shift, exact on their ranges (floor(n m / 2^s)
 * = floor(n / d) when m = ceil(2^s / d) and n (m d - 2^s) < 2^s for every n
 * in range): n < 10^4, d = 100, m = 10486, s = 20 (9999 * 24 < 2^20);
 * n < 100, d = 10, m = 103, s = 10 (99 * 6 < 2^10).  No lane's product
 * reaches the next lane (10^4 * 10486 < 2^27 in 32-bit lanes, 100 * 103 <
 * 2^14 in 16-bit ones), and the masks keep just the quotient bits of each
 * lane.  The remainders come with one more multiply: (x << 16) -
 * h (100 * 2^16 - 1) = h + ((x - 100 h) << 16) puts each quotient in the
 * low half of its lane and the remainder in the high half (no lane borrows:
 * x - 100 h >= 0 lane by lane); the same for the digits with 10 and 2^8. */
static inline uint64_t lanes8(uint64_t x)
{
    uint64_t h = ((x * 10486) >> 20) & UINT64_C(0x0000007f0000007f);
    uint64_t y = (x << 16) - h * ((100 << 16) - 1);
    uint64_t t = ((y * 103) >> 10) & UINT64_C(0x000f000f000f000f);
    return (y << 8) - t * ((10 << 8) - 1) + UINT64_C(0x3030303030303030);
}

/* Byte i of z at p[i], i < 8. */
static inline void store8(char *p, uint64_t z)
{
#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(p, &z, 8);
#else
    for (int i = 0; i < 8; i++) p[i] = (char)(unsigned char)(z >> (8 * i));
#endif
}

/* The 8 digits of v < 10^8 (leading zeros included) at p[0..8): x = a |
 * b << 32 is (v << 32) - a (10^4 2^32 - 1) with a = floor(v / 10^4). */
static inline void write8(char *p, uint32_t v)
{
    uint64_t a = v / 10000;
    store8(p, lanes8(((uint64_t)v << 32) - a * ((UINT64_C(10000) << 32) - 1)));
}

/* The n digits of d (10^(n-1) <= d < 10^n, 9 <= n <= 17) at p[0..n), the
 * usual case, without branches: the last 8 as one word, the 8 before them
 * (d's digits 9..16 from the right, leading zeros included) as another, of
 * which only the last n - 8 are stored when n < 16 (the word shifted by
 * whole bytes; its top bytes, then 0, are overwritten by the last 8), and
 * when n = 17 the first digit floor(d / 10^16) before them (stored first
 * and, when n < 17, overwritten).  Nothing outside p[0..n) is written.  The
 * four 4-digit groups come from quotients of d taken side by side, not one
 * after another (a shorter chain of dependent multiplies).  Forced inline:
 * the call's register saves would cost as much as the work. */
FMT_ALWAYS_INLINE static inline void put_digits9(char *p, uint64_t d, int n)
{
    uint64_t q4 = d / 10000, q8 = d / 100000000; /* q8 < 10^9 */
    uint32_t q12 = (uint32_t)q8 / 10000;
    uint32_t top = (uint32_t)q8 / 100000000; /* 0 unless n = 17 */
    uint64_t lo = (q4 - q8 * 10000) | ((d - q4 * 10000) << 32);
    uint64_t mid = (q12 - top * 10000) | ((uint64_t)((uint32_t)q8 - q12 * 10000) << 32);
    int cut = (n < 16) * (16 - n); /* digits of the middle block not stored */
    p[0] = (char)('0' + top);
    store8(p + (n > 16), lanes8(mid) >> (8 * cut));
    store8(p + n - 8, lanes8(lo));
}

/* The n digits of d (10^(n-1) <= d < 10^n, n <= 17) at p[0..n). */
static void put_digits_any(char *p, uint64_t d, int n)
{
    char *end = p + n;
    while (d >= 100000000) {
        uint32_t lo = (uint32_t)(d % 100000000);
        d /= 100000000;
        end -= 8;
        write8(end, lo);
    }
    uint32_t v = (uint32_t)d;
    while (v >= 100) {
        uint32_t two = v % 100;
        v /= 100;
        end -= 2;
        memcpy(end, digit_pairs + 2 * two, 2);
    }
    if (v >= 10) memcpy(end - 2, digit_pairs + 2 * v, 2);
    else end[-1] = (char)('0' + v);
}

FMT_ALWAYS_INLINE static inline void put_digits(char *p, uint64_t d, int n)
{
    if (n >= 9) put_digits9(p, d, n);
    else put_digits_any(p, d, n);
}

/* d 10^k (n digits, no trailing zeros) in printf's %g layout with the switch
 * to exponent form at 10^17; returns the end.  The digits are written
 * straight to their places (no copies of variable length).  At most 2 + 3 +
 * 17 bytes from p are written, some of them ("0.000" for "0.5") after the
 * end where the NUL goes: with the sign at most 23 bytes of buf. */
FMT_ALWAYS_INLINE static inline char *layout(char *p, uint64_t d, int n, int k)
{
    int e10 = k + n - 1; /* exponent of the leading digit */
    if (e10 < 0 && e10 >= -4) { /* 0.000ddd: the commonest case in batch output */
        int z = -e10 - 1;       /* zeros after the point: 0..3 */
        memcpy(p, "0.000", 5);  /* the digits overwrite the zeros not needed */
        put_digits(p + 2 + z, d, n);
        return p + 2 + z + n;
    }
    if (e10 < -4 || e10 >= 17) {
        put_digits(p + 1, d, n); /* digits at p[1..n], then the first moves left */
        p[0] = p[1];
        if (n > 1) {
            p[1] = '.';
            p += n + 1;
        } else {
            p += 1;
        }
        *p++ = 'e';
        int e = e10;
        *p++ = e < 0 ? '-' : '+';
        if (e < 0) e = -e;
        if (e >= 100) {
            *p++ = (char)('0' + e / 100);
            e %= 100;
        }
        memcpy(p, digit_pairs + 2 * e, 2);
        return p + 2;
    }
    int ip = e10 + 1; /* digits before the point */
    if (n <= ip) {
        put_digits(p, d, n);
        for (int i = n; i < ip; i++) p[i] = '0';
        return p + ip;
    }
    put_digits(p + 1, d, n); /* digits at p[1..n]; the first ip move left */
    for (int i = 0; i < ip; i++) p[i] = p[i + 1];
    p[ip] = '.';
    return p + n + 1;
}

/* ---- the conversion ------------------------------------------------------- */

/* Division by 10^e that is exact or tells that it is not, e = 2^i, i < 4
 * (T. Granlund, P. Montgomery, "Division by invariant integers using
 * multiplication", PLDI 1994, section 9): with w = 5^-e mod 2^64 (5^e is odd)
 * and u = (d w mod 2^64) rotated right by e bits, 10^e divides d iff
 * u <= floor((2^(64-e) - 1) / 5^e), and then u = d / 10^e.  Why: if 2^e
 * divides d = 2^e m (m < 2^(64-e)), the low e bits of d w are 0 and u =
 * m w mod 2^(64-e); multiplying by w permutes the residues mod 2^(64-e)
 * and sends 5^e j to j, so the multiples of 5^e below 2^(64-e) are sent
 * exactly onto 0..max and the others above it.  If not, d w has a low bit
 * set (w is odd), which the rotation moves into the top e bits: u >=
 * 2^(64-e) > max. */
static const struct {
    uint64_t inv, max;
} fmt_div5[4] = {
    {UINT64_C(0xcccccccccccccccd), UINT64_C(0x1999999999999999)}, /* 5^1 */
    {UINT64_C(0x8f5c28f5c28f5c29), UINT64_C(0x028f5c28f5c28f5c)}, /* 5^2 */
    {UINT64_C(0xd288ce703afb7e91), UINT64_C(0x00068db8bac710cb)}, /* 5^4 */
    {UINT64_C(0xc767074b22e90e21), UINT64_C(0x0000002af31dc461)}, /* 5^8 */
};

static inline uint64_t div10e(uint64_t d, int i) /* e = 2^i */
{
    uint64_t u = d * fmt_div5[i].inv;
    int e = 1 << i;
    return (u >> e) | (u << (64 - e));
}

/* The text from vbl, vb, vbr (out = c & 1): the decimal, its trailing
 * zeros dropped, and the layout; p is where the digits start (after a sign),
 * buf the start of the text.  Returns the length. */
FMT_ALWAYS_INLINE static inline size_t finish(char *buf, char *p, uint64_t vbl, uint64_t vb,
                                              uint64_t vbr, uint64_t out, int k, int subnormal)
{
    /* v's integer part s, and the multiples of 10 around it; for an
     * integer i, 4i >= lo (i > L when c is odd, else i >= L) and 4i <= hi
     * (i < R, or i <= R) say that i lies in the interval */
    uint64_t lo = vbl + out, hi = vbr - out;
    uint64_t s = vb >> 2, s10 = s / 10, sp10 = s10 * 10, tp10 = sp10 + 10;
    int upin = lo <= sp10 << 2;
    int wpin = (tp10 << 2) <= hi;
    /* s or t = s + 1: s unless only t reads back; if both do, the closer to
     * v, a tie to the even one (one of them does).  s is the closer iff
     * vb < 4s + 2, or vb = 4s + 2 and s is even (vb orders like 4v against
     * the even 4s + 2), i.e. iff vb + (s & 1) <= 4s + 2. */
    uint64_t t = s + 1;
    int uin = lo <= s << 2;
    int win = (t << 2) <= hi;
    int closer = vb + (s & 1) <= (s << 2) + 2;
    uint64_t d1 = s + (uint64_t)!(uin & ((win == 0) | closer));
    /* A multiple of 10 in the interval wins, with one zero dropped at once:
     * sp10 / 10 = s10, tp10 / 10 = s10 + 1.  Otherwise d1 is not a multiple
     * of 10 (if it were, it would be sp10 or tp10 and lie in the interval).
     * Both are formed and one is picked without a branch: which case holds
     * is as good as random (about a third of batch output is the first). */
    int ten = upin != wpin;
    uint64_t d = d1 ^ ((d1 ^ (s10 + (uint64_t)wpin)) & (UINT64_C(0) - (uint64_t)ten));
    k += ten;
    /* n = the digits of d.  For a normal x, v = c 2^q 10^-k lies in
     * [2^52, 10 2^53) (the interval's width 2^q or 3/4 2^q is in [10^k,
     * 10^(k+1))), so s, d1 (not 10^16, a multiple of 10) and sp10, tp10 (>=
     * 2^52 - 9 > 10^15, < 10 2^53 + 10 < 10^17) have 16 or 17 digits and
     * d = sp10 / 10 or tp10 / 10 one fewer.  (For a subnormal x this n is
     * wrong and replaced below.) */
    int n = 16 - ten + (d >= pow10_u64[16 - ten]);
    if (div10e(d, 0) <= fmt_div5[0].max) { /* more trailing zeros (rare: nice numbers) */
        /* at most 16 (d < 10^17): try 10^8, 10^8, 10^4, 10^2, 10, each
         * dividing d when that many zeros are left (no branches: how many
         * is as good as random) */
        static const int e[5] = {3, 3, 2, 1, 0};
        for (int i = 0; i < 5; i++) {
            uint64_t u = div10e(d, e[i]);
            uint64_t take = UINT64_C(0) - (uint64_t)(u <= fmt_div5[e[i]].max);
            d ^= (d ^ u) & take;
            k += (int)(take & (UINT64_C(1) << e[i]));
            n -= (int)(take & (UINT64_C(1) << e[i]));
        }
    }
    if (subnormal) n = dec_len(d); /* v may be small */
    p = layout(p, d, n, k);
    *p = '\0';
    return (size_t)(p - buf);
}

/* Any finite nonzero x = c 2^q (the rare cases of the usual path, subnormal
 * and irregular x, and mp_fmt_double_exact()); kept out of line so that the
 * usual path keeps nothing live across a call. */
FMT_NOINLINE static size_t format_any(char *buf, char *p, uint64_t c, int q, int irregular,
                                      int subnormal, int force_exact)
{
    int k = irregular ? k_irregular(q) : k_regular(q);
    const fmt_pow10_entry *g = &fmt_pow10[k - FMT_K_MIN];
    int r = g->b - q - 64;
    uint64_t vb, vbl, vbr;
    if (force_exact || !scaled3(c, g, r, irregular, &vbl, &vb, &vbr))
        scaled_each(c, g, r, q, k, irregular, force_exact, &vbl, &vb, &vbr);
    return finish(buf, p, vbl, vb, vbr, c & 1, k, subnormal);
}

/* Every double: the special values, zeros, subnormal and irregular x, and
 * all of mp_fmt_double_exact(). */
FMT_NOINLINE static size_t format_rare(double x, char *buf, int force_exact)
{
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    char *p = buf;
    int neg = (int)(bits >> 63);
    int be = (int)((bits >> 52) & 0x7ff);
    uint64_t fr = bits & ((UINT64_C(1) << 52) - 1);
    if (be == 0x7ff) { /* as glibc's printf writes them */
        const char *w = fr ? (neg ? "-nan" : "nan") : (neg ? "-inf" : "inf");
        size_t len = strlen(w);
        memcpy(buf, w, len + 1);
        return len;
    }
    if (neg) *p++ = '-';
    if (be == 0) {
        if (fr == 0) {
            *p++ = '0';
            *p = '\0';
            return (size_t)(p - buf);
        }
        /* subnormal: the spacing below equals the one above */
        return format_any(buf, p, fr, -1074, 0, 1, force_exact);
    }
    /* irregular: c = 2^52 above the smallest binade, the gap below is half
     * the gap above */
    return format_any(buf, p, fr | (UINT64_C(1) << 52), be - 1075, fr == 0 && be > 1, 0,
                      force_exact);
}

size_t mp_format_double(double x, char *buf)
{
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    int be = (int)((bits >> 52) & 0x7ff);
    uint64_t fr = bits & ((UINT64_C(1) << 52) - 1);
    /* the usual path: normal, finite, c != 2^52 (one test: be - 1 wraps for
     * be = 0, and fr - 1 for fr = 0) */
    if (FMT_UNLIKELY((unsigned)(be - 1) >= 0x7fe || fr - 1 >= (UINT64_C(1) << 52) - 1))
        return format_rare(x, buf, 0);
    char *p = buf;
    *p = '-'; /* kept only if x < 0 (no branch: the sign is as good as random) */
    p += bits >> 63;
    uint64_t c = fr | (UINT64_C(1) << 52);
    int q = be - 1075;
    int k = k_regular(q);
    const fmt_pow10_entry *g = &fmt_pow10[k - FMT_K_MIN];
    uint64_t vb, vbl, vbr;
    if (!scaled3(c, g, g->b - q - 64, 0, &vbl, &vb, &vbr))
        return format_any(buf, p, c, q, 0, 0, 0); /* a fraction at 0 or all ones */
    return finish(buf, p, vbl, vb, vbr, c & 1, k, 0);
}

size_t mp_fmt_double_exact(double x, char *buf)
{
    return format_rare(x, buf, 1);
}
