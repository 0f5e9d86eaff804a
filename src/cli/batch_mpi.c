/* src/cli/batch_mpi.c - `mpirun -n N metapool batch --sorted --output FILE`: shares of the input, one output file.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Only this file (and gosh_mpi.c) talk MPI; the library knows nothing of it.
 * Each process (rank) takes a share of the input (batch.h: byte ranges cut
 * where the group changes, with the file's line and row numbers), runs the
 * one-process --sorted loop on it (batch_sorted_run) into memory, and then
 *
 *  - the first rank whose share has bad input (an MPI_Allreduce) decides
 *    what is kept: every rank before it writes all its rows, it writes the
 *    rows it wrote before the bad row, later ranks nothing -- so the file
 *    holds what one process writes (the groups before the bad row);
 *  - the ranks write OUT with MPI-IO (MPI_File_write_at_all) at offsets from
 *    a prefix sum of their byte counts (MPI_Exscan), rank 0 the header first;
 *  - rank 0 prints the warnings of all ranks in rank (= file) order, then
 *    the error, once; every rank returns the same exit status;
 *  - a group that comes back is found within a share by its reader (at the
 *    share's end) and across shares by an exchange of the group names
 *    (cross_repeat); as one process finds it at the end of the file, every
 *    row is written and the earliest repeat is named.
 *
 * The cut points come from the three passes of mp_batch_plan(), each rank
 * doing its part: the '"' count of its nominal byte range (prefix-summed
 * into the quote state at each boundary), the cut after its boundary, and
 * the row and line counts of its share (prefix-summed into its first line
 * and row number). */
#include "batch_share.h"

#ifndef MP_HAVE_MPI

int batch_mpi(const cli_common *c, const mp_pool_opts *po)
{
    (void)c;
    (void)po;
    return -1; /* main.c has refused to run as several processes */
}

#else

#include <errno.h>
#include <limits.h>
#include <mpi.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef unsigned long long ull;

/* The largest piece one MPI call writes (its count is an int). */
#define MPI_PIECE ((size_t)1 << 30)

static int input_status(mp_status s) { return s == MP_ENOMEM ? CLI_FAIL : CLI_USAGE; }

/* 1 on every rank if any rank says 1. */
static int any(int x)
{
    int y = 0;
    MPI_Allreduce(&x, &y, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    return y;
}

static ull exscan_sum(ull x, int rank)
{
    ull y = 0;
    MPI_Exscan(&x, &y, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, MPI_COMM_WORLD);
    return rank == 0 ? 0 : y; /* Exscan leaves rank 0's result undefined */
}

static ull all_sum(ull x)
{
    ull y = 0;
    MPI_Allreduce(&x, &y, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, MPI_COMM_WORLD);
    return y;
}

/* This rank's payload for rank 0: the number of warnings, the kept ones
 * and (for the rank with the first error) the error message, each
 * NUL-terminated. */
static char *pack_messages(const batch_sink *k, const char *errmsg, size_t *len)
{
    size_t n = 32 + (errmsg ? strlen(errmsg) + 1 : 1);
    for (size_t i = 0; i < k->kept.n; i++) n += strlen(k->kept.v[i]) + 1;
    char *p = malloc(n), *q = p;
    if (!p) return NULL;
    q += snprintf(q, 32, "%zu %zu", k->nwarn, k->kept.n) + 1;
    for (size_t i = 0; i < k->kept.n; i++) {
        size_t l = strlen(k->kept.v[i]) + 1;
        memcpy(q, k->kept.v[i], l);
        q += l;
    }
    size_t l = errmsg ? strlen(errmsg) + 1 : 1;
    memcpy(q, errmsg ? errmsg : "", l);
    q += l;
    *len = (size_t)(q - p);
    return p;
}

/* Rank 0: the warnings of every rank in order, counted as one process
 * counts them, then the error. */
static void print_messages(const char *cmd, const char *all, const int *len, int nranks)
{
    batch_sink pk;
    memset(&pk, 0, sizeof pk);
    const char *err = NULL;
    for (int r = 0; r < nranks; r++) {
        if (len[r] == 0) continue;
        size_t nwarn = 0, nkept = 0;
        sscanf(all, "%zu %zu", &nwarn, &nkept);
        const char *p = all + strlen(all) + 1;
        for (size_t i = 0; i < nkept; i++, p += strlen(p) + 1) batch_sink_warn(&pk, cmd, p);
        pk.nwarn += nwarn - nkept; /* past the kept ones: only counted */
        if (*p) err = p;
        all += len[r];
    }
    batch_sink_warn_end(&pk, cmd);
    batch_sink_free(&pk);
    if (err) cli_errorf(cmd, "%s", err);
}

/* The share of this rank (see the file comment); MP_OK or an error with
 * *err set, the same on every rank. */
static mp_status plan_share(const char *file, const char *group, int rank, int nranks,
                            mp_batch_share *sh, ull *total_rows, ull *line_end, mp_error *err)
{
    mp_csv_stream *s = NULL;
    mp_status st = mp_csv_stream_open(file, 0, &s, err);
    if (st != MP_OK) return st;
    size_t data = mp_csv_stream_bytes(s), line0 = mp_csv_stream_line(s);
    char delim = mp_csv_stream_delim(s);
    mp_csv_stream_free(s);
    struct stat sb;
    if (stat(file, &sb) != 0) return MP_EIO;
    size_t size = (size_t)sb.st_size > data ? (size_t)sb.st_size : data;
    size_t a0 = data + (size_t)((double)(size - data) * rank / nranks);
    size_t a1 = rank + 1 == nranks ? size : data + (size_t)((double)(size - data) * (rank + 1) / nranks);
    size_t q = 0, cut = data, rows = 0, lines = 0;
    st = mp_batch_count_quotes(file, a0, a1, &q, err);
    if (any(st != MP_OK)) return st != MP_OK ? st : MP_EIO;
    ull before = exscan_sum(q, rank);
    if (rank > 0) st = mp_batch_find_cut(file, group, a0, (int)(before & 1), &cut, err);
    if (any(st != MP_OK)) return st != MP_OK ? st : MP_EIO;
    ull mine = cut, *cuts = malloc((size_t)nranks * sizeof *cuts);
    if (any(!cuts)) { free(cuts); return MP_ENOMEM; }
    MPI_Allgather(&mine, 1, MPI_UNSIGNED_LONG_LONG, cuts, 1, MPI_UNSIGNED_LONG_LONG, MPI_COMM_WORLD);
    for (int r = 1; r < nranks; r++)
        if (cuts[r] < cuts[r - 1]) cuts[r] = cuts[r - 1]; /* a cut never goes backwards */
    sh->begin = (size_t)cuts[rank];
    sh->end = rank + 1 < nranks ? (size_t)cuts[rank + 1] : size;
    free(cuts);
    st = mp_batch_count_rows(file, delim, sh->begin, sh->end, &rows, &lines, err);
    if (any(st != MP_OK)) return st != MP_OK ? st : MP_EIO;
    sh->line = line0 + (size_t)exscan_sum(lines, rank);
    *line_end = sh->line + lines;
    sh->row = (size_t)exscan_sum(rows, rank);
    *total_rows = all_sum(rows);
    return MP_OK;
}

/* Write this rank's bytes at `off` of the open file, in pieces every rank
 * takes part in. */
static int write_all(MPI_File fh, const char *p, size_t n, ull off)
{
    ull pieces = (n + MPI_PIECE - 1) / MPI_PIECE, most = 0;
    MPI_Allreduce(&pieces, &most, 1, MPI_UNSIGNED_LONG_LONG, MPI_MAX, MPI_COMM_WORLD);
    int bad = 0;
    for (ull i = 0; i < most; i++) {
        size_t at = (size_t)i * MPI_PIECE, m = at < n ? n - at : 0;
        if (m > MPI_PIECE) m = MPI_PIECE;
        MPI_Status ms;
        if (MPI_File_write_at_all(fh, (MPI_Offset)(off + at), m ? p + at : NULL, (int)m, MPI_BYTE,
                                  &ms) != MPI_SUCCESS)
            bad = 1;
    }
    return bad;
}

/* ---- groups that come back in another share ----------------------------
 *
 * Each share's reader finds a group that comes back within its share (at
 * its end, as one process finds it at the end of the file); a group started
 * in two shares is found here, after every share has been read: every
 * process sends the names and first lines of its groups to an owner chosen
 * by a hash of the name (MPI_Alltoallv; about 20 bytes plus the name per
 * group), each owner sorts what it got and reports the earliest second
 * start of a name, and the earliest over all owners is the repeat one
 * process reports: the same message, after all the rows, exit 2. */

typedef struct { uint64_t h; ull line; const char *name; uint32_t len; } grec;

static uint64_t fnv1a(const char *s, size_t n)
{
    uint64_t h = UINT64_C(14695981039346656037);
    for (size_t i = 0; i < n; i++) { h ^= (unsigned char)s[i]; h *= UINT64_C(1099511628211); }
    return h;
}

static int grec_cmp(const void *pa, const void *pb)
{
    const grec *a = pa, *b = pb;
    if (a->h != b->h) return a->h < b->h ? -1 : 1;
    if (a->len != b->len) return a->len < b->len ? -1 : 1;
    int c = memcmp(a->name, b->name, a->len);
    if (c) return c;
    return a->line < b->line ? -1 : a->line > b->line;
}

/* The earliest line where a group starts for the second time, over all
 * shares (ULLONG_MAX: none); *bad on every rank if memory ran out or the
 * exchange would exceed MPI's int counts. */
static ull cross_repeat(const batch_sink *k, int nranks, int *bad)
{
    int *sc = calloc((size_t)nranks, sizeof *sc), *rc = calloc((size_t)nranks, sizeof *rc);
    int *sd = calloc((size_t)nranks, sizeof *sd), *rd = calloc((size_t)nranks, sizeof *rd);
    size_t *fill = calloc((size_t)nranks, sizeof *fill);
    char *sb = NULL, *rb = NULL;
    grec *g = NULL;
    ull best = ULLONG_MAX;
    int oops = !sc || !rc || !sd || !rd || !fill;
    long long tot = 0;
    for (size_t i = 0; !oops && i < k->ng; i++) {
        const char *nm = k->gname + k->goff[i];
        size_t len = strlen(nm);
        long long b = (long long)sc[fnv1a(nm, len) % (uint64_t)nranks] + 20 + (long long)len;
        if (b > INT_MAX || len > UINT32_MAX) oops = 1;
        else sc[fnv1a(nm, len) % (uint64_t)nranks] = (int)b;
    }
    for (int r = 0; !oops && r < nranks; r++) {
        sd[r] = (int)tot;
        tot += sc[r];
        if (tot > INT_MAX) oops = 1;
    }
    if (!oops && !(sb = malloc((size_t)tot + 1))) oops = 1;
    for (size_t i = 0; !oops && i < k->ng; i++) {
        const char *nm = k->gname + k->goff[i];
        uint32_t len = (uint32_t)strlen(nm);
        uint64_t h = fnv1a(nm, len);
        int r = (int)(h % (uint64_t)nranks);
        char *p = sb + sd[r] + fill[r];
        ull line = k->gline[i];
        memcpy(p, &h, 8);
        memcpy(p + 8, &line, 8);
        memcpy(p + 16, &len, 4);
        memcpy(p + 20, nm, len);
        fill[r] += 20 + (size_t)len;
    }
    if (any(oops)) goto out;
    MPI_Alltoall(sc, 1, MPI_INT, rc, 1, MPI_INT, MPI_COMM_WORLD);
    long long rtot = 0;
    for (int r = 0; r < nranks; r++) {
        rd[r] = (int)rtot;
        rtot += rc[r];
    }
    oops = rtot > INT_MAX || !(rb = malloc((size_t)rtot + 1));
    if (any(oops)) goto out;
    MPI_Alltoallv(sb, sc, sd, MPI_BYTE, rb, rc, rd, MPI_BYTE, MPI_COMM_WORLD);
    size_t n = 0;
    for (long long at = 0; at < rtot; n++) {
        uint32_t len;
        memcpy(&len, rb + at + 16, 4);
        at += 20 + (long long)len;
    }
    g = malloc((n ? n : 1) * sizeof *g);
    oops = !g;
    for (size_t i = 0, at = 0; !oops && i < n; i++) {
        memcpy(&g[i].h, rb + at, 8);
        memcpy(&g[i].line, rb + at + 8, 8);
        memcpy(&g[i].len, rb + at + 16, 4);
        g[i].name = rb + at + 20;
        at += 20 + g[i].len;
    }
    if (!oops) {
        qsort(g, n, sizeof *g, grec_cmp);
        for (size_t i = 1; i < n; i++) /* a run of one name: its second start repeats */
            if (g[i].h == g[i - 1].h && g[i].len == g[i - 1].len &&
                memcmp(g[i].name, g[i - 1].name, g[i].len) == 0 &&
                (i < 2 || !(g[i - 2].h == g[i].h && g[i - 2].len == g[i].len &&
                            memcmp(g[i - 2].name, g[i].name, g[i].len) == 0)) &&
                g[i].line < best)
                best = g[i].line;
    }
    if (any(oops)) { best = ULLONG_MAX; goto out; }
    {
        ull b = best;
        MPI_Allreduce(&b, &best, 1, MPI_UNSIGNED_LONG_LONG, MPI_MIN, MPI_COMM_WORLD);
    }
out:
    *bad = oops ? 1 : *bad;
    if (oops) *bad = 1;
    free(sc);
    free(rc);
    free(sd);
    free(rd);
    free(fill);
    free(sb);
    free(rb);
    free(g);
    return best;
}

/* The message one process gives for the group starting again at `line`
 * (a row of this rank's share): the line and column of its group cell. */
static void repeat_message(const cli_common *c, const mp_batch_share *sh, const batch_sink *k,
                           ull line, char *out, size_t size)
{
    mp_csv_stream *s = NULL;
    mp_error e;
    mp_error_clear(&e);
    snprintf(out, size, "%s:%llu: a group appears again after other groups (drop --sorted)", c->file, line);
    if (mp_csv_stream_open_range(c->file, 0, sh->begin, sh->end, sh->line, &s, &e) != MP_OK) return;
    long gcol = mp_csv_stream_col(s, c->group);
    mp_csv_row row;
    int eof = 0;
    while (gcol >= 0 && mp_csv_stream_next(s, &row, &eof, &e) == MP_OK && !eof) {
        if (row.line != line) continue;
        size_t len = row.len[gcol];
        e.line = row.cell_line[gcol];
        e.col = row.colpos[gcol];
        snprintf(e.file, sizeof e.file, "%s", mp_csv_stream_name(s));
        /* the words of src/io/batch.c's sorted_repeat_error() */
        snprintf(e.msg, sizeof e.msg,
                 "group '%.*s' appears again after other groups: the input is not sorted by '%s' "
                 "(drop --sorted)",
                 (int)(len < 100 ? len : 100), row.cell[gcol], mp_csv_stream_colname(s, (size_t)gcol));
        mp_error_format(&e, out, size);
        break;
    }
    (void)k;
    mp_csv_stream_free(s);
}

int batch_mpi(const cli_common *c, const mp_pool_opts *po)
{
    long nworld = cli_mpi_world(NULL, NULL);
    if (nworld <= 1) return -1;
    const char *cmd = "batch";
    MPI_Init(NULL, NULL);
    int rank = 0, nranks = 1, status = CLI_OK;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    mp_batch_reader *rd = NULL;
    batch_sink k;
    memset(&k, 0, sizeof k);
    k.keep = 1;
    k.record = 1;
    const char *why = c->mh != MP_MH_NONE ? "--method MH and PETO read the whole file"
                      : !c->sorted        ? "it needs --sorted (each process reads a share of the "
                                            "file, cut where the group changes)"
                      : !c->output        ? "it needs --output FILE (the processes write their "
                                            "parts of one file)"
                      : strcmp(c->file, "-") == 0 ? "it needs a FILE, not standard input"
                                                  : NULL;
    if (why) {
        if (rank == 0)
            cli_errorf(cmd, "running as %d MPI processes, but %s; or run one process", nranks, why);
        status = CLI_USAGE;
        goto done;
    }
    if (rank == 0 && po->method == MP_METHOD_FE && po->test == MP_TEST_KNHA)
        cli_errorf(cmd, "warning: the Knapp-Hartung adjustment is not meant for the fixed-effect model");
    /* threads: by default the node's CPUs shared among its ranks */
    long nthreads = c->threads;
    if (!c->threads_given) {
        MPI_Comm node;
        int local = 1;
        if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node) ==
            MPI_SUCCESS) {
            MPI_Comm_size(node, &local);
            MPI_Comm_free(&node);
        }
        nthreads = c->threads / local > 0 ? c->threads / local : 1;
    }

    /* the header and columns, checked as one process checks them */
    mp_error err;
    mp_error_clear(&err);
    mp_status s = mp_batch_reader_open(c->file, c->group, &c->es, 0, &rd, &err);
    mp_batch_reader_free(rd);
    rd = NULL;
    if (any(s != MP_OK)) {
        if (rank == 0 && s != MP_OK) cli_input_error(cmd, &err);
        status = s != MP_OK ? input_status(s) : CLI_USAGE;
        goto done;
    }
    /* the output file: created (emptied) by rank 0 as one process does */
    int bad = 0;
    if (rank == 0) {
        FILE *f = fopen(c->output, "wb");
        if (!f || fclose(f) != 0) {
            cli_errorf(cmd, "%s: cannot write: %s", c->output, strerror(errno));
            bad = 1;
        }
    }
    MPI_Bcast(&bad, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (bad) { status = CLI_USAGE; goto done; }

    mp_batch_share sh;
    ull total_rows = 0, line_end = 0;
    s = plan_share(c->file, c->group, rank, nranks, &sh, &total_rows, &line_end, &err);
    if (s != MP_OK) {
        if (rank == 0) cli_input_error(cmd, &err);
        status = input_status(s);
        goto done;
    }
    /* rank 0's bytes start with the header (the file's first bytes) */
    if (rank == 0) batch_sink_write(&k, BATCH_CSV_HEADER, strlen(BATCH_CSV_HEADER));
    s = mp_batch_reader_open_range(c->file, c->group, &c->es, 0, &sh, &rd, &err);
    if (s == MP_OK) {
        const char *file = c->file;
        s = batch_sorted_run(cmd, rd, file, po, nthreads, &k, &err);
    }
    if (any(k.nomem)) {
        if (k.nomem) cli_errorf(cmd, "out of memory");
        status = CLI_FAIL;
        goto done;
    }
    /* the first rank with bad input; a group that came back, found at the
     * end of a share, is not such: it is reported after all the rows, as
     * one process finds it at the end of the file (below) */
    int rep = s != MP_OK && rd && mp_batch_reader_repeat_at_end(rd);
    int mine = s != MP_OK && !rep ? rank : INT_MAX, first = INT_MAX;
    MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    char errmsg[1024] = "";
    int code = 0, worst = 0;
    if (first < INT_MAX) {
        if (rank == first) {
            mp_error_format(&err, errmsg, sizeof errmsg);
            code = input_status(s);
        }
    } else if (total_rows == 0) {
        if (rank == 0) { /* no data rows in any share: the whole-file reader's message */
            mp_batch_data d;
            memset(&d, 0, sizeof d);
            int eof;
            mp_batch_reader_free(rd);
            rd = NULL;
            if (mp_batch_reader_open(c->file, c->group, &c->es, 0, &rd, &err) == MP_OK &&
                (s = mp_batch_read_sorted(rd, 1, &d, &eof, &err)) != MP_OK) {
                mp_error_format(&err, errmsg, sizeof errmsg);
                code = input_status(s);
            }
            mp_batch_data_free(&d);
        }
    } else { /* groups that come back, in one share or across shares */
        int xbad = 0;
        ull L = cross_repeat(&k, nranks, &xbad);
        if (xbad) {
            if (rank == 0) {
                snprintf(errmsg, sizeof errmsg,
                         "out of memory checking that no group comes back in another share");
                code = CLI_FAIL;
            }
        } else if (L != ULLONG_MAX && L >= sh.line && L < line_end) {
            repeat_message(c, &sh, &k, L, errmsg, sizeof errmsg);
            code = CLI_USAGE;
        }
    }
    MPI_Allreduce(&code, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (rank > first) { /* after the bad row: nothing */
        k.n = 0;
        mp_msgs_free(&k.kept);
        k.nwarn = 0;
        k.failed = 0;
    }
    /* the file: rank 0's header and rows, then every rank's rows in rank order */
    ull off = exscan_sum(k.n, rank);
    MPI_File fh;
    bad = MPI_File_open(MPI_COMM_WORLD, c->output, MPI_MODE_WRONLY | MPI_MODE_CREATE, MPI_INFO_NULL,
                        &fh) != MPI_SUCCESS;
    if (!any(bad)) {
        bad = write_all(fh, k.mem, k.n, off);
        if (MPI_File_close(&fh) != MPI_SUCCESS) bad = 1;
    }
    bad = any(bad || k.nomem);
    /* messages: warnings of every rank in order, then the error */
    size_t plen = 0;
    char *pay = pack_messages(&k, errmsg[0] ? errmsg : NULL, &plen);
    int ilen = pay && plen < INT_MAX ? (int)plen : 0, *lens = NULL, *displ = NULL;
    char *all = NULL;
    if (rank == 0) {
        lens = calloc((size_t)nranks, sizeof *lens);
        displ = calloc((size_t)nranks, sizeof *displ);
    }
    MPI_Gather(&ilen, 1, MPI_INT, lens, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (rank == 0 && lens && displ) {
        size_t tot = 0;
        for (int r = 0; r < nranks; r++) { displ[r] = (int)tot; tot += (size_t)lens[r]; }
        all = malloc(tot ? tot : 1);
    }
    MPI_Gatherv(pay, ilen, MPI_CHAR, all, lens, displ, MPI_CHAR, 0, MPI_COMM_WORLD);
    if (rank == 0 && all) print_messages(cmd, all, lens, nranks);
    free(pay);
    free(all);
    free(lens);
    free(displ);
    ull failed = all_sum((ull)k.failed);
    if (bad) {
        if (rank == 0) cli_errorf(cmd, "%s: write error", c->output);
        status = CLI_FAIL;
    } else if (worst) status = worst;
    else if (failed) status = CLI_FAIL;
done:
    mp_batch_reader_free(rd);
    batch_sink_free(&k);
    MPI_Finalize();
    return status;
}

#endif /* MP_HAVE_MPI */
