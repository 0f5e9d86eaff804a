/* src/cli/cmd_batch.c - `metapool batch`: one pooled analysis per group, one CSV row each.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The library does the work (include/metapool/batch.h): a streaming reader
 * turns rows into grouped effect sizes, mp_pool_batch() fits the groups on
 * worker threads, chunk by chunk, and calls back into this file, where each
 * worker formats the CSV rows of its chunk into its own buffer and notes
 * where; the chunks are then written in analysis order, so the output is
 * the same for any --threads.
 * With --sorted the file is read block by block and the next block is
 * parsed while the previous one is being fitted. */
#include "batch_share.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Rows read per block in --sorted mode (plus the rest of the last group):
 * the first block has BATCH_FIRST_ROWS, each next one twice as many up to
 * BATCH_BLOCK_ROWS. */
#define BATCH_FIRST_ROWS ((size_t)1 << 13)
#define BATCH_BLOCK_ROWS ((size_t)1 << 18)

/* A growable output buffer of one worker. */
typedef struct outbuf {
    char *p;        /* text */
    size_t n, cap;  /* used, allocated */
    int nomem;      /* an allocation failed */
} outbuf;

/* Make the text buffer *p (capacity *cap) hold at least `need` bytes,
 * doubling from 64 KiB; 0, or -1 (buffer unchanged) if out of memory.  The
 * one growth rule of the output buffers, the group names and the sink. */
static int grow_text(char **p, size_t *cap, size_t need)
{
    if (need <= *cap) return 0;
    size_t m = *cap ? *cap : 1 << 16;
    while (m < need) m *= 2;
    char *q = realloc(*p, m);
    if (!q) return -1;
    *p = q;
    *cap = m;
    return 0;
}

static int ob_room(outbuf *b, size_t extra)
{
    if (grow_text(&b->p, &b->cap, b->n + extra)) { b->nomem = 1; return -1; }
    return 0;
}

/* ",x" for a number (",NA" if not finite) at p; returns the end.  At most
 * 26 bytes are touched (mp_format_double: 24 characters and a NUL). */
static char *put_num(char *p, double x)
{
    if (!isfinite(x)) {
        memcpy(p, ",NA", 3);
        return p + 3;
    }
    *p++ = ',';
    return p + mp_format_double(x, p); /* shortest exact round trip */
}

/* The CSV field s (len bytes) at p, quoted if it holds a delimiter, a
 * quote or a line end; returns the end.  At most 2 len + 2 bytes. */
static char *put_field(char *p, const char *s, size_t len)
{
    size_t i = 0;
    while (i < len && s[i] != ',' && s[i] != '"' && s[i] != '\n' && s[i] != '\r') i++;
    if (i == len) {
        memcpy(p, s, len);
        return p + len;
    }
    *p++ = '"';
    for (i = 0; i < len; i++) {
        if (s[i] == '"') *p++ = '"';
        *p++ = s[i];
    }
    *p++ = '"';
    return p;
}

static const char *status_word(mp_status s)
{
    switch (s) {
    case MP_OK: return "ok";
    case MP_ETOOFEW: return "no_studies";
    case MP_ENOCONV: return "not_converged";
    default: return "failed";
    }
}

/* Where the rows of one chunk of MP_BATCH_GRAIN analyses were formatted:
 * in buffer `thread`, bytes [off, off + len). */
typedef struct segment {
    unsigned thread;
    size_t off, len;
} segment;

/* One block of analyses on its way through fitting and output. */
typedef struct block {
    mp_batch_data d;         /* the analyses */
    mp_pool_result *res;     /* d.n results */
    mp_status *st;           /* d.n statuses */
    size_t cap;              /* allocated entries of res/st */
    outbuf *out;             /* one buffer per thread */
    segment *seg;            /* one per chunk: the chunks in analysis order */
    unsigned nthreads;       /* workers */
    const mp_pool_opts *o;   /* model */
    mp_status ret;           /* mp_pool_batch's return */
    size_t *niter;           /* the pipeline's blocks (res NULL): d.n iteration counts */
} block;

/* The CSV rows of analyses [first, first+count) of d, appended to b, from
 * their results res[0..count) and statuses st[0..count): room for a whole
 * row is made once, then the row is written without checks. */
static void format_rows(outbuf *b, const mp_batch_data *d, size_t first, size_t count,
                        const mp_pool_result *res, const mp_status *st)
{
    for (size_t a = first; a < first + count; a++) {
        const mp_pool_result *r = &res[a - first];
        const char *name = mp_batch_data_name(d, a);
        size_t len = strlen(name);
        /* the quoted name, ",k" (at most 21), 12 numbers (26 each with
         * the NUL written past the text), the status (",not_converged\n") */
        if (ob_room(b, 2 * len + 2 + 21 + 12 * 26 + 16)) return;
        char *p = put_field(b->p + b->n, name, len);
        {   /* ",k" without printf */
            char t[24];
            size_t k = d->off[a + 1] - d->off[a], n = 0;
            do { t[n++] = (char)('0' + k % 10); k /= 10; } while (k);
            *p++ = ',';
            while (n) *p++ = t[--n];
        }
        if (st[a - first] == MP_OK) {
            const double x[] = {r->estimate, r->se, r->ci_lb, r->ci_ub, r->pval, r->tau2, r->I2,
                                r->H2, r->Q, r->Q_pval, r->pi_lb, r->pi_ub};
            for (size_t i = 0; i < sizeof x / sizeof x[0]; i++) p = put_num(p, x[i]);
        } else {
            for (int i = 0; i < 12; i++) p = put_num(p, NAN);
        }
        const char *w = status_word(st[a - first]);
        size_t wl = strlen(w);
        *p++ = ',';
        memcpy(p, w, wl);
        p += wl;
        *p++ = '\n';
        b->n = (size_t)(p - b->p);
    }
}

/* Called from the worker that fitted [first, first+count): format its rows. */
static void format_range(void *ctx, unsigned thread, size_t first, size_t count,
                         const mp_pool_result *res, const mp_status *st)
{
    block *B = ctx;
    outbuf *b = &B->out[thread];
    segment *sg = &B->seg[first / MP_BATCH_GRAIN];
    sg->thread = thread;
    sg->off = b->n;
    format_rows(b, &B->d, first, count, res + first, st + first);
    sg->len = b->n - sg->off;
}

static int block_alloc(block *B)
{
    if (B->d.n <= B->cap && B->res) return 0;
    size_t m = B->d.n ? B->d.n : 1;
    mp_pool_result *r = realloc(B->res, m * sizeof *r);
    if (r) B->res = r;
    mp_status *s = realloc(B->st, m * sizeof *s);
    if (s) B->st = s;
    segment *g = realloc(B->seg, ((m + MP_BATCH_GRAIN - 1) / MP_BATCH_GRAIN) * sizeof *g);
    if (g) B->seg = g;
    if (!r || !s || !g) return -1;
    B->cap = m;
    return 0;
}

static void *fit_block(void *arg)
{
    block *B = arg;
    for (unsigned t = 0; t < B->nthreads; t++) B->out[t].n = 0;
    B->ret = mp_pool_batch(B->d.y, B->d.v, B->d.off, B->d.n, B->o, B->nthreads, B->res, B->st,
                           format_range, B);
    return NULL;
}

/* The warning for group a of a fitted block (NULL if it was fitted). */
static const char *group_warning(char *buf, size_t size, const char *file, const block *B,
                                 size_t a, const mp_pool_opts *o)
{
    if (B->st[a] == MP_OK) return NULL;
    const char *g = mp_batch_data_name(&B->d, a);
    if (B->st[a] == MP_ETOOFEW)
        snprintf(buf, size, "%s: group '%s' (line %zu): no studies left to pool", file, g, B->d.line[a]);
    else if (B->st[a] == MP_ENOCONV)
        snprintf(buf, size,
                 "%s: group '%s' (line %zu): the %s estimator of tau2 did not converge in %zu "
                 "iterations",
                 file, g, B->d.line[a], mp_method_name(o->method),
                 B->niter ? B->niter[a] : B->res[a].niter);
    else
        snprintf(buf, size, "%s: group '%s' (line %zu): %s", file, g, B->d.line[a],
                 mp_strerror(B->st[a]));
    return buf;
}

/* The line a row warning of the reader names ("row R (line L) ..."). */
static size_t warning_line(const char *w)
{
    const char *p = strstr(w, "(line ");
    return p ? (size_t)strtoull(p + 6, NULL, 10) : 0;
}

/* The warnings of a fitted block (of its rows, and of its groups that
 * failed), and its groups when the sink records them.  `merge` (--sorted):
 * the warnings in line order, a row's own before that of a group starting
 * at it, so the order is the same wherever blocks (or the shares of an MPI
 * run) end; otherwise the row warnings come first (they were shown before
 * the fit).  Returns 0, or -1 on a memory error or when the sink's
 * max_groups is passed. */
static int write_block_tail(const char *cmd, const char *file, const block *B,
                            const mp_pool_opts *o, batch_sink *k, int merge)
{
    char *buf = malloc(4096);
    if (!buf) return -1;
    const mp_msgs *w = &B->d.warnings;
    size_t i = merge ? 0 : w->n;
    if (k->rowkeep) { /* the rows' warnings go to their own list */
        for (; i < w->n; i++, k->nrowwarn++)
            if (k->nrowwarn <= BATCH_WARN_SHOWN && mp_msgs_add(k->rowkeep, "%s", w->v[i]) != MP_OK)
                k->nomem = 1;
    }
    for (size_t a = 0; a < B->d.n; a++) {
        const char *gw = group_warning(buf, 4096, file, B, a, o);
        if (!gw) continue;
        k->failed++;
        while (i < w->n && warning_line(w->v[i]) <= B->d.line[a]) batch_sink_warn(k, cmd, w->v[i++]);
        batch_sink_warn(k, cmd, gw);
    }
    while (i < w->n) batch_sink_warn(k, cmd, w->v[i++]);
    free(buf);
    k->groups += B->d.n;
    if (k->max_groups && k->groups > k->max_groups) return -1;
    for (size_t a = 0; k->record && a < B->d.n; a++)
        if (batch_sink_group(k, mp_batch_data_name(&B->d, a), B->d.line[a])) return -1;
    return 0;
}

/* Write a block fitted by fit_block() to the sink: its rows, then
 * write_block_tail().  Returns 0, or -1 on a write/memory error. */
static int write_block(const char *cmd, const char *file, const block *B, const mp_pool_opts *o,
                       batch_sink *k, int merge)
{
    if (B->ret == MP_ENOMEM) return -1;
    for (unsigned t = 0; t < B->nthreads; t++)
        if (B->out[t].nomem) return -1;
    for (size_t c = 0; c < (B->d.n + MP_BATCH_GRAIN - 1) / MP_BATCH_GRAIN; c++) {
        const segment *g = &B->seg[c];
        if (g->len && batch_sink_write(k, B->out[g->thread].p + g->off, g->len)) return -1;
    }
    return write_block_tail(cmd, file, B, o, k, merge);
}

int batch_sink_group(batch_sink *k, const char *name, size_t line)
{
    size_t len = strlen(name) + 1;
    if (k->ng == k->gcap) {
        size_t m = k->gcap ? 2 * k->gcap : 1024;
        size_t *a = realloc(k->gline, m * sizeof *a);
        if (a) k->gline = a;
        size_t *b = realloc(k->goff, m * sizeof *b);
        if (b) k->goff = b;
        if (!a || !b) { k->nomem = 1; return -1; }
        k->gcap = m;
    }
    if (grow_text(&k->gname, &k->gname_cap, k->gname_n + len)) { k->nomem = 1; return -1; }
    memcpy(k->gname + k->gname_n, name, len);
    k->goff[k->ng] = k->gname_n;
    k->gline[k->ng++] = line;
    k->gname_n += len;
    return 0;
}

int batch_sink_write(batch_sink *k, const char *p, size_t n)
{
    if (k->f) {
        if (fwrite(p, 1, n, k->f) != n) { k->nomem = 1; return -1; }
        return 0;
    }
    if (grow_text(&k->mem, &k->cap, k->n + n)) { k->nomem = 1; return -1; }
    memcpy(k->mem + k->n, p, n);
    k->n += n;
    return 0;
}

/* Every warning up to BATCH_WARN_SHOWN, counted over the whole run (the
 * blocks and shares it is read in do not matter); past it one line says
 * how many more there are, as cli_warnings() does for one list. */
void batch_sink_warn(batch_sink *k, const char *cmd, const char *msg)
{
    k->nwarn++;
    if (k->keep || k->nwarn == BATCH_WARN_SHOWN + 1) {
        if (k->nwarn <= BATCH_WARN_SHOWN + 1 && mp_msgs_add(&k->kept, "%s", msg) != MP_OK) k->nomem = 1;
        return;
    }
    if (k->nwarn <= BATCH_WARN_SHOWN) cli_errorf(cmd, "warning: %s", msg);
}

void batch_sink_warn_end(batch_sink *k, const char *cmd)
{
    if (k->keep) return;
    if (k->nwarn == BATCH_WARN_SHOWN + 1 && k->kept.n) cli_errorf(cmd, "warning: %s", k->kept.v[0]);
    else if (k->nwarn > BATCH_WARN_SHOWN + 1)
        cli_errorf(cmd, "warning: ... and %zu more warnings not shown", k->nwarn - BATCH_WARN_SHOWN);
}

void batch_sink_free(batch_sink *k)
{
    free(k->mem);
    free(k->gname);
    free(k->gline);
    free(k->goff);
    mp_msgs_free(&k->kept);
    memset(k, 0, sizeof *k);
}

static void block_free(block *B)
{
    mp_batch_data_free(&B->d);
    free(B->res);
    free(B->niter);
    free(B->st);
    free(B->seg);
    for (unsigned t = 0; B->out && t < B->nthreads; t++) free(B->out[t].p);
    free(B->out);
}

static int input_status(mp_status s) { return s == MP_ENOMEM ? CLI_FAIL : CLI_USAGE; }

/* --method MH or PETO: the tables themselves are pooled (mh.h), so the
 * raw counts are needed; the whole file is loaded (mp_effects_compute keeps
 * the cells) and grouped in order of first appearance, with the row rules of
 * the streaming reader (a missing group value leaves the row out; rows left
 * out for other reasons still create their group).  One CSV row per group:
 * tau2 and the prediction interval are NA (rma.mh/rma.peto have none); I2,
 * H2, Q and Q_pval are those of rma.mh()/rma.peto(). */
static int batch_mh(const cli_common *c)
{
    const char *cmd = "batch";
    mp_table *t = NULL;
    mp_effects e;
    int rc = cli_load(cmd, c->file, c, &t, &e);
    if (rc != CLI_OK) return rc;
    int status = CLI_OK;
    size_t nr = mp_table_nrows(t), ng = 0;
    long gcol = mp_table_col(t, c->group);
    size_t *gid = NULL, *first = NULL, *cnt = NULL, *rows = NULL;
    double *cells = NULL;
    mp_msgs warn = {0};
    if (gcol < 0) {
        cli_errorf(cmd, "%s: no column '%s' for --group", mp_table_name(t), c->group);
        status = CLI_USAGE;
        goto out;
    }
    if (cli_check_mh(cmd, c, &e) != 0) { status = CLI_USAGE; goto out; }
    gid = malloc((nr ? nr : 1) * sizeof *gid);
    first = malloc((nr ? nr : 1) * sizeof *first);
    cells = malloc((nr ? nr : 1) * 4 * sizeof *cells);
    if (!gid || !first || !cells) { cli_errorf(cmd, "out of memory"); status = CLI_FAIL; goto out; }
    for (size_t i = 0; i < nr; i++)
        if (mp_table_is_missing(t, i, (size_t)gcol))
            mp_msgs_add(&warn, "row %zu (line %zu) left out: missing value in the --group column '%s'",
                        i + 1, mp_table_line(t, i), c->group);
    /* groups in order of first appearance, in linear time; more than
     * MP_TABLE_MAX_GROUPS is an input error naming the cell */
    mp_error gerr;
    mp_error_clear(&gerr);
    mp_status gs = mp_table_group(t, (size_t)gcol, NULL, NULL, gid, first, &ng, &gerr);
    if (gs != MP_OK) {
        if (gs == MP_ENOMEM) cli_errorf(cmd, "out of memory");
        else cli_input_error(cmd, &gerr);
        status = input_status(gs);
        goto out;
    }
    /* each group's rows in file order (a stable counting sort) */
    cnt = calloc(ng + 2, sizeof *cnt);
    if (!cnt) { cli_errorf(cmd, "out of memory"); status = CLI_FAIL; goto out; }
    for (size_t i = 0; i < nr; i++)
        if (gid[i] != SIZE_MAX) cnt[gid[i] + 2]++;
    for (size_t g = 0; g < ng; g++) cnt[g + 2] += cnt[g + 1];
    rows = malloc((nr ? nr : 1) * sizeof *rows);
    if (!rows) { cli_errorf(cmd, "out of memory"); status = CLI_FAIL; goto out; }
    for (size_t i = 0; i < nr; i++)
        if (gid[i] != SIZE_MAX) rows[cnt[gid[i] + 1]++] = i;
    /* now group g's rows are rows[cnt[g] .. cnt[g+1]) */
    cli_warnings(cmd, &warn);
    fputs("group,k,estimate,se,ci_lb,ci_ub,pval,tau2,I2,H2,Q,Q_pval,pi_lb,pi_ub,status\n", stdout);
    long failed = 0;
    for (size_t g = 0; g < ng; g++) {
        size_t k = 0;
        for (size_t r = cnt[g]; r < cnt[g + 1]; r++) {
            size_t i = rows[r];
            if (e.used[i]) memcpy(cells + 4 * k++, e.cells + 4 * i, 4 * sizeof *cells);
        }
        const char *name = mp_table_cell(t, first[g], (size_t)gcol);
        mp_mh_result h;
        memset(&h, 0, sizeof h);
        mp_status st = k == 0 ? MP_ETOOFEW
                       : c->mh == MP_MH_PETO ? mp_peto(cells, k, c->pool.level, &h)
                                             : mp_mh(e.measure, cells, k, c->pool.level, &h);
        mp_csv_field(stdout, name, ',');
        printf(",%zu", k);
        char buf[40];
        const double x[] = {h.estimate, h.se, h.ci_lb, h.ci_ub, h.pval, NAN, h.I2,
                            h.H2, h.Q, h.Q_pval, NAN, NAN};
        for (size_t j = 0; j < sizeof x / sizeof x[0]; j++) {
            if (st != MP_OK || !isfinite(x[j])) { fputs(",NA", stdout); continue; }
            mp_format_double(x[j], buf);
            printf(",%s", buf);
        }
        const char *w = st == MP_OK ? "ok" : st == MP_ETOOFEW ? "no_studies" : "not_estimable";
        printf(",%s\n", w);
        if (st == MP_OK) continue;
        failed++;
        if (st == MP_ETOOFEW)
            cli_errorf(cmd, "warning: %s: group '%s' (line %zu): no studies left to pool",
                       mp_table_name(t), name, mp_table_line(t, first[g]));
        else
            cli_errorf(cmd, "warning: %s: group '%s' (line %zu): the %s estimate is not estimable",
                       mp_table_name(t), name, mp_table_line(t, first[g]),
                       c->mh == MP_MH_MH ? "Mantel-Haenszel" : "Peto");
    }
    if (failed) status = CLI_FAIL;
out:
    free(gid);
    free(first);
    free(cnt);
    free(rows);
    free(cells);
    mp_msgs_free(&warn);
    mp_effects_free(&e);
    mp_table_free(t);
    return cli_finish(cmd, status);
}

static int blocks_alloc(block *B, int n, long nthreads, const mp_pool_opts *po)
{
    for (int i = 0; i < n; i++) {
        B[i].nthreads = (unsigned)nthreads;
        B[i].o = po;
        B[i].out = calloc((size_t)nthreads, sizeof *B[i].out);
        if (!B[i].out) return -1;
    }
    return 0;
}

/* After bad input in block F (read, not fitted): fit and write its groups
 * before the bad row but the one the bad row may belong to. */
static int write_partial(const char *cmd, const char *file, mp_batch_reader *rd, block *F,
                         const mp_pool_opts *po, batch_sink *k)
{
    if (F->d.n > 0 && !mp_batch_reader_error_ends_group(rd)) F->d.n--; /* off[] stays valid */
    free(F->niter); /* the results are kept whole here (fit_block) */
    F->niter = NULL;
    if (block_alloc(F)) return -1;
    fit_block(F);
    return write_block(cmd, file, F, po, k, 1);
}

/* ---- the --sorted pipeline ------------------------------------------------
 * This thread parses block after block; `nthreads` workers, started once,
 * take chunks of MP_BATCH_GRAIN analyses of the queued blocks in order,
 * fit them (mp_pool_many) and format their rows into the chunk's own
 * buffer.  Whichever worker finishes a chunk writes, if no other worker is
 * writing, every chunk that is next in file order and done, and after a
 * block's last chunk the block's warnings; so the workers move on to the
 * next block without waiting for the slowest chunk or for the write, and
 * the output is the same for any --threads. */

/* Blocks in the ring: one being parsed, the others queued or being fitted
 * and written. */
#define PIPE_BLOCKS 3

typedef struct pblock {
    block b;            /* analyses, results (b.out/b.seg only for write_partial) */
    outbuf *cbuf;       /* one text buffer per chunk */
    unsigned char *done;/* per chunk: fitted and formatted */
    size_t ccap;        /* allocated entries of cbuf/done */
    size_t nchunks;     /* chunks of this block */
    size_t next;        /* the next chunk to hand out */
    size_t kmax;        /* the largest analysis */
} pblock;

typedef struct pipeline {
    pthread_mutex_t mu;
    pthread_cond_t work;  /* to the workers: a block was queued, or stop */
    pthread_cond_t space; /* to the parser: a block was written */
    pblock blk[PIPE_BLOCKS];
    size_t head, nq;      /* the queue: blk[(head + i) % PIPE_BLOCKS], i < nq, in file order */
    size_t wchunk;        /* the head block's next chunk to write */
    int writing;          /* a thread is writing */
    int stop;             /* no more blocks will come */
    int nomem;            /* memory ran out, or a write failed */
    const char *cmd, *file;
    const mp_pool_opts *po;
    batch_sink *k;
    int merge;            /* write_block_tail's `merge` */
    outbuf *spare;        /* text buffers of chunks written, for the next chunks */
    size_t nspare, spare_cap;
    pthread_t *tid;       /* the workers */
    long started;         /* how many are running */
} pipeline;

static void pipe_free(pipeline *P);

/* Make P->blk[i] ready for its d.n analyses; -1 when memory runs out. */
static int pblock_ready(pblock *B)
{
    /* a status and an iteration count per analysis; the results stay in
     * the worker's scratch (248 bytes each: 250 MB of page faults for
     * 10^6 analyses in one block) */
    block *b = &B->b;
    size_t n = b->d.n, m = n ? n : 1, nc = (n + MP_BATCH_GRAIN - 1) / MP_BATCH_GRAIN;
    if (m > b->cap || !b->niter) {
        mp_status *st = realloc(b->st, m * sizeof *st);
        if (st) b->st = st;
        size_t *it = realloc(b->niter, m * sizeof *it);
        if (it) b->niter = it;
        if (!st || !it) return -1;
        b->cap = m;
    }
    if (nc > B->ccap) {
        outbuf *c = realloc(B->cbuf, nc * sizeof *c);
        if (!c) return -1;
        B->cbuf = c;
        memset(c + B->ccap, 0, (nc - B->ccap) * sizeof *c);
        unsigned char *d = realloc(B->done, nc);
        if (!d) return -1;
        B->done = d;
        B->ccap = nc;
    }
    if (nc) memset(B->done, 0, nc);
    B->nchunks = nc;
    B->next = 0;
    B->kmax = 0;
    for (size_t a = 0; a < n; a++) {
        size_t k = B->b.d.off[a + 1] - B->b.d.off[a];
        if (k > B->kmax) B->kmax = k;
    }
    return 0;
}

static void pblock_free(pblock *B)
{
    block_free(&B->b);
    for (size_t c = 0; c < B->ccap; c++) free(B->cbuf[c].p);
    free(B->cbuf);
    free(B->done);
}

/* Keep the buffer of a chunk just written for a later chunk (or free it
 * if the list cannot grow); P->mu held. */
static void pipe_spare(pipeline *P, outbuf *ob)
{
    if (P->nspare == P->spare_cap) {
        size_t m = P->spare_cap ? 2 * P->spare_cap : 16;
        outbuf *q = realloc(P->spare, m * sizeof *q);
        if (q) {
            P->spare = q;
            P->spare_cap = m;
        }
    }
    if (P->nspare < P->spare_cap) P->spare[P->nspare++] = *ob;
    else free(ob->p);
    memset(ob, 0, sizeof *ob);
}

/* Write, in file order, the chunks that are done and the warnings of the
 * blocks completed; called with P->mu held and P->writing set by the
 * caller, returns with it held.  The lock is let go around each write, so
 * the other workers go on taking chunks. */
static void pipe_write(pipeline *P)
{
    while (P->nq > 0) {
        pblock *B = &P->blk[P->head];
        if (P->wchunk < B->nchunks) {
            size_t c = P->wchunk;
            if (!B->done[c]) break;
            P->wchunk++;
            pthread_mutex_unlock(&P->mu);
            outbuf *ob = &B->cbuf[c];
            int bad = ob->nomem || batch_sink_write(P->k, ob->p, ob->n);
            pthread_mutex_lock(&P->mu);
            if (bad) P->nomem = 1;
            pipe_spare(P, ob);
            continue;
        }
        pthread_mutex_unlock(&P->mu);
        int bad = write_block_tail(P->cmd, P->file, &B->b, P->po, P->k, P->merge);
        pthread_mutex_lock(&P->mu);
        if (bad) P->nomem = 1;
        P->head = (P->head + 1) % PIPE_BLOCKS;
        P->nq--;
        P->wchunk = 0;
        pthread_cond_signal(&P->space);
    }
}

/* Write what is ready unless another thread is at it; P->mu held. */
static void pipe_try_write(pipeline *P)
{
    if (P->writing) return;
    P->writing = 1;
    pipe_write(P);
    P->writing = 0;
}

static void *pipe_worker(void *arg)
{
    pipeline *P = arg;
    mp_pool_workspace *w = NULL;
    size_t wk = 0;
    mp_pool_result *res = malloc(MP_BATCH_GRAIN * sizeof *res); /* one chunk's results */
    pthread_mutex_lock(&P->mu);
    for (;;) {
        pblock *B = NULL;
        for (size_t i = 0; i < P->nq && !B; i++) {
            pblock *q = &P->blk[(P->head + i) % PIPE_BLOCKS];
            if (q->next < q->nchunks) B = q;
        }
        if (!B) {
            if (P->stop) break;
            pthread_cond_wait(&P->work, &P->mu);
            continue;
        }
        size_t c = B->next++;
        /* a buffer of a chunk already written, if there is one: the text
         * in flight stays small however large the block */
        if (P->nspare > 0 && !B->cbuf[c].p) B->cbuf[c] = P->spare[--P->nspare];
        pthread_mutex_unlock(&P->mu);
        if (B->kmax > wk) {
            mp_pool_workspace_free(w);
            w = mp_pool_workspace_alloc(B->kmax);
            wk = w ? B->kmax : 0;
        }
        const mp_batch_data *d = &B->b.d;
        size_t first = c * MP_BATCH_GRAIN;
        size_t count = d->n - first < MP_BATCH_GRAIN ? d->n - first : MP_BATCH_GRAIN;
        outbuf *ob = &B->cbuf[c];
        ob->n = 0;
        ob->nomem = 0;
        mp_status *st = B->b.st + first;
        if (!w || !res) {
            ob->nomem = 1;
            for (size_t i = 0; i < count; i++) st[i] = MP_ENOMEM;
        } else {
            mp_pool_many(d->y, d->v, d->off + first, count, P->po, w, res, st);
            format_rows(ob, d, first, count, res, st);
            for (size_t i = 0; i < count; i++) B->b.niter[first + i] = res[i].niter;
        }
        pthread_mutex_lock(&P->mu);
        B->done[c] = 1;
        pipe_try_write(P);
    }
    pthread_mutex_unlock(&P->mu);
    mp_pool_workspace_free(w);
    free(res);
    return NULL;
}

/* One thread: read, fit and write block after block. */
static mp_status sorted_run_serial(const char *cmd, mp_batch_reader *rd, const char *file,
                                   const mp_pool_opts *po, batch_sink *k, mp_error *err)
{
    block B;
    memset(&B, 0, sizeof B);
    mp_status ret = MP_OK;
    if (blocks_alloc(&B, 1, 1, po)) { k->nomem = 1; ret = MP_ENOMEM; goto out; }
    for (int eof = 0; !eof;) {
        mp_status s = mp_batch_read_sorted(rd, BATCH_BLOCK_ROWS, &B.d, &eof, err);
        if (s != MP_OK) {
            if (write_partial(cmd, file, rd, &B, po, k)) k->nomem = 1;
            ret = s;
            break;
        }
        if (block_alloc(&B)) { k->nomem = 1; break; }
        fit_block(&B);
        if (write_block(cmd, file, &B, po, k, 1)) { k->nomem = 1; break; }
    }
out:
    block_free(&B);
    if (k->nomem && ret == MP_OK) ret = MP_ENOMEM;
    return ret;
}

/* Start the pipeline's workers; the number started (0: none could be, or
 * memory ran out, and P is already freed). */
static long pipe_open(pipeline *P, const char *cmd, const char *file, const mp_pool_opts *po,
                      batch_sink *k, long nthreads, int merge)
{
    memset(P, 0, sizeof *P);
    P->cmd = cmd;
    P->file = file;
    P->po = po;
    P->k = k;
    P->merge = merge;
    pthread_mutex_init(&P->mu, NULL);
    pthread_cond_init(&P->work, NULL);
    pthread_cond_init(&P->space, NULL);
    P->tid = calloc((size_t)nthreads, sizeof *P->tid);
    int bad = !P->tid;
    for (int i = 0; i < PIPE_BLOCKS; i++)
        if (blocks_alloc(&P->blk[i].b, 1, nthreads, po)) bad = 1;
    for (long t = 0; !bad && t < nthreads; t++) {
        if (pthread_create(&P->tid[t], NULL, pipe_worker, P) != 0) break;
        P->started++;
    }
    if (P->started == 0) pipe_free(P);
    return P->started;
}

/* The next free block of the ring (waits while all are queued); NULL
 * once memory has run out or a write has failed. */
static pblock *pipe_slot(pipeline *P)
{
    pthread_mutex_lock(&P->mu);
    while (P->nq == PIPE_BLOCKS && !P->nomem) pthread_cond_wait(&P->space, &P->mu);
    pblock *B = P->nomem ? NULL : &P->blk[(P->head + P->nq) % PIPE_BLOCKS];
    pthread_mutex_unlock(&P->mu);
    return B;
}

/* Queue block B (from pipe_slot(), its analyses read) for the workers. */
static void pipe_submit(pipeline *P, pblock *B)
{
    int nomem = pblock_ready(B);
    pthread_mutex_lock(&P->mu);
    if (nomem) {
        P->nomem = 1;
    } else {
        P->nq++;
        if (B->nchunks) pthread_cond_broadcast(&P->work);
        else pipe_try_write(P); /* nothing to fit: its warnings may be due */
    }
    pthread_mutex_unlock(&P->mu);
}

/* Let the workers finish every queued block and go; what is left to write
 * (blocks with no chunks) is written here.  Sets k->nomem on failure. */
static void pipe_close(pipeline *P)
{
    pthread_mutex_lock(&P->mu);
    P->stop = 1;
    pthread_cond_broadcast(&P->work);
    pthread_mutex_unlock(&P->mu);
    for (long t = 0; t < P->started; t++) pthread_join(P->tid[t], NULL);
    P->started = 0;
    pthread_mutex_lock(&P->mu);
    pipe_try_write(P);
    pthread_mutex_unlock(&P->mu);
    if (P->nomem) P->k->nomem = 1;
}

static void pipe_free(pipeline *P)
{
    for (int i = 0; i < PIPE_BLOCKS; i++) pblock_free(&P->blk[i]);
    for (size_t i = 0; i < P->nspare; i++) free(P->spare[i].p);
    free(P->spare);
    free(P->tid);
    P->tid = NULL;
    pthread_mutex_destroy(&P->mu);
    pthread_cond_destroy(&P->work);
    pthread_cond_destroy(&P->space);
}

mp_status batch_sorted_run(const char *cmd, mp_batch_reader *rd, const char *file,
                           const mp_pool_opts *po, long nthreads, batch_sink *k, mp_error *err)
{
    pipeline P;
    if (nthreads <= 1 || pipe_open(&P, cmd, file, po, k, nthreads, 1) == 0)
        return sorted_run_serial(cmd, rd, file, po, k, err); /* one thread does it all */
    /* the blocks grow from BATCH_FIRST_ROWS to BATCH_BLOCK_ROWS, so the
     * workers start early (the first block is parsed with nothing to
     * overlap) */
    mp_status ret = MP_OK;
    size_t rows = BATCH_FIRST_ROWS;
    pblock *bad = NULL;
    for (int eof = 0; !eof;) {
        pblock *B = pipe_slot(&P);
        if (!B) break;
        mp_status s = mp_batch_read_sorted(rd, rows, &B->b.d, &eof, err);
        if (rows < BATCH_BLOCK_ROWS) rows *= 2;
        if (s != MP_OK) {
            ret = s;
            bad = B;
            break;
        }
        pipe_submit(&P, B);
    }
    pipe_close(&P);
    if (bad && !k->nomem && write_partial(cmd, file, rd, &bad->b, po, k)) k->nomem = 1;
    pipe_free(&P);
    if (k->nomem && ret == MP_OK) ret = MP_ENOMEM;
    return ret;
}

/* Without --sorted, on two or more threads, when the input can be read
 * again and the output cut back (both regular files): read the input as
 * --sorted does, writing straight to the output, in case it is sorted by
 * the group.  Then parsing overlaps the fits (a whole-file read must see
 * the last row before any group is known to be complete), and the result
 * is the same: the groups in order of first appearance are the groups in
 * file order, and the warnings are held back and shown in the whole-file
 * order (the rows', then the groups').  A group that comes back (the
 * filter's suspects are verified every 16, so it is known soon after),
 * any bad input, or more groups than a whole-file grouping may hold ends
 * the attempt: the output is cut back to where it started, the reader
 * opened again, and the whole-file path runs and reports what it finds.
 * At worst (sorted but for a group that comes back near the end) the
 * command takes the time of both.  Returns 1 when done (*status set; the
 * warnings are in k for batch_sink_warn_end), 0 to go on with the
 * whole-file path (with *rd opened again), -1 on an error (printed,
 * *status set). */
static int whole_as_sorted(const cli_common *c, const char *cmd, const char *file,
                           const mp_pool_opts *po, long nthreads, FILE *out, batch_sink *k,
                           mp_batch_reader **rd, int *status)
{
    struct stat si, so;
    mp_table_limits lim;
    mp_table_limits_get(&lim);
    if (nthreads < 2 || strcmp(c->file, "-") == 0 || stat(c->file, &si) != 0 ||
        !S_ISREG(si.st_mode) || (uint64_t)si.st_size > lim.file_bytes)
        return 0;
    if (fflush(out) != 0 || fstat(fileno(out), &so) != 0 || !S_ISREG(so.st_mode)) return 0;
    /* where our output starts: opened for appending (`>>`), every write
     * goes to the end, which is the file's size now (nothing written yet) */
    int fl = fcntl(fileno(out), F_GETFL);
    off_t start = fl != -1 && (fl & O_APPEND) ? so.st_size : ftello(out);
    if (fl == -1 || start < 0) return 0;
    mp_batch_reader_suspects(*rd, 16);
    batch_sink t;
    memset(&t, 0, sizeof t);
    t.f = out;
    t.keep = 1;
    mp_msgs rows = {0};
    t.rowkeep = &rows;
    t.max_groups = lim.groups; /* past it the whole-file read reports the limit: stop early */
    mp_error err;
    mp_error_clear(&err);
    mp_status s = MP_ENOMEM;
    if (batch_sink_write(&t, BATCH_CSV_HEADER, strlen(BATCH_CSV_HEADER)) == 0)
        s = batch_sorted_run(cmd, *rd, file, po, nthreads, &t, &err);
    int done = s == MP_OK && !t.nomem && t.groups <= lim.groups;
    int ret = 1;
    if (done) {
        cli_warnings_n(cmd, &rows, t.nrowwarn);
        for (size_t i = 0; i < t.kept.n && i <= BATCH_WARN_SHOWN; i++)
            batch_sink_warn(k, cmd, t.kept.v[i]);
        k->nwarn = t.nwarn;
        k->failed = t.failed;
        *status = CLI_OK;
    } else if (fflush(out) != 0 || ftruncate(fileno(out), start) != 0 ||
               fseeko(out, start, SEEK_SET) != 0) {
        cli_errorf(cmd, "%s: write error: %s", c->output ? c->output : "<stdout>", strerror(errno));
        *status = CLI_FAIL;
        ret = -1;
    } else {
        mp_batch_reader_free(*rd);
        *rd = NULL;
        s = mp_batch_reader_open(c->file, c->group, &c->es, 0, rd, &err);
        if (s != MP_OK) {
            cli_input_error(cmd, &err);
            *status = input_status(s);
            ret = -1;
        } else {
            ret = 0;
        }
    }
    mp_msgs_free(&rows);
    batch_sink_free(&t);
    return ret;
}

int cmd_batch(int argc, char **argv)
{
    cli_common c;
    int go = cli_parse(&batch_spec, argc, argv, &c);
    if (go != CLI_GO_ON) return go;
    {   /* several processes started by mpirun: batch_mpi.c shares the work */
        mp_pool_opts mpo = c.pool;
        mpo.tau2_ci = 0;
        int rc = batch_mpi(&c, &mpo);
        if (rc >= 0) return rc;
    }
    if (c.mh != MP_MH_NONE && c.output && !freopen(c.output, "wb", stdout)) {
        cli_errorf("batch", "%s: cannot write: %s", c.output, strerror(errno));
        return CLI_USAGE;
    }
    if (c.mh != MP_MH_NONE) return batch_mh(&c);
    const char *cmd = "batch", *group = c.group;
    long nthreads = c.threads;
    int sorted = c.sorted;
    mp_pool_opts po = c.pool;
    po.tau2_ci = 0; /* the Q-profile CI is not part of the batch row */
    if (po.method == MP_METHOD_FE && po.test == MP_TEST_KNHA) /* as metafor, and as pool */
        cli_errorf(cmd, "warning: the Knapp-Hartung adjustment is not meant for the fixed-effect model");

    mp_error err;
    mp_error_clear(&err);
    mp_batch_reader *rd = NULL;
    mp_status s = mp_batch_reader_open(c.file, group, &c.es, 0, &rd, &err);
    if (s != MP_OK) { cli_input_error(cmd, &err); return input_status(s); }

    FILE *out = stdout;
    static char obuf[1 << 16];
    if (c.output) {
        out = fopen(c.output, "wb");
        if (!out) {
            cli_errorf(cmd, "%s: cannot write: %s", c.output, strerror(errno));
            mp_batch_reader_free(rd);
            return CLI_USAGE;
        }
    }
    setvbuf(out, obuf, _IOFBF, sizeof obuf);
    batch_sink k;
    memset(&k, 0, sizeof k);
    k.f = out;
    block B; /* the whole file, without --sorted */
    memset(&B, 0, sizeof B);
    int status = CLI_OK;
    const char *file = c.file;
    if (strcmp(file, "-") == 0) file = "<stdin>";

    int tried = sorted ? 0 : whole_as_sorted(&c, cmd, file, &po, nthreads, out, &k, &rd, &status);
    if (tried < 0) goto out;
    if (tried > 0) {
        batch_sink_warn_end(&k, cmd);
    } else if (!sorted) {
        if (blocks_alloc(&B, 1, nthreads, &po)) { cli_errorf(cmd, "out of memory"); status = CLI_FAIL; goto out; }
        s = mp_batch_read_all(rd, &B.d, &err);
        if (s != MP_OK) { cli_input_error(cmd, &err); status = input_status(s); goto out; }
        cli_warnings(cmd, &B.d.warnings);
        /* the header goes out with the rows: bad input leaves the output empty */
        pipeline P;
        if (nthreads > 1 && pipe_open(&P, cmd, file, &po, &k, nthreads, 0) > 0) {
            /* the workers fit and write the one block chunk by chunk, so
             * the writing overlaps the fits */
            if (batch_sink_write(&k, BATCH_CSV_HEADER, strlen(BATCH_CSV_HEADER))) k.nomem = 1;
            pblock *S = k.nomem ? NULL : pipe_slot(&P);
            if (S) {
                mp_batch_data t = S->b.d;
                S->b.d = B.d;
                B.d = t;
                pipe_submit(&P, S);
            }
            pipe_close(&P);
            pipe_free(&P);
            if (k.nomem) {
                cli_errorf(cmd, "out of memory or write error");
                status = CLI_FAIL;
                goto out;
            }
        } else {
            /* one thread: fit everything, then write */
            if (block_alloc(&B)) { cli_errorf(cmd, "out of memory"); status = CLI_FAIL; goto out; }
            fit_block(&B);
            if (batch_sink_write(&k, BATCH_CSV_HEADER, strlen(BATCH_CSV_HEADER)) ||
                write_block(cmd, file, &B, &po, &k, 0)) {
                cli_errorf(cmd, "out of memory or write error");
                status = CLI_FAIL;
                goto out;
            }
        }
        batch_sink_warn_end(&k, cmd);
    } else {
        /* the header goes out at once: after bad input the output holds the
         * groups before it (batch_sorted_run), as an MPI run writes them */
        if (batch_sink_write(&k, BATCH_CSV_HEADER, strlen(BATCH_CSV_HEADER))) k.nomem = 1;
        s = k.nomem ? MP_ENOMEM : batch_sorted_run(cmd, rd, file, &po, nthreads, &k, &err);
        batch_sink_warn_end(&k, cmd);
        if (k.nomem) { cli_errorf(cmd, "out of memory or write error"); status = CLI_FAIL; goto out; }
        if (s != MP_OK) {
            fflush(out);
            cli_input_error(cmd, &err);
            status = input_status(s);
            goto out;
        }
    }
    if (k.failed > 0) status = CLI_FAIL;
out:
    if (fflush(out) != 0 && status == CLI_OK) { cli_errorf(cmd, "write error"); status = CLI_FAIL; }
    if (out != stdout && fclose(out) != 0 && status == CLI_OK) {
        cli_errorf(cmd, "%s: write error", c.output);
        status = CLI_FAIL;
    }
    block_free(&B);
    batch_sink_free(&k);
    mp_batch_reader_free(rd);
    return status;
}
