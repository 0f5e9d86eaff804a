/* src/report/sens_svg.c - SVG plots of the sensitivity analyses: leave1out/cumul forest plot, Baujat plot.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The forest plot follows metafor's forest(leave1out(...)) / forest(cumul(...)):
 * one row per refit (label, CI line, a square at the estimate), the fit of
 * all studies as a diamond, the line of no effect and a dashed line at the
 * overall estimate, "estimate [CI]" on the right.  The Baujat plot follows
 * metafor's baujat(): x = squared Pearson residual (contribution to the Q
 * statistic), y = influence on the overall result, each study a point
 * labelled with its name.  Every study (row) is exactly one element of
 * class "study-marker", as in the pool forest plot (svg.c), so tests and
 * style sheets can count them. */
#include "metapool/report_sensitivity.h"
#include "report_internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FS 13.0
#define FS_SMALL 11.0
#define ROW 20.0
#define MARGIN 18.0
#define PLOT_W 340.0
#define GAP 18.0
#define CW (0.60 * FS)

static const char *const font = "Helvetica, Arial, 'Liberation Sans', 'DejaVu Sans', sans-serif";

static void text(FILE *f, double x, double y, const char *anchor, const char *cls, const char *s,
                 size_t cols)
{
    fprintf(f, "<text x=\"%.2f\" y=\"%.2f\"", x, y);
    if (anchor) fprintf(f, " text-anchor=\"%s\"", anchor);
    if (cls) fprintf(f, " class=\"%s\"", cls);
    fputc('>', f);
    rp_xml_text(f, s, cols);
    fputs("</text>\n", f);
}

/* Write the document: header, the body drawn into memory, footer. */
static mp_status write_svg(const char *path, const char *title, const char *file, const char *body,
                           size_t n, double w, double h)
{
    rp_plot plot;
    if (rp_plot_open(&plot, path) != MP_OK) return MP_EIO;
    FILE *f = plot.f;
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%.0f\" height=\"%.0f\" "
               "viewBox=\"0 0 %.0f %.0f\" font-family=\"%s\" font-size=\"%.0f\">\n",
            ceil(w), ceil(h), ceil(w), ceil(h), font, FS);
    fprintf(f, "<title>%s", title);
    if (file) { fputs(": ", f); rp_xml_text(f, file, 0); }
    fputs("</title>\n", f);
    fprintf(f, "<style>.header,.pooled{font-weight:bold}.note{font-size:%.0fpx;fill:#333}"
               ".tick-label,.axis-title{font-size:%.0fpx}.study-label,.study-id{font-size:%.0fpx}</style>\n",
            FS_SMALL, FS_SMALL + 1, FS_SMALL);
    fputs("<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n", f);
    fwrite(body, 1, n, f);
    fputs("</svg>\n", f);
    return rp_plot_close(&plot);
}

/* ---- forest plot of leave1out / cumul -------------------------------------- */

typedef struct {
    double lo, hi, xp;
} axis_map;

static double AX(const axis_map *a, double x) { return a->xp + (x - a->lo) / (a->hi - a->lo) * PLOT_W; }

static void bottom_axis(FILE *f, const axis_map *a, int expo, double y, const char *title)
{
    rp_ticks tk;
    rp_make_ticks(expo, a->lo, a->hi, PLOT_W, 0.64 * FS, 10.0, &tk);
    fprintf(f, "<g class=\"axis\" stroke=\"#000\" stroke-width=\"1\">\n");
    fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n", a->xp, y, a->xp + PLOT_W, y);
    for (size_t i = 0; i < tk.n; i++)
        fprintf(f, "<line class=\"tick\" x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n",
                AX(a, tk.at[i]), y, AX(a, tk.at[i]), y + 5);
    fputs("</g>\n", f);
    for (size_t i = 0; i < tk.n; i++) text(f, AX(a, tk.at[i]), y + 5 + FS, "middle", "tick-label", tk.label[i], 0);
    text(f, a->xp + PLOT_W / 2, y + 5 + 2.3 * FS, "middle", "axis-title", title, 0);
}

static int sens_ok(const mp_report_sens *r, size_t i)
{
    return (!r->status || r->status[i] == MP_OK) && isfinite(r->rows[i].estimate) &&
           isfinite(r->rows[i].ci_lb) && isfinite(r->rows[i].ci_ub);
}

mp_status mp_report_sens_svg(const char *path, const mp_report_sens *r)
{
    mp_report rr;
    memset(&rr, 0, sizeof rr);
    rr.measure = r->measure;
    rr.opt = r->opt;
    int expo = rp_expo(&rr), d = r->opt->digits;
    axis_map a = {INFINITY, -INFINITY, 0};
    for (size_t i = 0; i < r->k; i++)
        if (sens_ok(r, i)) { a.lo = fmin(a.lo, r->rows[i].ci_lb); a.hi = fmax(a.hi, r->rows[i].ci_ub); }
    if (r->full && isfinite(r->full->ci_lb)) { a.lo = fmin(a.lo, r->full->ci_lb); a.hi = fmax(a.hi, r->full->ci_ub); }
    if (!(a.hi > a.lo)) { a.lo = -1; a.hi = 1; }
    a.lo = fmin(a.lo, 0.0); /* the line of no effect is always on the axis */
    a.hi = fmax(a.hi, 0.0);
    double pad = 0.04 * (a.hi - a.lo);
    a.lo -= pad;
    a.hi += pad;
    size_t lab = 16;
    for (size_t i = 0; i < r->k; i++) {
        char *c = rp_clean(r->label[i] ? r->label[i] : "", 0);
        if (c && rp_cols(c) > lab) lab = rp_cols(c);
        free(c);
    }
    if (lab > 40) lab = 40;
    double xl = MARGIN, xa;
    a.xp = xl + (double)lab * CW + GAP;
    xa = a.xp + PLOT_W + GAP + 20 * 0.64 * FS;
    char *mem = NULL;
    size_t memn = 0;
    FILE *f = open_memstream(&mem, &memn);
    if (!f) return MP_EIO;
    char eff[32], head[96], b1[64], b2[64], b3[64], line[256];
    rp_effect_short(&rr, eff, sizeof eff);
    snprintf(head, sizeof head, "%s [%g%% CI]", eff, r->opt->pool.level);
    double y = MARGIN + ROW / 2;
    text(f, xl, y + FS * 0.35, NULL, "header", r->kind == MP_SENS_CUMUL ? "Study added" : "Study omitted", 0);
    text(f, xa, y + FS * 0.35, "end", "header", head, 0);
    fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#000\" stroke-width=\"0.8\"/>\n",
            xl, y + ROW / 2, xa, y + ROW / 2);
    y += ROW * 1.1;
    double ytop = y - ROW / 2;
    for (size_t i = 0; i < r->k; i++, y += ROW) {
        text(f, xl, y + FS * 0.35, NULL, "study-label", r->label[i], lab);
        const mp_pool_result *p = &r->rows[i];
        if (!sens_ok(r, i)) {
            /* still one marker per row: an empty one, and the reason */
            fprintf(f, "<circle class=\"study-marker failed\" cx=\"%.2f\" cy=\"%.2f\" r=\"3\" fill=\"none\" stroke=\"#999\"/>\n",
                    AX(&a, 0.0), y);
            text(f, xa, y + FS * 0.35, "end", "num", "NA", 0);
            continue;
        }
        fprintf(f, "<line class=\"ci\" x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#000\" stroke-width=\"1.2\"/>\n",
                AX(&a, p->ci_lb), y, AX(&a, p->ci_ub), y);
        fprintf(f, "<rect class=\"study-marker\" x=\"%.2f\" y=\"%.2f\" width=\"8\" height=\"8\" fill=\"#1f4e79\"/>\n",
                AX(&a, p->estimate) - 4, y - 4);
        snprintf(line, sizeof line, "%s [%s, %s]", rp_fmt(b1, sizeof b1, rp_disp(&rr, p->estimate), d),
                 rp_fmt(b2, sizeof b2, rp_disp(&rr, p->ci_lb), d), rp_fmt(b3, sizeof b3, rp_disp(&rr, p->ci_ub), d));
        text(f, xa, y + FS * 0.35, "end", "num", line, 0);
    }
    if (r->full && isfinite(r->full->estimate)) {
        const mp_pool_result *p = r->full;
        y += ROW * 0.3;
        snprintf(line, sizeof line, "All studies (k = %zu)", p->k);
        text(f, xl, y + FS * 0.35, NULL, "pooled", line, 0);
        fprintf(f, "<polygon class=\"diamond %s\" points=\"%.2f,%.2f %.2f,%.2f %.2f,%.2f %.2f,%.2f\" fill=\"#333\"/>\n",
                p->method == MP_METHOD_FE ? "fixed" : "random", AX(&a, p->ci_lb), y, AX(&a, p->estimate), y - 6.5,
                AX(&a, p->ci_ub), y, AX(&a, p->estimate), y + 6.5);
        snprintf(line, sizeof line, "%s [%s, %s]", rp_fmt(b1, sizeof b1, rp_disp(&rr, p->estimate), d),
                 rp_fmt(b2, sizeof b2, rp_disp(&rr, p->ci_lb), d), rp_fmt(b3, sizeof b3, rp_disp(&rr, p->ci_ub), d));
        text(f, xa, y + FS * 0.35, "end", "pooled", line, 0);
        y += ROW;
    }
    double ybot = y - ROW / 2 + 4;
    fprintf(f, "<line class=\"no-effect\" x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#444\" stroke-width=\"1\"/>\n",
            AX(&a, 0.0), ytop, AX(&a, 0.0), ybot);
    if (r->full && isfinite(r->full->estimate))
        fprintf(f, "<line class=\"pooled-line\" x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#888\" stroke-width=\"0.8\" stroke-dasharray=\"4,3\"/>\n",
                AX(&a, r->full->estimate), ytop, AX(&a, r->full->estimate), ybot);
    const char *lng = rp_measure_long(r->measure);
    if (r->measure == MP_MEASURE_GEN) snprintf(line, sizeof line, "Effect size");
    else if (expo) snprintf(line, sizeof line, "%c%s (log scale)", lng[0] - 32, lng + 1);
    else if (mp_measure_is_log(r->measure)) snprintf(line, sizeof line, "Log %s", lng);
    else snprintf(line, sizeof line, "%c%s", lng[0] - 32, lng + 1);
    bottom_axis(f, &a, expo, ybot, line);
    y = ybot + 5 + 2.3 * FS + ROW;
    const mp_pool_opts *o = &r->opt->pool;
    snprintf(line, sizeof line, "%s; %s, %s, %g%% CIs.",
             r->kind == MP_SENS_CUMUL ? "Cumulative meta-analysis: each row adds the study named"
                                      : "Leave-one-out: each row omits the study named",
             o->method == MP_METHOD_FE ? "fixed-effect model" : mp_method_name(o->method),
             o->test == MP_TEST_KNHA ? "Hartung-Knapp t test" : "z test", o->level);
    fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" class=\"note\">", xl, y);
    rp_xml_text(f, line, 0);
    fputs("</text>\n", f);
    double h = y + MARGIN, w = fmax(xa + MARGIN, xl + (double)strlen(line) * FS_SMALL * 0.55 + MARGIN);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) { free(mem); return MP_EIO; }
    mp_status st = write_svg(path, r->kind == MP_SENS_CUMUL ? "Cumulative forest plot" : "Leave-one-out forest plot",
                             r->file, mem, memn, w, h);
    int e = errno;
    free(mem);
    errno = e;
    return st;
}

/* ---- Baujat plot ---------------------------------------------------------- */

#define BJ_W 420.0
#define BJ_H 320.0

mp_status mp_report_baujat_svg(const char *path, const mp_report_infl *r)
{
    const mp_influence *inf = r->inf;
    double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
    for (size_t i = 0; i < inf->k; i++) {
        if (isfinite(inf->baujat_x[i])) { xlo = fmin(xlo, inf->baujat_x[i]); xhi = fmax(xhi, inf->baujat_x[i]); }
        if (isfinite(inf->baujat_y[i])) { ylo = fmin(ylo, inf->baujat_y[i]); yhi = fmax(yhi, inf->baujat_y[i]); }
    }
    if (!(xhi >= xlo)) { xlo = 0; xhi = 1; }
    if (!(yhi >= ylo)) { ylo = 0; yhi = 1; }
    xlo = fmin(xlo, 0.0);
    ylo = fmin(ylo, 0.0);
    if (!(xhi > xlo)) xhi = xlo + 1;
    if (!(yhi > ylo)) yhi = ylo + 1;
    xhi += 0.06 * (xhi - xlo);
    yhi += 0.06 * (yhi - ylo);
    double ox = MARGIN + 4.2 * FS, oy = MARGIN + BJ_H; /* the origin of the plot area */
    char *mem = NULL;
    size_t memn = 0;
    FILE *f = open_memstream(&mem, &memn);
    if (!f) return MP_EIO;
    rp_ticks tx, ty;
    rp_make_ticks(0, xlo, xhi, BJ_W, 0.64 * FS, 10.0, &tx);
    rp_make_ticks(0, ylo, yhi, BJ_H, 1.6 * FS, 4.0, &ty); /* vertical: a label is one line high */
#define PX(v) (ox + ((v) - xlo) / (xhi - xlo) * BJ_W)
#define PY(v) (oy - ((v) - ylo) / (yhi - ylo) * BJ_H)
    fprintf(f, "<g class=\"grid\" stroke=\"#ddd\" stroke-width=\"0.8\">\n");
    for (size_t i = 0; i < tx.n; i++)
        fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n", PX(tx.at[i]), oy, PX(tx.at[i]), oy - BJ_H);
    for (size_t i = 0; i < ty.n; i++)
        fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n", ox, PY(ty.at[i]), ox + BJ_W, PY(ty.at[i]));
    fputs("</g>\n", f);
    fprintf(f, "<rect class=\"frame\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"none\" stroke=\"#000\"/>\n",
            ox, oy - BJ_H, BJ_W, BJ_H);
    fprintf(f, "<g class=\"axis\" stroke=\"#000\" stroke-width=\"1\">\n");
    for (size_t i = 0; i < tx.n; i++)
        fprintf(f, "<line class=\"tick\" x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n", PX(tx.at[i]), oy, PX(tx.at[i]), oy + 5);
    for (size_t i = 0; i < ty.n; i++)
        fprintf(f, "<line class=\"tick\" x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n", ox - 5, PY(ty.at[i]), ox, PY(ty.at[i]));
    fputs("</g>\n", f);
    for (size_t i = 0; i < tx.n; i++) text(f, PX(tx.at[i]), oy + 5 + FS, "middle", "tick-label", tx.label[i], 0);
    for (size_t i = 0; i < ty.n; i++) text(f, ox - 8, PY(ty.at[i]) + FS * 0.35, "end", "tick-label", ty.label[i], 0);
    int fe = r->opt->pool.method == MP_METHOD_FE, intonly = inf->p == 1;
    const char *xt = fe ? (intonly ? "Contribution to Overall Heterogeneity" : "Contribution to Residual Heterogeneity")
                        : "Squared Pearson Residual";
    const char *yt = intonly ? "Influence on Overall Result" : "Influence on Fitted Value";
    text(f, ox + BJ_W / 2, oy + 5 + 2.4 * FS, "middle", "axis-title", xt, 0);
    fprintf(f, "<text class=\"axis-title\" text-anchor=\"middle\" transform=\"translate(%.2f,%.2f) rotate(-90)\">",
            MARGIN + 0.9 * FS, oy - BJ_H / 2);
    rp_xml_text(f, yt, 0);
    fputs("</text>\n", f);
    for (size_t i = 0; i < inf->k; i++) {
        double x = inf->baujat_x[i], yv = inf->baujat_y[i];
        int ok = isfinite(x) && isfinite(yv);
        if (!ok) { /* one marker per study all the same: an empty one at the origin */
            fprintf(f, "<circle class=\"study-marker failed\" cx=\"%.2f\" cy=\"%.2f\" r=\"3\" fill=\"none\" stroke=\"#999\"/>\n",
                    ox, oy);
            continue;
        }
        fprintf(f, "<circle class=\"study-marker%s\" cx=\"%.2f\" cy=\"%.2f\" r=\"3.5\" fill=\"%s\"><title>",
                inf->influential[i] ? " influential" : "", PX(x), PY(yv), inf->influential[i] ? "#b22222" : "#1f4e79");
        rp_xml_text(f, r->label[i], 0);
        fputs("</title></circle>\n", f);
        /* metafor's baujat() labels the points with the study ids (1..k);
         * the key beside the plot names them */
        char id[32];
        snprintf(id, sizeof id, "%zu", i + 1);
        text(f, PX(x) + 5, PY(yv) - 4, NULL, "study-id", id, 0);
    }
    double keyx = ox + BJ_W + GAP, keyw = 0;
    if (inf->k <= 60) {
        for (size_t i = 0; i < inf->k; i++) {
            char line[96];
            snprintf(line, sizeof line, "%zu  ", i + 1);
            double yk = oy - BJ_H + (double)i * (BJ_H / (double)(inf->k > 16 ? inf->k : 16)) + FS_SMALL;
            fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" class=\"study-label\">%s", keyx, yk, line);
            rp_xml_text(f, r->label[i], 28);
            fputs("</text>\n", f);
        }
        keyw = 32 * FS_SMALL * 0.55;
    }
#undef PX
#undef PY
    double y = oy + 5 + 2.4 * FS + ROW;
    const mp_pool_opts *o = &r->opt->pool;
    char line[256];
    snprintf(line, sizeof line, "Baujat plot (metafor's baujat()), %s; red: influential (metafor's influence()).",
             fe ? "fixed-effect model" : mp_method_name(o->method));
    fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" class=\"note\">", MARGIN, y);
    rp_xml_text(f, line, 0);
    fputs("</text>\n", f);
    double h = y + MARGIN, w = fmax(keyx + keyw + MARGIN, MARGIN + (double)strlen(line) * FS_SMALL * 0.55 + MARGIN);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) { free(mem); return MP_EIO; }
    mp_status st = write_svg(path, "Baujat plot", r->file, mem, memn, w, h);
    int e = errno;
    free(mem);
    errno = e;
    return st;
}
