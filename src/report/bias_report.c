/* src/report/bias_report.c - table, JSON, CSV and funnel plot of `metapool bias`.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The numbers come from include/metapool/bias.h; this file only lays them
 * out.  JSON keys follow the contract (interface.md, "Small-study effects:
 * bias"); values stay on the analysis scale (log for ratio measures), as
 * metafor reports them.  The table shows estimates on the reader's scale
 * (exp for OR, RR, ROM unless --transf none) and reads each test in one line.
 * The funnel plot follows metafor's funnel(): standard error on the vertical
 * axis, 0 at the top; the contour-enhanced version is Peters et al. (2008,
 * J Clin Epidemiol 61:991). */
#include "metapool/report.h"
#include "report_internal.h"

#include <errno.h>
#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* Egger et al. (1997) read asymmetry tests at p < 0.10 (they have low power). */
#define ASYM_ALPHA 0.10

static double level_of(const mp_bias_report *b) { return b->opt ? b->opt->pool.level : 95; }
static int digits_of(const mp_bias_report *b) { return b->opt ? b->opt->digits : 2; }
static int expo_of(const mp_bias_report *b)
{
    return b->opt && b->opt->transf && mp_measure_is_log(b->measure);
}
static double disp(const mp_bias_report *b, double x) { return expo_of(b) ? exp(x) : x; }
static const char *dash(const mp_bias_report *b) { return b->opt && b->opt->ascii ? "-" : "\xe2\x80\x94"; }

/* ---- JSON --------------------------------------------------------------- */

static void jkey(FILE *f, int *first, const char *k)
{
    fprintf(f, "%s\"%s\": ", *first ? "" : ", ", k);
    *first = 0;
}
static void jnum(FILE *f, int *first, const char *k, double x)
{
    jkey(f, first, k);
    mp_json_num(f, x);
}
static void jbool(FILE *f, int *first, const char *k, int x)
{
    jkey(f, first, k);
    fputs(x ? "true" : "false", f);
}
static void jstr(FILE *f, int *first, const char *k, const char *s)
{
    jkey(f, first, k);
    mp_json_str(f, s);
}

void mp_report_bias_json(FILE *f, const mp_bias_report *b)
{
    int first = 1;
    fputs("{", f);
    jstr(f, &first, "measure", mp_measure_name(b->measure));
    jstr(f, &first, "method", b->opt ? mp_method_name(b->opt->pool.method) : "REML");
    jnum(f, &first, "level", level_of(b));
    jnum(f, &first, "k", (double)b->k);
    if (b->fit) {
        fputs(",\n  \"model\": {", f);
        int g = 1;
        jnum(f, &g, "estimate", b->fit->estimate);
        jnum(f, &g, "se", b->fit->se);
        jnum(f, &g, "ci_lb", b->fit->ci_lb);
        jnum(f, &g, "ci_ub", b->fit->ci_ub);
        jnum(f, &g, "tau2", b->fit->tau2);
        fputs("}", f);
    }

    fputs(",\n  \"egger\": ", f);
    if (b->egger && b->egger_st == MP_OK) {
        const mp_egger_result *e = b->egger;
        int g = 1;
        fputs("{", f);
        jstr(f, &g, "model", mp_egger_model_name(e->model));
        jstr(f, &g, "predictor", mp_egger_predictor_name(e->predictor));
        jnum(f, &g, "stat", e->stat);
        jnum(f, &g, "df", e->df);
        jnum(f, &g, "pval", e->pval);
        jnum(f, &g, "limit_estimate", e->limit_estimate);
        jnum(f, &g, "limit_ci_lb", e->limit_ci_lb);
        jnum(f, &g, "limit_ci_ub", e->limit_ci_ub);
        jnum(f, &g, "slope", e->slope);
        jnum(f, &g, "slope_se", e->slope_se);
        fputs("}", f);
    } else fputs("null", f);

    fputs(",\n  \"rank\": ", f);
    if (b->rank && b->rank_st == MP_OK) {
        const mp_rank_result *r = b->rank;
        int g = 1;
        fputs("{", f);
        jnum(f, &g, "tau", r->tau);
        jnum(f, &g, "pval", r->pval);
        jbool(f, &g, "exact", r->exact);
        jbool(f, &g, "ties", r->ties);
        jnum(f, &g, "stat", r->stat);
        fputs("}", f);
    } else fputs("null", f);

    fputs(",\n  \"trimfill\": ", f);
    if (b->tf && b->tf_st == MP_OK) {
        const mp_trimfill_result *t = b->tf;
        int g = 1;
        fputs("{", f);
        jstr(f, &g, "estimator", mp_tf_estimator_name(t->estimator));
        jnum(f, &g, "k0", (double)t->k0);
        jnum(f, &g, "se_k0", t->se_k0);
        jstr(f, &g, "side", mp_tf_side_name(t->side));
        jnum(f, &g, "estimate", t->fit.estimate);
        jnum(f, &g, "se", t->fit.se);
        jnum(f, &g, "stat", t->fit.stat);
        jnum(f, &g, "pval", t->fit.pval);
        jnum(f, &g, "ci_lb", t->fit.ci_lb);
        jnum(f, &g, "ci_ub", t->fit.ci_ub);
        jnum(f, &g, "tau2", t->fit.tau2);
        jnum(f, &g, "p_k0", t->p_k0);
        fputs(",\n    \"filled\": [", f);
        for (size_t j = 0; j < t->k0; j++) {
            fputs(j ? ", {\"yi\": " : "{\"yi\": ", f);
            mp_json_num(f, t->fill_y[j]);
            fputs(", \"vi\": ", f);
            mp_json_num(f, t->fill_v[j]);
            fputs("}", f);
        }
        fputs("]}", f);
    } else fputs("null", f);

    fputs(",\n  \"fsn\": ", f);
    if (b->fsn && b->fsn_st == MP_OK) {
        const mp_fsn_result *s = b->fsn;
        int g = 1;
        fputs("{", f);
        jnum(f, &g, "rosenthal", s->rosenthal);
        jnum(f, &g, "rosenthal_pval", s->rosenthal_pval);
        jnum(f, &g, "orwin", s->orwin);
        jnum(f, &g, "orwin_mean", s->orwin_mean);
        jnum(f, &g, "orwin_target", s->orwin_target);
        jnum(f, &g, "rosenberg", s->rosenberg);
        jnum(f, &g, "rosenberg_pval", s->rosenberg_pval);
        fputs("}", f);
    } else fputs("null", f);

    for (int w = 0; w < 2; w++) {
        const mp_wls_result *r = w ? b->peese : b->pet;
        mp_status st = w ? b->peese_st : b->pet_st;
        fprintf(f, ",\n  \"%s\": ", w ? "peese" : "pet");
        if (r && st == MP_OK) {
            int g = 1;
            fputs("{", f);
            jnum(f, &g, "estimate", r->estimate);
            jnum(f, &g, "se", r->se);
            jnum(f, &g, "stat", r->stat);
            jnum(f, &g, "df", r->df);
            jnum(f, &g, "pval", r->pval);
            jnum(f, &g, "ci_lb", r->ci_lb);
            jnum(f, &g, "ci_ub", r->ci_ub);
            jnum(f, &g, "slope", r->slope);
            jnum(f, &g, "slope_pval", r->slope_pval);
            fputs("}", f);
        } else fputs("null", f);
    }

    fputs(",\n  \"selmodel\": ", f);
    if (b->sel && b->sel_st == MP_OK) {
        const mp_selmodel_result *s = b->sel;
        const char *arr[4] = {"steps", "delta", "delta_se", "k_per_interval"};
        int g = 1;
        fputs("{", f);
        for (int a = 0; a < 4; a++) {
            jkey(f, &g, arr[a]);
            fputs("[", f);
            for (size_t j = 0; j < s->nsteps; j++) {
                if (j) fputs(", ", f);
                double x = a == 0 ? s->steps[j] : a == 1 ? s->delta[j] : a == 2 ? s->delta_se[j]
                                                                         : (double)s->kint[j];
                mp_json_num(f, x);
            }
            fputs("]", f);
        }
        jnum(f, &g, "estimate", s->estimate);
        jnum(f, &g, "se", s->se);
        jnum(f, &g, "stat", s->stat);
        jnum(f, &g, "pval", s->pval);
        jnum(f, &g, "ci_lb", s->ci_lb);
        jnum(f, &g, "ci_ub", s->ci_ub);
        jnum(f, &g, "tau2", s->tau2);
        jnum(f, &g, "tau2_se", s->tau2_se);
        jnum(f, &g, "logLik", s->logLik);
        jnum(f, &g, "LRT", s->LRT);
        jnum(f, &g, "LRT_df", s->LRT_df);
        jnum(f, &g, "LRT_pval", s->LRT_pval);
        jbool(f, &g, "boundary", s->boundary);
        jbool(f, &g, "converged", s->converged);
        fputs("}", f);
    } else fputs("null", f);

    fputs(",\n  \"warnings\": ", f);
    mp_json_strings(f, b->warnings);
    fputs("\n}\n", f);
}

/* ---- CSV ---------------------------------------------------------------- */

static void crow(FILE *f, const char *m, const char *k, double x)
{
    fprintf(f, "%s,%s,", m, k);
    rp_csv_num(f, x);
    fputc('\n', f);
}

void mp_report_bias_csv(FILE *f, const mp_bias_report *b)
{
    fputs("method,key,value\n", f);
    crow(f, "model", "k", (double)b->k);
    if (b->fit) {
        crow(f, "model", "estimate", b->fit->estimate);
        crow(f, "model", "se", b->fit->se);
        crow(f, "model", "tau2", b->fit->tau2);
    }
    if (b->egger && b->egger_st == MP_OK) {
        const mp_egger_result *e = b->egger;
        crow(f, "egger", "stat", e->stat);
        crow(f, "egger", "df", e->df);
        crow(f, "egger", "pval", e->pval);
        crow(f, "egger", "limit_estimate", e->limit_estimate);
        crow(f, "egger", "limit_ci_lb", e->limit_ci_lb);
        crow(f, "egger", "limit_ci_ub", e->limit_ci_ub);
    }
    if (b->rank && b->rank_st == MP_OK) {
        crow(f, "rank", "tau", b->rank->tau);
        crow(f, "rank", "pval", b->rank->pval);
    }
    if (b->tf && b->tf_st == MP_OK) {
        const mp_trimfill_result *t = b->tf;
        crow(f, "trimfill", "k0", (double)t->k0);
        crow(f, "trimfill", "se_k0", t->se_k0);
        crow(f, "trimfill", "side_right", t->side == MP_TF_SIDE_RIGHT);
        crow(f, "trimfill", "estimate", t->fit.estimate);
        crow(f, "trimfill", "se", t->fit.se);
        crow(f, "trimfill", "ci_lb", t->fit.ci_lb);
        crow(f, "trimfill", "ci_ub", t->fit.ci_ub);
        crow(f, "trimfill", "tau2", t->fit.tau2);
        for (size_t j = 0; j < t->k0; j++) {
            char k[32];
            snprintf(k, sizeof k, "filled_yi_%zu", j + 1);
            crow(f, "trimfill", k, t->fill_y[j]);
            snprintf(k, sizeof k, "filled_vi_%zu", j + 1);
            crow(f, "trimfill", k, t->fill_v[j]);
        }
    }
    if (b->fsn && b->fsn_st == MP_OK) {
        crow(f, "fsn", "rosenthal", b->fsn->rosenthal);
        crow(f, "fsn", "rosenthal_pval", b->fsn->rosenthal_pval);
        crow(f, "fsn", "orwin", b->fsn->orwin);
        crow(f, "fsn", "rosenberg", b->fsn->rosenberg);
    }
    for (int w = 0; w < 2; w++) {
        const mp_wls_result *r = w ? b->peese : b->pet;
        if (!r || (w ? b->peese_st : b->pet_st) != MP_OK) continue;
        const char *m = w ? "peese" : "pet";
        crow(f, m, "estimate", r->estimate);
        crow(f, m, "se", r->se);
        crow(f, m, "pval", r->pval);
        crow(f, m, "ci_lb", r->ci_lb);
        crow(f, m, "ci_ub", r->ci_ub);
    }
    if (b->sel && b->sel_st == MP_OK) {
        const mp_selmodel_result *s = b->sel;
        for (size_t j = 0; j < s->nsteps; j++) {
            char k[32];
            snprintf(k, sizeof k, "delta_%zu", j + 1);
            crow(f, "selmodel", k, s->delta[j]);
        }
        crow(f, "selmodel", "estimate", s->estimate);
        crow(f, "selmodel", "se", s->se);
        crow(f, "selmodel", "ci_lb", s->ci_lb);
        crow(f, "selmodel", "ci_ub", s->ci_ub);
        crow(f, "selmodel", "tau2", s->tau2);
        crow(f, "selmodel", "LRT", s->LRT);
        crow(f, "selmodel", "LRT_pval", s->LRT_pval);
    }
}

/* ---- table -------------------------------------------------------------- */

/* "0.17 [0.08, 0.27]" on the reader's scale */
static char *est_ci(char *buf, size_t n, const mp_bias_report *b, double est, double lb, double ub)
{
    char e[32], l[32], u[32];
    int d = digits_of(b);
    snprintf(buf, n, "%s [%s, %s]", rp_fmt(e, sizeof e, disp(b, est), d),
             rp_fmt(l, sizeof l, disp(b, lb), d), rp_fmt(u, sizeof u, disp(b, ub), d));
    return buf;
}

static const char *reading(const mp_bias_report *b, double p, char *buf, size_t n)
{
    snprintf(buf, n, "%s %s", dash(b),
             p < ASYM_ALPHA ? "funnel asymmetry" : "no evidence of funnel asymmetry");
    return buf;
}

static void unavailable(FILE *f, const char *what, mp_status st)
{
    fprintf(f, "%s: not computed (%s)\n", what, mp_strerror(st));
}

void mp_report_bias_table(FILE *f, const mp_bias_report *b)
{
    char p[48], r[80], ec[96], x[32], y[32];
    int d = digits_of(b);
    double lev = level_of(b);
    const char *scale = expo_of(b) ? " (back-transformed: exp)" : "";
    fprintf(f, "Small-study effects and publication bias: %s\n", b->file ? b->file : "");
    fprintf(f, "k = %zu studies, measure %s, model %s%s\n", b->k, mp_measure_name(b->measure),
            b->opt ? mp_method_name(b->opt->pool.method) : "REML", scale);
    if (b->fit)
        fprintf(f, "Pooled estimate %s (%g%% CI)\n",
                est_ci(ec, sizeof ec, b, b->fit->estimate, b->fit->ci_lb, b->fit->ci_ub), lev);
    fputc('\n', f);

    if (b->egger && b->egger_st == MP_OK) {
        const mp_egger_result *e = b->egger;
        if (isnan(e->df))
            fprintf(f, "Egger's test: z = %s, %s %s\n", rp_fmt(x, sizeof x, e->stat, 2),
                    rp_fmt_p(p, sizeof p, e->pval, 3), reading(b, e->pval, r, sizeof r));
        else
            fprintf(f, "Egger's test: t = %s, df = %g, %s %s\n", rp_fmt(x, sizeof x, e->stat, 2),
                    e->df, rp_fmt_p(p, sizeof p, e->pval, 3), reading(b, e->pval, r, sizeof r));
        fprintf(f, "  regression of the effects on %s (model %s)", mp_egger_predictor_name(e->predictor),
                mp_egger_model_name(e->model));
        if (e->has_limit)
            fprintf(f, "; limit estimate %s", est_ci(ec, sizeof ec, b, e->limit_estimate,
                                                      e->limit_ci_lb, e->limit_ci_ub));
        fputc('\n', f);
    } else if (b->egger) unavailable(f, "Egger's test", b->egger_st);

    if (b->rank && b->rank_st == MP_OK) {
        const mp_rank_result *k = b->rank;
        fprintf(f, "Begg's test: Kendall's tau = %s, %s (%s) %s\n", rp_fmt(x, sizeof x, k->tau, 3),
                rp_fmt_p(p, sizeof p, k->pval, 3),
                k->exact ? "exact" : "normal approximation, ties", reading(b, k->pval, r, sizeof r));
    } else if (b->rank) unavailable(f, "Begg's test", b->rank_st);

    if (b->tf && b->tf_st == MP_OK) {
        const mp_trimfill_result *t = b->tf;
        fprintf(f, "Trim and fill (%s): %zu %s filled on the %s (SE of k0 %s); adjusted estimate %s\n",
                mp_tf_estimator_name(t->estimator), t->k0, t->k0 == 1 ? "study" : "studies",
                mp_tf_side_name(t->side), rp_fmt(x, sizeof x, t->se_k0, 2),
                est_ci(ec, sizeof ec, b, t->fit.estimate, t->fit.ci_lb, t->fit.ci_ub));
    } else if (b->tf) unavailable(f, "Trim and fill", b->tf_st);

    if (b->fsn && b->fsn_st == MP_OK) {
        const mp_fsn_result *s = b->fsn;
        fprintf(f, "Fail-safe N: Rosenthal %s (%s), Orwin %s (target %s), Rosenberg %s\n",
                rp_fmt(x, sizeof x, s->rosenthal, 0), rp_fmt_p(p, sizeof p, s->rosenthal_pval, 3),
                rp_fmt(y, sizeof y, s->orwin, 0), rp_fmt(ec, sizeof ec, disp(b, s->orwin_target), d),
                rp_fmt(r, sizeof r, s->rosenberg, 0));
    } else if (b->fsn) unavailable(f, "Fail-safe N", b->fsn_st);

    if (b->pet && b->pet_st == MP_OK) {
        fprintf(f, "PET: intercept %s, %s\n",
                est_ci(ec, sizeof ec, b, b->pet->estimate, b->pet->ci_lb, b->pet->ci_ub),
                rp_fmt_p(p, sizeof p, b->pet->pval, 3));
    } else if (b->pet) unavailable(f, "PET", b->pet_st);
    if (b->peese && b->peese_st == MP_OK) {
        fprintf(f, "PEESE: intercept %s, %s\n",
                est_ci(ec, sizeof ec, b, b->peese->estimate, b->peese->ci_lb, b->peese->ci_ub),
                rp_fmt_p(p, sizeof p, b->peese->pval, 3));
        if (b->pet && b->pet_st == MP_OK)
            /* Stanley & Doucouliagos (2014): PEESE when PET finds an effect */
            fprintf(f, "  PET-PEESE %s %s's estimate (PET %s %s 0.05)\n", dash(b),
                    b->pet->pval < 0.05 ? "PEESE" : "PET", rp_fmt_p(p, sizeof p, b->pet->pval, 3),
                    b->pet->pval < 0.05 ? "<" : ">=");
    } else if (b->peese) unavailable(f, "PEESE", b->peese_st);

    if (b->sel && b->sel_st == MP_OK) {
        const mp_selmodel_result *s = b->sel;
        fputs("Selection model (step function, one-sided p cut at", f);
        for (size_t j = 0; j + 1 < s->nsteps; j++) fprintf(f, "%s %g", j ? "," : "", s->steps[j]);
        fputs("): delta =", f);
        for (size_t j = 1; j < s->nsteps; j++)
            fprintf(f, "%s %s", j > 1 ? "," : "", rp_fmt(x, sizeof x, s->delta[j], 2));
        fprintf(f, "\n  adjusted estimate %s, tau^2 = %s; LRT = %s (%g df), %s %s %s\n",
                est_ci(ec, sizeof ec, b, s->estimate, s->ci_lb, s->ci_ub),
                rp_fmt(x, sizeof x, s->tau2, d + 2), rp_fmt(y, sizeof y, s->LRT, 2), s->LRT_df,
                rp_fmt_p(p, sizeof p, s->LRT_pval, 3), dash(b),
                s->LRT_pval < 0.05 ? "evidence of selection" : "no evidence of selection");
        if (s->boundary)
            fputs("  (an estimate is on the boundary of its range: read with caution)\n", f);
    } else if (b->sel) unavailable(f, "Selection model", b->sel_st);

    if (b->warnings && b->warnings->n) {
        fputc('\n', f);
        for (size_t i = 0; i < b->warnings->n; i++) fprintf(f, "Warning: %s\n", b->warnings->v[i]);
    }
}

/* ---- funnel plot (SVG) --------------------------------------------------- */

static void nice_step(double span, double *step)
{
    double raw = span / 5, p = pow(10, floor(log10(raw))), m = raw / p;
    *step = (m < 1.5 ? 1 : m < 3 ? 2 : m < 7 ? 5 : 10) * p;
}

mp_status mp_report_funnel_svg(const char *path, const mp_bias_report *b, int contours)
{
    if (!path || !b || (b->k && (!b->yi || !b->vi))) return MP_FAIL(MP_EINVAL);
    rp_plot plot;
    if (rp_plot_open(&plot, path) != MP_OK) return MP_FAIL(MP_EIO);
    FILE *f = plot.f;
    const mp_trimfill_result *tf = b->tf && b->tf_st == MP_OK ? b->tf : NULL;
    size_t nf = tf ? tf->k0 : 0;
    double est = b->fit ? b->fit->estimate : NAN;
    double semax = 0, lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < b->k + nf; i++) {
        double y = i < b->k ? b->yi[i] : tf->fill_y[i - b->k];
        double v = i < b->k ? b->vi[i] : tf->fill_v[i - b->k];
        semax = fmax(semax, sqrt(v));
        lo = fmin(lo, y);
        hi = fmax(hi, y);
    }
    if (!(semax > 0)) semax = 1;
    double z = gsl_cdf_ugaussian_Qinv((1 - level_of(b) / 100) / 2);
    double ymax;
    nice_step(semax, &ymax);
    ymax = ceil(semax / ymax) * ymax; /* the axis ends at a tick */
    if (isfinite(est)) { lo = fmin(lo, est - z * ymax); hi = fmax(hi, est + z * ymax); }
    if (contours) { lo = fmin(lo, -2.576 * ymax); hi = fmax(hi, 2.576 * ymax); }
    if (!(hi > lo)) { lo -= 1; hi += 1; }
    double pad = 0.04 * (hi - lo);
    lo -= pad;
    hi += pad;
    const double W = 640, H = 480, L = 70, R = 20, T = 50, B = 60;
    double pw = W - L - R, ph = H - T - B;
#define SX(x) (L + ((x) - lo) / (hi - lo) * pw)
#define SY(s) (T + (s) / ymax * ph)
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%g\" height=\"%g\" "
               "viewBox=\"0 0 %g %g\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">\n",
            W, H, W, H);
    fprintf(f, "<title>Funnel plot");
    if (b->file) { fputs(": ", f); rp_xml_text(f, b->file, 0); }
    fprintf(f, "</title>\n<rect x=\"0\" y=\"0\" width=\"%g\" height=\"%g\" fill=\"white\"/>\n", W, H);
    fprintf(f, "<clipPath id=\"plotarea\"><rect x=\"%g\" y=\"%g\" width=\"%g\" height=\"%g\"/></clipPath>\n",
            L, T, pw, ph);
    fprintf(f, "<g clip-path=\"url(#plotarea)\">\n");
    if (contours) {
        /* regions of two-sided p against 0: outside 99%% white, 95-99 light,
         * 90-95 darker, inside 90 white (metafor's funnel(level = c(90, 95, 99))) */
        static const double lev[3] = {0.99, 0.95, 0.90};
        static const char *fill[3] = {"#d9d9d9", "#a6a6a6", "white"};
        fprintf(f, "<rect class=\"contour\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"white\"/>\n",
                L, T, pw, ph);
        for (int c = 0; c < 3; c++) {
            double zc = gsl_cdf_ugaussian_Qinv((1 - lev[c]) / 2);
            fprintf(f, "<polygon class=\"contour\" data-level=\"%g\" points=\"%.2f,%.2f %.2f,%.2f %.2f,%.2f\" "
                       "fill=\"%s\" stroke=\"none\"/>\n",
                    lev[c], SX(0), SY(0), SX(-zc * ymax), SY(ymax), SX(zc * ymax), SY(ymax), fill[c]);
        }
        fprintf(f, "<polygon class=\"contour-region-outside\" points=\"%.2f,%.2f %.2f,%.2f %.2f,%.2f\" fill=\"none\" stroke=\"#808080\" stroke-width=\"0.5\"/>\n",
                SX(0), SY(0), SX(-2.576 * ymax), SY(ymax), SX(2.576 * ymax), SY(ymax));
        fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#808080\" stroke-dasharray=\"2,2\"/>\n",
                SX(0), SY(0), SX(0), SY(ymax));
    }
    if (isfinite(est)) {
        /* the pseudo-confidence region est +- z se */
        fprintf(f, "<polygon class=\"pseudo-ci\" points=\"%.2f,%.2f %.2f,%.2f %.2f,%.2f\" "
                   "fill=\"%s\" stroke=\"black\" stroke-dasharray=\"5,3\" stroke-width=\"0.8\"/>\n",
                SX(est), SY(0), SX(est - z * ymax), SY(ymax), SX(est + z * ymax), SY(ymax),
                contours ? "none" : "#f2f2f2");
        fprintf(f, "<line class=\"estimate\" x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"black\"/>\n",
                SX(est), SY(0), SX(est), SY(ymax));
    }
    fprintf(f, "</g>\n");
    /* axes: effect (bottom) and standard error (left, 0 at the top) */
    fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"none\" stroke=\"black\"/>\n",
            L, T, pw, ph);
    rp_ticks tk;
    rp_make_ticks(expo_of(b), lo, hi, pw, 7, 10, &tk);
    for (size_t i = 0; i < tk.n; i++) {
        double x = SX(tk.at[i]);
        if (x < L - 0.5 || x > L + pw + 0.5) continue;
        fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"black\"/>"
                   "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\">",
                x, T + ph, x, T + ph + 5, x, T + ph + 19);
        rp_xml_text(f, tk.label[i], 0);
        fputs("</text>\n", f);
    }
    double step;
    nice_step(ymax, &step);
    for (double s = 0; s <= ymax * (1 + 1e-9); s += step) {
        char lab[32];
        snprintf(lab, sizeof lab, "%.3g", s);
        fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"black\"/>"
                   "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"end\">%s</text>\n",
                L - 5, SY(s), L, SY(s), L - 8, SY(s) + 4, lab);
    }
    char xl[64];
    snprintf(xl, sizeof xl, "%s%s%s", expo_of(b) ? "" : "", mp_measure_name(b->measure),
             expo_of(b) ? " (log scale)" : "");
    fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\">", L + pw / 2, H - 18);
    rp_xml_text(f, b->measure == MP_MEASURE_GEN ? "Effect size" : xl, 0);
    fputs("</text>\n", f);
    fprintf(f, "<text x=\"18\" y=\"%.2f\" text-anchor=\"middle\" transform=\"rotate(-90 18 %.2f)\">"
               "Standard error</text>\n", T + ph / 2, T + ph / 2);
    fprintf(f, "<text x=\"%.2f\" y=\"28\" text-anchor=\"middle\" font-size=\"14\">%s</text>\n",
            L + pw / 2, contours ? "Contour-enhanced funnel plot" : "Funnel plot");
    /* the studies, then trim-and-fill's imputed ones as open points */
    for (size_t i = 0; i < b->k; i++)
        fprintf(f, "<circle class=\"study\" cx=\"%.2f\" cy=\"%.2f\" r=\"3.5\" fill=\"black\"/>\n",
                SX(b->yi[i]), SY(sqrt(b->vi[i])));
    for (size_t j = 0; j < nf; j++)
        fprintf(f, "<circle class=\"filled\" cx=\"%.2f\" cy=\"%.2f\" r=\"3.5\" fill=\"white\" stroke=\"black\"/>\n",
                SX(tf->fill_y[j]), SY(sqrt(tf->fill_v[j])));
    if (contours) {
        fprintf(f, "<g font-size=\"10\"><rect x=\"%.2f\" y=\"%.2f\" width=\"12\" height=\"10\" fill=\"#a6a6a6\" stroke=\"black\"/>"
                   "<text x=\"%.2f\" y=\"%.2f\">0.05 &lt; p &lt; 0.10</text>\n",
                L + pw - 120, T + 8, L + pw - 104, T + 17);
        fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"12\" height=\"10\" fill=\"#d9d9d9\" stroke=\"black\"/>"
                   "<text x=\"%.2f\" y=\"%.2f\">0.01 &lt; p &lt; 0.05</text>\n",
                L + pw - 120, T + 22, L + pw - 104, T + 31);
        fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"12\" height=\"10\" fill=\"white\" stroke=\"black\"/>"
                   "<text x=\"%.2f\" y=\"%.2f\">p &lt; 0.01</text></g>\n",
                L + pw - 120, T + 36, L + pw - 104, T + 45);
    }
    fputs("</svg>\n", f);
#undef SX
#undef SY
    return rp_plot_close(&plot);
}
