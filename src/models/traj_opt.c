/* src/traj_opt.c - GSL multimin driver for the trajectory REML fit.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * BFGS2 (Fletcher 1987, Practical Methods of Optimization, as implemented
 * in GSL) on the analytic score; GSL's nmsimplex2 (Nelder-Mead) restarts it
 * when the line search gives up, e.g. after stepping into a region where the
 * marginal covariance is not positive definite (objective +Inf). */
#include "traj_internal.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_math.h>
#include <gsl/gsl_multimin.h>
#include <math.h>

typedef struct opt_ctx {
    mp_traj_fdf_fn fn; /* the objective */
    void *ctx;         /* its context */
} opt_ctx;

static double opt_f(const gsl_vector *x, void *par)
{
    const opt_ctx *c = par;
    double f;
    if (c->fn(c->ctx, x->data, &f, NULL) != 0 || !isfinite(f)) return GSL_POSINF;
    return f;
}

static void opt_fdf(const gsl_vector *x, void *par, double *f, gsl_vector *g)
{
    const opt_ctx *c = par;
    if (c->fn(c->ctx, x->data, f, g->data) != 0 || !isfinite(*f)) {
        *f = GSL_POSINF;
        gsl_vector_set_zero(g);
    }
}

static void opt_df(const gsl_vector *x, void *par, gsl_vector *g)
{
    double f;
    opt_fdf(x, par, &f, g);
}

static double max_abs(const gsl_vector *g)
{
    double m = 0.0;
    for (size_t i = 0; i < g->size; i++) m = fmax(m, fabs(gsl_vector_get(g, i)));
    return m;
}

long mp_traj_minimise_(mp_traj_fdf_fn fn, void *ctx, size_t n, double *th, size_t maxiter,
                       double epsabs)
{
    size_t used = 0;
    opt_ctx oc = {fn, ctx};
    gsl_vector *x = gsl_vector_alloc(n), *stepv = gsl_vector_alloc(n);
    gsl_multimin_fdfminimizer *s =
        gsl_multimin_fdfminimizer_alloc(gsl_multimin_fdfminimizer_vector_bfgs2, n);
    gsl_multimin_fminimizer *nm = gsl_multimin_fminimizer_alloc(gsl_multimin_fminimizer_nmsimplex2, n);
    if (!x || !stepv || !s || !nm) {
        gsl_vector_free(x);
        gsl_vector_free(stepv);
        gsl_multimin_fdfminimizer_free(s);
        gsl_multimin_fminimizer_free(nm);
        return -1;
    }
    gsl_multimin_function_fdf fdf = {opt_f, opt_df, opt_fdf, n, &oc};
    gsl_multimin_function fnm = {opt_f, n, &oc};
    for (int round = 0; round < 3 && used < maxiter; round++) {
        for (size_t q = 0; q < n; q++) gsl_vector_set(x, q, th[q]);
        if (gsl_multimin_fdfminimizer_set(s, &fdf, x, 0.5, 0.1) != GSL_SUCCESS) break;
        int st = GSL_CONTINUE;
        while (used < maxiter) {
            used++;
            st = gsl_multimin_fdfminimizer_iterate(s);
            if (st != GSL_SUCCESS) break;
            if (max_abs(s->gradient) <= epsabs) break;
        }
        int finite = isfinite(s->f);
        if (finite)
            for (size_t q = 0; q < n; q++) th[q] = gsl_vector_get(s->x, q);
        /* stopped by the tolerance, the budget, or close enough to a
         * stationary point for the caller's Newton polish */
        if (st == GSL_SUCCESS || (finite && max_abs(s->gradient) < 1e-4 * (1.0 + fabs(s->f))))
            break;
        for (size_t q = 0; q < n; q++) gsl_vector_set(x, q, th[q]);
        gsl_vector_set_all(stepv, 0.5);
        if (gsl_multimin_fminimizer_set(nm, &fnm, x, stepv) != GSL_SUCCESS) break;
        while (used < maxiter) {
            used++;
            if (gsl_multimin_fminimizer_iterate(nm) != GSL_SUCCESS) break;
            if (gsl_multimin_test_size(gsl_multimin_fminimizer_size(nm), 1e-6) == GSL_SUCCESS)
                break;
        }
        if (isfinite(nm->fval))
            for (size_t q = 0; q < n; q++) th[q] = gsl_vector_get(nm->x, q);
    }
    gsl_vector_free(x);
    gsl_vector_free(stepv);
    gsl_multimin_fdfminimizer_free(s);
    gsl_multimin_fminimizer_free(nm);
    return (long)used;
}
