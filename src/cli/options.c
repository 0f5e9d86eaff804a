/* src/cli/options.c - every option of every command: declared, parsed, validated, documented once.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * htslib's pattern: one table of options shared by all commands.  A command
 * names the options it takes (cli_spec in its cmd_*.c); cli_parse() builds
 * the getopt_long table from that list, so an option means the same thing
 * in every command that takes it, and cli_help() writes the --help text
 * from the same entries, so help and parser cannot disagree. */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* One option: its long name, the name of its value in the help (NULL for a
 * flag) and its help text (lines separated by '\n'; defaults in [brackets]). */
typedef struct cli_option {
    int id;
    const char *name;
    const char *arg;
    const char *help;
} cli_option;

static const cli_option options[] = {
    {OPT_MEASURE, "measure", "M",
     "SMD, MD, ROM, OR, RR, RD or GEN [from the columns]"},
    {OPT_VTYPE, "vtype", "V", "variance of Hedges' g: LS (metafor), UB, RevMan, CMA [LS]"},
    {OPT_DROP00, "drop00", "Y",
     "OR/RR tables without events in both arms: yes = leave out,\n"
     "no = keep with 1/2 added (metafor's rma()) [yes]"},
    {OPT_METHOD, "method", "M", "FE, DL, HE, HS, HSk, SJ, ML, REML, EB or PM [REML]"},
    {OPT_TEST, "test", "T", "z or knha (Hartung-Knapp-Sidik-Jonkman) [z]"},
    {OPT_LEVEL, "level", "L", "confidence level in percent [95]"},
    {OPT_BY, "by", "COL", "one analysis per value of COL, plus a test for subgroup differences"},
    {OPT_TAU2, "tau2", "T",
     "with --by: separate (one tau2 per subgroup) or common (one tau2 for\n"
     "all, metafor's mods = ~ factor(COL); the test is its QM) [separate]"},
    {OPT_STUDY, "study", "COL", "column with study labels [study]"},
    {OPT_FORMAT, "format", "F", "table, json or csv [table]"},
    {OPT_PLOT, "plot", "FILE", "also draw the forest plot to FILE (.svg)"},
    {OPT_COMPARE, "compare", "FILE",
     "set the result beside published numbers (exit 3 if not reproduced)"},
    {OPT_WIDTH, "width", "N", "table width in columns [80, or the terminal's]"},
    {OPT_DIGITS, "digits", "N", "decimals shown in the table [2]"},
    {OPT_TRANSF, "transf", "T", "auto (exp for OR, RR, ROM) or none [auto]"},
    {OPT_ASCII, "ascii", NULL, "plain ASCII table (UTF-8 otherwise)"},
    {OPT_METHODS, "methods", NULL, "print a methods paragraph for a paper"},
    {OPT_MAXITER, "maxiter", "N", "iteration limit of iterative estimators [1000]"},
    {OPT_TOL, "tol", "E", "relative convergence tolerance [1e-12]"},
    {OPT_MODS, "mods", "LIST", "moderator columns, as a,b or a + b"},
    {OPT_TIME, "time", "COL", "column with the time of each effect"},
    {OPT_MODEL, "model", "M",
     "factor (one mean per time), loglinear, quadratic or spline\n"
     "(natural cubic spline) in log(time) [factor]"},
    {OPT_STRUCT, "struct", "S",
     "between-study structure over time: INT, CS, HCS, AR, HAR, CAR\n"
     "or ID [CS]"},
    {OPT_PHI, "phi", "R", "correlation of sampling errors per time unit: R^|t1-t2| [0]"},
    {OPT_TIME_UNIT, "time-unit", "U",
     "unit of the time column for labels: min, h, d, w, months, y\n"
     "[none: numbers as given]"},
    {OPT_GROUP, "group", "COL", "column whose values define the analyses"},
    {OPT_THREADS, "threads", "N", "threads [the number of online CPUs]"},
    {OPT_SORTED, "sorted", NULL, "the rows of each group are contiguous: stream the file"},
    {OPT_RANDOM, "random", "SPEC",
     "multilevel model (metafor's rma.mv, REML or ML): study/es nested\n"
     "(three-level), a,b crossed, or both (a/b,c)"},
    {OPT_CLUSTER, "cluster", "COL", "cluster-robust inference with clusters given by COL"},
    {OPT_VCOV, "vcov", "T",
     "CR1 (metafor's robust(), adjust = TRUE) or CR2 (clubSandwich:\n"
     "Satterthwaite df, HTZ test) [CR1]"},
    {OPT_PREDICT, "predict", "FILE", "predictions at the moderator values of the rows of FILE (CSV)"},
};
#define NOPTIONS (sizeof options / sizeof options[0])

static const cli_option *find_option(int id)
{
    for (size_t i = 0; i < NOPTIONS; i++)
        if (options[i].id == id) return &options[i];
    return NULL;
}

void cli_common_init(cli_common *c)
{
    memset(c, 0, sizeof *c);
    mp_es_opts_init(&c->es);
    mp_pool_opts_init(&c->pool);
    mp_report_opts_init(&c->rep);
    mp_traj_opts_init(&c->traj);
    c->format = CLI_FMT_TABLE;
    c->study = "study";
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    c->threads = ncpu > 0 ? (ncpu > 256 ? 256 : ncpu) : 1;
}

/* Parse and store the value of option id; 0 ok, -1 after a one-line
 * message naming the option and the values it takes. */
static int set_option(const char *cmd, int id, const char *arg, cli_common *c)
{
    long l;
    double x;
    char lab[64];
    switch (id) {
    case OPT_MEASURE:
        if (mp_measure_parse(arg, &c->es.measure) != MP_OK) {
            cli_errorf(cmd, "unknown --measure '%s' (SMD, MD, ROM, OR, RR, RD or GEN)", arg);
            return -1;
        }
        c->es.measure_given = 1;
        return 0;
    case OPT_VTYPE:
        if (mp_smd_vtype_parse(arg, &c->es.vtype) != MP_OK) {
            cli_errorf(cmd, "unknown --vtype '%s' (LS, UB, RevMan or CMA)", arg);
            return -1;
        }
        return 0;
    case OPT_DROP00:
        if (strcmp(arg, "yes") == 0) c->es.drop00 = 1;
        else if (strcmp(arg, "no") == 0) c->es.drop00 = 0;
        else {
            cli_errorf(cmd, "--drop00 must be yes or no, got '%s'", arg);
            return -1;
        }
        return 0;
    case OPT_METHOD:
        if (mp_method_parse(arg, &c->pool.method) != MP_OK) {
            cli_errorf(cmd, "unknown --method '%s' (FE, DL, HE, HS, HSk, SJ, ML, REML, EB or PM)", arg);
            return -1;
        }
        return 0;
    case OPT_TEST:
        if (mp_test_parse(arg, &c->pool.test) != MP_OK) {
            cli_errorf(cmd, "unknown --test '%s' (z or knha)", arg);
            return -1;
        }
        return 0;
    case OPT_LEVEL:
        if (!cli_parse_double(arg, &x) || !(x > 0 && x < 100)) {
            cli_errorf(cmd, "--level must be a number between 0 and 100 (e.g. 95), got '%s'", arg);
            return -1;
        }
        /* as metafor's level argument: >= 1 is a percentage, (0.5, 1) a
         * fraction (0.95), <= 0.5 the alpha (0.05 = a 95% interval) */
        if (x < 1) x = x > 0.5 ? 100.0 * x : 100.0 * (1.0 - x);
        c->es.level = c->pool.level = x;
        return 0;
    case OPT_FORMAT:
        if (strcmp(arg, "table") == 0) c->format = CLI_FMT_TABLE;
        else if (strcmp(arg, "json") == 0) c->format = CLI_FMT_JSON;
        else if (strcmp(arg, "csv") == 0) c->format = CLI_FMT_CSV;
        else {
            cli_errorf(cmd, "unknown --format '%s' (table, json or csv)", arg);
            return -1;
        }
        return 0;
    case OPT_BY: c->rep.by = arg; return 0;
    case OPT_STUDY: c->study = arg; c->study_given = 1; return 0;
    case OPT_PLOT: {
        /* the picture's format is the file's extension; until PNG and PDF
         * are rendered, anything but .svg is refused rather than written as
         * SVG under a misleading name */
        const char *dot = strrchr(arg, '.');
        if (!dot || strchr(dot, '/') || strcasecmp(dot, ".svg") != 0) {
            cli_errorf(cmd, "--plot '%s': the picture is written as SVG: name it FILE.svg "
                            "(PNG and PDF are not available in this build)", arg);
            return -1;
        }
        c->plot = arg;
        return 0;
    }
    case OPT_COMPARE: c->compare = arg; return 0;
    case OPT_WIDTH:
        if (!cli_parse_int(arg, 40, 1000, &l)) {
            cli_errorf(cmd, "--width must be an integer from 40 to 1000, got '%s'", arg);
            return -1;
        }
        c->rep.width = (int)l;
        return 0;
    case OPT_DIGITS:
        if (!cli_parse_int(arg, 0, 12, &l)) {
            cli_errorf(cmd, "--digits must be an integer from 0 to 12, got '%s'", arg);
            return -1;
        }
        c->rep.digits = (int)l;
        return 0;
    case OPT_ASCII: c->rep.ascii = 1; return 0;
    case OPT_TRANSF:
        if (strcmp(arg, "none") == 0) c->rep.transf = 0;
        else if (strcmp(arg, "exp") == 0 || strcmp(arg, "auto") == 0) c->rep.transf = 1;
        else {
            cli_errorf(cmd, "unknown --transf '%s' (auto, exp or none)", arg);
            return -1;
        }
        return 0;
    case OPT_METHODS: c->methods = 1; return 0;
    case OPT_MAXITER:
        if (!cli_parse_int(arg, 1, 1000000, &l)) {
            cli_errorf(cmd, "--maxiter must be an integer from 1 to 1000000, got '%s'", arg);
            return -1;
        }
        c->pool.maxiter = c->traj.maxiter = (size_t)l;
        return 0;
    case OPT_TOL:
        if (!cli_parse_double(arg, &x) || !(x > 0 && x < 1)) {
            cli_errorf(cmd, "--tol must be a number between 0 and 1 (e.g. 1e-10), got '%s'", arg);
            return -1;
        }
        c->pool.epsrel = x;
        return 0;
    case OPT_MODS: c->mods = arg; return 0;
    case OPT_TIME: c->time = arg; return 0;
    case OPT_MODEL:
        if (mp_traj_model_parse(arg, &c->traj.model) != MP_OK) {
            cli_errorf(cmd, "unknown --model '%s' (factor, loglinear, quadratic or spline)", arg);
            return -1;
        }
        return 0;
    case OPT_STRUCT:
        if (mp_traj_struct_parse(arg, &c->traj.structure) != MP_OK) {
            cli_errorf(cmd, "unknown --struct '%s' (INT, CS, HCS, AR, HAR, CAR or ID)", arg);
            return -1;
        }
        return 0;
    case OPT_PHI:
        if (!cli_parse_double(arg, &x) || !(x >= 0 && x <= 1)) {
            cli_errorf(cmd, "--phi must be a number from 0 to 1, got '%s'", arg);
            return -1;
        }
        c->traj.phi = x;
        return 0;
    case OPT_TIME_UNIT:
        if (mp_report_time_label(1.0, arg, lab, sizeof lab) != MP_OK) {
            cli_errorf(cmd, "unknown --time-unit '%s' (min, h, d, w, months or y)", arg);
            return -1;
        }
        c->time_unit = arg;
        return 0;
    case OPT_GROUP: c->group = arg; return 0;
    case OPT_THREADS:
        if (!cli_parse_int(arg, 1, 256, &l)) {
            cli_errorf(cmd, "--threads must be an integer from 1 to 256, got '%s'", arg);
            return -1;
        }
        c->threads = l;
        return 0;
    case OPT_SORTED: c->sorted = 1; return 0;
    case OPT_TAU2:
        if (strcmp(arg, "common") == 0) c->tau2_common = 1;
        else if (strcmp(arg, "separate") == 0) c->tau2_common = 0;
        else {
            cli_errorf(cmd, "--tau2 must be common or separate, got '%s'", arg);
            return -1;
        }
        return 0;
    case OPT_RANDOM: c->random = arg; return 0;
    case OPT_CLUSTER: c->cluster = arg; return 0;
    case OPT_VCOV: {
        mp_vcov_type vt;
        if (mp_vcov_parse(arg, &vt) != MP_OK) {
            cli_errorf(cmd, "unknown --vcov '%s' (CR1 or CR2)", arg);
            return -1;
        }
        c->vcov = (int)vt;
        return 0;
    }
    case OPT_PREDICT: c->predict = arg; return 0;
    default:
        cli_errorf(cmd, "internal error: option %d has no parser", id);
        return -1;
    }
}

/* "--name ARG" as the help shows it. */
static void opt_label(const cli_option *o, char *buf, size_t n)
{
    snprintf(buf, n, "--%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
}

void cli_help(FILE *f, const cli_spec *spec)
{
    fprintf(f, "About:   %s\nUsage:   %s\nOptions:\n", spec->about, spec->usage);
    size_t w = 14; /* the label column: at least as wide as "--compare FILE" */
    char lab[64];
    for (const cli_optuse *u = spec->opts; u->id; u++) {
        const cli_option *o = find_option(u->id);
        if (!o) continue;
        opt_label(o, lab, sizeof lab);
        if (strlen(lab) > w) w = strlen(lab);
    }
    w += 2;
    for (const cli_optuse *u = spec->opts; u->id; u++) {
        const cli_option *o = find_option(u->id);
        if (!o) continue;
        opt_label(o, lab, sizeof lab);
        const char *h = u->help ? u->help : o->help;
        fprintf(f, "  %-*s", (int)w, lab);
        int first = 1;
        for (const char *p = h; *p; first = 0) { /* continuation lines under the first */
            size_t len = strcspn(p, "\n");
            fprintf(f, "%.*s%s\n", (int)len, p, first && u->required ? " (required)" : "");
            p += len;
            if (*p == '\n' && *++p) fprintf(f, "  %-*s", (int)w, "");
        }
    }
    fprintf(f, "  %-*sthis help\n", (int)w, "-h, --help");
    if (spec->notes) fputs(spec->notes, f);
}

/* After getopt_long (opterr = 0, optstring ":h") returned '?' or ':'. */
static void bad_option(const char *cmd, int id, char **argv)
{
    const char *arg = optind > 0 ? argv[optind - 1] : "";
    char shortopt[3] = {'-', (char)optopt, '\0'};
    /* an unknown or incomplete short option inside a cluster: name the letter */
    if (optopt && optopt < 256 && (arg[0] != '-' || arg[1] == '-' || strlen(arg) != 2))
        arg = shortopt;
    if (id == ':') cli_errorf(cmd, "option '%s' needs a value", arg);
    else cli_errorf(cmd, "unrecognized option '%s'", arg);
}

int cli_parse(const cli_spec *spec, int argc, char **argv, cli_common *c)
{
    enum { MAXOPT = 64 };
    struct option lo[MAXOPT + 2];
    size_t n = 0;
    for (const cli_optuse *u = spec->opts; u->id && n < MAXOPT; u++) {
        const cli_option *o = find_option(u->id);
        if (!o) continue;
        lo[n++] = (struct option){o->name, o->arg ? required_argument : no_argument, NULL, o->id};
    }
    lo[n++] = (struct option){"help", no_argument, NULL, 'h'};
    lo[n] = (struct option){NULL, 0, NULL, 0};
    unsigned char seen[OPT_END_ - OPT_MEASURE] = {0};
    int id;
    optind = 0; /* glibc: a full restart, so a parse never sees state of an earlier one */
    opterr = 0; /* our own one-line messages, "metapool CMD: ..." */
    while ((id = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
        if (id == 'h') { cli_help(stdout, spec); return CLI_OK; }
        if (id == '?' || id == ':') {
            bad_option(spec->name, id, argv);
            cli_help(stderr, spec);
            return CLI_USAGE;
        }
        if (set_option(spec->name, id, optarg, c) != 0) return CLI_USAGE;
        if (id >= OPT_MEASURE && id < OPT_END_) seen[id - OPT_MEASURE] = 1;
    }
    if (optind != argc - 1) {
        cli_errorf(spec->name, "expected one input FILE");
        cli_help(stderr, spec);
        return CLI_USAGE;
    }
    c->file = argv[optind];
    for (const cli_optuse *u = spec->opts; u->id; u++) {
        if (!u->required || seen[u->id - OPT_MEASURE]) continue;
        cli_errorf(spec->name, "%s", u->required);
        cli_help(stderr, spec);
        return CLI_USAGE;
    }
    /* one level for the CI input columns, the models and the reporter */
    c->es.level = c->pool.level;
    c->rep.pool = c->pool;
    c->rep.es_level = c->es.level;
    const char *nc = getenv("NO_COLOR");
    c->rep.color = isatty(STDOUT_FILENO) && !(nc && *nc) && !c->rep.ascii;
    return CLI_GO_ON;
}
