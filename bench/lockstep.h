/* bench/lockstep.h - the lockstep-vs-per-analysis REML experiment of metapool-bench.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef MP_BENCH_LOCKSTEP_H
#define MP_BENCH_LOCKSTEP_H
#include <stddef.h>

/* Print one result line: bench, method, k, analyses, CPU seconds, extra JSON. */
typedef void (*mp_bench_emit_fn)(const char *bench, const char *method, size_t k,
                                 size_t analyses, double cpu_seconds, const char *extra);

/* Time the REML tau^2 iterations of n analyses of k studies (y, v: n*k,
 * analysis-major) per analysis from three start values and in lockstep. */
void mp_bench_lockstep(const double *y, const double *v, size_t n, size_t k,
                       mp_bench_emit_fn emit, double (*clock_cpu)(void));
#endif
