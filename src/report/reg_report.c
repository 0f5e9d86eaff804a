/* src/report/reg_report.c - meta-regression results as a table (as metafor prints them), CSV and JSON.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The table follows metafor's print.rma.uni() for models with moderators:
 * the heterogeneity lines (tau^2, I^2, H^2, R^2), the residual test QE, the
 * omnibus test QM and the coefficient table with significance codes. */
#include "metapool/report.h"
#include "report_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void json_warnings(FILE *f, const mp_msgs *w)
{
    fputs("  \"warnings\": ", f);
    mp_json_strings(f, w);
    fputs("\n", f);
}

void mp_report_reg_json(FILE *f, mp_measure measure, const mp_design *d, const mp_reg_result *r,
                        const mp_msgs *w)
{
    mp_report_reg_json_perm(f, measure, d, r, w, NULL);
}

void mp_report_reg_json_perm(FILE *f, mp_measure measure, const mp_design *d,
                             const mp_reg_result *r, const mp_msgs *w, const mp_perm_result *perm)
{
    fprintf(f, "{\n  \"k\": %zu, \"p\": %zu, \"measure\": ", r->k, r->p);
    mp_json_str(f, mp_measure_name(measure));
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
        if (perm && j < perm->p) {
            fputs(", \"pval_perm\": ", f);
            mp_json_num(f, perm->pval[j]);
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
    if (perm) {
        fputs("  \"QM_pval_perm\": ", f);
        mp_json_num(f, perm->QM_pval);
        fprintf(f, ", \"permutations\": %llu, \"exact\": %s, \"permutations_failed\": %llu,\n",
                (unsigned long long)perm->permutations, perm->exact ? "true" : "false",
                (unsigned long long)perm->failed);
    }
    json_warnings(f, w);
    fputs("}\n", f);
}

void mp_report_reg_csv(FILE *f, const mp_design *d, const mp_reg_result *r)
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

void mp_report_reg_table(FILE *f, const mp_design *d, const mp_reg_result *r, int dg)
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

