/* tests/test_traj.c - time-trajectory fits against metafor and models they reduce to.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Sources of the expected values:
 *  - tests/reference/ishak2007_mv.json: R metafor 3.8-1, rma.mv(yi, V,
 *    mods = ~ factor(time) - 1, random = ~ time | study, struct = "AR" / "CS")
 *    with V = vcalc(vi, cluster = study, time1 = time, phi = 0.97), converged
 *    to 1e-13; numbers copied below with their provenance.
 *  - identities derived by hand in the comments: structures that coincide
 *    (AR = CS with two times, CAR = AR on equally spaced times, ...), models
 *    that decouple into separate rma.uni fits (checked against mp_pool,
 *    itself tested against metafor in test_pool.c), reparameterisations of
 *    the fixed part, and the invariance of the restricted likelihood when a
 *    row carries its own free mean. */
#include "testutil.h"
#include "metapool/metapool.h"

#include <gsl/gsl_errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- data ------------------------------------------------------------ */

typedef struct data {
    size_t k;
    double y[256], v[256], t[256];
    size_t s[256];
} data;

/* Read yi, vi, the time column and study labels (-> ids) from a CSV. */
static void load_csv(const char *path, const char *tcol, data *d)
{
    mp_table *t = NULL;
    mp_error err;
    ck_assert_int_eq(mp_table_read(path, &t, &err), MP_OK);
    long cy = mp_table_col(t, "yi"), cv = mp_table_col(t, "vi"), ct = mp_table_col(t, tcol),
         cs = mp_table_col(t, "study");
    ck_assert(cy >= 0 && cv >= 0 && ct >= 0 && cs >= 0);
    d->k = mp_table_nrows(t);
    ck_assert(d->k <= 256);
    for (size_t i = 0; i < d->k; i++) {
        ck_assert_int_eq(mp_table_number(t, i, (size_t)cy, &d->y[i], &err), MP_OK);
        ck_assert_int_eq(mp_table_number(t, i, (size_t)cv, &d->v[i], &err), MP_OK);
        ck_assert_int_eq(mp_table_number(t, i, (size_t)ct, &d->t[i], &err), MP_OK);
        d->s[i] = i;
        for (size_t j = 0; j < i; j++)
            if (strcmp(mp_table_cell(t, i, (size_t)cs), mp_table_cell(t, j, (size_t)cs)) == 0) {
                d->s[i] = d->s[j];
                break;
            }
    }
    mp_table_free(t);
}

static void ishak(data *d, const char *tcol) { load_csv(tu_ref("data/ishak2007_long.csv"), tcol, d); }

/* Keep the rows whose time is in keep[0..n). */
static void subset_times(data *d, const double *keep, size_t n)
{
    size_t m = 0;
    for (size_t i = 0; i < d->k; i++)
        for (size_t j = 0; j < n; j++)
            if (d->t[i] == keep[j]) {
                d->y[m] = d->y[i]; d->v[m] = d->v[i]; d->t[m] = d->t[i]; d->s[m] = d->s[i];
                m++;
                break;
            }
    d->k = m;
}

static mp_status fit(const data *d, mp_traj_model m, mp_traj_struct st, double phi,
                     mp_traj_result *r)
{
    mp_traj_opts o;
    mp_traj_opts_init(&o);
    o.model = m;
    o.structure = st;
    o.phi = phi;
    mp_error err;
    mp_error_clear(&err);
    memset(r, 0, sizeof *r);
    return mp_traj_fit(d->y, d->v, d->t, d->s, d->k, &o, r, &err);
}

/* The BCG trials' log risk ratios (metafor dat.bcg), via our escalc. */
static void bcg(data *d)
{
    mp_table *t = NULL;
    mp_error err;
    ck_assert_int_eq(mp_table_read(tu_ref("data/bcg_rr.csv"), &t, &err), MP_OK);
    mp_es_opts eo;
    mp_es_opts_init(&eo);
    eo.measure = MP_MEASURE_RR;
    eo.measure_given = 1;
    mp_effects e;
    ck_assert_int_eq(mp_effects_compute(t, &eo, &e, &err), MP_OK);
    d->k = 0;
    for (size_t i = 0; i < e.n; i++) {
        if (!e.used[i]) continue;
        d->y[d->k] = e.yi[i];
        d->v[d->k] = e.vi[i];
        d->t[d->k] = 1.0;
        d->s[d->k] = d->k;
        d->k++;
    }
    mp_effects_free(&e);
    mp_table_free(t);
}

/* ---- metafor reference: Ishak et al. 2007, four times, phi = 0.97 ----- */

/* From tests/reference/ishak2007_mv.json (metafor 3.8-1, tol 1e-13). */
static const struct {
    mp_traj_struct st;
    double coef[4], se[4], tau2, rho, logLik, QE;
} ref[] = {
    {MP_TRAJ_AR,
     {-25.9417844070936, -27.3936900539753, -28.7053633039434, -26.3969965697057},
     {1.08360079584541, 1.05192969086942, 1.0497934988343, 1.34208158575651},
     26.6874837229067, 0.865613428118815, -232.270176684999, 856.163513075998},
    {MP_TRAJ_CS,
     {-25.941834347175, -27.3024428923589, -28.6561836138386, -26.5431267232947},
     {1.06503048281296, 1.07190539943075, 1.04314017481837, 1.31447207444843},
     26.8074083205891, 0.841990883729784, -232.808762011869, 856.163513075998}};

/* metafor stopped its optimiser at its own default tolerance; our fit goes
 * to the REML optimum (|score| < 1e-9).  On this flat likelihood (logLik
 * agrees to 1e-12) the variance parameters differ by about 4e-8 relative
 * and the coefficients by 3e-10; the tolerances leave a factor > 10. */
START_TEST(test_ishak_reference)
{
    data d;
    ishak(&d, "time");
    mp_traj_result r;
    ck_assert_int_eq(fit(&d, MP_TRAJ_FACTOR, ref[_i].st, 0.97, &r), MP_OK);
    ck_assert_uint_eq(r.k, 82);
    ck_assert_uint_eq(r.n_studies, 46);
    ck_assert_uint_eq(r.p, 4);
    ck_assert_str_eq(r.coef[0].name, "time=1");
    ck_assert_str_eq(r.coef[3].name, "time=4");
    for (size_t j = 0; j < 4; j++) {
        ck_assert_rel(r.coef[j].estimate, ref[_i].coef[j], 1e-8);
        ck_assert_rel(r.coef[j].se, ref[_i].se[j], 1e-7);
    }
    ck_assert_uint_eq(r.n_tau2, 1);
    ck_assert_rel(r.tau2[0], ref[_i].tau2, 1e-6);
    ck_assert_rel(r.rho, ref[_i].rho, 1e-6);
    ck_assert_rel(r.logLik, ref[_i].logLik, 1e-11);
    ck_assert_rel(r.QE, ref[_i].QE, 1e-11);
    ck_assert_rel(r.QE_df, 78, 0);
    ck_assert(r.converged && r.grad_max <= 1e-9);
    mp_traj_result_free(&r);
}
END_TEST

/* ---- one effect per study: every structure is rma.uni ----------------- */

/* With one effect per study the blocks are 1 x 1: M_s = v_s + tau2 for every
 * structure (rho has nothing to act on and is fixed at 0; INT's sigma2 plays
 * tau2's part), and with one time the factor model is the intercept, so the
 * fit is rma(yi, vi, method = "REML").  Its restricted log-likelihood is
 * -(k-1)/2 log 2pi + 1/2 log k - 1/2 sum log(v+tau2) - 1/2 log sum w - 1/2 Q(tau2). */
START_TEST(test_single_effect_studies_equal_pool)
{
    data d;
    bcg(&d);
    mp_pool_opts po;
    mp_pool_opts_init(&po);
    mp_pool_result pr;
    ck_assert_int_eq(mp_pool(d.y, d.v, d.k, &po, NULL, &pr), MP_OK);
    double ll = -0.5 * (double)(d.k - 1) * log(2 * 3.14159265358979323846) + 0.5 * log((double)d.k), sw = 0, q = 0;
    for (size_t i = 0; i < d.k; i++) {
        double w = 1 / (d.v[i] + pr.tau2);
        ll -= 0.5 * log(d.v[i] + pr.tau2);
        sw += w;
        q += w * (d.y[i] - pr.estimate) * (d.y[i] - pr.estimate);
    }
    ll -= 0.5 * log(sw) + 0.5 * q;
    mp_traj_struct st = (mp_traj_struct)_i;
    mp_traj_result r;
    ck_assert_int_eq(fit(&d, MP_TRAJ_FACTOR, st, 0.5, &r), MP_OK);
    ck_assert_rel(r.tau2[0], pr.tau2, 1e-6);
    ck_assert_rel(r.coef[0].estimate, pr.estimate, 1e-6);
    ck_assert_rel(r.coef[0].se, pr.se, 1e-6);
    ck_assert_rel(r.logLik, ll, 1e-9);
    if (st != MP_TRAJ_INT && st != MP_TRAJ_ID) {
        ck_assert(r.warn & MP_TRAJ_WARN_RHO_FIXED);
        ck_assert(r.rho == 0.0);
    } else {
        ck_assert(isnan(r.rho));
    }
    mp_traj_result_free(&r);
}
END_TEST

/* ---- optima on a bound ---------------------------------------------------- */

/* Homogeneous effects (spread far below their standard errors), one per
 * study at one time: REML puts tau2 on its bound 0 (mp_pool agrees) and the
 * fit is the fixed-effect mean sum(y/v)/sum(1/v) with se 1/sqrt(sum 1/v).
 * tau2 must come out exactly 0, flagged, and the fit converged. */
START_TEST(test_bound_tau2_zero)
{
    data d;
    d.k = 8;
    double sw = 0, swy = 0;
    for (size_t i = 0; i < d.k; i++) {
        d.y[i] = 0.3 + 0.01 * ((double)((i * 5) % 7) - 3.0);
        d.v[i] = 0.05 + 0.02 * (double)i;
        d.t[i] = 2.0;
        d.s[i] = i;
        sw += 1 / d.v[i];
        swy += d.y[i] / d.v[i];
    }
    mp_pool_opts po;
    mp_pool_opts_init(&po);
    mp_pool_result pr;
    ck_assert_int_eq(mp_pool(d.y, d.v, d.k, &po, NULL, &pr), MP_OK);
    ck_assert(pr.tau2 == 0.0);
    mp_traj_result r;
    ck_assert_int_eq(fit(&d, MP_TRAJ_FACTOR, (mp_traj_struct)_i, 0, &r), MP_OK);
    ck_assert(r.tau2[0] == 0.0);
    ck_assert(r.warn & MP_TRAJ_WARN_BOUNDARY);
    ck_assert(r.converged);
    ck_assert_rel(r.coef[0].estimate, swy / sw, 1e-12);
    ck_assert_rel(r.coef[0].se, 1 / sqrt(sw), 1e-12);
    mp_traj_result_free(&r);
}
END_TEST

/* Each study's two effects differ by exactly the same amount (y = mu_t +
 * u_s), so the within-study contrast has no spread beyond its sampling
 * error: REML drives CS's rho to its bound 1, where G = tau2 J is the
 * random intercept.  CS (and AR, the same model with two times) must then
 * equal INT: same tau2, logLik and means, with rho = 1 exactly. */
START_TEST(test_bound_rho_one_is_int)
{
    data d;
    d.k = 0;
    for (size_t s = 0; s < 10; s++) {
        double u = 0.4 * ((double)((s * 7) % 10) - 4.5) / 4.5;
        for (size_t j = 0; j < 2; j++) {
            d.y[d.k] = (j ? 0.2 : 0.5) + u;
            d.v[d.k] = 0.02 + 0.01 * (double)((s + j) % 3);
            d.t[d.k] = j ? 4.0 : 1.0;
            d.s[d.k++] = s;
        }
    }
    mp_traj_result in, cs, ar;
    ck_assert_int_eq(fit(&d, MP_TRAJ_FACTOR, MP_TRAJ_INT, 0, &in), MP_OK);
    ck_assert_int_eq(fit(&d, MP_TRAJ_FACTOR, MP_TRAJ_CS, 0, &cs), MP_OK);
    ck_assert_int_eq(fit(&d, MP_TRAJ_FACTOR, MP_TRAJ_AR, 0, &ar), MP_OK);
    ck_assert(cs.rho == 1.0 && ar.rho == 1.0);
    ck_assert(cs.warn & MP_TRAJ_WARN_BOUNDARY);
    ck_assert_rel(cs.tau2[0], in.tau2[0], 1e-7);
    ck_assert_rel(ar.tau2[0], in.tau2[0], 1e-7);
    ck_assert_rel(cs.logLik, in.logLik, 1e-12);
    for (size_t l = 0; l < 2; l++) ck_assert_rel(cs.coef[l].estimate, in.coef[l].estimate, 1e-9);
    mp_traj_result_free(&in);
    mp_traj_result_free(&cs);
    mp_traj_result_free(&ar);
}
END_TEST

/* ---- each study seen at one time only -------------------------------- */

/* Every study contributes one effect, at one of four times (the Ishak rows
 * with one effect kept per study).  M is diagonal and rho is fixed at 0.
 * HCS/HAR then have one tau2 per time and the factor model one mean per
 * time, so X, M and the REML likelihood split into the four time windows:
 * log|X'X| = sum log k_l, log|X'WX| = sum log sum_l w, RSS and log|M| add up,
 * k - p = sum (k_l - 1).  Each window's tau2 and mean are therefore the
 * separate rma.uni REML fits (mp_pool).  CS, AR, CAR and ID (one tau2)
 * coincide with each other. */
START_TEST(test_study_seen_at_one_time)
{
    data d0, d;
    ishak(&d0, "time");
    d.k = 0;
    for (size_t i = 0; i < d0.k; i++) {
        int seen = 0;
        for (size_t j = 0; j < d.k; j++) seen |= d.s[j] == d0.s[i];
        if (seen) continue;
        d.y[d.k] = d0.y[i]; d.v[d.k] = d0.v[i]; d.t[d.k] = d0.t[i]; d.s[d.k] = d0.s[i];
        d.k++;
    }
    ck_assert_uint_eq(d.k, 46);
    mp_traj_result r, r2;
    for (int het = 0; het < 2; het++) {
        ck_assert_int_eq(fit(&d, MP_TRAJ_FACTOR, het ? MP_TRAJ_HAR : MP_TRAJ_HCS, 0.97, &r), MP_OK);
        ck_assert_uint_eq(r.n_tau2, 4);
        ck_assert(r.warn & MP_TRAJ_WARN_RHO_FIXED);
        for (size_t l = 0; l < 4; l++) {
            double y[64], v[64];
            size_t n = 0;
            for (size_t i = 0; i < d.k; i++)
                if (d.t[i] == r.times[l]) { y[n] = d.y[i]; v[n] = d.v[i]; n++; }
            mp_pool_opts po;
            mp_pool_opts_init(&po);
            mp_pool_result pr;
            ck_assert_int_eq(mp_pool(y, v, n, &po, NULL, &pr), MP_OK);
            if (pr.tau2 > 0) ck_assert_rel(r.tau2[l], pr.tau2, 1e-6);
            else ck_assert(r.tau2[l] < 1e-8);
            ck_assert_rel(r.coef[l].estimate, pr.estimate, 1e-6);
            ck_assert_rel(r.coef[l].se, pr.se, 1e-6);
        }
        mp_traj_result_free(&r);
    }
    ck_assert_int_eq(fit(&d, MP_TRAJ_FACTOR, MP_TRAJ_ID, 0.97, &r), MP_OK);
    const mp_traj_struct same[] = {MP_TRAJ_CS, MP_TRAJ_AR, MP_TRAJ_CAR, MP_TRAJ_INT};
    for (size_t j = 0; j < 4; j++) {
        ck_assert_int_eq(fit(&d, MP_TRAJ_FACTOR, same[j], 0.97, &r2), MP_OK);
        ck_assert_rel(r2.tau2[0], r.tau2[0], 1e-7);
        ck_assert_rel(r2.logLik, r.logLik, 1e-12);
        for (size_t l = 0; l < 4; l++) ck_assert_rel(r2.coef[l].estimate, r.coef[l].estimate, 1e-8);
        mp_traj_result_free(&r2);
    }
    mp_traj_result_free(&r);
}
END_TEST

/* ---- AR with two times is CS ------------------------------------------ */

/* With L = 2 time levels the only rank lag is 1, so AR's G = tau2 [1 rho;
 * rho 1] = CS's G, with the same parameter space (rho in (-1, 1), atanh
 * scale): the two fits are the same model and must coincide.  Likewise HAR
 * = HCS.  CAR with the two times d apart has G_12 = tau2 rho_CAR^d, the same
 * model for rho >= 0, so rho_CAR = rho_CS^(1/d) and the rest is equal. */
START_TEST(test_two_times_ar_equals_cs)
{
    data d;
    ishak(&d, "months");
    const double keep[] = {3, 12};
    subset_times(&d, keep, 2);
    mp_traj_result ar, cs, har, hcs, car;
    ck_assert_int_eq(fit(&d, MP_TRAJ_FACTOR, MP_TRAJ_AR, 0.97, &ar), MP_OK);
    ck_assert_int_eq(fit(&d, MP_TRAJ_FACTOR, MP_TRAJ_CS, 0.97, &cs), MP_OK);
    ck_assert_int_eq(fit(&d, MP_TRAJ_FACTOR, MP_TRAJ_HAR, 0.97, &har), MP_OK);
    ck_assert_int_eq(fit(&d, MP_TRAJ_FACTOR, MP_TRAJ_HCS, 0.97, &hcs), MP_OK);
    ck_assert_int_eq(fit(&d, MP_TRAJ_FACTOR, MP_TRAJ_CAR, 0.97, &car), MP_OK);
    ck_assert(cs.rho > 0 && cs.rho < 1);
    ck_assert_rel(ar.tau2[0], cs.tau2[0], 1e-7);
    ck_assert_rel(ar.rho, cs.rho, 1e-7);
    ck_assert_rel(ar.logLik, cs.logLik, 1e-12);
    ck_assert_rel(car.tau2[0], cs.tau2[0], 1e-7);
    ck_assert_rel(car.rho, pow(cs.rho, 1.0 / 9.0), 1e-7);
    ck_assert_rel(car.logLik, cs.logLik, 1e-12);
    for (size_t l = 0; l < 2; l++) {
        ck_assert_rel(ar.coef[l].estimate, cs.coef[l].estimate, 1e-9);
        ck_assert_rel(ar.coef[l].se, cs.coef[l].se, 1e-7);
        ck_assert_rel(car.coef[l].estimate, cs.coef[l].estimate, 1e-9);
        ck_assert_rel(har.tau2[l], hcs.tau2[l], 1e-7);
        ck_assert_rel(har.coef[l].estimate, hcs.coef[l].estimate, 1e-9);
    }
    ck_assert_rel(har.rho, hcs.rho, 1e-7);
    ck_assert_rel(har.logLik, hcs.logLik, 1e-12);
    /* nesting: HCS contains CS, so its optimum is at least as high */
    ck_assert(hcs.logLik >= cs.logLik - 1e-9);
    mp_traj_result_free(&ar); mp_traj_result_free(&cs); mp_traj_result_free(&har);
    mp_traj_result_free(&hcs); mp_traj_result_free(&car);
}
END_TEST

/* ---- CAR on equally spaced times is AR -------------------------------- */

/* Times 1, 2, 3, 4: rank lags equal time lags, so CAR's G = AR's G; both
 * fits agree when AR's rho is in [0, 1) (here 0.87).  With the times doubled
 * (2, 4, 6, 8) and phi replaced by sqrt(phi) V is unchanged and CAR's
 * rho^|2 dt| = AR's rho^|dt|, i.e. rho_CAR = sqrt(rho_AR). */
START_TEST(test_car_equally_spaced_equals_ar)
{
    data d;
    ishak(&d, "time");
    mp_traj_result ar, car, car2;
    ck_assert_int_eq(fit(&d, MP_TRAJ_FACTOR, MP_TRAJ_AR, 0.97, &ar), MP_OK);
    ck_assert_int_eq(fit(&d, MP_TRAJ_FACTOR, MP_TRAJ_CAR, 0.97, &car), MP_OK);
    for (size_t i = 0; i < d.k; i++) d.t[i] *= 2;
    ck_assert_int_eq(fit(&d, MP_TRAJ_FACTOR, MP_TRAJ_CAR, sqrt(0.97), &car2), MP_OK);
    ck_assert_rel(car.rho, ar.rho, 1e-7);
    ck_assert_rel(car.tau2[0], ar.tau2[0], 1e-7);
    ck_assert_rel(car.logLik, ar.logLik, 1e-12);
    ck_assert_rel(car2.rho, sqrt(ar.rho), 1e-7);
    ck_assert_rel(car2.tau2[0], ar.tau2[0], 1e-7);
    ck_assert_rel(car2.logLik, ar.logLik, 1e-11);
    for (size_t l = 0; l < 4; l++) {
        ck_assert_rel(car.coef[l].estimate, ar.coef[l].estimate, 1e-9);
        ck_assert_rel(car2.coef[l].estimate, ar.coef[l].estimate, 1e-9);
        ck_assert_rel(car2.coef[l].se, ar.coef[l].se, 1e-7);
    }
    ck_assert_str_eq(car2.coef[0].name, "time=2");
    mp_traj_result_free(&ar); mp_traj_result_free(&car); mp_traj_result_free(&car2);
}
END_TEST

/* ---- nesting of the structures ----------------------------------------- */

/* CS contains ID (rho = 0) and INT (rho = 1, the limit); HCS contains CS;
 * HAR contains AR.  A fit at the optimum can't be beaten by a special case. */
START_TEST(test_structure_nesting)
{
    data d;
    ishak(&d, "time");
    mp_traj_result r[MP_TRAJ_STRUCT_COUNT];
    for (int s = 0; s < MP_TRAJ_STRUCT_COUNT; s++)
        ck_assert_int_eq(fit(&d, MP_TRAJ_FACTOR, (mp_traj_struct)s, 0.97, &r[s]), MP_OK);
    ck_assert(r[MP_TRAJ_CS].logLik >= r[MP_TRAJ_ID].logLik - 1e-9);
    ck_assert(r[MP_TRAJ_CS].logLik >= r[MP_TRAJ_INT].logLik - 1e-9);
    ck_assert(r[MP_TRAJ_HCS].logLik >= r[MP_TRAJ_CS].logLik - 1e-9);
    ck_assert(r[MP_TRAJ_HAR].logLik >= r[MP_TRAJ_AR].logLik - 1e-9);
    ck_assert_uint_eq(r[MP_TRAJ_HCS].n_tau2, 4);
    ck_assert_uint_eq(r[MP_TRAJ_HAR].n_tau2, 4);
    for (int s = 0; s < MP_TRAJ_STRUCT_COUNT; s++) {
        ck_assert(r[s].converged);
        ck_assert_rel(r[s].QE, 856.163513075998, 1e-11); /* QE uses V only (metafor) */
        mp_traj_result_free(&r[s]);
    }
}
END_TEST

/* ---- HCS with equal variances is CS ------------------------------------ */

/* Two times, each study's pair mirrored by a twin study with the two
 * effects swapped (same variances).  The likelihood is then invariant under
 * swapping the times' means and variances, so the (unique) HCS optimum has
 * tau2_1 = tau2_2 and equals the CS fit. */
START_TEST(test_hcs_equal_variances_is_cs)
{
    data d;
    static const double a[] = {0.8, 0.3, 1.1, -0.2, 0.5, 0.9, 0.1, 1.4};
    static const double b[] = {0.5, 0.6, 0.4, 0.3, 1.2, 0.2, 0.7, 0.9};
    static const double va[] = {0.04, 0.09, 0.05, 0.12, 0.07, 0.03, 0.10, 0.06};
    static const double vb[] = {0.06, 0.05, 0.08, 0.04, 0.09, 0.07, 0.05, 0.11};
    d.k = 0;
    for (size_t i = 0; i < 8; i++)
        for (int twin = 0; twin < 2; twin++) {
            size_t s = 2 * i + (size_t)twin;
            d.y[d.k] = twin ? b[i] : a[i]; d.v[d.k] = twin ? vb[i] : va[i]; d.t[d.k] = 1; d.s[d.k++] = s;
            d.y[d.k] = twin ? a[i] : b[i]; d.v[d.k] = twin ? va[i] : vb[i]; d.t[d.k] = 2; d.s[d.k++] = s;
        }
    mp_traj_result hcs, cs;
    ck_assert_int_eq(fit(&d, MP_TRAJ_FACTOR, MP_TRAJ_HCS, 0.3, &hcs), MP_OK);
    ck_assert_int_eq(fit(&d, MP_TRAJ_FACTOR, MP_TRAJ_CS, 0.3, &cs), MP_OK);
    ck_assert(cs.tau2[0] > 1e-3);
    ck_assert_rel(hcs.tau2[0], hcs.tau2[1], 1e-6);
    ck_assert_rel(hcs.tau2[0], cs.tau2[0], 1e-6);
    ck_assert_rel(hcs.rho, cs.rho, 1e-6);
    ck_assert_rel(hcs.logLik, cs.logLik, 1e-12);
    ck_assert_rel(hcs.coef[0].estimate, hcs.coef[1].estimate, 1e-9);
    ck_assert_rel(hcs.coef[0].estimate, cs.coef[0].estimate, 1e-9);
    mp_traj_result_free(&hcs);
    mp_traj_result_free(&cs);
}
END_TEST

/* ---- a time seen in one study only -------------------------------------- */

/* A new time level (48 months, after all others so AR's ranks don't move)
 * observed in one study only gets its own free mean in the factor model.
 * Error contrasts K'y with K'X = 0 then put zero weight on that row, so the
 * restricted likelihood - which with metafor's +1/2 log|X'X| term is the
 * density of orthonormal contrasts - is unchanged as a function of the
 * variance parameters: tau2, rho and logLik are the same as without the
 * row, and so are the other means (the row is fitted exactly by its own). */
START_TEST(test_time_seen_in_one_study)
{
    data d;
    ishak(&d, "months");
    const mp_traj_struct st[] = {MP_TRAJ_CS, MP_TRAJ_AR, MP_TRAJ_CAR, MP_TRAJ_ID, MP_TRAJ_INT};
    for (size_t j = 0; j < 5; j++) {
        data e = d;
        /* CAR works on months (rho per month); keep its lags moderate */
        mp_traj_result r0, r1;
        ck_assert_int_eq(fit(&e, MP_TRAJ_FACTOR, st[j], 0.97, &r0), MP_OK);
        e.y[e.k] = -20.0; e.v[e.k] = 9.0; e.t[e.k] = 48.0; e.s[e.k] = e.s[2]; /* Barichella (2003) */
        e.k++;
        ck_assert_int_eq(fit(&e, MP_TRAJ_FACTOR, st[j], 0.97, &r1), MP_OK);
        ck_assert_uint_eq(r1.p, 5);
        ck_assert_str_eq(r1.coef[4].name, "time=48");
        ck_assert(isfinite(r1.coef[4].se) && r1.coef[4].se > 0);
        ck_assert_rel(r1.tau2[0], r0.tau2[0], 1e-6);
        if (!isnan(r0.rho)) ck_assert_rel(r1.rho, r0.rho, 1e-6);
        ck_assert_rel(r1.logLik, r0.logLik, 1e-11);
        for (size_t l = 0; l < 4; l++) ck_assert_rel(r1.coef[l].estimate, r0.coef[l].estimate, 1e-8);
        mp_traj_result_free(&r0);
        mp_traj_result_free(&r1);
    }
}
END_TEST

/* ---- the fixed part: reparameterisations ------------------------------- */

/* With as many distinct times as coefficients, loglinear (2 times) and
 * quadratic (3 times) span the same column space as factor: X2 = X1 T. The
 * REML logLik changes by +1/2 log|T'T| in log|X'X| and -1/2 log|T'T| in
 * log|X'WX|, i.e. not at all; fitted values at the times are the factor
 * means.  A spline with K = 3 knots at four log-equally-spaced times (3, 6,
 * 12, 24 months) spans the quadratic's space on the data: with h the
 * spacing and knots at 0, 1.5h, 3h, the spline term at 0, h, 2h, 3h is
 * (0, 1, 7.75, 20.25) h^3, orthogonal to the cubic contrast (-1, 3, -3, 1). */
START_TEST(test_fixed_part_reparameterisation)
{
    data d2, d3, d4;
    ishak(&d2, "months");
    d3 = d2;
    d4 = d2;
    const double k2[] = {3, 12}, k3[] = {3, 6, 24};
    subset_times(&d2, k2, 2);
    subset_times(&d3, k3, 3);
    mp_traj_result f, g;
    ck_assert_int_eq(fit(&d2, MP_TRAJ_FACTOR, MP_TRAJ_CS, 0.97, &f), MP_OK);
    ck_assert_int_eq(fit(&d2, MP_TRAJ_LOGLINEAR, MP_TRAJ_CS, 0.97, &g), MP_OK);
    ck_assert_rel(g.logLik, f.logLik, 1e-12);
    ck_assert_rel(g.tau2[0], f.tau2[0], 1e-7);
    for (size_t l = 0; l < 2; l++) {
        mp_traj_point pt;
        ck_assert_int_eq(mp_traj_predict(&g, f.times[l], &pt), MP_OK);
        ck_assert_rel(pt.estimate, f.coef[l].estimate, 1e-9);
        ck_assert_rel(pt.se, f.coef[l].se, 1e-7);
    }
    ck_assert_str_eq(g.coef[1].name, "log(time)");
    mp_traj_result_free(&f);
    mp_traj_result_free(&g);

    ck_assert_int_eq(fit(&d3, MP_TRAJ_FACTOR, MP_TRAJ_AR, 0.97, &f), MP_OK);
    ck_assert_int_eq(fit(&d3, MP_TRAJ_QUADRATIC, MP_TRAJ_AR, 0.97, &g), MP_OK);
    ck_assert_rel(g.logLik, f.logLik, 1e-12);
    ck_assert_rel(g.rho, f.rho, 1e-7);
    for (size_t l = 0; l < 3; l++) {
        mp_traj_point pt;
        ck_assert_int_eq(mp_traj_predict(&g, f.times[l], &pt), MP_OK);
        ck_assert_rel(pt.estimate, f.coef[l].estimate, 1e-9);
    }
    mp_traj_result_free(&f);
    mp_traj_result_free(&g);

    ck_assert_int_eq(fit(&d4, MP_TRAJ_QUADRATIC, MP_TRAJ_AR, 0.97, &f), MP_OK);
    ck_assert_int_eq(fit(&d4, MP_TRAJ_SPLINE, MP_TRAJ_AR, 0.97, &g), MP_OK);
    ck_assert_uint_eq(g.n_knots, 3);
    ck_assert_rel(g.logLik, f.logLik, 1e-12);
    ck_assert_rel(g.tau2[0], f.tau2[0], 1e-7);
    ck_assert_uint_eq(g.n_curve, 50);
    for (size_t i = 0; i < g.n_curve; i += 7) {
        mp_traj_point pt;
        ck_assert_int_eq(mp_traj_predict(&f, g.curve[i].time, &pt), MP_OK);
        /* identical on the data; between the times the curves differ */
        (void)pt;
    }
    for (size_t l = 0; l < 4; l++) {
        mp_traj_point a, b;
        ck_assert_int_eq(mp_traj_predict(&f, f.times[l], &a), MP_OK);
        ck_assert_int_eq(mp_traj_predict(&g, f.times[l], &b), MP_OK);
        ck_assert_rel(b.estimate, a.estimate, 1e-9);
        ck_assert_rel(b.se, a.se, 1e-7);
    }
    /* natural spline: linear in log time beyond the last knot */
    mp_traj_point p1, p2, p3;
    double u = log(24.0);
    ck_assert_int_eq(mp_traj_predict(&g, exp(u + 1), &p1), MP_OK);
    ck_assert_int_eq(mp_traj_predict(&g, exp(u + 2), &p2), MP_OK);
    ck_assert_int_eq(mp_traj_predict(&g, exp(u + 3), &p3), MP_OK);
    ck_assert(fabs(p1.estimate - 2 * p2.estimate + p3.estimate) < 1e-9 * fabs(p2.estimate));
    mp_traj_result_free(&f);
    mp_traj_result_free(&g);
}
END_TEST

/* ---- curve features ----------------------------------------------------- */

/* Factor model: the curve is the means at the times; onset is the first time
 * whose CI excludes 0, peak the largest |mean|, offset none (all exclude 0). */
START_TEST(test_curve_features)
{
    data d;
    ishak(&d, "months");
    mp_traj_result r;
    ck_assert_int_eq(fit(&d, MP_TRAJ_FACTOR, MP_TRAJ_AR, 0.97, &r), MP_OK);
    ck_assert_uint_eq(r.n_curve, 4);
    size_t m = 0;
    for (size_t l = 0; l < 4; l++) {
        ck_assert(r.curve[l].time == r.times[l]);
        ck_assert(r.curve[l].estimate == r.coef[l].estimate);
        if (fabs(r.coef[l].estimate) > fabs(r.coef[m].estimate)) m = l;
    }
    ck_assert(r.onset == 3.0);
    ck_assert(r.peak == r.times[m]);
    ck_assert(isnan(r.offset));
    mp_traj_result_free(&r);

    /* a made-up rise and fall: effects 0, 1, 0.1 at times 1, 10, 100 with
     * small variances; the CI excludes 0 only in the middle */
    data e;
    e.k = 0;
    for (size_t s = 0; s < 6; s++) {
        const double t[] = {1, 10, 100}, mu[] = {0.0, 1.0, 0.02};
        for (size_t j = 0; j < 3; j++) {
            e.y[e.k] = mu[j] + 0.05 * ((double)((s * 7 + j * 3) % 5) - 2.0);
            e.v[e.k] = 0.04;
            e.t[e.k] = t[j];
            e.s[e.k++] = s;
        }
    }
    ck_assert_int_eq(fit(&e, MP_TRAJ_FACTOR, MP_TRAJ_CS, 0, &r), MP_OK);
    ck_assert(r.onset == 10.0);
    ck_assert(r.peak == 10.0);
    ck_assert(r.offset == 100.0);
    mp_traj_result_free(&r);
    ck_assert_int_eq(fit(&e, MP_TRAJ_QUADRATIC, MP_TRAJ_CS, 0, &r), MP_OK);
    ck_assert(r.onset > 1.0 && r.onset < 10.0);
    ck_assert(r.peak > 1.0 && r.peak < 100.0);
    ck_assert(r.offset > r.peak && r.offset < 100.0);
    mp_traj_point pt;
    ck_assert_int_eq(mp_traj_predict(&r, r.onset, &pt), MP_OK);
    ck_assert(fabs(pt.ci_lb * pt.ci_ub) < 1e-9); /* a bound crosses 0 there */
    ck_assert_int_eq(mp_traj_predict(&r, r.offset, &pt), MP_OK);
    ck_assert(fabs(pt.ci_lb * pt.ci_ub) < 1e-9);
    mp_traj_result_free(&r);
}
END_TEST

/* ---- failures ------------------------------------------------------------ */

START_TEST(test_nonconvergence)
{
    data d;
    ishak(&d, "time");
    mp_traj_opts o;
    mp_traj_opts_init(&o);
    o.structure = MP_TRAJ_HAR;
    o.phi = 0.97;
    o.maxiter = 2;
    mp_traj_result r;
    mp_error err;
    ck_assert_int_eq(mp_traj_fit(d.y, d.v, d.t, d.s, d.k, &o, &r, &err), MP_ENOCONV);
    ck_assert_int_eq(r.converged, 0);
    ck_assert(r.niter <= 2);
    ck_assert(r.grad_max > o.epsabs);
    mp_traj_result_free(&r);
}
END_TEST

START_TEST(test_bad_input)
{
    data d;
    ishak(&d, "time");
    mp_traj_result r;
    mp_traj_opts o;
    mp_error err;
    mp_traj_opts_init(&o);
    o.model = MP_TRAJ_LOGLINEAR;
    d.t[5] = 0.0;
    mp_error_clear(&err);
    ck_assert_int_eq(mp_traj_fit(d.y, d.v, d.t, d.s, d.k, &o, &r, &err), MP_EDOM);
    ck_assert_msg(strstr(err.msg, "effect 6") != NULL, "%s", err.msg);
    d.t[5] = -1.0;
    o.model = MP_TRAJ_SPLINE;
    ck_assert_int_eq(mp_traj_fit(d.y, d.v, d.t, d.s, d.k, &o, &r, &err), MP_EDOM);
    d.t[5] = 1.0;
    d.v[3] = 0.0;
    o.model = MP_TRAJ_FACTOR;
    ck_assert_int_eq(mp_traj_fit(d.y, d.v, d.t, d.s, d.k, &o, &r, &err), MP_EDOM);
    d.v[3] = 1.0;
    d.y[3] = NAN;
    ck_assert_int_eq(mp_traj_fit(d.y, d.v, d.t, d.s, d.k, &o, &r, &err), MP_EDOM);
    d.y[3] = 1.0;
    o.phi = 1.5;
    ck_assert_int_eq(mp_traj_fit(d.y, d.v, d.t, d.s, d.k, &o, &r, &err), MP_EINVAL);
    o.phi = 0;
    ck_assert_int_eq(mp_traj_fit(d.y, d.v, d.t, d.s, 0, &o, &r, &err), MP_ETOOFEW);
    /* rows 2-3: one study at times 1 and 3, so k = p = 2 */
    ck_assert_int_eq(mp_traj_fit(d.y + 1, d.v + 1, d.t + 1, d.s + 1, 2, &o, &r, &err), MP_ETOOFEW);
    /* too few distinct times for the model */
    for (size_t i = 0; i < d.k; i++) d.t[i] = 1 + (double)(i % 2);
    o.model = MP_TRAJ_QUADRATIC;
    ck_assert_int_eq(mp_traj_fit(d.y, d.v, d.t, d.s, d.k, &o, &r, &err), MP_EDOM);
    o.model = MP_TRAJ_SPLINE;
    ck_assert_int_eq(mp_traj_fit(d.y, d.v, d.t, d.s, d.k, &o, &r, &err), MP_EDOM);
    /* two effects of one study at the same time with equal variances and
     * phi > 0: vcalc's correlation is phi^0 = 1, and with G's equal entries
     * for one time level every block M_s = (v + tau2) J is singular */
    {
        data z;
        z.k = 0;
        for (size_t s2 = 0; s2 < 3; s2++)
            for (size_t j = 0; j < 2; j++) {
                z.y[z.k] = 0.1 * (double)(s2 + j); z.v[z.k] = 0.1; z.t[z.k] = 1; z.s[z.k++] = s2;
            }
        mp_traj_opts oz;
        mp_traj_opts_init(&oz);
        oz.phi = 0.5;
        ck_assert_int_eq(mp_traj_fit(z.y, z.v, z.t, z.s, z.k, &oz, &r, &err), MP_ESING);
    }
    /* parsers */
    mp_traj_struct st;
    mp_traj_model m;
    ck_assert_int_eq(mp_traj_struct_parse("UN", &st), MP_EINVAL);
    ck_assert_int_eq(mp_traj_struct_parse("har", &st), MP_OK);
    ck_assert_int_eq(st, MP_TRAJ_HAR);
    ck_assert_int_eq(mp_traj_model_parse("cubic", &m), MP_EINVAL);
    ck_assert_int_eq(mp_traj_model_parse("spline", &m), MP_OK);
    ck_assert_str_eq(mp_traj_struct_name(MP_TRAJ_CAR), "CAR");
    ck_assert_str_eq(mp_traj_model_name(MP_TRAJ_QUADRATIC), "quadratic");
    /* predict outside the domain */
    ishak(&d, "time");
    o.model = MP_TRAJ_FACTOR;
    ck_assert_int_eq(mp_traj_fit(d.y, d.v, d.t, d.s, d.k, &o, &r, &err), MP_OK);
    mp_traj_point pt;
    ck_assert_int_eq(mp_traj_predict(&r, 2.5, &pt), MP_EDOM);
    mp_traj_result_free(&r);
    mp_traj_result_free(NULL);
}
END_TEST

static Suite *traj_suite(void)
{
    Suite *s = suite_create("traj");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_ishak_reference, 0, 2);
    tcase_add_loop_test(tc, test_single_effect_studies_equal_pool, 0, MP_TRAJ_STRUCT_COUNT);
    tcase_add_loop_test(tc, test_bound_tau2_zero, 0, MP_TRAJ_STRUCT_COUNT);
    tcase_add_test(tc, test_bound_rho_one_is_int);
    tcase_add_test(tc, test_study_seen_at_one_time);
    tcase_add_test(tc, test_two_times_ar_equals_cs);
    tcase_add_test(tc, test_car_equally_spaced_equals_ar);
    tcase_add_test(tc, test_structure_nesting);
    tcase_add_test(tc, test_hcs_equal_variances_is_cs);
    tcase_add_test(tc, test_time_seen_in_one_study);
    tcase_add_test(tc, test_fixed_part_reparameterisation);
    tcase_add_test(tc, test_curve_features);
    tcase_add_test(tc, test_nonconvergence);
    tcase_add_test(tc, test_bad_input);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    gsl_set_error_handler_off();
    SRunner *sr = srunner_create(traj_suite());
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
