/* src/report/gosh_report.c - `metapool gosh` output: JSON, text table and the hexagonal-bin SVG.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The picture is metafor's plot(gosh(...)) panel of estimate against I^2,
 * drawn as a density so that it stays readable at 10^9 subsets: the run
 * counts subsets on a fine rectangular grid (mp_gosh_opts grid_nx x
 * grid_ny), and each fine cell's count goes to the hexagon that holds the
 * cell's centre (pointy-top hexagons in axial coordinates, rounded as in
 * Red Blob Games' "Hexagonal Grids"; the fine cells are a small fraction of
 * a hexagon, so the binning error is a fraction of a hexagon's width).
 * Shading is logarithmic in the count (densities span orders of magnitude);
 * with a highlighted study the hue runs from blue (no subset of the
 * hexagon includes it) to red (all do), as metafor colours the points of
 * plot(gosh, out = i). */
#include "report_internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void stat_json(FILE *f, const char *key, const mp_gosh_stat *s)
{
    fprintf(f, "  \"%s\": {\"min\": ", key);
    mp_json_num(f, s->min);
    fputs(", \"q05\": ", f);
    mp_json_num(f, s->q05);
    fputs(", \"median\": ", f);
    mp_json_num(f, s->median);
    fputs(", \"q95\": ", f);
    mp_json_num(f, s->q95);
    fputs(", \"max\": ", f);
    mp_json_num(f, s->max);
    fputs("},\n", f);
}

void mp_report_gosh_json(FILE *f, const mp_gosh_result *r, const char *const *labels,
                         const mp_msgs *w)
{
    fprintf(f, "{\n  \"k\": %zu, \"method\": ", r->k);
    mp_json_str(f, mp_method_name(r->method));
    fprintf(f, ", \"subsets\": %llu, \"exhaustive\": %s, \"failed\": %llu,\n",
            (unsigned long long)r->subsets, r->exhaustive ? "true" : "false",
            (unsigned long long)r->failed);
    stat_json(f, "estimate", &r->estimate);
    stat_json(f, "I2", &r->I2);
    fprintf(f, "  \"quantiles\": \"%s\", \"quantile_error\": {\"estimate\": ",
            r->quantiles_exact ? "exact" : "histogram");
    mp_json_num(f, r->est_qerr);
    fputs(", \"I2\": ", f);
    mp_json_num(f, r->i2_qerr);
    fputs("},\n  \"studies\": [", f);
    for (size_t j = 0; j < r->k; j++) {
        fprintf(f, "%s\n    {\"study\": ", j ? "," : "");
        mp_json_str(f, labels ? labels[j] : NULL);
        const struct { const char *key; double v; } kv[] = {
            {"mean_estimate_with", r->mean_est_with[j]},
            {"mean_estimate_without", r->mean_est_without[j]},
            {"mean_I2_with", r->mean_i2_with[j]},
            {"mean_I2_without", r->mean_i2_without[j]}};
        for (size_t i = 0; i < 4; i++) {
            fprintf(f, ", \"%s\": ", kv[i].key);
            mp_json_num(f, kv[i].v);
        }
        fputc('}', f);
    }
    fputs("\n  ],\n  \"warnings\": ", f);
    mp_json_strings(f, w);
    fputs("\n}\n", f);
}

void mp_report_gosh_table(FILE *f, const mp_gosh_result *r, const char *const *labels, int digits)
{
    char a[5][48];
    fprintf(f, "GOSH: %s model fitted to %s%llu subsets of k = %zu studies%s\n\n",
            mp_method_name(r->method), r->exhaustive ? "all " : "",
            (unsigned long long)r->subsets, r->k, r->exhaustive ? "" : " (random)");
    fprintf(f, "%-10s %12s %12s %12s %12s %12s\n", "", "min", "q05", "median", "q95", "max");
    const mp_gosh_stat *st[2] = {&r->estimate, &r->I2};
    const char *name[2] = {"estimate", "I^2 (%)"};
    for (int s = 0; s < 2; s++) {
        double v[5] = {st[s]->min, st[s]->q05, st[s]->median, st[s]->q95, st[s]->max};
        for (int i = 0; i < 5; i++) rp_fmt(a[i], sizeof a[i], v[i], digits);
        fprintf(f, "%-10s %12s %12s %12s %12s %12s\n", name[s], a[0], a[1], a[2], a[3], a[4]);
    }
    if (!r->quantiles_exact)
        fprintf(f, "(quantiles from a histogram: within %.3g of the exact ones for the estimate, "
                   "%.3g for I^2)\n", r->est_qerr, r->i2_qerr);
    if (r->failed)
        fprintf(f, "(%llu subsets could not be fitted and are left out)\n",
                (unsigned long long)r->failed);
    size_t lw = 5;
    for (size_t j = 0; j < r->k; j++) {
        size_t n = labels ? rp_cols(labels[j]) : 0;
        if (n > lw) lw = n;
    }
    if (lw > 30) lw = 30;
    fprintf(f, "\nMean over the subsets with and without each study:\n");
    fprintf(f, "%-*s %12s %12s %10s %10s\n", (int)lw, "study", "est. with", "est. without",
            "I^2 with", "I^2 w/o");
    for (size_t j = 0; j < r->k; j++) {
        rp_fmt(a[0], sizeof a[0], r->mean_est_with[j], digits);
        rp_fmt(a[1], sizeof a[1], r->mean_est_without[j], digits);
        rp_fmt(a[2], sizeof a[2], r->mean_i2_with[j], 1);
        rp_fmt(a[3], sizeof a[3], r->mean_i2_without[j], 1);
        const char *lab = labels ? labels[j] : "";
        size_t cols = rp_cols(lab), cut = rp_prefix(lab, lw);
        int padn = cols >= lw ? 0 : (int)(lw - cols);
        fprintf(f, "%.*s%*s %12s %12s %10s %10s\n", (int)cut, lab, padn, "", a[0], a[1], a[2], a[3]);
    }
}

/* ---- the hexbin SVG --------------------------------------------------- */

#define PW 560.0   /* plot area */
#define PH 420.0
#define ML 70.0    /* margins */
#define MR 30.0
#define MT 40.0
#define MB 60.0
#define HR 7.0     /* hexagon radius (centre to corner), px */
#define PI_ 3.14159265358979323846

/* "nice" ticks over [lo, hi]: steps of 1, 2 or 5 times a power of ten */
static size_t ticks(double lo, double hi, double *t, size_t max)
{
    double span = hi - lo;
    if (!(span > 0)) { t[0] = lo; return 1; }
    double raw = span / 5.0, p = pow(10.0, floor(log10(raw))), step = p;
    if (raw / p > 5) step = 10 * p;
    else if (raw / p > 2) step = 5 * p;
    else if (raw / p > 1) step = 2 * p;
    size_t n = 0;
    for (double x = ceil(lo / step) * step; x <= hi + 1e-9 * span && n < max; x += step)
        t[n++] = fabs(x) < 1e-12 * step ? 0.0 : x;
    return n;
}

mp_status mp_report_gosh_svg(const char *path, const mp_gosh_result *r, const char *const *labels,
                             const char *ylab)
{
    const mp_gosh_summary *s = &r->sum;
    if (!path || !s->grid || !s->nx || !s->ny) return MP_EINVAL;
    /* axial hexagon grid over the plot area: pointy-top, width sqrt(3) R */
    const double hw = sqrt(3.0) * HR;
    const long nq = (long)(PW / hw) + 3, nr = (long)(PH / (1.5 * HR)) + 3;
    size_t nh = (size_t)(nq + nr) * (size_t)nr;
    double *cnt = calloc(nh, sizeof *cnt), *hl = calloc(nh, sizeof *hl);
    if (!cnt || !hl) { free(cnt); free(hl); return MP_ENOMEM; }
    /* the estimate axis: the observed range, padded */
    double ylo = r->estimate.min, yhi = r->estimate.max;
    if (!(yhi > ylo)) { ylo -= 0.5; yhi += 0.5; }
    double pad = 0.04 * (yhi - ylo);
    ylo -= pad;
    yhi += pad;
    const double glo = s->est_lo, gh = (s->est_hi - s->est_lo) / (double)s->ny;
    double maxc = 0;
    for (size_t iy = 0; iy < s->ny; iy++) {
        double yv = glo + ((double)iy + 0.5) * gh, py = PH * (1.0 - (yv - ylo) / (yhi - ylo));
        for (size_t ix = 0; ix < s->nx; ix++) {
            uint64_t c = s->grid[iy * s->nx + ix];
            if (!c) continue;
            double px = PW * ((double)ix + 0.5) / (double)s->nx;
            /* pixel -> fractional axial (q, r) -> cube rounding */
            double q = (sqrt(3.0) / 3.0 * px - py / 3.0) / HR, rr = (2.0 / 3.0 * py) / HR;
            double x = q, z = rr, yy = -x - z;
            double rx = round(x), rz = round(z), ry = round(yy);
            double dx = fabs(rx - x), dz = fabs(rz - z), dy = fabs(ry - yy);
            if (dx > dy && dx > dz) rx = -ry - rz;
            else if (dz > dy) rz = -rx - ry;
            long iq = (long)rx + nr, ir = (long)rz; /* q offset so that it is >= 0 */
            if (ir < 0 || ir >= nr || iq < 0 || iq >= nq + nr) continue;
            size_t h = (size_t)ir * (size_t)(nq + nr) + (size_t)iq;
            cnt[h] += (double)c;
            if (s->grid_hl) hl[h] += (double)s->grid_hl[iy * s->nx + ix];
            if (cnt[h] > maxc) maxc = cnt[h];
        }
    }
    rp_plot plot;
    if (rp_plot_open(&plot, path) != MP_OK) { free(cnt); free(hl); return MP_EIO; }
    FILE *f = plot.f;
    const double W = ML + PW + MR, H = MT + PH + MB;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
               "viewBox=\"0 0 %.0f %.0f\" font-family=\"Helvetica, Arial, sans-serif\" "
               "font-size=\"12\">\n", W, H, W, H);
    fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
    fprintf(f, "<text x=\"%.1f\" y=\"22\" font-size=\"14\">GOSH: %s, %llu %ssubsets of k = %zu",
            ML, mp_method_name(r->method), (unsigned long long)r->subsets,
            r->exhaustive ? "(all) " : "random ", r->k);
    if (s->grid_hl && labels) {
        fputs("; red: with ", f);
        rp_xml_text(f, labels[s->highlight], 0);
    }
    fputs("</text>\n", f);
    /* the clip rectangle is in the group's own (translated) coordinates */
    fprintf(f, "<defs><clipPath id=\"plotarea\"><rect x=\"0\" y=\"0\" width=\"%.1f\" "
               "height=\"%.1f\"/></clipPath></defs>\n", PW, PH);
    fprintf(f, "<g clip-path=\"url(#plotarea)\" transform=\"translate(%.1f,%.1f)\">\n", ML, MT);
    double lmax = log1p(maxc);
    size_t drawn = 0;
    for (long ir = 0; ir < nr; ir++)
        for (long iq = 0; iq < nq + nr; iq++) {
            size_t h = (size_t)ir * (size_t)(nq + nr) + (size_t)iq;
            if (cnt[h] <= 0) continue;
            double q = (double)(iq - nr), rr = (double)ir;
            double cx = HR * (sqrt(3.0) * q + sqrt(3.0) / 2.0 * rr), cy = HR * 1.5 * rr;
            double t = lmax > 0 ? log1p(cnt[h]) / lmax : 1.0; /* 0..1 */
            int R, G, B;
            if (s->grid_hl) { /* share with the study: blue -> red; density: lightness */
                double sh = hl[h] / cnt[h], light = 0.85 - 0.55 * t;
                R = (int)(255 * (light + (1 - light) * sh * 0.9));
                B = (int)(255 * (light + (1 - light) * (1 - sh) * 0.9));
                G = (int)(255 * light * 0.9);
            } else { /* one hue: light to dark blue */
                R = (int)(222 - 214 * t);
                G = (int)(235 - 154 * t);
                B = (int)(247 - 91 * t);
            }
            fprintf(f, "<polygon class=\"hex\" fill=\"rgb(%d,%d,%d)\" points=\"", R, G, B);
            for (int c = 0; c < 6; c++) {
                double a = PI_ / 180.0 * (60.0 * c - 30.0);
                fprintf(f, "%s%.1f,%.1f", c ? " " : "", cx + HR * cos(a), cy + HR * sin(a));
            }
            fprintf(f, "\"><title>%.0f subsets</title></polygon>\n", cnt[h]);
            drawn++;
        }
    fputs("</g>\n", f);
    /* axes */
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
               "stroke=\"black\"/>\n", ML, MT, PW, PH);
    double tk[16];
    size_t n = ticks(0, 100, tk, 16);
    for (size_t i = 0; i < n; i++) {
        double x = ML + PW * tk[i] / 100.0;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>"
                   "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%g</text>\n",
                x, MT + PH, x, MT + PH + 5, x, MT + PH + 19, tk[i]);
    }
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">I² (%%)</text>\n",
            ML + PW / 2, MT + PH + 42);
    n = ticks(ylo, yhi, tk, 16);
    for (size_t i = 0; i < n; i++) {
        double y = MT + PH * (1.0 - (tk[i] - ylo) / (yhi - ylo));
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>"
                   "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n",
                ML - 5, y, ML, y, ML - 8, y + 4, tk[i]);
    }
    fprintf(f, "<text transform=\"translate(18,%.1f) rotate(-90)\" text-anchor=\"middle\">",
            MT + PH / 2);
    rp_xml_text(f, ylab ? ylab : "estimate", 0);
    fputs("</text>\n", f);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" fill=\"#555\">shading: log(count); "
               "%zu hexagons, largest %.0f subsets</text>\n", ML, H - 8, drawn, maxc);
    fputs("</svg>\n", f);
    free(cnt);
    free(hl);
    return rp_plot_close(&plot);
}
