/* src/report/traj_svg.c - SVG picture of a time-trajectory fit and readable time labels.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The picture: per-time-window pooled estimates (separate analyses) as grey
 * squares with CI whiskers, the joint model's fitted curve with its
 * pointwise CI band (and, for the factor model, its estimates with CIs
 * beside the windows'), the line of no effect, and markers for onset, peak
 * and offset.  Time is on a log axis (when every time is > 0), labelled in
 * readable units when the time unit is known. */
#include "metapool/report.h"
#include "report_internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Minutes per unit. */
static const struct { const char *name; double minutes; } units[] = {
    {"min", 1.0},       {"minutes", 1.0},  {"h", 60.0},           {"hours", 60.0},
    {"d", 1440.0},      {"days", 1440.0},  {"w", 10080.0},        {"weeks", 10080.0},
    {"months", 43830.0}, {"mo", 43830.0},  {"y", 525960.0},       {"years", 525960.0},
};

/* "%.3g" without trailing noise, e.g. 40, 1.5, 0.25. */
static void short_num(char *buf, size_t n, double x)
{
    snprintf(buf, n, "%.3g", x);
}

mp_status mp_report_time_label(double t, const char *unit, char *buf, size_t n)
{
    char num[32];
    if (!unit) {
        snprintf(buf, n, "%.4g", t);
        return MP_OK;
    }
    double per = 0.0;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcmp(unit, units[i].name) == 0) per = units[i].minutes;
    if (per == 0.0) return MP_EINVAL;
    double m = t * per, v;
    const char *u;
    /* the largest unit in which the value is at least about 1, with hours up
     * to two days and days up to two months so 24 h and 14 d stay as such */
    if (fabs(m) < 60.0) { v = m; u = "min"; }
    else if (fabs(m) < 2880.0) { v = m / 60.0; u = "h"; }
    else if (fabs(m) < 60.0 * 1440.0) { v = m / 1440.0; u = "d"; }
    else if (fabs(m) < 24.0 * 43830.0 - 1e-6) { v = m / 43830.0; u = "mo"; }
    else { v = m / 525960.0; u = "y"; }
    short_num(num, sizeof num, v);
    snprintf(buf, n, "%s %s", num, u);
    return MP_OK;
}

/* A "nice" tick step (1, 2 or 5 times a power of ten) for a range. */
static double nice_step(double range, int nticks)
{
    double raw = range / nticks, p = pow(10.0, floor(log10(raw))), m = raw / p;
    return (m < 1.5 ? 1.0 : m < 3.5 ? 2.0 : m < 7.5 ? 5.0 : 10.0) * p;
}

typedef struct frame {
    double x0, x1, y0, y1;       /* plot area in pixels */
    double tmin, tmax, vmin, vmax; /* data ranges (time on the axis scale) */
    int logx;                    /* log time axis */
} frame;

static double px(const frame *fr, double t)
{
    double u = fr->logx ? log(t) : t;
    return fr->x0 + (u - fr->tmin) / (fr->tmax - fr->tmin) * (fr->x1 - fr->x0);
}

static double py(const frame *fr, double v)
{
    return fr->y1 - (v - fr->vmin) / (fr->vmax - fr->vmin) * (fr->y1 - fr->y0);
}

static void upd(double *lo, double *hi, double v)
{
    if (!isfinite(v)) return;
    if (v < *lo) *lo = v;
    if (v > *hi) *hi = v;
}

static void vmarker(FILE *f, const frame *fr, double t, const char *what)
{
    if (!isfinite(t)) return;
    double x = px(fr, t);
    fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#b03a2e\" "
               "stroke-width=\"1\" stroke-dasharray=\"2 3\"/>\n", x, fr->y0, x, fr->y1);
    fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" font-size=\"11\" fill=\"#b03a2e\" "
               "text-anchor=\"middle\">%s</text>\n", x, fr->y0 - 4, what);
}

mp_status mp_report_traj_svg(const char *path, const mp_traj_result *r, const mp_pool_result *win,
             const char *unit, const char *title)
{
    return mp_report_traj_plot(path, r, win, unit, title, 0);
}

mp_status mp_report_traj_plot(const char *path, const mp_traj_result *r,
                              const mp_pool_result *win, const char *unit, const char *title,
                              double dpi)
{
    /* drawn in memory, then written as SVG, PNG or PDF (render.c) */
    char *mem = NULL;
    size_t memn = 0;
    FILE *f = open_memstream(&mem, &memn);
    if (!f) return MP_ENOMEM;
    const double W = 780, H = 470;
    frame fr = {80, W - 190, 60, H - 70, 0, 0, 0, 0, 1};
    size_t L = r->n_times;
    for (size_t i = 0; i < L; i++) fr.logx &= r->times[i] > 0;
    for (size_t i = 0; i < r->n_curve; i++) fr.logx &= r->curve[i].time > 0;
    double a = HUGE_VAL, b = -HUGE_VAL;
    for (size_t i = 0; i < L; i++) upd(&a, &b, fr.logx ? log(r->times[i]) : r->times[i]);
    double span = b - a;
    if (!(span > 0)) span = 1.0;
    fr.tmin = a - 0.07 * span;
    fr.tmax = b + 0.07 * span;
    double lo = 0.0, hi = 0.0;
    for (size_t i = 0; i < L; i++) { upd(&lo, &hi, win[i].ci_lb); upd(&lo, &hi, win[i].ci_ub); }
    for (size_t i = 0; i < r->n_curve; i++) {
        upd(&lo, &hi, r->curve[i].ci_lb);
        upd(&lo, &hi, r->curve[i].ci_ub);
    }
    if (!(hi > lo)) { lo -= 1; hi += 1; }
    double step = nice_step(hi - lo, 6);
    fr.vmin = floor(lo / step) * step;
    fr.vmax = ceil(hi / step) * step;
    if (fr.vmax - fr.vmin < step) fr.vmax = fr.vmin + step;

    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
               "viewBox=\"0 0 %.0f %.0f\" font-family=\"Helvetica, Arial, sans-serif\">\n"
               "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n", W, H, W, H);
    fprintf(f, "<text x=\"%.1f\" y=\"26\" font-size=\"15\" font-weight=\"bold\">", fr.x0);
    rp_xml_text(f, title, 0);
    fputs("</text>\n", f);
    fprintf(f, "<text x=\"%.1f\" y=\"44\" font-size=\"11\" fill=\"#444\">model %s, structure %s, "
               "phi = %g, REML; %g%% CIs</text>\n",
            fr.x0, mp_traj_model_name(r->model), mp_traj_struct_name(r->structure), r->phi, r->level);
    /* y grid and labels */
    for (double v = fr.vmin; v <= fr.vmax + step * 1e-9; v += step) {
        double y = py(&fr, v);
        fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#e5e5e5\"/>\n",
                fr.x0, y, fr.x1, y);
        fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" font-size=\"11\" text-anchor=\"end\">%g</text>\n",
                fr.x0 - 6, y + 4, fabs(v) < step * 1e-9 ? 0.0 : v);
    }
    /* x ticks: the distinct times when few, else 1-2-5 steps */
    char lab[64];
    if (L <= 12 || !fr.logx) {
        double last_right = -HUGE_VAL; /* right end of the last label drawn */
        for (size_t i = 0; i < L; i++) {
            double x = px(&fr, r->times[i]);
            mp_report_time_label(r->times[i], unit, lab, sizeof lab);
            fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#333\"/>\n",
                    x, fr.y1, x, fr.y1 + 5);
            double half = 3.2 * (double)strlen(lab); /* about 6.4 px per character at 11 px */
            if (x - half < last_right + 4) continue; /* would overlap its neighbour: tick only */
            last_right = x + half;
            fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" font-size=\"11\" text-anchor=\"middle\">", x,
                    fr.y1 + 18);
            rp_xml_text(f, lab, 0);
            fputs("</text>\n", f);
        }
    } else {
        for (double d = floor(fr.tmin / log(10.0)); d <= ceil(fr.tmax / log(10.0)); d += 1.0)
            for (int m = 1; m <= 5; m += (m == 1 ? 1 : 3)) {
                double t = m * pow(10.0, d), u = log(t);
                if (u < fr.tmin || u > fr.tmax) continue;
                double x = px(&fr, t);
                mp_report_time_label(t, unit, lab, sizeof lab);
                fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#333\"/>\n",
                        x, fr.y1, x, fr.y1 + 5);
                fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" font-size=\"11\" text-anchor=\"middle\">",
                        x, fr.y1 + 18);
                rp_xml_text(f, lab, 0);
                fputs("</text>\n", f);
            }
    }
    fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" font-size=\"12\" text-anchor=\"middle\">Time%s%s%s</text>\n",
            (fr.x0 + fr.x1) / 2, H - 24, unit ? " (" : "", unit ? unit : "",
            fr.logx ? (unit ? ", log scale)" : " (log scale)") : (unit ? ")" : ""));
    fprintf(f, "<text transform=\"translate(22 %.2f) rotate(-90)\" font-size=\"12\" "
               "text-anchor=\"middle\">Effect</text>\n", (fr.y0 + fr.y1) / 2);
    /* axes and the line of no effect */
    fprintf(f, "<polyline points=\"%.2f,%.2f %.2f,%.2f %.2f,%.2f\" fill=\"none\" stroke=\"#333\"/>\n",
            fr.x0, fr.y0, fr.x0, fr.y1, fr.x1, fr.y1);
    if (fr.vmin <= 0 && fr.vmax >= 0)
        fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#000\" "
                   "stroke-dasharray=\"6 4\"/>\n", fr.x0, py(&fr, 0), fr.x1, py(&fr, 0));
    /* band and curve */
    fputs("<polygon fill=\"#3b6fb6\" fill-opacity=\"0.18\" stroke=\"none\" points=\"", f);
    for (size_t i = 0; i < r->n_curve; i++)
        fprintf(f, "%.2f,%.2f ", px(&fr, r->curve[i].time), py(&fr, r->curve[i].ci_ub));
    for (size_t i = r->n_curve; i-- > 0;)
        fprintf(f, "%.2f,%.2f ", px(&fr, r->curve[i].time), py(&fr, r->curve[i].ci_lb));
    fputs("\"/>\n<polyline fill=\"none\" stroke=\"#1f4e8c\" stroke-width=\"2\" points=\"", f);
    for (size_t i = 0; i < r->n_curve; i++)
        fprintf(f, "%.2f,%.2f ", px(&fr, r->curve[i].time), py(&fr, r->curve[i].estimate));
    fputs("\"/>\n", f);
    int factor = r->model == MP_TRAJ_FACTOR;
    double off = factor ? 6.0 : 0.0;
    /* per-window estimates (separate analyses) */
    for (size_t i = 0; i < L; i++) {
        if (!isfinite(win[i].estimate)) continue;
        double x = px(&fr, r->times[i]) - off;
        fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#555\" "
                   "stroke-width=\"1.5\"/>\n", x, py(&fr, win[i].ci_lb), x, py(&fr, win[i].ci_ub));
        fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"8\" height=\"8\" fill=\"#555\"/>\n", x - 4,
                py(&fr, win[i].estimate) - 4);
    }
    if (factor)
        for (size_t i = 0; i < r->n_curve; i++) {
            double x = px(&fr, r->curve[i].time) + off;
            fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#1f4e8c\" "
                       "stroke-width=\"1.5\"/>\n", x, py(&fr, r->curve[i].ci_lb), x,
                    py(&fr, r->curve[i].ci_ub));
            fprintf(f, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"4\" fill=\"#1f4e8c\"/>\n", x,
                    py(&fr, r->curve[i].estimate));
        }
    vmarker(f, &fr, r->onset, "onset");
    vmarker(f, &fr, r->peak, "peak");
    vmarker(f, &fr, r->offset, "offset");
    /* legend */
    double lx = fr.x1 + 20, ly = fr.y0 + 10;
    fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"8\" height=\"8\" fill=\"#555\"/>\n"
               "<text x=\"%.2f\" y=\"%.2f\" font-size=\"11\">separate per time</text>\n"
               "<text x=\"%.2f\" y=\"%.2f\" font-size=\"11\">(REML, with CI)</text>\n",
            lx, ly - 4, lx + 16, ly + 4, lx + 16, ly + 18);
    ly += 40;
    fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"14\" height=\"10\" fill=\"#3b6fb6\" "
               "fill-opacity=\"0.18\"/>\n<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" "
               "stroke=\"#1f4e8c\" stroke-width=\"2\"/>\n"
               "<text x=\"%.2f\" y=\"%.2f\" font-size=\"11\">joint model</text>\n"
               "<text x=\"%.2f\" y=\"%.2f\" font-size=\"11\">(pointwise CI band)</text>\n",
            lx - 3, ly - 5, lx - 3, ly, lx + 11, ly, lx + 16, ly + 4, lx + 16, ly + 18);
    ly += 40;
    fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#000\" "
               "stroke-dasharray=\"6 4\"/>\n<text x=\"%.2f\" y=\"%.2f\" font-size=\"11\">no effect</text>\n",
            lx - 3, ly, lx + 11, ly, lx + 16, ly + 4);
    fputs("</svg>\n", f);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        free(mem);
        return MP_ENOMEM;
    }
    mp_status st = mp_report_render(mem, memn, path, dpi);
    free(mem);
    return st;
}
