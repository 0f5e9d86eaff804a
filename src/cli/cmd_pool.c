/* src/cli/cmd_pool.c - `metapool pool`: fixed/random-effects pooling, subgroups.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "cli.h"

#include <errno.h>
#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const cli_optuse pool_opts[] = {
    {OPT_MEASURE, NULL, NULL}, {OPT_VTYPE, NULL, NULL},   {OPT_DROP00, NULL, NULL},
    {OPT_METHOD, NULL, NULL},  {OPT_TEST, NULL, NULL},    {OPT_LEVEL, NULL, NULL},
    {OPT_BY, NULL, NULL},      {OPT_STUDY, NULL, NULL},   {OPT_FORMAT, NULL, NULL},
    {OPT_PLOT, NULL, NULL},    {OPT_COMPARE, NULL, NULL}, {OPT_WIDTH, NULL, NULL},
    {OPT_DIGITS, NULL, NULL},  {OPT_TRANSF, NULL, NULL},  {OPT_ASCII, NULL, NULL},
    {OPT_METHODS, NULL, NULL}, {OPT_MAXITER, NULL, NULL}, {OPT_TOL, NULL, NULL},
    {0, NULL, NULL}};

static const cli_spec pool_spec = {
    "pool",
    "Fixed- and random-effects meta-analysis with heterogeneity statistics\n"
    "         (metafor's rma()), printed as a forest-plot table.",
    "metapool pool [OPTIONS] FILE     (FILE '-' reads standard input)",
    pool_opts, NULL};

/* Groups of rows for --by: numeric values sort numerically, otherwise
 * groups keep the order of first appearance. */
typedef struct group_index {
    size_t n;        /* groups */
    const char **name;
    size_t *of_row;  /* group of each used row */
} group_index;

static int cmp_num(const void *a, const void *b, const double *key)
{
    double x = key[*(const size_t *)a], y = key[*(const size_t *)b];
    return (x > y) - (x < y);
}
static const double *sort_key;
static int cmp_num_qsort(const void *a, const void *b) { return cmp_num(a, b, sort_key); }

static int build_groups(const mp_table *t, long col, const mp_effects *e, group_index *g)
{
    size_t nr = mp_table_nrows(t);
    g->n = 0;
    g->name = malloc((nr ? nr : 1) * sizeof *g->name);
    g->of_row = malloc((nr ? nr : 1) * sizeof *g->of_row);
    size_t *first = malloc((nr ? nr : 1) * sizeof *first);
    if (!g->name || !g->of_row || !first) { free(first); return -1; }
    for (size_t i = 0; i < nr; i++) {
        if (!e->used[i]) continue;
        const char *v = mp_table_cell(t, i, (size_t)col);
        size_t j = 0;
        for (; j < g->n; j++) /* few groups in practice; linear scan is fine */
            if (strcmp(g->name[j], v) == 0) break;
        if (j == g->n) { g->name[j] = v; first[j] = i; g->n++; }
        g->of_row[i] = j;
    }
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
                if (e->used[i]) g->of_row[i] = inv[g->of_row[i]];
        }
    }
    free(num);
    free(perm);
    free(inv);
    free(first);
    return 0;
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
}

/* The "compare" member of the JSON object (mp_report_json's extra hook). */
static void json_compare(FILE *f, void *ctx)
{
    fputs(",\n  \"compare\": ", f);
    mp_compare_json(f, ctx);
}

int cmd_pool(int argc, char **argv)
{
    const char *cmd = "pool";
    cli_common c;
    cli_common_init(&c);
    int go = cli_parse(&pool_spec, argc, argv, &c);
    if (go != CLI_GO_ON) return go;

    if (c.plot && cli_check_writable(cmd, c.plot) != 0) return CLI_USAGE;
    mp_compare_table *pub = NULL;
    if (c.compare) {
        mp_error err;
        mp_error_clear(&err);
        mp_status ls = mp_compare_load(c.compare, &pub, &err);
        if (ls != MP_OK) { cli_input_error(cmd, &err); return ls == MP_ENOMEM ? CLI_FAIL : CLI_USAGE; }
    }
    mp_table *t = NULL;
    mp_effects e;
    int rc = cli_load(cmd, c.file, &c, &t, &e);
    if (rc != CLI_OK) { mp_compare_free(pub); return rc; }
    long bycol = -1;
    if (c.rep.by && (bycol = mp_table_col(t, c.rep.by)) < 0) {
        cli_errorf(cmd, "%s: no column '%s' for --by", mp_table_name(t), c.rep.by);
        mp_effects_free(&e);
        mp_table_free(t);
        mp_compare_free(pub);
        return CLI_USAGE;
    }
    if (bycol >= 0) { /* a missing group value leaves the row out, reported by row */
        for (size_t i = 0; i < mp_table_nrows(t); i++) {
            if (!e.used[i] || !mp_table_is_missing(t, i, (size_t)bycol)) continue;
            e.used[i] = 0;
            e.k--;
            cli_errorf(cmd, "warning: row %zu (line %zu) left out: missing value in the --by column '%s'",
                       i + 1, mp_table_line(t, i), c.rep.by);
            mp_msgs_add(&e.warnings, "row %zu (line %zu) left out: missing value in the --by column '%s'",
                        i + 1, mp_table_line(t, i), c.rep.by);
        }
    }
    if (e.k == 0) {
        cli_errorf(cmd, "%s: no studies left to pool", mp_table_name(t));
        mp_effects_free(&e);
        mp_table_free(t);
        mp_compare_free(pub);
        return CLI_FAIL;
    }

    char *labbuf = NULL;
    const char **lab = cli_labels(t, c.study, &labbuf);
    group_index g = {0};
    size_t ng = 1, nr = mp_table_nrows(t), k = e.k;
    if (bycol >= 0) {
        if (build_groups(t, bycol, &e, &g) != 0) {
            cli_errorf(cmd, "out of memory");
            free(lab);
            free(labbuf);
            free(g.name);
            free(g.of_row);
            mp_effects_free(&e);
            mp_table_free(t);
            mp_compare_free(pub);
            return CLI_FAIL;
        }
        ng = g.n;
    }
    /* pack used rows contiguously, group by group (the overall analysis
     * takes its own copy in input order) */
    size_t na = bycol >= 0 ? ng + 1 : 1;
    double *y = malloc(2 * k * sizeof *y), *v = malloc(2 * k * sizeof *v);
    double *wt = malloc(2 * k * sizeof *wt);
    const char **plab = malloc(2 * k * sizeof *plab);
    mp_report_analysis *an = calloc(na, sizeof *an);
    mp_pool_workspace *w = mp_pool_workspace_alloc(k);
    size_t *off = malloc((na + 1) * sizeof *off);
    mp_pool_result *fits = malloc(na * sizeof *fits), *fefits = malloc(na * sizeof *fefits);
    mp_status *st = malloc(na * sizeof *st);
    mp_msgs warn = {0};
    int status = CLI_OK;
    if (!lab || !y || !v || !wt || !plab || !an || !w || !off || !fits || !fefits || !st) {
        cli_errorf(cmd, "out of memory");
        status = CLI_FAIL;
        goto out;
    }
    /* Pack every analysis contiguously (the overall one takes its own copy,
     * in input order) and fit them all in one call of the vectorised core,
     * once with the requested model and once with the fixed-effect model. */
    size_t pos = 0;
    for (size_t a = 0; a < na; a++) {
        mp_report_analysis *A = &an[a];
        int is_overall = bycol >= 0 && a == ng;
        A->group = bycol >= 0 && !is_overall ? g.name[a] : NULL;
        A->yi = y + pos;
        A->vi = v + pos;
        A->weight = wt + pos;
        A->label = plab + pos;
        off[a] = pos;
        for (size_t i = 0; i < nr; i++) {
            if (!e.used[i] || (bycol >= 0 && !is_overall && g.of_row[i] != a)) continue;
            y[pos] = e.yi[i];
            v[pos] = e.vi[i];
            plab[pos] = lab[i];
            pos++;
        }
        A->k = pos - off[a];
    }
    off[na] = pos;
    mp_pool_opts feo = c.pool;
    feo.method = MP_METHOD_FE;
    feo.test = MP_TEST_Z; /* the fixed-effect row is the plain inverse-variance fit */
    feo.tau2_ci = 0;
    mp_pool_many(y, v, off, na, &c.pool, w, fits, st);
    mp_pool_many(y, v, off, na, &feo, w, fefits, NULL);
    for (size_t a = 0; a < na; a++) {
        mp_report_analysis *A = &an[a];
        A->fit = fits[a];
        A->fe = fefits[a];
        A->status = st[a];
        if (st[a] == MP_ENOCONV) {
            cli_errorf(cmd, "%s%s%s: the %s estimator of tau2 did not converge in %zu iterations",
                       mp_table_name(t), A->group ? ", group " : "", A->group ? A->group : "",
                       mp_method_name(c.pool.method), A->fit.niter);
            status = CLI_FAIL;
            goto out;
        } else if (st[a] == MP_EDOM) { /* the loader checks finiteness; this is the range */
            cli_errorf(cmd, "%s%s%s: effect sizes or variances outside the supported range "
                       "(|yi| <= %g, %g <= vi <= %g)", mp_table_name(t), A->group ? ", group " : "",
                       A->group ? A->group : "", MP_POOL_YMAX, MP_POOL_VMIN, MP_POOL_VMAX);
            status = CLI_USAGE;
            goto out;
        } else if (st[a] != MP_OK) {
            cli_errorf(cmd, "%s%s%s: %s", mp_table_name(t), A->group ? ", group " : "",
                       A->group ? A->group : "", mp_strerror(st[a]));
            status = CLI_FAIL;
            goto out;
        }
        mp_pool_weights(A->vi, A->k, A->fit.tau2, A->weight);
        fit_warnings(A, &warn);
    }
    mp_report r = {.file = mp_table_name(t), .measure = e.measure, .vtype = e.vtype,
                    .source = e.source, .opt = &c.rep, .a = an, .n = bycol >= 0 ? ng : 1,
                    .overall = bycol >= 0 ? &an[ng] : NULL, .warnings = &warn};
    if (bycol >= 0 && ng >= 2) {
        double *est = malloc(ng * sizeof *est), *se = malloc(ng * sizeof *se);
        if (est && se) {
            for (size_t a = 0; a < ng; a++) { est[a] = an[a].fit.estimate; se[a] = an[a].fit.se; }
            r.has_subgroup_test =
                mp_pool_subgroup_test(est, se, ng, &r.sub_Q, &r.sub_df, &r.sub_p) == MP_OK;
        }
        free(est);
        free(se);
    }
    /* fit warnings go to stderr (row warnings were printed on loading);
     * the JSON lists both */
    cli_warnings(cmd, &warn);
    for (size_t i = 0; i < e.warnings.n; i++) mp_msgs_add(&warn, "%s", e.warnings.v[i]);

    mp_compare_result *cmp = NULL;
    if (pub) {
        mp_error err;
        mp_error_clear(&err);
        mp_status es = mp_compare_eval(pub, &r, &cmp, &err);
        if (es != MP_OK) {
            cli_input_error(cmd, &err);
            status = es == MP_ENOMEM ? CLI_FAIL : CLI_USAGE;
            goto out;
        }
    }
    if (c.format == CLI_FMT_JSON) mp_report_json(stdout, &r, cmp ? json_compare : NULL, cmp);
    else if (c.format == CLI_FMT_CSV) {
        mp_report_csv(stdout, &r);
        if (cmp) mp_compare_print(stderr, cmp, &r); /* keep stdout one tidy table */
    }
    else {
        mp_report_table(stdout, &r);
        if (cmp) mp_compare_print(stdout, cmp, &r);
    }
    if (c.methods) mp_report_methods(c.format == CLI_FMT_TABLE ? stdout : stderr, &r);
    if (c.plot && mp_report_svg(c.plot, &r) != MP_OK) {
        cli_errorf(cmd, "%s: cannot write the plot: %s", c.plot, strerror(errno));
        status = CLI_FAIL;
    }
    if (cmp && !mp_compare_reproduced(cmp) && status == CLI_OK) status = CLI_NOTREPRODUCED;
    mp_compare_result_free(cmp);
out:
    mp_msgs_free(&warn);
    mp_pool_workspace_free(w);
    free(off);
    free(fits);
    free(fefits);
    free(st);
    free(an);
    free(y);
    free(v);
    free(wt);
    free(plab);
    free(lab);
    free(labbuf);
    free(g.name);
    free(g.of_row);
    mp_effects_free(&e);
    mp_table_free(t);
    mp_compare_free(pub);
    if (fflush(stdout) != 0 && status == CLI_OK) { cli_errorf(cmd, "write error"); status = CLI_FAIL; }
    return status;
}
