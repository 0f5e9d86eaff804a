/* src/cli/specs.c - every command's interface: its options, About, Usage and notes.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One table per command of the options it takes (the options themselves are
 * declared, parsed and documented once in options.c) and the text of its
 * help; cli_parse() and cli_help() read these, so a command's parser, its
 * --help, its man page and the bash completion cannot disagree.  The
 * commands (cmd_*.c) hold only what they do. */
#include "cli.h"

/* ---- pool ---- */

static const cli_optuse pool_opts[] = {
    {OPT_SET_EFFECTS, NULL, NULL},
    {OPT_SET_MODEL, NULL, NULL},
    {OPT_BY, NULL, NULL},      {OPT_TAU2, NULL, NULL},    {OPT_STUDY, NULL, NULL},
    {OPT_FORMAT, NULL, NULL},
    {OPT_PLOT, NULL, NULL},    {OPT_COMPARE, NULL, NULL}, {OPT_WIDTH, NULL, NULL},
    {OPT_DIGITS, NULL, NULL},  {OPT_TRANSF, NULL, NULL},  {OPT_ASCII, NULL, NULL},
    {OPT_METHODS, NULL, NULL}, {OPT_SET_ITER, NULL, NULL},
    {OPT_PERMUTATIONS, "permutation test of the estimate (metafor's permutest(): sign flips):\n"
                       "N random ones or exact (all 2^k, k <= 24; used anyway when 2^k <= N)", NULL},
    {OPT_SEED, NULL, NULL},    {OPT_THREADS, NULL, NULL},
    {OPT_LABELS, NULL, NULL},  {OPT_FAVOURS, NULL, NULL}, {OPT_XLAB, NULL, NULL},
    {OPT_TITLE, NULL, NULL},   {OPT_DPI, NULL, NULL},
    {OPT_RANDOM, NULL, NULL},  {0, NULL, NULL}};

const cli_spec pool_spec = {
    "pool",
    "Fixed- and random-effects meta-analysis with heterogeneity statistics\n"
    "         (metafor's rma()), printed as a forest-plot table.",
    "metapool pool [OPTIONS] FILE     (FILE '-' reads standard input)",
    pool_opts, NULL, 0};

/* ---- escalc ---- */

static const cli_optuse escalc_opts[] = {
    {OPT_SET_EFFECTS, NULL, NULL},
    {OPT_LEVEL, "confidence level of ci_lb/ci_ub input columns [95]", NULL},
    {0, NULL, NULL}};

const cli_spec escalc_spec = {
    "escalc",
    "Compute effect sizes (yi) and sampling variances (vi) as metafor's escalc()\n"
    "         and write the input back as CSV with yi and vi (replaced or appended).",
    "metapool escalc [OPTIONS] FILE     (FILE '-' reads standard input)",
    escalc_opts,
    "Rows left out get yi and vi NA and a warning naming the row: a required cell\n"
    "that is NA, and with --drop00 yes a 2x2 (or rate) table with no events (or no\n"
    "non-events) in both arms.  An empty required cell is an error.  Tables with a\n"
    "zero cell get 1/2 added to every cell (OR, RR, RD, PETO; likewise PR, PLN, PLO,\n"
    "IR, IRLN, IRR, IRD), as metafor does; PAS, PFT, IRS, IRFT add nothing.\n", 0};

/* ---- reg ---- */

static const cli_optuse reg_opts[] = {
    {OPT_MODS, "moderators as an R formula: a,b or a + b, a*b, a:b, I(x^2),\n"
               "factor(COL), - 1.  A numeric column enters as it is; a text\n"
               "column (or factor(COL)) becomes dummy variables, levels sorted as\n"
               "R's factor() sorts them (English UTF-8 locale: asia < EU < US), the\n"
               "first the reference.  Rows with a missing (NA) moderator are left out.",
     "--mods is required (moderator columns, e.g. --mods ablat,alloc)"},
    {OPT_SET_EFFECTS, NULL, NULL},
    {OPT_METHOD, NULL, NULL},
    {OPT_TEST, "z or knha (Knapp-Hartung: t and F tests on k-p df) [z]", NULL},
    {OPT_LEVEL, NULL, NULL},
    {OPT_FORMAT, "table, json or csv (the coefficient table) [table]", NULL},
    {OPT_DIGITS, "decimals shown in the table [4]", NULL},
    {OPT_MAXITER, "iteration limit of REML, ML, EB and PM [1000]", NULL},
    {OPT_PERMUTATIONS, "permutation tests of the coefficients and QM (metafor's permutest():\n"
                       "permuted rows of the moderators): N random orderings or exact\n"
                       "(every distinct one, k <= 10; used anyway when there are at most N)", NULL},
    {OPT_SEED, NULL, NULL}, {OPT_THREADS, NULL, NULL},
    {OPT_RANDOM, NULL, NULL}, {OPT_CLUSTER, NULL, NULL}, {OPT_VCOV, NULL, NULL},
    {OPT_PREDICT, NULL, NULL}, {OPT_TRANSF, NULL, NULL}, {OPT_METHODS, NULL, NULL},
    {OPT_PLOT, "bubble plot (.svg, .png or .pdf): effects against the one moderator column,\n"
               "area by weight, the fitted line with its CI (group means for a factor)", NULL},
    {0, NULL, NULL}};

const cli_spec reg_spec = {
    "reg",
    "Mixed-effects meta-regression (metafor's rma(yi, vi, mods = ~ a + b)):\n"
    "         coefficients with tests and CIs, residual heterogeneity (QE), the\n"
    "         omnibus test of the moderators (QM), pseudo R^2, I^2 and H^2.",
    "metapool reg --mods a,b [OPTIONS] FILE  (FILE '-' is standard input)",
    reg_opts,
    "Exit status: 0 success; 1 the model could not be fitted (no convergence,\n"
    "collinear moderators, no more studies than coefficients); 2 bad usage or input.\n", 4};

/* ---- trajectory ---- */

static const cli_optuse traj_opts[] = {
    {OPT_TIME, NULL, "--time COL is required (the column with the time of each effect)"},
    {OPT_MODEL, NULL, NULL},   {OPT_STRUCT, NULL, NULL},   {OPT_PHI, NULL, NULL},
    {OPT_STUDY, "study column [study]", NULL},
    {OPT_MEASURE, NULL, NULL}, {OPT_VTYPE, "variance of Hedges' g: LS, UB, RevMan, CMA [LS]", NULL},
    {OPT_DROP00, NULL, NULL},  {OPT_LEVEL, NULL, NULL},
    {OPT_FORMAT, "table or json [table]", NULL},
    {OPT_PLOT, "draw the trajectory to FILE: .svg, .png or .pdf by the\n"
               "extension (PNG and PDF need a build with librsvg and cairo)", NULL},
    {OPT_DPI, NULL, NULL},     {OPT_TITLE, "title of the plot [Trajectory: FILE]", NULL},
    {OPT_TIME_UNIT, NULL, NULL},
    {OPT_MAXITER, "iteration limit of the optimiser [1000]", NULL},
    {OPT_DIGITS, NULL, NULL},
    {0, NULL, NULL}};

const cli_spec traj_spec = {
    "trajectory",
    "Time-trajectory fit: effects measured at several times in the same\n"
    "         studies (metafor's rma.mv(yi, V, mods, random = ~ time | study), REML),\n"
    "         beside separate pooled analyses per time window.",
    "metapool trajectory [OPTIONS] --time COL FILE   (FILE '-' reads standard input)",
    traj_opts, NULL, 0};

/* ---- batch ---- */

static const cli_optuse batch_opts[] = {
    {OPT_GROUP, NULL, "--group COL is required (the column whose values define the analyses)"},
    {OPT_SET_EFFECTS, NULL, NULL},
    {OPT_SET_MODEL, NULL, NULL},
    {OPT_SET_ITER, NULL, NULL},
    {OPT_THREADS, "threads [the number of online CPUs] that fit and write; with\n"
                  "--sorted (or a file read as sorted, see Speed) the main thread\n"
                  "parses the next blocks meanwhile", NULL},
    {OPT_SORTED, "the rows of each group are contiguous: the file is streamed in\n"
                 "blocks and memory stays bounded by the largest group (plus a\n"
                 "filter of at most 16 MiB); a group that appears again after\n"
                 "another group is an error (exit 2), found exactly with the\n"
                 "help of a temporary file of the group names in $TMPDIR [/tmp];\n"
                 "no limit on file size or groups (without --sorted: 8 GiB and\n"
                 "1048576 groups, see metapool --help)", NULL},
    {OPT_OUTPUT, "write the CSV to FILE instead of standard output (needed under\n"
                 "mpirun, where the processes write their parts of FILE at once)", NULL},
    {0, NULL, NULL}};

const cli_spec batch_spec = {
    "batch",
    "Many independent meta-analyses at once: one per value of --group COL,\n"
    "         each with the numbers `metapool pool` gives for the same rows.",
    "metapool batch [OPTIONS] --group COL FILE     (FILE '-' reads standard input)",
    batch_opts,
    "Output:  CSV on standard output, one row per group in order of first appearance:\n"
    "         group,k,estimate,se,ci_lb,ci_ub,pval,tau2,I2,H2,Q,Q_pval,pi_lb,pi_ub,status\n"
    "         Numbers at full precision: the shortest text that reads back as the\n"
    "         same double (at most 17 digits); NA where a value is undefined (Q, I2,\n"
    "         H2 for k = 1; the prediction interval for FE; tau2 and the prediction\n"
    "         interval for --method MH and PETO, which read the whole file).\n"
    "         k counts the rows used.\n"
    "         status is 'ok', 'no_studies' (every row of the group was left out),\n"
    "         'not_converged' (the tau2 estimator did not converge), 'not_estimable'\n"
    "         (--method MH/PETO: no events in one group) or 'failed'; the\n"
    "         numbers of such a group are NA and a warning on standard error names it.\n"
    "Exit:    0 every group fitted, 1 some group could not be fitted (its row says\n"
    "         why), 2 bad usage or bad input (file:line:col on standard error; with\n"
    "         --sorted the output holds the header and the rows of the groups read\n"
    "         before the bad row, but not of the group it may belong to; a group\n"
    "         that comes back is mostly found at the end, after all the rows).\n"
    "Speed:   without --sorted, on 2 or more threads with FILE and the output\n"
    "         both regular files, FILE is first read as --sorted reads it, in case\n"
    "         it is sorted by COL (parsing then overlaps the fits); if a group comes\n"
    "         back, or the input is bad, the output is cut back and the whole file\n"
    "         is read: the rows, warnings and exit status are the same either way.\n"
    "MPI:     mpirun -n N metapool batch FILE --group COL --sorted --output OUT\n"
    "         (a build with -DMP_MPI=ON): each process reads a share of FILE cut\n"
    "         where the group changes and OUT is the file one process writes,\n"
    "         byte for byte, with the same messages and exit status.\n", 0};

/* ---- leave1out ---- */

#define SENS_COMMON_OPTS                                                                   \
    {OPT_SET_EFFECTS, NULL, NULL},          \
    {OPT_SET_MODEL, NULL, NULL},             \
    {OPT_STUDY, NULL, NULL}, {OPT_FORMAT, NULL, NULL},                                     \
    {OPT_PLOT, "also draw the forest plot of the rows as SVG to FILE", NULL},              \
    {OPT_DIGITS, NULL, NULL}, {OPT_TRANSF, NULL, NULL}, {OPT_ASCII, NULL, NULL},           \
    {OPT_MAXITER, NULL, NULL}, {OPT_TOL, NULL, NULL}

static const cli_optuse leave1out_opts[] = {SENS_COMMON_OPTS, {0, NULL, NULL}};
static const cli_optuse cumul_opts[] = {
    {OPT_ORDER, "add the studies in the order of the numeric column COL\n"
                "(ties keep file order; NA last, as R's order())",
     "--order is required (the column that orders the studies, e.g. --order year)"},
    {OPT_DECREASING, NULL, NULL},
    SENS_COMMON_OPTS,
    {0, NULL, NULL}};

static const char sens_notes[] =
    "Exit status: 0 success; 1 a fit could not be done (too few studies, no\n"
    "convergence: the row is shown as NA and named on stderr); 2 bad usage or input.\n";

const cli_spec leave1out_spec = {
    "leave1out",
    "Leave-one-out analysis (metafor's leave1out()): the model refitted k times,\n"
    "         each time without one study; a forest table of the k results\n"
    "         against the result of all studies.",
    "metapool leave1out [OPTIONS] FILE     (FILE '-' reads standard input)",
    leave1out_opts, sens_notes, 0};

const cli_spec cumul_spec = {
    "cumul",
    "Cumulative meta-analysis (metafor's cumul()): studies added one at a time\n"
    "         in the order of --order COL, the model refitted after each.",
    "metapool cumul --order COL [--decreasing] [OPTIONS] FILE",
    cumul_opts, sens_notes, 0};

/* ---- influence ---- */

static const cli_optuse influence_opts[] = {
    {OPT_MODS, "moderator columns (a,b or a + b, factor(COL)) for a meta-regression,\n"
               "as `metapool reg --mods` [none: the intercept-only model]",
     NULL},
    {OPT_SET_EFFECTS, NULL, NULL},
    {OPT_SET_MODEL, NULL, NULL},
    {OPT_STUDY, NULL, NULL}, {OPT_FORMAT, NULL, NULL},
    {OPT_PLOT, "also draw the Baujat plot as SVG to FILE", NULL},
    {OPT_DIGITS, "decimals shown in the table [4]", NULL}, {OPT_ASCII, NULL, NULL},
    {OPT_SET_ITER, NULL, NULL},
    {0, NULL, NULL}};

const cli_spec influence_spec = {
    "influence",
    "Influence diagnostics per study (metafor's influence()): externally\n"
    "         studentized residuals, DFFITS, Cook's distance, covariance ratio,\n"
    "         tau2 and QE with the study deleted, hat values, weights, DFBETAS;\n"
    "         influential studies marked (metafor's rule); the Baujat plot's\n"
    "         coordinates (metafor's baujat()).",
    "metapool influence [--mods a,b] [OPTIONS] FILE  (FILE '-' is standard input)",
    influence_opts,
    "Exit status: 0 success; 1 the model could not be fitted (a refit that fails\n"
    "leaves its row NA and is named on stderr); 2 bad usage or input.\n", 4};

/* ---- bias ---- */

static const cli_optuse bias_opts[] = {
    {OPT_SET_EFFECTS, NULL, NULL},
    {OPT_METHOD, "FE, DL, HE, HS, HSk, SJ, ML, REML, EB or PM [REML]\n"
                 "(the selection model is always fitted by ML, or FE)", NULL},
    {OPT_TEST, "z or knha: the test of Egger's rma model [z]", NULL},
    {OPT_LEVEL, NULL, NULL},
    {OPT_PREDICTOR, NULL, NULL}, {OPT_EGGER_MODEL, NULL, NULL}, {OPT_ESTIMATOR, NULL, NULL},
    {OPT_STEPS, NULL, NULL},
    {OPT_FORMAT, NULL, NULL},
    {OPT_PLOT, "also draw the funnel plot to FILE (.svg, .png or .pdf)", NULL},
    {OPT_CONTOURS, NULL, NULL},
    {OPT_DIGITS, NULL, NULL}, {OPT_TRANSF, NULL, NULL}, {OPT_ASCII, NULL, NULL},
    {OPT_SET_ITER, NULL, NULL},
    {0, NULL, NULL}};

const cli_spec bias_spec = {
    "bias",
    "Small-study effects and publication bias (metafor's regtest, ranktest,\n"
    "         trimfill, fsn, selmodel): Egger's and Begg's tests, trim and fill,\n"
    "         fail-safe N, PET-PEESE and a step-function selection model.",
    "metapool bias [OPTIONS] FILE     (FILE '-' reads standard input)",
    bias_opts,
    "Asymmetry tests have little power with fewer than 10 studies: a warning\n"
    "says so (Cochrane Handbook 10.4.3.1).  Sample sizes for --predictor ni,\n"
    "ninv, sqrtni, sqrtninv come from a column ni, or n1i + n2i, or the four\n"
    "cells ai, bi, ci, di.\n"
    "Exit status: 0 success; 1 a fit or an optimiser did not converge (the\n"
    "other results are still printed) or no model could be fitted; 2 bad usage\n"
    "or input.\n", 0};

/* ---- gosh ---- */

static const cli_optuse gosh_opts[] = {
    {OPT_METHOD, "FE, DL or REML (REML fits every subset iteratively: use FE or DL\n"
                 "for k above about 22) [REML]", NULL},
    {OPT_SUBSETS, NULL, NULL},   {OPT_SEED, NULL, NULL},    {OPT_THREADS, NULL, NULL},
    {OPT_OUT, NULL, NULL},       {OPT_EXACT_QUANTILES, NULL, NULL},
    {OPT_PLOT, "draw estimate against I^2 as a hexagonal-bin density to FILE (.svg)", NULL},
    {OPT_HIGHLIGHT, NULL, NULL}, {OPT_SET_EFFECTS, NULL, NULL},    {OPT_STUDY, NULL, NULL},
    {OPT_FORMAT, "table or json [table]", NULL},
    {OPT_DIGITS, "decimals shown in the table [3]", NULL},
    {OPT_SET_ITER, NULL, NULL},
    {0, NULL, NULL}};

const cli_spec gosh_spec = {
    "gosh",
    "GOSH (metafor's gosh()): the model fitted to every non-empty subset of\n"
    "         the k studies (all 2^k - 1 up to k = 30), or to N random subsets;\n"
    "         summaries of the estimate and I^2, and per study the mean over the\n"
    "         subsets with and without it.",
    "metapool gosh [OPTIONS] FILE     (FILE '-' reads standard input)",
    gosh_opts,
    "FE and DL use metafor's closed form (H^2 = Q/(k-1), which can be below 1).\n"
    "Quantiles are exact up to 2^22 subsets, from a 65536-bin histogram above\n"
    "(the JSON's quantile_error bounds the difference) unless --exact-quantiles.\n"
    "Under mpirun (a build with -DMP_MPI=ON) the processes share the subsets and\n"
    "the first writes what one process writes; --out and --exact-quantiles need\n"
    "one process.\n"
    "Exit status: 0 success; 1 the analysis failed (fewer than 2 studies, fits\n"
    "that did not converge); 2 bad usage or input.\n", 3};
