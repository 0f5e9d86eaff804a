/* src/cli/cmd_pool.c - `metapool pool`: fixed/random-effects pooling, subgroups.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "cli.h"

#include <errno.h>
#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Groups of rows for --by: numeric values sort numerically, otherwise
 * groups keep the order of first appearance. */
typedef struct group_index {
    size_t n;        /* groups */
    const char **name;
    size_t *of_row;  /* group of each row: a used row, or a row left out whose
                        value names a group (SIZE_MAX: none) */
    size_t *row_off; /* n + 1 offsets into rows: group a is rows[row_off[a] .. row_off[a+1]) */
    size_t *rows;    /* the rows of each group, in file order */
} group_index;

static int cmp_num(const void *a, const void *b, const double *key)
{
    double x = key[*(const size_t *)a], y = key[*(const size_t *)b];
    return (x > y) - (x < y);
}
static const double *sort_key;
static int cmp_num_qsort(const void *a, const void *b) { return cmp_num(a, b, sort_key); }

/* Used rows make the groups (mp_table_group(): linear time, and more than
 * MP_TABLE_MAX_GROUPS is an input error naming the cell); a row left out
 * (shown as not estimable) joins the group its value names.  The rows of
 * each group are listed in file order, so packing is linear too.  MP_OK,
 * MP_EPARSE with err, or MP_ENOMEM. */
static mp_status build_groups(const mp_table *t, long col, const mp_effects *e,
                              const unsigned char *left_out, group_index *g, mp_error *err)
{
    size_t nr = mp_table_nrows(t);
    g->n = 0;
    g->name = NULL;
    g->row_off = NULL;
    g->rows = malloc((nr ? nr : 1) * sizeof *g->rows);
    g->of_row = malloc((nr ? nr : 1) * sizeof *g->of_row);
    size_t *first = malloc((nr ? nr : 1) * sizeof *first);
    if (!g->rows || !g->of_row || !first) { free(first); return MP_ENOMEM; }
    mp_status st = mp_table_group(t, (size_t)col, e->used, left_out, g->of_row, first, &g->n, err);
    if (st != MP_OK) { free(first); return st; }
    g->name = malloc((g->n ? g->n : 1) * sizeof *g->name);
    g->row_off = calloc(g->n + 1, sizeof *g->row_off);
    if (!g->name || !g->row_off) { free(first); return MP_ENOMEM; }
    for (size_t j = 0; j < g->n; j++) g->name[j] = mp_table_cell(t, first[j], (size_t)col);
    free(first);
    /* numeric order when every group value is a number */
    double *num = malloc((g->n ? g->n : 1) * sizeof *num);
    size_t *perm = malloc((g->n ? g->n : 1) * sizeof *perm);
    size_t *inv = malloc((g->n ? g->n : 1) * sizeof *inv);
    int numeric = num && perm && inv;
    for (size_t j = 0; numeric && j < g->n; j++)
        numeric = mp_parse_double(g->name[j], strlen(g->name[j]), &num[j]) == 1;
    if (numeric && g->n > 1) {
        for (size_t j = 0; j < g->n; j++) perm[j] = j;
        sort_key = num;
        qsort(perm, g->n, sizeof *perm, cmp_num_qsort);
        const char **nm = malloc(g->n * sizeof *nm);
        if (nm) {
            for (size_t j = 0; j < g->n; j++) { nm[j] = g->name[perm[j]]; inv[perm[j]] = j; }
            memcpy(g->name, nm, g->n * sizeof *nm);
            free(nm);
            for (size_t i = 0; i < nr; i++)
                if (g->of_row[i] != SIZE_MAX) g->of_row[i] = inv[g->of_row[i]];
        }
    }
    free(num);
    free(perm);
    free(inv);
    /* each group's rows in file order (a stable counting sort) */
    for (size_t i = 0; i < nr; i++)
        if (g->of_row[i] != SIZE_MAX) g->row_off[g->of_row[i] + 1]++;
    for (size_t a = 0; a < g->n; a++) g->row_off[a + 1] += g->row_off[a];
    size_t *fill = malloc((g->n ? g->n : 1) * sizeof *fill);
    if (!fill) return MP_ENOMEM;
    memcpy(fill, g->row_off, g->n * sizeof *fill);
    for (size_t i = 0; i < nr; i++)
        if (g->of_row[i] != SIZE_MAX) g->rows[fill[g->of_row[i]]++] = i;
    free(fill);
    return MP_OK;
}

static void fit_warnings(const mp_report_analysis *a, mp_msgs *w)
{
    const char *g = a->group;
    char pre[160] = "";
    if (g) snprintf(pre, sizeof pre, "group '%.100s': ", g);
    if (a->fit.warn & MP_WARN_K1)
        mp_msgs_add(w, "%sonly one study: the pooled result is that study; tau2 is 0 and Q, I2 are undefined", pre);
    if (a->fit.warn & MP_WARN_KNHA_K1)
        mp_msgs_add(w, "%sonly one study: the Knapp-Hartung test needs k > 1, the z test is used", pre);
    if (a->fit.warn & MP_WARN_FE_KNHA)
        mp_msgs_add(w, "%sthe Knapp-Hartung adjustment is not meant for the fixed-effect model", pre);
    if (a->fit.warn & MP_WARN_TAU2_CI_LB)
        mp_msgs_add(w, "%sthe lower bound of the tau2 confidence interval could not be found", pre);
    if (a->fit.warn & MP_WARN_TAU2_CI_UB)
        mp_msgs_add(w, "%sthe upper bound of the tau2 confidence interval could not be found", pre);
    if (a->fit.tau2_ci_lb_limit && a->fit.tau2_ci_ub_limit && a->fit.tau2_ci_ub == 0)
        mp_msgs_add(w, "%sthe tau2 confidence interval is empty (Q at tau2 = 0 is below the lower chi-square quantile): shown as <0", pre);
    else {
        if (a->fit.tau2_ci_lb_limit)
            mp_msgs_add(w, "%sthe lower bound of the tau2 confidence interval lies beyond the largest double: shown as >%g", pre, a->fit.tau2_ci_lb);
        if (a->fit.tau2_ci_ub_limit)
            mp_msgs_add(w, "%sthe upper bound of the tau2 confidence interval lies beyond the largest double: shown as >%g", pre, a->fit.tau2_ci_ub);
    }
}

/* Further members of the JSON object (mp_report_json's extra hook): the
 * permutation test and the reproduction check. */
typedef struct { const mp_perm_result *perm; const mp_compare_result *cmp; } json_extra_ctx;

static void json_extra(FILE *f, void *ctx)
{
    const json_extra_ctx *x = ctx;
    if (x->perm) {
        fputs(",\n  \"pval_perm\": ", f);
        mp_json_num(f, x->perm->pval[0]);
        fprintf(f, ", \"permutations\": %llu, \"exact\": %s, \"permutations_failed\": %llu",
                (unsigned long long)x->perm->permutations, x->perm->exact ? "true" : "false",
                (unsigned long long)x->perm->failed);
    }
    if (x->cmp) {
        fputs(",\n  \"compare\": ", f);
        mp_compare_json(f, x->cmp);
    }
}

/* Everything one run of `metapool pool` holds, so each step below is a
 * function of it and one function frees it. */
typedef struct pool_run {
    const char *cmd;            /* "pool" */
    cli_common c;               /* options */
    mp_compare_table *pub;      /* --compare rows, or NULL */
    mp_table *t;                /* the input table */
    mp_effects e;               /* its effect sizes */
    long bycol;                 /* --by column, or -1 */
    group_index g;              /* subgroups (with --by) */
    char *labbuf;               /* storage of generated study labels */
    const char **lab;           /* a label per table row */
    size_t na;                  /* analyses: 1, or the groups + the overall one */
    double *y, *v, *wt;         /* packed effects, variances, weights (2k each) */
    double *cells;              /* packed tables for --method MH/PETO (4 per study), or NULL */
    mp_mh_result *mh;           /* MH/Peto result of each analysis, or NULL */
    const char **plab;          /* packed labels */
    size_t *off;                /* analysis a is [off[a], off[a+1]) of the packed arrays */
    mp_report_analysis *an;     /* the analyses as the reporter sees them */
    mp_msgs warn;               /* fit warnings, then the loader's */
    mp_perm_result perm;        /* --permutations: the test */
    int have_perm;              /* perm holds a result */
    mp_report r;                /* the report */
    mp_arms arms;               /* arm-level data of the rows (events/total, mean (SD) n) */
    unsigned char *left_out;    /* rows the effects stage left out ("not estimable" rows) */
    double *parm;               /* packed arm-level rows (MP_ARM_NV per study), or NULL */
    unsigned char *pcor;        /* packed "1/2 added" flags */
    const char **ne_lab;        /* not-estimable rows of every analysis: labels, */
    size_t *ne_before;          /* positions among the studies, */
    double *ne_arm;             /* arm-level data */
} pool_run;

static void pool_run_free(pool_run *P)
{
    mp_perm_result_free(&P->perm);
    mp_arms_free(&P->arms);
    mp_msgs_free(&P->warn);
    void *owned[] = {P->left_out, P->parm, P->pcor, (void *)P->ne_lab, P->ne_before, P->ne_arm,
                     P->off, P->an, P->y, P->v, P->wt, P->cells, (void *)P->mh, (void *)P->plab,
                     (void *)P->lab, P->labbuf, (void *)P->g.name, P->g.of_row, P->g.row_off,
                     P->g.rows};
    for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++) free(owned[i]);
    mp_effects_free(&P->e);
    mp_table_free(P->t);
    mp_compare_free(P->pub);
}

/* Step 1: the published numbers (--compare), the table and its effect
 * sizes, the --by column; rows with a missing group value are left out and
 * reported by row.  CLI_OK or the exit status (message printed). */
static int load_inputs(pool_run *P)
{
    const char *cmd = P->cmd;
    cli_common *c = &P->c;
    if (c->plot && cli_check_writable(cmd, c->plot) != 0) return CLI_USAGE;
    if (c->compare) {
        mp_error err;
        mp_error_clear(&err);
        mp_status ls = mp_compare_load(c->compare, &P->pub, &err);
        if (ls != MP_OK) { cli_input_error(cmd, &err); return ls == MP_ENOMEM ? CLI_FAIL : CLI_USAGE; }
    }
    int rc = cli_load(cmd, c->file, c, &P->t, &P->e);
    if (rc != CLI_OK) return rc;
    mp_table *t = P->t;
    size_t nr = mp_table_nrows(t);
    /* the rows the effects stage left out are shown as "not estimable" */
    P->left_out = malloc(nr ? nr : 1);
    if (!P->left_out) { cli_errorf(cmd, "out of memory"); return CLI_FAIL; }
    for (size_t i = 0; i < nr; i++) P->left_out[i] = !P->e.used[i];
    /* arm-level columns for the forest plot: a cell that is not a number in
     * a column the analysis does not use only costs the columns (warned) */
    mp_error aerr;
    mp_error_clear(&aerr);
    mp_status as = mp_effects_arms(t, &P->e, &P->arms, &aerr);
    if (as == MP_ENOMEM) { cli_errorf(cmd, "out of memory"); return CLI_FAIL; }
    if (as != MP_OK) {
        char b[800];
        mp_error_format(&aerr, b, sizeof b);
        cli_errorf(cmd, "warning: arm-level columns not shown: %s", b);
        mp_msgs_add(&P->e.warnings, "arm-level columns not shown: %s", b);
    }
    if (c->rep.by && (P->bycol = mp_table_col(t, c->rep.by)) < 0) {
        cli_errorf(cmd, "%s: no column '%s' for --by", mp_table_name(t), c->rep.by);
        return CLI_USAGE;
    }
    if (P->bycol >= 0) { /* a missing group value leaves the row out, reported by row */
        for (size_t i = 0; i < mp_table_nrows(t); i++) {
            if (!P->e.used[i] || !mp_table_is_missing(t, i, (size_t)P->bycol)) continue;
            P->e.used[i] = 0;
            P->e.k--;
            cli_errorf(cmd, "warning: row %zu (line %zu) left out: missing value in the --by column '%s'",
                       i + 1, mp_table_line(t, i), c->rep.by);
            mp_msgs_add(&P->e.warnings, "row %zu (line %zu) left out: missing value in the --by column '%s'",
                        i + 1, mp_table_line(t, i), c->rep.by);
        }
    }
    if (cli_check_mh(cmd, c, &P->e) != 0) return CLI_USAGE;
    if (P->e.k == 0) {
        cli_errorf(cmd, "%s: no studies left to pool", mp_table_name(t));
        return CLI_FAIL;
    }
    return CLI_OK;
}

/* Step 2: the analyses, packed contiguously group by group (the overall
 * analysis takes its own copy, in input order), so the vectorised core fits
 * them all in one call.  CLI_OK, CLI_USAGE (more groups than the limit,
 * message printed) or CLI_FAIL (out of memory). */
static int pack_analyses(pool_run *P)
{
    size_t nr = mp_table_nrows(P->t), k = P->e.k, ng = 1;
    P->lab = cli_labels(P->t, P->c.study, &P->labbuf);
    if (P->bycol >= 0) {
        mp_error err;
        mp_error_clear(&err);
        mp_status gs = build_groups(P->t, P->bycol, &P->e, P->left_out, &P->g, &err);
        if (gs == MP_ENOMEM) goto nomem;
        if (gs != MP_OK) { cli_input_error(P->cmd, &err); return CLI_USAGE; }
        ng = P->g.n;
    }
    P->na = P->bycol >= 0 ? ng + 1 : 1;
    P->y = malloc(2 * k * sizeof *P->y);
    P->v = malloc(2 * k * sizeof *P->v);
    P->wt = malloc(2 * k * sizeof *P->wt);
    P->plab = malloc(2 * k * sizeof *P->plab);
    P->an = calloc(P->na, sizeof *P->an);
    P->off = malloc((P->na + 1) * sizeof *P->off);
    if (!P->lab || !P->y || !P->v || !P->wt || !P->plab || !P->an || !P->off) goto nomem;
    if (P->c.mh && (!(P->cells = malloc(8 * k * sizeof *P->cells)) ||
                    !(P->mh = calloc(P->na, sizeof *P->mh))))
        goto nomem;
    int arms = P->arms.kind != MP_ARMS_NONE;
    P->pcor = calloc(2 * k, 1);
    P->ne_lab = malloc((nr ? nr : 1) * sizeof *P->ne_lab);
    P->ne_before = malloc((nr ? nr : 1) * sizeof *P->ne_before);
    if (!P->pcor || !P->ne_lab || !P->ne_before) goto nomem;
    if (arms) {
        P->parm = malloc(2 * k * MP_ARM_NV * sizeof *P->parm);
        P->ne_arm = malloc((nr ? nr : 1) * MP_ARM_NV * sizeof *P->ne_arm);
        if (!P->parm || !P->ne_arm) goto nomem;
    }
    size_t pos = 0, nne = 0;
    for (size_t a = 0; a < P->na; a++) {
        mp_report_analysis *A = &P->an[a];
        int grouped = P->bycol >= 0 && a < ng; /* a subgroup, not the overall analysis */
        int shown = grouped || P->bycol < 0;   /* its studies are drawn */
        A->group = grouped ? P->g.name[a] : NULL;
        A->yi = P->y + pos;
        A->vi = P->v + pos;
        A->weight = P->wt + pos;
        A->label = P->plab + pos;
        A->corrected = P->pcor + pos;
        A->arm = arms ? P->parm + MP_ARM_NV * pos : NULL;
        A->ne_label = P->ne_lab + nne;
        A->ne_before = P->ne_before + nne;
        A->ne_arm = arms ? P->ne_arm + MP_ARM_NV * nne : NULL;
        P->off[a] = pos;
        /* a subgroup's rows (used, or left out with its value), else all rows */
        size_t r0 = grouped ? P->g.row_off[a] : 0, r1 = grouped ? P->g.row_off[a + 1] : nr;
        for (size_t r = r0; r < r1; r++) {
            size_t i = grouped ? P->g.rows[r] : r;
            if (!P->e.used[i]) {
                /* not estimable: shown where its study would be, in its group */
                if (!shown || !P->left_out[i]) continue;
                P->ne_lab[nne] = P->lab[i];
                P->ne_before[nne] = pos - P->off[a];
                if (arms) memcpy(P->ne_arm + MP_ARM_NV * nne, P->arms.v + MP_ARM_NV * i,
                                 MP_ARM_NV * sizeof *P->ne_arm);
                nne++;
                A->n_ne++;
                continue;
            }
            P->y[pos] = P->e.yi[i];
            P->v[pos] = P->e.vi[i];
            if (P->cells) memcpy(P->cells + 4 * pos, P->e.cells + 4 * i, 4 * sizeof *P->cells);
            P->plab[pos] = P->lab[i];
            P->pcor[pos] = P->e.corrected ? P->e.corrected[i] : 0;
            if (arms) memcpy(P->parm + MP_ARM_NV * pos, P->arms.v + MP_ARM_NV * i,
                             MP_ARM_NV * sizeof *P->parm);
            pos++;
        }
        A->k = pos - P->off[a];
    }
    P->off[P->na] = pos;
    return CLI_OK;
nomem:
    cli_errorf(P->cmd, "out of memory");
    return CLI_FAIL;
}

/* Step 3: every analysis fitted in one call of the vectorised core, once
 * with the requested model and once with the fixed-effect model (the FE row
 * of the table); weights and fit warnings.  CLI_OK or the exit status. */
static int fit_analyses(pool_run *P)
{
    const char *cmd = P->cmd, *file = mp_table_name(P->t);
    size_t na = P->na;
    mp_pool_workspace *w = mp_pool_workspace_alloc(P->e.k);
    mp_pool_result *fits = malloc(na * sizeof *fits), *fefits = malloc(na * sizeof *fefits);
    mp_status *st = malloc(na * sizeof *st);
    int status = CLI_OK;
    if (!w || !fits || !fefits || !st) {
        cli_errorf(cmd, "out of memory");
        status = CLI_FAIL;
        goto out;
    }
    mp_pool_opts feo = P->c.pool;
    feo.method = MP_METHOD_FE;
    feo.test = MP_TEST_Z; /* the fixed-effect row is the plain inverse-variance fit */
    feo.tau2_ci = 0;
    mp_pool_many(P->y, P->v, P->off, na, &P->c.pool, w, fits, st);
    mp_pool_many(P->y, P->v, P->off, na, &feo, w, fefits, NULL);
    for (size_t a = 0; a < na && status == CLI_OK; a++) {
        mp_report_analysis *A = &P->an[a];
        const char *gp = A->group ? ", group " : "", *gn = A->group ? A->group : "";
        A->fit = fits[a];
        A->fe = fefits[a];
        A->status = st[a];
        if (st[a] == MP_ENOCONV) {
            cli_errorf(cmd, "%s%s%s: the %s estimator of tau2 did not converge in %zu iterations",
                       file, gp, gn, mp_method_name(P->c.pool.method), A->fit.niter);
            status = CLI_FAIL;
        } else if (st[a] == MP_EDOM) { /* the loader checks finiteness; this is the range */
            cli_errorf(cmd, "%s%s%s: effect sizes or variances outside the supported range "
                       "(|yi| <= %g, %g <= vi <= %g)", file, gp, gn, MP_POOL_YMAX, MP_POOL_VMIN,
                       MP_POOL_VMAX);
            status = CLI_USAGE;
        } else if (st[a] != MP_OK) {
            cli_errorf(cmd, "%s%s%s: %s", file, gp, gn, mp_strerror(st[a]));
            status = CLI_FAIL;
        } else if (P->c.mh) { /* Mantel-Haenszel or Peto from the tables (mh.h) */
            const double *cl = P->cells + 4 * P->off[a];
            mp_status ms = P->c.mh == MP_MH_PETO ? mp_peto(cl, A->k, P->c.pool.level, &P->mh[a])
                                                 : mp_mh(P->e.measure, cl, A->k, P->c.pool.level,
                                                         &P->mh[a]);
            if (ms != MP_OK) {
                cli_errorf(cmd, "%s%s%s: the %s estimate is not estimable (%s)", file, gp, gn,
                           P->c.mh == MP_MH_MH ? "Mantel-Haenszel" : "Peto",
                           P->c.mh == MP_MH_PETO ? "no table with both events and non-events"
                                                 : "no events in one of the groups");
                status = CLI_FAIL;
                continue;
            }
            mp_mh_to_pool(&P->mh[a], &A->fit);
            A->fe = A->fit;
            A->mh = &P->mh[a];
            mp_mh_weights(P->e.measure, P->c.mh == MP_MH_PETO, cl, A->k, A->weight);
        } else {
            mp_pool_weights(A->vi, A->k, A->fit.tau2, A->weight);
            fit_warnings(A, &P->warn);
        }
    }
out:
    mp_pool_workspace_free(w);
    free(fits);
    free(fefits);
    free(st);
    return status;
}

/* Step 3b (--tau2 common): the subgroup fits replaced by those of the
 * meta-regression on the subgroup factor with one tau2 (mp_reg_subgroups),
 * weights under that tau2, and its QM as the test for subgroup differences.
 * CLI_OK, or CLI_FAIL after a warning (the separate fits are kept). */
static int common_tau2(pool_run *P)
{
    size_t ng = P->g.n, k = 0, nr = mp_table_nrows(P->t);
    mp_report_analysis *all = &P->an[ng];
    size_t *grp = malloc((all->k ? all->k : 1) * sizeof *grp);
    mp_pool_result *res = malloc(ng * sizeof *res);
    mp_status s = MP_ENOMEM;
    if (grp && res) {
        for (size_t i = 0; i < nr; i++) /* the overall analysis holds the used rows in order */
            if (P->e.used[i]) grp[k++] = P->g.of_row[i];
        for (size_t a = 0; a < ng; a++) res[a] = P->an[a].fit;
        s = mp_reg_subgroups(all->yi, all->vi, grp, k, ng, &P->c.pool, res, &P->r.sub_Q,
                             &P->r.sub_df, &P->r.sub_p);
    }
    if (s == MP_OK) {
        for (size_t a = 0; a < ng; a++) {
            mp_report_analysis *A = &P->an[a];
            A->fit = res[a];
            mp_pool_weights(A->vi, A->k, A->fit.tau2, A->weight);
        }
    } else {
        mp_msgs_add(&P->warn, "the common-tau2 subgroup model could not be fitted (%s): "
                    "subgroups are shown with separate tau2 and no test", mp_strerror(s));
    }
    free(grp);
    free(res);
    return s == MP_OK ? CLI_OK : CLI_FAIL;
}

/* Step 4: the report, with the test for subgroup differences (a Wald-type
 * test of the subgroup estimates, metafor's QM of the subgroup model). */
static void make_report(pool_run *P)
{
    size_t ng = P->bycol >= 0 ? P->g.n : 1;
    mp_report *r = &P->r;
    *r = (mp_report){.file = mp_table_name(P->t), .measure = P->e.measure, .vtype = P->e.vtype,
                     .source = P->e.source, .opt = &P->c.rep, .a = P->an, .n = ng,
                     .overall = P->bycol >= 0 ? &P->an[ng] : NULL, .warnings = &P->warn,
                     .pooling = P->c.mh,
                     .transf_hm = cli_hmean(P->e.size, P->e.used, P->e.n),
                     .arms = P->arms.kind};
    r->tau2_common = P->c.tau2_common && P->bycol >= 0;
    if (r->tau2_common && ng >= 2) {
        r->has_subgroup_test = common_tau2(P) == CLI_OK;
    } else if (P->bycol >= 0 && ng >= 2) {
        double *est = malloc(ng * sizeof *est), *se = malloc(ng * sizeof *se);
        if (est && se) {
            for (size_t a = 0; a < ng; a++) { est[a] = P->an[a].fit.estimate; se[a] = P->an[a].fit.se; }
            r->has_subgroup_test =
                mp_pool_subgroup_test(est, se, ng, &r->sub_Q, &r->sub_df, &r->sub_p) == MP_OK;
        }
        free(est);
        free(se);
    }
    /* fit warnings go to stderr (row warnings were printed on loading);
     * the JSON lists both */
    cli_warnings(P->cmd, &P->warn);
    for (size_t i = 0; i < P->e.warnings.n; i++) mp_msgs_add(&P->warn, "%s", P->e.warnings.v[i]);
}

/* Step 5: the table, CSV or JSON on stdout, the reproduction check, the
 * methods paragraph and the plot.  Returns the exit status. */
static int write_outputs(pool_run *P)
{
    const cli_common *c = &P->c;
    const mp_report *r = &P->r;
    mp_compare_result *cmp = NULL;
    int status = CLI_OK;
    if (P->pub) {
        mp_error err;
        mp_error_clear(&err);
        mp_status es = mp_compare_eval(P->pub, r, &cmp, &err);
        if (es != MP_OK) {
            cli_input_error(P->cmd, &err);
            return es == MP_ENOMEM ? CLI_FAIL : CLI_USAGE;
        }
    }
    if (c->format == CLI_FMT_JSON) {
        json_extra_ctx x = {P->have_perm ? &P->perm : NULL, cmp};
        mp_report_json(stdout, r, x.perm || x.cmp ? json_extra : NULL, &x);
    } else if (c->format == CLI_FMT_CSV) {
        mp_report_csv(stdout, r);
        if (cmp) mp_compare_print(stderr, cmp, r); /* keep stdout one tidy table */
    } else {
        mp_report_table(stdout, r);
        if (P->have_perm)
            fprintf(stdout, "\nPermutation test (%s, %llu sign flips%s): p = %.4g\n",
                    P->perm.exact ? "exact" : "random", (unsigned long long)P->perm.permutations,
                    P->perm.exact ? ", all" : "", P->perm.pval[0]);
        if (cmp) mp_compare_print(stdout, cmp, r);
    }
    if (c->methods) mp_report_methods(c->format == CLI_FMT_TABLE ? stdout : stderr, r);
    mp_status ps = c->plot ? mp_report_svg(c->plot, r) : MP_OK;
    if (ps != MP_OK) {
        cli_errorf(P->cmd, "%s: cannot write the plot: %s", c->plot, cli_plot_error(ps));
        status = CLI_FAIL;
    }
    if (cmp && !mp_compare_reproduced(cmp) && status == CLI_OK) status = CLI_NOTREPRODUCED;
    mp_compare_result_free(cmp);
    return status;
}

/* Step 3c (--permutations): metafor's permutest() of the one analysis. */
static int permute(pool_run *P)
{
    if (P->bycol >= 0) {
        cli_errorf(P->cmd, "--permutations is not available with --by");
        return CLI_USAGE;
    }
    mp_perm_opts o;
    mp_perm_opts_init(&o);
    o.exact = P->c.permutations < 0;
    o.iter = P->c.permutations > 0 ? (uint64_t)P->c.permutations : 1000;
    o.seed = P->c.seed;
    o.threads = (size_t)P->c.threads;
    const mp_report_analysis *A = &P->an[0];
    mp_status s = mp_permute_pool(A->yi, A->vi, A->k, &P->c.pool, &o, &P->perm);
    if (s == MP_EDOM) {
        cli_errorf(P->cmd, "--permutations exact: 2^%zu sign flips are too many (k <= %d); "
                   "give a number of random permutations", A->k, MP_PERM_POOL_EXACT_KMAX);
        return CLI_USAGE;
    }
    if (s != MP_OK) {
        cli_errorf(P->cmd, "%s: the permutation test failed: %s", mp_table_name(P->t), mp_strerror(s));
        return CLI_FAIL;
    }
    P->have_perm = 1;
    if (P->perm.failed)
        mp_msgs_add(&P->warn, "%llu permuted fits did not converge and are left out of the "
                    "permutation test", (unsigned long long)P->perm.failed);
    return CLI_OK;
}

int cmd_pool(int argc, char **argv)
{
    pool_run P;
    memset(&P, 0, sizeof P);
    P.cmd = "pool";
    P.bycol = -1;
    int status = cli_parse(&pool_spec, argc, argv, &P.c);
    if (status != CLI_GO_ON) return status;
    if (P.c.random) return cli_reg_multilevel_pool(&P.c);
    status = load_inputs(&P);
    if (status == CLI_OK) status = pack_analyses(&P);
    if (status == CLI_OK) status = fit_analyses(&P);
    if (status == CLI_OK && P.c.permutations) status = permute(&P);
    if (status == CLI_OK) {
        make_report(&P);
        status = write_outputs(&P);
    }
    pool_run_free(&P);
    return cli_finish(P.cmd, status);
}
