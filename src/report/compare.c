/* src/report/compare.c - reproduction check: our pooled results beside published ones.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * How a published number is judged (see metapool/report.h and the interface's
 * "Reproduction check"): a number printed with d decimals matches when ours,
 * formatted with "%.*f" at d decimals (glibc rounds the exact binary value
 * correctly), reads back as the same double as the published text.  Both
 * sides are read with mp_parse_double (correctly rounded), so equal decimal
 * values compare equal whatever their spelling ("-0.00" = "0.00",
 * "7.05e-5" = "7.05e-05").  Comparing decimal strings rather than
 * |ours - published| < 0.5e-d avoids the binary representation error of
 * both the published value and the half-unit.  Numbers printed in
 * scientific notation are rounded to the same number of mantissa digits.
 *
 * Halfway values: when ours is the double nearest to a decimal that ends in
 * 5 just below the published precision (ours "is" 0.7145 and the paper
 * printed 3 decimals), either rounding direction is accepted, since the
 * paper's software may have rounded half up, half even, or from a value an
 * ulp away.  Nothing else is tolerated. */

#include "metapool/report.h"
#include "report_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { K_EST = 0, K_LB, K_UB, K_P, K_COUNT };
static const char *const key_name[K_COUNT] = {"estimate", "ci_lb", "ci_ub", "p"};

/* How a published value was printed. */
typedef enum pub_op { OP_NONE = 0, OP_EQ, OP_LT, OP_LE, OP_GT, OP_GE } pub_op;

typedef struct pub_value {
    pub_op op;     /* OP_NONE: not published; OP_EQ: a number; else an inequality */
    double value;  /* the number, or the bound of the inequality */
    int decimals;  /* digits after the decimal point (of the mantissa when sci) */
    int sci;       /* printed in scientific notation (1.2e-05) */
    char *text;    /* as printed (trimmed), owned */
} pub_value;

typedef struct pub_row {
    char *group;          /* --by value, NULL for the overall/only analysis; owned */
    char *source;         /* citation, NULL if absent; owned */
    size_t line;          /* line of the row in the published file */
    pub_value v[K_COUNT]; /* estimate, ci_lb, ci_ub, p */
} pub_row;

struct mp_compare_table {
    char *file;    /* name for messages; owned */
    size_t n;      /* rows */
    pub_row *row;  /* n rows; owned */
};

typedef struct cmp_row {
    char *group;       /* published group (NULL: overall); owned */
    char *source;      /* owned, may be NULL */
    size_t line;       /* line in the published file */
    int key;           /* K_EST ... K_P */
    char *published;   /* as printed; owned */
    double ours;       /* our value on the paper's scale; NaN if none */
    char shown[48];    /* ours with two more digits than published */
    char rounded[48];  /* ours at the published rounding ("" for inequalities) */
    int found;         /* the group exists in the data */
    int match;         /* reproduced */
} cmp_row;

struct mp_compare_result {
    char *file;        /* published file; owned */
    char scale[96];    /* the scale of the comparison, in words */
    int back;          /* estimates were back-transformed (tf) */
    mp_transf tf;      /* the back-transformation (rp_transf) */
    double hm;         /* its harmonic-mean size (PFT, IRFT) */
    size_t n;          /* numbers judged */
    size_t nmatch;     /* of which reproduced */
    size_t nmissing;   /* numbers whose group is not in the data */
    cmp_row *row;      /* n rows; owned */
};

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

/* Copy s without leading/trailing blanks into a new string. */
static char *trim_dup(const char *s)
{
    while (*s == ' ' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    char *d = malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

/* Normalise typography copied from papers into ASCII: U+2212 minus and
 * U+2013 en dash -> '-', U+2264 -> "<=", U+2265 -> ">=".
 * Returns 0 if the result does not fit. */
static int normalise(const char *s, char *out, size_t n)
{
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        const char *rep = NULL;
        size_t skip = 1;
        if (p[0] == 0xE2 && p[1] == 0x88 && p[2] == 0x92) rep = "-", skip = 3;
        else if (p[0] == 0xE2 && p[1] == 0x80 && p[2] == 0x93) rep = "-", skip = 3;
        else if (p[0] == 0xE2 && p[1] == 0x89 && p[2] == 0xA4) rep = "<=", skip = 3;
        else if (p[0] == 0xE2 && p[1] == 0x89 && p[2] == 0xA5) rep = ">=", skip = 3;
        size_t len = rep ? strlen(rep) : 1;
        if (o + len >= n) return 0;
        if (rep) memcpy(out + o, rep, len);
        else out[o] = (char)*p;
        o += len;
        p += skip;
    }
    out[o] = '\0';
    return 1;
}

/* Parse one published cell.  Returns 1 on success (v->op OP_NONE for an
 * empty cell), 0 if it is not a number (nor an inequality when allowed). */
static int parse_value(const char *cell, int allow_ineq, pub_value *v)
{
    char buf[96];
    memset(v, 0, sizeof *v);
    if (!normalise(cell, buf, sizeof buf)) return 0;
    const char *p = buf;
    while (*p == ' ' || *p == '\t') p++;
    size_t len = strlen(p);
    while (len && (p[len - 1] == ' ' || p[len - 1] == '\t')) len--;
    if (len == 0 || (len == 2 && strncmp(p, "NA", 2) == 0) || (len == 1 && *p == '.')) return 1;
    v->op = OP_EQ;
    if (allow_ineq) { /* [p] [blanks] [< <= > >= =] [blanks] number */
        if (*p == 'p' || *p == 'P') p++;
        while (*p == ' ' || *p == '\t') p++;
        if (p[0] == '<' && p[1] == '=') v->op = OP_LE, p += 2;
        else if (p[0] == '>' && p[1] == '=') v->op = OP_GE, p += 2;
        else if (*p == '<') v->op = OP_LT, p++;
        else if (*p == '>') v->op = OP_GT, p++;
        else if (*p == '=') p++;
        while (*p == ' ' || *p == '\t') p++;
    }
    /* count the printed decimals: [+-] digits [. digits] [e [+-] digits] */
    const char *q = p;
    if (*q == '+' || *q == '-') q++;
    while (*q >= '0' && *q <= '9') q++;
    if (*q == '.') {
        const char *d0 = ++q;
        while (*q >= '0' && *q <= '9') q++;
        v->decimals = (int)(q - d0);
    }
    v->sci = *q == 'e' || *q == 'E';
    if (v->decimals > 17) return 0; /* more digits than a double holds */
    if (mp_parse_double(p, strlen(p), &v->value) != 1) return 0;
    if (allow_ineq && !(v->value >= 0 && v->value <= 1)) return 0; /* a p-value */
    if (!(v->text = trim_dup(cell))) {
        v->op = OP_NONE;
        return 0;
    }
    return 1;
}

static void free_value(pub_value *v) { free(v->text); }

void mp_compare_free(mp_compare_table *t)
{
    if (!t) return;
    for (size_t i = 0; i < t->n; i++) {
        free(t->row[i].group);
        free(t->row[i].source);
        for (int k = 0; k < K_COUNT; k++) free_value(&t->row[i].v[k]);
    }
    free(t->row);
    free(t->file);
    free(t);
}

mp_status mp_compare_load(const char *path, mp_compare_table **out, mp_error *err)
{
    mp_table *tab = NULL;
    *out = NULL;
    mp_status s = mp_table_read(path, &tab, err);
    if (s != MP_OK) return s;
    mp_compare_table *t = calloc(1, sizeof *t);
    size_t nr = mp_table_nrows(tab);
    if (!t || !(t->file = xstrdup(mp_table_name(tab))) ||
        !(t->row = calloc(nr ? nr : 1, sizeof *t->row)))
        goto nomem;
    long col[K_COUNT];
    for (int k = 0; k < K_COUNT; k++) col[k] = mp_table_col(tab, key_name[k]);
    long gcol = mp_table_col(tab, "group"), scol = mp_table_col(tab, "source");
    for (int k = 0; k < K_P; k++) {
        if (col[k] >= 0) continue;
        mp_error_clear(err);
        snprintf(err->file, sizeof err->file, "%s", mp_table_name(tab));
        err->line = 1;
        snprintf(err->msg, sizeof err->msg,
                 "published results need the columns estimate, ci_lb and ci_ub "
                 "(optional: p, group, source); '%s' is missing",
                 key_name[k]);
        goto fail;
    }
    for (size_t i = 0; i < nr; i++) {
        pub_row *row = &t->row[i];
        t->n = i + 1;
        row->line = mp_table_line(tab, i);
        int any = 0;
        for (int k = 0; k < K_COUNT; k++) {
            if (col[k] < 0) continue;
            const char *cell = mp_table_cell(tab, i, (size_t)col[k]);
            if (!parse_value(cell, k == K_P, &row->v[k])) {
                if (k == K_P)
                    mp_table_error(tab, i, (size_t)col[k], err,
                                   "p '%.60s' is neither a number from 0 to 1 nor an inequality such as <0.001",
                                   cell);
                else
                    mp_table_error(tab, i, (size_t)col[k], err, "%s '%.60s' is not a number",
                                   key_name[k], cell);
                goto fail;
            }
            any |= row->v[k].op != OP_NONE;
        }
        if (!any) {
            mp_table_error(tab, i, (size_t)col[K_EST], err,
                           "nothing to compare: estimate, ci_lb, ci_ub%s are all empty",
                           col[K_P] >= 0 ? " and p" : "");
            goto fail;
        }
        if (gcol >= 0 && !mp_table_is_missing(tab, i, (size_t)gcol)) {
            if (!(row->group = trim_dup(mp_table_cell(tab, i, (size_t)gcol)))) goto nomem;
            if (!*row->group) { free(row->group); row->group = NULL; }
        }
        if (scol >= 0 && !(row->source = trim_dup(mp_table_cell(tab, i, (size_t)scol))))
            goto nomem;
    }
    mp_table_free(tab);
    *out = t;
    return MP_OK;
nomem:
    mp_error_clear(err);
    snprintf(err->file, sizeof err->file, "%s", path);
    snprintf(err->msg, sizeof err->msg, "%s", mp_strerror(MP_ENOMEM));
    mp_table_free(tab);
    mp_compare_free(t);
    return MP_FAIL(MP_ENOMEM);
fail:
    mp_table_free(tab);
    mp_compare_free(t);
    return MP_FAIL(MP_EPARSE);
}

/* Group names match as text, or as numbers when both are numbers. */
static int group_eq(const char *pub, const char *ours)
{
    if (!ours) return 0;
    size_t n = strlen(ours);
    while (n && (ours[n - 1] == ' ' || ours[n - 1] == '\t')) n--;
    const char *o = ours;
    while (*o == ' ' || *o == '\t') o++, n--;
    if (strlen(pub) == n && strncmp(pub, o, n) == 0) return 1;
    double a, b;
    return mp_parse_double(pub, strlen(pub), &a) == 1 && mp_parse_double(ours, strlen(ours), &b) == 1 &&
           a == b;
}

/* Format x at the precision of v into buf. */
static void fmt_at(char *buf, size_t n, double x, int sci, int decimals)
{
    if (sci) snprintf(buf, n, "%.*e", decimals, x);
    else snprintf(buf, n, "%.*f", decimals, x);
}

/* Does x, rounded as v was printed, read back as v's value?  Fills rounded. */
static int number_match(double x, const pub_value *v, char *rounded, size_t n)
{
    double r;
    fmt_at(rounded, n, x, v->sci, v->decimals);
    if (mp_parse_double(rounded, strlen(rounded), &r) == 1 && r == v->value) return 1;
    /* halfway: x is the double nearest to a decimal ending in 5 one digit
     * beyond the published precision; accept the other rounding too */
    char more[64], alt[64];
    fmt_at(more, sizeof more, x, v->sci, v->decimals + 1);
    char *last = v->sci ? strpbrk(more, "eE") : more + strlen(more);
    if (!last || last == more) return 0;
    last--;
    if (*last != '5' || mp_parse_double(more, strlen(more), &r) != 1 || r != x) return 0;
    for (char d = '4'; d <= '6'; d += 2) {
        *last = d;
        if (mp_parse_double(more, strlen(more), &r) != 1) return 0;
        fmt_at(alt, sizeof alt, r, v->sci, v->decimals);
        double ra;
        if (mp_parse_double(alt, strlen(alt), &ra) == 1 && ra == v->value) {
            snprintf(rounded, n, "%s", alt);
            return 1;
        }
    }
    return 0;
}

static int ineq_match(double x, const pub_value *v)
{
    switch (v->op) {
    case OP_LT: return x < v->value;
    case OP_LE: return x <= v->value;
    case OP_GT: return x > v->value;
    case OP_GE: return x >= v->value;
    default: return 0;
    }
}

void mp_compare_result_free(mp_compare_result *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->row[i].group);
        free(c->row[i].source);
        free(c->row[i].published);
    }
    free(c->row);
    free(c->file);
    free(c);
}

mp_status mp_compare_eval(const mp_compare_table *t, const mp_report *r,
                          mp_compare_result **out, mp_error *err)
{
    *out = NULL;
    size_t cap = t->n * K_COUNT;
    mp_compare_result *c = calloc(1, sizeof *c);
    if (!c || !(c->row = calloc(cap ? cap : 1, sizeof *c->row)) || !(c->file = xstrdup(t->file))) {
        mp_compare_result_free(c);
        mp_error_set(err, NULL, 0, 0, "%s", mp_strerror(MP_ENOMEM));
        return MP_FAIL(MP_ENOMEM);
    }
    int is_log = mp_measure_is_log(r->measure);
    c->back = rp_transf(r) != MP_TRANSF_NONE;
    c->tf = rp_transf(r);
    c->hm = r->transf_hm > 0 ? r->transf_hm : NAN;
    const char *mname = mp_measure_name(r->measure);
    if (c->back)
        snprintf(c->scale, sizeof c->scale, "%s (back-transformed with %s)", mname, mp_transf_name(c->tf));
    else if (is_log)
        snprintf(c->scale, sizeof c->scale, "log %s (--transf none)", mname);
    else
        snprintf(c->scale, sizeof c->scale, "%s as analysed", mname);

    for (size_t i = 0; i < t->n; i++) {
        const pub_row *pr = &t->row[i];
        const mp_report_analysis *a = NULL;
        if (!pr->group) {
            a = r->overall ? r->overall : &r->a[0];
        } else if (!r->overall && !(r->opt && r->opt->by)) {
            mp_error_set(err, t->file, pr->line, 0,
                         "the published row is for group '%s', but no --by was given "
                         "(add --by COL, or leave the group cell empty)", pr->group);
            mp_compare_result_free(c);
            return MP_FAIL(MP_EINVAL);
        } else {
            for (size_t g = 0; g < r->n && !a; g++)
                if (group_eq(pr->group, r->a[g].group)) a = &r->a[g];
        }
        for (int k = 0; k < K_COUNT; k++) {
            const pub_value *v = &pr->v[k];
            if (v->op == OP_NONE) continue;
            cmp_row *row = &c->row[c->n++];
            row->line = pr->line;
            row->key = k;
            row->ours = NAN;
            if ((pr->group && !(row->group = xstrdup(pr->group))) ||
                (pr->source && !(row->source = xstrdup(pr->source))) ||
                !(row->published = xstrdup(v->text))) {
                mp_compare_result_free(c);
                mp_error_set(err, NULL, 0, 0, "%s", mp_strerror(MP_ENOMEM));
                return MP_FAIL(MP_ENOMEM);
            }
            row->found = a != NULL;
            if (!a) { c->nmissing++; continue; }
            const mp_pool_result *f = &a->fit;
            double x = k == K_EST ? f->estimate : k == K_LB ? f->ci_lb : k == K_UB ? f->ci_ub : f->pval;
            if (k != K_P && c->back) x = mp_transf_apply(c->tf, x, c->hm);
            row->ours = x;
            if (!isfinite(x)) continue;
            if (v->op == OP_EQ) {
                int more = v->decimals + 2 > 17 ? 17 : v->decimals + 2;
                fmt_at(row->shown, sizeof row->shown, x, v->sci, more);
                row->match = number_match(x, v, row->rounded, sizeof row->rounded);
            } else {
                snprintf(row->shown, sizeof row->shown, "%.3g", x);
                row->match = ineq_match(x, v);
            }
            c->nmatch += row->match != 0;
        }
    }
    *out = c;
    return MP_OK;
}

int mp_compare_reproduced(const mp_compare_result *c) { return c && c->nmatch == c->n; }

void mp_compare_json(FILE *f, const mp_compare_result *c)
{
    fputs("{\"file\": ", f);
    mp_json_str(f, c->file);
    fputs(", \"scale\": ", f);
    mp_json_str(f, c->scale);
    fprintf(f, ", \"reproduced\": %s, \"n_numbers\": %zu, \"n_matched\": %zu,\n    \"rows\": [",
            mp_compare_reproduced(c) ? "true" : "false", c->n, c->nmatch);
    for (size_t i = 0; i < c->n; i++) {
        const cmp_row *row = &c->row[i];
        fprintf(f, "%s\n      {\"group\": ", i ? "," : "");
        if (row->group) mp_json_str(f, row->group);
        else fputs("null", f);
        fputs(", \"source\": ", f);
        if (row->source) mp_json_str(f, row->source);
        else fputs("null", f);
        fprintf(f, ", \"line\": %zu, \"key\": ", row->line);
        mp_json_str(f, key_name[row->key]);
        fputs(", \"published\": ", f);
        mp_json_str(f, row->published);
        fputs(", \"ours\": ", f);
        mp_json_num(f, row->ours);
        fputs(", \"rounded\": ", f);
        if (row->rounded[0]) mp_json_str(f, row->rounded);
        else fputs("null", f);
        fprintf(f, ", \"match\": %s, \"verdict\": ", row->match ? "true" : "false");
        mp_json_str(f, row->match ? "match" : !row->found ? "no such group"
                                          : isfinite(row->ours) ? "differs" : "not computed");
        fputc('}', f);
    }
    fputs(c->n ? "\n    ]}" : "]}", f);
}

/* Display width of UTF-8 text (code points; the text is mostly Latin). */
static size_t utf8_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++) w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

/* Print s cut to at most max code points ("..." marks a cut), then pad to width. */
static void put_cell(FILE *f, const char *s, size_t max, size_t width)
{
    size_t w = utf8_width(s);
    if (w > max && max > 3) {
        size_t cp = 0;
        const char *p = s;
        for (; *p; p++) {
            if (((unsigned char)*p & 0xC0) != 0x80 && cp++ == max - 3) break;
        }
        fwrite(s, 1, (size_t)(p - s), f);
        fputs("...", f);
        w = max;
    } else {
        fputs(s, f);
    }
    for (; w < width; w++) fputc(' ', f);
}

void mp_compare_print(FILE *f, const mp_compare_result *c, const mp_report *r)
{
    const int ascii = r && r->opt && r->opt->ascii;
    const int color = r && r->opt && r->opt->color;
    size_t width = r && r->opt && r->opt->width > 0 ? (size_t)r->opt->width : 80;
    const char *ok = ascii ? "match" : "\u2713 match";
    const char *bad = ascii ? "DIFFERS" : "\u2717 DIFFERS";
    const char *green = color ? "\033[32m" : "", *red = color ? "\033[31m" : "",
               *bold = color ? "\033[1m" : "", *off = color ? "\033[0m" : "";

    fprintf(f, "\n%sReproduction check%s against ", bold, off);
    fprintf(f, "%s\nscale: %s; a number matches when ours rounds to it\n", c->file, c->scale);
    fprintf(f, "    %-8s %-12s %-14s %-12s %s\n", "number", "published", "ours", "rounded", "verdict");
    size_t shown_head = (size_t)-1;
    for (size_t i = 0; i < c->n; i++) {
        const cmp_row *row = &c->row[i];
        if (shown_head == (size_t)-1 || row->line != c->row[shown_head].line) {
            /* one heading per published row: group, source, line */
            char head[512];
            int off_h = snprintf(head, sizeof head, "%s%s%s", row->group ? "group " : "",
                                 row->group ? row->group : "", row->group ? ": " : "");
            size_t used = off_h > 0 ? (size_t)off_h : 0;
            if (row->source && *row->source)
                snprintf(head + used, sizeof head - used, "%s", row->source);
            else
                snprintf(head + used, sizeof head - used, "published row, line %zu", row->line);
            fputs("  ", f);
            put_cell(f, head, width > 4 ? width - 3 : 1, 0);
            fputc('\n', f);
            shown_head = i;
        }
        fprintf(f, "    %-8s ", key_name[row->key]);
        put_cell(f, row->published, 12, 13);
        if (!row->found) {
            fprintf(f, "%-14s %-12s %s%s%s\n", "-", "", red,
                    ascii ? "no such group" : "\u2717 no such group", off);
            continue;
        }
        if (!isfinite(row->ours)) {
            fprintf(f, "%-14s %-12s %s%s%s\n", "-", "", red,
                    ascii ? "not computed" : "\u2717 not computed", off);
            continue;
        }
        put_cell(f, row->shown, 14, 15);
        put_cell(f, row->rounded[0] ? row->rounded : "", 12, 13);
        fprintf(f, "%s%s%s\n", row->match ? green : red, row->match ? ok : bad, off);
    }
    if (mp_compare_reproduced(c)) {
        if (c->n == 1)
            fprintf(f, "%s%sReproduced:%s the published number matches at its printed rounding.\n",
                    bold, green, off);
        else
            fprintf(f, "%s%sReproduced:%s all %zu published numbers match at their printed rounding.\n",
                    bold, green, off, c->n);
        return;
    }
    size_t ndiff = c->n - c->nmatch - c->nmissing;
    fprintf(f, "%s%sNOT reproduced:%s %zu of %zu published numbers match", bold, red, off, c->nmatch,
            c->n);
    if (ndiff) fprintf(f, "; %zu differ%s", ndiff, ndiff == 1 ? "s" : "");
    if (c->nmissing)
        fprintf(f, "; %zu belong%s to groups not in the data", c->nmissing,
                c->nmissing == 1 ? "s" : "");
    fputs(".\n", f);
    if (c->back)
        fprintf(f, "note: ours are back-transformed with %s; if the paper printed values on the "
                "analysis scale, add --transf none.\n", mp_transf_name(c->tf));
    if (c->nmissing && r && r->n) {
        fputs("note: groups in the data:", f);
        size_t col = 25;
        for (size_t g = 0; g < r->n; g++) {
            const char *name = r->a[g].group ? r->a[g].group : "(none)";
            if (col + strlen(name) + 2 > width && g > 0) {
                fputs(" ...", f);
                break;
            }
            fprintf(f, "%s %s", g ? "," : "", name);
            col += strlen(name) + 2;
        }
        fputc('\n', f);
    }
}
