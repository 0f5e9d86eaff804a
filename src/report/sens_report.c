/* src/report/sens_report.c - tables, CSV and JSON of leave1out, cumul and influence.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Layouts after metafor's print methods: leave1out()/cumul() print one line
 * per refit (estimate, se, z/t, p, CI, Q, Qp, tau2, I2, H2); here the line
 * also carries a text CI bar so the table reads as a forest plot, and the
 * fit of all studies closes it.  influence() prints the eight measures and
 * DFBETAS with "*" for influential studies, as print.infl.rma.uni. */
#include "metapool/report_sensitivity.h"
#include "report_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A report of the pool kind with only what the rp_* helpers read. */
static mp_report as_report(mp_measure m, const mp_report_opts *opt)
{
    mp_report r;
    memset(&r, 0, sizeof r);
    r.measure = m;
    r.opt = opt;
    return r;
}

static int row_ok(const mp_report_sens *r, size_t i)
{
    return !r->status || r->status[i] == MP_OK;
}

static const char *kind_key(const mp_report_sens *r)
{
    return r->kind == MP_SENS_CUMUL ? "added" : "omitted";
}

/* Pad with spaces to `cols` display columns (text is valid UTF-8). */
static void put_padded(FILE *f, const char *s, size_t cols, int right)
{
    size_t n = rp_cols(s), pad = n < cols ? cols - n : 0;
    if (right)
        for (size_t i = 0; i < pad; i++) fputc(' ', f);
    fputs(s, f);
    if (!right)
        for (size_t i = 0; i < pad; i++) fputc(' ', f);
}

/* A label cut to `cols` columns (with "..." / an ellipsis), cleaned. */
static void put_label(FILE *f, const char *s, size_t cols, int ascii)
{
    char *c = rp_clean(s ? s : "", ascii);
    if (!c) return;
    if (rp_cols(c) > cols) {
        size_t cut = rp_prefix(c, cols - 1);
        c[cut] = '\0';
        fputs(c, f);
        fputs(ascii ? "." : "\u2026", f);
    } else {
        put_padded(f, c, cols, 0);
    }
    free(c);
}

/* ---- leave1out / cumul ---------------------------------------------------- */

#define BAR 25 /* columns of the text CI bar */

static int bar_col(double x, double lo, double hi)
{
    double c = (x - lo) / (hi - lo) * (BAR - 1);
    if (!(c > 0)) return 0;
    if (c > BAR - 1) return BAR - 1;
    return (int)lround(c);
}

/* One text CI bar: '─' over the CI, '■' at the estimate, '┆' at the full
 * estimate where nothing else is drawn (ASCII: '-', 'o', ':'). */
static void put_bar(FILE *f, double est, double lb, double ub, double ref, double lo, double hi,
                    int ascii, int diamond)
{
    const char *cell[BAR];
    for (int i = 0; i < BAR; i++) cell[i] = " ";
    if (isfinite(ref)) cell[bar_col(ref, lo, hi)] = ascii ? ":" : "\u2506";
    if (isfinite(lb) && isfinite(ub)) {
        for (int i = bar_col(lb, lo, hi); i <= bar_col(ub, lo, hi); i++) cell[i] = ascii ? "-" : "\u2500";
        if (isfinite(ref)) { /* the full estimate stays visible inside a CI */
            int rc = bar_col(ref, lo, hi);
            if (rc >= bar_col(lb, lo, hi) && rc <= bar_col(ub, lo, hi)) cell[rc] = ascii ? "+" : "\u253C";
        }
        if (isfinite(est))
            cell[bar_col(est, lo, hi)] = diamond ? (ascii ? "#" : "\u25C6") : (ascii ? "o" : "\u25A0");
    }
    for (int i = 0; i < BAR; i++) fputs(cell[i], f);
}

static void sens_title(FILE *f, const mp_report_sens *r, const mp_report *rr)
{
    const mp_pool_opts *o = &r->opt->pool;
    char eff[32];
    rp_effect_short(rr, eff, sizeof eff);
    if (r->kind == MP_SENS_CUMUL) {
        fprintf(f, "Cumulative meta-analysis (metafor's cumul()): %s\n", r->file ? r->file : "");
        if (r->order)
            fprintf(f, "Studies added in %s order of '%s' (ties in file order).\n",
                    r->decreasing ? "decreasing" : "increasing", r->order);
        else fprintf(f, "Studies added in file order.\n");
    } else {
        fprintf(f, "Leave-one-out analysis (metafor's leave1out()): %s\n", r->file ? r->file : "");
        fprintf(f, "Each row: the analysis without the study named.\n");
    }
    if (o->method == MP_METHOD_FE)
        fprintf(f, "%s, fixed-effect model, %s, %g%% CI.\n\n", eff,
                o->test == MP_TEST_KNHA ? "Hartung-Knapp t test" : "z test", o->level);
    else
        fprintf(f, "%s, random-effects model (%s), %s, %g%% CI.\n\n", eff, mp_method_name(o->method),
                o->test == MP_TEST_KNHA ? "Hartung-Knapp-Sidik-Jonkman t test" : "z test", o->level);
}

void mp_report_sens_table(FILE *f, const mp_report_sens *r)
{
    mp_report rr = as_report(r->measure, r->opt);
    int ascii = r->opt->ascii, d = r->opt->digits;
    sens_title(f, r, &rr);
    /* bar range: every CI and the full one (analysis scale; log for ratios) */
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < r->k; i++) {
        if (!row_ok(r, i)) continue;
        if (isfinite(r->rows[i].ci_lb)) lo = fmin(lo, r->rows[i].ci_lb);
        if (isfinite(r->rows[i].ci_ub)) hi = fmax(hi, r->rows[i].ci_ub);
    }
    if (r->full && isfinite(r->full->ci_lb)) { lo = fmin(lo, r->full->ci_lb); hi = fmax(hi, r->full->ci_ub); }
    if (!(hi > lo)) { lo = -1; hi = 1; }
    size_t lab = 14;
    for (size_t i = 0; i < r->k; i++) {
        char *c = rp_clean(r->label[i] ? r->label[i] : "", ascii);
        if (c && rp_cols(c) > lab) lab = rp_cols(c);
        free(c);
    }
    if (lab > 28) lab = 28;
    char eff[32], head[64];
    rp_effect_short(&rr, eff, sizeof eff);
    snprintf(head, sizeof head, "%s [%g%% CI]", eff, r->opt->pool.level);
    /* widths of the estimate [CI] text */
    char buf[64], b2[64], b3[64], line[192];
    size_t ew = rp_cols(head);
    for (size_t i = 0; i <= r->k; i++) {
        const mp_pool_result *p = i < r->k ? &r->rows[i] : r->full;
        if (!p || (i < r->k && !row_ok(r, i))) continue;
        snprintf(line, sizeof line, "%s [%s, %s]", rp_fmt(buf, sizeof buf, rp_disp(&rr, p->estimate), d),
                 rp_fmt(b2, sizeof b2, rp_disp(&rr, p->ci_lb), d), rp_fmt(b3, sizeof b3, rp_disp(&rr, p->ci_ub), d));
        if (strlen(line) > ew) ew = strlen(line);
    }
    const char *tau2h = ascii ? "tau2" : "\u03C4\u00B2", *i2h = ascii ? "I2" : "I\u00B2";
    put_padded(f, r->kind == MP_SENS_CUMUL ? "Study added" : "Study omitted", lab, 0);
    fputs("  ", f);
    put_padded(f, head, ew, 0);
    fputs("  ", f);
    put_padded(f, "", BAR, 0);
    fputs("  ", f);
    put_padded(f, "p", 8, 1);
    put_padded(f, tau2h, 9, 1);
    put_padded(f, i2h, 8, 1);
    put_padded(f, "Q", 10, 1);
    fputc('\n', f);
    double ref = r->full ? r->full->estimate : NAN;
    for (size_t i = 0; i <= r->k; i++) {
        const mp_pool_result *p = i < r->k ? &r->rows[i] : r->full;
        if (i == r->k) {
            if (!p) break;
            size_t w = lab + 2 + ew + 2 + BAR + 2 + 35;
            for (size_t j = 0; j < w; j++) fputs(ascii ? "-" : "\u2500", f);
            fputc('\n', f);
            snprintf(line, sizeof line, "All studies (k = %zu)", p->k);
            put_label(f, line, lab, ascii);
        } else {
            put_label(f, r->label[i], lab, ascii);
        }
        fputs("  ", f);
        if (i < r->k && !row_ok(r, i)) {
            put_padded(f, "NA (the fit failed)", ew, 0);
            fputc('\n', f);
            continue;
        }
        snprintf(line, sizeof line, "%s [%s, %s]", rp_fmt(buf, sizeof buf, rp_disp(&rr, p->estimate), d),
                 rp_fmt(b2, sizeof b2, rp_disp(&rr, p->ci_lb), d), rp_fmt(b3, sizeof b3, rp_disp(&rr, p->ci_ub), d));
        put_padded(f, line, ew, 1);
        fputs("  ", f);
        put_bar(f, p->estimate, p->ci_lb, p->ci_ub, ref, lo, hi, ascii, i == r->k);
        fputs("  ", f);
        char pv[64];
        rp_fmt_p(pv, sizeof pv, p->pval, d);
        /* "p < 0.001" / "p = 0.042": the table shows the number only */
        put_padded(f, strncmp(pv, "p = ", 4) == 0 ? pv + 4 : strncmp(pv, "p ", 2) == 0 ? pv + 2 : pv, 8, 1);
        put_padded(f, rp_fmt(buf, sizeof buf, p->tau2, d + 2), 9, 1);
        snprintf(line, sizeof line, "%s%%", rp_fmt(buf, sizeof buf, p->I2, 1));
        put_padded(f, line, 8, 1);
        put_padded(f, rp_fmt(buf, sizeof buf, p->Q, d), 10, 1);
        fputc('\n', f);
    }
    if (r->full)
        fprintf(f, "\n%s (%s inside a CI) marks the estimate of all studies; p, %s, %s and Q are\n"
                   "those of each row's fit.\n",
                ascii ? ":" : "\u2506", ascii ? "+" : "\u253C", tau2h, i2h);
}

static void csv_row(FILE *f, const char *label, const mp_pool_result *p, int ok)
{
    mp_csv_field(f, label, ',');
    fprintf(f, ",%zu", p->k);
    const double v[] = {p->estimate, p->se, p->stat, p->df, p->pval, p->ci_lb, p->ci_ub,
                        p->Q, p->Q_pval, p->tau2, p->I2, p->H2};
    for (size_t j = 0; j < sizeof v / sizeof v[0]; j++) {
        fputc(',', f);
        if (ok) rp_csv_num(f, v[j]);
    }
    fputc('\n', f);
}

void mp_report_sens_csv(FILE *f, const mp_report_sens *r)
{
    fprintf(f, "%s,k,estimate,se,stat,df,pval,ci_lb,ci_ub,Q,Q_pval,tau2,I2,H2\n", kind_key(r));
    for (size_t i = 0; i < r->k; i++) csv_row(f, r->label[i], &r->rows[i], row_ok(r, i));
    if (r->full) csv_row(f, "(all studies)", r->full, 1);
}

static void json_fit(FILE *f, const mp_pool_result *p, int ok)
{
    static const char *const keys[] = {"estimate", "se", "stat", "df", "pval", "ci_lb", "ci_ub",
                                       "Q", "Q_pval", "tau2", "I2", "H2"};
    const double v[] = {p->estimate, p->se, p->stat, p->df, p->pval, p->ci_lb, p->ci_ub,
                        p->Q, p->Q_pval, p->tau2, p->I2, p->H2};
    fprintf(f, "\"k\": %zu", p->k);
    for (size_t j = 0; j < sizeof v / sizeof v[0]; j++) {
        fprintf(f, ", \"%s\": ", keys[j]);
        mp_json_num(f, ok ? v[j] : NAN);
    }
}

void mp_report_sens_json(FILE *f, const mp_report_sens *r)
{
    const mp_pool_opts *o = &r->opt->pool;
    fprintf(f, "{\n  \"analysis\": \"%s\", \"k\": %zu, \"measure\": ",
            r->kind == MP_SENS_CUMUL ? "cumul" : "leave1out", r->k);
    mp_json_str(f, mp_measure_name(r->measure));
    fprintf(f, ", \"method\": \"%s\", \"test\": \"%s\", \"level\": ", mp_method_name(o->method),
            mp_test_name(o->test));
    mp_json_num(f, o->level);
    if (r->kind == MP_SENS_CUMUL) {
        fputs(", \"order\": ", f);
        if (r->order) mp_json_str(f, r->order);
        else fputs("null", f);
        fprintf(f, ", \"decreasing\": %s", r->decreasing ? "true" : "false");
    }
    if (r->full) {
        fputs(",\n  \"full\": {", f);
        json_fit(f, r->full, 1);
        fputc('}', f);
    }
    fputs(",\n  \"rows\": [", f);
    for (size_t i = 0; i < r->k; i++) {
        fprintf(f, "%s\n    {\"%s\": ", i ? "," : "", kind_key(r));
        mp_json_str(f, r->label[i]);
        fputs(", ", f);
        json_fit(f, &r->rows[i], row_ok(r, i));
        if (!row_ok(r, i)) {
            fputs(", \"error\": ", f);
            mp_json_str(f, mp_strerror(r->status[i]));
        }
        fputc('}', f);
    }
    fputs("\n  ],\n  \"warnings\": ", f);
    mp_json_strings(f, r->warnings);
    fputs("\n}\n", f);
}

/* ---- influence ------------------------------------------------------------- */

#define NMEAS 8

static const char *const meas_head[NMEAS] = {"rstudent", "dffits", "cook.d", "cov.r",
                                             "tau2.del", "QE.del", "hat",    "weight"};

static double meas_value(const mp_influence *inf, size_t i, size_t j)
{
    const double *a[NMEAS] = {inf->rstudent, inf->dffits, inf->cook_d, inf->cov_r,
                              inf->tau2_del, inf->QE_del, inf->hat,    inf->weight};
    return a[j][i];
}

static const char *coef_name(const mp_report_infl *r, size_t j)
{
    return r->coef ? r->coef[j] : "intrcpt";
}

void mp_report_infl_table(FILE *f, const mp_report_infl *r)
{
    const mp_influence *inf = r->inf;
    const mp_pool_opts *o = &r->opt->pool;
    int ascii = r->opt->ascii, d = r->opt->digits;
    size_t k = inf->k, p = inf->p, ncol = NMEAS + p;
    fprintf(f, "Influence diagnostics (metafor's influence()): %s\n", r->file ? r->file : "");
    if (o->method == MP_METHOD_FE) fprintf(f, "Fixed-effect model");
    else fprintf(f, "Random-effects model (%s)", mp_method_name(o->method));
    fprintf(f, ", %s, k = %zu, p = %zu.\n\n", o->test == MP_TEST_KNHA ? "knha" : "z test", k, p);
    /* column widths from the formatted values */
    size_t *w = calloc(ncol, sizeof *w), lab = 5;
    char buf[64], hd[96];
    if (!w) return;
    for (size_t j = 0; j < ncol; j++) {
        if (j < NMEAS) w[j] = strlen(meas_head[j]);
        else {
            snprintf(hd, sizeof hd, p > 1 ? "dfbs.%s" : "dfbs", coef_name(r, j - NMEAS));
            w[j] = rp_cols(hd);
        }
        for (size_t i = 0; i < k; i++) {
            double x = j < NMEAS ? meas_value(inf, i, j) : inf->dfbetas[i * p + j - NMEAS];
            size_t n = strlen(rp_fmt(buf, sizeof buf, x, d));
            if (n > w[j]) w[j] = n;
        }
    }
    for (size_t i = 0; i < k; i++) {
        char *c = rp_clean(r->label[i] ? r->label[i] : "", ascii);
        if (c && rp_cols(c) > lab) lab = rp_cols(c);
        free(c);
    }
    if (lab > 28) lab = 28;
    put_padded(f, "Study", lab, 0);
    for (size_t j = 0; j < ncol; j++) {
        fputs("  ", f);
        if (j < NMEAS) put_padded(f, meas_head[j], w[j], 1);
        else {
            snprintf(hd, sizeof hd, p > 1 ? "dfbs.%s" : "dfbs", coef_name(r, j - NMEAS));
            put_padded(f, hd, w[j], 1);
        }
    }
    fputs("  inf\n", f);
    size_t ninf = 0;
    for (size_t i = 0; i < k; i++) {
        put_label(f, r->label[i], lab, ascii);
        for (size_t j = 0; j < ncol; j++) {
            double x = j < NMEAS ? meas_value(inf, i, j) : inf->dfbetas[i * p + j - NMEAS];
            fputs("  ", f);
            put_padded(f, rp_fmt(buf, sizeof buf, x, d), w[j], 1);
        }
        fputs(inf->influential[i] ? "    *" : "", f);
        ninf += inf->influential[i] != 0;
        if (inf->status && inf->status[i] != MP_OK)
            fprintf(f, "  (fit without this study: %s)", mp_strerror(inf->status[i]));
        fputc('\n', f);
    }
    free(w);
    fprintf(f, "\n* influential (%zu of %zu), metafor's rule: |dffits| > 3%s(p/(k-p)), or\n"
               "  pchisq(cook.d, p) > 0.5, or hat > 3p/k, or any |dfbs| > 1.\n",
            ninf, k, ascii ? "sqrt" : "\u221A");
    fputs("rstudent: externally studentized residual; cov.r: covariance ratio; tau2.del, QE.del:\n"
          "tau2 and QE with the study deleted; weight in percent.\n", f);
}

void mp_report_infl_csv(FILE *f, const mp_report_infl *r)
{
    const mp_influence *inf = r->inf;
    fputs("study,rstudent,dffits,cook_d,cov_r,tau2_del,QE_del,hat,weight", f);
    for (size_t j = 0; j < inf->p; j++) {
        char h[128];
        snprintf(h, sizeof h, "dfbetas_%s", coef_name(r, j));
        fputc(',', f);
        mp_csv_field(f, h, ',');
    }
    fputs(",influential,baujat_x,baujat_y\n", f);
    for (size_t i = 0; i < inf->k; i++) {
        mp_csv_field(f, r->label[i], ',');
        for (size_t j = 0; j < NMEAS; j++) {
            fputc(',', f);
            rp_csv_num(f, meas_value(inf, i, j));
        }
        for (size_t j = 0; j < inf->p; j++) {
            fputc(',', f);
            rp_csv_num(f, inf->dfbetas[i * inf->p + j]);
        }
        fprintf(f, ",%d,", inf->influential[i] != 0);
        rp_csv_num(f, inf->baujat_x[i]);
        fputc(',', f);
        rp_csv_num(f, inf->baujat_y[i]);
        fputc('\n', f);
    }
}

void mp_report_infl_json(FILE *f, const mp_report_infl *r)
{
    static const char *const keys[NMEAS] = {"rstudent", "dffits", "cook_d", "cov_r",
                                            "tau2_del", "QE_del", "hat",    "weight"};
    const mp_influence *inf = r->inf;
    const mp_pool_opts *o = &r->opt->pool;
    fprintf(f, "{\n  \"analysis\": \"influence\", \"k\": %zu, \"p\": %zu, \"method\": \"%s\", \"test\": \"%s\",\n  \"coef\": [",
            inf->k, inf->p, mp_method_name(o->method), mp_test_name(o->test));
    for (size_t j = 0; j < inf->p; j++) {
        if (j) fputs(", ", f);
        mp_json_str(f, coef_name(r, j));
    }
    fputs("],\n  \"rows\": [", f);
    for (size_t i = 0; i < inf->k; i++) {
        fprintf(f, "%s\n    {\"study\": ", i ? "," : "");
        mp_json_str(f, r->label[i]);
        for (size_t j = 0; j < NMEAS; j++) {
            fprintf(f, ", \"%s\": ", keys[j]);
            mp_json_num(f, meas_value(inf, i, j));
        }
        fputs(", \"dfbetas\": [", f);
        for (size_t j = 0; j < inf->p; j++) {
            if (j) fputs(", ", f);
            mp_json_num(f, inf->dfbetas[i * inf->p + j]);
        }
        fprintf(f, "], \"influential\": %s, \"baujat_x\": ", inf->influential[i] ? "true" : "false");
        mp_json_num(f, inf->baujat_x[i]);
        fputs(", \"baujat_y\": ", f);
        mp_json_num(f, inf->baujat_y[i]);
        if (inf->status && inf->status[i] != MP_OK) {
            fputs(", \"error\": ", f);
            mp_json_str(f, mp_strerror(inf->status[i]));
        }
        fputc('}', f);
    }
    fputs("\n  ],\n  \"warnings\": ", f);
    mp_json_strings(f, r->warnings);
    fputs("\n}\n", f);
}
