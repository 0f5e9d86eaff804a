/* src/cli/main.c - the metapool command: dispatch table, help and version.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "cli.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_version.h>
#include <string.h>

static int cmd_help(int argc, char **argv);
static int cmd_version(int argc, char **argv);

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
    fprintf(f, "\nInput: CSV/TSV with a header; one row may hold at most 64 MiB (a longer\n"
               "line, or NUL and other control bytes, stop the read with file:line:col).\n"
               "\nRun 'metapool COMMAND --help' (or 'metapool help COMMAND') for its options.\n"
               "Exit status: 0 success, 1 analysis failed, 2 bad usage or input,\n"
               "3 a published number was not reproduced (--compare).\n");
}

static int cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("metapool %s\nUsing GSL %s\nCopyright (C) 2026 the metapool authors\n"
           "License GPLv3+: GNU GPL version 3 or later <https://gnu.org/licenses/gpl.html>\n",
           MP_VERSION_STRING, gsl_version);
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

int main(int argc, char **argv)
{
    gsl_set_error_handler_off(); /* the library checks every GSL status itself */
    if (argc < 2) { usage(stderr); return CLI_USAGE; }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) { usage(stdout); return CLI_OK; }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)
        return cmd_version(0, NULL);
    int i = find_command(argv[1]);
    if (i < 0) {
        cli_errorf(NULL, "unknown command '%s'", argv[1]);
        usage(stderr);
        return CLI_USAGE;
    }
    return commands[i].run(argc - 1, argv + 1);
}
