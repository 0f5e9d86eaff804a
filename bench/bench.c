/* bench/bench.c - metapool-bench: how fast the core fits, ingests and scales.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Prints one JSON object per line:
 *   {"bench", "method", "k", "analyses", "seconds", "fits_per_s", "ns_per_fit", ...}
 * "seconds" is wall-clock time; "cpu_seconds" (process CPU time, all
 * threads) and "cpu_ns_per_fit" are added to every line (on a shared
 * machine CPU time is the steadier measure of single-threaded cases), and
 * some cases add their own keys ("threads", "mb_per_s", "rows").  Data are synthetic, drawn in-process
 * with GSL's MT19937 from fixed seeds: y_i = mu + u_i + e_i with
 * u_i ~ N(0, tau2 = 0.05), e_i ~ N(0, v_i), v_i ~ U(0.01, 0.3).
 *
 * Usage: metapool-bench [--smoke] [--threads N] [--only NAME] [--repeat N]
 *   --smoke      small sizes: the whole run takes a few seconds (CI)
 *   --threads N  threads for the thread-scaling case [online CPUs]
 *   --only NAME  run only the cases whose "bench" name starts with NAME
 *   --repeat N   run each CSV ingest case N times on the same file, one
 *                line each (take the best: the machine is shared) [1]
 *
 * No timing is asserted anywhere: the numbers are for bench/README.md. */
#include "lockstep.h"
#include "metapool/batch.h"
#include "metapool/gosh.h"
#include "metapool/permute.h"
#include "metapool/pool.h"
#include "metapool/sensitivity.h"
#include "metapool/table.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef MP_BENCH_HAVE_REG
#include "metapool/reg.h"
#endif
#ifdef MP_BENCH_HAVE_TRAJ
#include "metapool/traj.h"
#endif
#ifdef MP_BENCH_HAVE_MV
#include "metapool/mv.h"
#endif

static int smoke = 0;
static int repeat = 1;
static const char *only = NULL;

static double now(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct { double wall, cpu; } stamp;
static stamp stamp_now(void) { return (stamp){now(CLOCK_MONOTONIC), now(CLOCK_PROCESS_CPUTIME_ID)}; }

static int wanted(const char *bench)
{
    return !only || strncmp(bench, only, strlen(only)) == 0;
}

/* One result line; `extra` is either "" or ", \"key\": value..." */
static void emit(const char *bench, const char *method, size_t k, size_t analyses, stamp t0,
                 const char *extra)
{
    stamp t1 = stamp_now();
    double s = t1.wall - t0.wall, c = t1.cpu - t0.cpu;
    printf("{\"bench\": \"%s\", \"method\": \"%s\", \"k\": %zu, \"analyses\": %zu, "
           "\"seconds\": %.6g, \"fits_per_s\": %.6g, \"ns_per_fit\": %.6g, \"cpu_seconds\": %.6g, "
           "\"cpu_ns_per_fit\": %.6g%s}\n",
           bench, method, k, analyses, s, s > 0 ? (double)analyses / s : 0.0,
           analyses ? 1e9 * s / (double)analyses : 0.0, c,
           analyses ? 1e9 * c / (double)analyses : 0.0, extra);
    fflush(stdout);
}

/* n analyses of k studies each, laid out contiguously. */
typedef struct { double *y, *v; size_t *off; size_t n, k; } dataset;

static dataset make_data(size_t n, size_t k, unsigned long seed)
{
    dataset d = {malloc(n * k * sizeof(double)), malloc(n * k * sizeof(double)),
                 malloc((n + 1) * sizeof(size_t)), n, k};
    if (!d.y || !d.v || !d.off) { fprintf(stderr, "metapool-bench: out of memory\n"); exit(1); }
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, seed);
    for (size_t a = 0; a < n; a++) {
        d.off[a] = a * k;
        double mu = 0.3 * gsl_ran_ugaussian(r);
        for (size_t i = 0; i < k; i++) {
            double v = gsl_ran_flat(r, 0.01, 0.3);
            d.v[a * k + i] = v;
            d.y[a * k + i] = mu + gsl_ran_gaussian(r, sqrt(0.05)) + gsl_ran_gaussian(r, sqrt(v));
        }
    }
    d.off[n] = n * k;
    gsl_rng_free(r);
    return d;
}

static void free_data(dataset *d) { free(d->y); free(d->v); free(d->off); }

/* Fit every analysis of d with `method` on `threads` threads. */
static size_t fit_all(const dataset *d, mp_method method, unsigned threads, int tau2_ci,
                      mp_pool_result *res, mp_status *st)
{
    mp_pool_opts o;
    mp_pool_opts_init(&o);
    o.method = method;
    o.tau2_ci = tau2_ci;
    mp_pool_batch(d->y, d->v, d->off, d->n, &o, threads, res, st, NULL, NULL);
    size_t bad = 0;
    for (size_t a = 0; a < d->n; a++) bad += st[a] != MP_OK;
    return bad;
}

/* ---- cases -------------------------------------------------------------- */

static void bench_methods(void)
{
    static const mp_method methods[] = {MP_METHOD_FE, MP_METHOD_DL, MP_METHOD_REML, MP_METHOD_PM};
    static const size_t ks[] = {5, 9, 50, 1000};
    if (!wanted("pool")) return;
    for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki++) {
        size_t k = ks[ki];
        size_t rows = smoke ? 200000 : 4000000, n = rows / k;
        dataset d = make_data(n, k, 1000 + k);
        mp_pool_result *res = malloc(n * sizeof *res);
        mp_status *st = malloc(n * sizeof *st);
        for (size_t mi = 0; mi < sizeof methods / sizeof methods[0]; mi++) {
            stamp t0 = stamp_now();
            size_t bad = fit_all(&d, methods[mi], 1, 0, res, st);
            char extra[64];
            snprintf(extra, sizeof extra, ", \"threads\": 1, \"failed\": %zu", bad);
            emit("pool", mp_method_name(methods[mi]), k, n, t0, extra);
        }
        free(res);
        free(st);
        free_data(&d);
    }
}

/* The headline case: 1e6 analyses of k = 9 with REML, Q, I^2 and the CI of
 * each pooled estimate (the tau2 Q-profile CI is off, as in batch mode). */
static void bench_million(unsigned threads)
{
    if (!wanted("reml_1e6")) return;
    size_t n = smoke ? 20000 : 1000000, k = 9;
    dataset d = make_data(n, k, 9);
    mp_pool_result *res = malloc(n * sizeof *res);
    mp_status *st = malloc(n * sizeof *st);
    unsigned tlist[2] = {1, threads};
    for (int i = 0; i < (threads > 1 ? 2 : 1); i++) {
        stamp t0 = stamp_now();
        size_t bad = fit_all(&d, MP_METHOD_REML, tlist[i], 0, res, st);
        char extra[64];
        snprintf(extra, sizeof extra, ", \"threads\": %u, \"failed\": %zu", tlist[i], bad);
        emit("reml_1e6", "REML", k, n, t0, extra);
    }
    /* with the Q-profile CI of tau2 as well (what `pool` prints) */
    size_t n2 = n / 10;
    dataset d2 = {d.y, d.v, d.off, n2, k};
    stamp t0 = stamp_now();
    size_t bad = fit_all(&d2, MP_METHOD_REML, 1, 1, res, st);
    char extra[64];
    snprintf(extra, sizeof extra, ", \"threads\": 1, \"tau2_ci\": 1, \"failed\": %zu", bad);
    emit("reml_tau2ci", "REML", k, n2, t0, extra);
    free(res);
    free(st);
    free_data(&d);
}

/* One REML fit at large k. */
static void bench_bigk(void)
{
    if (!wanted("reml_bigk")) return;
    static const size_t ks[] = {1000, 10000, 100000};
    for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++) {
        size_t k = ks[i], reps = smoke ? 3 : (k <= 10000 ? 50 : 10);
        dataset d = make_data(1, k, 77);
        mp_pool_opts o;
        mp_pool_opts_init(&o);
        mp_pool_result r;
        mp_pool_workspace *w = mp_pool_workspace_alloc(k);
        for (int ci = 0; ci < 2; ci++) {
            o.tau2_ci = ci;
            stamp t0 = stamp_now();
            for (size_t rep = 0; rep < reps; rep++) mp_pool(d.y, d.v, k, &o, w, &r);
            char extra[64];
            snprintf(extra, sizeof extra, ", \"tau2_ci\": %d, \"niter\": %zu", ci, r.niter);
            emit("reml_bigk", "REML", k, reps, t0, extra);
        }
        mp_pool_workspace_free(w);
        free_data(&d);
    }
}

/* Leave-one-out (mp_leave1out: k refits of k - 1 studies, one
 * mp_pool_many() call over the prepared layout) and cumul (k refits of
 * 1..k studies), REML, the data of reml_bigk.  ns_per_fit is per refit. */
static void bench_leave1out(void)
{
    if (!wanted("leave1out") && !wanted("cumul")) return;
    static const size_t ks[] = {100, 1000, 10000};
    for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++) {
        size_t k = ks[i];
        if (smoke && k > 1000) break;
        dataset d = make_data(1, k, 77);
        mp_pool_opts o;
        mp_pool_opts_init(&o);
        mp_pool_result *rows = malloc(k * sizeof *rows), full;
        mp_status *st = malloc(k * sizeof *st);
        if (!rows || !st) { fprintf(stderr, "metapool-bench: out of memory\n"); exit(1); }
        char extra[96];
        if (wanted("leave1out")) {
            stamp t0 = stamp_now();
            mp_status s = mp_leave1out(d.y, d.v, k, &o, &full, rows, st);
            size_t it = 0;
            for (size_t a = 0; a < k; a++) it += rows[a].niter;
            snprintf(extra, sizeof extra, ", \"failed\": %d, \"mean_iter\": %.3g", s != MP_OK,
                     (double)it / (double)k);
            emit("leave1out", "REML", k, k, t0, extra);
        }
        if (wanted("cumul") && k <= 10000) {
            stamp t0 = stamp_now();
            mp_status s = mp_cumul(d.y, d.v, k, NULL, &o, rows, st);
            snprintf(extra, sizeof extra, ", \"failed\": %d", s != MP_OK);
            emit("cumul", "REML", k, k, t0, extra);
        }
        free(rows);
        free(st);
        free_data(&d);
    }
}

/* Thread scaling: REML k = 9 on 1..threads threads. */
static void bench_threads(unsigned threads)
{
    if (!wanted("threads")) return;
    size_t n = smoke ? 20000 : 400000, k = 9;
    dataset d = make_data(n, k, 5);
    mp_pool_result *res = malloc(n * sizeof *res);
    mp_status *st = malloc(n * sizeof *st);
    for (unsigned t = 1; t <= threads; t++) {
        stamp t0 = stamp_now();
        fit_all(&d, MP_METHOD_REML, t, 0, res, st);
        char extra[64];
        snprintf(extra, sizeof extra, ", \"threads\": %u", t);
        emit("threads", "REML", k, n, t0, extra);
    }
    free(res);
    free(st);
    free_data(&d);
}

/* Write a CSV of `rows` rows (group,yi,vi; groups of k rows, contiguous).
 * Returns the file size in bytes. */
static size_t write_csv(const char *path, size_t rows, size_t k)
{
    FILE *f = fopen(path, "wb");
    if (!f) { perror(path); exit(1); }
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 42);
    fputs("gene,yi,vi\n", f);
    for (size_t i = 0; i < rows; i++) {
        double v = gsl_ran_flat(r, 0.01, 0.3);
        double y = gsl_ran_gaussian(r, sqrt(0.05 + v));
        fprintf(f, "g%zu,%.6f,%.6f\n", i / k, y, v);
    }
    gsl_rng_free(r);
    long size = ftell(f);
    fclose(f);
    return (size_t)size;
}

/* One block of the pipelined batch case. */
typedef struct {
    mp_batch_data d;
    mp_pool_result *res;
    mp_status *st;
    size_t cap;
    const mp_pool_opts *o;
    unsigned threads;
} pipe_job;

static void *pipe_fit(void *arg)
{
    pipe_job *j = arg;
    if (j->d.n > j->cap) {
        j->cap = j->d.n;
        j->res = realloc(j->res, j->cap * sizeof *j->res);
        j->st = realloc(j->st, j->cap * sizeof *j->st);
    }
    if (j->res && j->st)
        mp_pool_batch(j->d.y, j->d.v, j->d.off, j->d.n, j->o, j->threads, j->res, j->st, NULL, NULL);
    return NULL;
}

/* Batch CSV ingest of a million rows (k = 9 per group), then the same with
 * the REML fits: the whole of `metapool batch` but the output. */
static void bench_ingest(unsigned threads)
{
    if (!wanted("ingest_csv") && !wanted("batch_csv") && !wanted("batch_pipe") &&
        !wanted("ingest_table"))
        return;
    size_t rows = smoke ? 100000 : 1000000, k = 9;
    char path[] = "/tmp/metapool-bench-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) { perror("mkstemp"); return; }
    close(fd);
    size_t bytes = write_csv(path, rows, k);
    mp_error err;
    for (int sorted = 0; sorted < 2; sorted++) {
        for (int run = 0; run < 2 * repeat; run++) {
            int fit = run / repeat;
            const char *name = fit ? "batch_csv" : "ingest_csv";
            if (!wanted(name)) continue;
            mp_pool_opts o;
            mp_pool_opts_init(&o);
            o.tau2_ci = 0;
            stamp t0 = stamp_now();
            mp_batch_reader *rd = NULL;
            mp_batch_data d = {0};
            size_t groups = 0, nrows = 0;
            mp_pool_result *res = NULL;
            mp_status *st = NULL;
            size_t cap = 0;
            if (mp_batch_reader_open(path, "gene", NULL, 0, &rd, &err) != MP_OK) {
                fprintf(stderr, "metapool-bench: %s\n", err.msg);
                break;
            }
            int eof = 0;
            while (!eof) {
                mp_status s = sorted ? mp_batch_read_sorted(rd, 1 << 16, &d, &eof, &err)
                                     : mp_batch_read_all(rd, &d, &err);
                if (!sorted) eof = 1;
                if (s != MP_OK) { fprintf(stderr, "metapool-bench: %s\n", err.msg); break; }
                groups += d.n;
                nrows += d.nrows;
                if (fit) {
                    if (d.n > cap) {
                        cap = d.n;
                        res = realloc(res, cap * sizeof *res);
                        st = realloc(st, cap * sizeof *st);
                    }
                    mp_pool_batch(d.y, d.v, d.off, d.n, &o, fit ? threads : 1, res, st, NULL, NULL);
                }
            }
            stamp t1 = stamp_now();
            char extra[256];
            snprintf(extra, sizeof extra,
                     ", \"rows\": %zu, \"bytes\": %zu, \"mb_per_s\": %.6g, \"mb_per_cpu_s\": %.6g, "
                     "\"sorted\": %d, \"threads\": %u",
                     nrows, bytes, (double)bytes / 1e6 / (t1.wall - t0.wall),
                     (double)bytes / 1e6 / (t1.cpu - t0.cpu), sorted, fit ? threads : 1);
            emit(name, fit ? "REML" : "none", k, groups, t0, extra);
            free(res);
            free(st);
            mp_batch_data_free(&d);
            mp_batch_reader_free(rd);
        }
    }
    /* --sorted as the CLI runs it: the next block is parsed while a fitter
     * thread fits the previous one on max(1, threads - 1) threads */
    if (wanted("batch_pipe")) {
        mp_pool_opts o;
        mp_pool_opts_init(&o);
        o.tau2_ci = 0;
        stamp t0 = stamp_now();
        mp_batch_reader *rd = NULL;
        pipe_job job[2];
        memset(job, 0, sizeof job);
        size_t groups = 0, nrows = 0;
        int cur = 0, eof = 0, ok = mp_batch_reader_open(path, "gene", NULL, 0, &rd, &err) == MP_OK;
        if (ok) ok = mp_batch_read_sorted(rd, 1 << 16, &job[0].d, &eof, &err) == MP_OK;
        while (ok) {
            pipe_job *F = &job[cur], *N = &job[1 - cur];
            F->o = &o;
            F->threads = threads > 1 ? threads - 1 : 1;
            groups += F->d.n;
            nrows += F->d.nrows;
            pthread_t tid;
            int th = !eof && pthread_create(&tid, NULL, pipe_fit, F) == 0;
            if (!th) pipe_fit(F);
            int neof = 1;
            if (!eof) ok = mp_batch_read_sorted(rd, 1 << 16, &N->d, &neof, &err) == MP_OK;
            if (th) pthread_join(tid, NULL);
            if (eof) break;
            eof = neof;
            cur = 1 - cur;
        }
        stamp t1 = stamp_now();
        char extra[256];
        snprintf(extra, sizeof extra,
                 ", \"rows\": %zu, \"bytes\": %zu, \"mb_per_s\": %.6g, \"mb_per_cpu_s\": %.6g, "
                 "\"sorted\": 1, \"threads\": %u",
                 nrows, bytes, (double)bytes / 1e6 / (t1.wall - t0.wall),
                 (double)bytes / 1e6 / (t1.cpu - t0.cpu), threads);
        if (ok) emit("batch_pipe", "REML", k, groups, t0, extra);
        for (int i = 0; i < 2; i++) {
            mp_batch_data_free(&job[i].d);
            free(job[i].res);
            free(job[i].st);
        }
        mp_batch_reader_free(rd);
    }
    /* the generic loader, for comparison */
    if (wanted("ingest_table")) {
        stamp t0 = stamp_now();
        mp_table *t = NULL;
        if (mp_table_read(path, &t, &err) == MP_OK) {
            double x, sum = 0;
            for (size_t i = 0; i < mp_table_nrows(t); i++)
                for (size_t j = 1; j < 3; j++)
                    if (mp_table_number(t, i, j, &x, &err) == MP_OK) sum += x;
            stamp t1 = stamp_now();
            char extra[160];
            snprintf(extra, sizeof extra, ", \"rows\": %zu, \"bytes\": %zu, \"mb_per_s\": %.6g, \"mb_per_cpu_s\": %.6g",
                     mp_table_nrows(t), bytes, (double)bytes / 1e6 / (t1.wall - t0.wall),
                     (double)bytes / 1e6 / (t1.cpu - t0.cpu));
            emit("ingest_table", "none", k, rows / k, t0, extra);
            mp_table_free(t);
            (void)sum;
        }
    }
    remove(path);
}

#ifdef MP_BENCH_HAVE_REG
/* Meta-regression with one continuous moderator (p = 2), REML. */
static void bench_reg(void)
{
    if (!wanted("reg")) return;
    static const size_t ks[] = {9, 50, 1000};
    for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki++) {
        size_t k = ks[ki], n = (smoke ? 20000 : 400000) / k;
        dataset d = make_data(n, k, 300 + k);
        double *X = malloc(2 * k * sizeof *X);
        gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
        gsl_rng_set(r, 301);
        for (size_t i = 0; i < k; i++) { X[i] = 1.0; X[k + i] = gsl_ran_flat(r, 0, 60); }
        gsl_rng_free(r);
        mp_reg_opts o;
        mp_reg_opts_init(&o);
        o.r2 = 0;
        size_t bad = 0;
        stamp t0 = stamp_now();
        for (size_t a = 0; a < n; a++) {
            mp_reg_result res;
            memset(&res, 0, sizeof res);
            bad += mp_reg_fit(d.y + d.off[a], d.v + d.off[a], X, k, 2, &o, &res) != MP_OK;
            mp_reg_result_free(&res);
        }
        char extra[64];
        snprintf(extra, sizeof extra, ", \"p\": 2, \"failed\": %zu", bad);
        emit("reg", "REML", k, n, t0, extra);
        free(X);
        free_data(&d);
    }
}
#endif

#ifdef MP_BENCH_HAVE_TRAJ
/* Trajectory fit: 30 studies at 4 times each, factor model, CS structure. */
static void bench_traj(void)
{
    if (!wanted("traj")) return;
    size_t ns = 30, nt = 4, k = ns * nt, n = smoke ? 3 : 40;
    double *y = malloc(k * sizeof *y), *v = malloc(k * sizeof *v), *tm = malloc(k * sizeof *tm);
    size_t *study = malloc(k * sizeof *study);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 11);
    for (size_t s = 0; s < ns; s++) {
        double u = gsl_ran_gaussian(r, 0.3);
        for (size_t t = 0; t < nt; t++) {
            size_t i = s * nt + t;
            tm[i] = (double)(t + 1);
            v[i] = gsl_ran_flat(r, 0.01, 0.2);
            y[i] = 0.5 / tm[i] + u + gsl_ran_gaussian(r, 0.15) + gsl_ran_gaussian(r, sqrt(v[i]));
            study[i] = s;
        }
    }
    gsl_rng_free(r);
    mp_traj_opts o;
    mp_traj_opts_init(&o);
    size_t bad = 0;
    stamp t0 = stamp_now();
    for (size_t a = 0; a < n; a++) {
        mp_traj_result res;
        memset(&res, 0, sizeof res);
        mp_error err;
        mp_status s = mp_traj_fit(y, v, tm, study, k, &o, &res, &err);
        bad += s != MP_OK;
        if (s == MP_OK || s == MP_ENOCONV) mp_traj_result_free(&res);
    }
    char extra[96];
    snprintf(extra, sizeof extra, ", \"studies\": %zu, \"times\": %zu, \"failed\": %zu", ns, nt, bad);
    emit("traj", "REML", k, n, t0, extra);
    free(y);
    free(v);
    free(tm);
    free(study);
}
#endif

/* ---- number output (issue 19): the formatter of batch's CSV ---------------
 * The 12 numbers of a typical `metapool batch` row (estimate, se, ci_lb,
 * ci_ub, pval, tau2, I2, H2, Q, Q_pval, pi_lb, pi_ub) of n k = 9 REML fits,
 * each written to text by: glibc's snprintf("%.17g"); the %.17g formatter
 * metapool used before the shortest one (commit a87a990, copied below as
 * fmt17_old: one long double scaling, snprintf outside 1e-11..1e43 and for
 * 0); and mp_format_double (shortest round trip).  CPU time per number;
 * "bytes" is the mean length of the text. */
#include <float.h>
#include <stdint.h>
#if LDBL_MANT_DIG >= 64 && (defined(__x86_64__) || defined(__i386__))
static const long double old_pow10[28] = {
    1e0L,  1e1L,  1e2L,  1e3L,  1e4L,  1e5L,  1e6L,  1e7L,  1e8L,  1e9L,  1e10L, 1e11L, 1e12L, 1e13L,
    1e14L, 1e15L, 1e16L, 1e17L, 1e18L, 1e19L, 1e20L, 1e21L, 1e22L, 1e23L, 1e24L, 1e25L, 1e26L, 1e27L};
static uint64_t old_round_even(long double s)
{
    long double t = s + 9223372036854775808.0L;
    uint64_t sig;
    memcpy(&sig, &t, sizeof sig);
    return sig - (UINT64_C(1) << 63);
}
static size_t fmt17_old(double x, char *buf)
{
    double ax = fabs(x);
    if (isfinite(x) && ax >= 1e-11 && ax < 1e43) {
        int e10 = (int)floor(log10(ax));
        uint64_t m = 0;
        for (int tries = 0; tries < 3; tries++) {
            int p = 16 - e10;
            if (p < -27 || p > 27) goto slow;
            long double s = p >= 0 ? (long double)ax * old_pow10[p] : (long double)ax / old_pow10[-p];
            m = old_round_even(s);
            if (m >= UINT64_C(100000000000000000)) {
                if (m == UINT64_C(100000000000000000) && s < 1e17L) {
                    m = UINT64_C(10000000000000000);
                    e10++;
                    break;
                }
                e10++;
                continue;
            }
            if (m < UINT64_C(10000000000000000)) { e10--; continue; }
            break;
        }
        if (m < UINT64_C(10000000000000000) || m >= UINT64_C(100000000000000000)) goto slow;
        char d[17];
        for (int i = 16; i >= 0; i--) { d[i] = (char)('0' + m % 10); m /= 10; }
        int nd = 17;
        while (nd > 1 && d[nd - 1] == '0') nd--;
        char *p = buf;
        if (x < 0) *p++ = '-';
        if (e10 < -4 || e10 >= 17) {
            *p++ = d[0];
            if (nd > 1) { *p++ = '.'; memcpy(p, d + 1, (size_t)nd - 1); p += nd - 1; }
            *p++ = 'e';
            int e = e10;
            *p++ = e < 0 ? '-' : '+';
            if (e < 0) e = -e;
            if (e >= 100) *p++ = (char)('0' + e / 100);
            *p++ = (char)('0' + e / 10 % 10);
            *p++ = (char)('0' + e % 10);
        } else if (e10 >= 0) {
            int ip = e10 + 1;
            for (int i = 0; i < ip; i++) *p++ = i < nd ? d[i] : '0';
            if (nd > ip) { *p++ = '.'; memcpy(p, d + ip, (size_t)(nd - ip)); p += nd - ip; }
        } else {
            *p++ = '0';
            *p++ = '.';
            for (int i = 0; i < -e10 - 1; i++) *p++ = '0';
            memcpy(p, d, (size_t)nd);
            p += nd;
        }
        *p = '\0';
        return (size_t)(p - buf);
    }
slow:
    return (size_t)snprintf(buf, 32, "%.17g", x);
}
#define HAVE_FMT17_OLD 1
#endif

static size_t fmt17_printf(double x, char *buf) { return (size_t)snprintf(buf, 32, "%.17g", x); }

static void bench_format(void)
{
    if (!wanted("format")) return;
    size_t n = smoke ? 2000 : 100000, k = 9;
    dataset d = make_data(n, k, 1900);
    mp_pool_result *res = malloc(n * sizeof *res);
    mp_status *st = malloc(n * sizeof *st);
    double *num = malloc(12 * n * sizeof *num);
    if (!res || !st || !num) { fprintf(stderr, "metapool-bench: out of memory\n"); exit(1); }
    fit_all(&d, MP_METHOD_REML, 1, 0, res, st);
    size_t m = 0;
    for (size_t a = 0; a < n; a++) {
        if (st[a] != MP_OK) continue;
        const mp_pool_result *r = &res[a];
        const double row[12] = {r->estimate, r->se, r->ci_lb, r->ci_ub, r->pval, r->tau2,
                                r->I2, r->H2, r->Q, r->Q_pval, r->pi_lb, r->pi_ub};
        memcpy(num + m, row, sizeof row);
        m += 12;
    }
    static const struct {
        const char *name;
        size_t (*f)(double, char *);
    } way[] = {
        {"printf_17g", fmt17_printf},
#ifdef HAVE_FMT17_OLD
        {"old_17g", fmt17_old},
#endif
        {"shortest", mp_format_double},
    };
    int reps = smoke ? 1 : 5;
    for (size_t w = 0; w < sizeof way / sizeof way[0]; w++) {
        for (int rep = 0; rep < (repeat > reps ? repeat : reps); rep++) {
            char buf[40];
            size_t bytes = 0;
            stamp t0 = stamp_now();
            for (size_t i = 0; i < m; i++) bytes += way[w].f(num[i], buf);
            char extra[96];
            snprintf(extra, sizeof extra, ", \"numbers\": %zu, \"bytes\": %.4g", m,
                     m ? (double)bytes / (double)m : 0.0);
            emit("format", way[w].name, k, m, t0, extra); /* "analyses" = numbers here */
        }
    }
    free(num);
    free(st);
    free(res);
    free_data(&d);
}

/* Lockstep vs per-analysis REML (bench/lockstep.c): CPU time only. */
static double cpu_now(void) { return now(CLOCK_PROCESS_CPUTIME_ID); }
static void emit_cpu(const char *bench, const char *method, size_t k, size_t analyses, double c,
                     const char *extra)
{
    printf("{\"bench\": \"%s\", \"method\": \"%s\", \"k\": %zu, \"analyses\": %zu, "
           "\"seconds\": %.6g, \"fits_per_s\": %.6g, \"ns_per_fit\": %.6g, \"cpu_seconds\": %.6g, "
           "\"cpu_ns_per_fit\": %.6g, \"timing\": \"cpu\"%s}\n",
           bench, method, k, analyses, c, c > 0 ? (double)analyses / c : 0.0,
           analyses ? 1e9 * c / (double)analyses : 0.0, c, analyses ? 1e9 * c / (double)analyses : 0.0,
           extra);
    fflush(stdout);
}

static void bench_kernel(void)
{
    if (!wanted("reml_kernel")) return;
    static const size_t ks[] = {5, 9, 50};
    for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++) {
        size_t k = ks[i], n = (smoke ? 100000 : 2000000) / k;
        dataset d = make_data(n, k, 500 + k);
        mp_bench_lockstep(d.y, d.v, n, k, emit_cpu, cpu_now);
        free_data(&d);
    }
}

/* GOSH (issue 16): every subset of k studies, FE and DL at k = 20, 25, 30
 * and REML at k = 15, 20 (smoke: 16, 18 and 10, 12); "analyses" is the
 * number of subsets, fits_per_s subsets per second (wall), cpu_seconds all
 * threads.  Data as make_data (one analysis of k studies). */
static void bench_gosh(unsigned threads)
{
    if (!wanted("gosh") && !wanted("gosh_exactq")) return;
    const struct { mp_method m; size_t k, ks; } cases[] = {
        {MP_METHOD_FE, 20, 16},   {MP_METHOD_DL, 20, 16},   {MP_METHOD_FE, 25, 18},
        {MP_METHOD_DL, 25, 18},   {MP_METHOD_FE, 30, 18},   {MP_METHOD_DL, 30, 18},
        {MP_METHOD_REML, 15, 10}, {MP_METHOD_REML, 20, 12}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0] && wanted("gosh"); c++) {
        size_t k = smoke ? cases[c].ks : cases[c].k;
        dataset d = make_data(1, k, 1600 + k);
        mp_gosh_opts o;
        mp_gosh_opts_init(&o);
        o.method = cases[c].m;
        o.threads = threads;
        mp_gosh_result r;
        stamp t0 = stamp_now();
        mp_status st = mp_gosh_run(d.y, d.v, k, &o, &r);
        char extra[160];
        snprintf(extra, sizeof extra, ", \"threads\": %u, \"status\": %d, \"quantiles\": \"%s\"",
                 threads, (int)st, r.quantiles_exact ? "exact" : "histogram");
        emit("gosh", mp_method_name(cases[c].m), k, (size_t)r.subsets, t0, extra);
        mp_gosh_result_free(&r);
        free_data(&d);
    }
    /* the two-pass exact quantiles (--exact-quantiles), DL at k = 25 */
    size_t k = smoke ? 18 : 25;
    dataset d = make_data(1, k, 1600 + k);
    mp_gosh_opts o;
    mp_gosh_opts_init(&o);
    o.method = MP_METHOD_DL;
    o.threads = threads;
    o.exact_quantiles = 1;
    if (smoke) o.exact_max = 1000;
    mp_gosh_result r;
    stamp t0 = stamp_now();
    mp_status st = mp_gosh_run(d.y, d.v, k, &o, &r);
    char extra[160];
    snprintf(extra, sizeof extra, ", \"threads\": %u, \"status\": %d, \"quantiles\": \"%s\"",
             threads, (int)st, "two-pass exact");
    emit("gosh_exactq", "DL", k, (size_t)r.subsets, t0, extra);
    mp_gosh_result_free(&r);
    free_data(&d);
}

/* Permutation tests (issue 16): 10^5 random orderings of a k = 20 REML
 * meta-regression on one moderator, and 10^5 sign flips of a k = 20 REML
 * pool (smoke: 10^4); "analyses" = refits. */
static void bench_permute(unsigned threads)
{
    if (!wanted("permute")) return;
    size_t k = 20, n = smoke ? 10000 : 100000;
    dataset d = make_data(1, k, 1700);
    double *X = malloc(2 * k * sizeof *X);
    gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(g, 17);
    for (size_t i = 0; i < k; i++) { X[i] = 1; X[i + k] = gsl_ran_gaussian(g, 10) + 40; }
    mp_perm_opts po;
    mp_perm_opts_init(&po);
    po.iter = n;
    po.threads = threads;
    mp_reg_opts ro;
    mp_reg_opts_init(&ro);
    mp_perm_result r;
    char extra[96];
    stamp t0 = stamp_now();
    mp_status st = mp_permute_reg(d.y, d.v, X, k, 2, &ro, &po, &r);
    snprintf(extra, sizeof extra, ", \"threads\": %u, \"status\": %d", threads, (int)st);
    emit("permute_reg", "REML", k, (size_t)r.permutations, t0, extra);
    mp_perm_result_free(&r);
    mp_pool_opts pl;
    mp_pool_opts_init(&pl);
    t0 = stamp_now();
    st = mp_permute_pool(d.y, d.v, k, &pl, &po, &r);
    snprintf(extra, sizeof extra, ", \"threads\": %u, \"status\": %d", threads, (int)st);
    emit("permute_pool", "REML", k, (size_t)r.permutations, t0, extra);
    mp_perm_result_free(&r);
    gsl_rng_free(g);
    free(X);
    free_data(&d);
}
#ifdef MP_BENCH_HAVE_MV
/* Multilevel fits (rma.mv by REML, intercept + one moderator): the
 * three-level model of k effects in k/5 studies (1 to 9 effects each,
 * mean 5), and a crossed model of k effects over k/10 trials x 10 outcomes.
 * y = 0.2 + 0.01 x + u_study (0.05) + w_effect or w_outcome (0.02) + e. */
static void bench_mv(void)
{
    if (!wanted("mv")) return;
    static const size_t ks[] = {1000, 10000, 100000};
    for (int crossed = 0; crossed < 2; crossed++)
        for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki++) {
            size_t k = ks[ki];
            if (smoke && k > 1000) continue;
            gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
            gsl_rng_set(r, 700 + k + (size_t)crossed);
            double *y = malloc(k * sizeof *y), *v = malloc(k * sizeof *v), *X = malloc(2 * k * sizeof *X);
            size_t *l0 = malloc(k * sizeof *l0), *l1 = malloc(k * sizeof *l1);
            size_t nst = 0, ntr = crossed ? k / 10 : 0;
            double *u = malloc(k * sizeof *u), w[10];
            for (size_t i = 0; i < k; i++) u[i] = gsl_ran_gaussian(r, sqrt(0.05));
            for (int j = 0; j < 10; j++) w[j] = gsl_ran_gaussian(r, sqrt(0.02));
            for (size_t i = 0; i < k;) {
                size_t n = crossed ? 10 : 1 + gsl_rng_uniform_int(r, 9);
                for (size_t j = 0; j < n && i < k; j++, i++) {
                    l0[i] = nst;
                    l1[i] = crossed ? (size_t)gsl_rng_uniform_int(r, 10) : i;
                    v[i] = gsl_ran_flat(r, 0.01, 0.3);
                    X[i] = 1;
                    X[k + i] = gsl_ran_flat(r, 0, 10);
                    y[i] = 0.2 + 0.01 * X[k + i] + u[nst] +
                           (crossed ? w[l1[i]] : gsl_ran_gaussian(r, sqrt(0.02))) + gsl_ran_gaussian(r, sqrt(v[i]));
                }
                nst++;
            }
            (void)ntr;
            /* levels must be 0..nlev-1: outcomes may miss a value in tiny data */
            size_t nl1 = crossed ? 10 : k;
            char n0[] = "study", n1[] = "study/es", n2[] = "outcome";
            char *names[2] = {n0, crossed ? n2 : n1};
            size_t *lev[2] = {l0, l1}, nlev[2] = {nst, nl1};
            mp_mv_random re = {2, k, names, lev, nlev};
            mp_mv_opts o;
            mp_mv_opts_init(&o);
            mp_mv_result res;
            stamp t0 = stamp_now();
            mp_status st = mp_mv_fit(y, v, X, k, 2, &re, &o, &res);
            char extra[160];
            snprintf(extra, sizeof extra, ", \"levels\": %zu, \"structure\": \"%s\", \"ok\": %s", nst,
                     crossed ? "study,outcome" : "study/es", st == MP_OK ? "true" : "false");
            emit("mv", "REML", k, 1, t0, extra);
            mp_mv_result_free(&res);
            free(y); free(v); free(X); free(l0); free(l1); free(u);
            gsl_rng_free(r);
        }
}
#endif

int main(int argc, char **argv)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads = ncpu > 0 ? (unsigned)ncpu : 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--smoke") == 0) smoke = 1;
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            long t = strtol(argv[++i], NULL, 10);
            if (t < 1 || t > 256) { fprintf(stderr, "metapool-bench: --threads 1..256\n"); return 2; }
            threads = (unsigned)t;
        } else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) only = argv[++i];
        else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc) {
            long n = strtol(argv[++i], NULL, 10);
            if (n < 1 || n > 1000) { fprintf(stderr, "metapool-bench: --repeat 1..1000\n"); return 2; }
            repeat = (int)n;
        }
        else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            puts("Usage: metapool-bench [--smoke] [--threads N] [--only NAME] [--repeat N]\n"
                 "Prints one JSON object per line: bench, method, k, analyses, seconds,\n"
                 "fits_per_s, ns_per_fit (and cpu_seconds, threads, mb_per_s where useful).");
            return 0;
        } else {
            fprintf(stderr, "metapool-bench: unknown argument '%s' (see --help)\n", argv[i]);
            return 2;
        }
    }
    gsl_set_error_handler_off();
    bench_methods();
    bench_million(threads);
    bench_bigk();
    bench_leave1out();
    bench_threads(threads);
    bench_ingest(threads);
    bench_kernel();
    bench_format();
    bench_gosh(threads);
#ifdef MP_BENCH_HAVE_REG
    bench_permute(threads);
    bench_reg();
#endif
#ifdef MP_BENCH_HAVE_TRAJ
    bench_traj();
#endif
#ifdef MP_BENCH_HAVE_MV
    bench_mv();
#endif
    return 0;
}
