/* tests/fuzz/fuzz_batch.c - differential: the streaming batch reader against the whole-file loader.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The batch reader has a fast SSE2 path for plain rows and a general path
 * for the rest; both must give what mp_table_read() + mp_effects_compute()
 * give, grouped by the first column in order of first appearance: the same
 * accept/reject decision, the same line for a rejected file, the same
 * groups and, cell by cell, bit-identical yi and vi.  The first byte picks
 * the read-buffer size (so rows straddle buffer ends at many places) and
 * the measure; any difference aborts (a finding), not only a crash.
 * Sorted input is also read as shares (batch.h: an MPI run's byte ranges,
 * cut after a byte chosen from the input, or 1-4 planned shares): the
 * same groups and bit-identical rows as one reader. */
#include "fuzz_common.h"
#include "metapool/metapool.h"
#include "internal.h"

#include <math.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Read r to its end into d: the whole file at once, or (sorted) blocks of
 * at least 3 rows appended to what d holds (on an error, the block handed
 * back with it too). */
static mp_status read_into(mp_batch_reader *r, int sorted, mp_batch_data *d, mp_error *err)
{
    mp_status s = MP_OK;
    if (!sorted) {
        s = mp_batch_read_all(r, d, err);
    } else { /* blocks of at least 3 rows, concatenated */
        mp_batch_data blk = {0};
        int eof = 0;
        while (!eof && s == MP_OK) {
            s = mp_batch_read_sorted(r, 3, &blk, &eof, err);
            for (size_t a = 0; a < blk.n; a++) {
                /* append analysis a of blk to d (small inputs: simple growth) */
                size_t k = blk.off[a + 1] - blk.off[a];
                size_t n = d->n, rows = d->nrows;
                double *y = realloc(d->y, (rows + k + 1) * sizeof *y);
                if (y) d->y = y;
                double *v = realloc(d->v, (rows + k + 1) * sizeof *v);
                if (v) d->v = v;
                size_t *off = realloc(d->off, (n + 2) * sizeof *off);
                if (off) d->off = off;
                const char *nm = mp_batch_data_name(&blk, a);
                size_t nl = strlen(nm) + 1, used = 0;
                for (size_t j = 0; j < n; j++) used += strlen(mp_batch_data_name(d, j)) + 1;
                char *names = realloc(d->names, used + nl);
                if (names) d->names = names;
                size_t *no = realloc(d->name_off, (n + 1) * sizeof *no);
                if (no) d->name_off = no;
                FUZZ_CHECK(y && v && off && names && no, "out of memory");
                if (n == 0) d->off[0] = 0;
                if (k) { /* a block of groups without rows has no arrays at all */
                    memcpy(d->y + rows, blk.y + blk.off[a], k * sizeof *y);
                    memcpy(d->v + rows, blk.v + blk.off[a], k * sizeof *v);
                }
                d->name_off[n] = used;
                memcpy(d->names + used, nm, nl);
                d->off[n + 1] = rows + k;
                d->n = n + 1;
                d->nrows = rows + k;
            }
        }
        mp_batch_data_free(&blk);
    }
    return s;
}

/* sorted: 0 whole file, 1 blocks, 2 blocks with the --sorted check's filter
 * at 512 bits and a pass over the spool every `susmax` suspects (nearly
 * every group a suspect: repeats are found at once, mid-block). */
static mp_status batch_read(const char *path, const char *group, const mp_es_opts *o, size_t chunk,
                            int sorted, size_t susmax, mp_batch_data *d, mp_error *err)
{
    mp_batch_reader *r = NULL;
    mp_status s = mp_batch_reader_open(path, group, o, chunk, &r, err);
    if (s != MP_OK) return s;
    if (sorted == 2) mp_batch_reader_sorted_limits(r, 9, susmax);
    s = read_into(r, sorted, d, err);
    mp_batch_reader_free(r);
    return s;
}

/* A --sorted refusal of a file the loader accepted: the error names the
 * group cell of the first row whose group came back after another group,
 * and what was read (every block, the one handed back with the error
 * included) is a run of whole groups of the file in order, with every
 * group that started before that row.  `exact` (a pass over the spool at
 * every suspect, so the repeat is found at its own row): exactly those
 * groups, nothing read past that row shows. */
static void check_sorted_refusal(const mp_table *t, const mp_effects *e, const mp_batch_data *d,
                                 const mp_error *err, int exact)
{
    size_t nr = mp_table_nrows(t), rep = nr, prev = nr;
    for (size_t i = 0; i < nr && rep == nr; i++) {
        if (mp_table_is_missing(t, i, 0)) continue;
        const char *gv = mp_table_cell(t, i, 0);
        if (prev < nr && strcmp(gv, mp_table_cell(t, prev, 0)) == 0) { prev = i; continue; }
        for (size_t j = 0; j < i && rep == nr; j++)
            if (!mp_table_is_missing(t, j, 0) && strcmp(mp_table_cell(t, j, 0), gv) == 0) rep = i;
        prev = i;
    }
    FUZZ_CHECK(rep < nr, "sorted mode refused a sorted file: %zu:%zu %s", err->line, err->col, err->msg);
    FUZZ_CHECK(err->line == mp_table_cell_line(t, rep, 0) && err->col == mp_table_colpos(t, rep, 0),
               "repeat named at %zu:%zu, the first is at %zu:%zu", err->line, err->col,
               mp_table_cell_line(t, rep, 0), mp_table_colpos(t, rep, 0));
    /* the runs of equal group values, in file order, against d's groups */
    size_t a = 0, p = 0, runs_before = 0;
    prev = nr;
    for (size_t i = 0; i < nr; i++) {
        if (mp_table_is_missing(t, i, 0)) continue;
        const char *gv = mp_table_cell(t, i, 0);
        if (prev == nr || strcmp(gv, mp_table_cell(t, prev, 0)) != 0) { /* a run starts */
            if (i < rep) runs_before++;
            if (a > 0) FUZZ_CHECK(p == d->off[a], "group %zu of the refused read has %zu rows, the file %zu", a - 1,
                                  d->off[a] - d->off[a - 1], p - d->off[a - 1]);
            if (a == d->n) break;
            FUZZ_CHECK(strcmp(mp_batch_data_name(d, a), gv) == 0, "group %zu of the refused read is '%s', the file's '%s'",
                       a, mp_batch_data_name(d, a), gv);
            a++;
        }
        prev = i;
        if (!e->used[i]) continue;
        FUZZ_CHECK(p < d->nrows && memcmp(&d->y[p], &e->yi[i], sizeof(double)) == 0 &&
                       memcmp(&d->v[p], &e->vi[i], sizeof(double)) == 0,
                   "row %zu of the refused read differs", i + 1);
        p++;
    }
    FUZZ_CHECK(a == d->n && p == d->nrows, "the refused read has %zu groups and %zu rows past the file's", d->n, d->nrows);
    FUZZ_CHECK(d->n >= runs_before, "the refused read lacks groups before the repeat (%zu of %zu)", d->n, runs_before);
    FUZZ_CHECK(!exact || d->n == runs_before, "the refused read has %zu groups, %zu started before the repeat",
               d->n, runs_before);
}

/* The file read as shares (an MPI run's): n shares from mp_batch_plan(),
 * or (n = 0) two shares cut after byte `at` by the three passes. */
static mp_status shares_read(const char *path, const char *group, const mp_es_opts *o,
                             size_t chunk, size_t n, size_t at, mp_batch_data *d, mp_error *err)
{
    mp_batch_share sh[4];
    mp_status s;
    if (n > 0) {
        s = mp_batch_plan(path, group, n, sh, err);
    } else {
        mp_csv_stream *cs = NULL;
        mp_batch_share one;
        if ((s = mp_batch_plan(path, group, 1, &one, err)) != MP_OK) return s;
        if ((s = mp_csv_stream_open(path, 0, &cs, err)) != MP_OK) return s;
        char delim = mp_csv_stream_delim(cs);
        mp_csv_stream_free(cs);
        size_t q = 0, cut = 0, rows = 0, lines = 0;
        if (at > one.begin && (s = mp_batch_count_quotes(path, one.begin, at, &q, err)) != MP_OK) return s;
        if ((s = mp_batch_find_cut(path, group, at, (int)(q & 1), &cut, err)) != MP_OK) return s;
        FUZZ_CHECK(cut >= one.begin && cut <= one.end, "cut %zu outside [%zu, %zu]", cut, one.begin, one.end);
        if ((s = mp_batch_count_rows(path, delim, one.begin, cut, &rows, &lines, err)) != MP_OK) return s;
        sh[0] = (mp_batch_share){one.begin, cut, one.line, 0};
        sh[1] = (mp_batch_share){cut, one.end, one.line + lines, rows};
        n = 2;
    }
    for (size_t i = 0; i < n && s == MP_OK; i++) {
        mp_batch_reader *r = NULL;
        if ((s = mp_batch_reader_open_range(path, group, o, chunk, &sh[i], &r, err)) != MP_OK) break;
        s = read_into(r, 1, d, err);
        mp_batch_reader_free(r);
    }
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gsl_set_error_handler_off();
    if (size < 2) return 0;
    unsigned sel = data[0];
    data++;
    size--;
    /* the loader first: it decides the group column (the first one) */
    mp_table *t = NULL;
    mp_error e1, e2;
    mp_error_clear(&e1);
    mp_error_clear(&e2);
    mp_status s1 = mp_table_read_mem("fuzz.csv", (const char *)data, size, &t, &e1);
    mp_es_opts o;
    mp_es_opts_init(&o);
    o.measure = (sel & 1) ? MP_MEASURE_GEN : MP_MEASURE_SMD;
    o.measure_given = (sel >> 1) & 1;
    o.drop00 = (sel >> 2) & 1;
    size_t chunk = 16 + (size_t)(sel >> 3) * 7;
    const char *path = fuzz_file(data, size, ".csv");
    mp_effects e;
    memset(&e, 0, sizeof e);
    char group[256] = "";
    int loaded = s1 == MP_OK;
    if (loaded) {
        /* the batch reader names its group column: an unnamed first column
         * (R's row names) cannot be that */
        if (mp_table_ncols(t) < 1 || !mp_table_colname(t, 0)[0] ||
            strlen(mp_table_colname(t, 0)) >= sizeof group) { /* (the harness's buffer) */
            mp_table_free(t);
            return 0;
        }
        snprintf(group, sizeof group, "%s", mp_table_colname(t, 0));
        s1 = mp_effects_compute(t, &o, &e, &e1);
    }
    if (!loaded) { /* the loader rejected the file: the reader must too */
        mp_batch_data d = {0};
        mp_status s2 = batch_read(path, "g", &o, chunk, 0, 1, &d, &e2);
        mp_batch_data_free(&d);
        if (s1 == MP_OK || s1 == MP_ENOMEM || s2 == MP_ENOMEM) { mp_table_free(t); return 0; }
        FUZZ_CHECK(s2 != MP_OK, "loader rejected (%zu: %s) but the batch reader accepted", e1.line,
                   e1.msg);
        mp_table_free(t);
        return 0;
    }
    for (int sorted = 0; sorted <= 2; sorted++) {
        mp_batch_data d = {0};
        mp_error_clear(&e2);
        mp_status s2 = batch_read(path, group, &o, chunk, sorted, 1 + size % 3, &d, &e2);
        if (s1 != MP_OK || s2 != MP_OK) {
            if (sorted && s1 == MP_OK && s2 == MP_EPARSE) { /* unsorted groups: sorted mode refuses */
                check_sorted_refusal(t, &e, &d, &e2, sorted == 2 && size % 3 == 0);
                mp_batch_data_free(&d);
                continue;
            }
            FUZZ_CHECK((s1 == MP_OK) == (s2 == MP_OK),
                       "loader %d (%zu:%zu %s), batch%s %d (%zu:%zu %s)", (int)s1, e1.line, e1.col,
                       e1.msg, sorted ? " sorted" : "", (int)s2, e2.line, e2.col, e2.msg);
            if (!sorted && s1 == MP_EPARSE && s2 == MP_EPARSE)
                FUZZ_CHECK(e1.line == e2.line, "error on line %zu (loader: %s) vs %zu (batch: %s)",
                           e1.line, e1.msg, e2.line, e2.msg);
            mp_batch_data_free(&d);
            break;
        }
        if (sorted == 1) { /* the same groups and rows from shares, cut anywhere */
            for (int way = 0; way < 2; way++) {
                mp_batch_data ds = {0};
                mp_error e3;
                mp_error_clear(&e3);
                size_t at = ((size_t)sel * 2654435761u + size * 40503u) % (size + 1);
                mp_status s3 = shares_read(path, group, &o, chunk, way ? 1 + sel % 4 : 0, at, &ds, &e3);
                if (s3 == MP_ENOMEM) { mp_batch_data_free(&ds); continue; }
                FUZZ_CHECK(s3 == MP_OK, "shares (%d): %d %zu:%zu %s", way, (int)s3, e3.line, e3.col, e3.msg);
                FUZZ_CHECK(ds.n == d.n && ds.nrows == d.nrows, "shares (%d): %zu groups %zu rows, whole %zu %zu",
                           way, ds.n, ds.nrows, d.n, d.nrows);
                for (size_t a = 0; a < d.n; a++)
                    FUZZ_CHECK(strcmp(mp_batch_data_name(&ds, a), mp_batch_data_name(&d, a)) == 0 &&
                                   ds.off[a + 1] == d.off[a + 1],
                               "shares (%d): group %zu differs", way, a);
                FUZZ_CHECK(d.nrows == 0 || (memcmp(ds.y, d.y, d.nrows * sizeof *d.y) == 0 &&
                                            memcmp(ds.v, d.v, d.nrows * sizeof *d.v) == 0),
                           "shares (%d): effects differ", way);
                mp_batch_data_free(&ds);
            }
        }
        /* reference groups: first appearance, rows with a group value */
        size_t nr = mp_table_nrows(t), ng = 0, used = 0;
        for (size_t i = 0; i < nr; i++) {
            if (mp_table_is_missing(t, i, 0)) continue;
            const char *gv = mp_table_cell(t, i, 0);
            size_t a = 0;
            while (a < ng && strcmp(mp_batch_data_name(&d, a), gv) != 0) a++;
            if (a == ng) { /* a new group: the batch reader's next one */
                FUZZ_CHECK(ng < d.n && strcmp(mp_batch_data_name(&d, ng), gv) == 0,
                           "group '%s' (row %zu) is not the batch reader's group %zu", gv, i + 1, ng);
                ng++;
            }
            used += e.used[i];
        }
        FUZZ_CHECK(d.n == ng, "batch has %zu groups, loader %zu", d.n, ng);
        FUZZ_CHECK(d.nrows == used, "batch uses %zu rows, loader %zu", d.nrows, used);
        for (size_t a = 0; a < ng; a++) {
            size_t p = d.off[a];
            for (size_t i = 0; i < nr; i++) {
                if (!e.used[i] || mp_table_is_missing(t, i, 0)) continue;
                if (strcmp(mp_table_cell(t, i, 0), mp_batch_data_name(&d, a)) != 0) continue;
                FUZZ_CHECK(p < d.off[a + 1], "group %zu shorter in batch", a);
                FUZZ_CHECK(memcmp(&d.y[p], &e.yi[i], sizeof(double)) == 0 &&
                               memcmp(&d.v[p], &e.vi[i], sizeof(double)) == 0,
                           "row %zu: batch (%.17g, %.17g), loader (%.17g, %.17g)", i + 1, d.y[p],
                           d.v[p], e.yi[i], e.vi[i]);
                p++;
            }
            FUZZ_CHECK(p == d.off[a + 1], "group %zu longer in batch", a);
        }
        mp_batch_data_free(&d);
    }
    mp_effects_free(&e);
    mp_table_free(t);
    return 0;
}
