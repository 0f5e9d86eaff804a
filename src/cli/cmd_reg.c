/* src/cli/cmd_reg.c - `metapool reg`: mixed-effects meta-regression on moderators.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * metafor's rma(yi, vi, mods = ~ a + b, method = ..., test = ...); the
 * design rules (numeric vs categorical moderators, missing values, rank
 * deficiency) are those of include/metapool/design.h. */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const cli_optuse reg_opts[] = {
    {OPT_MODS, "moderator columns, as a,b or a + b\n"
               "A numeric column enters as it is; a text column (or factor(COL))\n"
               "becomes dummy variables, levels in byte order, the first as reference.\n"
               "Rows with a missing (NA) moderator are left out (warning).",
     "--mods is required (moderator columns, e.g. --mods ablat,alloc)"},
    {OPT_MEASURE, NULL, NULL}, {OPT_VTYPE, NULL, NULL}, {OPT_DROP00, NULL, NULL},
    {OPT_METHOD, NULL, NULL},
    {OPT_TEST, "z or knha (Knapp-Hartung: t and F tests on k-p df) [z]", NULL},
    {OPT_LEVEL, NULL, NULL},
    {OPT_FORMAT, "table, json or csv (the coefficient table) [table]", NULL},
    {OPT_DIGITS, "decimals shown in the table [4]", NULL},
    {OPT_MAXITER, "iteration limit of REML, ML, EB and PM [1000]", NULL},
    {0, NULL, NULL}};

static const cli_spec reg_spec = {
    "reg",
    "Mixed-effects meta-regression (metafor's rma(yi, vi, mods = ~ a + b)):\n"
    "         coefficients with tests and CIs, residual heterogeneity (QE), the\n"
    "         omnibus test of the moderators (QM), pseudo R^2, I^2 and H^2.",
    "metapool reg --mods a,b [OPTIONS] FILE  (FILE '-' is standard input)",
    reg_opts,
    "Exit status: 0 success; 1 the model could not be fitted (no convergence,\n"
    "collinear moderators, no more studies than coefficients); 2 bad usage or input.\n"};


/* Split "a, b,factor(c)" (or metafor's formula style "~ a + b") at commas
 * and plus signs outside parentheses into a malloc'd array of pointers into
 * the malloc'd copy *buf; blank items are skipped. */
static char **split_mods(const char *s, size_t *n, char **buf)
{
    size_t len = strlen(s), cap = 1;
    for (size_t i = 0; i < len; i++) cap += s[i] == ',' || s[i] == '+';
    char *b = malloc(len + 1);
    char **v = malloc(cap * sizeof *v);
    if (!b || !v) { free(b); free(v); return NULL; }
    memcpy(b, s, len + 1);
    char *q0 = b;
    while (*q0 == ' ') q0++;
    if (*q0 == '~') *q0 = ' ';
    size_t m = 0;
    int depth = 0;
    char *start = b;
    for (char *q = b;; q++) {
        if (*q == '(') depth++;
        else if (*q == ')' && depth > 0) depth--;
        if (*q == '\0' || ((*q == ',' || *q == '+') && depth == 0)) {
            int end = *q == '\0';
            *q = '\0';
            if (strspn(start, " \t") != strlen(start)) v[m++] = start;
            start = q + 1;
            if (end) break;
        }
    }
    *n = m;
    *buf = b;
    return v;
}

static void json_warnings(FILE *f, const mp_msgs *w)
{
    fputs("  \"warnings\": [", f);
    for (size_t i = 0; i < w->n; i++) {
        if (i) fputs(", ", f);
        mp_json_str(f, w->v[i]);
    }
    fputs("]\n", f);
}

static void write_json(FILE *f, const mp_effects *e, const mp_design *d, const mp_reg_result *r,
                       const mp_msgs *w)
{
    fprintf(f, "{\n  \"k\": %zu, \"p\": %zu, \"measure\": ", r->k, r->p);
    mp_json_str(f, mp_measure_name(e->measure));
    fputs(", \"method\": ", f);
    mp_json_str(f, mp_method_name(r->method));
    fputs(", \"test\": ", f);
    mp_json_str(f, mp_test_name(r->test));
    fputs(", \"level\": ", f);
    mp_json_num(f, r->level);
    fputs(",\n  \"coef\": [", f);
    for (size_t j = 0; j < r->p; j++) {
        fprintf(f, "%s\n    {\"name\": ", j ? "," : "");
        mp_json_str(f, d->names[j]);
        const struct { const char *key; double v; } kv[] = {
            {"estimate", r->beta[j]}, {"se", r->se[j]}, {"stat", r->stat[j]},
            {"pval", r->pval[j]},     {"ci_lb", r->ci_lb[j]}, {"ci_ub", r->ci_ub[j]}};
        for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++) {
            fprintf(f, ", \"%s\": ", kv[i].key);
            mp_json_num(f, kv[i].v);
        }
        fputc('}', f);
    }
    fputs("\n  ],\n  ", f);
    const struct { const char *key; double v; } kv[] = {
        {"df", r->df},           {"tau2", r->tau2},       {"tau2_se", r->tau2_se},
        {"tau", sqrt(r->tau2)},  {"I2", r->I2},           {"H2", r->H2},
        {"R2", r->R2},           {"QE", r->QE},           {"QE_df", r->QE_df},
        {"QE_pval", r->QE_pval}, {"QM", r->QM},           {"QM_df", r->QM_df},
        {"QM_pval", r->QM_pval}, {"s2w", r->test == MP_TEST_KNHA ? r->s2w : NAN}};
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++) {
        fprintf(f, "\"%s\": ", kv[i].key);
        mp_json_num(f, kv[i].v);
        fputs(i == 6 || i == 12 ? ",\n  " : ", ", f);
    }
    fprintf(f, "\"niter\": %zu, \"converged\": %s,\n", r->niter, r->converged ? "true" : "false");
    json_warnings(f, w);
    fputs("}\n", f);
}

static void write_csv(FILE *f, const mp_design *d, const mp_reg_result *r)
{
    fputs("name,estimate,se,stat,df,pval,ci_lb,ci_ub\n", f);
    for (size_t j = 0; j < r->p; j++) {
        mp_csv_field(f, d->names[j], ',');
        const double x[] = {r->beta[j], r->se[j], r->stat[j], r->df, r->pval[j], r->ci_lb[j],
                            r->ci_ub[j]};
        for (size_t i = 0; i < sizeof x / sizeof x[0]; i++) {
            fputc(',', f);
            if (isfinite(x[i])) mp_json_num(f, x[i]);
            else fputs("NA", f);
        }
        fputc('\n', f);
    }
}

/* A p-value as metafor prints it: "<.0001" below 10^-digits. */
static void fmt_p(char *buf, size_t n, double p, int digits)
{
    double lim = pow(10.0, -digits);
    if (!isfinite(p)) snprintf(buf, n, "NA");
    else if (p < lim) snprintf(buf, n, "<%.*f", digits, lim);
    else snprintf(buf, n, "%.*f", digits, p);
    if (buf[0] == '<' && buf[1] == '0') memmove(buf + 1, buf + 2, strlen(buf + 2) + 1);
}

static const char *signif(double p)
{
    return !isfinite(p) ? "" : p < 0.001 ? "***" : p < 0.01 ? "**" : p < 0.05 ? "*" : p < 0.1 ? "." : "";
}

static void write_table(FILE *f, const mp_design *d, const mp_reg_result *r, int dg)
{
    char pb[32];
    int knha = r->test == MP_TEST_KNHA, fe = r->method == MP_METHOD_FE;
    if (fe) fprintf(f, "\nFixed-Effects with Moderators Model (k = %zu)\n\n", r->k);
    else fprintf(f, "\nMixed-Effects Model (k = %zu; tau^2 estimator: %s)\n\n", r->k,
                 mp_method_name(r->method));
    if (!fe) {
        fprintf(f, "tau^2 (estimated amount of residual heterogeneity):     %.*f", dg, r->tau2);
        if (isfinite(r->tau2_se)) fprintf(f, " (SE = %.*f)", dg, r->tau2_se);
        fprintf(f, "\ntau (square root of estimated tau^2 value):             %.*f\n", dg,
                sqrt(r->tau2));
        fprintf(f, "I^2 (residual heterogeneity / unaccounted variability): %.2f%%\n", r->I2);
        fprintf(f, "H^2 (unaccounted variability / sampling variability):   %.2f\n", r->H2);
        if (isfinite(r->R2))
            fprintf(f, "R^2 (amount of heterogeneity accounted for):            %.2f%%\n", r->R2);
    } else {
        fprintf(f, "I^2 (residual heterogeneity / unaccounted variability): %.2f%%\n", r->I2);
        fprintf(f, "H^2 (unaccounted variability / sampling variability):   %.2f\n", r->H2);
        if (isfinite(r->R2)) fprintf(f, "R^2 (adjusted, weighted least squares):                 %.2f%%\n", r->R2);
    }
    fmt_p(pb, sizeof pb, r->QE_pval, dg);
    fprintf(f, "\nTest for Residual Heterogeneity:\nQE(df = %.0f) = %.*f, p-val %s%s\n", r->QE_df,
            dg, r->QE, pb[0] == '<' ? "" : "= ", pb);
    size_t b0 = r->p - (size_t)r->QM_df;
    if (isfinite(r->QM)) {
        fmt_p(pb, sizeof pb, r->QM_pval, dg);
        if (r->QM_df == 1) fprintf(f, "\nTest of Moderators (coefficient %zu):\n", b0 + 1);
        else fprintf(f, "\nTest of Moderators (coefficients %zu:%zu):\n", b0 + 1, r->p);
        if (knha)
            fprintf(f, "F(df1 = %.0f, df2 = %.0f) = %.*f, p-val %s%s\n", r->QM_df, r->df, dg,
                    r->QM, pb[0] == '<' ? "" : "= ", pb);
        else
            fprintf(f, "QM(df = %.0f) = %.*f, p-val %s%s\n", r->QM_df, dg, r->QM,
                    pb[0] == '<' ? "" : "= ", pb);
    }
    /* coefficient table: widths from the longest entry of each column */
    size_t nw = 4;
    for (size_t j = 0; j < r->p; j++)
        if (strlen(d->names[j]) > nw) nw = strlen(d->names[j]);
    int cw = dg + 6;
    fprintf(f, "\nModel Results:\n\n%-*s  %*s %*s %*s", (int)nw, "", cw, "estimate", cw, "se",
            cw, knha ? "tval" : "zval");
    if (knha) fprintf(f, " %4s", "df");
    fprintf(f, " %*s %*s %*s\n", cw, "pval", cw, "ci.lb", cw, "ci.ub");
    for (size_t j = 0; j < r->p; j++) {
        fmt_p(pb, sizeof pb, r->pval[j], dg);
        fprintf(f, "%-*s  %*.*f %*.*f %*.*f", (int)nw, d->names[j], cw, dg, r->beta[j], cw, dg,
                r->se[j], cw, dg, r->stat[j]);
        if (knha) fprintf(f, " %4.0f", r->df);
        const char *st = signif(r->pval[j]);
        fprintf(f, " %*s %*.*f %*.*f%s%s\n", cw, pb, cw, dg, r->ci_lb[j], cw, dg, r->ci_ub[j],
                *st ? "  " : "", st);
    }
    fputs("\n---\nSignif. codes:  0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1\n\n", f);
}

int cmd_reg(int argc, char **argv)
{
    const char *cmd = "reg";
    cli_common c;
    cli_common_init(&c);
    c.rep.digits = 4; /* metafor prints 4 decimals */
    int go = cli_parse(&reg_spec, argc, argv, &c);
    if (go != CLI_GO_ON) return go;
    const char *mods = c.mods;
    if (!*mods) {
        cli_errorf(cmd, "--mods is required (moderator columns, e.g. --mods ablat,alloc)");
        cli_help(stderr, &reg_spec);
        return CLI_USAGE;
    }

    size_t nmods = 0;
    char *modbuf = NULL;
    char **modv = split_mods(mods, &nmods, &modbuf);
    if (!modv) { cli_errorf(cmd, "out of memory"); return CLI_FAIL; }
    if (nmods == 0) {
        cli_errorf(cmd, "--mods names no column");
        free(modv);
        free(modbuf);
        return CLI_USAGE;
    }

    mp_table *t = NULL;
    mp_effects e;
    mp_design d;
    mp_reg_result r;
    mp_msgs warn = {0};
    memset(&d, 0, sizeof d);
    memset(&r, 0, sizeof r);
    int status = cli_load(cmd, c.file, &c, &t, &e);
    if (status != CLI_OK) { free(modv); free(modbuf); return status; }

    mp_error err;
    mp_error_clear(&err);
    mp_status s = mp_design_build(t, &e, (const char *const *)modv, nmods, 1, &d, &err);
    if (s != MP_OK) {
        if (err.msg[0]) cli_input_error(cmd, &err);
        else cli_errorf(cmd, "%s: %s", mp_table_name(t), mp_strerror(s));
        status = s == MP_EINVAL || s == MP_EPARSE ? CLI_USAGE : CLI_FAIL;
        goto out;
    }
    cli_warnings(cmd, &d.warnings);

    mp_reg_opts o;
    mp_reg_opts_init(&o);
    o.method = c.pool.method;
    o.test = c.pool.test;
    o.level = c.pool.level;
    o.maxiter = c.pool.maxiter;
    s = mp_reg_fit(d.y, d.v, d.X, d.k, d.p, &o, &r);
    if (s == MP_ENOCONV) {
        cli_errorf(cmd, "%s: the %s estimator of tau2 did not converge (iteration limit %zu reached)",
                   mp_table_name(t), mp_method_name(o.method), r.niter);
        status = CLI_FAIL;
        goto out;
    } else if (s != MP_OK) {
        cli_errorf(cmd, "%s: the model could not be fitted: %s", mp_table_name(t), mp_strerror(s));
        status = CLI_FAIL;
        goto out;
    }
    for (size_t i = 0; i < e.warnings.n; i++) mp_msgs_add(&warn, "%s", e.warnings.v[i]);
    for (size_t i = 0; i < d.warnings.n; i++) mp_msgs_add(&warn, "%s", d.warnings.v[i]);
    if (r.warn & MP_WARN_FE_KNHA) {
        const char *m = "the Knapp-Hartung adjustment is not meant for the fixed-effect model";
        mp_msgs_add(&warn, "%s", m);
        cli_errorf(cmd, "warning: %s", m);
    }

    if (c.format == CLI_FMT_JSON) write_json(stdout, &e, &d, &r, &warn);
    else if (c.format == CLI_FMT_CSV) write_csv(stdout, &d, &r);
    else write_table(stdout, &d, &r, c.rep.digits);
out:
    mp_reg_result_free(&r);
    mp_design_free(&d);
    mp_msgs_free(&warn);
    mp_effects_free(&e);
    mp_table_free(t);
    free(modv);
    free(modbuf);
    if (fflush(stdout) != 0 && status == CLI_OK) { cli_errorf(cmd, "write error"); status = CLI_FAIL; }
    return status;
}
