/* bench/shares_bench.c - metapool-bench-shares: the cost of cutting a sorted file into shares (MPI batch).
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Usage: metapool-bench-shares FILE GROUP [N]
 * Times, on FILE (sorted by GROUP), the passes an `mpirun -n N metapool
 * batch` run makes before its real work (batch.h: mp_batch_count_quotes,
 * mp_batch_find_cut, mp_batch_count_rows) and, for scale, the ingest of the
 * whole file (mp_batch_read_sorted, no fits).  One JSON object per line:
 * bench, bytes, seconds (wall), cpu_seconds, mb_per_s (by CPU time).  The
 * file is read once first so every pass sees it in the page cache, as the
 * later passes of a real run do. */
#include "metapool/batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static double now(clockid_t c)
{
    struct timespec t;
    clock_gettime(c, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void line(const char *name, size_t bytes, double w0, double c0, const char *extra)
{
    double w = now(CLOCK_MONOTONIC) - w0, c = now(CLOCK_PROCESS_CPUTIME_ID) - c0;
    printf("{\"bench\": \"%s\", \"bytes\": %zu, \"seconds\": %.4f, \"cpu_seconds\": %.4f, "
           "\"mb_per_s\": %.1f%s}\n",
           name, bytes, w, c, c > 0 ? (double)bytes / 1e6 / c : 0.0, extra);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: metapool-bench-shares FILE GROUP [N]\n");
        return 2;
    }
    const char *file = argv[1], *group = argv[2];
    size_t n = argc > 3 ? (size_t)strtoul(argv[3], NULL, 10) : 2;
    if (n < 1 || n > 4096) n = 2;
    struct stat sb;
    if (stat(file, &sb) != 0) { perror(file); return 2; }
    size_t size = (size_t)sb.st_size;
    mp_error err;
    size_t q, rows, lines, cut;
    if (mp_batch_count_quotes(file, 0, size, &q, &err) != MP_OK) return 1; /* warm the cache */
    double w0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);
    if (mp_batch_count_quotes(file, 0, size, &q, &err) != MP_OK) return 1;
    line("shares_count_quotes", size, w0, c0, "");
    w0 = now(CLOCK_MONOTONIC);
    c0 = now(CLOCK_PROCESS_CPUTIME_ID);
    if (mp_batch_count_rows(file, ',', 0, size, &rows, &lines, &err) != MP_OK) return 1;
    char ex[96];
    snprintf(ex, sizeof ex, ", \"rows\": %zu", rows);
    line("shares_count_rows", size, w0, c0, ex);
    w0 = now(CLOCK_MONOTONIC);
    c0 = now(CLOCK_PROCESS_CPUTIME_ID);
    for (size_t i = 1; i < n; i++)
        if (mp_batch_find_cut(file, group, size / n * i, 0, &cut, &err) != MP_OK) return 1;
    snprintf(ex, sizeof ex, ", \"cuts\": %zu", n - 1);
    line("shares_find_cuts", 0, w0, c0, ex);
    mp_batch_share *sh = malloc(n * sizeof *sh);
    if (!sh) return 1;
    w0 = now(CLOCK_MONOTONIC);
    c0 = now(CLOCK_PROCESS_CPUTIME_ID);
    if (mp_batch_plan(file, group, n, sh, &err) != MP_OK) return 1;
    snprintf(ex, sizeof ex, ", \"shares\": %zu", n);
    line("shares_plan_one_process", size, w0, c0, ex);
    free(sh);
    mp_batch_reader *r = NULL;
    mp_batch_data d;
    memset(&d, 0, sizeof d);
    w0 = now(CLOCK_MONOTONIC);
    c0 = now(CLOCK_PROCESS_CPUTIME_ID);
    if (mp_batch_reader_open(file, group, NULL, 0, &r, &err) != MP_OK) return 1;
    int eof = 0;
    size_t groups = 0;
    while (!eof) {
        if (mp_batch_read_sorted(r, (size_t)1 << 16, &d, &eof, &err) != MP_OK) return 1;
        groups += d.n;
    }
    snprintf(ex, sizeof ex, ", \"groups\": %zu", groups);
    line("shares_ingest_sorted", size, w0, c0, ex);
    mp_batch_data_free(&d);
    mp_batch_reader_free(r);
    return 0;
}
