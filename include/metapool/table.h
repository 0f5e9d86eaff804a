/* include/metapool/table.h - delimited text (CSV/TSV) loader.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef MP_TABLE_H
#define MP_TABLE_H

#include <stddef.h>
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An in-memory table of text cells read from a delimited file (opaque).
 *  Cells are parsed in place from one buffer: reading is a single pass,
 *  a cell is a pointer, and nothing is converted until asked for. */
typedef struct mp_table mp_table;

/** Read a delimited file: comma, semicolon or tab (detected from the
 *  header line), RFC 4180 quoting, CRLF or LF, optional UTF-8 BOM, empty
 *  lines ignored.  `path` "-" reads standard input.
 *  Returns MP_OK, MP_EIO (cannot open/read), MP_EPARSE (empty file,
 *  header without rows, duplicated or empty column name, ragged row,
 *  unterminated quote, NUL byte) or MP_ENOMEM; `err` (may be NULL) then
 *  says where.  Allocates; free with mp_table_free(). */
MP_EXPORT mp_status mp_table_read(const char *path, mp_table **out, mp_error *err);

/** As mp_table_read() but from a memory buffer, copied. `name` is used in
 *  error messages. */
MP_EXPORT mp_status mp_table_read_mem(const char *name, const char *buf, size_t len,
                                      mp_table **out, mp_error *err);

/** Free a table. NULL-safe. */
MP_EXPORT void mp_table_free(mp_table *t);

/** Number of data rows (the header excluded). */
MP_EXPORT size_t mp_table_nrows(const mp_table *t);
/** Number of columns. */
MP_EXPORT size_t mp_table_ncols(const mp_table *t);
/** Name of column j (0-based), as in the header with quotes removed. */
MP_EXPORT const char *mp_table_colname(const mp_table *t, size_t j);
/** Index of the column called `name`, or -1 if there is none. */
MP_EXPORT long mp_table_col(const mp_table *t, const char *name);
/** The delimiter detected (',', ';' or '\t'). */
MP_EXPORT char mp_table_delim(const mp_table *t);
/** The name given for the file (for messages). */
MP_EXPORT const char *mp_table_name(const mp_table *t);
/** Text of cell (i, j), NUL-terminated, unquoted; never NULL. */
MP_EXPORT const char *mp_table_cell(const mp_table *t, size_t i, size_t j);
/** 1-based source line where row i starts. */
MP_EXPORT size_t mp_table_line(const mp_table *t, size_t i);
/** 1-based byte column where cell (i, j) starts in its line. */
MP_EXPORT size_t mp_table_colpos(const mp_table *t, size_t i, size_t j);

/** Whether cell (i, j) is a missing value: empty, "NA" or "." . */
MP_EXPORT int mp_table_is_missing(const mp_table *t, size_t i, size_t j);

/** Parse cell (i, j) as a finite number (the whole cell; surrounding
 *  blanks allowed).  Returns MP_OK, or MP_EPARSE with `err` naming file,
 *  line, column and the offending text for an empty, non-numeric,
 *  NaN/Inf or out-of-range cell. */
MP_EXPORT mp_status mp_table_number(const mp_table *t, size_t i, size_t j, double *out,
                                    mp_error *err);

/** Fill `err` with file/line/column of cell (i, j) and a printf message. */
MP_EXPORT void mp_table_error(const mp_table *t, size_t i, size_t j, mp_error *err,
                              const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

/** Parse a number as the loader does: the whole of s[0..len) must be a
 *  finite decimal number (leading/trailing blanks allowed).  Correctly
 *  rounded (fast exact path, strtod otherwise), locale-independent.
 *  Returns 1 on success, 0 if not a number, -1 if out of range/NaN/Inf. */
MP_EXPORT int mp_parse_double(const char *s, size_t len, double *out);

#ifdef __cplusplus
}
#endif
#endif /* MP_TABLE_H */
