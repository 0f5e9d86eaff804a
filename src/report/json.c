/* src/report/json.c - the JSON and CSV writers: numbers, strings, the pool object.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Numbers are written with full precision (the shortest of 15..17
 * significant digits that reads back to the same double), so a script
 * parsing the JSON gets exactly the double the engine computed; values that
 * are not defined for a model (NaN) are null, as the interface asks. */
#include "metapool/report.h"
#include "report_internal.h"

#include "metapool/quantile.h"
#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mp_json_num(FILE *f, double x)
{
    if (!isfinite(x)) { fputs("null", f); return; }
    if (x == 0) { fputs("0", f); return; }
    char buf[40];
    for (int p = 15; p <= 17; p++) {
        snprintf(buf, sizeof buf, "%.*g", p, x);
        if (strtod(buf, NULL) == x) break;
    }
    fputs(buf, f);
}

void mp_json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') { fputc('\\', f); fputc(ch, f); }
        else if (ch == '\n') fputs("\\n", f);
        else if (ch == '\r') fputs("\\r", f);
        else if (ch == '\t') fputs("\\t", f);
        else if (ch < 0x20) fprintf(f, "\\u%04x", ch);
        else fputc(ch, f);
    }
    fputc('"', f);
}

void mp_csv_field(FILE *f, const char *s, char delim)
{
    if (!s) s = "";
    const char special[] = {delim, '"', '\n', '\r', '\0'};
    if (s[strcspn(s, special)]) { /* one pass over the text */
        fputc('"', f);
        for (; *s; s++) {
            if (*s == '"') fputc('"', f);
            fputc(*s, f);
        }
        fputc('"', f);
    } else {
        fputs(s, f);
    }
}

/* "fixed": the fixed-effect (inverse-variance) result the table prints
 * beside the random-effects one (rp_fe_view: Wald z test). */
static void json_fixed(FILE *f, const mp_report_analysis *a, const char *pad)
{
    mp_pool_result fe;
    rp_fe_view(a, &fe);
    const struct { const char *key; double v; } kv[] = {
        {"estimate", fe.estimate}, {"se", fe.se}, {"stat", fe.stat},
        {"pval", fe.pval}, {"ci_lb", fe.ci_lb}, {"ci_ub", fe.ci_ub}};
    fprintf(f, "%s\"fixed\": {", pad);
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++) {
        fprintf(f, "%s\"%s\": ", i ? ", " : "", kv[i].key);
        mp_json_num(f, kv[i].v);
    }
    fputs("},\n", f);
}

static void json_fit(FILE *f, const mp_report *r, const mp_report_analysis *a, int indent)
{
    const mp_pool_result *p = &a->fit;
    const char *pad = indent ? "    " : "  ";
    fprintf(f, "%s\"measure\": ", pad);
    mp_json_str(f, mp_measure_name(r->measure));
    fprintf(f, ", \"method\": ");
    mp_json_str(f, r->pooling == MP_MH_MH     ? "MH"
                   : r->pooling == MP_MH_PETO ? "PETO"
                                              : mp_method_name(p->method));
    fprintf(f, ", \"test\": ");
    mp_json_str(f, mp_test_name(p->test));
    fprintf(f, ", \"level\": ");
    mp_json_num(f, p->level);
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
        mp_json_num(f, kv[i].v);
        fputs(i + 1 < sizeof kv / sizeof kv[0] ? ", " : ",\n", f);
        if (i == 8 || i == 13 || i == 19) fprintf(f, "\n%s", pad);
    }
    /* the Q-profile limit flags (interface.md "More keys of the pool
     * object"): null where no tau2 CI was computed */
    int has_ci = isfinite(p->tau2_ci_lb) || isfinite(p->tau2_ci_ub);
    fprintf(f, "%s\"tau2_ci_lb_limit\": %s, \"tau2_ci_ub_limit\": %s,\n", pad,
            !has_ci ? "null" : p->tau2_ci_lb_limit ? "true" : "false",
            !has_ci ? "null" : p->tau2_ci_ub_limit ? "true" : "false");
    if (a->mh) { /* rma.mh()/rma.peto(): the tests beside the estimate */
        const mp_mh_result *h = a->mh;
        const struct { const char *key; double v; } mk[] = {
            {"MH", h->MH}, {"MH_pval", h->MH_pval}, {"TA", h->TA}, {"TA_pval", h->TA_pval},
            {"TA_df", h->TA_df}, {"CO", h->CO}, {"CO_pval", h->CO_pval}, {"BD", h->BD},
            {"BD_pval", h->BD_pval}};
        fputs(pad, f);
        for (size_t i = 0; i < sizeof mk / sizeof mk[0]; i++) {
            fprintf(f, "\"%s\": ", mk[i].key);
            mp_json_num(f, mk[i].v);
            fputs(", ", f);
        }
        fprintf(f, "\"k_yi\": %zu,\n", h->k_yi);
    }
    fprintf(f, "%s\"niter\": %zu, \"converged\": %s,\n", pad, p->niter,
            p->converged ? "true" : "false");
    json_fixed(f, a, pad);
    fprintf(f, "%s\"studies\": [", pad);
    double z = mp_qnorm_upper((1.0 - p->level / 100.0) / 2.0);
    for (size_t i = 0; i < a->k; i++) {
        double se = sqrt(a->vi[i]);
        fprintf(f, "%s\n%s  {\"study\": ", i ? "," : "", pad);
        mp_json_str(f, a->label[i]);
        fputs(", \"yi\": ", f);
        mp_json_num(f, a->yi[i]);
        fputs(", \"vi\": ", f);
        mp_json_num(f, a->vi[i]);
        fputs(", \"ci_lb\": ", f);
        mp_json_num(f, a->yi[i] - z * se);
        fputs(", \"ci_ub\": ", f);
        mp_json_num(f, a->yi[i] + z * se);
        fputs(", \"weight\": ", f);
        mp_json_num(f, a->weight[i]);
        fputc('}', f);
    }
    fprintf(f, "\n%s],\n", pad);
}

void mp_json_strings(FILE *f, const mp_msgs *w)
{
    fputc('[', f);
    for (size_t i = 0; w && i < w->n; i++) {
        if (i) fputs(", ", f);
        mp_json_str(f, w->v[i]);
    }
    fputc(']', f);
}

static void json_warnings(FILE *f, const mp_msgs *w, const char *pad)
{
    fprintf(f, "%s\"warnings\": ", pad);
    mp_json_strings(f, w);
}

void mp_report_json(FILE *f, const mp_report *r, void (*extra)(FILE *f, void *ctx), void *ctx)
{
    if (!r->overall) {
        fputs("{\n", f);
        json_fit(f, r, &r->a[0], 0);
        json_warnings(f, r->warnings, "  ");
    } else {
        fputs("{\n  \"by\": ", f);
        mp_json_str(f, r->opt->by);
        fprintf(f, ", \"tau2_common\": %s", r->tau2_common ? "true" : "false");
        fputs(",\n  \"groups\": [\n", f);
        for (size_t g = 0; g < r->n; g++) {
            fputs("   {\"group\": ", f);
            mp_json_str(f, r->a[g].group);
            fputs(",\n", f);
            json_fit(f, r, &r->a[g], 1);
            fprintf(f, "    \"status\": ");
            mp_json_str(f, r->a[g].status == MP_OK ? "ok" : mp_strerror(r->a[g].status));
            fprintf(f, "}%s\n", g + 1 < r->n ? "," : "");
        }
        fputs("  ],\n  \"overall\": {\n", f);
        json_fit(f, r, r->overall, 1);
        fputs("    \"status\": ", f);
        mp_json_str(f, r->overall->status == MP_OK ? "ok" : mp_strerror(r->overall->status));
        fputs("},\n  \"subgroup_test\": ", f);
        if (r->has_subgroup_test) {
            fputs("{\"Q\": ", f);
            mp_json_num(f, r->sub_Q);
            fputs(", \"df\": ", f);
            mp_json_num(f, r->sub_df);
            fputs(", \"pval\": ", f);
            mp_json_num(f, r->sub_p);
            fputs("},\n", f);
        } else {
            fputs("null,\n", f);
        }
        json_warnings(f, r->warnings, "  ");
    }
    if (extra) extra(f, ctx);
    fputs("\n}\n", f);
}

