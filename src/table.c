/* src/table.c - delimited text loader: one pass, cells parsed in place.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The whole file is read into one buffer; quoted fields are unescaped in
 * place (the text only ever shrinks) and every field is NUL-terminated where
 * its delimiter was, so a cell is just an offset into the buffer.  This keeps
 * a million-row file to a single allocation for the text and one for the
 * offsets, and the pass is a simple byte loop the compiler keeps tight. */
#include "metapool/table.h"
#include "internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mp_table {
    char *buf;          /* the text, cells NUL-terminated in place */
    size_t len;         /* bytes in buf (excluding the final guard NUL) */
    char name[256];     /* file name for messages */
    char delim;         /* ',', ';' or '\t' */
    size_t ncols;       /* columns in the header */
    size_t nrows;       /* data rows */
    size_t *hdr;        /* ncols offsets of the header cells */
    size_t *cells;      /* nrows * ncols offsets, row-major */
    size_t *line;       /* nrows source line numbers */
    size_t *rowstart;   /* nrows offsets of the first byte of each row */
    size_t hdr_line;    /* line of the header */
};

static const char empty_cell[1] = {0};

/* Read all of `f` into a malloc'd buffer with one spare byte. */
static mp_status slurp(FILE *f, char **out, size_t *outlen)
{
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    if (!b) return MP_FAIL(MP_ENOMEM);
    for (;;) {
        if (cap - n < 2) {
            if (cap > SIZE_MAX / 2) { free(b); return MP_FAIL(MP_ENOMEM); }
            char *nb = realloc(b, cap * 2);
            if (!nb) { free(b); return MP_FAIL(MP_ENOMEM); }
            b = nb;
            cap *= 2;
        }
        size_t got = fread(b + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) break;
    }
    if (ferror(f)) { free(b); return MP_FAIL(MP_EIO); }
    b[n] = '\0';
    *out = b;
    *outlen = n;
    return MP_OK;
}

/* Growable size_t array. */
typedef struct { size_t *v, n, m; } szvec;
static int szvec_push(szvec *a, size_t x)
{
    if (a->n == a->m) {
        size_t m = a->m ? a->m * 2 : 1024;
        size_t bytes = mp_mul_size(m, sizeof *a->v);
        if (!bytes) return -1;
        size_t *v = realloc(a->v, bytes);
        if (!v) return -1;
        a->v = v;
        a->m = m;
    }
    a->v[a->n++] = x;
    return 0;
}

static char detect_delim(const char *p, const char *end)
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

/* Parse the buffer of t.  On failure fills err. */
static mp_status parse(mp_table *t, mp_error *err)
{
    char *b = t->buf;
    size_t n = t->len, i = 0, line = 1;
    szvec cells = {0}, lines = {0}, starts = {0}, hdr = {0};
    mp_status st = MP_OK;

    /* NUL bytes and other binary data are rejected before anything else. */
    for (size_t j = 0, ln = 1, ls = 0; j < n; j++) {
        unsigned char ch = (unsigned char)b[j];
        if (ch == '\n') { ln++; ls = j + 1; continue; }
        if (ch < 0x20 && ch != '\t' && ch != '\r') {
            mp_error_set(err, t->name, ln, j - ls + 1,
                         ch == 0 ? "NUL byte in input (binary data?)"
                                 : "control byte 0x%02x in input (binary data?)", ch);
            return MP_FAIL(MP_EPARSE);
        }
        if (ch == 0x7f) {
            mp_error_set(err, t->name, ln, j - ls + 1, "control byte 0x7f in input (binary data?)");
            return MP_FAIL(MP_EPARSE);
        }
    }
    if (n >= 3 && (unsigned char)b[0] == 0xEF && (unsigned char)b[1] == 0xBB &&
        (unsigned char)b[2] == 0xBF)
        i = 3;
    /* skip leading empty lines */
    while (i < n && (b[i] == '\n' || b[i] == '\r')) {
        if (b[i] == '\n' || (b[i] == '\r' && (i + 1 >= n || b[i + 1] != '\n'))) line++;
        i++;
    }
    if (i >= n) {
        mp_error_set(err, t->name, 0, 0, "empty file (no header row)");
        return MP_FAIL(MP_EPARSE);
    }
    t->delim = detect_delim(b + i, b + n);
    const char d = t->delim;
    int header = 1;
    size_t rowcells = 0, eol = 0;

    while (i < n) {
        /* at the start of a line */
        if (b[i] == '\n' || b[i] == '\r') { /* empty line: ignored */
            if (b[i] == '\r' && i + 1 < n && b[i + 1] == '\n') i++;
            i++;
            line++;
            continue;
        }
        size_t rowstart = i, rowline = line, nf = 0;
        szvec *dst = header ? &hdr : &cells;
        for (;;) { /* one field per iteration */
            size_t fstart = i;
            if (i < n && b[i] == '"') {
                size_t w = i, qline = line, qcol = i - rowstart + 1;
                i++;
                for (;;) {
                    if (i >= n) {
                        mp_error_set(err, t->name, qline, qcol, "unterminated quoted field");
                        st = MP_FAIL(MP_EPARSE);
                        goto done;
                    }
                    if (b[i] == '"') {
                        if (i + 1 < n && b[i + 1] == '"') { b[w++] = '"'; i += 2; continue; }
                        i++;
                        break;
                    }
                    if (b[i] == '\n') line++;
                    b[w++] = b[i++];
                }
                while (i < n && b[i] == ' ') i++;
                if (i < n && b[i] != d && b[i] != '\n' && b[i] != '\r') {
                    mp_error_set(err, t->name, line, i - rowstart + 1,
                                 "unexpected character '%c' after closing quote", b[i]);
                    st = MP_FAIL(MP_EPARSE);
                    goto done;
                }
                b[w] = '\0'; /* w < i: the closing quote's place at least */
            } else {
                while (i < n && b[i] != d && b[i] != '\n' && b[i] != '\r') {
                    if (b[i] == '"') {
                        mp_error_set(err, t->name, line, i - rowstart + 1,
                                     "quote inside an unquoted field");
                        st = MP_FAIL(MP_EPARSE);
                        goto done;
                    }
                    i++;
                }
            }
            if (szvec_push(dst, fstart)) { st = MP_FAIL(MP_ENOMEM); goto done; }
            nf++;
            if (!header && nf > t->ncols) {
                mp_error_set(err, t->name, rowline, fstart - rowstart + 1,
                             "row has more fields than the header's %zu", t->ncols);
                st = MP_FAIL(MP_EPARSE);
                goto done;
            }
            if (i < n && b[i] == d) { b[i++] = '\0'; continue; }
            /* end of line or of input */
            eol = i;
            if (i < n && b[i] == '\r') { b[i++] = '\0'; if (i < n && b[i] == '\n') i++; }
            else if (i < n && b[i] == '\n') { b[i++] = '\0'; }
            line++;
            break;
        }
        if (header) {
            t->ncols = nf;
            t->hdr_line = rowline;
            header = 0;
            rowcells = nf;
            continue;
        }
        if (nf != rowcells) {
            mp_error_set(err, t->name, rowline, eol - rowstart + 1,
                         "row has %zu fields, the header has %zu", nf, rowcells);
            st = MP_FAIL(MP_EPARSE);
            goto done;
        }
        if (szvec_push(&lines, rowline) || szvec_push(&starts, rowstart)) {
            st = MP_FAIL(MP_ENOMEM);
            goto done;
        }
    }
    t->nrows = lines.n;
    if (t->nrows == 0) {
        mp_error_set(err, t->name, t->hdr_line, 0, "header but no data rows");
        st = MP_FAIL(MP_EPARSE);
        goto done;
    }
    t->hdr = hdr.v; hdr.v = NULL;
    t->cells = cells.v; cells.v = NULL;
    t->line = lines.v; lines.v = NULL;
    t->rowstart = starts.v; starts.v = NULL;
    /* column names: strip blanks, reject duplicates */
    for (size_t j = 0; j < t->ncols; j++) {
        for (size_t k = 0; k < j; k++) {
            if (strcmp(b + t->hdr[j], b + t->hdr[k]) == 0) {
                mp_error_set(err, t->name, t->hdr_line, 0,
                             "duplicated column name '%s' (columns %zu and %zu)",
                             b + t->hdr[j], k + 1, j + 1);
                st = MP_FAIL(MP_EPARSE);
                goto done;
            }
        }
    }
done:
    free(cells.v);
    free(lines.v);
    free(starts.v);
    free(hdr.v);
    return st;
}

static mp_status finish(mp_table *t, mp_table **out, mp_error *err)
{
    mp_status st = parse(t, err);
    if (st != MP_OK) { mp_table_free(t); return st; }
    *out = t;
    return MP_OK;
}

mp_status mp_table_read(const char *path, mp_table **out, mp_error *err)
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
    mp_status st = slurp(f, &t->buf, &t->len);
    int e = errno;
    if (!is_stdin) fclose(f);
    if (st != MP_OK) {
        mp_error_set(err, t->name, 0, 0, "cannot read: %s",
                     st == MP_ENOMEM ? "out of memory" : strerror(e));
        free(t);
        return st;
    }
    return finish(t, out, err);
}

mp_status mp_table_read_mem(const char *name, const char *buf, size_t len, mp_table **out,
                            mp_error *err)
{
    if (!buf || !out) return MP_FAIL(MP_EINVAL);
    *out = NULL;
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
    free(t);
}

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
    for (size_t j = 0; j < t->ncols; j++)
        if (strcmp(t->buf + t->hdr[j], name) == 0) return (long)j;
    return -1;
}

const char *mp_table_cell(const mp_table *t, size_t i, size_t j)
{
    if (i >= t->nrows || j >= t->ncols) return empty_cell;
    return t->buf + t->cells[i * t->ncols + j];
}

size_t mp_table_line(const mp_table *t, size_t i) { return i < t->nrows ? t->line[i] : 0; }

size_t mp_table_colpos(const mp_table *t, size_t i, size_t j)
{
    if (i >= t->nrows || j >= t->ncols) return 0;
    return t->cells[i * t->ncols + j] - t->rowstart[i] + 1;
}

int mp_table_is_missing(const mp_table *t, size_t i, size_t j)
{
    const char *s = mp_table_cell(t, i, j);
    while (*s == ' ') s++;
    if (*s == '\0') return 1;
    size_t n = strlen(s);
    while (n && s[n - 1] == ' ') n--;
    return (n == 2 && s[0] == 'N' && s[1] == 'A') || (n == 1 && s[0] == '.');
}

void mp_table_error(const mp_table *t, size_t i, size_t j, mp_error *err, const char *fmt, ...)
{
    if (!err) return;
    va_list ap;
    snprintf(err->file, sizeof err->file, "%s", t->name);
    err->line = mp_table_line(t, i);
    err->col = mp_table_colpos(t, i, j);
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
}

mp_status mp_table_number(const mp_table *t, size_t i, size_t j, double *out, mp_error *err)
{
    const char *s = mp_table_cell(t, i, j);
    int r = mp_parse_double(s, strlen(s), out);
    if (r == 1) return MP_OK;
    const char *col = mp_table_colname(t, j);
    if (*s == '\0' || strspn(s, " ") == strlen(s))
        mp_table_error(t, i, j, err, "column '%s': empty cell where a number is required", col);
    else if (r == 0)
        mp_table_error(t, i, j, err, "column '%s': '%.60s' is not a number", col, s);
    else
        mp_table_error(t, i, j, err, "column '%s': '%.60s' is not a finite number in range",
                       col, s);
    return MP_FAIL(MP_EPARSE);
}
