/* tests/test_batch.c - batch mode: streaming reader, grouping, threaded fits, CLI.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * What is independent here:
 *  - the BCG data (Colditz et al. 1994, metafor's dat.bcg) pooled as one
 *    group must give metafor 3.8-1's REML numbers from
 *    tests/reference/expected_pool.csv (to 1e-6, the project's agreement
 *    tolerance with metafor);
 *  - the contract says batch numbers are those of `pool` on the same rows:
 *    groups are checked against mp_pool() on each group's rows (to 1e-12;
 *    the same fit is called, so they agree to the last bit in practice) and
 *    against `metapool pool --format json` on the group's rows alone;
 *  - the stream reader must follow the loader's rules: its cells, lines,
 *    columns and error messages are compared with mp_table_read_mem() on the
 *    same bytes, for read buffers from 64 bytes up;
 *  - thread counts 1..4 must give identical results (exact equality). */
#include "testutil.h"
#include "internal.h"

#include "metapool/batch.h"
#include "metapool/metapool.h"

#include <gsl/gsl_errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- helpers ------------------------------------------------------------ */

/* Write text to a temporary file (path malloc'd; caller unlinks and frees). */
static char *tmp_csv(const char *text)
{
    char *p = tu_tmpfile(text, strlen(text));
    ck_assert_ptr_nonnull(p);
    return p;
}

/* The metafor reference row of expected_pool.csv for (dataset, method, test). */
typedef struct { double estimate, se, pval, ci_lb, ci_ub, pi_lb, pi_ub, tau2, I2, H2, Q, Q_pval; } refrow;

static int ref_pool(const char *dataset, const char *method, const char *test, refrow *r)
{
    mp_table *t = NULL;
    mp_error err;
    if (mp_table_read(tu_ref("expected_pool.csv"), &t, &err) != MP_OK) return -1;
    long cd = mp_table_col(t, "dataset"), cm = mp_table_col(t, "method"), ct = mp_table_col(t, "test");
    const char *keys[] = {"estimate", "se", "pval", "ci_lb", "ci_ub", "pi_lb", "pi_ub",
                          "tau2", "I2", "H2", "Q", "Q_pval"};
    double *dst[] = {&r->estimate, &r->se, &r->pval, &r->ci_lb, &r->ci_ub, &r->pi_lb,
                     &r->pi_ub, &r->tau2, &r->I2, &r->H2, &r->Q, &r->Q_pval};
    int found = -1;
    for (size_t i = 0; i < mp_table_nrows(t) && found < 0; i++) {
        if (strcmp(mp_table_cell(t, i, (size_t)cd), dataset) || strcmp(mp_table_cell(t, i, (size_t)cm), method) ||
            strcmp(mp_table_cell(t, i, (size_t)ct), test))
            continue;
        for (size_t j = 0; j < sizeof keys / sizeof keys[0]; j++) {
            const char *c = mp_table_cell(t, i, (size_t)mp_table_col(t, keys[j]));
            if (mp_parse_double(c, strlen(c), dst[j]) != 1) *dst[j] = NAN;
        }
        found = 0;
    }
    mp_table_free(t);
    return found;
}

/* Read a whole file as batch data (unsorted mode). */
static mp_status read_all(const char *path, const char *group, const mp_es_opts *es,
                          size_t chunk, mp_batch_data *d, mp_error *err)
{
    mp_batch_reader *r = NULL;
    mp_status s = mp_batch_reader_open(path, group, es, chunk, &r, err);
    if (s == MP_OK) s = mp_batch_read_all(r, d, err);
    mp_batch_reader_free(r);
    return s;
}

static int same_result(const mp_pool_result *a, const mp_pool_result *b, double rtol)
{
    const double x[] = {a->estimate, a->se, a->ci_lb, a->ci_ub, a->pval, a->tau2, a->I2, a->H2,
                        a->Q, a->Q_pval, a->pi_lb, a->pi_ub};
    const double y[] = {b->estimate, b->se, b->ci_lb, b->ci_ub, b->pval, b->tau2, b->I2, b->H2,
                        b->Q, b->Q_pval, b->pi_lb, b->pi_ub};
    for (size_t i = 0; i < sizeof x / sizeof x[0]; i++)
        if (!rel_close(x[i], y[i], rtol)) return 0;
    return a->k == b->k;
}

/* Synthetic grouped data: n groups with k_g = 1 + (g % 12) rows, rows of the
 * groups interleaved round-robin (so groups are anywhere in the file).
 * Values from a fixed formula (no RNG needed for a test). */
static char *synthetic(size_t n, int interleave)
{
    size_t cap = 1 << 20, len = 0;
    char *b = malloc(cap);
    len += (size_t)snprintf(b + len, cap - len, "gene,yi,vi\n");
    size_t maxk = 12;
    for (size_t pass = 0; pass < (interleave ? maxk : 1); pass++) {
        for (size_t g = 0; g < n; g++) {
            size_t k = 1 + g % maxk;
            size_t i0 = interleave ? pass : 0, i1 = interleave ? pass + 1 : k;
            for (size_t i = i0; i < i1 && i < k; i++) {
                if (cap - len < 256) { cap *= 2; b = realloc(b, cap); }
                double y = 0.3 * sin(1.7 * (double)(g * 31 + i * 7)) + 0.1 * (double)(g % 5);
                double v = 0.02 + 0.2 * (0.5 + 0.5 * cos(0.37 * (double)(g * 13 + i)));
                len += (size_t)snprintf(b + len, cap - len, "g%zu,%.9f,%.9f\n", g, y, v);
            }
        }
    }
    return b;
}

/* ---- the BCG data against metafor --------------------------------------- */

START_TEST(test_bcg_one_group_matches_metafor)
{
    /* dat.bcg with a constant group column: one analysis of all 13 trials */
    size_t len;
    char *src = tu_slurp(tu_ref("data/bcg_rr.csv"), &len);
    ck_assert_ptr_nonnull(src);
    size_t cap = len * 2 + 100, n = 0;
    char *b = malloc(cap);
    int first = 1;
    for (char *line = strtok(src, "\n"); line; line = strtok(NULL, "\n")) {
        n += (size_t)snprintf(b + n, cap - n, "%s,%s\n", line, first ? "grp" : "all");
        first = 0;
    }
    char *path = tmp_csv(b);
    mp_es_opts es;
    mp_es_opts_init(&es);
    es.measure = MP_MEASURE_RR;
    es.measure_given = 1;
    mp_batch_data d = {0};
    mp_error err;
    ck_assert_int_eq(read_all(path, "grp", &es, 0, &d, &err), MP_OK);
    ck_assert_uint_eq(d.n, 1);
    ck_assert_uint_eq(d.off[1], 13);
    mp_pool_opts o;
    mp_pool_opts_init(&o);
    o.tau2_ci = 0;
    mp_pool_result res;
    mp_status st;
    ck_assert_int_eq(mp_pool_batch(d.y, d.v, d.off, d.n, &o, 2, &res, &st, NULL, NULL), MP_OK);
    refrow r;
    ck_assert_int_eq(ref_pool("bcg_rr", "REML", "z", &r), 0);
    const double tol = 1e-6; /* metafor agreement, relative */
    ck_assert_rel(res.estimate, r.estimate, tol);
    ck_assert_rel(res.se, r.se, tol);
    ck_assert_rel(res.ci_lb, r.ci_lb, tol);
    ck_assert_rel(res.ci_ub, r.ci_ub, tol);
    ck_assert_rel(res.pval, r.pval, tol);
    ck_assert_rel(res.tau2, r.tau2, tol);
    ck_assert_rel(res.I2, r.I2, tol);
    ck_assert_rel(res.H2, r.H2, tol);
    ck_assert_rel(res.Q, r.Q, tol);
    ck_assert_rel(res.Q_pval, r.Q_pval, tol);
    ck_assert_rel(res.pi_lb, r.pi_lb, tol);
    ck_assert_rel(res.pi_ub, r.pi_ub, tol);
    mp_batch_data_free(&d);
    unlink(path);
    free(path);
    free(b);
    free(src);
}
END_TEST

/* Groups of bcg (by allocation) against mp_pool() on the effects that
 * mp_effects_compute() gives for each group's rows. */
START_TEST(test_bcg_groups_equal_pool)
{
    static const mp_measure meas[] = {MP_MEASURE_RR, MP_MEASURE_OR, MP_MEASURE_RD};
    static const mp_method methods[] = {MP_METHOD_FE, MP_METHOD_DL, MP_METHOD_REML, MP_METHOD_PM,
                                        MP_METHOD_ML, MP_METHOD_SJ, MP_METHOD_EB, MP_METHOD_HE};
    mp_es_opts es;
    mp_es_opts_init(&es);
    es.measure = meas[_i % 3];
    es.measure_given = 1;
    mp_batch_data d = {0};
    mp_error err;
    ck_assert_int_eq(read_all(tu_ref("data/bcg_rr.csv"), "alloc", &es, 64, &d, &err), MP_OK);
    ck_assert_uint_eq(d.n, 3);
    ck_assert_str_eq(mp_batch_data_name(&d, 0), "random"); /* first appearance */
    ck_assert_str_eq(mp_batch_data_name(&d, 1), "alternate");
    ck_assert_str_eq(mp_batch_data_name(&d, 2), "systematic");
    /* the same effects through the table loader */
    mp_table *t = NULL;
    ck_assert_int_eq(mp_table_read(tu_ref("data/bcg_rr.csv"), &t, &err), MP_OK);
    mp_effects e;
    ck_assert_int_eq(mp_effects_compute(t, &es, &e, &err), MP_OK);
    long ac = mp_table_col(t, "alloc");
    mp_pool_opts o;
    mp_pool_opts_init(&o);
    o.tau2_ci = 0;
    o.method = methods[_i / 3 % 8];
    mp_pool_result res[3], want;
    mp_status st[3];
    mp_pool_batch(d.y, d.v, d.off, d.n, &o, 3, res, st, NULL, NULL);
    for (size_t g = 0; g < d.n; g++) {
        double y[13], v[13];
        size_t k = 0;
        for (size_t i = 0; i < mp_table_nrows(t); i++) {
            if (!e.used[i] || strcmp(mp_table_cell(t, i, (size_t)ac), mp_batch_data_name(&d, g))) continue;
            y[k] = e.yi[i];
            v[k] = e.vi[i];
            k++;
        }
        ck_assert_uint_eq(k, d.off[g + 1] - d.off[g]);
        for (size_t i = 0; i < k; i++) { /* the effect sizes are the loader's, bit for bit */
            ck_assert(y[i] == d.y[d.off[g] + i]);
            ck_assert(v[i] == d.v[d.off[g] + i]);
        }
        mp_status s = mp_pool(y, v, k, &o, NULL, &want);
        ck_assert_int_eq(st[g], s);
        ck_assert_msg(same_result(&res[g], &want, 1e-12), "group %zu differs", g);
    }
    mp_effects_free(&e);
    mp_table_free(t);
    mp_batch_data_free(&d);
}
END_TEST

/* ---- threads ------------------------------------------------------------ */

START_TEST(test_threads_identical)
{
    char *text = synthetic(500, 1);
    char *path = tmp_csv(text);
    mp_batch_data d = {0};
    mp_error err;
    ck_assert_int_eq(read_all(path, "gene", NULL, 4096, &d, &err), MP_OK);
    ck_assert_uint_eq(d.n, 500);
    mp_pool_opts o;
    mp_pool_opts_init(&o);
    o.tau2_ci = 0;
    o.method = _i == 0 ? MP_METHOD_REML : MP_METHOD_PM;
    mp_pool_result *r1 = malloc(d.n * sizeof *r1), *rt = malloc(d.n * sizeof *rt);
    mp_status *s1 = malloc(d.n * sizeof *s1), *stt = malloc(d.n * sizeof *stt);
    mp_pool_batch(d.y, d.v, d.off, d.n, &o, 1, r1, s1, NULL, NULL);
    for (unsigned th = 2; th <= 4; th++) {
        mp_pool_batch(d.y, d.v, d.off, d.n, &o, th, rt, stt, NULL, NULL);
        for (size_t a = 0; a < d.n; a++) {
            ck_assert_int_eq(s1[a], stt[a]);
            ck_assert_msg(same_result(&r1[a], &rt[a], 0.0), "analysis %zu, %u threads", a, th);
        }
    }
    /* and each one is mp_pool() on its rows */
    for (size_t a = 0; a < d.n; a += 7) {
        mp_pool_result w;
        mp_status s = mp_pool(d.y + d.off[a], d.v + d.off[a], d.off[a + 1] - d.off[a], &o, NULL, &w);
        ck_assert_int_eq(s, s1[a]);
        ck_assert(same_result(&w, &r1[a], 1e-12));
    }
    free(r1); free(rt); free(s1); free(stt);
    mp_batch_data_free(&d);
    unlink(path);
    free(path);
    free(text);
}
END_TEST

/* The callback sees each analysis exactly once, from a valid thread. */
static void count_cb(void *ctx, unsigned thread, size_t first, size_t count,
                     const mp_pool_result *res, const mp_status *st)
{
    unsigned char *seen = ctx;
    (void)res;
    (void)st;
    for (size_t a = first; a < first + count; a++) seen[a] += (unsigned char)(1 + 0 * thread);
}

START_TEST(test_batch_callback_and_args)
{
    double y[] = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6};
    double v[] = {0.1, 0.1, 0.2, 0.2, 0.3, 0.3};
    size_t off[] = {0, 2, 2, 5, 6}; /* the second analysis is empty: k = 0 */
    mp_pool_result res[4];
    mp_status st[4];
    unsigned char seen[4] = {0};
    mp_status s = mp_pool_batch(y, v, off, 4, NULL, 3, res, st, count_cb, seen);
    ck_assert_int_eq(s, MP_ETOOFEW); /* first failing status */
    ck_assert_int_eq(st[0], MP_OK);
    ck_assert_int_eq(st[1], MP_ETOOFEW);
    ck_assert_int_eq(st[2], MP_OK);
    ck_assert_int_eq(st[3], MP_OK); /* k = 1 is fine */
    for (int a = 0; a < 4; a++) ck_assert_int_eq(seen[a], 1);
    /* bad arguments */
    size_t badoff[] = {0, 3, 2};
    ck_assert_int_eq(mp_pool_batch(y, v, badoff, 2, NULL, 2, res, st, NULL, NULL), MP_EINVAL);
    ck_assert_int_eq(mp_pool_batch(y, v, NULL, 2, NULL, 2, res, st, NULL, NULL), MP_EINVAL);
    ck_assert_int_eq(mp_pool_batch(NULL, v, off, 4, NULL, 2, res, st, NULL, NULL), MP_EINVAL);
    /* no analyses at all */
    ck_assert_int_eq(mp_pool_batch(y, v, off, 0, NULL, 2, res, st, NULL, NULL), MP_OK);
}
END_TEST

/* ---- the stream reader follows the loader's rules ------------------------ */

static const char *const stream_cases[] = {
    "a,b,c\n1,2,3\n4,5,6\n",
    "\xEF\xBB\xBF" "a;b\r\n1;2\r\n\r\n3;4\r\n",
    "\n\na\tb\n1\t2\n\n\n3\t4",
    "x,y\n\"q,1\",2\n\"multi\nline\",\"he said \"\"hi\"\"\"\n5,6\n",
    "x,y\r1,2\r3,4\r",
    "name,yi,vi\n\"a\" ,1,2\n,,\n  b  , 3 , 4 \n",
    "a,b\n   \n\t\n1,2\n  \t  \n3,4\n",                 /* blank-only lines */
    "a\tb\n1\t2\n\t\n3\t4\n",                         /* a tab line is not blank here */
    "x,y\n  \"q\",1\n\"a\rb\",\"c\nd\"\n\"e\r\nf\",2\n", /* blanks before quotes, CR/LF in quotes */
    "x,y,z\n\"multi\nline\",after,\"x\"\n",               /* columns after a quoted break */
    " x , ,\ty\n1,2,3\n",                                  /* trimmed and empty names */
    "\xEF\xBB\xBF" "a,b\n1,2\n",                            /* BOM: columns after it */
};

START_TEST(test_stream_same_cells_as_table)
{
    const char *text = stream_cases[_i];
    mp_table *t = NULL;
    mp_error err;
    ck_assert_int_eq(mp_table_read_mem("mem", text, strlen(text), &t, &err), MP_OK);
    char *path = tmp_csv(text);
    static const size_t chunks[] = {64, 65, 100, 0};
    for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
        mp_csv_stream *s = NULL;
        ck_assert_int_eq(mp_csv_stream_open(path, chunks[c], &s, &err), MP_OK);
        ck_assert_uint_eq(mp_csv_stream_ncols(s), mp_table_ncols(t));
        for (size_t j = 0; j < mp_table_ncols(t); j++)
            ck_assert_str_eq(mp_csv_stream_colname(s, j), mp_table_colname(t, j));
        size_t i = 0;
        for (;;) {
            mp_csv_row row;
            int eof;
            ck_assert_int_eq(mp_csv_stream_next(s, &row, &eof, &err), MP_OK);
            if (eof) break;
            ck_assert_uint_lt(i, mp_table_nrows(t));
            ck_assert_uint_eq(row.line, mp_table_line(t, i));
            for (size_t j = 0; j < row.ncols; j++) {
                ck_assert_str_eq(row.cell[j], mp_table_cell(t, i, j));
                ck_assert_uint_eq(row.len[j], strlen(mp_table_cell(t, i, j)));
                ck_assert_uint_eq(row.colpos[j], mp_table_colpos(t, i, j));
            }
            i++;
        }
        ck_assert_uint_eq(i, mp_table_nrows(t));
        mp_csv_stream_free(s);
    }
    mp_table_free(t);
    unlink(path);
    free(path);
}
END_TEST

/* A long file read through a tiny buffer: every row survives the chunk
 * boundaries (rows straddle them at every offset). */
START_TEST(test_stream_chunk_boundaries)
{
    char *text = synthetic(300, 0);
    char *path = tmp_csv(text);
    mp_table *t = NULL;
    mp_error err;
    ck_assert_int_eq(mp_table_read_mem("mem", text, strlen(text), &t, &err), MP_OK);
    mp_csv_stream *s = NULL;
    ck_assert_int_eq(mp_csv_stream_open(path, 64, &s, &err), MP_OK);
    size_t i = 0;
    for (;; i++) {
        mp_csv_row row;
        int eof;
        ck_assert_int_eq(mp_csv_stream_next(s, &row, &eof, &err), MP_OK);
        if (eof) break;
        for (size_t j = 0; j < 3; j++) ck_assert_str_eq(row.cell[j], mp_table_cell(t, i, j));
    }
    ck_assert_uint_eq(i, mp_table_nrows(t));
    ck_assert_uint_eq(mp_csv_stream_bytes(s), strlen(text));
    mp_csv_stream_free(s);
    mp_table_free(t);
    unlink(path);
    free(path);
    free(text);
}
END_TEST

/* Malformed input: the same status, line, column and message as the loader. */
static const char *const bad_cases[] = {
    "a,b\n1,2\n3\n",                 /* too few fields */
    "a,b\n1,2\n3,4,5\n",             /* too many fields */
    "a,b\n1,\"2\n",                  /* unterminated quote */
    "a,b\n1,\"2\"x\n",               /* text after the closing quote */
    "a,b\n1,2\"3\n",                 /* quote inside an unquoted field */
    "a,b\n1,2\n3,\x01\n",            /* control byte */
    "a,b\n1,2\n3,4\x7f\n",           /* DEL */
    "a,b\n",                         /* header only */
    "\n\n",                          /* empty */
    "a,a\n1,2\n",                    /* duplicated name */
    "x, a ,b,a\n1,2,3,4\n",          /* duplicated after trimming */
    "a,b\n\"x\ny\",2\n3\n",          /* ragged after a multi-line row */
    "a,b\n\"x\ny\",2,3\n",            /* too many after a quoted break */
    "a,b\n1,\"x\ny\"z\n",             /* after closing quote, second line */
    "a,b\n1,2\n\"abc\n",             /* unterminated, opened on line 3 */
    "a,b\r1,2\r3\r",               /* lone CR line ends */
    "\xEF\xBB\xBF" "a,b\n1,\x02\n",   /* control byte after a BOM line */
};

START_TEST(test_stream_errors_as_table)
{
    const char *text = bad_cases[_i];
    mp_table *t = NULL;
    mp_error want, got;
    mp_error_clear(&want);
    mp_error_clear(&got);
    mp_status ws = mp_table_read_mem("f.csv", text, strlen(text), &t, &want);
    ck_assert_int_ne(ws, MP_OK);
    char *path = tmp_csv(text);
    mp_csv_stream *s = NULL;
    mp_status gs = mp_csv_stream_open(path, 64, &s, &got);
    while (gs == MP_OK) {
        mp_csv_row row;
        int eof;
        gs = mp_csv_stream_next(s, &row, &eof, &got);
        if (gs == MP_OK && eof) break;
    }
    mp_csv_stream_free(s);
    ck_assert_int_eq(gs, ws);
    ck_assert_str_eq(got.msg, want.msg);
    ck_assert_uint_eq(got.line, want.line);
    ck_assert_uint_eq(got.col, want.col);
    ck_assert_str_eq(got.file, path);
    unlink(path);
    free(path);
}
END_TEST

START_TEST(test_stream_open_errors)
{
    mp_csv_stream *s = NULL;
    mp_error err;
    ck_assert_int_eq(mp_csv_stream_open("/nonexistent/x.csv", 0, &s, &err), MP_EIO);
    ck_assert_ptr_null(s);
    ck_assert_ptr_nonnull(strstr(err.msg, "cannot open"));
    ck_assert_int_eq(mp_csv_stream_open(NULL, 0, &s, &err), MP_EINVAL);
}
END_TEST

/* ---- grouping ------------------------------------------------------------ */

START_TEST(test_groups_first_appearance_and_na)
{
    const char *text = "g,yi,vi\n"
                       "b,0.1,0.01\n"
                       "a,0.2,0.02\n"
                       "c,NA,0.03\n"   /* c: every row left out -> k = 0 */
                       "b,0.3,0.03\n"
                       "a,0.4,NA\n"
                       "b,0.5,0.05\n";
    char *path = tmp_csv(text);
    mp_batch_data d = {0};
    mp_error err;
    ck_assert_int_eq(read_all(path, "g", NULL, 0, &d, &err), MP_OK);
    ck_assert_uint_eq(d.n, 3);
    ck_assert_str_eq(mp_batch_data_name(&d, 0), "b");
    ck_assert_str_eq(mp_batch_data_name(&d, 1), "a");
    ck_assert_str_eq(mp_batch_data_name(&d, 2), "c");
    ck_assert_uint_eq(d.off[1] - d.off[0], 3);
    ck_assert_uint_eq(d.off[2] - d.off[1], 1);
    ck_assert_uint_eq(d.off[3] - d.off[2], 0);
    ck_assert_uint_eq(d.line[0], 2);
    ck_assert_uint_eq(d.line[2], 4);
    /* rows of b in file order */
    ck_assert(d.y[0] == 0.1 && d.y[1] == 0.3 && d.y[2] == 0.5);
    ck_assert_uint_eq(d.warnings.n, 2);
    ck_assert_ptr_nonnull(strstr(d.warnings.v[0], "line 4"));
    ck_assert_ptr_nonnull(strstr(d.warnings.v[1], "column 'vi'"));
    mp_pool_result res[3];
    mp_status st[3];
    ck_assert_int_eq(mp_pool_batch(d.y, d.v, d.off, d.n, NULL, 2, res, st, NULL, NULL), MP_ETOOFEW);
    ck_assert_int_eq(st[0], MP_OK);
    ck_assert_int_eq(st[1], MP_OK);
    ck_assert_int_eq(st[2], MP_ETOOFEW);
    mp_batch_data_free(&d);
    unlink(path);
    free(path);
}
END_TEST

START_TEST(test_sorted_equals_all)
{
    char *text = synthetic(400, 0); /* groups contiguous */
    char *path = tmp_csv(text);
    mp_batch_data all = {0}, blk = {0};
    mp_error err;
    ck_assert_int_eq(read_all(path, "gene", NULL, 0, &all, &err), MP_OK);
    static const size_t mins[] = {1, 5, 100, 100000};
    mp_batch_reader *r = NULL;
    ck_assert_int_eq(mp_batch_reader_open(path, "gene", NULL, 128, &r, &err), MP_OK);
    size_t g = 0, row = 0, blocks = 0;
    int eof = 0;
    while (!eof) {
        ck_assert_int_eq(mp_batch_read_sorted(r, mins[_i], &blk, &eof, &err), MP_OK);
        blocks++;
        for (size_t a = 0; a < blk.n; a++, g++) {
            ck_assert_str_eq(mp_batch_data_name(&blk, a), mp_batch_data_name(&all, g));
            ck_assert_uint_eq(blk.off[a + 1] - blk.off[a], all.off[g + 1] - all.off[g]);
            ck_assert_uint_eq(blk.line[a], all.line[g]);
        }
        for (size_t i = 0; i < blk.nrows; i++, row++) {
            ck_assert(blk.y[i] == all.y[row]);
            ck_assert(blk.v[i] == all.v[row]);
        }
        /* a block holds whole groups and stops soon after min_rows */
        if (!eof) ck_assert_uint_ge(blk.nrows, mins[_i]);
    }
    ck_assert_uint_eq(g, all.n);
    ck_assert_uint_eq(row, all.nrows);
    if (mins[_i] == 1) ck_assert_uint_eq(blocks, all.n);
    mp_batch_reader_free(r);
    mp_batch_data_free(&all);
    mp_batch_data_free(&blk);
    unlink(path);
    free(path);
    free(text);
}
END_TEST

START_TEST(test_sorted_detects_unsorted)
{
    const char *text = "g,yi,vi\na,1,1\na,2,1\nb,1,1\nc,1,1\na,3,1\n";
    char *path = tmp_csv(text);
    mp_batch_reader *r = NULL;
    mp_batch_data d = {0};
    mp_error err;
    ck_assert_int_eq(mp_batch_reader_open(path, "g", NULL, 0, &r, &err), MP_OK);
    int eof = 0;
    mp_status s = MP_OK;
    while (s == MP_OK && !eof) s = mp_batch_read_sorted(r, _i ? 1 : 1000, &d, &eof, &err);
    ck_assert_int_eq(s, MP_EPARSE);
    ck_assert_uint_eq(err.line, 6);
    ck_assert_uint_eq(err.col, 1);
    ck_assert_ptr_nonnull(strstr(err.msg, "'a' appears again"));
    mp_batch_reader_free(r);
    mp_batch_data_free(&d);
    unlink(path);
    free(path);
}
END_TEST

/* --sorted's check that no group comes back, with the Bloom filter shrunk
 * to 512 bits (one block) so that nearly every group is a "suspect" (a filter collision)
 * and the exact pass over the temporary file decides (issue 11, item 12).
 * Groups g0 .. g(n-1), one row each (line = index + 2), then the extra
 * rows given, each its own group. */
static mp_status sorted_run(size_t n, const char *extra, unsigned log2bits, size_t susmax,
                            size_t *groups, mp_error *err)
{
    size_t cap = 32 * n + strlen(extra) + 64, w = 0;
    char *text = malloc(cap);
    ck_assert_ptr_nonnull(text);
    w += (size_t)snprintf(text + w, cap - w, "g,yi,vi\n");
    for (size_t i = 0; i < n; i++) w += (size_t)snprintf(text + w, cap - w, "g%zu,0.%zu,1\n", i, i % 10);
    snprintf(text + w, cap - w, "%s", extra);
    char *path = tmp_csv(text);
    mp_batch_reader *r = NULL;
    mp_batch_data d = {0};
    ck_assert_int_eq(mp_batch_reader_open(path, "g", NULL, 0, &r, err), MP_OK);
    if (log2bits) mp_batch_reader_sorted_limits(r, log2bits, susmax);
    int eof = 0;
    mp_status st = MP_OK;
    *groups = 0;
    while (st == MP_OK && !eof) {
        st = mp_batch_read_sorted(r, 7, &d, &eof, err);
        if (st == MP_OK) *groups += d.n;
    }
    mp_batch_reader_free(r);
    mp_batch_data_free(&d);
    unlink(path);
    free(path);
    free(text);
    return st;
}

START_TEST(test_sorted_filter_collisions)
{
    /* _i: 0 = default filter; 1 = 512-bit filter, a pass every 5 suspects;
     * 2 = 512-bit filter, one pass at the end (suspects held throughout) */
    static const unsigned bits[] = {0, 9, 9};
    static const size_t susmax[] = {0, 5, 1000000};
    mp_error err;
    size_t groups = 0;
    /* 3000 distinct groups: no error, however many collisions */
    ck_assert_int_eq(sorted_run(3000, "", bits[_i], susmax[_i], &groups, &err), MP_OK);
    ck_assert_uint_eq(groups, 3000);
    /* a value that only looks like a repeat: "g1" vs "g10" etc. are distinct,
     * and a group of several rows is one group */
    ck_assert_int_eq(sorted_run(300, "x,1,1\nx,2,1\nx,3,1\ny,1,1\n", bits[_i], susmax[_i], &groups, &err),
                     MP_OK);
    ck_assert_uint_eq(groups, 302);
    /* g1500 comes back at line 3002 (after 3000 groups): exit-2 error naming it */
    ck_assert_int_eq(sorted_run(3000, "g1500,1,1\n", bits[_i], susmax[_i], &groups, &err), MP_EPARSE);
    ck_assert_uint_eq(err.line, 3002);
    ck_assert_uint_eq(err.col, 1);
    ck_assert_ptr_nonnull(strstr(err.msg, "group 'g1500' appears again after other groups"));
    /* two repeats: the earlier line is named, whichever pass finds it */
    ck_assert_int_eq(sorted_run(3000, "new,1,1\ng7,1,1\nnew2,1,1\ng2,1,1\n", bits[_i], susmax[_i],
                                &groups, &err), MP_EPARSE);
    ck_assert_uint_eq(err.line, 3003);
    ck_assert_ptr_nonnull(strstr(err.msg, "'g7'"));
    /* a group first met as a suspect (a filter false positive) that then
     * comes back: x starts at line 3002, y, then x again at line 3004 */
    ck_assert_int_eq(sorted_run(3000, "x,1,1\ny,1,1\nx,1,1\n", bits[_i], susmax[_i], &groups, &err),
                     MP_EPARSE);
    ck_assert_uint_eq(err.line, 3004);
    ck_assert_ptr_nonnull(strstr(err.msg, "'x'"));
    /* a repeat that comes back once more: the first repeat (line 3002) is
     * named, not the later one (line 3004) */
    ck_assert_int_eq(sorted_run(3000, "g5,1,1\ny,1,1\ng5,1,1\n", bits[_i], susmax[_i], &groups, &err),
                     MP_EPARSE);
    ck_assert_uint_eq(err.line, 3002);
    ck_assert_ptr_nonnull(strstr(err.msg, "'g5'"));
    /* the repeat right after its own group ended (no group between would be
     * no repeat): a, b, a */
    ck_assert_int_eq(sorted_run(0, "a,1,1\nb,1,1\na,1,1\n", bits[_i], susmax[_i], &groups, &err),
                     MP_EPARSE);
    ck_assert_uint_eq(err.line, 4);
}
END_TEST

/* The block handed back with a "group comes back" error holds what was
 * read before the row where the group came back: the groups before it, and
 * the warnings of the rows up to that row (its own included), nothing of
 * the rows after it, whatever the reader read past that row before the
 * check ran (the check of a group is put off until the next group starts,
 * for speed; the block must not show it).  Group a comes back at line 5
 * (its row left out, with a warning); a 512-bit filter with a pass at every
 * suspect finds it at once (_i 0-3), the default filter only at the end of
 * input (_i 4, where the whole block is handed back). */
static const struct {
    const char *tail;   /* rows after line 5 */
    unsigned log2bits;  /* filter (0: default) */
    size_t groups, rows, warnings;
    int at_end;
} sorted_cut_cases[] = {
    {"a,NA,1\na,3,1\nc,1,1\n", 9, 2, 2, 2, 0},   /* found when c starts */
    {"a,NA,1\na,3,1\n", 9, 2, 2, 2, 0},           /* found at the end of input */
    {"a,NA,1\na,x,1\n", 9, 2, 2, 2, 0},           /* before a bad cell at line 7 */
    {"a,NA,1\na,1,1,1\n", 9, 2, 2, 2, 0},         /* before a malformed row at line 7 */
    {"a,NA,1\na,3,1\nc,1,1\n", 0, 4, 4, 3, 1},   /* a suspect, found at the end */
};

START_TEST(test_sorted_repeat_cuts_block)
{
    char text[256];
    snprintf(text, sizeof text, "g,yi,vi\na,1,1\nb,NA,1\nb,2,1\na,NA,1\n%s", sorted_cut_cases[_i].tail);
    char *path = tmp_csv(text);
    mp_batch_reader *r = NULL;
    mp_batch_data d = {0};
    mp_error err;
    ck_assert_int_eq(mp_batch_reader_open(path, "g", NULL, 0, &r, &err), MP_OK);
    if (sorted_cut_cases[_i].log2bits) mp_batch_reader_sorted_limits(r, sorted_cut_cases[_i].log2bits, 1);
    int eof = 0;
    ck_assert_int_eq(mp_batch_read_sorted(r, 1000, &d, &eof, &err), MP_EPARSE);
    ck_assert_uint_eq(err.line, 5);
    ck_assert_uint_eq(err.col, 1);
    ck_assert_ptr_nonnull(strstr(err.msg, "group 'a' appears again"));
    ck_assert_int_eq(mp_batch_reader_error_ends_group(r), 1);
    ck_assert_int_eq(mp_batch_reader_repeat_at_end(r), sorted_cut_cases[_i].at_end);
    ck_assert_uint_eq(d.n, sorted_cut_cases[_i].groups);
    ck_assert_uint_eq(d.nrows, sorted_cut_cases[_i].rows);
    ck_assert_uint_eq(d.off[d.n], d.nrows);
    ck_assert_str_eq(mp_batch_data_name(&d, 0), "a");
    ck_assert_str_eq(mp_batch_data_name(&d, 1), "b");
    ck_assert_uint_eq(d.off[1], 1); /* a: line 2 */
    ck_assert_uint_eq(d.off[2], 2); /* b: line 4 (line 3 left out) */
    ck_assert(d.y[0] == 1 && d.y[1] == 2);
    ck_assert_uint_eq(d.warnings.n, sorted_cut_cases[_i].warnings);
    ck_assert_ptr_nonnull(strstr(d.warnings.v[0], "(line 3)"));
    ck_assert_ptr_nonnull(strstr(d.warnings.v[1], "(line 5)"));
    mp_batch_reader_free(r);
    mp_batch_data_free(&d);
    unlink(path);
    free(path);
}
END_TEST

/* Bad cells and columns name file:line:col, as mp_effects_compute() does. */
static const struct {
    const char *text, *group;
    mp_status status;
    size_t line, col;
    const char *msg;
} reader_errors[] = {
    {"g,yi,vi\na,1,0.1\nb,x,0.1\n", "g", MP_EPARSE, 3, 3, "column 'yi': 'x' is not a number"},
    {"g,yi,vi\na,1,-0.1\n", "g", MP_EPARSE, 2, 5, "sampling variance must be positive"},
    {"g,yi,vi\na,1,\n", "g", MP_EPARSE, 2, 5, "empty cell where a number is required"},
    {"g,yi,vi\na,1,1e999\n", "g", MP_EPARSE, 2, 5, "not a finite number"},
    /* a bad cell in a row whose group is missing is still an error, as the
     * loader reads every row (found by tests/fuzz/fuzz_batch) */
    {"study,yi,vi\n.,0A1,0.01\nB,-0.25,0.04\n", "study", MP_EPARSE, 2, 3,
     "column 'yi': '0A1' is not a number"},
    {"g,yi,vi\na,1,0.1\n", "nope", MP_EINVAL, 0, 0, "no column 'nope' for --group"},
    {"g,yi\na,1\n", "g", MP_EINVAL, 1, 0, "yi needs the column vi"},
    {"g,ai,bi,ci,di\na,1,2,3,4\n", "g", MP_EINVAL, 1, 0, "choose --measure OR, RR or RD"},
    {"g,m1i,sd1i,n1i,m2i,sd2i,n2i\na,1,1,10,1,0,10\n", "g", MP_EINVAL, 1, 0, "choose --measure SMD"},
};

START_TEST(test_reader_errors)
{
    char *path = tmp_csv(reader_errors[_i].text);
    mp_batch_data d = {0};
    mp_error err;
    mp_error_clear(&err);
    ck_assert_int_eq(read_all(path, reader_errors[_i].group, NULL, 0, &d, &err), reader_errors[_i].status);
    ck_assert_uint_eq(err.line, reader_errors[_i].line);
    ck_assert_uint_eq(err.col, reader_errors[_i].col);
    ck_assert_msg(strstr(err.msg, reader_errors[_i].msg), "message '%s'", err.msg);
    mp_batch_data_free(&d);
    unlink(path);
    free(path);
}
END_TEST

/* Bad cells: the reader's status, line, column and message are those of
 * mp_effects_compute() on the same bytes. */
static const struct { const char *text; mp_measure measure; } effect_errors[] = {
    {"g,yi,vi\na,1,0.1\nb,abc,0.1\n", MP_MEASURE_GEN},
    {"g;yi;vi\na;1,5;0.1\n", MP_MEASURE_GEN},                  /* decimal comma hint */
    {"g,yi,vi\na,1, \t \n", MP_MEASURE_GEN},                   /* blank cell */
    {"g,yi,vi\na,1,-2\n", MP_MEASURE_GEN},
    {"g,yi,vi\na,1,nan\n", MP_MEASURE_GEN},
    {"g,yi,vi\n\"a\nb\",1,x\n", MP_MEASURE_GEN},              /* cell after a quoted break */
    {"g,yi,vi\na,1,\"0.1\x01\"\n", MP_MEASURE_GEN},            /* control byte (loader) */
    {"g,yi,sei\na,1,0\n", MP_MEASURE_GEN},
    {"g,yi,ci_lb,ci_ub\na,1,2,1\n", MP_MEASURE_GEN},
    {"g,m1i,sd1i,n1i,m2i,sd2i,n2i\na,1,1,10,1,-1,10\n", MP_MEASURE_SMD},
    {"g,m1i,sd1i,n1i,m2i,sd2i,n2i\na,1,1,1,1,1,1\n", MP_MEASURE_SMD},
    {"g,m1i,sd1i,n1i,m2i,sd2i,n2i\na,-1,1,10,1,1,10\n", MP_MEASURE_ROM},
    {"g,ai,bi,ci,di\na,1,2,-3,4\n", MP_MEASURE_OR},
    {"g,ai,n1i,ci,n2i\na,5,4,1,4\n", MP_MEASURE_RR},
    {"g,ai,bi,ci,di\na,0,0,1,1\n", MP_MEASURE_RD},
    {"g,yi,vi\na,1e400,1\n", MP_MEASURE_GEN},
};

START_TEST(test_reader_errors_as_loader)
{
    const char *text = effect_errors[_i].text;
    mp_es_opts es;
    mp_es_opts_init(&es);
    es.measure = effect_errors[_i].measure;
    es.measure_given = es.measure != MP_MEASURE_GEN;
    mp_error want, got;
    mp_error_clear(&want);
    mp_error_clear(&got);
    char *path = tmp_csv(text);
    mp_table *t = NULL;
    mp_effects e;
    mp_status ws = mp_table_read(path, &t, &want);
    if (ws == MP_OK) ws = mp_effects_compute(t, &es, &e, &want);
    if (ws == MP_OK) mp_effects_free(&e);
    mp_table_free(t);
    ck_assert_int_ne(ws, MP_OK);
    mp_batch_data d = {0};
    mp_status gs = read_all(path, "g", &es, 64, &d, &got);
    ck_assert_int_eq(gs, ws);
    ck_assert_str_eq(got.msg, want.msg);
    ck_assert_uint_eq(got.line, want.line);
    ck_assert_uint_eq(got.col, want.col);
    mp_batch_data_free(&d);
    unlink(path);
    free(path);
}
END_TEST

/* Effect sizes from raw columns equal the loader's, cell for cell. */
START_TEST(test_reader_effects_as_loader)
{
    static const char *const files[] = {"data/normand1999_smd.csv", "data/normand1999_md.csv",
                                        "data/normand1999_g_n.csv", "data/bcg_or.csv"};
    static const mp_measure meas[] = {MP_MEASURE_SMD, MP_MEASURE_MD, MP_MEASURE_SMD, MP_MEASURE_OR};
    const char *file = tu_ref(files[_i]);
    char path[4096];
    snprintf(path, sizeof path, "%s", file);
    mp_table *t = NULL;
    mp_error err;
    ck_assert_int_eq(mp_table_read(path, &t, &err), MP_OK);
    mp_es_opts es;
    mp_es_opts_init(&es);
    es.measure = meas[_i];
    es.measure_given = 1;
    mp_effects e;
    ck_assert_int_eq(mp_effects_compute(t, &es, &e, &err), MP_OK);
    /* group by the first column: every row its own group (labels unique) */
    mp_batch_data d = {0};
    ck_assert_int_eq(read_all(path, mp_table_colname(t, 0), &es, 0, &d, &err), MP_OK);
    size_t row = 0;
    for (size_t i = 0; i < mp_table_nrows(t); i++) {
        if (!e.used[i]) continue;
        ck_assert(d.y[row] == e.yi[i]);
        ck_assert(d.v[row] == e.vi[i]);
        row++;
    }
    ck_assert_uint_eq(row, d.nrows);
    mp_effects_free(&e);
    mp_table_free(t);
    mp_batch_data_free(&d);
}
END_TEST

/* The batch reader has a fast path for plain rows and the general path for
 * the rest; both must give what the whole-file loader gives.  Random files
 * (fixed seed) mix plain rows with quoted cells, blanks, exponents, '+'
 * signs, leading zeros, long mantissas, "-0", NA cells, missing groups and
 * CRLF; the independent reference is mp_table_read + mp_effects_compute,
 * grouped here by first appearance.  Values must be bitwise equal. */
static void rnd_number(char *b, size_t n, unsigned *s, int plain)
{
    *s = *s * 1103515245u + 12345u;
    unsigned r = (*s >> 8) % 1000000u, kind = plain ? 0 : (*s >> 20) % 9;
    double x = (double)r / 1000.0 + 0.001;
    switch (kind) {
    case 0: snprintf(b, n, "%.3f", x); break;
    case 1: snprintf(b, n, "%.6e", x); break;
    case 2: snprintf(b, n, "+%.4f", x); break;
    case 3: snprintf(b, n, "00%.2f", x); break;
    case 4: snprintf(b, n, "%.19f", x); break;
    case 5: snprintf(b, n, " %.3f ", x); break;
    case 6: snprintf(b, n, "\"%.5f\"", x); break;
    case 7: snprintf(b, n, "%u", r % 97 + 1); break;
    default: snprintf(b, n, "0.%018u", r + 1); break; /* never 0: vi must be > 0 */
    }
}

START_TEST(test_reader_random_as_loader)
{
    unsigned s = 4242u + (unsigned)_i;
    size_t cap = 1 << 16, len = 0;
    char *text = malloc(cap);
    ck_assert_ptr_nonnull(text);
    const char *eol = _i % 2 ? "\r\n" : "\n";
    len += (size_t)snprintf(text + len, cap - len, "g,yi,vi%s", eol);
    for (int row = 0; row < 300; row++) {
        char g[32], y[64], v[64];
        s = s * 1103515245u + 12345u;
        int odd = (s >> 16) % 4 == 0; /* a quarter of the rows leave the fast path */
        unsigned pick = (s >> 8) % 7;
        if (odd && pick == 0) snprintf(g, sizeof g, "%s", "");
        else if (odd && pick == 1) snprintf(g, sizeof g, "\"grp %u, x\"", (s >> 4) % 5);
        else snprintf(g, sizeof g, "grp%u", (s >> 4) % 5);
        rnd_number(y, sizeof y, &s, !odd);
        rnd_number(v, sizeof v, &s, !odd);
        if (odd && pick == 2) snprintf(y, sizeof y, "NA");
        if (odd && pick == 3) snprintf(y, sizeof y, "-0");
        if (odd && pick == 4 && y[0] != ' ' && y[0] != '"' && y[0] != '+') {
            memmove(y + 1, y, strlen(y) + 1);
            y[0] = '-';
        }
        if (len + 256 > cap) {
            cap *= 2;
            text = realloc(text, cap);
            ck_assert_ptr_nonnull(text);
        }
        len += (size_t)snprintf(text + len, cap - len, "%s,%s,%s%s", g, y, v, eol);
    }
    char *path = tmp_csv(text);
    mp_error err;
    mp_table *t = NULL;
    ck_assert_int_eq(mp_table_read(path, &t, &err), MP_OK);
    mp_effects e;
    ck_assert_msg(mp_effects_compute(t, NULL, &e, &err) == MP_OK, "file %d: %zu:%zu %s", _i,
                  err.line, err.col, err.msg);
    size_t nr = mp_table_nrows(t);
    {
        /* chunks of 64.. bytes: rows straddle chunk ends, fast and slow paths */
        mp_batch_data d = {0};
        ck_assert_int_eq(read_all(path, "g", NULL, 64 + (size_t)_i * 37, &d, &err), MP_OK);
        /* reference: groups by first appearance, rows in file order */
        const char *names[16]; /* groups "grp0".."grp4" and "grp 0, x".."grp 4, x" */
        size_t ng = 0, used = 0;
        /* a group appears at its first row, even when that row's effect is
         * left out (a group of only such rows is reported with k = 0) */
        for (size_t i = 0; i < nr; i++) {
            if (mp_table_is_missing(t, i, 0)) continue;
            const char *gv = mp_table_cell(t, i, 0);
            size_t a = 0;
            while (a < ng && strcmp(names[a], gv) != 0) a++;
            if (a == ng) {
                ck_assert_uint_lt(ng, 16);
                names[ng++] = gv;
            }
            used += e.used[i];
        }
        ck_assert_uint_eq(d.n, ng);
        ck_assert_uint_eq(d.nrows, used);
        for (size_t a = 0; a < ng; a++) {
            ck_assert_str_eq(mp_batch_data_name(&d, a), names[a]);
            size_t p = d.off[a];
            for (size_t i = 0; i < nr; i++) {
                if (!e.used[i] || mp_table_is_missing(t, i, 0)) continue;
                if (strcmp(mp_table_cell(t, i, 0), names[a]) != 0) continue;
                ck_assert_msg(d.y[p] == e.yi[i] && d.v[p] == e.vi[i],
                              "file %d row %zu: batch (%.17g, %.17g), loader (%.17g, %.17g)", _i,
                              i + 1, d.y[p], d.v[p], e.yi[i], e.vi[i]);
                p++;
            }
            ck_assert_uint_eq(p, d.off[a + 1]);
        }
        mp_batch_data_free(&d);
    }
    mp_effects_free(&e);
    mp_table_free(t);
    unlink(path);
    free(path);
    free(text);
}
END_TEST

/* ---- issue-6 regression: REML reported non-convergence at the root --------- */

/* A k = 9 analysis from a batch run whose REML iteration reached the root
 * with g = +3.6e-15 (noise), so that x + step == x == lo: it was reported as
 * "did not converge in 11 iterations".  Expected values: R metafor 3.8-1,
 * rma(yi, vi, method = "REML", control = list(threshold = 1e-13)):
 * tau2 0.125301208164486, estimate -0.0181733475550223,
 * se 0.166296862606332, I2 58.4950957317573. */
START_TEST(test_issue6_reml_root_noise)
{
    const double y[] = {0.260357, 0.314252, 0.198490, 0.243082, 0.065749,
                        -0.197217, 0.147688, -0.729667, 0.019755};
    const double v[] = {0.099772, 0.175986, 0.228455, 0.077213, 0.197009,
                        0.278351, 0.055929, 0.015117, 0.288939};
    mp_pool_opts o;
    mp_pool_opts_init(&o);
    mp_pool_result r;
    ck_assert_int_eq(mp_pool(y, v, 9, &o, NULL, &r), MP_OK);
    ck_assert_int_eq(r.converged, 1);
    ck_assert_rel(r.tau2, 0.125301208164486, 1e-9);
    ck_assert_rel(r.estimate, -0.0181733475550223, 1e-9);
    ck_assert_rel(r.se, 0.166296862606332, 1e-9);
    ck_assert_rel(r.I2, 58.4950957317573, 1e-9);
}
END_TEST

/* ---- number output: mp_format_double is tested in tests/test_fmt.c ------- */

/* ---- the CLI: batch rows equal `pool --format json` on each group -------- */

static double json_key(const char *json, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *p = strstr(json, pat);
    if (!p) return NAN;
    p += strlen(pat);
    if (strncmp(p, "null", 4) == 0) return NAN;
    return strtod(p, NULL);
}

START_TEST(test_cli_batch_equals_pool)
{
    char *text = synthetic(40, 1);
    char *path = tmp_csv(text);
    char cmd[8192], *out = NULL, *errs = NULL;
    static const char *const methods[] = {"REML", "DL", "PM", "FE"};
    const char *method = methods[_i];
    snprintf(cmd, sizeof cmd, "%s batch --group gene --method %s --threads 2 %s", MP_METAPOOL_BIN,
             method, path);
    int rc = tu_run(cmd, &out, &errs);
    ck_assert_msg(rc == 0, "rc %d: %s", rc, errs);
    static const char *const keys[] = {"estimate", "se", "ci_lb", "ci_ub", "pval", "tau2",
                                       "I2", "H2", "Q", "Q_pval", "pi_lb", "pi_ub"};
    /* check a sample of groups: every 5th */
    char *save = NULL;
    char *line = strtok_r(out, "\n", &save); /* header */
    ck_assert_str_eq(line, "group,k,estimate,se,ci_lb,ci_ub,pval,tau2,I2,H2,Q,Q_pval,pi_lb,pi_ub,status");
    size_t g = 0;
    while ((line = strtok_r(NULL, "\n", &save))) {
        char name[64];
        size_t k;
        ck_assert_int_eq(sscanf(line, "%63[^,],%zu", name, &k), 2);
        char want_name[64];
        snprintf(want_name, sizeof want_name, "g%zu", g);
        ck_assert_str_eq(name, want_name); /* order of first appearance */
        if (g++ % 5) continue;
        /* the group's rows alone, in file order */
        size_t cap = 4096, n = 0;
        char *sub = malloc(cap);
        n += (size_t)snprintf(sub, cap, "gene,yi,vi\n");
        char *copy = strdup(text), *s2 = NULL;
        strtok_r(copy, "\n", &s2);
        for (char *l = strtok_r(NULL, "\n", &s2); l; l = strtok_r(NULL, "\n", &s2)) {
            size_t nl = strlen(name);
            if (strncmp(l, name, nl) || l[nl] != ',') continue;
            n += (size_t)snprintf(sub + n, cap - n, "%s\n", l);
        }
        free(copy);
        char *subpath = tmp_csv(sub);
        char *pout = NULL;
        snprintf(cmd, sizeof cmd, "%s pool --format json --method %s %s", MP_METAPOOL_BIN, method,
                 subpath);
        ck_assert_int_eq(tu_run(cmd, &pout, NULL), 0);
        /* fields of the batch row after group,k */
        const char *f = strchr(strchr(line, ',') + 1, ',') + 1;
        for (size_t j = 0; j < sizeof keys / sizeof keys[0]; j++) {
            double got = strncmp(f, "NA", 2) == 0 ? NAN : strtod(f, NULL);
            double want = json_key(pout, keys[j]);
            ck_assert_msg(rel_close(got, want, 1e-12), "group %s %s: batch %.17g pool %.17g",
                          name, keys[j], got, want);
            f = strchr(f, ',') + 1;
        }
        ck_assert_str_eq(f, "ok");
        ck_assert_uint_eq(k, (size_t)json_key(pout, "k"));
        unlink(subpath);
        free(subpath);
        free(sub);
        free(pout);
    }
    ck_assert_uint_eq(g, 40);
    free(out);
    free(errs);
    unlink(path);
    free(path);
    free(text);
}
END_TEST

static Suite *batch_suite(void)
{
    Suite *s = suite_create("batch");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_bcg_one_group_matches_metafor);
    tcase_add_loop_test(tc, test_bcg_groups_equal_pool, 0, 24);
    tcase_add_loop_test(tc, test_threads_identical, 0, 2);
    tcase_add_test(tc, test_batch_callback_and_args);
    tcase_add_loop_test(tc, test_stream_same_cells_as_table, 0,
                        (int)(sizeof stream_cases / sizeof stream_cases[0]));
    tcase_add_test(tc, test_stream_chunk_boundaries);
    tcase_add_loop_test(tc, test_stream_errors_as_table, 0,
                        (int)(sizeof bad_cases / sizeof bad_cases[0]));
    tcase_add_test(tc, test_stream_open_errors);
    tcase_add_test(tc, test_groups_first_appearance_and_na);
    tcase_add_loop_test(tc, test_sorted_equals_all, 0, 4);
    tcase_add_loop_test(tc, test_sorted_detects_unsorted, 0, 2);
    tcase_add_loop_test(tc, test_sorted_filter_collisions, 0, 3);
    tcase_add_loop_test(tc, test_sorted_repeat_cuts_block, 0,
                        (int)(sizeof sorted_cut_cases / sizeof sorted_cut_cases[0]));
    tcase_add_loop_test(tc, test_reader_errors, 0,
                        (int)(sizeof reader_errors / sizeof reader_errors[0]));
    tcase_add_loop_test(tc, test_reader_random_as_loader, 0, 40);
    tcase_add_loop_test(tc, test_reader_effects_as_loader, 0, 4);
    tcase_add_loop_test(tc, test_reader_errors_as_loader, 0,
                        (int)(sizeof effect_errors / sizeof effect_errors[0]));
    tcase_add_loop_test(tc, test_cli_batch_equals_pool, 0, 4);
    tcase_add_test(tc, test_issue6_reml_root_noise);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    gsl_set_error_handler_off();
    SRunner *sr = srunner_create(batch_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
