/* include/metapool/table.h - delimited text (CSV/TSV) loader.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef MP_TABLE_H
#define MP_TABLE_H

#include <stddef.h>
#include <stdint.h>
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An in-memory table of text cells read from a delimited file (opaque).
 *  Cells are parsed in place from one buffer: reading is a single pass,
 *  a cell is a pointer, and nothing is converted until asked for. */
typedef struct mp_table mp_table;

/** Read a delimited file as ../shared/interface.md ("Input") describes.
 *
 *  Format (RFC 4180 with the usual relaxations):
 *  - delimiter: comma, semicolon or tab, whichever occurs most often
 *    outside quotes in the header line (ties: comma);
 *  - fields may be quoted with '"'; a doubled quote inside stands for one
 *    quote; a quoted field may hold delimiters and line breaks; blanks
 *    before an opening or after a closing quote are allowed; a quote inside
 *    an unquoted field is an error;
 *  - line breaks: LF, CRLF or a lone CR; an optional UTF-8 byte-order mark
 *    at the start is skipped (columns are counted after it);
 *  - lines that are empty or hold only blanks are ignored anywhere;
 *  - the first non-empty line is the header; column names have surrounding
 *    blanks removed; an empty name is allowed (R's write.csv() writes ""
 *    over the row names) but cannot be looked up; a repeated non-empty name
 *    is an error;
 *  - every data row must have exactly as many fields as the header;
 *  - NUL and other control bytes (below 0x20 except tab/CR/LF, and 0x7f)
 *    are rejected as binary data, as soon as they are read;
 *  - a row longer than MP_TABLE_MAX_ROW_BYTES (one line, or the lines of a
 *    row whose quoted field holds line breaks) is an error; a row not yet
 *    ended is refused as soon as that much of it has been read, so endless
 *    input without line ends (or with a quote never closed) stops there
 *    instead of filling memory;
 *  - a header of more than MP_TABLE_MAX_COLS columns and an input larger
 *    than MP_TABLE_MAX_FILE_BYTES are errors (see "limits" below).
 *  Cells are kept as text; mp_table_number() converts on demand.
 *
 *  Missing values: the library's rule (used by mp_effects_compute()) is
 *  that a cell holding exactly NA (R's na.strings default, blanks around it
 *  allowed) is an explicit missing value, and a row with NA in a column the
 *  analysis needs is left out with a warning naming the row; an EMPTY cell
 *  in such a column is an error (MP_EPARSE, "empty cell where a number is
 *  required"), because it is more often a data-entry slip than a deliberate
 *  gap.  See mp_table_is_na() and mp_table_is_missing().
 *
 *  `path` "-" reads standard input (named "<stdin>" in messages).
 *  Returns MP_OK; MP_EINVAL (path or out NULL); MP_EIO (cannot open or read:
 *  missing, unreadable, a directory); MP_EPARSE (empty file, header without
 *  rows, duplicated column name, ragged row, unterminated quote, stray
 *  quote, NUL or control byte, a limit exceeded); MP_ENOMEM.  On failure `err` (may be NULL)
 *  holds the file, 1-based line and byte column where there is one, and a
 *  one-line message, and *out is NULL.
 *  Allocates; free with mp_table_free().  Reads the whole file into memory
 *  (about the file size plus 8 bytes per cell). */
MP_EXPORT mp_status mp_table_read(const char *path, mp_table **out, mp_error *err);

/* ---- limits ---------------------------------------------------------------
 * What the readers accept, each refused past its limit with an MP_EPARSE
 * error naming the file (and line:col where there is one) and the limit.
 * Both readers (mp_table_read*() here and the streaming mp_csv_stream /
 * mp_batch_reader of batch.h) apply the first two in the same way and give
 * the same message at the same line:col. */

/** The longest row accepted, in bytes (64 MiB): the bytes of a row from its
 *  first byte to the line end that ends it (excluded; a row whose quoted
 *  field holds line breaks counts all its lines; a line of blanks counts
 *  too).  The widest tables meant to load (10^6 columns: a header of ~8 MB,
 *  a row of 17-digit numbers of ~20 MB) fit with room to spare; an endless
 *  line is refused after 64 MiB (a fraction of a second), long before
 *  memory runs out. */
#define MP_TABLE_MAX_ROW_BYTES ((size_t)64 << 20)

/** The most columns a header may have (2^20 = 1,048,576): above the 10^6
 *  columns of the widest files meant to load (checked for repeated names in
 *  linear time), and small enough that a row's cell arrays (8 bytes a
 *  cell) stay at 8 MiB.  Column 2^20 + 1 is an error at its line:col. */
#define MP_TABLE_MAX_COLS ((size_t)1 << 20)

/** The largest input of the whole-file readers, in bytes (8 GiB = 2^33):
 *  mp_table_read*(), which hold the text and 8 bytes per cell (the
 *  commands pool, escalc, reg, trajectory, bias, leave1out, cumul,
 *  influence, gosh and batch --method MH|PETO), and mp_batch_read_all()
 *  (batch without --sorted, 16 bytes per row).  A regular file is refused
 *  from its size before it is read; a pipe when byte 2^33 + 1 arrives.
 *  mp_batch_read_sorted() (batch --sorted) streams and has no such limit. */
#define MP_TABLE_MAX_FILE_BYTES ((uint64_t)8 << 30)

/** The most groups of a whole-file grouping (2^20 = 1,048,576): pool --by
 *  and mp_batch_read_all() (batch without --sorted, which holds every
 *  group's name, offsets and result: a few hundred bytes each).  The first
 *  row of group 2^20 + 1 is an error at its cell's line:col that points to
 *  --sorted: mp_batch_read_sorted() holds one block of groups at a time
 *  and has no limit on their number (its check for groups that come back
 *  keeps a Bloom filter of at most 16 MiB and the names on disk). */
#define MP_TABLE_MAX_GROUPS ((size_t)1 << 20)

/** The limits in force (process-wide).  The defaults are the constants
 *  above; a program (or a test that exercises a limit at a small size)
 *  may lower or raise them with mp_table_limits_set(). */
typedef struct mp_table_limits {
    size_t row_bytes;    /**< longest row in bytes (MP_TABLE_MAX_ROW_BYTES) */
    size_t cols;         /**< most columns (MP_TABLE_MAX_COLS) */
    uint64_t file_bytes; /**< largest input of the whole-file readers (MP_TABLE_MAX_FILE_BYTES) */
    size_t groups;       /**< most groups of a whole-file grouping (MP_TABLE_MAX_GROUPS) */
} mp_table_limits;

/** The limits in force now. */
MP_EXPORT void mp_table_limits_get(mp_table_limits *l);
/** Set the limits (NULL: back to the defaults; a field of 0 means its
 *  default).  Process-wide and not synchronised: call it before any reader
 *  is opened, not while another thread reads. */
MP_EXPORT void mp_table_limits_set(const mp_table_limits *l);

/** A check of the header, called by mp_table_read_checked() with a table
 *  that has the header and no rows (mp_table_nrows() is 0) as soon as the
 *  header line has been read.  Returns MP_OK to go on, or an error status
 *  with `err` filled, which the read returns. */
typedef mp_status (*mp_table_header_fn)(void *ctx, const mp_table *header, mp_error *err);

/** mp_table_read() that hands the header to `check` (may be NULL) before
 *  the rest of the input is read: a command that lacks its columns stops
 *  at once, also on endless input such as `yes | metapool pool -`. */
MP_EXPORT mp_status mp_table_read_checked(const char *path, mp_table_header_fn check, void *ctx,
                                          mp_table **out, mp_error *err);

/** As mp_table_read() but from a memory buffer, copied. `name` is used in
 *  error messages. */
MP_EXPORT mp_status mp_table_read_mem(const char *name, const char *buf, size_t len,
                                      mp_table **out, mp_error *err);

/** Free a table. NULL-safe. */
MP_EXPORT void mp_table_free(mp_table *t);

/** 1-based source line of the header row. */
MP_EXPORT size_t mp_table_header_line(const mp_table *t);
/** Number of data rows (the header excluded). */
MP_EXPORT size_t mp_table_nrows(const mp_table *t);
/** Number of columns. */
MP_EXPORT size_t mp_table_ncols(const mp_table *t);
/** Name of column j (0-based), as in the header with quotes removed. */
MP_EXPORT const char *mp_table_colname(const mp_table *t, size_t j);
/** Index of the column called `name`: the exact name first, then the first
 *  name equal to it ignoring ASCII case ("Study" for study); -1 if none. */
MP_EXPORT long mp_table_col(const mp_table *t, const char *name);
/** The delimiter detected (',', ';' or '\t'). */
MP_EXPORT char mp_table_delim(const mp_table *t);
/** The name given for the file (for messages). */
MP_EXPORT const char *mp_table_name(const mp_table *t);
/** Text of cell (i, j), NUL-terminated, unquoted; never NULL. */
MP_EXPORT const char *mp_table_cell(const mp_table *t, size_t i, size_t j);
/** 1-based source line where row i starts (0 if i is out of range). */
MP_EXPORT size_t mp_table_line(const mp_table *t, size_t i);
/** 1-based source line where cell (i, j) starts; differs from
 *  mp_table_line() only after a quoted field holding a line break. */
MP_EXPORT size_t mp_table_cell_line(const mp_table *t, size_t i, size_t j);
/** 1-based byte column where cell (i, j) starts in its line (at the
 *  opening quote for a quoted cell; 0 if out of range). */
MP_EXPORT size_t mp_table_colpos(const mp_table *t, size_t i, size_t j);

/** Whether cell (i, j) is an explicit NA (exactly "NA", blanks around it
 *  allowed): the missing-value marker for required numeric columns. */
MP_EXPORT int mp_table_is_na(const mp_table *t, size_t i, size_t j);

/** Whether cell (i, j) is missing in the loose sense used for optional
 *  columns (moderators, grouping): empty or blank (spaces, tabs), "NA" or
 *  "." (blanks around them allowed). */
MP_EXPORT int mp_table_is_missing(const mp_table *t, size_t i, size_t j);

/** Parse cell (i, j) as a finite number with mp_parse_double() (the whole
 *  cell; surrounding blanks allowed).  Returns MP_OK, or MP_EPARSE with
 *  `err` naming file, line, column and the offending text for an empty,
 *  non-numeric, NaN/Inf or out-of-range cell.  Does not treat NA
 *  specially (callers check mp_table_is_na() first). */
MP_EXPORT mp_status mp_table_number(const mp_table *t, size_t i, size_t j, double *out,
                                    mp_error *err);

/** Group the rows by the text of column j (exact bytes), groups in order of
 *  first appearance.  A row i with create[i] != 0 (create NULL: every row)
 *  whose cell is not missing (mp_table_is_missing()) joins the group of its
 *  value, starting it if it is new; then a row with lookup[i] != 0 (lookup
 *  may be NULL) that is not missing joins the group of its value if some
 *  creating row started one.  gid (nrows entries) receives each row's group
 *  or SIZE_MAX; first (nrows entries, may be NULL) the first row of each
 *  group; *ngroups their number.  Linear time (a hash table).
 *  Returns MP_OK; MP_EPARSE if a row would start group
 *  mp_table_limits.groups + 1 (MP_TABLE_MAX_GROUPS), with `err` naming that
 *  cell and the limit; MP_EINVAL (NULL t, gid or ngroups, j out of range);
 *  MP_ENOMEM. */
MP_EXPORT mp_status mp_table_group(const mp_table *t, size_t j, const unsigned char *create,
                                   const unsigned char *lookup, size_t *gid, size_t *first,
                                   size_t *ngroups, mp_error *err);

/** Fill `err` with file/line/column of cell (i, j) and a printf message. */
MP_EXPORT void mp_table_error(const mp_table *t, size_t i, size_t j, mp_error *err,
                              const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

/** Parse a number as the loader does: the whole of s[0..len) must be a
 *  finite decimal number, grammar
 *      [blanks] [+|-] (digits [. [digits]] | . digits) [(e|E) [+|-] digits] [blanks]
 *  (blanks: space, tab).  Hex floats, "nan", "inf", thousands separators,
 *  a decimal comma and trailing text ("0.3 0.4") are not numbers.  The
 *  result is the correctly rounded double (Clinger's exact fast path for
 *  <= 19 significant digits with m < 2^53 and |exp| <= 22, strtod() on the
 *  validated text otherwise), independent of the locale.  A value that
 *  underflows gives the nearest subnormal or zero, as strtod does.
 *  `s` need not be NUL-terminated.  No allocation unless the text is
 *  longer than 127 bytes.
 *  Returns 1 on success (*out set), 0 if not a number, -1 if NaN, Inf or
 *  too large for a double (overflow). */
MP_EXPORT int mp_parse_double(const char *s, size_t len, double *out);

#ifdef __cplusplus
}
#endif
#endif /* MP_TABLE_H */
