/* src/report/bubble.c - `reg --plot FILE`: a bubble plot of a meta-regression (SVG, or PNG/PDF rendered from it).
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * After metafor's regplot(): each effect against the moderator, as a circle
 * whose AREA is proportional to its weight 1/(v_i + tau2) (regplot's
 * psize default), the fitted line over the range of the moderator with its
 * pointwise confidence band (predict() at 200 points, so polynomial and
 * other terms of the one column are drawn as curves), and a dashed line at
 * no effect.  For a factor: one column per level with the studies' circles
 * and the level's predicted mean with its CI as a black square and bar.
 * Every study is one element of class "bubble"; the line has class
 * "fit", the band "band", the group means "group-mean". */
#include "report_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define W 640.0
#define H 460.0
#define ML 70.0
#define MR 20.0
#define MT 20.0
#define MB 56.0
#define RMAX 14.0
#define NGRID 200

static const char *const font = "Helvetica, Arial, 'Liberation Sans', 'DejaVu Sans', sans-serif";

/* Predictions at the values of one column given as CSV cells. */
static mp_status predict_at(const mp_design *d, const char *col, char **cells, size_t n,
                            const double *beta, const double *vb, double level, double df,
                            const mp_robust_result *rb, mp_reg_pred *pr, mp_error *err)
{
    size_t len = strlen(col) + 8;
    for (size_t i = 0; i < n; i++) len += strlen(cells[i]) + 4;
    char *csv = malloc(len);
    if (!csv) return MP_FAIL(MP_ENOMEM);
    size_t o = (size_t)snprintf(csv, len, "\"%s\"\n", col);
    for (size_t i = 0; i < n; i++) o += (size_t)snprintf(csv + o, len - o, "\"%s\"\n", cells[i]);
    mp_table *t = NULL;
    double *X = NULL;
    size_t m = 0;
    mp_status st = mp_table_read_mem("plot", csv, o, &t, err);
    if (st == MP_OK) st = mp_design_newrows(d, t, &X, &m, err);
    if (st == MP_OK)
        st = rb ? mp_robust_predict(rb, beta, X, m, 0, level, pr)
                : mp_reg_predict(beta, vb, d->p, X, m, 0, df, level, pr);
    free(X);
    mp_table_free(t);
    free(csv);
    return st;
}

mp_status mp_report_reg_bubble(const char *path, const mp_table *t, const mp_design *d,
                               const double *beta, const double *vb, double level, double df,
                               double tau2, int transf, const mp_robust_result *rb, mp_error *err)
{
    if (!path || !t || !d || !beta || !vb || d->k == 0) return MP_FAIL(MP_EINVAL);
    const char *col;
    int factor;
    size_t nlev;
    const char *const *lev;
    if (mp_design_axis(d, &col, &factor, &nlev, &lev) != MP_OK) {
        mp_error_set(err, NULL, 0, 0,
                     "a bubble plot needs moderators that all read one column (x, x + I(x^2), "
                     "factor(g)); these read none or several");
        return MP_FAIL(MP_EINVAL);
    }
    long c = mp_table_col(t, col);
    if (c < 0) return MP_FAIL(MP_EINVAL);
    const size_t k = d->k;
    mp_status st = MP_OK;
    double *x = malloc(k * sizeof *x), *wt = malloc(k * sizeof *wt);
    char **cells = NULL;
    size_t ncell = 0;
    mp_reg_pred pr;
    memset(&pr, 0, sizeof pr);
    FILE *f = NULL;
    rp_plot plot;
    memset(&plot, 0, sizeof plot);
    if (!x || !wt) { st = MP_FAIL(MP_ENOMEM); goto out; }
    double xlo = INFINITY, xhi = -INFINITY, wmax = 0;
    for (size_t i = 0; i < k; i++) {
        wt[i] = 1 / (d->v[i] + tau2);
        if (wt[i] > wmax) wmax = wt[i];
        const char *cell = mp_table_cell(t, d->row[i], (size_t)c);
        if (factor) {
            x[i] = 0;
            for (size_t l = 0; l < nlev; l++)
                if (strcmp(cell, lev[l]) == 0) x[i] = (double)l + 1;
            if (x[i] == 0) { /* numeric factor labels: compare as numbers */
                double a, b;
                for (size_t l = 0; l < nlev; l++)
                    if (mp_parse_double(cell, strlen(cell), &a) == 1 &&
                        mp_parse_double(lev[l], strlen(lev[l]), &b) == 1 && a == b)
                        x[i] = (double)l + 1;
            }
        } else if (mp_parse_double(cell, strlen(cell), &x[i]) != 1) {
            st = MP_FAIL(MP_EINVAL);
            goto out;
        }
        if (x[i] < xlo) xlo = x[i];
        if (x[i] > xhi) xhi = x[i];
    }
    /* the line (or the group means) */
    ncell = factor ? nlev : NGRID;
    cells = calloc(ncell, sizeof *cells);
    if (!cells) { st = MP_FAIL(MP_ENOMEM); goto out; }
    for (size_t g = 0; g < ncell; g++) {
        cells[g] = malloc(64);
        if (!cells[g]) { st = MP_FAIL(MP_ENOMEM); goto out; }
        if (factor) snprintf(cells[g], 64, "%s", lev[g]);
        else snprintf(cells[g], 64, "%.17g", xlo + (xhi - xlo) * (double)g / (NGRID - 1));
    }
    if (factor)
        for (size_t g = 0; g < ncell; g++)
            if (strlen(lev[g]) > 60) { st = MP_FAIL(MP_EINVAL); goto out; }
    if ((st = predict_at(d, col, cells, ncell, beta, vb, level, df, rb, &pr, err)) != MP_OK) goto out;
    if (factor) { xlo = 0.5; xhi = (double)nlev + 0.5; }
    else if (xhi == xlo) { xlo -= 1; xhi += 1; }
    else { double m = 0.04 * (xhi - xlo); xlo -= m; xhi += m; }
    double ylo = 0, yhi = 0;
    for (size_t i = 0; i < k; i++) { if (d->y[i] < ylo) ylo = d->y[i]; if (d->y[i] > yhi) yhi = d->y[i]; }
    for (size_t g = 0; g < pr.n; g++) {
        if (pr.ci_lb[g] < ylo) ylo = pr.ci_lb[g];
        if (pr.ci_ub[g] > yhi) yhi = pr.ci_ub[g];
    }
    double ym = 0.05 * (yhi - ylo > 0 ? yhi - ylo : 1);
    ylo -= ym;
    yhi += ym;
    if (rp_plot_open(&plot, path) != MP_OK) { st = MP_FAIL(MP_EIO); goto out; }
    f = plot.f;
    const double pw = W - ML - MR, ph = H - MT - MB;
#define PX(v) (ML + ((v) - xlo) / (xhi - xlo) * pw)
#define PY(v) (MT + (yhi - (v)) / (yhi - ylo) * ph)
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" "
               "width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" font-family=\"%s\" "
               "font-size=\"13\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
            W, H, W, H, font);
    /* band and line, or group means */
    if (!factor) {
        fputs("<polygon class=\"band\" fill=\"#9ecae1\" fill-opacity=\"0.45\" stroke=\"none\" points=\"", f);
        for (size_t g = 0; g < pr.n; g++)
            fprintf(f, "%.2f,%.2f ", PX(strtod(cells[g], NULL)), PY(pr.ci_ub[g]));
        for (size_t g = pr.n; g-- > 0;)
            fprintf(f, "%.2f,%.2f ", PX(strtod(cells[g], NULL)), PY(pr.ci_lb[g]));
        fputs("\"/>\n", f);
    }
    if (ylo < 0 && yhi > 0)
        fprintf(f, "<line x1=\"%.2f\" x2=\"%.2f\" y1=\"%.2f\" y2=\"%.2f\" stroke=\"#888\" "
                   "stroke-dasharray=\"4 3\"/>\n", ML, ML + pw, PY(0), PY(0));
    for (size_t i = 0; i < k; i++) {
        double rr = RMAX * sqrt(wt[i] / wmax);
        if (rr < 1.5) rr = 1.5;
        fprintf(f, "<circle class=\"bubble\" cx=\"%.2f\" cy=\"%.2f\" r=\"%.2f\" fill=\"#636363\" "
                   "fill-opacity=\"0.35\" stroke=\"#252525\" stroke-width=\"0.8\"/>\n",
                PX(x[i]), PY(d->y[i]), rr);
    }
    if (!factor) {
        fputs("<polyline class=\"fit\" fill=\"none\" stroke=\"#08519c\" stroke-width=\"2\" points=\"", f);
        for (size_t g = 0; g < pr.n; g++) fprintf(f, "%.2f,%.2f ", PX(strtod(cells[g], NULL)), PY(pr.pred[g]));
        fputs("\"/>\n", f);
    } else {
        for (size_t g = 0; g < pr.n; g++) {
            double cx = PX((double)g + 1);
            fprintf(f, "<g class=\"group-mean\"><line x1=\"%.2f\" x2=\"%.2f\" y1=\"%.2f\" y2=\"%.2f\" "
                       "stroke=\"black\" stroke-width=\"2\"/><rect x=\"%.2f\" y=\"%.2f\" width=\"10\" "
                       "height=\"10\" fill=\"black\"/></g>\n",
                    cx + 18, cx + 18, PY(pr.ci_lb[g]), PY(pr.ci_ub[g]), cx + 13, PY(pr.pred[g]) - 5);
        }
    }
    /* axes */
    fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"none\" stroke=\"black\"/>\n",
            ML, MT, pw, ph);
    rp_ticks tk;
    rp_make_ticks(transf, ylo, yhi, ph, 7.0, 14.0, &tk);
    for (size_t i = 0; i < tk.n; i++) {
        if (tk.at[i] < ylo || tk.at[i] > yhi) continue;
        fprintf(f, "<line x1=\"%.2f\" x2=\"%.2f\" y1=\"%.2f\" y2=\"%.2f\" stroke=\"black\"/>"
                   "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"end\">%s</text>\n",
                ML - 5, ML, PY(tk.at[i]), PY(tk.at[i]), ML - 8, PY(tk.at[i]) + 4, tk.label[i]);
    }
    if (factor) {
        for (size_t g = 0; g < nlev; g++) {
            fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\">", PX((double)g + 1), MT + ph + 18);
            rp_xml_text(f, lev[g], 0);
            fputs("</text>\n", f);
        }
    } else {
        rp_make_ticks(0, xlo, xhi, pw, 7.0, 18.0, &tk);
        for (size_t i = 0; i < tk.n; i++) {
            if (tk.at[i] < xlo || tk.at[i] > xhi) continue;
            fprintf(f, "<line x1=\"%.2f\" x2=\"%.2f\" y1=\"%.2f\" y2=\"%.2f\" stroke=\"black\"/>"
                       "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\">%s</text>\n",
                    PX(tk.at[i]), PX(tk.at[i]), MT + ph, MT + ph + 5, PX(tk.at[i]), MT + ph + 18, tk.label[i]);
        }
    }
    fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\">", ML + pw / 2, H - 14);
    rp_xml_text(f, col, 0);
    fprintf(f, "</text>\n<text transform=\"translate(16 %.2f) rotate(-90)\" text-anchor=\"middle\">%s</text>\n",
            MT + ph / 2, transf ? "Effect (ratio scale)" : "Effect");
    fputs("</svg>\n", f);
#undef PX
#undef PY
    f = NULL;
    {
        mp_status cs = rp_plot_close(&plot); /* renders PNG or PDF by the extension */
        if (st == MP_OK) st = cs;
    }
out:
    if (f) rp_plot_close(&plot);
    if (cells)
        for (size_t g = 0; g < ncell; g++) free(cells[g]);
    free(cells);
    free(x);
    free(wt);
    mp_reg_pred_free(&pr);
    return st;
}
