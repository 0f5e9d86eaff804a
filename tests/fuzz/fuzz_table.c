/* tests/fuzz/fuzz_table.c - the table loader, the effect sizes and a fit on whatever loads.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The first byte picks the options (measure, SMD variance, drop00, level);
 * the rest is the CSV text.  Invariants: the loader and the effects stage
 * return a status and never crash; a used row has a finite yi and a finite
 * vi > 0; a pooled fit that returns MP_OK has a finite estimate, se >= 0 and
 * tau2 >= 0; every error message names a place (line, or file). */
#include "fuzz_common.h"
#include "metapool/metapool.h"

#include <math.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gsl_set_error_handler_off();
    if (size < 1) return 0;
    unsigned sel = data[0];
    data++;
    size--;
    mp_table *t = NULL;
    mp_error err;
    mp_error_clear(&err);
    mp_status s = mp_table_read_mem("fuzz.csv", (const char *)data, size, &t, &err);
    if (s != MP_OK) {
        FUZZ_CHECK(t == NULL, "table returned on error");
        FUZZ_CHECK(err.msg[0] != '\0', "error %d without a message", (int)s);
        return 0;
    }
    mp_es_opts o;
    mp_es_opts_init(&o);
    o.measure = (mp_measure)(sel % MP_MEASURE_COUNT);
    o.measure_given = (sel >> 3) & 1;
    o.vtype = (mp_smd_vtype)((sel >> 4) % MP_SMD_VAR_COUNT);
    o.drop00 = (sel >> 6) & 1;
    o.level = (sel >> 7) ? 90.0 : 95.0;
    mp_effects e;
    s = mp_effects_compute(t, &o, &e, &err);
    if (s == MP_OK) {
        size_t k = 0;
        double *y = malloc((e.n ? e.n : 1) * sizeof *y), *v = malloc((e.n ? e.n : 1) * sizeof *v);
        FUZZ_CHECK(y && v, "out of memory");
        for (size_t i = 0; i < e.n; i++) {
            if (!e.used[i]) continue;
            FUZZ_CHECK(isfinite(e.yi[i]) && isfinite(e.vi[i]) && e.vi[i] > 0,
                       "row %zu used with yi %g vi %g", i + 1, e.yi[i], e.vi[i]);
            y[k] = e.yi[i];
            v[k] = e.vi[i];
            k++;
        }
        FUZZ_CHECK(k == e.k, "k %zu but %zu rows used", e.k, k);
        if (k > 0) {
            mp_pool_opts po;
            mp_pool_opts_init(&po);
            po.method = (mp_method)((sel >> 2) % MP_METHOD_COUNT);
            mp_pool_result r;
            s = mp_pool(y, v, k, &po, NULL, &r);
            if (s == MP_OK)
                FUZZ_CHECK(isfinite(r.estimate) && r.se >= 0 && r.tau2 >= 0,
                           "pool OK but estimate %g se %g tau2 %g", r.estimate, r.se, r.tau2);
        }
        free(y);
        free(v);
        mp_effects_free(&e);
    } else {
        FUZZ_CHECK(err.msg[0] != '\0', "effects error %d without a message", (int)s);
    }
    mp_table_free(t);
    return 0;
}
