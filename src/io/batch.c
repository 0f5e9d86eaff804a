/* src/batch.c - batch mode: streaming grouped input and threaded fits of many analyses.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Three layers (see include/metapool/batch.h):
 *
 * 1. mp_csv_stream reads a delimited file chunk by chunk.  After each read
 *    it scans the new bytes once, tracking the parity of double quotes (an
 *    RFC 4180 escaped quote "" toggles twice, so parity tells whether a
 *    position is inside a quoted field) and remembering the last line end
 *    outside quotes: everything before it is a run of complete rows that can
 *    be split in place exactly as src/table.c does, with the same messages.
 *    The tail (a partial row) is moved to the front before the next read.
 *    The same scan finds control bytes, which table.c rejects up front.
 *
 * 2. mp_batch_reader turns rows into (group, yi, vi) with the per-row
 *    effect-size functions of escalc.h, columns chosen by the same rules as
 *    mp_effects_compute(), and collects them as struct-of-arrays: all
 *    effects, all variances, offsets.  Unsorted input is grouped with an
 *    open-addressing hash table and a stable counting sort (so each group
 *    keeps its rows in file order and the sums are formed in the order
 *    mp_pool() sees on the same rows).  Sorted input is cut into blocks of
 *    whole groups; a group that comes back is found in fixed memory (a
 *    Bloom filter, exact second look in a temporary file: see
 *    "sorted mode: groups that come back" below).
 *
 * 3. mp_pool_batch() runs mp_pool_many() on chunks of MP_BATCH_GRAIN
 *    analyses that its threads take from a shared counter; results are
 *    written at their own index, so the outcome is the same for any thread
 *    count. */
#include "metapool/batch.h"
#include "metapool/table.h"
#include "internal.h"
#include "effects/es_internal.h"

#include <errno.h>
#include <float.h>
#include <gsl/gsl_cdf.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#if defined(__SSE2__) && !defined(MP_BATCH_NO_SIMD)
#include <emmintrin.h>
#endif

/* The few small functions of the per-row path that must be inlined whatever
 * the compiler's size heuristics say (measured: parse_two() left out of line
 * cost a call, spills and reloads on every row). */
#if defined(__GNUC__)
#define MP_INLINE static inline __attribute__((always_inline))
#else
#define MP_INLINE static inline
#endif

/* ======================================================================
 * threaded fits
 * ====================================================================== */

/* What the threads of one mp_pool_batch() call share.  The analyses are
 * taken in chunks of MP_BATCH_GRAIN from one counter: a thread that gets
 * less of a core (with 2 threads on 2 cores, one of them shares its core
 * with `batch --sorted`'s parser) takes fewer chunks instead of holding up
 * the others with a fixed half of the work, as equal ranges did (measured:
 * the fits of a block then ended ~30% apart). */
typedef struct {
    const double *y, *v;    /* all effects and variances */
    const size_t *off;      /* all offsets (n + 1) */
    size_t n;               /* analyses */
    size_t kmax;            /* the largest k: the size of each workspace */
    const mp_pool_opts *o;  /* model */
    mp_pool_result *res;    /* all results (written at their index) */
    mp_status *status;      /* all statuses, or NULL */
    mp_batch_done_fn done;  /* callback after each chunk, or NULL */
    void *ctx;              /* its context */
    atomic_size_t next;     /* the next chunk to take */
    atomic_size_t ndone;    /* chunks fitted */
} batch_shared;

/* One thread of mp_pool_batch(). */
typedef struct {
    batch_shared *sh;
    unsigned thread;    /* index of this thread */
    size_t fail_at;     /* first analysis of the earliest chunk with a failure (SIZE_MAX: none) */
    mp_status fail;     /* that chunk's first failing status */
    int started;        /* runs in its own thread (joined at the end) */
} batch_job;

static void *batch_worker(void *arg)
{
    batch_job *j = arg;
    batch_shared *S = j->sh;
    mp_pool_workspace *w = mp_pool_workspace_alloc(S->kmax);
    if (!w) return NULL; /* the other threads take the chunks; none left undone goes unseen */
    for (;;) {
        size_t c = atomic_fetch_add_explicit(&S->next, 1, memory_order_relaxed);
        if (c >= (S->n + MP_BATCH_GRAIN - 1) / MP_BATCH_GRAIN) break;
        size_t first = c * MP_BATCH_GRAIN, count = S->n - first < MP_BATCH_GRAIN ? S->n - first : MP_BATCH_GRAIN;
        mp_status st = mp_pool_many(S->y, S->v, S->off + first, count, S->o, w, S->res + first,
                                    S->status ? S->status + first : NULL);
        if (st != MP_OK && first < j->fail_at) { j->fail_at = first; j->fail = st; }
        if (S->done) S->done(S->ctx, j->thread, first, count, S->res, S->status);
        atomic_fetch_add_explicit(&S->ndone, 1, memory_order_relaxed);
    }
    mp_pool_workspace_free(w);
    return NULL;
}

mp_status mp_pool_batch(const double *y, const double *v, const size_t *off, size_t n,
                        const mp_pool_opts *o, unsigned nthreads, mp_pool_result *res,
                        mp_status *status, mp_batch_done_fn done, void *ctx)
{
    mp_pool_opts def;
    if (!o) { mp_pool_opts_init(&def); o = &def; }
    if ((!y || !v || !res) && n) return MP_FAIL(MP_EINVAL);
    if (!off) return MP_FAIL(MP_EINVAL);
    size_t kmax = 0;
    for (size_t a = 0; a < n; a++) {
        if (off[a + 1] < off[a]) return MP_FAIL(MP_EINVAL);
        if (off[a + 1] - off[a] > kmax) kmax = off[a + 1] - off[a];
    }
    size_t nchunks = (n + MP_BATCH_GRAIN - 1) / MP_BATCH_GRAIN;
    if (nthreads == 0) nthreads = 1;
    if (nthreads > 1024) nthreads = 1024;
    if (nthreads > nchunks) nthreads = nchunks ? (unsigned)nchunks : 1;

    batch_job stack_jobs[8];
    batch_job *jobs = nthreads <= 8 ? stack_jobs : calloc(nthreads, sizeof *jobs);
    pthread_t *tid = malloc(nthreads * sizeof *tid);
    if (!jobs || !tid) {
        if (jobs != stack_jobs) free(jobs);
        free(tid);
        return MP_FAIL(MP_ENOMEM);
    }
    batch_shared S = {y, v, off, n, kmax, o, res, status, done, ctx, 0, 0};
    atomic_init(&S.next, 0);
    atomic_init(&S.ndone, 0);
    for (unsigned t = 0; t < nthreads; t++) jobs[t] = (batch_job){&S, t, SIZE_MAX, MP_OK, 0};
    /* thread t > 0 runs in its own thread; one that cannot be started
     * simply takes no chunks (the others take them: same results) */
    for (unsigned t = 1; t < nthreads; t++)
        jobs[t].started = pthread_create(&tid[t], NULL, batch_worker, &jobs[t]) == 0;
    batch_worker(&jobs[0]);
    size_t fail_at = SIZE_MAX;
    mp_status first = MP_OK;
    for (unsigned t = 0; t < nthreads; t++) {
        if (t > 0 && jobs[t].started) pthread_join(tid[t], NULL);
        if (jobs[t].fail_at < fail_at) { fail_at = jobs[t].fail_at; first = jobs[t].fail; }
    }
    if (jobs != stack_jobs) free(jobs);
    free(tid);
    /* a chunk left undone: no thread had a workspace */
    if (atomic_load(&S.ndone) < nchunks) return MP_FAIL(MP_ENOMEM);
    return first;
}

/* ======================================================================
 * streaming delimited-text reader
 * ====================================================================== */

/* Bytes allocated beyond cap so that 32-byte loads at any position <= len
 * (< cap) stay inside the buffer; they are zeroed after each read. */
#define MP_STREAM_SLACK 32

struct mp_csv_stream {
    FILE *f;              /* input */
    int is_stdin;         /* do not close f */
    char name[256];       /* file name for messages */
    char *buf;            /* chunk buffer; buf[len] is always a NUL guard */
    size_t cap;           /* allocated bytes of buf */
    size_t len;           /* bytes of input held in buf */
    size_t pos;           /* parse position (start of the next row) */
    size_t pos_ls;        /* where the line at pos starts (differs after a BOM) */
    size_t lim;           /* end of the complete rows found by the scan */
    size_t scan;          /* how far the quote/line-end scan has got */
    int inq;              /* quote parity at `scan` */
    int eof;              /* the input is exhausted (all of it is in buf) */
    size_t consumed;      /* bytes dropped from the front of buf so far */
    size_t line;          /* source line at pos */
    char delim;           /* ',', ';' or '\t' */
    unsigned char cls[256];  /* bytes that end an unquoted run: delimiter, CR, LF,
                                quote, control bytes (NUL included), DEL */
    unsigned char qcls[256]; /* bytes that need a look inside quotes: quote, LF,
                                control bytes, DEL */
    size_t ncols;         /* header fields */
    char **hdr;           /* ncols column names (own copies) */
    size_t hdr_line;      /* line of the header */
    size_t nrows;         /* data rows returned so far */
    char **cell;          /* ncols cell pointers of the current row */
    size_t *clen;         /* ncols cell lengths */
    size_t *cpos;         /* ncols 1-based columns */
    size_t *cline;        /* ncols 1-based lines of the cells */
    int header;           /* the header has not been read yet */
    size_t rowcap;        /* allocated entries of cell/clen/cpos */
    size_t remain;        /* bytes left to read (a range: see mp_csv_stream_open_range) */
    int range;            /* reading a byte range: an empty one is not an error */
};

static int is_ctrl(unsigned char c) { return (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f; }

static void stream_classes(mp_csv_stream *s)
{
    for (int c = 0; c < 256; c++) {
        unsigned char u = (unsigned char)c;
        s->cls[c] = is_ctrl(u) || u == '\n' || u == '\r' || u == '"' || u == (unsigned char)s->delim;
        s->qcls[c] = is_ctrl(u) || u == '\n' || u == '\r' || u == '"';
    }
}

/* Find the end of the complete rows in buf[scan .. end): the last line end
 * outside quotes.  Without a quote in the new bytes (the common case) that
 * is just the last CR or LF, found from the back; otherwise the bytes are
 * walked once, tracking quote parity.  A '\r' as the very last byte read is
 * left for the next scan (a '\n' may follow). */
static void stream_scan(mp_csv_stream *s)
{
    size_t end = s->len;
    if (!s->eof && end > s->scan && s->buf[end - 1] == '\r') end--;
    const char *b = s->buf;
    size_t i = s->scan, last = s->lim;
    if (!s->inq && !memchr(b + i, '"', end - i)) {
        for (size_t j = end; j > i; j--)
            if (b[j - 1] == '\n' || b[j - 1] == '\r') { last = j; break; }
    } else {
        int inq = s->inq;
        for (; i < end; i++) {
            char c = b[i];
            if (c == '"') inq ^= 1;
            else if ((c == '\n' || c == '\r') && !inq) last = i + 1;
        }
        s->inq = inq;
    }
    s->scan = end;
    s->lim = last;
    if (s->eof) s->lim = s->len;
}

static mp_status stream_bad_byte(mp_csv_stream *s, unsigned char ch, size_t line, size_t col,
                                 mp_error *err);

/* One row fills the whole buffer [pos, len): before the buffer grows, its
 * bytes are checked as table.c checks them on arrival (a control byte is an
 * error at its line and column), and a row past the row limit (table.h,
 * MP_TABLE_MAX_ROW_BYTES) is refused, so endless input without line ends (/dev/zero, `yes | tr -d
 * '\n'`) stops at once or at that limit instead of filling memory.  Each
 * check walks the row from its start; the buffer doubles in between, so
 * all the walks add up to twice the row. */
static mp_status stream_long_row(mp_csv_stream *s, mp_error *err)
{
    const unsigned char *b = (const unsigned char *)s->buf;
    size_t line = s->line, ls = s->pos_ls, qline = 0, qcol = 0;
    int inq = 0;
    for (size_t j = s->pos; j < s->len; j++) {
        unsigned char ch = b[j];
        if (ch == '"') {
            inq ^= 1;
            if (inq) { qline = line; qcol = j - ls + 1; }
        } else if (ch == '\n' || ch == '\r') {
            if (!(ch == '\n' && j > 0 && b[j - 1] == '\r')) line++;
            ls = j + 1;
        } else if (is_ctrl(ch)) {
            return stream_bad_byte(s, ch, line, j - ls + 1, err);
        }
    }
    if (s->len - s->pos <= mp_limits()->row_bytes) return MP_OK;
    return inq ? mp_limit_row(err, s->name, qline, qcol, 1) : mp_limit_row(err, s->name, s->line, 1, 0);
}

/* Make room and read more input; keeps [pos, len) at the front of buf. */
static mp_status stream_fill(mp_csv_stream *s, mp_error *err)
{
    if (s->eof) return MP_OK;
    if (s->pos > 0) {
        size_t keep = s->len - s->pos;
        memmove(s->buf, s->buf + s->pos, keep);
        s->consumed += s->pos;
        s->len = keep;
        s->scan = s->scan > s->pos ? s->scan - s->pos : 0;
        s->lim = s->lim > s->pos ? s->lim - s->pos : 0;
        s->pos_ls = s->pos_ls > s->pos ? s->pos_ls - s->pos : 0;
        s->pos = 0;
    }
    if (s->cap - s->len < 2) { /* one row fills the buffer: check it, grow it */
        mp_status st = stream_long_row(s, err);
        if (st != MP_OK) return st;
        char *nb = s->cap > SIZE_MAX / 4 ? NULL : realloc(s->buf, s->cap * 2 + MP_STREAM_SLACK);
        if (!nb) {
            mp_error_set(err, s->name, s->line, 0, "cannot read: out of memory");
            return MP_FAIL(MP_ENOMEM);
        }
        s->buf = nb;
        s->cap *= 2;
    }
    size_t want = s->cap - s->len - 1;
    if (want > s->remain) want = s->remain;
    size_t got = want ? fread(s->buf + s->len, 1, want, s->f) : 0;
    s->len += got;
    s->remain -= got;
    memset(s->buf + s->len, 0, MP_STREAM_SLACK + 1); /* NUL guard + SIMD slack */
    if (s->remain == 0) s->eof = 1; /* the end of a range */
    else if (got == 0) {
        if (ferror(s->f)) {
            mp_error_set(err, s->name, 0, 0, "cannot read: %s", strerror(errno));
            return MP_FAIL(MP_EIO);
        }
        s->eof = 1;
    }
    stream_scan(s);
    return MP_OK;
}

/* The message table.c gives for a control byte at line/col. */
static mp_status stream_bad_byte(mp_csv_stream *s, unsigned char ch, size_t line, size_t col,
                                 mp_error *err)
{
    if (ch == 0)
        mp_error_set(err, s->name, line, col, "NUL byte in input (binary data?)");
    else
        mp_error_set(err, s->name, line, col, "control byte 0x%02x in input (binary data?)", ch);
    return MP_FAIL(MP_EPARSE);
}

static int stream_rowcap(mp_csv_stream *s, size_t n)
{
    if (n <= s->rowcap) return 0;
    size_t m = s->rowcap ? s->rowcap * 2 : 16;
    while (m < n) m *= 2;
    char **c = realloc(s->cell, m * sizeof *c);
    if (c) s->cell = c;
    size_t *l = realloc(s->clen, m * sizeof *l);
    if (l) s->clen = l;
    size_t *p = realloc(s->cpos, m * sizeof *p);
    if (p) s->cpos = p;
    size_t *q = realloc(s->cline, m * sizeof *q);
    if (q) s->cline = q;
    if (!c || !l || !p || !q) return -1;
    s->rowcap = m;
    return 0;
}

/* Make sure a complete row (or the end of input) lies in [pos, lim).  Lines
 * that are empty or hold only blanks are skipped, one line each, as table.c
 * does (a tab is a blank unless it is the delimiter; before the header,
 * always). */
static mp_status stream_need(mp_csv_stream *s, mp_error *err)
{
    for (;;) {
        while (s->pos < s->lim) {
            const char *b = s->buf;
            size_t k = s->pos;
            while (k < s->lim && (b[k] == ' ' || (b[k] == '\t' && (s->header || s->delim != '\t')))) k++;
            if (k < s->lim && b[k] != '\n' && b[k] != '\r') return MP_OK; /* a row */
            if (k - s->pos > mp_limits()->row_bytes) /* a line of blanks is a row too */
                return mp_limit_row(err, s->name, s->line, 1, 0);
            if (k >= s->lim) {
                if (s->eof) { s->pos = s->pos_ls = s->lim; return MP_OK; } /* trailing blanks */
                break; /* cannot happen: lim follows a line end */
            }
            if (b[k] == '\r' && k + 1 < s->len && b[k + 1] == '\n') k++;
            s->pos = s->pos_ls = k + 1;
            s->line++;
        }
        if (s->pos < s->lim || s->eof) return MP_OK;
        mp_status st = stream_fill(s, err);
        if (st != MP_OK) return st;
    }
}

/* Index of the first byte at or after i that ends an unquoted run (see
 * cls).  With SSE2 (every x86-64) sixteen bytes are classified at once:
 * bytes <= 0x1f, the delimiter, '"' and DEL are candidates, and the class
 * table decides (a tab is a candidate but ends a run only as delimiter).
 * This is the one place where explicit SIMD measurably pays: splitting
 * fields was a third of the ingest time as a byte loop.  The buffer has 16
 * zeroed bytes of slack after the data, so the loads stay inside it. */
static size_t skip_plain(const mp_csv_stream *s, const unsigned char *ub, size_t i)
{
#if defined(__SSE2__) && !defined(MP_BATCH_NO_SIMD)
    const __m128i k1f = _mm_set1_epi8(0x1f), kd = _mm_set1_epi8(s->delim),
                  kq = _mm_set1_epi8('"'), k7f = _mm_set1_epi8(0x7f);
    for (;;) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(ub + i));
        __m128i c = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(_mm_max_epu8(x, k1f), k1f),
                                              _mm_cmpeq_epi8(x, kd)),
                                 _mm_or_si128(_mm_cmpeq_epi8(x, kq), _mm_cmpeq_epi8(x, k7f)));
        unsigned m = (unsigned)_mm_movemask_epi8(c);
        while (m) {
            unsigned j = (unsigned)__builtin_ctz(m);
            if (s->cls[ub[i + j]]) return i + j;
            m &= m - 1;
        }
        i += 16;
    }
#else
    while (!s->cls[ub[i]]) i++;
    return i;
#endif
}

/* Split one row at s->pos (inside [pos, lim)) into fields, in place.
 * `header` rows may have any number of fields.  Mirrors table.c's parse():
 * blanks before an opening quote, lone CR line ends inside quotes, columns
 * counted from the start of the physical line (after a quoted line break,
 * from the break).  Every row in [pos, lim) ends in CR or LF, or at the NUL
 * guard at EOF, so the unquoted loop needs no bounds check. */
static mp_status stream_row(mp_csv_stream *s, int header, size_t *nf_out, size_t *rowline,
                            mp_error *err)
{
    char *b = s->buf;
    const unsigned char *ub = (const unsigned char *)b, *qcls = s->qcls;
    const size_t n = s->lim;
    const char d = s->delim;
    size_t i = s->pos, ls = s->pos_ls, nf = 0;
    const size_t row0 = s->pos, maxcols = mp_limits()->cols;
    *rowline = s->line;
    for (;;) {
        size_t fstart = i, fend, fline = s->line, fcol, q = i;
        while (q < n && b[q] == ' ') q++; /* blanks before an opening quote */
        if (header && nf == maxcols) /* one column too many: where it starts (as table.c) */
            return mp_limit_cols(err, s->name, s->line, (q < n && b[q] == '"' ? q : i) - ls + 1);
        if (q < n && b[q] == '"') {
            size_t w = q, qline = s->line, qcol = q - ls + 1;
            fstart = q;
            fline = s->line;
            fcol = q - ls + 1;
            i = q + 1;
            for (;;) {
                if (i >= n) {
                    mp_error_set(err, s->name, qline, qcol, "unterminated quoted field (opened here)");
                    return MP_FAIL(MP_EPARSE);
                }
                if (qcls[ub[i]]) {
                    char ch = b[i];
                    if (ch == '"') {
                        if (i + 1 < n && b[i + 1] == '"') { b[w++] = '"'; i += 2; continue; }
                        i++;
                        break;
                    }
                    if (ch == '\n' || (ch == '\r' && (i + 1 >= s->len || b[i + 1] != '\n'))) {
                        s->line++;
                        ls = i + 1;
                    } else if (ch != '\r') {
                        return stream_bad_byte(s, ub[i], s->line, i - ls + 1, err);
                    }
                }
                b[w++] = b[i++];
            }
            while (i < n && b[i] == ' ') i++;
            if (i < n && b[i] != d && b[i] != '\n' && b[i] != '\r') {
                if (is_ctrl(ub[i])) return stream_bad_byte(s, ub[i], s->line, i - ls + 1, err);
                mp_error_set(err, s->name, s->line, i - ls + 1,
                             "unexpected character '%c' after closing quote", b[i]);
                return MP_FAIL(MP_EPARSE);
            }
            fend = w;
        } else {
            fcol = i - ls + 1;
            i = skip_plain(s, ub, i);
            if (i < n && b[i] != d && b[i] != '\n' && b[i] != '\r') {
                if (b[i] == '"') {
                    mp_error_set(err, s->name, s->line, i - ls + 1,
                                 "quote inside an unquoted field (quote the whole field and "
                                 "double the quote)");
                    return MP_FAIL(MP_EPARSE);
                }
                return stream_bad_byte(s, ub[i], s->line, i - ls + 1, err);
            }
            fend = i;
        }
        nf++;
        if (!header && nf > s->ncols) {
            mp_error_set(err, s->name, s->line, fstart - ls + 1,
                         "row has more fields than the header's %zu", s->ncols);
            return MP_FAIL(MP_EPARSE);
        }
        if (nf > s->rowcap && stream_rowcap(s, nf)) return MP_FAIL(MP_ENOMEM);
        s->cell[nf - 1] = b + fstart;
        s->clen[nf - 1] = fend - fstart;
        s->cpos[nf - 1] = fcol;
        s->cline[nf - 1] = fline;
        if (i < n && b[i] == d) { b[fend] = '\0'; i++; continue; }
        /* end of line or of input: the row's bytes before it (the limit), then
         * look at it before the NUL may overwrite it */
        if (i - row0 > mp_limits()->row_bytes) return mp_limit_row(err, s->name, *rowline, 1, 0);
        size_t eolline = s->line, eolcol = i - ls + 1;
        if (i < n && b[i] == '\r') { b[fend] = '\0'; i++; if (i < s->len && b[i] == '\n') i++; }
        else if (i < n && b[i] == '\n') { b[fend] = '\0'; i++; }
        else b[fend] = '\0';
        s->line++;
        s->pos = i;
        s->pos_ls = i;
        if (!header && nf != s->ncols) {
            mp_error_set(err, s->name, eolline, eolcol, "row has %zu field%s, the header has %zu",
                         nf, nf == 1 ? "" : "s", s->ncols);
            return MP_FAIL(MP_EPARSE);
        }
        *nf_out = nf;
        return MP_OK;
    }
}

void mp_csv_stream_free(mp_csv_stream *s)
{
    if (!s) return;
    if (s->f && !s->is_stdin) fclose(s->f);
    for (size_t j = 0; s->hdr && j < s->ncols; j++) free(s->hdr[j]);
    free(s->hdr);
    free(s->buf);
    free(s->cell);
    free(s->clen);
    free(s->cpos);
    free(s->cline);
    free(s);
}

mp_status mp_csv_stream_open(const char *path, size_t chunk, mp_csv_stream **out, mp_error *err)
{
    if (!path || !out) return MP_FAIL(MP_EINVAL);
    *out = NULL;
    mp_csv_stream *s = calloc(1, sizeof *s);
    if (!s) return MP_FAIL(MP_ENOMEM);
    s->is_stdin = strcmp(path, "-") == 0;
    snprintf(s->name, sizeof s->name, "%s", s->is_stdin ? "<stdin>" : path);
    s->line = 1;
    s->header = 1;
    s->remain = SIZE_MAX;
    s->cap = chunk >= 64 ? chunk : (size_t)1 << 20;
    s->buf = malloc(s->cap + MP_STREAM_SLACK);
    if (!s->buf) { free(s); return MP_FAIL(MP_ENOMEM); }
    memset(s->buf, 0, MP_STREAM_SLACK + 1);
    s->f = s->is_stdin ? stdin : fopen(path, "rb");
    if (!s->f) {
        mp_error_set(err, s->name, 0, 0, "cannot open: %s", strerror(errno));
        mp_csv_stream_free(s);
        return MP_FAIL(MP_EIO);
    }
    mp_status st = stream_fill(s, err);
    if (st != MP_OK) goto fail;
    /* BOM, then leading empty lines */
    while (!s->eof && s->len < 3) { /* a pipe may deliver less than the BOM */
        st = stream_fill(s, err);
        if (st != MP_OK) goto fail;
    }
    if (s->len >= 3 && (unsigned char)s->buf[0] == 0xEF && (unsigned char)s->buf[1] == 0xBB &&
        (unsigned char)s->buf[2] == 0xBF)
        s->pos = s->pos_ls = 3; /* columns count from after the byte-order mark */
    st = stream_need(s, err);
    if (st != MP_OK) goto fail;
    if (s->pos >= s->lim) {
        mp_error_set(err, s->name, 0, 0, "empty file (no header row)");
        st = MP_FAIL(MP_EPARSE);
        goto fail;
    }
    s->delim = mp_csv_detect_delim(s->buf + s->pos, s->buf + s->lim);
    stream_classes(s);
    size_t nf, rowline;
    st = stream_row(s, 1, &nf, &rowline, err);
    if (st != MP_OK) goto fail;
    s->ncols = nf;
    s->hdr_line = rowline;
    s->header = 0;
    s->hdr = calloc(nf, sizeof *s->hdr);
    size_t *hline = malloc(nf * sizeof *hline), *hcol = malloc(nf * sizeof *hcol);
    if (!s->hdr || !hline || !hcol) { free(hline); free(hcol); st = MP_FAIL(MP_ENOMEM); goto fail; }
    /* names without surrounding blanks (a tab is a blank unless it is the
     * delimiter), as table.c keeps them */
    for (size_t j = 0; j < nf; j++) {
        const char *c = s->cell[j];
        size_t len = s->clen[j], lead = 0;
        while (lead < len && (c[lead] == ' ' || (c[lead] == '\t' && s->delim != '\t'))) lead++;
        while (len > lead && (c[len - 1] == ' ' || (c[len - 1] == '\t' && s->delim != '\t'))) len--;
        s->hdr[j] = malloc(len - lead + 1);
        if (!s->hdr[j]) { free(hline); free(hcol); st = MP_FAIL(MP_ENOMEM); goto fail; }
        memcpy(s->hdr[j], c + lead, len - lead);
        s->hdr[j][len - lead] = '\0';
        hline[j] = s->cline[j];
        hcol[j] = s->cpos[j] + lead;
    }
    {
        size_t k = 0, j = 0;
        int dup = mp_first_duplicate((const char *const *)s->hdr, nf, &k, &j);
        if (dup) {
            if (dup < 0) st = MP_FAIL(MP_ENOMEM);
            else {
                char txt[200];
                mp_show_text(txt, sizeof txt, s->hdr[j], 60);
                mp_error_set(err, s->name, hline[j], hcol[j],
                             "duplicated column name '%s' (columns %zu and %zu)", txt, k + 1, j + 1);
                st = MP_FAIL(MP_EPARSE);
            }
            free(hline);
            free(hcol);
            goto fail;
        }
    }
    free(hline);
    free(hcol);
    *out = s;
    return MP_OK;
fail:
    mp_csv_stream_free(s);
    return st;
}

mp_status mp_csv_stream_open_range(const char *path, size_t chunk, size_t begin, size_t end,
                                   size_t line, mp_csv_stream **out, mp_error *err)
{
    if (!path || !out || end < begin || strcmp(path, "-") == 0) return MP_FAIL(MP_EINVAL);
    mp_csv_stream *s = NULL;
    mp_status st = mp_csv_stream_open(path, chunk, &s, err);
    if (st != MP_OK) return st;
    if (begin < mp_csv_stream_bytes(s)) { /* a range starts after the header */
        mp_csv_stream_free(s);
        return MP_FAIL(MP_EINVAL);
    }
    /* forget what the header read brought in and read [begin, end) instead */
    if (begin > (size_t)INT64_MAX || fseeko(s->f, (off_t)begin, SEEK_SET) != 0) {
        mp_error_set(err, s->name, 0, 0, "cannot seek to byte %zu: %s", begin, strerror(errno));
        mp_csv_stream_free(s);
        return MP_FAIL(MP_EIO);
    }
    s->consumed = begin;
    s->len = s->pos = s->pos_ls = s->lim = s->scan = 0;
    s->inq = 0;
    s->eof = 0;
    s->remain = end - begin;
    s->line = line;
    s->range = 1;
    memset(s->buf, 0, MP_STREAM_SLACK + 1);
    if (s->remain == 0) s->eof = 1;
    else if ((st = stream_fill(s, err)) != MP_OK) { mp_csv_stream_free(s); return st; }
    *out = s;
    return MP_OK;
}

size_t mp_csv_stream_line(const mp_csv_stream *s) { return s->line; }
size_t mp_csv_stream_ncols(const mp_csv_stream *s) { return s->ncols; }
char mp_csv_stream_delim(const mp_csv_stream *s) { return s->delim; }
const char *mp_csv_stream_name(const mp_csv_stream *s) { return s->name; }
size_t mp_csv_stream_bytes(const mp_csv_stream *s) { return s->consumed + s->pos; }

const char *mp_csv_stream_colname(const mp_csv_stream *s, size_t j)
{
    return j < s->ncols ? s->hdr[j] : "";
}

long mp_csv_stream_col(const mp_csv_stream *s, const char *name)
{
    if (!name || !*name) return -1;
    for (size_t j = 0; j < s->ncols; j++)
        if (strcmp(s->hdr[j], name) == 0) return (long)j;
    /* then ignoring case, as the whole-file loader (mp_table_col) */
    for (size_t j = 0; j < s->ncols; j++)
        if (strcasecmp(s->hdr[j], name) == 0) return (long)j;
    return -1;
}

mp_status mp_csv_stream_next(mp_csv_stream *s, mp_csv_row *row, int *eof, mp_error *err)
{
    *eof = 0;
    mp_status st = stream_need(s, err);
    if (st != MP_OK) return st;
    if (s->pos >= s->lim) {
        if (s->nrows == 0 && !s->range) {
            mp_error_set(err, s->name, s->hdr_line, 0, "header but no data rows");
            return MP_FAIL(MP_EPARSE);
        }
        *eof = 1;
        return MP_OK;
    }
    size_t nf, rowline;
    st = stream_row(s, 0, &nf, &rowline, err);
    if (st != MP_OK) return st;
    s->nrows++;
    row->ncols = nf;
    row->cell = s->cell;
    row->len = s->clen;
    row->colpos = s->cpos;
    row->cell_line = s->cline;
    row->line = rowline;
    return MP_OK;
}

/* ======================================================================
 * grouped effect sizes
 * ====================================================================== */

struct mp_batch_reader {
    mp_csv_stream *s;       /* the input */
    size_t gcol;            /* grouping column */
    mp_es_plan plan;        /* effect-size columns and rules (es_plan.c) */
    mp_es_opts es;          /* options */
    size_t rowno;           /* data rows read (1-based number of the last) */
    /* unsorted mode: group hash table; sorted mode: hashes of the groups seen */
    uint64_t *ht_hash;      /* ht_cap slots: 64-bit hash of the value, 0 = empty */
    size_t *ht_gid;         /* ht_cap slots: group index + 1 (unsorted mode) */
    size_t ht_cap, ht_n;    /* slots (a power of two), slots used */
    /* sorted mode: groups that come back (see sorted_new_group()) */
    uint64_t *bloom;        /* Bloom filter of the groups started so far */
    unsigned bloom_log2;    /* log2 of its bits now */
    unsigned bloom_max;     /* log2 of the most bits it may grow to (0: the default) */
    size_t ngroups;         /* groups started (all in the spool) */
    FILE *spool;            /* every group started: (line, length, name), in order */
    char *spool_buf;        /* its stdio buffer (SPOOL_BUF bytes) */
    struct suspect *sus;    /* open addressing: groups the filter may have seen */
    size_t sus_cap, sus_n;  /* slots (a power of two), entries */
    size_t sus_max;         /* verify when this many are held (0: the default) */
    /* sorted mode: a row carried over */
    int done;               /* input exhausted */
    int has_pending;        /* a row of the next block was read */
    char *pend_name;        /* its group value */
    size_t pend_cap;        /* allocated bytes of pend_name */
    size_t pend_line;       /* its line */
    double pend_y, pend_v;  /* its effect size and variance */
    int pend_used;          /* 0 if it was left out */
    size_t cur_len;         /* length of the current group's value */
    size_t *fs, *fe;        /* fast path: ncols field starts and ends in the buffer */
    /* sorted mode: the check of the newest group, put off (sorted_defer()) */
    int dfr;                /* the last group of the block awaits its check */
    uint64_t dfr_h;         /* hash_bytes() of its name */
    size_t dfr_line, dfr_cline, dfr_col; /* its first row's line; its cell's line and column */
    size_t dfr_warn;        /* warnings of the block when its check was due */
    int err_new_group;      /* the row of the last input error starts a new group */
    int repeat_at_end;      /* the last error: a group that came back, found at the end */
};

static long stream_col(const void *s, const char *name) { return mp_csv_stream_col(s, name); }

/* Numbers as mp_parse_double() reads them, with a shortcut for the plain
 * decimals that fill most data files: [-]digits[.digits] with at most 18
 * digits.  For those mp_parse_double() forms the same integer m and
 * exponent -f and returns m / 10^f (exact m < 2^53, f <= 22: one correctly
 * rounded division), so the shortcut gives the identical double; anything
 * else (blanks, '+', exponents, long mantissas, text) goes to
 * mp_parse_double() itself. */
static const double pow10_exact[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* m / 10^f with the sign set by its bit, without a branch (the sign of
 * effects is random: a branch on it is mispredicted half the time); -0.0
 * as mp_parse_double() gives it. */
static inline double signed_quotient(uint64_t m, size_t f, int neg)
{
    double v = (double)m / pow10_exact[f];
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    bits ^= (uint64_t)neg << 63;
    memcpy(&v, &bits, sizeof bits);
    return v;
}

/* The byte loop: up to 18 digits, else mp_parse_double(). */
static int parse_num_loop(const char *s, size_t len, double *out)
{
    const char *p = s, *end = s + len;
    int neg = p < end && *p == '-';
    p += neg;
    uint64_t m = 0;
    size_t nd = 0, f = 0;
    for (; p < end && (unsigned)(*p - '0') < 10; p++, nd++) m = m * 10 + (uint64_t)(*p - '0');
    if (p < end && *p == '.') {
        const char *q = ++p;
        for (; p < end && (unsigned)(*p - '0') < 10; p++) m = m * 10 + (uint64_t)(*p - '0');
        f = (size_t)(p - q);
        nd += f;
    }
    if (p != end || nd == 0 || nd > 18 || m >= (UINT64_C(1) << 53))
        return mp_parse_double(s, len, out);
    *out = signed_quotient(m, f, neg);
    return 1;
}

#if defined(__SSE2__) && !defined(MP_BATCH_NO_SIMD)
/* The integer whose 16 decimal digits are the bytes of d (values 0..9,
 * the most significant in byte 0): pairs, then fours, then eights of
 * digits by multiply-adds of 16-bit lanes (SSE2 pmaddwd), two eights
 * joined in a 64-bit register. */
static inline uint64_t digits16(__m128i d)
{
    const __m128i z = _mm_setzero_si128();
    const __m128i w1 = _mm_set1_epi32((1 << 16) | 10), w2 = _mm_set1_epi32((1 << 16) | 100),
                  w4 = _mm_set1_epi32((1 << 16) | 10000);
    __m128i lo = _mm_madd_epi16(_mm_unpacklo_epi8(d, z), w1);  /* 4 x 2 digits */
    __m128i hi = _mm_madd_epi16(_mm_unpackhi_epi8(d, z), w1);  /* 4 x 2 digits */
    __m128i q = _mm_madd_epi16(_mm_packs_epi32(lo, hi), w2);   /* 4 x 4 digits */
    __m128i e = _mm_madd_epi16(_mm_packs_epi32(q, q), w4);     /* 2 x 8 digits */
    uint64_t a = (uint32_t)_mm_cvtsi128_si32(e), b = (uint32_t)_mm_cvtsi128_si32(_mm_srli_si128(e, 4));
    return a * UINT64_C(100000000) + b;
}
#endif

/* Numbers as mp_parse_double() reads them, with a shortcut for the plain
 * decimals that fill most data files: [-]digits[.digits] with at most 18
 * digits.  For those mp_parse_double() forms the same integer m and
 * exponent -f and returns m / 10^f (exact m < 2^53, f <= 22: one correctly
 * rounded division), so the shortcut gives the identical double; anything
 * else (blanks, '+', exponents, long mantissas, text) goes to
 * mp_parse_double() itself.
 *
 * With SSE2, a number of at most 16 bytes after the sign (at most 15
 * digits, so m < 10^15 < 2^53) is read without a byte loop: the 16 bytes
 * that end with it are loaded (`lo` is the start of readable memory: the
 * loads must not start before it), bytes before the number are masked off,
 * every byte must be a digit or the one '.', the digits left of the point
 * move one byte right over it, and digits16() forms m.  The same m and f
 * as the loop, so the same double; anything else takes the loop. */
#if defined(__SSE2__) && !defined(MP_BATCH_NO_SIMD)
/* 16 bytes loaded at lane_mask + 16 - k have their first k lanes set. */
static const unsigned char lane_mask[32] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
#endif

#if defined(__SSE2__) && !defined(MP_BATCH_NO_SIMD)
/* The SSE2 shortcut of parse_num(): 1 with *m, *f and *neg set (the value
 * is -1^neg m / 10^f, m < 10^15), or 0 if the text is not a plain decimal
 * of at most 16 bytes after the sign. */
MP_INLINE int num_mf(const char *s, size_t len, const char *lo, uint64_t *m, size_t *f, int *neg)
{
    int sg = len > 0 && s[0] == '-';
    size_t L = len - (size_t)sg; /* bytes after the sign */
    if (!(L - 1 < 16 && (size_t)(s - lo) + len >= 16)) return 0;
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + len - 16));
    /* the number: the last L lanes */
    __m128i in = _mm_andnot_si128(_mm_loadu_si128((const __m128i *)(const void *)(lane_mask + L)),
                                  _mm_set1_epi8(-1));
    __m128i dig = _mm_sub_epi8(x, _mm_set1_epi8('0'));
    __m128i isd = _mm_and_si128(_mm_cmpeq_epi8(_mm_max_epu8(dig, _mm_set1_epi8(9)), _mm_set1_epi8(9)), in);
    unsigned inm = (unsigned)_mm_movemask_epi8(in), dm = (unsigned)_mm_movemask_epi8(isd);
    unsigned om = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('.'))) & inm;
    if (!((dm | om) == inm && (om & (om - 1)) == 0 && dm != 0 && (om || L <= 15))) return 0;
    dig = _mm_and_si128(dig, isd);
    *f = 0;
    if (om) {
        unsigned p = (unsigned)__builtin_ctz(om); /* lane of the point */
        __m128i left = /* lanes <= p */
            _mm_loadu_si128((const __m128i *)(const void *)(lane_mask + 15 - p));
        dig = _mm_or_si128(_mm_and_si128(left, _mm_slli_si128(dig, 1)), _mm_andnot_si128(left, dig));
        *f = 15 - p;
    }
    *m = digits16(dig);
    *neg = sg;
    return 1;
}
#endif

static inline int parse_num(const char *s, size_t len, const char *lo, double *out)
{
#if defined(__SSE2__) && !defined(MP_BATCH_NO_SIMD)
    uint64_t m;
    size_t f;
    int neg;
    if (num_mf(s, len, lo, &m, &f, &neg)) {
        *out = signed_quotient(m, f, neg);
        return 1;
    }
#else
    (void)lo;
#endif
    return parse_num_loop(s, len, out);
}

/* parse_two() for the numbers its shortcut declines (kept out of line). */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static int parse_two_other(const char *sy, size_t ly, const char *sv, size_t lv, const char *lo,
                           double *y, double *v)
{
    return parse_num(sy, ly, lo, y) == 1 && parse_num(sv, lv, lo, v) == 1;
}

/* yi and vi of a row in one go: with SSE2 both plain decimals are divided
 * by their powers of ten in one divpd (each lane an IEEE division, so the
 * same doubles as two divsd); 1 if both parse, else 0 (as parse_num()). */
MP_INLINE int parse_two(const char *sy, size_t ly, const char *sv, size_t lv, const char *lo,
                        double *y, double *v)
{
#if defined(__SSE2__) && !defined(MP_BATCH_NO_SIMD)
    uint64_t my, mv;
    size_t fy, fv;
    int ny, nv;
    if (num_mf(sy, ly, lo, &my, &fy, &ny) && num_mf(sv, lv, lo, &mv, &fv, &nv)) {
        __m128d q = _mm_div_pd(_mm_set_pd((double)mv, (double)my),
                               _mm_set_pd(pow10_exact[fv], pow10_exact[fy]));
        __m128i sign = _mm_set_epi64x((long long)((uint64_t)nv << 63), (long long)((uint64_t)ny << 63));
        q = _mm_xor_pd(q, _mm_castsi128_pd(sign));
        *y = _mm_cvtsd_f64(q);
        *v = _mm_cvtsd_f64(_mm_unpackhi_pd(q, q));
        return 1;
    }
#endif
    return parse_two_other(sy, ly, sv, lv, lo, y, v);
}

/* Effect size of one row, as mp_effects_compute() computes it: 1 = used,
 * 0 = left out (warning added), or -1 with *st and err set. */
static int row_effect(mp_batch_reader *r, const mp_csv_row *row, double *yi_out,
                      double *vi_out, mp_msgs *warn, mp_status *st, mp_error *err)
{
    const char *name = mp_csv_stream_name(r->s);
    const long *col = r->plan.col;
    double x[MP_ESC_NCOL];
    int na = -1;
    for (const int *u = r->plan.use; *u >= 0; u++) {
        size_t j = (size_t)col[*u];
        const char *cell = row->cell[j];
        size_t len = row->len[j];
        int p = parse_num(cell, len, r->s->buf, &x[*u]);
        if (p == 1) continue;
        /* An explicit NA is a missing value: the row is left out. */
        const char *c = cell;
        while (*c == ' ') c++;
        if (strncmp(c, "NA", 2) == 0 && strspn(c + 2, " ") == strlen(c + 2)) {
            if (*u == r->plan.na_fatal) { /* ri of a paired measure */
                mp_error_set(err, name, row->cell_line[j], row->colpos[j], "column '%s': %s",
                             mp_es_colname[*u], MP_ES_NA_FATAL_MSG);
                *st = MP_FAIL(MP_EPARSE);
                return -1;
            }
            if (na < 0) na = *u;
            continue;
        }
        /* the messages of mp_table_number() */
        char txt[200];
        mp_show_text(txt, sizeof txt, cell, 60);
        size_t cl = row->cell_line[j], cc = row->colpos[j];
        if (strspn(cell, " \t") == len)
            mp_error_set(err, name, cl, cc, "column '%s': empty cell where a number is required",
                         mp_es_colname[*u]);
        else if (p == 0 && mp_csv_stream_delim(r->s) != ',' && strchr(txt, ','))
            mp_error_set(err, name, cl, cc,
                         "column '%s': '%s' is not a number (the decimal point must be '.')",
                         mp_es_colname[*u], txt);
        else if (p == 0)
            mp_error_set(err, name, cl, cc, "column '%s': '%s' is not a number", mp_es_colname[*u], txt);
        else
            mp_error_set(err, name, cl, cc, "column '%s': '%s' is not a finite number in range",
                         mp_es_colname[*u], txt);
        *st = MP_FAIL(MP_EPARSE);
        return -1;
    }
    if (na >= 0) {
        if (mp_msgs_add(warn, "row %zu (line %zu) left out: missing value (NA) in column '%s'",
                        r->rowno, row->line, mp_es_colname[na]) != MP_OK) {
            *st = MP_FAIL(MP_ENOMEM);
            return -1;
        }
        return 0;
    }
    mp_es_row er;
    int used = mp_es_plan_row(&r->plan, x, &er);
    if (used < 0) { /* bad input: name the offending cell */
        size_t j = (size_t)col[er.bad];
        mp_error_set(err, name, row->cell_line[j], row->colpos[j], "%s", er.msg);
        *st = MP_FAIL(MP_EPARSE);
        return -1;
    }
    if (used == 0 || er.msg[0]) { /* left out, or kept with a note */
        if (mp_msgs_add(warn, "row %zu (line %zu)%s %s", r->rowno, row->line,
                        used ? ":" : " left out:", er.msg) != MP_OK) {
            *st = MP_FAIL(MP_ENOMEM);
            return -1;
        }
        if (used == 0) return 0;
    }
    *yi_out = er.yi;
    *vi_out = er.vi;
    return 1;
}

/* One row as the fast path reads it. */
typedef struct {
    const char *g;  /* group value, in the buffer (not NUL-terminated) */
    size_t glen;    /* its length */
    size_t gcol;    /* its 1-based column */
    size_t line;    /* line of the row */
    double y, v;    /* effect size and variance */
} fast_row;

/* The fast path for the rows that fill data files: no quotes, no blank
 * line before it, exactly the header's number of fields, a group value
 * that is neither missing nor padded with blanks, numbers that parse, and
 * an effect size that is used.  Reads the row straight from the buffer
 * (no NULs written, no cell arrays) and returns 1 with the stream moved
 * past it, exactly as mp_csv_stream_next() + row_effect() would have left
 * things; anything else returns 0 without moving, and the general path
 * takes the row, with its messages.  Cheap to decline: most checks fall
 * out of the field split itself (skip_plain() stops at every byte that
 * needs a closer look). */
#if defined(__SSE2__) && !defined(MP_BATCH_NO_SIMD)
/* Bit k set: byte p[k] (k < 32) may end an unquoted run (skip_plain()'s
 * candidates: bytes <= 0x1f, the delimiter kd, '"', DEL). */
static inline uint32_t candidates32(const unsigned char *p, __m128i kd)
{
    const __m128i k1f = _mm_set1_epi8(0x1f), kq = _mm_set1_epi8('"'), k7f = _mm_set1_epi8(0x7f);
    __m128i a = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(p + 16));
    __m128i ca = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(_mm_max_epu8(a, k1f), k1f), _mm_cmpeq_epi8(a, kd)),
                              _mm_or_si128(_mm_cmpeq_epi8(a, kq), _mm_cmpeq_epi8(a, k7f)));
    __m128i cb = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(_mm_max_epu8(b, k1f), k1f), _mm_cmpeq_epi8(b, kd)),
                              _mm_or_si128(_mm_cmpeq_epi8(b, kq), _mm_cmpeq_epi8(b, k7f)));
    return (uint32_t)_mm_movemask_epi8(ca) | (uint32_t)_mm_movemask_epi8(cb) << 16;
}
#endif

MP_INLINE int row_fast(mp_batch_reader *r, fast_row *o, size_t row_max)
{
    mp_csv_stream *s = r->s;
    const size_t n = s->lim;
    size_t i = s->pos;
    if (i >= n) return 0;
    const unsigned char *ub = (const unsigned char *)s->buf;
    const unsigned char d = (unsigned char)s->delim;
    if (ub[i] == ' ' || ub[i] == '\t' || ub[i] == '\n' || ub[i] == '\r') return 0;
    const size_t nc = s->ncols;
    size_t *fs = r->fs, *fe = r->fe, j = 0;
#if defined(__SSE2__) && !defined(MP_BATCH_NO_SIMD)
    /* the whole row in one pass: a bit mask of the candidates in 32 bytes
     * at a time (the buffer has 32 zeroed bytes of slack after the data,
     * and the NUL guard at len is a candidate, so the loads stay inside
     * it), then one step per candidate */
    const __m128i kd = _mm_set1_epi8((char)d);
    size_t base = i;
    uint32_t m = candidates32(ub + base, kd);
    fs[0] = i;
    for (;;) {
        while (!m) {
            base += 32;
            m = candidates32(ub + base, kd);
        }
        size_t e = base + (unsigned)__builtin_ctz(m);
        m &= m - 1;
        unsigned char c = ub[e];
        if (c == d) {
            fe[j++] = e;
            if (j == nc) return 0; /* too many fields */
            fs[j] = e + 1;
        } else if (c == '\n' || c == '\r') {
            fe[j++] = e;
            i = e;
            break;
        } else if (s->cls[c]) {
            return 0; /* a quote, a control byte, or the end of input */
        }
    }
    if (j != nc || i >= n || i - s->pos > row_max) return 0;
#else
    for (;;) {
        if (j == nc) return 0; /* too many fields */
        fs[j] = i;
        i = skip_plain(s, ub, i);
        fe[j++] = i;
        if (ub[i] != d) break;
        i++;
    }
    if (j != nc || i >= n || (ub[i] != '\n' && ub[i] != '\r') || i - s->pos > row_max)
        return 0; /* the general path reports a row past the limit */
#endif
    const char *g = s->buf + fs[r->gcol];
    size_t glen = fe[r->gcol] - fs[r->gcol];
    if (glen == 0 || g[0] == ' ' || g[0] == '\t' || g[glen - 1] == ' ' || g[glen - 1] == '\t' ||
        (glen == 2 && g[0] == 'N' && g[1] == 'A') || (glen == 1 && g[0] == '.'))
        return 0; /* missing or padded: group_missing() decides */
    double yi, vi;
    if (r->plan.src == MP_SRC_YI_VI) {
        /* mp_es_plan_row() for this source: both numbers are finite (parse_num
         * returned 1), so the only check left is vi > 0 */
        size_t cy = (size_t)r->plan.col[MP_ESC_YI], cv = (size_t)r->plan.col[MP_ESC_VI];
        if (!parse_two(s->buf + fs[cy], fe[cy] - fs[cy], s->buf + fs[cv], fe[cv] - fs[cv], s->buf,
                       &yi, &vi) ||
            !(vi > 0))
            return 0;
    } else {
        double x[MP_ESC_NCOL];
        for (const int *u = r->plan.use; *u >= 0; u++) {
            size_t c = (size_t)r->plan.col[*u];
            if (parse_num(s->buf + fs[c], fe[c] - fs[c], s->buf, &x[*u]) != 1) return 0;
        }
        mp_es_row er;
        if (mp_es_plan_row(&r->plan, x, &er) != 1 || er.msg[0]) return 0; /* general path reports */
        yi = er.yi;
        vi = er.vi;
    }
    o->g = g;
    o->glen = glen;
    o->gcol = fs[r->gcol] - s->pos_ls + 1;
    o->line = s->line;
    o->y = yi;
    o->v = vi;
    if (ub[i] == '\r') {
        i++;
        if (i < s->len && ub[i] == '\n') i++;
    } else {
        i++;
    }
    s->line++;
    s->pos = s->pos_ls = i;
    s->nrows++;
    r->rowno++;
    return 1;
}

static void sus_clear(mp_batch_reader *r);

void mp_batch_reader_free(mp_batch_reader *r)
{
    if (!r) return;
    sus_clear(r);
    free(r->sus);
    free(r->bloom);
    if (r->spool) fclose(r->spool);
    free(r->spool_buf);
    mp_csv_stream_free(r->s);
    free(r->ht_hash);
    free(r->ht_gid);
    free(r->pend_name);
    free(r->fs);
    free(r->fe);
    free(r);
}

/* The reader over stream s (which it takes over), or NULL on failure (s is
 * then freed too). */
static mp_status reader_make(mp_csv_stream *s, const char *group, const mp_es_opts *es,
                             mp_batch_reader **out, mp_error *err)
{
    mp_batch_reader *r = calloc(1, sizeof *r);
    if (!r) { mp_csv_stream_free(s); return MP_FAIL(MP_ENOMEM); }
    r->s = s;
    if (es) r->es = *es;
    else mp_es_opts_init(&r->es);
    mp_status st;
    long g = mp_csv_stream_col(r->s, group);
    if (g < 0) {
        mp_error_set(err, mp_csv_stream_name(r->s), 0, 0, "no column '%s' for --group", group);
        mp_batch_reader_free(r);
        return MP_FAIL(MP_EINVAL);
    }
    r->gcol = (size_t)g;
    st = mp_es_plan_make(mp_csv_stream_name(r->s), r->s->hdr_line, stream_col, r->s, &r->es, &r->plan, err);
    if (st != MP_OK) { mp_batch_reader_free(r); return st; }
    r->fs = malloc(r->s->ncols * sizeof *r->fs);
    r->fe = malloc(r->s->ncols * sizeof *r->fe);
    if (!r->fs || !r->fe) { mp_batch_reader_free(r); return MP_FAIL(MP_ENOMEM); }
    *out = r;
    return MP_OK;
}

mp_status mp_batch_reader_open(const char *path, const char *group, const mp_es_opts *es,
                               size_t chunk, mp_batch_reader **out, mp_error *err)
{
    if (!path || !group || !out) return MP_FAIL(MP_EINVAL);
    *out = NULL;
    mp_csv_stream *s = NULL;
    mp_status st = mp_csv_stream_open(path, chunk, &s, err);
    if (st != MP_OK) return st;
    return reader_make(s, group, es, out, err);
}

mp_status mp_batch_reader_open_range(const char *path, const char *group, const mp_es_opts *es,
                                     size_t chunk, const mp_batch_share *share,
                                     mp_batch_reader **out, mp_error *err)
{
    if (!path || !group || !out || !share) return MP_FAIL(MP_EINVAL);
    *out = NULL;
    mp_csv_stream *s = NULL;
    mp_status st = mp_csv_stream_open_range(path, chunk, share->begin, share->end, share->line, &s, err);
    if (st != MP_OK) return st;
    st = reader_make(s, group, es, out, err);
    if (st == MP_OK) (*out)->rowno = share->row;
    return st;
}

mp_measure mp_batch_reader_measure(const mp_batch_reader *r) { return r->plan.measure; }
size_t mp_batch_reader_bytes(const mp_batch_reader *r) { return mp_csv_stream_bytes(r->s); }

/* ---- mp_batch_data growth ---------------------------------------------- */

void mp_batch_data_free(mp_batch_data *d)
{
    if (!d) return;
    free(d->y);
    free(d->v);
    free(d->off);
    free(d->names);
    free(d->name_off);
    free(d->line);
    mp_msgs_free(&d->warnings);
    memset(d, 0, sizeof *d);
}

const char *mp_batch_data_name(const mp_batch_data *d, size_t a)
{
    return a < d->n ? d->names + d->name_off[a] : "";
}

/* Empty d but keep its buffers. */
static void data_reset(mp_batch_data *d)
{
    d->n = 0;
    d->nrows = 0;
    if (d->off) d->off[0] = 0;
    mp_msgs_free(&d->warnings);
}

/* Grow *p (elements of `size`) to hold at least `need`; *cap in elements. */
static int grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap) return 0;
    size_t m = *cap ? *cap : 256;
    while (m < need) {
        if (m > SIZE_MAX / 2) return -1;
        m *= 2;
    }
    size_t bytes = mp_mul_size(m, size);
    if (!bytes) return -1;
    void *q = realloc(*p, bytes);
    if (!q) return -1;
    *p = q;
    *cap = m;
    return 0;
}

/* names_used is tracked through name_off of the last group + its length */
static size_t names_used(const mp_batch_data *d)
{
    if (d->n == 0) return 0;
    const char *last = d->names + d->name_off[d->n - 1];
    return d->name_off[d->n - 1] + strlen(last) + 1;
}

/* Room for n groups (name_off, line: n entries; off: n + 1), all three
 * arrays sized cap_n + 1 together. */
static int data_room_groups(mp_batch_data *d, size_t n)
{
    if (d->off && n <= d->cap_n) return 0;
    size_t m = d->cap_n ? d->cap_n : 255;
    while (m < n) {
        if (m > SIZE_MAX / 4) return -1;
        m = 2 * m + 1;
    }
    size_t bytes = mp_mul_size(m + 1, sizeof(size_t));
    if (!bytes) return -1;
    size_t *a = realloc(d->name_off, bytes);
    if (a) d->name_off = a;
    size_t *b = realloc(d->line, bytes);
    if (b) d->line = b;
    size_t *c = realloc(d->off, bytes);
    if (c) d->off = c;
    if (!a || !b || !c) return -1;
    d->cap_n = m;
    return 0;
}

/* Bytes of zeros kept after the last name, so that same_bytes() may load
 * 16 bytes at the start of any name. */
#define MP_NAME_SLACK 16

/* Start a new group called name[0..len) whose first row is at `line`. */
static int data_add_group(mp_batch_data *d, const char *name, size_t len, size_t line)
{
    size_t used = names_used(d);
    if (data_room_groups(d, d->n + 1)) return -1;
    if (len > SIZE_MAX / 2 ||
        grow((void **)&d->names, &d->cap_names, used + len + 1 + MP_NAME_SLACK, 1))
        return -1;
    memcpy(d->names + used, name, len);
    memset(d->names + used + len, 0, 1 + MP_NAME_SLACK);
    d->name_off[d->n] = used;
    d->line[d->n] = line;
    d->off[d->n] = d->nrows;
    d->n++;
    d->off[d->n] = d->nrows;
    return 0;
}

static int data_add_row(mp_batch_data *d, double y, double v)
{
    size_t c1 = d->cap_rows, c2 = d->cap_rows;
    if (d->nrows + 1 > d->cap_rows) {
        if (grow((void **)&d->y, &c1, d->nrows + 1, sizeof *d->y) ||
            grow((void **)&d->v, &c2, d->nrows + 1, sizeof *d->v))
            return -1;
        d->cap_rows = c1 < c2 ? c1 : c2;
    }
    d->y[d->nrows] = y;
    d->v[d->nrows] = v;
    d->nrows++;
    d->off[d->n] = d->nrows;
    return 0;
}

/* a[0..n) == b[0..n), for a group value in the stream buffer (a) and a
 * stored name (b): both have at least 16 readable, initialised bytes from
 * their start (the buffer's zeroed slack, MP_NAME_SLACK), so short values
 * (the common case) are compared with one 16-byte load each instead of a
 * call of memcmp(). */
static inline int same_bytes(const char *a, const char *b, size_t n)
{
#if defined(__SSE2__) && !defined(MP_BATCH_NO_SIMD)
    if (n <= 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)a);
        __m128i y = _mm_loadu_si128((const __m128i *)(const void *)b);
        unsigned eq = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, y));
        unsigned want = (1u << n) - 1;
        return (eq & want) == want;
    }
#endif
    return memcmp(a, b, n) == 0;
}

/* FNV-1a, 64 bit; 0 is kept free as the empty-slot marker. */
static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = UINT64_C(14695981039346656037);
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= UINT64_C(1099511628211);
    }
    return h ? h : 1;
}

/* Hash table of groups: find the group called name (returns its index + 1)
 * or, if absent, the slot to insert into (returns 0, *slot set). */
static size_t ht_find(const mp_batch_reader *r, const mp_batch_data *d, uint64_t h,
                      const char *name, size_t len, size_t *slot)
{
    size_t mask = r->ht_cap - 1, i = (size_t)h & mask;
    for (;; i = (i + 1) & mask) {
        if (r->ht_hash[i] == 0) { *slot = i; return 0; }
        if (r->ht_hash[i] == h) {
            size_t g = r->ht_gid[i] - 1;
            const char *gn = d->names + d->name_off[g];
            if (strncmp(gn, name, len) == 0 && gn[len] == '\0') return r->ht_gid[i];
        }
    }
}

static int ht_grow(mp_batch_reader *r)
{
    if (r->ht_cap && r->ht_n * 2 < r->ht_cap) return 0;
    size_t cap = r->ht_cap ? r->ht_cap * 2 : 1024;
    uint64_t *hh = calloc(cap, sizeof *hh);
    size_t *gg = calloc(cap, sizeof *gg);
    if (!hh || !gg) { free(hh); free(gg); return -1; }
    for (size_t i = 0; i < r->ht_cap; i++) {
        if (!r->ht_hash[i]) continue;
        size_t j = (size_t)r->ht_hash[i] & (cap - 1);
        while (hh[j]) j = (j + 1) & (cap - 1);
        hh[j] = r->ht_hash[i];
        gg[j] = r->ht_gid[i];
    }
    free(r->ht_hash);
    free(r->ht_gid);
    r->ht_hash = hh;
    r->ht_gid = gg;
    r->ht_cap = cap;
    return 0;
}

/* A missing group value (blank, "NA" or "."): the row is left out, reported
 * by row (the rule of mp_table_is_missing for grouping columns).  Its
 * effect-size cells are still read, as the whole-file loader reads every
 * row before grouping: a bad cell is an error whatever the group, and a
 * row already left out for a missing effect gets only that warning (found
 * by the differential fuzz target, tests/fuzz/regressions).  Returns 1 when
 * the row is left out (*st set to an error if one occurred), else 0. */
static int group_missing(mp_batch_reader *r, const mp_csv_row *row, mp_msgs *warn, mp_status *st,
                         mp_error *err)
{
    const char *s = row->cell[r->gcol];
    size_t n = row->len[r->gcol];
    while (n && (*s == ' ' || *s == '\t')) { s++; n--; }
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    if (!(n == 0 || (n == 2 && s[0] == 'N' && s[1] == 'A') || (n == 1 && s[0] == '.'))) return 0;
    double yi, vi;
    int used = row_effect(r, row, &yi, &vi, warn, st, err);
    if (used <= 0) return 1; /* an error (*st set), or left out with its own warning */
    if (mp_msgs_add(warn, "row %zu (line %zu) left out: missing value in the --group column '%s'",
                    r->rowno, row->line, mp_csv_stream_colname(r->s, r->gcol)) != MP_OK)
        *st = MP_FAIL(MP_ENOMEM);
    return 1;
}

/* Append one row (y, v) to d's arrays, in file order; off is left to the
 * caller. */
static inline int data_push(mp_batch_data *d, double y, double v)
{
    if (d->nrows == d->cap_rows) {
        size_t c1 = d->cap_rows, c2 = d->cap_rows;
        if (grow((void **)&d->y, &c1, d->nrows + 1, sizeof *d->y) ||
            grow((void **)&d->v, &c2, d->nrows + 1, sizeof *d->v))
            return -1;
        d->cap_rows = c1 < c2 ? c1 : c2;
    }
    d->y[d->nrows] = y;
    d->v[d->nrows] = v;
    d->nrows++;
    return 0;
}

/* Rows are collected in file order straight into d->y / d->v.  While every
 * row belongs to the newest group (input sorted by group, the common case)
 * that is already the final layout and off[] is set as groups start.  At
 * the first row of an older group the group index of every row is
 * recorded from then on (tg, filled in for the rows so far from off[]), and
 * a stable counting sort by group at the end puts each group's rows
 * together in file order, so the sums are formed in the order mp_pool()
 * sees on the same rows. */
mp_status mp_batch_read_all(mp_batch_reader *r, mp_batch_data *d, mp_error *err)
{
    data_reset(d);
    size_t *tg = NULL, tcap = 0, *cnt = NULL;
    double *ny = NULL, *nv = NULL;
    int contiguous = 1;
    size_t last = 0, last_len = 0; /* group of the previous row (index + 1) */
    mp_status st = MP_OK;
    const mp_table_limits *lim = mp_limits();
    if (data_room_groups(d, 0)) return MP_FAIL(MP_ENOMEM);
    d->off[0] = 0;
    /* the whole-file limit of bytes: a regular file is judged by its size
     * before the rows are read, any input by the bytes read so far */
    struct stat sb;
    if (fstat(fileno(r->s->f), &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0 &&
        (uint64_t)sb.st_size > lim->file_bytes)
        return mp_limit_file(err, r->s->name);
    for (;;) {
        fast_row fr;
        mp_csv_row row;
        const char *gname;
        size_t glen, gline, gcline, gcol;
        if ((uint64_t)(r->s->consumed + r->s->len) > lim->file_bytes) {
            st = mp_limit_file(err, r->s->name);
            goto done;
        }
        int fast = row_fast(r, &fr, lim->row_bytes);
        if (fast) {
            gname = fr.g;
            glen = fr.glen;
            gline = gcline = fr.line;
            gcol = fr.gcol;
        } else {
            int eof;
            st = mp_csv_stream_next(r->s, &row, &eof, err);
            if (st != MP_OK) goto done;
            if (eof) break;
            r->rowno++;
            if (group_missing(r, &row, &d->warnings, &st, err)) {
                if (st != MP_OK) goto done;
                continue;
            }
            gname = row.cell[r->gcol];
            glen = row.len[r->gcol];
            gline = row.line;
            gcline = row.cell_line[r->gcol];
            gcol = row.colpos[r->gcol];
        }
        size_t g1;
        if (last && glen == last_len && same_bytes(gname, d->names + d->name_off[last - 1], glen)) {
            g1 = last; /* same group as the row before: no hash lookup */
        } else {
            if (ht_grow(r)) { st = MP_FAIL(MP_ENOMEM); goto done; }
            uint64_t h = hash_bytes(gname, glen);
            size_t slot = 0;
            g1 = ht_find(r, d, h, gname, glen, &slot);
            if (!g1) {
                if (d->n == lim->groups) { /* one group too many (table.h) */
                    st = mp_limit_groups(err, r->s->name, gcline, gcol,
                                         mp_csv_stream_colname(r->s, r->gcol));
                    goto done;
                }
                if (data_add_group(d, gname, glen, gline)) { st = MP_FAIL(MP_ENOMEM); goto done; }
                r->ht_hash[slot] = h;
                r->ht_gid[slot] = g1 = d->n;
                r->ht_n++;
            }
            last = g1;
            last_len = glen;
        }
        double yi, vi;
        if (fast) {
            yi = fr.y;
            vi = fr.v;
        } else {
            int u = row_effect(r, &row, &yi, &vi, &d->warnings, &st, err);
            if (u < 0) goto done;
            if (!u) continue;
        }
        if (contiguous && g1 != d->n) {
            /* a row of an older group: from now on record every row's group */
            contiguous = 0;
            d->off[d->n] = d->nrows;
            if (grow((void **)&tg, &tcap, d->nrows + 1, sizeof *tg)) { st = MP_FAIL(MP_ENOMEM); goto done; }
            for (size_t a = 0; a < d->n; a++)
                for (size_t i = d->off[a]; i < d->off[a + 1]; i++) tg[i] = a;
        }
        if (!contiguous) {
            if (grow((void **)&tg, &tcap, d->nrows + 1, sizeof *tg)) { st = MP_FAIL(MP_ENOMEM); goto done; }
            tg[d->nrows] = g1 - 1;
        }
        if (data_push(d, yi, vi)) { st = MP_FAIL(MP_ENOMEM); goto done; }
    }
    d->off[d->n] = d->nrows;
    if (!contiguous) {
        /* stable counting sort by group: each group keeps its rows in file order */
        size_t nt = d->nrows;
        ny = malloc(nt * sizeof *ny);
        nv = malloc(nt * sizeof *nv);
        cnt = calloc(d->n + 1, sizeof *cnt);
        if (!ny || !nv || !cnt) { st = MP_FAIL(MP_ENOMEM); goto done; }
        for (size_t i = 0; i < nt; i++) cnt[tg[i] + 1]++;
        for (size_t a = 0; a < d->n; a++) cnt[a + 1] += cnt[a];
        for (size_t a = 0; a <= d->n; a++) d->off[a] = cnt[a];
        for (size_t i = 0; i < nt; i++) {
            size_t p = cnt[tg[i]]++;
            ny[p] = d->y[i];
            nv[p] = d->v[i];
        }
        free(d->y);
        free(d->v);
        d->y = ny;
        d->v = nv;
        ny = nv = NULL;
        d->cap_rows = nt;
    }
done:
    free(tg);
    free(cnt);
    free(ny);
    free(nv);
    return st;
}

/* ---- sorted mode: groups that come back --------------------------------
 *
 * With --sorted a group whose rows stop and start again further down is an
 * input error.  Remembering every finished group (as a hash set did) makes
 * memory grow with the number of groups (5e6 one-row groups: 464 MB on a
 * 100 MB file), breaking the promise that memory is bounded by the block
 * and the largest group.  Instead, in fixed memory and exactly:
 *
 * - a Bloom filter (Bloom 1970; k = 6 bits in one cache line, see
 *   bloom_add()) of every group started: a group the filter has not
 *   seen is certainly new (the common case, no further work).  It starts
 *   at 2^14 bits and grows eightfold (rebuilt from the spool below) whenever
 *   the groups exceed 1/32 of its bits, up to 2^27 bits (16 MiB), so small
 *   inputs stay small (growing by 8 rather than 2 re-reads the spool about
 *   N/7 times in all instead of N: the rebuilds were 5.5% of a 200,000-group
 *   batch run); false positives are about (1 - e^(-kn/m))^k (a
 *   little more with blocks): 2.5e-5 at n = m/32, 6.5e-5 at n = 5e6 groups
 *   in the largest filter;
 * - every group started is also appended to a temporary file (the spool:
 *   line, length, name; in $TMPDIR, removed at once so nothing is left
 *   behind), so an exact answer never needs the names in memory;
 * - a group the filter may have seen becomes a "suspect" (name, line,
 *   column).  Suspects are verified against the spool in one pass when
 *   sus_max of them are held and at the end of input: a suspect is a real
 *   repeat iff the spool holds its name at an earlier line.  A group that
 *   starts again while it is itself a suspect is a certain repeat (it
 *   started at the suspect's line, and other groups came between); it
 *   triggers the pass at once.  The error names the earliest repeat found,
 *   which is the earliest in the file: suspects are only dropped by a
 *   pass that confirms none of them.
 * So the error may come after the rows of later groups were written (the
 * batch help says so); its line and column are those of the first row
 * where a group came back. */

#define SORTED_BLOOM_LOG2_MIN 14
#define SORTED_BLOOM_LOG2_MAX 27
#define SORTED_BLOOM_K 6
#define SORTED_SUS_MAX 65536

struct suspect {
    uint64_t h;          /* hash_bytes() of the name; 0 = empty slot */
    char *name;          /* the group value (own copy) */
    size_t len, line, cline, col; /* its length; row line; line and column of the cell */
};

void mp_batch_reader_sorted_limits(mp_batch_reader *r, unsigned bloom_log2, size_t max_suspects)
{
    r->bloom_max = bloom_log2 == 0 ? 0 : bloom_log2 < 9 ? 9 : bloom_log2;
    r->sus_max = max_suspects;
}

void mp_batch_reader_suspects(mp_batch_reader *r, size_t max_suspects)
{
    if (r) r->sus_max = max_suspects;
}

static void sus_clear(mp_batch_reader *r)
{
    for (size_t i = 0; i < r->sus_cap; i++) {
        free(r->sus[i].name);
        r->sus[i].name = NULL;
        r->sus[i].h = 0;
    }
    r->sus_n = 0;
}

/* Slot of the suspect called name, or of the empty slot where it would go. */
static size_t sus_slot(const mp_batch_reader *r, uint64_t h, const char *name, size_t len)
{
    size_t mask = r->sus_cap - 1, i = (size_t)h & mask;
    for (; r->sus[i].h; i = (i + 1) & mask)
        if (r->sus[i].h == h && r->sus[i].len == len && memcmp(r->sus[i].name, name, len) == 0)
            break;
    return i;
}

static int sus_add(mp_batch_reader *r, uint64_t h, const char *name, size_t len, size_t line,
                   size_t cline, size_t col)
{
    if (2 * (r->sus_n + 1) > r->sus_cap) { /* keep the load <= 1/2 */
        size_t cap = r->sus_cap ? 2 * r->sus_cap : 64;
        struct suspect *ns = calloc(cap, sizeof *ns);
        if (!ns) return -1;
        for (size_t i = 0; i < r->sus_cap; i++) {
            if (!r->sus[i].h) continue;
            size_t j = (size_t)r->sus[i].h & (cap - 1);
            while (ns[j].h) j = (j + 1) & (cap - 1);
            ns[j] = r->sus[i];
        }
        free(r->sus);
        r->sus = ns;
        r->sus_cap = cap;
    }
    size_t i = sus_slot(r, h, name, len);
    char *copy = malloc(len + 1);
    if (!copy) return -1;
    memcpy(copy, name, len);
    copy[len] = '\0';
    r->sus[i] = (struct suspect){h, copy, len, line, cline, col};
    r->sus_n++;
    return 0;
}

/* splitmix64's finalizer: the second hash of the double hashing. */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* The first word of the filter block of h (see bloom_add()). */
static inline uint64_t *bloom_block(const mp_batch_reader *r, uint64_t h)
{
    return r->bloom + ((h & ((UINT64_C(1) << (r->bloom_log2 - 9)) - 1)) << 3);
}

/* Set the k bits of h; 1 if they were all set already (maybe seen).  The
 * k bits lie in one 512-bit block (a cache line; Putze, Sanders & Singler
 * 2007, "cache-, hash- and space-efficient Bloom filters"): one cache miss
 * per group instead of k.  The block comes from h, the bits from h2. */
static int bloom_add(mp_batch_reader *r, uint64_t h)
{
    uint64_t *blk = bloom_block(r, h);
    uint64_t h2 = mix64(h);
    int seen = 1;
    for (unsigned i = 0; i < SORTED_BLOOM_K; i++, h2 >>= 9) {
        unsigned bit = (unsigned)(h2 & 511);
        uint64_t w = UINT64_C(1) << (bit & 63);
        if (!(blk[bit >> 6] & w)) { seen = 0; blk[bit >> 6] |= w; }
    }
    return seen;
}

/* The spool is written and read a byte at a time through stdio's buffer
 * (putc_unlocked/getc_unlocked are macros on it): a call of fwrite() or
 * fread() per name cost more than the names (measured: fread was a third of
 * the rebuilds).  Returns nonzero if a write failed. */
static int put_varint(FILE *f, size_t x)
{
    int bad = 0;
    while (x >= 0x80) { bad |= putc_unlocked((int)(x & 0x7f) | 0x80, f) == EOF; x >>= 7; }
    bad |= putc_unlocked((int)x, f) == EOF;
    return bad;
}

/* Append (line, length, name) to the spool; nonzero on a write error. */
static int spool_put(FILE *f, size_t line, const char *name, size_t len)
{
    int bad = put_varint(f, line) | put_varint(f, len);
    if (len > 64) return bad | (fwrite(name, 1, len, f) != len);
    for (size_t i = 0; i < len; i++) bad |= putc_unlocked((unsigned char)name[i], f) == EOF;
    return bad;
}

static int get_varint(FILE *f, size_t *x)
{
    size_t v = 0;
    for (unsigned sh = 0; sh < 64; sh += 7) {
        int c = getc_unlocked(f);
        if (c == EOF) return -1;
        v |= (size_t)(c & 0x7f) << sh;
        if (!(c & 0x80)) { *x = v; return 0; }
    }
    return -1;
}

/* The next (line, length, name) of the spool into *buf (grown as needed,
 * *cap bytes): 1, 0 at its end, -1 on a read error or a torn entry, -2 out
 * of memory. */
static int spool_get(FILE *f, size_t *line, size_t *len, char **buf, size_t *cap)
{
    if (get_varint(f, line) != 0) return ferror(f) ? -1 : 0;
    if (get_varint(f, len) != 0) return -1;
    if (*len + 1 > *cap) {
        char *p = realloc(*buf, *len + 1);
        if (!p) return -2;
        *buf = p;
        *cap = *len + 1;
    }
    if (*len > 64) return fread(*buf, 1, *len, f) == *len ? 1 : -1;
    for (size_t i = 0; i < *len; i++) {
        int c = getc_unlocked(f);
        if (c == EOF) return -1;
        (*buf)[i] = (char)c;
    }
    return 1;
}

/* The spool's stdio buffer. */
#define SPOOL_BUF ((size_t)1 << 18)

/* The spool: a temporary file, unlinked at once (it goes when closed). */
static mp_status spool_open(mp_batch_reader *r, mp_error *err)
{
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir) dir = "/tmp";
    char path[4096];
    snprintf(path, sizeof path, "%s/metapool-sorted-XXXXXX", dir);
    int fd = mkstemp(path);
    if (fd >= 0) {
        unlink(path);
        r->spool = fdopen(fd, "w+b");
        if (!r->spool) {
            close(fd);
        } else if ((r->spool_buf = malloc(SPOOL_BUF)) != NULL) {
            /* stdio's default 4 KiB made ~6500 read/write calls on the
             * parser thread per 10^6 groups; this makes ~100 */
            setvbuf(r->spool, r->spool_buf, _IOFBF, SPOOL_BUF);
        }
    }
    if (!r->spool) {
        mp_error_set(err, mp_csv_stream_name(r->s), 0, 0,
                     "--sorted: cannot create a temporary file in %s (set TMPDIR): %s", dir,
                     strerror(errno));
        return MP_FAIL(MP_EIO);
    }
    return MP_OK;
}

static mp_status spool_error(mp_batch_reader *r, mp_error *err)
{
    mp_error_set(err, mp_csv_stream_name(r->s), 0, 0, "--sorted: temporary file: %s",
                 strerror(errno ? errno : EIO));
    return MP_FAIL(MP_EIO);
}

/* A filter of 2^log2 bits holding every group in the spool.  The names are
 * hashed 64 at a time and their blocks fetched before any is set: each
 * block is a cache miss in a filter of up to 16 MiB, and one at a time they
 * were most of the rebuild's time. */
static mp_status bloom_build(mp_batch_reader *r, unsigned log2, mp_error *err)
{
    /* aligned to a cache line, so each 512-bit block is one line (calloc's
     * 16-byte alignment split most blocks over two: two misses, and the
     * prefetch fetched only one) */
    size_t bytes = (size_t)1 << (log2 - 3); /* log2 >= 9: whole blocks */
    void *mem = NULL;
    if (posix_memalign(&mem, 64, bytes) != 0) return MP_FAIL(MP_ENOMEM);
    uint64_t *nb = memset(mem, 0, bytes);
    free(r->bloom);
    r->bloom = nb;
    r->bloom_log2 = log2;
    if (r->ngroups == 0) return MP_OK;
    if (fflush(r->spool) != 0 || fseek(r->spool, 0, SEEK_SET) != 0) return spool_error(r, err);
    char *buf = NULL;
    size_t cap = 0, line, len, nh = 0;
    uint64_t hs[64];
    int got;
    mp_status st = MP_OK;
    do {
        got = spool_get(r->spool, &line, &len, &buf, &cap);
        if (got == 1) {
            hs[nh] = hash_bytes(buf, len);
            __builtin_prefetch(bloom_block(r, hs[nh]), 1);
            nh++;
        }
        if (nh == 64 || (got != 1 && nh)) {
            for (size_t i = 0; i < nh; i++) bloom_add(r, hs[i]);
            nh = 0;
        }
    } while (got == 1);
    free(buf);
    if (got == -2) st = MP_FAIL(MP_ENOMEM);
    else if (got < 0 || fseek(r->spool, 0, SEEK_END) != 0) st = spool_error(r, err);
    return st;
}

static mp_status sorted_repeat_error(mp_batch_reader *r, const char *name, size_t len,
                                     size_t cline, size_t col, mp_error *err)
{
    mp_error_set(err, mp_csv_stream_name(r->s), cline, col,
                 "group '%.*s' appears again after other groups: the input is not "
                 "sorted by '%s' (drop --sorted)",
                 (int)(len < 100 ? len : 100), name, mp_csv_stream_colname(r->s, r->gcol));
    return MP_FAIL(MP_EPARSE);
}

/* One pass over the spool: the suspect with the smallest line whose name
 * the spool holds at an earlier line is a real repeat (MP_EPARSE, err
 * names it; with `also` (may be NULL) a certain repeat at a later line
 * stands in if none is found).  Otherwise the suspects are dropped. */
static mp_status sorted_verify(mp_batch_reader *r, const struct suspect *also, mp_error *err)
{
    const struct suspect *best = also;
    if (r->sus_n) {
        if (fflush(r->spool) != 0 || fseek(r->spool, 0, SEEK_SET) != 0) goto ioerr;
        char *buf = NULL;
        size_t cap = 0, line, len;
        int got;
        while ((got = spool_get(r->spool, &line, &len, &buf, &cap)) == 1) {
            const struct suspect *x = &r->sus[sus_slot(r, hash_bytes(buf, len), buf, len)];
            if (x->h && line < x->line && (!best || x->line < best->line)) best = x;
        }
        free(buf);
        if (got == -2) return MP_FAIL(MP_ENOMEM);
        if (got < 0 || fseek(r->spool, 0, SEEK_END) != 0) goto ioerr;
    }
    if (best) return sorted_repeat_error(r, best->name, best->len, best->cline, best->col, err);
    sus_clear(r);
    return MP_OK;
ioerr:
    return spool_error(r, err);
}

/* A group starts at `line` (its cell at cline:col): error if it started
 * before (see above), else remember it. */
static mp_status sorted_new_group(mp_batch_reader *r, const char *name, size_t len, uint64_t h,
                                  size_t line, size_t cline, size_t col, mp_error *err)
{
    mp_status st;
    if (!r->bloom) {
        if (!r->bloom_max) r->bloom_max = SORTED_BLOOM_LOG2_MAX;
        if (!r->sus_max) r->sus_max = SORTED_SUS_MAX;
        if ((st = spool_open(r, err)) != MP_OK) return st;
        st = bloom_build(r, r->bloom_max < SORTED_BLOOM_LOG2_MIN ? r->bloom_max : SORTED_BLOOM_LOG2_MIN, err);
        if (st != MP_OK) return st;
    } else if (r->bloom_log2 < r->bloom_max && (r->ngroups << 5) > ((size_t)1 << r->bloom_log2)) {
        unsigned next = r->bloom_log2 + 3 < r->bloom_max ? r->bloom_log2 + 3 : r->bloom_max;
        if ((st = bloom_build(r, next, err)) != MP_OK) return st;
    }
    /* The spool may hold this group before the check: a repeat needs the
     * name at an EARLIER line, so its own entry never matches. */
    if (spool_put(r->spool, line, name, len)) return spool_error(r, err);
    if (bloom_add(r, h)) {
        if (r->sus_n) {
            const struct suspect *x = &r->sus[sus_slot(r, h, name, len)];
            if (x->h) { /* a suspect starts again: a certain repeat */
                struct suspect here = {h, (char *)name, len, line, cline, col};
                return sorted_verify(r, &here, err);
            }
        }
        if (sus_add(r, h, name, len, line, cline, col)) return MP_FAIL(MP_ENOMEM);
    }
    r->ngroups++;
    if (r->sus_n >= r->sus_max) return sorted_verify(r, NULL, err);
    return MP_OK;
}

/* The check of a new group put off until the next group starts (or the
 * block or the input ends, or an error is returned).  The filter's line
 * for a group is a random one of up to 16 MiB: checked at once, its cache
 * and TLB miss stalled the parser at every group (half of
 * mp_batch_read_sorted()'s own time at 10^6 groups of 9 rows, even with
 * the line prefetched just before).  Put off by one group, the prefetch
 * has a group's rows to arrive.  The checks still run one by one in file
 * order, so the filter, spool and suspects go through the same states and
 * find the same repeats; when the check fails, the block is cut back to
 * where the original order stopped: before the group, with the warnings of
 * the rows up to and including its first (sorted_undo()). */
static void sorted_defer(mp_batch_reader *r, const mp_batch_data *d, const char *name, size_t len,
                         size_t line, size_t cline, size_t col)
{
    r->dfr = 1;
    r->dfr_h = hash_bytes(name, len);
    if (r->bloom) __builtin_prefetch(bloom_block(r, r->dfr_h), 1);
    r->dfr_line = line;
    r->dfr_cline = cline;
    r->dfr_col = col;
    r->dfr_warn = d->warnings.n;
}

/* Cut block d back to its first `n` groups and `nw` warnings. */
static void sorted_undo(mp_batch_data *d, size_t n, size_t nw)
{
    d->n = n;
    d->nrows = d->off[n];
    for (size_t i = nw; i < d->warnings.n; i++) free(d->warnings.v[i]);
    if (nw < d->warnings.n) d->warnings.n = nw;
}

/* Run the check put off, if any (the block's last group). */
static mp_status sorted_flush(mp_batch_reader *r, mp_batch_data *d, mp_error *err)
{
    if (!r->dfr) return MP_OK;
    r->dfr = 0;
    size_t g = d->n - 1;
    mp_status st = sorted_new_group(r, d->names + d->name_off[g], r->cur_len, r->dfr_h, r->dfr_line,
                                    r->dfr_cline, r->dfr_col, err);
    if (st != MP_OK) {
        sorted_undo(d, g, r->dfr_warn);
        r->err_new_group = 1;
    }
    return st;
}

/* Return st (an error of the current row), unless the check put off finds
 * an error first: that one is earlier in the file. */
static mp_status sorted_fail(mp_batch_reader *r, mp_batch_data *d, mp_status st, mp_error *err)
{
    mp_status f = sorted_flush(r, d, err);
    return f != MP_OK ? f : st;
}

/* Room for one more row in d->y, d->v (off[] is left to the caller);
 * -1 out of memory. */
static int data_room_row(mp_batch_data *d)
{
    size_t c1 = d->cap_rows, c2 = d->cap_rows;
    if (grow((void **)&d->y, &c1, d->nrows + 1, sizeof *d->y) ||
        grow((void **)&d->v, &c2, d->nrows + 1, sizeof *d->v))
        return -1;
    d->cap_rows = c1 < c2 ? c1 : c2;
    return 0;
}

/* mp_batch_read_sorted() but for off[n], which it sets at the end: rows
 * are appended without it, and the name of the block's last group is kept
 * at hand (`cur`, moved when the names grow), so a row of the current group
 * (8 of 9 at k = 9) costs its parse, a compare and two stores. */
static mp_status read_sorted_block(mp_batch_reader *r, size_t min_rows, mp_batch_data *d, int *eof,
                                   mp_error *err)
{
    data_reset(d);
    *eof = 0;
    r->err_new_group = 0;
    r->repeat_at_end = 0;
    r->dfr = 0;
    mp_status st = MP_OK;
    if (data_room_groups(d, 0)) return MP_FAIL(MP_ENOMEM);
    d->off[0] = 0;
    const char *cur = NULL; /* the name of group d->n - 1 */
    if (r->has_pending) {
        r->has_pending = 0;
        r->cur_len = strlen(r->pend_name);
        if (data_add_group(d, r->pend_name, r->cur_len, r->pend_line))
            return MP_FAIL(MP_ENOMEM);
        if (r->pend_used && data_add_row(d, r->pend_y, r->pend_v)) return MP_FAIL(MP_ENOMEM);
        cur = d->names;
    }
    const size_t row_max = mp_limits()->row_bytes;
    while (!r->done) {
        fast_row fr;
        const char *gname;
        size_t glen, gline, gcline, gcpos;
        double yi = 0, vi = 0;
        int u;
        if (row_fast(r, &fr, row_max)) {
            if (fr.glen == r->cur_len && cur && same_bytes(fr.g, cur, fr.glen)) {
                if (d->nrows == d->cap_rows && data_room_row(d))
                    return sorted_fail(r, d, MP_FAIL(MP_ENOMEM), err);
                d->y[d->nrows] = fr.y;
                d->v[d->nrows] = fr.v;
                d->nrows++;
                continue;
            }
            gname = fr.g;
            glen = fr.glen;
            gline = gcline = fr.line;
            gcpos = fr.gcol;
            yi = fr.y;
            vi = fr.v;
            u = 1;
        } else {
            mp_csv_row row;
            int e;
            st = mp_csv_stream_next(r->s, &row, &e, err);
            if (st != MP_OK) return sorted_fail(r, d, st, err);
            if (e) { r->done = 1; break; }
            r->rowno++;
            if (group_missing(r, &row, &d->warnings, &st, err)) {
                if (st != MP_OK) return sorted_fail(r, d, st, err);
                continue;
            }
            gname = row.cell[r->gcol];
            glen = row.len[r->gcol];
            gline = row.line;
            gcline = row.cell_line[r->gcol];
            gcpos = row.colpos[r->gcol];
            u = row_effect(r, &row, &yi, &vi, &d->warnings, &st, err);
            if (u < 0) {
                mp_status f = sorted_flush(r, d, err);
                if (f != MP_OK) return f;
                r->err_new_group = !cur || glen != r->cur_len || !same_bytes(gname, cur, glen);
                return st;
            }
            if (cur && glen == r->cur_len && same_bytes(gname, cur, glen)) {
                if (u) {
                    if (d->nrows == d->cap_rows && data_room_row(d))
                        return sorted_fail(r, d, MP_FAIL(MP_ENOMEM), err);
                    d->y[d->nrows] = yi;
                    d->v[d->nrows] = vi;
                    d->nrows++;
                }
                continue;
            }
        }
        /* a new group: the last one's check, then this one's (at once if
         * the block ends here, else put off) */
        if ((st = sorted_flush(r, d, err)) != MP_OK) return st;
        if (d->n > 0 && d->nrows >= min_rows) {
            /* the block is full: check this row's group, carry the row over */
            st = sorted_new_group(r, gname, glen, hash_bytes(gname, glen), gline, gcline, gcpos, err);
            if (st != MP_OK) { r->err_new_group = 1; return st; }
            if (glen + 1 > r->pend_cap) {
                char *p = realloc(r->pend_name, glen + 1);
                if (!p) return MP_FAIL(MP_ENOMEM);
                r->pend_name = p;
                r->pend_cap = glen + 1;
            }
            memcpy(r->pend_name, gname, glen);
            r->pend_name[glen] = '\0';
            r->pend_line = gline;
            r->pend_y = yi;
            r->pend_v = vi;
            r->pend_used = u;
            r->has_pending = 1;
            return MP_OK;
        }
        if (data_add_group(d, gname, glen, gline)) { /* the check came first */
            st = sorted_new_group(r, gname, glen, hash_bytes(gname, glen), gline, gcline, gcpos, err);
            if (st != MP_OK) { r->err_new_group = 1; return st; }
            return MP_FAIL(MP_ENOMEM);
        }
        sorted_defer(r, d, gname, glen, gline, gcline, gcpos);
        cur = d->names + d->name_off[d->n - 1];
        r->cur_len = glen;
        if (u && data_add_row(d, yi, vi)) return sorted_fail(r, d, MP_FAIL(MP_ENOMEM), err);
    }
    /* the end of input: the last group's check, then the suspects left */
    if ((st = sorted_flush(r, d, err)) != MP_OK) return st;
    st = sorted_verify(r, NULL, err);
    if (st != MP_OK) {
        /* every row has been read: the block's last group is complete */
        r->err_new_group = 1;
        r->repeat_at_end = st == MP_EPARSE;
        return st;
    }
    *eof = 1;
    return MP_OK;
}

mp_status mp_batch_read_sorted(mp_batch_reader *r, size_t min_rows, mp_batch_data *d, int *eof,
                               mp_error *err)
{
    mp_status st = read_sorted_block(r, min_rows, d, eof, err);
    if (d->off) d->off[d->n] = d->nrows;
    return st;
}

int mp_batch_reader_error_ends_group(const mp_batch_reader *r) { return r ? r->err_new_group : 0; }
int mp_batch_reader_repeat_at_end(const mp_batch_reader *r) { return r ? r->repeat_at_end : 0; }

/* ======================================================================
 * shares of a sorted file: byte ranges cut at group boundaries
 * ======================================================================
 *
 * A share is [begin, end) with the line and data-row numbers of the row at
 * `begin`, so a reader on it names the file's real lines and rows.  Cuts
 * are found in three passes, each splittable across processes or threads:
 *
 * 1. mp_batch_count_quotes() over nominal ranges (the data cut into equal
 *    byte counts): in RFC 4180 a byte is inside a quoted field iff an odd
 *    number of '"' bytes precede it (an escaped "" toggles twice), and the
 *    header is balanced, so the prefix sum of the counts gives the quote
 *    state at each nominal boundary;
 * 2. mp_batch_find_cut() from each boundary: the first row start after
 *    it, then rows (split by the stream itself) until the group changes;
 *    the cut is the start of that row.  Missing group values do not start
 *    a group, as in mp_batch_read_sorted();
 * 3. mp_batch_count_rows() over each share: data rows and line ends, whose
 *    prefix sums give each share's first line and row number.
 * Line ends are those of mp_csv_stream: LF, CRLF or a lone CR, inside
 * quotes too; a row is a line holding more than blanks (quoted line
 * breaks belong to their row). */

#define MP_SCAN_CHUNK ((size_t)1 << 20)

/* Open path at byte `at` for reading. */
static mp_status scan_open(const char *path, size_t at, FILE **f, mp_error *err)
{
    *f = fopen(path, "rb");
    if (!*f) {
        mp_error_set(err, path, 0, 0, "cannot open: %s", strerror(errno));
        return MP_FAIL(MP_EIO);
    }
    if (at > (size_t)INT64_MAX || fseeko(*f, (off_t)at, SEEK_SET) != 0) {
        mp_error_set(err, path, 0, 0, "cannot seek to byte %zu: %s", at, strerror(errno));
        fclose(*f);
        return MP_FAIL(MP_EIO);
    }
    return MP_OK;
}

static mp_status scan_read_error(FILE *f, const char *path, mp_error *err)
{
    if (ferror(f)) {
        mp_error_set(err, path, 0, 0, "cannot read: %s", strerror(errno));
        return MP_FAIL(MP_EIO);
    }
    return MP_OK;
}

mp_status mp_batch_count_quotes(const char *path, size_t begin, size_t end, size_t *quotes,
                                mp_error *err)
{
    if (!path || !quotes || end < begin) return MP_FAIL(MP_EINVAL);
    *quotes = 0;
    if (end == begin) return MP_OK;
    FILE *f;
    mp_status st = scan_open(path, begin, &f, err);
    if (st != MP_OK) return st;
    char *buf = malloc(MP_SCAN_CHUNK);
    if (!buf) { fclose(f); return MP_FAIL(MP_ENOMEM); }
    size_t left = end - begin, q = 0;
    while (left) {
        size_t got = fread(buf, 1, left < MP_SCAN_CHUNK ? left : MP_SCAN_CHUNK, f);
        if (got == 0) break;
        for (const char *p = buf, *e = buf + got; (p = memchr(p, '"', (size_t)(e - p))); p++) q++;
        left -= got;
    }
    st = scan_read_error(f, path, err);
    free(buf);
    fclose(f);
    *quotes = q;
    return st;
}

mp_status mp_batch_count_rows(const char *path, char delim, size_t begin, size_t end,
                              size_t *rows, size_t *lines, mp_error *err)
{
    if (!path || !rows || !lines || end < begin) return MP_FAIL(MP_EINVAL);
    *rows = *lines = 0;
    if (end == begin) return MP_OK;
    FILE *f;
    mp_status st = scan_open(path, begin, &f, err);
    if (st != MP_OK) return st;
    char *buf = malloc(MP_SCAN_CHUNK + 1);
    if (!buf) { fclose(f); return MP_FAIL(MP_ENOMEM); }
    /* one byte past `end` is read, to see whether a CR there ends a CRLF */
    size_t left = end - begin + 1, nr = 0, nl = 0;
    int inq = 0, content = 0, cr = 0; /* cr: the previous byte was a CR */
    size_t pos = begin;
    while (left) {
        size_t got = fread(buf, 1, left < MP_SCAN_CHUNK ? left : MP_SCAN_CHUNK, f);
        if (got == 0) break;
        size_t lim = end - pos < got ? end - pos : got; /* bytes inside the range */
        if (!inq && !cr && !memchr(buf, '"', got) && !memchr(buf, '\r', got)) {
            /* no quotes and no CR (the common case): line ends by memchr, and
             * a line is looked at only as far as its first non-blank byte */
            size_t i = 0;
            while (i < lim) {
                if (!content) {
                    while (i < lim && (buf[i] == ' ' || (buf[i] == '\t' && delim != '\t'))) i++;
                    if (i == lim) break;
                    if (buf[i] == '\n') { nl++; i++; continue; } /* a blank line */
                    content = 1;
                }
                const char *p = memchr(buf + i, '\n', lim - i);
                if (!p) { i = lim; break; }
                nl++;
                nr++;
                content = 0;
                i = (size_t)(p - buf) + 1;
            }
            pos += lim;
            left -= got;
            if (lim < got) break; /* the byte past the range is not a CR: done */
            continue;
        }
        for (size_t i = 0; i < got; i++, pos++) {
            unsigned char c = (unsigned char)buf[i];
            if (cr) { /* a CR ended a line unless this is the LF of its CRLF */
                cr = 0;
                if (c != '\n') {
                    nl++;
                    if (!inq) { nr += (size_t)content; content = 0; }
                }
            }
            if (pos == end) break;
            if (c == '"') { inq ^= 1; content = 1; }
            else if (c == '\n') {
                nl++;
                if (!inq) { nr += (size_t)content; content = 0; }
            } else if (c == '\r') cr = 1;
            else if (!(c == ' ' || (c == '\t' && delim != '\t'))) content = 1;
        }
        left -= got;
    }
    st = scan_read_error(f, path, err);
    if (cr) { nl++; if (!inq) { nr += (size_t)content; content = 0; } } /* CR at the end of the file */
    nr += (size_t)content; /* a last row without a line end */
    free(buf);
    fclose(f);
    *rows = nr;
    *lines = nl;
    return st;
}

/* The first row start at or after `at` (> 0), given the quote state at
 * `at`; the file size if there is none. */
static mp_status first_row_start(const char *path, size_t at, int inq, size_t *start,
                                 mp_error *err)
{
    FILE *f;
    mp_status st = scan_open(path, at - 1, &f, err);
    if (st != MP_OK) return st;
    char *buf = malloc(MP_SCAN_CHUNK);
    if (!buf) { fclose(f); return MP_FAIL(MP_ENOMEM); }
    size_t pos = at - 1;
    int cr = 0, first = 1;
    *start = SIZE_MAX;
    for (;;) {
        size_t got = fread(buf, 1, MP_SCAN_CHUNK, f);
        if (got == 0) break;
        for (size_t i = 0; i < got; i++, pos++) {
            char c = buf[i];
            if (cr) { *start = c == '\n' ? pos + 1 : pos; break; } /* after a CR, or its CRLF */
            /* inq is the state at `at`: the quote before it is already counted */
            if (c == '"') { if (!first) inq ^= 1; }
            else if (!inq && c == '\n') { *start = pos + 1; break; }
            else if (!inq && c == '\r') cr = 1;
            first = 0;
        }
        if (*start != SIZE_MAX) break;
    }
    st = scan_read_error(f, path, err);
    if (st == MP_OK && *start == SIZE_MAX) *start = pos; /* the end of the file */
    free(buf);
    fclose(f);
    return st;
}

/* The group value of a row is missing (the rule of group_missing()). */
static int cell_missing(const char *s, size_t n)
{
    while (n && (*s == ' ' || *s == '\t')) { s++; n--; }
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    return n == 0 || (n == 2 && s[0] == 'N' && s[1] == 'A') || (n == 1 && s[0] == '.');
}

static mp_status file_size(const char *path, size_t *size, mp_error *err)
{
    FILE *f;
    mp_status st = scan_open(path, 0, &f, err);
    if (st != MP_OK) return st;
    off_t n = fseeko(f, 0, SEEK_END) == 0 ? ftello(f) : -1;
    fclose(f);
    if (n < 0) {
        mp_error_set(err, path, 0, 0, "cannot find the size: %s", strerror(errno));
        return MP_FAIL(MP_EIO);
    }
    *size = (size_t)n;
    return MP_OK;
}

mp_status mp_batch_find_cut(const char *path, const char *group, size_t at, int inq, size_t *cut,
                            mp_error *err)
{
    if (!path || !group || !cut) return MP_FAIL(MP_EINVAL);
    mp_csv_stream *s = NULL;
    mp_status st = mp_csv_stream_open(path, 0, &s, err);
    if (st != MP_OK) return st;
    size_t data = mp_csv_stream_bytes(s), size = 0;
    long g = mp_csv_stream_col(s, group);
    mp_csv_stream_free(s);
    s = NULL;
    if (g < 0) {
        mp_error_set(err, path, 0, 0, "no column '%s' for --group", group);
        return MP_FAIL(MP_EINVAL);
    }
    if ((st = file_size(path, &size, err)) != MP_OK) return st;
    if (at <= data) { *cut = data; return MP_OK; }
    if (at >= size) { *cut = size; return MP_OK; }
    size_t start = size;
    if ((st = first_row_start(path, at, inq, &start, err)) != MP_OK) return st;
    if (start >= size) { *cut = size; return MP_OK; }
    if ((st = mp_csv_stream_open_range(path, 0, start, size, 0, &s, err)) != MP_OK) return st;
    char *first = NULL;
    size_t flen = 0;
    *cut = size;
    for (;;) {
        size_t here = mp_csv_stream_bytes(s);
        mp_csv_row row;
        int eof;
        mp_error e2;
        /* a malformed row ends the search at the end of the file: the share
         * before reads up to it and reports it */
        if (mp_csv_stream_next(s, &row, &eof, &e2) != MP_OK || eof) break;
        const char *v = row.cell[g];
        size_t n = row.len[g];
        if (cell_missing(v, n)) continue;
        if (!first) {
            first = malloc(n + 1);
            if (!first) { st = MP_FAIL(MP_ENOMEM); break; }
            memcpy(first, v, n);
            flen = n;
            continue;
        }
        if (n != flen || memcmp(v, first, n) != 0) { *cut = here; break; }
    }
    free(first);
    mp_csv_stream_free(s);
    return st;
}

mp_status mp_batch_plan(const char *path, const char *group, size_t n, mp_batch_share *shares,
                        mp_error *err)
{
    if (!path || !group || !shares || n == 0) return MP_FAIL(MP_EINVAL);
    mp_csv_stream *s = NULL;
    mp_status st = mp_csv_stream_open(path, 0, &s, err);
    if (st != MP_OK) return st;
    size_t data = mp_csv_stream_bytes(s), line0 = mp_csv_stream_line(s), size = 0;
    char delim = mp_csv_stream_delim(s);
    mp_csv_stream_free(s);
    if ((st = file_size(path, &size, err)) != MP_OK) return st;
    if (size < data) size = data;
    /* pass 1: quote parity at the nominal boundaries data + i (size - data) / n */
    size_t *at = malloc((n + 1) * sizeof *at);
    if (!at) return MP_FAIL(MP_ENOMEM);
    for (size_t i = 0; i <= n; i++)
        at[i] = data + (size_t)((double)(size - data) * (double)i / (double)n);
    at[n] = size;
    size_t q = 0;
    shares[0].begin = data;
    for (size_t i = 1; i < n && st == MP_OK; i++) {
        size_t qi;
        st = mp_batch_count_quotes(path, at[i - 1], at[i], &qi, err);
        q += qi;
        /* pass 2: the cut after boundary i; cuts never go backwards */
        if (st == MP_OK) st = mp_batch_find_cut(path, group, at[i], (int)(q & 1), &shares[i].begin, err);
        if (st == MP_OK && shares[i].begin < shares[i - 1].begin) shares[i].begin = shares[i - 1].begin;
    }
    free(at);
    if (st != MP_OK) return st;
    /* pass 3: lines and rows before each share */
    size_t line = line0, row = 0;
    for (size_t i = 0; i < n; i++) {
        shares[i].end = i + 1 < n ? shares[i + 1].begin : size;
        shares[i].line = line;
        shares[i].row = row;
        size_t nr, nl;
        if ((st = mp_batch_count_rows(path, delim, shares[i].begin, shares[i].end, &nr, &nl, err)) != MP_OK)
            return st;
        line += nl;
        row += nr;
    }
    return MP_OK;
}
