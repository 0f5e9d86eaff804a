/* src/cli/cli_common.c - messages, strict number parsing, loading a file, study labels.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cli_parse_double(const char *s, double *out)
{
    return s && mp_parse_double(s, strlen(s), out) == 1;
}

int cli_parse_int(const char *s, long lo, long hi, long *out)
{
    char *end;
    if (!s || !*s) return 0;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < lo || v > hi) return 0;
    *out = v;
    return 1;
}

void cli_errorf(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "metapool%s%s: ", cmd ? " " : "", cmd ? cmd : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void cli_input_error(const char *cmd, const mp_error *e)
{
    char buf[800];
    mp_error_format(e, buf, sizeof buf);
    cli_errorf(cmd, "%s", buf);
}

void cli_warnings(const char *cmd, const mp_msgs *w)
{
    /* Every warning up to a limit; past it one line says how many more there
     * are, so a million-row file with many zero-event tables does not bury
     * the terminal (library callers get the full list in the result). */
    enum { MAX_SHOWN = 100 };
    size_t n = w ? w->n : 0, shown = n > MAX_SHOWN + 1 ? MAX_SHOWN : n;
    for (size_t i = 0; i < shown; i++) cli_errorf(cmd, "warning: %s", w->v[i]);
    if (shown < n) cli_errorf(cmd, "warning: ... and %zu more warnings not shown", n - shown);
}

/* Without the study column, a column whose name looks like study labels
 * (author, study..., trial, label, name) is named in a note, so a user
 * whose labels did not show learns the --study option. */
static void label_note(const char *cmd, const mp_table *t, const char *study)
{
    static const char *const hint[] = {"study", "author", "trial", "label", "name"};
    if (!study || mp_table_col(t, study) >= 0) return;
    for (size_t j = 0; j < mp_table_ncols(t); j++) {
        const char *nm = mp_table_colname(t, j);
        char low[64];
        size_t n = 0;
        for (; nm[n] && n + 1 < sizeof low; n++) low[n] = (char)tolower((unsigned char)nm[n]);
        low[n] = '\0';
        for (size_t h = 0; h < sizeof hint / sizeof hint[0]; h++) {
            if (!strstr(low, hint[h])) continue;
            cli_errorf(cmd, "note: no column '%s'; column '%s' looks like study labels "
                            "(use --study '%s' to show them)", study, nm, nm);
            return;
        }
    }
}

int cli_load(const char *cmd, const char *path, const cli_common *c, mp_table **t,
             mp_effects *e)
{
    mp_error err;
    mp_error_clear(&err);
    mp_status s = mp_table_read(path, t, &err);
    if (s != MP_OK) {
        cli_input_error(cmd, &err);
        return s == MP_ENOMEM ? CLI_FAIL : CLI_USAGE;
    }
    s = mp_effects_compute(*t, &c->es, e, &err);
    if (s != MP_OK) {
        cli_input_error(cmd, &err);
        mp_table_free(*t);
        *t = NULL;
        return s == MP_ENOMEM ? CLI_FAIL : CLI_USAGE;
    }
    cli_warnings(cmd, &e->warnings);
    label_note(cmd, *t, c->study);
    return CLI_OK;
}

const char **cli_labels(const mp_table *t, const char *col, char **buf)
{
    size_t n = mp_table_nrows(t);
    long j = col ? mp_table_col(t, col) : -1;
    const char **lab = malloc((n ? n : 1) * sizeof *lab);
    *buf = NULL;
    if (!lab) return NULL;
    if (j >= 0) {
        for (size_t i = 0; i < n; i++) lab[i] = mp_table_cell(t, i, (size_t)j);
        return lab;
    }
    char *b = malloc(n * 32 + 1);
    if (!b) { free(lab); return NULL; }
    for (size_t i = 0; i < n; i++) {
        snprintf(b + i * 32, 32, "Study %zu", i + 1);
        lab[i] = b + i * 32;
    }
    *buf = b;
    return lab;
}

int cli_check_writable(const char *cmd, const char *path)
{
    /* open without truncating; remove the file again if this made it */
    FILE *probe = fopen(path, "r");
    int existed = probe != NULL;
    if (probe) fclose(probe);
    FILE *f = fopen(path, "a");
    if (!f) {
        cli_errorf(cmd, "%s: cannot write: %s", path, strerror(errno));
        return -1;
    }
    fclose(f);
    if (!existed) remove(path);
    return 0;
}

const char *cli_plot_error(mp_status s)
{
    switch (s) {
    case MP_EIO: return strerror(errno);
    case MP_EDOM: return "the picture would be too large at this --dpi (at most 64 megapixels)";
    case MP_EINVAL: return "this build cannot write that format (SVG only)";
    default: return mp_strerror(s);
    }
}
