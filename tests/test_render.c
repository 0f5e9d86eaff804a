/* tests/test_render.c - pictures from SVG (mp_report_render) and arm-level data (mp_effects_arms).
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Expected values are from the definitions: an SVG of 200 x 100 px is 200 x
 * 100 pixels at 96 dpi (CSS px = 1/96 in), 400 x 200 at 192 dpi, and a PDF
 * page of 150 x 75 pt (72 pt per inch); 2x2 totals are ai + bi and ci + di;
 * 1/2 is added to every cell of a table with a zero cell (metafor's escalc()
 * add = 1/2, to = "only0"), so ai = 0, bi = 10, ci = 3, di = 7 gives the log
 * odds ratio log((0.5/10.5) / (3.5/7.5)) = -2.2823823856765264 (hand-worked). */
#include "testutil.h"

#include "metapool/metapool.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char small_svg[] =
    "<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"200\" "
    "height=\"100\"><rect width=\"200\" height=\"100\" fill=\"#fff\"/>"
    "<rect x=\"20\" y=\"20\" width=\"100\" height=\"50\" fill=\"#1f5fa8\"/></svg>\n";

static char *tmp_path(const char *ext)
{
    static int n;
    char *p = malloc(256);
    snprintf(p, 256, "/tmp/mp_test_render_%ld_%d%s", (long)getpid(), n++, ext);
    return p;
}

static int exists(const char *p) { return access(p, F_OK) == 0; }

START_TEST(test_format)
{
    ck_assert_int_eq(mp_report_plot_format("a.svg"), MP_PLOT_SVG);
    ck_assert_int_eq(mp_report_plot_format("dir/A.SVG"), MP_PLOT_SVG);
    ck_assert_int_eq(mp_report_plot_format("x.png"), MP_PLOT_PNG);
    ck_assert_int_eq(mp_report_plot_format("x.Pdf"), MP_PLOT_PDF);
    ck_assert_int_eq(mp_report_plot_format("x.jpg"), MP_PLOT_UNKNOWN);
    ck_assert_int_eq(mp_report_plot_format("noext"), MP_PLOT_UNKNOWN);
    ck_assert_int_eq(mp_report_plot_format("a.png/file"), MP_PLOT_UNKNOWN);
    ck_assert_int_eq(mp_report_plot_format(NULL), MP_PLOT_UNKNOWN);
}
END_TEST

START_TEST(test_svg_passthrough)
{
    char *p = tmp_path(".svg");
    ck_assert_int_eq(mp_report_render(small_svg, strlen(small_svg), p, 0), MP_OK);
    size_t n = 0;
    char *got = tu_slurp(p, &n);
    ck_assert_ptr_nonnull(got);
    ck_assert_uint_eq(n, strlen(small_svg));
    ck_assert(memcmp(got, small_svg, n) == 0);
    free(got);
    remove(p);
    free(p);
}
END_TEST

static void png_size(const char *path, unsigned *w, unsigned *h)
{
    size_t n = 0;
    unsigned char *b = (unsigned char *)tu_slurp(path, &n);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_ge(n, 24);
    ck_assert(memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0);
    *w = (unsigned)b[16] << 24 | (unsigned)b[17] << 16 | (unsigned)b[18] << 8 | b[19];
    *h = (unsigned)b[20] << 24 | (unsigned)b[21] << 16 | (unsigned)b[22] << 8 | b[23];
    free(b);
}

START_TEST(test_png_pdf)
{
    char *png = tmp_path(".png"), *pdf = tmp_path(".pdf");
    if (!mp_report_render_available()) {
        /* SVG only: PNG and PDF are refused and nothing is written */
        ck_assert_int_eq(mp_report_render(small_svg, strlen(small_svg), png, 0), MP_EINVAL);
        ck_assert(!exists(png));
        free(png);
        free(pdf);
        return;
    }
    unsigned w, h;
    ck_assert_int_eq(mp_report_render(small_svg, strlen(small_svg), png, 96), MP_OK);
    png_size(png, &w, &h);
    ck_assert_uint_eq(w, 200);
    ck_assert_uint_eq(h, 100);
    ck_assert_int_eq(mp_report_render(small_svg, strlen(small_svg), png, 192), MP_OK);
    png_size(png, &w, &h);
    ck_assert_uint_eq(w, 400);
    ck_assert_uint_eq(h, 200);
    ck_assert_int_eq(mp_report_render(small_svg, strlen(small_svg), png, 0), MP_OK); /* 150 dpi */
    png_size(png, &w, &h);
    ck_assert_uint_eq(w, 313); /* ceil(200 * 150 / 96) */
    ck_assert_int_eq(mp_report_render(small_svg, strlen(small_svg), pdf, 0), MP_OK);
    size_t n = 0;
    char *b = tu_slurp(pdf, &n);
    ck_assert_ptr_nonnull(b);
    ck_assert(n > 100 && memcmp(b, "%PDF-", 5) == 0);
    /* one page of 150 x 75 pt */
    int pages = 0, box = 0;
    for (size_t i = 0; i + 10 < n; i++) {
        if (memcmp(b + i, "/Type /Page", 11) == 0 && b[i + 11] != 's') pages++;
        if (memcmp(b + i, "/MediaBox [ 0 0 150 75 ]", 24 < n - i ? 24 : n - i) == 0) box = 1;
    }
    ck_assert_int_eq(pages, 1);
    ck_assert_int_eq(box, 1);
    free(b);
    /* the same from a file */
    char *svgp = tmp_path(".svg");
    ck_assert_int_eq(mp_report_render(small_svg, strlen(small_svg), svgp, 0), MP_OK);
    ck_assert_int_eq(mp_report_render_file(svgp, png, 96), MP_OK);
    png_size(png, &w, &h);
    ck_assert_uint_eq(w, 200);
    remove(svgp);
    remove(png);
    remove(pdf);
    free(svgp);
    free(png);
    free(pdf);
}
END_TEST

START_TEST(test_errors)
{
    char *png = tmp_path(".png"), *jpg = tmp_path(".jpg");
    /* unknown extension */
    ck_assert_int_eq(mp_report_render(small_svg, strlen(small_svg), jpg, 0), MP_EINVAL);
    ck_assert(!exists(jpg));
    ck_assert_int_eq(mp_report_render(NULL, 0, png, 0), MP_EINVAL);
    /* the file cannot be written: MP_EIO with errno */
    errno = 0;
    ck_assert_int_eq(mp_report_render(small_svg, strlen(small_svg), "/nonexistent-dir/x.svg", 0), MP_EIO);
    ck_assert_int_eq(errno, ENOENT);
    ck_assert_int_eq(mp_report_render_file("/nonexistent-dir/in.svg", png, 0), MP_EIO);
    if (mp_report_render_available()) {
        errno = 0;
        ck_assert_int_eq(mp_report_render(small_svg, strlen(small_svg), "/nonexistent-dir/x.png", 0), MP_EIO);
        ck_assert_int_eq(errno, ENOENT);
        /* resolution out of range */
        ck_assert_int_eq(mp_report_render(small_svg, strlen(small_svg), png, 5), MP_EDOM);
        ck_assert_int_eq(mp_report_render(small_svg, strlen(small_svg), png, 5000), MP_EDOM);
        /* not SVG: nothing left under the name */
        static const char junk[] = "<svg this is not xml";
        ck_assert_int_eq(mp_report_render(junk, strlen(junk), png, 0), MP_EPARSE);
        ck_assert(!exists(png));
        /* no intrinsic size (width and height default to 100%) */
        static const char nosize[] = "<svg xmlns=\"http://www.w3.org/2000/svg\"><rect width=\"5\" height=\"5\"/></svg>";
        ck_assert_int_eq(mp_report_render(nosize, strlen(nosize), png, 0), MP_EINVAL);
        ck_assert(!exists(png));
        /* a picture too large for an image surface */
        static const char huge[] = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"30000\" height=\"10\"/>";
        ck_assert_int_eq(mp_report_render(huge, strlen(huge), png, 192), MP_EDOM);
        ck_assert(!exists(png));
    }
    free(png);
    free(jpg);
}
END_TEST

/* ---- arm-level data ---- */

static mp_table *load(const char *csv, char **path)
{
    *path = tu_tmpfile(csv, strlen(csv));
    mp_table *t = NULL;
    mp_error err;
    mp_error_clear(&err);
    ck_assert_int_eq(mp_table_read(*path, &t, &err), MP_OK);
    return t;
}

START_TEST(test_arms_counts)
{
    char *p;
    mp_table *t = load("study,ai,bi,ci,di\nA,4,119,11,128\nB,0,10,3,7\nC,NA,5,2,8\n", &p);
    mp_es_opts o;
    mp_es_opts_init(&o);
    o.measure = MP_MEASURE_OR;
    o.measure_given = 1;
    mp_effects e;
    mp_error err;
    mp_error_clear(&err);
    ck_assert_int_eq(mp_effects_compute(t, &o, &e, &err), MP_OK);
    /* row B has a zero cell: 1/2 added to every cell, and flagged */
    ck_assert_ptr_nonnull(e.corrected);
    ck_assert_int_eq(e.corrected[0], 0);
    ck_assert_int_eq(e.corrected[1], 1);
    ck_assert_int_eq(e.used[2], 0); /* NA: left out */
    ck_assert_rel(e.yi[1], -2.2823823856765264, 1e-14);
    mp_arms a;
    ck_assert_int_eq(mp_effects_arms(t, &e, &a, &err), MP_OK);
    ck_assert_int_eq(a.kind, MP_ARMS_COUNTS);
    ck_assert_uint_eq(a.n, 3);
    const double want[] = {4, 123, 11, 139, 0, 10, 3, 10};
    for (size_t i = 0; i < 8; i++) ck_assert_rel(a.v[MP_ARM_NV * (i / 4) + i % 4], want[i], 0);
    ck_assert(isnan(a.v[MP_ARM_NV * 2 + 0])); /* NA events */
    ck_assert(isnan(a.v[MP_ARM_NV * 2 + 1])); /* NA + 5 */
    ck_assert_rel(a.v[MP_ARM_NV * 2 + 3], 10, 0);
    mp_arms_free(&a);
    mp_arms_free(&a); /* twice is safe */
    mp_effects_free(&e);
    mp_table_free(t);
    remove(p);
    free(p);
}
END_TEST

START_TEST(test_arms_kinds)
{
    char *p;
    mp_error err;
    mp_error_clear(&err);
    mp_arms a;
    /* group sizes instead of non-events: totals as given */
    mp_table *t = load("ai,n1i,ci,n2i,yi,vi\n4,123,11,139,0.1,0.2\n", &p);
    ck_assert_int_eq(mp_effects_arms(t, NULL, &a, &err), MP_OK);
    ck_assert_int_eq(a.kind, MP_ARMS_COUNTS);
    ck_assert_rel(a.v[1], 123, 0);
    ck_assert_rel(a.v[3], 139, 0);
    mp_arms_free(&a);
    mp_table_free(t); remove(p); free(p);
    /* means */
    t = load("m1i,sd1i,n1i,m2i,sd2i,n2i\n55,47,155,75,64,156\n", &p);
    ck_assert_int_eq(mp_effects_arms(t, NULL, &a, &err), MP_OK);
    ck_assert_int_eq(a.kind, MP_ARMS_MEANS);
    const double m[] = {55, 47, 155, 75, 64, 156};
    for (size_t j = 0; j < 6; j++) ck_assert_rel(a.v[j], m[j], 0);
    mp_arms_free(&a);
    mp_table_free(t); remove(p); free(p);
    /* one group */
    t = load("yi,vi,xi,ni\n0.1,0.2,5,50\n", &p);
    ck_assert_int_eq(mp_effects_arms(t, NULL, &a, &err), MP_OK);
    ck_assert_int_eq(a.kind, MP_ARMS_PROP);
    ck_assert_rel(a.v[0], 5, 0);
    ck_assert_rel(a.v[1], 50, 0);
    ck_assert(isnan(a.v[2]));
    mp_arms_free(&a);
    mp_table_free(t); remove(p); free(p);
    /* none */
    t = load("yi,vi\n0.1,0.2\n", &p);
    ck_assert_int_eq(mp_effects_arms(t, NULL, &a, &err), MP_OK);
    ck_assert_int_eq(a.kind, MP_ARMS_NONE);
    ck_assert_ptr_null(a.v);
    mp_table_free(t); remove(p); free(p);
    /* a cell that is not a number: MP_EPARSE at line 3, column of xi */
    t = load("yi,vi,xi,ni\n0.1,0.2,5,50\n0.2,0.1,many,40\n", &p);
    ck_assert_int_eq(mp_effects_arms(t, NULL, &a, &err), MP_EPARSE);
    ck_assert_uint_eq(err.line, 3);
    ck_assert_uint_eq(err.col, 9);
    ck_assert_ptr_null(a.v);
    mp_table_free(t); remove(p); free(p);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("render");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_format);
    tcase_add_test(tc, test_svg_passthrough);
    tcase_add_test(tc, test_png_pdf);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_arms_counts);
    tcase_add_test(tc, test_arms_kinds);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf == 0 ? 0 : 1;
}
