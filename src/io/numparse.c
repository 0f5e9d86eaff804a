/* src/numparse.c - strict, locale-independent, correctly rounded number parsing.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The grammar is checked by hand ([blanks] [+-] digits [. digits] [e [+-] digits]
 * [blanks]), which rejects what strtod would quietly accept (hex floats,
 * "nan", "inf", trailing garbage such as "0.3 0.4").  Most numbers in data
 * files have at most 15 significant digits and a small exponent; for those
 * the value m * 10^e with m < 2^53 and |e| <= 22 is computed with one exact
 * double operation, which IEEE rounding makes correctly rounded (Clinger
 * 1990).  Everything else goes to strtod on the validated text (glibc's
 * strtod is correctly rounded in every case); strtod never sees text the
 * grammar did not accept, so its locale and hex-float extensions cannot
 * leak in. */
#include "metapool/table.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double pow10tab[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                    1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                    1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static int is_word(const char *p, const char *end, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(end - p) != n) return 0;
    for (size_t i = 0; i < n; i++)
        if (tolower((unsigned char)p[i]) != w[i]) return 0;
    return 1;
}

int mp_parse_double(const char *s, size_t len, double *out)
{
    const char *p = s, *end = s + len;
    while (p < end && (*p == ' ' || *p == '\t')) p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t')) end--;
    if (p == end) return 0;
    int neg = 0;
    if (*p == '+' || *p == '-') neg = *p++ == '-';
    if (p < end && (*p == 'n' || *p == 'N' || *p == 'i' || *p == 'I'))
        return is_word(p, end, "nan") || is_word(p, end, "inf") || is_word(p, end, "infinity")
                   ? -1
                   : 0;
    const char *mant = p; /* digits and the point */
    uint64_t m = 0;
    int nd = 0, sig = 0, dropped = 0;
    long exp10 = 0, nfrac = 0;
    for (; p < end && *p >= '0' && *p <= '9'; p++, nd++) {
        if (m == 0 && *p == '0') continue; /* leading zeros are not significant */
        if (sig < 19) { m = m * 10 + (uint64_t)(*p - '0'); sig++; }
        else { exp10++; dropped |= *p != '0'; }
    }
    if (p < end && *p == '.') {
        p++;
        for (; p < end && *p >= '0' && *p <= '9'; p++, nd++, nfrac++) {
            if (m == 0 && *p == '0') { exp10--; continue; }
            if (sig < 19) { m = m * 10 + (uint64_t)(*p - '0'); sig++; exp10--; }
            else dropped |= *p != '0';
        }
    }
    const char *mant_end = p;
    if (nd == 0) return 0;
    long e = 0;
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        int eneg = 0, en = 0;
        if (p < end && (*p == '+' || *p == '-')) eneg = *p++ == '-';
        for (; p < end && *p >= '0' && *p <= '9'; p++, en++)
            if (e < 100000000L) e = e * 10 + (*p - '0'); /* saturate: far beyond any double */
        if (en == 0) return 0;
        if (eneg) e = -e;
        exp10 += e;
    }
    if (p != end) return 0;
    if (m == 0) { *out = neg ? -0.0 : 0.0; return 1; }
    if (!dropped && m < (UINT64_C(1) << 53) && exp10 >= -22 && exp10 <= 22) {
        double v = (double)m;
        v = exp10 < 0 ? v / pow10tab[-exp10] : v * pow10tab[exp10];
        *out = neg ? -v : v;
        return 1;
    }
    /* Slow path: strtod on "[-]DIGITSe<exp>" rebuilt from the validated
     * text without a decimal point, so the locale's decimal separator never
     * matters. */
    char tmp[160];
    size_t n = (size_t)(mant_end - mant) + 32;
    char *buf = n <= sizeof tmp ? tmp : malloc(n);
    if (!buf) return 0;
    size_t w = 0;
    if (neg) buf[w++] = '-';
    for (const char *q = mant; q < mant_end; q++)
        if (*q != '.') buf[w++] = *q;
    snprintf(buf + w, n - w, "e%ld", e - nfrac);
    errno = 0;
    double v = strtod(buf, NULL);
    int eno = errno;
    if (buf != tmp) free(buf);
    /* Overflow gives +-HUGE_VAL: out of range.  Underflow (ERANGE with a
     * subnormal or zero result) is the correctly rounded tiny value. */
    if (!isfinite(v) || (eno == ERANGE && fabs(v) >= DBL_MIN)) return -1;
    *out = v;
    return 1;
}
