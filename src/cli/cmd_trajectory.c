/* src/cli/cmd_trajectory.c - `metapool trajectory`: multivariate REML fit of effects over time.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Fits metafor's rma.mv(yi, V, mods, random = ~ time | study, struct = ...)
 * through mp_traj_fit() and sets it beside separate per-time-window pooled
 * analyses (mp_pool, REML), as Kishimoto et al. (2016, Psychol Med 46:1459)
 * reported the ketamine trials window by window. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
    "About:   Time-trajectory fit: effects measured at several times in the same\n"
    "         studies (metafor's rma.mv(yi, V, mods, random = ~ time | study), REML),\n"
    "         beside separate pooled analyses per time window.\n"
    "Usage:   metapool trajectory [OPTIONS] --time COL FILE   (FILE '-' reads standard input)\n"
    "Options:\n"
    "  --time COL       column with the time of each effect (required)\n"
    "  --model M        factor (one mean per time), loglinear, quadratic or spline\n"
    "                   (natural cubic spline) in log(time) [factor]\n"
    "  --struct S       between-study structure over time: INT, CS, HCS, AR, HAR, CAR\n"
    "                   or ID [CS]\n"
    "  --phi R          correlation of sampling errors per time unit: R^|t1-t2| [0]\n"
    "  --study COL      study column [study]\n"
    "  --measure M      SMD, MD, ROM, OR, RR, RD or GEN [from the columns]\n"
    "  --vtype V        variance of Hedges' g: LS, UB, RevMan, CMA [LS]\n"
    "  --drop00 Y       OR/RR tables without events in both arms: yes = leave out,\n"
    "                   no = keep with 1/2 added (metafor's rma()) [yes]\n"
    "  --level L        confidence level in percent [95]\n"
    "  --format F       table or json [table]\n"
    "  --plot FILE      draw the trajectory as SVG to FILE\n"
    "  --time-unit U    unit of the time column for labels: min, h, d, w, months, y\n"
    "                   [none: numbers as given]\n"
    "  --maxiter N      iteration limit of the optimiser [1000]\n"
    "  --digits N       decimals shown in the table [2]\n"
    "  -h, --help       this help\n";

enum { OPT_TIME = OPT_FIRST_PRIVATE, OPT_MODEL, OPT_STRUCT, OPT_PHI, OPT_UNIT, OPT_MAXITER };

typedef struct traj_args {
    cli_common c;          /* shared options */
    mp_traj_opts o;        /* fit options */
    const char *time;      /* --time column */
    const char *unit;      /* --time-unit or NULL */
    int study_given;       /* --study was given explicitly */
} traj_args;

/* Study ids from labels: rows with equal labels share an id. */
static const char *const *sort_lab;
static int cmp_lab(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    int c = strcmp(sort_lab[x], sort_lab[y]);
    return c ? c : (x > y) - (x < y);
}

static int study_ids(const char **lab, size_t n, size_t *id)
{
    size_t *ord = malloc((n ? n : 1) * sizeof *ord);
    if (!ord) return -1;
    for (size_t i = 0; i < n; i++) ord[i] = i;
    sort_lab = lab;
    qsort(ord, n, sizeof *ord, cmp_lab);
    size_t cur = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && strcmp(lab[ord[i]], lab[ord[i - 1]]) != 0) cur++;
        id[ord[i]] = cur;
    }
    free(ord);
    return 0;
}

static void json_coef(FILE *f, const mp_traj_coef *c)
{
    fputs("{\"name\": ", f);
    json_str(f, c->name);
    const struct { const char *k; double v; } kv[] = {
        {"estimate", c->estimate}, {"se", c->se}, {"stat", c->stat},
        {"pval", c->pval}, {"ci_lb", c->ci_lb}, {"ci_ub", c->ci_ub}};
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++) {
        fprintf(f, ", \"%s\": ", kv[i].k);
        json_num(f, kv[i].v);
    }
    fputc('}', f);
}

static void write_json(FILE *f, const mp_traj_result *r, const mp_pool_result *win,
                       const mp_status *wst, const mp_msgs *warn)
{
    fprintf(f, "{\n  \"k\": %zu, \"n_studies\": %zu, \"n_times\": %zu, \"model\": ", r->k,
            r->n_studies, r->n_times);
    json_str(f, mp_traj_model_name(r->model));
    fputs(", \"struct\": ", f);
    json_str(f, mp_traj_struct_name(r->structure));
    fputs(", \"phi\": ", f);
    json_num(f, r->phi);
    fputs(", \"method\": \"REML\", \"test\": \"z\", \"level\": ", f);
    json_num(f, r->level);
    fputs(",\n  \"coef\": [", f);
    for (size_t j = 0; j < r->p; j++) {
        fputs(j ? ",\n    " : "\n    ", f);
        json_coef(f, &r->coef[j]);
    }
    fputs("\n  ],\n  \"tau2\": [", f);
    for (size_t j = 0; j < r->n_tau2; j++) {
        if (j) fputs(", ", f);
        json_num(f, r->tau2[j]);
    }
    fputs("],\n  \"rho\": ", f);
    json_num(f, r->rho);
    fputs(", \"logLik\": ", f);
    json_num(f, r->logLik);
    fputs(", \"QE\": ", f);
    json_num(f, r->QE);
    fputs(", \"QE_df\": ", f);
    json_num(f, r->QE_df);
    fputs(", \"QE_pval\": ", f);
    json_num(f, r->QE_pval);
    fprintf(f, ",\n  \"niter\": %zu, \"converged\": %s,", r->niter, r->converged ? "true" : "false");
    if (r->n_knots) {
        fputs(" \"knots_logtime\": [", f);
        for (size_t j = 0; j < r->n_knots; j++) {
            if (j) fputs(", ", f);
            json_num(f, r->knots[j]);
        }
        fputs("],", f);
    }
    fputs("\n  \"curve\": [", f);
    for (size_t i = 0; i < r->n_curve; i++) {
        const mp_traj_point *c = &r->curve[i];
        fputs(i ? ",\n    {\"time\": " : "\n    {\"time\": ", f);
        json_num(f, c->time);
        fputs(", \"estimate\": ", f);
        json_num(f, c->estimate);
        fputs(", \"se\": ", f);
        json_num(f, c->se);
        fputs(", \"ci_lb\": ", f);
        json_num(f, c->ci_lb);
        fputs(", \"ci_ub\": ", f);
        json_num(f, c->ci_ub);
        fputc('}', f);
    }
    fputs("\n  ],\n  \"onset\": ", f);
    json_num(f, r->onset);
    fputs(", \"peak\": ", f);
    json_num(f, r->peak);
    fputs(", \"offset\": ", f);
    json_num(f, r->offset);
    fputs(",\n  \"windows\": [", f);
    for (size_t i = 0; i < r->n_times; i++) {
        const mp_pool_result *w = &win[i];
        mp_traj_point jp;
        if (mp_traj_predict(r, r->times[i], &jp) != MP_OK) jp.estimate = jp.ci_lb = jp.ci_ub = NAN;
        fputs(i ? ",\n    {\"time\": " : "\n    {\"time\": ", f);
        json_num(f, r->times[i]);
        fprintf(f, ", \"k\": %zu, \"status\": ", w->k);
        json_str(f, wst[i] == MP_OK ? "ok" : mp_strerror(wst[i]));
        const struct { const char *k; double v; } kv[] = {
            {"estimate", w->estimate}, {"se", w->se}, {"pval", w->pval}, {"ci_lb", w->ci_lb},
            {"ci_ub", w->ci_ub}, {"tau2", w->tau2}, {"I2", w->I2},
            {"joint_estimate", jp.estimate}, {"joint_ci_lb", jp.ci_lb}, {"joint_ci_ub", jp.ci_ub}};
        for (size_t j = 0; j < sizeof kv / sizeof kv[0]; j++) {
            fprintf(f, ", \"%s\": ", kv[j].k);
            json_num(f, kv[j].v);
        }
        fputc('}', f);
    }
    fputs("\n  ],\n  \"warnings\": [", f);
    for (size_t i = 0; i < warn->n; i++) {
        if (i) fputs(", ", f);
        json_str(f, warn->v[i]);
    }
    fputs("]\n}\n", f);
}

static void fmt_ci(char *buf, size_t n, double est, double lb, double ub, int d)
{
    if (!isfinite(est)) snprintf(buf, n, "%s", "-");
    else snprintf(buf, n, "%.*f [%.*f, %.*f]", d, est, d, lb, d, ub);
}

static void fmt_p(char *buf, size_t n, double p)
{
    if (!isfinite(p)) snprintf(buf, n, "-");
    else if (p < 1e-4) snprintf(buf, n, "<0.0001");
    else snprintf(buf, n, "%.4f", p);
}

static void feature(FILE *f, const char *what, double t, const char *unit, const char *none)
{
    char lab[64];
    if (!isfinite(t)) { fprintf(f, "  %-7s %s\n", what, none); return; }
    traj_time_label(t, unit, lab, sizeof lab);
    fprintf(f, "  %-7s %s\n", what, lab);
}

static void write_table(FILE *f, const char *file, const mp_traj_result *r,
                        const mp_pool_result *win, const mp_status *wst, const traj_args *a)
{
    int d = a->c.digits;
    char b1[128], b2[128], b3[32], lab[64];
    fprintf(f, "Time trajectory: %s\n", file);
    fprintf(f, "  %zu effects from %zu studies at %zu distinct times (column '%s')\n", r->k,
            r->n_studies, r->n_times, a->time);
    fprintf(f, "  model %s, structure %s, phi = %g; REML, %g%% CIs (z)\n\n",
            mp_traj_model_name(r->model), mp_traj_struct_name(r->structure), r->phi, r->level);
    fprintf(f, "Fixed effects\n  %-22s %10s %9s %9s %9s  %s\n", "coefficient", "estimate", "se",
            "z", "p", "CI");
    for (size_t j = 0; j < r->p; j++) {
        const mp_traj_coef *c = &r->coef[j];
        fmt_p(b3, sizeof b3, c->pval);
        fprintf(f, "  %-22s %10.*f %9.*f %9.2f %9s  [%.*f, %.*f]\n", c->name, d, c->estimate,
                d, c->se, c->stat, b3, d, c->ci_lb, d, c->ci_ub);
    }
    fputs("\nBetween-study structure\n", f);
    if (r->n_tau2 == 1) fprintf(f, "  %s = %.4g", r->structure == MP_TRAJ_INT ? "sigma2" : "tau2", r->tau2[0]);
    else {
        fputs("  tau2 by time:", f);
        for (size_t j = 0; j < r->n_tau2; j++) {
            traj_time_label(r->times[j], a->unit, lab, sizeof lab);
            fprintf(f, " %s: %.4g%s", lab, r->tau2[j], j + 1 < r->n_tau2 ? "," : "");
        }
    }
    if (isfinite(r->rho)) fprintf(f, "%srho = %.4f", r->n_tau2 == 1 ? ", " : "\n  ", r->rho);
    fmt_p(b3, sizeof b3, r->QE_pval);
    fprintf(f, "\n  logLik (REML) = %.4f; QE(%g) = %.2f, p %s%s\n", r->logLik, r->QE_df, r->QE,
            b3[0] == '<' ? "" : "= ", b3);
    fputs("\nBy time: separate pooled analyses (REML, one per time) vs the joint model\n", f);
    fprintf(f, "  %-12s %4s  %-28s %9s  %s\n", "time", "k", "separate [CI]", "tau2",
            "joint [CI]");
    for (size_t i = 0; i < r->n_times; i++) {
        mp_traj_point jp;
        traj_time_label(r->times[i], a->unit, lab, sizeof lab);
        if (wst[i] == MP_OK || wst[i] == MP_ENOCONV)
            fmt_ci(b1, sizeof b1, win[i].estimate, win[i].ci_lb, win[i].ci_ub, d);
        else snprintf(b1, sizeof b1, "(%s)", mp_strerror(wst[i]));
        if (mp_traj_predict(r, r->times[i], &jp) == MP_OK)
            fmt_ci(b2, sizeof b2, jp.estimate, jp.ci_lb, jp.ci_ub, d);
        else snprintf(b2, sizeof b2, "-");
        fprintf(f, "  %-12s %4zu  %-28s %9.4g  %s\n", lab, win[i].k, b1, win[i].tau2, b2);
    }
    fputs("\nTrajectory of the joint model\n", f);
    feature(f, "onset", r->onset, a->unit, "none (the CI includes 0 at every time)");
    feature(f, "peak", r->peak, a->unit, "-");
    feature(f, "offset", r->offset, a->unit, "none within the data");
}

int cmd_trajectory(int argc, char **argv)
{
    static const struct option opts[] = {
        {"time", required_argument, NULL, OPT_TIME},       {"model", required_argument, NULL, OPT_MODEL},
        {"struct", required_argument, NULL, OPT_STRUCT},   {"phi", required_argument, NULL, OPT_PHI},
        {"study", required_argument, NULL, OPT_STUDY},     {"measure", required_argument, NULL, OPT_MEASURE},
        {"vtype", required_argument, NULL, OPT_VTYPE}, {"drop00", required_argument, NULL, OPT_DROP00},     {"level", required_argument, NULL, OPT_LEVEL},
        {"format", required_argument, NULL, OPT_FORMAT},   {"plot", required_argument, NULL, OPT_PLOT},
        {"time-unit", required_argument, NULL, OPT_UNIT},  {"maxiter", required_argument, NULL, OPT_MAXITER},
        {"digits", required_argument, NULL, OPT_DIGITS},   {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *cmd = "trajectory";
    traj_args A;
    memset(&A, 0, sizeof A);
    cli_common_init(&A.c);
    mp_traj_opts_init(&A.o);
    int id;
    long l;
    double x;
    char lab[64];
    optind = 1;
    opterr = 0; /* our own one-line messages, "metapool trajectory: ..." */
    while ((id = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (id == '?' || id == ':') {
            cli_bad_option(cmd, id, argv);
            fputs(usage_text, stderr);
            return CLI_USAGE;
        }
        switch (id) {
        case 'h': fputs(usage_text, stdout); return CLI_OK;
        case OPT_TIME: A.time = optarg; continue;
        case OPT_MODEL:
            if (mp_traj_model_parse(optarg, &A.o.model) != MP_OK) {
                cli_errorf(cmd, "unknown --model '%s' (factor, loglinear, quadratic or spline)", optarg);
                return CLI_USAGE;
            }
            continue;
        case OPT_STRUCT:
            if (mp_traj_struct_parse(optarg, &A.o.structure) != MP_OK) {
                cli_errorf(cmd, "unknown --struct '%s' (INT, CS, HCS, AR, HAR, CAR or ID)", optarg);
                return CLI_USAGE;
            }
            continue;
        case OPT_PHI:
            if (!cli_parse_double(optarg, &x) || !(x >= 0 && x <= 1)) {
                cli_errorf(cmd, "--phi must be a number from 0 to 1, got '%s'", optarg);
                return CLI_USAGE;
            }
            A.o.phi = x;
            continue;
        case OPT_UNIT:
            if (traj_time_label(1.0, optarg, lab, sizeof lab) != 0) {
                cli_errorf(cmd, "unknown --time-unit '%s' (min, h, d, w, months or y)", optarg);
                return CLI_USAGE;
            }
            A.unit = optarg;
            continue;
        case OPT_MAXITER:
            if (!cli_parse_int(optarg, 1, 1000000, &l)) {
                cli_errorf(cmd, "--maxiter must be an integer from 1 to 1000000, got '%s'", optarg);
                return CLI_USAGE;
            }
            A.o.maxiter = (size_t)l;
            continue;
        case OPT_STUDY: A.study_given = 1; break;
        default: break;
        }
        int r = cli_common_opt(cmd, id, optarg, &A.c);
        if (r == 1) continue;
        if (r == 0) fputs(usage_text, stderr);
        return CLI_USAGE;
    }
    if (optind != argc - 1) {
        cli_errorf(cmd, "expected one input FILE");
        fputs(usage_text, stderr);
        return CLI_USAGE;
    }
    if (!A.time) {
        cli_errorf(cmd, "--time COL is required");
        fputs(usage_text, stderr);
        return CLI_USAGE;
    }
    if (A.c.format == CLI_FMT_CSV) {
        cli_errorf(cmd, "--format csv is not available for trajectory (table or json)");
        return CLI_USAGE;
    }
    cli_common_finish(&A.c);
    A.o.level = A.c.pool.level;

    mp_table *t = NULL;
    mp_effects e;
    if (A.c.plot && cli_check_writable(cmd, A.c.plot) != 0) return CLI_USAGE;
    int rc = cli_load(cmd, argv[optind], &A.c, &t, &e);
    if (rc != CLI_OK) return rc;
    int status = CLI_OK;
    size_t nr = mp_table_nrows(t), k = 0;
    double *y = malloc((nr ? nr : 1) * sizeof *y), *v = malloc((nr ? nr : 1) * sizeof *v);
    double *tm = malloc((nr ? nr : 1) * sizeof *tm);
    size_t *sid = malloc((nr ? nr : 1) * sizeof *sid), *rowid = malloc((nr ? nr : 1) * sizeof *rowid);
    const char **ulab = malloc((nr ? nr : 1) * sizeof *ulab);
    char *labbuf = NULL;
    const char **labs = NULL;
    mp_pool_result *win = NULL;
    mp_status *wst = NULL;
    mp_traj_result R;
    memset(&R, 0, sizeof R);
    mp_msgs warn = {0};
    int have_fit = 0;
    if (!y || !v || !tm || !sid || !rowid || !ulab) {
        cli_errorf(cmd, "out of memory");
        status = CLI_FAIL;
        goto out;
    }
    long tcol = mp_table_col(t, A.time);
    if (tcol < 0) {
        cli_errorf(cmd, "%s: no column '%s' for --time", mp_table_name(t), A.time);
        status = CLI_USAGE;
        goto out;
    }
    long scol = mp_table_col(t, A.c.study);
    if (scol < 0 && A.study_given) {
        cli_errorf(cmd, "%s: no column '%s' for --study", mp_table_name(t), A.c.study);
        status = CLI_USAGE;
        goto out;
    }
    if (scol < 0)
        mp_msgs_add(&warn, "no '%s' column: every row is taken as its own study", A.c.study);
    labs = cli_labels(t, scol >= 0 ? A.c.study : NULL, &labbuf);
    if (!labs) { cli_errorf(cmd, "out of memory"); status = CLI_FAIL; goto out; }
    for (size_t i = 0; i < nr; i++) {
        if (!e.used[i]) continue;
        if (mp_table_is_missing(t, i, (size_t)tcol)) {
            mp_msgs_add(&warn, "row %zu (line %zu) left out: missing %s", i + 1,
                        mp_table_line(t, i), A.time);
            continue;
        }
        /* a missing study label must not merge unrelated rows into one study */
        if (scol >= 0 && mp_table_is_missing(t, i, (size_t)scol)) {
            mp_msgs_add(&warn, "row %zu (line %zu) left out: missing %s", i + 1,
                        mp_table_line(t, i), A.c.study);
            continue;
        }
        mp_error err;
        mp_error_clear(&err);
        if (mp_table_number(t, i, (size_t)tcol, &tm[k], &err) != MP_OK) {
            cli_input_error(cmd, &err);
            status = CLI_USAGE;
            goto out;
        }
        if (A.o.model != MP_TRAJ_FACTOR && !(tm[k] > 0)) {
            mp_table_error(t, i, (size_t)tcol, &err,
                           "%s = %s is not > 0, as the %s model (log time) needs", A.time,
                           mp_table_cell(t, i, (size_t)tcol), mp_traj_model_name(A.o.model));
            cli_input_error(cmd, &err);
            status = CLI_USAGE;
            goto out;
        }
        y[k] = e.yi[i];
        v[k] = e.vi[i];
        ulab[k] = labs[i];
        rowid[k] = i;
        k++;
    }
    cli_warnings(cmd, &warn);
    if (k == 0) {
        cli_errorf(cmd, "%s: no effects left to analyse", mp_table_name(t));
        status = CLI_FAIL;
        goto out;
    }
    if (study_ids(ulab, k, sid) != 0) { cli_errorf(cmd, "out of memory"); status = CLI_FAIL; goto out; }
    mp_error ferr;
    mp_error_clear(&ferr);
    size_t nwarn0 = warn.n;
    mp_status s = mp_traj_fit(y, v, tm, sid, k, &A.o, &R, &ferr);
    if (s == MP_ENOCONV) {
        cli_errorf(cmd, "%s: the REML optimiser did not converge in %zu iterations "
                        "(largest score component %.3g)", mp_table_name(t), R.niter, R.grad_max);
        have_fit = 1;
        status = CLI_FAIL;
        goto out;
    }
    if (s != MP_OK) {
        if (s == MP_EDOM && ferr.msg[0]) {
            cli_errorf(cmd, "%s: %s", mp_table_name(t), ferr.msg);
            status = CLI_USAGE;
        } else if (s == MP_ETOOFEW) {
            cli_errorf(cmd, "%s: %zu effects are too few for the %s model", mp_table_name(t), k,
                       mp_traj_model_name(A.o.model));
            status = CLI_FAIL;
        } else {
            cli_errorf(cmd, "%s: %s", mp_table_name(t), mp_strerror(s));
            status = CLI_FAIL;
        }
        goto out;
    }
    have_fit = 1;
    if (R.warn & MP_TRAJ_WARN_RHO_FIXED)
        mp_msgs_add(&warn, "rho fixed at 0: %s", R.n_times == 1 ? "only one time value"
                                                                : "no study has effects at two times");
    if (R.warn & MP_TRAJ_WARN_BOUNDARY)
        mp_msgs_add(&warn, "a variance component or rho is at its bound (tau2 = 0 or |rho| = 1)");

    /* separate analyses per time window (REML, as pool) */
    win = calloc(R.n_times, sizeof *win);
    wst = calloc(R.n_times, sizeof *wst);
    double *wy = malloc(k * sizeof *wy), *wv = malloc(k * sizeof *wv);
    mp_pool_workspace *pw = mp_pool_workspace_alloc(k);
    if (!win || !wst || !wy || !wv || !pw) {
        free(wy); free(wv); mp_pool_workspace_free(pw);
        cli_errorf(cmd, "out of memory");
        status = CLI_FAIL;
        goto out;
    }
    mp_pool_opts po;
    mp_pool_opts_init(&po);
    po.level = A.c.pool.level;
    po.tau2_ci = 0;
    for (size_t w = 0; w < R.n_times; w++) {
        size_t n = 0;
        for (size_t i = 0; i < k; i++)
            if (tm[i] == R.times[w]) { wy[n] = y[i]; wv[n] = v[i]; n++; }
        wst[w] = mp_pool(wy, wv, n, &po, pw, &win[w]);
        win[w].k = n;
        if (wst[w] != MP_OK && wst[w] != MP_ENOCONV) {
            win[w].estimate = win[w].ci_lb = win[w].ci_ub = win[w].tau2 = NAN;
            win[w].se = win[w].pval = win[w].I2 = NAN;
        }
        if (wst[w] == MP_ENOCONV) {
            traj_time_label(R.times[w], A.unit, lab, sizeof lab);
            mp_msgs_add(&warn, "separate analysis at time %s: REML did not converge", lab);
        }
    }
    free(wy);
    free(wv);
    mp_pool_workspace_free(pw);
    for (size_t i = nwarn0; i < warn.n; i++) cli_errorf(cmd, "warning: %s", warn.v[i]);

    if (A.c.format == CLI_FMT_JSON) write_json(stdout, &R, win, wst, &warn);
    else write_table(stdout, mp_table_name(t), &R, win, wst, &A);
    if (A.c.plot) {
        char title[300];
        snprintf(title, sizeof title, "Trajectory: %s", mp_table_name(t));
        if (traj_svg(A.c.plot, &R, win, A.unit, title) != 0) {
            cli_errorf(cmd, "%s: cannot write the plot: %s", A.c.plot, strerror(errno));
            status = CLI_FAIL;
        }
    }
out:
    if (have_fit) mp_traj_result_free(&R);
    mp_msgs_free(&warn);
    free(win);
    free(wst);
    free(y);
    free(v);
    free(tm);
    free(sid);
    free(rowid);
    free(ulab);
    free(labs);
    free(labbuf);
    mp_effects_free(&e);
    mp_table_free(t);
    if (fflush(stdout) != 0 && status == CLI_OK) { cli_errorf(cmd, "write error"); status = CLI_FAIL; }
    return status;
}
