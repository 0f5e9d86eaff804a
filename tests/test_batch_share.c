/* tests/test_batch_share.c - shares of a sorted file: cut points and range readers.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The oracle is the whole-file reader: reading the shares of a file one
 * after another (each with its own range reader) must give the groups,
 * their first lines, rows (y and v bit for bit), warnings (with row and
 * line numbers) and the first error message of reading the whole file in
 * one go.  Checked for mp_batch_plan() with 1..7 shares and for a cut at
 * every byte position of each file (mp_batch_find_cut() with the quote
 * state from mp_batch_count_quotes()), on files with quoted group values
 * holding line breaks, commas and quotes, CRLF and lone CR line ends,
 * empty and blank lines, a BOM, missing values, one group spanning most of
 * the file, and malformed rows. */
#include "testutil.h"

#include "metapool/batch.h"
#include "metapool/metapool.h"

#include <gsl/gsl_errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct { char *p; size_t n, cap; } text;

static void tx_add(text *t, const char *s, size_t n)
{
    if (t->n + n + 1 > t->cap) {
        t->cap = (t->n + n + 1) * 2;
        t->p = realloc(t->p, t->cap);
        ck_assert_ptr_nonnull(t->p);
    }
    memcpy(t->p + t->n, s, n);
    t->n += n;
    t->p[t->n] = '\0';
}

static void tx_printf(text *t, const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    tx_add(t, buf, (size_t)n);
}

/* Everything a reader gives, block by block (blocks of at least 2 rows, so
 * blocks end at many places), up to its first error: returns 0, or 1 with
 * the error appended. */
static int dump_reader(mp_batch_reader *r, text *t, text *w)
{
    mp_batch_data d = {0};
    mp_error err;
    mp_error_clear(&err);
    int eof = 0, bad = 0;
    while (!eof) {
        mp_status st = mp_batch_read_sorted(r, 2, &d, &eof, &err);
        for (size_t a = 0; a < d.n; a++) {
            tx_printf(t, "G[%s] line %zu k %zu:", mp_batch_data_name(&d, a), d.line[a],
                      d.off[a + 1] - d.off[a]);
            for (size_t i = d.off[a]; i < d.off[a + 1]; i++) {
                uint64_t y, v;
                memcpy(&y, &d.y[i], 8);
                memcpy(&v, &d.v[i], 8);
                tx_printf(t, " %016llx/%016llx", (unsigned long long)y, (unsigned long long)v);
            }
            tx_add(t, "\n", 1);
        }
        for (size_t i = 0; i < d.warnings.n; i++) tx_printf(w, "W %s\n", d.warnings.v[i]);
        if (st != MP_OK) {
            char buf[1024];
            mp_error_format(&err, buf, sizeof buf);
            tx_printf(w, "E %d %s\n", (int)st, buf);
            bad = 1;
            break;
        }
    }
    mp_batch_data_free(&d);
    return bad;
}

/* Groups and rows into t, then warnings and the error: a block's warnings
 * are those read with it, and a row read ahead (the first of the next
 * block) brings its warnings into the block before, so only the sequences
 * are compared, not how they interleave (cmd_batch.c orders them by line). */
static void dump_whole(const char *path, text *t)
{
    text w = {0};
    mp_batch_reader *r = NULL;
    mp_error err;
    mp_error_clear(&err);
    ck_assert_int_eq(mp_batch_reader_open(path, "g", NULL, 64, &r, &err), MP_OK);
    dump_reader(r, t, &w);
    mp_batch_reader_free(r);
    tx_add(t, "--\n", 3);
    if (w.p) tx_add(t, w.p, w.n);
    free(w.p);
}

static void dump_shares(const char *path, const mp_batch_share *sh, size_t n, text *t)
{
    text w = {0};
    for (size_t i = 0; i < n; i++) {
        if (i) ck_assert_uint_eq(sh[i].begin, sh[i - 1].end);
        ck_assert_uint_le(sh[i].begin, sh[i].end);
        mp_batch_reader *r = NULL;
        mp_error err;
        mp_error_clear(&err);
        ck_assert_int_eq(mp_batch_reader_open_range(path, "g", NULL, 64, &sh[i], &r, &err), MP_OK);
        int bad = dump_reader(r, t, &w);
        mp_batch_reader_free(r);
        if (bad) break;
    }
    tx_add(t, "--\n", 3);
    if (w.p) tx_add(t, w.p, w.n);
    free(w.p);
}

/* Known differences: a group that comes back in a later share is not seen
 * by the share readers (mp_batch_reader_open_range() says so), and a file
 * without data rows is an error only for the whole-file reader (a share
 * may be empty; the batch driver counts the rows of all shares). */
static int skip_compare(int i, size_t nshares) { return (nshares > 1 && i == 10) || i == 12; }

/* Sorted files (groups contiguous), the tricky ones. */
static const char *const files[] = {
    /* plain, groups of 1..4 rows */
    "g,yi,vi\na,1,1\na,2,1\nb,3,2\nc,4,1\nc,5,1\nc,6,2\nc,7,1\nd,8,1\ne,9,1\ne,10,2\n",
    /* quoted group values with line breaks, commas and quotes */
    "g,yi,vi\n\"x\ny\",1,1\n\"x\ny\",2,1\n\"a,b\",3,1\n\"q\"\"r\",4,1\n\"q\"\"r\",5,2\n"
    "\"m\r\nn\",6,1\n\"m\r\nn\",7,1\nz,8,1\n",
    /* CRLF, with a BOM and empty lines */
    "\xEF\xBB\xBFg,yi,vi\r\n\r\na,1,1\r\na,2,1\r\n\r\n  \r\nb,3,1\r\nb,4,2\r\nc,5,1\r\n",
    /* lone CR line ends, no final line end */
    "g,yi,vi\ra,1,1\rb,2,1\rb,3,1\r\rc,4,1\rc,5,2",
    /* missing group values and missing effects (warnings) */
    "g,yi,vi\na,1,1\nNA,2,1\na,3,1\nb,NA,1\nb,4,1\n,5,1\nc,6,1\n.,7,1\nd,8,1\nd,NA,2\n",
    /* one group spanning most of the file */
    "g,yi,vi\na,1,1\nbig,1,1\nbig,2,1\nbig,3,1\nbig,4,1\nbig,5,1\nbig,6,1\nbig,7,1\nbig,8,1\n"
    "big,9,1\nbig,10,1\nbig,11,1\nbig,12,1\nz,1,1\n",
    /* a ragged row in the middle */
    "g,yi,vi\na,1,1\na,2,1\nb,3,1\nb,4\nc,5,1\nd,6,1\n",
    /* a bad number starting a new group, then more */
    "g,yi,vi\na,1,1\na,2,1\nb,x,1\nb,4,1\nc,5,1\n",
    /* a bad number inside a group */
    "g,yi,vi\na,1,1\nb,2,1\nb,3,1\nb,zz,1\nc,5,1\n",
    /* an unterminated quote near the end */
    "g,yi,vi\na,1,1\nb,2,1\nc,3,1\n\"d,4,1\ne,5,1\n",
    /* a group that comes back within reach */
    "g,yi,vi\na,1,1\nb,2,1\na,3,1\nc,4,1\n",
    /* tab-delimited, blanks */
    "g\tyi\tvi\na\t1\t1\n \na\t2\t1\nb\t3\t1\n\t\t\nc\t4\t1\n",
    /* header only */
    "g,yi,vi\n",
    /* a quoted line break inside an effect cell's neighbour column */
    "g,yi,vi,note\na,1,1,\"x\ny\"\na,2,1,\"\"\nb,3,1,\"p\rq\"\nb,4,1,z\n",
};
#define NFILES (sizeof files / sizeof files[0])

START_TEST(test_plan_equals_whole)
{
    char *path = tu_tmpfile(files[_i], strlen(files[_i]));
    ck_assert_ptr_nonnull(path);
    text whole = {0};
    dump_whole(path, &whole);
    for (size_t n = 1; n <= 7; n++) {
        mp_batch_share sh[7];
        mp_error err;
        mp_error_clear(&err);
        ck_assert_int_eq(mp_batch_plan(path, "g", n, sh, &err), MP_OK);
        text parts = {0};
        dump_shares(path, sh, n, &parts);
        if (!skip_compare(_i, n) && strcmp(whole.p ? whole.p : "", parts.p ? parts.p : "") != 0)
            ck_abort_msg("file %d, %zu shares:\nwhole:\n%s\nshares:\n%s", _i, n, whole.p, parts.p);
        free(parts.p);
    }
    free(whole.p);
    unlink(path);
    free(path);
}
END_TEST

/* A cut found from every byte position: two shares, the same as the whole. */
START_TEST(test_every_cut)
{
    const char *f = files[_i];
    size_t size = strlen(f);
    char *path = tu_tmpfile(f, size);
    ck_assert_ptr_nonnull(path);
    text whole = {0};
    dump_whole(path, &whole);
    mp_batch_share one;
    mp_error err;
    mp_error_clear(&err);
    ck_assert_int_eq(mp_batch_plan(path, "g", 1, &one, &err), MP_OK);
    ck_assert_uint_eq(one.end, size);
    char delim = strchr(f, '\t') && !strchr(f, ',') ? '\t' : ',';
    size_t ncuts = 0;
    for (size_t at = 0; at <= size; at++) {
        size_t q = 0, cut = 0;
        if (at > one.begin) ck_assert_int_eq(mp_batch_count_quotes(path, one.begin, at, &q, &err), MP_OK);
        ck_assert_int_eq(mp_batch_find_cut(path, "g", at, (int)(q & 1), &cut, &err), MP_OK);
        ck_assert_uint_ge(cut, one.begin);
        ck_assert_uint_le(cut, size);
        if (at >= one.begin) ck_assert_uint_ge(cut, at);
        if (cut > one.begin && cut < size) ncuts++;
        mp_batch_share sh[2] = {{one.begin, cut, one.line, 0}, {cut, size, 0, 0}};
        size_t rows, lines;
        ck_assert_int_eq(mp_batch_count_rows(path, delim, one.begin, cut, &rows, &lines, &err), MP_OK);
        sh[1].line = one.line + lines;
        sh[1].row = rows;
        text parts = {0};
        dump_shares(path, sh, 2, &parts);
        if (!skip_compare(_i, 2) && strcmp(whole.p ? whole.p : "", parts.p ? parts.p : "") != 0)
            ck_abort_msg("file %d, cut from byte %zu at %zu:\nwhole:\n%s\nshares:\n%s", _i, at, cut,
                         whole.p, parts.p);
        free(parts.p);
    }
    /* files with several groups and no early error have inner cuts */
    if (_i <= 5) ck_assert_uint_gt(ncuts, 0);
    free(whole.p);
    unlink(path);
    free(path);
}
END_TEST

/* Rows and lines counted as the stream counts them. */
START_TEST(test_count_rows)
{
    const char *f = "g,yi,vi\r\n\r\na,1,1\r\n\"x\ny\",2,1\r\n   \n\rb,3,1";
    char *path = tu_tmpfile(f, strlen(f));
    size_t rows, lines;
    mp_error err;
    ck_assert_int_eq(mp_batch_count_rows(path, ',', 9, strlen(f), &rows, &lines, &err), MP_OK);
    ck_assert_uint_eq(rows, 3); /* a, "x\ny", b */
    ck_assert_uint_eq(lines, 6); /* CRLF, CRLF, LF in quotes, CRLF, LF, CR */
    /* argument errors and a missing file */
    ck_assert_int_eq(mp_batch_count_rows(path, ',', 5, 4, &rows, &lines, &err), MP_EINVAL);
    ck_assert_int_eq(mp_batch_count_quotes("/nonexistent/x.csv", 0, 4, &rows, &err), MP_EIO);
    ck_assert_int_eq(mp_batch_find_cut(path, "nope", 12, 0, &rows, &err), MP_EINVAL);
    mp_batch_share sh = {2, 9, 1, 0};
    mp_batch_reader *r = NULL;
    ck_assert_int_eq(mp_batch_reader_open_range(path, "g", NULL, 0, &sh, &r, &err), MP_EINVAL);
    ck_assert_int_eq(mp_batch_reader_open_range("-", "g", NULL, 0, &sh, &r, &err), MP_EINVAL);
    ck_assert_int_eq(mp_batch_plan(path, "g", 0, &sh, &err), MP_EINVAL);
    unlink(path);
    free(path);
}
END_TEST

/* After bad input: whether the block's last group is complete, and
 * whether the error is a group that came back found at the end. */
START_TEST(test_error_kinds)
{
    static const struct { int file, ends_group, repeat_at_end; } cases[] = {
        {6, 0, 0},  /* ragged row: its group unknown */
        {7, 1, 0},  /* a bad number in the first row of a new group */
        {8, 0, 0},  /* a bad number inside a group */
        {9, 0, 0},  /* an open quote */
        {10, 1, 1}, /* a group comes back: found at the end of the input */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *f = files[cases[i].file];
        char *path = tu_tmpfile(f, strlen(f));
        mp_batch_reader *r = NULL;
        mp_error err;
        mp_batch_data d = {0};
        ck_assert_int_eq(mp_batch_reader_open(path, "g", NULL, 0, &r, &err), MP_OK);
        int eof = 0;
        mp_status st = MP_OK;
        while (!eof && (st = mp_batch_read_sorted(r, 1000, &d, &eof, &err)) == MP_OK) {}
        ck_assert_int_eq(st, MP_EPARSE);
        ck_assert_int_eq(mp_batch_reader_error_ends_group(r), cases[i].ends_group);
        ck_assert_int_eq(mp_batch_reader_repeat_at_end(r), cases[i].repeat_at_end);
        mp_batch_data_free(&d);
        mp_batch_reader_free(r);
        unlink(path);
        free(path);
    }
    ck_assert_int_eq(mp_batch_reader_error_ends_group(NULL), 0);
    ck_assert_int_eq(mp_batch_reader_repeat_at_end(NULL), 0);
}
END_TEST

static Suite *share_suite(void)
{
    Suite *s = suite_create("batch_share");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_plan_equals_whole, 0, (int)NFILES);
    tcase_add_loop_test(tc, test_every_cut, 0, (int)NFILES);
    tcase_add_test(tc, test_count_rows);
    tcase_add_test(tc, test_error_kinds);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    gsl_set_error_handler_off();
    SRunner *sr = srunner_create(share_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
