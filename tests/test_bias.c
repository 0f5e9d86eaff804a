/* tests/test_bias.c - small-study effects (include/metapool/bias.h) against metafor and closed forms.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Sources of the expected values:
 *  - tests/reference/bias/expected.csv: R 4.2.2 metafor 3.8-1 (gen.R beside
 *    it): regtest() for every predictor and both models, ranktest(),
 *    trimfill() L0/R0/Q0, fsn(), lm() PET/PEESE and selmodel(type =
 *    "stepfun") for three step vectors, on rma() fits by REML, DL and FE of
 *    twelve data sets (hackshaw1998, normand1999, bcg, molloy2014,
 *    bangertdrowns2004, pritz1997 and six synthetic ones: k = 6, ties,
 *    funnels asymmetric to either side, and two with simulated selection);
 *  - tests/reference/bias/kendall.csv: R's own pkendall (cor.test's exact
 *    null distribution) at chosen (n, q);
 *  - brute force: the inversion counts of all n! permutations for n <= 8;
 *  - closed forms: Orwin's N = k with metafor's default target, the R0
 *    tail probability 0.5^(k0+1). */
#include "testutil.h"
#include "metapool/metapool.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- data and oracle files ---------------------------------------------- */

typedef struct { size_t k; double y[128], v[128], n[128]; int has_n; } dataset;

static void load_data(const char *name, dataset *d)
{
    char rel[256], line[512];
    snprintf(rel, sizeof rel, "bias/d_%s.csv", name);
    FILE *f = fopen(tu_ref(rel), "r");
    ck_assert_msg(f != NULL, "cannot open %s", rel);
    ck_assert(fgets(line, sizeof line, f) != NULL); /* yi,vi,ni */
    d->k = 0;
    d->has_n = 1;
    while (fgets(line, sizeof line, f) && d->k < 128) {
        char *a = strtok(line, ",\n"), *b = strtok(NULL, ",\n"), *c = strtok(NULL, ",\n");
        ck_assert(a && b && c);
        d->y[d->k] = strtod(a, NULL);
        d->v[d->k] = strtod(b, NULL);
        if (!strcmp(c, "NA")) d->has_n = 0;
        d->n[d->k] = strtod(c, NULL);
        d->k++;
    }
    fclose(f);
}

typedef struct { char data[32], method[8], what[32], key[32]; double value; } oracle;

static oracle *load_oracles(size_t *n)
{
    FILE *f = fopen(tu_ref("bias/expected.csv"), "r");
    ck_assert_msg(f != NULL, "cannot open bias/expected.csv");
    char line[512];
    size_t cap = 4096, m = 0;
    oracle *o = malloc(cap * sizeof *o);
    ck_assert(fgets(line, sizeof line, f) != NULL);
    while (fgets(line, sizeof line, f)) {
        if (m == cap) o = realloc(o, (cap *= 2) * sizeof *o);
        char *a = strtok(line, ","), *b = strtok(NULL, ","), *c = strtok(NULL, ","),
             *d = strtok(NULL, ","), *e = strtok(NULL, ",\n");
        ck_assert(a && b && c && d && e);
        snprintf(o[m].data, sizeof o[m].data, "%s", a);
        snprintf(o[m].method, sizeof o[m].method, "%s", b);
        snprintf(o[m].what, sizeof o[m].what, "%s", c);
        snprintf(o[m].key, sizeof o[m].key, "%s", d);
        while (*e == ' ') e++;
        o[m].value = !strcmp(e, "NA") ? NAN : strtod(e, NULL);
        m++;
    }
    fclose(f);
    *n = m;
    return o;
}

/* |got - want| <= rtol |want| + atol; NaN only matches NaN */
static int near(double got, double want, double rtol, double atol)
{
    if (isnan(want) || isnan(got)) return isnan(want) && isnan(got);
    return fabs(got - want) <= rtol * fabs(want) + atol;
}

static size_t nbad;
static void cmp(const oracle *o, double got, double rtol, double atol)
{
    if (near(got, o->value, rtol, atol)) return;
    nbad++;
    fprintf(stderr, "bias oracle %s %s %s %s: got %.15g, metafor %.15g\n", o->data, o->method,
            o->what, o->key, got, o->value);
}

static void fit_opts(const char *method, mp_pool_opts *po)
{
    mp_pool_opts_init(po);
    ck_assert_int_eq(mp_method_parse(method, &po->method), MP_OK);
    po->epsrel = 1e-14;
    po->maxiter = 10000;
    po->tau2_ci = 0;
}

/* The value of key `key` from the results of block `what`. */
typedef struct {
    mp_egger_result eg;
    mp_rank_result rk;
    mp_trimfill_result tf;
    mp_fsn_result fs;
    mp_wls_result wl;
    mp_selmodel_result sm;
    double fill[2][128]; /* sorted filled yi and their vi */
} results;

static int cmp_fill(const void *a, const void *b)
{
    const double *x = a, *y = b;
    return (x[0] > y[0]) - (x[0] < y[0]);
}

/* ---- 1. every metafor oracle ------------------------------------------- */

START_TEST(test_metafor_oracles)
{
    size_t n;
    oracle *o = load_oracles(&n);
    ck_assert_uint_gt(n, 1000);
    nbad = 0;
    size_t checked = 0, blocks = 0;
    results *R = calloc(1, sizeof *R);
    for (size_t i = 0; i < n;) {
        size_t j = i; /* the rows of one (data, method, what) block */
        while (j < n && !strcmp(o[j].data, o[i].data) && !strcmp(o[j].method, o[i].method) &&
               !strcmp(o[j].what, o[i].what))
            j++;
        dataset d;
        load_data(o[i].data, &d);
        mp_pool_opts po;
        fit_opts(!strcmp(o[i].method, "-") ? "REML" : o[i].method, &po);
        const char *w = o[i].what;
        double rtol = 1e-8, atol = 1e-10;
        mp_status st = MP_OK;
        blocks++;
        if (!strcmp(w, "fit")) {
            i = j;
            continue;
        } else if (!strncmp(w, "egger_", 6)) {
            char mod[8], pred[16];
            ck_assert_int_eq(sscanf(w + 6, "%7[a-z]_%15s", mod, pred), 2);
            mp_egger_model m;
            mp_egger_predictor p;
            ck_assert_int_eq(mp_egger_model_parse(mod, &m), MP_OK);
            ck_assert_int_eq(mp_egger_predictor_parse(pred, &p), MP_OK);
            st = mp_bias_egger(d.y, d.v, d.has_n ? d.n : NULL, d.k, m, p, &po, &R->eg);
        } else if (!strcmp(w, "rank")) {
            st = mp_bias_ranktest(d.y, d.v, d.k, &R->rk);
        } else if (!strncmp(w, "trimfill_", 9)) {
            mp_tf_estimator e;
            ck_assert_int_eq(mp_tf_estimator_parse(w + 9, &e), MP_OK);
            mp_trimfill_result_free(&R->tf);
            st = mp_bias_trimfill(d.y, d.v, d.k, e, MP_TF_SIDE_AUTO, &po, 0, &R->tf);
            for (size_t t = 0; !st && t < R->tf.k0; t++) {
                R->fill[0][t] = R->tf.fill_y[t];
                R->fill[1][t] = R->tf.fill_v[t];
            }
            if (!st && R->tf.k0) {
                double tmp[128][2];
                for (size_t t = 0; t < R->tf.k0; t++) { tmp[t][0] = R->fill[0][t]; tmp[t][1] = R->fill[1][t]; }
                qsort(tmp, R->tf.k0, sizeof tmp[0], cmp_fill);
                for (size_t t = 0; t < R->tf.k0; t++) { R->fill[0][t] = tmp[t][0]; R->fill[1][t] = tmp[t][1]; }
            }
        } else if (!strcmp(w, "fsn")) {
            st = mp_bias_fsn(d.y, d.v, d.k, 0.05, &R->fs);
        } else if (!strcmp(w, "pet") || !strcmp(w, "peese")) {
            st = mp_bias_pet_peese(d.y, d.v, d.k, !strcmp(w, "peese"), 95, &R->wl);
        } else if (!strncmp(w, "selmodel_s", 10)) {
            static const double s1[] = {0.025, 1}, s2[] = {0.05, 0.5, 1}, s3[] = {0.025, 0.1, 0.5, 1};
            mp_selmodel_opts so;
            mp_selmodel_opts_init(&so);
            int which = w[10] - '0';
            so.steps = which == 1 ? s1 : which == 2 ? s2 : s3;
            so.nsteps = which == 1 ? 2 : which == 2 ? 3 : 4;
            so.fixed_effect = po.method == MP_METHOD_FE;
            mp_selmodel_result_free(&R->sm);
            st = mp_bias_selmodel(d.y, d.v, d.k, &so, &R->sm);
            /* metafor's SEs come from numDeriv's Hessian (Richardson): agreement
             * to about 1e-7 is what two accurate Hessians give */
            rtol = 1e-6;
            atol = 1e-9;
        } else {
            ck_abort_msg("unknown oracle block %s", w);
        }
        if (!strcmp(o[i].key, "error")) {
            /* metafor stops here (Q0 with 2k^2 - 4 Sr + 1/4 < 0): so must we */
            ck_assert_msg(st != MP_OK, "%s %s %s: metafor fails, we did not", o[i].data, o[i].method, w);
            checked++;
            i = j;
            continue;
        }
        ck_assert_msg(st == MP_OK, "%s %s %s: status %d", o[i].data, o[i].method, w, st);
        for (size_t r = i; r < j; r++) {
            const char *k = o[r].key;
            double g = NAN;
            if (!strncmp(w, "egger_", 6)) {
                if (!strcmp(k, "stat")) g = R->eg.stat;
                else if (!strcmp(k, "pval")) g = R->eg.pval;
                else if (!strcmp(k, "df")) g = R->eg.df;
                else if (!strcmp(k, "limit_estimate")) g = R->eg.limit_estimate;
                else if (!strcmp(k, "limit_ci_lb")) g = R->eg.limit_ci_lb;
                else if (!strcmp(k, "limit_ci_ub")) g = R->eg.limit_ci_ub;
                else ck_abort_msg("key %s", k);
            } else if (!strcmp(w, "rank")) {
                g = !strcmp(k, "tau") ? R->rk.tau : R->rk.pval;
            } else if (!strncmp(w, "trimfill_", 9)) {
                const mp_trimfill_result *t = &R->tf;
                if (!strcmp(k, "k0")) g = (double)t->k0;
                else if (!strcmp(k, "se_k0")) g = t->se_k0;
                else if (!strcmp(k, "side")) g = t->side == MP_TF_SIDE_RIGHT ? 1 : 0;
                else if (!strcmp(k, "estimate")) g = t->fit.estimate;
                else if (!strcmp(k, "se")) g = t->fit.se;
                else if (!strcmp(k, "ci_lb")) g = t->fit.ci_lb;
                else if (!strcmp(k, "ci_ub")) g = t->fit.ci_ub;
                else if (!strcmp(k, "tau2")) g = t->fit.tau2;
                else if (!strncmp(k, "fill_yi_", 8) || !strncmp(k, "fill_vi_", 8)) {
                    size_t idx = (size_t)atoi(k + 8) - 1;
                    ck_assert_uint_lt(idx, t->k0);
                    g = R->fill[k[5] == 'v'][idx];
                } else ck_abort_msg("key %s", k);
            } else if (!strcmp(w, "fsn")) {
                const mp_fsn_result *f = &R->fs;
                if (!strcmp(k, "rosenthal")) g = f->rosenthal;
                else if (!strcmp(k, "rosenthal_pval")) g = f->rosenthal_pval;
                else if (!strcmp(k, "orwin")) g = f->orwin;
                else if (!strcmp(k, "orwin_mean")) g = f->orwin_mean;
                else if (!strcmp(k, "orwin_target")) g = f->orwin_target;
                else if (!strcmp(k, "rosenberg")) g = f->rosenberg;
                else if (!strcmp(k, "rosenberg_pval")) g = f->rosenberg_pval;
                else ck_abort_msg("key %s", k);
            } else if (!strcmp(w, "pet") || !strcmp(w, "peese")) {
                if (!strcmp(k, "estimate")) g = R->wl.estimate;
                else if (!strcmp(k, "se")) g = R->wl.se;
                else if (!strcmp(k, "pval")) g = R->wl.pval;
                else if (!strcmp(k, "ci_lb")) g = R->wl.ci_lb;
                else if (!strcmp(k, "ci_ub")) g = R->wl.ci_ub;
                else ck_abort_msg("key %s", k);
            } else {
                const mp_selmodel_result *s = &R->sm;
                if (!strcmp(k, "estimate")) g = s->estimate;
                else if (!strcmp(k, "se")) g = s->se;
                else if (!strcmp(k, "ci_lb")) g = s->ci_lb;
                else if (!strcmp(k, "ci_ub")) g = s->ci_ub;
                else if (!strcmp(k, "tau2")) g = s->tau2;
                else if (!strcmp(k, "tau2_se")) g = s->tau2_se;
                else if (!strcmp(k, "LRT")) g = s->LRT;
                else if (!strcmp(k, "LRT_pval")) g = s->LRT_pval;
                else if (!strcmp(k, "logLik")) g = s->logLik;
                else if (!strncmp(k, "delta_se_", 9)) g = s->delta_se[atoi(k + 9) - 1];
                else if (!strncmp(k, "delta_", 6)) g = s->delta[atoi(k + 6) - 1];
                else if (!strcmp(k, "newton_vs_metafor_rel")) continue; /* a note on the oracle */
                else ck_abort_msg("key %s", k);
                if (!strcmp(k, "LRT_pval") || !strcmp(k, "LRT")) {
                    /* tiny LRTs: compare on the scale of the log-likelihood */
                    cmp(&o[r], g, rtol, 1e-7);
                    checked++;
                    continue;
                }
            }
            /* p-values near 0 and 1 are compared absolutely as well */
            cmp(&o[r], g, rtol, strstr(k, "pval") ? 1e-12 : atol);
            checked++;
        }
        i = j;
    }
    mp_trimfill_result_free(&R->tf);
    mp_selmodel_result_free(&R->sm);
    free(R);
    free(o);
    ck_assert_msg(nbad == 0, "%zu of %zu oracle values differ (see stderr)", nbad, checked);
    ck_assert_uint_gt(checked, 1000);
    ck_assert_uint_gt(blocks, 100);
}
END_TEST

/* ---- 2. Kendall's exact distribution ------------------------------------ */

START_TEST(test_kendall_vs_r)
{
    FILE *f = fopen(tu_ref("bias/kendall.csv"), "r");
    ck_assert(f != NULL);
    char line[256];
    ck_assert(fgets(line, sizeof line, f) != NULL);
    size_t m = 0;
    while (fgets(line, sizeof line, f)) {
        double n, q, p, got;
        ck_assert_int_eq(sscanf(line, "%lf,%lf,%lf", &n, &q, &p), 3);
        ck_assert_int_eq(mp_kendall_cdf(q, (size_t)n, &got), MP_OK);
        /* R sums counts in double; relative 1e-12 in the summed tail, 1e-15 absolute */
        ck_assert_msg(near(got, p, 1e-12, 1e-15), "n=%g q=%g: %.17g vs R %.17g", n, q, got, p);
        m++;
    }
    fclose(f);
    ck_assert_uint_gt(m, 80);
}
END_TEST

/* Inversion counts of all permutations of n by brute force (Heap's algorithm). */
static void brute_counts(size_t n, double *cnt)
{
    int a[9], c[9] = {0};
    for (size_t i = 0; i < n; i++) a[i] = (int)i;
    size_t M = n * (n - 1) / 2;
    for (size_t t = 0; t <= M; t++) cnt[t] = 0;
    for (;;) {
        size_t inv = 0;
        for (size_t i = 0; i < n; i++)
            for (size_t j = i + 1; j < n; j++) inv += a[i] > a[j];
        cnt[inv] += 1;
        size_t i = 1;
        while (i < n && c[i] >= (int)i) c[i++] = 0;
        if (i >= n) break;
        int tmp, s = i % 2 ? c[i] : 0;
        tmp = a[s]; a[s] = a[i]; a[i] = tmp;
        c[i]++;
    }
}

START_TEST(test_kendall_brute_force)
{
    for (size_t n = 1; n <= 8; n++) {
        double cnt[64], fact = 1, cum = 0, p;
        for (size_t i = 2; i <= n; i++) fact *= (double)i;
        brute_counts(n, cnt);
        size_t M = n * (n - 1) / 2;
        for (size_t q = 0; q <= M; q++) {
            cum += cnt[q];
            ck_assert_int_eq(mp_kendall_cdf((double)q, n, &p), MP_OK);
            ck_assert_msg(near(p, cum / fact, 1e-15, 1e-16), "n=%zu q=%zu: %.17g vs %.17g", n, q, p, cum / fact);
        }
        ck_assert_int_eq(mp_kendall_cdf(-1, n, &p), MP_OK);
        ck_assert(p == 0);
        ck_assert_int_eq(mp_kendall_cdf((double)M + 5, n, &p), MP_OK);
        ck_assert(p == 1);
    }
    ck_assert_int_eq(mp_kendall_cdf(1, 3, NULL), MP_EINVAL);
}
END_TEST

/* ---- 3. warnings, closed forms and properties --------------------------- */

START_TEST(test_closed_forms)
{
    dataset d;
    load_data("bcg", &d);
    mp_fsn_result f;
    ck_assert_int_eq(mp_bias_fsn(d.y, d.v, d.k, 0, &f), MP_OK);
    ck_assert(f.orwin == (double)d.k);       /* target = mean/2: k (m - m/2)/(m/2) = k */
    ck_assert(f.orwin_target == f.orwin_mean / 2);
    /* R0 with k0 = 1 (normand1999): p.k0 = 1 - (1/4 + 1/4) ... = 0.5^(k0+1) */
    load_data("normand1999", &d);
    mp_pool_opts po;
    fit_opts("REML", &po);
    mp_trimfill_result t;
    ck_assert_int_eq(mp_bias_trimfill(d.y, d.v, d.k, MP_TF_R0, MP_TF_SIDE_AUTO, &po, 0, &t), MP_OK);
    ck_assert_uint_eq(t.k0, 1);
    ck_assert(t.p_k0 == 0.25);
    /* the filled study is the reflection 2 b - y of the most extreme one */
    mp_trimfill_result_free(&t);
    /* forcing the other side reflects the other tail */
    ck_assert_int_eq(mp_bias_trimfill(d.y, d.v, d.k, MP_TF_L0, MP_TF_SIDE_LEFT, &po, 0, &t), MP_OK);
    ck_assert_int_eq(t.side, MP_TF_SIDE_LEFT);
    mp_trimfill_result_free(&t);
    /* ranktest is invariant to adding a constant to every effect */
    load_data("bcg", &d);
    mp_rank_result a, b;
    ck_assert_int_eq(mp_bias_ranktest(d.y, d.v, d.k, &a), MP_OK);
    for (size_t i = 0; i < d.k; i++) d.y[i] += 3;
    ck_assert_int_eq(mp_bias_ranktest(d.y, d.v, d.k, &b), MP_OK);
    ck_assert_rel(b.tau, a.tau, 1e-12);
    ck_assert(a.exact == 1 && a.ties == 0 && isnan(a.stat));
    load_data("ties12", &d);
    ck_assert_int_eq(mp_bias_ranktest(d.y, d.v, d.k, &a), MP_OK);
    ck_assert(a.exact == 0 && a.ties == 1 && isfinite(a.stat));
    /* beyond MP_KENDALL_EXACT_MAX without ties: z = S / sqrt(n(n-1)(2n+5)/18) */
    size_t n = MP_KENDALL_EXACT_MAX + 1;
    double *yy = malloc(2 * n * sizeof *yy), *vv = yy + n;
    for (size_t i = 0; i < n; i++) { yy[i] = sin((double)i); vv[i] = 0.01 + 1e-4 * (double)i; }
    ck_assert_int_eq(mp_bias_ranktest(yy, vv, n, &a), MP_OK);
    double nn = (double)n, z = a.S / sqrt(nn * (nn - 1) * (2 * nn + 5) / 18);
    ck_assert(a.exact == 0 && a.ties == 0);
    ck_assert_rel(a.stat, z, 1e-12);
    ck_assert_rel(a.pval, 2 * gsl_cdf_ugaussian_Q(fabs(z)), 1e-12);
    free(yy);
}
END_TEST

START_TEST(test_selmodel_properties)
{
    dataset d;
    load_data("hackshaw1998", &d);
    mp_selmodel_opts so;
    mp_selmodel_opts_init(&so);
    mp_selmodel_result s;
    /* default steps (0.025, 1); 1 is appended when missing */
    static const double st1[] = {0.025};
    so.steps = st1;
    so.nsteps = 1;
    ck_assert_int_eq(mp_bias_selmodel(d.y, d.v, d.k, &so, &s), MP_OK);
    ck_assert_uint_eq(s.nsteps, 2);
    ck_assert(s.steps[1] == 1 && s.delta[0] == 1 && isnan(s.delta_se[0]));
    ck_assert_uint_eq(s.kint[0] + s.kint[1], d.k);
    ck_assert(s.converged && !s.boundary && s.LRT_df == 1);
    ck_assert(s.max_abs_grad < 1e-8);
    /* the selection model nests the ML model: its log-likelihood is not smaller */
    ck_assert(s.logLik >= s.logLik0);
    double ll = s.logLik;
    mp_selmodel_result_free(&s);
    so.steps = NULL;
    ck_assert_int_eq(mp_bias_selmodel(d.y, d.v, d.k, &so, &s), MP_OK);
    ck_assert_rel(s.logLik, ll, 1e-12);
    mp_selmodel_result_free(&s);
    /* the boundary case of the wave-2 reference (normand1999: delta at 100) */
    load_data("normand1999", &d);
    ck_assert_int_eq(mp_bias_selmodel(d.y, d.v, d.k, &so, &s), MP_OK);
    ck_assert(s.boundary == 1 && s.delta[1] == 100);
    /* metafor's (logistic scale, stopped at 99.99994): estimate 0.717490759936327 */
    ck_assert_rel(s.estimate, 0.717490759936327, 1e-6);
    mp_selmodel_result_free(&s);
}
END_TEST

/* ---- 4. every error path ------------------------------------------------ */

START_TEST(test_errors)
{
    double y[4] = {0.1, 0.3, 0.2, 0.5}, v[4] = {0.1, 0.2, 0.3, 0.4}, vc[4] = {0.1, 0.1, 0.1, 0.1};
    double bad[4] = {0.1, -0.2, 0.3, 0.4}, ni[4] = {10, 20, 30, 40};
    mp_egger_result e;
    mp_rank_result r;
    mp_trimfill_result t;
    mp_fsn_result f;
    mp_wls_result w;
    mp_selmodel_result s;
    mp_selmodel_opts so;
    mp_selmodel_opts_init(&so);
    mp_egger_predictor p;
    mp_egger_model m;
    mp_tf_estimator te;
    /* parsers */
    ck_assert_int_eq(mp_egger_predictor_parse("sqrtninv", &p), MP_OK);
    ck_assert_int_eq(p, MP_EGGER_SQRTNINV);
    ck_assert_int_eq(mp_egger_predictor_parse("se", &p), MP_EINVAL);
    ck_assert_int_eq(mp_egger_model_parse("glm", &m), MP_EINVAL);
    ck_assert_int_eq(mp_tf_estimator_parse("L1", &te), MP_EINVAL);
    ck_assert_int_eq(mp_egger_predictor_parse(NULL, &p), MP_EINVAL);
    ck_assert_str_eq(mp_egger_predictor_name(MP_EGGER_NINV), "ninv");
    ck_assert_str_eq(mp_tf_side_name(MP_TF_SIDE_RIGHT), "right");
    ck_assert_str_eq(mp_tf_estimator_name(MP_TF_Q0), "Q0");
    ck_assert_str_eq(mp_egger_model_name(MP_EGGER_LM), "lm");
    /* Egger */
    ck_assert_int_eq(mp_bias_egger(NULL, v, NULL, 4, 0, 0, NULL, &e), MP_EINVAL);
    ck_assert_int_eq(mp_bias_egger(y, v, NULL, 4, 0, MP_EGGER_NI, NULL, &e), MP_EINVAL);
    ck_assert_int_eq(mp_bias_egger(y, v, NULL, 4, 7, 0, NULL, &e), MP_EINVAL);
    ck_assert_int_eq(mp_bias_egger(y, bad, NULL, 4, 0, 0, NULL, &e), MP_EDOM);
    ck_assert_int_eq(mp_bias_egger(y, v, bad, 4, 0, MP_EGGER_NI, NULL, &e), MP_EDOM);
    ck_assert_int_eq(mp_bias_egger(y, v, NULL, 2, 0, 0, NULL, &e), MP_ETOOFEW);
    ck_assert_int_eq(mp_bias_egger(y, vc, NULL, 4, 0, 0, NULL, &e), MP_ESING);
    ck_assert_int_eq(mp_bias_egger(y, v, ni, 4, MP_EGGER_LM, MP_EGGER_NI, NULL, &e), MP_OK);
    ck_assert(!e.has_limit && isnan(e.limit_estimate) && e.df == 2);
    /* rank */
    ck_assert_int_eq(mp_bias_ranktest(y, NULL, 4, &r), MP_EINVAL);
    ck_assert_int_eq(mp_bias_ranktest(y, v, 1, &r), MP_ETOOFEW);
    ck_assert_int_eq(mp_bias_ranktest(y, bad, 4, &r), MP_EDOM);
    ck_assert_int_eq(mp_bias_ranktest(y, vc, 4, &r), MP_EDOM); /* v constant: tau undefined */
    /* trim and fill */
    ck_assert_int_eq(mp_bias_trimfill(y, v, 4, 5, 0, NULL, 0, &t), MP_EINVAL);
    ck_assert_int_eq(mp_bias_trimfill(y, v, 2, 0, 0, NULL, 0, &t), MP_ETOOFEW);
    ck_assert_int_eq(mp_bias_trimfill(y, bad, 4, 0, 0, NULL, 0, &t), MP_EDOM);
    mp_trimfill_result_free(&t);
    {
        dataset d;
        load_data("hackshaw1998", &d); /* k0 = 7: a second round is needed */
        ck_assert_int_eq(mp_bias_trimfill(d.y, d.v, d.k, MP_TF_L0, 0, NULL, 1, &t), MP_ENOCONV);
        mp_trimfill_result_free(&t);
    }
    mp_trimfill_result_free(NULL);
    /* fsn */
    ck_assert_int_eq(mp_bias_fsn(y, v, 0, 0.05, &f), MP_ETOOFEW);
    ck_assert_int_eq(mp_bias_fsn(y, v, 4, 1.5, &f), MP_EINVAL);
    ck_assert_int_eq(mp_bias_fsn(y, bad, 4, 0.05, &f), MP_EDOM);
    double y0[4] = {0.1, -0.1, 0.2, -0.2};
    ck_assert_int_eq(mp_bias_fsn(y0, v, 4, 0.05, &f), MP_OK);
    ck_assert(isinf(f.orwin)); /* mean 0: target 0, metafor's Inf */
    /* PET-PEESE */
    ck_assert_int_eq(mp_bias_pet_peese(y, v, 2, 0, 95, &w), MP_ETOOFEW);
    ck_assert_int_eq(mp_bias_pet_peese(y, vc, 4, 1, 95, &w), MP_ESING);
    ck_assert_int_eq(mp_bias_pet_peese(y, v, 4, 1, 120, &w), MP_EINVAL);
    ck_assert_int_eq(mp_bias_pet_peese(y, bad, 4, 1, 95, &w), MP_EDOM);
    /* selection model */
    static const double unsorted[] = {0.5, 0.025}, zero[] = {0, 1}, one[] = {1};
    so.steps = unsorted; so.nsteps = 2;
    ck_assert_int_eq(mp_bias_selmodel(y, v, 4, &so, &s), MP_EINVAL);
    mp_selmodel_result_free(&s);
    so.steps = zero;
    ck_assert_int_eq(mp_bias_selmodel(y, v, 4, &so, &s), MP_EINVAL);
    mp_selmodel_result_free(&s);
    so.steps = one; so.nsteps = 1;
    ck_assert_int_eq(mp_bias_selmodel(y, v, 4, &so, &s), MP_EINVAL);
    mp_selmodel_result_free(&s);
    so.steps = NULL;
    so.level = 100;
    ck_assert_int_eq(mp_bias_selmodel(y, v, 4, &so, &s), MP_EINVAL);
    mp_selmodel_result_free(&s);
    so.level = 95;
    ck_assert_int_eq(mp_bias_selmodel(y, bad, 4, &so, &s), MP_EDOM);
    mp_selmodel_result_free(&s);
    ck_assert_int_eq(mp_bias_selmodel(y, v, 2, &so, &s), MP_ETOOFEW); /* 3 parameters */
    mp_selmodel_result_free(&s);
    /* every p-value above 0.025: the interval of delta_2 ... holds them all, but
     * with steps (0.5, 1) and all p < 0.5 the estimated interval is empty */
    static const double half[] = {0.5, 1};
    double yb[4] = {2, 3, 2.5, 4};
    so.steps = half; so.nsteps = 2;
    ck_assert_int_eq(mp_bias_selmodel(yb, v, 4, &so, &s), MP_ETOOFEW);
    ck_assert_uint_eq(s.kint[0], 4);
    ck_assert_uint_eq(s.kint[1], 0);
    mp_selmodel_result_free(&s);
    ck_assert_int_eq(mp_bias_selmodel(NULL, v, 4, &so, &s), MP_EINVAL);
    mp_selmodel_result_free(NULL);
    /* the funnel plot: no report, and a path that cannot be written */
    mp_bias_report br;
    memset(&br, 0, sizeof br);
    br.k = 4;
    br.yi = y;
    br.vi = v;
    ck_assert_int_eq(mp_report_funnel_svg("/tmp/x.svg", NULL, 0), MP_EINVAL);
    ck_assert_int_eq(mp_report_funnel_svg("/nonexistent-dir/f.svg", &br, 1), MP_EIO);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("bias");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_metafor_oracles);
    tcase_add_test(tc, test_kendall_vs_r);
    tcase_add_test(tc, test_kendall_brute_force);
    tcase_add_test(tc, test_closed_forms);
    tcase_add_test(tc, test_selmodel_properties);
    tcase_add_test(tc, test_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    gsl_set_error_handler_off();
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf ? 1 : 0;
}
