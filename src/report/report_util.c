/* src/report/report_util.c - helpers shared by the reporters: scales, axis ticks, numbers, UTF-8.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "report_internal.h"

#include "metapool/quantile.h"
#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int rp_expo(const mp_report *r)
{
    return r->opt->transf && mp_measure_is_log(r->measure);
}

mp_transf rp_transf(const mp_report *r)
{
    return r->opt->transf ? mp_measure_transf(r->measure) : MP_TRANSF_NONE;
}

/* The harmonic mean of the sizes for PFT/IRFT (NaN when missing). */
static double hm_of(const mp_report *r) { return r->transf_hm > 0 ? r->transf_hm : NAN; }

double rp_disp(const mp_report *r, double x)
{
    return mp_transf_apply(rp_transf(r), x, hm_of(r));
}

/* Analysis-scale position of displayed value v (the forward transformation;
 * metafor's transf.logit, transf.rtoz, transf.arcsin, transf.pft, transf.irft). */
static double forward(mp_transf t, double v, double hm)
{
    switch (t) {
    case MP_TRANSF_EXP: return v > 0 ? log(v) : NAN;
    case MP_TRANSF_ILOGIT: return v > 0 && v < 1 ? log(v / (1 - v)) : NAN;
    case MP_TRANSF_ZTOR: return v > -1 && v < 1 ? atanh(v) : NAN;
    case MP_TRANSF_IARCSIN: return v >= 0 && v <= 1 ? asin(sqrt(v)) : NAN;
    case MP_TRANSF_IPFT_HM: {
        if (!(v >= 0 && v <= 1)) return NAN;
        double x = v * hm;
        return 0.5 * (asin(sqrt(x / (hm + 1))) + asin(sqrt((x + 1) / (hm + 1))));
    }
    case MP_TRANSF_ISQRT: return v >= 0 ? sqrt(v) : NAN;
    case MP_TRANSF_IIRFT_HM: return v >= 0 ? 0.5 * (sqrt(v) + sqrt(v + 1 / hm)) : NAN;
    default: return v;
    }
}

double rp_zcrit(double level)
{
    return mp_qnorm_upper((1.0 - level / 100.0) / 2.0);
}

int rp_is_re(const mp_report_analysis *a)
{
    return a->fit.method != MP_METHOD_FE;
}

mp_test rp_test(const mp_report *r)
{
    if (r->n == 1 && !r->overall) return r->a[0].fit.test;
    return r->opt->pool.test;
}

void rp_fe_view(const mp_report_analysis *a, mp_pool_result *out)
{
    /* with --method FE the fixed-effect fit is the requested one: as asked */
    *out = rp_is_re(a) ? a->fe : a->fit;
    if (!rp_is_re(a) || a->fe.test != MP_TEST_KNHA || !(a->fe.sum_w > 0)) return;
    double se = 1.0 / sqrt(a->fe.sum_w), z = rp_zcrit(a->fe.level);
    out->test = MP_TEST_Z;
    out->se = se;
    out->df = NAN;
    out->stat = out->estimate / se;
    out->pval = 2.0 * gsl_cdf_ugaussian_Q(fabs(out->stat));
    out->ci_lb = out->estimate - z * se;
    out->ci_ub = out->estimate + z * se;
}

/* ---- axis range ---- */

typedef struct span { double lo, hi; } span;

static void widen(span *s, double x)
{
    if (!isfinite(x)) return;
    if (x < s->lo) s->lo = x;
    if (x > s->hi) s->hi = x;
}

static void range_of(const mp_report_analysis *a, double z, int studies, span *core, span *wide)
{
    if (studies)
        for (size_t i = 0; i < a->k; i++) {
            widen(core, a->yi[i]);
            widen(wide, a->yi[i] - z * sqrt(a->vi[i]));
            widen(wide, a->yi[i] + z * sqrt(a->vi[i]));
        }
    mp_pool_result fe;
    rp_fe_view(a, &fe);
    const mp_pool_result *p[2] = {&a->fit, &fe};
    for (int j = 0; j < 2; j++) {
        widen(core, p[j]->estimate);
        widen(core, p[j]->ci_lb);
        widen(core, p[j]->ci_ub);
    }
    if (rp_is_re(a)) {
        widen(core, a->fit.pi_lb);
        widen(core, a->fit.pi_ub);
    }
}

void rp_range(const mp_report *r, double *lo, double *hi)
{
    span core = {0.0, 0.0}, wide = {0.0, 0.0}; /* both hold the no-effect value 0 */
    double z = rp_zcrit(r->opt->pool.level);
    for (size_t g = 0; g < r->n; g++) range_of(&r->a[g], z, 1, &core, &wide);
    if (r->overall) range_of(r->overall, z, 0, &core, &wide);
    double s = core.hi - core.lo;
    if (!(s > 0)) s = 1.0;
    *lo = fmax(fmin(core.lo, wide.lo), core.lo - s);
    *hi = fmin(fmax(core.hi, wide.hi), core.hi + s);
    /* a little air so that marks at the extremes are not on the frame */
    double pad = 0.02 * (*hi - *lo);
    *lo -= pad;
    *hi += pad;
}

/* ---- ticks ---- */

/* Shortest decimal label (at most 6 decimals) that reads back as v. */
static void nice_label(char *buf, size_t n, double v)
{
    if (fabs(v) >= 1e6 || (v != 0 && fabs(v) < 1e-6)) { snprintf(buf, n, "%g", v); return; }
    for (int d = 0; d <= 6; d++) {
        snprintf(buf, n, "%.*f", d, v);
        if (fabs(strtod(buf, NULL) - v) <= 1e-9 * fmax(1.0, fabs(v))) break;
    }
    if (strcmp(buf, "-0") == 0) snprintf(buf, n, "0");
}

typedef struct tick_try {
    double lo, hi, len, charw, gap;
} tick_try;

/* Fill t from the displayed values v[0..m) (ascending); 1 if they all lie
 * in range, at most RP_MAXTICK, and their labels do not collide. */
static int try_ticks(const tick_try *c, int expo, const double *v, size_t m, rp_ticks *t)
{
    rp_ticks u = {0};
    double tol = 1e-9 * (c->hi - c->lo);
    double lastpos = 0, lastw = 0;
    for (size_t i = 0; i < m; i++) {
        if (expo && !(v[i] > 0)) continue;
        double x = expo ? log(v[i]) : v[i];
        if (x < c->lo - tol || x > c->hi + tol) continue;
        if (u.n == RP_MAXTICK) return 0;
        nice_label(u.label[u.n], sizeof u.label[0], v[i]);
        double pos = (x - c->lo) / (c->hi - c->lo) * c->len;
        double w = (double)strlen(u.label[u.n]) * c->charw;
        if (u.n && pos - lastpos < (w + lastw) / 2 + c->gap) return 0;
        u.at[u.n++] = x;
        lastpos = pos;
        lastw = w;
    }
    *t = u;
    return 1;
}

/* Linear ticks on the displayed scale; for expo the positions are logs. */
static int linear_ticks(const tick_try *c, int expo, size_t minn, rp_ticks *t)
{
    double a = expo ? exp(c->lo) : c->lo, b = expo ? exp(c->hi) : c->hi;
    if (!(b > a)) return 0;
    static const double mant[] = {1, 2, 2.5, 5};
    double v[RP_MAXTICK + 1];
    for (int e = (int)floor(log10((b - a) / 50.0)); e < 300; e++)
        for (size_t j = 0; j < 4; j++) {
            double step = mant[j] * pow(10.0, e);
            double k0 = ceil(a / step - 1e-9), k1 = floor(b / step + 1e-9);
            if (k1 - k0 + 1 > RP_MAXTICK) continue;
            if (k1 - k0 + 1 < (double)minn) return 0;
            size_t m = 0;
            for (double q = k0; q <= k1; q++) v[m++] = q * step;
            if (try_ticks(c, expo, v, m, t)) return 1;
        }
    return 0;
}

void rp_make_ticks(int expo, double lo, double hi, double len, double charw, double gap,
                   rp_ticks *t)
{
    tick_try c = {lo, hi, len, charw, gap};
    t->n = 0;
    if (!(hi > lo) || !(len > 0)) return;
    if (!expo) {
        if (!linear_ticks(&c, 0, 2, t)) t->n = 0;
        return;
    }
    /* ratio scale: value sets closed under reciprocals, finest first */
    double v[4 * 64];
    int e0 = (int)floor(lo / log(10.0)) - 1, e1 = (int)ceil(hi / log(10.0)) + 1;
    if (e0 < -300) e0 = -300;
    if (e1 > 300) e1 = 300;
    rp_ticks best = {0};
    int found = 0;
    for (int set = 0; set < 8 && !found; set++) {
        size_t m = 0;
        for (int e = e0; e <= e1 && m + 3 < sizeof v / sizeof v[0]; e++) {
            double p = pow(10.0, e);
            if (set == 0) {
                v[m++] = p;
                v[m++] = 2 * p;
                v[m++] = 5 * p;
            } else if (set == 1) {
                if (e == -1) v[m++] = 0.5 * 1.0;
                v[m++] = p;
                if (e == 0) v[m++] = 2.0;
            } else {
                int every = set - 1; /* powers of 10, 100, 1000, ... */
                if (e % every == 0) v[m++] = p;
            }
        }
        /* set 1 must be ascending: 0.1, 0.5, 1, 2, 10 */
        if (set == 1)
            for (size_t i = 1; i < m; i++)
                for (size_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
                    double s = v[j]; v[j] = v[j - 1]; v[j - 1] = s;
                }
        rp_ticks u;
        if (try_ticks(&c, 1, v, m, &u) && u.n >= 1) {
            best = u;
            found = u.n >= 2 || set >= 2;
        }
    }
    /* narrow ranges: evenly spaced values (0.8, 0.9, 1, 1.1 ...) read better */
    if (best.n < 3) {
        rp_ticks u;
        if (linear_ticks(&c, 1, 2, &u) && u.n > best.n) best = u;
    }
    *t = best;
}

void rp_make_ticks_r(const mp_report *r, double lo, double hi, double len, double charw,
                     double gap, rp_ticks *t)
{
    mp_transf tf = rp_transf(r);
    if (tf == MP_TRANSF_NONE || tf == MP_TRANSF_EXP) {
        rp_make_ticks(tf == MP_TRANSF_EXP, lo, hi, len, charw, gap, t);
        return;
    }
    t->n = 0;
    if (!(hi > lo) || !(len > 0)) return;
    double hm = hm_of(r);
    /* the displayed range (the transformations are increasing) */
    double a = mp_transf_apply(tf, lo, hm), b = mp_transf_apply(tf, hi, hm);
    if (!(b > a)) return;
    static const double mant[] = {1, 2, 2.5, 5};
    rp_ticks best = {0}; /* a single tick when no two fit (narrow plots) */
    for (int e = (int)floor(log10((b - a) / 50.0)); e < 300; e++)
        for (size_t j = 0; j < 4; j++) {
            double step = mant[j] * pow(10.0, e);
            double k0 = ceil(a / step - 1e-9), k1 = floor(b / step + 1e-9);
            if (k1 - k0 + 1 > RP_MAXTICK) continue;
            if (k1 - k0 + 1 < 1) { *t = best; return; }
            rp_ticks u = {0};
            double lastpos = 0, lastw = 0;
            int ok = 1;
            for (double q = k0; q <= k1 && ok; q++) {
                double v = q * step, x = forward(tf, v, hm);
                if (!isfinite(x) || x < lo || x > hi) continue;
                nice_label(u.label[u.n], sizeof u.label[0], v);
                double pos = (x - lo) / (hi - lo) * len, w = (double)strlen(u.label[u.n]) * charw;
                if (u.n && pos - lastpos < (w + lastw) / 2 + gap) ok = 0;
                else {
                    u.at[u.n++] = x;
                    lastpos = pos;
                    lastw = w;
                }
            }
            if (ok && u.n >= 2) { *t = u; return; }
            if (ok && u.n == 1 && best.n == 0) best = u;
        }
    *t = best;
}

const char *rp_transf_note(const mp_report *r, char *buf, size_t n)
{
    mp_transf tf = rp_transf(r);
    mp_measure m = r->measure;
    const char *what = m >= MP_MEASURE_PR && m <= MP_MEASURE_PFT   ? "proportions"
                       : m == MP_MEASURE_ZCOR                       ? "correlations"
                       : m >= MP_MEASURE_IR && m <= MP_MEASURE_IRFT ? "incidence rates"
                                                                     : NULL;
    buf[0] = '\0';
    if (tf == MP_TRANSF_NONE) return buf;
    if (tf == MP_TRANSF_EXP && !what)
        snprintf(buf, n, "pooled on the log scale and shown exponentiated");
    else if (tf == MP_TRANSF_IPFT_HM || tf == MP_TRANSF_IIRFT_HM)
        snprintf(buf, n, "shown as %s through the %s (%.4g)", what, mp_transf_name(tf),
                 r->transf_hm);
    else
        snprintf(buf, n, "shown as %s through the %s", what, mp_transf_name(tf));
    return buf;
}

const char *rp_axis_title(const mp_report *r, char *buf, size_t n)
{
    mp_transf tf = rp_transf(r);
    const char *lng = mp_measure_scale_label(r->measure);
    if (r->measure == MP_MEASURE_GEN) snprintf(buf, n, "Effect size");
    else if (tf == MP_TRANSF_EXP && (r->measure == MP_MEASURE_PLN || r->measure == MP_MEASURE_IRLN))
        snprintf(buf, n, "%s (log scale)", lng);
    else if (tf == MP_TRANSF_EXP) snprintf(buf, n, "%s (log scale)", lng);
    else if (tf != MP_TRANSF_NONE) snprintf(buf, n, "%s", lng);
    else if (mp_measure_is_log(r->measure)) snprintf(buf, n, "Log %s", lng);
    else if (mp_measure_transf(r->measure) != MP_TRANSF_NONE)
        snprintf(buf, n, "%s (%s scale)", lng, mp_measure_name(r->measure));
    else snprintf(buf, n, "%s", lng);
    return buf;
}


const char *rp_fe_label(const mp_report *r)
{
    return r->pooling == MP_MH_MH ? "Mantel-Haenszel" : r->pooling == MP_MH_PETO ? "Peto" : "Fixed effect";
}

/* ---- numbers ---- */

char *rp_fmt(char *buf, size_t n, double x, int digits)
{
    if (!isfinite(x)) { snprintf(buf, n, "NA"); return buf; }
    snprintf(buf, n, "%.*f", digits, x);
    /* "-0.00" -> "0.00" */
    if (buf[0] == '-') {
        const char *s = buf + 1;
        while (*s == '0' || *s == '.') s++;
        if (!*s) memmove(buf, buf + 1, strlen(buf));
    }
    return buf;
}

char *rp_fmt_p(char *buf, size_t n, double p, int digits)
{
    int d = digits > 3 ? digits : 3;
    if (!isfinite(p)) { snprintf(buf, n, "p = NA"); return buf; }
    double lim = pow(10.0, -d);
    if (p < lim) snprintf(buf, n, "p < %.*f", d, lim);
    else snprintf(buf, n, "p = %.*f", d, p);
    return buf;
}

void rp_csv_num(FILE *f, double x)
{
    if (!isfinite(x)) return;
    mp_json_num(f, x);
}

/* ---- UTF-8 ---- */

/* Length of the valid UTF-8 sequence at s (1..4), 0 if invalid. */
static size_t u8_len(const unsigned char *s)
{
    unsigned c = s[0];
    if (c < 0x80) return 1;
    size_t n;
    unsigned min;
    if (c >= 0xC2 && c <= 0xDF) { n = 2; min = 0x80; }
    else if (c >= 0xE0 && c <= 0xEF) { n = 3; min = 0x800; }
    else if (c >= 0xF0 && c <= 0xF4) { n = 4; min = 0x10000; }
    else return 0;
    unsigned cp = c & (0x7Fu >> n);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return n;
}

char *rp_clean(const char *s, int ascii)
{
    if (!s) s = "";
    size_t n = strlen(s);
    char *o = malloc(3 * n + 1); /* each bad byte becomes at most 3 bytes */
    if (!o) return NULL;
    size_t j = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t l = u8_len(p);
        if (l == 1 && (*p < 0x20 || *p == 0x7F)) { o[j++] = '?'; p++; }
        else if (l == 0) {
            if (ascii) o[j++] = '?';
            else { memcpy(o + j, "\xEF\xBF\xBD", 3); j += 3; }
            p++;
        } else if (l > 1 && ascii) { o[j++] = '?'; p += l; }
        else { memcpy(o + j, p, l); j += l; p += l; }
    }
    o[j] = 0;
    return o;
}

size_t rp_cols(const char *s)
{
    size_t c = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80) c++;
    return c;
}

size_t rp_prefix(const char *s, size_t cols)
{
    size_t i = 0, c = 0;
    while (s[i]) {
        if (((unsigned char)s[i] & 0xC0) != 0x80) {
            if (c == cols) break;
            c++;
        }
        i++;
    }
    return i;
}

/* ---- names ---- */

const char *rp_effect_short(const mp_report *r, char *buf, size_t n)
{
    mp_transf tf = rp_transf(r);
    int prop = r->measure >= MP_MEASURE_PR && r->measure <= MP_MEASURE_PFT;
    int rate = r->measure >= MP_MEASURE_IR && r->measure <= MP_MEASURE_IRFT;
    if (r->measure == MP_MEASURE_GEN) snprintf(buf, n, "Estimate");
    else if (prop && (tf != MP_TRANSF_NONE || r->measure == MP_MEASURE_PR)) snprintf(buf, n, "Proportion");
    else if (rate && (tf != MP_TRANSF_NONE || r->measure == MP_MEASURE_IR)) snprintf(buf, n, "Rate");
    else if (r->measure == MP_MEASURE_COR || (r->measure == MP_MEASURE_ZCOR && tf != MP_TRANSF_NONE))
        snprintf(buf, n, "r");
    else if (mp_measure_is_log(r->measure) && !rp_expo(r))
        snprintf(buf, n, "log %s", mp_measure_name(r->measure));
    else snprintf(buf, n, "%s", mp_measure_name(r->measure));
    return buf;
}

const char *rp_measure_long(mp_measure m)
{
    switch (m) {
    case MP_MEASURE_SMD: return "standardized mean difference";
    case MP_MEASURE_MD: return "mean difference";
    case MP_MEASURE_ROM: return "ratio of means";
    case MP_MEASURE_OR: return "odds ratio";
    case MP_MEASURE_RR: return "risk ratio";
    case MP_MEASURE_RD: return "risk difference";
    case MP_MEASURE_PETO: return "Peto's odds ratio";
    case MP_MEASURE_PR: return "proportion";
    case MP_MEASURE_PLN: return "log proportion";
    case MP_MEASURE_PLO: return "logit proportion";
    case MP_MEASURE_PAS: return "arcsine square-root proportion";
    case MP_MEASURE_PFT: return "Freeman-Tukey double-arcsine proportion";
    case MP_MEASURE_COR: return "correlation";
    case MP_MEASURE_ZCOR: return "Fisher's z of the correlation";
    case MP_MEASURE_IR: return "incidence rate";
    case MP_MEASURE_IRLN: return "log incidence rate";
    case MP_MEASURE_IRS: return "square-root incidence rate";
    case MP_MEASURE_IRFT: return "Freeman-Tukey incidence rate";
    case MP_MEASURE_IRR: return "incidence rate ratio";
    case MP_MEASURE_IRD: return "incidence rate difference";
    case MP_MEASURE_MC: return "mean change";
    case MP_MEASURE_SMCC: return "standardized mean change (change-score standardized)";
    case MP_MEASURE_SMCR: return "standardized mean change (raw-score standardized)";
    case MP_MEASURE_HR: return "hazard ratio";
    default: return "effect size";
    }
}

const char *rp_method_long(mp_method m)
{
    switch (m) {
    case MP_METHOD_FE: return "fixed-effect (inverse-variance)";
    case MP_METHOD_DL: return "DerSimonian-Laird";
    case MP_METHOD_HE: return "Hedges";
    case MP_METHOD_HS: return "Hunter-Schmidt";
    case MP_METHOD_HSK: return "Hunter-Schmidt (small-sample corrected)";
    case MP_METHOD_SJ: return "Sidik-Jonkman";
    case MP_METHOD_ML: return "maximum likelihood";
    case MP_METHOD_REML: return "restricted maximum likelihood";
    case MP_METHOD_EB: return "empirical Bayes";
    case MP_METHOD_PM: return "Paule-Mandel";
    default: return "unknown";
    }
}

void mp_report_opts_init(mp_report_opts *o)
{
    memset(o, 0, sizeof *o);
    mp_pool_opts_init(&o->pool);
    o->es_level = o->pool.level;
    o->digits = 2;
    o->transf = 1;
    o->arm_label[0] = "Treatment";
    o->arm_label[1] = "Control";
    o->dpi = MP_REPORT_DPI;
}

const char *rp_tau2_mode(const mp_report *r)
{
    if (r->opt->pool.method == MP_METHOD_FE) return "fixed effect";
    if (r->opt->ascii) return r->tau2_common ? "common tau2" : "separate tau2";
    return r->tau2_common ? "common \u03C4\u00B2" : "separate \u03C4\u00B2";
}

void rp_xml_text(FILE *f, const char *s, size_t cols)
{
    char *c = rp_clean(s ? s : "", 0);
    if (!c) return;
    size_t n = strlen(c), cut = n;
    int ell = 0;
    if (cols && rp_cols(c) > cols) { cut = rp_prefix(c, cols - 1); ell = 1; }
    for (size_t i = 0; i < cut; i++) {
        switch (c[i]) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&apos;", f); break;
        default: fputc(c[i], f);
        }
    }
    if (ell) fputs("\u2026", f);
    free(c);
}
