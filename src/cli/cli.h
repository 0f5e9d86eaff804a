/* src/cli/cli.h - shared pieces of the metapool command-line tool.
 *
 * The CLI stage: argument parsing (options.c: one table of every option),
 * messages, loading a file through the library, and one file per command
 * (cmd_*.c) that calls the library's models and reporter.  No statistics
 * and no drawing live here.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef MP_CLI_H
#define MP_CLI_H

#include <stdio.h>
#include "metapool/metapool.h"
#include "metapool/report.h"

/* Exit statuses of the contract. */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2, CLI_NOTREPRODUCED = 3 };

/* Subcommands: one file each. */
int cmd_pool(int argc, char **argv);
int cmd_escalc(int argc, char **argv);
int cmd_reg(int argc, char **argv);
int cmd_trajectory(int argc, char **argv);
int cmd_batch(int argc, char **argv);
int cmd_leave1out(int argc, char **argv);
int cmd_cumul(int argc, char **argv);
int cmd_influence(int argc, char **argv);
int cmd_bias(int argc, char **argv);
int cmd_gosh(int argc, char **argv);


/* Output formats. */
typedef enum cli_format { CLI_FMT_TABLE = 0, CLI_FMT_JSON, CLI_FMT_CSV } cli_format;

/* Every option of every command, declared, parsed, validated and documented
 * once in options.c; a command lists the ones it takes (cli_spec) and its
 * --help is generated from that list, so help and parser cannot disagree. */
typedef enum cli_opt_id {
    OPT_MEASURE = 256, OPT_VTYPE, OPT_DROP00, OPT_METHOD, OPT_TEST, OPT_LEVEL, OPT_BY,
    OPT_STUDY, OPT_FORMAT, OPT_PLOT, OPT_COMPARE, OPT_WIDTH, OPT_DIGITS, OPT_TRANSF,
    OPT_ASCII, OPT_METHODS, OPT_MAXITER, OPT_TOL, OPT_MODS, OPT_TIME, OPT_MODEL,
    OPT_STRUCT, OPT_PHI, OPT_TIME_UNIT, OPT_GROUP, OPT_THREADS, OPT_SORTED, OPT_TAU2,
    OPT_ORDER, OPT_DECREASING,
    OPT_PREDICTOR, OPT_EGGER_MODEL, OPT_ESTIMATOR, OPT_STEPS, OPT_CONTOURS, /* bias */
    OPT_SUBSETS, OPT_SEED, OPT_OUT, OPT_HIGHLIGHT, OPT_PERMUTATIONS, OPT_EXACT_QUANTILES,
    OPT_LABELS, OPT_FAVOURS, OPT_XLAB, OPT_TITLE, OPT_DPI,
    OPT_RANDOM, OPT_CLUSTER, OPT_VCOV, OPT_PREDICT, OPT_OUTPUT,
    OPT_END_, /* one past the last id */
    /* sets of options several commands take together, expanded where a
     * command lists them (options.c): */
    OPT_SET_EFFECTS, /* --measure --vtype --drop00: how effect sizes are computed */
    OPT_SET_MODEL,   /* --method --test --level: the model */
    OPT_SET_ITER     /* --maxiter --tol: iterative estimators */
} cli_opt_id;

/* The values of the options (each command reads the ones it takes). */
typedef struct cli_common {
    mp_es_opts es;          /* --measure, --vtype, --drop00, --level (CI input) */
    mp_pool_opts pool;      /* --method, --test, --level, --maxiter, --tol */
    mp_report_opts rep;     /* --width, --digits, --ascii, --transf, --by; colour */
    mp_traj_opts traj;      /* --model, --struct, --phi, --maxiter (trajectory) */
    cli_format format;      /* --format [table] */
    const char *study;      /* --study COL [study] */
    int study_given;        /* --study was given */
    const char *plot;       /* --plot FILE or NULL */
    const char *compare;    /* --compare FILE or NULL */
    int methods;            /* --methods */
    const char *mods;       /* --mods LIST (reg) */
    const char *time;       /* --time COL (trajectory) */
    const char *time_unit;  /* --time-unit U or NULL (trajectory) */
    const char *group;      /* --group COL (batch) */
    long threads;           /* --threads N (batch) [online CPUs, at most 256] */
    int threads_given;      /* --threads was given */
    int sorted;             /* --sorted (batch) */
    const char *output;     /* --output FILE (batch) or NULL: standard output */
    int tau2_common;        /* --tau2 common (pool --by) */
    const char *order;      /* --order COL (cumul) */
    int decreasing;         /* --decreasing (cumul) */
    mp_egger_predictor predictor; /* --predictor (bias) [sei] */
    mp_egger_model egger_model;   /* --egger-model (bias) [rma] */
    mp_tf_estimator estimator;    /* --estimator (bias) [L0] */
    double steps[32];       /* --steps (bias) */
    size_t nsteps;          /* 0: selmodel's default 0.025, 1 */
    int contours;           /* --contours (bias) */
    unsigned long long subsets; /* --subsets N (gosh); 0 = all [all] */
    int subsets_given;      /* --subsets was given */
    unsigned long seed;     /* --seed S (gosh, permutations) [1] */
    const char *out;        /* --out FILE (gosh) or NULL */
    const char *highlight;  /* --highlight STUDY (gosh) or NULL */
    long long permutations; /* --permutations N; -1 = exact; 0 = none */
    const char *random;     /* --random SPEC (reg, pool: multilevel model) */
    const char *cluster;    /* --cluster COL (reg: cluster-robust inference) */
    int vcov;               /* --vcov CR1|CR2 (mp_vcov_type; 0 = not given) */
    const char *predict;    /* --predict FILE (reg) */
    int exact_quantiles;    /* --exact-quantiles (gosh) */
    const char *file;       /* the one input FILE (set by cli_parse) */
    mp_mh_method mh;        /* --method MH or PETO: pooled from the tables (pool, batch) */
    char pair_buf[2][2][256]; /* --labels and --favours, split at the comma (rep points here) */
} cli_common;

/* One option as a command takes it: the id, and optionally its own help text
 * (NULL = the shared text) and a message when the option is required. */
typedef struct cli_optuse {
    int id;                 /* OPT_*; 0 ends a list */
    const char *help;       /* help override, lines separated by '\n', or NULL */
    const char *required;   /* if not NULL the option is required: the message */
} cli_optuse;

/* A command's interface: its help is About, Usage, the options, then notes. */
typedef struct cli_spec {
    const char *name;       /* "pool" */
    const char *about;      /* text after "About:   " (lines after the first indented) */
    const char *usage;      /* text after "Usage:   " */
    const cli_optuse *opts; /* options taken, in help order, {0}-terminated */
    const char *notes;      /* printed after the options, or NULL */
    int digits;             /* the command's default for --digits (0: 2) */
} cli_spec;

/* The commands' interfaces (specs.c). */
extern const cli_spec pool_spec;
extern const cli_spec escalc_spec;
extern const cli_spec reg_spec;
extern const cli_spec traj_spec;
extern const cli_spec batch_spec;
extern const cli_spec leave1out_spec;
extern const cli_spec cumul_spec;
extern const cli_spec influence_spec;
extern const cli_spec bias_spec;
extern const cli_spec gosh_spec;

void cli_common_init(cli_common *c);
/* The multilevel model of `pool --random` (intercept only; cmd_reg.c). */
int cli_reg_multilevel_pool(cli_common *c);
/* Set c to every option's default (spec's --digits), then parse argv
 * (argv[0] = the command name) against spec into c: one input
 * FILE (c->file), options validated, required ones present, colour decided.
 * Returns CLI_GO_ON to go on, or the exit status to return at once (CLI_OK
 * after --help, which prints the generated help on stdout; CLI_USAGE after
 * a one-line message on stderr). */
enum { CLI_GO_ON = -1 };
int cli_parse(const cli_spec *spec, int argc, char **argv, cli_common *c);
/* The generated help of a command. */
void cli_help(FILE *f, const cli_spec *spec);
/* What --help writes: the help text (default), a man page in roff (for
 * `metapool --man`), or the option names on one line (bash completion).
 * Set by main before it runs a command with --help. */
typedef enum cli_help_mode { CLI_HELP_TEXT = 0, CLI_HELP_MAN, CLI_HELP_WORDS } cli_help_mode;
extern cli_help_mode cli_help_as;
extern FILE *cli_help_out; /* where MAN and WORDS go (NULL = stdout) */
/* roff-escaped text (backslashes, leading dots and quotes) to f. */
void cli_roff(FILE *f, const char *s);

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
void cli_warnings(const char *cmd, const mp_msgs *w);
/* The same for a list of which only the first entries are held: `total`
 * warnings in all, w holding (at least) the first 101 of them. */
void cli_warnings_n(const char *cmd, const mp_msgs *w, size_t total);

/* Processes started by an MPI launcher (mpirun, mpiexec: OMPI_COMM_WORLD_SIZE,
 * PMI_SIZE, MV2_COMM_WORLD_SIZE), 0 if none; *rank (may be NULL) this one's
 * index and *var the variable that said so (cli_mpi.c). */
long cli_mpi_world(long *rank, const char **var);
/* Before a command runs: CLI_USAGE with a message (from rank 0) when it was
 * started with more than one process and cannot share its work (a build
 * without MPI, or a command other than batch and gosh); else 0. */
int cli_mpi_guard(const char *cmd);
/* gosh under MPI (gosh_mpi.c; without MPI: one process, no-ops).  begin:
 * MPI started when several processes were launched (1), this rank and
 * their number; run: this rank's part of mp_gosh_run(), merged on rank 0;
 * end: every rank gets rank 0's exit status. */
int gosh_mpi_begin(int *rank, int *nranks);
mp_status gosh_mpi_run(const double *y, const double *v, size_t k, mp_gosh_opts *o,
                       mp_gosh_result *res);
int gosh_mpi_end(int status);

/* The exit status after writing a picture with status s: `status` when s
 * is MP_OK, else CLI_FAIL (or `status` if it is already an error) after
 * "metapool CMD: FILE: cannot write the plot: why". */
int cli_plot_status(const char *cmd, const char *path, mp_status s, int status);
/* The exit status of a fit that failed with s (not MP_OK): a one-line
 * message "metapool CMD: FILE: what: mp_strerror(s)"; CLI_FAIL. */
int cli_fit_failed(const char *cmd, const char *file, const char *what, mp_status s);

/* A command's last step: standard output flushed; a write error (a full
 * disk, a closed pipe) turns CLI_OK into CLI_FAIL with a message. */
int cli_finish(const char *cmd, int status);

/* Whether an output file (--plot) can be written, checked before any output
 * so that a bad path fails early (exit 2) instead of after the results.
 * 0 if writable; -1 with a one-line message naming the reason. */
int cli_check_writable(const char *cmd, const char *path);

/* Why a --plot could not be written (mp_report_render's status; errno for MP_EIO). */
const char *cli_plot_error(mp_status s);

/* Load a table and its effect sizes; returns CLI_OK or the exit status
 * after printing the error. */
int cli_load(const char *cmd, const char *path, const cli_common *c, mp_table **t,
             mp_effects *e);

/* --method MH / PETO: 0 when the data and the measure fit (2x2 counts with
 * OR, RR, RD or, for PETO, OR; counts and person-times with IRR, IRD), else
 * a one-line message and CLI_USAGE. */
int cli_check_mh(const char *cmd, const cli_common *c, const mp_effects *e);
/* The harmonic mean of the positive sizes x[0..k) where used[i] (used may be
 * NULL); 0 when there are none (mp_report.transf_hm). */
double cli_hmean(const double *x, const unsigned char *used, size_t k);

/* Study labels of the rows of t (the --study column, or "Study i"). The
 * strings point into t or into buf (caller frees the array and buf). */
const char **cli_labels(const mp_table *t, const char *col, char **buf);

/* Split a --mods value ("a, b,factor(c)" or "~ a + b") at commas and plus
 * signs outside parentheses: a malloc'd array of pointers into the malloc'd
 * copy *buf (caller frees both), *n items; NULL when out of memory. */
char **cli_split_mods(const char *s, size_t *n, char **buf);

/* The rows an analysis uses (e->used), packed in table order: effects,
 * variances, study labels and table row numbers.  cli_pack returns CLI_OK
 * or CLI_FAIL (out of memory, message printed). */
typedef struct cli_packed {
    size_t k;            /* rows used */
    double *y, *v;       /* k effects and variances */
    const char **lab;    /* k labels (point into the table or labbuf) */
    size_t *row;         /* k table rows */
    const char **all;    /* a label per table row */
    char *labbuf;        /* storage of generated labels */
} cli_packed;
int cli_pack(const char *cmd, const mp_table *t, const mp_effects *e, const char *study,
             cli_packed *p);
void cli_packed_free(cli_packed *p);

#endif
