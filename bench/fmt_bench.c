/* bench/fmt_bench.c - metapool-bench-fmt: how fast mp_format_double() writes batch output.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Usage: metapool-bench-fmt [--smoke] [--rounds N] [--file RAW]
 *   --smoke     20 000 numbers, 2 rounds (a second or so)
 *   --rounds N  rounds [9]
 *   --file RAW  format the doubles of RAW (8 bytes each, this machine's byte
 *               order) instead of the made-up ones
 *
 * The numbers are the 12 that `metapool batch` writes per analysis
 * (estimate, se, ci_lb, ci_ub, pval, tau2, I2, H2, Q, Q_pval, pi_lb, pi_ub)
 * for 200 000 made-up k = 9 analyses (2.4 10^6 numbers), drawn in-process
 * from a fixed seed with the magnitudes of real batch output (measured on
 * the output of 10^6 REML analyses: estimates around 0.2, se around 0.13,
 * p-values down to 1e-14 and below, tau2 = 0 in 30% of rows, and then
 * I2 = 0 and H2 = 1 exactly).  Each is written into one buffer followed by
 * a comma, as batch does.
 *
 * Formatters: "shortest" (mp_format_double), "printf_17g"
 * (snprintf("%.17g"), for scale) and, when built with the CMake cache
 * variable MP_FMT_BASELINE=/path/to/fmt.c (another version of src/io/fmt.c,
 * e.g. `git show REV:src/io/fmt.c`), "baseline": that file's formatter.
 * Every round runs each formatter once, in turn (interleaved: on a shared
 * machine the speed drifts between rounds).  Timing is the process's CPU
 * time (one thread).
 *
 * Output, one JSON object per line: per round and formatter
 *   {"bench": "fmt", "method", "round", "numbers", "bytes",
 *    "cpu_seconds", "cpu_ns_per_number"}
 * then per formatter {"bench": "fmt_summary", "method", "rounds",
 * "min_ns_per_number", "median_ns_per_number", "median_ratio_to_shortest"
 * (the median over rounds of that round's time over shortest's), and
 * "same_text" (whether its text equals shortest's byte for byte; printf's
 * 17 digits do not)}.  No timing is asserted. */
#include "metapool/batch.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef MP_FMT_HAVE_BASELINE
size_t mp_fmt_baseline_format_double(double x, char *buf); /* fmt_baseline.c */
#endif

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t rng_state = UINT64_C(0x9e3779b97f4a7c15);

static double unit(void) /* uniform in (0, 1) (xorshift64*) */
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return ((double)((rng_state * UINT64_C(2685821657736338717)) >> 11) + 0.5) * 0x1p-53;
}

static double normal(void) /* Box-Muller */
{
    return sqrt(-2.0 * log(unit())) * cos(6.283185307179586 * unit());
}

/* One made-up analysis: the shapes, not a model (see the file comment). */
static void batch_row(double row[12])
{
    double est = 0.33 * normal();
    double se = 0.085 + 0.12 * pow(unit(), 1.5);
    double tau2 = unit() < 0.3 ? 0.0 : pow(10.0, -1.2 + 0.5 * normal());
    double I2 = tau2 == 0 ? 0.0 : 100.0 * tau2 / (tau2 + 0.05 + 0.1 * unit());
    double H2 = 100.0 / (100.0 - I2);
    double Q = 8.0 * H2 * exp(0.35 * normal());
    double h = Q / 2.0; /* P(chi-square with 8 df > Q), exactly */
    double width = 2.3646242510102993 * sqrt(se * se + tau2);
    row[0] = est;
    row[1] = se;
    row[2] = est - 1.959963984540054 * se;
    row[3] = est + 1.959963984540054 * se;
    row[4] = erfc(fabs(est / se) / sqrt(2.0));
    row[5] = tau2;
    row[6] = I2;
    row[7] = H2;
    row[8] = Q;
    row[9] = exp(-h) * (1.0 + h + h * h / 2.0 + h * h * h / 6.0);
    row[10] = est - width;
    row[11] = est + width;
}

static size_t fmt_printf(double x, char *buf)
{
    return (size_t)snprintf(buf, 32, "%.17g", x);
}

typedef struct {
    const char *name;
    double *ns; /* per round */
    double *ratio;
    char *text;
    size_t len;
} method;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int main(int argc, char **argv)
{
    size_t rows = 200000;
    int rounds = 9;
    const char *file = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--smoke")) {
            rows = 20000 / 12;
            rounds = 2;
        } else if (!strcmp(argv[i], "--rounds") && i + 1 < argc) {
            rounds = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--file") && i + 1 < argc) {
            file = argv[++i];
        } else {
            fprintf(stderr, "usage: metapool-bench-fmt [--smoke] [--rounds N] [--file RAW]\n");
            return 2;
        }
    }
    if (rounds < 1) rounds = 1;
    size_t n = 12 * rows;
    double *num;
    if (file) {
        FILE *f = fopen(file, "rb");
        if (!f || fseek(f, 0, SEEK_END) != 0) {
            fprintf(stderr, "metapool-bench-fmt: cannot read %s\n", file);
            return 1;
        }
        long size = ftell(f);
        rewind(f);
        n = size > 0 ? (size_t)size / 8 : 0;
        num = malloc((n ? n : 1) * sizeof *num);
        if (!num || fread(num, 8, n, f) != n) {
            fprintf(stderr, "metapool-bench-fmt: cannot read %s\n", file);
            return 1;
        }
        fclose(f);
    } else {
        num = malloc(n * sizeof *num);
        if (!num) return 1;
        for (size_t r = 0; r < rows; r++) batch_row(num + 12 * r);
    }
    method m[3] = {{"shortest", NULL, NULL, NULL, 0},
                   {"printf_17g", NULL, NULL, NULL, 0},
#ifdef MP_FMT_HAVE_BASELINE
                   {"baseline", NULL, NULL, NULL, 0}
#else
                   {NULL, NULL, NULL, NULL, 0}
#endif
    };
    size_t nm = m[2].name ? 3 : 2;
    for (size_t j = 0; j < nm; j++) {
        m[j].ns = malloc((size_t)rounds * sizeof(double));
        m[j].ratio = malloc((size_t)rounds * sizeof(double));
        m[j].text = malloc(n * 33 + 1);
        if (!m[j].ns || !m[j].ratio || !m[j].text) return 1;
    }
    for (int r = 0; r < rounds; r++) {
        for (size_t j = 0; j < nm; j++) {
            char *p = m[j].text;
            double c0 = cpu_now();
            /* direct calls, as batch makes them (not through m[j].f) */
#define FMT_LOOP(F)                      \
    for (size_t i = 0; i < n; i++) {     \
        p += F(num[i], p);               \
        *p++ = ',';                      \
    }
            if (j == 0) {
                FMT_LOOP(mp_format_double)
            } else if (j == 1) {
                FMT_LOOP(fmt_printf)
            } else {
#ifdef MP_FMT_HAVE_BASELINE
                FMT_LOOP(mp_fmt_baseline_format_double)
#endif
            }
#undef FMT_LOOP
            double c = cpu_now() - c0;
            m[j].len = (size_t)(p - m[j].text);
            m[j].ns[r] = n ? 1e9 * c / (double)n : 0.0;
            printf("{\"bench\": \"fmt\", \"method\": \"%s\", \"round\": %d, \"numbers\": %zu, "
                   "\"bytes\": %zu, \"cpu_seconds\": %.4f, \"cpu_ns_per_number\": %.2f}\n",
                   m[j].name, r, n, m[j].len, c, m[j].ns[r]);
            fflush(stdout);
        }
        for (size_t j = 0; j < nm; j++) m[j].ratio[r] = m[j].ns[r] / m[0].ns[r];
    }
    for (size_t j = 0; j < nm; j++) {
        int same = m[j].len == m[0].len && memcmp(m[j].text, m[0].text, m[0].len) == 0;
        double med_ratio = median(m[j].ratio, (size_t)rounds);
        double med = median(m[j].ns, (size_t)rounds); /* sorts ns: min is ns[0] */
        printf("{\"bench\": \"fmt_summary\", \"method\": \"%s\", \"rounds\": %d, \"numbers\": %zu, "
               "\"min_ns_per_number\": %.2f, \"median_ns_per_number\": %.2f, "
               "\"median_ratio_to_shortest\": %.4f, \"same_text\": %s}\n",
               m[j].name, rounds, n, m[j].ns[0], med, med_ratio, same ? "true" : "false");
    }
    for (size_t j = 0; j < nm; j++) {
        free(m[j].ns);
        free(m[j].ratio);
        free(m[j].text);
    }
    free(num);
    return 0;
}
