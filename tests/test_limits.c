/* tests/test_limits.c - the stated limits of the readers, each at the limit and one past it.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * include/metapool/table.h states four limits: the longest row, the most
 * columns, the largest input of the whole-file readers and the most groups
 * of a whole-file grouping.  Each is checked here at the limit (accepted)
 * and one past it (MP_EPARSE, the message naming the limit, at the line and
 * column stated below, counted by hand from the bytes each case builds).
 * The same text goes through every reader: mp_table_read() (a file: bytes
 * checked as they arrive), mp_table_read_mem(), and the streaming batch
 * reader (mp_batch_read_all() with read buffers of 64 bytes and of the
 * default 1 MiB, plain rows, which its fast SSE2 path takes, and quoted
 * rows, which only its general path takes); all must give the same
 * message at the same line:col.  Small limits are set with
 * mp_table_limits_set() to test the exact boundary cheaply; the real
 * defaults are tested too where the input is small enough (columns,
 * groups, the 64 MiB row, and the 8 GiB file as a sparse file whose size
 * alone decides). */
#include "testutil.h"

#include <metapool/metapool.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- helpers -------------------------------------------------------------- */

/* A growable text buffer. */
typedef struct { char *p; size_t n, cap; } text;

static void put(text *t, const char *s, size_t n)
{
    if (t->n + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 1024;
        while (cap < t->n + n + 1) cap *= 2;
        t->p = realloc(t->p, cap);
        ck_assert_ptr_nonnull(t->p);
        t->cap = cap;
    }
    memcpy(t->p + t->n, s, n);
    t->n += n;
    t->p[t->n] = '\0';
}
static void puts_(text *t, const char *s) { put(t, s, strlen(s)); }
static void putc_n(text *t, char c, size_t n)
{
    put(t, "", 0); /* make sure there is a buffer */
    if (t->n + n + 1 > t->cap) {
        size_t cap = t->cap;
        while (cap < t->n + n + 1) cap *= 2;
        t->p = realloc(t->p, cap);
        ck_assert_ptr_nonnull(t->p);
        t->cap = cap;
    }
    memset(t->p + t->n, c, n);
    t->n += n;
    t->p[t->n] = '\0';
}

static void set_limits(size_t row, size_t cols, uint64_t file, size_t groups)
{
    mp_table_limits l = {row, cols, file, groups};
    mp_table_limits_set(&l);
}

/* The outcome of one reader. */
typedef struct {
    mp_status st;
    mp_error err;
    size_t nrows, ncols, ngroups;
} outcome;

static char *write_tmp(const text *t)
{
    char *path = tu_tmpfile(t->p, t->n);
    ck_assert_ptr_nonnull(path);
    return path;
}

static outcome by_table_file(const char *path)
{
    outcome o = {0};
    mp_error_clear(&o.err);
    mp_table *t = NULL;
    o.st = mp_table_read(path, &t, &o.err);
    if (o.st == MP_OK) { o.nrows = mp_table_nrows(t); o.ncols = mp_table_ncols(t); }
    mp_table_free(t);
    return o;
}

static outcome by_table_mem(const char *path, const text *x)
{
    outcome o = {0};
    mp_error_clear(&o.err);
    mp_table *t = NULL;
    o.st = mp_table_read_mem(path, x->p, x->n, &t, &o.err);
    if (o.st == MP_OK) { o.nrows = mp_table_nrows(t); o.ncols = mp_table_ncols(t); }
    mp_table_free(t);
    return o;
}

static outcome by_batch(const char *path, const char *group, size_t chunk, int sorted)
{
    outcome o = {0};
    mp_error_clear(&o.err);
    mp_batch_reader *r = NULL;
    mp_batch_data d = {0};
    o.st = mp_batch_reader_open(path, group, NULL, chunk, &r, &o.err);
    if (o.st == MP_OK && !sorted) {
        o.st = mp_batch_read_all(r, &d, &o.err);
        o.nrows = d.nrows;
        o.ngroups = d.n;
    } else if (o.st == MP_OK) {
        int eof = 0;
        while (o.st == MP_OK && !eof) {
            o.st = mp_batch_read_sorted(r, 1000, &d, &eof, &o.err);
            o.nrows += d.nrows;
            o.ngroups += d.n;
        }
    }
    mp_batch_data_free(&d);
    mp_batch_reader_free(r);
    return o;
}

static void same_error(const outcome *a, const outcome *b, const char *what)
{
    ck_assert_msg(a->st == b->st, "%s: status %d vs %d (%s / %s)", what, (int)a->st, (int)b->st,
                  a->err.msg, b->err.msg);
    if (a->st == MP_OK) return;
    ck_assert_msg(strcmp(a->err.msg, b->err.msg) == 0 && a->err.line == b->err.line &&
                      a->err.col == b->err.col,
                  "%s: %zu:%zu %s vs %zu:%zu %s", what, a->err.line, a->err.col, a->err.msg,
                  b->err.line, b->err.col, b->err.msg);
}

/* Every reader on x: accepted (want_line == 0, with `rows` data rows) or
 * refused with MP_EPARSE at want_line:want_col, the message containing
 * want_msg; all readers agree exactly.  The group column is g. */
static void all_readers(const text *x, size_t rows, size_t want_line, size_t want_col,
                        const char *want_msg)
{
    char *path = write_tmp(x);
    outcome f = by_table_file(path), m = by_table_mem(path, x);
    outcome b64 = by_batch(path, "g", 64, 0), b1m = by_batch(path, "g", 0, 0);
    same_error(&f, &m, "mp_table_read vs mp_table_read_mem");
    same_error(&f, &b64, "mp_table_read vs batch reader (64-byte buffer)");
    same_error(&f, &b1m, "mp_table_read vs batch reader (1 MiB buffer)");
    if (want_line == 0) {
        ck_assert_msg(f.st == MP_OK, "refused: %zu:%zu %s", f.err.line, f.err.col, f.err.msg);
        ck_assert_uint_eq(f.nrows, rows);
        ck_assert_uint_eq(m.nrows, rows);
        ck_assert_uint_eq(b64.nrows, rows);
        ck_assert_uint_eq(b1m.nrows, rows);
    } else {
        ck_assert_int_eq(f.st, MP_EPARSE);
        ck_assert_msg(strstr(f.err.msg, want_msg), "message: %s (wanted %s)", f.err.msg, want_msg);
        ck_assert_uint_eq(f.err.line, want_line);
        ck_assert_uint_eq(f.err.col, want_col);
    }
    unlink(path);
    free(path);
}

/* ---- longest row ---------------------------------------------------------- */

/* A data row of exactly n bytes (its line end excluded) in several shapes;
 * limit 100, so n = 100 is accepted and n = 101 refused at the row's line,
 * column 1.  Shapes: 0 plain (the fast path takes it), 1 the group quoted
 * (general path only), 2 a quoted group holding a line break (the row spans
 * two lines and counts both), 3 the row is the last one, without a line
 * end, 4 CRLF line ends (not counted), 5 the long row is the header
 * (line 1), 6 a line of blanks only (skipped, but still a row of bytes). */
static void row_case(int shape, size_t n, text *x, size_t *rows, size_t *line)
{
    const char *tail = ",0.1,0.01";
    size_t pad = n - strlen(tail);
    const char *eol = shape == 4 ? "\r\n" : "\n";
    *rows = 2;
    *line = 3;
    if (shape == 5) { /* header: g then a long name */
        puts_(x, "g,yi,vi,");
        putc_n(x, 'h', n - 8);
        puts_(x, "\na,0.1,0.01,1\nb,0.2,0.02,1\n");
        *line = 1;
        return;
    }
    puts_(x, "g,yi,vi");
    puts_(x, eol);
    puts_(x, "a,0.1,0.01");
    puts_(x, eol);
    if (shape == 6) {
        putc_n(x, ' ', n);
        puts_(x, "\nb,0.2,0.02\n");
        *rows = 2;
        return;
    }
    if (shape == 0 || shape == 3 || shape == 4) {
        putc_n(x, 'b', pad);
    } else if (shape == 1) {
        puts_(x, "\"");
        putc_n(x, 'b', pad - 2);
        puts_(x, "\"");
    } else { /* 2: "b<LF>bbb..." */
        puts_(x, "\"b\n");
        putc_n(x, 'b', pad - 4);
        puts_(x, "\"");
    }
    puts_(x, tail);
    if (shape == 3) return; /* the last row, no line end */
    puts_(x, eol);
    puts_(x, "c,0.3,0.03");
    puts_(x, eol);
    *rows = 3;
}

START_TEST(test_row_limit_small)
{
    set_limits(100, 0, 0, 0);
    int shape = _i / 2;
    size_t n = 100 + (size_t)(_i % 2); /* at the limit, then one past */
    text x = {0};
    size_t rows, line;
    row_case(shape, n, &x, &rows, &line);
    all_readers(&x, rows, n == 100 ? 0 : line, 1,
                "line longer than 100 bytes (the limit of one row; not a delimited text file?)");
    free(x.p);
    mp_table_limits_set(NULL);
}
END_TEST

/* A quoted field never closed: refused when the row has run past the limit,
 * at the opening quote (line 2, column 3), by the whole-file loader; the
 * batch reader (buffer of 64 bytes, which fills) says the same. */
START_TEST(test_row_limit_open_quote)
{
    set_limits(100, 0, 0, 0);
    text x = {0};
    puts_(&x, "g,yi,vi\na,\"x");
    putc_n(&x, 'y', 150);
    char *path = write_tmp(&x);
    outcome f = by_table_file(path), b = by_batch(path, "g", 64, 0);
    ck_assert_int_eq(f.st, MP_EPARSE);
    ck_assert_str_eq(f.err.msg, "quoted field opened here runs past 100 bytes without its closing quote");
    ck_assert_uint_eq(f.err.line, 2);
    ck_assert_uint_eq(f.err.col, 3);
    same_error(&f, &b, "open quote");
    unlink(path);
    free(path);
    free(x.p);
    mp_table_limits_set(NULL);
}
END_TEST

/* The real default, 64 MiB: a row of exactly 2^26 bytes loads (the group
 * value is the row but for ",0.1,0.01"), one byte more is refused at 2:1. */
START_TEST(test_row_limit_default)
{
    mp_table_limits l;
    mp_table_limits_get(&l);
    ck_assert_uint_eq(l.row_bytes, MP_TABLE_MAX_ROW_BYTES);
    ck_assert_uint_eq(MP_TABLE_MAX_ROW_BYTES, (size_t)64 << 20);
    size_t n = MP_TABLE_MAX_ROW_BYTES + (size_t)_i;
    text x = {0};
    size_t rows, line;
    row_case(0, n, &x, &rows, &line);
    char *path = write_tmp(&x);
    outcome f = by_table_file(path), b = by_batch(path, "g", 0, 0);
    same_error(&f, &b, "64 MiB row");
    if (_i == 0) {
        ck_assert_msg(f.st == MP_OK, "%s", f.err.msg);
        ck_assert_uint_eq(f.nrows, 3);
        ck_assert_uint_eq(b.ngroups, 3);
    } else {
        ck_assert_int_eq(f.st, MP_EPARSE);
        ck_assert_str_eq(f.err.msg, "line longer than 64 MiB (the limit of one row; not a delimited text file?)");
        ck_assert_uint_eq(f.err.line, 3);
        ck_assert_uint_eq(f.err.col, 1);
    }
    unlink(path);
    free(path);
    free(x.p);
}
END_TEST

/* ---- most columns --------------------------------------------------------- */

/* A header of `ncols` columns g, yi, vi, c3, c4, ... and two rows; `quoted`:
 * the last column name is quoted after two blanks ("  \"cN\""). */
static void wide(text *x, size_t ncols, int quoted)
{
    char buf[32];
    puts_(x, "g,yi,vi");
    for (size_t j = 3; j < ncols; j++) {
        if (quoted && j + 1 == ncols) snprintf(buf, sizeof buf, ",  \"c%zu\"", j);
        else snprintf(buf, sizeof buf, ",c%zu", j);
        puts_(x, buf);
    }
    for (int r = 0; r < 2; r++) {
        puts_(x, r ? "\nb,0.2,0.02" : "\na,0.1,0.01");
        for (size_t j = 3; j < ncols; j++) puts_(x, ",1");
    }
    puts_(x, "\n");
}

/* Byte column where column `j` (1-based) of the header starts. */
static size_t header_col(const text *x, size_t j)
{
    size_t c = 1, k = 1;
    for (size_t i = 0; k < j; i++, c++)
        if (x->p[i] == ',') k++;
    while (x->p[c - 1] == ' ') c++; /* blanks before a quoted name: at the quote */
    return c;
}

START_TEST(test_cols_limit_small)
{
    set_limits(0, 8, 0, 0);
    int quoted = _i / 2;
    size_t ncols = 8 + (size_t)(_i % 2);
    text x = {0};
    wide(&x, ncols, quoted);
    all_readers(&x, 2, ncols == 8 ? 0 : 1, ncols == 8 ? 0 : header_col(&x, 9),
                "more than 8 columns in the header (the limit)");
    free(x.p);
    mp_table_limits_set(NULL);
}
END_TEST

/* The real default: 2^20 columns load; 2^20 + 1 are refused at the first
 * byte of column 1048577. */
START_TEST(test_cols_limit_default)
{
    ck_assert_uint_eq(MP_TABLE_MAX_COLS, 1048576);
    size_t ncols = MP_TABLE_MAX_COLS + (size_t)_i;
    text x = {0};
    wide(&x, ncols, 0);
    char *path = write_tmp(&x);
    outcome f = by_table_file(path), m = by_table_mem(path, &x), b = by_batch(path, "g", 0, 0);
    same_error(&f, &m, "2^20 columns: file vs mem");
    same_error(&f, &b, "2^20 columns: loader vs batch");
    if (_i == 0) {
        ck_assert_msg(f.st == MP_OK, "%s", f.err.msg);
        ck_assert_uint_eq(f.ncols, MP_TABLE_MAX_COLS);
        ck_assert_uint_eq(b.nrows, 2);
    } else {
        ck_assert_int_eq(f.st, MP_EPARSE);
        ck_assert_str_eq(f.err.msg, "more than 1048576 columns in the header (the limit)");
        ck_assert_uint_eq(f.err.line, 1);
        ck_assert_uint_eq(f.err.col, header_col(&x, MP_TABLE_MAX_COLS + 1));
    }
    unlink(path);
    free(path);
    free(x.p);
}
END_TEST

/* ---- largest input of the whole-file readers ------------------------------ */

/* A file of exactly n bytes: header, rows, and the last row padded. */
static void sized(text *x, size_t n)
{
    puts_(x, "g,yi,vi\na,0.1,0.01\nb,0.2,0.02\n");
    const char *tail = ",0.3,0.03\n";
    putc_n(x, 'c', n - x->n - strlen(tail));
    puts_(x, tail);
    ck_assert_uint_eq(x->n, n);
}

/* Limit 1000 bytes: a file of 1000 loads in the whole-file readers, 1001 is
 * refused (no line: the whole input is at fault); batch --sorted streams
 * and takes it. */
START_TEST(test_file_limit_small)
{
    set_limits(0, 0, 1000, 0);
    size_t n = 1000 + (size_t)_i;
    text x = {0};
    sized(&x, n);
    char *path = write_tmp(&x);
    outcome f = by_table_file(path), m = by_table_mem(path, &x), b = by_batch(path, "g", 64, 0),
            s = by_batch(path, "g", 64, 1);
    same_error(&f, &m, "file vs mem");
    same_error(&f, &b, "loader vs batch");
    ck_assert_msg(s.st == MP_OK, "--sorted: %s", s.err.msg);
    ck_assert_uint_eq(s.ngroups, 3);
    if (_i == 0) {
        ck_assert_msg(f.st == MP_OK, "%s", f.err.msg);
        ck_assert_uint_eq(b.ngroups, 3);
    } else {
        ck_assert_int_eq(f.st, MP_EPARSE);
        ck_assert_str_eq(f.err.msg, "input larger than 1000 bytes (the limit when the whole file is "
                                    "read at once; batch --sorted streams larger files)");
        ck_assert_uint_eq(f.err.line, 0);
        ck_assert_uint_eq(f.err.col, 0);
    }
    unlink(path);
    free(path);
    free(x.p);
    mp_table_limits_set(NULL);
}
END_TEST

/* The same through a pipe on standard input ("-"): the size is not known
 * beforehand, so the bytes are counted as they arrive. */
START_TEST(test_file_limit_pipe)
{
    set_limits(0, 0, 1000, 0);
    size_t n = 1000 + (size_t)(_i % 2);
    int batch = _i / 2;
    text x = {0};
    sized(&x, n);
    int fd[2];
    ck_assert_int_eq(pipe(fd), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) { /* the writer: in small pieces, as a pipe may deliver them */
        close(fd[0]);
        for (size_t i = 0; i < x.n; i += 100)
            if (write(fd[1], x.p + i, x.n - i < 100 ? x.n - i : 100) < 0) _exit(1);
        _exit(0);
    }
    close(fd[1]);
    ck_assert_int_eq(dup2(fd[0], 0), 0);
    close(fd[0]);
    outcome o = batch ? by_batch("-", "g", 64, 0) : by_table_file("-");
    int ws;
    waitpid(pid, &ws, 0);
    if (_i % 2 == 0) {
        ck_assert_msg(o.st == MP_OK, "%s", o.err.msg);
    } else {
        ck_assert_int_eq(o.st, MP_EPARSE);
        ck_assert_str_eq(o.err.file, "<stdin>");
        ck_assert_msg(strstr(o.err.msg, "input larger than 1000 bytes"), "%s", o.err.msg);
    }
    free(x.p);
    mp_table_limits_set(NULL);
}
END_TEST

/* The real default, 8 GiB: a sparse file that begins with a good header and
 * two rows, then zeros.  At 2^33 bytes exactly the size is accepted and
 * reading goes on to the first zero byte (NUL at line 4, column 1); at
 * 2^33 + 1 the size alone refuses it before anything is read (batch
 * without --sorted likewise; with --sorted it streams on to the NUL). */
START_TEST(test_file_limit_default)
{
    ck_assert(MP_TABLE_MAX_FILE_BYTES == ((uint64_t)1 << 33));
    char path[] = "/tmp/metapool-limit-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    const char *head = "g,yi,vi\na,0.1,0.01\nb,0.2,0.02\n";
    ck_assert_int_eq(write(fd, head, strlen(head)), (int)strlen(head));
    ck_assert_int_eq(ftruncate(fd, (off_t)(MP_TABLE_MAX_FILE_BYTES + (uint64_t)_i)), 0);
    close(fd);
    outcome f = by_table_file(path), b = by_batch(path, "g", 0, 0), s = by_batch(path, "g", 0, 1);
    ck_assert_int_eq(f.st, MP_EPARSE);
    ck_assert_int_eq(b.st, MP_EPARSE);
    ck_assert_int_eq(s.st, MP_EPARSE);
    ck_assert_str_eq(s.err.msg, "NUL byte in input (binary data?)");
    ck_assert_uint_eq(s.err.line, 4);
    if (_i == 0) {
        ck_assert_str_eq(f.err.msg, "NUL byte in input (binary data?)");
        ck_assert_uint_eq(f.err.line, 4);
        ck_assert_uint_eq(f.err.col, 1);
        same_error(&f, &b, "8 GiB: loader vs batch");
    } else {
        ck_assert_str_eq(f.err.msg, "input larger than 8 GiB (the limit when the whole file is "
                                    "read at once; batch --sorted streams larger files)");
        same_error(&f, &b, "8 GiB + 1: loader vs batch");
    }
    unlink(path);
}
END_TEST

/* ---- most groups ---------------------------------------------------------- */

/* Rows g0, g1, ... (one per group, then a repeat of g0); `quoted`: every
 * group value quoted (the batch reader's general path). */
static void grouped(text *x, size_t ngroups, int quoted)
{
    char buf[64];
    puts_(x, "yi,vi,g\n");
    for (size_t i = 0; i < ngroups; i++) {
        snprintf(buf, sizeof buf, quoted ? "0.1,0.01,\"g%zu\"\n" : "0.1,0.01,g%zu\n", i);
        puts_(x, buf);
    }
    puts_(x, "0.2,0.02,g0\n");
}

static outcome by_table_group(const char *path)
{
    outcome o = {0};
    mp_error_clear(&o.err);
    mp_table *t = NULL;
    o.st = mp_table_read(path, &t, &o.err);
    if (o.st != MP_OK) return o;
    size_t nr = mp_table_nrows(t), *gid = malloc(nr * sizeof *gid);
    ck_assert_ptr_nonnull(gid);
    o.st = mp_table_group(t, 2, NULL, NULL, gid, NULL, &o.ngroups, &o.err);
    if (o.st == MP_OK) { /* first appearance: row i is group i, the last row group 0 */
        for (size_t i = 0; i + 1 < nr; i++) ck_assert_uint_eq(gid[i], i);
        ck_assert_uint_eq(gid[nr - 1], 0);
    }
    free(gid);
    mp_table_free(t);
    return o;
}

static void groups_check(size_t limit, size_t ngroups, int quoted)
{
    text x = {0};
    grouped(&x, ngroups, quoted);
    char *path = write_tmp(&x);
    outcome t = by_table_group(path), b = by_batch(path, "g", 0, 0), s = by_batch(path, "g", 1 << 16, 1);
    same_error(&t, &b, "mp_table_group vs mp_batch_read_all");
    if (ngroups <= limit) {
        ck_assert_msg(t.st == MP_OK, "%s", t.err.msg);
        ck_assert_uint_eq(t.ngroups, ngroups);
        ck_assert_uint_eq(b.ngroups, ngroups);
    } else {
        char want[300];
        snprintf(want, sizeof want,
                 "more than %zu groups in column 'g' (the limit when the whole file is grouped; "
                 "batch --sorted takes any number of groups, contiguous)", limit);
        ck_assert_int_eq(t.st, MP_EPARSE);
        ck_assert_str_eq(t.err.msg, want);
        ck_assert_uint_eq(t.err.line, limit + 2); /* the row of group limit + 1 */
        ck_assert_uint_eq(t.err.col, 10);         /* after "0.1,0.01," */
    }
    /* --sorted has no limit on groups: g0 coming back is its only complaint */
    ck_assert_int_eq(s.st, MP_EPARSE);
    ck_assert_msg(strstr(s.err.msg, "group 'g0' appears again"), "%s", s.err.msg);
    unlink(path);
    free(path);
    free(x.p);
}

START_TEST(test_groups_limit_small)
{
    set_limits(0, 0, 0, 5);
    groups_check(5, 5 + (size_t)(_i % 2), _i / 2);
    mp_table_limits_set(NULL);
}
END_TEST

START_TEST(test_groups_limit_default)
{
    ck_assert_uint_eq(MP_TABLE_MAX_GROUPS, 1048576);
    groups_check(MP_TABLE_MAX_GROUPS, MP_TABLE_MAX_GROUPS + (size_t)_i, 0);
}
END_TEST

/* Settings: 0 fields keep their defaults, NULL restores them all. */
START_TEST(test_limits_settings)
{
    mp_table_limits l;
    mp_table_limits_set(NULL);
    mp_table_limits_get(&l);
    ck_assert_uint_eq(l.row_bytes, MP_TABLE_MAX_ROW_BYTES);
    ck_assert_uint_eq(l.cols, MP_TABLE_MAX_COLS);
    ck_assert(l.file_bytes == MP_TABLE_MAX_FILE_BYTES);
    ck_assert_uint_eq(l.groups, MP_TABLE_MAX_GROUPS);
    set_limits(7, 0, 0, 9);
    mp_table_limits_get(&l);
    ck_assert_uint_eq(l.row_bytes, 7);
    ck_assert_uint_eq(l.cols, MP_TABLE_MAX_COLS);
    ck_assert(l.file_bytes == MP_TABLE_MAX_FILE_BYTES);
    ck_assert_uint_eq(l.groups, 9);
    mp_table_limits_set(NULL);
    mp_table_limits_get(&l);
    ck_assert_uint_eq(l.row_bytes, MP_TABLE_MAX_ROW_BYTES);
    ck_assert_uint_eq(l.groups, MP_TABLE_MAX_GROUPS);
}
END_TEST

static Suite *limits_suite(void)
{
    Suite *s = suite_create("limits");
    TCase *tc = tcase_create("small");
    tcase_add_test(tc, test_limits_settings);
    tcase_add_loop_test(tc, test_row_limit_small, 0, 14);
    tcase_add_test(tc, test_row_limit_open_quote);
    tcase_add_loop_test(tc, test_cols_limit_small, 0, 4);
    tcase_add_loop_test(tc, test_file_limit_small, 0, 2);
    tcase_add_loop_test(tc, test_file_limit_pipe, 0, 4);
    tcase_add_loop_test(tc, test_groups_limit_small, 0, 4);
    suite_add_tcase(s, tc);
    TCase *td = tcase_create("defaults");
    tcase_set_timeout(td, 300);
    tcase_add_loop_test(td, test_row_limit_default, 0, 2);
    tcase_add_loop_test(td, test_cols_limit_default, 0, 2);
    tcase_add_loop_test(td, test_file_limit_default, 0, 2);
    tcase_add_loop_test(td, test_groups_limit_default, 0, 2);
    suite_add_tcase(s, td);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(limits_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
