/* src/status.c - status messages, error records and warning lists.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "metapool/status.h"
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const msg[MP_STATUS_COUNT] = {
    [MP_OK] = "success",
    [MP_EINVAL] = "invalid argument",
    [MP_EDOM] = "argument outside domain",
    [MP_ENOMEM] = "out of memory",
    [MP_EIO] = "input/output error",
    [MP_EPARSE] = "malformed input",
    [MP_ENOCONV] = "iteration did not converge",
    [MP_ESING] = "matrix is singular or not positive definite",
    [MP_ETOOFEW] = "too few studies",
};

const char *mp_strerror(mp_status s)
{
    if ((unsigned)s >= MP_STATUS_COUNT || !msg[s]) return "unknown status";
    return msg[s];
}

/* Every error return goes through here: one breakpoint catches them all. */
mp_status mp_fail_(mp_status s, const char *file, int line)
{
    (void)file;
    (void)line;
    return s;
}

void mp_error_clear(mp_error *e)
{
    if (e) memset(e, 0, sizeof *e);
}

void mp_error_format(const mp_error *e, char *buf, size_t n)
{
    if (!buf || n == 0) return;
    if (!e) { buf[0] = '\0'; return; }
    if (e->file[0] && e->line && e->col)
        snprintf(buf, n, "%s:%zu:%zu: %s", e->file, e->line, e->col, e->msg);
    else if (e->file[0] && e->line)
        snprintf(buf, n, "%s:%zu: %s", e->file, e->line, e->msg);
    else if (e->file[0])
        snprintf(buf, n, "%s: %s", e->file, e->msg);
    else
        snprintf(buf, n, "%s", e->msg);
}

void mp_error_set(mp_error *e, const char *file, size_t line, size_t col, const char *fmt, ...)
{
    if (!e) return;
    va_list ap;
    snprintf(e->file, sizeof e->file, "%s", file ? file : "");
    e->line = line;
    e->col = col;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
}

mp_status mp_msgs_add(mp_msgs *l, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (len < 0) return MP_FAIL(MP_EINVAL);
    if (l->n == l->m) {
        size_t m = l->m ? 2 * l->m : 8;
        char **v = realloc(l->v, m * sizeof *v);
        if (!v) return MP_FAIL(MP_ENOMEM);
        l->v = v;
        l->m = m;
    }
    char *s = malloc(strlen(tmp) + 1);
    if (!s) return MP_FAIL(MP_ENOMEM);
    strcpy(s, tmp);
    l->v[l->n++] = s;
    return MP_OK;
}

void mp_msgs_free(mp_msgs *l)
{
    if (!l) return;
    for (size_t i = 0; i < l->n; i++) free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = l->m = 0;
}
