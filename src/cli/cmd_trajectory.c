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

/* Everything one run of `metapool trajectory` holds. */
typedef struct traj_run {
    const char *cmd;       /* "trajectory" */
    traj_args A;           /* options */
    mp_table *t;           /* the input table */
    mp_effects e;          /* its effect sizes */
    size_t k;              /* effects used */
    double *y, *v, *tm;    /* k effects, variances, times */
    size_t *sid, *rowid;   /* study id and table row of each effect */
    const char **ulab;     /* study label of each effect */
    char *labbuf;          /* storage of generated labels */
    const char **labs;     /* a label per table row */
    mp_traj_result R;      /* the joint fit */
    int have_fit;          /* R holds allocations */
    mp_pool_result *win;   /* separate analyses per time */
    mp_status *wst;        /* their statuses */
    mp_msgs warn;          /* warnings */
} traj_run;

static void traj_run_free(traj_run *T)
{
    if (T->have_fit) mp_traj_result_free(&T->R);
    mp_msgs_free(&T->warn);
    void *owned[] = {T->win, T->wst, T->y, T->v, T->tm, T->sid, T->rowid, (void *)T->ulab,
                     (void *)T->labs, T->labbuf};
    for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++) free(owned[i]);
    mp_effects_free(&T->e);
    mp_table_free(T->t);
}

/* Step 1: the table, its effect sizes and the time and study columns; the
 * effects with a time and a study, rows without them left out by row.
 * CLI_OK or the exit status (message printed). */
static int collect_effects(traj_run *T)
{
    const char *cmd = T->cmd;
    traj_args *A = &T->A;
    if (A->c.plot && cli_check_writable(cmd, A->c.plot) != 0) return CLI_USAGE;
    int rc = cli_load(cmd, A->c.file, &A->c, &T->t, &T->e);
    if (rc != CLI_OK) return rc;
    mp_table *t = T->t;
    size_t nr = mp_table_nrows(t), n1 = nr ? nr : 1;
    T->y = malloc(n1 * sizeof *T->y);
    T->v = malloc(n1 * sizeof *T->v);
    T->tm = malloc(n1 * sizeof *T->tm);
    T->sid = malloc(n1 * sizeof *T->sid);
    T->rowid = malloc(n1 * sizeof *T->rowid);
    T->ulab = malloc(n1 * sizeof *T->ulab);
    if (!T->y || !T->v || !T->tm || !T->sid || !T->rowid || !T->ulab) goto nomem;
    long tcol = mp_table_col(t, A->time);
    if (tcol < 0) {
        cli_errorf(cmd, "%s: no column '%s' for --time", mp_table_name(t), A->time);
        return CLI_USAGE;
    }
    long scol = mp_table_col(t, A->c.study);
    if (scol < 0 && A->study_given) {
        cli_errorf(cmd, "%s: no column '%s' for --study", mp_table_name(t), A->c.study);
        return CLI_USAGE;
    }
    if (scol < 0)
        mp_msgs_add(&T->warn, "no '%s' column: every row is taken as its own study", A->c.study);
    T->labs = cli_labels(t, scol >= 0 ? A->c.study : NULL, &T->labbuf);
    if (!T->labs) goto nomem;
    size_t k = 0;
    for (size_t i = 0; i < nr; i++) {
        if (!T->e.used[i]) continue;
        if (mp_table_is_missing(t, i, (size_t)tcol)) {
            mp_msgs_add(&T->warn, "row %zu (line %zu) left out: missing %s", i + 1,
                        mp_table_line(t, i), A->time);
            continue;
        }
        /* a missing study label must not merge unrelated rows into one study */
        if (scol >= 0 && mp_table_is_missing(t, i, (size_t)scol)) {
            mp_msgs_add(&T->warn, "row %zu (line %zu) left out: missing %s", i + 1,
                        mp_table_line(t, i), A->c.study);
            continue;
        }
        mp_error err;
        mp_error_clear(&err);
        if (mp_table_number(t, i, (size_t)tcol, &T->tm[k], &err) != MP_OK) {
            cli_input_error(cmd, &err);
            return CLI_USAGE;
        }
        if (A->o.model != MP_TRAJ_FACTOR && !(T->tm[k] > 0)) {
            mp_table_error(t, i, (size_t)tcol, &err,
                           "%s = %s is not > 0, as the %s model (log time) needs", A->time,
                           mp_table_cell(t, i, (size_t)tcol), mp_traj_model_name(A->o.model));
            cli_input_error(cmd, &err);
            return CLI_USAGE;
        }
        T->y[k] = T->e.yi[i];
        T->v[k] = T->e.vi[i];
        T->ulab[k] = T->labs[i];
        T->rowid[k] = i;
        k++;
    }
    T->k = k;
    cli_warnings(cmd, &T->warn);
    if (k == 0) {
        cli_errorf(cmd, "%s: no effects left to analyse", mp_table_name(t));
        return CLI_FAIL;
    }
    if (study_ids(T->ulab, k, T->sid) != 0) goto nomem;
    return CLI_OK;
nomem:
    cli_errorf(cmd, "out of memory");
    return CLI_FAIL;
}

/* Step 2: the joint model (mp_traj_fit) and the separate analyses per
 * time.  CLI_OK or the exit status (message printed). */
static int fit_trajectory(traj_run *T)
{
    const char *cmd = T->cmd, *file = mp_table_name(T->t);
    traj_args *A = &T->A;
    mp_error ferr;
    mp_error_clear(&ferr);
    size_t nwarn0 = T->warn.n;
    mp_status s = mp_traj_fit(T->y, T->v, T->tm, T->sid, T->k, &A->o, &T->R, &ferr);
    if (s == MP_ENOCONV) {
        T->have_fit = 1;
        cli_errorf(cmd, "%s: the REML optimiser did not converge in %zu iterations "
                        "(largest score component %.3g)", file, T->R.niter, T->R.grad_max);
        return CLI_FAIL;
    }
    if (s != MP_OK) {
        if (s == MP_EDOM && ferr.msg[0]) {
            cli_errorf(cmd, "%s: %s", file, ferr.msg);
            return CLI_USAGE;
        }
        if (s == MP_ETOOFEW)
            cli_errorf(cmd, "%s: %zu effects are too few for the %s model", file, T->k,
                       mp_traj_model_name(A->o.model));
        else
            cli_errorf(cmd, "%s: %s", file, mp_strerror(s));
        return CLI_FAIL;
    }
    T->have_fit = 1;
    const mp_traj_result *R = &T->R;
    if (R->warn & MP_TRAJ_WARN_RHO_FIXED)
        mp_msgs_add(&T->warn, "rho fixed at 0: %s", R->n_times == 1 ? "only one time value"
                                                                  : "no study has effects at two times");
    if (R->warn & MP_TRAJ_WARN_BOUNDARY)
        mp_msgs_add(&T->warn, "a variance component or rho is at its bound (tau2 = 0 or |rho| = 1)");

    /* separate analyses per time window (REML, as pool) */
    T->win = calloc(R->n_times, sizeof *T->win);
    T->wst = calloc(R->n_times, sizeof *T->wst);
    if (!T->win || !T->wst ||
        mp_traj_windows(T->y, T->v, T->tm, T->k, R->times, R->n_times, A->c.pool.level, T->win,
                        T->wst) != MP_OK) {
        cli_errorf(cmd, "out of memory");
        return CLI_FAIL;
    }
    for (size_t w = 0; w < R->n_times; w++) {
        if (T->wst[w] != MP_ENOCONV) continue;
        char lab[64];
        mp_report_time_label(R->times[w], A->unit, lab, sizeof lab);
        mp_msgs_add(&T->warn, "separate analysis at time %s: REML did not converge", lab);
    }
    for (size_t i = nwarn0; i < T->warn.n; i++) cli_errorf(cmd, "warning: %s", T->warn.v[i]);
    return CLI_OK;
}

/* Step 3: table or JSON on stdout, and the plot. */
static int write_outputs(traj_run *T)
{
    const traj_args *A = &T->A;
    const char *file = mp_table_name(T->t);
    if (A->c.format == CLI_FMT_JSON)
        mp_report_traj_json(stdout, &T->R, T->win, T->wst, &T->warn);
    else
        mp_report_traj_table(stdout, file, A->time, A->unit, A->c.rep.digits, &T->R, T->win,
                             T->wst);
    if (A->c.plot) {
        char title[300];
        snprintf(title, sizeof title, "Trajectory: %s", file);
        if (A->c.rep.title) snprintf(title, sizeof title, "%s", A->c.rep.title);
        mp_status ps = mp_report_traj_plot(A->c.plot, &T->R, T->win, A->unit, title, A->c.rep.dpi);
        if (ps != MP_OK) {
            cli_errorf(T->cmd, "%s: cannot write the plot: %s", A->c.plot, cli_plot_error(ps));
            return CLI_FAIL;
        }
    }
    return CLI_OK;
}

int cmd_trajectory(int argc, char **argv)
{
    traj_run T;
    memset(&T, 0, sizeof T);
    T.cmd = "trajectory";
    traj_args *A = &T.A;
    int status = cli_parse(&traj_spec, argc, argv, &A->c);
    if (status != CLI_GO_ON) return status;
    if (A->c.format == CLI_FMT_CSV) {
        cli_errorf(T.cmd, "--format csv is not available for trajectory (table or json)");
        return CLI_USAGE;
    }
    A->o = A->c.traj;
    A->o.level = A->c.pool.level;
    A->time = A->c.time;
    A->unit = A->c.time_unit;
    A->study_given = A->c.study_given;
    status = collect_effects(&T);
    if (status == CLI_OK) status = fit_trajectory(&T);
    if (status == CLI_OK) status = write_outputs(&T);
    traj_run_free(&T);
    return cli_finish(T.cmd, status);
}
