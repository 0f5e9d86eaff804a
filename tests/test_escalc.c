/* tests/test_escalc.c - effect sizes: metafor reference values, closed forms, zero cells.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Sources of the expected values:
 * - tests/reference/expected_escalc.csv: metafor 3.8-1 escalc() output for
 *   the BCG (OR, RR, RD) and Normand 1999 (MD, SMD, g + n) data sets, read
 *   through our own loader; tolerance 1e-10 relative (the file has 15
 *   significant digits).
 * - Hedges' c(m) = Gamma(m/2) / (sqrt(m/2) Gamma((m-1)/2)) at small m, with
 *   the Gamma values at integers and half-integers written out exactly
 *   (Gamma(1/2) = sqrt(pi), Gamma(n + 1/2) = (2n-1)!! sqrt(pi) / 2^n).
 * - The SMD variance conventions, MD, ROM, the 2x2 measures and the CI
 *   input: the formulas of include/metapool/escalc.h (metafor's escalc,
 *   RevMan 5, Borenstein et al. 2009) evaluated by hand in the test, with
 *   the Gamma values above -- not through the library's own helpers. */
#include "testutil.h"

#include <metapool/metapool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double PI = 3.14159265358979323846;

static const char *data(const char *rel)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/tests/data/%s", MP_SOURCE_DIR, rel);
    return buf;
}

/* Load a table from text or fail the test. */
static mp_table *load_mem(const char *txt)
{
    mp_table *t = NULL;
    mp_error err;
    mp_status s = mp_table_read_mem("mem.csv", txt, strlen(txt), &t, &err);
    ck_assert_msg(s == MP_OK, "%s: %s", mp_strerror(s), err.msg);
    return t;
}

static mp_status compute(const mp_table *t, const char *measure, mp_smd_vtype vt, mp_effects *e,
                         mp_error *err)
{
    mp_es_opts o;
    mp_es_opts_init(&o);
    if (measure) {
        ck_assert_int_eq(mp_measure_parse(measure, &o.measure), MP_OK);
        o.measure_given = 1;
    }
    o.vtype = vt;
    return mp_effects_compute(t, &o, e, err);
}

/* As compute() with drop00 set. */
static mp_status compute00(const mp_table *t, const char *measure, int drop00, mp_effects *e,
                           mp_error *err)
{
    mp_es_opts o;
    mp_es_opts_init(&o);
    ck_assert_int_eq(mp_measure_parse(measure, &o.measure), MP_OK);
    o.measure_given = 1;
    o.drop00 = drop00;
    return mp_effects_compute(t, &o, e, err);
}

/* ---- metafor reference ---- */

static double cell_num(const mp_table *t, size_t i, const char *col)
{
    long j = mp_table_col(t, col);
    ck_assert_msg(j >= 0, "no column %s", col);
    double x;
    mp_error err;
    ck_assert_msg(mp_table_number(t, i, (size_t)j, &x, &err) == MP_OK, "%s", err.msg);
    return x;
}

static const char *cell_str(const mp_table *t, size_t i, const char *col)
{
    long j = mp_table_col(t, col);
    ck_assert_msg(j >= 0, "no column %s", col);
    return mp_table_cell(t, i, (size_t)j);
}

START_TEST(test_reference_library)
{
    mp_table *ref = NULL;
    mp_error err;
    ck_assert_int_eq(mp_table_read(tu_ref("expected_escalc.csv"), &ref, &err), MP_OK);
    size_t n = mp_table_nrows(ref), checked = 0;
    ck_assert_uint_ge(n, 60);
    for (size_t i = 0; i < n; i++) {
        mp_table *t = NULL;
        ck_assert_int_eq(mp_table_read(tu_ref(cell_str(ref, i, "csv")), &t, &err), MP_OK);
        mp_effects e;
        mp_status s = compute(t, cell_str(ref, i, "measure"), MP_SMD_VAR_LS, &e, &err);
        ck_assert_msg(s == MP_OK, "%s: %s", cell_str(ref, i, "dataset"), err.msg);
        size_t row = (size_t)cell_num(ref, i, "row");
        ck_assert_uint_le(row, e.n);
        ck_assert(e.used[row - 1]);
        ck_assert_rel(e.yi[row - 1], cell_num(ref, i, "yi"), 1e-10);
        ck_assert_rel(e.vi[row - 1], cell_num(ref, i, "vi"), 1e-10);
        checked++;
        mp_effects_free(&e);
        mp_table_free(t);
    }
    ck_assert_uint_eq(checked, n);
    mp_table_free(ref);
}
END_TEST

/* The same through `metapool escalc`, its CSV output read back by our loader. */
START_TEST(test_reference_cli)
{
    mp_table *ref = NULL;
    mp_error err;
    ck_assert_int_eq(mp_table_read(tu_ref("expected_escalc.csv"), &ref, &err), MP_OK);
    size_t n = mp_table_nrows(ref);
    for (size_t i = 0; i < n; i++) {
        char cmd[8192], *out = NULL, *errtxt = NULL;
        snprintf(cmd, sizeof cmd, "'%s' escalc --measure %s '%s'", MP_METAPOOL_BIN,
                 cell_str(ref, i, "measure"), tu_ref(cell_str(ref, i, "csv")));
        ck_assert_int_eq(tu_run(cmd, &out, &errtxt), 0);
        ck_assert_str_eq(errtxt, "");
        mp_table *t = load_mem(out);
        size_t row = (size_t)cell_num(ref, i, "row");
        ck_assert_rel(cell_num(t, row - 1, "yi"), cell_num(ref, i, "yi"), 1e-10);
        ck_assert_rel(cell_num(t, row - 1, "vi"), cell_num(ref, i, "vi"), 1e-10);
        mp_table_free(t);
        free(out);
        free(errtxt);
    }
    mp_table_free(ref);
}
END_TEST

/* ---- Hedges' c(m), closed forms ---- */

START_TEST(test_hedges_c)
{
    const double sp = sqrt(PI);
    /* m = 2: Gamma(1) / (1 * Gamma(1/2)) = 1/sqrt(pi) */
    ck_assert_rel(mp_hedges_c(2), 1.0 / sp, 1e-14);
    /* m = 3: Gamma(3/2) / (sqrt(3/2) Gamma(1)) = (sqrt(pi)/2) / sqrt(1.5) */
    ck_assert_rel(mp_hedges_c(3), sp / 2.0 / sqrt(1.5), 1e-14);
    /* m = 4: Gamma(2) / (sqrt(2) Gamma(3/2)) = 1 / (sqrt(2) sqrt(pi)/2) = sqrt(2/pi) */
    ck_assert_rel(mp_hedges_c(4), sqrt(2.0 / PI), 1e-14);
    /* m = 5: Gamma(5/2) / (sqrt(5/2) Gamma(2)) = (3/4) sqrt(pi) / sqrt(2.5) */
    ck_assert_rel(mp_hedges_c(5), 0.75 * sp / sqrt(2.5), 1e-14);
    /* m = 10: Gamma(5) / (sqrt(5) Gamma(9/2)), Gamma(9/2) = 105/16 sqrt(pi) */
    ck_assert_rel(mp_hedges_c(10), 24.0 / (sqrt(5.0) * 105.0 / 16.0 * sp), 1e-14);
    /* m = 20: Gamma(10) = 362880, Gamma(19/2) = 17!!/2^9 sqrt(pi) = 34459425/512 sqrt(pi) */
    ck_assert_rel(mp_hedges_c(20), 362880.0 * 512.0 / (34459425.0 * sqrt(10.0 * PI)), 1e-14);
    /* Large m, beyond where Gamma(m/2) overflows (m/2 > 171): the exact
     * recurrence c(m+2) = c(m) * m/(m-1) * sqrt(m/(m+2)) (from Gamma(x+1) =
     * x Gamma(x)) carried from c(2) = 1/sqrt(pi).  Tolerance 1e-12: the
     * library takes exp of a difference of lgamma values near 1e3, whose
     * rounding is ~1e-13 relative, and the recurrence adds ~400 roundings. */
    double c = 1.0 / sp;
    for (int m = 2; m < 800; m += 2) c *= (double)m / (m - 1.0) * sqrt((double)m / (m + 2.0));
    ck_assert_rel(mp_hedges_c(800), c, 1e-12);
    /* the usual approximation 1 - 3/(4m - 1) has error O(m^-2) */
    ck_assert_rel(mp_hedges_c(1000), 1.0 - 3.0 / 3999.0, 1e-6);
    /* no correction at m <= 1 (metafor: NA) */
    ck_assert(isnan(mp_hedges_c(1)));
    ck_assert(isnan(mp_hedges_c(0.5)));
    ck_assert(isnan(mp_hedges_c(-3)));
}
END_TEST

/* ---- SMD variance conventions, by hand ---- */

START_TEST(test_smd_vtypes)
{
    /* n1 = 10, n2 = 12, m = 20, g = 0.5; c(20) exact as above */
    const double n1 = 10, n2 = 12, g = 0.5, m = 20, N = 22;
    const double c = 362880.0 * 512.0 / (34459425.0 * sqrt(10.0 * PI));
    const double base = 1.0 / 10 + 1.0 / 12;
    const double want[MP_SMD_VAR_COUNT] = {
        /* LS (metafor default): 1/n1 + 1/n2 + g^2/(2N) */
        base + g * g / (2 * N),
        /* UB (metafor "UB"): 1/n1 + 1/n2 + (1 - (m-2)/(m c^2)) g^2 */
        base + (1 - (m - 2) / (m * c * c)) * g * g,
        /* RevMan 5: 1/n1 + 1/n2 + g^2/(2(N - 3.94)) */
        base + g * g / (2 * (N - 3.94)),
        /* CMA (Borenstein et al. 2009 ch. 4, V_g = J^2 V_d): c^2 (1/n1 + 1/n2 + d^2/(2N)), d = g/c */
        c * c * (base + (g / c) * (g / c) / (2 * N)),
    };
    for (int v = 0; v < MP_SMD_VAR_COUNT; v++) {
        double vi = -1;
        ck_assert_int_eq(mp_es_smd_var(g, n1, n2, (mp_smd_vtype)v, &vi), MP_OK);
        ck_assert_msg(rel_close(vi, want[v], 1e-14), "%s: %.17g, expected %.17g",
                      mp_smd_vtype_name((mp_smd_vtype)v), vi, want[v]);
    }
    /* From means: m1 = 5, sd1 = 2, m2 = 4, sd2 = 3: sp^2 = (9*4 + 11*9)/20 = 6.75,
     * g = c (5 - 4) / sqrt(6.75) */
    const double gm = c / sqrt(6.75);
    for (int v = 0; v < MP_SMD_VAR_COUNT; v++) {
        double yi = 0, vi = 0, vw = 0;
        ck_assert_int_eq(mp_es_smd(5, 2, n1, 4, 3, n2, (mp_smd_vtype)v, &yi, &vi), MP_OK);
        ck_assert_rel(yi, gm, 1e-14);
        ck_assert_int_eq(mp_es_smd_var(gm, n1, n2, (mp_smd_vtype)v, &vw), MP_OK);
        ck_assert_rel(vi, vw, 1e-14);
    }
    /* the table level: the same numbers through mp_effects_compute, vtype UB */
    mp_table *t = load_mem("m1i,sd1i,n1i,m2i,sd2i,n2i\n5,2,10,4,3,12\n");
    mp_effects e;
    mp_error err;
    ck_assert_int_eq(compute(t, "SMD", MP_SMD_VAR_UB, &e, &err), MP_OK);
    ck_assert_rel(e.yi[0], gm, 1e-14);
    ck_assert_rel(e.vi[0], base + (1 - (m - 2) / (m * c * c)) * gm * gm, 1e-14);
    ck_assert_int_eq(e.vtype, MP_SMD_VAR_UB);
    mp_effects_free(&e);
    mp_table_free(t);
    /* domain */
    double vi;
    ck_assert_int_eq(mp_es_smd_var(g, 0, n2, MP_SMD_VAR_LS, &vi), MP_EDOM);
    ck_assert_int_eq(mp_es_smd_var(NAN, n1, n2, MP_SMD_VAR_LS, &vi), MP_EDOM);
    ck_assert_int_eq(mp_es_smd_var(g, 2, 2, MP_SMD_VAR_UB, &vi), MP_EDOM);     /* m = 2 */
    ck_assert_int_eq(mp_es_smd_var(g, 1.5, 2, MP_SMD_VAR_REVMAN, &vi), MP_EDOM); /* N < 3.94 */
    ck_assert_int_eq(mp_es_smd_var(g, 1.5, 1.5, MP_SMD_VAR_CMA, &vi), MP_EDOM);  /* m = 1 */
    ck_assert_int_eq(mp_es_smd_var(g, n1, n2, MP_SMD_VAR_COUNT, &vi), MP_EINVAL);
    double yi;
    ck_assert_int_eq(mp_es_smd(1, 1, 1, 2, 1, 2, MP_SMD_VAR_LS, &yi, &vi), MP_EDOM); /* m = 1 */
    /* an SD of 0 in one arm: the pooled SD is the other arm's share,
     * sp = sqrt((5-1) 1^2 / 8) (metafor keeps such rows; issue 11 item 8) */
    ck_assert_int_eq(mp_es_smd(1, 0, 5, 2, 1, 5, MP_SMD_VAR_LS, &yi, &vi), MP_OK);
    ck_assert_rel(yi, mp_hedges_c(8) * (1.0 - 2.0) / sqrt(0.5), 1e-15);
    ck_assert_rel(vi, 0.4 + yi * yi / 20.0, 1e-15);
    ck_assert_int_eq(mp_es_smd(1, 0, 5, 2, 0, 5, MP_SMD_VAR_LS, &yi, &vi), MP_EDOM); /* sp = 0 */
    ck_assert_int_eq(mp_es_smd(1, -1, 5, 2, 1, 5, MP_SMD_VAR_LS, &yi, &vi), MP_EDOM);
    ck_assert_int_eq(mp_es_smd(1, 1, 5, 2, 1, -5, MP_SMD_VAR_LS, &yi, &vi), MP_EDOM);
}
END_TEST

START_TEST(test_md_rom)
{
    double yi, vi;
    /* MD: m1 - m2, sd1^2/n1 + sd2^2/n2 */
    ck_assert_int_eq(mp_es_md(5, 2, 10, 4, 3, 12, &yi, &vi), MP_OK);
    ck_assert_rel(yi, 1.0, 1e-15);
    ck_assert_rel(vi, 4.0 / 10 + 9.0 / 12, 1e-15);
    /* ROM: log(m1/m2), sd1^2/(n1 m1^2) + sd2^2/(n2 m2^2) */
    ck_assert_int_eq(mp_es_rom(5, 2, 10, 4, 3, 12, &yi, &vi), MP_OK);
    ck_assert_rel(yi, log(1.25), 1e-15);
    ck_assert_rel(vi, 4.0 / (10 * 25.0) + 9.0 / (12 * 16.0), 1e-15);
    ck_assert_int_eq(mp_es_rom(-5, 2, 10, 4, 3, 12, &yi, &vi), MP_EDOM);
    ck_assert_int_eq(mp_es_md(5, -2, 10, 4, 3, 12, &yi, &vi), MP_EDOM);
    ck_assert_int_eq(mp_es_md(5, 2, 10, 4, 3, 0, &yi, &vi), MP_EDOM);
    /* one SD 0: vi from the other arm; both 0: vi = 0 is refused */
    ck_assert_int_eq(mp_es_md(5, 0, 10, 4, 3, 12, &yi, &vi), MP_OK);
    ck_assert_rel(vi, 9.0 / 12.0, 1e-15);
    ck_assert_int_eq(mp_es_md(5, 0, 10, 4, 0, 12, &yi, &vi), MP_EDOM);
    ck_assert_int_eq(mp_es_rom(5, 2, 10, 4, 0, 12, &yi, &vi), MP_OK);
    ck_assert_rel(vi, 4.0 / (10.0 * 25.0), 1e-15);
    ck_assert_int_eq(mp_es_rom(5, 0, 10, 4, 0, 12, &yi, &vi), MP_EDOM);
    /* ROM with a non-positive mean in a table names the cell */
    mp_table *t = load_mem("m1i,sd1i,n1i,m2i,sd2i,n2i\n5,2,10,0,3,12\n");
    mp_effects e;
    mp_error err;
    ck_assert_int_eq(compute(t, "ROM", MP_SMD_VAR_LS, &e, &err), MP_EPARSE);
    ck_assert_uint_eq(err.line, 2);
    ck_assert_uint_eq(err.col, 8); /* 5,2,10,0: byte 8 */
    ck_assert(strstr(err.msg, "column 'm2i': ROM needs positive means") != NULL);
    mp_table_free(t);
}
END_TEST

/* ---- 2x2 tables: zero cells, drop00, n1i/n2i instead of bi/di ---- */

START_TEST(test_zero_cells)
{
    mp_table *t = NULL;
    mp_error err;
    ck_assert_int_eq(mp_table_read(data("good/zero_cells.csv"), &t, &err), MP_OK);
    /* rows: none (0,10,0,12), allev (10,0,12,0), onezero (0,10,3,7), full (4,6,3,7).
     * onezero gets 1/2 in every cell: a=.5 b=10.5 c=3.5 d=7.5, n1 = n2 = 11. */
    const double a = .5, b = 10.5, c = 3.5, d = 7.5;
    mp_effects e;
    /* Default (metafor's escalc()/rma(), drop00 = FALSE): rows 1 and 2 are
     * kept with 1/2 added to every cell, with a note each.  none: a = c = .5,
     * b = 10.5, d = 12.5; allev: a = 10.5, b = .5, c = 12.5, d = .5. */
    ck_assert_int_eq(compute(t, "OR", MP_SMD_VAR_LS, &e, &err), MP_OK);
    ck_assert_uint_eq(e.k, 4);
    ck_assert_uint_eq(e.warnings.n, 2);
    ck_assert_str_eq(e.warnings.v[0], "row 1 (line 2): no events in both arms: kept with 1/2 added to every cell");
    ck_assert_rel(e.yi[0], log(.5 / 10.5) - log(.5 / 12.5), 1e-14);
    ck_assert_rel(e.vi[0], 1 / .5 + 1 / 10.5 + 1 / .5 + 1 / 12.5, 1e-14);
    ck_assert_rel(e.yi[1], log(10.5 / .5) - log(12.5 / .5), 1e-14);
    ck_assert(e.zero00 && e.zero00[0] && e.zero00[1] && !e.zero00[2] && !e.zero00[3]);
    ck_assert(e.cells && e.cells[0] == 0 && e.cells[1] == 10 && e.cells[2] == 0 && e.cells[3] == 12);
    mp_effects_free(&e);
    /* drop00 = yes: rows 1 and 2 left out with a warning */
    ck_assert_int_eq(compute00(t, "OR", 1, &e, &err), MP_OK);
    ck_assert_uint_eq(e.k, 2);
    ck_assert(!e.used[0] && !e.used[1] && e.used[2] && e.used[3]);
    ck_assert_uint_eq(e.warnings.n, 2);
    ck_assert_str_eq(e.warnings.v[0], "row 1 (line 2) left out: no events in both arms (OR not estimable)");
    ck_assert_str_eq(e.warnings.v[1],
                     "row 2 (line 3) left out: no non-events in both arms (OR not estimable)");
    ck_assert_rel(e.yi[2], log(a / b) - log(c / d), 1e-14);
    ck_assert_rel(e.vi[2], 1 / a + 1 / b + 1 / c + 1 / d, 1e-14);
    ck_assert_rel(e.yi[3], log(4.0 / 6) - log(3.0 / 7), 1e-14); /* no zero: no 1/2 */
    ck_assert_rel(e.vi[3], 1 / 4.0 + 1 / 6.0 + 1 / 3.0 + 1 / 7.0, 1e-14);
    mp_effects_free(&e);
    /* RR: same rows left out */
    ck_assert_int_eq(compute00(t, "RR", 1, &e, &err), MP_OK);
    ck_assert_uint_eq(e.k, 2);
    ck_assert_uint_eq(e.warnings.n, 2);
    ck_assert(strstr(e.warnings.v[0], "row 1 (line 2) left out: no events in both arms") != NULL);
    ck_assert_rel(e.yi[2], log(a / 11) - log(c / 11), 1e-14);
    ck_assert_rel(e.vi[2], 1 / a - 1 / 11.0 + 1 / c - 1 / 11.0, 1e-14);
    ck_assert_rel(e.yi[3], log(4.0 / 10) - log(3.0 / 10), 1e-14);
    mp_effects_free(&e);
    /* RD: nothing left out; zeros get 1/2 (metafor adjusts RD too) */
    ck_assert_int_eq(compute(t, "RD", MP_SMD_VAR_LS, &e, &err), MP_OK);
    ck_assert_uint_eq(e.k, 4);
    ck_assert_uint_eq(e.warnings.n, 0);
    double p1 = .5 / 11, p2 = .5 / 13; /* none: .5, 10.5 | .5, 12.5 */
    ck_assert_rel(e.yi[0], p1 - p2, 1e-14);
    ck_assert_rel(e.vi[0], p1 * (1 - p1) / 11 + p2 * (1 - p2) / 13, 1e-14);
    p1 = 10.5 / 11, p2 = 12.5 / 13; /* allev */
    ck_assert_rel(e.yi[1], p1 - p2, 1e-14);
    ck_assert_rel(e.vi[1], p1 * (1 - p1) / 11 + p2 * (1 - p2) / 13, 1e-14);
    p1 = a / 11, p2 = c / 11;
    ck_assert_rel(e.yi[2], p1 - p2, 1e-14);
    ck_assert_rel(e.vi[2], p1 * (1 - p1) / 11 + p2 * (1 - p2) / 11, 1e-14);
    p1 = 0.4, p2 = 0.3;
    ck_assert_rel(e.yi[3], p1 - p2, 1e-14);
    ck_assert_rel(e.vi[3], p1 * (1 - p1) / 10 + p2 * (1 - p2) / 10, 1e-14);
    mp_effects_free(&e);
    mp_table_free(t);

    /* single-table API */
    double yi, vi;
    ck_assert_int_eq(mp_es_2x2(MP_MEASURE_OR, 0, 5, 0, 5, &yi, &vi), MP_EDOM);
    ck_assert_int_eq(mp_es_2x2(MP_MEASURE_RR, 5, 0, 5, 0, &yi, &vi), MP_EDOM);
    ck_assert_int_eq(mp_es_2x2(MP_MEASURE_RD, 0, 5, 0, 5, &yi, &vi), MP_OK);
    ck_assert_int_eq(mp_es_2x2(MP_MEASURE_OR, -1, 5, 1, 5, &yi, &vi), MP_EDOM);
    ck_assert_int_eq(mp_es_2x2(MP_MEASURE_OR, 0, 0, 1, 5, &yi, &vi), MP_EDOM); /* empty arm */
    ck_assert_int_eq(mp_es_2x2(MP_MEASURE_SMD, 1, 5, 1, 5, &yi, &vi), MP_EINVAL);
}
END_TEST

START_TEST(test_counts_with_sizes)
{
    /* BCG row 1 (Aronson 1948): ai 4, bi 119, ci 11, di 128, given as
     * n1i = 123, n2i = 139: metafor's OR and RR of expected_escalc.csv */
    mp_table *t = load_mem("study,ai,n1i,ci,n2i\nAronson,4,123,11,139\n");
    mp_effects e;
    mp_error err;
    ck_assert_int_eq(compute(t, "OR", MP_SMD_VAR_LS, &e, &err), MP_OK);
    ck_assert_rel(e.yi[0], -0.938694140870392, 1e-10);
    ck_assert_rel(e.vi[0], 0.357124952253629, 1e-10);
    mp_effects_free(&e);
    mp_table_free(t);
    /* ci > n2i */
    t = load_mem("ai,n1i,ci,n2i\n4,123,140,139\n");
    ck_assert_int_eq(compute(t, "RR", MP_SMD_VAR_LS, &e, &err), MP_EPARSE);
    ck_assert(strstr(err.msg, "column 'ci': events exceed the group size n2i") != NULL);
    ck_assert_uint_eq(err.col, 7); /* 4,123,140: byte 7 */
    mp_table_free(t);
    /* an arm with no one in it */
    t = load_mem("ai,n1i,ci,n2i\n0,0,1,10\n");
    ck_assert_int_eq(compute(t, "RD", MP_SMD_VAR_LS, &e, &err), MP_EPARSE);
    ck_assert(strstr(err.msg, "treatment arm is empty") != NULL);
    mp_table_free(t);
}
END_TEST

/* ---- the other input forms ---- */

START_TEST(test_given_forms)
{
    mp_effects e;
    mp_error err;
    /* yi + sei: vi = sei^2 */
    mp_table *t = load_mem("yi,sei\n0.5,0.25\n");
    ck_assert_int_eq(compute(t, NULL, MP_SMD_VAR_LS, &e, &err), MP_OK);
    ck_assert_int_eq(e.source, MP_SRC_YI_SEI);
    ck_assert_rel(e.vi[0], 0.0625, 1e-15);
    mp_effects_free(&e);
    mp_table_free(t);
    /* yi + CI at 95%: se = (ub - lb) / (2 qnorm(0.975)), qnorm(0.975) =
     * 1.959963984540054 (R); the CI below was built with se = 0.2 */
    char buf[200];
    const double z95 = 1.959963984540054, z90 = 1.6448536269514722;
    snprintf(buf, sizeof buf, "yi,ci_lb,ci_ub\n0.1,%.17g,%.17g\n", 0.1 - z95 * 0.2, 0.1 + z95 * 0.2);
    t = load_mem(buf);
    ck_assert_int_eq(compute(t, NULL, MP_SMD_VAR_LS, &e, &err), MP_OK);
    ck_assert_int_eq(e.source, MP_SRC_YI_CI);
    ck_assert_rel(e.vi[0], 0.04, 1e-14);
    mp_effects_free(&e);
    mp_table_free(t);
    /* level 90 */
    snprintf(buf, sizeof buf, "yi,ci_lb,ci_ub\n0.1,%.17g,%.17g\n", 0.1 - z90 * 0.3, 0.1 + z90 * 0.3);
    t = load_mem(buf);
    mp_es_opts o;
    mp_es_opts_init(&o);
    o.level = 90;
    ck_assert_int_eq(mp_effects_compute(t, &o, &e, &err), MP_OK);
    ck_assert_rel(e.vi[0], 0.09, 1e-14);
    mp_effects_free(&e);
    o.level = 100;
    ck_assert_int_eq(mp_effects_compute(t, &o, &e, &err), MP_EINVAL);
    ck_assert(strstr(err.msg, "confidence level") != NULL);
    mp_table_free(t);
    /* yi + n1i + n2i: Hedges' g with the LS variance of the interface */
    t = load_mem("yi,n1i,n2i\n-0.3552,155,156\n");
    ck_assert_int_eq(compute(t, NULL, MP_SMD_VAR_LS, &e, &err), MP_OK);
    ck_assert_int_eq(e.source, MP_SRC_YI_N);
    ck_assert_int_eq(e.measure, MP_MEASURE_SMD);
    ck_assert_rel(e.vi[0], 1.0 / 155 + 1.0 / 156 + 0.3552 * 0.3552 / (2.0 * 311), 1e-14);
    mp_effects_free(&e);
    /* ... but not as MD */
    ck_assert_int_eq(compute(t, "MD", MP_SMD_VAR_LS, &e, &err), MP_EINVAL);
    ck_assert(strstr(err.msg, "yi needs the column vi") != NULL);
    mp_table_free(t);
    /* yi + vi keep yi as given, labelled with the measure asked for */
    t = load_mem("yi,vi,ai,bi,ci,di\n0.5,0.1,1,2,3,4\n");
    ck_assert_int_eq(compute(t, "OR", MP_SMD_VAR_LS, &e, &err), MP_OK);
    ck_assert_int_eq(e.source, MP_SRC_YI_VI);
    ck_assert_int_eq(e.measure, MP_MEASURE_OR);
    ck_assert(e.yi[0] == 0.5 && e.vi[0] == 0.1);
    mp_effects_free(&e);
    mp_table_free(t);
    /* NA in a count: row left out */
    t = load_mem("ai,bi,ci,di\n1,2,NA,4\n1,2,3,4\n");
    ck_assert_int_eq(compute(t, "OR", MP_SMD_VAR_LS, &e, &err), MP_OK);
    ck_assert_uint_eq(e.k, 1);
    ck_assert_str_eq(e.warnings.v[0], "row 1 (line 2) left out: missing value (NA) in column 'ci'");
    mp_effects_free(&e);
    mp_table_free(t);
    /* default options (NULL) */
    t = load_mem("yi,vi\n1,2\n");
    ck_assert_int_eq(mp_effects_compute(t, NULL, &e, &err), MP_OK);
    ck_assert_int_eq(e.measure, MP_MEASURE_GEN);
    mp_effects_free(&e);
    mp_table_free(t);
}
END_TEST

START_TEST(test_names)
{
    static const char *const names[] = {"GEN", "SMD", "MD",  "ROM",  "OR",   "RR",   "RD",
                                        "PETO", "PR", "PLN", "PLO", "PAS", "PFT", "COR",
                                        "ZCOR", "IR", "IRLN", "IRS", "IRFT", "IRR", "IRD",
                                        "MC", "SMCC", "SMCR", "HR"};
    ck_assert_uint_eq(sizeof names / sizeof names[0], MP_MEASURE_COUNT);
    for (int m = 0; m < MP_MEASURE_COUNT; m++) {
        mp_measure got;
        ck_assert_str_eq(mp_measure_name((mp_measure)m), names[m]);
        ck_assert_int_eq(mp_measure_parse(names[m], &got), MP_OK);
        ck_assert_int_eq(got, m);
    }
    mp_measure got;
    ck_assert_int_eq(mp_measure_parse("or", &got), MP_EINVAL);
    ck_assert_int_eq(mp_measure_parse("", &got), MP_EINVAL);
    ck_assert_int_eq(mp_measure_parse(NULL, &got), MP_EINVAL);
    ck_assert_str_eq(mp_measure_name(MP_MEASURE_COUNT), "?");
    ck_assert(mp_measure_is_log(MP_MEASURE_OR) && mp_measure_is_log(MP_MEASURE_RR) &&
              mp_measure_is_log(MP_MEASURE_ROM));
    ck_assert(!mp_measure_is_log(MP_MEASURE_RD) && !mp_measure_is_log(MP_MEASURE_SMD) &&
              !mp_measure_is_log(MP_MEASURE_MD) && !mp_measure_is_log(MP_MEASURE_GEN));
    mp_smd_vtype v;
    ck_assert_int_eq(mp_smd_vtype_parse("revman", &v), MP_OK);
    ck_assert_int_eq(v, MP_SMD_VAR_REVMAN);
    ck_assert_int_eq(mp_smd_vtype_parse("cma", &v), MP_OK);
    ck_assert_int_eq(v, MP_SMD_VAR_CMA);
    ck_assert_int_eq(mp_smd_vtype_parse("AV", &v), MP_EINVAL);
    ck_assert_str_eq(mp_smd_vtype_name(MP_SMD_VAR_UB), "UB");
    ck_assert_str_eq(mp_smd_vtype_name(MP_SMD_VAR_COUNT), "?");
}
END_TEST

/* drop00: by default (issue 11 item 4) OR/RR tables without events (or
 * non-events) in both arms are kept with 1/2 added, as metafor's escalc()
 * and rma() do; with drop00 = 1 they are left out with a warning.  Expected values:
 * R metafor 3.8-1, escalc("OR"/"RR", ai, bi, ci, di) on these five tables. */
START_TEST(test_drop00)
{
    static const char text[] = "study,ai,bi,ci,di\nA,0,10,0,12\nB,3,7,6,8\nC,5,15,4,16\n"
                               "D,2,20,5,18\nE,4,0,6,0\n";
    static const double want[2][5][2] = {
        {{0.17435338714477755, 4.175238095238095}, {-0.55961578793542266, 0.76785714285714279},
         {0.28768207245178079, 0.57916666666666661}, {-1.021651247531981, 0.80555555555555558},
         {-0.36772478012531762, 4.3760683760683765}},
        {{0.16705408466316651, 3.8321678321678321}, {-0.35667494393873245, 0.32857142857142851},
         {0.22314355131420971, 0.35000000000000003}, {-0.87183896930332128, 0.61106719367588935},
         {-0.031252543504104432, 0.033211233211233204}}};
    mp_table *t = NULL;
    mp_error err;
    ck_assert_int_eq(mp_table_read_mem("zero.csv", text, sizeof text - 1, &t, &err), MP_OK);
    for (int m = 0; m < 2; m++) {
        for (int drop = 0; drop < 2; drop++) {
            mp_es_opts o;
            mp_es_opts_init(&o);
            ck_assert_int_eq(o.drop00, 0); /* the default: metafor's rma() (issue 11 item 4) */
            o.measure = m ? MP_MEASURE_RR : MP_MEASURE_OR;
            o.measure_given = 1;
            o.drop00 = drop;
            mp_effects e;
            ck_assert_int_eq(mp_effects_compute(t, &o, &e, &err), MP_OK);
            ck_assert_uint_eq(e.k, drop ? 3 : 5);
            ck_assert_uint_eq(e.warnings.n, 2); /* rows 1 and 5, either way */
            ck_assert(strstr(e.warnings.v[0], "row 1 (line 2)") != NULL);
            ck_assert(strstr(e.warnings.v[1], "row 5 (line 6)") != NULL);
            for (int i = 0; i < 5; i++) {
                if (drop && (i == 0 || i == 4)) {
                    ck_assert(!e.used[i] && isnan(e.yi[i]));
                    continue;
                }
                ck_assert_rel(e.yi[i], want[m][i][0], 1e-13);
                ck_assert_rel(e.vi[i], want[m][i][1], 1e-13);
            }
            mp_effects_free(&e);
        }
    }
    mp_table_free(t);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("escalc");
    TCase *tc = tcase_create("reference");
    tcase_add_test(tc, test_reference_library);
    tcase_add_test(tc, test_reference_cli);
    suite_add_tcase(s, tc);
    tc = tcase_create("closed_forms");
    tcase_add_test(tc, test_hedges_c);
    tcase_add_test(tc, test_smd_vtypes);
    tcase_add_test(tc, test_md_rom);
    tcase_add_test(tc, test_zero_cells);
    tcase_add_test(tc, test_drop00);
    tcase_add_test(tc, test_counts_with_sizes);
    tcase_add_test(tc, test_given_forms);
    tcase_add_test(tc, test_names);
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
