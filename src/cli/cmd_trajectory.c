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
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const cli_optuse traj_opts[] = {
    {OPT_TIME, NULL, "--time COL is required (the column with the time of each effect)"},
    {OPT_MODEL, NULL, NULL},   {OPT_STRUCT, NULL, NULL},   {OPT_PHI, NULL, NULL},
    {OPT_STUDY, "study column [study]", NULL},
    {OPT_MEASURE, NULL, NULL}, {OPT_VTYPE, "variance of Hedges' g: LS, UB, RevMan, CMA [LS]", NULL},
    {OPT_DROP00, NULL, NULL},  {OPT_LEVEL, NULL, NULL},
    {OPT_FORMAT, "table or json [table]", NULL},
    {OPT_PLOT, "draw the trajectory as SVG to FILE", NULL},
    {OPT_TIME_UNIT, NULL, NULL},
    {OPT_MAXITER, "iteration limit of the optimiser [1000]", NULL},
    {OPT_DIGITS, NULL, NULL},
    {0, NULL, NULL}};

static const cli_spec traj_spec = {
    "trajectory",
    "Time-trajectory fit: effects measured at several times in the same\n"
    "         studies (metafor's rma.mv(yi, V, mods, random = ~ time | study), REML),\n"
    "         beside separate pooled analyses per time window.",
    "metapool trajectory [OPTIONS] --time COL FILE   (FILE '-' reads standard input)",
    traj_opts, NULL};


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

int cmd_trajectory(int argc, char **argv)
{
    const char *cmd = "trajectory";
    traj_args A;
    memset(&A, 0, sizeof A);
    cli_common_init(&A.c);
    int go = cli_parse(&traj_spec, argc, argv, &A.c);
    if (go != CLI_GO_ON) return go;
    A.o = A.c.traj;
    A.time = A.c.time;
    A.unit = A.c.time_unit;
    A.study_given = A.c.study_given;
    char lab[64];
    if (A.c.format == CLI_FMT_CSV) {
        cli_errorf(cmd, "--format csv is not available for trajectory (table or json)");
        return CLI_USAGE;
    }
    A.o.level = A.c.pool.level;

    mp_table *t = NULL;
    mp_effects e;
    if (A.c.plot && cli_check_writable(cmd, A.c.plot) != 0) return CLI_USAGE;
    int rc = cli_load(cmd, A.c.file, &A.c, &t, &e);
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
            mp_report_time_label(R.times[w], A.unit, lab, sizeof lab);
            mp_msgs_add(&warn, "separate analysis at time %s: REML did not converge", lab);
        }
    }
    free(wy);
    free(wv);
    mp_pool_workspace_free(pw);
    for (size_t i = nwarn0; i < warn.n; i++) cli_errorf(cmd, "warning: %s", warn.v[i]);

    if (A.c.format == CLI_FMT_JSON) mp_report_traj_json(stdout, &R, win, wst, &warn);
    else mp_report_traj_table(stdout, mp_table_name(t), A.time, A.unit, A.c.rep.digits, &R, win, wst);
    if (A.c.plot) {
        char title[300];
        snprintf(title, sizeof title, "Trajectory: %s", mp_table_name(t));
        if (mp_report_traj_svg(A.c.plot, &R, win, A.unit, title) != 0) {
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
