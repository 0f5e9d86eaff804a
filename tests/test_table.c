/* tests/test_table.c - the CSV/TSV loader: good-but-unusual files and every bad input.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The expected values are the numbers written in the fixture files
 * (tests/data/good, tests/data/bad); line and column numbers were counted by
 * hand from the bytes of each fixture (see the comment beside each case).
 * Every bad input is checked twice: through the library (mp_status and the
 * mp_error location and message) and through `metapool escalc` (exit status
 * 2, exactly one line on stderr of the form "metapool escalc: FILE:L:C: msg",
 * nothing on stdout). */
#include "testutil.h"
#include "internal.h"

#include <metapool/metapool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *data(const char *rel)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/tests/data/%s", MP_SOURCE_DIR, rel);
    return buf;
}

/* ---- bad input: one table drives both the library and the CLI test ---- */

typedef struct bad_case {
    const char *file;    /* under tests/data/bad */
    const char *measure; /* --measure, or NULL for auto */
    int at_read;         /* 1: mp_table_read fails; 0: mp_effects_compute does */
    mp_status status;    /* expected status */
    size_t line, col;    /* expected location (0 = none) */
    const char *msg;     /* expected substring of the message */
} bad_case;

static const bad_case bad[] = {
    /* empty input and header problems */
    {"empty.csv", NULL, 1, MP_EPARSE, 0, 0, "empty file"},
    {"blank_lines_only.csv", NULL, 1, MP_EPARSE, 0, 0, "empty file"},
    {"header_only.csv", NULL, 1, MP_EPARSE, 1, 0, "header but no data rows"},
    {"header_only_bom_crlf.csv", NULL, 1, MP_EPARSE, 1, 0, "header but no data rows"},
    /* "study,yi,vi,yi": the second yi starts at byte 13 */
    {"dup_column.csv", NULL, 1, MP_EPARSE, 1, 13, "duplicated column name 'yi' (columns 2 and 4)"},
    /* structure */
    /* "B,0.2" ends at byte 6 */
    {"ragged_short.csv", NULL, 1, MP_EPARSE, 3, 6, "row has 2 fields, the header has 3"},
    /* "A,0.1,0.01,extra": extra at byte 12 */
    {"ragged_long.csv", NULL, 1, MP_EPARSE, 2, 12, "more fields than the header's 3"},
    {"unterminated_quote.csv", NULL, 1, MP_EPARSE, 2, 1, "unterminated quoted field"},
    /* Sm"ith: the quote is byte 3 */
    {"stray_quote.csv", NULL, 1, MP_EPARSE, 2, 3, "quote inside an unquoted field"},
    /* "Smith"x: x is byte 8 */
    {"after_quote.csv", NULL, 1, MP_EPARSE, 2, 8, "unexpected character 'x' after closing quote"},
    /* "A,0.1,0" then NUL: byte 8 */
    {"nul_byte.csv", NULL, 1, MP_EPARSE, 2, 8, "NUL byte"},
    /* \x89PNG\r\n then \x1a at the start of line 2 */
    {"binary.png", NULL, 1, MP_EPARSE, 2, 1, "control byte 0x1a"},
    /* missing columns: the header line (line 1), no column */
    {"missing_vi.csv", NULL, 0, MP_EINVAL, 1, 0, "yi needs the column vi"},
    {"no_effect_columns.csv", NULL, 0, MP_EINVAL, 1, 0, "no effect-size columns"},
    {"counts_no_measure.csv", NULL, 0, MP_EINVAL, 1, 0, "choose --measure OR, RR or RD"},
    {"means_no_measure.csv", NULL, 0, MP_EINVAL, 1, 0, "choose --measure SMD, MD or ROM"},
    {"means_no_measure.csv", "OR", 0, MP_EINVAL, 1, 0, "OR needs the columns ai, bi, ci, di"},
    /* cells: "B,abc" -> byte 3 of line 3 */
    {"non_numeric.csv", NULL, 0, MP_EPARSE, 3, 3, "column 'yi': 'abc' is not a number"},
    {"empty_cell.csv", NULL, 0, MP_EPARSE, 3, 7, "column 'vi': empty cell where a number is required"},
    {"blank_cell.csv", NULL, 0, MP_EPARSE, 2, 3, "column 'yi': empty cell"},
    {"nan.csv", NULL, 0, MP_EPARSE, 2, 3, "'nan' is not a finite number"},
    {"inf.csv", NULL, 0, MP_EPARSE, 2, 7, "'-Inf' is not a finite number"},
    {"out_of_range.csv", NULL, 0, MP_EPARSE, 2, 3, "'1e999' is not a finite number in range"},
    {"hex_float.csv", NULL, 0, MP_EPARSE, 2, 3, "'0x1p-3' is not a number"},
    {"trailing_garbage.csv", NULL, 0, MP_EPARSE, 2, 3, "'0.3 0.4' is not a number"},
    {"decimal_comma.csv", NULL, 0, MP_EPARSE, 2, 3, "the decimal point must be '.'"},
    /* a cell after a quoted label holding a line break: line 3 is B",x,... */
    {"bad_after_multiline.csv", NULL, 0, MP_EPARSE, 3, 4, "'x' is not a number"},
    /* domain */
    {"negative_vi.csv", NULL, 0, MP_EPARSE, 3, 7, "sampling variance must be positive"},
    {"zero_vi.csv", NULL, 0, MP_EPARSE, 2, 7, "sampling variance must be positive"},
    {"negative_sei.csv", NULL, 0, MP_EPARSE, 2, 7, "standard error must be positive"},
    {"zero_sei.csv", NULL, 0, MP_EPARSE, 2, 7, "standard error must be positive"},
    {"ci_inverted.csv", NULL, 0, MP_EPARSE, 2, 11, "upper CI bound must exceed"},
    {"zero_n_means.csv", "MD", 0, MP_EPARSE, 2, 14, "column 'n2i': group size must be positive"},
    {"negative_n_yi.csv", "SMD", 0, MP_EPARSE, 2, 7, "column 'n1i': group size must be positive"},
    {"negative_n_yi.csv", NULL, 0, MP_EPARSE, 2, 7, "column 'n1i': group size must be positive"},
    {"zero_sd.csv", "SMD", 0, MP_EPARSE, 2, 12, "column 'sd2i': both standard deviations are 0"},
    {"negative_sd.csv", "ROM", 0, MP_EPARSE, 2, 12, "column 'sd2i': standard deviation must not be negative"},
    {"negative_count.csv", "OR", 0, MP_EPARSE, 2, 3, "column 'ai': count must not be negative"},
    {"count_gt_total.csv", "RR", 0, MP_EPARSE, 3, 3, "events exceed the group size n1i"},
};
#define NBAD (sizeof bad / sizeof bad[0])

START_TEST(test_bad_library)
{
    const bad_case *c = &bad[_i];
    char path[4096];
    snprintf(path, sizeof path, "%s", data("bad/"));
    strncat(path, c->file, sizeof path - strlen(path) - 1);
    mp_table *t = NULL;
    mp_error err;
    mp_error_clear(&err);
    mp_status s = mp_table_read(path, &t, &err);
    if (c->at_read) {
        ck_assert_msg(s == c->status, "[%s] read: %s (%s)", c->file, mp_strerror(s), err.msg);
        ck_assert_ptr_null(t);
    } else {
        ck_assert_msg(s == MP_OK, "[%s] read: %s (%s)", c->file, mp_strerror(s), err.msg);
        mp_es_opts o;
        mp_es_opts_init(&o);
        if (c->measure) {
            ck_assert_int_eq(mp_measure_parse(c->measure, &o.measure), MP_OK);
            o.measure_given = 1;
        }
        mp_effects e;
        s = mp_effects_compute(t, &o, &e, &err);
        ck_assert_msg(s == c->status, "[%s] compute: %s (%s)", c->file, mp_strerror(s), err.msg);
        ck_assert_ptr_null(e.yi); /* nothing half-made is left behind */
        mp_table_free(t);
    }
    ck_assert_str_eq(err.file, path);
    ck_assert_msg(err.line == c->line && err.col == c->col, "[%s] at %zu:%zu, expected %zu:%zu (%s)",
                  c->file, err.line, err.col, c->line, c->col, err.msg);
    ck_assert_msg(strstr(err.msg, c->msg) != NULL, "[%s] message '%s' lacks '%s'", c->file, err.msg,
                  c->msg);
    ck_assert_msg(strchr(err.msg, '\n') == NULL, "[%s] message has a line break", c->file);
}
END_TEST

/* Run `metapool escalc ARGS`; check exit 2, no stdout, one stderr line that
 * starts with "metapool escalc: " + where and contains `msg`.  A usage
 * error (usage_too) may be followed by the usage text. */
static void check_cli_error_(const char *args, const char *where, const char *msg, int usage_too)
{
    char cmd[8192], *out = NULL, *errtxt = NULL;
    snprintf(cmd, sizeof cmd, "'%s' escalc %s", MP_METAPOOL_BIN, args);
    int rc = tu_run(cmd, &out, &errtxt);
    ck_assert_msg(rc == 2, "[%s] exit %d, expected 2; stderr: %s", args, rc, errtxt ? errtxt : "");
    ck_assert_ptr_nonnull(out);
    ck_assert_msg(out[0] == '\0', "[%s] partial output on stdout: %.200s", args, out);
    ck_assert_ptr_nonnull(errtxt);
    size_t len = strlen(errtxt);
    ck_assert_msg(len > 0 && errtxt[len - 1] == '\n' &&
                      (usage_too || strchr(errtxt, '\n') == errtxt + len - 1),
                  "[%s] stderr is not exactly one line: '%s'", args, errtxt);
    if (usage_too) *strchr(errtxt, '\n') = '\0'; /* the first line */
    char prefix[4600];
    snprintf(prefix, sizeof prefix, "metapool escalc: %s", where);
    ck_assert_msg(strncmp(errtxt, prefix, strlen(prefix)) == 0, "[%s] stderr '%s' does not start '%s'",
                  args, errtxt, prefix);
    ck_assert_msg(strstr(errtxt, msg) != NULL, "[%s] stderr '%s' lacks '%s'", args, errtxt, msg);
    free(out);
    free(errtxt);
}

static void check_cli_error(const char *args, const char *where, const char *msg)
{
    check_cli_error_(args, where, msg, 0);
}

START_TEST(test_bad_cli)
{
    const bad_case *c = &bad[_i];
    char path[4096], args[4200], where[4200];
    snprintf(path, sizeof path, "%s", data("bad/"));
    strncat(path, c->file, sizeof path - strlen(path) - 1);
    snprintf(args, sizeof args, "%s%s '%s'", c->measure ? "--measure " : "",
             c->measure ? c->measure : "", path);
    if (c->line && c->col) snprintf(where, sizeof where, "%s:%zu:%zu: ", path, c->line, c->col);
    else if (c->line) snprintf(where, sizeof where, "%s:%zu: ", path, c->line);
    else snprintf(where, sizeof where, "%s: ", path);
    check_cli_error(args, where, c->msg);
}
END_TEST

START_TEST(test_cli_file_errors)
{
    /* missing file */
    check_cli_error("/nonexistent/dir/none.csv", "/nonexistent/dir/none.csv: ",
                    "cannot open: No such file or directory");
    /* a directory cannot be read as a file */
    char where[4200];
    snprintf(where, sizeof where, "%s: ", data("bad"));
    char args[4200];
    snprintf(args, sizeof args, "'%s'", data("bad"));
    check_cli_error(args, where, "cannot read: Is a directory");
    /* an unreadable file (only meaningful when not root: root reads anything) */
    if (geteuid() != 0) {
        char *p = tu_tmpfile("yi,vi\n1,1\n", 10);
        ck_assert_ptr_nonnull(p);
        chmod(p, 0);
        snprintf(args, sizeof args, "'%s'", p);
        snprintf(where, sizeof where, "%s: ", p);
        check_cli_error(args, where, "cannot open: Permission denied");
        unlink(p);
        free(p);
    }
    /* unknown --measure: a usage error, no file involved */
    snprintf(args, sizeof args, "--measure XYZ '%s'", data("good/bom_crlf.csv"));
    check_cli_error(args, "", "unknown --measure 'XYZ'");
    /* measure names are case-sensitive, as in metafor */
    snprintf(args, sizeof args, "--measure smd '%s'", data("good/bom_crlf.csv"));
    check_cli_error(args, "", "unknown --measure 'smd'");
    /* bad input on standard input is named <stdin> */
    snprintf(args, sizeof args, "- < '%s'", data("bad/negative_vi.csv"));
    check_cli_error(args, "<stdin>:3:7: ", "sampling variance must be positive");
    /* no FILE at all: misuse, the usage text follows on stderr */
    check_cli_error_("", "", "expected one input FILE", 1);
    snprintf(args, sizeof args, "--bogus '%s'", data("good/bom_crlf.csv"));
    check_cli_error_(args, "", "unrecognized option '--bogus'", 1);
}
END_TEST

START_TEST(test_library_errors_misc)
{
    mp_table *t = (mp_table *)1;
    mp_error err;
    mp_error_clear(&err);
    ck_assert_int_eq(mp_table_read("/nonexistent/x.csv", &t, &err), MP_EIO);
    ck_assert_ptr_null(t);
    ck_assert_str_eq(err.file, "/nonexistent/x.csv");
    ck_assert_uint_eq(err.line, 0);
    ck_assert(strstr(err.msg, "cannot open") != NULL);
    ck_assert_int_eq(mp_table_read(data("bad"), &t, &err), MP_EIO);
    ck_assert(strstr(err.msg, "cannot read") != NULL);
    ck_assert_int_eq(mp_table_read(NULL, &t, &err), MP_EINVAL);
    ck_assert_int_eq(mp_table_read_mem("x", NULL, 0, &t, &err), MP_EINVAL);
    /* a NULL error record is allowed */
    ck_assert_int_eq(mp_table_read_mem("x", "yi,vi\n", 6, &t, NULL), MP_EPARSE);
    ck_assert_int_eq(mp_table_read_mem(NULL, "", 0, &t, &err), MP_EPARSE);
    ck_assert_str_eq(err.file, "<memory>");
    /* the formatted error is "file:line:col: msg" */
    ck_assert_int_eq(mp_table_read_mem("m.csv", "yi,vi\n1,\"2\n", 11, &t, &err), MP_EPARSE);
    char buf[1024];
    mp_error_format(&err, buf, sizeof buf);
    ck_assert_str_eq(buf, "m.csv:2:3: unterminated quoted field (opened here)");
    /* a line break inside a bad cell is shown escaped, keeping one line */
    ck_assert_int_eq(mp_table_read_mem("m.csv", "yi,vi\n\"1\n2\",1\n", 14, &t, &err), MP_OK);
    double x;
    ck_assert_int_eq(mp_table_number(t, 0, 0, &x, &err), MP_EPARSE);
    ck_assert_str_eq(err.msg, "column 'yi': '1\\n2' is not a number");
    ck_assert_uint_eq(err.line, 2);
    ck_assert_uint_eq(err.col, 1);
    mp_table_free(t);
    mp_table_free(NULL);
}
END_TEST

/* ---- good but unusual files ---- */

typedef struct good_case {
    const char *file;
    char delim;
    const char *study[2];  /* labels of the two rows */
    size_t line[2];        /* source line of each row */
} good_case;

static const good_case good[] = {
    {"bom_crlf.csv", ',', {"A", "B"}, {2, 3}},
    {"semicolon.csv", ';', {"A", "B;2"}, {2, 3}},
    {"tabs.tsv", '\t', {"A one", "B, two"}, {2, 3}},
    {"quoted_commas.csv", ',', {"Smith, J. (2001)", "O\"Brien, K."}, {2, 3}},
    {"embedded_newline.csv", ',', {"Smith\nand Jones", "B"}, {2, 4}},
    {"embedded_crlf_newline.csv", ',', {"Smith\r\nand Jones", "B"}, {2, 4}},
    {"empty_lines.csv", ',', {"A", "B"}, {5, 8}},
    {"lone_cr.csv", ',', {"A", "B"}, {2, 3}},
    {"no_final_newline.csv", ',', {"A", "B"}, {2, 3}},
    {"blanks.csv", ',', {"A", "B"}, {2, 3}},
    {"r_rownames.csv", ',', {"A", "B"}, {2, 3}},
};
#define NGOOD (sizeof good / sizeof good[0])

START_TEST(test_good_files)
{
    const good_case *c = &good[_i];
    char path[4096];
    snprintf(path, sizeof path, "%s", data("good/"));
    strncat(path, c->file, sizeof path - strlen(path) - 1);
    mp_table *t = NULL;
    mp_error err;
    mp_error_clear(&err);
    mp_status s = mp_table_read(path, &t, &err);
    ck_assert_msg(s == MP_OK, "[%s] %s: %s", c->file, mp_strerror(s), err.msg);
    ck_assert_int_eq(mp_table_delim(t), c->delim);
    ck_assert_uint_eq(mp_table_nrows(t), 2);
    long js = mp_table_col(t, "study");
    ck_assert_msg(js >= 0, "[%s] no study column", c->file);
    for (size_t i = 0; i < 2; i++) {
        ck_assert_str_eq(mp_table_cell(t, i, (size_t)js), c->study[i]);
        ck_assert_uint_eq(mp_table_line(t, i), c->line[i]);
    }
    mp_effects e;
    s = mp_effects_compute(t, NULL, &e, &err);
    ck_assert_msg(s == MP_OK, "[%s] %s: %s", c->file, mp_strerror(s), err.msg);
    ck_assert_uint_eq(e.k, 2);
    ck_assert_int_eq(e.source, MP_SRC_YI_VI);
    /* the fixtures hold yi = 0.1, -0.25 and vi = 0.01, 0.04: decimal
     * literals, so the loaded values must be the very same doubles */
    ck_assert(e.yi[0] == 0.1 && e.yi[1] == -0.25);
    ck_assert(e.vi[0] == 0.01 && e.vi[1] == 0.04);
    ck_assert_uint_eq(e.warnings.n, 0);
    mp_effects_free(&e);
    mp_table_free(t);
}
END_TEST

START_TEST(test_positions_after_multiline)
{
    mp_table *t = NULL;
    mp_error err;
    ck_assert_int_eq(mp_table_read(data("good/embedded_newline.csv"), &t, &err), MP_OK);
    /* row 1: "Smith\nand Jones",0.1,0.01 -- the label opens on line 2 at
     * byte 1; 0.1 is on line 3 (and Jones",0.1,0.01) at byte 12 */
    ck_assert_uint_eq(mp_table_cell_line(t, 0, 0), 2);
    ck_assert_uint_eq(mp_table_colpos(t, 0, 0), 1);
    ck_assert_uint_eq(mp_table_cell_line(t, 0, 1), 3);
    ck_assert_uint_eq(mp_table_colpos(t, 0, 1), 12);
    ck_assert_uint_eq(mp_table_cell_line(t, 0, 2), 3);
    ck_assert_uint_eq(mp_table_colpos(t, 0, 2), 16);
    ck_assert_uint_eq(mp_table_cell_line(t, 1, 1), 4);
    ck_assert_uint_eq(mp_table_colpos(t, 1, 1), 5);
    /* out of range */
    ck_assert_uint_eq(mp_table_colpos(t, 2, 0), 0);
    ck_assert_uint_eq(mp_table_cell_line(t, 0, 3), 0);
    ck_assert_str_eq(mp_table_cell(t, 5, 5), "");
    ck_assert_str_eq(mp_table_colname(t, 9), "");
    ck_assert_int_eq(mp_table_col(t, "nope"), -1);
    ck_assert_str_eq(mp_table_name(t), data("good/embedded_newline.csv"));
    mp_table_free(t);

    /* BOM: columns count from after it */
    ck_assert_int_eq(mp_table_read(data("good/bom_crlf.csv"), &t, &err), MP_OK);
    ck_assert_str_eq(mp_table_colname(t, 0), "study");
    ck_assert_uint_eq(mp_table_colpos(t, 0, 1), 3);
    mp_table_free(t);

    /* blanks around header names are removed, cells keep theirs */
    ck_assert_int_eq(mp_table_read(data("good/blanks.csv"), &t, &err), MP_OK);
    ck_assert_str_eq(mp_table_colname(t, 0), "study");
    ck_assert_str_eq(mp_table_colname(t, 1), "yi");
    ck_assert_str_eq(mp_table_cell(t, 0, 1), " 0.1 ");
    mp_table_free(t);

    /* R's write.csv row names: an empty column name is allowed */
    ck_assert_int_eq(mp_table_read(data("good/r_rownames.csv"), &t, &err), MP_OK);
    ck_assert_uint_eq(mp_table_ncols(t), 4);
    ck_assert_str_eq(mp_table_colname(t, 0), "");
    ck_assert_int_eq(mp_table_col(t, ""), -1);
    ck_assert_str_eq(mp_table_cell(t, 1, 0), "2");
    mp_table_free(t);
}
END_TEST

START_TEST(test_na_rows)
{
    mp_table *t = NULL;
    mp_error err;
    ck_assert_int_eq(mp_table_read(data("good/na_rows.csv"), &t, &err), MP_OK);
    ck_assert(!mp_table_is_na(t, 0, 1));
    ck_assert(mp_table_is_na(t, 1, 1));
    ck_assert(mp_table_is_na(t, 2, 2)); /* " NA " */
    mp_effects e;
    ck_assert_int_eq(mp_effects_compute(t, NULL, &e, &err), MP_OK);
    ck_assert_uint_eq(e.n, 4);
    ck_assert_uint_eq(e.k, 2);
    ck_assert(e.used[0] && !e.used[1] && !e.used[2] && e.used[3]);
    ck_assert(isnan(e.yi[1]) && isnan(e.vi[2]));
    ck_assert_uint_eq(e.warnings.n, 2);
    ck_assert_str_eq(e.warnings.v[0], "row 2 (line 3) left out: missing value (NA) in column 'yi'");
    ck_assert_str_eq(e.warnings.v[1], "row 3 (line 4) left out: missing value (NA) in column 'vi'");
    mp_effects_free(&e);
    mp_effects_free(NULL);
    mp_table_free(t);

    /* the loose missing-value test of optional columns */
    const char *txt = "a,b\n,x\n.,y\nNA,z\n 1 ,w\n";
    ck_assert_int_eq(mp_table_read_mem("m", txt, strlen(txt), &t, &err), MP_OK);
    ck_assert(mp_table_is_missing(t, 0, 0) && mp_table_is_missing(t, 1, 0));
    ck_assert(mp_table_is_missing(t, 2, 0) && !mp_table_is_missing(t, 3, 0));
    ck_assert(!mp_table_is_na(t, 0, 0) && !mp_table_is_na(t, 1, 0));
    mp_table_free(t);
    /* a cell of tabs alone is blank, as the batch reader has it (found by
     * tests/fuzz/fuzz_batch: regressions/batch-tab-group-9219a6) */
    txt = "a,b\n\t\t,x\n\t.\t,y\n\tq,z\n";
    ck_assert_int_eq(mp_table_read_mem("m", txt, strlen(txt), &t, &err), MP_OK);
    ck_assert(mp_table_is_missing(t, 0, 0) && mp_table_is_missing(t, 1, 0));
    ck_assert(!mp_table_is_missing(t, 2, 0));
    mp_table_free(t);
}
END_TEST

START_TEST(test_cli_good)
{
    /* escalc writes every input column back, yi and vi last, quoting what needs it */
    char cmd[8192], *out = NULL, *errtxt = NULL;
    snprintf(cmd, sizeof cmd, "'%s' escalc '%s'", MP_METAPOOL_BIN, data("good/embedded_newline.csv"));
    ck_assert_int_eq(tu_run(cmd, &out, &errtxt), 0);
    ck_assert_str_eq(out, "study,yi,vi\n\"Smith\nand Jones\",0.1,0.01\nB,-0.25,0.04\n");
    ck_assert_str_eq(errtxt, "");
    free(out);
    free(errtxt);
    snprintf(cmd, sizeof cmd, "'%s' escalc - < '%s'", MP_METAPOOL_BIN, data("good/semicolon.csv"));
    ck_assert_int_eq(tu_run(cmd, &out, &errtxt), 0);
    ck_assert_str_eq(out, "study,yi,vi\nA,0.1,0.01\nB;2,-0.25,0.04\n");
    free(out);
    free(errtxt);
    snprintf(cmd, sizeof cmd, "'%s' escalc '%s'", MP_METAPOOL_BIN, data("good/na_rows.csv"));
    ck_assert_int_eq(tu_run(cmd, &out, &errtxt), 0);
    ck_assert_str_eq(out, "study,yi,vi\nA,0.1,0.01\nB,NA,NA\nC,NA,NA\nD,-0.25,0.04\n");
    ck_assert_str_eq(errtxt,
                     "metapool escalc: warning: row 2 (line 3) left out: missing value (NA) in column 'yi'\n"
                     "metapool escalc: warning: row 3 (line 4) left out: missing value (NA) in column 'vi'\n");
    free(out);
    free(errtxt);
}
END_TEST

/* A large generated table: every row and cell where it should be. */
START_TEST(test_many_rows)
{
    const size_t n = 20000;
    size_t cap = n * 40 + 64, len = 0;
    char *buf = malloc(cap);
    ck_assert_ptr_nonnull(buf);
    len += (size_t)snprintf(buf + len, cap - len, "g,yi,vi\r\n");
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(buf + len, cap - len, "\"g%zu\",%zu.5,%zue-3\r\n", i % 7, i, i + 1);
    mp_table *t = NULL;
    mp_error err;
    ck_assert_int_eq(mp_table_read_mem("gen", buf, len, &t, &err), MP_OK);
    ck_assert_uint_eq(mp_table_nrows(t), n);
    for (size_t i = 0; i < n; i += 997) {
        char want[32];
        snprintf(want, sizeof want, "g%zu", i % 7);
        ck_assert_str_eq(mp_table_cell(t, i, 0), want);
        double y, v;
        ck_assert_int_eq(mp_table_number(t, i, 1, &y, &err), MP_OK);
        ck_assert_int_eq(mp_table_number(t, i, 2, &v, &err), MP_OK);
        ck_assert(y == (double)i + 0.5);
        ck_assert_rel(v, (double)(i + 1) * 1e-3, 1e-15);
        ck_assert_uint_eq(mp_table_line(t, i), i + 2);
    }
    mp_table_free(t);
    free(buf);
}
END_TEST


/* ---- robustness: fixed-seed random mutations of every fixture ----
 * Whatever the bytes, the loader and escalc must return a status (OK,
 * EPARSE or EINVAL) with a one-line message and a location inside the
 * input, never crash or read out of bounds (this test runs under ASan and
 * UBSan in CI). */
static unsigned long long fz_state = 0x5eedf00dULL;
static unsigned fz(unsigned n)
{
    fz_state = fz_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (unsigned)((fz_state >> 33) % n);
}

static void fuzz_one(const char *buf, size_t len)
{
    mp_table *t = NULL;
    mp_error err;
    mp_error_clear(&err);
    mp_status s = mp_table_read_mem("fz", buf, len, &t, &err);
    size_t nl = 1;
    for (size_t k = 0; k < len; k++) nl += buf[k] == '\n' || buf[k] == '\r';
    if (s != MP_OK) {
        ck_assert_msg(s == MP_EPARSE, "status %s", mp_strerror(s));
        ck_assert_ptr_null(t);
        ck_assert(err.msg[0] != '\0' && strchr(err.msg, '\n') == NULL);
        ck_assert_uint_le(err.line, nl);
        return;
    }
    for (size_t i = 0; i < mp_table_nrows(t); i++)
        for (size_t j = 0; j < mp_table_ncols(t); j++) {
            ck_assert_ptr_nonnull(mp_table_cell(t, i, j));
            ck_assert_uint_le(mp_table_cell_line(t, i, j), nl);
            ck_assert_uint_ge(mp_table_colpos(t, i, j), 1);
        }
    static const char *const ms[] = {NULL, "SMD", "MD", "ROM", "OR", "RR", "RD"};
    mp_es_opts o;
    mp_es_opts_init(&o);
    const char *m = ms[fz(7)];
    if (m) { mp_measure_parse(m, &o.measure); o.measure_given = 1; }
    mp_effects e;
    s = mp_effects_compute(t, &o, &e, &err);
    if (s == MP_OK) {
        for (size_t i = 0; i < e.n; i++)
            if (e.used[i]) ck_assert(isfinite(e.yi[i]) && e.vi[i] > 0 && isfinite(e.vi[i]));
        mp_effects_free(&e);
    } else {
        ck_assert_msg(s == MP_EPARSE || s == MP_EINVAL, "status %s", mp_strerror(s));
        ck_assert(err.msg[0] != '\0' && strchr(err.msg, '\n') == NULL);
        ck_assert_uint_le(err.line, nl);
    }
    mp_table_free(t);
}

START_TEST(test_fuzz_mutations)
{
    static const char *const files[] = {
        "good/bom_crlf.csv", "good/semicolon.csv", "good/tabs.tsv", "good/quoted_commas.csv",
        "good/embedded_newline.csv", "good/empty_lines.csv", "good/na_rows.csv",
        "good/zero_cells.csv", "bad/count_gt_total.csv", "bad/zero_n_means.csv",
        "bad/ci_inverted.csv", "bad/negative_n_yi.csv"};
    static const char ins[] = {'"', ',', ';', '\t', '\n', '\r', ' ', '0', '.', 'e', '-', 'N', 'A', '\0'};
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        size_t len = 0;
        char *orig = tu_slurp(data(files[f]), &len);
        ck_assert_ptr_nonnull(orig);
        char *buf = malloc(len + 16);
        for (int it = 0; it < 1500; it++) {
            memcpy(buf, orig, len);
            size_t n = len;
            int edits = 1 + (int)fz(3);
            for (int k = 0; k < edits; k++) {
                unsigned op = fz(4), pos = n ? fz((unsigned)n) : 0;
                if (op == 0 && n) buf[pos] = ins[fz(sizeof ins)];            /* replace */
                else if (op == 1 && n < len + 15) {                            /* insert */
                    memmove(buf + pos + 1, buf + pos, n - pos);
                    buf[pos] = ins[fz(sizeof ins)];
                    n++;
                } else if (op == 2 && n) {                                     /* delete */
                    memmove(buf + pos, buf + pos + 1, n - pos - 1);
                    n--;
                } else n = pos;                                                /* truncate */
            }
            fuzz_one(buf, n);
        }
        free(buf);
        free(orig);
    }
}
END_TEST

/* mp_table_read_checked(): the hook sees the header alone, before the rows
 * are read, and its error stops the read (issue 11, item 11). */
typedef struct { int calls; size_t ncols, nrows, line; char first[32]; int fail; } hook_seen;

static mp_status hook(void *ctx, const mp_table *h, mp_error *err)
{
    hook_seen *s = ctx;
    s->calls++;
    s->ncols = mp_table_ncols(h);
    s->nrows = mp_table_nrows(h);
    s->line = mp_table_header_line(h);
    snprintf(s->first, sizeof s->first, "%s", mp_table_colname(h, 0));
    if (!s->fail) return MP_OK;
    mp_error_set(err, mp_table_name(h), s->line, 0, "hook says no");
    return MP_EINVAL;
}

START_TEST(test_read_checked_hook)
{
    /* a BOM and blank lines before the header; a quoted header name with a
     * line break (the header ends on line 4, starts on line 3) */
    static const char text[] = "\xEF\xBB\xBF\n  \n\"a\nb\",c\n1,2\n3,4\n";
    char *p = tu_tmpfile(text, sizeof text - 1);
    hook_seen seen = {0};
    mp_table *t = NULL;
    mp_error err;
    ck_assert_int_eq(mp_table_read_checked(p, hook, &seen, &t, &err), MP_OK);
    ck_assert_int_eq(seen.calls, 1);
    ck_assert_uint_eq(seen.ncols, 2);
    ck_assert_uint_eq(seen.nrows, 0);
    ck_assert_uint_eq(seen.line, 3);
    ck_assert_str_eq(seen.first, "a\nb");
    ck_assert_uint_eq(mp_table_nrows(t), 2);
    mp_table_free(t);
    /* the hook's error is the read's; nothing is returned */
    seen = (hook_seen){0};
    seen.fail = 1;
    t = (mp_table *)&seen; /* must be set to NULL */
    ck_assert_int_eq(mp_table_read_checked(p, hook, &seen, &t, &err), MP_EINVAL);
    ck_assert_ptr_null(t);
    ck_assert_str_eq(err.msg, "hook says no");
    ck_assert_uint_eq(err.line, 3);
    free(p);
    /* a header without a line end: checked at the end of input */
    p = tu_tmpfile("x,y", 3);
    seen = (hook_seen){0};
    seen.fail = 1;
    ck_assert_int_eq(mp_table_read_checked(p, hook, &seen, &t, &err), MP_EINVAL);
    ck_assert_int_eq(seen.calls, 1);
    ck_assert_uint_eq(seen.ncols, 2);
    free(p);
    /* blank input: no header, no call, the usual error */
    p = tu_tmpfile(" \n\n", 3);
    seen = (hook_seen){0};
    ck_assert_int_eq(mp_table_read_checked(p, hook, &seen, &t, &err), MP_EPARSE);
    ck_assert_int_eq(seen.calls, 0);
    ck_assert_ptr_nonnull(strstr(err.msg, "empty file"));
    free(p);
    /* a NUL before the header is complete: the byte's error, no call */
    p = tu_tmpfile("yi,v\0i\n1,1\n", 11);
    seen = (hook_seen){0};
    ck_assert_int_eq(mp_table_read_checked(p, hook, &seen, &t, &err), MP_EPARSE);
    ck_assert_int_eq(seen.calls, 0);
    ck_assert_uint_eq(err.line, 1);
    ck_assert_uint_eq(err.col, 5);
    free(p);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("table");
    TCase *tc = tcase_create("bad");
    tcase_add_loop_test(tc, test_bad_library, 0, NBAD);
    tcase_add_loop_test(tc, test_bad_cli, 0, NBAD);
    tcase_add_test(tc, test_cli_file_errors);
    tcase_add_test(tc, test_library_errors_misc);
    tcase_add_test(tc, test_read_checked_hook);
    suite_add_tcase(s, tc);
    tc = tcase_create("good");
    tcase_add_loop_test(tc, test_good_files, 0, NGOOD);
    tcase_add_test(tc, test_positions_after_multiline);
    tcase_add_test(tc, test_na_rows);
    tcase_add_test(tc, test_cli_good);
    tcase_add_test(tc, test_many_rows);
    suite_add_tcase(s, tc);
    tc = tcase_create("robustness");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_fuzz_mutations);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
