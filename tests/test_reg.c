/* tests/test_reg.c - meta-regression against metafor, mp_pool and hand-derived closed forms.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Sources of the expected values:
 *  - tests/reference/bcg_rr_metareg_ablat.json: R metafor 3.8-1,
 *    rma(yi, vi, mods = ~ ablat, method = "REML") on the BCG data (log RR),
 *    converged to 1e-13, tests z and knha (values copied below);
 *  - mp_pool() (src/pool.c), an independent O(k) code path with closed forms
 *    for X = 1, itself checked against metafor: the intercept-only
 *    regression must equal it for every estimator;
 *  - closed forms derived by hand in the comments (FE model with one dummy
 *    moderator: weighted group means; exact rational numbers);
 *  - the documented rules of include/metapool/design.h for level order,
 *    names, missing values and errors. */
#include "testutil.h"
#include "internal.h"
#include "metapool/metapool.h"

#include <float.h>
#include <gsl/gsl_errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- helpers ---------------------------------------------------------- */

/* Load a CSV from memory or the reference folder and compute effects. */
static mp_table *load_mem(const char *csv, mp_effects *e, mp_measure m)
{
    mp_table *t = NULL;
    mp_error err;
    mp_es_opts o;
    mp_es_opts_init(&o);
    o.measure = m;
    o.measure_given = m != MP_MEASURE_GEN;
    ck_assert_int_eq(mp_table_read_mem("mem.csv", csv, strlen(csv), &t, &err), MP_OK);
    ck_assert_int_eq(mp_effects_compute(t, &o, e, &err), MP_OK);
    return t;
}

static mp_table *load_ref(const char *rel, mp_effects *e, mp_measure m)
{
    mp_table *t = NULL;
    mp_error err;
    mp_es_opts o;
    mp_es_opts_init(&o);
    o.measure = m;
    o.measure_given = 1;
    ck_assert_msg(mp_table_read(tu_ref(rel), &t, &err) == MP_OK, "%s: %s", rel, err.msg);
    ck_assert_int_eq(mp_effects_compute(t, &o, e, &err), MP_OK);
    return t;
}

static mp_status build(const mp_table *t, const mp_effects *e, const char *mods, mp_design *d,
                       mp_error *err)
{
    const char *v[8];
    char buf[256];
    size_t n = 0;
    snprintf(buf, sizeof buf, "%s", mods);
    for (char *s = strtok(buf, ";"); s && n < 8; s = strtok(NULL, ";")) v[n++] = s;
    mp_error_clear(err);
    return mp_design_build(t, e, v, n, 1, d, err);
}

/* ---- 1. metafor reference: BCG, ~ ablat, REML ------------------------- */

/* From tests/reference/bcg_rr_metareg_ablat.json (metafor 3.8-1). */
static const struct {
    const char *name;
    mp_test test;
    double coef[2], se[2], pval[2], QM, QMp;
} ref_cases[] = {
    {"z", MP_TEST_Z, {0.251468210007253, -0.0291017250116478},
     {0.249095396617009, 0.00719532722091122}, {0.312722572307648, 5.24279397389946e-05},
     16.3582321471319, 5.24279397389944e-05},
    {"knha", MP_TEST_KNHA, {0.251468210007253, -0.0291017250116478},
     {0.283925283743523, 0.00820141741104026}, {0.394737072447019, 0.00456505154155457},
     12.5909828844136, 0.00456505154155457},
};
static const double ref_tau2 = 0.0763479639554011, ref_QE = 30.7330900107492,
                    ref_QEp = 0.00121429098742005, ref_R2 = 75.6266218115624,
                    ref_I2 = 68.3912248382385;
/* metafor converged to 1e-13; 1e-6 is the project's contract, the values
 * agree to about 1e-10 in practice. */
#define REF_RTOL 1e-6

START_TEST(test_reference)
{
    mp_effects e;
    mp_table *t = load_ref("data/bcg_rr.csv", &e, MP_MEASURE_RR);
    mp_design d;
    mp_error err;
    ck_assert_int_eq(build(t, &e, "ablat", &d, &err), MP_OK);
    ck_assert_uint_eq(d.k, 13);
    ck_assert_uint_eq(d.p, 2);
    ck_assert_str_eq(d.names[0], "intrcpt");
    ck_assert_str_eq(d.names[1], "ablat");
    mp_reg_opts o;
    mp_reg_opts_init(&o);
    o.test = ref_cases[_i].test;
    mp_reg_result r;
    ck_assert_int_eq(mp_reg_fit(d.y, d.v, d.X, d.k, d.p, &o, &r), MP_OK);
    ck_assert(r.converged);
    for (int j = 0; j < 2; j++) {
        ck_assert_rel(r.beta[j], ref_cases[_i].coef[j], REF_RTOL);
        ck_assert_rel(r.se[j], ref_cases[_i].se[j], REF_RTOL);
        ck_assert_rel(r.pval[j], ref_cases[_i].pval[j], REF_RTOL);
    }
    ck_assert_rel(r.tau2, ref_tau2, REF_RTOL);
    ck_assert_rel(r.QE, ref_QE, REF_RTOL);
    ck_assert_rel(r.QE_pval, ref_QEp, REF_RTOL);
    ck_assert_rel(r.QM, ref_cases[_i].QM, REF_RTOL);
    ck_assert_rel(r.QM_pval, ref_cases[_i].QMp, REF_RTOL);
    ck_assert_rel(r.R2, ref_R2, REF_RTOL);
    ck_assert_rel(r.I2, ref_I2, REF_RTOL);
    ck_assert_rel(r.QE_df, 11, 0);
    ck_assert_rel(r.QM_df, 1, 0);
    if (ref_cases[_i].test == MP_TEST_KNHA) ck_assert_rel(r.df, 11, 0);
    else ck_assert(isnan(r.df));
    mp_reg_result_free(&r);
    mp_design_free(&d);
    mp_effects_free(&e);
    mp_table_free(t);
}
END_TEST

/* ---- 2. intercept-only model == mp_pool, every method ----------------- */

/* Two data sets x 10 methods x 2 tests.  Both sides iterate to relative
 * 1e-12, so 1e-10 bounds the disagreement of converged estimators (closed
 * forms agree to rounding). */
#define POOL_RTOL 1e-10
/* 20 effects with variances spread log-uniformly over 1e-12 .. 1e12 (Python
 * random.seed(5)): one study dominates every weighted sum, the case where
 * cancellation would show (src/pool.c sums around the dominant weight; here
 * the Householder QR of W^(1/2) X must agree with it). */
static const char extreme_csv[] =
    "yi,vi,x\n"
    "-1.1788417512306717,12151938.797897354,-1.1481606807908016\n"
    "1.5350209558369885,13670988562.80402,-0.58058411871366\n"
    "1.1009715963243587,43708027530.953026,0.20289811175252268\n"
    "-1.2750240009562119,5.211264921702133e-10,-1.7313507433891213\n"
    "-0.7383269512797096,11.226919836381704,0.14532433504702602\n"
    "-0.14526412380164039,1.5904323876246041e-07,-0.072802568849252305\n"
    "-0.41028822388871189,2384574.1907906127,2.189470397926486\n"
    "0.96084686019975762,2.1400210319165064e-09,1.5057624736767941\n"
    "-0.38510398433117615,1.1030537943138326e-12,-0.35020771378194304\n"
    "0.47372921021952574,1.4843901416759812e-07,-0.49563043578442195\n"
    "2.0168787579258889,8.7765539321673323e-06,-0.22367747089145429\n"
    "1.2085763830272378,18532.390981085533,-0.29837447880504836\n"
    "0.66688299043556909,37618.942808516593,2.2836132313046522\n"
    "2.0709342947102845,1.4822912620369471e-05,-0.44158287795063683\n"
    "-0.38747184348805669,3.1393940365844857e-09,0.46130678289081067\n"
    "0.77694931676713508,298.2908541869665,0.33702606234323557\n"
    "1.5049835158374891,0.00012868403765003657,0.031995901610103857\n"
    "-0.67965028575390385,0.34505194446512699,1.7179272159237682\n"
    "-0.46023167337858045,81669.372621655944,1.0491574433894157\n"
    "2.5452296267931573,3.5381278174746734e-12,0.9526520925336146\n";
static const struct { const char *csv; const char *text; mp_measure m; } pool_data[] = {
    {"data/bcg_rr.csv", NULL, MP_MEASURE_RR},
    {"data/normand1999_smd.csv", NULL, MP_MEASURE_SMD},
    {NULL, extreme_csv, MP_MEASURE_GEN},
};

START_TEST(test_intercept_only_equals_pool)
{
    int ds = _i / (MP_METHOD_COUNT * 2), rest = _i % (MP_METHOD_COUNT * 2);
    mp_method m = (mp_method)(rest / 2);
    mp_test te = rest % 2 ? MP_TEST_KNHA : MP_TEST_Z;
    mp_effects e;
    mp_table *t = pool_data[ds].csv ? load_ref(pool_data[ds].csv, &e, pool_data[ds].m)
                                    : load_mem(pool_data[ds].text, &e, pool_data[ds].m);
    mp_design d;
    mp_error err;
    mp_error_clear(&err);
    ck_assert_int_eq(mp_design_build(t, &e, NULL, 0, 1, &d, &err), MP_OK);
    ck_assert_uint_eq(d.p, 1);

    mp_pool_opts po;
    mp_pool_opts_init(&po);
    po.method = m;
    po.test = te;
    po.tau2_ci = 0;
    mp_pool_result pr;
    ck_assert_int_eq(mp_pool(d.y, d.v, d.k, &po, NULL, &pr), MP_OK);

    mp_reg_opts o;
    mp_reg_opts_init(&o);
    o.method = m;
    o.test = te;
    mp_reg_result r;
    ck_assert_msg(mp_reg_fit(d.y, d.v, d.X, d.k, d.p, &o, &r) == MP_OK, "%s %s %s",
                  pool_data[ds].csv ? pool_data[ds].csv : "extreme", mp_method_name(m),
                  mp_test_name(te));
    ck_assert_rel(r.tau2, pr.tau2, POOL_RTOL);
    ck_assert_rel(r.tau2_se, pr.tau2_se, POOL_RTOL);
    ck_assert_rel(r.beta[0], pr.estimate, POOL_RTOL);
    ck_assert_rel(r.se[0], pr.se, POOL_RTOL);
    ck_assert_rel(r.stat[0], pr.stat, POOL_RTOL);
    ck_assert_rel(r.pval[0], pr.pval, POOL_RTOL);
    ck_assert_rel(r.ci_lb[0], pr.ci_lb, POOL_RTOL);
    ck_assert_rel(r.ci_ub[0], pr.ci_ub, POOL_RTOL);
    ck_assert_rel(r.QE, pr.Q, POOL_RTOL);
    ck_assert_rel(r.QE_pval, pr.Q_pval, POOL_RTOL);
    ck_assert_rel(r.I2, pr.I2, POOL_RTOL);
    ck_assert_rel(r.H2, pr.H2, POOL_RTOL);
    ck_assert_rel(r.vt, pr.vt, POOL_RTOL);
    /* metafor's btt for an intercept-only model is the intercept: QM = z^2
     * (F = t^2 for knha) with the coefficient's p-value */
    ck_assert_rel(r.QM, pr.stat * pr.stat, POOL_RTOL);
    ck_assert_rel(r.QM_pval, pr.pval, 1e-8);
    ck_assert(isnan(r.R2)); /* no moderators: metafor gives no R^2 */
    mp_reg_result_free(&r);
    mp_design_free(&d);
    mp_effects_free(&e);
    mp_table_free(t);
}
END_TEST

/* ---- 3. FE with one dummy moderator: closed form ---------------------- */

/* Groups a = {y 1, 3; v 1, 1} and b = {y 2, 6, 4; v 1, 1, 1/2}.
 * With X = [1, d] (d = 1 for group b) the FE normal equations X'WX b = X'Wy
 * separate by group: the fitted value of a group is its weighted mean, so
 *   b0 = m_a = (1 + 3)/2 = 2,                  W_a = sum w_a = 2,
 *   b1 = m_b - m_a, m_b = (2 + 6 + 2*4)/4 = 4, W_b = 1 + 1 + 2 = 4, b1 = 2.
 * (X'WX)^-1 = [[W_a+W_b, W_b], [W_b, W_b]]^-1
 *           = 1/(W_a W_b) [[W_b, -W_b], [-W_b, W_a + W_b]],
 *   Var b0 = 1/W_a = 1/2, Var b1 = 1/W_a + 1/W_b = 3/4, Cov = -1/W_a = -1/2.
 * QE = sum w (y - fitted)^2 = (1-2)^2 + (3-2)^2 + (2-4)^2 + (6-4)^2 + 2 (4-4)^2
 *    = 10 on k - p = 3 df;  QM = b1^2 / Var b1 = 4/(3/4) = 16/3.
 * FE: I2 = 100 (QE - 3)/QE = 70, H2 = QE/3 = 10/3.
 * R2 (adjusted weighted R^2 of lm): overall weighted mean 20/6 = 10/3,
 *   Q0 = sum w (y - 10/3)^2 = (49 + 1 + 16 + 64 + 2*4)/9 = 46/3,
 *   R^2 = 1 - QE/Q0 = 8/23, adjusted 1 - (15/23)(k-1)/(k-p) = 1 - (15/23)(4/3)
 *   = 3/23, i.e. 300/23 percent.
 * knha: s2w = QE/(k-p) = 10/3, so Var b1 = 3/4 * 10/3 = 5/2 and
 *   F = QM_z/s2w = (16/3)/(10/3) = 8/5. */
#define CF_RTOL (64 * DBL_EPSILON)
static const char dummy_csv[] = "yi,vi,grp\n1,1,a\n3,1,a\n2,1,b\n6,1,b\n4,0.5,b\n";

START_TEST(test_fe_dummy_closed_form)
{
    mp_effects e;
    mp_table *t = load_mem(dummy_csv, &e, MP_MEASURE_GEN);
    mp_design d;
    mp_error err;
    ck_assert_int_eq(build(t, &e, "grp", &d, &err), MP_OK);
    ck_assert_uint_eq(d.p, 2);
    ck_assert_str_eq(d.names[1], "grpb");
    mp_reg_opts o;
    mp_reg_opts_init(&o);
    o.method = MP_METHOD_FE;
    mp_reg_result r;
    ck_assert_int_eq(mp_reg_fit(d.y, d.v, d.X, d.k, d.p, &o, &r), MP_OK);
    ck_assert_rel(r.beta[0], 2.0, CF_RTOL);
    ck_assert_rel(r.beta[1], 2.0, CF_RTOL);
    ck_assert_rel(r.vb[0], 0.5, CF_RTOL);
    ck_assert_rel(r.vb[1], -0.5, CF_RTOL);
    ck_assert_rel(r.vb[3], 0.75, CF_RTOL);
    ck_assert_rel(r.se[1], sqrt(0.75), CF_RTOL);
    ck_assert_rel(r.QE, 10.0, CF_RTOL);
    ck_assert_rel(r.QE_df, 3.0, 0);
    ck_assert_rel(r.QM, 16.0 / 3.0, CF_RTOL);
    ck_assert_rel(r.I2, 70.0, CF_RTOL);
    ck_assert_rel(r.H2, 10.0 / 3.0, CF_RTOL);
    ck_assert_rel(r.R2, 300.0 / 23.0, CF_RTOL);
    ck_assert_rel(r.tau2, 0.0, 0);
    ck_assert(isnan(r.tau2_se));
    mp_reg_result_free(&r);

    o.test = MP_TEST_KNHA;
    ck_assert_int_eq(mp_reg_fit(d.y, d.v, d.X, d.k, d.p, &o, &r), MP_OK);
    ck_assert(r.warn & MP_WARN_FE_KNHA);
    ck_assert_rel(r.s2w, 10.0 / 3.0, CF_RTOL);
    ck_assert_rel(r.vb[3], 2.5, CF_RTOL);
    ck_assert_rel(r.QM, 1.6, CF_RTOL);
    ck_assert_rel(r.df, 3.0, 0);
    mp_reg_result_free(&r);
    mp_design_free(&d);
    mp_effects_free(&e);
    mp_table_free(t);
}
END_TEST

/* DL with one dummy: tau2 = (QE - (k-p))/tr(P_FE).  With FE weights the
 * projector is block-diagonal by group, P_g = W_g - w_g w_g'/W_g, so
 * tr P = sum_g (W_g - sum w_g^2 / W_g) = (2 - 2/2) + (4 - 6/4) = 7/2 and
 * tau2 = (10 - 3)/(7/2) = 2. */
START_TEST(test_dl_dummy_closed_form)
{
    mp_effects e;
    mp_table *t = load_mem(dummy_csv, &e, MP_MEASURE_GEN);
    mp_design d;
    mp_error err;
    ck_assert_int_eq(build(t, &e, "grp", &d, &err), MP_OK);
    mp_reg_opts o;
    mp_reg_opts_init(&o);
    o.method = MP_METHOD_DL;
    mp_reg_result r;
    ck_assert_int_eq(mp_reg_fit(d.y, d.v, d.X, d.k, d.p, &o, &r), MP_OK);
    ck_assert_rel(r.tau2, 2.0, CF_RTOL);
    ck_assert_rel(r.vt, 3.0 / 3.5, CF_RTOL);
    /* weights 1/(v + 2): a = {1/3, 1/3}, b = {1/3, 1/3, 2/5}: group means
     * m_a = 2, m_b = (2/3 + 2 + 8/5)/(2/3 + 2/5) = (64/15)/(16/15) = 4 */
    ck_assert_rel(r.beta[0], 2.0, CF_RTOL);
    ck_assert_rel(r.beta[1], 2.0, CF_RTOL);
    ck_assert_rel(r.vb[0], 1.5, CF_RTOL);                 /* 1/W_a = 3/2 */
    ck_assert_rel(r.vb[3], 1.5 + 15.0 / 16.0, CF_RTOL);   /* + 1/W_b */
    mp_reg_result_free(&r);
    mp_design_free(&d);
    mp_effects_free(&e);
    mp_table_free(t);
}
END_TEST

/* FE with a numeric moderator on the extreme-variance data (variances
 * 1e-12 .. 1e12): the 2 x 2 normal equations solved in exact rational
 * arithmetic (Python fractions on the decimal values of extreme_csv):
 *   S = sum w, Sx = sum w x, Sxx = sum w x^2, Sy = sum w y, Sxy = sum w x y,
 *   det = S Sxx - Sx^2, b0 = (Sxx Sy - Sx Sxy)/det, b1 = (S Sxy - Sx Sy)/det,
 *   Var b0 = Sxx/det, Var b1 = S/det, QE = sum w (y - b0 - b1 x)^2.
 * Householder QR of W^(1/2) X is backward stable, so a few ulps times the
 * condition number; 1e-12 leaves room. */
START_TEST(test_fe_extreme_exact)
{
    mp_effects e;
    mp_table *t = load_mem(extreme_csv, &e, MP_MEASURE_GEN);
    mp_design d;
    mp_error err;
    ck_assert_int_eq(build(t, &e, "x", &d, &err), MP_OK);
    mp_reg_opts o;
    mp_reg_opts_init(&o);
    o.method = MP_METHOD_FE;
    mp_reg_result r;
    ck_assert_int_eq(mp_reg_fit(d.y, d.v, d.X, d.k, d.p, &o, &r), MP_OK);
    ck_assert_rel(r.beta[0], 0.40345528254855251, 1e-12);
    ck_assert_rel(r.beta[1], 2.2235753022677178, 1e-12);
    ck_assert_rel(r.vb[0], 8.4383786391688682e-13, 1e-12);
    ck_assert_rel(r.vb[3], 2.6851745082250342e-12, 1e-12);
    ck_assert_rel(r.QE, 13992516021.04479, 1e-12);
    mp_reg_result_free(&r);
    mp_design_free(&d);
    mp_effects_free(&e);
    mp_table_free(t);
}
END_TEST

/* ---- 4. categorical levels: order and names --------------------------- */

START_TEST(test_levels_order_and_names)
{
    /* R's factor() order (ICU collation, tests/reference/collate/sorted.tsv
     * line 3): "_x" < "alpha" < "Alpha" < "beta"; byte order would put
     * "Alpha" (A = 65) first */
    static const char csv[] = "yi,vi,dsgn,dose\n"
                              "0.1,0.1,beta,10\n0.5,0.2,alpha,9\n0.2,0.1,Alpha,9.5\n"
                              "0.9,0.3,_x,10\n0.4,0.1,beta,9\n0.3,0.2,Alpha,9.5\n"
                              "0.6,0.1,alpha,10\n0.8,0.2,_x,9\n";
    mp_effects e;
    mp_table *t = load_mem(csv, &e, MP_MEASURE_GEN);
    mp_design d;
    mp_error err;
    ck_assert_int_eq(build(t, &e, "dsgn", &d, &err), MP_OK);
    ck_assert_uint_eq(d.p, 4);
    ck_assert_str_eq(d.names[1], "dsgnalpha");
    ck_assert_str_eq(d.names[2], "dsgnAlpha");
    ck_assert_str_eq(d.names[3], "dsgnbeta");
    /* row 0 is "beta": dummies (0, 0, 1); row 2 is "Alpha": (0, 1, 0); row 3
     * is the reference "_x" */
    ck_assert_rel(d.X[0 + 1 * d.k], 0, 0);
    ck_assert_rel(d.X[0 + 2 * d.k], 0, 0);
    ck_assert_rel(d.X[0 + 3 * d.k], 1, 0);
    ck_assert_rel(d.X[2 + 1 * d.k], 0, 0);
    ck_assert_rel(d.X[2 + 2 * d.k], 1, 0);
    ck_assert_rel(d.X[2 + 3 * d.k], 0, 0);
    for (size_t j = 1; j < 4; j++) ck_assert_rel(d.X[3 + j * d.k], 0, 0);
    mp_design_free(&d);

    /* factor() of a numeric column: levels by value (9 < 9.5 < 10) as R's
     * factor() of a numeric vector, not byte order ("10" < "9") */
    ck_assert_int_eq(build(t, &e, " factor( dose ) ", &d, &err), MP_OK);
    ck_assert_uint_eq(d.p, 3);
    ck_assert_str_eq(d.names[1], "factor(dose)9.5");
    ck_assert_str_eq(d.names[2], "factor(dose)10");
    ck_assert_rel(d.X[0 + 2 * d.k], 1, 0);
    mp_design_free(&d);

    /* numeric column as it is, two moderators in order */
    ck_assert_int_eq(build(t, &e, "dose;dsgn", &d, &err), MP_OK);
    ck_assert_uint_eq(d.p, 5);
    ck_assert_str_eq(d.names[1], "dose");
    ck_assert_str_eq(d.names[2], "dsgnalpha");
    ck_assert_rel(d.X[1 + 1 * d.k], 9, 0);
    mp_design_free(&d);
    mp_effects_free(&e);
    mp_table_free(t);
}
END_TEST

/* R's sort() order of tricky level sets (tests/reference/collate/sorted.tsv,
 * made by gen.R there with R's ICU collator): each set, given reversed and
 * in every rotation, sorts back to R's order with mp_collate_cmp(). */
static int cmp_coll(const void *a, const void *b)
{
    return mp_collate_cmp(*(const char *const *)a, *(const char *const *)b);
}

START_TEST(test_levels_r_collation)
{
    size_t len = 0;
    char *txt = tu_slurp(tu_src("tests/reference/collate/sorted.tsv"), &len);
    ck_assert_ptr_nonnull(txt);
    size_t nsets = 0;
    for (char *line = strtok(txt, "\n"); line; line = strtok(NULL, "\n")) {
        const char *want[64], *got[64];
        size_t n = 0;
        for (char *p = line; n < 64;) {
            want[n++] = p;
            char *tab = strchr(p, '\t');
            if (!tab) break;
            *tab = '\0';
            p = tab + 1;
        }
        ck_assert_uint_ge(n, 3);
        for (size_t r = 0; r <= n; r++) { /* r = n: reversed; else rotated by r */
            for (size_t i = 0; i < n; i++) got[i] = r == n ? want[n - 1 - i] : want[(i + r) % n];
            qsort(got, n, sizeof *got, cmp_coll);
            for (size_t i = 0; i < n; i++)
                ck_assert_msg(strcmp(got[i], want[i]) == 0, "set %zu, place %zu: '%s', R has '%s'",
                              nsets + 1, i + 1, got[i], want[i]);
        }
        /* pairwise: antisymmetric, and 0 only for equal strings */
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++) {
                int c = mp_collate_cmp(want[i], want[j]);
                ck_assert_int_eq(c, i < j ? -1 : i > j ? 1 : 0);
            }
        nsets++;
    }
    ck_assert_uint_eq(nsets, 14);
    free(txt);
}
END_TEST

/* ---- 5. documented errors ---------------------------------------------- */

START_TEST(test_no_residual_df)
{
    /* p = k: three studies, intercept + a two-level factor + a number */
    static const char csv[] = "yi,vi,g,x\n0.1,0.1,a,1\n0.5,0.2,b,2\n0.2,0.1,a,4\n";
    mp_effects e;
    mp_table *t = load_mem(csv, &e, MP_MEASURE_GEN);
    mp_design d;
    mp_error err;
    ck_assert_int_eq(build(t, &e, "g;x", &d, &err), MP_ETOOFEW);
    ck_assert_ptr_nonnull(strstr(err.msg, "no residual degrees of freedom"));
    ck_assert_ptr_null(d.X);
    /* and the library entry point itself */
    const double y[] = {1, 2}, v[] = {1, 1}, X[] = {1, 1, 0, 1};
    mp_reg_result r;
    ck_assert_int_eq(mp_reg_fit(y, v, X, 2, 2, NULL, &r), MP_ETOOFEW);
    mp_reg_result_free(&r);
    mp_effects_free(&e);
    mp_table_free(t);
}
END_TEST

START_TEST(test_collinear)
{
    /* x2 = 2 x1 + 1: collinear with the intercept and x1; c is constant */
    static const char csv[] = "yi,vi,x1,x2,c\n0.1,0.1,1,3,5\n0.5,0.2,2,5,5\n0.2,0.1,4,9,5\n"
                              "0.7,0.3,3,7,5\n0.3,0.1,5,11,5\n";
    mp_effects e;
    mp_table *t = load_mem(csv, &e, MP_MEASURE_GEN);
    mp_design d;
    mp_error err;
    ck_assert_int_eq(build(t, &e, "x1;x2", &d, &err), MP_ESING);
    ck_assert_ptr_nonnull(strstr(err.msg, "'x2'"));
    ck_assert_int_eq(build(t, &e, "c", &d, &err), MP_ESING);
    ck_assert_ptr_nonnull(strstr(err.msg, "'c'"));
    /* a repeated term is one term (R formula), a multiple of a column is collinear */
    ck_assert_int_eq(build(t, &e, "x1;I(2 * x1)", &d, &err), MP_ESING);
    ck_assert_ptr_nonnull(strstr(err.msg, "'I(2 * x1)'"));
    /* the rank check and the fit on a raw matrix */
    const double X[] = {1, 1, 1, 1, 1, 1, 2, 4, 3, 5, 3, 5, 9, 7, 11};
    const double y[] = {0.1, 0.5, 0.2, 0.7, 0.3}, v[] = {0.1, 0.2, 0.1, 0.3, 0.1};
    size_t col = 99;
    ck_assert_int_eq(mp_reg_check_rank(X, 5, 3, 0, &col), MP_ESING);
    ck_assert_uint_eq(col, 2);
    ck_assert_int_eq(mp_reg_check_rank(X, 5, 2, 0, &col), MP_OK);
    mp_reg_result r;
    ck_assert_int_eq(mp_reg_fit(y, v, X, 5, 3, NULL, &r), MP_ESING);
    mp_reg_result_free(&r);
    mp_effects_free(&e);
    mp_table_free(t);
}
END_TEST

START_TEST(test_single_level_factor)
{
    static const char csv[] = "yi,vi,g\n0.1,0.1,a\n0.5,0.2,a\n0.2,0.1,a\n0.4,0.1,a\n";
    mp_effects e;
    mp_table *t = load_mem(csv, &e, MP_MEASURE_GEN);
    mp_design d;
    mp_error err;
    ck_assert_int_eq(build(t, &e, "g", &d, &err), MP_ESING);
    ck_assert_ptr_nonnull(strstr(err.msg, "single level 'a'"));
    mp_effects_free(&e);
    mp_table_free(t);
}
END_TEST

START_TEST(test_na_moderator_row)
{
    /* row 3 (line 4) has NA in x; row 5 (line 6) has NA in yi (the loader
     * leaves it out); 4 rows remain */
    static const char csv[] = "yi,vi,x\n0.1,0.1,1\n0.5,0.2,2\n0.2,0.1,NA\n0.7,0.3,3\nNA,0.1,5\n"
                              "0.3,0.1,5\n";
    mp_effects e;
    mp_table *t = load_mem(csv, &e, MP_MEASURE_GEN);
    ck_assert_uint_eq(e.k, 5);
    mp_design d;
    mp_error err;
    ck_assert_int_eq(build(t, &e, "x", &d, &err), MP_OK);
    ck_assert_uint_eq(d.k, 4);
    ck_assert_uint_eq(d.warnings.n, 1);
    ck_assert_ptr_nonnull(strstr(d.warnings.v[0], "row 3 (line 4)"));
    ck_assert_ptr_nonnull(strstr(d.warnings.v[0], "'x'"));
    ck_assert_uint_eq(d.row[2], 3);
    ck_assert_uint_eq(d.row[3], 5);
    ck_assert_rel(d.X[3 + d.k], 5, 0);
    ck_assert_rel(d.y[3], 0.3, 0);
    mp_design_free(&d);
    mp_effects_free(&e);
    mp_table_free(t);
}
END_TEST

START_TEST(test_bad_cells)
{
    /* a non-numeric cell in an otherwise numeric column: file:line:col */
    static const char csv[] = "yi,vi,x\n0.1,0.1,1\n0.5,0.2,2\n0.2,0.1,abc\n0.7,0.3,3\n0.4,0.1,1\n";
    mp_effects e;
    mp_table *t = load_mem(csv, &e, MP_MEASURE_GEN);
    mp_design d;
    mp_error err;
    ck_assert_int_eq(build(t, &e, "x", &d, &err), MP_EPARSE);
    ck_assert_str_eq(err.file, "mem.csv");
    ck_assert_uint_eq(err.line, 4);
    ck_assert_uint_eq(err.col, 9);
    ck_assert_ptr_nonnull(strstr(err.msg, "abc"));
    /* factor(x) makes it categorical, which is then fine */
    ck_assert_int_eq(build(t, &e, "factor(x)", &d, &err), MP_OK);
    ck_assert_uint_eq(d.p, 4);
    ck_assert_str_eq(d.names[3], "factor(x)abc");
    mp_design_free(&d);
    /* a missing column is named */
    ck_assert_int_eq(build(t, &e, "nope", &d, &err), MP_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "'nope'"));
    ck_assert_int_eq(build(t, &e, "factor(nope)", &d, &err), MP_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "'nope'"));
    mp_effects_free(&e);
    mp_table_free(t);
}
END_TEST

START_TEST(test_fit_argument_errors)
{
    const double X[] = {1, 1, 1, 1, 0, 1, 0, 1};
    const double y[] = {0.1, 0.5, 0.2, 0.7}, v[] = {0.1, 0.2, 0.1, 0.3};
    const double vbad[] = {0.1, 0.0, 0.1, 0.3}, ybad[] = {0.1, NAN, 0.2, 0.7};
    mp_reg_result r;
    ck_assert_int_eq(mp_reg_fit(NULL, v, X, 4, 2, NULL, &r), MP_EINVAL);
    mp_reg_result_free(&r);
    ck_assert_int_eq(mp_reg_fit(y, v, X, 4, 0, NULL, &r), MP_EINVAL);
    mp_reg_result_free(&r);
    ck_assert_int_eq(mp_reg_fit(y, vbad, X, 4, 2, NULL, &r), MP_EDOM);
    mp_reg_result_free(&r);
    ck_assert_int_eq(mp_reg_fit(ybad, v, X, 4, 2, NULL, &r), MP_EDOM);
    mp_reg_result_free(&r);
    mp_reg_opts o;
    mp_reg_opts_init(&o);
    o.level = 100;
    ck_assert_int_eq(mp_reg_fit(y, v, X, 4, 2, &o, &r), MP_EINVAL);
    mp_reg_result_free(&r);
    ck_assert_int_eq(mp_reg_fit(y, v, X, 4, 2, NULL, NULL), MP_EINVAL);
}
END_TEST

/* ---- 6. non-convergence ------------------------------------------------- */

static const mp_method noconv_methods[] = {MP_METHOD_REML, MP_METHOD_ML, MP_METHOD_EB,
                                           MP_METHOD_PM};

START_TEST(test_no_convergence)
{
    mp_effects e;
    mp_table *t = load_ref("data/bcg_rr.csv", &e, MP_MEASURE_RR);
    mp_design d;
    mp_error err;
    ck_assert_int_eq(build(t, &e, "ablat", &d, &err), MP_OK);
    mp_reg_opts o;
    mp_reg_opts_init(&o);
    o.method = noconv_methods[_i];
    o.maxiter = 1;
    mp_reg_result r;
    ck_assert_int_eq(mp_reg_fit(d.y, d.v, d.X, d.k, d.p, &o, &r), MP_ENOCONV);
    ck_assert_int_eq(r.converged, 0);
    ck_assert_uint_eq(r.niter, 1);
    ck_assert(isnan(r.tau2) && isnan(r.beta[0]) && isnan(r.se[1]));
    ck_assert_rel(r.QE, ref_QE, REF_RTOL); /* QE does not depend on the estimator */
    mp_reg_result_free(&r);
    /* and with the default limit it converges */
    o.maxiter = 1000;
    ck_assert_int_eq(mp_reg_fit(d.y, d.v, d.X, d.k, d.p, &o, &r), MP_OK);
    ck_assert(r.converged && r.niter > 1);
    mp_reg_result_free(&r);
    mp_design_free(&d);
    mp_effects_free(&e);
    mp_table_free(t);
}
END_TEST

/* ---- 7. CLI ---------------------------------------------------------------- */

static int run(const char *args, char **out, char **err)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s reg %s", MP_METAPOOL_BIN, args);
    return tu_run(cmd, out, err);
}

START_TEST(test_cli)
{
    char args[2048], *out = NULL, *err = NULL;
    const char *bcg = tu_ref("data/bcg_rr.csv");
    char path[1024];
    snprintf(path, sizeof path, "%s", bcg);

    snprintf(args, sizeof args, "%s --measure RR --mods ablat,nope", path);
    ck_assert_int_eq(run(args, &out, &err), 2);
    ck_assert_ptr_nonnull(strstr(err, "'nope'"));
    free(out); free(err);

    snprintf(args, sizeof args, "%s --measure RR", path);
    ck_assert_int_eq(run(args, &out, &err), 2);
    ck_assert_ptr_nonnull(strstr(err, "--mods"));
    free(out); free(err);

    snprintf(args, sizeof args, "%s --measure RR --mods 'ablat,I(ablat/2)'", path);
    ck_assert_int_eq(run(args, &out, &err), 1);
    ck_assert_ptr_nonnull(strstr(err, "linear combination"));
    free(out); free(err);

    snprintf(args, sizeof args, "%s --measure RR --mods ablat --method ML --maxiter 1", path);
    ck_assert_int_eq(run(args, &out, &err), 1);
    ck_assert_ptr_nonnull(strstr(err, "ML estimator"));
    free(out); free(err);

    snprintf(args, sizeof args, "%s --measure RR --mods ablat --method XX", path);
    ck_assert_int_eq(run(args, &out, &err), 2);
    free(out); free(err);

    snprintf(args, sizeof args, "%s --measure RR --mods ablat,alloc --test knha --format json",
             path);
    ck_assert_int_eq(run(args, &out, &err), 0);
    static const char *keys[] = {"\"coef\"", "\"name\": \"allocrandom\"", "\"tau2\"",
                                 "\"tau2_se\"", "\"I2\"", "\"H2\"", "\"R2\"", "\"QE\"",
                                 "\"QE_df\": 9", "\"QE_pval\"", "\"QM\"", "\"QM_df\": 3",
                                 "\"QM_pval\"", "\"df\": 9", "\"k\": 13", "\"p\": 4"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        ck_assert_msg(strstr(out, keys[i]) != NULL, "JSON lacks %s", keys[i]);
    free(out); free(err);

    /* a bad moderator cell: exit 2 with file:line:col */
    static const char csv[] = "yi,vi,x\n0.1,0.1,1\n0.5,0.2,2\n0.2,0.1,abc\n0.7,0.3,3\n";
    char *tmp = tu_tmpfile(csv, strlen(csv));
    snprintf(args, sizeof args, "%s --mods x", tmp);
    ck_assert_int_eq(run(args, &out, &err), 2);
    ck_assert_ptr_nonnull(strstr(err, ":4:9:"));
    free(out); free(err);
    unlink(tmp);
    free(tmp);
}
END_TEST

static Suite *reg_suite(void)
{
    Suite *s = suite_create("reg");
    TCase *tc = tcase_create("metafor");
    tcase_add_loop_test(tc, test_reference, 0, 2);
    suite_add_tcase(s, tc);
    tc = tcase_create("pool");
    tcase_add_loop_test(tc, test_intercept_only_equals_pool, 0,
                        (int)(sizeof pool_data / sizeof pool_data[0]) * MP_METHOD_COUNT * 2);
    suite_add_tcase(s, tc);
    tc = tcase_create("closed_forms");
    tcase_add_test(tc, test_fe_dummy_closed_form);
    tcase_add_test(tc, test_dl_dummy_closed_form);
    tcase_add_test(tc, test_fe_extreme_exact);
    suite_add_tcase(s, tc);
    tc = tcase_create("design");
    tcase_add_test(tc, test_levels_order_and_names);
    tcase_add_test(tc, test_levels_r_collation);
    tcase_add_test(tc, test_na_moderator_row);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, test_no_residual_df);
    tcase_add_test(tc, test_collinear);
    tcase_add_test(tc, test_single_level_factor);
    tcase_add_test(tc, test_bad_cells);
    tcase_add_test(tc, test_fit_argument_errors);
    tcase_add_loop_test(tc, test_no_convergence, 0,
                        (int)(sizeof noconv_methods / sizeof noconv_methods[0]));
    suite_add_tcase(s, tc);
    tc = tcase_create("cli");
    tcase_add_test(tc, test_cli);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    gsl_set_error_handler_off();
    SRunner *sr = srunner_create(reg_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
