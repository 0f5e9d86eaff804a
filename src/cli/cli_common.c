/* src/cli/cli_common.c - option parsing, messages, loading and JSON/CSV helpers.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void cli_common_init(cli_common *c)
{
    memset(c, 0, sizeof *c);
    mp_es_opts_init(&c->es);
    mp_pool_opts_init(&c->pool);
    c->format = CLI_FMT_TABLE;
    c->study = "study";
    c->digits = 2;
    c->transf = 1;
}

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

void cli_bad_option(const char *cmd, int id, char **argv)
{
    const char *arg = optind > 0 ? argv[optind - 1] : "";
    char shortopt[3] = {'-', (char)optopt, '\0'};
    /* an unknown or incomplete short option inside a cluster: name the letter */
    if (optopt && optopt < 256 && (arg[0] != '-' || arg[1] == '-' || strlen(arg) != 2))
        arg = shortopt;
    if (id == ':') cli_errorf(cmd, "option '%s' needs a value", arg);
    else cli_errorf(cmd, "unrecognized option '%s'", arg);
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

int cli_common_opt(const char *cmd, int id, const char *arg, cli_common *c)
{
    long l;
    switch (id) {
    case OPT_MEASURE:
        if (mp_measure_parse(arg, &c->es.measure) != MP_OK) {
            cli_errorf(cmd, "unknown --measure '%s' (SMD, MD, ROM, OR, RR, RD or GEN)", arg);
            return -1;
        }
        c->es.measure_given = 1;
        return 1;
    case OPT_VTYPE:
        if (mp_smd_vtype_parse(arg, &c->es.vtype) != MP_OK) {
            cli_errorf(cmd, "unknown --vtype '%s' (LS, UB, RevMan or CMA)", arg);
            return -1;
        }
        return 1;
    case OPT_DROP00:
        if (strcmp(arg, "yes") == 0) c->es.drop00 = 1;
        else if (strcmp(arg, "no") == 0) c->es.drop00 = 0;
        else {
            cli_errorf(cmd, "--drop00 must be yes or no, got '%s'", arg);
            return -1;
        }
        return 1;
    case OPT_METHOD:
        if (mp_method_parse(arg, &c->pool.method) != MP_OK) {
            cli_errorf(cmd, "unknown --method '%s' (FE, DL, HE, HS, HSk, SJ, ML, REML, EB or PM)", arg);
            return -1;
        }
        return 1;
    case OPT_TEST:
        if (mp_test_parse(arg, &c->pool.test) != MP_OK) {
            cli_errorf(cmd, "unknown --test '%s' (z or knha)", arg);
            return -1;
        }
        return 1;
    case OPT_LEVEL: {
        double v;
        if (!cli_parse_double(arg, &v) || !(v > 0 && v < 100)) {
            cli_errorf(cmd, "--level must be a number between 0 and 100 (e.g. 95), got '%s'", arg);
            return -1;
        }
        /* as metafor's level argument: >= 1 is a percentage, (0.5, 1) a
         * fraction (0.95), <= 0.5 the alpha (0.05 = a 95% interval) */
        if (v < 1) v = v > 0.5 ? 100.0 * v : 100.0 * (1.0 - v);
        c->es.level = c->pool.level = v;
        return 1;
    }
    case OPT_FORMAT:
        if (strcmp(arg, "table") == 0) c->format = CLI_FMT_TABLE;
        else if (strcmp(arg, "json") == 0) c->format = CLI_FMT_JSON;
        else if (strcmp(arg, "csv") == 0) c->format = CLI_FMT_CSV;
        else { cli_errorf(cmd, "unknown --format '%s' (table, json or csv)", arg); return -1; }
        return 1;
    case OPT_BY: c->by = arg; return 1;
    case OPT_STUDY: c->study = arg; return 1;
    case OPT_PLOT: c->plot = arg; return 1;
    case OPT_COMPARE: c->compare = arg; return 1;
    case OPT_WIDTH:
        if (!cli_parse_int(arg, 40, 1000, &l)) {
            cli_errorf(cmd, "--width must be an integer from 40 to 1000, got '%s'", arg);
            return -1;
        }
        c->width = (int)l;
        return 1;
    case OPT_DIGITS:
        if (!cli_parse_int(arg, 0, 12, &l)) {
            cli_errorf(cmd, "--digits must be an integer from 0 to 12, got '%s'", arg);
            return -1;
        }
        c->digits = (int)l;
        return 1;
    case OPT_ASCII: c->ascii = 1; return 1;
    case OPT_TRANSF:
        if (strcmp(arg, "none") == 0) c->transf = 0;
        else if (strcmp(arg, "exp") == 0 || strcmp(arg, "auto") == 0) c->transf = 1;
        else { cli_errorf(cmd, "unknown --transf '%s' (auto, exp or none)", arg); return -1; }
        return 1;
    case OPT_METHODS: c->methods = 1; return 1;
    default: return 0;
    }
}

void cli_common_finish(cli_common *c)
{
    c->es.level = c->pool.level;
    const char *nc = getenv("NO_COLOR");
    c->color = isatty(STDOUT_FILENO) && !(nc && *nc) && !c->ascii;
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
    return CLI_OK;
}

void json_num(FILE *f, double x)
{
    if (!isfinite(x)) { fputs("null", f); return; }
    if (x == 0) { fputs("0", f); return; }
    char buf[40];
    for (int p = 15; p <= 17; p++) {
        snprintf(buf, sizeof buf, "%.*g", p, x);
        if (strtod(buf, NULL) == x) break;
    }
    fputs(buf, f);
}

void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') { fputc('\\', f); fputc(ch, f); }
        else if (ch == '\n') fputs("\\n", f);
        else if (ch == '\r') fputs("\\r", f);
        else if (ch == '\t') fputs("\\t", f);
        else if (ch < 0x20) fprintf(f, "\\u%04x", ch);
        else fputc(ch, f);
    }
    fputc('"', f);
}

void csv_field(FILE *f, const char *s, char delim)
{
    if (!s) s = "";
    const char special[] = {delim, '"', '\n', '\r', '\0'};
    if (s[strcspn(s, special)]) { /* one pass over the text */
        fputc('"', f);
        for (; *s; s++) {
            if (*s == '"') fputc('"', f);
            fputc(*s, f);
        }
        fputc('"', f);
    } else {
        fputs(s, f);
    }
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
