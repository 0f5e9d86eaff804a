/* src/effects/effects.c - effect sizes of a whole loaded table (mp_effects_compute).
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The effects stage.  It owns the way from table cells to (yi, vi):
 *   escalc.c   - per-study formulas (metafor's escalc() definitions); calls nothing
 *                else in this folder;
 *   es_plan.c  - which columns a data set's effect sizes come from and one row's
 *                (yi, vi) through those formulas; shared with the batch reader
 *                (src/io/batch.c);
 *   effects.c  - this file: every row of a loaded table through the plan, with
 *                rows left out on purpose reported by row.
 * The calls go one way: effects.c -> es_plan.c -> escalc.c. */
#include "metapool/escalc.h"
#include "internal.h"
#include "es_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void mp_effects_free(mp_effects *e)
{
    if (!e) return;
    free(e->yi);
    free(e->vi);
    free(e->used);
    free(e->cells);
    free(e->size);
    free(e->zero00);
    free(e->corrected);
    mp_msgs_free(&e->warnings);
    memset(e, 0, sizeof *e);
}

static long table_col(const void *t, const char *name) { return mp_table_col(t, name); }

mp_status mp_effects_check_columns(const mp_table *t, const mp_es_opts *o, mp_error *err)
{
    mp_es_opts defaults;
    if (!t) return MP_FAIL(MP_EINVAL);
    if (!o) { mp_es_opts_init(&defaults); o = &defaults; }
    mp_es_plan p;
    return mp_es_plan_make(mp_table_name(t), mp_table_header_line(t), table_col, t, o, &p, err);
}

mp_status mp_effects_compute(const mp_table *t, const mp_es_opts *o, mp_effects *out,
                             mp_error *err)
{
    mp_es_opts defaults;
    if (!o) { mp_es_opts_init(&defaults); o = &defaults; }
    memset(out, 0, sizeof *out);
    mp_es_plan p;
    mp_status st = mp_es_plan_make(mp_table_name(t), mp_table_header_line(t), table_col, t, o, &p, err);
    if (st != MP_OK) return st;

    size_t n = mp_table_nrows(t);
    out->n = n;
    out->measure = p.measure;
    out->source = p.src;
    out->vtype = o->vtype;
    size_t bytes = mp_mul_size(n, sizeof(double));
    if (!bytes) return MP_FAIL(MP_ENOMEM);
    out->yi = malloc(bytes);
    out->vi = malloc(bytes);
    out->used = malloc(n);
    out->corrected = calloc(n, 1);
    if (!out->yi || !out->vi || !out->used || !out->corrected) { mp_effects_free(out); return MP_FAIL(MP_ENOMEM); }
    /* the raw tables for Mantel-Haenszel and Peto pooling, the sizes for the
     * harmonic-mean back-transformations (PFT, IRFT) */
    if (p.src == MP_SRC_COUNTS || p.src == MP_SRC_RATES) {
        size_t b4 = mp_mul_size(bytes, 4);
        if (!b4 || !(out->cells = malloc(b4)) || !(out->zero00 = calloc(n, 1))) {
            mp_effects_free(out);
            return MP_FAIL(MP_ENOMEM);
        }
    }
    if ((p.src == MP_SRC_PROP || p.src == MP_SRC_IR) && !(out->size = malloc(bytes))) {
        mp_effects_free(out);
        return MP_FAIL(MP_ENOMEM);
    }

    mp_es_asym asym = {0};
    const int check_asym = p.src == MP_SRC_YI_CI && p.measure == MP_MEASURE_GEN;
    for (size_t i = 0; i < n; i++) {
        double x[MP_ESC_NCOL];
        int na = -1;
        out->yi[i] = out->vi[i] = NAN;
        out->used[i] = 0;
        if (out->cells) for (int c = 0; c < 4; c++) out->cells[4 * i + (size_t)c] = NAN;
        if (out->zero00) out->zero00[i] = 0;
        if (out->size) out->size[i] = NAN;
        for (const int *u = p.use; *u >= 0; u++) {
            size_t j = (size_t)p.col[*u];
            /* An explicit NA is a missing value (R's convention): the row
             * is left out and reported.  An empty cell is an error (see
             * mp_table_read() in table.h for the rule). */
            if (mp_table_is_na(t, i, j)) {
                if (*u == p.na_fatal) { /* ri of a paired measure: no analysis without it */
                    mp_table_error(t, i, j, err, "column '%s': %s", mp_es_colname[*u],
                                   MP_ES_NA_FATAL_MSG);
                    mp_effects_free(out);
                    return MP_FAIL(MP_EPARSE);
                }
                if (na < 0) na = *u;
                continue;
            }
            st = mp_table_number(t, i, j, &x[*u], err);
            if (st != MP_OK) { mp_effects_free(out); return st; }
        }
        if (na >= 0) {
            if (mp_msgs_add(&out->warnings,
                            "row %zu (line %zu) left out: missing value (NA) in column '%s'",
                            i + 1, mp_table_line(t, i), mp_es_colname[na]) != MP_OK) {
                mp_effects_free(out);
                return MP_FAIL(MP_ENOMEM);
            }
            continue;
        }
        mp_es_row r;
        int used = mp_es_plan_row(&p, x, &r);
        if (used < 0) { /* bad input: name the offending cell */
            mp_table_error(t, i, (size_t)p.col[r.bad], err, "%s", r.msg);
            mp_effects_free(out);
            return MP_FAIL(MP_EPARSE);
        }
        if (used == 0 || r.msg[0]) { /* left out, or kept with a note */
            if (mp_msgs_add(&out->warnings, "row %zu (line %zu)%s %s", i + 1, mp_table_line(t, i),
                            used ? ":" : " left out:", r.msg) != MP_OK) {
                mp_effects_free(out);
                return MP_FAIL(MP_ENOMEM);
            }
            if (used == 0) {
                if (out->zero00 && r.zero00) out->zero00[i] = 2; /* left out: not estimable */
                continue;
            }
        }
        out->yi[i] = r.yi;
        out->vi[i] = r.vi;
        out->used[i] = 1;
        out->corrected[i] = (unsigned char)r.corrected;
        out->k++;
        if (check_asym) mp_es_asym_add(&asym, x[MP_ESC_YI], x[MP_ESC_CILB], x[MP_ESC_CIUB]);
        if (out->cells) {
            for (int c = 0; c < 4; c++) out->cells[4 * i + (size_t)c] = r.cell[c];
            out->zero00[i] = (unsigned char)r.zero00;
        }
        if (out->size) out->size[i] = r.size;
    }
    if (check_asym && mp_es_asym_suggest(&asym) &&
        mp_msgs_add(&out->warnings, "%s", MP_ES_ASYM_MSG) != MP_OK) {
        mp_effects_free(out);
        return MP_FAIL(MP_ENOMEM);
    }
    return MP_OK;
}
