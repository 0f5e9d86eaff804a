/* tests/fuzz/fuzz_formula.c - the --mods formula and the --random SPEC, through design, structure and fit.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The input's first line is a formula (reg --mods), the second a random-
 * effects SPEC (--random).  Both go through the parser, the design of a
 * fixed 8-row table, the multilevel structure and, when both build, an
 * rma.mv fit with few iterations and the predictions at the table's rows.
 * Invariants: statuses of the contract only, never a crash, a leak or a
 * hang (a formula's expansion is capped at 4096 terms); a design that
 * builds has names for all its p columns and k > p rows. */
#include "fuzz_common.h"
#include "metapool/metapool.h"

#include <math.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char table_csv[] =
    "study,sub,out,x,g,yi,vi\n"
    "a,1,o1,1.5,u,0.1,0.01\n"
    "a,2,o2,2.5,v,0.3,0.02\n"
    "b,1,o1,0.5,u,0.2,0.03\n"
    "b,2,o3,3.0,w,0.5,0.01\n"
    "c,1,o2,1.0,v,0.4,0.02\n"
    "c,2,o3,4.5,w,0.1,0.02\n"
    "d,1,o1,2.0,u,0.35,0.015\n"
    "d,2,o2,0.0,v,0.15,0.025\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 2048) return 0;
    char *buf = malloc(size + 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    char *spec = strchr(buf, '\n');
    if (spec) *spec++ = '\0';
    mp_table *t = NULL;
    mp_error err;
    mp_effects e;
    mp_es_opts eo;
    mp_es_opts_init(&eo);
    FUZZ_CHECK(mp_table_read_mem("fuzz.csv", table_csv, sizeof table_csv - 1, &t, &err) == MP_OK, "%s", err.msg);
    FUZZ_CHECK(mp_effects_compute(t, &eo, &e, &err) == MP_OK, "%s", err.msg);
    mp_design d;
    mp_status st = mp_design_build_formula(t, &e, buf, &d, &err);
    FUZZ_CHECK(st >= MP_OK && st < MP_STATUS_COUNT, "status %d", (int)st);
    if (st == MP_OK) {
        FUZZ_CHECK(d.k > d.p && d.p > 0, "k %zu p %zu", d.k, d.p);
        for (size_t j = 0; j < d.p; j++) FUZZ_CHECK(d.names[j] != NULL, "name %zu", j);
        mp_mv_random re;
        if (spec && mp_mv_random_build(t, d.row, d.k, spec, &re, &err) == MP_OK) {
            mp_mv_opts o;
            mp_mv_opts_init(&o);
            o.maxiter = 20;
            mp_mv_result r;
            st = mp_mv_fit(d.y, d.v, d.X, d.k, d.p, &re, &o, &r);
            FUZZ_CHECK(st >= MP_OK && st < MP_STATUS_COUNT, "fit status %d", (int)st);
            if (st == MP_OK) {
                double *X = NULL;
                size_t n = 0;
                mp_reg_pred pr;
                if (mp_design_newrows(&d, t, &X, &n, &err) == MP_OK &&
                    mp_reg_predict(r.beta, r.vb, d.p, X, n, 0, NAN, 95, &pr) == MP_OK)
                    mp_reg_pred_free(&pr);
                free(X);
            }
            mp_mv_result_free(&r);
            mp_mv_random_free(&re);
        }
        mp_design_free(&d);
    }
    mp_effects_free(&e);
    mp_table_free(t);
    free(buf);
    return 0;
}
