/* tests/testutil.h - shared helpers for the Check tests.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef MP_TESTUTIL_H
#define MP_TESTUTIL_H
#include <check.h>
#include <math.h>
#include <stddef.h>

/* |got - want| <= rtol |want| (as gsl_test_rel: NaN matches NaN, Inf must be equal,
 * want == 0 compares absolutely). */
int rel_close(double got, double want, double rtol);
#define ck_assert_rel(g, w, t)                                                         \
    ck_assert_msg(rel_close((g), (w), (t)), "%s = %.17g, expected %.17g (rtol %g)", #g, \
                  (double)(g), (double)(w), (double)(t))

/* Read a whole file into a malloc'd NUL-terminated buffer (NULL on failure). */
char *tu_slurp(const char *path, size_t *len);
/* Run a shell command, capture stdout and stderr (malloc'd) and the exit status. */
int tu_run(const char *cmd, char **out, char **err);
/* Write text to a fresh temporary file; returns its malloc'd path. */
char *tu_tmpfile(const char *text, size_t len);
/* Path under the source tree / the shared reference folder (static buffer). */
const char *tu_src(const char *rel);
const char *tu_ref(const char *rel);
/* Chi-square tail P(X > x) (upper) or P(X <= x) for df >= 1000, by
 * integrating the density numerically (independent of the library's CDF,
 * accurate to ~1e-13 relative), and its inverse by bisection. */
double tu_chisq_tail(double x, double df, int upper);
double tu_chisq_quantile(double p, double df, int upper);
#endif
