/* src/diagnostics/sensitivity.c - leave-one-out and cumulative meta-analysis over mp_pool_many().
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * metafor 3.8's leave1out.rma.uni() and cumul.rma.uni() refit rma.uni()
 * on subsets of the data, one call per subset.  Here the subsets are
 * copied one after another into one contiguous layout (the offsets layout
 * of mp_pool_many(), include/metapool/pool.h) and fitted by a single
 * mp_pool_many() call with one workspace: no allocation per fit, no reload
 * of the data.  The layout holds k(k-1) values for leave-one-out and
 * k(k+1)/2 for cumul; above LAYOUT_CAP values it is filled and fitted in
 * blocks of whole subsets (one mp_pool_many() call per block), so memory
 * stays bounded at any k.
 *
 * Leave-one-out first lets l1o_fast.c do every refit it can in O(1)
 * (downdated power sums expanded in tau2 around the full fit); only the
 * others enter the layout.  At k = 10 000 (REML) that is nearly all of
 * them: 10 ms instead of 2.6 s (bench/README.md). */
#include "sens_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Values per layout block: 2^21 doubles = 16 MiB each for y and v. */
#define LAYOUT_CAP ((size_t)1 << 21)

/* metafor's values for a fit of one study (rma.uni with k = 1): no
 * heterogeneity, Q = 0 with p-value 1, I^2 = 0, H^2 = 1, tau^2 = 0 (pool.c
 * leaves them NaN: they are not defined). */
static void k1_values(mp_pool_result *r)
{
    if (r->k != 1) return;
    r->Q = 0.0;
    r->Q_df = 0.0;
    r->Q_pval = 1.0;
    r->tau2 = 0.0;
    r->tau = 0.0;
    r->I2 = 0.0;
    r->H2 = 1.0;
}

/* The subsets of one analysis kind: subset a (a in [0, n)) has len(a)
 * studies, written into y/v by fill(). */
typedef struct {
    const double *y, *v;
    size_t k;
    const size_t *perm;  /* cumul: order of addition (NULL: file order) */
    int cumul;           /* 0: leave-one-out, 1: cumulative */
    const size_t *which; /* the subsets to fit (NULL: all k) */
    size_t n;            /* how many */
} subsets;

static size_t subset_id(const subsets *s, size_t j) { return s->which ? s->which[j] : j; }

static size_t subset_len(const subsets *s, size_t a) { return s->cumul ? a + 1 : s->k - 1; }

static void subset_fill(const subsets *s, size_t a, double *y, double *v)
{
    if (s->cumul) {
        for (size_t j = 0; j <= a; j++) {
            size_t i = s->perm ? s->perm[j] : j;
            y[j] = s->y[i];
            v[j] = s->v[i];
        }
    } else { /* every study but a, in file order */
        memcpy(y, s->y, a * sizeof *y);
        memcpy(v, s->v, a * sizeof *v);
        memcpy(y + a, s->y + a + 1, (s->k - a - 1) * sizeof *y);
        memcpy(v + a, s->v + a + 1, (s->k - a - 1) * sizeof *v);
    }
}

/* Fit the subsets of s: blocks of whole subsets, one mp_pool_many()
 * call per block (one call in all when the layout fits LAYOUT_CAP);
 * results to rows[subset id]. */
static mp_status fit_subsets(const subsets *s, const mp_pool_opts *o, mp_pool_result *rows,
                             mp_status *status)
{
    size_t n = s->n, longest = s->cumul ? s->k : s->k - 1;
    if (n == 0) return MP_OK;
    size_t cap = LAYOUT_CAP > longest ? LAYOUT_CAP : longest;
    /* the whole layout when it fits, else one block's worth */
    size_t total = 0;
    for (size_t j = 0; j < n && total <= cap; j++) total += subset_len(s, subset_id(s, j));
    if (total < cap) cap = total;
    size_t bytes = mp_mul_size(cap, sizeof(double));
    size_t obytes = mp_mul_size(n + 1, sizeof(size_t));
    double *y = bytes ? malloc(bytes) : NULL, *v = bytes ? malloc(bytes) : NULL;
    size_t *off = obytes ? malloc(obytes) : NULL;
    mp_pool_result *res = malloc(n * sizeof *res);
    mp_status *st = malloc(n * sizeof *st);
    mp_pool_workspace *ws = mp_pool_workspace_alloc(longest);
    mp_status first = MP_OK;
    if (!y || !v || !off || !res || !st || !ws) {
        first = MP_FAIL(MP_ENOMEM);
        goto done;
    }
    mp_pool_opts ro = *o;
    ro.tau2_ci = 0; /* leave1out()/cumul() report no CI of tau^2 */
    for (size_t j0 = 0; j0 < n;) {
        size_t j1 = j0, used = 0;
        off[0] = 0;
        while (j1 < n && used + subset_len(s, subset_id(s, j1)) <= cap) {
            subset_fill(s, subset_id(s, j1), y + used, v + used);
            used += subset_len(s, subset_id(s, j1));
            off[j1 - j0 + 1] = used;
            j1++;
        }
        mp_status bs = mp_pool_many(y, v, off, j1 - j0, &ro, ws, res + j0, st + j0);
        if (bs != MP_OK && first == MP_OK) first = bs;
        j0 = j1;
    }
    for (size_t j = 0; j < n; j++) {
        size_t a = subset_id(s, j);
        rows[a] = res[j];
        k1_values(&rows[a]);
        if (status) status[a] = st[j];
    }
done:
    free(y);
    free(v);
    free(off);
    free(res);
    free(st);
    mp_pool_workspace_free(ws);
    return first;
}

mp_status mp_leave1out(const double *y, const double *v, size_t k, const mp_pool_opts *o,
                       mp_pool_result *full, mp_pool_result *rows, mp_status *status)
{
    mp_pool_opts def;
    if (!o) { mp_pool_opts_init(&def); o = &def; }
    if (!y || !v || !rows) return MP_FAIL(MP_EINVAL);
    if (k < 2) return MP_FAIL(MP_ETOOFEW);
    mp_pool_result fr;
    mp_pool_opts fo = *o;
    if (!full) fo.tau2_ci = 0; /* only its tau2 is needed here */
    mp_status first = mp_pool(y, v, k, &fo, NULL, &fr);
    if (full) *full = fr;
    /* The refits the series of l1o_fast.c can do (large data sets: nearly
     * all), then the others through one mp_pool_many() layout. */
    unsigned char *done = calloc(k, 1);
    size_t *which = malloc(k * sizeof *which), ndone = 0, n = 0;
    if (!done || !which) {
        free(done);
        free(which);
        return MP_FAIL(MP_ENOMEM);
    }
    mp_status st = MP_OK;
    if (first == MP_OK) st = mp_l1o_fast(y, v, k, o, fr.tau2, rows, done, &ndone);
    for (size_t i = 0; i < k; i++) {
        if (done[i]) { if (status) status[i] = MP_OK; }
        else which[n++] = i;
    }
    subsets s = {y, v, k, NULL, 0, which, n};
    mp_status st2 = st == MP_OK ? fit_subsets(&s, o, rows, status) : st;
    free(done);
    free(which);
    return first != MP_OK ? first : st2;
}

/* Stable merge sort of indices by key (NaN last, in file order). */
static int key_before(const double *key, int decreasing, size_t a, size_t b)
{
    double x = key[a], z = key[b];
    if (isnan(x)) return 0;
    if (isnan(z)) return 1;
    return decreasing ? x > z : x < z;
}

static void merge_sort(size_t *idx, size_t *tmp, size_t n, const double *key, int decreasing)
{
    if (n < 2) return;
    size_t h = n / 2;
    merge_sort(idx, tmp, h, key, decreasing);
    merge_sort(idx + h, tmp, n - h, key, decreasing);
    size_t i = 0, j = h, o = 0;
    while (i < h && j < n) /* take the right one only when strictly before: stable */
        tmp[o++] = key_before(key, decreasing, idx[j], idx[i]) ? idx[j++] : idx[i++];
    while (i < h) tmp[o++] = idx[i++];
    while (j < n) tmp[o++] = idx[j++];
    memcpy(idx, tmp, n * sizeof *idx);
}

mp_status mp_cumul_order(const double *key, size_t k, int decreasing, size_t *perm)
{
    if (!key || !perm) return MP_FAIL(MP_EINVAL);
    size_t bytes = mp_mul_size(k ? k : 1, sizeof(size_t));
    size_t *tmp = bytes ? malloc(bytes) : NULL;
    if (!tmp) return MP_FAIL(MP_ENOMEM);
    for (size_t i = 0; i < k; i++) perm[i] = i;
    merge_sort(perm, tmp, k, key, decreasing);
    free(tmp);
    return MP_OK;
}

mp_status mp_cumul(const double *y, const double *v, size_t k, const size_t *perm,
                   const mp_pool_opts *o, mp_pool_result *rows, mp_status *status)
{
    mp_pool_opts def;
    if (!o) { mp_pool_opts_init(&def); o = &def; }
    if (!y || !v || !rows) return MP_FAIL(MP_EINVAL);
    if (k == 0) return MP_FAIL(MP_ETOOFEW);
    if (perm) { /* a permutation: every index once */
        unsigned char *seen = calloc(k, 1);
        if (!seen) return MP_FAIL(MP_ENOMEM);
        int bad = 0;
        for (size_t j = 0; j < k && !bad; j++) {
            if (perm[j] >= k || seen[perm[j]]) bad = 1;
            else seen[perm[j]] = 1;
        }
        free(seen);
        if (bad) return MP_FAIL(MP_EINVAL);
    }
    subsets s = {y, v, k, perm, 1, NULL, k};
    return fit_subsets(&s, o, rows, status);
}
