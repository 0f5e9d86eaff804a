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
    cli_warnings_n(cmd, w, w ? w->n : 0);
}

void cli_warnings_n(const char *cmd, const mp_msgs *w, size_t total)
{
    /* Every warning up to a limit; past it one line says how many more there
     * are, so a million-row file with many zero-event tables does not bury
     * the terminal (library callers get the full list in the result). */
    enum { MAX_SHOWN = 100 };
    size_t n = total, shown = n > MAX_SHOWN + 1 ? MAX_SHOWN : n;
    if (w && shown > w->n) shown = w->n; /* cannot happen when w holds the first 101 */
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

/* The header must have the effect-size columns: checked as soon as it is
 * read, so input without them (even endless, as `yes | metapool pool -`)
 * stops there. */
static mp_status header_has_effects(void *ctx, const mp_table *hdr, mp_error *err)
{
    return mp_effects_check_columns(hdr, ctx, err);
}

int cli_load(const char *cmd, const char *path, const cli_common *c, mp_table **t,
             mp_effects *e)
{
    mp_error err;
    mp_error_clear(&err);
    mp_status s = mp_table_read_checked(path, header_has_effects, (void *)&c->es, t, &err);
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

int cli_check_mh(const char *cmd, const cli_common *c, const mp_effects *e)
{
    if (c->mh == MP_MH_NONE) return 0;
    mp_measure m = e->measure;
    if (c->mh == MP_MH_MH && e->source == MP_SRC_COUNTS &&
        (m == MP_MEASURE_OR || m == MP_MEASURE_RR || m == MP_MEASURE_RD))
        return 0;
    if (c->mh == MP_MH_MH && e->source == MP_SRC_RATES && (m == MP_MEASURE_IRR || m == MP_MEASURE_IRD))
        return 0;
    if (c->mh == MP_MH_PETO && e->source == MP_SRC_COUNTS &&
        (m == MP_MEASURE_OR || m == MP_MEASURE_PETO))
        return 0;
    cli_errorf(cmd, "--method %s needs %s (got --measure %s from %s)",
               c->mh == MP_MH_MH ? "MH" : "PETO",
               c->mh == MP_MH_MH ? "2x2 counts (ai, bi, ci, di or ai, n1i, ci, n2i) with --measure "
                                   "OR, RR or RD, or events and person-times (x1i, t1i, x2i, t2i) "
                                   "with --measure IRR or IRD"
                                 : "2x2 counts (ai, bi, ci, di or ai, n1i, ci, n2i) with --measure OR",
               mp_measure_name(m),
               e->source == MP_SRC_COUNTS || e->source == MP_SRC_RATES ? "counts" : "other columns");
    return CLI_USAGE;
}

double cli_hmean(const double *x, const unsigned char *used, size_t k)
{
    double s = 0;
    size_t n = 0;
    for (size_t i = 0; x && i < k; i++)
        if ((!used || used[i]) && x[i] > 0) { s += 1.0 / x[i]; n++; }
    return n ? (double)n / s : 0.0;
}

/* Split "a, b,factor(c)" (or metafor's formula style "~ a + b") at commas
 * and plus signs outside parentheses into a malloc'd array of pointers into
 * the malloc'd copy *buf; blank items are skipped. */
char **cli_split_mods(const char *s, size_t *n, char **buf)
{
    size_t len = strlen(s), cap = 1;
    for (size_t i = 0; i < len; i++) cap += s[i] == ',' || s[i] == '+';
    char *b = malloc(len + 1);
    char **v = malloc(cap * sizeof *v);
    if (!b || !v) { free(b); free(v); return NULL; }
    memcpy(b, s, len + 1);
    char *q0 = b;
    while (*q0 == ' ') q0++;
    if (*q0 == '~') *q0 = ' ';
    size_t m = 0;
    int depth = 0;
    char *start = b;
    for (char *q = b;; q++) {
        if (*q == '(') depth++;
        else if (*q == ')' && depth > 0) depth--;
        if (*q == '\0' || ((*q == ',' || *q == '+') && depth == 0)) {
            int end = *q == '\0';
            *q = '\0';
            if (strspn(start, " \t") != strlen(start)) v[m++] = start;
            start = q + 1;
            if (end) break;
        }
    }
    *n = m;
    *buf = b;
    return v;
}

int cli_pack(const char *cmd, const mp_table *t, const mp_effects *e, const char *study,
             cli_packed *p)
{
    size_t nr = mp_table_nrows(t), k = 0;
    memset(p, 0, sizeof *p);
    p->all = cli_labels(t, study, &p->labbuf);
    p->y = malloc((e->k ? e->k : 1) * sizeof *p->y);
    p->v = malloc((e->k ? e->k : 1) * sizeof *p->v);
    p->lab = malloc((e->k ? e->k : 1) * sizeof *p->lab);
    p->row = malloc((e->k ? e->k : 1) * sizeof *p->row);
    if (!p->all || !p->y || !p->v || !p->lab || !p->row) {
        cli_packed_free(p);
        cli_errorf(cmd, "out of memory");
        return CLI_FAIL;
    }
    for (size_t i = 0; i < nr; i++) {
        if (!e->used[i]) continue;
        p->y[k] = e->yi[i];
        p->v[k] = e->vi[i];
        p->lab[k] = p->all[i];
        p->row[k] = i;
        k++;
    }
    p->k = k;
    return CLI_OK;
}

void cli_packed_free(cli_packed *p)
{
    free(p->y);
    free(p->v);
    free(p->lab);
    free(p->row);
    free(p->all);
    free(p->labbuf);
    memset(p, 0, sizeof *p);
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

int cli_plot_status(const char *cmd, const char *path, mp_status s, int status)
{
    if (s == MP_OK) return status;
    cli_errorf(cmd, "%s: cannot write the plot: %s", path,
               s == MP_EIO ? strerror(errno) : mp_strerror(s));
    return status == CLI_OK ? CLI_FAIL : status;
}

int cli_fit_failed(const char *cmd, const char *file, const char *what, mp_status s)
{
    cli_errorf(cmd, "%s: %s: %s", file, what, mp_strerror(s));
    return CLI_FAIL;
}

int cli_finish(const char *cmd, int status)
{
    if (fflush(stdout) != 0 && status == CLI_OK) {
        cli_errorf(cmd, "write error");
        return CLI_FAIL;
    }
    return status;
}
