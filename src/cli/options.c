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

#include <errno.h>
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
     "GEN; SMD, MD, ROM (means); OR, RR, RD, PETO (2x2);\n"
     "PR, PLN, PLO, PAS, PFT (xi, ni); COR, ZCOR (ri, ni);\n"
     "IR, IRLN, IRS, IRFT (xi, ti); IRR, IRD (x1i, t1i, x2i, t2i);\n"
     "MC, SMCC, SMCR (paired); HR (yi, ci_lb, ci_ub) [from the columns]"},
    {OPT_VTYPE, "vtype", "V", "variance of Hedges' g: LS (metafor), UB, RevMan, CMA [LS]"},
    {OPT_DROP00, "drop00", "Y",
     "OR/RR/PETO/IRR tables without events in both arms: no =\n"
     "keep with 1/2 added (metafor's rma()), yes = leave out [no]"},
    {OPT_METHOD, "method", "M",
     "FE, DL, HE, HS, HSk, SJ, ML, REML, EB or PM [REML];\n"
     "MH (Mantel-Haenszel: OR, RR, RD, IRR, IRD) or PETO (OR)\n"
     "pool the 2x2 tables or rates themselves (rma.mh, rma.peto)"},
    {OPT_TEST, "test", "T", "z or knha (Hartung-Knapp-Sidik-Jonkman) [z]"},
    {OPT_LEVEL, "level", "L", "confidence level in percent [95]"},
    {OPT_BY, "by", "COL", "one analysis per value of COL, plus a test for subgroup differences"},
    {OPT_TAU2, "tau2", "T",
     "with --by: separate (one tau2 per subgroup) or common (one tau2 for\n"
     "all, metafor's mods = ~ factor(COL); the test is its QM) [separate]"},
    {OPT_STUDY, "study", "COL", "column with study labels [study]"},
    {OPT_FORMAT, "format", "F", "table, json or csv [table]"},
    {OPT_PLOT, "plot", "FILE",
     "also draw the forest plot to FILE: .svg, .png or .pdf by the\n"
     "extension (PNG and PDF need a build with librsvg and cairo)"},
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
    {OPT_OUTPUT, "output", "FILE", "write the CSV to FILE instead of standard output"},
    {OPT_ORDER, "order", "COL", "add the studies in the order of COL (ties keep file order)"},
    {OPT_DECREASING, "decreasing", NULL, "with --order: largest value first"},
    {OPT_PREDICTOR, "predictor", "P",
     "Egger's test predictor: sei, vi, ni, ninv, sqrtni or sqrtninv [sei]"},
    {OPT_EGGER_MODEL, "egger-model", "M",
     "Egger's test model: rma (meta-regression) or lm (weighted\n"
     "least squares) [rma]"},
    {OPT_ESTIMATOR, "estimator", "E", "trim-and-fill estimator of k0: L0, R0 or Q0 [L0]"},
    {OPT_STEPS, "steps", "LIST",
     "selection model cut points of one-sided p-values, increasing,\n"
     "e.g. 0.025,0.5,1 (1 is added if missing) [0.025,1]"},
    {OPT_CONTOURS, "contours", NULL,
     "contour-enhanced funnel plot (p = 0.10, 0.05, 0.01 regions)"},
    {OPT_SUBSETS, "subsets", "N",
     "all (every non-empty subset) or N random subsets [all up to k = 30,\n"
     "else 1000000]"},
    {OPT_SEED, "seed", "S", "seed of the random generator (a run repeats exactly) [1]"},
    {OPT_OUT, "out", "FILE", "write one CSV row per subset to FILE (subset,k,estimate,Q,I2,H2,tau2)"},
    {OPT_HIGHLIGHT, "highlight", "STUDY", "with --plot: the subsets with STUDY in their own colour"},
    {OPT_PERMUTATIONS, "permutations", "N",
     "permutation test (metafor's permutest()): N random permutations or\n"
     "exact (every one; used anyway when there are at most N)"},
    {OPT_LABELS, "labels", "A,B",
     "names of the two groups over the arm-level columns of the\n"
     "forest plot (events/total, mean (SD) n) [Treatment,Control]"},
    {OPT_FAVOURS, "favours", "L,R", "texts under the left and right side of the axis,\n"
                                    "e.g. \"Favours ketamine,Favours placebo\""},
    {OPT_XLAB, "xlab", "TEXT", "axis title [named after the measure]"},
    {OPT_TITLE, "title", "TEXT", "title above the plot and the table"},
    {OPT_DPI, "dpi", "N", "resolution of a PNG --plot in dots per inch [150]"},
    {OPT_RANDOM, "random", "SPEC",
     "multilevel model (metafor's rma.mv, REML or ML): study/es nested\n"
     "(three-level), a,b crossed, or both (a/b,c)"},
    {OPT_CLUSTER, "cluster", "COL", "cluster-robust inference with clusters given by COL"},
    {OPT_VCOV, "vcov", "T",
     "CR1 (metafor's robust(), adjust = TRUE) or CR2 (clubSandwich:\n"
     "Satterthwaite df, HTZ test) [CR1]"},
    {OPT_PREDICT, "predict", "FILE", "predictions at the moderator values of the rows of FILE (CSV)"},
    {OPT_EXACT_QUANTILES, "exact-quantiles", NULL,
     "above 2^22 subsets: a second pass makes q05, median and q95 exact\n"
     "(twice the time) [histogram, error bound in the output]"},
};
#define NOPTIONS (sizeof options / sizeof options[0])

/* The members of each option set (cli.h), in help order. */
static const struct { int set; int id[4]; } option_sets[] = {
    {OPT_SET_EFFECTS, {OPT_MEASURE, OPT_VTYPE, OPT_DROP00, 0}},
    {OPT_SET_MODEL, {OPT_METHOD, OPT_TEST, OPT_LEVEL, 0}},
    {OPT_SET_ITER, {OPT_MAXITER, OPT_TOL, 0}},
};

/* A command's options with the sets expanded, {0}-terminated (a buffer
 * rebuilt on every call: the CLI parses on one thread). */
static const cli_optuse *opts_of(const cli_spec *spec)
{
    static cli_optuse flat[128];
    size_t n = 0;
    for (const cli_optuse *u = spec->opts; u->id && n + 4 < sizeof flat / sizeof flat[0]; u++) {
        size_t s = 0;
        while (s < sizeof option_sets / sizeof option_sets[0] && option_sets[s].set != u->id) s++;
        if (s == sizeof option_sets / sizeof option_sets[0]) { flat[n++] = *u; continue; }
        for (const int *m = option_sets[s].id; *m; m++) flat[n++] = (cli_optuse){*m, NULL, NULL};
    }
    flat[n] = (cli_optuse){0, NULL, NULL};
    return flat;
}

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
    c->seed = 1;
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
            cli_errorf(cmd, "unknown --measure '%s' (SMD, MD, ROM, OR, RR, RD, PETO, PR, PLN, PLO, "
                       "PAS, PFT, COR, ZCOR, IR, IRLN, IRS, IRFT, IRR, IRD, MC, SMCC, SMCR, HR "
                       "or GEN)", arg);
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
        c->mh = MP_MH_NONE;
        if (strcmp(arg, "MH") == 0 || strcmp(arg, "PETO") == 0) {
            /* pooled from the tables (mh.h); the inverse-variance fixed-effect
             * fit of the same rows is the model underneath */
            c->mh = arg[0] == 'M' ? MP_MH_MH : MP_MH_PETO;
            c->pool.method = MP_METHOD_FE;
            return 0;
        }
        if (mp_method_parse(arg, &c->pool.method) != MP_OK) {
            cli_errorf(cmd, "unknown --method '%s' (FE, DL, HE, HS, HSk, SJ, ML, REML, EB, PM, "
                       "MH or PETO)", arg);
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
        /* the picture's format is the file's extension (mp_report_render):
         * an unknown one, or PNG/PDF in a build without librsvg and cairo,
         * is refused rather than written as SVG under a misleading name */
        mp_plot_format pf = mp_report_plot_format(arg);
        if (pf == MP_PLOT_UNKNOWN) {
            cli_errorf(cmd, "--plot '%s': unknown picture format: name it FILE.svg, FILE.png "
                            "or FILE.pdf", arg);
            return -1;
        }
        if (pf != MP_PLOT_SVG && !mp_report_render_available()) {
            cli_errorf(cmd, "--plot '%s': this build writes SVG only (built without librsvg "
                            "and cairo): name it FILE.svg", arg);
            return -1;
        }
        c->plot = arg;
        return 0;
    }
    case OPT_LABELS:
    case OPT_FAVOURS: {
        /* "A,B": split at the first comma; both sides non-empty */
        const char *comma = strchr(arg, ',');
        char (*buf)[256] = c->pair_buf[id == OPT_FAVOURS];
        size_t n0 = comma ? (size_t)(comma - arg) : 0;
        if (!comma || n0 == 0 || !comma[1] || n0 >= sizeof buf[0] ||
            strlen(comma + 1) >= sizeof buf[1]) {
            cli_errorf(cmd, "--%s needs two texts separated by a comma (\"%s\"), got '%s'",
                       id == OPT_LABELS ? "labels" : "favours",
                       id == OPT_LABELS ? "Ketamine,Placebo" : "Favours ketamine,Favours placebo",
                       arg);
            return -1;
        }
        memcpy(buf[0], arg, n0);
        buf[0][n0] = '\0';
        snprintf(buf[1], sizeof buf[1], "%s", comma + 1);
        const char **dst = id == OPT_LABELS ? c->rep.arm_label : c->rep.favours;
        dst[0] = buf[0];
        dst[1] = buf[1];
        return 0;
    }
    case OPT_XLAB: c->rep.xlab = arg; return 0;
    case OPT_TITLE: c->rep.title = arg; return 0;
    case OPT_DPI:
        if (!cli_parse_double(arg, &x) || !(x >= 10 && x <= 2400)) {
            cli_errorf(cmd, "--dpi must be a number from 10 to 2400, got '%s'", arg);
            return -1;
        }
        c->rep.dpi = x;
        return 0;
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
        c->threads_given = 1;
        return 0;
    case OPT_SORTED: c->sorted = 1; return 0;
    case OPT_OUTPUT: c->output = arg; return 0;
    case OPT_SUBSETS: {
        unsigned long long n;
        char *end;
        c->subsets_given = 1;
        if (strcmp(arg, "all") == 0) { c->subsets = 0; return 0; }
        errno = 0;
        n = strtoull(arg, &end, 10);
        if (errno || end == arg || *end || arg[0] == '-' || n < 2) {
            cli_errorf(cmd, "--subsets must be all or an integer >= 2, got '%s'", arg);
            return -1;
        }
        c->subsets = n;
        return 0;
    }
    case OPT_SEED: {
        char *end;
        errno = 0;
        unsigned long n = strtoul(arg, &end, 10);
        if (errno || end == arg || *end || arg[0] == '-') {
            cli_errorf(cmd, "--seed must be a non-negative integer, got '%s'", arg);
            return -1;
        }
        c->seed = n;
        return 0;
    }
    case OPT_OUT: c->out = arg; return 0;
    case OPT_EXACT_QUANTILES: c->exact_quantiles = 1; return 0;
    case OPT_HIGHLIGHT: c->highlight = arg; return 0;
    case OPT_PERMUTATIONS:
        if (strcmp(arg, "exact") == 0) { c->permutations = -1; return 0; }
        if (!cli_parse_int(arg, 2, 1000000000L, &l)) {
            cli_errorf(cmd, "--permutations must be exact or an integer from 2 to 1e9, got '%s'", arg);
            return -1;
        }
        c->permutations = l;
        return 0;
    case OPT_TAU2:
        if (strcmp(arg, "common") == 0) c->tau2_common = 1;
        else if (strcmp(arg, "separate") == 0) c->tau2_common = 0;
        else {
            cli_errorf(cmd, "--tau2 must be common or separate, got '%s'", arg);
            return -1;
        }
        return 0;
    case OPT_ORDER: c->order = arg; return 0;
    case OPT_DECREASING: c->decreasing = 1; return 0;
    case OPT_PREDICTOR:
        if (mp_egger_predictor_parse(arg, &c->predictor) != MP_OK) {
            cli_errorf(cmd, "unknown --predictor '%s' (sei, vi, ni, ninv, sqrtni or sqrtninv)", arg);
            return -1;
        }
        return 0;
    case OPT_EGGER_MODEL:
        if (mp_egger_model_parse(arg, &c->egger_model) != MP_OK) {
            cli_errorf(cmd, "unknown --egger-model '%s' (rma or lm)", arg);
            return -1;
        }
        return 0;
    case OPT_ESTIMATOR:
        if (mp_tf_estimator_parse(arg, &c->estimator) != MP_OK) {
            cli_errorf(cmd, "unknown --estimator '%s' (L0, R0 or Q0)", arg);
            return -1;
        }
        return 0;
    case OPT_STEPS: {
        size_t n = 0;
        const char *p = arg;
        for (;;) {
            size_t len = strcspn(p, ",");
            char num[64];
            if (n == sizeof c->steps / sizeof c->steps[0] || len == 0 || len >= sizeof num) break;
            memcpy(num, p, len);
            num[len] = '\0';
            if (!cli_parse_double(num, &x) || !(x > 0 && x <= 1) || (n && !(x > c->steps[n - 1])))
                break;
            c->steps[n++] = x;
            p += len;
            if (!*p) {
                c->nsteps = n;
                return 0;
            }
            p++;
        }
        cli_errorf(cmd, "--steps must be increasing numbers in (0, 1] separated by commas "
                        "(at most 32), got '%s'", arg);
        return -1;
    }
    case OPT_CONTOURS: c->contours = 1; return 0;
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

cli_help_mode cli_help_as = CLI_HELP_TEXT;
FILE *cli_help_out = NULL;

void cli_roff(FILE *f, const char *s)
{
    int bol = 1; /* at the beginning of a line */
    for (; *s; s++) {
        if (bol && (*s == '.' || *s == '\'')) fputs("\\&", f);
        bol = *s == '\n';
        if (*s == '\\') fputs("\\e", f);
        else if (*s == '-') fputs("\\-", f);
        else fputc(*s, f);
    }
}

/* s with every run of blanks and line breaks made one space, to f. */
static void roff_flow(FILE *f, const char *s)
{
    char buf[2048];
    size_t n = 0;
    for (; *s && n + 1 < sizeof buf; s++) {
        if (*s == ' ' || *s == '\n') {
            if (n && buf[n - 1] != ' ') buf[n++] = ' ';
        } else buf[n++] = *s;
    }
    while (n && buf[n - 1] == ' ') n--;
    buf[n] = '\0';
    cli_roff(f, buf);
}

/* The man page of a command (section 1), from the same entries as --help. */
static void help_man(FILE *f, const cli_spec *spec)
{
    char up[64];
    size_t i = 0;
    for (; spec->name[i] && i + 1 < sizeof up; i++)
        up[i] = (char)(spec->name[i] >= 'a' && spec->name[i] <= 'z' ? spec->name[i] - 32 : spec->name[i]);
    up[i] = '\0';
    fprintf(f, ".TH METAPOOL\\-%s 1 \"\" \"metapool %s\" \"metapool manual\"\n", up,
            MP_VERSION_STRING);
    fprintf(f, ".SH NAME\nmetapool\\-%s \\- ", spec->name);
    size_t first = strcspn(spec->about, "(\n");
    char head[256];
    snprintf(head, sizeof head, "%.*s", (int)first, spec->about);
    roff_flow(f, head);
    fputs("\n.SH SYNOPSIS\n.B ", f);
    roff_flow(f, spec->usage);
    fputs("\n.SH DESCRIPTION\n", f);
    roff_flow(f, spec->about);
    fputs("\n.SH OPTIONS\n", f);
    char lab[64];
    for (const cli_optuse *u = opts_of(spec); u->id; u++) {
        const cli_option *o = find_option(u->id);
        if (!o) continue;
        fputs(".TP\n\\fB", f);
        snprintf(lab, sizeof lab, "--%s", o->name);
        cli_roff(f, lab);
        fputs("\\fR", f);
        if (o->arg) { fputs(" \\fI", f); cli_roff(f, o->arg); fputs("\\fR", f); }
        fputc('\n', f);
        roff_flow(f, u->help ? u->help : o->help);
        if (u->required) fputs(" (required)", f);
        fputc('\n', f);
    }
    fputs(".TP\n.B \\-h, \\-\\-help\nthis help\n", f);
    if (spec->notes) {
        fputs(".SH NOTES\n.nf\n", f);
        cli_roff(f, spec->notes);
        fputs("\n.fi\n", f);
    }
    fputs(".SH EXIT STATUS\n0 success, 1 the analysis could not be done, 2 bad usage or bad "
          "input, 3 (with \\-\\-compare) a published number was not reproduced.\n"
          ".SH SEE ALSO\n.BR metapool (1)\n", f);
}

void cli_help(FILE *f, const cli_spec *spec)
{
    if (cli_help_as != CLI_HELP_TEXT && cli_help_out) f = cli_help_out;
    if (cli_help_as == CLI_HELP_MAN) { help_man(f, spec); return; }
    if (cli_help_as == CLI_HELP_WORDS) {
        /* for the bash completion: every option, then those taking a value */
        for (int pass = 0; pass < 2; pass++) {
            for (const cli_optuse *u = opts_of(spec); u->id; u++) {
                const cli_option *o = find_option(u->id);
                if (o && (!pass || o->arg)) fprintf(f, "--%s ", o->name);
            }
            fputs(pass ? "\n" : "--help\n", f);
        }
        return;
    }
    fprintf(f, "About:   %s\nUsage:   %s\nOptions:\n", spec->about, spec->usage);
    size_t w = 14; /* the label column: at least as wide as "--compare FILE" */
    char lab[64];
    for (const cli_optuse *u = opts_of(spec); u->id; u++) {
        const cli_option *o = find_option(u->id);
        if (!o) continue;
        opt_label(o, lab, sizeof lab);
        if (strlen(lab) > w) w = strlen(lab);
    }
    w += 2;
    for (const cli_optuse *u = opts_of(spec); u->id; u++) {
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
    cli_common_init(c);
    if (spec->digits) c->rep.digits = spec->digits;
    enum { MAXOPT = 64 };
    struct option lo[MAXOPT + 2];
    size_t n = 0;
    for (const cli_optuse *u = opts_of(spec); u->id && n < MAXOPT; u++) {
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
    if (c->mh != MP_MH_NONE && strcmp(spec->name, "pool") != 0 && strcmp(spec->name, "batch") != 0) {
        /* rma.mh()/rma.peto() have no moderators and no multivariate form */
        cli_errorf(spec->name, "--method %s pools 2x2 tables or rates: use it with pool or batch",
                   c->mh == MP_MH_MH ? "MH" : "PETO");
        return CLI_USAGE;
    }
    if (c->mh != MP_MH_NONE && c->tau2_common) {
        cli_errorf(spec->name, "--tau2 common needs a random-effects model: --method %s fits no tau2",
                   c->mh == MP_MH_MH ? "MH" : "PETO");
        return CLI_USAGE;
    }
    if (c->mh != MP_MH_NONE && c->pool.test == MP_TEST_KNHA) {
        /* rma.mh()/rma.peto() have no Knapp-Hartung test */
        cli_errorf(spec->name, "--test knha is not available with --method %s (z test only)",
                   c->mh == MP_MH_MH ? "MH" : "PETO");
        return CLI_USAGE;
    }
    for (const cli_optuse *u = opts_of(spec); u->id; u++) {
        if (!u->required || seen[u->id - OPT_MEASURE]) continue;
        cli_errorf(spec->name, "%s", u->required);
        cli_help(stderr, spec);
        return CLI_USAGE;
    }
    /* one level for the CI input columns, the models and the reporter */
    c->es.level = c->pool.level;
    c->rep.pool = c->pool;
    c->rep.es_level = c->es.level;
    c->rep.drop00 = c->es.drop00;
    const char *nc = getenv("NO_COLOR");
    c->rep.color = isatty(STDOUT_FILENO) && !(nc && *nc) && !c->rep.ascii;
    return CLI_GO_ON;
}
