/* src/internal.h - helpers shared inside the library, not installed.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef MP_INTERNAL_H
#define MP_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "metapool/status.h"

/* Route every error return through one function (GSL/SQLite idea). */
mp_status mp_fail_(mp_status s, const char *file, int line);
#define MP_FAIL(s) mp_fail_((s), __FILE__, __LINE__)

/* Fill an error record; file may be NULL. */
void mp_error_set(mp_error *e, const char *file, size_t line, size_t col, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

/* The delimiter of a header line [p, end): the one of ',', ';', '\t' that
 * occurs most outside quotes (rules in table.c).  Shared by the whole-file
 * loader (table.c) and the streaming reader (batch.c). */
char mp_csv_detect_delim(const char *p, const char *end);

/* Cell text for a one-line message: at most `max` bytes of s, line breaks and
 * control bytes written as C escapes, "..." when cut; dst holds n bytes.
 * Shared by the loader (table.c) and the streaming reader (batch.c). */
void mp_show_text(char *dst, size_t n, const char *s, size_t max);

/* Set OpenBLAS to one thread, once per process (src/models/blas_threads.c);
 * called by every entry point that reaches BLAS or LAPACK. */
void mp_blas_single_thread(void);

/* The first repeated non-empty name among names[0..n): returns 1 with *first
 * and *second the 0-based indexes of the earlier and the later occurrence
 * (the smallest *second), 0 if there is none, -1 if out of memory.  One
 * pass with an open-addressing hash set, so O(n): a header of 10^6 columns
 * is checked in milliseconds (a pairwise check took ~50 minutes).  Shared by
 * table.c and batch.c. */
int mp_first_duplicate(const char *const *names, size_t n, size_t *first, size_t *second);

/* Order of two strings as R's sort() and factor() give it in an English
 * UTF-8 locale (ICU root collation: case-insensitive first, lower case first
 * on a tie; punctuation < digits < letters); exact for ASCII, see
 * src/io/collate.c for the rest.  A total order: <0, 0 (equal bytes), >0. */
int mp_collate_cmp(const char *a, const char *b);

/* The limits in force (include/metapool/table.h; set by
 * mp_table_limits_set(), defaults otherwise), read by both readers. */
struct mp_table_limits;
const struct mp_table_limits *mp_limits(void);

/* The errors for a limit exceeded, the same from both readers (table.c,
 * batch.c): each fills err and returns MP_EPARSE.  A row past the limit of
 * its bytes at line:col (`inq`: inside a quoted field opened at line:col,
 * never closed); a header column past the limit at its line:col; an input
 * larger than the whole-file limit; a group past the limit of a whole-file
 * grouping at its cell (`colname`: the grouping column). */
mp_status mp_limit_row(mp_error *err, const char *name, size_t line, size_t col, int inq);
mp_status mp_limit_cols(mp_error *err, const char *name, size_t line, size_t col);
mp_status mp_limit_file(mp_error *err, const char *name);
mp_status mp_limit_groups(mp_error *err, const char *name, size_t line, size_t col,
                          const char *colname);

/* Test hook of batch's --sorted check (src/io/batch.c): the Bloom filter's
 * largest size (2^bloom_log2 bits, at least 2^9; 0 = 2^27) and how many suspects are held before
 * a verifying pass (0 = 65536).  Call before the first mp_batch_read_sorted(). */
struct mp_batch_reader;
void mp_batch_reader_sorted_limits(struct mp_batch_reader *r, unsigned bloom_log2,
                                   size_t max_suspects);

/* An estimating equation of tau2 for mp_root_solve(): g at x, its slope dg
 * and the Fisher information fi (> 0); a status other than MP_OK stops the
 * solve and is returned. */
typedef mp_status (*mp_eq_fn)(void *ctx, double x, double *g, double *dg, double *fi);

/* Solve g = 0 on (lo, hi) given g(lo) > 0 >= g(hi) (hi may be infinite),
 * from `start`: Newton steps, Fisher scoring where Newton's slope has the
 * wrong sign, bisection where a step leaves the bracket or does not shrink
 * fast enough (src/models/root.c).  Converged when a step is below epsrel
 * relative; *niter counts evaluations.  MP_ENOCONV after maxiter, or when
 * g is not finite or a step leaves an unbounded bracket. */
mp_status mp_root_solve(mp_eq_fn f, void *ctx, double lo, double hi, double start, double epsrel,
                        size_t maxiter, double *root, size_t *niter);

/* Loops the compiler vectorises, also compiled for AVX2 and AVX-512 on
 * x86-64 Linux with GCC, the best picked when the program starts
 * (target_clones).  The ISO C mode keeps floating-point contraction off
 * and the clones run the same operations in the same order per lane, so
 * every clone computes the same bits.  Not under ThreadSanitizer: the
 * clones' resolver runs while the program is loaded, before the
 * sanitizer's runtime is set up, and its instrumented entry crashes
 * (scripts/tsan.sh). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && \
    __GNUC__ >= 12 && !defined(__SANITIZE_THREAD__)
#define MP_CLONES __attribute__((target_clones("default", "arch=x86-64-v3", "arch=x86-64-v4")))
#else
#define MP_CLONES
#endif

/* Index of s among the n names, or -1 (the parsers of enum names). */
static inline int mp_name_index(const char *const *names, int n, const char *s)
{
    for (int i = 0; s && i < n; i++)
        if (strcmp(s, names[i]) == 0) return i;
    return -1;
}

/* n * size with overflow check; returns 0 on overflow (kissfft CVE lesson). */
static inline size_t mp_mul_size(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size) return 0;
    return n * size;
}

#endif
