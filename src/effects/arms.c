/* src/effects/arms.c - the arm-level data of each row (events/total, mean (SD) n, x/n) for reports.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * RevMan's forest plot shows the data each study contributed beside it:
 * events and total per arm for dichotomous outcomes, mean, SD and total per
 * arm for continuous ones (Cochrane Handbook ch. 10; RevMan 5 user guide).
 * This file reads those cells by metafor's column names so that the
 * reporter can show them; it computes nothing that enters an analysis. */
#include "metapool/escalc.h"
#include "internal.h"
#include "es_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void mp_arms_free(mp_arms *a)
{
    if (!a) return;
    free(a->v);
    memset(a, 0, sizeof *a);
}

/* All of names[] present: their columns in col[], 1; else 0. */
static int find_cols(const mp_table *t, const char *const *names, size_t n, long *col)
{
    for (size_t j = 0; j < n; j++)
        if ((col[j] = mp_table_col(t, names[j])) < 0) return 0;
    return 1;
}

mp_status mp_effects_arms(const mp_table *t, const mp_effects *e, mp_arms *out, mp_error *err)
{
    static const char *const counts_b[] = {"ai", "bi", "ci", "di"};
    static const char *const counts_n[] = {"ai", "n1i", "ci", "n2i"};
    static const char *const means[] = {"m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i"};
    static const char *const prop[] = {"xi", "ni"};
    memset(out, 0, sizeof *out);
    long col[MP_ARM_NV];
    int totals = 0; /* 2x2 given as ai, bi, ci, di: totals are sums */
    mp_arm_kind kind = MP_ARMS_NONE;
    size_t nc = 0;
    /* the columns the effect sizes came from first, then whatever is complete */
    int prefer_means = e && e->source == MP_SRC_MEANS;
    if (!prefer_means && find_cols(t, counts_b, 4, col)) { kind = MP_ARMS_COUNTS; nc = 4; totals = 1; }
    else if (!prefer_means && find_cols(t, counts_n, 4, col)) { kind = MP_ARMS_COUNTS; nc = 4; }
    else if (find_cols(t, means, 6, col)) { kind = MP_ARMS_MEANS; nc = 6; }
    else if (find_cols(t, prop, 2, col)) { kind = MP_ARMS_PROP; nc = 2; }
    if (kind == MP_ARMS_NONE) return MP_OK;
    size_t n = mp_table_nrows(t);
    size_t bytes = mp_mul_size(mp_mul_size(n ? n : 1, MP_ARM_NV), sizeof(double));
    if (!bytes || !(out->v = malloc(bytes))) return MP_FAIL(MP_ENOMEM);
    out->kind = kind;
    out->n = n;
    for (size_t i = 0; i < n; i++) {
        double *v = out->v + MP_ARM_NV * i;
        for (size_t j = 0; j < MP_ARM_NV; j++) v[j] = NAN;
        for (size_t j = 0; j < nc; j++) {
            if (mp_table_is_missing(t, i, (size_t)col[j])) continue; /* NA or empty */
            mp_status st = mp_table_number(t, i, (size_t)col[j], &v[j], err);
            if (st != MP_OK) { mp_arms_free(out); return st; }
        }
        if (totals) { /* events, total per arm */
            double b = v[1], d = v[3];
            v[1] = v[0] + b;
            v[3] = v[2] + d;
        }
    }
    return MP_OK;
}
