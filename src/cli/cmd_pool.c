/* src/cli/cmd_pool.c - `metapool pool`: fixed/random-effects pooling, subgroups.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "cli.h"
#include "compare.h"

#include <errno.h>
#include <getopt.h>
#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { OPT_MAXITER = OPT_FIRST_PRIVATE, OPT_TOL };

static const char usage_text[] =
    "About:   Fixed- and random-effects meta-analysis with heterogeneity statistics\n"
    "         (metafor's rma()), printed as a forest-plot table.\n"
    "Usage:   metapool pool [OPTIONS] FILE     (FILE '-' reads standard input)\n"
    "Options:\n"
    "  --measure M     SMD, MD, ROM, OR, RR, RD or GEN [from the columns]\n"
    "  --vtype V       variance of Hedges' g: LS (metafor), UB, RevMan, CMA [LS]\n"
    "  --drop00 Y      OR/RR tables without events in both arms: yes = leave out,\n"
    "                  no = keep with 1/2 added (metafor's rma()) [yes]\n"
    "  --method M      FE, DL, HE, HS, HSk, SJ, ML, REML, EB or PM [REML]\n"
    "  --test T        z or knha (Hartung-Knapp-Sidik-Jonkman) [z]\n"
    "  --level L       confidence level in percent [95]\n"
    "  --by COL        one analysis per value of COL, plus a test for subgroup differences\n"
    "  --study COL     column with study labels [study]\n"
    "  --format F      table, json or csv [table]\n"
    "  --plot FILE     also draw the forest plot as SVG to FILE\n"
    "  --compare FILE  set the result beside published numbers (exit 3 if not reproduced)\n"
    "  --width N       table width in columns [80, or the terminal's]\n"
    "  --digits N      decimals shown in the table [2]\n"
    "  --transf T      auto (exp for OR, RR, ROM) or none [auto]\n"
    "  --ascii         plain ASCII table (UTF-8 otherwise)\n"
    "  --methods       print a methods paragraph for a paper\n"
    "  --maxiter N     iteration limit of iterative estimators [1000]\n"
    "  --tol E         relative convergence tolerance [1e-12]\n"
    "  -h, --help      this help\n";

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

static void json_fit(FILE *f, const cli_report *r, const cli_analysis *a, int indent)
{
    const mp_pool_result *p = &a->fit;
    const char *pad = indent ? "    " : "  ";
    fprintf(f, "%s\"measure\": ", pad);
    json_str(f, mp_measure_name(r->measure));
    fprintf(f, ", \"method\": ");
    json_str(f, mp_method_name(p->method));
    fprintf(f, ", \"test\": ");
    json_str(f, mp_test_name(p->test));
    fprintf(f, ", \"level\": ");
    json_num(f, p->level);
    fprintf(f, ", \"k\": %zu,\n%s", a->k, pad);
    const struct { const char *key; double v; } kv[] = {
        {"estimate", p->estimate}, {"se", p->se}, {"stat", p->stat}, {"df", p->df},
        {"pval", p->pval}, {"ci_lb", p->ci_lb}, {"ci_ub", p->ci_ub}, {"pi_lb", p->pi_lb},
        {"pi_ub", p->pi_ub}, {"tau2", p->tau2}, {"tau2_se", p->tau2_se},
        {"tau2_ci_lb", p->tau2_ci_lb}, {"tau2_ci_ub", p->tau2_ci_ub}, {"tau", p->tau},
        {"I2", p->I2}, {"I2_ci_lb", p->I2_ci_lb}, {"I2_ci_ub", p->I2_ci_ub}, {"H2", p->H2},
        {"H2_ci_lb", p->H2_ci_lb}, {"H2_ci_ub", p->H2_ci_ub}, {"Q", p->Q}, {"Q_df", p->Q_df},
        {"Q_pval", p->Q_pval}};
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++) {
        fprintf(f, "\"%s\": ", kv[i].key);
        json_num(f, kv[i].v);
        fputs(i + 1 < sizeof kv / sizeof kv[0] ? ", " : ",\n", f);
        if (i == 8 || i == 13 || i == 19) fprintf(f, "\n%s", pad);
    }
    fprintf(f, "%s\"niter\": %zu, \"converged\": %s,\n", pad, p->niter,
            p->converged ? "true" : "false");
    fprintf(f, "%s\"studies\": [", pad);
    double z = gsl_cdf_ugaussian_Qinv((1.0 - p->level / 100.0) / 2.0);
    for (size_t i = 0; i < a->k; i++) {
        double se = sqrt(a->vi[i]);
        fprintf(f, "%s\n%s  {\"study\": ", i ? "," : "", pad);
        json_str(f, a->label[i]);
        fputs(", \"yi\": ", f);
        json_num(f, a->yi[i]);
        fputs(", \"vi\": ", f);
        json_num(f, a->vi[i]);
        fputs(", \"ci_lb\": ", f);
        json_num(f, a->yi[i] - z * se);
        fputs(", \"ci_ub\": ", f);
        json_num(f, a->yi[i] + z * se);
        fputs(", \"weight\": ", f);
        json_num(f, a->weight[i]);
        fputc('}', f);
    }
    fprintf(f, "\n%s],\n", pad);
}

static void fit_warnings(const cli_analysis *a, mp_msgs *w)
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

static void json_warnings(FILE *f, const mp_msgs *w, const char *pad)
{
    fprintf(f, "%s\"warnings\": [", pad);
    for (size_t i = 0; i < w->n; i++) {
        if (i) fputs(", ", f);
        json_str(f, w->v[i]);
    }
    fputs("]", f);
}

static void write_json(FILE *f, const cli_report *r, const mp_msgs *w, const compare_result *cmp)
{
    if (!r->overall) {
        fputs("{\n", f);
        json_fit(f, r, &r->a[0], 0);
        json_warnings(f, w, "  ");
    } else {
        fputs("{\n  \"by\": ", f);
        json_str(f, r->opt->by);
        fputs(",\n  \"groups\": [\n", f);
        for (size_t g = 0; g < r->n; g++) {
            fputs("   {\"group\": ", f);
            json_str(f, r->a[g].group);
            fputs(",\n", f);
            json_fit(f, r, &r->a[g], 1);
            fprintf(f, "    \"status\": ");
            json_str(f, r->a[g].status == MP_OK ? "ok" : mp_strerror(r->a[g].status));
            fprintf(f, "}%s\n", g + 1 < r->n ? "," : "");
        }
        fputs("  ],\n  \"overall\": {\n", f);
        json_fit(f, r, r->overall, 1);
        fputs("    \"status\": ", f);
        json_str(f, r->overall->status == MP_OK ? "ok" : mp_strerror(r->overall->status));
        fputs("},\n  \"subgroup_test\": ", f);
        if (r->has_subgroup_test) {
            fputs("{\"Q\": ", f);
            json_num(f, r->sub_Q);
            fputs(", \"df\": ", f);
            json_num(f, r->sub_df);
            fputs(", \"pval\": ", f);
            json_num(f, r->sub_p);
            fputs("},\n", f);
        } else {
            fputs("null,\n", f);
        }
        json_warnings(f, w, "  ");
    }
    if (cmp) {
        fputs(",\n  \"compare\": ", f);
        compare_json(f, cmp);
    }
    fputs("\n}\n", f);
}

int cmd_pool(int argc, char **argv)
{
    static const struct option opts[] = {
        {"measure", required_argument, NULL, OPT_MEASURE}, {"vtype", required_argument, NULL, OPT_VTYPE}, {"drop00", required_argument, NULL, OPT_DROP00},
        {"method", required_argument, NULL, OPT_METHOD},   {"test", required_argument, NULL, OPT_TEST},
        {"level", required_argument, NULL, OPT_LEVEL},     {"by", required_argument, NULL, OPT_BY},
        {"study", required_argument, NULL, OPT_STUDY},     {"format", required_argument, NULL, OPT_FORMAT},
        {"plot", required_argument, NULL, OPT_PLOT},       {"compare", required_argument, NULL, OPT_COMPARE},
        {"width", required_argument, NULL, OPT_WIDTH},     {"digits", required_argument, NULL, OPT_DIGITS},
        {"transf", required_argument, NULL, OPT_TRANSF},   {"ascii", no_argument, NULL, OPT_ASCII},
        {"methods", no_argument, NULL, OPT_METHODS},       {"help", no_argument, NULL, 'h'},
        {"maxiter", required_argument, NULL, OPT_MAXITER}, {"tol", required_argument, NULL, OPT_TOL},
        {NULL, 0, NULL, 0}};
    const char *cmd = "pool";
    cli_common c;
    cli_common_init(&c);
    int id;
    optind = 1;
    opterr = 0; /* our own one-line messages, "metapool pool: ..." */
    while ((id = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (id == '?' || id == ':') {
            cli_bad_option(cmd, id, argv);
            fputs(usage_text, stderr);
            return CLI_USAGE;
        }
        if (id == 'h') { fputs(usage_text, stdout); return CLI_OK; }
        if (id == OPT_MAXITER || id == OPT_TOL) {
            long n;
            double d;
            if (id == OPT_MAXITER && cli_parse_int(optarg, 1, 1000000, &n)) { c.pool.maxiter = (size_t)n; continue; }
            if (id == OPT_TOL && cli_parse_double(optarg, &d) && d > 0 && d < 1) { c.pool.epsrel = d; continue; }
            cli_errorf(cmd, "bad value '%s' for --%s", optarg, id == OPT_MAXITER ? "maxiter" : "tol");
            return CLI_USAGE;
        }
        int r = cli_common_opt(cmd, id, optarg, &c);
        if (r == 1) continue;
        if (r == 0) fputs(usage_text, stderr);
        return CLI_USAGE;
    }
    if (optind != argc - 1) {
        cli_errorf(cmd, "expected one input FILE");
        fputs(usage_text, stderr);
        return CLI_USAGE;
    }
    cli_common_finish(&c);

    if (c.plot && cli_check_writable(cmd, c.plot) != 0) return CLI_USAGE;
    compare_table *pub = NULL;
    if (c.compare) {
        mp_error err;
        mp_error_clear(&err);
        if (compare_load(c.compare, &pub, &err) != 0) { cli_input_error(cmd, &err); return CLI_USAGE; }
    }
    mp_table *t = NULL;
    mp_effects e;
    int rc = cli_load(cmd, argv[optind], &c, &t, &e);
    if (rc != CLI_OK) { compare_free(pub); return rc; }
    long bycol = -1;
    if (c.by && (bycol = mp_table_col(t, c.by)) < 0) {
        cli_errorf(cmd, "%s: no column '%s' for --by", mp_table_name(t), c.by);
        mp_effects_free(&e);
        mp_table_free(t);
        compare_free(pub);
        return CLI_USAGE;
    }
    if (bycol >= 0) { /* a missing group value leaves the row out, reported by row */
        for (size_t i = 0; i < mp_table_nrows(t); i++) {
            if (!e.used[i] || !mp_table_is_missing(t, i, (size_t)bycol)) continue;
            e.used[i] = 0;
            e.k--;
            cli_errorf(cmd, "warning: row %zu (line %zu) left out: missing value in the --by column '%s'",
                       i + 1, mp_table_line(t, i), c.by);
            mp_msgs_add(&e.warnings, "row %zu (line %zu) left out: missing value in the --by column '%s'",
                        i + 1, mp_table_line(t, i), c.by);
        }
    }
    if (e.k == 0) {
        cli_errorf(cmd, "%s: no studies left to pool", mp_table_name(t));
        mp_effects_free(&e);
        mp_table_free(t);
        compare_free(pub);
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
            compare_free(pub);
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
    cli_analysis *an = calloc(na, sizeof *an);
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
        cli_analysis *A = &an[a];
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
        cli_analysis *A = &an[a];
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
    cli_report r = {.file = mp_table_name(t), .measure = e.measure, .vtype = e.vtype,
                    .source = e.source, .opt = &c, .a = an, .n = bycol >= 0 ? ng : 1,
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

    compare_result *cmp = NULL;
    if (pub && compare_eval(pub, &r, &cmp, cmd) != 0) { status = CLI_USAGE; goto out; }
    if (c.format == CLI_FMT_JSON) write_json(stdout, &r, &warn, cmp);
    else if (c.format == CLI_FMT_CSV) {
        report_csv(stdout, &r);
        if (cmp) compare_print(stderr, cmp, &r); /* keep stdout one tidy table */
    }
    else {
        report_table(stdout, &r);
        if (cmp) compare_print(stdout, cmp, &r);
    }
    if (c.methods) report_methods(c.format == CLI_FMT_TABLE ? stdout : stderr, &r);
    if (c.plot && report_svg(c.plot, &r) != 0) {
        cli_errorf(cmd, "%s: cannot write the plot: %s", c.plot, strerror(errno));
        status = CLI_FAIL;
    }
    if (cmp && !compare_reproduced(cmp) && status == CLI_OK) status = CLI_NOTREPRODUCED;
    compare_result_free(cmp);
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
    compare_free(pub);
    if (fflush(stdout) != 0 && status == CLI_OK) { cli_errorf(cmd, "write error"); status = CLI_FAIL; }
    return status;
}
