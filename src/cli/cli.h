/* src/cli/cli.h - shared pieces of the metapool command-line tool.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef MP_CLI_H
#define MP_CLI_H

#include <stdio.h>
#include "metapool/metapool.h"

/* Exit statuses of the contract. */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2, CLI_NOTREPRODUCED = 3 };

/* Subcommands: one file each. */
int cmd_pool(int argc, char **argv);
int cmd_escalc(int argc, char **argv);
int cmd_reg(int argc, char **argv);
int cmd_trajectory(int argc, char **argv);
int cmd_batch(int argc, char **argv);

/* Output formats. */
typedef enum cli_format { CLI_FMT_TABLE = 0, CLI_FMT_JSON, CLI_FMT_CSV } cli_format;

/* Options most commands share. */
typedef struct cli_common {
    mp_es_opts es;       /* measure, SMD variance convention, level for CI input */
    mp_pool_opts pool;   /* method, test, level */
    cli_format format;   /* output format */
    const char *by;      /* --by column or NULL */
    const char *study;   /* study label column [study] */
    const char *plot;    /* --plot FILE.svg or NULL */
    const char *compare; /* --compare FILE or NULL */
    int width;           /* --width N (0 = auto) */
    int digits;          /* --digits N [2] */
    int ascii;           /* --ascii */
    int transf;          /* back-transform ratio measures [1]; --transf none -> 0 */
    int methods;         /* --methods */
    int color;           /* colour (decided from isatty and NO_COLOR) */
} cli_common;

/* getopt_long ids of the shared options (values above any short option). */
enum {
    OPT_MEASURE = 256, OPT_METHOD, OPT_TEST, OPT_LEVEL, OPT_FORMAT, OPT_BY, OPT_STUDY,
    OPT_PLOT, OPT_COMPARE, OPT_WIDTH, OPT_DIGITS, OPT_ASCII, OPT_TRANSF, OPT_METHODS,
    OPT_VTYPE, OPT_DROP00, OPT_FIRST_PRIVATE = 400
};

void cli_common_init(cli_common *c);
/* Handle one shared option; returns 1 if handled, 0 if not a shared
 * option, -1 on a bad value (message printed, caller exits CLI_USAGE). */
int cli_common_opt(const char *cmd, int id, const char *arg, cli_common *c);
/* Finish: level copied to both option sets, colour decided. */
void cli_common_finish(cli_common *c);

/* Strict number parsing of option values. */
int cli_parse_double(const char *s, double *out);
int cli_parse_int(const char *s, long lo, long hi, long *out);

/* Messages: "metapool CMD: ..." on stderr. */
void cli_errorf(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void cli_input_error(const char *cmd, const mp_error *e);
/* After getopt_long (with opterr = 0 and an optstring starting with ':')
 * returned '?' or ':': print "metapool CMD: unrecognized option 'X'" or
 * "... option 'X' needs a value" on stderr. */
void cli_bad_option(const char *cmd, int id, char **argv);
void cli_warnings(const char *cmd, const mp_msgs *w);

/* Whether an output file (--plot) can be written, checked before any output
 * so that a bad path fails early (exit 2) instead of after the results.
 * 0 if writable; -1 with a one-line message naming the reason. */
int cli_check_writable(const char *cmd, const char *path);

/* Load a table and its effect sizes; returns CLI_OK or the exit status
 * after printing the error. */
int cli_load(const char *cmd, const char *path, const cli_common *c, mp_table **t,
             mp_effects *e);

/* JSON helpers: a number with full precision (shortest round-trip form),
 * null for NaN/Inf; a string with escapes. */
void json_num(FILE *f, double x);
void json_str(FILE *f, const char *s);
/* CSV field, quoted when needed. */
void csv_field(FILE *f, const char *s, char delim);

/* Study labels of the rows of t (the --study column, or "Study i"). The
 * strings point into t or into buf (caller frees the array and buf). */
const char **cli_labels(const mp_table *t, const char *col, char **buf);

/* ---- one pooled analysis as the reporter sees it ---- */
typedef struct cli_analysis {
    const char *group;     /* subgroup value, NULL for an ungrouped analysis */
    size_t k;              /* studies */
    const char **label;    /* k labels */
    const double *yi;      /* k effects */
    const double *vi;      /* k variances */
    double *weight;        /* k weights (percent) under the model */
    mp_pool_result fit;    /* the requested model */
    mp_pool_result fe;     /* the fixed-effect fit (for the FE row) */
    mp_status status;      /* status of fit */
} cli_analysis;

typedef struct cli_report {
    const char *file;       /* input name */
    mp_measure measure;
    mp_smd_vtype vtype;
    mp_es_source source;
    const cli_common *opt;
    cli_analysis *a;        /* analyses: one, or one per subgroup */
    size_t n;
    cli_analysis *overall;  /* with --by: all studies together; else NULL */
    int has_subgroup_test;
    double sub_Q, sub_df, sub_p;   /* test for subgroup differences */
    const mp_msgs *warnings;
} cli_report;

/* Reporter (report.c, svg.c): forest table, CSV, SVG, methods text. */
void report_table(FILE *f, const cli_report *r);
void report_csv(FILE *f, const cli_report *r);
int report_svg(const char *path, const cli_report *r); /* 0 ok, -1 error (errno) */
void report_methods(FILE *f, const cli_report *r);

/* Trajectory plot (traj_svg.c): per-window estimates win[0..r->n_times) with
 * CIs, the fitted curve with its band, the line of no effect, a log-time axis
 * labelled in `unit` (NULL = unitless).  0 ok, -1 error (errno). */
int traj_svg(const char *path, const mp_traj_result *r, const mp_pool_result *win,
             const char *unit, const char *title);
/* Readable label of time t given in `unit` (min, h, d, w, months, y; NULL =
 * the number as it is), e.g. 0.67 h -> "40 min".  -1 for an unknown unit. */
int traj_time_label(double t, const char *unit, char *buf, size_t n);

#endif
