/* tests/fuzz/fuzz_compare.c - the --compare file of published results.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * mp_compare_load() on arbitrary text, then mp_compare_eval() of what loads
 * against a fixed pooled result, and the JSON and table writers on the
 * verdicts (written to /dev/null).  Invariants: a status, never a crash;
 * an error always carries a message. */
#include "fuzz_common.h"
#include "metapool/metapool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gsl_set_error_handler_off();
    static FILE *devnull;
    if (!devnull) devnull = fopen("/dev/null", "w");
    const char *path = fuzz_file(data, size, ".csv");
    mp_compare_table *pub = NULL;
    mp_error err;
    mp_error_clear(&err);
    mp_status s = mp_compare_load(path, &pub, &err);
    if (s != MP_OK) {
        FUZZ_CHECK(pub == NULL && err.msg[0], "error %d: table %p, message '%s'", (int)s,
                   (void *)pub, err.msg);
        return 0;
    }
    static const double yi[] = {-0.89, -1.59, -1.35}, vi[] = {0.33, 0.19, 0.42};
    static const char *lab[] = {"a", "b", "c"};
    double w[3];
    mp_report_opts ro;
    mp_report_opts_init(&ro);
    mp_report_analysis a;
    memset(&a, 0, sizeof a);
    a.k = 3;
    a.yi = yi;
    a.vi = vi;
    a.label = lab;
    a.weight = w;
    mp_pool_opts po;
    mp_pool_opts_init(&po);
    FUZZ_CHECK(mp_pool(yi, vi, 3, &po, NULL, &a.fit) == MP_OK, "fixed fit failed");
    mp_pool_weights(vi, 3, a.fit.tau2, w);
    a.fe = a.fit;
    mp_report r;
    memset(&r, 0, sizeof r);
    r.measure = (size && data[0] & 1) ? MP_MEASURE_RR : MP_MEASURE_GEN;
    r.opt = &ro;
    r.a = &a;
    r.n = 1;
    mp_compare_result *cmp = NULL;
    s = mp_compare_eval(pub, &r, &cmp, &err);
    if (s == MP_OK) {
        mp_compare_json(devnull, cmp);
        mp_compare_print(devnull, cmp, &r);
        (void)mp_compare_reproduced(cmp);
        mp_compare_result_free(cmp);
    } else {
        FUZZ_CHECK(cmp == NULL && err.msg[0], "eval error %d without a message", (int)s);
    }
    mp_compare_free(pub);
    return 0;
}
