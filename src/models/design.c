/* src/models/design.c - moderator design matrices (formula terms, factors, I()) for meta-regression.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Treatment contrasts as R's model.matrix(~ a + b) builds them (R
 * documentation of model.matrix, contr.treatment); the rules are stated in
 * include/metapool/design.h. */
#include "metapool/design.h"
#include "metapool/reg.h"
#include "metapool/formula.h"
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One variable of the formula (a column, factor(COL) or I(expr)). */
typedef struct term {
    char name[272];     /* the column name, or "factor(COL)" */
    size_t col;         /* table column */
    int factor;         /* 1 if categorical */
    int numlev;         /* factor(COL) of an all-numeric column: levels by value */
    const char **lev;   /* sorted levels (text factor), pointing into the table */
    double *val;        /* sorted level values (numeric factor) */
    char (*lab)[32];    /* their labels, "%.15g" as R's as.character() */
    size_t nlev;        /* number of levels */
    const mp_fvar *fv;  /* the formula variable */
    size_t *xcol;       /* I(expr): table columns of its operands */
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
    free(tm->xcol);
    tm->xcol = NULL;
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

static void enc_free(struct mp_design_enc *E);

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
    enc_free(d->enc);
    mp_msgs_free(&d->warnings);
    memset(d, 0, sizeof *d);
}

/* What a design keeps to encode new rows (predictions): the formula, the
 * levels of each factor and the coding of each factor in each term. */
struct mp_design_enc {
    mp_formula f;
    int *factor;         /* per variable: 1 if categorical */
    int *numlev;         /* per variable: factor of numbers (levels by value) */
    size_t *nlev;        /* per variable: number of levels */
    char ***lev;         /* per variable: level texts (copies) */
    double **val;        /* per variable: level values (numlev) */
    unsigned char *code; /* nterm x nvar: 0 absent, 1 contrasts, 2 indicators of all levels */
};

static void enc_free(struct mp_design_enc *E)
{
    if (!E) return;
    for (size_t j = 0; j < E->f.nvar; j++) {
        if (E->lev && E->lev[j]) {
            for (size_t c = 0; c < E->nlev[j]; c++) free(E->lev[j][c]);
            free(E->lev[j]);
        }
        if (E->val) free(E->val[j]);
    }
    free(E->factor);
    free(E->numlev);
    free(E->nlev);
    free(E->lev);
    free(E->val);
    free(E->code);
    mp_formula_free(&E->f);
    free(E);
}

/* Resolve and classify variable fv (numeric or factor). */
static mp_status term_resolve(const mp_table *t, const mp_fvar *fv, term *tm, mp_error *err)
{
    memset(tm, 0, sizeof *tm);
    tm->fv = fv;
    snprintf(tm->name, sizeof tm->name, "%s", fv->label);
    const char *colname = fv->ncols ? fv->cols[0] : ""; /* I(41) reads no column */
    if (fv->kind == MP_FVAR_FACTOR) tm->factor = 1;
    size_t nr = mp_table_nrows(t);
    if (fv->kind == MP_FVAR_EXPR) {
        /* every operand of I() is a numeric column */
        tm->xcol = malloc((fv->ncols ? fv->ncols : 1) * sizeof *tm->xcol);
        if (!tm->xcol) return MP_FAIL(MP_ENOMEM);
        for (size_t c = 0; c < fv->ncols; c++) {
            long cc = mp_table_col(t, fv->cols[c]);
            if (cc < 0) {
                mp_error_set(err, mp_table_name(t), 1, 0, "no moderator column '%s' (in %s) in the header",
                             fv->cols[c], fv->label);
                return MP_FAIL(MP_EINVAL);
            }
            tm->xcol[c] = (size_t)cc;
            for (size_t i = 0; i < nr; i++) {
                if (mp_table_is_missing(t, i, tm->xcol[c])) continue;
                double x;
                mp_status st = mp_table_number(t, i, tm->xcol[c], &x, err);
                if (st != MP_OK) {
                    if (err) {
                        size_t l = strlen(err->msg);
                        snprintf(err->msg + l, sizeof err->msg - l, " in %.100s (I() takes numeric columns)",
                                 fv->label);
                    }
                    return st;
                }
            }
        }
        tm->col = fv->ncols ? tm->xcol[0] : 0;
        return MP_OK;
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

/* 1 if row i has a missing cell in a column variable tm reads; *col set. */
static int term_missing(const mp_table *t, size_t i, const term *tm, size_t *col)
{
    if (tm->fv->kind != MP_FVAR_EXPR) {
        *col = tm->col;
        return mp_table_is_missing(t, i, tm->col);
    }
    for (size_t c = 0; c < tm->fv->ncols; c++)
        if (mp_table_is_missing(t, i, tm->xcol[c])) { *col = tm->xcol[c]; return 1; }
    return 0;
}

/* The numeric value of a numeric variable at row i (NaN if not a number). */
static double term_value(const mp_table *t, size_t i, const term *tm)
{
    double x = NAN;
    if (tm->fv->kind != MP_FVAR_EXPR) {
        if (mp_table_number(t, i, tm->col, &x, NULL) != MP_OK) return NAN;
        return x;
    }
    double buf[16] = {0};
    double *v = tm->fv->ncols <= 16 ? buf : malloc(tm->fv->ncols * sizeof *v);
    if (!v) return NAN;
    for (size_t c = 0; c < tm->fv->ncols; c++)
        if (mp_table_number(t, i, tm->xcol[c], &v[c], NULL) != MP_OK) v[c] = NAN;
    x = mp_formula_eval(tm->fv, v);
    if (v != buf) free(v);
    return x;
}

/* The contrast coding of every factor in every term, as R's terms.formula
 * (TermCode in R's src/library/stats/src/model.c) and model.matrix decide
 * it: a factor v in term T is coded by contrasts (code 1) when T without v
 * is empty or is contained in a term before T, otherwise by indicators of
 * all its levels (code 2); without an intercept, the first factor of the
 * first term holding one gets indicators. */
static void term_codes(const mp_formula *f, const int *factor, unsigned char *code)
{
    for (size_t i = 0; i < f->nterm; i++)
        for (size_t j = 0; j < f->nvar; j++) {
            unsigned char c = 0;
            if (f->term[i] >> j & 1) {
                uint64_t rest = f->term[i] & ~((uint64_t)1 << j);
                c = 2;
                if (rest == 0) c = 1;
                for (size_t h = 0; c == 2 && h < i; h++)
                    if ((rest & ~f->term[h]) == 0) c = 1;
            }
            code[i * f->nvar + j] = c;
        }
    if (!f->intercept)
        for (size_t i = 0; i < f->nterm; i++)
            for (size_t j = 0; j < f->nvar; j++)
                if (factor[j] && (f->term[i] >> j & 1)) {
                    code[i * f->nvar + j] = 2;
                    return;
                }
}

/* Number of columns of term i. */
static size_t term_ncol(const struct mp_design_enc *E, size_t i)
{
    size_t n = 1;
    for (size_t j = 0; j < E->f.nvar; j++) {
        unsigned char c = E->code[i * E->f.nvar + j];
        if (!c || !E->factor[j]) continue;
        n *= c == 1 ? E->nlev[j] - 1 : E->nlev[j];
    }
    return n;
}

/* Fill the p entries of one design row (stride apart) from the variables'
 * values: num[j] for numeric variables, lev[j] (0-based level) for factors. */
static void encode_row(const struct mp_design_enc *E, const double *num, const size_t *lev,
                       double *x, size_t stride)
{
    size_t col = 0;
    if (E->f.intercept) x[(col++) * stride] = 1.0;
    const size_t nv = E->f.nvar;
    for (size_t i = 0; i < E->f.nterm; i++) {
        double numprod = 1.0;
        /* the row's column within the term: first variable fastest */
        size_t hit = 0, mult = 1;
        int zero = 0;
        for (size_t j = 0; j < nv; j++) {
            unsigned char c = E->code[i * nv + j];
            if (!c) continue;
            if (!E->factor[j]) { numprod *= num[j]; continue; }
            size_t off = c == 1 ? 1 : 0, n = E->nlev[j] - off;
            if (lev[j] < off) zero = 1;
            else hit += (lev[j] - off) * mult;
            mult *= n;
        }
        for (size_t c = 0; c < mult; c++) x[(col + c) * stride] = 0.0;
        if (!zero) x[(col + hit) * stride] = numprod;
        col += mult;
    }
}

/* The name of column c (0-based, within term i) into buf. */
static void column_name(const struct mp_design_enc *E, size_t i, size_t c, char *buf, size_t n)
{
    size_t l = 0;
    buf[0] = '\0';
    for (size_t j = 0; j < E->f.nvar; j++) {
        unsigned char code = E->code[i * E->f.nvar + j];
        if (!code) continue;
        const char *lab = "";
        char tmp[40];
        if (E->factor[j]) {
            size_t off = code == 1 ? 1 : 0, nl = E->nlev[j] - off;
            size_t li = off + c % nl;
            c /= nl;
            if (E->numlev[j]) { snprintf(tmp, sizeof tmp, "%.15g", E->val[j][li]); lab = tmp; }
            else lab = E->lev[j][li];
        }
        int w = snprintf(buf + l, n - l, "%s%s%s", l ? ":" : "", E->f.var[j].label, lab);
        if (w < 0 || (size_t)w >= n - l) return;
        l += (size_t)w;
    }
}

static char *dupstr(const char *s) { return dupcat(s, ""); }

mp_status mp_design_build(const mp_table *t, const mp_effects *e, const char *const *mods,
                          size_t nmods, int intercept, mp_design *out, mp_error *err)
{
    if (!out) return MP_FAIL(MP_EINVAL);
    memset(out, 0, sizeof *out);
    if (!t || !e || (nmods && !mods) || e->n != mp_table_nrows(t)) return MP_FAIL(MP_EINVAL);
    /* the moderators are the terms of one formula: a + b + ... */
    size_t len = 4;
    for (size_t m = 0; m < nmods; m++) {
        if (!mods[m]) return MP_FAIL(MP_EINVAL);
        char buf[8];
        if (!*trimmed(mods[m], buf, sizeof buf)) {
            mp_error_set(err, mp_table_name(t), 0, 0, "empty moderator name");
            return MP_FAIL(MP_EINVAL);
        }
        len += strlen(mods[m]) + 5;
    }
    char *fs = malloc(len);
    if (!fs) return MP_FAIL(MP_ENOMEM);
    fs[0] = '\0';
    for (size_t m = 0; m < nmods; m++) {
        if (m) strcat(fs, " + (");
        else strcat(fs, "(");
        strcat(fs, mods[m]);
        strcat(fs, ")");
    }
    if (!intercept) strcat(fs, nmods ? " - 1" : "0");
    else if (!nmods) strcat(fs, "1");
    mp_status st = mp_design_build_formula(t, e, fs, out, err);
    free(fs);
    return st;
}

mp_status mp_design_build_formula(const mp_table *t, const mp_effects *e, const char *formula,
                                  mp_design *out, mp_error *err)
{
    if (!out) return MP_FAIL(MP_EINVAL);
    memset(out, 0, sizeof *out);
    if (!t || !e || !formula || e->n != mp_table_nrows(t)) return MP_FAIL(MP_EINVAL);
    const size_t nr = mp_table_nrows(t);
    mp_status st = MP_OK;
    term *tm = NULL;
    unsigned char *in = NULL;
    double *num = NULL;
    size_t *levi = NULL;
    struct mp_design_enc *E = calloc(1, sizeof *E);
    if (!E) return MP_FAIL(MP_ENOMEM);
    if ((st = mp_formula_parse(formula, &E->f, err)) != MP_OK) {
        if (err && err->msg[0]) {
            char m[sizeof err->msg];
            snprintf(m, sizeof m, "%s", err->msg);
            mp_error_set(err, NULL, 0, 0, "--mods: %s", m);
        }
        free(E);
        return st;
    }
    const size_t nmods = E->f.nvar;
    const int intercept = E->f.intercept;
    tm = calloc(nmods ? nmods : 1, sizeof *tm);
    in = malloc(nr ? nr : 1);
    E->factor = calloc(nmods ? nmods : 1, sizeof *E->factor);
    E->numlev = calloc(nmods ? nmods : 1, sizeof *E->numlev);
    E->nlev = calloc(nmods ? nmods : 1, sizeof *E->nlev);
    E->lev = calloc(nmods ? nmods : 1, sizeof *E->lev);
    E->val = calloc(nmods ? nmods : 1, sizeof *E->val);
    E->code = calloc((E->f.nterm ? E->f.nterm : 1) * (nmods ? nmods : 1), 1);
    num = calloc(nmods ? nmods : 1, sizeof *num);
    levi = calloc(nmods ? nmods : 1, sizeof *levi);
    if (!tm || !in || !E->factor || !E->numlev || !E->nlev || !E->lev || !E->val || !E->code ||
        !num || !levi) {
        st = MP_FAIL(MP_ENOMEM);
        goto fail;
    }

    for (size_t m = 0; m < nmods; m++)
        if ((st = term_resolve(t, &E->f.var[m], &tm[m], err)) != MP_OK) goto fail;

    /* rows entering the analysis: used by the loader, no missing moderator */
    size_t k = 0;
    for (size_t i = 0; i < nr; i++) {
        in[i] = e->used[i] ? 1 : 0;
        for (size_t m = 0; in[i] && m < nmods; m++) {
            size_t mc = 0;
            int miss = term_missing(t, i, &tm[m], &mc);
            if (!miss && !tm[m].factor && !isfinite(term_value(t, i, &tm[m]))) {
                in[i] = 0;
                if ((st = mp_msgs_add(&out->warnings,
                                      "row %zu (line %zu) left out: %s is not a finite number",
                                      i + 1, mp_table_line(t, i), tm[m].name)) != MP_OK)
                    goto fail;
                continue;
            }
            if (miss) {
                in[i] = 0;
                if ((st = mp_msgs_add(&out->warnings,
                                      "row %zu (line %zu) left out: missing value (NA) in moderator column '%s'",
                                      i + 1, mp_table_line(t, i),
                                      mp_table_colname(t, mc))) != MP_OK)
                    goto fail;
            }
        }
        k += in[i];
    }

    /* levels of the factors over the rows analysed, in R's order (numbers by
     * value, text as R's sort() collates it) */
    for (size_t m = 0; m < nmods; m++) {
        if (!tm[m].factor) continue;
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
    }

    /* the encoding: levels copied, codes of the factors in each term */
    for (size_t m = 0; m < nmods; m++) {
        E->factor[m] = tm[m].factor;
        E->numlev[m] = tm[m].numlev;
        E->nlev[m] = tm[m].nlev;
        if (!tm[m].factor) continue;
        E->lev[m] = calloc(tm[m].nlev, sizeof *E->lev[m]);
        if (!E->lev[m]) { st = MP_FAIL(MP_ENOMEM); goto fail; }
        for (size_t c = 0; c < tm[m].nlev; c++)
            if (!(E->lev[m][c] = dupstr(level_name(&tm[m], c)))) { st = MP_FAIL(MP_ENOMEM); goto fail; }
        if (tm[m].numlev) {
            E->val[m] = malloc(tm[m].nlev * sizeof *E->val[m]);
            if (!E->val[m]) { st = MP_FAIL(MP_ENOMEM); goto fail; }
            memcpy(E->val[m], tm[m].val, tm[m].nlev * sizeof *E->val[m]);
        }
    }
    term_codes(&E->f, E->factor, E->code);
    size_t p = (size_t)intercept;
    for (size_t i = 0; i < E->f.nterm; i++) p += term_ncol(E, i);
    if (p == 0) {
        mp_error_set(err, mp_table_name(t), 0, 0, "--mods: the model has no coefficients");
        st = MP_FAIL(MP_EINVAL);
        goto fail;
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
    {
        size_t j = 0;
        if (intercept && !(out->names[j++] = dupstr("intrcpt"))) { st = MP_FAIL(MP_ENOMEM); goto fail; }
        for (size_t i = 0; i < E->f.nterm; i++) {
            size_t nc = term_ncol(E, i);
            for (size_t c = 0; c < nc; c++) {
                char nb[1024];
                column_name(E, i, c, nb, sizeof nb);
                if (!(out->names[j++] = dupstr(nb))) { st = MP_FAIL(MP_ENOMEM); goto fail; }
            }
        }
    }
    {
        size_t r = 0;
        for (size_t i = 0; i < nr; i++) {
            if (!in[i]) continue;
            for (size_t m = 0; m < nmods; m++) {
                if (!tm[m].factor) { num[m] = term_value(t, i, &tm[m]); continue; }
                for (size_t c = 0; c < tm[m].nlev; c++)
                    if (is_level(t, i, &tm[m], c)) { levi[m] = c; break; }
            }
            encode_row(E, num, levi, out->X + r, k);
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
    free(num);
    free(levi);
    out->enc = E;
    return MP_OK;

fail:
    if (tm)
        for (size_t m = 0; m < nmods; m++) term_free(&tm[m]);
    free(tm);
    free(in);
    free(num);
    free(levi);
    enc_free(E);
    mp_design_free(out);
    return st;
}

mp_status mp_design_newrows(const mp_design *d, const mp_table *nt, double **Xout, size_t *nout,
                            mp_error *err)
{
    if (!Xout || !nout) return MP_FAIL(MP_EINVAL);
    *Xout = NULL;
    *nout = 0;
    if (!d || !nt || !d->enc) return MP_FAIL(MP_EINVAL);
    const struct mp_design_enc *E = d->enc;
    const size_t nv = E->f.nvar, n = mp_table_nrows(nt), p = d->p;
    mp_status st = MP_OK;
    /* table columns of every variable's operands */
    size_t ncolt = 0;
    for (size_t j = 0; j < nv; j++) ncolt += E->f.var[j].ncols;
    size_t *cols = malloc((ncolt ? ncolt : 1) * sizeof *cols);
    double *num = calloc(nv ? nv : 1, sizeof *num), *xv = malloc((ncolt ? ncolt : 1) * sizeof *xv);
    size_t *levi = calloc(nv ? nv : 1, sizeof *levi);
    double *X = malloc(mp_mul_size(mp_mul_size(n ? n : 1, p), sizeof *X));
    if (!cols || !num || !xv || !levi || !X) { st = MP_FAIL(MP_ENOMEM); goto out; }
    for (size_t j = 0, q = 0; j < nv; j++)
        for (size_t c = 0; c < E->f.var[j].ncols; c++, q++) {
            long cc = mp_table_col(nt, E->f.var[j].cols[c]);
            if (cc < 0) {
                mp_error_set(err, mp_table_name(nt), 1, 0, "no moderator column '%s' in the header",
                             E->f.var[j].cols[c]);
                st = MP_FAIL(MP_EINVAL);
                goto out;
            }
            cols[q] = (size_t)cc;
        }
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0, q = 0; j < nv; j++) {
            const mp_fvar *fv = &E->f.var[j];
            for (size_t c = 0; c < fv->ncols; c++, q++) {
                size_t col = cols[q];
                if (mp_table_is_missing(nt, i, col)) {
                    mp_error_set(err, mp_table_name(nt), mp_table_line(nt, i), col + 1,
                                 "missing value in moderator column '%s'", mp_table_colname(nt, col));
                    st = MP_FAIL(MP_EPARSE);
                    goto out;
                }
                if (E->factor[j]) {
                    const char *cell = mp_table_cell(nt, i, col);
                    size_t c2 = E->nlev[j];
                    for (size_t l = 0; l < E->nlev[j]; l++) {
                        if (E->numlev[j]) {
                            double x;
                            if (mp_parse_double(cell, strlen(cell), &x) == 1 && x == E->val[j][l]) { c2 = l; break; }
                        } else if (strcmp(cell, E->lev[j][l]) == 0) { c2 = l; break; }
                    }
                    if (c2 == E->nlev[j]) {
                        mp_error_set(err, mp_table_name(nt), mp_table_line(nt, i), col + 1,
                                     "'%.60s' is not a level of %s in the data fitted", cell, fv->label);
                        st = MP_FAIL(MP_EPARSE);
                        goto out;
                    }
                    levi[j] = c2;
                } else if ((st = mp_table_number(nt, i, col, &xv[q], err)) != MP_OK) {
                    goto out;
                }
            }
            if (!E->factor[j])
                num[j] = fv->kind == MP_FVAR_EXPR ? mp_formula_eval(fv, xv + q - fv->ncols) : xv[q - 1];
        }
        encode_row(E, num, levi, X + i, n);
    }
    *Xout = X;
    *nout = n;
    X = NULL;
out:
    free(cols);
    free(num);
    free(xv);
    free(levi);
    free(X);
    return st;
}

mp_status mp_design_axis(const mp_design *d, const char **col, int *factor, size_t *nlev,
                         const char *const **lev)
{
    if (!d || !d->enc || !col || !factor || !nlev || !lev) return MP_FAIL(MP_EINVAL);
    const struct mp_design_enc *E = d->enc;
    const char *c0 = NULL;
    size_t fv = (size_t)-1;
    for (size_t j = 0; j < E->f.nvar; j++)
        for (size_t c = 0; c < E->f.var[j].ncols; c++) {
            if (!c0) c0 = E->f.var[j].cols[c];
            else if (strcmp(c0, E->f.var[j].cols[c]) != 0) return MP_FAIL(MP_EINVAL);
            if (E->factor[j]) fv = j;
        }
    if (!c0) return MP_FAIL(MP_EINVAL);
    /* a column both as a factor and as a number (factor(x) + x) has no one axis */
    if (fv != (size_t)-1 && E->f.nvar > 1) return MP_FAIL(MP_EINVAL);
    *col = c0;
    *factor = fv != (size_t)-1;
    *nlev = *factor ? E->nlev[fv] : 0;
    *lev = *factor ? (const char *const *)E->lev[fv] : NULL;
    return MP_OK;
}
