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
    mp_report_reg_json_ex(f, measure, d, r, NULL, w);
}

void mp_report_reg_json_perm(FILE *f, mp_measure measure, const mp_design *d,
                             const mp_reg_result *r, const mp_msgs *w, const mp_perm_result *perm)
{
    mp_report_reg_extra x;
    memset(&x, 0, sizeof x);
    x.perm = perm;
    mp_report_reg_json_ex(f, measure, d, r, &x, w);
}

static void json_key_num(FILE *f, const char *key, double v)
{
    fprintf(f, "\"%s\": ", key);
    mp_json_num(f, v);
}

/* The parts of x after the main keys (each line ends with ",\n"). */
static void json_extra(FILE *f, const mp_report_reg_extra *x)
{
    if (!x) return;
    if (x->vcov) {
        fputs("  \"vcov\": ", f);
        mp_json_str(f, x->vcov);
        fprintf(f, ", \"n_clusters\": %zu, ", x->n_clusters);
        json_key_num(f, "QM_ddf", x->QM_ddf);
        fputs(",\n", f);
    }
    if (x->sigma2) {
        fputs("  \"random\": ", f);
        mp_json_str(f, x->random);
        fputs(", \"sigma2\": [", f);
        for (size_t r = 0; r < x->ncomp; r++) {
            if (r) fputs(", ", f);
            mp_json_num(f, x->sigma2[r]);
        }
        fputs("], \"sigma2_names\": [", f);
        for (size_t r = 0; r < x->ncomp; r++) {
            if (r) fputs(", ", f);
            mp_json_str(f, x->sigma2_names[r]);
        }
        fputs("], \"n_levels\": [", f);
        for (size_t r = 0; r < x->ncomp; r++) fprintf(f, "%s%zu", r ? ", " : "", x->n_levels[r]);
        fputs("], ", f);
        if (x->sigma2_ci_lb && x->sigma2_ci_ub) {
            const double *ci[2] = {x->sigma2_ci_lb, x->sigma2_ci_ub};
            for (int b = 0; b < 2; b++) {
                fprintf(f, "\"sigma2_ci_%s\": [", b ? "ub" : "lb");
                for (size_t r = 0; r < x->ncomp; r++) {
                    if (r) fputs(", ", f);
                    mp_json_num(f, ci[b][r]);
                }
                fputs("], ", f);
            }
        }
        json_key_num(f, "logLik", x->logLik);
        fputs(",\n", f);
    }
    if (x->pred) {
        fputs("  \"predictions\": [", f);
        const mp_reg_pred *pr = x->pred;
        for (size_t i = 0; i < pr->n; i++) {
            fprintf(f, "%s\n    {", i ? "," : "");
            json_key_num(f, "pred", pr->pred[i]);
            fputs(", ", f); json_key_num(f, "se", pr->se[i]);
            fputs(", ", f); json_key_num(f, "ci_lb", pr->ci_lb[i]);
            fputs(", ", f); json_key_num(f, "ci_ub", pr->ci_ub[i]);
            fputs(", ", f); json_key_num(f, "pi_lb", pr->pi_lb[i]);
            fputs(", ", f); json_key_num(f, "pi_ub", pr->pi_ub[i]);
            for (size_t c = 0; c < x->npred_names; c++) {
                const char *cell = x->pred_cells[i * x->npred_names + c];
                double v;
                fputs(", ", f);
                mp_json_str(f, x->pred_names[c]);
                fputs(": ", f);
                if (mp_parse_double(cell, strlen(cell), &v) == 1) mp_json_num(f, v);
                else mp_json_str(f, cell);
            }
            fputc('}', f);
        }
        fputs("\n  ],\n", f);
    }
}

void mp_report_reg_json_ex(FILE *f, mp_measure measure, const mp_design *d, const mp_reg_result *r,
                           const mp_report_reg_extra *x, const mp_msgs *w)
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
        if (x && x->perm && j < x->perm->p) {
            fputs(", \"pval_perm\": ", f);
            mp_json_num(f, x->perm->pval[j]);
        }
        if (x && x->coef_df) {
            fputs(", ", f);
            json_key_num(f, "df", x->coef_df[j]);
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
    if (x && x->perm) {
        const mp_perm_result *perm = x->perm;
        fputs("  \"QM_pval_perm\": ", f);
        mp_json_num(f, perm->QM_pval);
        fprintf(f, ", \"permutations\": %llu, \"exact\": %s, \"permutations_failed\": %llu,\n",
                (unsigned long long)perm->permutations, perm->exact ? "true" : "false",
                (unsigned long long)perm->failed);
    }
    json_extra(f, x);
    json_warnings(f, w);
    fputs("}\n", f);
}

void mp_report_reg_csv(FILE *f, const mp_design *d, const mp_reg_result *r)
{
    mp_report_reg_csv_ex(f, d, r, NULL);
}

void mp_report_reg_csv_ex(FILE *f, const mp_design *d, const mp_reg_result *r,
                          const mp_report_reg_extra *xt)
{
    fputs("name,estimate,se,stat,df,pval,ci_lb,ci_ub\n", f);
    for (size_t j = 0; j < r->p; j++) {
        mp_csv_field(f, d->names[j], ',');
        const double x[] = {r->beta[j], r->se[j], r->stat[j],
                            xt && xt->coef_df ? xt->coef_df[j] : r->df, r->pval[j], r->ci_lb[j],
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


/* The coefficient block with a df column per coefficient (robust and t tests). */
static void coef_table_df(FILE *f, const mp_design *d, const mp_reg_result *r, const double *df,
                          int dg)
{
    char pb[32];
    size_t nw = 4;
    for (size_t j = 0; j < r->p; j++)
        if (strlen(d->names[j]) > nw) nw = strlen(d->names[j]);
    int cw = dg + 6;
    int tst = df || r->test == MP_TEST_KNHA;
    fprintf(f, "\nModel Results:\n\n%-*s  %*s %*s %*s", (int)nw, "", cw, "estimate", cw, "se",
            cw, tst ? "tval" : "zval");
    if (tst) fprintf(f, " %*s", cw - 2, "df");
    fprintf(f, " %*s %*s %*s\n", cw, "pval", cw, "ci.lb", cw, "ci.ub");
    for (size_t j = 0; j < r->p; j++) {
        fmt_p(pb, sizeof pb, r->pval[j], dg);
        fprintf(f, "%-*s  %*.*f %*.*f %*.*f", (int)nw, d->names[j], cw, dg, r->beta[j], cw, dg,
                r->se[j], cw, dg, r->stat[j]);
        if (tst) fprintf(f, " %*.*f", cw - 2, df ? 2 : 0, df ? df[j] : r->df);
        const char *st = signif(r->pval[j]);
        fprintf(f, " %*s %*.*f %*.*f%s%s\n", cw, pb, cw, dg, r->ci_lb[j], cw, dg, r->ci_ub[j],
                *st ? "  " : "", st);
    }
    fputs("\n---\nSignif. codes:  0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1\n\n", f);
}

/* The variance components as metafor prints them, with the profile CIs. */
static void vc_table(FILE *f, const mp_report_reg_extra *x, int dg)
{
    size_t nw = 6;
    for (size_t c = 0; c < x->ncomp; c++)
        if (strlen(x->sigma2_names[c]) > nw) nw = strlen(x->sigma2_names[c]);
    int ci = x->sigma2_ci_lb && x->sigma2_ci_ub;
    fprintf(f, "            %*s %*s %6s  %-*s", dg + 6, "estim", dg + 6, "sqrt", "nlvls", (int)nw, "factor");
    if (ci) fprintf(f, "  %*s %*s", dg + 6, "ci.lb", dg + 6, "ci.ub");
    fputc('\n', f);
    for (size_t c = 0; c < x->ncomp; c++) {
        fprintf(f, "sigma^2.%-3zu %*.*f %*.*f %6zu  %-*s", c + 1, dg + 6, dg, x->sigma2[c], dg + 6, dg,
                sqrt(x->sigma2[c]), x->n_levels[c], (int)nw, x->sigma2_names[c]);
        if (ci) fprintf(f, "  %*.*f %*.*f", dg + 6, dg, x->sigma2_ci_lb[c], dg + 6, dg, x->sigma2_ci_ub[c]);
        fputc('\n', f);
    }
    if (ci) fputs("(ci: profile likelihood, as metafor's confint())\n", f);
}

static void pred_table(FILE *f, const mp_report_reg_extra *x, int dg)
{
    const mp_reg_pred *pr = x->pred;
    int cw = dg + 6;
    fprintf(f, "Predictions%s:\n\n", x->transf ? " (back-transformed: exp)" : "");
    for (size_t c = 0; c < x->npred_names; c++) fprintf(f, "%12.12s ", x->pred_names[c]);
    fprintf(f, "%*s %*s %*s %*s %*s %*s\n", cw, "pred", cw, "se", cw, "ci.lb", cw, "ci.ub", cw,
            "pi.lb", cw, "pi.ub");
    for (size_t i = 0; i < pr->n; i++) {
        for (size_t c = 0; c < x->npred_names; c++)
            fprintf(f, "%12.12s ", x->pred_cells[i * x->npred_names + c]);
        double v[] = {pr->pred[i], pr->ci_lb[i], pr->ci_ub[i], pr->pi_lb[i], pr->pi_ub[i]};
        if (x->transf)
            for (size_t j = 0; j < 5; j++) v[j] = exp(v[j]);
        fprintf(f, "%*.*f ", cw, dg, v[0]);
        if (x->transf) fprintf(f, "%*s ", cw, "");
        else fprintf(f, "%*.*f ", cw, dg, pr->se[i]);
        fprintf(f, "%*.*f %*.*f %*.*f %*.*f\n", cw, dg, v[1], cw, dg, v[2], cw, dg, v[3], cw, dg, v[4]);
    }
    fputc('\n', f);
}

void mp_report_reg_table_ex(FILE *f, const mp_design *d, const mp_reg_result *r,
                            const mp_report_reg_extra *x, int dg)
{
    char pb[32];
    if (!x || (!x->sigma2 && !x->vcov)) {
        mp_report_reg_table(f, d, r, dg);
    } else {
        if (x->sigma2) {
            fprintf(f, "\nMultivariate Meta-Analysis Model (k = %zu; method: %s)\n\n", r->k,
                    mp_method_name(r->method));
            fprintf(f, "logLik = %.*f\n\nVariance Components (random = %s):\n\n", dg, x->logLik,
                    x->random ? x->random : "");
            size_t nw = 6;
            for (size_t c = 0; c < x->ncomp; c++)
                if (strlen(x->sigma2_names[c]) > nw) nw = strlen(x->sigma2_names[c]);
            vc_table(f, x, dg);
        } else {
            fprintf(f, "\nMixed-Effects Model (k = %zu; tau^2 estimator: %s)\n\n", r->k,
                    mp_method_name(r->method));
            fprintf(f, "tau^2 (estimated amount of residual heterogeneity):     %.*f\n", dg, r->tau2);
        }
        fmt_p(pb, sizeof pb, r->QE_pval, dg);
        fprintf(f, "\nTest for Residual Heterogeneity:\nQE(df = %.0f) = %.*f, p-val %s%s\n",
                r->QE_df, dg, r->QE, pb[0] == '<' ? "" : "= ", pb);
        if (x->vcov)
            fprintf(f, "\nCluster-robust inference (%s, %zu clusters)%s\n", x->vcov, x->n_clusters,
                    strcmp(x->vcov, "CR2") == 0
                        ? ": bias-reduced sandwich, Satterthwaite df, HTZ test"
                        : ": sandwich with small-sample factor, t on clusters - p df");
        if (isfinite(r->QM)) {
            size_t b0 = r->p - (size_t)r->QM_df;
            fmt_p(pb, sizeof pb, r->QM_pval, dg);
            if (r->QM_df == 1) fprintf(f, "\nTest of Moderators (coefficient %zu):\n", b0 + 1);
            else fprintf(f, "\nTest of Moderators (coefficients %zu:%zu):\n", b0 + 1, r->p);
            if (x->vcov)
                fprintf(f, "F(df1 = %.0f, df2 = %.2f) = %.*f, p-val %s%s\n", r->QM_df, x->QM_ddf, dg,
                        r->QM, pb[0] == '<' ? "" : "= ", pb);
            else if (r->test == MP_TEST_KNHA)
                fprintf(f, "F(df1 = %.0f, df2 = %.0f) = %.*f, p-val %s%s\n", r->QM_df, r->df, dg,
                        r->QM, pb[0] == '<' ? "" : "= ", pb);
            else
                fprintf(f, "QM(df = %.0f) = %.*f, p-val %s%s\n", r->QM_df, dg, r->QM,
                        pb[0] == '<' ? "" : "= ", pb);
        }
        coef_table_df(f, d, r, x->coef_df, dg);
    }
    if (x && x->pred) pred_table(f, x, dg);
}

void mp_report_mv_pool_json(FILE *f, mp_measure measure, const mp_reg_result *r,
                            const mp_report_reg_extra *x, const mp_reg_pred *pi, const mp_msgs *w)
{
    fprintf(f, "{\n  \"k\": %zu, \"measure\": ", r->k);
    mp_json_str(f, mp_measure_name(measure));
    fputs(", \"method\": ", f);
    mp_json_str(f, mp_method_name(r->method));
    fputs(", \"test\": \"z\", \"level\": ", f);
    mp_json_num(f, r->level);
    fputs(",\n  ", f);
    const struct { const char *key; double v; } kv[] = {
        {"estimate", r->beta[0]}, {"se", r->se[0]}, {"stat", r->stat[0]}, {"pval", r->pval[0]},
        {"ci_lb", r->ci_lb[0]}, {"ci_ub", r->ci_ub[0]},
        {"pi_lb", pi ? pi->pi_lb[0] : NAN}, {"pi_ub", pi ? pi->pi_ub[0] : NAN},
        {"QE", r->QE}, {"QE_df", r->QE_df}, {"QE_pval", r->QE_pval},
        {"Q", r->QE}, {"Q_df", r->QE_df}, {"Q_pval", r->QE_pval}};
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++) {
        json_key_num(f, kv[i].key, kv[i].v);
        fputs(i == 7 || i == 13 ? ",\n  " : ", ", f);
    }
    fprintf(f, "\"niter\": %zu, \"converged\": %s,\n", r->niter, r->converged ? "true" : "false");
    json_extra(f, x);
    json_warnings(f, w);
    fputs("}\n", f);
}

void mp_report_mv_pool_table(FILE *f, const mp_reg_result *r, const mp_report_reg_extra *x,
                             const mp_reg_pred *pi, int dg)
{
    char pb[32];
    fprintf(f, "\nMultivariate Meta-Analysis Model (k = %zu; method: %s)\n\n", r->k,
            mp_method_name(r->method));
    fprintf(f, "logLik = %.*f\n\nVariance Components (random = %s):\n\n", dg, x->logLik,
            x->random ? x->random : "");
    size_t nw = 6;
    for (size_t c = 0; c < x->ncomp; c++)
        if (strlen(x->sigma2_names[c]) > nw) nw = strlen(x->sigma2_names[c]);
    (void)nw;
    vc_table(f, x, dg);
    fmt_p(pb, sizeof pb, r->QE_pval, dg);
    fprintf(f, "\nTest for Heterogeneity:\nQ(df = %.0f) = %.*f, p-val %s%s\n", r->QE_df, dg, r->QE,
            pb[0] == '<' ? "" : "= ", pb);
    fmt_p(pb, sizeof pb, r->pval[0], dg);
    int cw = dg + 6;
    fprintf(f, "\nModel Results:\n\n%*s %*s %*s %*s %*s %*s\n", cw, "estimate", cw, "se", cw, "zval",
            cw, "pval", cw, "ci.lb", cw, "ci.ub");
    fprintf(f, "%*.*f %*.*f %*.*f %*s %*.*f %*.*f\n", cw, dg, r->beta[0], cw, dg, r->se[0], cw, dg,
            r->stat[0], cw, pb, cw, dg, r->ci_lb[0], cw, dg, r->ci_ub[0]);
    if (x->transf) {
        fprintf(f, "\nBack-transformed (exp): estimate %.*f, CI %.*f to %.*f", dg, exp(r->beta[0]), dg,
                exp(r->ci_lb[0]), dg, exp(r->ci_ub[0]));
        if (pi) fprintf(f, ", prediction interval %.*f to %.*f", dg, exp(pi->pi_lb[0]), dg, exp(pi->pi_ub[0]));
        fputc('\n', f);
    } else if (pi) {
        fprintf(f, "\nPrediction interval: %.*f to %.*f\n", dg, pi->pi_lb[0], dg, pi->pi_ub[0]);
    }
    fputc('\n', f);
}
