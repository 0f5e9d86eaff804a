/* src/io/fmt.h - internal entry points of the double formatter (fmt.c), for tests.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef MP_IO_FMT_H
#define MP_IO_FMT_H

#include <stddef.h>

/* The text mp_format_double() writes, but with every floor and integer test
 * decided by the multi-word exact path instead of the 128-bit fast path
 * (slow; for tests that the fast path and the exact one agree). */
size_t mp_fmt_double_exact(double x, char *buf);

#endif /* MP_IO_FMT_H */
