/* tests/test_gosh.c - GOSH (mp_gosh_run) against metafor's gosh(), direct refits and its own bounds.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Oracles: tests/reference/gosh/ (gen.R there: R 4.2.2, metafor 3.8-1):
 * every subset of normand1999 (k = 9), a heterogeneous synthetic k = 10 and
 * a homogeneous k = 8 set, for FE, DL and REML, with the summaries
 * (quantile type 7) and per-study means.  Independent checks beyond
 * metafor: at k = 30 the block fast path equals a direct mp_pool() refit of
 * each subset, and the rounding error of the sums stays within the stated
 * bound wherever the block lies in the enumeration (no drift). */
#include "diagnostics/gosh_internal.h"
#include "metapool/gosh.h"
#include "metapool/pool.h"
#include "testutil.h"

#include <float.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* |got - want| <= rtol |want| + atol */
static int close_ra(double got, double want, double rtol, double atol)
{
    if (isnan(want) || isnan(got)) return isnan(want) && isnan(got);
    return fabs(got - want) <= rtol * fabs(want) + atol;
}

/* ---- reading the oracle files ---------------------------------------- */

typedef struct { double y[64], v[64]; char study[64][32]; size_t k; } dataset;

/* "study","yi","vi",... as R's write.csv writes them */
static void read_data(const char *name, dataset *d)
{
    char path[512];
    snprintf(path, sizeof path, "gosh/%s.csv", name);
    FILE *f = fopen(tu_ref(path), "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    char line[1024];
    ck_assert(fgets(line, sizeof line, f) != NULL);
    d->k = 0;
    while (fgets(line, sizeof line, f) && d->k < 64) {
        char *q = strchr(line + 1, '"');
        ck_assert(q != NULL);
        size_t n = (size_t)(q - line - 1);
        if (n > 31) n = 31;
        memcpy(d->study[d->k], line + 1, n);
        d->study[d->k][n] = 0;
        char *e;
        d->y[d->k] = strtod(q + 2, &e);
        d->v[d->k] = strtod(e + 1, &e);
        d->k++;
    }
    fclose(f);
}

typedef struct { int k; double est, Q, I2, H2, tau2; int seen; } subrow;

static subrow *read_subsets(const char *name, const char *method, size_t k)
{
    char path[512];
    snprintf(path, sizeof path, "gosh/gosh_%s_%s_subsets.csv", name, method);
    FILE *f = fopen(tu_ref(path), "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    subrow *r = calloc((size_t)1 << k, sizeof *r);
    char line[1024];
    ck_assert(fgets(line, sizeof line, f) != NULL);
    size_t n = 0;
    while (fgets(line, sizeof line, f)) {
        uint64_t m = 0;
        for (size_t j = 0; j < k; j++)
            if (line[j] == '1') m |= (uint64_t)1 << j;
        char *e = line + k + 1;
        r[m].k = (int)strtol(e, &e, 10);
        r[m].est = strtod(e + 1, &e);
        r[m].Q = strtod(e + 1, &e);
        r[m].I2 = strtod(e + 1, &e);
        r[m].H2 = strtod(e + 1, &e);
        r[m].tau2 = strtod(e + 1, &e);
        r[m].seen = 1;
        n++;
    }
    fclose(f);
    ck_assert_uint_eq(n, ((size_t)1 << k) - 1);
    return r;
}

static double summary_value(const char *name, const char *method, const char *key)
{
    char path[512], line[512];
    snprintf(path, sizeof path, "gosh/gosh_%s_%s_summary.csv", name, method);
    FILE *f = fopen(tu_ref(path), "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    double val = NAN;
    size_t kl = strlen(key);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, key, kl) == 0 && line[kl] == ',') { val = strtod(line + kl + 1, NULL); break; }
    fclose(f);
    ck_assert_msg(!isnan(val), "%s: no key %s", path, key);
    return val;
}

/* ---- collecting rows ---------------------------------------------------- */

typedef struct {
    size_t k;
    subrow *got;      /* by mask */
    uint64_t rows;
    uint64_t last;    /* rows must come in increasing mask order */
    int order_ok;
    int fail_after;   /* return an error after this many calls (0: never) */
    int calls;
} collect;

static mp_status collect_rows(void *ctx, const mp_gosh_rows *r)
{
    collect *c = ctx;
    c->calls++;
    if (c->fail_after && c->calls > c->fail_after) return MP_EIO;
    for (size_t i = 0; i < r->n; i++) {
        uint64_t m = r->mask[i];
        if (c->got) {
            if (m <= c->last && c->rows) c->order_ok = 0;
            subrow *s = &c->got[m];
            s->k = __builtin_popcountll(m);
            s->est = r->estimate[i];
            s->Q = r->Q[i];
            s->I2 = r->I2[i];
            s->H2 = r->H2[i];
            s->tau2 = r->tau2[i];
            s->seen += r->ok[i];
        }
        c->last = m;
        c->rows++;
    }
    return MP_OK;
}

static const char *const oracle_sets[] = {"normand1999", "synth10", "homog8"};
static const char *const oracle_methods[] = {"FE", "DL", "REML"};

/* Every subset and every summary against metafor: closed forms (FE, DL) to
 * 1e-10 relative (+1e-12 absolute: I^2 = 0, tau^2 = 0), REML to 1e-7
 * relative + 1e-9 absolute (both fits converged to ~1e-12 on tau^2). */
START_TEST(test_gosh_metafor)
{
    const char *name = oracle_sets[_i / 3], *method = oracle_methods[_i % 3];
    dataset d;
    read_data(name, &d);
    subrow *want = read_subsets(name, method, d.k);
    collect c = {d.k, calloc((size_t)1 << d.k, sizeof(subrow)), 0, 0, 1, 0, 0};
    mp_gosh_opts o;
    mp_gosh_opts_init(&o);
    ck_assert_int_eq(mp_method_parse(method, &o.method), MP_OK);
    o.row_fn = collect_rows;
    o.row_ctx = &c;
    mp_gosh_result r;
    mp_status st = mp_gosh_run(d.y, d.v, d.k, &o, &r);
    ck_assert_msg(st == MP_OK, "%s %s: %s", name, method, mp_strerror(st));
    int reml = o.method == MP_METHOD_REML;
    double rtol = reml ? 1e-7 : 1e-10, atol = reml ? 1e-9 : 1e-12;
    ck_assert_uint_eq(c.rows, ((uint64_t)1 << d.k) - 1);
    ck_assert_msg(c.order_ok, "rows not in subset order");
    for (uint64_t m = 1; m < ((uint64_t)1 << d.k); m++) {
        subrow *g = &c.got[m], *w = &want[m];
        ck_assert_msg(w->seen && g->seen == 1, "%s %s subset %llx missing", name, method,
                      (unsigned long long)m);
        ck_assert_int_eq(g->k, w->k);
        ck_assert_msg(close_ra(g->est, w->est, rtol, atol) && close_ra(g->Q, w->Q, rtol, atol) &&
                          close_ra(g->I2, w->I2, rtol, atol) && close_ra(g->H2, w->H2, rtol, atol) &&
                          close_ra(g->tau2, w->tau2, rtol, atol),
                      "%s %s subset %llx: est %.17g/%.17g Q %.17g/%.17g I2 %.17g/%.17g H2 "
                      "%.17g/%.17g tau2 %.17g/%.17g",
                      name, method, (unsigned long long)m, g->est, w->est, g->Q, w->Q, g->I2, w->I2,
                      g->H2, w->H2, g->tau2, w->tau2);
    }
    ck_assert_uint_eq(r.subsets, ((uint64_t)1 << d.k) - 1);
    ck_assert_int_eq(r.exhaustive, 1);
    ck_assert_int_eq(r.quantiles_exact, 1);
    ck_assert_uint_eq(r.failed, 0);
    const char *st5[5] = {"min", "q05", "median", "q95", "max"};
    double ge[5] = {r.estimate.min, r.estimate.q05, r.estimate.median, r.estimate.q95, r.estimate.max};
    double gi[5] = {r.I2.min, r.I2.q05, r.I2.median, r.I2.q95, r.I2.max};
    char key[64];
    for (int i = 0; i < 5; i++) {
        snprintf(key, sizeof key, "est_%s", st5[i]);
        double w = summary_value(name, method, key);
        ck_assert_msg(close_ra(ge[i], w, rtol, atol), "%s %s %s = %.17g, want %.17g", name, method, key, ge[i], w);
        snprintf(key, sizeof key, "i2_%s", st5[i]);
        w = summary_value(name, method, key);
        ck_assert_msg(close_ra(gi[i], w, rtol, atol), "%s %s %s = %.17g, want %.17g", name, method, key, gi[i], w);
    }
    for (size_t j = 0; j < d.k; j++) {
        const char *kinds[4] = {"est_with", "est_without", "i2_with", "i2_without"};
        double got[4] = {r.mean_est_with[j], r.mean_est_without[j], r.mean_i2_with[j], r.mean_i2_without[j]};
        for (int a = 0; a < 4; a++) {
            snprintf(key, sizeof key, "%s_%zu", kinds[a], j + 1);
            double w = summary_value(name, method, key);
            ck_assert_msg(close_ra(got[a], w, rtol, atol), "%s %s %s = %.17g, want %.17g", name, method, key, got[a], w);
        }
    }
    mp_gosh_result_free(&r);
    free(c.got);
    free(want);
}
END_TEST

/* k = 30 data: y = 0.3 + u + e, u ~ N(0, 0.08), v ~ U(0.005, 0.5) (weights
 * spanning a factor 100), fixed seed. */
static void synth(size_t k, unsigned long seed, double *y, double *v)
{
    gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(g, seed);
    for (size_t i = 0; i < k; i++) {
        v[i] = 0.005 + 0.495 * gsl_rng_uniform(g);
        y[i] = 0.3 + gsl_ran_gaussian(g, sqrt(0.08)) + gsl_ran_gaussian(g, sqrt(v[i]));
    }
    gsl_rng_free(g);
}

/* The fast path at k = 30 equals a direct refit of each subset (mp_pool,
 * the same data gathered into a fresh array) to 1e-9, for blocks at random
 * places in the enumeration (first, last and 40 random high patterns). */
START_TEST(test_gosh_fast_vs_refit_k30)
{
    const size_t k = 30;
    double y[30], v[30];
    synth(k, 20260116, y, v);
    mp_method methods[2] = {MP_METHOD_FE, MP_METHOD_DL};
    size_t L;
    uint64_t mask[1024];
    double est[1024], Q[1024], I2[1024], H2[1024], tau2[1024];
    unsigned char ok[1024];
    gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(g, 5);
    mp_pool_opts po;
    mp_pool_opts_init(&po);
    po.tau2_ci = 0;
    size_t checked = 0;
    for (int mi = 0; mi < 2; mi++) {
        po.method = methods[mi];
        for (int b = 0; b < 42; b++) {
            uint64_t h = b == 0 ? 0 : b == 1 ? ((uint64_t)1 << 20) - 1 : gsl_rng_get(g) & 0xfffff;
            ck_assert_int_eq(mp_gosh_block_(y, v, k, methods[mi], h, &L, mask, est, Q, I2, H2, tau2, ok), MP_OK);
            ck_assert_uint_eq(L, 10);
            for (size_t l = 0; l < 1024; l += (b < 2 ? 1 : 7)) {
                if (!ok[l]) { ck_assert(h == 0 && l == 0); continue; }
                double ys[30], vs[30];
                size_t n = 0;
                for (size_t i = 0; i < k; i++)
                    if ((mask[l] >> i) & 1) { ys[n] = y[i]; vs[n] = v[i]; n++; }
                mp_pool_result r;
                ck_assert_int_eq(mp_pool(ys, vs, n, &po, NULL, &r), MP_OK);
                double wQ = n > 1 ? r.Q : 0.0, df = (double)n - 1.0;
                /* gosh's conventions from the refit's Q (metafor's closed form) */
                double wI2 = n > 1 && wQ > df ? 100.0 * (wQ - df) / wQ : 0.0;
                double wH2 = n > 1 ? wQ / df : 1.0;
                ck_assert_msg(close_ra(est[l], r.estimate, 1e-9, 1e-12) && close_ra(Q[l], wQ, 1e-9, 1e-12) &&
                                  close_ra(I2[l], wI2, 1e-9, 1e-12) && close_ra(H2[l], wH2, 1e-9, 1e-12) &&
                                  close_ra(tau2[l], r.tau2, 1e-9, 1e-12),
                              "%s mask %llx: est %.17g/%.17g Q %.17g/%.17g tau2 %.17g/%.17g",
                              mp_method_name(methods[mi]), (unsigned long long)mask[l], est[l],
                              r.estimate, Q[l], wQ, tau2[l], r.tau2);
                checked++;
            }
        }
    }
    ck_assert_uint_gt(checked, 10000);
    gsl_rng_free(g);
}
END_TEST

/* No drift: a subset's sums are (high sums) + (table entry), each summed
 * directly, so |Q_fast - Q_exact| <= (2k + 8) u (sum w yc^2 + (sum w|yc|)^2 /
 * sum w) over the subset's terms (u = 2^-53; Q = Syy - Sy^2/S1 with each sum
 * off by at most (k + 1) u of its absolute sum, plus the division and
 * subtraction) -- wherever the block is in the enumeration.  Q_exact in
 * long double from the same centred terms.  The bound does not depend on
 * how many subsets came before (a running Gray-code update would). */
START_TEST(test_gosh_error_bound_no_drift)
{
    const size_t k = 30;
    double y[30], v[30];
    synth(k, 77, y, v);
    double sw = 0, swy = 0;
    for (size_t i = 0; i < k; i++) { sw += 1 / v[i]; swy += y[i] / v[i]; }
    double c = swy / sw;
    size_t L;
    static uint64_t mask[1024];
    static double est[1024], Q[1024], I2[1024], H2[1024], tau2[1024];
    static unsigned char ok[1024];
    const double u = DBL_EPSILON / 2;
    double worst = 0;
    uint64_t hs[5] = {0, 1, 0x5a5a5, 0xffffe, 0xfffff};
    for (int b = 0; b < 5; b++) {
        ck_assert_int_eq(mp_gosh_block_(y, v, k, MP_METHOD_FE, hs[b], &L, mask, est, Q, I2, H2, tau2, ok), MP_OK);
        for (size_t l = 0; l < 1024; l++) {
            if (!ok[l] || __builtin_popcountll(mask[l]) < 2) continue;
            long double S1 = 0, Sy = 0, Syy = 0;
            double a1 = 0, ay = 0, ayy = 0;
            for (size_t i = 0; i < k; i++)
                if ((mask[l] >> i) & 1) {
                    double w = 1 / v[i], yc = y[i] - c, wy = w * yc, wyy = wy * yc;
                    S1 += w; Sy += wy; Syy += wyy;
                    a1 += w; ay += fabs(wy); ayy += wyy;
                }
            double Qx = (double)(Syy - Sy * Sy / S1);
            double bound = (2.0 * (double)k + 8.0) * u * (ayy + ay * ay / a1);
            double err = fabs(Q[l] - Qx);
            ck_assert_msg(err <= bound, "mask %llx: |Q err| %.3g > bound %.3g", (unsigned long long)mask[l], err, bound);
            if (bound > 0 && err / bound > worst) worst = err / bound;
        }
    }
    ck_assert(worst < 1.0);
}
END_TEST

/* Same numbers for any thread count (chunks fixed, merged in order), bit
 * for bit; also in histogram mode and for random subsets. */
START_TEST(test_gosh_threads_same)
{
    double y[16], v[16];
    synth(16, 3, y, v);
    mp_gosh_result r[3];
    size_t th[3] = {1, 2, 3};
    for (int mode = 0; mode < 3; mode++) {
        for (int t = 0; t < 3; t++) {
            mp_gosh_opts o;
            mp_gosh_opts_init(&o);
            o.method = MP_METHOD_DL;
            o.threads = th[t];
            if (mode == 1) o.exact_max = 10; /* histograms */
            if (mode == 2) o.subsets = 60000; /* < 2^16 - 1: random */
            ck_assert_int_eq(mp_gosh_run(y, v, 16, &o, &r[t]), MP_OK);
        }
        for (int t = 1; t < 3; t++) {
            ck_assert(memcmp(&r[t].estimate, &r[0].estimate, sizeof r[0].estimate) == 0);
            ck_assert(memcmp(&r[t].I2, &r[0].I2, sizeof r[0].I2) == 0);
            ck_assert(memcmp(r[t].mean_est_with, r[0].mean_est_with, 16 * sizeof(double)) == 0);
            ck_assert(memcmp(r[t].mean_i2_without, r[0].mean_i2_without, 16 * sizeof(double)) == 0);
        }
        ck_assert_int_eq(r[0].exhaustive, mode != 2);
        for (int t = 0; t < 3; t++) mp_gosh_result_free(&r[t]);
    }
}
END_TEST

/* Histogram quantiles are within the stated bound (one bin width) of the
 * exact ones; extremes and per-study means are the same. */
START_TEST(test_gosh_histogram_bound)
{
    double y[18], v[18];
    synth(18, 11, y, v);
    for (int m = 0; m < 2; m++) {
        mp_gosh_opts o;
        mp_gosh_opts_init(&o);
        o.method = m ? MP_METHOD_DL : MP_METHOD_FE;
        mp_gosh_result ex, hi;
        ck_assert_int_eq(mp_gosh_run(y, v, 18, &o, &ex), MP_OK);
        o.exact_max = 1000;
        o.hist_bins = 4096; /* coarse, so the bound is tested where it bites */
        ck_assert_int_eq(mp_gosh_run(y, v, 18, &o, &hi), MP_OK);
        ck_assert_int_eq(ex.quantiles_exact, 1);
        ck_assert_int_eq(hi.quantiles_exact, 0);
        ck_assert(hi.est_qerr > 0 && hi.i2_qerr == 100.0 / 4096);
        double e[3] = {ex.estimate.q05, ex.estimate.median, ex.estimate.q95};
        double h[3] = {hi.estimate.q05, hi.estimate.median, hi.estimate.q95};
        double ei[3] = {ex.I2.q05, ex.I2.median, ex.I2.q95};
        double hh[3] = {hi.I2.q05, hi.I2.median, hi.I2.q95};
        for (int i = 0; i < 3; i++) {
            ck_assert_msg(fabs(e[i] - h[i]) <= hi.est_qerr, "est q%d: %.17g vs %.17g (bound %g)", i, h[i], e[i], hi.est_qerr);
            ck_assert_msg(fabs(ei[i] - hh[i]) <= hi.i2_qerr, "I2 q%d: %.17g vs %.17g", i, hh[i], ei[i]);
        }
        ck_assert(ex.estimate.min == hi.estimate.min && ex.estimate.max == hi.estimate.max);
        ck_assert(ex.I2.max == hi.I2.max);
        for (size_t j = 0; j < 18; j++) ck_assert(ex.mean_est_with[j] == hi.mean_est_with[j]);
        mp_gosh_result_free(&ex);
        mp_gosh_result_free(&hi);
    }
}
END_TEST

/* exact_quantiles: the two-pass selection gives the same quantiles as
 * keeping every value, bit for bit (exhaustive FE/DL/REML, random). */
START_TEST(test_gosh_exact_two_pass)
{
    double y[17], v[17];
    synth(17, 21, y, v);
    for (int mode = 0; mode < 4; mode++) {
        mp_gosh_opts o;
        mp_gosh_opts_init(&o);
        o.method = mode == 1 ? MP_METHOD_DL : mode == 2 ? MP_METHOD_REML : MP_METHOD_FE;
        size_t k = mode == 2 ? 13 : 17;
        if (mode == 3) o.subsets = 70000;
        o.threads = 2;
        mp_gosh_result ex, two;
        ck_assert_int_eq(mp_gosh_run(y, v, k, &o, &ex), MP_OK);
        o.exact_max = 10;
        o.hist_bins = mode == 0 ? 64 : 4096; /* few bins: many values per target bin */
        o.exact_quantiles = 1;
        ck_assert_int_eq(mp_gosh_run(y, v, k, &o, &two), MP_OK);
        ck_assert_int_eq(ex.quantiles_exact, 1);
        ck_assert_int_eq(two.quantiles_exact, 1);
        ck_assert_msg(memcmp(&ex.estimate, &two.estimate, sizeof ex.estimate) == 0,
                      "mode %d: median %.17g vs %.17g, q05 %.17g vs %.17g", mode, two.estimate.median,
                      ex.estimate.median, two.estimate.q05, ex.estimate.q05);
        ck_assert_msg(memcmp(&ex.I2, &two.I2, sizeof ex.I2) == 0, "mode %d: I2 median %.17g vs %.17g",
                      mode, two.I2.median, ex.I2.median);
        ck_assert(ex.mean_est_with[3] == two.mean_est_with[3]);
        mp_gosh_result_free(&ex);
        mp_gosh_result_free(&two);
    }
    mp_gosh_opts o;
    mp_gosh_opts_init(&o);
    o.exact_quantiles = 1;
    o.parts = 2;
    mp_gosh_result r;
    ck_assert_int_eq(mp_gosh_run(y, v, 17, &o, &r), MP_EINVAL);
    mp_gosh_result_free(&r);
}
END_TEST

/* Random subsets: each row equals a direct refit; a run repeats exactly
 * with its seed; N >= 2^k - 1 is the exhaustive run (as metafor). */
START_TEST(test_gosh_random_subsets)
{
    double y[25], v[25];
    synth(25, 9, y, v);
    for (int m = 0; m < 3; m++) {
        mp_gosh_opts o;
        mp_gosh_opts_init(&o);
        o.method = m == 0 ? MP_METHOD_FE : m == 1 ? MP_METHOD_DL : MP_METHOD_REML;
        o.subsets = 3000;
        o.seed = 42;
        mp_gosh_result a, b;
        ck_assert_int_eq(mp_gosh_run(y, v, 25, &o, &a), MP_OK);
        ck_assert_int_eq(a.exhaustive, 0);
        ck_assert_uint_eq(a.subsets, 3000);
        ck_assert_int_eq(mp_gosh_run(y, v, 25, &o, &b), MP_OK);
        ck_assert(memcmp(&a.estimate, &b.estimate, sizeof a.estimate) == 0);
        mp_gosh_result_free(&b);
        o.seed = 43;
        ck_assert_int_eq(mp_gosh_run(y, v, 25, &o, &b), MP_OK);
        ck_assert(a.estimate.median != b.estimate.median);
        mp_gosh_result_free(&a);
        mp_gosh_result_free(&b);
    }
    mp_gosh_opts o;
    mp_gosh_opts_init(&o);
    o.method = MP_METHOD_DL;
    mp_gosh_result r;
    double y6[6] = {0.1, 0.5, -0.2, 0.9, 0.3, 0.0}, v6[6] = {0.1, 0.2, 0.05, 0.3, 0.1, 0.2};
    o.subsets = 63; /* = 2^6 - 1: exhaustive */
    ck_assert_int_eq(mp_gosh_run(y6, v6, 6, &o, &r), MP_OK);
    ck_assert_int_eq(r.exhaustive, 1);
    ck_assert_uint_eq(r.subsets, 63);
    mp_gosh_result_free(&r);
}
END_TEST

typedef struct { const double *y, *v; size_t k; mp_method m; size_t n; int bad; } refit_ctx;

static mp_status refit_rows(void *ctx, const mp_gosh_rows *r)
{
    refit_ctx *c = ctx;
    mp_pool_opts po;
    mp_pool_opts_init(&po);
    po.method = c->m;
    po.tau2_ci = 0;
    for (size_t i = 0; i < r->n; i++) {
        double ys[32], vs[32];
        size_t n = 0;
        for (size_t j = 0; j < c->k; j++)
            if ((r->mask[i] >> j) & 1) { ys[n] = c->y[j]; vs[n] = c->v[j]; n++; }
        mp_pool_result pr;
        if (mp_pool(ys, vs, n, &po, NULL, &pr) != MP_OK) { c->bad++; continue; }
        double tau2 = n > 1 ? pr.tau2 : 0.0;
        if (!close_ra(r->estimate[i], pr.estimate, 1e-9, 1e-12) || !close_ra(r->tau2[i], tau2, 1e-9, 1e-12))
            c->bad++;
        c->n++;
    }
    return MP_OK;
}

START_TEST(test_gosh_random_rows_refit)
{
    double y[25], v[25];
    synth(25, 10, y, v);
    for (int m = 0; m < 3; m++) {
        refit_ctx c = {y, v, 25, m == 0 ? MP_METHOD_FE : m == 1 ? MP_METHOD_DL : MP_METHOD_REML, 0, 0};
        mp_gosh_opts o;
        mp_gosh_opts_init(&o);
        o.method = c.m;
        o.subsets = 2000;
        o.row_fn = refit_rows;
        o.row_ctx = &c;
        mp_gosh_result r;
        ck_assert_int_eq(mp_gosh_run(y, v, 25, &o, &r), MP_OK);
        ck_assert_uint_eq(c.n, 2000);
        ck_assert_int_eq(c.bad, 0);
        mp_gosh_result_free(&r);
    }
}
END_TEST

/* The density grid counts every fitted subset once; the highlighted grid
 * counts the 2^(k-1) subsets with that study. */
START_TEST(test_gosh_grid)
{
    double y[12], v[12];
    synth(12, 4, y, v);
    mp_gosh_opts o;
    mp_gosh_opts_init(&o);
    o.method = MP_METHOD_DL;
    o.grid_nx = 40;
    o.grid_ny = 30;
    o.highlight = 3;
    mp_gosh_result r;
    ck_assert_int_eq(mp_gosh_run(y, v, 12, &o, &r), MP_OK);
    uint64_t a = 0, b = 0;
    for (size_t i = 0; i < 40 * 30; i++) { a += r.sum.grid[i]; b += r.sum.grid_hl[i]; ck_assert(r.sum.grid_hl[i] <= r.sum.grid[i]); }
    ck_assert_uint_eq(a, 4095);
    ck_assert_uint_eq(b, 2048);
    mp_gosh_result_free(&r);
}
END_TEST

/* R: quantile(c(3,1,4,1,5,9,2,6), c(.05,.5,.95), type = 7) = 1, 3.5, 7.95 */
START_TEST(test_quantile7)
{
    double x[8] = {3, 1, 4, 1, 5, 9, 2, 6};
    ck_assert_rel(mp_quantile7(x, 8, 0.05), 1.0, 1e-15);
    ck_assert_rel(mp_quantile7(x, 8, 0.5), 3.5, 1e-15);
    ck_assert_rel(mp_quantile7(x, 8, 0.95), 7.95, 1e-15);
    ck_assert_rel(mp_quantile7(x, 8, 0.0), 1.0, 1e-15);
    ck_assert_rel(mp_quantile7(x, 8, 1.0), 9.0, 1e-15);
    double one = 2.5;
    ck_assert_rel(mp_quantile7(&one, 1, 0.3), 2.5, 0);
    ck_assert(isnan(mp_quantile7(x, 0, 0.5)));
}
END_TEST

/* Two runs' summaries merge: counts and sums add, extremes combine;
 * mismatched shapes are refused. */
START_TEST(test_gosh_merge)
{
    double y[12], v[12];
    synth(12, 8, y, v);
    mp_gosh_opts o;
    mp_gosh_opts_init(&o);
    o.exact_max = 10;
    mp_gosh_result r;
    ck_assert_int_eq(mp_gosh_run(y, v, 12, &o, &r), MP_OK);
    mp_gosh_summary m;
    ck_assert_int_eq(mp_gosh_summary_init_like(&m, &r.sum), MP_OK);
    ck_assert_int_eq(mp_gosh_summary_merge(&m, &r.sum), MP_OK);
    ck_assert_int_eq(mp_gosh_summary_merge(&m, &r.sum), MP_OK);
    ck_assert_uint_eq(m.n, 2 * r.sum.n);
    ck_assert(m.est_min == r.sum.est_min && m.i2_max == r.sum.i2_max);
    for (size_t j = 0; j < 12; j++) {
        ck_assert(m.est_with[j] == 2 * r.sum.est_with[j]);
        ck_assert_uint_eq(m.n_without[j], 2 * r.sum.n_without[j]);
    }
    mp_gosh_result r2;
    memset(&r2, 0, sizeof r2);
    ck_assert_int_eq(mp_gosh_summarise(&m, &r2), MP_OK);
    ck_assert_rel(r2.mean_est_with[0], r.mean_est_with[0], 1e-15);
    mp_gosh_result_free(&r2);
    mp_gosh_summary other;
    memset(&other, 0, sizeof other);
    ck_assert_int_eq(mp_gosh_summary_init_like(&other, &r.sum), MP_OK);
    other.k = 11;
    ck_assert_int_eq(mp_gosh_summary_merge(&m, &other), MP_EINVAL);
    other.k = 12;
    mp_gosh_summary_free(&other);
    mp_gosh_summary empty;
    ck_assert_int_eq(mp_gosh_summary_init_like(&empty, &r.sum), MP_OK);
    memset(&r2, 0, sizeof r2);
    ck_assert_int_eq(mp_gosh_summarise(&empty, &r2), MP_ETOOFEW);
    mp_gosh_result_free(&r2);
    mp_gosh_summary_free(&empty);
    mp_gosh_summary_free(&m);
    mp_gosh_result_free(&r);
}
END_TEST

/* A run split in parts (as MPI ranks would run it) merges into the whole
 * run: the same quantiles (histogram counts and kept values are the same
 * multisets), extremes and counts; the per-study means up to the order of
 * the additions, and bit for bit with the per-chunk sums.  Both quantile
 * modes. */
START_TEST(test_gosh_parts_merge)
{
    double y[17], v[17];
    synth(17, 12, y, v);
    for (int mode = 0; mode < 3; mode++) {
        mp_gosh_opts o;
        mp_gosh_opts_init(&o);
        o.method = MP_METHOD_DL;
        if (mode == 1) o.exact_max = 100;
        if (mode == 2) o.subsets = 100000; /* random, 2 chunks */
        mp_gosh_result whole, part[3];
        ck_assert_int_eq(mp_gosh_run(y, v, 17, &o, &whole), MP_OK);
        o.parts = 3;
        uint64_t visited = 0;
        for (size_t p = 0; p < 3; p++) {
            o.part = p;
            ck_assert_int_eq(mp_gosh_run(y, v, 17, &o, &part[p]), MP_OK);
            visited += part[p].subsets;
        }
        ck_assert_uint_eq(visited, whole.subsets);
        mp_gosh_summary m;
        ck_assert_int_eq(mp_gosh_summary_init_like(&m, &part[0].sum), MP_OK);
        for (size_t p = 0; p < 3; p++) ck_assert_int_eq(mp_gosh_summary_merge(&m, &part[p].sum), MP_OK);
        mp_gosh_result r;
        memset(&r, 0, sizeof r);
        ck_assert_int_eq(mp_gosh_summarise(&m, &r), MP_OK);
        for (size_t j = 0; j < 17; j++) {
            ck_assert_rel(r.mean_est_with[j], whole.mean_est_with[j], 1e-13);
            ck_assert_rel(r.mean_i2_without[j], whole.mean_i2_without[j], 1e-13);
        }
        /* with the parts' per-chunk sums added in chunk order: the whole
         * run's per-study means bit for bit (the MPI merge, gosh_mpi.c) */
        uint64_t nch = 0;
        for (size_t p = 0; p < 3; p++) {
            ck_assert_uint_eq(part[p].chunk0, nch);
            nch += part[p].nchunk;
        }
        ck_assert_uint_ge(nch, 2);
        double *cs = malloc((size_t)nch * 17 * 4 * sizeof *cs), *at = cs;
        ck_assert_ptr_nonnull(cs);
        for (size_t p = 0; p < 3; p++) {
            memcpy(at, part[p].chunk_sums, (size_t)part[p].nchunk * 17 * 4 * sizeof *cs);
            at += part[p].nchunk * 17 * 4;
        }
        ck_assert_int_eq(mp_gosh_summary_chunk_sums(&m, cs, nch), MP_OK);
        free(cs);
        ck_assert_int_eq(mp_gosh_summarise(&m, &r), MP_OK);
        ck_assert(memcmp(r.mean_est_with, whole.mean_est_with, 17 * sizeof(double)) == 0);
        ck_assert(memcmp(r.mean_est_without, whole.mean_est_without, 17 * sizeof(double)) == 0);
        ck_assert(memcmp(r.mean_i2_with, whole.mean_i2_with, 17 * sizeof(double)) == 0);
        ck_assert(memcmp(r.mean_i2_without, whole.mean_i2_without, 17 * sizeof(double)) == 0);
        ck_assert_ptr_null(whole.chunk_sums); /* one part: none kept */
        ck_assert_uint_eq(m.n, whole.sum.n);
        ck_assert(memcmp(&r.estimate, &whole.estimate, sizeof r.estimate) == 0);
        ck_assert(memcmp(&r.I2, &whole.I2, sizeof r.I2) == 0);
        mp_gosh_result_free(&r);
        mp_gosh_summary_free(&m);
        mp_gosh_result_free(&whole);
        for (size_t p = 0; p < 3; p++) mp_gosh_result_free(&part[p]);
    }
    mp_gosh_opts o;
    mp_gosh_opts_init(&o);
    o.parts = 2;
    o.part = 2;
    mp_gosh_result r;
    ck_assert_int_eq(mp_gosh_run(y, v, 17, &o, &r), MP_EINVAL);
    mp_gosh_result_free(&r);
    mp_gosh_summary e;
    memset(&e, 0, sizeof e);
    ck_assert_int_eq(mp_gosh_summary_chunk_sums(&e, NULL, 1), MP_EINVAL);
    ck_assert_int_eq(mp_gosh_summary_chunk_sums(NULL, y, 0), MP_EINVAL);
}
END_TEST

/* Every error path. */
START_TEST(test_gosh_errors)
{
    double y[3] = {0.1, 0.2, 0.3}, v[3] = {0.1, 0.1, 0.1};
    mp_gosh_opts o;
    mp_gosh_result r;
    mp_gosh_opts_init(&o);
    ck_assert_int_eq(mp_gosh_run(y, v, 1, &o, &r), MP_ETOOFEW);
    mp_gosh_result_free(&r);
    ck_assert_int_eq(mp_gosh_run(NULL, v, 3, &o, &r), MP_EINVAL);
    ck_assert_int_eq(mp_gosh_run(y, v, 3, &o, NULL), MP_EINVAL);
    o.method = MP_METHOD_PM;
    ck_assert_int_eq(mp_gosh_run(y, v, 3, &o, &r), MP_EINVAL);
    mp_gosh_opts_init(&o);
    o.highlight = 3;
    ck_assert_int_eq(mp_gosh_run(y, v, 3, &o, &r), MP_EINVAL);
    mp_gosh_opts_init(&o);
    o.grid_nx = 10; /* without grid_ny */
    ck_assert_int_eq(mp_gosh_run(y, v, 3, &o, &r), MP_EINVAL);
    mp_gosh_opts_init(&o);
    o.hist_bins = 1;
    ck_assert_int_eq(mp_gosh_run(y, v, 3, &o, &r), MP_EINVAL);
    mp_gosh_opts_init(&o);
    o.epsrel = 0;
    ck_assert_int_eq(mp_gosh_run(y, v, 3, &o, &r), MP_EINVAL);
    mp_gosh_opts_init(&o);
    double vbad[3] = {0.1, -1, 0.1};
    ck_assert_int_eq(mp_gosh_run(y, vbad, 3, &o, &r), MP_EDOM);
    double ybad[3] = {0.1, NAN, 0.1};
    ck_assert_int_eq(mp_gosh_run(ybad, v, 3, &o, &r), MP_EDOM);
    /* k above the exhaustive limit: refused before any work */
    double y41[41], v41[41];
    for (int i = 0; i < 41; i++) { y41[i] = 0.01 * i; v41[i] = 0.1; }
    ck_assert_int_eq(mp_gosh_run(y41, v41, 41, &o, &r), MP_EDOM);
    /* ... but random subsets at k = 41 are fine */
    o.subsets = 100;
    ck_assert_int_eq(mp_gosh_run(y41, v41, 41, &o, &r), MP_OK);
    mp_gosh_result_free(&r);
    double y64[64] = {0}, v64[64];
    for (int i = 0; i < 64; i++) v64[i] = 1;
    ck_assert_int_eq(mp_gosh_run(y64, v64, 64, &o, &r), MP_EDOM);
    /* a row callback's error stops the run and is returned */
    mp_gosh_opts_init(&o);
    collect c = {3, NULL, 0, 0, 1, 1, 0};
    o.row_fn = collect_rows;
    o.row_ctx = &c;
    double y12[12], v12[12];
    synth(12, 1, y12, v12);
    ck_assert_int_eq(mp_gosh_run(y12, v12, 12, &o, &r), MP_EIO);
    mp_gosh_result_free(&r);
    ck_assert_int_eq(c.calls, 2);
    /* the test hook's own checks */
    size_t L;
    uint64_t mask[8];
    double a[8];
    unsigned char ok[8];
    ck_assert_int_eq(mp_gosh_block_(y, v, 3, MP_METHOD_FE, 1, &L, mask, a, a, a, a, a, ok), MP_EDOM);
    ck_assert_int_eq(mp_gosh_block_(y, v, 3, MP_METHOD_PM, 0, &L, mask, a, a, a, a, a, ok), MP_EINVAL);
    mp_gosh_result_free(NULL);
    mp_gosh_summary_free(NULL);
}
END_TEST

static Suite *gosh_suite(void)
{
    Suite *s = suite_create("gosh");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, test_gosh_metafor, 0, 9);
    tcase_add_test(tc, test_gosh_fast_vs_refit_k30);
    tcase_add_test(tc, test_gosh_error_bound_no_drift);
    tcase_add_test(tc, test_gosh_threads_same);
    tcase_add_test(tc, test_gosh_histogram_bound);
    tcase_add_test(tc, test_gosh_exact_two_pass);
    tcase_add_test(tc, test_gosh_random_subsets);
    tcase_add_test(tc, test_gosh_random_rows_refit);
    tcase_add_test(tc, test_gosh_grid);
    tcase_add_test(tc, test_quantile7);
    tcase_add_test(tc, test_gosh_merge);
    tcase_add_test(tc, test_gosh_parts_merge);
    tcase_add_test(tc, test_gosh_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(gosh_suite());
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
