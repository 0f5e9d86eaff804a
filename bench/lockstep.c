/* bench/lockstep.c - experiment: REML in lockstep across analyses vs per analysis.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The question (issue 6): should the core run the REML iterations of many
 * analyses in lockstep (lanes = analyses, loops over studies vectorised
 * across lanes) or one analysis at a time with a good start value?
 *
 * Both kernels below solve the same REML score equation of the
 * intercept-only model,
 *   g(t) = sum e_i^2 - tr P = 0,  e_i = w_i (y_i - mu), w_i = 1 / (v_i + t),
 * by the same safeguarded Newton steps from the same start, with the same
 * closed forms (tr P = S1 - S2/S1, ...), and compute only tau^2: this
 * isolates the iteration cost, which is what lockstep could speed up.  The
 * per-analysis kernel has loops of length k (9: too short for vectors to
 * pay); the lockstep kernel holds MP_LANES analyses of equal k transposed
 * (study-major, lane-minor), so every loop over lanes is a plain
 * element-wise loop that GCC vectorises, and lanes that have converged are
 * frozen by a select.  A lockstep run costs the largest iteration count of
 * its lanes.  Both are checked to give the same tau^2 (to 1e-10).
 *
 * Start values compared for the per-analysis kernel: 0, Hedges (HE, what
 * metafor and src/pool.c use), DerSimonian-Laird (DL). */
#include "lockstep.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MP_LANES 8

enum { START_ZERO, START_HE, START_DL };

/* Start value for analysis y[0..k), v[0..k). */
static double start_value(const double *y, const double *v, size_t k, int how)
{
    if (how == START_ZERO || k < 2) return 0.0;
    double kk = (double)k;
    if (how == START_HE) {
        double my = 0, sv = 0, rss = 0;
        for (size_t i = 0; i < k; i++) { my += y[i]; sv += v[i]; }
        my /= kk;
        for (size_t i = 0; i < k; i++) rss += (y[i] - my) * (y[i] - my);
        double t = (rss - (kk - 1.0) / kk * sv) / (kk - 1.0);
        return t > 0 ? t : 0.0;
    }
    double S1 = 0, S2 = 0, swy = 0, Q = 0;
    for (size_t i = 0; i < k; i++) {
        double w = 1.0 / v[i];
        S1 += w;
        S2 += w * w;
        swy += w * y[i];
    }
    double mu = swy / S1;
    for (size_t i = 0; i < k; i++) Q += (y[i] - mu) * (y[i] - mu) / v[i];
    double t = (Q - (kk - 1.0)) / (S1 - S2 / S1);
    return t > 0 ? t : 0.0;
}

/* g (the REML score, times 2) and its slope dg at t, and tr(PP) for the
 * Fisher step; closed forms of the intercept-only model. */
#define MP_SCORE(S1, S2, S3, e2, we, we2, g, dg, fi)                                       \
    do {                                                                                \
        double trP_ = (S1) - (S2) / (S1);                                               \
        (fi) = (S2) - 2.0 * (S3) / (S1) + (S2) * (S2) / ((S1) * (S1));                  \
        (g) = (e2) - trP_;                                                              \
        (dg) = -2.0 * ((we2) - (we) * (we) / (S1)) + (fi);                              \
    } while (0)

/* The safeguarded Newton step of src/pool.c: bracket [lo, hi] from the sign
 * of g, Newton where the slope is negative, Fisher scoring otherwise,
 * bisection when a step leaves the bracket.  Returns the next iterate and
 * sets *conv when the step is below the relative tolerance. */
static double next_t(double t, double g, double dg, double fi, double *lo, double *hi, int *conv)
{
    if (g > 0) *lo = t; else *hi = t;
    double tn = t + (dg < 0 ? -g / dg : g / fi);
    *conv = fabs(tn - t) <= 1e-12 * fabs(tn);
    if (!*conv && !(tn > *lo && tn < *hi)) tn = isfinite(*hi) ? 0.5 * (*lo + *hi) : 2.0 * *lo + 1e-8;
    return tn;
}

/* One analysis.  An evaluation at 0 decides the boundary case (g(0) <= 0:
 * tau^2 = 0), as src/pool.c does; then iterations from `start`. */
static double reml_one(const double *y, const double *v, size_t k, double start, size_t *iters)
{
    double t = 0.0, lo = 0.0, hi = INFINITY;
    for (size_t it = 1; it <= 200; it++) {
        double S1 = 0, S2 = 0, S3 = 0, swy = 0;
        for (size_t i = 0; i < k; i++) {
            double w = 1.0 / (v[i] + t);
            S1 += w;
            S2 += w * w;
            S3 += w * w * w;
            swy += w * y[i];
        }
        double mu = swy / S1, e2 = 0, we = 0, we2 = 0;
        for (size_t i = 0; i < k; i++) {
            double w = 1.0 / (v[i] + t), e = w * (y[i] - mu);
            e2 += e * e;
            we += w * e;
            we2 += w * e * e;
        }
        double g, dg, fi;
        MP_SCORE(S1, S2, S3, e2, we, we2, g, dg, fi);
        *iters = it;
        if (it == 1) {
            if (g <= 0) return 0.0;
            if (start > 0) { t = start; continue; }
        }
        int conv;
        double tn = next_t(t, g, dg, fi, &lo, &hi, &conv);
        if (conv) return tn;
        t = tn;
    }
    return t;
}

/* MP_LANES analyses of k studies each, transposed: y[i * MP_LANES + l]. */
static void reml_lanes(const double *y, const double *v, size_t k, const double *start,
                       double *t, size_t *iters)
{
    double S1[MP_LANES], S2[MP_LANES], S3[MP_LANES], swy[MP_LANES], mu[MP_LANES];
    double e2[MP_LANES], we[MP_LANES], we2[MP_LANES], lo[MP_LANES], hi[MP_LANES];
    int done[MP_LANES];
    for (int l = 0; l < MP_LANES; l++) { done[l] = 0; t[l] = 0.0; lo[l] = 0.0; hi[l] = INFINITY; }
    size_t it;
    for (it = 1; it <= 200; it++) {
        for (int l = 0; l < MP_LANES; l++) S1[l] = S2[l] = S3[l] = swy[l] = 0;
        for (size_t i = 0; i < k; i++) {
            const double *yi = y + i * MP_LANES, *vi = v + i * MP_LANES;
            for (int l = 0; l < MP_LANES; l++) { /* vectorised across lanes */
                double w = 1.0 / (vi[l] + t[l]);
                S1[l] += w;
                S2[l] += w * w;
                S3[l] += w * w * w;
                swy[l] += w * yi[l];
            }
        }
        for (int l = 0; l < MP_LANES; l++) { mu[l] = swy[l] / S1[l]; e2[l] = we[l] = we2[l] = 0; }
        for (size_t i = 0; i < k; i++) {
            const double *yi = y + i * MP_LANES, *vi = v + i * MP_LANES;
            for (int l = 0; l < MP_LANES; l++) {
                double w = 1.0 / (vi[l] + t[l]), e = w * (yi[l] - mu[l]);
                e2[l] += e * e;
                we[l] += w * e;
                we2[l] += w * e * e;
            }
        }
        int all = 1;
        for (int l = 0; l < MP_LANES; l++) {
            double g, dg, fi;
            MP_SCORE(S1[l], S2[l], S3[l], e2[l], we[l], we2[l], g, dg, fi);
            if (done[l]) continue; /* converged lanes stay frozen */
            if (it == 1) {
                if (g <= 0) { done[l] = 1; continue; }
                if (start[l] > 0) { t[l] = start[l]; all = 0; continue; }
            }
            int conv;
            t[l] = next_t(t[l], g, dg, fi, &lo[l], &hi[l], &conv);
            done[l] = conv;
            all &= conv;
        }
        if (all) break;
    }
    *iters = it;
}

void mp_bench_lockstep(const double *y, const double *v, size_t n, size_t k,
                       mp_bench_emit_fn emit, double (*clock_cpu)(void))
{
    double *tau_a = malloc(n * sizeof *tau_a), *tau_l = malloc(n * sizeof *tau_l);
    double *ty = malloc(k * MP_LANES * sizeof *ty), *tv = malloc(k * MP_LANES * sizeof *tv);
    if (!tau_a || !tau_l || !ty || !tv) { free(tau_a); free(tau_l); free(ty); free(tv); return; }
    static const char *const names[] = {"per_analysis_start0", "per_analysis_startHE",
                                        "per_analysis_startDL"};
    char extra[160];
    for (int how = START_ZERO; how <= START_DL; how++) {
        size_t iters = 0, it;
        double c0 = clock_cpu();
        for (size_t a = 0; a < n; a++) {
            const double *ya = y + a * k, *va = v + a * k;
            tau_a[a] = reml_one(ya, va, k, start_value(ya, va, k, how), &it);
            iters += it;
        }
        double c1 = clock_cpu();
        snprintf(extra, sizeof extra, ", \"mean_iter\": %.3g", (double)iters / (double)n);
        emit("reml_kernel", names[how], k, n, c1 - c0, extra);
    }
    /* lockstep from the HE start; the tail that does not fill a group of
     * lanes is done per analysis */
    size_t iters = 0, it, nl = n / MP_LANES * MP_LANES;
    double c0 = clock_cpu();
    for (size_t a = 0; a < nl; a += MP_LANES) {
        double t[MP_LANES], st[MP_LANES];
        for (int l = 0; l < MP_LANES; l++) {
            const double *ya = y + (a + (size_t)l) * k, *va = v + (a + (size_t)l) * k;
            for (size_t i = 0; i < k; i++) {
                ty[i * MP_LANES + (size_t)l] = ya[i];
                tv[i * MP_LANES + (size_t)l] = va[i];
            }
            st[l] = start_value(ya, va, k, START_HE);
        }
        reml_lanes(ty, tv, k, st, t, &it);
        iters += it * MP_LANES;
        for (int l = 0; l < MP_LANES; l++) tau_l[a + (size_t)l] = t[l];
    }
    for (size_t a = nl; a < n; a++) {
        const double *ya = y + a * k, *va = v + a * k;
        tau_l[a] = reml_one(ya, va, k, start_value(ya, va, k, START_HE), &it);
        iters += it;
    }
    double c1 = clock_cpu();
    size_t differ = 0;
    for (size_t a = 0; a < n; a++)
        differ += fabs(tau_l[a] - tau_a[a]) > 1e-10 * fmax(1.0, fabs(tau_a[a]));
    snprintf(extra, sizeof extra, ", \"lanes\": %d, \"mean_iter_paid\": %.3g, \"differ\": %zu",
             MP_LANES, (double)iters / (double)n, differ);
    emit("reml_kernel", "lockstep_startHE", k, n, c1 - c0, extra);
    free(tau_a);
    free(tau_l);
    free(ty);
    free(tv);
}
