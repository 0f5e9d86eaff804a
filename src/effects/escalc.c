/* src/effects/escalc.c - effect sizes and sampling variances of one study (the formulas).
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Leaf of the effects stage: called by es_plan.c, calls nothing there.
 * Formulas as metafor's escalc() (version 3.8) defines them; see
 * include/metapool/escalc.h.  RevMan's and CMA's Hedges' g variances are
 * from the RevMan 5 statistical methods guide (Deeks & Higgins 2010) and
 * Borenstein et al. (2009), Introduction to Meta-Analysis, ch. 4. */
#include "metapool/escalc.h"
#include "internal.h"


#include <gsl/gsl_cdf.h>
#include <gsl/gsl_sf_gamma.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const measure_names[MP_MEASURE_COUNT] = {
    "GEN", "SMD", "MD",  "ROM",  "OR",  "RR",  "RD",   "PETO", "PR",  "PLN",
    "PLO", "PAS", "PFT", "COR",  "ZCOR", "IR", "IRLN", "IRS",  "IRFT", "IRR",
    "IRD", "MC",  "SMCC", "SMCR", "HR"};
static const char *const vtype_names[MP_SMD_VAR_COUNT] = {"LS", "UB", "RevMan", "CMA"};

const char *mp_measure_name(mp_measure m)
{
    return (unsigned)m < MP_MEASURE_COUNT ? measure_names[m] : "?";
}

mp_status mp_measure_parse(const char *s, mp_measure *out)
{
    for (int i = 0; i < MP_MEASURE_COUNT; i++)
        if (s && strcmp(s, measure_names[i]) == 0) { *out = (mp_measure)i; return MP_OK; }
    return MP_FAIL(MP_EINVAL);
}

int mp_measure_is_log(mp_measure m)
{
    return mp_measure_transf(m) == MP_TRANSF_EXP;
}

mp_transf mp_measure_transf(mp_measure m)
{
    switch (m) {
    case MP_MEASURE_OR: case MP_MEASURE_RR: case MP_MEASURE_ROM: case MP_MEASURE_PETO:
    case MP_MEASURE_IRR: case MP_MEASURE_HR: case MP_MEASURE_PLN: case MP_MEASURE_IRLN:
        return MP_TRANSF_EXP;
    case MP_MEASURE_PLO: return MP_TRANSF_ILOGIT;
    case MP_MEASURE_ZCOR: return MP_TRANSF_ZTOR;
    case MP_MEASURE_PAS: return MP_TRANSF_IARCSIN;
    case MP_MEASURE_PFT: return MP_TRANSF_IPFT_HM;
    case MP_MEASURE_IRS: return MP_TRANSF_ISQRT;
    case MP_MEASURE_IRFT: return MP_TRANSF_IIRFT_HM;
    default: return MP_TRANSF_NONE;
    }
}

const char *mp_transf_name(mp_transf t)
{
    switch (t) {
    case MP_TRANSF_EXP: return "exp";
    case MP_TRANSF_ILOGIT: return "inverse logit";
    case MP_TRANSF_ZTOR: return "inverse Fisher z (tanh)";
    case MP_TRANSF_IARCSIN: return "inverse arcsine (sin^2)";
    case MP_TRANSF_IPFT_HM: return "inverse Freeman-Tukey transformation with the harmonic mean of the ni";
    case MP_TRANSF_ISQRT: return "square";
    case MP_TRANSF_IIRFT_HM: return "inverse Freeman-Tukey transformation with the harmonic mean of the ti";
    default: return "";
    }
}

const char *mp_measure_scale_label(mp_measure m)
{
    switch (m) {
    case MP_MEASURE_OR: case MP_MEASURE_PETO: return "Odds Ratio";
    case MP_MEASURE_RR: return "Risk Ratio";
    case MP_MEASURE_ROM: return "Ratio of Means";
    case MP_MEASURE_HR: return "Hazard Ratio";
    case MP_MEASURE_IRR: return "Incidence Rate Ratio";
    case MP_MEASURE_PR: case MP_MEASURE_PLN: case MP_MEASURE_PLO: case MP_MEASURE_PAS:
    case MP_MEASURE_PFT: return "Proportion";
    case MP_MEASURE_COR: case MP_MEASURE_ZCOR: return "Correlation";
    case MP_MEASURE_IR: case MP_MEASURE_IRLN: case MP_MEASURE_IRS: case MP_MEASURE_IRFT:
        return "Incidence Rate (per unit of person-time)";
    case MP_MEASURE_IRD: return "Incidence Rate Difference";
    case MP_MEASURE_RD: return "Risk Difference";
    case MP_MEASURE_MC: return "Mean Change";
    case MP_MEASURE_SMCC: case MP_MEASURE_SMCR: return "Standardized Mean Change";
    case MP_MEASURE_SMD: return "Standardized Mean Difference";
    case MP_MEASURE_MD: return "Mean Difference";
    default: return "Effect Size";
    }
}

double mp_transf_apply(mp_transf t, double x, double hm)
{
    if (isnan(x)) return x;
    switch (t) {
    case MP_TRANSF_EXP: return exp(x);
    case MP_TRANSF_ILOGIT: return 1.0 / (1.0 + exp(-x));
    case MP_TRANSF_ZTOR: return tanh(x);
    case MP_TRANSF_IARCSIN: /* transf.iarcsin */
        if (x < 0) return 0.0;
        if (x > asin(1.0)) return 1.0;
        return sin(x) * sin(x);
    case MP_TRANSF_IPFT_HM: { /* transf.ipft.hm (Miller 1978), with n the harmonic mean */
        double n = hm, lo = 0.5 * (asin(0.0) + asin(sqrt(1.0 / (n + 1.0)))),
               hi = 0.5 * (asin(sqrt(n / (n + 1.0))) + asin(1.0));
        if (x > hi) return 1.0;
        if (x < lo) return 0.0;
        double s = sin(2.0 * x), q = s + (s - 1.0 / s) / n;
        double arg = 1.0 - q * q;
        if (arg < 0) return NAN; /* metafor: NaN -> NA */
        double c = cos(2.0 * x), sg = (c > 0) - (c < 0);
        return 0.5 * (1.0 - sg * sqrt(arg));
    }
    case MP_TRANSF_ISQRT: return x < 0 ? 0.0 : x * x;
    case MP_TRANSF_IIRFT_HM: { /* transf.iirft with ti the harmonic mean */
        double ti = hm;
        if (x < 0.5 * sqrt(1.0 / ti)) return 0.0; /* below transf.irft(0, ti) */
        double z = (1.0 / ti - 8.0 * x * x + 16.0 * ti * pow(x, 4)) / (16.0 * x * x * ti);
        return z <= 2.220446049250313e-16 ? 0.0 : z;
    }
    default: return x;
    }
}

const char *mp_smd_vtype_name(mp_smd_vtype v)
{
    return (unsigned)v < MP_SMD_VAR_COUNT ? vtype_names[v] : "?";
}

mp_status mp_smd_vtype_parse(const char *s, mp_smd_vtype *out)
{
    for (int i = 0; i < MP_SMD_VAR_COUNT; i++)
        if (s && strcasecmp(s, vtype_names[i]) == 0) { *out = (mp_smd_vtype)i; return MP_OK; }
    return MP_FAIL(MP_EINVAL);
}

void mp_es_opts_init(mp_es_opts *o)
{
    o->drop00 = 0;
    o->measure = MP_MEASURE_GEN;
    o->measure_given = 0;
    o->vtype = MP_SMD_VAR_LS;
    o->level = 95.0;
}

double mp_hedges_c(double m)
{
    /* Gamma ratios overflow for m beyond ~340: stay in log space.  m <= 1
     * has no correction (metafor: NA); checked here so GSL never sees a
     * pole of lngamma (its error handler may abort). */
    if (!(m > 1.0)) return NAN;
    return exp(gsl_sf_lngamma(m / 2.0) - 0.5 * log(m / 2.0) - gsl_sf_lngamma((m - 1.0) / 2.0));
}

mp_status mp_es_smd_var(double g, double n1, double n2, mp_smd_vtype vtype, double *vi)
{
    if (!(n1 > 0) || !(n2 > 0) || !isfinite(g)) return MP_FAIL(MP_EDOM);
    double N = n1 + n2, m = N - 2.0, c;
    switch (vtype) {
    case MP_SMD_VAR_LS: *vi = 1.0 / n1 + 1.0 / n2 + g * g / (2.0 * N); break;
    case MP_SMD_VAR_UB:
        if (!(m > 2)) return MP_FAIL(MP_EDOM);
        c = mp_hedges_c(m);
        *vi = 1.0 / n1 + 1.0 / n2 + (1.0 - (m - 2.0) / (m * c * c)) * g * g;
        break;
    case MP_SMD_VAR_REVMAN:
        if (!(N > 3.94)) return MP_FAIL(MP_EDOM);
        *vi = 1.0 / n1 + 1.0 / n2 + g * g / (2.0 * (N - 3.94));
        break;
    case MP_SMD_VAR_CMA: {
        if (!(m > 1)) return MP_FAIL(MP_EDOM);
        c = mp_hedges_c(m);
        double d = g / c;
        *vi = c * c * (1.0 / n1 + 1.0 / n2 + d * d / (2.0 * N));
        break;
    }
    default: return MP_FAIL(MP_EINVAL);
    }
    return MP_OK;
}

mp_status mp_es_smd(double m1, double sd1, double n1, double m2, double sd2, double n2,
                    mp_smd_vtype vtype, double *yi, double *vi)
{
    /* One SD may be 0 (metafor pools what there is); with both 0 the
     * pooled SD is 0 and g is not defined (metafor: +-Inf or NaN, made NA). */
    if (!(n1 > 0) || !(n2 > 0) || !(sd1 >= 0) || !(sd2 >= 0)) return MP_FAIL(MP_EDOM);
    double m = n1 + n2 - 2.0;
    if (!(m > 1)) return MP_FAIL(MP_EDOM);
    double sp = sqrt(((n1 - 1.0) * sd1 * sd1 + (n2 - 1.0) * sd2 * sd2) / m);
    if (!(sp > 0)) return MP_FAIL(MP_EDOM);
    double g = mp_hedges_c(m) * (m1 - m2) / sp;
    mp_status s = mp_es_smd_var(g, n1, n2, vtype, vi);
    if (s == MP_OK) *yi = g;
    return s;
}

mp_status mp_es_md(double m1, double sd1, double n1, double m2, double sd2, double n2,
                   double *yi, double *vi)
{
    if (!(n1 > 0) || !(n2 > 0) || !(sd1 >= 0) || !(sd2 >= 0)) return MP_FAIL(MP_EDOM);
    double v = sd1 * sd1 / n1 + sd2 * sd2 / n2;
    if (!(v > 0)) return MP_FAIL(MP_EDOM); /* both SDs 0 */
    *yi = m1 - m2;
    *vi = v;
    return MP_OK;
}

mp_status mp_es_rom(double m1, double sd1, double n1, double m2, double sd2, double n2,
                    double *yi, double *vi)
{
    if (!(n1 > 0) || !(n2 > 0) || !(sd1 >= 0) || !(sd2 >= 0) || !(m1 > 0) || !(m2 > 0))
        return MP_FAIL(MP_EDOM);
    double v = sd1 * sd1 / (n1 * m1 * m1) + sd2 * sd2 / (n2 * m2 * m2);
    if (!(v > 0)) return MP_FAIL(MP_EDOM); /* both SDs 0 (or underflow) */
    *yi = log(m1 / m2);
    *vi = v;
    return MP_OK;
}

mp_status mp_es_2x2(mp_measure m, double a, double b, double c, double d, double *yi,
                    double *vi)
{
    if (!(a >= 0) || !(b >= 0) || !(c >= 0) || !(d >= 0)) return MP_FAIL(MP_EDOM);
    if (a + b <= 0 || c + d <= 0) return MP_FAIL(MP_EDOM);
    /* metafor's drop00 rule, (ai == 0 & ci == 0) | (bi == 0 & di == 0), for
     * the ratio measures: such a table carries no information on the ratio. */
    if ((m == MP_MEASURE_OR || m == MP_MEASURE_RR || m == MP_MEASURE_PETO) &&
        ((a == 0 && c == 0) || (b == 0 && d == 0)))
        return MP_FAIL(MP_EDOM);
    if (a == 0 || b == 0 || c == 0 || d == 0) { a += 0.5; b += 0.5; c += 0.5; d += 0.5; }
    double n1 = a + b, n2 = c + d;
    switch (m) {
    case MP_MEASURE_OR:
        *yi = log(a / b) - log(c / d);
        *vi = 1.0 / a + 1.0 / b + 1.0 / c + 1.0 / d;
        break;
    case MP_MEASURE_RR:
        *yi = log(a / n1) - log(c / n2);
        *vi = 1.0 / a - 1.0 / n1 + 1.0 / c - 1.0 / n2;
        break;
    case MP_MEASURE_RD: {
        double p1 = a / n1, p2 = c / n2;
        *yi = p1 - p2;
        *vi = p1 * (1.0 - p1) / n1 + p2 * (1.0 - p2) / n2;
        break;
    }
    case MP_MEASURE_PETO: {
        double N = n1 + n2, xt = a + c, yt = b + d;
        double E = xt * n1 / N, V = xt * yt * (n1 / N) * (n2 / N) / (N - 1.0);
        if (!(V > 0)) return MP_FAIL(MP_EDOM);
        *yi = (a - E) / V;
        *vi = 1.0 / V;
        break;
    }
    default: return MP_FAIL(MP_EINVAL);
    }
    return MP_OK;
}

mp_status mp_es_prop(mp_measure m, double x, double n, double *yi, double *vi)
{
    if (!(n > 0) || !(x >= 0) || !(x <= n)) return MP_FAIL(MP_EDOM);
    double mi = n - x;
    /* escalc: add = 1/2, to = "only0" for PR, PLN, PLO; add = 0 for PAS, PFT */
    if ((m == MP_MEASURE_PR || m == MP_MEASURE_PLN || m == MP_MEASURE_PLO) &&
        (x == 0 || mi == 0)) {
        x += 0.5;
        mi += 0.5;
    }
    n = x + mi;
    double p = x / n;
    switch (m) {
    case MP_MEASURE_PR: *yi = p; *vi = p * (1.0 - p) / n; break;
    case MP_MEASURE_PLN: *yi = log(p); *vi = 1.0 / x - 1.0 / n; break;
    case MP_MEASURE_PLO: *yi = log(p / (1.0 - p)); *vi = 1.0 / x + 1.0 / mi; break;
    case MP_MEASURE_PAS: *yi = asin(sqrt(p)); *vi = 1.0 / (4.0 * n); break;
    case MP_MEASURE_PFT:
        *yi = 0.5 * (asin(sqrt(x / (n + 1.0))) + asin(sqrt((x + 1.0) / (n + 1.0))));
        *vi = 1.0 / (4.0 * n + 2.0);
        break;
    default: return MP_FAIL(MP_EINVAL);
    }
    return MP_OK;
}

mp_status mp_es_cor(mp_measure m, double r, double n, double *yi, double *vi)
{
    if (!(r >= -1.0 && r <= 1.0) || !(n > 1)) return MP_FAIL(MP_EDOM);
    switch (m) {
    case MP_MEASURE_COR: *yi = r; *vi = (1.0 - r * r) * (1.0 - r * r) / (n - 1.0); break;
    case MP_MEASURE_ZCOR:
        if (!(n > 3) || !(fabs(r) < 1.0)) return MP_FAIL(MP_EDOM);
        *yi = atanh(r); /* = 1/2 log((1 + r)/(1 - r)) */
        *vi = 1.0 / (n - 3.0);
        break;
    default: return MP_FAIL(MP_EINVAL);
    }
    return MP_OK;
}

mp_status mp_es_ir(mp_measure m, double x, double t, double *yi, double *vi)
{
    if (!(x >= 0) || !(t > 0)) return MP_FAIL(MP_EDOM);
    if ((m == MP_MEASURE_IR || m == MP_MEASURE_IRLN) && x == 0) x = 0.5;
    double ir = x / t;
    switch (m) {
    case MP_MEASURE_IR: *yi = ir; *vi = ir / t; break;
    case MP_MEASURE_IRLN: *yi = log(ir); *vi = 1.0 / x; break;
    case MP_MEASURE_IRS: *yi = sqrt(ir); *vi = 1.0 / (4.0 * t); break;
    case MP_MEASURE_IRFT: *yi = 0.5 * (sqrt(ir) + sqrt(ir + 1.0 / t)); *vi = 1.0 / (4.0 * t); break;
    default: return MP_FAIL(MP_EINVAL);
    }
    return MP_OK;
}

mp_status mp_es_irr(mp_measure m, double x1, double t1, double x2, double t2, double *yi,
                    double *vi)
{
    if (!(x1 >= 0) || !(x2 >= 0) || !(t1 > 0) || !(t2 > 0)) return MP_FAIL(MP_EDOM);
    if (m == MP_MEASURE_IRR && x1 == 0 && x2 == 0) return MP_FAIL(MP_EDOM);
    if (x1 == 0 || x2 == 0) { x1 += 0.5; x2 += 0.5; }
    double r1 = x1 / t1, r2 = x2 / t2;
    switch (m) {
    case MP_MEASURE_IRR: *yi = log(r1) - log(r2); *vi = 1.0 / x1 + 1.0 / x2; break;
    case MP_MEASURE_IRD: *yi = r1 - r2; *vi = r1 / t1 + r2 / t2; break;
    default: return MP_FAIL(MP_EINVAL);
    }
    return MP_OK;
}

mp_status mp_es_paired(mp_measure m, double m1, double m2, double sd1, double sd2, double n,
                       double r, double *yi, double *vi)
{
    if (!(n > 0) || !(r >= -1.0 && r <= 1.0) || !(sd1 >= 0) || !isfinite(m1) || !isfinite(m2))
        return MP_FAIL(MP_EDOM);
    if (m != MP_MEASURE_SMCR && !(sd2 >= 0)) return MP_FAIL(MP_EDOM);
    switch (m) {
    case MP_MEASURE_MC:
        *yi = m1 - m2;
        *vi = (sd1 * sd1 + sd2 * sd2 - 2.0 * r * sd1 * sd2) / n;
        break;
    case MP_MEASURE_SMCC: {
        double J = mp_hedges_c(n - 1.0), v = sd1 * sd1 + sd2 * sd2 - 2.0 * r * sd1 * sd2;
        if (isnan(J) || !(v > 0)) return MP_FAIL(MP_EDOM);
        *yi = J * (m1 - m2) / sqrt(v);
        *vi = 1.0 / n + *yi * *yi / (2.0 * n);
        break;
    }
    case MP_MEASURE_SMCR: {
        double J = mp_hedges_c(n - 1.0);
        if (isnan(J) || !(sd1 > 0)) return MP_FAIL(MP_EDOM);
        *yi = J * (m1 - m2) / sd1;
        *vi = 2.0 * (1.0 - r) / n + *yi * *yi / (2.0 * n);
        break;
    }
    default: return MP_FAIL(MP_EINVAL);
    }
    return MP_OK;
}

mp_status mp_es_ratio_ci(double est, double lb, double ub, double z, double *yi, double *vi)
{
    if (!(est > 0) || !(lb > 0) || !(ub > lb) || !(z > 0) || !isfinite(ub)) return MP_FAIL(MP_EDOM);
    double se = (log(ub) - log(lb)) / (2.0 * z);
    *yi = log(est);
    *vi = se * se;
    return MP_OK;
}

