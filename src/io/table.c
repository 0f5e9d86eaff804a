/* src/table.c - delimited text loader: one pass, cells parsed in place.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The whole file is read into one buffer; quoted fields are unescaped in
 * place (the text only ever shrinks) and every field is NUL-terminated where
 * its delimiter was, so a cell is just an offset into the buffer.  This keeps
 * a million-row file to a single allocation for the text and one for the
 * offsets, and the hot loop (unquoted fields) is a table look-up per byte.
 *
 * Cell offsets are the ORIGINAL byte offsets of the cells (unescaping writes
 * a quoted cell's text starting at its opening quote), so line and column
 * of any cell can be recovered afterwards: a row starts at a known line and
 * offset, and the few line breaks that sit inside quoted fields are kept in
 * a sorted list (qnl) that a binary search consults. */
#include "metapool/table.h"
#include "internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

struct mp_table {
    char *buf;          /* the text, cells NUL-terminated in place */
    size_t len;         /* bytes in buf (excluding the final guard NUL) */
    char name[256];     /* file name for messages */
    char delim;         /* ',', ';' or '\t' */
    size_t ncols;       /* columns in the header */
    size_t nrows;       /* data rows */
    size_t *hdr;        /* ncols offsets of the header cells */
    size_t hdr_line;    /* line of the header */
    size_t hdr_start;   /* offset of the first byte of the header line */
    size_t *cells;      /* nrows * ncols offsets, row-major */
    size_t *line;       /* nrows source line numbers */
    size_t *rowstart;   /* nrows offsets of the first byte of each row */
    size_t *qnl;        /* offsets of line breaks inside quoted fields, ascending */
    size_t nqnl;        /* entries in qnl */
    size_t nlines;      /* lines counted while reading (0: not yet checked) */
    int header_only;    /* a header without rows is accepted (read_checked's hook) */
};

static const char empty_cell[1] = {0};

/* ---- limits (table.h) ---------------------------------------------------- */

static const mp_table_limits default_limits = {MP_TABLE_MAX_ROW_BYTES, MP_TABLE_MAX_COLS,
                                               MP_TABLE_MAX_FILE_BYTES, MP_TABLE_MAX_GROUPS};
static mp_table_limits limits = {MP_TABLE_MAX_ROW_BYTES, MP_TABLE_MAX_COLS,
                                 MP_TABLE_MAX_FILE_BYTES, MP_TABLE_MAX_GROUPS};

const mp_table_limits *mp_limits(void) { return &limits; }

void mp_table_limits_get(mp_table_limits *l)
{
    if (l) *l = limits;
}

void mp_table_limits_set(const mp_table_limits *l)
{
    limits = default_limits;
    if (!l) return;
    if (l->row_bytes) limits.row_bytes = l->row_bytes;
    if (l->cols) limits.cols = l->cols;
    if (l->file_bytes) limits.file_bytes = l->file_bytes;
    if (l->groups) limits.groups = l->groups;
}

/* A byte count as the limits are stated: "64 MiB", "8 GiB", else bytes. */
static void size_text(char *buf, size_t n, uint64_t b)
{
    if (b >= ((uint64_t)1 << 30) && b % ((uint64_t)1 << 30) == 0)
        snprintf(buf, n, "%llu GiB", (unsigned long long)(b >> 30));
    else if (b >= ((uint64_t)1 << 20) && b % ((uint64_t)1 << 20) == 0)
        snprintf(buf, n, "%llu MiB", (unsigned long long)(b >> 20));
    else
        snprintf(buf, n, "%llu bytes", (unsigned long long)b);
}

mp_status mp_limit_row(mp_error *err, const char *name, size_t line, size_t col, int inq)
{
    char sz[48];
    size_text(sz, sizeof sz, limits.row_bytes);
    if (inq)
        mp_error_set(err, name, line, col,
                     "quoted field opened here runs past %s without its closing quote", sz);
    else
        mp_error_set(err, name, line, col,
                     "line longer than %s (the limit of one row; not a delimited text file?)", sz);
    return MP_FAIL(MP_EPARSE);
}

mp_status mp_limit_cols(mp_error *err, const char *name, size_t line, size_t col)
{
    mp_error_set(err, name, line, col, "more than %zu columns in the header (the limit)",
                 limits.cols);
    return MP_FAIL(MP_EPARSE);
}

mp_status mp_limit_file(mp_error *err, const char *name)
{
    char sz[48];
    size_text(sz, sizeof sz, limits.file_bytes);
    mp_error_set(err, name, 0, 0,
                 "input larger than %s (the limit when the whole file is read at once; "
                 "batch --sorted streams larger files)", sz);
    return MP_FAIL(MP_EPARSE);
}

mp_status mp_limit_groups(mp_error *err, const char *name, size_t line, size_t col,
                          const char *colname)
{
    char cn[200];
    mp_show_text(cn, sizeof cn, colname, 60);
    mp_error_set(err, name, line, col,
                 "more than %zu groups in column '%s' (the limit when the whole file is "
                 "grouped; batch --sorted takes any number of groups, contiguous)",
                 limits.groups, cn);
    return MP_FAIL(MP_EPARSE);
}

/* State of the check made while the input arrives (see slurp()). */
typedef struct {
    size_t j;         /* bytes checked */
    size_t line, ls;  /* current line and the offset where it starts */
    size_t rec;       /* offset where the current row starts (a line end outside quotes) */
    size_t rec_line;  /* its line */
    size_t q_line, q_col; /* the quote that opened the field we are in (inq) */
    int inq;          /* inside a quoted field */
    int content;      /* a non-blank byte has come (the header has begun) */
    size_t hdr_end;   /* offset after the header's line end, 0 until then */
} arrival;

/* Check the bytes buf[a->j .. n) as they arrive: a NUL or other control
 * byte (below 0x20 but tab, CR, LF; and 0x7f) is an error at its line and
 * column, as is a row longer than MP_TABLE_MAX_ROW_BYTES (an endless line,
 * or a quoted field never closed).  Lines are counted as parse() counts
 * them (LF, CRLF or a lone CR), quotes by parity (a doubled quote toggles
 * twice), so an endless or binary stream stops at once instead of filling
 * memory. */
static mp_status arrive(const char *name, const unsigned char *b, size_t n, arrival *a,
                        mp_error *err)
{
    size_t j = a->j;
    if (j == 0 && n >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF)
        j = a->rec = a->ls = 3; /* BOM: not part of the first row */
    for (; j < n; j++) {
        unsigned char ch = b[j];
        if (ch >= 0x20 && ch != 0x7f) {
            if (ch == '"') {
                a->inq ^= 1;
                if (a->inq) { a->q_line = a->line; a->q_col = j - a->ls + 1; }
            }
            if (ch != ' ') a->content = 1;
            continue;
        }
        if (ch == '\n' || ch == '\r') {
            if (!(ch == '\n' && j > 0 && b[j - 1] == '\r')) a->line++; /* CRLF counts once */
            a->ls = j + 1;
            if (!a->inq) {
                a->rec = j + 1;
                a->rec_line = a->line;
                if (a->content && !a->hdr_end) a->hdr_end = j + 1;
            }
            continue;
        }
        if (ch == '\t') continue;
        if (ch == 0)
            mp_error_set(err, name, a->line, j - a->ls + 1, "NUL byte in input (binary data?)");
        else
            mp_error_set(err, name, a->line, j - a->ls + 1,
                         "control byte 0x%02x in input (binary data?)", ch);
        return MP_FAIL(MP_EPARSE);
    }
    a->j = j;
    /* a row not ended yet that is already too long (complete rows are
     * measured by parse(), in row order as the streaming reader does) */
    if (n - a->rec > limits.row_bytes)
        return a->inq ? mp_limit_row(err, name, a->q_line, a->q_col, 1)
                      : mp_limit_row(err, name, a->rec_line, 1, 0);
    return MP_OK;
}

static mp_status parse(mp_table *t, mp_error *err);

/* The header alone (bytes [0, end) of the input) as a table without rows,
 * handed to the caller's check. */
static mp_status check_header(const char *name, const char *b, size_t end,
                              mp_table_header_fn check, void *ctx, mp_error *err)
{
    mp_table *h = calloc(1, sizeof *h);
    if (!h) return MP_FAIL(MP_ENOMEM);
    snprintf(h->name, sizeof h->name, "%s", name);
    h->buf = malloc(end + 1);
    if (!h->buf) { free(h); return MP_FAIL(MP_ENOMEM); }
    memcpy(h->buf, b, end);
    h->buf[end] = '\0';
    h->len = end;
    h->header_only = 1;
    mp_status st = parse(h, err);
    if (st == MP_OK) st = check(ctx, h, err);
    mp_table_free(h);
    return st;
}

/* Read all of `f` into a malloc'd buffer with one spare byte, checking the
 * bytes as they arrive (arrive()); once the header line is complete it is
 * given to `check` (if not NULL), so that input without the columns a
 * command needs stops there.  On MP_EIO *eno holds the errno of the failed
 * read; other failures fill err.  *nlines: lines counted. */
static mp_status slurp(FILE *f, const char *name, mp_table_header_fn check, void *ctx, char **out,
                       size_t *outlen, size_t *nlines, int *eno, mp_error *err)
{
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    if (!b) return MP_FAIL(MP_ENOMEM);
    arrival a = {0};
    a.line = a.rec_line = 1;
    int checked = check == NULL;
    for (;;) {
        if (cap - n < 2) {
            if (cap > SIZE_MAX / 2) { free(b); return MP_FAIL(MP_ENOMEM); }
            char *nb = realloc(b, cap * 2);
            if (!nb) { free(b); return MP_FAIL(MP_ENOMEM); }
            b = nb;
            cap *= 2;
        }
        errno = 0;
        size_t got = fread(b + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) break;
        if ((uint64_t)n > limits.file_bytes) { free(b); return mp_limit_file(err, name); }
        if (n < 3) continue; /* a pipe may deliver less than a byte-order mark */
        mp_status st = arrive(name, (const unsigned char *)b, n, &a, err);
        if (st == MP_OK && !checked && a.hdr_end) {
            checked = 1;
            st = check_header(name, b, a.hdr_end, check, ctx, err);
        }
        if (st != MP_OK) { free(b); return st; }
    }
    if (ferror(f)) { *eno = errno ? errno : EIO; free(b); return MP_FAIL(MP_EIO); }
    if (a.j < n) { /* input of less than 3 bytes */
        mp_status st = arrive(name, (const unsigned char *)b, n, &a, err);
        if (st != MP_OK) { free(b); return st; }
    }
    if (!checked && a.content) { /* a header without a line end: the whole input */
        mp_status st = check_header(name, b, n, check, ctx, err);
        if (st != MP_OK) { free(b); return st; }
    }
    b[n] = '\0';
    *out = b;
    *outlen = n;
    *nlines = a.line;
    return MP_OK;
}

/* Growable size_t array (htslib's (ptr, n, m) contract). */
typedef struct { size_t *v, n, m; } szvec;

static int szvec_reserve(szvec *a, size_t m)
{
    if (m <= a->m) return 0;
    size_t bytes = mp_mul_size(m, sizeof *a->v);
    if (!bytes) return -1;
    size_t *v = realloc(a->v, bytes);
    if (!v) return -1;
    a->v = v;
    a->m = m;
    return 0;
}

static inline int szvec_push(szvec *a, size_t x)
{
    if (a->n == a->m && szvec_reserve(a, a->m ? a->m * 2 : 1024)) return -1;
    a->v[a->n++] = x;
    return 0;
}

/* The delimiter is the one of ',', ';', '\t' that occurs most often
 * outside quotes in the header line (ties: comma, then tab, then semicolon;
 * a header without any is a one-column comma file). */
char mp_csv_detect_delim(const char *p, const char *end)
{
    size_t c = 0, s = 0, t = 0;
    int inq = 0;
    for (; p < end && (inq || (*p != '\n' && *p != '\r')); p++) {
        if (*p == '"') inq = !inq;
        else if (!inq) {
            c += *p == ',';
            s += *p == ';';
            t += *p == '\t';
        }
    }
    if (t > c && t >= s) return '\t';
    if (s > c) return ';';
    return ',';
}

/* First index in the sorted a[0..n) whose value is >= x. */
static size_t lower_bound(const size_t *a, size_t n, size_t x)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a[mid] < x) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* Line and column of the byte at original offset p of a row that starts at
 * offset rs on line rl (accounts for line breaks inside quoted fields). */
static void locate(const mp_table *t, size_t rs, size_t rl, size_t p, size_t *line,
                   size_t *col)
{
    size_t lo = 0, hi = 0;
    if (t->nqnl) {
        lo = lower_bound(t->qnl, t->nqnl, rs);
        hi = lower_bound(t->qnl, t->nqnl, p);
    }
    *line = rl + (hi - lo);
    *col = hi > lo ? p - t->qnl[hi - 1] : p - rs + 1;
}

/* Reject NUL bytes and other control bytes (binary data) before anything
 * else; count line breaks so the cell array can be sized once. */
static mp_status check_binary(const mp_table *t, size_t *nlines, mp_error *err)
{
    const unsigned char *b = (const unsigned char *)t->buf;
    size_t n = t->len, ln = 1, ls = 0, j = 0;
    if (n >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF) j = ls = 3; /* as parse() */
    for (; j < n; j++) {
        unsigned char ch = b[j];
        if (ch >= 0x20 && ch != 0x7f) continue;
        if (ch == '\n') { ln++; ls = j + 1; continue; }
        if (ch == '\r') {
            if (j + 1 < n && b[j + 1] == '\n') continue;
            ln++; /* a lone CR ends a line too */
            ls = j + 1;
            continue;
        }
        if (ch == '\t') continue;
        if (ch == 0)
            mp_error_set(err, t->name, ln, j - ls + 1, "NUL byte in input (binary data?)");
        else
            mp_error_set(err, t->name, ln, j - ls + 1, "control byte 0x%02x in input (binary data?)",
                         ch);
        return MP_FAIL(MP_EPARSE);
    }
    *nlines = ln;
    return MP_OK;
}

/* Strip blanks around a header name in place; returns the new offset. */
static size_t trim_name(char *b, size_t off, char d)
{
    char *s = b + off;
    while (*s == ' ' || (*s == '\t' && d != '\t')) s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || (s[n - 1] == '\t' && d != '\t'))) n--;
    s[n] = '\0';
    return (size_t)(s - b);
}

/* Copy at most `max` bytes of s for a one-line message: line breaks, tabs
 * and other control bytes become C escapes, and a cut is shown by "...". */
void mp_show_text(char *dst, size_t n, const char *s, size_t max)
{
    size_t w = 0, k = 0;
    for (; s[k] && k < max && w + 5 < n; k++) {
        unsigned char ch = (unsigned char)s[k];
        if (ch == '\n') { dst[w++] = '\\'; dst[w++] = 'n'; }
        else if (ch == '\r') { dst[w++] = '\\'; dst[w++] = 'r'; }
        else if (ch == '\t') { dst[w++] = '\\'; dst[w++] = 't'; }
        else if (ch < 0x20 || ch == 0x7f) w += (size_t)snprintf(dst + w, n - w, "\\x%02x", ch);
        else dst[w++] = (char)ch;
    }
    if (s[k] && w + 4 < n) { memcpy(dst + w, "...", 3); w += 3; }
    dst[w] = '\0';
}

/* Parse the buffer of t.  On failure fills err. */
/* The parser's place in the buffer. */
typedef struct pstate {
    mp_table *t;                /* the table being filled */
    char *b;                    /* its text (modified in place) */
    size_t n;                   /* text length */
    size_t i;                   /* next byte */
    size_t line;                /* its line (1-based) */
    size_t ls;                  /* offset where the current line starts */
    char d;                     /* the delimiter */
    unsigned char stop[256];    /* bytes that end an unquoted run */
    szvec qnl;                  /* line breaks inside quoted cells */
} pstate;

/* At the start of a line: a line of nothing but blanks is empty and skipped
 * (a tab is a blank only when it is not the delimiter).  1 if skipped, -1
 * if it is longer than the row limit (the caller reports it). */
static int skip_empty_line(pstate *P, int header)
{
    const char *b = P->b;
    size_t k = P->i;
    while (k < P->n && (b[k] == ' ' || (b[k] == '\t' && (header || P->d != '\t')))) k++;
    if (k < P->n && b[k] != '\n' && b[k] != '\r') return 0;
    if (k - P->i > limits.row_bytes) return -1; /* a line of blanks past the row limit */
    P->i = k;
    if (P->i < P->n) {
        if (b[P->i] == '\r' && P->i + 1 < P->n && b[P->i + 1] == '\n') P->i++;
        P->i++;
        P->line++;
    }
    P->ls = P->i;
    return 1;
}

/* A quoted field opening at q (RFC 4180: "" is a quote; line breaks inside
 * are kept and remembered); its text is unquoted in place. */
static mp_status quoted_field(pstate *P, size_t q, mp_error *err)
{
    char *b = P->b;
    size_t w = q, qline = P->line, qcol = q - P->ls + 1;
    P->i = q + 1;
    for (;;) {
        if (P->i >= P->n) {
            mp_error_set(err, P->t->name, qline, qcol, "unterminated quoted field (opened here)");
            return MP_FAIL(MP_EPARSE);
        }
        char ch = b[P->i];
        if (ch == '"') {
            if (P->i + 1 < P->n && b[P->i + 1] == '"') { b[w++] = '"'; P->i += 2; continue; }
            P->i++;
            break;
        }
        if (ch == '\n' || (ch == '\r' && (P->i + 1 >= P->n || b[P->i + 1] != '\n'))) {
            if (szvec_push(&P->qnl, P->i)) return MP_FAIL(MP_ENOMEM);
            P->line++;
            P->ls = P->i + 1;
        }
        b[w++] = b[P->i++];
    }
    while (P->i < P->n && b[P->i] == ' ') P->i++;
    if (P->i < P->n && b[P->i] != P->d && b[P->i] != '\n' && b[P->i] != '\r') {
        mp_error_set(err, P->t->name, P->line, P->i - P->ls + 1,
                     "unexpected character '%c' after closing quote", b[P->i]);
        return MP_FAIL(MP_EPARSE);
    }
    b[w] = '\0'; /* w < i: the closing quote's place at least */
    return MP_OK;
}

/* One row: its fields' offsets pushed to dst, *nf their number; a data row
 * may not have more than `rowcells` fields; *eolline, *eolcol place its end. */
static mp_status parse_row(pstate *P, szvec *dst, int header, size_t rowcells, size_t *nf,
                           size_t *eolline, size_t *eolcol, mp_error *err)
{
    char *b = P->b;
    const size_t n = P->n, row0 = P->i, line0 = P->line;
    mp_status st;
    *nf = 0;
    for (;;) { /* one field per iteration */
        size_t fstart = P->i, q = P->i;
        while (q < n && b[q] == ' ') q++; /* blanks before an opening quote */
        if (header && *nf == limits.cols) { /* one column too many: where it starts */
            size_t at = q < n && b[q] == '"' ? q : P->i;
            return mp_limit_cols(err, P->t->name, P->line, at - P->ls + 1);
        }
        if (q < n && b[q] == '"') {
            fstart = q;
            if ((st = quoted_field(P, q, err)) != MP_OK) return st;
        } else {
            while (P->i < n && !P->stop[(unsigned char)b[P->i]]) P->i++;
            if (P->i < n && b[P->i] == '"') {
                mp_error_set(err, P->t->name, P->line, P->i - P->ls + 1,
                             "quote inside an unquoted field (quote the whole field and "
                             "double the quote)");
                return MP_FAIL(MP_EPARSE);
            }
        }
        (*nf)++;
        if (!header && *nf > rowcells) {
            mp_error_set(err, P->t->name, P->line, fstart - P->ls + 1,
                         "row has more fields than the header's %zu", rowcells);
            return MP_FAIL(MP_EPARSE);
        }
        if (szvec_push(dst, fstart)) return MP_FAIL(MP_ENOMEM);
        if (P->i < n && b[P->i] == P->d) { b[P->i++] = '\0'; continue; }
        /* end of line or of input: the row's bytes before it */
        if (P->i - row0 > limits.row_bytes) return mp_limit_row(err, P->t->name, line0, 1, 0);
        *eolline = P->line;
        *eolcol = P->i - P->ls + 1;
        if (P->i < n && b[P->i] == '\r') { b[P->i++] = '\0'; if (P->i < n && b[P->i] == '\n') P->i++; }
        else if (P->i < n && b[P->i] == '\n') { b[P->i++] = '\0'; }
        P->line++;
        P->ls = P->i;
        return MP_OK;
    }
}

/* Column names: surrounding blanks stripped, duplicates rejected (one pass
 * with a hash set).  Empty names are allowed (R's write.csv() writes "" over
 * the row names); such a column cannot be asked for by name. */
static mp_status check_names(mp_table *t, mp_error *err)
{
    char *b = t->buf;
    for (size_t j = 0; j < t->ncols; j++) t->hdr[j] = trim_name(b, t->hdr[j], t->delim);
    const char **nm = malloc(mp_mul_size(t->ncols, sizeof *nm));
    if (!nm) return MP_FAIL(MP_ENOMEM);
    for (size_t j = 0; j < t->ncols; j++) nm[j] = b + t->hdr[j];
    size_t k2 = 0, j = 0;
    int dup = mp_first_duplicate(nm, t->ncols, &k2, &j);
    free(nm);
    if (dup < 0) return MP_FAIL(MP_ENOMEM);
    if (!dup) return MP_OK;
    size_t l, c;
    locate(t, t->hdr_start, t->hdr_line, t->hdr[j], &l, &c);
    char txt[200];
    mp_show_text(txt, sizeof txt, b + t->hdr[j], 60);
    mp_error_set(err, t->name, l, c, "duplicated column name '%s' (columns %zu and %zu)", txt,
                 k2 + 1, j + 1);
    return MP_FAIL(MP_EPARSE);
}

/* The whole text, in place: bytes checked, the header (delimiter detected
 * there), then every row with as many fields as the header; blank lines
 * skipped; the cells' offsets, lines and row starts recorded. */
static mp_status parse(mp_table *t, mp_error *err)
{
    pstate P;
    memset(&P, 0, sizeof P);
    P.t = t;
    P.b = t->buf;
    P.n = t->len;
    P.line = 1;
    P.d = ',';
    size_t nlines = 0;
    szvec cells = {0}, lines = {0}, starts = {0}, hdr = {0};
    mp_status st = MP_OK;
    if (t->nlines) nlines = t->nlines; /* checked as it arrived (slurp) */
    else if ((st = check_binary(t, &nlines, err)) != MP_OK) return st;

    if (P.n >= 3 && (unsigned char)P.b[0] == 0xEF && (unsigned char)P.b[1] == 0xBB &&
        (unsigned char)P.b[2] == 0xBF)
        P.i = P.ls = 3; /* UTF-8 byte-order mark: columns count from after it */

    int header = 1;
    size_t rowcells = 0;
    while (P.i < P.n) {
        int skip = skip_empty_line(&P, header);
        if (skip < 0) { st = mp_limit_row(err, t->name, P.line, 1, 0); goto done; }
        if (skip) continue;
        if (header) {
            t->delim = P.d = mp_csv_detect_delim(P.b + P.i, P.b + P.n);
            P.stop[(unsigned char)P.d] = P.stop['\n'] = P.stop['\r'] = P.stop['"'] = 1;
        }
        size_t rowstart = P.i, rowline = P.line, nf = 0, eolline = 0, eolcol = 0;
        st = parse_row(&P, header ? &hdr : &cells, header, rowcells, &nf, &eolline, &eolcol, err);
        if (st != MP_OK) goto done;
        if (header) {
            t->ncols = rowcells = nf;
            t->hdr_line = rowline;
            t->hdr_start = rowstart;
            header = 0;
            /* One allocation for all cells: a row takes at least one line
             * and at least nf bytes (nf - 1 delimiters and a line break), so
             * neither bound can overshoot by much on odd files (many empty
             * lines, long multi-line quoted cells). */
            size_t rows = nlines > rowline ? nlines - rowline + 1 : 1;
            size_t want = mp_mul_size(rows, nf);
            if (!want || want > P.n - P.i + nf) want = P.n - P.i + nf;
            if (szvec_reserve(&cells, want)) { st = MP_FAIL(MP_ENOMEM); goto done; }
            continue;
        }
        if (nf != rowcells) {
            mp_error_set(err, t->name, eolline, eolcol,
                         "row has %zu field%s, the header has %zu", nf, nf == 1 ? "" : "s",
                         rowcells);
            st = MP_FAIL(MP_EPARSE);
            goto done;
        }
        if (szvec_push(&lines, rowline) || szvec_push(&starts, rowstart)) {
            st = MP_FAIL(MP_ENOMEM);
            goto done;
        }
    }
    if (header) {
        mp_error_set(err, t->name, 0, 0, "empty file (no header row)");
        st = MP_FAIL(MP_EPARSE);
        goto done;
    }
    t->hdr = hdr.v; hdr.v = NULL;
    t->qnl = P.qnl.v; t->nqnl = P.qnl.n; P.qnl.v = NULL;
    t->nrows = lines.n;
    if (t->nrows == 0 && !t->header_only) {
        mp_error_set(err, t->name, t->hdr_line, 0, "header but no data rows");
        st = MP_FAIL(MP_EPARSE);
        goto done;
    }
    t->cells = cells.v; cells.v = NULL;
    t->line = lines.v; lines.v = NULL;
    t->rowstart = starts.v; starts.v = NULL;
    st = check_names(t, err);
done:
    free(cells.v);
    free(lines.v);
    free(starts.v);
    free(hdr.v);
    free(P.qnl.v);
    return st;
}

static mp_status finish(mp_table *t, mp_table **out, mp_error *err)
{
    mp_status st = parse(t, err);
    if (st != MP_OK) { mp_table_free(t); return st; }
    *out = t;
    return MP_OK;
}

mp_status mp_table_read_checked(const char *path, mp_table_header_fn check, void *ctx,
                                mp_table **out, mp_error *err)
{
    if (!path || !out) return MP_FAIL(MP_EINVAL);
    *out = NULL;
    mp_table *t = calloc(1, sizeof *t);
    if (!t) return MP_FAIL(MP_ENOMEM);
    int is_stdin = strcmp(path, "-") == 0;
    snprintf(t->name, sizeof t->name, "%s", is_stdin ? "<stdin>" : path);
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (!f) {
        mp_error_set(err, t->name, 0, 0, "cannot open: %s", strerror(errno));
        free(t);
        return MP_FAIL(MP_EIO);
    }
    int e = 0;
    mp_error_clear(err);
    struct stat sb; /* a regular file too large is refused before it is read */
    if (fstat(fileno(f), &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0 &&
        (uint64_t)sb.st_size > limits.file_bytes) {
        if (!is_stdin) fclose(f);
        mp_status ls = mp_limit_file(err, t->name);
        free(t);
        return ls;
    }
    mp_status st = slurp(f, t->name, check, ctx, &t->buf, &t->len, &t->nlines, &e, err);
    if (!is_stdin) fclose(f);
    if (st != MP_OK) {
        if (st == MP_ENOMEM || st == MP_EIO)
            mp_error_set(err, t->name, 0, 0, "cannot read: %s",
                         st == MP_ENOMEM ? "out of memory" : strerror(e));
        free(t);
        return st;
    }
    return finish(t, out, err);
}

mp_status mp_table_read(const char *path, mp_table **out, mp_error *err)
{
    return mp_table_read_checked(path, NULL, NULL, out, err);
}

mp_status mp_table_read_mem(const char *name, const char *buf, size_t len, mp_table **out,
                            mp_error *err)
{
    if (!buf || !out) return MP_FAIL(MP_EINVAL);
    *out = NULL;
    if (len == SIZE_MAX) return MP_FAIL(MP_ENOMEM);
    if ((uint64_t)len > limits.file_bytes) return mp_limit_file(err, name ? name : "<memory>");
    mp_table *t = calloc(1, sizeof *t);
    if (!t) return MP_FAIL(MP_ENOMEM);
    snprintf(t->name, sizeof t->name, "%s", name ? name : "<memory>");
    t->buf = malloc(len + 1);
    if (!t->buf) { free(t); return MP_FAIL(MP_ENOMEM); }
    memcpy(t->buf, buf, len);
    t->buf[len] = '\0';
    t->len = len;
    return finish(t, out, err);
}

void mp_table_free(mp_table *t)
{
    if (!t) return;
    free(t->buf);
    free(t->hdr);
    free(t->cells);
    free(t->line);
    free(t->rowstart);
    free(t->qnl);
    free(t);
}

size_t mp_table_header_line(const mp_table *t) { return t->hdr_line; }
size_t mp_table_nrows(const mp_table *t) { return t->nrows; }
size_t mp_table_ncols(const mp_table *t) { return t->ncols; }
char mp_table_delim(const mp_table *t) { return t->delim; }
const char *mp_table_name(const mp_table *t) { return t->name; }

const char *mp_table_colname(const mp_table *t, size_t j)
{
    return j < t->ncols ? t->buf + t->hdr[j] : empty_cell;
}

long mp_table_col(const mp_table *t, const char *name)
{
    if (!name || !*name) return -1;
    for (size_t j = 0; j < t->ncols; j++)
        if (strcmp(t->buf + t->hdr[j], name) == 0) return (long)j;
    /* then ignoring case, as the interface asks ("Study" for study) */
    for (size_t j = 0; j < t->ncols; j++)
        if (strcasecmp(t->buf + t->hdr[j], name) == 0) return (long)j;
    return -1;
}

const char *mp_table_cell(const mp_table *t, size_t i, size_t j)
{
    if (i >= t->nrows || j >= t->ncols) return empty_cell;
    return t->buf + t->cells[i * t->ncols + j];
}

size_t mp_table_line(const mp_table *t, size_t i) { return i < t->nrows ? t->line[i] : 0; }

size_t mp_table_cell_line(const mp_table *t, size_t i, size_t j)
{
    if (i >= t->nrows || j >= t->ncols) return 0;
    size_t l, c;
    locate(t, t->rowstart[i], t->line[i], t->cells[i * t->ncols + j], &l, &c);
    return l;
}

size_t mp_table_colpos(const mp_table *t, size_t i, size_t j)
{
    if (i >= t->nrows || j >= t->ncols) return 0;
    size_t l, c;
    locate(t, t->rowstart[i], t->line[i], t->cells[i * t->ncols + j], &l, &c);
    return c;
}

int mp_table_is_na(const mp_table *t, size_t i, size_t j)
{
    const char *s = mp_table_cell(t, i, j);
    while (*s == ' ') s++;
    if (s[0] != 'N' || s[1] != 'A') return 0;
    for (s += 2; *s == ' '; s++) {}
    return *s == '\0';
}

int mp_table_is_missing(const mp_table *t, size_t i, size_t j)
{
    /* blanks are spaces and tabs, as the batch reader trims them (a cell
     * of tabs alone is missing there too: found by tests/fuzz/fuzz_batch) */
    const char *s = mp_table_cell(t, i, j);
    while (*s == ' ' || *s == '\t') s++;
    if (*s == '\0') return 1;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    return (n == 2 && s[0] == 'N' && s[1] == 'A') || (n == 1 && s[0] == '.');
}

void mp_table_error(const mp_table *t, size_t i, size_t j, mp_error *err, const char *fmt, ...)
{
    if (!err) return;
    va_list ap;
    snprintf(err->file, sizeof err->file, "%s", t->name);
    if (i < t->nrows && j < t->ncols) {
        locate(t, t->rowstart[i], t->line[i], t->cells[i * t->ncols + j], &err->line, &err->col);
    } else {
        err->line = mp_table_line(t, i);
        err->col = 0;
    }
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
}

mp_status mp_table_number(const mp_table *t, size_t i, size_t j, double *out, mp_error *err)
{
    const char *s = mp_table_cell(t, i, j);
    size_t len = strlen(s);
    int r = mp_parse_double(s, len, out);
    if (r == 1) return MP_OK;
    const char *col = mp_table_colname(t, j);
    char txt[200];
    mp_show_text(txt, sizeof txt, s, 60);
    s = txt;
    if (strspn(mp_table_cell(t, i, j), " \t") == len)
        mp_table_error(t, i, j, err, "column '%s': empty cell where a number is required", col);
    else if (r == 0 && t->delim != ',' && strchr(s, ','))
        mp_table_error(t, i, j, err, "column '%s': '%s' is not a number (the decimal point must be '.')",
                       col, s);
    else if (r == 0)
        mp_table_error(t, i, j, err, "column '%s': '%s' is not a number", col, s);
    else
        mp_table_error(t, i, j, err, "column '%s': '%s' is not a finite number in range",
                       col, s);
    return MP_FAIL(MP_EPARSE);
}

static uint64_t fnv1a_str(const char *s);

/* Open addressing over the groups' first rows (slot = first row + 1). */
static size_t group_slot(const mp_table *t, size_t j, const size_t *slot, size_t mask,
                         const char *v, uint64_t h, const size_t *first, const size_t *gid)
{
    size_t k = (size_t)h & mask;
    for (; slot[k]; k = (k + 1) & mask)
        if (strcmp(mp_table_cell(t, first[gid[slot[k] - 1]], j), v) == 0) break;
    return k;
}

mp_status mp_table_group(const mp_table *t, size_t j, const unsigned char *create,
                         const unsigned char *lookup, size_t *gid, size_t *first,
                         size_t *ngroups, mp_error *err)
{
    if (!t || !gid || !ngroups || j >= t->ncols) return MP_FAIL(MP_EINVAL);
    size_t nr = t->nrows, cap = 16, ng = 0;
    *ngroups = 0;
    while (cap < 2 * nr) {
        if (cap > SIZE_MAX / 4) return MP_FAIL(MP_ENOMEM);
        cap *= 2;
    }
    size_t *slot = calloc(cap, sizeof *slot); /* a row of the group + 1; 0 = empty */
    size_t *fr = first ? first : malloc((nr ? nr : 1) * sizeof *fr);
    if (!slot || !fr) {
        free(slot);
        if (fr != first) free(fr);
        return MP_FAIL(MP_ENOMEM);
    }
    mp_status st = MP_OK;
    for (int pass = 0; pass < 2 && st == MP_OK; pass++) {
        const unsigned char *sel = pass ? lookup : create;
        if (pass && !lookup) break;
        for (size_t i = 0; i < nr; i++) {
            if (!pass) gid[i] = SIZE_MAX;
            if ((sel && !sel[i]) || (pass && gid[i] != SIZE_MAX) || mp_table_is_missing(t, i, j))
                continue;
            const char *v = mp_table_cell(t, i, j);
            size_t k = group_slot(t, j, slot, cap - 1, v, fnv1a_str(v), fr, gid);
            if (slot[k]) { gid[i] = gid[slot[k] - 1]; continue; }
            if (pass) continue; /* lookup only */
            if (ng == limits.groups) {
                st = mp_limit_groups(err, t->name, mp_table_cell_line(t, i, j),
                                     mp_table_colpos(t, i, j), mp_table_colname(t, j));
                break;
            }
            fr[ng] = i;
            gid[i] = ng++;
            slot[k] = i + 1;
        }
    }
    free(slot);
    if (fr != first) free(fr);
    if (st == MP_OK) *ngroups = ng;
    return st;
}

/* FNV-1a (64 bit) of a NUL-terminated string. */
static uint64_t fnv1a_str(const char *s)
{
    uint64_t h = UINT64_C(14695981039346656037);
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= UINT64_C(1099511628211);
    }
    return h;
}

int mp_first_duplicate(const char *const *names, size_t n, size_t *first, size_t *second)
{
    /* a table of at least 2n slots (load <= 1/2), each the index + 1 of a
     * name (0 = empty); linear probing */
    size_t cap = 16;
    while (cap < 2 * n) {
        if (cap > SIZE_MAX / 4) return -1;
        cap *= 2;
    }
    size_t *slot = calloc(cap, sizeof *slot);
    if (!slot) return -1;
    int found = 0;
    for (size_t j = 0; j < n && !found; j++) {
        if (names[j][0] == '\0') continue; /* empty names may repeat */
        size_t i = (size_t)fnv1a_str(names[j]) & (cap - 1);
        for (; slot[i]; i = (i + 1) & (cap - 1)) {
            if (strcmp(names[slot[i] - 1], names[j]) == 0) {
                *first = slot[i] - 1;
                *second = j;
                found = 1;
                break;
            }
        }
        if (!found) slot[i] = j + 1;
    }
    free(slot);
    return found;
}
