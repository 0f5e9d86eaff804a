/* src/report/report.c - the forest-plot table of `metapool pool` and its CSV form.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The table follows the layout of metafor's forest() (Viechtbauer 2010):
 * study labels on the left, the plot in the middle, weights and the effect
 * with its CI on the right, studies in input order, study CIs yi +/- z sqrt(vi)
 * with z the normal quantile of --level, weights those of the fitted model.
 * Ratio measures are shown exponentiated (metafor's atransf = exp) on a
 * log-scaled axis.  Every line fits the width: the label column shrinks
 * first (labels get an ellipsis), then the weight column and at last the
 * plot are dropped; text lines are word-wrapped.
 *
 * CSV (--format csv): one row per study and per pooled row, columns
 *   group      subgroup value (--by), empty for the ungrouped or overall analysis
 *   row_type   study, fixed, random, prediction or subgroup_test
 *   label      study label or row name
 *   k          studies in the pooled row (subgroups for subgroup_test)
 *   estimate, ci_lb, ci_ub   on the displayed scale (exp for OR/RR/ROM
 *              unless --transf none); for prediction rows the interval
 *   weight     percent, under the requested model (100 on its pooled row)
 *   yi, se     on the analysis scale (the pooled estimate and its SE on pooled rows)
 *   stat, df, pval, tau2, I2, H2, Q, Q_df, Q_pval   of the pooled rows
 * Numbers in shortest round-trip form; undefined values are empty. */
#include "report_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* ---- characters ---- */

typedef struct glyphs {
    const char *hline, *vline, *cross, *rule_ref, *axis, *tick, *axis_ref_tick, *axis_ref;
    const char *larrow, *rarrow, *mark[3];
    const char *d_left, *d_right, *d_body, *d_cross, *d_re, *d_fe;
    const char *pi_left, *pi_right, *pi_body, *pi_cross;
    const char *ellipsis, *sq, *tau, *dash;
} glyphs;

static const glyphs utf8_glyphs = {
    "\u2500", "\u2502", "\u253C", "\u252C", "\u2500", "\u252C", "\u253C", "\u2534",
    "\u25C4", "\u25BA", {"\u25AA", "\u25A0", "\u2588"},
    "<", ">", "\u2550", "\u256A", "\u25C6", "\u25C7",
    "\u251C", "\u2524", "\u2508", "\u253C",
    "\u2026", "\u00B2", "\u03C4", "\u2013"};

static const glyphs ascii_glyphs = {
    "-", "|", "+", "+", "-", "+", "+", "+",
    "<", ">", {"o", "O", "#"},
    "<", ">", "=", "=", "#", "*",
    "[", "]", ".", "+",
    "...", "^2", "tau", "-"};

/* Colours (SGR parameters), used only when opt->color is set. */
enum { C_NONE = 0, C_BOLD, C_DIM, C_RE, C_FE, C_PI, C_MARK, C_COUNT };
static const char *const sgr[C_COUNT] = {"0", "1", "2", "1;36", "36", "2;36", "1"};

/* ---- one output line ---- */

typedef struct line {
    char *s;       /* bytes */
    size_t n, cap; /* used, allocated */
    size_t cols;   /* display columns */
    int color;     /* current colour */
} line;

typedef struct tbl {
    const mp_report *r;
    FILE *f;
    const glyphs *g;
    int width, digits, color, expo;
    size_t L, P, W, A;      /* label, plot, weight, annotation columns (0 = not shown) */
    size_t we, wl, wu;      /* widths of the estimate and the bounds */
    double lo, hi;          /* axis limits, analysis scale */
    double wmax;            /* largest study weight of the block being drawn */
    line ln;
    int oom;                /* allocation failed: output stops */
    size_t narm;            /* arm-level columns shown (0, 1 for xi/ni, 2 arms) */
    size_t AW[2];           /* their widths */
    const double *cur_arm;  /* arm-level numbers of the row being written, or NULL */
    int cur_mark;           /* the row's study had 1/2 added: mark it */
    int cur_ne;             /* the row is a study that was not estimable */
    int any_mark, any_ne;   /* footnotes needed */
} tbl;

/* One arm's cell: "events/total" (2x2 data, xi/ni) or "mean (SD) n". */
static void arm_cell(const mp_report *r, const double *v, size_t arm, char *buf, size_t n)
{
    char a[32], b[32], c[32];
    const double *x = v + (r->arms == MP_ARMS_MEANS ? 3 * arm : 2 * arm);
#define NUM(dst, val) do { if (isfinite(val)) snprintf(dst, sizeof dst, "%.6g", val); else snprintf(dst, sizeof dst, "NA"); } while (0)
    NUM(a, x[0]);
    NUM(b, x[1]);
    if (r->arms == MP_ARMS_MEANS) {
        NUM(c, x[2]);
        snprintf(buf, n, "%s (%s) %s", a, b, c);
    } else {
        snprintf(buf, n, "%s/%s", a, b);
    }
#undef NUM
}

/* The heading of an arm column and the line under it. */
static const char *arm_head(const mp_report *r, size_t arm)
{
    if (r->arms == MP_ARMS_PROP) return "Events";
    const char *nm = r->opt->arm_label[arm];
    return nm ? nm : (arm ? "Control" : "Treatment");
}
static const char *arm_sub(const mp_report *r)
{
    return r->arms == MP_ARMS_MEANS ? "mean (SD) n" : "n/N";
}

static void ln_put(tbl *t, const char *s)
{
    size_t m = strlen(s);
    if (t->oom) return;
    if (t->ln.n + m + 1 > t->ln.cap) {
        size_t cap = (t->ln.n + m + 1) * 2 + 64;
        char *p = realloc(t->ln.s, cap);
        if (!p) { t->oom = 1; return; }
        t->ln.s = p;
        t->ln.cap = cap;
    }
    memcpy(t->ln.s + t->ln.n, s, m + 1);
    t->ln.n += m;
}

/* Text that takes display columns. */
static void ln_text(tbl *t, const char *s)
{
    ln_put(t, s);
    t->ln.cols += rp_cols(s);
}

static void ln_color(tbl *t, int c)
{
    if (!t->color || c == t->ln.color) return;
    char buf[16];
    if (t->ln.color != C_NONE) ln_put(t, "\033[0m");
    if (c != C_NONE) {
        snprintf(buf, sizeof buf, "\033[%sm", sgr[c]);
        ln_put(t, buf);
    }
    t->ln.color = c;
}

static void ln_spaces(tbl *t, size_t n)
{
    ln_color(t, C_NONE);
    for (size_t i = 0; i < n; i++) ln_text(t, " ");
}

/* Text padded (or cut with an ellipsis) to exactly w columns. */
static void ln_field(tbl *t, const char *s, size_t w, int right, int c)
{
    size_t cols = rp_cols(s);
    if (cols > w) {
        size_t el = rp_cols(t->g->ellipsis);
        ln_color(t, c);
        if (w > el) {
            size_t b = rp_prefix(s, w - el);
            char *cut = malloc(b + 1);
            if (!cut) { t->oom = 1; return; }
            memcpy(cut, s, b);
            cut[b] = 0;
            /* no space before the ellipsis */
            while (b > 0 && cut[b - 1] == ' ') cut[--b] = 0;
            ln_text(t, cut);
            size_t used = rp_cols(cut) + el;
            free(cut);
            ln_text(t, t->g->ellipsis);
            ln_spaces(t, w > used ? w - used : 0);
        } else {
            ln_text(t, w == el ? t->g->ellipsis : "");
        }
        return;
    }
    if (right) ln_spaces(t, w - cols);
    ln_color(t, c);
    ln_text(t, s);
    if (!right) ln_spaces(t, w - cols);
}

/* End the line: trailing blanks go, the colour is reset, and a line that
 * somehow outgrew the width is cut at it (escape sequences take no room). */
static void ln_end(tbl *t)
{
    if (t->oom) return;
    ln_color(t, C_NONE);
    while (t->ln.n > 0 && t->ln.s[t->ln.n - 1] == ' ') t->ln.s[--t->ln.n] = 0;
    /* drop a reset that now ends the line after a trimmed blank run */
    if (t->ln.cols > (size_t)t->width) {
        size_t i = 0, c = 0;
        const char *s = t->ln.s;
        while (s[i]) {
            if (s[i] == '\033') {
                while (s[i] && s[i] != 'm') i++;
                if (s[i]) i++;
                continue;
            }
            if (((unsigned char)s[i] & 0xC0) != 0x80) {
                if (c == (size_t)t->width) break;
                c++;
            }
            i++;
        }
        t->ln.n = i;
        t->ln.s[i] = 0;
        if (t->color) ln_put(t, "\033[0m");
    }
    fwrite(t->ln.s, 1, t->ln.n, t->f);
    fputc('\n', t->f);
    t->ln.n = 0;
    if (t->ln.s) t->ln.s[0] = 0;
    t->ln.cols = 0;
    t->ln.color = C_NONE;
}

/* Word-wrapped text: first line at `indent`, continuations at indent + 2. */
static void text_wrapped(tbl *t, size_t indent, const char *text, int c)
{
    size_t w = (size_t)t->width;
    const char *s = text;
    size_t ind = indent;
    while (*s) {
        size_t room = w > ind + 10 ? w - ind : 10;
        /* longest run of whole words within room */
        size_t cut = 0, i = 0, cols = 0, lastsp = 0, lastsemi = 0, semicols = 0;
        while (s[i]) {
            if (((unsigned char)s[i] & 0xC0) != 0x80) {
                if (cols == room) break;
                cols++;
            }
            /* a break keeps "name = value" together */
            if (s[i] == ' ' && s[i + 1] && s[i + 1] != '=' && !(i > 0 && s[i - 1] == '=')) {
                lastsp = i;
                if (i > 0 && s[i - 1] == ';') { lastsemi = i; semicols = cols; }
            }
            i++;
        }
        /* prefer to break after "; " so that "name = value" stays together */
        if (!s[i]) cut = i;
        else if (lastsemi > 0 && 2 * semicols >= room) cut = lastsemi;
        else if (lastsp > 0) cut = lastsp;
        else cut = i;
        char *part = malloc(cut + 1);
        if (!part) { t->oom = 1; return; }
        memcpy(part, s, cut);
        part[cut] = 0;
        ln_spaces(t, ind);
        ln_color(t, c);
        ln_text(t, part);
        ln_end(t);
        free(part);
        s += cut;
        while (*s == ' ') s++;
        ind = indent + 2;
    }
}

/* ---- the plot column ---- */

typedef struct cell { const char *s; int c; } cell;

static long col_of(const tbl *t, double x)
{
    double u = (x - t->lo) / (t->hi - t->lo) * (double)(t->P - 1);
    return lround(u);
}

static int in_range(const tbl *t, double x) { return x >= t->lo && x <= t->hi; }

/* Empty plot cells with the line of no effect. */
static void cells_base(const tbl *t, cell *c)
{
    for (size_t i = 0; i < t->P; i++) c[i] = (cell){" ", C_NONE};
    if (in_range(t, 0.0)) c[col_of(t, 0.0)] = (cell){t->g->vline, C_DIM};
}

static long ref_col(const tbl *t) { return in_range(t, 0.0) ? col_of(t, 0.0) : -1; }

/* An interval [a, b] drawn with body glyphs, ends replaced by arrows when
 * clipped at the axis limits.  Returns 0 when it is not drawable. */
static int cells_interval(const tbl *t, cell *c, double a, double b, const char *body,
                          const char *cross, const char *lend, const char *rend, int color)
{
    if (!isfinite(a) || !isfinite(b) || b < t->lo || a > t->hi) return 0;
    long c1 = col_of(t, fmax(a, t->lo)), c2 = col_of(t, fmin(b, t->hi)), rc = ref_col(t);
    for (long i = c1; i <= c2; i++) c[i] = (cell){i == rc ? cross : body, color};
    if (lend) c[c1] = (cell){lend, color};
    if (rend) c[c2] = (cell){rend, color};
    if (a < t->lo) c[c1] = (cell){t->g->larrow, color};
    if (b > t->hi) c[c2] = (cell){t->g->rarrow, color};
    return 1;
}

static void cells_study(const tbl *t, cell *c, double y, double v, double w)
{
    double z = rp_zcrit(t->r->opt->pool.level), h = z * sqrt(v);
    cells_base(t, c);
    cells_interval(t, c, y - h, y + h, t->g->hline, t->g->cross, NULL, NULL, C_NONE);
    if (in_range(t, y)) {
        double f = t->wmax > 0 ? w / t->wmax : 1.0;
        int m = f >= 0.75 ? 2 : f >= 0.4 ? 1 : 0;
        c[col_of(t, y)] = (cell){t->g->mark[m], C_MARK};
    }
}

static void cells_diamond(const tbl *t, cell *c, const mp_pool_result *p, int re)
{
    int color = re ? C_RE : C_FE;
    cells_base(t, c);
    /* a diamond narrower than three columns is drawn as its centre alone */
    if (isfinite(p->ci_lb) && isfinite(p->ci_ub) &&
        col_of(t, fmin(p->ci_ub, t->hi)) - col_of(t, fmax(p->ci_lb, t->lo)) >= 2)
        cells_interval(t, c, p->ci_lb, p->ci_ub, t->g->d_body, t->g->d_cross, t->g->d_left,
                       t->g->d_right, color);
    if (in_range(t, p->estimate))
        c[col_of(t, p->estimate)] = (cell){re ? t->g->d_re : t->g->d_fe, color};
}

/* ---- rows ---- */

static void ann_parts(const tbl *t, double est, double lb, double ub, char e[64], char l[64],
                      char u[64])
{
    const mp_report *r = t->r;
    rp_fmt(e, 64, rp_disp(r, est), t->digits);
    rp_fmt(l, 64, rp_disp(r, lb), t->digits);
    rp_fmt(u, 64, rp_disp(r, ub), t->digits);
}

static void row(tbl *t, const char *label, int lcolor, const cell *c, const char *weight,
                double est, double lb, double ub, int show_est)
{
    if (t->cur_mark && t->L > 2) { /* "label †": the mark is never cut off */
        size_t lc = rp_cols(label), w = lc + 2 <= t->L ? lc : t->L - 2;
        ln_field(t, label, w, 0, lcolor);
        ln_spaces(t, 1);
        ln_text(t, t->r->opt->ascii ? "*" : "\u2020");
        ln_spaces(t, t->L - w - 2);
    } else {
        ln_field(t, label, t->L, 0, lcolor);
    }
    for (size_t j = 0; j < t->narm; j++) {
        char b[128];
        ln_spaces(t, 2);
        if (t->cur_arm) arm_cell(t->r, t->cur_arm, j, b, sizeof b);
        else b[0] = '\0';
        ln_field(t, b, t->AW[j], 1, C_NONE);
    }
    if (t->P) {
        ln_spaces(t, 2);
        for (size_t i = 0; i < t->P; i++) {
            ln_color(t, c ? c[i].c : C_NONE);
            ln_text(t, c ? c[i].s : " ");
        }
    }
    if (t->W) {
        ln_spaces(t, 2);
        ln_field(t, weight ? weight : "", t->W, 1, C_NONE);
    }
    if (t->A && t->cur_ne) {
        ln_spaces(t, 2);
        ln_field(t, "not estimable", t->A, 1, C_DIM);
    } else if (t->A && (isfinite(est) || isfinite(lb) || isfinite(ub) || show_est)) {
        char e[64], l[64], u[64], buf[256];
        ann_parts(t, est, lb, ub, e, l, u);
        if (!show_est) memset(e, 0, 1);
        snprintf(buf, sizeof buf, "%*s [%*s, %*s]", (int)t->we, e, (int)t->wl, l, (int)t->wu, u);
        ln_spaces(t, 2);
        ln_field(t, buf, t->A, 1, C_NONE);
    }
    ln_end(t);
}

static void weight_str(const tbl *t, char *buf, size_t n, double w)
{
    char x[64];
    snprintf(buf, n, "%s%%", rp_fmt(x, sizeof x, w, t->digits));
}

static void study_rows(tbl *t, const mp_report_analysis *a, cell *c)
{
    double z = rp_zcrit(t->r->opt->pool.level);
    /* marks are sized relative to the heaviest study of the block, whose
     * weights (percent of that analysis) are the ones printed beside them */
    t->wmax = 0;
    for (size_t i = 0; i < a->k; i++)
        if (a->weight[i] > t->wmax) t->wmax = a->weight[i];
    size_t ne = 0;
    for (size_t i = 0; i <= a->k; i++) {
        /* studies left out, where they are in the input: "not estimable" */
        while (ne < a->n_ne && a->ne_label && a->ne_before && a->ne_before[ne] <= i) {
            char *lab = rp_clean(a->ne_label[ne], t->r->opt->ascii);
            if (!lab) { t->oom = 1; return; }
            if (t->P) cells_base(t, c);
            t->cur_arm = t->narm && a->ne_arm ? a->ne_arm + MP_ARM_NV * ne : NULL;
            t->cur_ne = t->any_ne = 1;
            row(t, lab, C_DIM, c, NULL, NAN, NAN, NAN, 0);
            t->cur_ne = 0;
            t->cur_arm = NULL;
            free(lab);
            ne++;
        }
        if (i == a->k) break;
        char *lab = rp_clean(a->label[i], t->r->opt->ascii);
        char w[64];
        if (!lab) { t->oom = 1; return; }
        weight_str(t, w, sizeof w, a->weight[i]);
        if (t->P) cells_study(t, c, a->yi[i], a->vi[i], a->weight[i]);
        double h = z * sqrt(a->vi[i]);
        t->cur_arm = t->narm && a->arm ? a->arm + MP_ARM_NV * i : NULL;
        t->cur_mark = a->corrected && a->corrected[i];
        t->any_mark |= t->cur_mark;
        row(t, lab, C_NONE, c, w, a->yi[i], a->yi[i] - h, a->yi[i] + h, 1);
        t->cur_arm = NULL;
        t->cur_mark = 0;
        free(lab);
    }
}

static void spacer(tbl *t, cell *c)
{
    if (t->P) cells_base(t, c);
    row(t, "", C_NONE, t->P ? c : NULL, NULL, NAN, NAN, NAN, 0);
}

static void pooled_rows(tbl *t, const mp_report_analysis *a, cell *c)
{
    char hundred[64], lab[96];
    weight_str(t, hundred, sizeof hundred, 100.0);
    int re = rp_is_re(a);
    mp_pool_result fe;
    rp_fe_view(a, &fe);
    /* with one study the fixed-effect row would repeat the random-effects
     * one, and a prediction interval says nothing: the model's row only */
    if (!re || a->k > 1) {
        if (t->P) cells_diamond(t, c, &fe, 0);
        row(t, rp_fe_label(t->r), C_BOLD, c, re ? NULL : hundred, fe.estimate, fe.ci_lb,
            fe.ci_ub, 1);
    }
    if (!re) return;
    snprintf(lab, sizeof lab, "Random effects (%s)", mp_method_name(a->fit.method));
    if (t->P) cells_diamond(t, c, &a->fit, 1);
    row(t, lab, C_BOLD, c, hundred, a->fit.estimate, a->fit.ci_lb, a->fit.ci_ub, 1);
    if (a->k > 1 && isfinite(a->fit.pi_lb) && isfinite(a->fit.pi_ub)) {
        if (t->P) {
            cells_base(t, c);
            cells_interval(t, c, a->fit.pi_lb, a->fit.pi_ub, t->g->pi_body, t->g->pi_cross,
                           t->g->pi_left, t->g->pi_right, C_PI);
        }
        row(t, "Prediction interval", C_NONE, c, NULL, a->fit.estimate, a->fit.pi_lb,
            a->fit.pi_ub, 0);
    }
}

/* ---- text lines ---- */

static void het_text(const tbl *t, const mp_report_analysis *a, char *buf, size_t n)
{
    const mp_pool_result *p = &a->fit;
    const glyphs *g = t->g;
    int d = t->digits;
    char q[64], pv[64], i2[64], i2l[64], i2u[64], t2[64], t2l[64], t2u[64], h2[64];
    if (a->k < 2 || !isfinite(p->Q)) {
        snprintf(buf, n, "Heterogeneity: not applicable (one study)");
        return;
    }
    rp_fmt(q, sizeof q, p->Q, d);
    rp_fmt_p(pv, sizeof pv, p->Q_pval, d);
    rp_fmt(i2, sizeof i2, p->I2, d);
    rp_fmt(h2, sizeof h2, p->H2, d);
    size_t m = (size_t)snprintf(buf, n, "Heterogeneity: Q = %s, df = %.0f, %s; I%s = %s%%", q,
                                p->Q_df, pv, g->sq, i2);
    /* a Q-profile bound with no root in the range of a double is marked:
     * ">" before a bound whose root lies beyond the largest double, "<"
     * on both bounds of the empty interval (as metafor marks them) */
    const char *ml = !p->tau2_ci_lb_limit ? "" : p->tau2_ci_lb > 0 ? ">" : "<";
    const char *mu = !p->tau2_ci_ub_limit ? "" : p->tau2_ci_ub > 0 ? ">" : "<";
    if (m < n && rp_is_re(a) && isfinite(p->I2_ci_lb) && isfinite(p->I2_ci_ub))
        m += (size_t)snprintf(buf + m, n - m, " [%s%s, %s%s]", ml,
                              rp_fmt(i2l, sizeof i2l, p->I2_ci_lb, d), mu,
                              rp_fmt(i2u, sizeof i2u, p->I2_ci_ub, d));
    if (m < n && rp_is_re(a)) {
        m += (size_t)snprintf(buf + m, n - m, "; %s%s = %s", g->tau, g->sq,
                              rp_fmt(t2, sizeof t2, p->tau2, d + 2));
        if (m < n && isfinite(p->tau2_ci_lb) && isfinite(p->tau2_ci_ub))
            m += (size_t)snprintf(buf + m, n - m, " [%s%s, %s%s]", ml,
                                  rp_fmt(t2l, sizeof t2l, p->tau2_ci_lb, d + 2), mu,
                                  rp_fmt(t2u, sizeof t2u, p->tau2_ci_ub, d + 2));
    }
    if (m < n) snprintf(buf + m, n - m, "; H%s = %s", g->sq, h2);
}

static void test_text(const tbl *t, const mp_report_analysis *a, char *buf, size_t n)
{
    const mp_pool_result *p = &a->fit;
    char st[64], pv[64];
    if (!isfinite(p->stat)) {
        snprintf(buf, n, "Test for overall effect: not available%s",
                 a->k < 2 ? " (one study)" : "");
        return;
    }
    rp_fmt(st, sizeof st, p->stat, t->digits);
    rp_fmt_p(pv, sizeof pv, p->pval, t->digits);
    if (p->test == MP_TEST_KNHA)
        snprintf(buf, n, "Test for overall effect: t(%.0f) = %s, %s", p->df, st, pv);
    else
        snprintf(buf, n, "Test for overall effect: z = %s, %s", st, pv);
}

static const char *vtype_text(mp_smd_vtype v)
{
    switch (v) {
    case MP_SMD_VAR_UB: return "UB (metafor)";
    case MP_SMD_VAR_REVMAN: return "RevMan 5";
    case MP_SMD_VAR_CMA: return "CMA";
    default: return "LS (metafor)";
    }
}

static void model_text(const tbl *t, char *buf, size_t n)
{
    const mp_report *r = t->r;
    const mp_pool_opts *o = &r->opt->pool;
    int re = o->method != MP_METHOD_FE && r->pooling == MP_MH_NONE;
    size_t m;
    if (r->pooling == MP_MH_MH)
        m = (size_t)snprintf(buf, n, "Model: Mantel-Haenszel (fixed effect, from the tables; %s)",
                             r->measure == MP_MEASURE_OR ? "Robins-Breslow-Greenland variance"
                             : r->measure == MP_MEASURE_RD ? "Sato's variance"
                                                           : "Greenland-Robins variance");
    else if (r->pooling == MP_MH_PETO)
        m = (size_t)snprintf(buf, n, "Model: Peto's one-step odds ratio (fixed effect, from the tables)");
    else if (!re) m = (size_t)snprintf(buf, n, "Model: fixed effect (inverse variance)");
    else
        m = (size_t)snprintf(buf, n, "Model: random effects (%s estimator of %s%s)",
                             mp_method_name(o->method), t->g->tau, t->g->sq);
    if (m < n)
        m += (size_t)snprintf(buf + m, n - m, ", %s, %g%% CIs",
                              rp_test(r) == MP_TEST_KNHA && r->pooling == MP_MH_NONE
                                  ? "Hartung-Knapp-Sidik-Jonkman t test (k-1 df)"
                                  : "z test",
                              o->level);
    if (m < n && re && rp_test(r) == MP_TEST_KNHA)
        m += (size_t)snprintf(buf + m, n - m, " (fixed effect: z)");
    if (m < n && r->measure != MP_MEASURE_GEN) {
        char note[160];
        if (r->measure == MP_MEASURE_SMD &&
            (r->source == MP_SRC_MEANS || r->source == MP_SRC_YI_N))
            m += (size_t)snprintf(buf + m, n - m,
                                  "; SMD = Hedges' g (exact correction), variance %s",
                                  vtype_text(r->vtype));
        else
            m += (size_t)snprintf(buf + m, n - m, "; %s = %s", mp_measure_name(r->measure),
                                  rp_measure_long(r->measure));
        if (m < n && rp_transf(r) != MP_TRANSF_NONE)
            m += (size_t)snprintf(buf + m, n - m, ", %s", rp_transf_note(r, note, sizeof note));
        else if (m < n && mp_measure_is_log(r->measure))
            m += (size_t)snprintf(buf + m, n - m, ", pooled on the log scale");
    }
    if (m < n && r->pooling == MP_MH_MH && (r->measure == MP_MEASURE_OR || r->measure == MP_MEASURE_RR))
        m += (size_t)snprintf(buf + m, n - m, "; tables with a zero cell get 1/2 in every cell "
                              "for Q only, tables without events in both arms are left out of Q");
    if (m < n)
        snprintf(buf + m, n - m, "; weights from the %s.",
                 r->pooling == MP_MH_MH     ? "Mantel-Haenszel method"
                 : r->pooling == MP_MH_PETO ? "Peto method"
                 : re                       ? "random-effects model"
                                            : "fixed-effect model");
}

/* The Cochran-Mantel-Haenszel and Tarone tests (MH odds ratios), the MH
 * test of rate ratios; "" otherwise. */
static void mh_text(const tbl *t, const mp_report_analysis *a, char *buf, size_t n)
{
    const mp_mh_result *h = a->mh;
    char x[64], p[64], x2[64], p2[64];
    int d = t->digits;
    buf[0] = '\0';
    if (!h || !isfinite(h->MH)) return;
    size_t m = (size_t)snprintf(buf, n, "Cochran-Mantel-Haenszel test: X%s = %s, df = 1, %s",
                                t->g->sq, rp_fmt(x, sizeof x, h->MH, d),
                                rp_fmt_p(p, sizeof p, h->MH_pval, d));
    if (m < n && isfinite(h->TA))
        snprintf(buf + m, n - m, "; Tarone's test for heterogeneity: X%s = %s, df = %.0f, %s",
                 t->g->sq, rp_fmt(x2, sizeof x2, h->TA, d), h->TA_df,
                 rp_fmt_p(p2, sizeof p2, h->TA_pval, d));
}

/* ---- axis ---- */

static void axis_rows(tbl *t)
{
    const mp_report *r = t->r;
    rp_ticks tk;
    rp_make_ticks_r(r, t->lo, t->hi, (double)(t->P - 1), 1.0, 1.0, &tk);
    cell *c = malloc(t->P * sizeof *c);
    if (!c) { t->oom = 1; return; }
    long rc = ref_col(t);
    for (size_t i = 0; i < t->P; i++) c[i] = (cell){t->g->axis, C_NONE};
    for (size_t i = 0; i < tk.n; i++) c[col_of(t, tk.at[i])] = (cell){t->g->tick, C_NONE};
    if (rc >= 0) {
        int is_tick = 0;
        for (size_t i = 0; i < tk.n; i++) is_tick |= col_of(t, tk.at[i]) == rc;
        c[rc] = (cell){is_tick ? t->g->axis_ref_tick : t->g->axis_ref, C_DIM};
    }
    row(t, "", C_NONE, c, NULL, NAN, NAN, NAN, 0);
    free(c);
    /* tick labels, centred under their ticks, never overlapping */
    size_t off = t->L + 2, end = (size_t)t->width, pos = 0;
    for (size_t j = 0; j < t->narm; j++) off += 2 + t->AW[j];
    ln_spaces(t, off);
    pos = off;
    for (size_t i = 0; i < tk.n; i++) {
        size_t len = strlen(tk.label[i]);
        long st = (long)off + col_of(t, tk.at[i]) - (long)(len - 1) / 2;
        if (st < (long)pos + (i ? 1 : 0)) st = (long)pos + (i ? 1 : 0);
        if ((size_t)st + len > end) continue;
        ln_spaces(t, (size_t)st - pos);
        ln_text(t, tk.label[i]);
        pos = (size_t)st + len;
    }
    ln_end(t);
    /* favours: either side of the line of no effect (RevMan), each cut to
     * the room on its side */
    if (r->opt->favours[0] || r->opt->favours[1]) {
        long rcol = ref_col(t);
        size_t mid = rcol >= 0 ? (size_t)rcol : t->P / 2, room_r = t->P > mid + 2 ? t->P - mid - 2 : 0;
        char *lf = rp_clean(r->opt->favours[0] ? r->opt->favours[0] : "", r->opt->ascii);
        char *rf = rp_clean(r->opt->favours[1] ? r->opt->favours[1] : "", r->opt->ascii);
        if (!lf || !rf) { free(lf); free(rf); t->oom = 1; return; }
        size_t wl = mid > 1 ? mid - 1 : 0;   /* ends two columns left of the line */
        ln_spaces(t, off);
        ln_field(t, lf, wl, 1, C_NONE);
        ln_spaces(t, mid - wl + 2);
        ln_field(t, rf, rp_cols(rf) < room_r ? rp_cols(rf) : room_r, 0, C_NONE);
        ln_end(t);
        free(lf);
        free(rf);
    }
    /* axis title */
    char eff[32], title[256];
    rp_effect_short(r, eff, sizeof eff);
    if (r->opt->xlab) {
        char *x = rp_clean(r->opt->xlab, r->opt->ascii);
        snprintf(title, sizeof title, "%s", x ? x : "");
        free(x);
    } else if (t->expo) snprintf(title, sizeof title, "%s (log scale)", eff);
    else if (rp_transf(r) == MP_TRANSF_NONE && mp_measure_transf(r->measure) != MP_TRANSF_NONE &&
             !mp_measure_is_log(r->measure))
        snprintf(title, sizeof title, "%s (%s scale)", eff, mp_measure_name(r->measure));
    else snprintf(title, sizeof title, "%s", eff);
    size_t tl = rp_cols(title);
    if (tl <= t->P) {
        ln_spaces(t, off + (t->P - tl) / 2);
        ln_text(t, title);
        ln_end(t);
    }
}

/* ---- layout ---- */

static size_t maxz(size_t a, size_t b) { return a > b ? a : b; }

static void measure_fields(tbl *t, const mp_report_analysis *a, int studies, size_t *lab)
{
    char e[64], l[64], u[64];
    double z = rp_zcrit(t->r->opt->pool.level);
    if (studies)
        for (size_t i = 0; i < a->k; i++) {
            double h = z * sqrt(a->vi[i]);
            ann_parts(t, a->yi[i], a->yi[i] - h, a->yi[i] + h, e, l, u);
            t->we = maxz(t->we, strlen(e));
            t->wl = maxz(t->wl, strlen(l));
            t->wu = maxz(t->wu, strlen(u));
            char *c = rp_clean(a->label[i], t->r->opt->ascii);
            if (c) *lab = maxz(*lab, rp_cols(c));
            free(c);
        }
    for (size_t j = 0; studies && a->ne_label && j < a->n_ne; j++) {
        char *c = rp_clean(a->ne_label[j], t->r->opt->ascii);
        if (c) *lab = maxz(*lab, rp_cols(c));
        free(c);
    }
    for (size_t q = 0; studies && t->narm && q < 2; q++) {
        const double *v = q ? a->ne_arm : a->arm;
        size_t m = q ? (a->ne_label ? a->n_ne : 0) : a->k;
        char b[128];
        for (size_t i = 0; v && i < m; i++)
            for (size_t j = 0; j < t->narm; j++) {
                arm_cell(t->r, v + MP_ARM_NV * i, j, b, sizeof b);
                t->AW[j] = maxz(t->AW[j], rp_cols(b));
            }
    }
    mp_pool_result fe;
    rp_fe_view(a, &fe);
    const mp_pool_result *p[2] = {&fe, &a->fit};
    for (int j = 0; j < 2; j++) {
        ann_parts(t, p[j]->estimate, p[j]->ci_lb, p[j]->ci_ub, e, l, u);
        t->we = maxz(t->we, strlen(e));
        t->wl = maxz(t->wl, strlen(l));
        t->wu = maxz(t->wu, strlen(u));
    }
    if (rp_is_re(a) && isfinite(a->fit.pi_lb)) {
        ann_parts(t, a->fit.estimate, a->fit.pi_lb, a->fit.pi_ub, e, l, u);
        t->wl = maxz(t->wl, strlen(l));
        t->wu = maxz(t->wu, strlen(u));
    }
    char lb[96];
    snprintf(lb, sizeof lb, "Random effects (%s)", mp_method_name(a->fit.method));
    *lab = maxz(*lab, rp_is_re(a) ? strlen(lb) : strlen(rp_fe_label(t->r)));
    if (rp_is_re(a) && isfinite(a->fit.pi_lb)) *lab = maxz(*lab, strlen("Prediction interval"));
}

static int term_width(FILE *f)
{
    int fd = fileno(f);
    if (fd < 0 || !isatty(fd)) return 80;
    struct winsize ws;
    if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
    const char *c = getenv("COLUMNS");
    char *end;
    long v = c && *c ? strtol(c, &end, 10) : 0;
    if (c && *c && !*end && v >= 1 && v <= 100000) return (int)v;
    return 80;
}

static void layout(tbl *t, char *group_title_max)
{
    const mp_report *r = t->r;
    size_t lab = strlen("Study");
    (void)group_title_max;
    t->narm = r->arms == MP_ARMS_NONE ? 0 : r->arms == MP_ARMS_PROP ? 1 : 2;
    for (size_t j = 0; j < t->narm; j++) {
        char *h = rp_clean(arm_head(r, j), r->opt->ascii);
        t->AW[j] = maxz(h ? rp_cols(h) : 0, strlen(arm_sub(r)));
        free(h);
    }
    for (size_t g = 0; g < r->n; g++) measure_fields(t, &r->a[g], 1, &lab);
    if (r->overall) {
        measure_fields(t, r->overall, 0, &lab);
        lab = maxz(lab, strlen("Overall"));
    }
    char eff[32], head[96], w[64];
    rp_effect_short(r, eff, sizeof eff);
    snprintf(head, sizeof head, "%s [%g%% CI]", eff, r->opt->pool.level);
    t->A = maxz(t->we + 2 + t->wl + 2 + t->wu + 1, rp_cols(head));
    weight_str(t, w, sizeof w, 100.0);
    t->W = maxz(strlen("Weight"), strlen(w));
    /* the arm-level columns stay when the plot keeps its least width and
     * the labels theirs; otherwise they go first */
    const size_t Lmin = 12, Pmin = 20, Pmax = 160;
    size_t armw = 0;
    for (size_t j = 0; j < t->narm; j++) armw += 2 + t->AW[j];
    if (t->narm && (size_t)t->width < armw + t->A + 2 + t->W + 2 + 2 + maxz(Lmin, lab < 24 ? lab : 24) + Pmin) {
        t->narm = 0;
        armw = 0;
    }
    size_t width = (size_t)t->width - armw;
    for (int attempt = 0; attempt < 3; attempt++) {
        size_t fixed = t->A + 2 + (t->W ? t->W + 2 : 0) + (attempt < 2 ? 2 : 0);
        size_t avail = width > fixed ? width - fixed : 0;
        if (attempt == 2) { t->P = 0; t->L = avail; break; }
        if (avail >= lab + Pmin) { t->L = lab; t->P = avail - lab; }
        else if (avail >= Lmin + Pmin) { t->P = Pmin; t->L = avail - Pmin; }
        else if (avail >= Lmin + 10) { t->L = Lmin; t->P = avail - Lmin; }
        else { if (attempt == 0) t->W = 0; continue; }
        break;
    }
    if (t->P > Pmax) t->P = Pmax;
    if (t->L > lab && t->P) t->L = lab;
    if (t->L < 1) t->L = 1;
}

void mp_report_table(FILE *f, const mp_report *r)
{
    tbl t = {0};
    t.r = r;
    t.f = f;
    t.g = r->opt->ascii ? &ascii_glyphs : &utf8_glyphs;
    t.width = r->opt->width > 0 ? r->opt->width : term_width(f);
    if (t.width < 40) t.width = 40;
    if (t.width > 1000) t.width = 1000;
    t.digits = r->opt->digits;
    t.color = r->opt->color;
    t.expo = rp_expo(r);
    rp_range(r, &t.lo, &t.hi);
    layout(&t, NULL);
    cell *c = t.P ? malloc(t.P * sizeof *c) : NULL;
    if (t.P && !c) return;

    /* header */
    char eff[32], head[96];
    rp_effect_short(r, eff, sizeof eff);
    snprintf(head, sizeof head, "%s [%g%% CI]", eff, r->opt->pool.level);
    if (r->opt->title) {
        char *ti = rp_clean(r->opt->title, r->opt->ascii);
        if (ti) text_wrapped(&t, 0, ti, C_BOLD);
        free(ti);
        ln_end(&t);
    }
    ln_field(&t, "Study", t.L, 0, C_BOLD);
    for (size_t j = 0; j < t.narm; j++) {
        char *h = rp_clean(arm_head(r, j), r->opt->ascii);
        ln_spaces(&t, 2);
        ln_field(&t, h ? h : "", t.AW[j], 1, C_BOLD);
        free(h);
    }
    if (t.P) ln_spaces(&t, 2 + t.P);
    if (t.W) { ln_spaces(&t, 2); ln_field(&t, "Weight", t.W, 1, C_BOLD); }
    ln_spaces(&t, 2);
    ln_field(&t, head, t.A, 1, C_BOLD);
    ln_end(&t);
    if (t.narm) { /* what the arm cells hold */
        ln_spaces(&t, t.L);
        for (size_t j = 0; j < t.narm; j++) {
            ln_spaces(&t, 2);
            ln_field(&t, arm_sub(r), t.AW[j], 1, C_DIM);
        }
        ln_end(&t);
    }
    size_t armw = 0;
    for (size_t j = 0; j < t.narm; j++) armw += 2 + t.AW[j];
    size_t total = t.L + armw + (t.P ? 2 + t.P : 0) + (t.W ? 2 + t.W : 0) + 2 + t.A;
    long rc = t.P ? ref_col(&t) : -1;
    for (size_t i = 0; i < total; i++)
        ln_text(&t, rc >= 0 && i == t.L + armw + 2 + (size_t)rc ? t.g->rule_ref : t.g->hline);
    ln_end(&t);

    char buf[1024];
    for (size_t g = 0; g < r->n && !t.oom; g++) {
        const mp_report_analysis *a = &r->a[g];
        if (a->group) {
            snprintf(buf, sizeof buf, "%s = %s", r->opt->by ? r->opt->by : "group", a->group);
            char *gt = rp_clean(buf, r->opt->ascii);
            if (t.P) cells_base(&t, c);
            row(&t, gt ? gt : "", C_BOLD, c, NULL, NAN, NAN, NAN, 0);
            free(gt);
        }
        study_rows(&t, a, c);
        spacer(&t, c);
        pooled_rows(&t, a, c);
        if (r->overall) {
            het_text(&t, a, buf, sizeof buf);
            text_wrapped(&t, 2, buf, C_NONE);
            test_text(&t, a, buf, sizeof buf);
            text_wrapped(&t, 2, buf, C_NONE);
            mh_text(&t, a, buf, sizeof buf);
            if (buf[0]) text_wrapped(&t, 2, buf, C_NONE);
            ln_end(&t);
        }
    }
    const mp_report_analysis *top = r->overall ? r->overall : &r->a[0];
    if (r->overall) {
        if (t.P) cells_base(&t, c);
        row(&t, "Overall", C_BOLD, c, NULL, NAN, NAN, NAN, 0);
        pooled_rows(&t, r->overall, c);
    }
    if (t.P) axis_rows(&t);
    ln_end(&t);
    het_text(&t, top, buf, sizeof buf);
    text_wrapped(&t, 0, buf, C_NONE);
    test_text(&t, top, buf, sizeof buf);
    text_wrapped(&t, 0, buf, C_NONE);
    mh_text(&t, top, buf, sizeof buf);
    if (buf[0]) text_wrapped(&t, 0, buf, C_NONE);
    if (r->overall) {
        char q[64], pv[64];
        if (r->has_subgroup_test)
            snprintf(buf, sizeof buf, "Test for subgroup differences (%s): %s = %s, df = %.0f, %s",
                     rp_tau2_mode(r), r->tau2_common ? "QM" : "Q",
                     rp_fmt(q, sizeof q, r->sub_Q, t.digits), r->sub_df,
                     rp_fmt_p(pv, sizeof pv, r->sub_p, t.digits));
        else
            snprintf(buf, sizeof buf, "Test for subgroup differences: not available (one subgroup)");
        text_wrapped(&t, 0, buf, C_NONE);
    }
    model_text(&t, buf, sizeof buf);
    text_wrapped(&t, 0, buf, C_DIM);
    if (t.any_mark) {
        snprintf(buf, sizeof buf, "%s A zero cell: 1/2 added to every cell of the study's table "
                 "(metafor's escalc(), add = 1/2, to = \"only0\").", r->opt->ascii ? "*" : "\u2020");
        text_wrapped(&t, 0, buf, C_DIM);
    }
    if (t.any_ne)
        text_wrapped(&t, 0, "Not estimable: left out of the analysis (no events, or no non-events, "
                     "in both arms under the drop00 rule, or a missing value).", C_DIM);
    free(c);
    free(t.ln.s);
}

/* ---- CSV ---- */

static void csv_row(FILE *f, const mp_report *r, const char *group, const char *type,
                    const char *label, size_t k, double est, double lb, double ub, double w,
                    const mp_pool_result *p, double yi, double se)
{
    mp_csv_field(f, group, ',');
    fprintf(f, ",%s,", type);
    mp_csv_field(f, label, ',');
    fputc(',', f);
    if (k) fprintf(f, "%zu", k);
    const double d[] = {rp_disp(r, est), rp_disp(r, lb), rp_disp(r, ub), w, yi, se};
    for (size_t i = 0; i < sizeof d / sizeof d[0]; i++) {
        fputc(',', f);
        rp_csv_num(f, d[i]);
    }
    const double q[] = {p ? p->stat : NAN, p ? p->df : NAN, p ? p->pval : NAN,
                        p ? p->tau2 : NAN, p ? p->I2 : NAN, p ? p->H2 : NAN,
                        p ? p->Q : NAN, p ? p->Q_df : NAN, p ? p->Q_pval : NAN};
    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
        fputc(',', f);
        rp_csv_num(f, q[i]);
    }
    fputc('\n', f);
}

static void csv_analysis(FILE *f, const mp_report *r, const mp_report_analysis *a, int studies)
{
    const char *g = a->group ? a->group : "";
    double z = rp_zcrit(r->opt->pool.level);
    if (studies)
        for (size_t i = 0; i < a->k; i++) {
            double se = sqrt(a->vi[i]);
            csv_row(f, r, g, "study", a->label[i], 0, a->yi[i], a->yi[i] - z * se,
                    a->yi[i] + z * se, a->weight[i], NULL, a->yi[i], se);
        }
    int re = rp_is_re(a);
    mp_pool_result fe;
    rp_fe_view(a, &fe);
    csv_row(f, r, g, "fixed", rp_fe_label(r), a->k, fe.estimate, fe.ci_lb, fe.ci_ub,
            re ? NAN : 100.0, &fe, fe.estimate, fe.se);
    if (re) {
        char lab[96];
        snprintf(lab, sizeof lab, "Random effects (%s)", mp_method_name(a->fit.method));
        csv_row(f, r, g, "random", lab, a->k, a->fit.estimate, a->fit.ci_lb, a->fit.ci_ub,
                100.0, &a->fit, a->fit.estimate, a->fit.se);
        if (isfinite(a->fit.pi_lb))
            csv_row(f, r, g, "prediction", "Prediction interval", a->k, a->fit.estimate,
                    a->fit.pi_lb, a->fit.pi_ub, NAN, NULL, a->fit.estimate, NAN);
    }
}

void mp_report_csv(FILE *f, const mp_report *r)
{
    fputs("group,row_type,label,k,estimate,ci_lb,ci_ub,weight,yi,se,stat,df,pval,tau2,I2,H2,Q,"
          "Q_df,Q_pval\n",
          f);
    for (size_t g = 0; g < r->n; g++) csv_analysis(f, r, &r->a[g], 1);
    if (r->overall) {
        csv_analysis(f, r, r->overall, 0);
        if (r->has_subgroup_test) {
            mp_pool_result p;
            memset(&p, 0, sizeof p);
            p.stat = p.df = p.pval = p.tau2 = p.I2 = p.H2 = NAN;
            p.Q = r->sub_Q;
            p.Q_df = r->sub_df;
            p.Q_pval = r->sub_p;
            csv_row(f, r, "", "subgroup_test", "Test for subgroup differences", r->n, NAN, NAN,
                    NAN, NAN, &p, NAN, NAN);
        }
    }
}
