/* src/diagnostics/gosh.c - GOSH: every subset of the studies, fitted and summarised on the fly.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Definitions are metafor 3.8's gosh.rma() and its per-subset closed form
 * for FE and DL (.profile.rma.uni, model = 1 and 2; see gosh.h); REML
 * subsets are fitted by mp_pool() exactly as `pool` fits them.
 *
 * The exhaustive run.  Studies 0..L-1 (L = min(k, 10)) are "low", the
 * others "high"; subset mask m = (h << L) | l.  Enumeration goes by blocks:
 * one high pattern h, then all 2^L low patterns l.  With centred effects
 * yc = y - c (c the FE mean of all studies: Q is shift-invariant, and the
 * centring keeps Syy - Sy^2/S1 from cancelling at the scale of |c|), the
 * sums S1 = sum w, Sy = sum w yc, Syy = sum w yc^2, S2 = sum w^2 of a subset
 * are (sums of h's studies, computed directly once per block) + (sums of
 * l's studies, from a table built once).  So each subset costs one addition
 * per sum: there is no running update that could drift (the Gray-code idea
 * of adding or removing one study per step needs periodic recomputation to
 * bound its drift; this split needs none), and the rounding error of every
 * sum is at most that of summing the subset's terms in two partial sums,
 * |error| <= (k + 1) u sum|terms| (u = 2^-53; test_gosh checks this bound).
 * The per-subset formulas then run as loops over l that the compiler
 * vectorises.  DL's random-effects mean needs sum 1/(v_i + tau2_l) over the
 * subset's studies with a tau2 that differs per subset: it is computed per
 * block study by study across all l (the high studies are in every subset
 * of the block; a low study j only in the runs of l with bit j set), again
 * as vector loops.
 *
 * Summaries on the fly.  Per-study sums "with" and "without": a per-block
 * total goes to the high studies in or out of h, and per-l accumulators
 * B[l] (one add per subset) are distributed to the low studies at the end
 * of each chunk.  Quantiles: every value is kept when the run has at most
 * exact_max subsets (R's type-7 quantile by selection, exact); above it,
 * histograms of hist_bins bins over the a-priori ranges (a subset's
 * estimate is a weighted mean of its effects, so it lies in [min y, max y];
 * I^2 in [0, 100], with a separate count of I^2 = 0 exactly), and the
 * quantile's error is at most one bin width (both the true order statistic
 * and the reported one lie in the same bin).
 *
 * Threads and determinism.  The work is cut into chunks that depend only on
 * k (or N), never on the thread count; each chunk's sums are kept apart and
 * merged in chunk order at the end, counts are integers, so the results are
 * the same for any --threads.  Random subsets come from one GSL MT19937
 * stream per chunk, seeded from (seed, chunk). */
#include "metapool/gosh.h"
#include "internal.h"
#include "gosh_internal.h"

#include <gsl/gsl_rng.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOWMAX 10                  /* low studies per block: 2^10 subsets per block */
#define RAND_CHUNK ((uint64_t)1 << 16) /* random subsets per chunk */
#define MAX_CHUNKS ((uint64_t)1024)    /* exhaustive runs: about this many chunks */

void mp_gosh_opts_init(mp_gosh_opts *o)
{
    memset(o, 0, sizeof *o);
    o->method = MP_METHOD_FE;
    o->subsets = 0;
    o->seed = 1;
    o->threads = 0;
    o->epsrel = 1e-12;
    o->maxiter = 1000;
    o->exact_max = (uint64_t)1 << 22;
    o->hist_bins = (size_t)1 << 16;
    o->highlight = (size_t)-1;
    o->part = 0;
    o->parts = 1;
    o->exact_quantiles = 0;
}

/* ---- the summary: alloc, merge, free --------------------------------- */

void mp_gosh_summary_free(mp_gosh_summary *s)
{
    if (!s) return;
    free(s->est_with);
    free(s->est_without);
    free(s->i2_with);
    free(s->i2_without);
    free(s->n_with);
    free(s->n_without);
    free(s->est_vals);
    free(s->i2_vals);
    free(s->est_hist);
    free(s->i2_hist);
    free(s->grid);
    free(s->grid_hl);
    s->est_with = s->est_without = s->i2_with = s->i2_without = NULL;
    s->n_with = s->n_without = NULL;
    s->est_vals = s->i2_vals = NULL;
    s->est_hist = s->i2_hist = s->grid = s->grid_hl = NULL;
}

static void *zalloc(size_t n, size_t size)
{
    if (!n) n = 1;
    if (!mp_mul_size(n, size)) return NULL;
    return calloc(n, size);
}

/* Allocate the arrays of s for its k, mode, bins, grid (values: mvals). */
static mp_status summary_alloc(mp_gosh_summary *s)
{
    size_t k = s->k;
    s->est_with = zalloc(k, sizeof(double));
    s->est_without = zalloc(k, sizeof(double));
    s->i2_with = zalloc(k, sizeof(double));
    s->i2_without = zalloc(k, sizeof(double));
    s->n_with = zalloc(k, sizeof(uint64_t));
    s->n_without = zalloc(k, sizeof(uint64_t));
    int bad = !s->est_with || !s->est_without || !s->i2_with || !s->i2_without || !s->n_with ||
              !s->n_without;
    if (s->exact) {
        if (s->mvals > SIZE_MAX / sizeof(double)) bad = 1;
        else if (s->mvals) {
            s->est_vals = malloc((size_t)s->mvals * sizeof(double));
            s->i2_vals = malloc((size_t)s->mvals * sizeof(double));
            bad |= !s->est_vals || !s->i2_vals;
        }
    } else {
        s->est_hist = zalloc(s->bins, sizeof(uint64_t));
        s->i2_hist = zalloc(s->bins, sizeof(uint64_t));
        bad |= !s->est_hist || !s->i2_hist;
    }
    if (s->nx && s->ny) {
        size_t cells = mp_mul_size(s->nx, s->ny);
        s->grid = cells ? zalloc(cells, sizeof(uint64_t)) : NULL;
        bad |= !s->grid;
        if (s->highlight != (size_t)-1) {
            s->grid_hl = cells ? zalloc(cells, sizeof(uint64_t)) : NULL;
            bad |= !s->grid_hl;
        }
    }
    if (bad) { mp_gosh_summary_free(s); return MP_FAIL(MP_ENOMEM); }
    return MP_OK;
}

static void summary_reset_scalars(mp_gosh_summary *s)
{
    s->n = s->failed = s->nvals = s->i2_zero = 0;
    s->est_min = s->i2_min = INFINITY;
    s->est_max = s->i2_max = -INFINITY;
}

mp_status mp_gosh_summary_init_like(mp_gosh_summary *s, const mp_gosh_summary *shape)
{
    if (!s || !shape) return MP_FAIL(MP_EINVAL);
    memset(s, 0, sizeof *s);
    s->k = shape->k;
    s->exact = shape->exact;
    s->mvals = 0;
    s->bins = shape->bins;
    s->est_lo = shape->est_lo;
    s->est_hi = shape->est_hi;
    s->nx = shape->nx;
    s->ny = shape->ny;
    s->highlight = shape->highlight;
    summary_reset_scalars(s);
    return summary_alloc(s);
}

mp_status mp_gosh_summary_merge(mp_gosh_summary *a, const mp_gosh_summary *b)
{
    if (!a || !b) return MP_FAIL(MP_EINVAL);
    if (a->k != b->k || a->exact != b->exact || a->nx != b->nx || a->ny != b->ny ||
        a->highlight != b->highlight ||
        (!a->exact && (a->bins != b->bins || a->est_lo != b->est_lo || a->est_hi != b->est_hi)))
        return MP_FAIL(MP_EINVAL);
    if (a->exact && b->nvals) {
        uint64_t need = a->nvals + b->nvals;
        if (need > a->mvals) {
            if (need > SIZE_MAX / sizeof(double)) return MP_FAIL(MP_ENOMEM);
            double *e = realloc(a->est_vals, (size_t)need * sizeof(double));
            if (!e) return MP_FAIL(MP_ENOMEM);
            a->est_vals = e;
            double *i = realloc(a->i2_vals, (size_t)need * sizeof(double));
            if (!i) return MP_FAIL(MP_ENOMEM);
            a->i2_vals = i;
            a->mvals = need;
        }
        memcpy(a->est_vals + a->nvals, b->est_vals, (size_t)b->nvals * sizeof(double));
        memcpy(a->i2_vals + a->nvals, b->i2_vals, (size_t)b->nvals * sizeof(double));
        a->nvals = need;
    }
    for (size_t j = 0; j < a->k; j++) {
        a->est_with[j] += b->est_with[j];
        a->est_without[j] += b->est_without[j];
        a->i2_with[j] += b->i2_with[j];
        a->i2_without[j] += b->i2_without[j];
        a->n_with[j] += b->n_with[j];
        a->n_without[j] += b->n_without[j];
    }
    if (!a->exact)
        for (size_t i = 0; i < a->bins; i++) {
            a->est_hist[i] += b->est_hist[i];
            a->i2_hist[i] += b->i2_hist[i];
        }
    a->i2_zero += b->i2_zero;
    if (a->grid)
        for (size_t i = 0; i < a->nx * a->ny; i++) {
            a->grid[i] += b->grid[i];
            if (a->grid_hl) a->grid_hl[i] += b->grid_hl[i];
        }
    a->n += b->n;
    a->failed += b->failed;
    a->est_min = fmin(a->est_min, b->est_min);
    a->est_max = fmax(a->est_max, b->est_max);
    a->i2_min = fmin(a->i2_min, b->i2_min);
    a->i2_max = fmax(a->i2_max, b->i2_max);
    return MP_OK;
}

/* ---- quantiles ------------------------------------------------------- */

static void swapd(double *a, double *b) { double t = *a; *a = *b; *b = t; }

/* min and max for values known not to be NaN: plain compares the compiler
 * turns into minsd/maxsd (fmin/fmax must treat NaN and become libm calls) */
static inline double dmin(double a, double b) { return b < a ? b : a; }
static inline double dmax(double a, double b) { return b > a ? b : a; }

/* Put the r-th smallest of x[0..n) at x[r], smaller ones before it, larger
 * after (Hoare's selection with median-of-three pivots). */
static void select_rank(double *x, size_t n, size_t r)
{
    size_t lo = 0, hi = n - 1;
    while (hi > lo) {
        size_t mid = lo + (hi - lo) / 2;
        if (x[mid] < x[lo]) swapd(&x[mid], &x[lo]);
        if (x[hi] < x[lo]) swapd(&x[hi], &x[lo]);
        if (x[hi] < x[mid]) swapd(&x[hi], &x[mid]);
        double p = x[mid];
        size_t i = lo, j = hi;
        while (i <= j) {
            while (x[i] < p) i++;
            while (x[j] > p) j--;
            if (i <= j) {
                swapd(&x[i], &x[j]);
                i++;
                if (j == 0) break;
                j--;
            }
        }
        if (r <= j) hi = j;
        else if (r >= i) lo = i;
        else return;
    }
}

double mp_quantile7(double *x, size_t n, double p)
{
    if (n == 0) return NAN;
    /* R: h = (n - 1) p, x[floor(h)] + (h - floor(h)) (x[floor(h) + 1] - x[floor(h)]) */
    double h = (double)(n - 1) * p;
    size_t j = (size_t)floor(h);
    if (j >= n - 1) j = n - 1;
    double g = h - (double)j;
    select_rank(x, n, j);
    double a = x[j];
    if (g == 0 || j + 1 >= n) return a;
    double b = x[j + 1];
    for (size_t i = j + 2; i < n; i++) b = fmin(b, x[i]);
    return a + g * (b - a);
}

/* The value of rank r (0-based) from a histogram: inside its bin, the
 * ranks are spread evenly (error at most one bin width). */
static double hist_rank(const uint64_t *h, size_t bins, double lo, double width, uint64_t zero,
                        uint64_t n, uint64_t r, double vmin, double vmax)
{
    if (r == 0) return vmin;
    if (r + 1 >= n) return vmax;
    if (r < zero) return 0.0;
    r -= zero;
    uint64_t cum = 0;
    for (size_t b = 0; b < bins; b++) {
        if (r < cum + h[b]) {
            double x = lo + ((double)b + ((double)(r - cum) + 0.5) / (double)h[b]) * width;
            return fmin(fmax(x, vmin), vmax);
        }
        cum += h[b];
    }
    return vmax;
}

static double hist_quantile(const uint64_t *h, size_t bins, double lo, double width,
                            uint64_t zero, uint64_t n, double p, double vmin, double vmax)
{
    double hh = (double)(n - 1) * p;
    uint64_t j = (uint64_t)floor(hh);
    double g = hh - (double)j;
    double a = hist_rank(h, bins, lo, width, zero, n, j, vmin, vmax);
    if (g == 0) return a;
    double b = hist_rank(h, bins, lo, width, zero, n, j + 1, vmin, vmax);
    return a + g * (b - a);
}

/* Drop the NaN slots (empty subset, failed fits) of the kept values. */
static uint64_t compact(double *e, double *i2, uint64_t n)
{
    uint64_t m = 0;
    for (uint64_t i = 0; i < n; i++)
        if (!isnan(e[i])) { e[m] = e[i]; i2[m] = i2[i]; m++; }
    return m;
}

mp_status mp_gosh_summarise(mp_gosh_summary *s, mp_gosh_result *res)
{
    if (!s || !res) return MP_FAIL(MP_EINVAL);
    if (s->n == 0) return MP_FAIL(MP_ETOOFEW);
    const double ps[3] = {0.05, 0.5, 0.95};
    double qe[3], qi[3];
    if (s->exact) {
        s->nvals = compact(s->est_vals, s->i2_vals, s->nvals);
        for (int i = 0; i < 3; i++) {
            qe[i] = mp_quantile7(s->est_vals, (size_t)s->nvals, ps[i]);
            qi[i] = mp_quantile7(s->i2_vals, (size_t)s->nvals, ps[i]);
        }
        res->quantiles_exact = 1;
        res->est_qerr = res->i2_qerr = 0;
    } else {
        double we = (s->est_hi - s->est_lo) / (double)s->bins, wi = 100.0 / (double)s->bins;
        for (int i = 0; i < 3; i++) {
            qe[i] = hist_quantile(s->est_hist, s->bins, s->est_lo, we, 0, s->n, ps[i], s->est_min,
                                  s->est_max);
            qi[i] = hist_quantile(s->i2_hist, s->bins, 0.0, wi, s->i2_zero, s->n, ps[i], s->i2_min,
                                  s->i2_max);
        }
        res->quantiles_exact = 0;
        res->est_qerr = we;
        res->i2_qerr = wi;
    }
    res->estimate = (mp_gosh_stat){s->est_min, qe[0], qe[1], qe[2], s->est_max};
    res->I2 = (mp_gosh_stat){s->i2_min, qi[0], qi[1], qi[2], s->i2_max};
    size_t k = s->k;
    if (!res->mean_est_with) {
        res->mean_est_with = zalloc(k, sizeof(double));
        res->mean_est_without = zalloc(k, sizeof(double));
        res->mean_i2_with = zalloc(k, sizeof(double));
        res->mean_i2_without = zalloc(k, sizeof(double));
        if (!res->mean_est_with || !res->mean_est_without || !res->mean_i2_with ||
            !res->mean_i2_without)
            return MP_FAIL(MP_ENOMEM);
    }
    for (size_t j = 0; j < k; j++) {
        double nw = (double)s->n_with[j], no = (double)s->n_without[j];
        res->mean_est_with[j] = nw > 0 ? s->est_with[j] / nw : NAN;
        res->mean_i2_with[j] = nw > 0 ? s->i2_with[j] / nw : NAN;
        res->mean_est_without[j] = no > 0 ? s->est_without[j] / no : NAN;
        res->mean_i2_without[j] = no > 0 ? s->i2_without[j] / no : NAN;
    }
    return MP_OK;
}

void mp_gosh_result_free(mp_gosh_result *res)
{
    if (!res) return;
    free(res->mean_est_with);
    free(res->mean_est_without);
    free(res->mean_i2_with);
    free(res->mean_i2_without);
    res->mean_est_with = res->mean_est_without = res->mean_i2_with = res->mean_i2_without = NULL;
    free(res->chunk_sums);
    res->chunk_sums = NULL;
    mp_gosh_summary_free(&res->sum);
}

mp_status mp_gosh_summary_chunk_sums(mp_gosh_summary *s, const double *sums, uint64_t nchunk)
{
    if (!s || (!sums && nchunk)) return MP_FAIL(MP_EINVAL);
    for (size_t j = 0; j < s->k; j++) s->est_with[j] = s->est_without[j] = s->i2_with[j] = s->i2_without[j] = 0;
    for (uint64_t c = 0; c < nchunk; c++) /* the order of the run's own merge below */
        for (size_t j = 0; j < s->k; j++) {
            const double *x = sums + ((size_t)c * s->k + j) * 4;
            s->est_with[j] += x[0];
            s->est_without[j] += x[1];
            s->i2_with[j] += x[2];
            s->i2_without[j] += x[3];
        }
    return MP_OK;
}

/* ---- the run ---------------------------------------------------------- */

/* Per-chunk sums, merged in chunk order (the order of floating-point
 * additions then does not depend on the threads). */
typedef struct {
    double *ew, *eo, *iw, *io; /* k each: estimate / I^2 sums with and without */
    uint64_t *nw, *no;         /* k each: counts */
} chunk_sums;

typedef struct job job;

/* One worker's state. */
typedef struct {
    job *jb;
    mp_gosh_summary part;      /* histograms, grids, extremes, counts (no per-study sums) */
    size_t nlow;
    /* block buffers, nlow each */
    double *est, *Q, *I2, *H2, *tau2, *a1, *ay;
    uint64_t *mask;
    unsigned char *ok;
    /* per-l accumulators of the current chunk */
    double *Be, *Bi;
    uint64_t *Bn;
    double *ybuf, *vbuf;       /* REML: the subset's studies */
    size_t nbad;               /* rows of the block buffers whose fit failed */
    double *ce, *ci;           /* pass 2: collected estimates / I^2 values */
    size_t nce, mce, nci, mci; /* their counts and capacities */
    uint32_t *be, *bi;         /* nlow each: histogram bins of the block's rows */
    uint32_t *he, *hi;         /* 32-bit histogram counts (bins, bins + 1), flushed into part */
    uint64_t since_flush;      /* rows counted since the last flush */
    mp_pool_workspace *pw;
    gsl_rng *rng;
    mp_status st;
    pthread_t tid;
    int started;
} worker;

struct job {
    const double *y, *v;
    size_t k, L, nlow;
    mp_gosh_opts o;
    double c;                  /* centre: FE mean of all studies */
    double *yc, *w, *wy, *wyy, *w2; /* per study */
    double *T1, *Ty, *Tyy, *T2;     /* per low pattern l */
    unsigned char *Tk;
    int exhaustive;
    uint64_t total;            /* subsets to visit */
    uint64_t nchunks, chunk_blocks; /* exhaustive: high patterns per chunk */
    chunk_sums cs;             /* nchunks * k each */
    _Atomic uint64_t next;     /* next chunk to claim */
    uint64_t c0, c1;           /* this part's chunks [c0, c1) (mp_gosh_opts part/parts) */
    uint64_t part_total;       /* subsets in those chunks */
    int pass2;                 /* second pass of exact_quantiles: only collect values */
    unsigned char *tgt_e, *tgt_i; /* pass 2: bins whose values are collected (bins + 1) */
    _Atomic uint64_t done;     /* subsets done */
    _Atomic int stop;          /* set on error */
    pthread_mutex_t prog_mu;
    double *vals_e, *vals_i;   /* exact mode: one slot per visited subset */
    double est_lo, est_hi, est_scale; /* histogram/grid range of the estimate */
};

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

/* FE/DL statistics of one subset from its centred sums (metafor's closed
 * form).  kk = studies in the subset (>= 1). */
static inline void closed_form(double S1, double Sy, double Syy, double S2, double kk, double c,
                               int dl, double *est, double *Q, double *I2, double *H2,
                               double *tau2)
{
    double ec = Sy / S1, q = Syy - Sy * ec, df = kk - 1.0;
    q = kk > 1.0 ? fmax(q, 0.0) : 0.0;
    *est = c + ec;
    *Q = q;
    *I2 = q > df ? 100.0 * (q - df) / q : 0.0;
    *H2 = kk > 1.0 ? q / df : 1.0;
    double t = (q > df && dl) ? (q - df) / (S1 - S2 / S1) : 0.0;
    *tau2 = t;
}

/* One subset by direct sums over its studies in index order (random
 * subsets; also the reference for the tests). */
static void direct_row(const job *jb, uint64_t m, double *est, double *Q, double *I2, double *H2,
                       double *tau2)
{
    double S1 = 0, Sy = 0, Syy = 0, S2 = 0, kk = 0;
    for (uint64_t r = m; r; r &= r - 1) {
        size_t i = (size_t)__builtin_ctzll(r);
        S1 += jb->w[i];
        Sy += jb->wy[i];
        Syy += jb->wyy[i];
        S2 += jb->w2[i];
        kk += 1.0;
    }
    int dl = jb->o.method == MP_METHOD_DL;
    closed_form(S1, Sy, Syy, S2, kk, jb->c, dl, est, Q, I2, H2, tau2);
    if (dl && *tau2 > 0) {
        double a = 0, b = 0, t = *tau2;
        for (uint64_t r = m; r; r &= r - 1) {
            size_t i = (size_t)__builtin_ctzll(r);
            double wi = 1.0 / (jb->v[i] + t);
            a += wi;
            b += wi * jb->yc[i];
        }
        *est = jb->c + b / a;
    }
}

/* REML (or any mp_pool method) fit of subset m. */
static int pool_row(worker *wk, uint64_t m, double *est, double *Q, double *I2, double *H2,
                    double *tau2)
{
    const job *jb = wk->jb;
    size_t n = 0;
    for (uint64_t r = m; r; r &= r - 1) {
        size_t i = (size_t)__builtin_ctzll(r);
        wk->ybuf[n] = jb->y[i];
        wk->vbuf[n] = jb->v[i];
        n++;
    }
    if (n == 1) {
        *est = wk->ybuf[0];
        *Q = 0;
        *I2 = 0;
        *H2 = 1;
        *tau2 = 0;
        return 1;
    }
    mp_pool_opts po;
    mp_pool_opts_init(&po);
    po.method = jb->o.method;
    po.epsrel = jb->o.epsrel;
    po.maxiter = jb->o.maxiter;
    po.tau2_ci = 0;
    mp_pool_result r;
    mp_status s = mp_pool(wk->ybuf, wk->vbuf, n, &po, wk->pw, &r);
    *est = r.estimate;
    *Q = r.Q;
    *I2 = r.I2;
    *H2 = r.H2;
    *tau2 = r.tau2;
    return s == MP_OK;
}

/* The per-block loops below are plain loops over l that the compiler
 * vectorises; on x86-64 Linux with GCC they are also compiled for AVX2 and
 * AVX-512 and the best one is picked when the program starts (MP_CLONES,
 * src/internal.h). */
/* FE statistics (and DL's tau^2) of the 2^L subsets of one block: the high
 * part's sums (h1, hy, hyy, h2, hk) plus each low pattern's table entry. */
MP_CLONES
static void fe_block(size_t nlow, double h1, double hy, double hyy, double h2, double hk,
                     const double *restrict T1, const double *restrict Ty,
                     const double *restrict Tyy, const double *restrict T2,
                     const unsigned char *restrict Tk, double c, int dl, double *restrict est,
                     double *restrict Q, double *restrict I2, double *restrict H2,
                     double *restrict tau2)
{
    for (size_t l = 0; l < nlow; l++) {
        double kk = hk + (double)Tk[l];
        double S1 = h1 + T1[l], Sy = hy + Ty[l], Syy = hyy + Tyy[l], S2 = h2 + T2[l];
        double ec = Sy / S1, q = Syy - Sy * ec, df = kk - 1.0;
        q = q > 0.0 ? q : 0.0;
        q = kk > 1.0 ? q : 0.0;
        est[l] = c + ec;
        Q[l] = q;
        I2[l] = q > df ? 100.0 * (q - df) / q : 0.0;
        H2[l] = kk > 1.0 ? q / df : 1.0;
        double t = (q - df) / (S1 - S2 / S1);
        tau2[l] = (q > df && dl) ? t : 0.0;
    }
}

/* DL: a1[l] += 1/(v + tau2[l]), ay[l] += yc/(v + tau2[l]) for l in [l0, l1). */
MP_CLONES
static void dl_add(size_t l0, size_t l1, double vi, double yi, const double *restrict tau2,
                   double *restrict a1, double *restrict ay)
{
    for (size_t l = l0; l < l1; l++) {
        double wi = 1.0 / (vi + tau2[l]);
        a1[l] += wi;
        ay[l] += wi * yi;
    }
}

/* Histogram bins of n rows: estimate over [lo, lo + bins/sc), I^2 over
 * (0, 100] with I^2 = 0 exactly in the extra bin `bins`. */
MP_CLONES
static void bin_rows(size_t n, const double *restrict est, const double *restrict I2, double lo,
                     double sc, double bins, uint32_t *restrict be, uint32_t *restrict bi)
{
    const double top = bins - 1.0, isc = bins / 100.0;
    for (size_t i = 0; i < n; i++) {
        double x = (est[i] - lo) * sc;
        x = x > 0.0 ? x : 0.0;
        x = x < top ? x : top;
        double z = I2[i] * isc;
        z = z < top ? z : top;
        z = I2[i] > 0.0 ? z : bins;
        be[i] = (uint32_t)x;
        bi[i] = (uint32_t)z;
    }
}

/* Extremes of n values. */
MP_CLONES
static void min_max(size_t n, const double *restrict x, double *mn, double *mx)
{
    double a = *mn, b = *mx;
    for (size_t i = 0; i < n; i++) {
        a = x[i] < a ? x[i] : a;
        b = x[i] > b ? x[i] : b;
    }
    *mn = a;
    *mx = b;
}

/* Fill the block buffers for high pattern h (all l in [0, nlow)). */
static void block_rows(worker *wk, uint64_t h)
{
    const job *jb = wk->jb;
    const size_t L = jb->L, nlow = jb->nlow, k = jb->k;
    double *est = wk->est, *Q = wk->Q, *I2 = wk->I2, *H2 = wk->H2, *tau2 = wk->tau2;
    for (size_t l = 0; l < nlow; l++) wk->mask[l] = (h << L) | l;
    if (jb->o.method == MP_METHOD_REML) {
        size_t bad = 0;
        for (size_t l = 0; l < nlow; l++) {
            uint64_t m = wk->mask[l];
            wk->ok[l] = m ? (unsigned char)pool_row(wk, m, &est[l], &Q[l], &I2[l], &H2[l], &tau2[l])
                          : 0;
            bad += !wk->ok[l];
        }
        wk->nbad = bad;
        return;
    }
    /* the high part's sums, directly */
    double h1 = 0, hy = 0, hyy = 0, h2 = 0, hk = 0;
    for (size_t i = L; i < k; i++)
        if ((h >> (i - L)) & 1) {
            h1 += jb->w[i];
            hy += jb->wy[i];
            hyy += jb->wyy[i];
            h2 += jb->w2[i];
            hk += 1.0;
        }
    const int dl = jb->o.method == MP_METHOD_DL;
    fe_block(nlow, h1, hy, hyy, h2, hk, jb->T1, jb->Ty, jb->Tyy, jb->T2, jb->Tk, jb->c, dl, est,
             Q, I2, H2, tau2);
    if (h == 0) { /* the empty subset (no row): harmless finite values */
        est[0] = jb->c;
        Q[0] = I2[0] = tau2[0] = 0;
        H2[0] = 1;
    }
    if (dl) {
        /* sum 1/(v + tau2) and sum yc/(v + tau2) over each subset's studies:
         * the high studies are in every subset of the block, low study j in
         * the runs of l with bit j set */
        double *a1 = wk->a1, *ay = wk->ay;
        for (size_t l = 0; l < nlow; l++) a1[l] = ay[l] = 0;
        for (size_t i = L; i < k; i++)
            if ((h >> (i - L)) & 1) dl_add(0, nlow, jb->v[i], jb->yc[i], tau2, a1, ay);
        for (size_t j = 0; j < L; j++) {
            const size_t run = (size_t)1 << j;
            for (size_t base = run; base < nlow; base += 2 * run)
                dl_add(base, base + run, jb->v[j], jb->yc[j], tau2, a1, ay);
        }
        for (size_t l = 0; l < nlow; l++)
            if (tau2[l] > 0) est[l] = jb->c + ay[l] / a1[l];
    }
    memset(wk->ok, 1, nlow);
    wk->ok[0] = h != 0;
    wk->nbad = 0; /* the empty subset carries finite values in range: see above */
}

/* Move the worker's 32-bit histogram counts into its 64-bit ones. */
static void hist_flush(worker *wk)
{
    mp_gosh_summary *s = &wk->part;
    if (s->exact) return;
    for (size_t b = 0; b < s->bins; b++) {
        s->est_hist[b] += wk->he[b];
        s->i2_hist[b] += wk->hi[b];
        wk->he[b] = wk->hi[b] = 0;
    }
    s->i2_zero += wk->hi[s->bins];
    wk->hi[s->bins] = 0;
    wk->since_flush = 0;
}

/* Accumulate n rows (buffers of wk) into the worker's histograms, grids,
 * extremes and exact slots (slot of row i: slot0 + i; rows with a negative
 * slot, i.e. the empty subset, have none).  Rows with ok = 0 are left out;
 * when wk->nbad > 0 some of them may hold NaN and are patched first. */
static void accumulate_common(worker *wk, size_t n, int64_t slot0)
{
    job *jb = wk->jb;
    mp_gosh_summary *s = &wk->part;
    double *est = wk->est, *I2 = wk->I2;
    const unsigned char *ok = wk->ok;
    uint64_t nok = 0, nbadm = 0;
    for (size_t i = 0; i < n; i++) {
        nok += ok[i];
        nbadm += !ok[i] && wk->mask[i] != 0;
    }
    s->n += nok;
    s->failed += nbadm;
    if (nok == 0) return;
    if (wk->nbad) {
        /* failed fits: give them the values of a fitted row of the block
         * for the extremes and bins (they are not counted) */
        size_t g = 0;
        while (!ok[g]) g++;
        for (size_t i = 0; i < n; i++)
            if (!ok[i]) { est[i] = est[g]; I2[i] = I2[g]; }
    }
    min_max(n, est, &s->est_min, &s->est_max);
    min_max(n, I2, &s->i2_min, &s->i2_max);
    if (s->exact) {
        for (size_t i = slot0 < 0 ? (size_t)-slot0 : 0; i < n; i++) {
            jb->vals_e[(size_t)slot0 + i] = ok[i] ? est[i] : NAN;
            jb->vals_i[(size_t)slot0 + i] = ok[i] ? I2[i] : NAN;
        }
    } else {
        uint32_t *be = wk->be, *bi = wk->bi, *he = wk->he, *hi = wk->hi;
        bin_rows(n, est, I2, jb->est_lo, jb->est_scale, (double)s->bins, be, bi);
        for (size_t i = 0; i < n; i++) {
            uint32_t o = ok[i];
            he[be[i]] += o;
            hi[bi[i]] += o;
        }
        wk->since_flush += n;
        if (wk->since_flush >= ((uint64_t)1 << 31)) hist_flush(wk);
    }
    if (s->grid) {
        const double gx = (double)s->nx / 100.0, gy = (double)s->ny / (jb->est_hi - jb->est_lo);
        const double tx = (double)s->nx - 1.0, ty = (double)s->ny - 1.0;
        const size_t hl = s->highlight;
        for (size_t i = 0; i < n; i++) {
            if (!ok[i]) continue;
            double x = dmin(dmax(I2[i] * gx, 0.0), tx), y = dmin(dmax((est[i] - jb->est_lo) * gy, 0.0), ty);
            size_t cell = (size_t)y * s->nx + (size_t)x;
            s->grid[cell]++;
            if (s->grid_hl && ((wk->mask[i] >> hl) & 1)) s->grid_hl[cell]++;
        }
    }
}

/* Emit the rows of the block buffers through the callback. */
static mp_status emit_rows(worker *wk, size_t n)
{
    const job *jb = wk->jb;
    if (!jb->o.row_fn) return MP_OK;
    size_t i0 = 0;
    while (i0 < n && wk->mask[i0] == 0) i0++; /* the empty subset is not a row */
    if (i0 >= n) return MP_OK;
    mp_gosh_rows r = {n - i0, wk->mask + i0, wk->est + i0, wk->Q + i0, wk->I2 + i0,
                      wk->H2 + i0, wk->tau2 + i0, wk->ok + i0};
    return jb->o.row_fn(jb->o.row_ctx, &r);
}

static void progress(worker *wk, uint64_t add)
{
    job *jb = wk->jb;
    uint64_t d = atomic_fetch_add(&jb->done, add) + add;
    if (jb->o.progress_fn) {
        pthread_mutex_lock(&jb->prog_mu);
        jb->o.progress_fn(jb->o.progress_ctx, d, jb->part_total);
        pthread_mutex_unlock(&jb->prog_mu);
    }
}

static int push(double **a, size_t *n, size_t *m, double x)
{
    if (*n == *m) {
        size_t nm = *m ? 2 * *m : 1024;
        double *b = nm < SIZE_MAX / sizeof *b ? realloc(*a, nm * sizeof *b) : NULL;
        if (!b) return -1;
        *a = b;
        *m = nm;
    }
    (*a)[(*n)++] = x;
    return 0;
}

/* Pass 2 of exact_quantiles: keep the values that fall in the target bins. */
static mp_status collect_targets(worker *wk, size_t n)
{
    job *jb = wk->jb;
    bin_rows(n, wk->est, wk->I2, jb->est_lo, jb->est_scale, (double)wk->part.bins, wk->be, wk->bi);
    for (size_t i = 0; i < n; i++) {
        if (!wk->ok[i]) continue;
        if (jb->tgt_e[wk->be[i]] && push(&wk->ce, &wk->nce, &wk->mce, wk->est[i]) != 0)
            return MP_FAIL(MP_ENOMEM);
        if (jb->tgt_i[wk->bi[i]] && push(&wk->ci, &wk->nci, &wk->mci, wk->I2[i]) != 0)
            return MP_FAIL(MP_ENOMEM);
    }
    return MP_OK;
}

/* One exhaustive chunk: high patterns [h0, h1). */
static mp_status run_chunk_exhaustive(worker *wk, uint64_t ci)
{
    job *jb = wk->jb;
    const size_t L = jb->L, nlow = jb->nlow, k = jb->k;
    const uint64_t nhigh = (uint64_t)1 << (k - L);
    uint64_t h0 = ci * jb->chunk_blocks, h1 = h0 + jb->chunk_blocks;
    if (h1 > nhigh) h1 = nhigh;
    chunk_sums *cs = &jb->cs;
    double *ew = cs->ew + ci * k, *eo = cs->eo + ci * k, *iw = cs->iw + ci * k, *io = cs->io + ci * k;
    uint64_t *nw = cs->nw + ci * k, *no = cs->no + ci * k;
    for (size_t l = 0; l < nlow; l++) { wk->Be[l] = wk->Bi[l] = 0; wk->Bn[l] = 0; }
    for (uint64_t h = h0; h < h1; h++) {
        if (atomic_load_explicit(&jb->stop, memory_order_relaxed)) return MP_OK;
        block_rows(wk, h);
        if (jb->pass2) {
            mp_status cs2 = collect_targets(wk, nlow);
            if (cs2 != MP_OK) return cs2;
            continue;
        }
        double te = 0, ti = 0;
        uint64_t tn = 0;
        for (size_t l = 0; l < nlow; l++) {
            double e = wk->ok[l] ? wk->est[l] : 0.0, q = wk->ok[l] ? wk->I2[l] : 0.0;
            wk->Be[l] += e;
            wk->Bi[l] += q;
            wk->Bn[l] += wk->ok[l];
            te += e;
            ti += q;
            tn += wk->ok[l];
        }
        for (size_t j = L; j < k; j++) {
            if ((h >> (j - L)) & 1) { ew[j] += te; iw[j] += ti; nw[j] += tn; }
            else { eo[j] += te; io[j] += ti; no[j] += tn; }
        }
        mp_status st = emit_rows(wk, nlow);
        if (st != MP_OK) return st;
        /* the exhaustive slot of subset m is m - 1; the block starts at m = h << L */
        accumulate_common(wk, nlow, (int64_t)(h << L) - 1);
    }
    for (size_t j = 0; j < L; j++)
        for (size_t l = 0; l < nlow; l++) {
            if ((l >> j) & 1) { ew[j] += wk->Be[l]; iw[j] += wk->Bi[l]; nw[j] += wk->Bn[l]; }
            else { eo[j] += wk->Be[l]; io[j] += wk->Bi[l]; no[j] += wk->Bn[l]; }
        }
    progress(wk, ((h1 - h0) << L) - (h0 == 0));
    return MP_OK;
}

/* One chunk of random subsets: serials [ci * RAND_CHUNK, ...). */
static mp_status run_chunk_random(worker *wk, uint64_t ci)
{
    job *jb = wk->jb;
    const size_t k = jb->k, nb = jb->nlow;
    uint64_t s0 = ci * RAND_CHUNK, s1 = s0 + RAND_CHUNK;
    if (s1 > jb->total) s1 = jb->total;
    gsl_rng_set(wk->rng, (unsigned long)(splitmix64((uint64_t)jb->o.seed ^ splitmix64(ci)) & 0xffffffffu));
    const uint64_t full = k >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << k) - 1);
    chunk_sums *cs = &jb->cs;
    double *ew = cs->ew + ci * k, *eo = cs->eo + ci * k, *iw = cs->iw + ci * k, *io = cs->io + ci * k;
    uint64_t *nw = cs->nw + ci * k, *no = cs->no + ci * k;
    for (uint64_t s = s0; s < s1; s += nb) {
        if (atomic_load_explicit(&jb->stop, memory_order_relaxed)) return MP_OK;
        size_t n = (size_t)((s1 - s < nb) ? s1 - s : nb);
        for (size_t i = 0; i < n; i++) {
            uint64_t m;
            do { /* uniform over the non-empty subsets (metafor: size ~ Bin(k, 1/2), then a
                    uniform subset of that size: the same distribution) */
                m = (uint64_t)gsl_rng_get(wk->rng) & 0xffffffffu;
                if (k > 32) m |= ((uint64_t)gsl_rng_get(wk->rng) & 0xffffffffu) << 32;
                m &= full;
            } while (m == 0);
            wk->mask[i] = m;
            if (jb->o.method == MP_METHOD_REML)
                wk->ok[i] = (unsigned char)pool_row(wk, m, &wk->est[i], &wk->Q[i], &wk->I2[i],
                                                    &wk->H2[i], &wk->tau2[i]);
            else {
                direct_row(jb, m, &wk->est[i], &wk->Q[i], &wk->I2[i], &wk->H2[i], &wk->tau2[i]);
                wk->ok[i] = 1;
            }
            if (!wk->ok[i] || jb->pass2) continue;
            for (size_t j = 0; j < k; j++) {
                if ((m >> j) & 1) { ew[j] += wk->est[i]; iw[j] += wk->I2[i]; nw[j]++; }
                else { eo[j] += wk->est[i]; io[j] += wk->I2[i]; no[j]++; }
            }
        }
        if (jb->pass2) {
            mp_status cs2 = collect_targets(wk, n);
            if (cs2 != MP_OK) return cs2;
            continue;
        }
        wk->nbad = 0;
        for (size_t i = 0; i < n; i++) wk->nbad += !wk->ok[i];
        mp_status st = emit_rows(wk, n);
        if (st != MP_OK) return st;
        accumulate_common(wk, n, (int64_t)s);
    }
    progress(wk, s1 - s0);
    return MP_OK;
}

static void *worker_main(void *arg)
{
    worker *wk = arg;
    job *jb = wk->jb;
    for (;;) {
        if (atomic_load(&jb->stop)) break;
        uint64_t ci = jb->c0 + atomic_fetch_add(&jb->next, 1);
        if (ci >= jb->c1) break;
        mp_status st = jb->exhaustive ? run_chunk_exhaustive(wk, ci) : run_chunk_random(wk, ci);
        if (st != MP_OK) {
            wk->st = st;
            atomic_store(&jb->stop, 1);
            break;
        }
    }
    return NULL;
}

static void worker_free(worker *wk)
{
    mp_gosh_summary_free(&wk->part);
    free(wk->est);
    free(wk->Q);
    free(wk->I2);
    free(wk->H2);
    free(wk->tau2);
    free(wk->a1);
    free(wk->ay);
    free(wk->mask);
    free(wk->ok);
    free(wk->Be);
    free(wk->Bi);
    free(wk->Bn);
    free(wk->ybuf);
    free(wk->vbuf);
    free(wk->be);
    free(wk->bi);
    free(wk->ce);
    free(wk->ci);
    free(wk->he);
    free(wk->hi);
    mp_pool_workspace_free(wk->pw);
    if (wk->rng) gsl_rng_free(wk->rng);
}

static mp_status worker_init(worker *wk, job *jb, const mp_gosh_summary *shape)
{
    memset(wk, 0, sizeof *wk);
    wk->jb = jb;
    size_t n = jb->nlow, k = jb->k;
    mp_gosh_summary sh = *shape;
    sh.exact = shape->exact;
    mp_status st = mp_gosh_summary_init_like(&wk->part, &sh);
    if (st != MP_OK) return st;
    wk->est = zalloc(n, sizeof(double));
    wk->Q = zalloc(n, sizeof(double));
    wk->I2 = zalloc(n, sizeof(double));
    wk->H2 = zalloc(n, sizeof(double));
    wk->tau2 = zalloc(n, sizeof(double));
    wk->a1 = zalloc(n, sizeof(double));
    wk->ay = zalloc(n, sizeof(double));
    wk->mask = zalloc(n, sizeof(uint64_t));
    wk->ok = zalloc(n, 1);
    wk->Be = zalloc(n, sizeof(double));
    wk->Bi = zalloc(n, sizeof(double));
    wk->Bn = zalloc(n, sizeof(uint64_t));
    wk->ybuf = zalloc(k, sizeof(double));
    wk->vbuf = zalloc(k, sizeof(double));
    wk->be = zalloc(n, sizeof(uint32_t));
    wk->bi = zalloc(n, sizeof(uint32_t));
    wk->he = zalloc(shape->bins, sizeof(uint32_t));
    wk->hi = zalloc(shape->bins + 1, sizeof(uint32_t));
    if (!wk->be || !wk->bi || !wk->he || !wk->hi) return MP_FAIL(MP_ENOMEM);
    wk->pw = mp_pool_workspace_alloc(k);
    wk->rng = gsl_rng_alloc(gsl_rng_mt19937);
    if (!wk->est || !wk->Q || !wk->I2 || !wk->H2 || !wk->tau2 || !wk->a1 || !wk->ay ||
        !wk->mask || !wk->ok || !wk->Be || !wk->Bi || !wk->Bn || !wk->ybuf || !wk->vbuf ||
        !wk->pw || !wk->rng)
        return MP_FAIL(MP_ENOMEM);
    return MP_OK;
}

static void job_free(job *jb)
{
    free(jb->yc);
    free(jb->w);
    free(jb->wy);
    free(jb->wyy);
    free(jb->w2);
    free(jb->T1);
    free(jb->Ty);
    free(jb->Tyy);
    free(jb->T2);
    free(jb->Tk);
    free(jb->cs.ew);
    free(jb->cs.eo);
    free(jb->cs.iw);
    free(jb->cs.io);
    free(jb->cs.nw);
    free(jb->cs.no);
}

/* Per-study terms, the centre and the low tables. */
static mp_status job_prepare(job *jb)
{
    size_t k = jb->k;
    jb->yc = zalloc(k, sizeof(double));
    jb->w = zalloc(k, sizeof(double));
    jb->wy = zalloc(k, sizeof(double));
    jb->wyy = zalloc(k, sizeof(double));
    jb->w2 = zalloc(k, sizeof(double));
    if (!jb->yc || !jb->w || !jb->wy || !jb->wyy || !jb->w2) return MP_FAIL(MP_ENOMEM);
    double sw = 0, swy = 0;
    for (size_t i = 0; i < k; i++) {
        jb->w[i] = 1.0 / jb->v[i];
        sw += jb->w[i];
        swy += jb->w[i] * jb->y[i];
    }
    jb->c = swy / sw;
    for (size_t i = 0; i < k; i++) {
        jb->yc[i] = jb->y[i] - jb->c;
        jb->wy[i] = jb->w[i] * jb->yc[i];
        jb->wyy[i] = jb->wy[i] * jb->yc[i];
        jb->w2[i] = jb->w[i] * jb->w[i];
    }
    size_t nl = jb->nlow;
    jb->T1 = zalloc(nl, sizeof(double));
    jb->Ty = zalloc(nl, sizeof(double));
    jb->Tyy = zalloc(nl, sizeof(double));
    jb->T2 = zalloc(nl, sizeof(double));
    jb->Tk = zalloc(nl, 1);
    if (!jb->T1 || !jb->Ty || !jb->Tyy || !jb->T2 || !jb->Tk) return MP_FAIL(MP_ENOMEM);
    if (jb->exhaustive)
        for (size_t l = 0; l < nl; l++) { /* each entry summed directly, in index order */
            double a = 0, b = 0, c2 = 0, d = 0;
            unsigned char n = 0;
            for (size_t j = 0; j < jb->L; j++)
                if ((l >> j) & 1) { a += jb->w[j]; b += jb->wy[j]; c2 += jb->wyy[j]; d += jb->w2[j]; n++; }
            jb->T1[l] = a;
            jb->Ty[l] = b;
            jb->Tyy[l] = c2;
            jb->T2[l] = d;
            jb->Tk[l] = n;
        }
    size_t ck = mp_mul_size((size_t)jb->nchunks, k);
    if (!ck) return MP_FAIL(MP_ENOMEM);
    jb->cs.ew = zalloc(ck, sizeof(double));
    jb->cs.eo = zalloc(ck, sizeof(double));
    jb->cs.iw = zalloc(ck, sizeof(double));
    jb->cs.io = zalloc(ck, sizeof(double));
    jb->cs.nw = zalloc(ck, sizeof(uint64_t));
    jb->cs.no = zalloc(ck, sizeof(uint64_t));
    if (!jb->cs.ew || !jb->cs.eo || !jb->cs.iw || !jb->cs.io || !jb->cs.nw || !jb->cs.no)
        return MP_FAIL(MP_ENOMEM);
    return MP_OK;
}

/* exact_quantiles: rank r (0-based) of the values in a histogram: its bin
 * (or -1 when r falls on the exact zeros of I^2) and its rank inside it. */
static long rank_bin(const uint64_t *h, size_t bins, uint64_t zero, uint64_t r, uint64_t *within)
{
    if (r < zero) return -1;
    r -= zero;
    uint64_t cum = 0;
    for (size_t b = 0; b < bins; b++) {
        if (r < cum + h[b]) { *within = r - cum; return (long)b; }
        cum += h[b];
    }
    *within = 0;
    return (long)bins - 1;
}

/* The value of rank `within` among the collected values x[0..n) whose bin
 * (recomputed with the same arithmetic as the runs) is b. */
static double value_in_bin(const job *jb, const double *x, size_t n, int is_i2, long b,
                           uint64_t within, double *tmp, uint32_t *be, uint32_t *bi)
{
    size_t m = 0;
    for (size_t i0 = 0; i0 < n; i0 += 1024) {
        size_t nn = n - i0 < 1024 ? n - i0 : 1024;
        bin_rows(nn, x + i0, x + i0, jb->est_lo, jb->est_scale, (double)jb->o.hist_bins, be, bi);
        for (size_t i = 0; i < nn; i++)
            if ((long)(is_i2 ? bi[i] : be[i]) == b) tmp[m++] = x[i0 + i];
    }
    if (within >= m) return NAN; /* cannot happen: the counts came from the same bins */
    select_rank(tmp, m, (size_t)within);
    return tmp[within];
}

/* Pass 2 of exact_quantiles: run again collecting only the values in the
 * bins that hold the order statistics of the type-7 quantiles, then select
 * them exactly.  q[0..3) estimate, q[3..6) I^2 at .05, .5, .95. */
static mp_status second_pass(job *jb, worker *wks, size_t nth, const mp_gosh_summary *S, double *q)
{
    const double ps[3] = {0.05, 0.5, 0.95};
    size_t bins = S->bins;
    jb->tgt_e = calloc(bins + 1, 1);
    jb->tgt_i = calloc(bins + 1, 1);
    if (!jb->tgt_e || !jb->tgt_i) return MP_FAIL(MP_ENOMEM);
    long tb[2][3][2];
    uint64_t tw[2][3][2];
    double tg[3];
    for (int st = 0; st < 2; st++)
        for (int i = 0; i < 3; i++) {
            double h = (double)(S->n - 1) * ps[i];
            uint64_t j = (uint64_t)floor(h);
            tg[i] = h - (double)j;
            for (int a = 0; a < 2; a++) {
                uint64_t r = j + (uint64_t)a;
                if (r >= S->n) r = S->n - 1;
                tb[st][i][a] = rank_bin(st ? S->i2_hist : S->est_hist, bins, st ? S->i2_zero : 0,
                                        r, &tw[st][i][a]);
                if (tb[st][i][a] >= 0) (st ? jb->tgt_i : jb->tgt_e)[tb[st][i][a]] = 1;
            }
        }
    jb->pass2 = 1;
    atomic_store(&jb->next, 0);
    atomic_store(&jb->done, 0);
    atomic_store(&jb->stop, 0);
    for (size_t t = 1; t < nth; t++)
        wks[t].started = pthread_create(&wks[t].tid, NULL, worker_main, &wks[t]) == 0;
    worker_main(&wks[0]);
    mp_status st = MP_OK;
    for (size_t t = 1; t < nth; t++)
        if (wks[t].started) pthread_join(wks[t].tid, NULL);
    for (size_t t = 0; t < nth; t++)
        if (wks[t].st != MP_OK && st == MP_OK) st = wks[t].st;
    if (st != MP_OK) return st;
    size_t ne = 0, ni = 0;
    for (size_t t = 0; t < nth; t++) { ne += wks[t].nce; ni += wks[t].nci; }
    double *E = malloc((ne ? ne : 1) * sizeof *E), *I = malloc((ni ? ni : 1) * sizeof *I);
    double *tmp = malloc(((ne > ni ? ne : ni) + 1) * sizeof *tmp);
    uint32_t *be = malloc(1024 * sizeof *be), *bi = malloc(1024 * sizeof *bi);
    if (!E || !I || !tmp || !be || !bi) st = MP_FAIL(MP_ENOMEM);
    if (st == MP_OK) {
        size_t pe = 0, pi = 0;
        for (size_t t = 0; t < nth; t++) {
            if (wks[t].nce) memcpy(E + pe, wks[t].ce, wks[t].nce * sizeof *E);
            if (wks[t].nci) memcpy(I + pi, wks[t].ci, wks[t].nci * sizeof *I);
            pe += wks[t].nce;
            pi += wks[t].nci;
        }
        for (int sx = 0; sx < 2; sx++)
            for (int i = 0; i < 3; i++) {
                double val[2];
                for (int a = 0; a < 2; a++) {
                    long b = tb[sx][i][a];
                    if (b < 0) val[a] = 0.0; /* among the exact zeros of I^2 */
                    else val[a] = value_in_bin(jb, sx ? I : E, sx ? ni : ne, sx, b, tw[sx][i][a],
                                               tmp, be, bi);
                }
                q[sx * 3 + i] = tg[i] == 0 ? val[0] : val[0] + tg[i] * (val[1] - val[0]);
            }
    }
    free(E);
    free(I);
    free(tmp);
    free(be);
    free(bi);
    return st;
}

mp_status mp_gosh_run(const double *y, const double *v, size_t k, const mp_gosh_opts *o,
                      mp_gosh_result *res)
{
    if (!res) return MP_FAIL(MP_EINVAL);
    memset(res, 0, sizeof *res);
    mp_gosh_opts def;
    if (!o) { mp_gosh_opts_init(&def); o = &def; }
    if (!y || !v) return MP_FAIL(MP_EINVAL);
    if (o->method != MP_METHOD_FE && o->method != MP_METHOD_DL && o->method != MP_METHOD_REML)
        return MP_FAIL(MP_EINVAL);
    if (!(o->epsrel > 0 && o->epsrel < 1) || o->maxiter == 0 || o->hist_bins < 2 ||
        o->hist_bins > ((size_t)1 << 28) || (o->highlight != (size_t)-1 && o->highlight >= k) ||
        (o->grid_nx > 0) != (o->grid_ny > 0) || o->grid_nx > 100000 || o->grid_ny > 100000 ||
        o->parts == 0 || o->part >= o->parts || (o->exact_quantiles && o->parts > 1))
        return MP_FAIL(MP_EINVAL);
    if (k < 2) return MP_FAIL(MP_ETOOFEW);
    if (k > MP_GOSH_KMAX) return MP_FAIL(MP_EDOM);
    double ymin = INFINITY, ymax = -INFINITY;
    for (size_t i = 0; i < k; i++) {
        if (!(fabs(y[i]) <= MP_POOL_YMAX) || !(v[i] >= MP_POOL_VMIN) || !(v[i] <= MP_POOL_VMAX))
            return MP_FAIL(MP_EDOM);
        ymin = fmin(ymin, y[i]);
        ymax = fmax(ymax, y[i]);
    }
    const uint64_t all = k >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << k) - 1);
    int exhaustive = o->subsets == 0 || o->subsets >= all; /* metafor: N >= 2^k - 1 is exhaustive */
    if (exhaustive && k > MP_GOSH_KMAX_ALL) return MP_FAIL(MP_EDOM);

    job jb;
    memset(&jb, 0, sizeof jb);
    jb.y = y;
    jb.v = v;
    jb.k = k;
    jb.o = *o;
    jb.exhaustive = exhaustive;
    jb.L = exhaustive ? (k < LOWMAX ? k : LOWMAX) : LOWMAX;
    jb.nlow = (size_t)1 << jb.L;
    if (exhaustive) {
        jb.total = all;
        uint64_t nhigh = (uint64_t)1 << (k - jb.L);
        jb.chunk_blocks = nhigh > MAX_CHUNKS ? nhigh / MAX_CHUNKS : 1;
        jb.nchunks = (nhigh + jb.chunk_blocks - 1) / jb.chunk_blocks;
    } else {
        jb.total = o->subsets;
        jb.nchunks = (o->subsets + RAND_CHUNK - 1) / RAND_CHUNK;
    }
    /* the estimate's range: widened a little so rounding stays inside, and
     * never empty */
    double span = ymax - ymin;
    if (!(span > 0)) span = fmax(fabs(ymax), 1.0);
    jb.est_lo = ymin - 1e-9 * span;
    jb.est_hi = ymax + 1e-9 * span;

    mp_gosh_summary shape;
    memset(&shape, 0, sizeof shape);
    shape.k = k;
    shape.exact = jb.total <= o->exact_max;
    shape.bins = o->hist_bins;
    shape.est_lo = jb.est_lo;
    shape.est_hi = jb.est_hi;
    shape.nx = o->grid_nx;
    shape.ny = o->grid_ny;
    shape.highlight = o->highlight;
    jb.est_scale = (double)shape.bins / (jb.est_hi - jb.est_lo);

    /* this part's share of the chunks (the whole run for parts = 1) */
    jb.c0 = jb.nchunks * (uint64_t)o->part / (uint64_t)o->parts;
    jb.c1 = jb.nchunks * ((uint64_t)o->part + 1) / (uint64_t)o->parts;
    if (exhaustive) {
        uint64_t nhigh = (uint64_t)1 << (k - jb.L), b0 = jb.c0 * jb.chunk_blocks,
                 b1 = jb.c1 * jb.chunk_blocks;
        if (b1 > nhigh) b1 = nhigh;
        if (b0 > b1) b0 = b1;
        jb.part_total = ((b1 - b0) << jb.L) - (b0 == 0 && b1 > 0);
    } else {
        uint64_t s0 = jb.c0 * RAND_CHUNK, s1 = jb.c1 * RAND_CHUNK;
        if (s1 > jb.total) s1 = jb.total;
        jb.part_total = s1 > s0 ? s1 - s0 : 0;
    }
    size_t nth = o->threads;
    if (nth == 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        nth = c > 0 ? (size_t)c : 1;
    }
    if (o->row_fn) nth = 1; /* rows in subset order */
    if (nth > jb.c1 - jb.c0) nth = (size_t)(jb.c1 - jb.c0);
    if (nth > 256) nth = 256;
    if (nth == 0) nth = 1;

    mp_status st = MP_OK;
    worker *wks = calloc(nth, sizeof *wks);
    if (!wks) return MP_FAIL(MP_ENOMEM);
    pthread_mutex_init(&jb.prog_mu, NULL);
    atomic_init(&jb.next, 0);
    atomic_init(&jb.done, 0);
    atomic_init(&jb.stop, 0);
    st = job_prepare(&jb);
    res->sum.k = k;
    if (st == MP_OK) {
        /* the merged summary; in exact mode it owns one slot per subset */
        mp_gosh_summary *S = &res->sum;
        *S = shape;
        S->mvals = shape.exact ? jb.total : 0;
        summary_reset_scalars(S);
        st = summary_alloc(S);
        if (st == MP_OK && shape.exact) {
            S->nvals = jb.total;
            if (o->parts > 1) /* slots of other parts: empty (NaN is dropped when summarising) */
                for (uint64_t i = 0; i < jb.total; i++) S->est_vals[i] = S->i2_vals[i] = NAN;
            jb.vals_e = S->est_vals;
            jb.vals_i = S->i2_vals;
        }
    }
    if (st == MP_OK) {
        mp_gosh_summary wshape = shape;
        wshape.exact = shape.exact; /* workers keep no values themselves */
        for (size_t t = 0; t < nth && st == MP_OK; t++) st = worker_init(&wks[t], &jb, &wshape);
    }
    if (st == MP_OK) {
        for (size_t t = 1; t < nth; t++)
            wks[t].started = pthread_create(&wks[t].tid, NULL, worker_main, &wks[t]) == 0;
        worker_main(&wks[0]); /* the calling thread works too */
        for (size_t t = 1; t < nth; t++)
            if (wks[t].started) pthread_join(wks[t].tid, NULL);
        /* a thread that could not start leaves its chunks to the others:
         * the claim counter hands every chunk out exactly once */
        for (size_t t = 0; t < nth; t++)
            if (wks[t].st != MP_OK && st == MP_OK) st = wks[t].st;
    }
    if (st == MP_OK) {
        mp_gosh_summary *S = &res->sum;
        for (size_t t = 0; t < nth && st == MP_OK; t++) {
            /* merge everything but the kept values (they were written in place) */
            hist_flush(&wks[t]);
            mp_gosh_summary *p = &wks[t].part;
            p->nvals = 0;
            st = mp_gosh_summary_merge(S, p);
        }
        /* per-study sums in chunk order */
        for (uint64_t c = 0; c < jb.nchunks && st == MP_OK; c++)
            for (size_t j = 0; j < k; j++) {
                size_t i = (size_t)c * k + j;
                S->est_with[j] += jb.cs.ew[i];
                S->est_without[j] += jb.cs.eo[i];
                S->i2_with[j] += jb.cs.iw[i];
                S->i2_without[j] += jb.cs.io[i];
                S->n_with[j] += jb.cs.nw[i];
                S->n_without[j] += jb.cs.no[i];
            }
        if (st == MP_OK && o->parts > 1) { /* this part's chunk sums, for merging */
            res->chunk0 = jb.c0;
            res->nchunk = jb.c1 - jb.c0;
            res->chunk_sums = malloc((size_t)(res->nchunk ? res->nchunk : 1) * k * 4 * sizeof(double));
            if (!res->chunk_sums) st = MP_FAIL(MP_ENOMEM);
            for (uint64_t c = jb.c0; c < jb.c1 && st == MP_OK; c++)
                for (size_t j = 0; j < k; j++) {
                    size_t i = (size_t)c * k + j;
                    double *x = res->chunk_sums + ((size_t)(c - jb.c0) * k + j) * 4;
                    x[0] = jb.cs.ew[i];
                    x[1] = jb.cs.eo[i];
                    x[2] = jb.cs.iw[i];
                    x[3] = jb.cs.io[i];
                }
        }
    }
    double q2[6];
    int exact2 = 0;
    if (st == MP_OK && o->exact_quantiles && !shape.exact && res->sum.n > 0) {
        st = second_pass(&jb, wks, nth, &res->sum, q2);
        exact2 = st == MP_OK;
    }
    for (size_t t = 0; t < nth; t++) worker_free(&wks[t]);
    free(wks);
    pthread_mutex_destroy(&jb.prog_mu);
    free(jb.tgt_e);
    free(jb.tgt_i);
    job_free(&jb);
    res->k = k;
    res->method = o->method;
    res->subsets = jb.part_total;
    res->exhaustive = exhaustive;
    res->failed = res->sum.failed;
    /* a part without any fitted subset still returns its (empty) summary */
    if (st == MP_OK && (o->parts == 1 || res->sum.n > 0)) st = mp_gosh_summarise(&res->sum, res);
    if (st == MP_OK && exact2) {
        res->estimate.q05 = q2[0];
        res->estimate.median = q2[1];
        res->estimate.q95 = q2[2];
        res->I2.q05 = q2[3];
        res->I2.median = q2[4];
        res->I2.q95 = q2[5];
        res->quantiles_exact = 1;
        res->est_qerr = res->i2_qerr = 0;
    }
    return st;
}

mp_status mp_gosh_block_(const double *y, const double *v, size_t k, mp_method method,
                         uint64_t h, size_t *L_out, uint64_t *mask, double *est, double *Q,
                         double *I2, double *H2, double *tau2, unsigned char *ok)
{
    if (!y || !v || !L_out || !mask || !est || !Q || !I2 || !H2 || !tau2 || !ok || k < 2 ||
        k > MP_GOSH_KMAX_ALL ||
        (method != MP_METHOD_FE && method != MP_METHOD_DL && method != MP_METHOD_REML))
        return MP_FAIL(MP_EINVAL);
    job jb;
    memset(&jb, 0, sizeof jb);
    jb.y = y;
    jb.v = v;
    jb.k = k;
    mp_gosh_opts_init(&jb.o);
    jb.o.method = method;
    jb.exhaustive = 1;
    jb.L = k < LOWMAX ? k : LOWMAX;
    jb.nlow = (size_t)1 << jb.L;
    jb.nchunks = 1;
    if (h >= ((uint64_t)1 << (k - jb.L))) return MP_FAIL(MP_EDOM);
    mp_gosh_summary shape;
    memset(&shape, 0, sizeof shape);
    shape.k = k;
    shape.exact = 1;
    shape.bins = 2;
    shape.est_lo = 0;
    shape.est_hi = 1;
    shape.highlight = (size_t)-1;
    worker wk;
    mp_status st = job_prepare(&jb);
    if (st == MP_OK) st = worker_init(&wk, &jb, &shape);
    else memset(&wk, 0, sizeof wk);
    if (st == MP_OK) {
        block_rows(&wk, h);
        size_t n = jb.nlow;
        memcpy(mask, wk.mask, n * sizeof *mask);
        memcpy(est, wk.est, n * sizeof *est);
        memcpy(Q, wk.Q, n * sizeof *Q);
        memcpy(I2, wk.I2, n * sizeof *I2);
        memcpy(H2, wk.H2, n * sizeof *H2);
        memcpy(tau2, wk.tau2, n * sizeof *tau2);
        memcpy(ok, wk.ok, n);
        *L_out = jb.L;
    }
    worker_free(&wk);
    job_free(&jb);
    return st;
}
