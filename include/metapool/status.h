/* include/metapool/status.h - status codes, error detail and export macro.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef MP_STATUS_H
#define MP_STATUS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define MP_EXPORT __declspec(dllexport)
#elif defined(__GNUC__)
#define MP_EXPORT __attribute__((visibility("default")))
#else
#define MP_EXPORT
#endif

/** Status codes returned by every fallible library call. */
typedef enum mp_status {
    MP_OK = 0,     /**< success */
    MP_EINVAL,     /**< invalid argument (caller error) */
    MP_EDOM,       /**< argument outside the domain of the computation */
    MP_ENOMEM,     /**< allocation failed or size overflow */
    MP_EIO,        /**< could not read or write a file */
    MP_EPARSE,     /**< malformed input data (see mp_error for where) */
    MP_ENOCONV,    /**< an iterative method did not converge */
    MP_ESING,      /**< a matrix was singular or not positive definite */
    MP_ETOOFEW,    /**< too few studies for the requested analysis */
    MP_STATUS_COUNT
} mp_status;

/** A human-readable description of a status code; never NULL. */
MP_EXPORT const char *mp_strerror(mp_status s);

/** Where and why an input problem happened.  Filled by loaders and effect-size
 *  routines on failure; `line` and `col` are 1-based, 0 when not applicable. */
typedef struct mp_error {
    char file[256];  /**< file name as given ("-" shown as "<stdin>") */
    size_t line;     /**< 1-based source line, 0 if none */
    size_t col;      /**< 1-based byte column within the line, 0 if none */
    char msg[384];   /**< one-line message without file/line prefix */
} mp_error;

/** Clear an error record (all fields empty/zero). NULL-safe. */
MP_EXPORT void mp_error_clear(mp_error *e);

/** Format `e` as "file:line:col: msg" (parts omitted when absent) into buf. */
MP_EXPORT void mp_error_format(const mp_error *e, char *buf, size_t n);

/** A growable list of warning messages, owned by whoever holds it.
 *  Follows htslib's (ptr, n, m) contract. */
typedef struct mp_msgs {
    char **v;  /**< messages, each malloc'd, NUL-terminated */
    size_t n;  /**< number of messages */
    size_t m;  /**< allocated slots */
} mp_msgs;

/** Append a printf-formatted message. Returns MP_OK or MP_ENOMEM. */
MP_EXPORT mp_status mp_msgs_add(mp_msgs *l, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/** Free every message and reset the list to empty. NULL-safe. */
MP_EXPORT void mp_msgs_free(mp_msgs *l);

/** Optional log callback for warnings the library wants to tell (rows
 *  left out, fallbacks).  The library never prints; warnings are also
 *  collected in result structures where they belong. */
typedef void (*mp_log_fn)(void *ctx, const char *msg);

#ifdef __cplusplus
}
#endif
#endif /* MP_STATUS_H */
