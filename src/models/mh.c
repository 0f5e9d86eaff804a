/* src/models/mh.c - Mantel-Haenszel and Peto pooling (metafor's rma.mh(), rma.peto()).
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Formulas and conventions: include/metapool/mh.h.  Sources: Mantel &
 * Haenszel (1959); Robins, Breslow & Greenland (1986) for the variance of
 * the log MH odds ratio; Greenland & Robins (1985) for RR and RD (Sato
 * 1989 for the RD variance); Breslow & Day (1980) and Tarone (1985) for the
 * homogeneity tests; Yusuf et al. (1985) for Peto's method; metafor 3.8
 * rma.mh()/rma.peto() for the zero-cell rules and for how Q is formed. */
#include "metapool/mh.h"
#include "metapool/quantile.h"
#include "internal.h"

#include <gsl/gsl_cdf.h>
#include <math.h>
#include <string.h>

static void init(mp_mh_result *r, size_t k, double level)
{
    const double nan = NAN;
    r->k = k;
    r->k_yi = 0;
    r->level = level;
    r->estimate = r->se = r->stat = r->pval = r->ci_lb = r->ci_ub = nan;
    r->Q = r->Q_df = r->Q_pval = r->I2 = r->H2 = nan;
    r->MH = r->MH_pval = r->CO = r->CO_pval = r->BD = r->BD_pval = nan;
    r->TA = r->TA_pval = r->TA_df = nan;
}

static int is_rate(mp_measure m) { return m == MP_MEASURE_IRR || m == MP_MEASURE_IRD; }

/* Cells valid for the measure: counts >= 0, arms non-empty (2x2), t > 0 (rates). */
static int cells_ok(mp_measure m, const double *x, size_t k)
{
    for (size_t i = 0; i < k; i++) {
        const double *c = x + 4 * i;
        for (int j = 0; j < 4; j++)
            if (!isfinite(c[j]) || c[j] < 0) return 0;
        if (is_rate(m) ? !(c[1] > 0 && c[3] > 0) : !(c[0] + c[1] > 0 && c[2] + c[3] > 0))
            return 0;
    }
    return 1;
}

/* z test and Wald CI of the estimate. */
static void wald(mp_mh_result *r)
{
    double zc = mp_qnorm_upper((1.0 - r->level / 100.0) / 2.0);
    r->stat = r->estimate / r->se;
    r->pval = 2.0 * gsl_cdf_ugaussian_Q(fabs(r->stat));
    r->ci_lb = r->estimate - zc * r->se;
    r->ci_ub = r->estimate + zc * r->se;
}

/* Q, I2, H2 from the per-table escalc effect sizes (1/2 added to tables with
 * a zero cell, double-zero tables left out: rma.mh's escalc call) around
 * the estimate `est` (rma.mh: max(0, sum w (y - est)^2)). */
static void heterogeneity(mp_measure m, const double *x, size_t k, double est, mp_mh_result *r)
{
    double Q = 0;
    size_t ky = 0;
    for (size_t i = 0; i < k; i++) {
        const double *c = x + 4 * i;
        double y, v;
        mp_status s;
        if (is_rate(m)) {
            if (c[0] == 0 && c[2] == 0) continue; /* escalc(drop00 = TRUE) */
            s = mp_es_irr(m, c[0], c[1], c[2], c[3], &y, &v);
        } else {
            if ((c[0] == 0 && c[2] == 0) || (c[1] == 0 && c[3] == 0)) continue;
            s = mp_es_2x2(m, c[0], c[1], c[2], c[3], &y, &v);
        }
        if (s != MP_OK || !isfinite(y) || !(v > 0) || !isfinite(v)) continue;
        ky++;
        Q += (y - est) * (y - est) / v;
    }
    r->k_yi = ky;
    if (ky > 1) {
        double df = (double)(ky - 1);
        r->Q = Q > 0 ? Q : 0.0;
        r->Q_df = df;
        r->Q_pval = gsl_cdf_chisq_Q(r->Q, df);
        r->I2 = r->Q > df ? 100.0 * (r->Q - df) / r->Q : 0.0;
        r->H2 = r->Q / df;
        if (isnan(est)) r->Q = r->Q_pval = r->I2 = r->H2 = NAN;
    } else {
        r->Q = 0.0;
        r->Q_df = 0.0;
        r->Q_pval = 1.0;
        r->I2 = 0.0;
        r->H2 = 1.0;
    }
}

/* Mantel-Haenszel odds ratio with the RBG variance, the CMH and Cochran
 * tests, Breslow-Day and Tarone. */
static int mh_or(const double *x, size_t k, mp_mh_result *r)
{
    double R = 0, S = 0, PR = 0, PSQR = 0, QS = 0;
    double dev = 0, vco = 0, vmh = 0, sx = 0, sy = 0;
    for (size_t i = 0; i < k; i++) {
        const double a = x[4 * i], b = x[4 * i + 1], c = x[4 * i + 2], d = x[4 * i + 3];
        const double N = a + b + c + d, n1 = a + b, n2 = c + d, xt = a + c, yt = b + d;
        const double P = a / N + d / N, Qi = b / N + c / N, Ri = (a / N) * d, Si = (b / N) * c;
        R += Ri;
        S += Si;
        PR += P * Ri;
        PSQR += P * Si + Qi * Ri;
        QS += Qi * Si;
        dev += a - (n1 / N) * xt;
        vco += (n1 / N) * (n2 / N) * (xt * (yt / N));
        vmh += (n1 / N) * (n2 / N) * (xt * (yt / (N - 1.0)));
        sx += xt;
        sy += yt;
    }
    if (sx != 0 && sy != 0) { /* both statistics with metafor's correct = TRUE */
        double num = fabs(dev) - 0.5;
        r->CO = num * num / vco;
        r->CO_pval = gsl_cdf_chisq_Q(r->CO, 1.0);
        r->MH = num * num / vmh;
        r->MH_pval = gsl_cdf_chisq_Q(r->MH, 1.0);
    }
    if (R == 0 || S == 0) return 0;
    const double psi = R / S;
    r->estimate = log(psi);
    r->se = sqrt(0.5 * (PR / (R * R) + PSQR / (R * S) + QS / (S * S)));
    wald(r);
    /* Breslow-Day: the fitted a of each table under the common odds ratio
     * psi solves a quadratic (the root inside the table's margins); Tarone's
     * correction subtracts (sum(a - fitted))^2 / sum(var).  metafor keeps
     * the tables with fitted a > 0 and both margins positive. */
    double bd = 0, sdev = 0, svar = 0;
    size_t kpos = 0;
    for (size_t i = 0; i < k; i++) {
        const double a = x[4 * i], b = x[4 * i + 1], c = x[4 * i + 2], d = x[4 * i + 3];
        const double N = a + b + c + d, n1 = a + b, n2 = c + d, xt = a + c, yt = b + d;
        double N11;
        if (psi == 1.0) N11 = (n1 / N) * xt;
        else {
            double A = psi * (n1 + xt) + (n2 - xt);
            double B = sqrt(A * A - 4.0 * n1 * xt * psi * (psi - 1.0));
            N11 = (A - B) / (2.0 * (psi - 1.0));
        }
        if (!(N11 > 0 && xt > 0 && yt > 0)) continue;
        kpos++;
        double N12 = n1 - N11, N21 = xt - N11, N22 = N11 - n1 - xt + N;
        double var = 1.0 / (1.0 / N11 + 1.0 / N12 + 1.0 / N21 + 1.0 / N22);
        bd += (a - N11) * (a - N11) / var;
        sdev += a - N11;
        svar += var;
    }
    r->BD = bd > 0 ? bd : 0.0;
    double ta = bd - sdev * sdev / svar;
    r->TA = ta > 0 ? ta : 0.0;
    r->TA_df = kpos >= 1 ? (double)(kpos - 1) : 0.0;
    if (kpos > 1) {
        r->BD_pval = gsl_cdf_chisq_Q(r->BD, r->TA_df);
        r->TA_pval = gsl_cdf_chisq_Q(r->TA, r->TA_df);
    }
    if (kpos == 0) r->BD = r->TA = NAN;
    return 1;
}

static int mh_rr(const double *x, size_t k, mp_mh_result *r)
{
    double R = 0, S = 0, V = 0, sa = 0, sc = 0;
    for (size_t i = 0; i < k; i++) {
        const double a = x[4 * i], b = x[4 * i + 1], c = x[4 * i + 2], d = x[4 * i + 3];
        const double n1 = a + b, n2 = c + d, N = n1 + n2;
        R += a * (n2 / N);
        S += c * (n1 / N);
        V += (n1 / N) * (n2 / N) * (a + c) - (a / N) * c;
        sa += a;
        sc += c;
    }
    if (sa == 0 || sc == 0) return 0;
    r->estimate = log(R / S);
    r->se = sqrt(V / (R * S));
    wald(r);
    return 1;
}

static int mh_rd(const double *x, size_t k, mp_mh_result *r)
{
    double num = 0, W = 0, s1 = 0, s2 = 0;
    for (size_t i = 0; i < k; i++) {
        const double a = x[4 * i], b = x[4 * i + 1], c = x[4 * i + 2], d = x[4 * i + 3];
        const double n1 = a + b, n2 = c + d, N = n1 + n2;
        num += a * (n2 / N) - c * (n1 / N);
        W += n1 * (n2 / N);
    }
    const double est = num / W;
    for (size_t i = 0; i < k; i++) { /* Sato's variance (as metafor writes it) */
        const double a = x[4 * i], b = x[4 * i + 1], c = x[4 * i + 2], d = x[4 * i + 3];
        const double n1 = a + b, n2 = c + d, N = n1 + n2;
        s1 += c * (n1 / N) * (n1 / N) - a * (n2 / N) * (n2 / N) + (n1 / N) * (n2 / N) * (n2 - n1) / 2.0;
        s2 += a * (n2 - c) / N + c * (n1 - a) / N;
    }
    r->estimate = est;
    r->se = sqrt((est * s1 + s2 / 2.0) / (W * W));
    wald(r);
    return 1;
}

static int mh_irr(const double *x, size_t k, mp_mh_result *r)
{
    double R = 0, S = 0, V = 0, s1 = 0, s2 = 0, dev = 0, vmh = 0;
    for (size_t i = 0; i < k; i++) {
        const double x1 = x[4 * i], t1 = x[4 * i + 1], x2 = x[4 * i + 2], t2 = x[4 * i + 3];
        const double T = t1 + t2, xt = x1 + x2;
        R += x1 * (t2 / T);
        S += x2 * (t1 / T);
        V += (t1 / T) * (t2 / T) * xt;
        s1 += x1;
        s2 += x2;
        dev += x1 - xt * (t1 / T);
        vmh += xt * (t1 / T) * (t2 / T);
    }
    if (s1 + s2 != 0) {
        double num = fabs(dev) - 0.5;
        r->MH = num * num / vmh;
        r->MH_pval = gsl_cdf_chisq_Q(r->MH, 1.0);
    }
    if (s1 == 0 || s2 == 0) return 0;
    r->estimate = log(R / S);
    r->se = sqrt(V / (R * S));
    wald(r);
    return 1;
}

static int mh_ird(const double *x, size_t k, mp_mh_result *r)
{
    double num = 0, W = 0, V = 0;
    for (size_t i = 0; i < k; i++) {
        const double x1 = x[4 * i], t1 = x[4 * i + 1], x2 = x[4 * i + 2], t2 = x[4 * i + 3];
        const double T = t1 + t2, w = (t1 / T) * t2;
        num += (x1 * t2 - x2 * t1) / T;
        W += w;
        V += w * w * (x1 / (t1 * t1) + x2 / (t2 * t2));
    }
    r->estimate = num / W;
    r->se = sqrt(V) / W;
    wald(r);
    return 1;
}

mp_status mp_mh(mp_measure m, const double *cells, size_t k, double level, mp_mh_result *res)
{
    if (!res || (k && !cells)) return MP_FAIL(MP_EINVAL);
    if (m != MP_MEASURE_OR && m != MP_MEASURE_RR && m != MP_MEASURE_RD && !is_rate(m))
        return MP_FAIL(MP_EINVAL);
    if (!(level > 0 && level < 100)) return MP_FAIL(MP_EINVAL);
    if (k == 0) return MP_FAIL(MP_ETOOFEW);
    if (!cells_ok(m, cells, k)) return MP_FAIL(MP_EDOM);
    init(res, k, level);
    int ok;
    switch (m) {
    case MP_MEASURE_OR: ok = mh_or(cells, k, res); break;
    case MP_MEASURE_RR: ok = mh_rr(cells, k, res); break;
    case MP_MEASURE_RD: ok = mh_rd(cells, k, res); break;
    case MP_MEASURE_IRR: ok = mh_irr(cells, k, res); break;
    default: ok = mh_ird(cells, k, res); break;
    }
    heterogeneity(m, cells, k, res->estimate, res);
    if (!ok || !isfinite(res->estimate) || !isfinite(res->se)) return MP_FAIL(MP_EDOM);
    return MP_OK;
}

mp_status mp_peto(const double *cells, size_t k, double level, mp_mh_result *res)
{
    if (!res || (k && !cells)) return MP_FAIL(MP_EINVAL);
    if (!(level > 0 && level < 100)) return MP_FAIL(MP_EINVAL);
    if (k == 0) return MP_FAIL(MP_ETOOFEW);
    if (!cells_ok(MP_MEASURE_OR, cells, k)) return MP_FAIL(MP_EDOM);
    init(res, k, level);
    /* raw counts (rma.peto's add[2] = 0) */
    double sOE = 0, sV = 0, sOE2V = 0;
    size_t kyi = 0, kpos = 0;
    for (size_t i = 0; i < k; i++) {
        const double a = cells[4 * i], b = cells[4 * i + 1], c = cells[4 * i + 2], d = cells[4 * i + 3];
        const double n1 = a + b, n2 = c + d, N = n1 + n2, xt = a + c, yt = b + d;
        const double E = xt * n1 / N, V = xt * yt * (n1 / N) * (n2 / N) / (N - 1.0);
        sOE += a - E;
        sV += V;
        if (V > 0) { sOE2V += (a - E) * (a - E) / V; kpos++; }
        /* the tables escalc("PETO", drop00 = TRUE) gives a yi for: k_yi */
        if (!((a == 0 && c == 0) || (b == 0 && d == 0))) kyi++;
    }
    res->k_yi = kyi;
    if (!(sV > 0)) return MP_FAIL(MP_EDOM);
    res->estimate = sOE / sV;
    res->se = sqrt(1.0 / sV);
    wald(res);
    double Q = sOE2V - sOE * sOE / sV;
    res->Q = Q > 0 ? Q : 0.0;
    res->Q_df = kyi >= 1 ? (double)(kyi - 1) : 0.0;
    if (kpos > 1) { /* rma.peto: tested when more than one table has V > 0, on k_yi - 1 df */
        double df = res->Q_df;
        res->Q_df = df;
        res->Q_pval = gsl_cdf_chisq_Q(res->Q, df);
        res->I2 = res->Q > df ? 100.0 * (res->Q - df) / res->Q : 0.0;
        res->H2 = res->Q / df;
    } else {
        res->Q_pval = 1.0;
        res->I2 = 0.0;
        res->H2 = 1.0;
    }
    return MP_OK;
}

void mp_mh_weights(mp_measure m, int peto, const double *cells, size_t k, double *weight)
{
    double sum = 0;
    for (size_t i = 0; i < k; i++) {
        const double *x = cells + 4 * i, w0 = x[0], w1 = x[1], w2 = x[2], w3 = x[3];
        double w;
        if (peto) {
            double n1 = w0 + w1, n2 = w2 + w3, N = n1 + n2;
            w = (w0 + w2) * (w1 + w3) * (n1 / N) * (n2 / N) / (N - 1.0);
        } else if (m == MP_MEASURE_IRR) w = (w2 / (w1 + w3)) * w1;
        else if (m == MP_MEASURE_IRD) w = (w1 / (w1 + w3)) * w3;
        else {
            double N = w0 + w1 + w2 + w3;
            if (m == MP_MEASURE_OR) w = (w1 / N) * w2;
            else if (m == MP_MEASURE_RR) w = (w2 / N) * (w0 + w1);
            else w = ((w0 + w1) / N) * (w2 + w3);
        }
        weight[i] = w;
        sum += w;
    }
    for (size_t i = 0; i < k; i++) weight[i] = sum > 0 ? 100.0 * weight[i] / sum : NAN;
}

void mp_mh_to_pool(const mp_mh_result *h, mp_pool_result *f)
{
    const double nan = NAN;
    memset(f, 0, sizeof *f);
    f->k = h->k;
    f->method = MP_METHOD_FE;
    f->test = MP_TEST_Z;
    f->level = h->level;
    f->estimate = h->estimate;
    f->se = h->se;
    f->stat = h->stat;
    f->pval = h->pval;
    f->ci_lb = h->ci_lb;
    f->ci_ub = h->ci_ub;
    f->df = f->pi_lb = f->pi_ub = nan;
    f->tau2 = f->tau2_se = f->tau2_ci_lb = f->tau2_ci_ub = f->tau = nan;
    f->I2_ci_lb = f->I2_ci_ub = f->H2_ci_lb = f->H2_ci_ub = nan;
    f->Q = h->Q;
    f->Q_df = h->Q_df;
    f->Q_pval = h->Q_pval;
    f->I2 = h->I2;
    f->H2 = h->H2;
    f->vt = f->sum_w = nan;
    f->converged = 1;
}
