/* src/diagnostics/permute.c - permutation tests (metafor's permutest()), threaded and repeatable.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Definitions in include/metapool/permute.h.  Each permutation is a full
 * refit by mp_pool() (sign flips) or mp_reg_fit() (row orderings) with the
 * observed fit's options, so the permuted statistics are exactly those the
 * `pool` and `reg` commands would print for the permuted data.
 *
 * Work is handed out in chunks of CHUNK permutations.  Random chunks draw
 * from their own MT19937 stream seeded from (seed, chunk index); exact
 * sign flips are the masks of the chunk's index range; exact row orderings
 * come from one generator (next permutation of the multiset of distinct
 * rows, Knuth TAOCP 7.2.1.2 Algorithm L) that a worker advances under a
 * lock to fill its chunk.  The counts are integers, so neither the thread
 * count nor the order in which chunks finish changes the answer. */
#include "metapool/permute.h"
#include "internal.h"

#include <float.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK ((uint64_t)1024)
#define MAX_REDRAW 1000 /* a random permutation whose refit fails is drawn again, up to this */

void mp_perm_opts_init(mp_perm_opts *o)
{
    o->exact = 0;
    o->iter = 1000;
    o->seed = 1;
    o->threads = 0;
    o->comptol = sqrt(DBL_EPSILON);
}

void mp_perm_result_free(mp_perm_result *res)
{
    if (!res) return;
    free(res->pval);
    res->pval = NULL;
}

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

typedef struct pjob pjob;

typedef struct {
    pjob *jb;
    double *ybuf, *Xbuf;      /* the permuted data */
    size_t *idx;              /* a random ordering of the rows */
    unsigned char *labels;    /* exact orderings of this chunk: CHUNK * k labels */
    mp_pool_workspace *pw;
    gsl_rng *rng;
    uint64_t *cnt;            /* p counts of |z*| >= cut */
    uint64_t cnt_qm, n, failed;
    mp_status st;
    pthread_t tid;
    int started;
} pworker;

struct pjob {
    int reg;                  /* 0: sign flips of pool; 1: row orderings of reg */
    const double *y, *v, *X;
    size_t k, p;
    mp_pool_opts po;
    mp_reg_opts ro;
    int exact;
    uint64_t total, nchunks;
    double *cut;              /* p cut-offs |z_j| - comptol */
    uint64_t seed_mix;        /* the seed, as the chunk streams' base */
    double qm_cut;            /* QM - comptol */
    double *zobs;             /* p observed |z| */
    double qm_obs;
    /* exact orderings: distinct rows and the multiset generator */
    double *rows;             /* ngroups x p, row-major: the distinct rows */
    unsigned char *cur;       /* current arrangement of group labels */
    int gen_done;
    pthread_mutex_t mu;
    _Atomic uint64_t next;
    _Atomic int stop;
};

/* Algorithm L: the next arrangement of a[0..n) in lexicographic order;
 * 0 when a was the last one. */
static int next_perm(unsigned char *a, size_t n)
{
    if (n < 2) return 0;
    size_t j = n - 2;
    while (a[j] >= a[j + 1]) {
        if (j == 0) return 0;
        j--;
    }
    size_t l = n - 1;
    while (a[j] >= a[l]) l--;
    unsigned char t = a[j];
    a[j] = a[l];
    a[l] = t;
    for (size_t i = j + 1, r = n - 1; i < r; i++, r--) {
        t = a[i];
        a[i] = a[r];
        a[r] = t;
    }
    return 1;
}

/* Refit with the worker's buffers; the p statistics into z, QM into *qm.
 * Returns 1 on success. */
static int refit(pworker *wk, double *z, double *qm)
{
    pjob *jb = wk->jb;
    if (!jb->reg) {
        mp_pool_result r;
        if (mp_pool(wk->ybuf, jb->v, jb->k, &jb->po, wk->pw, &r) != MP_OK) return 0;
        z[0] = r.stat;
        *qm = r.stat * r.stat;
        return isfinite(r.stat);
    }
    mp_reg_result r;
    mp_status s = mp_reg_fit(jb->y, jb->v, wk->Xbuf, jb->k, jb->p, &jb->ro, &r);
    int ok = s == MP_OK;
    if (ok) {
        for (size_t j = 0; j < jb->p; j++) { z[j] = r.stat[j]; ok &= isfinite(z[j]) != 0; }
        *qm = r.QM;
    }
    mp_reg_result_free(&r);
    return ok;
}

static void count(pworker *wk, const double *z, double qm)
{
    pjob *jb = wk->jb;
    for (size_t j = 0; j < jb->p; j++) {
        double a = fabs(z[j]);
        wk->cnt[j] += a >= jb->cut[j];
    }
    if (jb->reg && jb->p > 1) wk->cnt_qm += qm >= jb->qm_cut;
    wk->n++;
}

/* Pool data with signs from mask bits (bit i set: study i flipped). */
static void sign_flip(pworker *wk, uint64_t mask)
{
    const pjob *jb = wk->jb;
    for (size_t i = 0; i < jb->k; i++) wk->ybuf[i] = ((mask >> i) & 1) ? -jb->y[i] : jb->y[i];
}

/* The design with row i taken from original row idx[i]. */
static void reorder_rows(pworker *wk, const size_t *idx)
{
    const pjob *jb = wk->jb;
    size_t k = jb->k;
    for (size_t j = 0; j < jb->p; j++)
        for (size_t i = 0; i < k; i++) wk->Xbuf[i + j * k] = jb->X[idx[i] + j * k];
}

/* The design with row i the distinct row of group lab[i]. */
static void rows_from_labels(pworker *wk, const unsigned char *lab)
{
    const pjob *jb = wk->jb;
    size_t k = jb->k, p = jb->p;
    for (size_t i = 0; i < k; i++)
        for (size_t j = 0; j < p; j++) wk->Xbuf[i + j * k] = jb->rows[(size_t)lab[i] * p + j];
}

static mp_status run_chunk(pworker *wk, uint64_t ci)
{
    pjob *jb = wk->jb;
    size_t k = jb->k;
    double z[64], qm = 0;
    double *zz = jb->p <= 64 ? z : NULL;
    if (!zz) return MP_FAIL(MP_EINVAL);
    uint64_t i0 = ci * CHUNK, i1 = i0 + CHUNK;
    if (i1 > jb->total) i1 = jb->total;
    if (jb->exact && !jb->reg) {
        for (uint64_t m = i0; m < i1; m++) {
            sign_flip(wk, m);
            if (refit(wk, zz, &qm)) count(wk, zz, qm);
            else wk->failed++;
        }
        return MP_OK;
    }
    if (jb->exact) {
        size_t got = 0;
        pthread_mutex_lock(&jb->mu);
        while (got < CHUNK && !jb->gen_done) {
            memcpy(wk->labels + got * k, jb->cur, k);
            got++;
            if (!next_perm(jb->cur, k)) jb->gen_done = 1;
        }
        pthread_mutex_unlock(&jb->mu);
        for (size_t g = 0; g < got; g++) {
            rows_from_labels(wk, wk->labels + g * k);
            if (refit(wk, zz, &qm)) count(wk, zz, qm);
            else wk->failed++;
        }
        return MP_OK;
    }
    /* random: the chunk's own stream */
    gsl_rng_set(wk->rng, (unsigned long)(splitmix64((uint64_t)jb->seed_mix ^ splitmix64(ci)) & 0xffffffffu));
    for (uint64_t it = i0; it < i1; it++) {
        int ok = 0;
        for (int tries = 0; tries < MAX_REDRAW && !ok; tries++) {
            if (it == 0) { /* the identity: metafor's first permutation is the observed data */
                if (!jb->reg) sign_flip(wk, 0);
                else {
                    for (size_t i = 0; i < k; i++) wk->idx[i] = i;
                    reorder_rows(wk, wk->idx);
                }
            } else if (!jb->reg) {
                uint64_t m = 0;
                for (size_t b = 0; b < k; b += 32)
                    m |= ((uint64_t)gsl_rng_get(wk->rng) & 0xffffffffu) << b;
                sign_flip(wk, m);
            } else {
                for (size_t i = 0; i < k; i++) wk->idx[i] = i;
                gsl_ran_shuffle(wk->rng, wk->idx, k, sizeof(size_t));
                reorder_rows(wk, wk->idx);
            }
            ok = refit(wk, zz, &qm);
        }
        if (ok) count(wk, zz, qm);
        else wk->failed++;
    }
    return MP_OK;
}

static void *pworker_main(void *arg)
{
    pworker *wk = arg;
    pjob *jb = wk->jb;
    for (;;) {
        if (atomic_load(&jb->stop)) break;
        uint64_t ci = atomic_fetch_add(&jb->next, 1);
        if (ci >= jb->nchunks) break;
        mp_status st = run_chunk(wk, ci);
        if (st != MP_OK) { wk->st = st; atomic_store(&jb->stop, 1); break; }
    }
    return NULL;
}

static void pworker_free(pworker *wk)
{
    free(wk->ybuf);
    free(wk->Xbuf);
    free(wk->idx);
    free(wk->labels);
    free(wk->cnt);
    mp_pool_workspace_free(wk->pw);
    if (wk->rng) gsl_rng_free(wk->rng);
}

static mp_status pworker_init(pworker *wk, pjob *jb)
{
    memset(wk, 0, sizeof *wk);
    wk->jb = jb;
    size_t k = jb->k, p = jb->p;
    wk->ybuf = calloc(k, sizeof(double));
    wk->Xbuf = calloc(mp_mul_size(k, p) ? k * p : 1, sizeof(double));
    wk->idx = calloc(k, sizeof(size_t));
    wk->labels = calloc(mp_mul_size((size_t)CHUNK, k) ? (size_t)CHUNK * k : 1, 1);
    wk->cnt = calloc(p, sizeof(uint64_t));
    wk->pw = mp_pool_workspace_alloc(k);
    wk->rng = gsl_rng_alloc(gsl_rng_mt19937);
    if (!wk->ybuf || !wk->Xbuf || !wk->idx || !wk->labels || !wk->cnt || !wk->pw || !wk->rng)
        return MP_FAIL(MP_ENOMEM);
    return MP_OK;
}

/* Lexicographic order of two rows of the column-major k x p matrix. */
static const double *g_X;
static size_t g_k, g_p;
static int row_cmp(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    for (size_t c = 0; c < g_p; c++) {
        double x = g_X[i + c * g_k], y = g_X[j + c * g_k];
        if (x < y) return -1;
        if (x > y) return 1;
    }
    return i < j ? -1 : i > j;
}
static pthread_mutex_t g_sort_mu = PTHREAD_MUTEX_INITIALIZER;

/* Distinct rows of X (sorted) and the starting arrangement of their labels;
 * *count = k!/prod(ties!) in double (inf beyond range). */
static mp_status distinct_rows(pjob *jb, double *count)
{
    size_t k = jb->k, p = jb->p;
    size_t *ord = malloc(k * sizeof *ord);
    jb->rows = malloc(mp_mul_size(k, p) ? k * p * sizeof(double) : 1);
    jb->cur = malloc(k ? k : 1);
    if (!ord || !jb->rows || !jb->cur) { free(ord); return MP_FAIL(MP_ENOMEM); }
    for (size_t i = 0; i < k; i++) ord[i] = i;
    pthread_mutex_lock(&g_sort_mu); /* qsort's comparator has no context argument in C11 */
    g_X = jb->X;
    g_k = k;
    g_p = p;
    qsort(ord, k, sizeof *ord, row_cmp);
    pthread_mutex_unlock(&g_sort_mu);
    size_t g = 0, run = 0;
    double c = 1;
    for (size_t i = 0; i < k; i++) {
        int same = i > 0;
        for (size_t j = 0; same && j < p; j++)
            same = jb->X[ord[i] + j * k] == jb->X[ord[i - 1] + j * k];
        if (!same) {
            for (size_t j = 0; j < p; j++) jb->rows[g * p + j] = jb->X[ord[i] + j * k];
            g++;
            run = 0;
        }
        run++;
        c *= (double)(i + 1) / (double)run; /* k!/prod(ties!) built as a product of ratios */
        jb->cur[i] = (unsigned char)(g - 1);
    }
    free(ord);
    *count = round(c);
    return MP_OK;
}

static mp_status run_job(pjob *jb, const mp_perm_opts *o, mp_perm_result *res)
{
    size_t nth = o->threads;
    if (nth == 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        nth = c > 0 ? (size_t)c : 1;
    }
    jb->nchunks = (jb->total + CHUNK - 1) / CHUNK;
    if (nth > jb->nchunks) nth = (size_t)jb->nchunks;
    if (nth > 256) nth = 256;
    if (nth == 0) nth = 1;
    pworker *wks = calloc(nth, sizeof *wks);
    if (!wks) return MP_FAIL(MP_ENOMEM);
    mp_status st = MP_OK;
    pthread_mutex_init(&jb->mu, NULL);
    atomic_init(&jb->next, 0);
    atomic_init(&jb->stop, 0);
    for (size_t t = 0; t < nth && st == MP_OK; t++) st = pworker_init(&wks[t], jb);
    if (st == MP_OK) {
        for (size_t t = 1; t < nth; t++)
            wks[t].started = pthread_create(&wks[t].tid, NULL, pworker_main, &wks[t]) == 0;
        pworker_main(&wks[0]);
        for (size_t t = 1; t < nth; t++)
            if (wks[t].started) pthread_join(wks[t].tid, NULL);
        for (size_t t = 0; t < nth; t++)
            if (wks[t].st != MP_OK && st == MP_OK) st = wks[t].st;
    }
    if (st == MP_OK) {
        uint64_t n = 0, failed = 0, qm = 0;
        for (size_t t = 0; t < nth; t++) {
            n += wks[t].n;
            failed += wks[t].failed;
            qm += wks[t].cnt_qm;
        }
        res->permutations = n;
        res->failed = failed;
        res->exact = jb->exact;
        for (size_t j = 0; j < jb->p; j++) {
            uint64_t c = 0;
            for (size_t t = 0; t < nth; t++) c += wks[t].cnt[j];
            res->pval[j] = n ? fmin(1.0, (double)c / (double)n) : NAN;
        }
        res->QM_pval = jb->reg && jb->p > 1 && n ? fmin(1.0, (double)qm / (double)n) : NAN;
        if (n == 0) st = MP_FAIL(MP_ENOCONV);
    }
    for (size_t t = 0; t < nth; t++) pworker_free(&wks[t]);
    free(wks);
    pthread_mutex_destroy(&jb->mu);
    return st;
}

static mp_status check_opts(const mp_perm_opts *o)
{
    if (!o->exact && o->iter < 1) return MP_FAIL(MP_EINVAL);
    if (!(o->comptol >= 0) || !isfinite(o->comptol)) return MP_FAIL(MP_EINVAL);
    return MP_OK;
}

mp_status mp_permute_pool(const double *y, const double *v, size_t k, const mp_pool_opts *po,
                          const mp_perm_opts *o, mp_perm_result *res)
{
    if (!res) return MP_FAIL(MP_EINVAL);
    memset(res, 0, sizeof *res);
    res->QM_pval = NAN;
    mp_perm_opts dop;
    if (!o) { mp_perm_opts_init(&dop); o = &dop; }
    if (!y || !v || !po) return MP_FAIL(MP_EINVAL);
    mp_status st = check_opts(o);
    if (st != MP_OK) return st;
    res->p = 1;
    res->pval = malloc(sizeof(double));
    if (!res->pval) return MP_FAIL(MP_ENOMEM);
    res->pval[0] = NAN;
    if (k == 0) return MP_FAIL(MP_ETOOFEW);
    pjob jb;
    memset(&jb, 0, sizeof jb);
    jb.reg = 0;
    jb.y = y;
    jb.v = v;
    jb.k = k;
    jb.p = 1;
    jb.po = *po;
    jb.po.tau2_ci = 0;
    jb.seed_mix = (uint64_t)o->seed;
    /* metafor: exact when asked, or when 2^k <= iter */
    int exact = o->exact || (k < 64 && ((uint64_t)1 << k) <= o->iter);
    if (o->exact && k > MP_PERM_POOL_EXACT_KMAX) return MP_FAIL(MP_EDOM);
    jb.exact = exact;
    jb.total = exact ? (uint64_t)1 << k : o->iter;
    mp_pool_result r;
    st = mp_pool(y, v, k, &jb.po, NULL, &r);
    if (st != MP_OK) return st;
    double zobs = fabs(r.stat), cut = zobs - o->comptol;
    jb.zobs = &zobs;
    jb.cut = &cut;
    return run_job(&jb, o, res);
}

mp_status mp_permute_reg(const double *y, const double *v, const double *X, size_t k, size_t p,
                         const mp_reg_opts *ro, const mp_perm_opts *o, mp_perm_result *res)
{
    if (!res) return MP_FAIL(MP_EINVAL);
    memset(res, 0, sizeof *res);
    res->QM_pval = NAN;
    mp_perm_opts dop;
    if (!o) { mp_perm_opts_init(&dop); o = &dop; }
    if (!y || !v || !X || !ro || p == 0 || p > 64) return MP_FAIL(MP_EINVAL);
    mp_status st = check_opts(o);
    if (st != MP_OK) return st;
    res->p = p;
    res->pval = malloc(p * sizeof(double));
    if (!res->pval) return MP_FAIL(MP_ENOMEM);
    for (size_t j = 0; j < p; j++) res->pval[j] = NAN;
    pjob jb;
    memset(&jb, 0, sizeof jb);
    jb.reg = 1;
    jb.y = y;
    jb.v = v;
    jb.X = X;
    jb.k = k;
    jb.p = p;
    jb.ro = *ro;
    jb.ro.r2 = 0;
    jb.seed_mix = (uint64_t)o->seed;
    mp_reg_result r;
    st = mp_reg_fit(y, v, X, k, p, &jb.ro, &r);
    double *zobs = malloc(p * sizeof(double)), *cut = malloc(p * sizeof(double));
    if (st == MP_OK && (!zobs || !cut)) st = MP_FAIL(MP_ENOMEM);
    if (st == MP_OK) {
        for (size_t j = 0; j < p; j++) {
            zobs[j] = fabs(r.stat[j]);
            cut[j] = zobs[j] - o->comptol;
        }
        jb.qm_obs = r.QM;
        jb.qm_cut = r.QM - o->comptol;
        jb.zobs = zobs;
        jb.cut = cut;
    }
    mp_reg_result_free(&r);
    double count = 0;
    if (st == MP_OK && k <= 255) st = distinct_rows(&jb, &count);
    else if (st == MP_OK) count = INFINITY;
    if (st == MP_OK) {
        /* metafor: exact when asked, or when the distinct orderings <= iter */
        int exact = o->exact || count <= (double)o->iter;
        if (o->exact && k > MP_PERM_REG_EXACT_KMAX) st = MP_FAIL(MP_EDOM);
        jb.exact = exact;
        jb.total = exact ? (uint64_t)count : o->iter;
    }
    if (st == MP_OK) st = run_job(&jb, o, res);
    free(zobs);
    free(cut);
    free(jb.rows);
    free(jb.cur);
    return st;
}
