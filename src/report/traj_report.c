/* src/report/traj_report.c - a time-trajectory fit as a table and as JSON.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The fixed effects of the joint model (metafor's rma.mv), its between-study
 * structure, the separate pooled analyses per time beside the joint model's
 * estimates, and the onset, peak and offset of the pooled effect. */
#include "metapool/report.h"
#include "report_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void json_coef(FILE *f, const mp_traj_coef *c)
{
    fputs("{\"name\": ", f);
    mp_json_str(f, c->name);
    const struct { const char *k; double v; } kv[] = {
        {"estimate", c->estimate}, {"se", c->se}, {"stat", c->stat},
        {"pval", c->pval}, {"ci_lb", c->ci_lb}, {"ci_ub", c->ci_ub}};
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++) {
        fprintf(f, ", \"%s\": ", kv[i].k);
        mp_json_num(f, kv[i].v);
    }
    fputc('}', f);
}

void mp_report_traj_json(FILE *f, const mp_traj_result *r, const mp_pool_result *win,
                         const mp_status *wst, const mp_msgs *warn)
{
    fprintf(f, "{\n  \"k\": %zu, \"n_studies\": %zu, \"n_times\": %zu, \"model\": ", r->k,
            r->n_studies, r->n_times);
    mp_json_str(f, mp_traj_model_name(r->model));
    fputs(", \"struct\": ", f);
    mp_json_str(f, mp_traj_struct_name(r->structure));
    fputs(", \"phi\": ", f);
    mp_json_num(f, r->phi);
    fputs(", \"method\": \"REML\", \"test\": \"z\", \"level\": ", f);
    mp_json_num(f, r->level);
    fputs(",\n  \"coef\": [", f);
    for (size_t j = 0; j < r->p; j++) {
        fputs(j ? ",\n    " : "\n    ", f);
        json_coef(f, &r->coef[j]);
    }
    fputs("\n  ],\n  \"tau2\": [", f);
    for (size_t j = 0; j < r->n_tau2; j++) {
        if (j) fputs(", ", f);
        mp_json_num(f, r->tau2[j]);
    }
    fputs("],\n  \"rho\": ", f);
    mp_json_num(f, r->rho);
    fputs(", \"logLik\": ", f);
    mp_json_num(f, r->logLik);
    fputs(", \"QE\": ", f);
    mp_json_num(f, r->QE);
    fputs(", \"QE_df\": ", f);
    mp_json_num(f, r->QE_df);
    fputs(", \"QE_pval\": ", f);
    mp_json_num(f, r->QE_pval);
    fprintf(f, ",\n  \"niter\": %zu, \"converged\": %s,", r->niter, r->converged ? "true" : "false");
    if (r->n_knots) {
        fputs(" \"knots_logtime\": [", f);
        for (size_t j = 0; j < r->n_knots; j++) {
            if (j) fputs(", ", f);
            mp_json_num(f, r->knots[j]);
        }
        fputs("],", f);
    }
    fputs("\n  \"curve\": [", f);
    for (size_t i = 0; i < r->n_curve; i++) {
        const mp_traj_point *c = &r->curve[i];
        fputs(i ? ",\n    {\"time\": " : "\n    {\"time\": ", f);
        mp_json_num(f, c->time);
        fputs(", \"estimate\": ", f);
        mp_json_num(f, c->estimate);
        fputs(", \"se\": ", f);
        mp_json_num(f, c->se);
        fputs(", \"ci_lb\": ", f);
        mp_json_num(f, c->ci_lb);
        fputs(", \"ci_ub\": ", f);
        mp_json_num(f, c->ci_ub);
        fputc('}', f);
    }
    fputs("\n  ],\n  \"onset\": ", f);
    mp_json_num(f, r->onset);
    fputs(", \"peak\": ", f);
    mp_json_num(f, r->peak);
    fputs(", \"offset\": ", f);
    mp_json_num(f, r->offset);
    fputs(",\n  \"windows\": [", f);
    for (size_t i = 0; i < r->n_times; i++) {
        const mp_pool_result *w = &win[i];
        mp_traj_point jp;
        if (mp_traj_predict(r, r->times[i], &jp) != MP_OK) jp.estimate = jp.ci_lb = jp.ci_ub = NAN;
        fputs(i ? ",\n    {\"time\": " : "\n    {\"time\": ", f);
        mp_json_num(f, r->times[i]);
        fprintf(f, ", \"k\": %zu, \"status\": ", w->k);
        mp_json_str(f, wst[i] == MP_OK ? "ok" : mp_strerror(wst[i]));
        const struct { const char *k; double v; } kv[] = {
            {"estimate", w->estimate}, {"se", w->se}, {"pval", w->pval}, {"ci_lb", w->ci_lb},
            {"ci_ub", w->ci_ub}, {"tau2", w->tau2}, {"I2", w->I2},
            {"joint_estimate", jp.estimate}, {"joint_ci_lb", jp.ci_lb}, {"joint_ci_ub", jp.ci_ub}};
        for (size_t j = 0; j < sizeof kv / sizeof kv[0]; j++) {
            fprintf(f, ", \"%s\": ", kv[j].k);
            mp_json_num(f, kv[j].v);
        }
        fputc('}', f);
    }
    fputs("\n  ],\n  \"warnings\": ", f);
    mp_json_strings(f, warn);
    fputs("\n}\n", f);
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
    mp_report_time_label(t, unit, lab, sizeof lab);
    fprintf(f, "  %-7s %s\n", what, lab);
}

void mp_report_traj_table(FILE *f, const char *file, const char *time_col, const char *unit,
                          int d, const mp_traj_result *r, const mp_pool_result *win,
                          const mp_status *wst)
{
    char b1[128], b2[128], b3[32], lab[64];
    fprintf(f, "Time trajectory: %s\n", file);
    fprintf(f, "  %zu effects from %zu studies at %zu distinct times (column '%s')\n", r->k,
            r->n_studies, r->n_times, time_col);
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
            mp_report_time_label(r->times[j], unit, lab, sizeof lab);
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
        mp_report_time_label(r->times[i], unit, lab, sizeof lab);
        if (wst[i] == MP_OK || wst[i] == MP_ENOCONV)
            fmt_ci(b1, sizeof b1, win[i].estimate, win[i].ci_lb, win[i].ci_ub, d);
        else snprintf(b1, sizeof b1, "(%s)", mp_strerror(wst[i]));
        if (mp_traj_predict(r, r->times[i], &jp) == MP_OK)
            fmt_ci(b2, sizeof b2, jp.estimate, jp.ci_lb, jp.ci_ub, d);
        else snprintf(b2, sizeof b2, "-");
        fprintf(f, "  %-12s %4zu  %-28s %9.4g  %s\n", lab, win[i].k, b1, win[i].tau2, b2);
    }
    fputs("\nTrajectory of the joint model\n", f);
    feature(f, "onset", r->onset, unit, "none (the CI includes 0 at every time)");
    feature(f, "peak", r->peak, unit, "-");
    feature(f, "offset", r->offset, unit, "none within the data");
}

