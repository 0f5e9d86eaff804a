/* src/cli/main.c - the metapool command: dispatch table, help and version.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "cli.h"

#include <errno.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_version.h>
#include <stdlib.h>
#include <string.h>

static int cmd_help(int argc, char **argv);
static int cmd_version(int argc, char **argv);
static int find_command(const char *name);

static const struct {
    const char *name;
    int (*run)(int, char **);
    const char *help;
} commands[] = {
    {"pool", cmd_pool, "fixed- and random-effects pooling with heterogeneity; forest-plot table"},
    {"escalc", cmd_escalc, "compute effect sizes (yi) and variances (vi); write the CSV back"},
    {"reg", cmd_reg, "mixed-effects meta-regression on moderators (--mods a,b)"},
    {"trajectory", cmd_trajectory, "time-trajectory fit over a time column (--time COL)"},
    {"bias", cmd_bias, "small-study effects and publication bias tests; funnel plot"},
    {"batch", cmd_batch, "many independent analyses, one per --group value; one CSV row each"},
    {"leave1out", cmd_leave1out, "the analysis repeated with each study left out in turn"},
    {"cumul", cmd_cumul, "cumulative meta-analysis: studies added in the order of --order COL"},
    {"influence", cmd_influence, "influence diagnostics per study (metafor's influence()), Baujat plot"},
    {"gosh", cmd_gosh, "the model fitted to every subset of the studies (or N random ones)"},
    {"help", cmd_help, "show help for a command (metapool help CMD)"},
    {"version", cmd_version, "print version and exit"},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
    fprintf(f, "About:   metapool %s - meta-analysis statistics engine (metafor-compatible)\n"
               "Usage:   metapool COMMAND [OPTIONS] FILE\n\nCommands:\n",
            MP_VERSION_STRING);
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-11s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\nInput: CSV/TSV with a header; NUL and other control bytes stop the read\n"
               "with file:line:col.  Limits (past each: exit 2 and one line naming\n"
               "file:line:col and the limit):\n"
               "  - one row: at most %zu MiB (a longer line, or a quote never closed,\n"
               "    stops the read there);\n"
               "  - a header: at most %zu columns;\n"
               "  - a file read whole (every command but batch --sorted): at most %llu GiB;\n"
               "  - pool --by, and batch without --sorted: at most %zu groups;\n"
               "  - batch --sorted streams: any file size, any number of groups.\n"
               "\nRun 'metapool COMMAND --help' (or 'metapool help COMMAND') for its options.\n"
               "Exit status: 0 success, 1 analysis failed, 2 bad usage or input,\n"
               "3 a published number was not reproduced (--compare).\n",
            MP_TABLE_MAX_ROW_BYTES >> 20, MP_TABLE_MAX_COLS,
            (unsigned long long)(MP_TABLE_MAX_FILE_BYTES >> 30), MP_TABLE_MAX_GROUPS);
}

static int cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
#ifdef MP_GIT_REVISION
    const char *rev = " (git " MP_GIT_REVISION ")"; /* configure time, git describe */
#else
    const char *rev = "";
#endif
#ifdef MP_HAVE_MPI
    const char *mpi = "batch and gosh across processes (mpirun)";
#else
    const char *mpi = "no (cmake -DMP_MPI=ON)";
#endif
    printf("metapool %s%s\nUsing GSL %s\nPlots: SVG%s\nMPI: %s\nCopyright (C) 2026 the metapool authors\n"
           "License GPLv3+: GNU GPL version 3 or later <https://gnu.org/licenses/gpl.html>\n",
           MP_VERSION_STRING, rev, gsl_version,
           mp_report_render_available() ? ", PNG, PDF (librsvg, cairo)" : " only", mpi);
    return CLI_OK;
}

/* A real command (not help or version). */
static int is_real(size_t i)
{
    return commands[i].run != cmd_help && commands[i].run != cmd_version;
}

/* Run command i with --help in the given mode, its output to f. */
static void spec_out(size_t i, cli_help_mode mode, FILE *f)
{
    char *args[] = {(char *)commands[i].name, (char *)"--help", NULL};
    cli_help_as = mode;
    cli_help_out = f;
    commands[i].run(2, args);
    cli_help_as = CLI_HELP_TEXT;
    cli_help_out = NULL;
}

/* metapool(1): the commands, exit status and environment. */
static void man_overview(FILE *f)
{
    fprintf(f, ".TH METAPOOL 1 \"\" \"metapool %s\" \"metapool manual\"\n"
               ".SH NAME\nmetapool \\- meta\\-analysis statistics engine (metafor\\-compatible)\n"
               ".SH SYNOPSIS\n.B metapool\n.I COMMAND\n[\\fIOPTIONS\\fR] \\fIFILE\\fR\n.br\n"
               ".B metapool \\-\\-help\\fR | \\fB\\-\\-version\n"
               ".SH DESCRIPTION\nmetapool pools effect sizes from a CSV or TSV file (column names "
               "as metafor's escalc(): yi and vi, 2x2 counts ai, bi, ci, di, group means m1i, sd1i, "
               "n1i, m2i, sd2i, n2i, ...) with fixed\\- and random\\-effects models, "
               "meta\\-regression and time trajectories, and prints forest\\-plot tables, CSV or "
               "JSON. FILE \\- reads standard input.\n.SH COMMANDS\n", MP_VERSION_STRING);
    for (size_t i = 0; i < NCOMMANDS; i++) {
        if (!is_real(i)) continue;
        fprintf(f, ".TP\n.B %s\n", commands[i].name);
        cli_roff(f, commands[i].help);
        fprintf(f, "; see\n.BR metapool\\-%s (1).\n", commands[i].name);
    }
    fputs(".SH EXIT STATUS\n0 success, 1 the analysis could not be done, 2 bad usage or bad "
          "input (one line naming file:line:col), 3 (with \\-\\-compare) a published number "
          "was not reproduced.\n", f);
    fprintf(f, ".SH LIMITS\nOne row at most %zu MiB; a header at most %zu columns; a file that is "
               "read whole (every command but \\-\\-sorted batch) at most %llu GiB; \\-\\-by "
               "(pool) and batch without \\-\\-sorted at most %zu groups.  Past each: exit "
               "status 2 and one line naming file:line:col (the file alone for its size) and the "
               "limit.  batch \\-\\-sorted streams any file size and any number of groups.\n",
            MP_TABLE_MAX_ROW_BYTES >> 20, MP_TABLE_MAX_COLS,
            (unsigned long long)(MP_TABLE_MAX_FILE_BYTES >> 30), MP_TABLE_MAX_GROUPS);
    fputs(".SH ENVIRONMENT\n.TP\n.B NO_COLOR\nwhen set and not empty, tables are not coloured.\n"
          ".TP\n.B COLUMNS\ntable width when the terminal does not say.\n"
          ".SH SEE ALSO\n", f);
    int first = 1;
    for (size_t i = 0; i < NCOMMANDS; i++) {
        if (!is_real(i)) continue;
        fprintf(f, "%s.BR metapool\\-%s (1)", first ? "" : ",\n", commands[i].name);
        first = 0;
    }
    fputs("\n", f);
}

/* --man [CMD]: one page on stdout; --man-pages DIR: every page into DIR. */
static int man_cmd(int argc, char **argv)
{
    if (strcmp(argv[1], "--man-pages") == 0) {
        if (argc != 3) { cli_errorf(NULL, "--man-pages needs a directory"); return CLI_USAGE; }
        char path[4096];
        for (size_t i = 0; i <= NCOMMANDS; i++) {
            if (i < NCOMMANDS && !is_real(i)) continue;
            if (i == NCOMMANDS) snprintf(path, sizeof path, "%s/metapool.1", argv[2]);
            else snprintf(path, sizeof path, "%s/metapool-%s.1", argv[2], commands[i].name);
            FILE *f = fopen(path, "w");
            if (!f) { cli_errorf(NULL, "%s: %s", path, strerror(errno)); return CLI_FAIL; }
            if (i == NCOMMANDS) man_overview(f);
            else spec_out(i, CLI_HELP_MAN, f);
            if (ferror(f) | (fclose(f) != 0)) { cli_errorf(NULL, "%s: write error", path); return CLI_FAIL; }
        }
        return CLI_OK;
    }
    if (argc == 2) { man_overview(stdout); return CLI_OK; }
    int i = find_command(argv[2]);
    if (argc != 3 || i < 0 || !is_real((size_t)i)) {
        cli_errorf(NULL, "--man takes one command name, got '%s'", argc > 2 ? argv[2] : "");
        return CLI_USAGE;
    }
    spec_out((size_t)i, CLI_HELP_MAN, stdout);
    return CLI_OK;
}

/* --bash-completion: a completion script from the same option table. */
static int completion_cmd(void)
{
    printf("# bash completion for metapool (generated by metapool --bash-completion)\n"
           "_metapool()\n{\n    local cur prev cmd opts vals\n"
           "    cur=\"${COMP_WORDS[COMP_CWORD]}\"\n    prev=\"${COMP_WORDS[COMP_CWORD-1]}\"\n"
           "    if [ \"$COMP_CWORD\" -eq 1 ]; then\n"
           "        COMPREPLY=($(compgen -W \"");
    for (size_t i = 0; i < NCOMMANDS; i++) printf("%s ", commands[i].name);
    printf("--help --version\" -- \"$cur\"))\n        return\n    fi\n"
           "    cmd=\"${COMP_WORDS[1]}\"\n    case \"$cmd\" in\n");
    for (size_t i = 0; i < NCOMMANDS; i++) {
        if (!is_real(i)) continue;
        char *words = NULL;
        size_t n = 0;
        FILE *m = open_memstream(&words, &n);
        if (!m) return CLI_FAIL;
        spec_out(i, CLI_HELP_WORDS, m);
        fclose(m);
        char *nl = words ? strchr(words, '\n') : NULL;
        if (nl) {
            *nl = '\0';
            char *vals = nl + 1;
            char *nl2 = strchr(vals, '\n');
            if (nl2) *nl2 = '\0';
            printf("        %s) opts=\"%s\"; vals=\" %s \" ;;\n", commands[i].name, words, vals);
        }
        free(words);
    }
    printf("        *) return ;;\n    esac\n"
           "    case \"$prev\" in\n"
           "        --plot|--compare) COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n"
           "        --format) COMPREPLY=($(compgen -W \"table json csv\" -- \"$cur\")); return ;;\n"
           "        --method) COMPREPLY=($(compgen -W \"FE DL HE HS HSk SJ ML REML EB PM\" -- \"$cur\")); return ;;\n"
           "        --test) COMPREPLY=($(compgen -W \"z knha\" -- \"$cur\")); return ;;\n"
           "    esac\n"
           "    if [[ \"$vals\" == *\" $prev \"* ]]; then return; fi\n"
           "    if [[ \"$cur\" == -* ]]; then\n"
           "        COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
           "    else\n        COMPREPLY=($(compgen -f -- \"$cur\"))\n    fi\n}\n"
           "complete -o filenames -F _metapool metapool\n");
    return CLI_OK;
}

static int find_command(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0) return (int)i;
    return -1;
}

static int cmd_help(int argc, char **argv)
{
    if (argc < 2) { usage(stdout); return CLI_OK; }
    int i = find_command(argv[1]);
    if (i < 0 || commands[i].run == cmd_help || commands[i].run == cmd_version) {
        if (i >= 0) { usage(stdout); return CLI_OK; }
        cli_errorf(NULL, "no such command '%s'", argv[1]);
        usage(stderr);
        return CLI_USAGE;
    }
    char *args[] = {argv[1], (char *)"--help", NULL};
    return commands[i].run(2, args);
}

/* OpenBLAS starts its worker threads when it is loaded, before main, and an
 * idle worker polls with sched_yield for about 2^28 cycles (~0.1 s) before
 * it sleeps: a whole core, while a `batch` run of 200,000 analyses lasts
 * ~0.2 s (perf: 7.6% of the run's samples in sched_yield).  The library
 * never runs BLAS on more than one thread (src/models/blas_threads.c), so the
 * program sets one thread and stops the idle workers at once.  Both
 * functions are OpenBLAS's own exported ones (blas_thread_shutdown_ is what
 * its fork handler calls; a later threaded call would start workers again);
 * declared weak, so with another BLAS nothing happens. */
extern void openblas_set_num_threads(int num_threads) __attribute__((weak));
extern int blas_thread_shutdown_(void) __attribute__((weak));

static void blas_quiet(void)
{
    if (openblas_set_num_threads) openblas_set_num_threads(1);
    if (blas_thread_shutdown_) blas_thread_shutdown_();
}

int main(int argc, char **argv)
{
    gsl_set_error_handler_off(); /* the library checks every GSL status itself */
    blas_quiet();
    if (argc < 2) { usage(stderr); return CLI_USAGE; }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) { usage(stdout); return CLI_OK; }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)
        return cmd_version(0, NULL);
    /* hidden: the build makes the man pages and the completion with these */
    if (strcmp(argv[1], "--man") == 0 || strcmp(argv[1], "--man-pages") == 0)
        return man_cmd(argc, argv);
    if (strcmp(argv[1], "--bash-completion") == 0) return completion_cmd();
    int i = find_command(argv[1]);
    if (i < 0) {
        cli_errorf(NULL, "unknown command '%s'", argv[1]);
        usage(stderr);
        return CLI_USAGE;
    }
    int g = cli_mpi_guard(commands[i].name);
    if (g != 0) return g;
    return commands[i].run(argc - 1, argv + 1);
}
