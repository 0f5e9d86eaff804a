/* include/metapool/batch.h - many analyses at once: streaming grouped input, threaded fits.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Batch mode fits one random-effects model per value of a grouping column
 * (a genome-wide scan, a simulation study, a CI job over many outcomes).
 * Three pieces, usable on their own:
 *
 *  - mp_csv_stream: a chunked reader of delimited text that applies the
 *    rules of mp_table_read() (delimiter from the header, RFC 4180 quotes,
 *    CRLF/LF/CR, UTF-8 BOM, empty lines ignored, control bytes, ragged rows,
 *    duplicated names rejected, the limits of a row's bytes and of the
 *    columns, messages naming file:line:col) while holding only one chunk
 *    of the file in memory.
 *  - mp_batch_reader: rows -> effect sizes (the per-row functions of
 *    escalc.h, columns resolved as mp_effects_compute() does) -> analyses
 *    held as struct-of-arrays (all y, all v, offsets), grouped either over
 *    the whole file (order of first appearance) or, for input sorted by
 *    group, block by block with memory bounded by the largest group.
 *  - mp_pool_batch(): mp_pool_many() over blocks of analyses on several
 *    POSIX threads; results land at the index of their analysis, so the
 *    outcome does not depend on the thread count.
 *
 * The numbers are those of mp_pool() on the same rows: the same fit is
 * called for every analysis. */
#ifndef MP_BATCH_H
#define MP_BATCH_H

#include <stddef.h>
#include "escalc.h"
#include "pool.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- threaded fits ------------------------------------------------------ */

/** Analyses per chunk of mp_pool_batch(): chunk c is [c * MP_BATCH_GRAIN,
 *  min((c + 1) * MP_BATCH_GRAIN, n)). */
#define MP_BATCH_GRAIN 256

/** Called by a worker thread after it has fitted one chunk of analyses
 *  [first, first+count) (first is a multiple of MP_BATCH_GRAIN):
 *  `res`/`status` point at the whole arrays.  `thread` is the worker's index
 *  (0 .. nthreads-1); a thread fits its chunks one after another, but which
 *  chunks a thread gets depends on timing, and calls from different threads
 *  run concurrently, so the callback must only touch data belonging to its
 *  chunk or its thread. */
typedef void (*mp_batch_done_fn)(void *ctx, unsigned thread, size_t first, size_t count,
                                 const mp_pool_result *res, const mp_status *status);

/** Fit n analyses laid out as for mp_pool_many() (analysis a uses
 *  y[off[a] .. off[a+1]) and v likewise) on `nthreads` POSIX threads
 *  (0 or 1: in the calling thread, which is always one of them).  Each
 *  thread allocates one workspace for the largest analysis and then takes
 *  chunks of MP_BATCH_GRAIN analyses from a shared counter until none are
 *  left, fitting each with mp_pool_many() (no allocation in the loop), so a
 *  thread slowed by other work takes fewer chunks.  `res` (n entries) and
 *  `status` (n entries, may be NULL) receive each analysis' result exactly
 *  as mp_pool() would give it, whatever the thread count.  `done` (may be
 *  NULL) is called once per chunk from the thread that fitted it.
 *  Returns MP_OK if every analysis succeeded, otherwise the status of the
 *  first failing analysis (in index order); MP_EINVAL for bad arguments
 *  (NULL pointers with n > 0, decreasing offsets); MP_ENOMEM if no thread
 *  could have a workspace (then nothing is guaranteed about res).  A
 *  thread that cannot be started just takes no chunks (same results). */
MP_EXPORT mp_status mp_pool_batch(const double *y, const double *v, const size_t *off, size_t n,
                                  const mp_pool_opts *o, unsigned nthreads, mp_pool_result *res,
                                  mp_status *status, mp_batch_done_fn done, void *ctx);

/* ---- streaming delimited-text reader ------------------------------------ */

/** A chunked reader of delimited text (opaque). */
typedef struct mp_csv_stream mp_csv_stream;

/** One data row as the stream returns it.  The pointers stay valid until the
 *  next call of mp_csv_stream_next() or mp_csv_stream_free(). */
typedef struct mp_csv_row {
    size_t ncols;            /**< fields (always the header's count) */
    char *const *cell;       /**< ncols NUL-terminated, unquoted fields */
    const size_t *len;       /**< ncols field lengths in bytes */
    const size_t *colpos;    /**< ncols 1-based byte columns where each field starts (from the
                                  start of its physical line, as mp_table_colpos()) */
    const size_t *cell_line; /**< ncols 1-based lines where each field starts (differs from
                                  `line` after a line break inside a quoted field) */
    size_t line;             /**< 1-based source line where the row starts */
} mp_csv_row;

/** Open `path` ("-" = standard input) and read its header.  `chunk` is the
 *  size of the read buffer in bytes (0: 1 MiB); a row longer than it grows
 *  the buffer.  Returns MP_OK, MP_EIO (cannot open/read), MP_EPARSE (empty
 *  file, header problems) with `err` saying where, or MP_ENOMEM.  Allocates;
 *  free with mp_csv_stream_free(). */
MP_EXPORT mp_status mp_csv_stream_open(const char *path, size_t chunk, mp_csv_stream **out,
                                       mp_error *err);
/** Free a stream (closes the file unless it is standard input). NULL-safe. */
MP_EXPORT void mp_csv_stream_free(mp_csv_stream *s);
/** Columns in the header. */
MP_EXPORT size_t mp_csv_stream_ncols(const mp_csv_stream *s);
/** Name of column j (0-based); "" if out of range. */
MP_EXPORT const char *mp_csv_stream_colname(const mp_csv_stream *s, size_t j);
MP_EXPORT long mp_csv_stream_col(const mp_csv_stream *s, const char *name); /**< exact name first, then ignoring ASCII case; -1 if none */
/** The delimiter detected from the header (',', ';' or '\t'). */
MP_EXPORT char mp_csv_stream_delim(const mp_csv_stream *s);
/** Name of the input for messages ("<stdin>" for "-"). */
MP_EXPORT const char *mp_csv_stream_name(const mp_csv_stream *s);
/** Bytes consumed from the input so far. */
MP_EXPORT size_t mp_csv_stream_bytes(const mp_csv_stream *s);
/** Next data row.  Returns MP_OK with *row filled and *eof = 0, MP_OK with
 *  *eof = 1 at the end of the input, MP_EPARSE (ragged row, quote errors,
 *  control bytes) or MP_EIO with `err` naming file:line:col, or MP_ENOMEM.
 *  A file with a header and no data rows gives MP_EPARSE on the first call,
 *  as mp_table_read() does. */
MP_EXPORT mp_status mp_csv_stream_next(mp_csv_stream *s, mp_csv_row *row, int *eof,
                                       mp_error *err);

/** Like mp_csv_stream_open() on a file (not "-"), but the rows are read
 *  from the byte range [begin, end) only: the header comes from the start
 *  of the file, and the row at `begin` (which must be at or after the end
 *  of the header and start a line) is numbered `line`, so messages name
 *  the file's real lines.  An empty range gives end of input at once, and a
 *  range without rows is not an error.  MP_EINVAL if begin lies inside the
 *  header; else as mp_csv_stream_open(). */
MP_EXPORT mp_status mp_csv_stream_open_range(const char *path, size_t chunk, size_t begin,
                                             size_t end, size_t line, mp_csv_stream **out,
                                             mp_error *err);
/** The 1-based line at the stream's position (after the header: the line
 *  where the data begin, before any empty lines are skipped). */
MP_EXPORT size_t mp_csv_stream_line(const mp_csv_stream *s);

/* ---- grouped effect sizes ----------------------------------------------- */

/** Analyses held as struct-of-arrays, in order of first appearance. */
typedef struct mp_batch_data {
    size_t n;            /**< analyses (groups) */
    size_t nrows;        /**< rows used (sum of k) */
    double *y;           /**< nrows effects, analysis by analysis */
    double *v;           /**< nrows sampling variances, likewise */
    size_t *off;         /**< n + 1 offsets: analysis a is [off[a], off[a+1]) */
    char *names;         /**< group values, NUL-terminated, one after another */
    size_t *name_off;    /**< n offsets into names */
    size_t *line;        /**< n source lines of each group's first row */
    mp_msgs warnings;    /**< rows left out (missing values, zero-event tables) */
    size_t cap_rows, cap_n, cap_names; /**< allocated sizes (internal) */
} mp_batch_data;

/** Free the arrays of `d` and reset it to empty. NULL-safe. */
MP_EXPORT void mp_batch_data_free(mp_batch_data *d);
/** Name of analysis a. */
MP_EXPORT const char *mp_batch_data_name(const mp_batch_data *d, size_t a);

/** A reader of grouped effect sizes (opaque). */
typedef struct mp_batch_reader mp_batch_reader;

/** Open `path` for batch reading with the rows grouped by column `group`.
 *  Effect sizes come from the columns as mp_effects_compute() chooses them
 *  under `es` (NULL: defaults); bad cells give MP_EPARSE, a missing column
 *  MP_EINVAL, each with `err` naming file, line and column.  `chunk` is the
 *  read buffer size in bytes (0: 1 MiB).  Allocates; free with
 *  mp_batch_reader_free(). */
MP_EXPORT mp_status mp_batch_reader_open(const char *path, const char *group,
                                         const mp_es_opts *es, size_t chunk,
                                         mp_batch_reader **out, mp_error *err);
/** Free a reader. NULL-safe. */
MP_EXPORT void mp_batch_reader_free(mp_batch_reader *r);
/** Measure and source the effect sizes come from. */
MP_EXPORT mp_measure mp_batch_reader_measure(const mp_batch_reader *r);
/** Bytes consumed from the input so far. */
MP_EXPORT size_t mp_batch_reader_bytes(const mp_batch_reader *r);

/** Read the whole input into `d` (emptied first), one analysis per distinct
 *  group value in order of first appearance, wherever its rows are.  Rows
 *  left out for missing values still create their group (which may end up
 *  with k = 0).  The whole-file limits of table.h apply: an input larger
 *  than MP_TABLE_MAX_FILE_BYTES (a regular file judged by its size before
 *  its rows are read) and a row that would start group
 *  MP_TABLE_MAX_GROUPS + 1 are MP_EPARSE (the latter at its group cell).
 *  Returns MP_OK, MP_EPARSE/MP_EIO with `err`, or MP_ENOMEM. */
MP_EXPORT mp_status mp_batch_read_all(mp_batch_reader *r, mp_batch_data *d, mp_error *err);

/** For input whose rows are sorted (contiguous) by group: read complete
 *  groups into `d` (emptied first, its buffers reused) until at least
 *  `min_rows` rows are held or the input ends; *eof is set when no rows
 *  remain after this block.  Memory is bounded by min_rows plus the largest
 *  group, plus a Bloom filter of at most 16 MiB; neither the file size nor
 *  the number of groups is limited (MP_TABLE_MAX_FILE_BYTES and
 *  MP_TABLE_MAX_GROUPS do not apply).  A group that appears
 *  again after another group gives MP_EPARSE with `err` naming the line and
 *  column of its first such row; it is found exactly (every group value is
 *  written to a temporary file in $TMPDIR, default /tmp, removed at once,
 *  and read back when the filter flags a value as possibly seen), possibly
 *  a few blocks after the repeat itself (at the latest at the end of the
 *  input).  MP_EIO if the temporary file cannot be made or written.  Other
 *  returns as mp_batch_read_all(). */
MP_EXPORT mp_status mp_batch_read_sorted(mp_batch_reader *r, size_t min_rows, mp_batch_data *d,
                                         int *eof, mp_error *err);

/** After mp_batch_read_sorted() failed on bad input: 1 if the bad row was
 *  read far enough to know that it starts a new group (a bad number in its
 *  effect-size cells, or a group that comes back), so the last group in
 *  the block is complete; 0 if it may belong to that group. */
MP_EXPORT int mp_batch_reader_error_ends_group(const mp_batch_reader *r);
/** After mp_batch_read_sorted() failed: 1 if the error is a group that
 *  came back, found by the check at the end of the input (every row was
 *  read, and the block holds complete groups); then mp_batch_reader_error_
 *  ends_group() is 1 too. */
MP_EXPORT int mp_batch_reader_repeat_at_end(const mp_batch_reader *r);
/** How many groups that the --sorted check's filter flags as possibly
 *  seen before ("suspects") are held before one pass over the spool
 *  verifies them (default 65536; 0 restores it).  A small number makes a
 *  group that comes back known within that many suspects of where it does,
 *  not possibly only at the end of the input, at the cost of more passes
 *  (false suspects are rare: about 2.5e-5 per group up to 4·10^6 groups).
 *  `metapool batch` without --sorted uses 16 when it tries a file as sorted.
 *  Call before the first mp_batch_read_sorted(). */
MP_EXPORT void mp_batch_reader_suspects(mp_batch_reader *r, size_t max_suspects);

/* ---- shares of a sorted file -------------------------------------------- */

/** A contiguous share of a file's data rows: bytes [begin, end), with the
 *  1-based line of the row at `begin` and the number of data rows before
 *  it (so a reader on the share numbers lines and rows as a reader of the
 *  whole file does). */
typedef struct mp_batch_share {
    size_t begin, end; /**< byte range */
    size_t line;       /**< line at begin */
    size_t row;        /**< data rows before begin */
} mp_batch_share;

/** Open a batch reader on one share (as mp_batch_reader_open(), with the
 *  header read from the start of the file).  With --sorted input and
 *  shares from mp_batch_plan(), reading every share in order with
 *  mp_batch_read_sorted() gives the groups, rows, warnings and messages of
 *  reading the whole file, except that a group coming back in a later
 *  share is not seen (each reader checks its own share). */
MP_EXPORT mp_status mp_batch_reader_open_range(const char *path, const char *group,
                                               const mp_es_opts *es, size_t chunk,
                                               const mp_batch_share *share,
                                               mp_batch_reader **out, mp_error *err);

/** The three passes of mp_batch_plan(), each over a part of the file, so
 *  processes or threads can share them (see src/io/batch.c):
 *  count the '"' bytes in [begin, end) (their parity, summed from the end
 *  of the header, is the quote state at `end`); */
MP_EXPORT mp_status mp_batch_count_quotes(const char *path, size_t begin, size_t end,
                                          size_t *quotes, mp_error *err);
/** find the cut at or after byte `at` (`inq`: the quote state there): the
 *  start of the first row, after the first row starting at or after `at`,
 *  whose group value differs from that row's (rows with a missing group
 *  value are passed over), or the file size if the group runs to the end
 *  or a malformed row comes first (the share before then reads up to it
 *  and reports it).  `at` at or before the first data row gives the first
 *  data row; */
MP_EXPORT mp_status mp_batch_find_cut(const char *path, const char *group, size_t at, int inq,
                                      size_t *cut, mp_error *err);
/** count the data rows and the line ends in [begin, end), where begin is
 *  the start of a row outside quotes (`delim` decides whether a tab is a
 *  blank, as in the stream). */
MP_EXPORT mp_status mp_batch_count_rows(const char *path, char delim, size_t begin, size_t end,
                                        size_t *rows, size_t *lines, mp_error *err);
/** Cut a file sorted by `group` into n shares of about equal bytes, each
 *  starting where the group changes (no group is split; a share may be
 *  empty when one group spans it).  shares[0].begin is the first data row,
 *  shares[n-1].end the file size.  Reads the file about twice.  MP_EIO,
 *  MP_EPARSE (header problems) or MP_EINVAL (no such column, n = 0) with
 *  `err`; MP_ENOMEM. */
MP_EXPORT mp_status mp_batch_plan(const char *path, const char *group, size_t n,
                                  mp_batch_share *shares, mp_error *err);

/* ---- number output ------------------------------------------------------- */

/** Write x as the shortest decimal that reads back (strtod, round to
 *  nearest) as exactly x, and of those the one closest to x (a tie to the
 *  even last digit), NUL-terminated, into buf (at least 32 bytes; at most 24
 *  are written plus the NUL); returns the length.  Layout as printf's "%g":
 *  plain notation when the decimal exponent e of the first digit is in
 *  -4 <= e < 17 ("0.0001", "12345.678", "10000000000000000"), else
 *  "d.ddde-XX" / "d.ddde+XX" with at least two exponent digits ("1e-05",
 *  "1.5e+17", "5e-324"); no trailing zeros; "0" and "-0" for zeros; "inf",
 *  "-inf", "nan", "-nan" as glibc's printf writes them.  Exact integer
 *  arithmetic (src/io/fmt.c); no allocation; thread-safe. */
MP_EXPORT size_t mp_format_double(double x, char *buf);

#ifdef __cplusplus
}
#endif
#endif /* MP_BATCH_H */
