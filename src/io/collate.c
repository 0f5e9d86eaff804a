/* src/io/collate.c - text order of R's sort()/factor() in an English UTF-8 locale.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * R built with ICU (capabilities("ICU"); the default on Linux builds) sorts
 * character vectors with ICU's collator, whose English tailoring is the root
 * collation of the Unicode Collation Algorithm (UTS #10) with CLDR's root
 * order: "alternate" is non-ignorable (spaces and punctuation count), the
 * strength is tertiary.  Strings are compared level by level over the whole
 * string:
 *   1. primary weights: the character without case (and without accents);
 *      in CLDR root order: blanks, then punctuation, symbols, currency
 *      signs, digits (one by one: "10" < "9"), then letters a..z;
 *   2. secondary (accents): the same for every ASCII character;
 *   3. tertiary (case): lower case before upper case.
 * So `asia` < `EU` < `US`, `a` < `A` < `ab`, `_x` < `-1` < `1` < `10` < `9`.
 * The ASCII table below is R's own sort() of the 95 printable characters
 * (R 4.2, ICU collator "root"); tests/reference/collate/ holds R's order of
 * tricky level sets and the script that made it.
 *
 * Beyond ASCII this is an approximation: a non-ASCII character is ranked
 * after every ASCII one by its code point at the first level, while ICU
 * sorts an accented letter with its base letter (R: "e" < "é" < "f"; here
 * "f" < "é").  Equal strings at all three levels (only possible with
 * non-ASCII text) are ordered by bytes, so the order is total. */
#include "internal.h"

#include <string.h>

/* Primary rank of the printable ASCII characters (0x20..0x7e) and tab, in
 * R's order:  _-,;:!?.'"()[]{}@*` `/\&#%`^+<=>|~$0123456789aAbB...zZ (the
 * string starts with a space).  Letters of both cases share a rank. */
static const char ascii_order[] = " _-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$0123456789abcdefghijklmnopqrstuvwxyz";

static unsigned char prim[128]; /* 0 = not ranked (control byte) */
static int prim_ready;

static void prim_init(void)
{
    /* idempotent: every thread that races here writes the same values */
    unsigned char r = 2;
    prim['\t'] = 1; /* CLDR root: TAB is a blank before SPACE */
    for (const char *p = ascii_order; *p; p++, r++) {
        prim[(unsigned char)*p] = r;
        if (*p >= 'a' && *p <= 'z') prim[(unsigned char)(*p - 'a' + 'A')] = r;
    }
    prim_ready = 1;
}

/* Next character of s at *i: its first-level weight (0 for an ignorable
 * control byte) and its case weight (1 for A-Z).  UTF-8 sequences give the
 * code point ranked after ASCII (malformed bytes count one by one). */
static unsigned long next_weight(const unsigned char *s, size_t *i, int *upper)
{
    unsigned c = s[*i];
    *upper = 0;
    if (c < 0x80) {
        (*i)++;
        *upper = c >= 'A' && c <= 'Z';
        return prim[c];
    }
    size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    unsigned long cp = len == 1 ? c : c & (0x3fu >> (len - 1));
    for (size_t k = 1; k < len; k++) {
        unsigned cc = s[*i + k];
        if ((cc & 0xc0) != 0x80) { len = 1; cp = c; break; }
        cp = (cp << 6) | (cc & 0x3f);
    }
    *i += len;
    return 256 + cp;
}

int mp_collate_cmp(const char *a, const char *b)
{
    if (!prim_ready) prim_init();
    const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
    int tert = 0; /* first case difference, decided only if level 1 ties */
    size_t i = 0, j = 0;
    for (;;) {
        unsigned long wx = 0, wy = 0;
        int ux = 0, uy = 0;
        while (x[i] && (wx = next_weight(x, &i, &ux)) == 0) {} /* skip ignorables */
        while (y[j] && (wy = next_weight(y, &j, &uy)) == 0) {}
        if (wx == 0 || wy == 0) {
            if (wx != wy) return wx == 0 ? -1 : 1; /* a prefix sorts first */
            break;
        }
        if (wx != wy) return wx < wy ? -1 : 1;
        if (!tert && ux != uy) tert = ux < uy ? -1 : 1;
    }
    if (tert) return tert;
    int c = strcmp(a, b);
    return (c > 0) - (c < 0);
}
