/* tests/fuzz/fuzz_fit.c - every estimator on arbitrary effects and variances.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The input is read as (yi, vi, xi) triples of doubles, taken as they are
 * (NaN, infinities, denormals, huge values included).  Every estimator and
 * both tests pool them, and a meta-regression on xi fits them.  Invariant:
 * MP_OK means finite numbers (estimate, se >= 0, tau2 >= 0, CI around the
 * estimate); anything else is a status, never a crash or a silent NaN. */
#include "fuzz_common.h"
#include "metapool/metapool.h"

#include <math.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gsl_set_error_handler_off();
    size_t k = size / (3 * sizeof(double));
    if (k == 0 || k > 200) return 0;
    double y[200], v[200], X[400];
    for (size_t i = 0; i < k; i++) {
        memcpy(&y[i], data + (3 * i) * sizeof(double), sizeof(double));
        memcpy(&v[i], data + (3 * i + 1) * sizeof(double), sizeof(double));
        memcpy(&X[k + i], data + (3 * i + 2) * sizeof(double), sizeof(double));
        X[i] = 1.0;
    }
    for (int m = 0; m < MP_METHOD_COUNT; m++) {
        for (int t = 0; t < MP_TEST_COUNT; t++) {
            mp_pool_opts o;
            mp_pool_opts_init(&o);
            o.method = (mp_method)m;
            o.test = (mp_test)t;
            o.maxiter = 200;
            mp_pool_result r;
            mp_status s = mp_pool(y, v, k, &o, NULL, &r);
            if (s != MP_OK) continue;
            FUZZ_CHECK(isfinite(r.estimate) && isfinite(r.se) && r.se >= 0 && isfinite(r.tau2) &&
                           r.tau2 >= 0 && r.ci_lb <= r.estimate && r.estimate <= r.ci_ub,
                       "%s/%s k=%zu: estimate %g se %g tau2 %g ci [%g, %g]", mp_method_name(o.method),
                       mp_test_name(o.test), k, r.estimate, r.se, r.tau2, r.ci_lb, r.ci_ub);
        }
        if (k < 3) continue;
        mp_reg_opts ro;
        mp_reg_opts_init(&ro);
        ro.method = (mp_method)m;
        ro.maxiter = 200;
        mp_reg_result rr;
        memset(&rr, 0, sizeof rr);
        mp_status s = mp_reg_fit(y, v, X, k, 2, &ro, &rr);
        if (s == MP_OK)
            FUZZ_CHECK(isfinite(rr.beta[0]) && isfinite(rr.beta[1]) && isfinite(rr.se[1]) &&
                           rr.tau2 >= 0,
                       "reg %s k=%zu: b %g %g se %g tau2 %g", mp_method_name(ro.method), k,
                       rr.beta[0], rr.beta[1], rr.se[1], rr.tau2);
        mp_reg_result_free(&rr);
    }
    return 0;
}
