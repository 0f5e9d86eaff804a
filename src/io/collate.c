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
 * R's order, one character per place (the first is the space):
 *     _ - , ; : ! ? . ' " ( ) [ ] { } @ * / \ & # % ` ^ + < = > | ~ $
 *     0 1 2 3 4 5 6 7 8 9 a A b B ... z Z
 * Letters of both cases share a rank; CLDR root puts TAB (rank 1) before
 * SPACE (rank 2); 0 = a control byte (ignorable). */
static const unsigned char prim[128] = {
     0,  0,  0,  0,  0,  0,  0,  0,  0,  1,  0,  0,  0,  0,  0,  0,
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
     2,  8, 12, 24, 34, 25, 23, 11, 13, 14, 20, 28,  5,  4, 10, 21,
    35, 36, 37, 38, 39, 40, 41, 42, 43, 44,  7,  6, 29, 30, 31,  9,
    19, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59,
    60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 15, 22, 16, 27,  3,
    26, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59,
    60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 17, 32, 18, 33,  0,
};

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
