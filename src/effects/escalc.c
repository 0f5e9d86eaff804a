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

static const char *const measure_names[MP_MEASURE_COUNT] = {"GEN", "SMD", "MD", "ROM",
                                                            "OR",  "RR",  "RD"};
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
    return m == MP_MEASURE_OR || m == MP_MEASURE_RR || m == MP_MEASURE_ROM;
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
    o->drop00 = 1;
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
    if ((m == MP_MEASURE_OR || m == MP_MEASURE_RR) &&
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
    default: return MP_FAIL(MP_EINVAL);
    }
    return MP_OK;
}

