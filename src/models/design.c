/* src/design.c - moderator design matrices (numeric columns, factors) for meta-regression.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Treatment contrasts as R's model.matrix(~ a + b) builds them (R
 * documentation of model.matrix, contr.treatment); the rules are stated in
 * include/metapool/design.h. */
#include "metapool/design.h"
#include "metapool/reg.h"
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One moderator term. */
typedef struct term {
    char name[272];     /* the column name, or "factor(COL)" */
    size_t col;         /* table column */
    int factor;         /* 1 if categorical */
    int numlev;         /* factor(COL) of an all-numeric column: levels by value */
    const char **lev;   /* sorted levels (text factor), pointing into the table */
    double *val;        /* sorted level values (numeric factor) */
    char (*lab)[32];    /* their labels, "%.15g" as R's as.character() */
    size_t nlev;        /* number of levels */
} term;

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void term_free(term *tm)
{
    free(tm->lev);
    free(tm->val);
    free(tm->lab);
    tm->lev = NULL;
    tm->val = NULL;
    tm->lab = NULL;
}

/* Level label of factor level c (0-based). */
static const char *level_name(const term *tm, size_t c)
{
    return tm->numlev ? tm->lab[c] : tm->lev[c];
}

/* 1 if cell (i, col) of the table is level c of the factor. */
static int is_level(const mp_table *t, size_t i, const term *tm, size_t c)
{
    if (!tm->numlev) return strcmp(mp_table_cell(t, i, tm->col), tm->lev[c]) == 0;
    double x;
    const char *cell = mp_table_cell(t, i, tm->col);
    return mp_parse_double(cell, strlen(cell), &x) == 1 && x == tm->val[c];
}

/* Text levels in the order of R's factor() (sort(unique(x)) in an English
 * UTF-8 locale: ICU collation, see src/io/collate.c). */
static int cmp_str(const void *a, const void *b)
{
    return mp_collate_cmp(*(const char *const *)a, *(const char *const *)b);
}

/* Copy s without surrounding blanks into buf (s may point into buf); returns buf. */
static const char *trimmed(const char *s, char *buf, size_t bufsz)
{
    while (*s == ' ' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    if (n >= bufsz) n = bufsz - 1;
    memmove(buf, s, n);
    buf[n] = '\0';
    return buf;
}

static char *dupcat(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    char *s = malloc(na + nb + 1);
    if (!s) return NULL;
    memcpy(s, a, na);
    memcpy(s + na, b, nb + 1);
    return s;
}

void mp_design_free(mp_design *d)
{
    if (!d) return;
    if (d->names)
        for (size_t j = 0; j < d->p; j++) free(d->names[j]);
    free(d->names);
    free(d->X);
    free(d->y);
    free(d->v);
    free(d->row);
    mp_msgs_free(&d->warnings);
    memset(d, 0, sizeof *d);
}

/* Resolve and classify moderator m (numeric or factor). */
static mp_status term_resolve(const mp_table *t, const char *spec, term *tm, mp_error *err)
{
    char buf[256];
    const char *s = trimmed(spec, buf, sizeof buf);
    const char *colname = s;
    char inner[256];
    size_t n = strlen(s);
    memset(tm, 0, sizeof *tm);
    if (n > 8 && strncmp(s, "factor(", 7) == 0 && s[n - 1] == ')') {
        memcpy(inner, s + 7, n - 8);
        inner[n - 8] = '\0';
        colname = trimmed(inner, inner, sizeof inner);
        tm->factor = 1;
        snprintf(tm->name, sizeof tm->name, "factor(%s)", colname);
    } else {
        snprintf(tm->name, sizeof tm->name, "%s", colname);
    }
    if (!*colname) {
        mp_error_set(err, mp_table_name(t), 0, 0, "empty moderator name");
        return MP_FAIL(MP_EINVAL);
    }
    long c = mp_table_col(t, colname);
    if (c < 0) {
        mp_error_set(err, mp_table_name(t), 1, 0, "no moderator column '%s' in the header", colname);
        return MP_FAIL(MP_EINVAL);
    }
    tm->col = (size_t)c;
    size_t nr = mp_table_nrows(t);
    if (tm->factor) {
        /* factor() of an all-numeric column orders its levels by value, as
         * R's factor() does for a numeric vector */
        int allnum = 1, any = 0;
        for (size_t i = 0; i < nr && allnum; i++) {
            if (mp_table_is_missing(t, i, tm->col)) continue;
            const char *cell = mp_table_cell(t, i, tm->col);
            double x;
            allnum = mp_parse_double(cell, strlen(cell), &x) == 1;
            any = 1;
        }
        tm->numlev = allnum && any;
        return MP_OK;
    }
    /* numeric if any non-missing cell is a number; then all must be */
    int numeric = 0;
    for (size_t i = 0; i < nr && !numeric; i++) {
        if (mp_table_is_missing(t, i, tm->col)) continue;
        const char *cell = mp_table_cell(t, i, tm->col);
        double x;
        numeric = mp_parse_double(cell, strlen(cell), &x) == 1;
    }
    tm->factor = !numeric;
    if (!numeric) return MP_OK;
    for (size_t i = 0; i < nr; i++) {
        if (mp_table_is_missing(t, i, tm->col)) continue;
        double x;
        mp_status st = mp_table_number(t, i, tm->col, &x, err);
        if (st != MP_OK) {
            if (err) {
                size_t l = strlen(err->msg);
                snprintf(err->msg + l, sizeof err->msg - l,
                         " in a numeric moderator (use factor(%.60s) for a categorical one)",
                         colname);
            }
            return st;
        }
    }
    return MP_OK;
}

mp_status mp_design_build(const mp_table *t, const mp_effects *e, const char *const *mods,
                          size_t nmods, int intercept, mp_design *out, mp_error *err)
{
    if (!out) return MP_FAIL(MP_EINVAL);
    memset(out, 0, sizeof *out);
    if (!t || !e || (nmods && !mods) || e->n != mp_table_nrows(t)) return MP_FAIL(MP_EINVAL);
    intercept = intercept ? 1 : 0;
    if (nmods == 0 && !intercept) return MP_FAIL(MP_EINVAL);
    const size_t nr = mp_table_nrows(t);
    mp_status st = MP_OK;
    term *tm = calloc(nmods ? nmods : 1, sizeof *tm);
    unsigned char *in = malloc(nr ? nr : 1);
    if (!tm || !in) { st = MP_FAIL(MP_ENOMEM); goto fail; }

    for (size_t m = 0; m < nmods; m++)
        if ((st = term_resolve(t, mods[m], &tm[m], err)) != MP_OK) goto fail;

    /* rows entering the analysis: used by the loader, no missing moderator */
    size_t k = 0;
    for (size_t i = 0; i < nr; i++) {
        in[i] = e->used[i] ? 1 : 0;
        for (size_t m = 0; in[i] && m < nmods; m++) {
            if (mp_table_is_missing(t, i, tm[m].col)) {
                in[i] = 0;
                if ((st = mp_msgs_add(&out->warnings,
                                      "row %zu (line %zu) left out: missing value (NA) in moderator column '%s'",
                                      i + 1, mp_table_line(t, i),
                                      mp_table_colname(t, tm[m].col))) != MP_OK)
                    goto fail;
            }
        }
        k += in[i];
    }

    /* levels of the factors over the rows analysed, in R's order (numbers by
     * value, text as R's sort() collates it) */
    size_t p = (size_t)intercept;
    for (size_t m = 0; m < nmods; m++) {
        if (!tm[m].factor) { p++; continue; }
        size_t n = 0, u = 0;
        if (tm[m].numlev) {
            tm[m].val = malloc((k ? k : 1) * sizeof *tm[m].val);
            tm[m].lab = malloc((k ? k : 1) * sizeof *tm[m].lab);
            if (!tm[m].val || !tm[m].lab) { st = MP_FAIL(MP_ENOMEM); goto fail; }
            for (size_t i = 0; i < nr; i++)
                if (in[i]) {
                    const char *cell = mp_table_cell(t, i, tm[m].col);
                    mp_parse_double(cell, strlen(cell), &tm[m].val[n++]);
                }
            qsort(tm[m].val, n, sizeof *tm[m].val, cmp_dbl);
            for (size_t i = 0; i < n; i++)
                if (u == 0 || tm[m].val[u - 1] != tm[m].val[i]) tm[m].val[u++] = tm[m].val[i];
            for (size_t i = 0; i < u; i++)
                snprintf(tm[m].lab[i], sizeof tm[m].lab[i], "%.15g", tm[m].val[i]);
        } else {
            tm[m].lev = malloc((k ? k : 1) * sizeof *tm[m].lev);
            if (!tm[m].lev) { st = MP_FAIL(MP_ENOMEM); goto fail; }
            for (size_t i = 0; i < nr; i++)
                if (in[i]) tm[m].lev[n++] = mp_table_cell(t, i, tm[m].col);
            qsort(tm[m].lev, n, sizeof *tm[m].lev, cmp_str);
            for (size_t i = 0; i < n; i++)
                if (u == 0 || strcmp(tm[m].lev[u - 1], tm[m].lev[i]) != 0)
                    tm[m].lev[u++] = tm[m].lev[i];
        }
        tm[m].nlev = u;
        if (u < 2) {
            if (u == 0)
                mp_error_set(err, mp_table_name(t), 0, 0,
                             "moderator '%s' has no values in the rows analysed", tm[m].name);
            else
                mp_error_set(err, mp_table_name(t), 0, 0,
                             "moderator '%s' has a single level '%.60s' in the rows analysed: "
                             "a factor needs two or more", tm[m].name, level_name(&tm[m], 0));
            st = MP_FAIL(MP_ESING);
            goto fail;
        }
        p += u - 1;
    }

    /* the matrix, responses and names */
    out->k = k;
    out->p = p;
    out->intercept = intercept;
    size_t kp = mp_mul_size(k ? k : 1, p);
    out->X = malloc(mp_mul_size(kp, sizeof(double)));
    out->y = malloc((k ? k : 1) * sizeof(double));
    out->v = malloc((k ? k : 1) * sizeof(double));
    out->row = malloc((k ? k : 1) * sizeof(size_t));
    out->names = calloc(p, sizeof(char *));
    if (!kp || !out->X || !out->y || !out->v || !out->row || !out->names) {
        st = MP_FAIL(MP_ENOMEM);
        goto fail;
    }
    size_t j = 0;
    if (intercept) {
        if (!(out->names[j] = dupcat("intrcpt", ""))) { st = MP_FAIL(MP_ENOMEM); goto fail; }
        for (size_t i = 0; i < k; i++) out->X[i] = 1.0;
        j++;
    }
    for (size_t m = 0; m < nmods; m++) {
        size_t ncol = tm[m].factor ? tm[m].nlev - 1 : 1;
        for (size_t c = 0; c < ncol; c++) {
            out->names[j + c] = dupcat(tm[m].name, tm[m].factor ? level_name(&tm[m], c + 1) : "");
            if (!out->names[j + c]) { st = MP_FAIL(MP_ENOMEM); goto fail; }
        }
        size_t r = 0;
        for (size_t i = 0; i < nr; i++) {
            if (!in[i]) continue;
            if (!tm[m].factor) {
                /* validated in term_resolve */
                mp_table_number(t, i, tm[m].col, &out->X[r + j * k], NULL);
            } else {
                for (size_t c = 0; c < ncol; c++)
                    out->X[r + (j + c) * k] = is_level(t, i, &tm[m], c + 1) ? 1.0 : 0.0;
            }
            r++;
        }
        j += ncol;
    }
    {
        size_t r = 0;
        for (size_t i = 0; i < nr; i++) {
            if (!in[i]) continue;
            out->y[r] = e->yi[i];
            out->v[r] = e->vi[i];
            out->row[r] = i;
            r++;
        }
    }

    if (k <= p) {
        mp_error_set(err, mp_table_name(t), 0, 0,
                     "%zu studies for %zu coefficients: a meta-regression needs more studies than "
                     "coefficients (no residual degrees of freedom)", k, p);
        st = MP_FAIL(MP_ETOOFEW);
        goto fail;
    }
    size_t bad = 0;
    st = mp_reg_check_rank(out->X, k, p, 0.0, &bad);
    if (st == MP_ESING) {
        mp_error_set(err, mp_table_name(t), 0, 0,
                     "coefficient '%s' is a linear combination of %s (constant, duplicated or "
                     "collinear moderators); remove one of them",
                     out->names[bad], bad == 0 ? "nothing (an all-zero column)" :
                     bad == 1 ? "the one before it" : "the ones before it");
        goto fail;
    } else if (st != MP_OK) {
        goto fail;
    }
    for (size_t m = 0; m < nmods; m++) term_free(&tm[m]);
    free(tm);
    free(in);
    return MP_OK;

fail:
    if (tm)
        for (size_t m = 0; m < nmods; m++) term_free(&tm[m]);
    free(tm);
    free(in);
    mp_design_free(out);
    return st;
}
