/* src/models/mv.c - rma.mv with nested and crossed random intercepts, by REML or ML, sparse by blocks.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Model and conventions: include/metapool/mv.h.  The likelihood (metafor's
 * rma.mv, Viechtbauer 2010; Harville 1977, JASA 72:320 for REML) is
 *   ML:   -1/2 [k log 2pi + log|V| + r'V^-1 r]
 *   REML: -1/2 [(k-p) log 2pi + log|V| + log|X'V^-1 X| + r'V^-1 r] + 1/2 log|X'X|
 * with r = y - X b(V).  V = R + Z D Z' where R is diagonal (v plus the
 * components whose levels hold one row each) and Z the 0/1 indicators of
 * the levels of the other components.  Per block of connected rows the
 * component s with the most levels is taken first (V1 = R + s2_s Z_s Z_s',
 * one scalar Woodbury step per level), the other levels on top of V1 as
 * below with R replaced by V1 (two-stage Woodbury; the formulas in the
 * comments of mv_eval).  In one stage,
 * V^-1 = R^-1 - R^-1 Z D^1/2 M^-1 D^1/2 Z' R^-1 with M = I + D^1/2 Z'R^-1 Z D^1/2
 * (the Woodbury identity written with D^1/2 so that a component at 0 is
 * allowed; Henderson's mixed-model equations in another form) and
 * |V| = |R| |M|.  The score of sigma2_r is
 *   -1/2 tr(Q Z_r Z_r') + 1/2 e' Z_r Z_r' e,  e = V^-1 r,
 * Q = P = V^-1 - V^-1 X (X'V^-1X)^-1 X'V^-1 for REML, V^-1 for ML
 * (Searle, Casella & McCulloch 1992, Variance Components, ch. 6), computed
 * from q x q matrices per block; nothing k x k is formed. */
#include "metapool/mv.h"
#include "metapool/reg.h"
#include "internal.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_multimin.h>
#include <gsl/gsl_roots.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LOG2PI 1.8378770664093454836

/* ---- structure from a table ---- */

void mp_mv_random_free(mp_mv_random *r)
{
    if (!r) return;
    for (size_t c = 0; c < r->ncomp; c++) {
        if (r->names) free(r->names[c]);
        if (r->level) free(r->level[c]);
    }
    free(r->names);
    free(r->level);
    free(r->nlev);
    memset(r, 0, sizeof *r);
}

typedef struct keyrow {
    const char *const *cells; /* the path's cells of this row */
    size_t ncell;
    size_t i;
} keyrow;

static int cmp_keyrow(const void *a, const void *b)
{
    const keyrow *x = a, *y = b;
    for (size_t c = 0; c < x->ncell; c++) {
        int s = strcmp(x->cells[c], y->cells[c]);
        if (s) return s;
    }
    return (x->i > y->i) - (x->i < y->i);
}

static int same_key(const keyrow *x, const keyrow *y)
{
    for (size_t c = 0; c < x->ncell; c++)
        if (strcmp(x->cells[c], y->cells[c]) != 0) return 0;
    return 1;
}

mp_status mp_mv_random_build(const mp_table *t, const size_t *rows, size_t k, const char *spec,
                             mp_mv_random *out, mp_error *err)
{
    if (!out) return MP_FAIL(MP_EINVAL);
    memset(out, 0, sizeof *out);
    if (!t || !spec || (k && !rows)) return MP_FAIL(MP_EINVAL);
    mp_status st = MP_OK;
    size_t len = strlen(spec);
    char *buf = malloc(len + 1);
    /* at most one component per '/' or ',' plus one */
    size_t cap = 1;
    for (size_t i = 0; i < len; i++) cap += spec[i] == '/' || spec[i] == ',';
    long *pathcol = malloc(cap * sizeof *pathcol);
    const char **cells = malloc(mp_mul_size(mp_mul_size(k ? k : 1, cap), sizeof *cells));
    keyrow *kr = malloc((k ? k : 1) * sizeof *kr);
    out->names = calloc(cap, sizeof *out->names);
    out->level = calloc(cap, sizeof *out->level);
    out->nlev = calloc(cap, sizeof *out->nlev);
    if (!buf || !pathcol || !cells || !kr || !out->names || !out->level || !out->nlev) {
        st = MP_FAIL(MP_ENOMEM);
        goto done;
    }
    out->k = k;
    /* an empty name between separators ("a//b", "a,,b", "/a", "a/") */
    {
        int prev_sep = 1, blank = 1;
        for (size_t i = 0; i <= len; i++) {
            char ch = spec[i];
            if (ch == '/' || ch == ',' || ch == '\0') {
                if ((blank && (ch != '\0' || !prev_sep || i > 0)) || (ch == '\0' && blank)) {
                    mp_error_set(err, NULL, 0, 0, "--random: empty column name in '%.200s'", spec);
                    st = MP_FAIL(MP_EINVAL);
                    goto done;
                }
                prev_sep = 1;
                blank = 1;
            } else if (ch != ' ' && ch != '\t') {
                blank = 0;
                prev_sep = 0;
            }
        }
    }
    memcpy(buf, spec, len + 1);
    char *save = NULL;
    size_t nitems = 0;
    for (char *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        nitems++;
        size_t depth = 0;
        char name[1024] = "";
        char *s2 = NULL;
        for (char *part = strtok_r(item, "/", &s2); part; part = strtok_r(NULL, "/", &s2)) {
            while (*part == ' ' || *part == '\t') part++;
            size_t pl = strlen(part);
            while (pl && (part[pl - 1] == ' ' || part[pl - 1] == '\t')) part[--pl] = '\0';
            if (!pl) {
                mp_error_set(err, NULL, 0, 0, "--random: empty column name in '%.200s'", spec);
                st = MP_FAIL(MP_EINVAL);
                goto done;
            }
            long c = mp_table_col(t, part);
            if (c < 0) {
                mp_error_set(err, mp_table_name(t), 1, 0, "--random: no column '%.200s' in the header", part);
                st = MP_FAIL(MP_EINVAL);
                goto done;
            }
            pathcol[depth++] = c;
            size_t nl = strlen(name);
            snprintf(name + nl, sizeof name - nl, "%s%s", nl ? "/" : "", part);
            for (size_t r = 0; r < out->ncomp; r++)
                if (strcmp(out->names[r], name) == 0) {
                    mp_error_set(err, NULL, 0, 0, "--random: the component '%.200s' is given twice", name);
                    st = MP_FAIL(MP_EINVAL);
                    goto done;
                }
            size_t r = out->ncomp;
            if (!(out->names[r] = malloc(strlen(name) + 1))) { st = MP_FAIL(MP_ENOMEM); goto done; }
            strcpy(out->names[r], name);
            out->ncomp++;
            if (!(out->level[r] = malloc((k ? k : 1) * sizeof **out->level))) { st = MP_FAIL(MP_ENOMEM); goto done; }
            /* levels: distinct (cell_1, ..., cell_depth) over the rows */
            for (size_t i = 0; i < k; i++) {
                for (size_t d = 0; d < depth; d++) {
                    size_t col = (size_t)pathcol[d];
                    if (mp_table_is_missing(t, rows[i], col)) {
                        mp_error_set(err, mp_table_name(t), mp_table_line(t, rows[i]), col + 1,
                                     "--random: missing value in column '%s'", mp_table_colname(t, col));
                        st = MP_FAIL(MP_EPARSE);
                        goto done;
                    }
                    cells[i * cap + d] = mp_table_cell(t, rows[i], col);
                }
                kr[i].cells = cells + i * cap;
                kr[i].ncell = depth;
                kr[i].i = i;
            }
            qsort(kr, k, sizeof *kr, cmp_keyrow);
            size_t nl2 = 0;
            for (size_t i = 0; i < k; i++) {
                if (i && !same_key(&kr[i - 1], &kr[i])) nl2++;
                out->level[r][kr[i].i] = nl2;
            }
            out->nlev[r] = k ? nl2 + 1 : 0;
        }
        if (depth == 0) {
            mp_error_set(err, NULL, 0, 0, "--random: empty component in '%.200s'", spec);
            st = MP_FAIL(MP_EINVAL);
            goto done;
        }
    }
    if (nitems == 0 || out->ncomp == 0) {
        mp_error_set(err, NULL, 0, 0, "--random: no component in '%.200s'", spec);
        st = MP_FAIL(MP_EINVAL);
    }
done:
    free(buf);
    free(pathcol);
    free(cells);
    free(kr);
    if (st != MP_OK) mp_mv_random_free(out);
    return st;
}

void mp_mv_marginal(const mp_mv_random *re, const double *v, const double *sigma2,
                    const size_t *rows, size_t n, double *V)
{
    for (size_t a = 0; a < n; a++)
        for (size_t b = 0; b < n; b++) {
            double s = a == b ? v[rows[a]] : 0.0;
            for (size_t r = 0; r < re->ncomp; r++)
                if (re->level[r][rows[a]] == re->level[r][rows[b]]) s += sigma2[r];
            V[a + b * n] = s;
        }
}

/* ---- the likelihood ---- */

typedef struct block {
    size_t n, q;      /* rows, grouped levels */
    size_t *row;      /* n global rows */
    size_t *lvl;      /* n x ng local levels (row-major: lvl[i*ng + g]) */
    size_t *lcomp;    /* q: component of each local level */
    /* two-stage Woodbury: V1 = R + sigma2_s Z_s Z_s' (one scalar sub-block per
     * level of the component s with the most levels in the block), then the
     * qo levels of the other grouped components on top */
    size_t scomp;     /* the component s */
    size_t ns, qo;    /* levels of s in the block; levels of the others */
    size_t *sstart;   /* ns + 1 offsets into sorder */
    size_t *sorder;   /* n block-row positions, grouped by s level */
    size_t *olv;      /* n x (ng - 1): 0-based o-level of each row's other components */
    size_t *ocomp;    /* qo: component of each o-level */
} block;

typedef struct mvw {
    size_t k, p, nc, ng, nb, qmax, nsmax;
    size_t fixed;     /* a component held where it is (profile likelihood), or (size_t)-1 */
    const double *y, *v, *X;
    const mp_mv_random *re;
    int reml;
    int *unique;      /* per component: each level holds one row */
    size_t *gcomp;    /* ng grouped components */
    block *b;
    double logdetXtX;
    /* scratch */
    double *A;        /* k x (p+1): V^-1 [X | y] */
    double *e;        /* k */
    double *Rinv;     /* k */
    double *K, *K2, *M, *G, *G2, *T, *S, *Bl, *esum, *dg; /* per block */
    double *Wm, *wv, *w2v;   /* two-stage: qo x qo, qo, qo */
    size_t *touch;           /* qo */
    double *sK, *sK2, *sM, *sT; /* per s level: ns, ns, ns, ns x (p+1) */
    double *Sf, *H, *beta; /* (p+1)^2, p^2, p */
    double *trq;      /* per component: trace term */
    double *qd;       /* per component: quadratic term */
    size_t nevals;
} mvw;

static void mvw_free(mvw *w)
{
    if (w->b)
        for (size_t b = 0; b < w->nb; b++) {
            free(w->b[b].row);
            free(w->b[b].lvl);
            free(w->b[b].lcomp);
            free(w->b[b].sstart);
            free(w->b[b].sorder);
            free(w->b[b].olv);
            free(w->b[b].ocomp);
        }
    free(w->b);
    free(w->unique);
    free(w->gcomp);
    free(w->A);
    free(w->e);
    free(w->Rinv);
    free(w->K);
    free(w->K2);
    free(w->M);
    free(w->G);
    free(w->G2);
    free(w->T);
    free(w->S);
    free(w->Bl);
    free(w->esum);
    free(w->dg);
    free(w->Sf);
    free(w->H);
    free(w->beta);
    free(w->trq);
    free(w->qd);
    free(w->Wm);
    free(w->wv);
    free(w->w2v);
    free(w->touch);
    free(w->sK);
    free(w->sK2);
    free(w->sM);
    free(w->sT);
}

static size_t uf_find(size_t *par, size_t i)
{
    while (par[i] != i) { par[i] = par[par[i]]; i = par[i]; }
    return i;
}

/* Blocks of rows connected through the levels of grouped components. */
static mp_status mvw_init(mvw *w)
{
    const size_t k = w->k, nc = w->nc;
    const mp_mv_random *re = w->re;
    w->unique = calloc(nc, sizeof *w->unique);
    w->gcomp = malloc(nc * sizeof *w->gcomp);
    size_t *par = malloc(k * sizeof *par), *first = NULL, *bid = NULL, *cnt = NULL, *map = NULL;
    if (!w->unique || !w->gcomp || !par) goto nomem;
    for (size_t r = 0; r < nc; r++) {
        w->unique[r] = re->nlev[r] == k;
        if (!w->unique[r]) w->gcomp[w->ng++] = r;
    }
    for (size_t i = 0; i < k; i++) par[i] = i;
    first = malloc(k * sizeof *first);
    if (!first) goto nomem;
    for (size_t g = 0; g < w->ng; g++) {
        size_t r = w->gcomp[g];
        for (size_t l = 0; l < re->nlev[r]; l++) first[l] = (size_t)-1;
        for (size_t i = 0; i < k; i++) {
            size_t l = re->level[r][i];
            if (first[l] == (size_t)-1) first[l] = i;
            else {
                size_t a = uf_find(par, i), c = uf_find(par, first[l]);
                if (a != c) par[a] = c;
            }
        }
    }
    bid = malloc(k * sizeof *bid);
    cnt = calloc(k, sizeof *cnt);
    if (!bid || !cnt) goto nomem;
    for (size_t i = 0; i < k; i++) bid[i] = (size_t)-1;
    /* block ids in order of first row */
    size_t nb = 0;
    for (size_t i = 0; i < k; i++) {
        size_t rt = uf_find(par, i);
        if (bid[rt] == (size_t)-1) bid[rt] = nb++;
        cnt[bid[rt]]++;
    }
    w->nb = nb;
    w->b = calloc(nb, sizeof *w->b);
    if (!w->b) goto nomem;
    for (size_t b = 0; b < nb; b++) {
        w->b[b].row = malloc(cnt[b] * sizeof(size_t));
        w->b[b].lvl = malloc((cnt[b] * (w->ng ? w->ng : 1)) * sizeof(size_t));
        if (!w->b[b].row || !w->b[b].lvl) goto nomem;
    }
    for (size_t i = 0; i < k; i++) {
        block *B = &w->b[bid[uf_find(par, i)]];
        B->row[B->n++] = i;
    }
    /* local levels: per grouped component, map the global level to 0.. */
    size_t maxlev = 1;
    for (size_t r = 0; r < nc; r++)
        if (re->nlev[r] > maxlev) maxlev = re->nlev[r];
    map = malloc(maxlev * sizeof *map);
    if (!map) goto nomem;
    for (size_t b = 0; b < nb; b++) {
        block *B = &w->b[b];
        size_t q = 0;
        for (size_t g = 0; g < w->ng; g++) {
            size_t r = w->gcomp[g];
            for (size_t i = 0; i < B->n; i++) map[re->level[r][B->row[i]]] = (size_t)-1;
            for (size_t i = 0; i < B->n; i++) {
                size_t l = re->level[r][B->row[i]];
                if (map[l] == (size_t)-1) map[l] = q++;
                B->lvl[i * w->ng + g] = map[l];
            }
        }
        B->q = q;
        B->lcomp = malloc((q ? q : 1) * sizeof *B->lcomp);
        if (!B->lcomp) goto nomem;
        for (size_t g = 0; g < w->ng; g++)
            for (size_t i = 0; i < B->n; i++) B->lcomp[B->lvl[i * w->ng + g]] = w->gcomp[g];
        if (q > w->qmax) w->qmax = q;
        if (q == 0) continue;
        /* s: the grouped component with the most levels in the block */
        size_t sg = 0, best = 0;
        for (size_t g = 0; g < w->ng; g++) {
            size_t c = 0;
            for (size_t l = 0; l < q; l++) c += B->lcomp[l] == w->gcomp[g];
            if (c > best) { best = c; sg = g; }
        }
        B->scomp = w->gcomp[sg];
        size_t *sid = malloc(q * sizeof *sid);
        const size_t no = w->ng - 1;
        B->olv = malloc((B->n * (no ? no : 1)) * sizeof *B->olv);
        B->ocomp = malloc(q * sizeof *B->ocomp);
        B->sorder = malloc(B->n * sizeof *B->sorder);
        if (!sid || !B->olv || !B->ocomp || !B->sorder) { free(sid); goto nomem; }
        B->ns = B->qo = 0;
        for (size_t l = 0; l < q; l++) {
            if (B->lcomp[l] == B->scomp) sid[l] = B->ns++;
            else { sid[l] = B->qo; B->ocomp[B->qo++] = B->lcomp[l]; }
        }
        B->sstart = calloc(B->ns + 1, sizeof *B->sstart);
        if (!B->sstart) { free(sid); goto nomem; }
        for (size_t a = 0; a < B->n; a++) {
            size_t t = 0;
            for (size_t g = 0; g < w->ng; g++) {
                size_t l = B->lvl[a * w->ng + g];
                if (g == sg) B->sstart[sid[l] + 1]++;
                else B->olv[a * no + t++] = sid[l];
            }
        }
        for (size_t j = 0; j < B->ns; j++) B->sstart[j + 1] += B->sstart[j];
        size_t *pos = malloc((B->ns ? B->ns : 1) * sizeof *pos);
        if (!pos) { free(sid); goto nomem; }
        memcpy(pos, B->sstart, B->ns * sizeof *pos);
        for (size_t a = 0; a < B->n; a++) B->sorder[pos[sid[B->lvl[a * w->ng + sg]]]++] = a;
        free(pos);
        free(sid);
        if (B->ns > w->nsmax) w->nsmax = B->ns;
    }
    free(par); free(first); free(bid); free(cnt); free(map);
    const size_t p1 = w->p + 1, qm = w->qmax ? w->qmax : 1;
    w->A = malloc(mp_mul_size(mp_mul_size(k, p1), sizeof(double)));
    w->e = malloc(k * sizeof(double));
    w->Rinv = malloc(k * sizeof(double));
    w->K = malloc(mp_mul_size(qm * qm, sizeof(double)));
    w->K2 = malloc(mp_mul_size(qm * qm, sizeof(double)));
    w->M = malloc(mp_mul_size(qm * qm, sizeof(double)));
    w->G = malloc(mp_mul_size(qm * qm, sizeof(double)));
    w->G2 = malloc(mp_mul_size(qm * qm, sizeof(double)));
    w->T = malloc(qm * p1 * sizeof(double));
    w->S = malloc(qm * p1 * sizeof(double));
    w->Bl = malloc(qm * p1 * sizeof(double));
    w->esum = malloc(qm * sizeof(double));
    w->dg = malloc(qm * sizeof(double));
    w->Sf = malloc(p1 * p1 * sizeof(double));
    w->H = malloc(w->p * w->p * sizeof(double));
    w->beta = malloc(w->p * sizeof(double));
    w->trq = malloc(nc * sizeof(double));
    w->qd = malloc(nc * sizeof(double));
    const size_t nsm = w->nsmax ? w->nsmax : 1;
    w->Wm = malloc(mp_mul_size(qm * qm, sizeof(double)));
    w->wv = calloc(qm, sizeof(double));
    w->w2v = calloc(qm, sizeof(double));
    w->touch = malloc(qm * sizeof(size_t));
    w->sK = malloc(nsm * sizeof(double));
    w->sK2 = malloc(nsm * sizeof(double));
    w->sM = malloc(nsm * sizeof(double));
    w->sT = malloc(mp_mul_size(nsm, p1 * sizeof(double)));
    if (!w->Wm || !w->wv || !w->w2v || !w->touch || !w->sK || !w->sK2 || !w->sM || !w->sT)
        return MP_FAIL(MP_ENOMEM);
    if (!w->A || !w->e || !w->Rinv || !w->K || !w->K2 || !w->M || !w->G || !w->G2 || !w->T ||
        !w->S || !w->Bl || !w->esum || !w->dg || !w->Sf || !w->H || !w->beta || !w->trq || !w->qd)
        return MP_FAIL(MP_ENOMEM);
    return MP_OK;
nomem:
    free(par); free(first); free(bid); free(cnt); free(map);
    return MP_FAIL(MP_ENOMEM);
}

/* Log-likelihood at sigma2 = th (>= 0); with score != NULL also the score.
 * Leaves beta, H = (X'V^-1X)^-1 and e = V^-1 (y - X beta) in w.  Returns
 * 0, or -1 if a factorisation failed (V or X'V^-1X not positive definite). */
static int mv_eval(mvw *w, const double *th, double *ll, double *score)
{
    const size_t k = w->k, p = w->p, p1 = p + 1, ng = w->ng, nc = w->nc;
    double rdiag = 0, logdet = 0, trvinv = 0;
    w->nevals++;
    for (size_t r = 0; r < nc; r++) {
        if (w->unique[r]) rdiag += th[r];
        w->trq[r] = 0;
        w->qd[r] = 0;
    }
    memset(w->Sf, 0, p1 * p1 * sizeof(double));
    for (size_t b = 0; b < w->nb; b++) {
        const block *B = &w->b[b];
        const size_t n = B->n, q = B->q;
        for (size_t a = 0; a < n; a++) {
            size_t i = B->row[a];
            double R = w->v[i] + rdiag;
            if (!(R > 0)) return -1;
            w->Rinv[i] = 1.0 / R;
            logdet += log(R);
            trvinv += w->Rinv[i];
            for (size_t c = 0; c < p; c++) w->A[i + c * k] = w->X[i + c * k] / R;
            w->A[i + p * k] = w->y[i] / R;
        }
        if (q == 1) {
            /* one grouped level in the block (nested models): scalars */
            double K = 0, K2 = 0, *T = w->T;
            for (size_t c = 0; c < p1; c++) T[c] = 0;
            for (size_t a = 0; a < n; a++) {
                size_t i = B->row[a];
                double ri = w->Rinv[i];
                K += ri;
                K2 += ri * ri;
                for (size_t c = 0; c < p1; c++) T[c] += w->A[i + c * k];
            }
            double d2 = th[B->lcomp[0]], M = 1 + d2 * K;
            logdet += log(M);
            for (size_t c = 0; c < p1; c++) {
                double f = d2 * T[c] / M;
                for (size_t a = 0; a < n; a++) {
                    size_t i = B->row[a];
                    w->A[i + c * k] -= w->Rinv[i] * f;
                }
            }
            if (score) {
                w->trq[B->lcomp[0]] += K - d2 * K * K / M;
                trvinv -= d2 * K2 / M;
            }
        } else if (q > 0) {
            /* stage 1: V1 = R + sigma2_s Z_s Z_s', one scalar Woodbury per s level */
            const size_t ns = B->ns, qo = B->qo, no = ng - 1;
            const double d2 = th[B->scomp];
            double *sK = w->sK, *sK2 = w->sK2, *sM = w->sM, *sT = w->sT;
            double trS = 0;
            for (size_t j = 0; j < ns; j++) {
                double Kj = 0, K2j = 0;
                for (size_t c = 0; c < p1; c++) sT[j * p1 + c] = 0;
                for (size_t x = B->sstart[j]; x < B->sstart[j + 1]; x++) {
                    size_t i = B->row[B->sorder[x]];
                    double ri = w->Rinv[i];
                    Kj += ri;
                    K2j += ri * ri;
                    for (size_t c = 0; c < p1; c++) sT[j * p1 + c] += w->A[i + c * k];
                }
                sK[j] = Kj;
                sK2[j] = K2j;
                sM[j] = 1 + d2 * Kj;
                logdet += log(sM[j]);
                trS += Kj / sM[j];
                trvinv -= d2 * K2j / sM[j];
                for (size_t x = B->sstart[j]; x < B->sstart[j + 1]; x++) {
                    size_t i = B->row[B->sorder[x]];
                    for (size_t c = 0; c < p1; c++) w->A[i + c * k] -= w->Rinv[i] * d2 * sT[j * p1 + c] / sM[j];
                }
            }
            if (qo == 0) {
                if (score) w->trq[B->scomp] += trS;
            } else {
                /* stage 2: Woodbury with the qo other levels on top of V1:
                 * Ko = Zo'V1^-1 Zo, K2o = Zo'V1^-2 Zo, Wm = sum_j w_j w_j' / M_j^2 */
                double *Ko = w->K, *K2o = w->K2, *M = w->M, *T = w->T, *S = w->S, *dg = w->dg, *Wm = w->Wm;
                double *wv = w->wv, *w2v = w->w2v;
                size_t *touch = w->touch;
                memset(Ko, 0, qo * qo * sizeof *Ko);
                memset(K2o, 0, qo * qo * sizeof *K2o);
                memset(Wm, 0, qo * qo * sizeof *Wm);
                memset(T, 0, qo * p1 * sizeof *T);
                for (size_t a = 0; a < n; a++) {
                    size_t i = B->row[a];
                    const size_t *lo = B->olv + a * no;
                    double ri = w->Rinv[i];
                    for (size_t t = 0; t < no; t++) {
                        for (size_t u = 0; u < no; u++) {
                            Ko[lo[t] + lo[u] * qo] += ri;
                            K2o[lo[t] + lo[u] * qo] += ri * ri;
                        }
                        for (size_t c = 0; c < p1; c++) T[lo[t] + c * qo] += w->A[i + c * k];
                    }
                }
                for (size_t j = 0; j < ns; j++) {
                    size_t nt = 0;
                    for (size_t x = B->sstart[j]; x < B->sstart[j + 1]; x++) {
                        size_t a = B->sorder[x], i = B->row[a];
                        double ri = w->Rinv[i];
                        for (size_t t = 0; t < no; t++) {
                            size_t l = B->olv[a * no + t];
                            if (wv[l] == 0 && w2v[l] == 0) touch[nt++] = l;
                            wv[l] += ri;
                            w2v[l] += ri * ri;
                        }
                    }
                    double cj = d2 / sM[j], mj2 = 1 / (sM[j] * sM[j]);
                    for (size_t x = 0; x < nt; x++)
                        for (size_t y2 = 0; y2 < nt; y2++) {
                            size_t l = touch[x], m = touch[y2];
                            Ko[l + m * qo] -= cj * wv[l] * wv[m];
                            K2o[l + m * qo] += -cj * wv[l] * w2v[m] - w2v[l] * cj * wv[m] +
                                               sK2[j] * cj * cj * wv[l] * wv[m];
                            Wm[l + m * qo] += wv[l] * wv[m] * mj2;
                        }
                    for (size_t x = 0; x < nt; x++) wv[touch[x]] = w2v[touch[x]] = 0;
                }
                for (size_t l = 0; l < qo; l++) dg[l] = sqrt(th[B->ocomp[l]]);
                for (size_t l = 0; l < qo; l++)
                    for (size_t m = 0; m < qo; m++) M[l + m * qo] = (l == m) + dg[l] * Ko[l + m * qo] * dg[m];
                if (LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', (lapack_int)qo, M, (lapack_int)qo) != 0) return -1;
                for (size_t l = 0; l < qo; l++) logdet += 2.0 * log(M[l + l * qo]);
                for (size_t c = 0; c < p1; c++)
                    for (size_t l = 0; l < qo; l++) S[l + c * qo] = dg[l] * T[l + c * qo];
                if (LAPACKE_dpotrs(LAPACK_COL_MAJOR, 'L', (lapack_int)qo, (lapack_int)p1, M, (lapack_int)qo,
                                   S, (lapack_int)qo) != 0)
                    return -1;
                /* A -= V1^-1 Zo D^1/2 S, with V1^-1 applied per s level */
                for (size_t j = 0; j < ns; j++) {
                    for (size_t c = 0; c < p1; c++) sT[j * p1 + c] = 0;
                    for (size_t x = B->sstart[j]; x < B->sstart[j + 1]; x++) {
                        size_t a = B->sorder[x], i = B->row[a];
                        for (size_t c = 0; c < p1; c++) {
                            double u = 0;
                            for (size_t t = 0; t < no; t++) {
                                size_t l = B->olv[a * no + t];
                                u += dg[l] * S[l + c * qo];
                            }
                            sT[j * p1 + c] += w->Rinv[i] * u;
                        }
                    }
                    for (size_t x = B->sstart[j]; x < B->sstart[j + 1]; x++) {
                        size_t a = B->sorder[x], i = B->row[a];
                        for (size_t c = 0; c < p1; c++) {
                            double u = 0;
                            for (size_t t = 0; t < no; t++) {
                                size_t l = B->olv[a * no + t];
                                u += dg[l] * S[l + c * qo];
                            }
                            w->A[i + c * k] -= w->Rinv[i] * (u - d2 * sT[j * p1 + c] / sM[j]);
                        }
                    }
                }
                if (score) {
                    double *G = w->G, *G2 = w->G2;
                    for (size_t m = 0; m < qo; m++)
                        for (size_t l = 0; l < qo; l++) {
                            G[l + m * qo] = dg[l] * Ko[l + m * qo];
                            G2[l + m * qo] = dg[l] * K2o[l + m * qo] * dg[m];
                            Wm[l + m * qo] *= dg[l] * dg[m];
                        }
                    if (LAPACKE_dpotrs(LAPACK_COL_MAJOR, 'L', (lapack_int)qo, (lapack_int)qo, M, (lapack_int)qo,
                                       G, (lapack_int)qo) != 0 ||
                        LAPACKE_dpotrs(LAPACK_COL_MAJOR, 'L', (lapack_int)qo, (lapack_int)qo, M, (lapack_int)qo,
                                       G2, (lapack_int)qo) != 0 ||
                        LAPACKE_dpotrs(LAPACK_COL_MAJOR, 'L', (lapack_int)qo, (lapack_int)qo, M, (lapack_int)qo,
                                       Wm, (lapack_int)qo) != 0)
                        return -1;
                    for (size_t l = 0; l < qo; l++) {
                        double s2 = 0;
                        for (size_t m = 0; m < qo; m++) s2 += Ko[l + m * qo] * dg[m] * G[m + l * qo];
                        w->trq[B->ocomp[l]] += Ko[l + l * qo] - s2;
                        trvinv -= G2[l + l * qo];
                        trS -= Wm[l + l * qo];
                    }
                    w->trq[B->scomp] += trS;
                }
            }
        }
        /* S_full += [X|y]_b' A_b (lower triangle) */
        for (size_t c1 = 0; c1 < p1; c1++)
            for (size_t c2 = 0; c2 <= c1; c2++) {
                double s = 0;
                for (size_t a = 0; a < n; a++) {
                    size_t i = B->row[a];
                    double wv = c1 < p ? w->X[i + c1 * k] : w->y[i];
                    s += wv * w->A[i + c2 * k];
                }
                w->Sf[c1 + c2 * p1] += s;
            }
    }
    /* the fixed effects: X'V^-1X = Sf[0:p, 0:p] (lower), X'V^-1y = Sf[p, 0:p] */
    double *H = w->H;
    for (size_t c1 = 0; c1 < p; c1++)
        for (size_t c2 = 0; c2 < p; c2++)
            H[c1 + c2 * p] = c1 >= c2 ? w->Sf[c1 + c2 * p1] : w->Sf[c2 + c1 * p1];
    if (LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', (lapack_int)p, H, (lapack_int)p) != 0) return -1;
    double logdetXVX = 0;
    for (size_t c = 0; c < p; c++) logdetXVX += 2.0 * log(H[c + c * p]);
    for (size_t c = 0; c < p; c++) w->beta[c] = w->Sf[p + c * p1];
    LAPACKE_dpotrs(LAPACK_COL_MAJOR, 'L', (lapack_int)p, 1, H, (lapack_int)p, w->beta, (lapack_int)p);
    if (LAPACKE_dpotri(LAPACK_COL_MAJOR, 'L', (lapack_int)p, H, (lapack_int)p) != 0) return -1;
    for (size_t c1 = 0; c1 < p; c1++)
        for (size_t c2 = c1 + 1; c2 < p; c2++) H[c1 + c2 * p] = H[c2 + c1 * p];
    double rss = w->Sf[p + p * p1];
    for (size_t c = 0; c < p; c++) rss -= w->beta[c] * w->Sf[p + c * p1];
    if (w->reml)
        *ll = -0.5 * ((double)(k - p) * LOG2PI + logdet + logdetXVX + rss) + 0.5 * w->logdetXtX;
    else
        *ll = -0.5 * ((double)k * LOG2PI + logdet + rss);
    for (size_t i = 0; i < k; i++) {
        double s = w->A[i + p * k];
        for (size_t c = 0; c < p; c++) s -= w->A[i + c * k] * w->beta[c];
        w->e[i] = s;
    }
    if (!score) return 0;

    /* second pass: e sums per level (quadratic terms) and, for REML, the
     * X part of tr(P Z_r Z_r'): sum over levels of b_l' H b_l with
     * b_l = X'V^-1 z_l */
    double qu = 0, tru = 0;
    for (size_t b = 0; b < w->nb; b++) {
        const block *B = &w->b[b];
        const size_t n = B->n, q = B->q;
        double *Bl = w->Bl, *es = w->esum;
        if (q) {
            memset(Bl, 0, q * p * sizeof *Bl);
            memset(es, 0, q * sizeof *es);
        }
        for (size_t a = 0; a < n; a++) {
            size_t i = B->row[a];
            qu += w->e[i] * w->e[i];
            if (w->reml) {
                double s = 0;
                for (size_t c1 = 0; c1 < p; c1++) {
                    double t = 0;
                    for (size_t c2 = 0; c2 < p; c2++) t += H[c1 + c2 * p] * w->A[i + c2 * k];
                    s += w->A[i + c1 * k] * t;
                }
                tru += s;
            }
            for (size_t g = 0; g < ng; g++) {
                size_t l = B->lvl[a * ng + g];
                es[l] += w->e[i];
                for (size_t c = 0; c < p; c++) Bl[l + c * q] += w->A[i + c * k];
            }
        }
        for (size_t l = 0; l < q; l++) {
            size_t r = B->lcomp[l];
            w->qd[r] += es[l] * es[l];
            if (w->reml) {
                double s = 0;
                for (size_t c1 = 0; c1 < p; c1++) {
                    double t = 0;
                    for (size_t c2 = 0; c2 < p; c2++) t += H[c1 + c2 * p] * Bl[l + c2 * q];
                    s += Bl[l + c1 * q] * t;
                }
                w->trq[r] -= s;
            }
        }
    }
    for (size_t r = 0; r < nc; r++) {
        if (w->unique[r]) {
            w->trq[r] = trvinv - tru;
            w->qd[r] = qu;
        }
        score[r] = -0.5 * w->trq[r] + 0.5 * w->qd[r];
    }
    return 0;
}

/* ---- optimisation ---- */

typedef struct optctx {
    mvw *w;
    double *th, *sc;
} optctx;

static void phi_to_th(const gsl_vector *x, double *th, size_t nc)
{
    for (size_t r = 0; r < nc; r++) {
        double f = gsl_vector_get(x, r);
        th[r] = exp(f > 40 ? 40 : f);
    }
}

static double opt_f(const gsl_vector *x, void *par)
{
    optctx *c = par;
    double ll;
    phi_to_th(x, c->th, c->w->nc);
    if (mv_eval(c->w, c->th, &ll, NULL) != 0 || !isfinite(ll)) return GSL_POSINF;
    return -ll;
}

static void opt_fdf(const gsl_vector *x, void *par, double *f, gsl_vector *g)
{
    optctx *c = par;
    double ll;
    phi_to_th(x, c->th, c->w->nc);
    if (mv_eval(c->w, c->th, &ll, c->sc) != 0 || !isfinite(ll)) {
        *f = GSL_POSINF;
        gsl_vector_set_zero(g);
        return;
    }
    *f = -ll;
    for (size_t r = 0; r < c->w->nc; r++) gsl_vector_set(g, r, -c->sc[r] * c->th[r]);
}

static void opt_df(const gsl_vector *x, void *par, gsl_vector *g)
{
    double f;
    opt_fdf(x, par, &f, g);
}

/* Quasi-Newton (GSL BFGS2) on log sigma2 from th; th updated. */
static void bfgs_stage(mvw *w, double *th)
{
    const size_t nc = w->nc;
    double *tth = malloc(nc * sizeof *tth), *sc = malloc(nc * sizeof *sc);
    gsl_vector *x = gsl_vector_alloc(nc);
    gsl_multimin_fdfminimizer *m = gsl_multimin_fdfminimizer_alloc(gsl_multimin_fdfminimizer_vector_bfgs2, nc);
    if (!tth || !sc || !x || !m) goto done;
    optctx c = {w, tth, sc};
    gsl_multimin_function_fdf F = {opt_f, opt_df, opt_fdf, nc, &c};
    for (size_t r = 0; r < nc; r++) gsl_vector_set(x, r, log(th[r] > 1e-300 ? th[r] : 1e-300));
    if (gsl_multimin_fdfminimizer_set(m, &F, x, 0.1, 0.1) != GSL_SUCCESS) goto done;
    for (int it = 0; it < 500; it++) {
        if (gsl_multimin_fdfminimizer_iterate(m) != GSL_SUCCESS) break;
        if (gsl_multimin_test_gradient(m->gradient, 1e-9) == GSL_SUCCESS) break;
    }
    if (isfinite(m->f)) phi_to_th(m->x, th, nc);
done:
    if (m) gsl_multimin_fdfminimizer_free(m);
    if (x) gsl_vector_free(x);
    free(tth);
    free(sc);
}

/* Newton steps on the exact score over sigma2 >= 0 (Hessian by central
 * differences of the score; a component at 0 whose score is <= 0 stays
 * there), with step halving so that the likelihood never decreases.
 * Returns 1 if the relative change fell below epsrel. */
static int newton_stage(mvw *w, double *th, double *llout, size_t maxiter, double epsrel,
                        double scale, size_t *niter)
{
    const size_t nc = w->nc;
    int conv = 0, ok = 0;
    double *s = malloc(nc * sizeof *s), *sp = malloc(nc * sizeof *sp), *sm = malloc(nc * sizeof *sm);
    double *Hm = malloc(nc * nc * sizeof *Hm), *d = malloc(nc * sizeof *d), *t1 = malloc(nc * sizeof *t1);
    double *s1 = malloc(nc * sizeof *s1);
    int *fr = malloc(nc * sizeof *fr);
    size_t *idx = malloc(nc * sizeof *idx);
    double ll = -INFINITY, ll1;
    if (!s || !sp || !sm || !Hm || !d || !t1 || !s1 || !fr || !idx) goto done;
    if (mv_eval(w, th, &ll, s) != 0) goto done;
    ok = 1;
    size_t it;
    for (it = 0; it < maxiter; it++) {
        size_t nf = 0;
        for (size_t r = 0; r < nc; r++) {
            fr[r] = r != w->fixed && (th[r] > 0 || s[r] > 0);
            if (fr[r]) idx[nf++] = r;
        }
        if (nf == 0) { conv = 1; break; }
        /* Hessian of the free components */
        for (size_t a = 0; a < nf; a++) {
            size_t r = idx[a];
            double h = 1e-4 * (th[r] > 1e-3 * scale ? th[r] : 1e-3 * scale);
            memcpy(t1, th, nc * sizeof *t1);
            t1[r] = th[r] + h;
            if (mv_eval(w, t1, &ll1, sp) != 0) { ok = 0; goto done; }
            if (th[r] - h >= 0) {
                t1[r] = th[r] - h;
                if (mv_eval(w, t1, &ll1, sm) != 0) { ok = 0; goto done; }
                for (size_t b = 0; b < nf; b++) Hm[b + a * nf] = (sp[idx[b]] - sm[idx[b]]) / (2 * h);
            } else {
                for (size_t b = 0; b < nf; b++) Hm[b + a * nf] = (sp[idx[b]] - s[idx[b]]) / h;
            }
        }
        /* -H symmetric positive definite: Newton; otherwise a scaled gradient step */
        for (size_t a = 0; a < nf; a++)
            for (size_t b = 0; b < nf; b++) {
                double x = -0.5 * (Hm[a + b * nf] + Hm[b + a * nf]);
                Hm[a + b * nf] = x;
            }
        for (size_t a = 0; a < nf; a++)
            for (size_t b = a + 1; b < nf; b++) Hm[a + b * nf] = Hm[b + a * nf];
        for (size_t a = 0; a < nf; a++) d[a] = s[idx[a]];
        double *Hc = malloc(nf * nf * sizeof *Hc);
        if (!Hc) { ok = 0; goto done; }
        memcpy(Hc, Hm, nf * nf * sizeof *Hc);
        if (LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', (lapack_int)nf, Hc, (lapack_int)nf) == 0) {
            LAPACKE_dpotrs(LAPACK_COL_MAJOR, 'L', (lapack_int)nf, 1, Hc, (lapack_int)nf, d, (lapack_int)nf);
        } else {
            for (size_t a = 0; a < nf; a++) {
                double hd = fabs(Hm[a + a * nf]);
                double st = (th[idx[a]] > 0 ? th[idx[a]] : scale);
                d[a] = hd > 0 ? d[a] / hd : d[a] * st * st;
                if (fabs(d[a]) > st) d[a] = d[a] > 0 ? st : -st;
            }
        }
        free(Hc);
        double lam = 1;
        int acc = 0;
        for (int h = 0; h < 60; h++, lam *= 0.5) {
            memcpy(t1, th, nc * sizeof *t1);
            for (size_t a = 0; a < nf; a++) {
                double x = th[idx[a]] + lam * d[a];
                t1[idx[a]] = x > 0 ? x : 0;
            }
            if (mv_eval(w, t1, &ll1, s1) == 0 && isfinite(ll1) &&
                ll1 >= ll - 1e-13 * (1 + fabs(ll))) { acc = 1; break; }
        }
        if (!acc) { conv = 1; break; } /* no direction improves: at the numerical optimum */
        double ch = 0, mx = 0;
        for (size_t r = 0; r < nc; r++) {
            double dd = fabs(t1[r] - th[r]);
            if (dd > ch) ch = dd;
            if (t1[r] > mx) mx = t1[r];
        }
        memcpy(th, t1, nc * sizeof *th);
        memcpy(s, s1, nc * sizeof *s);
        ll = ll1;
        if (ch <= epsrel * (mx > 0 ? mx : scale)) { conv = 1; it++; break; }
    }
    *niter = it;
done:
    if (ok) *llout = ll;
    free(s); free(sp); free(sm); free(Hm); free(d); free(t1); free(s1); free(fr); free(idx);
    return ok && conv;
}

void mp_mv_opts_init(mp_mv_opts *o)
{
    if (!o) return;
    o->method = MP_METHOD_REML;
    o->level = 95;
    o->t_test = 0;
    o->intercept = 1;
    o->maxiter = 1000;
    o->epsrel = 1e-13;
}

void mp_mv_result_free(mp_mv_result *r)
{
    if (!r) return;
    free(r->beta); free(r->se); free(r->stat); free(r->pval); free(r->ci_lb); free(r->ci_ub);
    free(r->vb); free(r->sigma2);
    memset(r, 0, sizeof *r);
}

mp_status mp_mv_fit(const double *y, const double *v, const double *X, size_t k, size_t p,
                    const mp_mv_random *re, const mp_mv_opts *o, mp_mv_result *res)
{
    if (!res) return MP_FAIL(MP_EINVAL);
    memset(res, 0, sizeof *res);
    if (!y || !v || !X || !re || p == 0 || re->k != k || re->ncomp == 0) return MP_FAIL(MP_EINVAL);
    mp_mv_opts def;
    if (!o) { mp_mv_opts_init(&def); o = &def; }
    if ((o->method != MP_METHOD_REML && o->method != MP_METHOD_ML) || !(o->level > 0 && o->level < 100) ||
        o->maxiter == 0)
        return MP_FAIL(MP_EINVAL);
    if (k <= p) return MP_FAIL(MP_ETOOFEW);
    for (size_t i = 0; i < k; i++) {
        if (!isfinite(y[i]) || !isfinite(v[i]) || !(v[i] > 0)) return MP_FAIL(MP_EDOM);
        for (size_t c = 0; c < p; c++)
            if (!isfinite(X[i + c * k])) return MP_FAIL(MP_EDOM);
    }
    size_t bad;
    mp_status st = mp_reg_check_rank(X, k, p, 0.0, &bad);
    if (st != MP_OK) return st;
    /* a component with a single level is not identifiable beside the fixed
     * effects: metafor fixes its sigma2 to 0 (with a warning); fit without it */
    size_t nsingle = 0;
    for (size_t r = 0; r < re->ncomp; r++) nsingle += re->nlev[r] == 1;
    if (nsingle) {
        if (nsingle == re->ncomp) return MP_FAIL(MP_EINVAL);
        size_t nk = re->ncomp - nsingle, j = 0;
        mp_mv_random sub = {nk, k, malloc(nk * sizeof(char *)), malloc(nk * sizeof(size_t *)),
                            malloc(nk * sizeof(size_t))};
        double *s2 = malloc(re->ncomp * sizeof *s2);
        if (!sub.names || !sub.level || !sub.nlev || !s2) {
            free(sub.names); free(sub.level); free(sub.nlev); free(s2);
            return MP_FAIL(MP_ENOMEM);
        }
        for (size_t r = 0; r < re->ncomp; r++)
            if (re->nlev[r] != 1) {
                sub.names[j] = re->names[r];
                sub.level[j] = re->level[r];
                sub.nlev[j++] = re->nlev[r];
            }
        st = mp_mv_fit(y, v, X, k, p, &sub, o, res);
        if (res->sigma2) {
            for (size_t r = 0, q = 0; r < re->ncomp; r++) s2[r] = re->nlev[r] == 1 ? 0.0 : res->sigma2[q++];
            free(res->sigma2);
            res->sigma2 = s2;
            res->ncomp = re->ncomp;
            res->nfixed = nsingle;
        } else {
            free(s2);
        }
        free(sub.names); free(sub.level); free(sub.nlev);
        return st;
    }
    const size_t nc = re->ncomp;
    res->k = k; res->p = p; res->ncomp = nc; res->method = o->method; res->level = o->level;
    res->t_test = o->t_test;
    res->beta = malloc(p * sizeof(double)); res->se = malloc(p * sizeof(double));
    res->stat = malloc(p * sizeof(double)); res->pval = malloc(p * sizeof(double));
    res->ci_lb = malloc(p * sizeof(double)); res->ci_ub = malloc(p * sizeof(double));
    res->vb = malloc(p * p * sizeof(double)); res->sigma2 = malloc(nc * sizeof(double));
    mvw w;
    memset(&w, 0, sizeof w);
    double *th = malloc(nc * sizeof *th), *best = malloc(nc * sizeof *best), *XtX = malloc(p * p * sizeof *XtX);
    if (!res->beta || !res->se || !res->stat || !res->pval || !res->ci_lb || !res->ci_ub || !res->vb ||
        !res->sigma2 || !th || !best || !XtX) {
        st = MP_FAIL(MP_ENOMEM);
        goto out;
    }
    w.k = k; w.p = p; w.nc = nc; w.y = y; w.v = v; w.X = X; w.re = re;
    w.reml = o->method == MP_METHOD_REML;
    w.fixed = (size_t)-1;
    if ((st = mvw_init(&w)) != MP_OK) goto out;
    /* log|X'X| (metafor's REML likelihood includes +1/2 of it) */
    for (size_t a = 0; a < p; a++)
        for (size_t b = 0; b < p; b++) {
            double s = 0;
            for (size_t i = 0; i < k; i++) s += X[i + a * k] * X[i + b * k];
            XtX[a + b * p] = s;
        }
    if (LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', (lapack_int)p, XtX, (lapack_int)p) != 0) {
        st = MP_FAIL(MP_ESING);
        goto out;
    }
    for (size_t c = 0; c < p; c++) w.logdetXtX += 2 * log(XtX[c + c * p]);

    /* the fixed-effect fit: QE, and a moment estimate of the total
     * heterogeneity for the starting values (DL's formula for general X) */
    {
        double sw = 0;
        double *xwx = malloc(p * p * sizeof *xwx), *xwy = malloc(p * sizeof *xwy), *xw2x = malloc(p * p * sizeof *xw2x);
        if (!xwx || !xwy || !xw2x) { free(xwx); free(xwy); free(xw2x); st = MP_FAIL(MP_ENOMEM); goto out; }
        for (size_t a = 0; a < p; a++) {
            xwy[a] = 0;
            for (size_t b = 0; b < p; b++) { xwx[a + b * p] = 0; xw2x[a + b * p] = 0; }
        }
        for (size_t i = 0; i < k; i++) {
            double wi = 1 / v[i];
            sw += wi;
            for (size_t a = 0; a < p; a++) {
                xwy[a] += X[i + a * k] * wi * y[i];
                for (size_t b = 0; b < p; b++) {
                    xwx[a + b * p] += X[i + a * k] * wi * X[i + b * k];
                    xw2x[a + b * p] += X[i + a * k] * wi * wi * X[i + b * k];
                }
            }
        }
        double qe = NAN, trc = 0;
        if (LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', (lapack_int)p, xwx, (lapack_int)p) == 0) {
            LAPACKE_dpotrs(LAPACK_COL_MAJOR, 'L', (lapack_int)p, 1, xwx, (lapack_int)p, xwy, (lapack_int)p);
            qe = 0;
            for (size_t i = 0; i < k; i++) {
                double r = y[i];
                for (size_t a = 0; a < p; a++) r -= X[i + a * k] * xwy[a];
                qe += r * r / v[i];
            }
            LAPACKE_dpotrs(LAPACK_COL_MAJOR, 'L', (lapack_int)p, (lapack_int)p, xwx, (lapack_int)p, xw2x, (lapack_int)p);
            for (size_t a = 0; a < p; a++) trc += xw2x[a + a * p];
        }
        free(xwx); free(xwy); free(xw2x);
        res->QE = qe;
        res->QE_df = (double)(k - p);
        res->QE_pval = isfinite(qe) ? gsl_cdf_chisq_Q(qe, res->QE_df) : NAN;
        double meanv = 0;
        for (size_t i = 0; i < k; i++) meanv += v[i] / (double)k;
        double t0 = isfinite(qe) ? (qe - (double)(k - p)) / (sw - trc) : 0;
        if (!(t0 > 0.01 * meanv)) t0 = 0.01 * meanv > 0 ? (t0 > 0 ? 0.01 * meanv : 0.1 * meanv) : 0.01;
        /* starts: the total spread equally, then mostly on each component */
        double scale = t0;
        double bestll = -INFINITY;
        int bestconv = 0, any = 0;
        size_t bestit = 0;
        size_t nstart = nc == 1 ? 2 : nc + 1;
        for (size_t s0 = 0; s0 < nstart; s0++) {
            for (size_t r = 0; r < nc; r++) {
                if (s0 == 0) th[r] = t0 / (double)nc;
                else if (nc == 1) th[r] = 10 * t0;
                else th[r] = (r == s0 - 1) ? t0 : 0.05 * t0;
            }
            bfgs_stage(&w, th);
            if (s0 > 0 && any) {
                /* polish another start only if its quasi-Newton optimum is
                 * not the one found already (by likelihood or location) */
                double llb;
                int same = mv_eval(&w, th, &llb, NULL) != 0 || llb < bestll - 1e-6 * (1 + fabs(bestll));
                if (!same) {
                    same = 1;
                    for (size_t r = 0; r < nc; r++)
                        if (fabs(th[r] - best[r]) > 1e-3 * (best[r] + 1e-3 * scale)) same = 0;
                    if (llb > bestll + 1e-9 * (1 + fabs(bestll))) same = 0;
                }
                if (same) continue;
            }
            double ll = -INFINITY;
            size_t it = 0;
            int conv = newton_stage(&w, th, &ll, o->maxiter, o->epsrel, scale, &it);
            if (isfinite(ll) && (ll > bestll + 1e-12 * (1 + fabs(ll)) || !any || (conv && !bestconv && ll >= bestll - 1e-10 * (1 + fabs(ll))))) {
                bestll = ll;
                memcpy(best, th, nc * sizeof *best);
                bestconv = conv;
                bestit = it;
                any = 1;
            }
        }
        if (!any) { st = MP_FAIL(MP_ENOCONV); res->converged = 0; goto out; }
        double ll;
        if (mv_eval(&w, best, &ll, NULL) != 0) { st = MP_FAIL(MP_ENOCONV); goto out; }
        memcpy(res->sigma2, best, nc * sizeof *best);
        res->logLik = ll;
        res->converged = bestconv;
        res->niter = bestit;
    }
    /* inference on the fixed effects */
    {
        memcpy(res->vb, w.H, p * p * sizeof(double));
        memcpy(res->beta, w.beta, p * sizeof(double));
        double alpha = 1 - o->level / 100;
        res->df = o->t_test ? (double)(k - p) : NAN;
        double crit = o->t_test ? gsl_cdf_tdist_Qinv(alpha / 2, res->df) : gsl_cdf_ugaussian_Qinv(alpha / 2);
        for (size_t c = 0; c < p; c++) {
            res->se[c] = sqrt(w.H[c + c * p]);
            res->stat[c] = res->beta[c] / res->se[c];
            res->pval[c] = 2 * (o->t_test ? gsl_cdf_tdist_Q(fabs(res->stat[c]), res->df)
                                          : gsl_cdf_ugaussian_Q(fabs(res->stat[c])));
            res->ci_lb[c] = res->beta[c] - crit * res->se[c];
            res->ci_ub[c] = res->beta[c] + crit * res->se[c];
        }
        size_t b0 = o->intercept ? 1 : 0, m = p - b0;
        res->QM = res->QM_df = res->QM_pval = NAN;
        if (m > 0) {
            double *Vs = malloc(m * m * sizeof *Vs), *bs = malloc(m * sizeof *bs);
            if (!Vs || !bs) { free(Vs); free(bs); st = MP_FAIL(MP_ENOMEM); goto out; }
            for (size_t a = 0; a < m; a++) {
                bs[a] = res->beta[b0 + a];
                for (size_t b = 0; b < m; b++) Vs[a + b * m] = w.H[(b0 + a) + (b0 + b) * p];
            }
            double qm = NAN;
            if (LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', (lapack_int)m, Vs, (lapack_int)m) == 0) {
                double *t = malloc(m * sizeof *t);
                if (t) {
                    memcpy(t, bs, m * sizeof *t);
                    LAPACKE_dpotrs(LAPACK_COL_MAJOR, 'L', (lapack_int)m, 1, Vs, (lapack_int)m, t, (lapack_int)m);
                    qm = 0;
                    for (size_t a = 0; a < m; a++) qm += bs[a] * t[a];
                    free(t);
                }
            }
            free(Vs); free(bs);
            res->QM_df = (double)m;
            if (o->t_test) {
                res->QM = qm / (double)m;
                res->QM_pval = gsl_cdf_fdist_Q(res->QM, (double)m, res->df);
            } else {
                res->QM = qm;
                res->QM_pval = gsl_cdf_chisq_Q(qm, (double)m);
            }
        }
        double np = (double)(p + nc);
        res->deviance = -2 * res->logLik;
        res->AIC = -2 * res->logLik + 2 * np;
        res->BIC = -2 * res->logLik + np * log((double)(w.reml ? k - p : k));
    }
    st = res->converged ? MP_OK : MP_FAIL(MP_ENOCONV);
out:
    mvw_free(&w);
    free(th); free(best); free(XtX);
    return st;
}


/* ---- profile-likelihood intervals of the variance components ---- */

typedef struct profctx {
    mvw *w;
    double *th;      /* warm start, updated */
    size_t r, maxiter;
    double target, scale;
    int fail;
} profctx;

/* Profile log-likelihood at sigma2_r = x (the others maximised), minus the target. */
static double prof_f(double x, void *par)
{
    profctx *c = par;
    c->th[c->r] = x;
    double ll = -INFINITY;
    size_t it;
    if (c->w->nc == 1) {
        if (mv_eval(c->w, c->th, &ll, NULL) != 0) { c->fail = 1; return NAN; }
    } else if (!newton_stage(c->w, c->th, &ll, c->maxiter, 1e-12, c->scale, &it) && !isfinite(ll)) {
        c->fail = 1;
        return NAN;
    }
    return ll - c->target;
}

static double prof_root(profctx *c, double a, double b)
{
    gsl_function F = {prof_f, c};
    gsl_root_fsolver *sv = gsl_root_fsolver_alloc(gsl_root_fsolver_brent);
    if (!sv) return NAN;
    double x = NAN;
    if (gsl_root_fsolver_set(sv, &F, a, b) == GSL_SUCCESS) {
        for (int i = 0; i < 200 && !c->fail; i++) {
            if (gsl_root_fsolver_iterate(sv) != GSL_SUCCESS) break;
            double lo = gsl_root_fsolver_x_lower(sv), hi = gsl_root_fsolver_x_upper(sv);
            x = gsl_root_fsolver_root(sv);
            if (gsl_root_test_interval(lo, hi, 0, 1e-11) == GSL_SUCCESS) break;
        }
    }
    gsl_root_fsolver_free(sv);
    return c->fail ? NAN : x;
}

mp_status mp_mv_profile_ci(const double *y, const double *v, const double *X, size_t k, size_t p,
                           const mp_mv_random *re, const mp_mv_opts *o, const mp_mv_result *fit,
                           double *lb, double *ub)
{
    if (!y || !v || !X || !re || !o || !fit || !lb || !ub || !fit->sigma2 || fit->ncomp != re->ncomp ||
        re->k != k || fit->p != p || !(o->level > 0 && o->level < 100))
        return MP_FAIL(MP_EINVAL);
    const size_t nc = re->ncomp;
    for (size_t r = 0; r < nc; r++) lb[r] = ub[r] = NAN;
    mvw w;
    memset(&w, 0, sizeof w);
    w.k = k; w.p = p; w.nc = nc; w.y = y; w.v = v; w.X = X; w.re = re;
    w.reml = o->method == MP_METHOD_REML;
    w.fixed = (size_t)-1;
    mp_status st = MP_OK;
    double *XtX = malloc(p * p * sizeof *XtX), *th = malloc(nc * sizeof *th);
    if (!XtX || !th) { st = MP_FAIL(MP_ENOMEM); goto out; }
    if ((st = mvw_init(&w)) != MP_OK) goto out;
    for (size_t a = 0; a < p; a++)
        for (size_t b = 0; b < p; b++) {
            double sacc = 0;
            for (size_t i = 0; i < k; i++) sacc += X[i + a * k] * X[i + b * k];
            XtX[a + b * p] = sacc;
        }
    if (LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', (lapack_int)p, XtX, (lapack_int)p) != 0) { st = MP_FAIL(MP_ESING); goto out; }
    for (size_t c = 0; c < p; c++) w.logdetXtX += 2 * log(XtX[c + c * p]);
    /* the crossing level: metafor's confint(): ll_max - qchisq(level, 1) / 2 */
    double crit = gsl_cdf_chisq_Qinv(1 - o->level / 100, 1);
    double total = 0;
    for (size_t r = 0; r < nc; r++) total += fit->sigma2[r];
    double scale = total > 0 ? total : 1e-4;
    for (size_t r = 0; r < nc; r++) {
        if (re->nlev[r] == 1) { lb[r] = ub[r] = 0; continue; }
        w.fixed = r;
        profctx c = {&w, th, r, o->maxiter, fit->logLik - crit / 2, scale, 0};
        double s0 = fit->sigma2[r];
        /* lower bound: 0 when the profile at 0 stays above the target */
        memcpy(th, fit->sigma2, nc * sizeof *th);
        double f0 = prof_f(0, &c);
        if (c.fail) { st = MP_FAIL(MP_ENOCONV); goto out; }
        if (f0 >= 0 || s0 <= 0) lb[r] = 0;
        else {
            memcpy(th, fit->sigma2, nc * sizeof *th);
            lb[r] = prof_root(&c, 0, s0);
        }
        /* upper bound: bracket by doubling */
        memcpy(th, fit->sigma2, nc * sizeof *th);
        double lo = s0, hi = s0 > 0 ? 2 * s0 : scale, fh = prof_f(hi, &c);
        int n = 0;
        while (!c.fail && fh > 0 && n < 80) {
            lo = hi;
            hi *= 2;
            fh = prof_f(hi, &c);
            n++;
        }
        if (c.fail || fh > 0) { ub[r] = INFINITY; c.fail = 0; }
        else {
            memcpy(th, fit->sigma2, nc * sizeof *th);
            ub[r] = prof_root(&c, lo, hi);
        }
        if (c.fail || !isfinite(lb[r])) { st = MP_FAIL(MP_ENOCONV); goto out; }
    }
out:
    mvw_free(&w);
    free(XtX);
    free(th);
    return st;
}
