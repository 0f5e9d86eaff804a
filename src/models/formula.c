/* src/models/formula.c - parse the right-hand side of an R model formula (terms, I(), factor()).
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A recursive-descent parser whose values are SETS OF TERMS, as R's
 * terms.formula() reads a formula (R documentation of formula; Chambers &
 * Hastie 1992, Statistical Models in S, ch. 2): A + B is the union, A:B the
 * set of pairwise unions of their terms, A*B = A + B + A:B.  A term is a
 * bit set over the variables; the empty term is the intercept.  I()
 * expressions are parsed into a small tree and deparsed as R deparses them
 * (blanks around + - *, none around / and ^), which gives R's column names.
 * The rules users see are in include/metapool/formula.h. */
#include "metapool/formula.h"
#include "internal.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct tset {
    uint64_t *t;
    size_t n, cap;
} tset;

typedef struct parser {
    const char *s;     /* the whole text */
    size_t i;          /* position */
    mp_formula *f;
    mp_error *err;
    int no_intercept;  /* "- 1" or "0" seen */
    int want_intercept; /* "+ 1" seen after a removal */
    mp_status st;
} parser;

static void tset_free(tset *a) { free(a->t); a->t = NULL; a->n = a->cap = 0; }

static int tset_add(tset *a, uint64_t t)
{
    for (size_t i = 0; i < a->n; i++)
        if (a->t[i] == t) return 1;
    if (a->n == a->cap) {
        size_t c = a->cap ? 2 * a->cap : 8;
        uint64_t *p = realloc(a->t, c * sizeof *p);
        if (!p) return 0;
        a->t = p;
        a->cap = c;
    }
    a->t[a->n++] = t;
    return 1;
}

static void fail(parser *P, mp_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static void fail(parser *P, mp_status st, const char *fmt, ...)
{
    if (P->st != MP_OK) return;
    P->st = MP_FAIL(st);
    if (!P->err) return;
    char buf[sizeof P->err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    mp_error_set(P->err, NULL, 0, 0, "%s", buf);
}

/* Add term t to a; a message and 0 on failure.  A formula of more than
 * MAXTERMS terms (a*b*c*... of many variables has 2^n) is refused. */
#define MAXTERMS 4096
static int add_term(parser *P, tset *a, uint64_t t)
{
    if (P->st != MP_OK) return 0;
    if (a->n >= MAXTERMS) {
        fail(P, MP_EINVAL, "the formula '%.100s' expands to more than %d terms", P->s, MAXTERMS);
        return 0;
    }
    if (!tset_add(a, t)) { fail(P, MP_ENOMEM, "out of memory%s", ""); return 0; }
    return 1;
}

static void skip_ws(parser *P)
{
    while (P->s[P->i] == ' ' || P->s[P->i] == '\t' || P->s[P->i] == '\n' || P->s[P->i] == '\r')
        P->i++;
}

static int peek(parser *P)
{
    skip_ws(P);
    return (unsigned char)P->s[P->i];
}

static int is_name_start(int c) { return isalpha(c) || c == '.' || c == '_' || c >= 0x80; }
static int is_name_char(int c) { return isalnum(c) || c == '.' || c == '_' || c >= 0x80; }

/* Read a name (plain or `quoted`) into a malloc'd string; NULL if none. */
static char *read_name(parser *P)
{
    skip_ws(P);
    const char *s = P->s + P->i;
    size_t n = 0;
    if (*s == '`') {
        const char *e = strchr(s + 1, '`');
        if (!e) { fail(P, MP_EINVAL, "unterminated back-quoted name in '%.200s'", P->s); return NULL; }
        n = (size_t)(e - s - 1);
        char *r = malloc(n + 1);
        if (!r) { fail(P, MP_ENOMEM, "out of memory%s", ""); return NULL; }
        memcpy(r, s + 1, n);
        r[n] = '\0';
        P->i += n + 2;
        return r;
    }
    if (!is_name_start((unsigned char)*s)) return NULL;
    if (*s == '.' && isdigit((unsigned char)s[1])) return NULL;
    while (is_name_char((unsigned char)s[n])) n++;
    char *r = malloc(n + 1);
    if (!r) { fail(P, MP_ENOMEM, "out of memory%s", ""); return NULL; }
    memcpy(r, s, n);
    r[n] = '\0';
    P->i += n;
    return r;
}

/* The text from position a to the parenthesis matching the one at or after a. */
static void call_text(parser *P, size_t a, char *buf, size_t n)
{
    size_t i = a;
    int depth = 0;
    while (P->s[i]) {
        if (P->s[i] == '(') depth++;
        else if (P->s[i] == ')' && --depth <= 0) { i++; break; }
        i++;
    }
    size_t len = i - a;
    if (len >= n) len = n - 1;
    memcpy(buf, P->s + a, len);
    buf[len] = '\0';
}

/* ---- variables ---- */

static size_t find_var(const mp_formula *f, const char *label)
{
    for (size_t j = 0; j < f->nvar; j++)
        if (strcmp(f->var[j].label, label) == 0) return j;
    return (size_t)-1;
}

/* Add variable v (taking ownership) unless its label is known; returns its
 * index, (size_t)-1 on failure (v freed). */
static void fvar_free(mp_fvar *v)
{
    free(v->label);
    for (size_t c = 0; c < v->ncols; c++) free(v->cols[c]);
    free(v->cols);
    free(v->node);
    memset(v, 0, sizeof *v);
}

static size_t add_var(parser *P, mp_fvar *v)
{
    mp_formula *f = P->f;
    size_t j = find_var(f, v->label);
    if (j != (size_t)-1) { fvar_free(v); return j; }
    if (f->nvar == 64) {
        fail(P, MP_EINVAL, "too many variables in the formula (at most 64): '%.200s'", P->s);
        fvar_free(v);
        return (size_t)-1;
    }
    mp_fvar *nv = realloc(f->var, (f->nvar + 1) * sizeof *nv);
    if (!nv) { fail(P, MP_ENOMEM, "out of memory%s", ""); fvar_free(v); return (size_t)-1; }
    f->var = nv;
    f->var[f->nvar] = *v;
    return f->nvar++;
}

static int var_add_col(mp_fvar *v, const char *name, size_t *idx)
{
    for (size_t c = 0; c < v->ncols; c++)
        if (strcmp(v->cols[c], name) == 0) { *idx = c; return 1; }
    char **nc = realloc(v->cols, (v->ncols + 1) * sizeof *nc);
    if (!nc) return 0;
    v->cols = nc;
    size_t n = strlen(name);
    if (!(v->cols[v->ncols] = malloc(n + 1))) return 0;
    memcpy(v->cols[v->ncols], name, n + 1);
    *idx = v->ncols++;
    return 1;
}

/* ---- I() expressions ---- */

typedef struct xbuild {
    parser *P;
    mp_fvar *v;
    size_t cap;
} xbuild;

static size_t xnode(xbuild *X, mp_fexpr_op op, double num, size_t col, size_t a, size_t b)
{
    if (X->P->st != MP_OK) return 0;
    if (X->v->nnode == X->cap) {
        size_t c = X->cap ? 2 * X->cap : 16;
        mp_fexpr *p = realloc(X->v->node, c * sizeof *p);
        if (!p) { fail(X->P, MP_ENOMEM, "out of memory%s", ""); return 0; }
        X->v->node = p;
        X->cap = c;
    }
    mp_fexpr *e = &X->v->node[X->v->nnode];
    e->op = op;
    e->num = num;
    e->col = col;
    e->a = a;
    e->b = b;
    return X->v->nnode++;
}

static size_t x_sum(xbuild *X);

static size_t x_primary(xbuild *X)
{
    parser *P = X->P;
    int c = peek(P);
    if (c == '(') {
        P->i++;
        size_t a = x_sum(X);
        if (peek(P) != ')') { fail(P, MP_EINVAL, "missing ')' in I() of '%.200s'", P->s); return 0; }
        P->i++;
        return xnode(X, MP_FX_PAREN, 0, 0, a, 0);
    }
    if (isdigit(c) || (c == '.' && isdigit((unsigned char)P->s[P->i + 1]))) {
        char *end;
        double x = strtod(P->s + P->i, &end);
        P->i = (size_t)(end - P->s);
        if (P->s[P->i] == 'L') P->i++; /* R's integer suffix */
        return xnode(X, MP_FX_NUM, x, 0, 0, 0);
    }
    size_t at = P->i;
    char *name = read_name(P);
    if (!name) {
        if (P->st == MP_OK) fail(P, MP_EINVAL, "unexpected text in I() of '%.200s'", P->s);
        return 0;
    }
    if (peek(P) == '(') {
        static const struct { const char *n; mp_fexpr_op op; } fn[] = {
            {"log", MP_FX_LOG}, {"exp", MP_FX_EXP}, {"sqrt", MP_FX_SQRT}, {"abs", MP_FX_ABS}};
        for (size_t k = 0; k < sizeof fn / sizeof fn[0]; k++)
            if (strcmp(name, fn[k].n) == 0) {
                free(name);
                P->i++;
                size_t a = x_sum(X);
                if (peek(P) != ')') { fail(P, MP_EINVAL, "missing ')' in I() of '%.200s'", P->s); return 0; }
                P->i++;
                return xnode(X, fn[k].op, 0, 0, a, 0);
            }
        char buf[240];
        call_text(P, at, buf, sizeof buf);
        free(name);
        fail(P, MP_EINVAL, "unsupported function in I(): '%s' (I() takes + - * / ^, log, exp, sqrt, abs)", buf);
        return 0;
    }
    size_t idx = 0;
    if (!var_add_col(X->v, name, &idx)) { free(name); fail(P, MP_ENOMEM, "out of memory%s", ""); return 0; }
    free(name);
    return xnode(X, MP_FX_COL, 0, idx, 0, 0);
}

/* R: ^ binds tighter than unary minus and is right-associative. */
static size_t x_unary(xbuild *X);

static size_t x_power(xbuild *X)
{
    size_t a = x_primary(X);
    if (X->P->st == MP_OK && peek(X->P) == '^') {
        X->P->i++;
        size_t b = x_unary(X);
        return xnode(X, MP_FX_POW, 0, 0, a, b);
    }
    return a;
}

static size_t x_unary(xbuild *X)
{
    int c = peek(X->P);
    if (c == '-') {
        X->P->i++;
        size_t a = x_unary(X);
        return xnode(X, MP_FX_NEG, 0, 0, a, 0);
    }
    if (c == '+') { X->P->i++; return x_unary(X); }
    return x_power(X);
}

static size_t x_prod(xbuild *X)
{
    size_t a = x_unary(X);
    for (;;) {
        int c = peek(X->P);
        if (X->P->st != MP_OK || (c != '*' && c != '/')) return a;
        X->P->i++;
        size_t b = x_unary(X);
        a = xnode(X, c == '*' ? MP_FX_MUL : MP_FX_DIV, 0, 0, a, b);
    }
}

static size_t x_sum(xbuild *X)
{
    size_t a = x_prod(X);
    for (;;) {
        int c = peek(X->P);
        if (X->P->st != MP_OK || (c != '+' && c != '-')) return a;
        X->P->i++;
        size_t b = x_prod(X);
        a = xnode(X, c == '+' ? MP_FX_ADD : MP_FX_SUB, 0, 0, a, b);
    }
}

/* A number as R's deparse() writes it: up to 15 significant digits, fixed
 * or scientific notation, whichever is shorter (fixed on a tie). */
static void deparse_num(double x, char *buf, size_t n)
{
    if (x == 0) { snprintf(buf, n, "0"); return; }
    if (!isfinite(x)) { snprintf(buf, n, isnan(x) ? "NaN" : x > 0 ? "Inf" : "-Inf"); return; }
    char m[64];
    snprintf(m, sizeof m, "%.14e", fabs(x));
    char *e = strchr(m, 'e');
    int ex = atoi(e + 1);
    /* significant digits: mantissa without trailing zeros */
    char dig[32];
    size_t nd = 0;
    for (char *q = m; q < e; q++)
        if (isdigit((unsigned char)*q)) dig[nd++] = *q;
    while (nd > 1 && dig[nd - 1] == '0') nd--;
    dig[nd] = '\0';
    char sci[64], fix[400];
    snprintf(sci, sizeof sci, "%s%c%s%s%se%c%02d", x < 0 ? "-" : "", dig[0], nd > 1 ? "." : "",
             nd > 1 ? dig + 1 : "", "", ex < 0 ? '-' : '+', abs(ex));
    int dec = (int)nd - 1 - ex;
    if (dec < 0) dec = 0;
    snprintf(fix, sizeof fix, "%.*f", dec, x);
    if (strlen(fix) <= strlen(sci)) snprintf(buf, n, "%s", fix);
    else snprintf(buf, n, "%s", sci);
}

/* Deparse node i of v into buf (append). */
static void deparse(const mp_fvar *v, size_t i, char *buf, size_t n)
{
    const mp_fexpr *e = &v->node[i];
    size_t l = strlen(buf);
    char *o = buf + l;
    size_t r = l < n ? n - l : 0;
    static const char *const bin[] = {[MP_FX_ADD] = " + ", [MP_FX_SUB] = " - ",
                                      [MP_FX_MUL] = " * ", [MP_FX_DIV] = "/", [MP_FX_POW] = "^"};
    switch (e->op) {
    case MP_FX_NUM: {
        char t[64];
        deparse_num(e->num, t, sizeof t);
        snprintf(o, r, "%s", t);
        break;
    }
    case MP_FX_COL: {
        /* a name that is not syntactic is back-quoted by deparse */
        const char *nm = v->cols[e->col];
        int ok = is_name_start((unsigned char)nm[0]) && !(nm[0] == '.' && isdigit((unsigned char)nm[1]));
        for (const char *q = nm; ok && *q; q++) ok = is_name_char((unsigned char)*q);
        snprintf(o, r, ok ? "%s" : "`%s`", nm);
        break;
    }
    case MP_FX_NEG:
        snprintf(o, r, "-");
        deparse(v, e->a, buf, n);
        break;
    case MP_FX_PAREN:
    case MP_FX_LOG:
    case MP_FX_EXP:
    case MP_FX_SQRT:
    case MP_FX_ABS:
        snprintf(o, r, "%s(", e->op == MP_FX_PAREN ? "" : e->op == MP_FX_LOG ? "log" :
                 e->op == MP_FX_EXP ? "exp" : e->op == MP_FX_SQRT ? "sqrt" : "abs");
        deparse(v, e->a, buf, n);
        l = strlen(buf);
        if (l + 1 < n) { buf[l] = ')'; buf[l + 1] = '\0'; }
        break;
    default:
        deparse(v, e->a, buf, n);
        l = strlen(buf);
        snprintf(buf + l, l < n ? n - l : 0, "%s", bin[e->op]);
        deparse(v, e->b, buf, n);
        break;
    }
}

double mp_formula_eval(const mp_fvar *v, const double *x)
{
    if (!v || v->kind != MP_FVAR_EXPR || v->nnode == 0) return NAN;
    /* children always precede their parent: evaluate in order */
    double stackbuf[64];
    double *val = v->nnode <= 64 ? stackbuf : malloc(v->nnode * sizeof *val);
    if (!val) return NAN;
    for (size_t i = 0; i < v->nnode; i++) {
        const mp_fexpr *e = &v->node[i];
        double a = e->op >= MP_FX_NEG ? val[e->a] : 0, b = 0;
        if (e->op >= MP_FX_ADD && e->op <= MP_FX_POW) b = val[e->b];
        switch (e->op) {
        case MP_FX_NUM: val[i] = e->num; break;
        case MP_FX_COL: val[i] = x[e->col]; break;
        case MP_FX_NEG: val[i] = -a; break;
        case MP_FX_ADD: val[i] = a + b; break;
        case MP_FX_SUB: val[i] = a - b; break;
        case MP_FX_MUL: val[i] = a * b; break;
        case MP_FX_DIV: val[i] = a / b; break;
        case MP_FX_POW: val[i] = (b == 2) ? a * a : pow(a, b); break;
        case MP_FX_PAREN: val[i] = a; break;
        case MP_FX_LOG: val[i] = log(a); break;
        case MP_FX_EXP: val[i] = exp(a); break;
        case MP_FX_SQRT: val[i] = sqrt(a); break;
        case MP_FX_ABS: val[i] = fabs(a); break;
        }
    }
    double r = val[v->nnode - 1];
    if (val != stackbuf) free(val);
    return r;
}

/* ---- terms ---- */

static int tset_single(parser *P, tset *out, size_t var)
{
    if (var == (size_t)-1) return 0;
    return add_term(P, out, (uint64_t)1 << var);
}

static void p_sum(parser *P, tset *out);

static void p_atom(parser *P, tset *out)
{
    int c = peek(P);
    if (c == '(') {
        P->i++;
        p_sum(P, out);
        if (P->st == MP_OK && peek(P) != ')') fail(P, MP_EINVAL, "missing ')' in '%.200s'", P->s);
        P->i++;
        return;
    }
    if (isdigit(c)) {
        char *end;
        double x = strtod(P->s + P->i, &end);
        size_t at = P->i;
        P->i = (size_t)(end - P->s);
        if (x == 1) { add_term(P, out, 0); return; }
        if (x == 0) { P->no_intercept = 1; return; }
        char buf[64];
        snprintf(buf, sizeof buf, "%.*s", (int)(P->i - at), P->s + at);
        fail(P, MP_EINVAL, "unsupported term '%s' (a number in a formula can only be 1 or 0)", buf);
        return;
    }
    skip_ws(P);
    size_t at = P->i;
    char *name = read_name(P);
    if (!name) {
        if (P->st != MP_OK) return;
        if (!P->s[P->i]) fail(P, MP_EINVAL, "the formula '%.200s' ends where a term is expected", P->s);
        else {
            char buf[64];
            snprintf(buf, sizeof buf, "%.20s", P->s + P->i);
            fail(P, MP_EINVAL, "unexpected text '%s' where a term is expected", buf);
        }
        return;
    }
    mp_fvar v;
    memset(&v, 0, sizeof v);
    if (peek(P) == '(' && P->s[at] != '`') {
        size_t open = P->i;
        char text[240];
        call_text(P, at, text, sizeof text);
        if (strcmp(name, "factor") == 0 || strcmp(name, "as.factor") == 0) {
            P->i = open + 1;
            char *col = read_name(P);
            if (!col || peek(P) != ')') {
                free(col);
                free(name);
                if (P->st == MP_OK)
                    fail(P, MP_EINVAL, "unsupported term '%s' (factor() takes one column name)", text);
                return;
            }
            P->i++;
            v.kind = MP_FVAR_FACTOR;
            size_t idx;
            size_t ln = strlen(col) + 9;
            v.label = malloc(ln);
            if (!v.label || !var_add_col(&v, col, &idx)) {
                free(col); free(name); fvar_free(&v);
                fail(P, MP_ENOMEM, "out of memory%s", "");
                return;
            }
            snprintf(v.label, ln, "factor(%s)", col);
            free(col);
        } else if (strcmp(name, "I") == 0) {
            P->i = open + 1;
            v.kind = MP_FVAR_EXPR;
            xbuild X = {P, &v, 0};
            x_sum(&X);
            if (P->st == MP_OK && peek(P) != ')')
                fail(P, MP_EINVAL, "unsupported term '%s' (I() takes an arithmetic expression)", text);
            if (P->st != MP_OK) { free(name); fvar_free(&v); return; }
            P->i++;
            char lab[1024] = "I(";
            deparse(&v, v.nnode - 1, lab, sizeof lab - 1);
            strcat(lab, ")");
            size_t ln = strlen(lab) + 1;
            if (!(v.label = malloc(ln))) { free(name); fvar_free(&v); fail(P, MP_ENOMEM, "out of memory%s", ""); return; }
            memcpy(v.label, lab, ln);
        } else {
            free(name);
            fail(P, MP_EINVAL,
                 "unsupported term '%s' (terms are columns, a:b, a*b, factor(COL) and I(expr))", text);
            return;
        }
        free(name);
    } else {
        v.kind = MP_FVAR_COLUMN;
        size_t idx;
        if (!var_add_col(&v, name, &idx)) { free(name); fvar_free(&v); fail(P, MP_ENOMEM, "out of memory%s", ""); return; }
        v.label = name;
    }
    tset_single(P, out, add_var(P, &v));
}

static void p_inter(parser *P, tset *out)
{
    p_atom(P, out);
    while (P->st == MP_OK && peek(P) == ':') {
        P->i++;
        tset r = {0}, prod = {0};
        p_atom(P, &r);
        for (size_t a = 0; P->st == MP_OK && a < out->n; a++)
            for (size_t b = 0; b < r.n; b++)
                if (!add_term(P, &prod, out->t[a] | r.t[b])) break;
        tset_free(&r);
        tset_free(out);
        *out = prod;
    }
}

static void p_prod(parser *P, tset *out)
{
    p_inter(P, out);
    while (P->st == MP_OK && peek(P) == '*') {
        P->i++;
        tset r = {0};
        p_inter(P, &r);
        size_t nl = out->n;
        for (size_t b = 0; P->st == MP_OK && b < r.n; b++)
            add_term(P, out, r.t[b]);
        for (size_t a = 0; P->st == MP_OK && a < nl; a++)
            for (size_t b = 0; b < r.n; b++)
                if (!add_term(P, out, out->t[a] | r.t[b])) break;
        tset_free(&r);
    }
}

static void p_sum(parser *P, tset *out)
{
    int c = peek(P);
    if (c == '-') goto minus;
    p_prod(P, out);
    for (;;) {
        if (P->st != MP_OK) return;
        c = peek(P);
        if (c == '+' || c == ',') {
            P->i++;
            tset r = {0};
            p_prod(P, &r);
            for (size_t b = 0; P->st == MP_OK && b < r.n; b++) add_term(P, out, r.t[b]);
            tset_free(&r);
            continue;
        }
        if (c != '-') return;
    minus:
        P->i++;
        skip_ws(P);
        if (P->s[P->i] == '1' && !isdigit((unsigned char)P->s[P->i + 1]) && P->s[P->i + 1] != '.') {
            P->i++;
            P->no_intercept = 1;
            continue;
        }
        char buf[64];
        snprintf(buf, sizeof buf, "-%.40s", P->s + P->i);
        fail(P, MP_EINVAL, "unsupported term '%s' (only '- 1' can be subtracted)", buf);
        return;
    }
}

char *mp_formula_term_label(const mp_formula *f, uint64_t t, char *buf, size_t n)
{
    if (!buf || !n) return buf;
    buf[0] = '\0';
    size_t l = 0;
    for (size_t j = 0; f && j < f->nvar; j++)
        if (t >> j & 1) {
            int w = snprintf(buf + l, n - l, "%s%s", l ? ":" : "", f->var[j].label);
            if (w < 0 || (size_t)w >= n - l) break;
            l += (size_t)w;
        }
    return buf;
}

static int popcount64(uint64_t x)
{
    int c = 0;
    while (x) { x &= x - 1; c++; }
    return c;
}

void mp_formula_free(mp_formula *f)
{
    if (!f) return;
    for (size_t j = 0; j < f->nvar; j++) fvar_free(&f->var[j]);
    free(f->var);
    free(f->term);
    memset(f, 0, sizeof *f);
}

mp_status mp_formula_parse(const char *s, mp_formula *f, mp_error *err)
{
    if (!f) return MP_FAIL(MP_EINVAL);
    memset(f, 0, sizeof *f);
    if (err) mp_error_clear(err);
    if (!s) return MP_FAIL(MP_EINVAL);
    parser P = {s, 0, f, err, 0, 0, MP_OK};
    if (peek(&P) == '~') P.i++;
    tset ts = {0};
    if (!peek(&P)) fail(&P, MP_EINVAL, "empty formula%s", "");
    else p_sum(&P, &ts);
    if (P.st == MP_OK && peek(&P) != '\0') {
        char buf[64];
        int c = peek(&P);
        if (c == '/' || c == '^' || c == '%' || c == '|')
            snprintf(buf, sizeof buf, "%.30s", P.s + P.i);
        else
            snprintf(buf, sizeof buf, "%.30s", P.s + P.i);
        fail(&P, MP_EINVAL, "unsupported term operator or text at '%s' (use +, :, * and I())", buf);
    }
    if (P.st != MP_OK) {
        tset_free(&ts);
        mp_formula_free(f);
        return P.st;
    }
    /* the intercept: present unless removed; an explicit "+ 1" after "0" restores it */
    f->intercept = !P.no_intercept;
    /* non-empty terms, stable by degree */
    size_t nt = 0;
    f->term = malloc((ts.n ? ts.n : 1) * sizeof *f->term);
    if (!f->term) { tset_free(&ts); mp_formula_free(f); return MP_FAIL(MP_ENOMEM); }
    for (int deg = 1; deg <= 64; deg++)
        for (size_t i = 0; i < ts.n; i++)
            if (ts.t[i] && popcount64(ts.t[i]) == deg) f->term[nt++] = ts.t[i];
    f->nterm = nt;
    tset_free(&ts);
    if (nt == 0 && !f->intercept) {
        if (err) mp_error_set(err, NULL, 0, 0, "the formula '%.200s' has no terms", s);
        mp_formula_free(f);
        return MP_FAIL(MP_EINVAL);
    }
    return MP_OK;
}
