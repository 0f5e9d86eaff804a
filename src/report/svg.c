/* src/report/svg.c - `--plot FILE.svg`: a forest plot as journals print it, in standalone SVG.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Layout after metafor's forest() and RevMan: study labels on the left, the
 * plot in the middle (CI lines, squares with area proportional to the
 * weight, a diamond per pooled row spanning its CI, the prediction interval
 * as a bar with end caps, the line of no effect, a dashed line at the
 * overall estimate), weights and "estimate [CI]" on the right, an axis with
 * ticks (log-scaled for ratio measures, labels on the ratio scale), one
 * block per subgroup with --by.  Study CIs end in whisker caps; CIs beyond
 * the axis are clipped and end in an arrow whose tip is at the axis limit
 * (inside the plot area).  With arm-level data (mp_report.arms) the columns
 * RevMan shows sit between the labels and the plot: events and total per
 * arm (2x2 data), mean, SD and total per arm (means), events and total (one
 * group), headed by the group names (mp_report_opts.arm_label).  Studies
 * left out of an analysis are rows marked "Not estimable"; studies whose
 * table had 1/2 added get a dagger and a footnote.  The favours labels sit
 * under the axis either side of the line of no effect (RevMan), the axis
 * title and the plot title come from the options when given.
 * Every study gets exactly one element of class "study-marker",
 * every pooled fixed/random row one of class "diamond" (plus "fixed" or
 * "random"), so that tests and style sheets can find them.  Text is
 * XML-escaped and made valid UTF-8. */
#include "report_internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Geometry in px. */
#define FS 13.0          /* font size */
#define FS_SMALL 11.0    /* notes */
#define ROW 20.0         /* row height */
#define MARGIN 18.0
#define PLOT_W 360.0     /* width of the plot area */
#define GAP 18.0         /* between columns */
#define SQ_MAX 14.0      /* side of the heaviest study's square */
#define SQ_MIN 4.0
#define DIA_H 6.5        /* half height of a diamond */
#define CW (0.60 * FS)   /* average character width, for layout */
#define DW (0.64 * FS)   /* digit width (DejaVu Sans 0.636 em; Arial 0.556 em) */

static const char *const font = "Helvetica, Arial, 'Liberation Sans', 'DejaVu Sans', sans-serif";

typedef struct svg {
    const mp_report *r;
    FILE *f;
    int expo, digits;
    double lo, hi;            /* axis limits, analysis scale */
    double xl, xp, xw, xa;    /* label left, plot left, weight right, annotation right */
    double xe, xlb;           /* right edges of the estimate and of "[lb," */
    double wmax;              /* largest study weight of the block being drawn */
    double y;                 /* centre of the current row */
    double ytop;              /* first plot row (for vertical lines) */
    double z;                 /* study CI multiplier */
    size_t lab_cols;          /* label column width, characters */
    char vlines[1024];        /* vertical lines, drawn first (under the marks) */
    size_t narm;              /* arm-level sub-columns (0 = none) */
    double armx[MP_ARM_NV];   /* right edge of each sub-column */
    double armw[MP_ARM_NV];   /* width of each sub-column */
    int any_corrected;        /* a study had 1/2 added: footnote */
    int any_ne;               /* a study was not estimable: footnote */
} svg;

/* Arm-level sub-columns: headers and which numbers of a row they show. */
static size_t arm_cols(mp_arm_kind k, const char **head, size_t *idx)
{
    static const char *const ch[] = {"Events", "Total", "Events", "Total"};
    static const size_t ci[] = {0, 1, 2, 3};
    static const char *const mh[] = {"Mean", "SD", "Total", "Mean", "SD", "Total"};
    static const size_t mi[] = {0, 1, 2, 3, 4, 5};
    size_t n = k == MP_ARMS_COUNTS ? 4 : k == MP_ARMS_MEANS ? 6 : k == MP_ARMS_PROP ? 2 : 0;
    for (size_t j = 0; j < n; j++) {
        head[j] = k == MP_ARMS_MEANS ? mh[j] : ch[j];
        idx[j] = k == MP_ARMS_MEANS ? mi[j] : ci[j];
    }
    return n;
}

/* An arm-level number as the data gave it: up to 6 significant digits
 * (counts print as integers), "NA" when missing. */
static void arm_num(char *buf, size_t n, double x)
{
    if (!isfinite(x)) snprintf(buf, n, "NA");
    else snprintf(buf, n, "%.6g", x);
}

static double X(const svg *s, double x)
{
    return s->xp + (x - s->lo) / (s->hi - s->lo) * PLOT_W;
}

static void text(const svg *s, double x, double y, const char *anchor, const char *cls,
                 const char *str, size_t cols)
{
    fprintf(s->f, "<text x=\"%.2f\" y=\"%.2f\"", x, y);
    if (anchor) fprintf(s->f, " text-anchor=\"%s\"", anchor);
    if (cls) fprintf(s->f, " class=\"%s\"", cls);
    fputc('>', s->f);
    rp_xml_text(s->f, str, cols);
    fputs("</text>\n", s->f);
}

/* Effect and CI in three right-aligned pieces, so that the digits line up. */
static void annotation(const svg *s, double est, double lb, double ub, int show_est)
{
    char e[64], l[72], u[72], b[64];
    double base = s->y + FS * 0.35;
    rp_fmt(b, sizeof b, rp_disp(s->r, lb), s->digits);
    snprintf(l, sizeof l, "[%s,", b);
    rp_fmt(b, sizeof b, rp_disp(s->r, ub), s->digits);
    snprintf(u, sizeof u, "%s]", b);
    if (show_est) {
        rp_fmt(e, sizeof e, rp_disp(s->r, est), s->digits);
        text(s, s->xe, base, "end", "num", e, 0);
    }
    text(s, s->xlb, base, "end", "num", l, 0);
    text(s, s->xa, base, "end", "num", u, 0);
}

/* An arrowhead whose tip is at x (the axis limit) and whose base lies
 * inside the plot area, so that it never overruns the axis. */
static void arrow(const svg *s, double x, int left, const char *color)
{
    double d = left ? 1 : -1; /* from the tip into the plot */
    fprintf(s->f,
            "<polygon class=\"arrow\" points=\"%.2f,%.2f %.2f,%.2f %.2f,%.2f\" fill=\"%s\"/>\n",
            x, s->y, x + d * 7, s->y - 4, x + d * 7, s->y + 4, color);
}

/* Horizontal interval [a, b] at the current row, clipped with arrows. */
/* Horizontal interval [a, b] at the current row: whisker caps of half
 * height `caps` px (0 = none) at the ends, an arrow instead where the
 * interval is clipped at the axis limits. */
static void interval(const svg *s, double a, double b, const char *cls, const char *color,
                     double width, double caps)
{
    if (!isfinite(a) || !isfinite(b) || b < s->lo || a > s->hi) return;
    double x1 = X(s, fmax(a, s->lo)), x2 = X(s, fmin(b, s->hi));
    fprintf(s->f,
            "<line class=\"%s\" x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\" "
            "stroke-width=\"%.1f\"/>\n",
            cls, x1, s->y, x2, s->y, color, width);
    if (a < s->lo) arrow(s, x1, 1, color);
    else if (caps > 0)
        fprintf(s->f, "<line class=\"cap\" x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\" stroke-width=\"%.1f\"/>\n",
                x1, s->y - caps, x1, s->y + caps, color, width);
    if (b > s->hi) arrow(s, x2, 0, color);
    else if (caps > 0)
        fprintf(s->f, "<line class=\"cap\" x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\" stroke-width=\"%.1f\"/>\n",
                x2, s->y - caps, x2, s->y + caps, color, width);
}

/* The arm-level cells of one row (v: MP_ARM_NV numbers, or NULL). */
static void arm_cells(const svg *s, const double *v)
{
    if (!s->narm || !v) return;
    const char *head[MP_ARM_NV];
    size_t idx[MP_ARM_NV];
    arm_cols(s->r->arms, head, idx);
    char b[64];
    for (size_t j = 0; j < s->narm; j++) {
        arm_num(b, sizeof b, v[idx[j]]);
        text(s, s->armx[j], s->y + FS * 0.35, "end", "arm num", b, 0);
    }
}

static void next_row(svg *s) { s->y += ROW; }

static void weight_text(const svg *s, double w)
{
    char b[64], t[72];
    snprintf(t, sizeof t, "%s%%", rp_fmt(b, sizeof b, w, s->digits));
    text(s, s->xw, s->y + FS * 0.35, "end", "num", t, 0);
}

/* A study left out of the analysis: its label and data, "Not estimable". */
static void ne_row(svg *s, const mp_report_analysis *a, size_t j)
{
    text(s, s->xl, s->y + FS * 0.35, NULL, "label not-estimable", a->ne_label[j], s->lab_cols);
    arm_cells(s, a->ne_arm ? a->ne_arm + MP_ARM_NV * j : NULL);
    text(s, s->xa, s->y + FS * 0.35, "end", "not-estimable", "Not estimable", 0);
    s->any_ne = 1;
    next_row(s);
}

static void study_rows(svg *s, const mp_report_analysis *a)
{
    /* square areas are proportional to the weights printed beside them
     * (percent of the block's analysis); the heaviest gets SQ_MAX */
    s->wmax = 0;
    for (size_t i = 0; i < a->k; i++)
        if (a->weight[i] > s->wmax) s->wmax = a->weight[i];
    size_t ne = 0;
    for (size_t i = 0; i <= a->k; i++) {
        /* the studies left out, in input order among the others */
        while (ne < a->n_ne && a->ne_label && a->ne_before && a->ne_before[ne] <= i) ne_row(s, a, ne++);
        if (i == a->k) break;
        double y = a->yi[i], h = s->z * sqrt(a->vi[i]);
        text(s, s->xl, s->y + FS * 0.35, NULL, "label", a->label[i], s->lab_cols);
        arm_cells(s, a->arm ? a->arm + MP_ARM_NV * i : NULL);
        interval(s, y - h, y + h, "ci", "#000", 1.2, 3.5);
        double side = SQ_MAX * sqrt(s->wmax > 0 ? a->weight[i] / s->wmax : 1.0);
        if (side < SQ_MIN) side = SQ_MIN;
        double cx = X(s, fmin(fmax(y, s->lo), s->hi));
        fprintf(s->f,
                "<rect class=\"study-marker\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
                "fill=\"#1f5fa8\"/>\n",
                cx - side / 2, s->y - side / 2, side, side);
        weight_text(s, a->weight[i]);
        annotation(s, y, y - h, y + h, 1);
        if (a->corrected && a->corrected[i]) { /* 1/2 added: dagger, footnote */
            text(s, s->xa + 3, s->y + FS * 0.35, NULL, "corrected", "\u2020", 0);
            s->any_corrected = 1;
        }
        next_row(s);
    }
}

static void diamond(svg *s, const mp_pool_result *p, int re)
{
    double c = X(s, p->estimate);
    double a = isfinite(p->ci_lb) ? X(s, fmax(p->ci_lb, s->lo)) : c - 2;
    double b = isfinite(p->ci_ub) ? X(s, fmin(p->ci_ub, s->hi)) : c + 2;
    fprintf(s->f,
            "<polygon class=\"diamond %s\" points=\"%.2f,%.2f %.2f,%.2f %.2f,%.2f %.2f,%.2f\" "
            "fill=\"%s\" stroke=\"#000\" stroke-width=\"1\"/>\n",
            re ? "random" : "fixed", a, s->y, c, s->y - DIA_H, b, s->y, c, s->y + DIA_H,
            re ? "#000" : "#fff");
}

static void pooled_rows(svg *s, const mp_report_analysis *a)
{
    mp_pool_result fe;
    rp_fe_view(a, &fe);
    int re = rp_is_re(a);
    if (!re || a->k > 1) { /* one study: the model's row only, as in the table */
        text(s, s->xl, s->y + FS * 0.35, NULL, "pooled", rp_fe_label(s->r), 0);
        diamond(s, &fe, 0);
        if (!re) weight_text(s, 100.0);
        annotation(s, fe.estimate, fe.ci_lb, fe.ci_ub, 1);
        next_row(s);
    }
    if (!re) return;
    char lab[96];
    snprintf(lab, sizeof lab, "Random effects (%s)", mp_method_name(a->fit.method));
    text(s, s->xl, s->y + FS * 0.35, NULL, "pooled", lab, 0);
    diamond(s, &a->fit, 1);
    weight_text(s, 100.0);
    annotation(s, a->fit.estimate, a->fit.ci_lb, a->fit.ci_ub, 1);
    next_row(s);
    if (a->k > 1 && isfinite(a->fit.pi_lb) && isfinite(a->fit.pi_ub)) {
        text(s, s->xl, s->y + FS * 0.35, NULL, "label", "Prediction interval", 0);
        interval(s, a->fit.pi_lb, a->fit.pi_ub, "prediction-interval", "#7a1f1f", 2.0, 4.0);
        annotation(s, NAN, a->fit.pi_lb, a->fit.pi_ub, 0);
        next_row(s);
    }
}

/* Heterogeneity note of a block, in the notation of published plots. */
static void het_note(const svg *s, const mp_report_analysis *a, char *buf, size_t n)
{
    const mp_pool_result *p = &a->fit;
    char q[64], pv[64], i2[64], t2[64];
    if (a->k < 2 || !isfinite(p->Q)) { snprintf(buf, n, "Heterogeneity: not applicable (one study)"); return; }
    rp_fmt(q, sizeof q, p->Q, s->digits);
    rp_fmt_p(pv, sizeof pv, p->Q_pval, s->digits);
    rp_fmt(i2, sizeof i2, p->I2, s->digits > 1 ? 1 : s->digits);
    if (rp_is_re(a))
        snprintf(buf, n, "Heterogeneity: Q = %s, df = %.0f, %s; I\u00B2 = %s%%; \u03C4\u00B2 = %s", q,
                 p->Q_df, pv, i2, rp_fmt(t2, sizeof t2, p->tau2, s->digits + 2));
    else
        snprintf(buf, n, "Heterogeneity: Q = %s, df = %.0f, %s; I\u00B2 = %s%%", q, p->Q_df, pv,
                 i2);
}

static void test_note(const svg *s, const mp_report_analysis *a, char *buf, size_t n)
{
    const mp_pool_result *p = &a->fit;
    char st[64], pv[64];
    if (!isfinite(p->stat)) { snprintf(buf, n, "Test for overall effect: not available"); return; }
    rp_fmt(st, sizeof st, p->stat, s->digits);
    rp_fmt_p(pv, sizeof pv, p->pval, s->digits);
    if (p->test == MP_TEST_KNHA)
        snprintf(buf, n, "Test for overall effect: t(%.0f) = %s, %s", p->df, st, pv);
    else snprintf(buf, n, "Test for overall effect: z = %s, %s", st, pv);
}

static void note(svg *s, const char *str)
{
    fprintf(s->f, "<text x=\"%.2f\" y=\"%.2f\" class=\"note\">", s->xl, s->y + FS_SMALL * 0.35);
    rp_xml_text(s->f, str, 0);
    fputs("</text>\n", s->f);
    s->y += ROW * 0.8;
}

static void axis(svg *s, double ybot)
{
    rp_ticks tk;
    rp_make_ticks_r(s->r, s->lo, s->hi, PLOT_W, DW, 10.0, &tk);
    fprintf(s->f, "<g class=\"axis\" stroke=\"#000\" stroke-width=\"1\">\n");
    fprintf(s->f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n", s->xp, ybot,
            s->xp + PLOT_W, ybot);
    for (size_t i = 0; i < tk.n; i++)
        fprintf(s->f, "<line class=\"tick\" x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n",
                X(s, tk.at[i]), ybot, X(s, tk.at[i]), ybot + 5);
    fputs("</g>\n", s->f);
    for (size_t i = 0; i < tk.n; i++)
        text(s, X(s, tk.at[i]), ybot + 5 + FS, "middle", "tick-label", tk.label[i], 0);
    const mp_report *r = s->r;
    double ytitle = ybot + 5 + 2.3 * FS;
    if (r->opt->favours[0] || r->opt->favours[1]) {
        /* RevMan: "Favours A" left of the line of no effect, "Favours B" right */
        double x0 = (0.0 >= s->lo && 0.0 <= s->hi) ? X(s, 0.0) : s->xp + PLOT_W / 2;
        if (r->opt->favours[0])
            text(s, x0 - 8, ytitle, "end", "favours favours-left", r->opt->favours[0], 0);
        if (r->opt->favours[1])
            text(s, x0 + 8, ytitle, NULL, "favours favours-right", r->opt->favours[1], 0);
        ytitle += 1.4 * FS;
    }
    if (r->opt->xlab) {
        text(s, s->xp + PLOT_W / 2, ytitle, "middle", "axis-title", r->opt->xlab, 0);
        return;
    }
    char eff[32], title[128];
    rp_effect_short(r, eff, sizeof eff);
    const char *lng = rp_measure_long(r->measure);
    mp_transf tf = rp_transf(r);
    if (r->measure == MP_MEASURE_GEN) snprintf(title, sizeof title, "Effect size");
    else if (tf != MP_TRANSF_NONE && tf != MP_TRANSF_EXP)
        snprintf(title, sizeof title, "%s", mp_measure_scale_label(r->measure));
    else if (s->expo && (r->measure == MP_MEASURE_PLN || r->measure == MP_MEASURE_IRLN))
        snprintf(title, sizeof title, "%s (log scale)", mp_measure_scale_label(r->measure));
    else if (s->expo) snprintf(title, sizeof title, "%c%s (log scale)", lng[0] - 32, lng + 1);
    else if (mp_measure_is_log(r->measure)) snprintf(title, sizeof title, "Log %s", lng);
    else snprintf(title, sizeof title, "%c%s", lng[0] - 32, lng + 1);
    text(s, s->xp + PLOT_W / 2, ytitle, "middle", "axis-title", title, 0);
}

/* Height below the axis line taken by tick labels, favours and title. */
static double axis_height(const svg *s)
{
    const mp_report_opts *o = s->r->opt;
    return 5 + 2.3 * FS + ((o->favours[0] || o->favours[1]) ? 1.4 * FS : 0);
}

/* Width in px of a formatted number, from DejaVu Sans advance widths (the
 * widest of the usual fallback fonts): digits 0.636 em, '.' 0.318 em,
 * '-' 0.361 em; anything else (NA) 0.7 em. */
static double num_px(const char *str)
{
    double w = 0;
    for (; *str; str++)
        w += (*str >= '0' && *str <= '9') ? 0.636 : *str == '.' ? 0.318 : *str == '-' ? 0.361 : 0.7;
    return w * FS;
}

/* Width in px of bold text (a header), generously: 0.68 em a character. */
static double bold_px(const char *str)
{
    char *c = rp_clean(str, 0);
    double w = c ? (double)rp_cols(c) * 0.68 * FS : 0;
    free(c);
    return w;
}

static void measure(svg *s, const mp_report_analysis *a, size_t *lab, double *we, double *wl,
                    double *wu, int studies)
{
    char b[64];
    const mp_report *r = s->r;
#define MW(v, w) do { double m_ = num_px(rp_fmt(b, sizeof b, rp_disp(r, v), s->digits)); if (m_ > *(w)) *(w) = m_; } while (0)
    if (studies)
        for (size_t i = 0; i < a->k; i++) {
            double h = s->z * sqrt(a->vi[i]);
            MW(a->yi[i], we);
            MW(a->yi[i] - h, wl);
            MW(a->yi[i] + h, wu);
            char *c = rp_clean(a->label[i], 0);
            if (c && rp_cols(c) > *lab) *lab = rp_cols(c);
            free(c);
        }
    for (size_t j = 0; studies && a->ne_label && j < a->n_ne; j++) {
        char *c = rp_clean(a->ne_label[j], 0);
        if (c && rp_cols(c) > *lab) *lab = rp_cols(c);
        free(c);
    }
    if (studies && s->narm) { /* arm-level sub-columns: as wide as their widest number */
        const char *head[MP_ARM_NV];
        size_t idx[MP_ARM_NV];
        arm_cols(r->arms, head, idx);
        for (size_t q = 0; q < 2; q++) {
            const double *v = q ? a->ne_arm : a->arm;
            size_t m = q ? (a->ne_label ? a->n_ne : 0) : a->k;
            for (size_t i = 0; v && i < m; i++)
                for (size_t j = 0; j < s->narm; j++) {
                    arm_num(b, sizeof b, v[MP_ARM_NV * i + idx[j]]);
                    if (num_px(b) > s->armw[j]) s->armw[j] = num_px(b);
                }
        }
    }
    mp_pool_result fe;
    rp_fe_view(a, &fe);
    const mp_pool_result *p[2] = {&fe, &a->fit};
    for (int j = 0; j < 2; j++) {
        MW(p[j]->estimate, we);
        MW(p[j]->ci_lb, wl);
        MW(p[j]->ci_ub, wu);
    }
    if (rp_is_re(a)) {
        MW(a->fit.pi_lb, wl);
        MW(a->fit.pi_ub, wu);
    }
#undef MW
}

static int draw(svg *s, FILE *body, double *height, double *width)
{
    const mp_report *r = s->r;
    s->f = body;
    size_t lab = 21; /* 21 = "Random effects (REML)" */
    double we = 0, wl = 0, wu = 0;
    {
        const char *h0[MP_ARM_NV];
        size_t i0[MP_ARM_NV];
        s->narm = arm_cols(r->arms, h0, i0);
        for (size_t j = 0; j < MP_ARM_NV; j++) s->armw[j] = 0;
    }
    for (size_t g = 0; g < r->n; g++) measure(s, &r->a[g], &lab, &we, &wl, &wu, 1);
    if (r->overall) measure(s, r->overall, &lab, &we, &wl, &wu, 0);
    if (lab > 48) lab = 48;
    s->lab_cols = lab;
    s->xl = MARGIN;
    /* arm-level sub-columns after the labels, each at least as wide as its
     * header, the two arms' pairs at least as wide as the group names */
    const char *ahead[MP_ARM_NV];
    size_t idx[MP_ARM_NV];
    double xarm0 = s->xl + (double)lab * CW + GAP, x = xarm0;
    size_t per_arm = r->arms == MP_ARMS_MEANS ? 3 : 2;
    arm_cols(r->arms, ahead, idx);
    for (size_t j = 0; j < s->narm; j++) {
        double w = fmax(s->armw[j], bold_px(ahead[j]));
        if (j % per_arm == per_arm - 1 && r->arms != MP_ARMS_PROP) {
            /* the arm's columns together span at least its name */
            double span = 0;
            for (size_t q = j + 1 - per_arm; q < j; q++) span += s->armw[q] + GAP * 0.6;
            const char *nm = r->opt->arm_label[j / per_arm];
            double need = bold_px(nm ? nm : "") - span;
            if (w < need) w = need;
        }
        s->armw[j] = w;
        x += w;
        s->armx[j] = x;
        x += GAP * 0.6;
    }
    s->xp = s->narm ? x - GAP * 0.6 + GAP : xarm0;
    s->xw = s->xp + PLOT_W + GAP + 7 * DW;
    /* "est [lb, ub]": est right-aligned, then "[lb," and "ub]" right-aligned,
     * with one space (0.318 em) between the parts */
    s->xe = s->xw + GAP + fmax(we, 4 * DW);
    s->xlb = s->xe + 0.318 * FS + 0.39 * FS + wl + 0.318 * FS;
    s->xa = s->xlb + 0.318 * FS + wu + 0.39 * FS;
    /* the column is at least as wide as its (bold) heading */
    char eff[32], head[96];
    rp_effect_short(r, eff, sizeof eff);
    snprintf(head, sizeof head, "%s [%g%% CI]", eff, r->opt->pool.level);
    double headw = (double)rp_cols(head) * CW * 1.05, short_by = headw - (s->xa - s->xw - GAP);
    if (short_by > 0) { s->xe += short_by; s->xlb += short_by; s->xa += short_by; }
    *width = s->xa + MARGIN + (r->n ? 12 : 0); /* room for a dagger after the CI */

    /* title, then the header (group names over the arm-level columns) */
    s->y = MARGIN + ROW / 2;
    if (r->opt->title) {
        text(s, s->xl, s->y + FS * 0.35, NULL, "title", r->opt->title, 0);
        s->y += ROW * 1.4;
    }
    if (s->narm && r->arms != MP_ARMS_PROP) {
        for (size_t g = 0; g < 2; g++) {
            size_t j0 = g * per_arm, j1 = j0 + per_arm - 1;
            double left = s->armx[j0] - s->armw[j0], right = s->armx[j1];
            const char *nm = r->opt->arm_label[g] ? r->opt->arm_label[g] : "";
            text(s, (left + right) / 2, s->y + FS * 0.35, "middle", "header arm-group", nm, 0);
            fprintf(body, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#000\" stroke-width=\"0.6\"/>\n",
                    left, s->y + ROW / 2 - 2, right, s->y + ROW / 2 - 2);
        }
        s->y += ROW;
    }
    for (size_t j = 0; j < s->narm; j++)
        text(s, s->armx[j], s->y + FS * 0.35, "end", "header arm-head", ahead[j], 0);
    text(s, s->xl, s->y + FS * 0.35, NULL, "header", "Study", 0);
    text(s, s->xw, s->y + FS * 0.35, "end", "header", "Weight", 0);
    text(s, s->xa, s->y + FS * 0.35, "end", "header", head, 0);
    fprintf(body, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#000\" stroke-width=\"0.8\"/>\n",
            s->xl, s->y + ROW / 2, s->xa, s->y + ROW / 2);
    s->y += ROW * 1.1;
    s->ytop = s->y - ROW / 2;

    char buf[512];
    for (size_t g = 0; g < r->n; g++) {
        const mp_report_analysis *a = &r->a[g];
        if (a->group) {
            snprintf(buf, sizeof buf, "%s = %s", r->opt->by ? r->opt->by : "group", a->group);
            text(s, s->xl, s->y + FS * 0.35, NULL, "group", buf, 0);
            next_row(s);
        }
        study_rows(s, a);
        pooled_rows(s, a);
        if (r->overall) {
            het_note(s, a, buf, sizeof buf);
            note(s, buf);
            s->y += ROW * 0.4;
        }
    }
    const mp_report_analysis *top = r->overall ? r->overall : &r->a[0];
    if (r->overall) {
        text(s, s->xl, s->y + FS * 0.35, NULL, "group", "Overall", 0);
        next_row(s);
        pooled_rows(s, r->overall);
    }
    double ybot = s->y - ROW / 2 + 4;
    /* vertical lines: no effect, and the overall estimate */
    size_t m = 0;
    if (0.0 >= s->lo && 0.0 <= s->hi)
        m += (size_t)snprintf(s->vlines, sizeof s->vlines,
                              "<line class=\"no-effect\" x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#444\" stroke-width=\"1\"/>\n",
                              X(s, 0.0), s->ytop, X(s, 0.0), ybot);
    double est = top->fit.estimate;
    if (isfinite(est) && est >= s->lo && est <= s->hi && m < sizeof s->vlines)
        snprintf(s->vlines + m, sizeof s->vlines - m,
                 "<line class=\"pooled-line\" x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#888\" stroke-width=\"0.8\" stroke-dasharray=\"4,3\"/>\n",
                 X(s, est), s->ytop, X(s, est), ybot);
    axis(s, ybot);
    s->y = ybot + axis_height(s) + ROW;
    het_note(s, top, buf, sizeof buf);
    note(s, buf);
    test_note(s, top, buf, sizeof buf);
    note(s, buf);
    if (r->overall && r->has_subgroup_test) {
        char q[64], pv[64];
        snprintf(buf, sizeof buf, "Test for subgroup differences (%s): %s = %s, df = %.0f, %s",
                 rp_tau2_mode(r), r->tau2_common ? "QM" : "Q",
                 rp_fmt(q, sizeof q, r->sub_Q, s->digits), r->sub_df,
                 rp_fmt_p(pv, sizeof pv, r->sub_p, s->digits));
        note(s, buf);
    }
    {
        const mp_pool_opts *o = &r->opt->pool;
        if (r->pooling != MP_MH_NONE)
            snprintf(buf, sizeof buf, "%s (fixed effect, from the tables), z test, %g%% CIs; weights from the %s method.",
                     r->pooling == MP_MH_MH ? "Mantel-Haenszel" : "Peto's one-step odds ratio",
                     o->level, r->pooling == MP_MH_MH ? "Mantel-Haenszel" : "Peto");
        else if (o->method == MP_METHOD_FE)
            snprintf(buf, sizeof buf, "Fixed-effect model (inverse variance), %s, %g%% CIs.",
                     rp_test(r) == MP_TEST_KNHA ? "Hartung-Knapp t test" : "z test", o->level);
        else
            snprintf(buf, sizeof buf, "Random-effects model, %s estimator of \u03C4\u00B2, %s, %g%% CIs; weights from the random-effects model.",
                     mp_method_name(o->method),
                     rp_test(r) == MP_TEST_KNHA ? "Hartung-Knapp-Sidik-Jonkman t test" : "z test",
                     o->level);
        note(s, buf);
        mp_transf tf = rp_transf(r);
        if (tf != MP_TRANSF_NONE && tf != MP_TRANSF_EXP) { /* name the back-transformation */
            char tn[160];
            snprintf(buf, sizeof buf, "%s = %s, %s.", mp_measure_name(r->measure),
                     rp_measure_long(r->measure), rp_transf_note(r, tn, sizeof tn));
            note(s, buf);
        }
    }
    if (s->any_corrected) {
        note(s, "\u2020 A zero cell: 1/2 added to every cell of the study's table (metafor's "
                "escalc(), add = 1/2, to = \"only0\").");
    }
    if (s->any_ne) {
        note(s, "Not estimable: left out of the analysis (no events, or no non-events, in both "
                "arms under the drop00 rule, or a missing value).");
    }
    *height = s->y + MARGIN;
    /* notes are wider than the table on narrow plots: make room */
    double notew = s->xl + 100 * FS_SMALL * 0.55 + MARGIN;
    if (*width < notew) *width = notew;
    /* and the title (bold, 3 px larger) */
    if (r->opt->title) {
        double tw = s->xl + bold_px(r->opt->title) * (FS + 3) / FS + MARGIN;
        if (*width < tw) *width = tw;
    }
    return ferror(body) ? -1 : 0;
}

mp_status mp_report_svg_string(const mp_report *r, char **out, size_t *outlen)
{
    svg s;
    memset(&s, 0, sizeof s);
    s.r = r;
    s.expo = rp_expo(r);
    s.digits = r->opt->digits;
    s.z = rp_zcrit(r->opt->pool.level);
    rp_range(r, &s.lo, &s.hi);
    *out = NULL;
    *outlen = 0;
    char *mem = NULL, *doc = NULL;
    size_t memn = 0, docn = 0;
    FILE *body = open_memstream(&mem, &memn);
    if (!body) return MP_FAIL(MP_ENOMEM);
    double h = 0, w = 0;
    int rc = draw(&s, body, &h, &w);
    if (fclose(body) != 0) rc = -1;
    if (rc != 0) { free(mem); return MP_FAIL(MP_ENOMEM); }
    FILE *f = open_memstream(&doc, &docn);
    if (!f) { free(mem); return MP_FAIL(MP_ENOMEM); }
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%.0f\" height=\"%.0f\" "
               "viewBox=\"0 0 %.0f %.0f\" font-family=\"%s\" font-size=\"%.0f\">\n",
            ceil(w), ceil(h), ceil(w), ceil(h), font, FS);
    fputs("<title>", f);
    if (r->opt->title) rp_xml_text(f, r->opt->title, 0);
    else {
        fputs("Forest plot", f);
        if (r->file) { fputs(": ", f); rp_xml_text(f, r->file, 0); }
    }
    fputs("</title>\n", f);
    fprintf(f, "<style>.header,.group,.pooled,.title{font-weight:bold}.title{font-size:%.0fpx}"
               ".note{font-size:%.0fpx;fill:#333}.not-estimable{fill:#555}"
               ".tick-label,.axis-title,.favours{font-size:%.0fpx}</style>\n",
            FS + 3, FS_SMALL, FS_SMALL + 1);
    fputs("<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n", f);
    fputs(s.vlines, f);
    fwrite(mem, 1, memn, f);
    fputs("</svg>\n", f);
    free(mem);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) { free(doc); return MP_FAIL(MP_ENOMEM); }
    *out = doc;
    *outlen = docn;
    return MP_OK;
}

mp_status mp_report_svg(const char *path, const mp_report *r)
{
    char *doc = NULL;
    size_t n = 0;
    mp_status st = mp_report_svg_string(r, &doc, &n);
    if (st != MP_OK) return st;
    st = mp_report_render(doc, n, path, r->opt->dpi);
    free(doc);
    return st;
}
