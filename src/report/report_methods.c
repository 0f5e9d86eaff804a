/* src/report/report_methods.c - the `--methods` paragraph: every convention behind the numbers.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Reproductions fail on unstated conventions (variance formula of Hedges'
 * g, estimator of tau^2, test, prediction-interval quantile), so the text
 * names each one with its formula or reference, then lists the references
 * it cites.  The formulas are those of metafor 3.8 (escalc, rma.uni,
 * confint.rma.uni, predict.rma); see /work/notes/metafor_formulas.md. */
#include "report_internal.h"
#include "metapool/version.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* References, cited by index. */
enum {
    R_COCHRAN, R_DL, R_HO, R_HS, R_BRANNICK, R_SJ05, R_HT96, R_V05, R_MORRIS, R_BERKEY, R_PM,
    R_HK, R_SJ02, R_V07, R_HT02, R_HTS09, R_H81, R_H83, R_HGC, R_V10, R_MH59, R_RBG86, R_GR85,
    R_SATO89, R_YUSUF85, R_TARONE85, R_FT50, R_MILLER78, R_FISHER21, R_BECKER88, R_COUNT
};
static const char *const refs[R_COUNT] = {
    [R_COCHRAN] = "Cochran WG (1954). The combination of estimates from different experiments. Biometrics 10:101-129.",
    [R_DL] = "DerSimonian R, Laird N (1986). Meta-analysis in clinical trials. Controlled Clinical Trials 7:177-188.",
    [R_HO] = "Hedges LV, Olkin I (1985). Statistical Methods for Meta-Analysis. San Diego: Academic Press.",
    [R_HS] = "Hunter JE, Schmidt FL (2004). Methods of Meta-Analysis: Correcting Error and Bias in Research Findings, 2nd ed. Thousand Oaks: Sage.",
    [R_BRANNICK] = "Brannick MT, Potter SM, Benitez B, Morris SB (2019). Bias and precision of alternate estimators in meta-analysis: benefits of blending Schmidt-Hunter and Hedges approaches. Organizational Research Methods 22:490-514.",
    [R_SJ05] = "Sidik K, Jonkman JN (2005). Simple heterogeneity variance estimation for meta-analysis. Journal of the Royal Statistical Society C 54:367-384.",
    [R_HT96] = "Hardy RJ, Thompson SG (1996). A likelihood approach to meta-analysis with random effects. Statistics in Medicine 15:619-629.",
    [R_V05] = "Viechtbauer W (2005). Bias and efficiency of meta-analytic variance estimators in the random-effects model. Journal of Educational and Behavioral Statistics 30:261-293.",
    [R_MORRIS] = "Morris CN (1983). Parametric empirical Bayes inference: theory and applications. Journal of the American Statistical Association 78:47-55.",
    [R_BERKEY] = "Berkey CS, Hoaglin DC, Mosteller F, Colditz GA (1995). A random-effects regression model for meta-analysis. Statistics in Medicine 14:395-411.",
    [R_PM] = "Paule RC, Mandel J (1982). Consensus values and weighting factors. Journal of Research of the National Bureau of Standards 87:377-385.",
    [R_HK] = "Hartung J, Knapp G (2001). On tests of the overall treatment effect in meta-analysis with normally distributed responses. Statistics in Medicine 20:1771-1782.",
    [R_SJ02] = "Sidik K, Jonkman JN (2002). A simple confidence interval for meta-analysis. Statistics in Medicine 21:3153-3159.",
    [R_V07] = "Viechtbauer W (2007). Confidence intervals for the amount of heterogeneity in meta-analysis. Statistics in Medicine 26:37-52.",
    [R_HT02] = "Higgins JPT, Thompson SG (2002). Quantifying heterogeneity in a meta-analysis. Statistics in Medicine 21:1539-1558.",
    [R_HTS09] = "Higgins JPT, Thompson SG, Spiegelhalter DJ (2009). A re-evaluation of random-effects meta-analysis. Journal of the Royal Statistical Society A 172:137-159.",
    [R_H81] = "Hedges LV (1981). Distribution theory for Glass's estimator of effect size and related estimators. Journal of Educational Statistics 6:107-128.",
    [R_H83] = "Hedges LV (1983). A random effects model for effect sizes. Psychological Bulletin 93:388-395.",
    [R_HGC] = "Hedges LV, Gurevitch J, Curtis PS (1999). The meta-analysis of response ratios in experimental ecology. Ecology 80:1150-1156.",
    [R_V10] = "Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package. Journal of Statistical Software 36(3):1-48.",
    [R_MH59] = "Mantel N, Haenszel W (1959). Statistical aspects of the analysis of data from retrospective studies of disease. Journal of the National Cancer Institute 22:719-748.",
    [R_RBG86] = "Robins J, Breslow N, Greenland S (1986). Estimators of the Mantel-Haenszel variance consistent in both sparse data and large-strata limiting models. Biometrics 42:311-323.",
    [R_GR85] = "Greenland S, Robins JM (1985). Estimation of a common effect parameter from sparse follow-up data. Biometrics 41:55-68.",
    [R_SATO89] = "Sato T (1989). On the variance estimator for the Mantel-Haenszel risk difference. Biometrics 45:1323-1324.",
    [R_YUSUF85] = "Yusuf S, Peto R, Lewis J, Collins R, Sleight P (1985). Beta blockade during and after myocardial infarction: an overview of the randomized trials. Progress in Cardiovascular Diseases 27:335-371.",
    [R_TARONE85] = "Tarone RE (1985). On heterogeneity tests based on efficient scores. Biometrika 72:91-95.",
    [R_FT50] = "Freeman MF, Tukey JW (1950). Transformations related to the angular and the square root. Annals of Mathematical Statistics 21:607-611.",
    [R_MILLER78] = "Miller JJ (1978). The inverse of the Freeman-Tukey double arcsine transformation. The American Statistician 32:138.",
    [R_FISHER21] = "Fisher RA (1921). On the probable error of a coefficient of correlation deduced from a small sample. Metron 1:3-32.",
    [R_BECKER88] = "Becker BJ (1988). Synthesizing standardized mean-change measures. British Journal of Mathematical and Statistical Psychology 41:257-278.",
};

/* Growing paragraph text with the references it cites. */
typedef struct para {
    char *s;
    size_t n, cap;
    int ascii;
    int cited[R_COUNT];
    int oom;
} para;

/* Append formatted text; `u` is the UTF-8 form, `a` the ASCII one (NULL = same). */
static void add(para *p, const char *u, const char *a, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 4)))
#endif
    ;
static void add(para *p, const char *u, const char *a, ...)
{
    const char *fmt = p->ascii && a ? a : u;
    va_list ap;
    va_start(ap, a);
    char tmp[2048];
    /* fmt is u or a: u is checked against the arguments by the attribute
     * above, and every a is the ASCII spelling of its u with the same
     * conversions, so the non-literal format is safe here */
#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wformat-nonliteral"
#endif
    int m = vsnprintf(tmp, sizeof tmp, fmt, ap);
#if defined(__clang__)
#pragma clang diagnostic pop
#endif
    va_end(ap);
    if (m < 0 || p->oom) return;
    size_t need = p->n + (size_t)m + 1;
    if (need > p->cap) {
        size_t cap = need * 2;
        char *s = realloc(p->s, cap);
        if (!s) { p->oom = 1; return; }
        p->s = s;
        p->cap = cap;
    }
    memcpy(p->s + p->n, tmp, (size_t)m + 1);
    p->n += (size_t)m;
}

static void cite(para *p, int r) { p->cited[r] = 1; }

static void effect_sentence(para *p, const mp_report *r)
{
    char lev[32];
    snprintf(lev, sizeof lev, "%g%%", r->opt->es_level);
    const char *name = rp_measure_long(r->measure);
    switch (r->source) {
    case MP_SRC_COUNTS:
        if (r->measure == MP_MEASURE_OR)
            add(p, "Log odds ratios and their sampling variances 1/a + 1/b + 1/c + 1/d were computed from the 2\u00D72 table of each study",
                "Log odds ratios and their sampling variances 1/a + 1/b + 1/c + 1/d were computed from the 2x2 table of each study");
        else if (r->measure == MP_MEASURE_RR)
            add(p, "Log risk ratios and their sampling variances 1/a \u2212 1/(a + b) + 1/c \u2212 1/(c + d) were computed from the 2\u00D72 table of each study",
                "Log risk ratios and their sampling variances 1/a - 1/(a + b) + 1/c - 1/(c + d) were computed from the 2x2 table of each study");
        else
            add(p, "Risk differences p\u2081 \u2212 p\u2082 and their sampling variances p\u2081(1 \u2212 p\u2081)/n\u2081 + p\u2082(1 \u2212 p\u2082)/n\u2082 were computed from the 2\u00D72 table of each study",
                "Risk differences p1 - p2 and their sampling variances p1(1 - p1)/n1 + p2(1 - p2)/n2 were computed from the 2x2 table of each study");
        add(p, ", adding \u00BD to every cell of tables with a zero cell (a, b: events and non-events under treatment; c, d: under control)",
            ", adding 1/2 to every cell of tables with a zero cell (a, b: events and non-events under treatment; c, d: under control)");
        if (r->measure != MP_MEASURE_RD)
            add(p, r->opt->drop00 ? "; tables with no events, or only events, in both arms were left out"
                                  : "; tables with no events, or only events, in both arms were kept with \u00BD added to every cell (metafor's default)",
                r->opt->drop00 ? NULL : "; tables with no events, or only events, in both arms were kept with 1/2 added to every cell (metafor's default)");
        add(p, ". ", NULL);
        break;
    case MP_SRC_PROP:
        add(p, "The proportion of events x/n of each study was analysed as %s (metafor's escalc definitions",
            NULL, name);
        if (r->measure == MP_MEASURE_PFT) {
            add(p, "; Freeman & Tukey, 1950; variance 1/(4n + 2)", NULL);
            cite(p, R_FT50);
        } else if (r->measure == MP_MEASURE_PAS) {
            add(p, "; variance 1/(4n)", NULL);
        } else {
            add(p, "; \u00BD added to x and n \u2212 x when either is 0", "; 1/2 added to x and n - x when either is 0");
        }
        add(p, "). ", NULL);
        break;
    case MP_SRC_COR:
        if (r->measure == MP_MEASURE_ZCOR) {
            add(p, "Correlations were analysed as Fisher's z = atanh(r) with sampling variance 1/(n \u2212 3) (Fisher, 1921). ",
                "Correlations were analysed as Fisher's z = atanh(r) with sampling variance 1/(n - 3) (Fisher, 1921). ");
            cite(p, R_FISHER21);
        } else {
            add(p, "Correlations were analysed as they were with sampling variances (1 \u2212 r\u00B2)\u00B2/(n \u2212 1). ",
                "Correlations were analysed as they were with sampling variances (1 - r^2)^2/(n - 1). ");
        }
        break;
    case MP_SRC_IR:
        add(p, "Incidence rates (events per unit of person-time) were analysed as %s (metafor's escalc definitions%s). ",
            NULL, name, r->measure == MP_MEASURE_IR || r->measure == MP_MEASURE_IRLN
                            ? "; 1/2 added to a count of 0" : "");
        break;
    case MP_SRC_RATES:
        add(p, "%s were computed from the events and person-times of the two groups of each study (metafor's escalc definitions; 1/2 added to both counts when one is 0). ",
            NULL, r->measure == MP_MEASURE_IRR ? "Log incidence rate ratios" : "Incidence rate differences");
        break;
    case MP_SRC_PAIRED:
        add(p, "For the paired (pre-post or cross-over) designs, the %s was computed from the means and SDs at the two occasions and their correlation r (Becker, 1988; metafor's escalc definitions%s). ",
            NULL, name, r->measure == MP_MEASURE_MC ? "" : ", with the exact small-sample correction on n \u2212 1 degrees of freedom");
        cite(p, R_BECKER88);
        break;
    case MP_SRC_RATIO_CI:
        add(p, "Ratios (%s) and their %s confidence intervals as published were log-transformed; sampling variances were ((log upper \u2212 log lower)/(2z))\u00B2. ",
            "Ratios (%s) and their %s confidence intervals as published were log-transformed; sampling variances were ((log upper - log lower)/(2z))^2. ",
            name, lev);
        break;
    case MP_SRC_MEANS:
        if (r->measure == MP_MEASURE_SMD) {
            add(p, "Standardized mean differences were computed as Hedges' g, the mean difference divided by the pooled standard deviation and multiplied by the exact small-sample correction c(m) = \u0393(m/2)/(\u221A(m/2) \u0393((m \u2212 1)/2)) with m = n\u2081 + n\u2082 \u2212 2 (Hedges, 1981)",
                "Standardized mean differences were computed as Hedges' g, the mean difference divided by the pooled standard deviation and multiplied by the exact small-sample correction c(m) = Gamma(m/2)/(sqrt(m/2) Gamma((m - 1)/2)) with m = n1 + n2 - 2 (Hedges, 1981)");
            cite(p, R_H81);
        } else if (r->measure == MP_MEASURE_MD) {
            add(p, "Raw mean differences were computed with sampling variances sd\u2081\u00B2/n\u2081 + sd\u2082\u00B2/n\u2082 (no assumption of equal variances). ",
                "Raw mean differences were computed with sampling variances sd1^2/n1 + sd2^2/n2 (no assumption of equal variances). ");
        } else {
            add(p, "Log ratios of means were computed with sampling variances sd\u2081\u00B2/(n\u2081 m\u2081\u00B2) + sd\u2082\u00B2/(n\u2082 m\u2082\u00B2) (Hedges, Gurevitch & Curtis, 1999). ",
                "Log ratios of means were computed with sampling variances sd1^2/(n1 m1^2) + sd2^2/(n2 m2^2) (Hedges, Gurevitch & Curtis, 1999). ");
            cite(p, R_HGC);
        }
        break;
    case MP_SRC_YI_N:
        add(p, "Standardized mean differences (Hedges' g) were used as reported", NULL);
        break;
    case MP_SRC_YI_SEI:
        add(p, "Effect sizes (%s) were used as supplied, with sampling variances the squared standard errors. ",
            NULL, name);
        break;
    case MP_SRC_YI_CI:
        add(p, "Effect sizes (%s) were used as supplied, with sampling variances derived from the supplied %s confidence intervals as ((upper \u2212 lower)/(2z))\u00B2. ",
            "Effect sizes (%s) were used as supplied, with sampling variances derived from the supplied %s confidence intervals as ((upper - lower)/(2z))^2. ",
            name, lev);
        break;
    default:
        add(p, "Effect sizes (%s) and their sampling variances were used as supplied. ", NULL, name);
        break;
    }
    if (r->measure == MP_MEASURE_SMD && (r->source == MP_SRC_MEANS || r->source == MP_SRC_YI_N)) {
        switch (r->vtype) {
        case MP_SMD_VAR_UB:
            add(p, "; sampling variances were the unbiased estimates 1/n\u2081 + 1/n\u2082 + (1 \u2212 (m \u2212 2)/(m c(m)\u00B2)) g\u00B2 (metafor's vtype = \"UB\"; Hedges, 1983). ",
                "; sampling variances were the unbiased estimates 1/n1 + 1/n2 + (1 - (m - 2)/(m c(m)^2)) g^2 (metafor's vtype = \"UB\"; Hedges, 1983). ");
            cite(p, R_H83);
            break;
        case MP_SMD_VAR_REVMAN:
            add(p, "; sampling variances were 1/n\u2081 + 1/n\u2082 + g\u00B2/(2(n\u2081 + n\u2082 \u2212 3.94)), the formula of Review Manager 5. ",
                "; sampling variances were 1/n1 + 1/n2 + g^2/(2(n1 + n2 - 3.94)), the formula of Review Manager 5. ");
            break;
        case MP_SMD_VAR_CMA:
            add(p, "; sampling variances were c(m)\u00B2 (1/n\u2081 + 1/n\u2082 + d\u00B2/(2(n\u2081 + n\u2082))) with d the uncorrected standardized difference, the formula of Comprehensive Meta-Analysis. ",
                "; sampling variances were c(m)^2 (1/n1 + 1/n2 + d^2/(2(n1 + n2))) with d the uncorrected standardized difference, the formula of Comprehensive Meta-Analysis. ");
            break;
        default:
            add(p, "; sampling variances were the large-sample approximation 1/n\u2081 + 1/n\u2082 + g\u00B2/(2(n\u2081 + n\u2082)) (metafor's default, vtype = \"LS\"). ",
                "; sampling variances were the large-sample approximation 1/n1 + 1/n2 + g^2/(2(n1 + n2)) (metafor's default, vtype = \"LS\"). ");
            break;
        }
    }
}

static void estimator_cite(para *p, mp_method m)
{
    switch (m) {
    case MP_METHOD_DL: add(p, "DerSimonian & Laird, 1986", NULL); cite(p, R_DL); break;
    case MP_METHOD_HE: add(p, "Hedges & Olkin, 1985", NULL); cite(p, R_HO); break;
    case MP_METHOD_HS: add(p, "Hunter & Schmidt, 2004", NULL); cite(p, R_HS); break;
    case MP_METHOD_HSK: add(p, "Brannick et al., 2019", NULL); cite(p, R_BRANNICK); break;
    case MP_METHOD_SJ: add(p, "Sidik & Jonkman, 2005", NULL); cite(p, R_SJ05); break;
    case MP_METHOD_ML:
        add(p, "Hardy & Thompson, 1996; Viechtbauer, 2005", NULL);
        cite(p, R_HT96);
        cite(p, R_V05);
        break;
    case MP_METHOD_REML: add(p, "Viechtbauer, 2005", NULL); cite(p, R_V05); break;
    case MP_METHOD_EB:
        add(p, "Morris, 1983; Berkey et al., 1995", NULL);
        cite(p, R_MORRIS);
        cite(p, R_BERKEY);
        break;
    case MP_METHOD_PM: add(p, "Paule & Mandel, 1982", NULL); cite(p, R_PM); break;
    default: break;
    }
}

static void build(para *p, const mp_report *r)
{
    const mp_pool_opts *o = &r->opt->pool;
    int re = o->method != MP_METHOD_FE, knha = rp_test(r) == MP_TEST_KNHA;
    char lev[32];
    snprintf(lev, sizeof lev, "%g%%", o->level);

    effect_sentence(p, r);
    if (r->pooling == MP_MH_MH) {
        re = 0;
        add(p, "Effects were pooled from the tables with the Mantel-Haenszel method (Mantel & Haenszel, 1959), with the %s variance (",
            NULL, r->measure == MP_MEASURE_OR ? "Robins-Breslow-Greenland"
                  : r->measure == MP_MEASURE_RD ? "Sato" : "Greenland-Robins");
        cite(p, R_MH59);
        if (r->measure == MP_MEASURE_OR) { add(p, "Robins, Breslow & Greenland, 1986", NULL); cite(p, R_RBG86); }
        else if (r->measure == MP_MEASURE_RD) { add(p, "Greenland & Robins, 1985; Sato, 1989", NULL); cite(p, R_GR85); cite(p, R_SATO89); }
        else { add(p, "Greenland & Robins, 1985", NULL); cite(p, R_GR85); }
        add(p, "), using the raw counts of every table as metafor's rma.mh() does", NULL);
        if (r->measure == MP_MEASURE_OR) {
            add(p, "; the Cochran-Mantel-Haenszel test (continuity-corrected) and Tarone's test for heterogeneity (Tarone, 1985) are reported", NULL);
            cite(p, R_TARONE85);
        }
        add(p, ". ", NULL);
    } else if (r->pooling == MP_MH_PETO) {
        re = 0;
        add(p, "Effects were pooled with Peto's one-step odds ratio (Yusuf et al., 1985), the sum of observed minus expected events over the sum of their hypergeometric variances, from the raw counts as metafor's rma.peto() does. ",
            NULL);
        cite(p, R_YUSUF85);
    } else if (!re) {
        add(p, "Effects were pooled with a fixed-effect (common-effect) model with inverse-variance weights 1/v\u1D62. ",
            "Effects were pooled with a fixed-effect (common-effect) model with inverse-variance weights 1/v_i. ");
    } else {
        add(p, "Effects were pooled with a random-effects model with weights 1/(v\u1D62 + \u03C4\u00B2); the between-study variance \u03C4\u00B2 was estimated with the %s (%s) estimator (",
            "Effects were pooled with a random-effects model with weights 1/(v_i + tau^2); the between-study variance tau^2 was estimated with the %s (%s) estimator (",
            rp_method_long(o->method), mp_method_name(o->method));
        estimator_cite(p, o->method);
        add(p, ")", NULL);
        if (o->method == MP_METHOD_ML || o->method == MP_METHOD_REML ||
            o->method == MP_METHOD_EB || o->method == MP_METHOD_PM)
            add(p, ", iterated to a relative tolerance of %g", NULL, o->epsrel);
        add(p, ". ", NULL);
    }
    if (knha) {
        add(p, "Tests and %s confidence intervals for the pooled effect used the Hartung-Knapp-Sidik-Jonkman method (Hartung & Knapp, 2001; Sidik & Jonkman, 2002): the standard error was multiplied by \u221A(Q\u2090/(k \u2212 1)), with Q\u2090 the weighted residual sum of squares under the model weights, and the t distribution with k \u2212 1 degrees of freedom was used. ",
            "Tests and %s confidence intervals for the pooled effect used the Hartung-Knapp-Sidik-Jonkman method (Hartung & Knapp, 2001; Sidik & Jonkman, 2002): the standard error was multiplied by sqrt(Q_a/(k - 1)), with Q_a the weighted residual sum of squares under the model weights, and the t distribution with k - 1 degrees of freedom was used. ",
            lev);
        cite(p, R_HK);
        cite(p, R_SJ02);
    } else {
        add(p, "The pooled effect was tested with a Wald-type z test and given with a %s confidence interval from the normal distribution. ",
            NULL, lev);
    }
    add(p, "Heterogeneity was assessed with Cochran's Q test (Cochran, 1954) and quantified with I\u00B2 and H\u00B2 (Higgins & Thompson, 2002)",
        "Heterogeneity was assessed with Cochran's Q test (Cochran, 1954) and quantified with I^2 and H^2 (Higgins & Thompson, 2002)");
    cite(p, R_COCHRAN);
    cite(p, R_HT02);
    if (re) {
        add(p, ", computed from \u03C4\u00B2 as I\u00B2 = \u03C4\u00B2/(\u03C4\u00B2 + s\u00B2) and H\u00B2 = (\u03C4\u00B2 + s\u00B2)/s\u00B2 with s\u00B2 the typical within-study variance; %s confidence intervals for \u03C4\u00B2 were obtained with the Q-profile method (Viechtbauer, 2007) and carried over to I\u00B2 and H\u00B2. ",
            ", computed from tau^2 as I^2 = tau^2/(tau^2 + s^2) and H^2 = (tau^2 + s^2)/s^2 with s^2 the typical within-study variance; %s confidence intervals for tau^2 were obtained with the Q-profile method (Viechtbauer, 2007) and carried over to I^2 and H^2. ",
            lev);
        cite(p, R_V07);
        add(p, "The %s prediction interval for the effect in a new study was computed as \u03BC\u0302 \u00B1 %s \u221A(\u03C4\u0302\u00B2 + SE(\u03BC\u0302)\u00B2) ",
            "The %s prediction interval for the effect in a new study was computed as mu +/- %s sqrt(tau^2 + SE(mu)^2) ", lev,
            knha ? (p->ascii ? "t(k - 1)" : "t(k \u2212 1)") : "z");
        add(p, "as in metafor (Higgins, Thompson & Spiegelhalter, 2009, use t with k \u2212 2 degrees of freedom instead). ",
            "as in metafor (Higgins, Thompson & Spiegelhalter, 2009, use t with k - 2 degrees of freedom instead). ");
        cite(p, R_HTS09);
    } else {
        add(p, ". ", NULL);
    }
    if (r->overall && r->tau2_common && re) {
        const char *by = r->opt->by ? r->opt->by : "the grouping variable";
        add(p, "Subgroups defined by %s were analysed with %s common to all subgroups (a meta-regression on the subgroup factor without intercept, as metafor's rma(yi, vi, mods = ~ factor(%s) - 1)) and compared with the omnibus test of that factor (QM). ",
            NULL, by, p->ascii ? "one estimate of tau^2" : "one estimate of \u03C4\u00B2", by);
    } else if (r->overall) {
        const char *by = r->opt->by ? r->opt->by : "the grouping variable";
        add(p, "Subgroups defined by %s were analysed separately%s and compared with a test for subgroup differences (Cochran's Q of the subgroup estimates around their inverse-variance mean, with the number of subgroups minus one degrees of freedom). ",
            NULL, by,
            re ? (p->ascii ? ", each with its own estimate of tau^2," : ", each with its own estimate of \u03C4\u00B2,") : "");
    }
    if (rp_transf(r) != MP_TRANSF_NONE && rp_transf(r) != MP_TRANSF_EXP) {
        char note[160];
        add(p, "Results were %s for presentation", NULL, rp_transf_note(r, note, sizeof note));
        if (r->measure == MP_MEASURE_PFT) { add(p, " (Miller, 1978)", NULL); cite(p, R_MILLER78); }
        add(p, ". ", NULL);
    } else if (mp_measure_is_log(r->measure))
        add(p, "Ratios were pooled on the log scale%s. ", NULL,
            rp_expo(r) ? " and back-transformed for presentation" : " and are reported on that scale");
    add(p, "Analyses were run with metapool %s, whose results agree with those of the R package metafor 3.8 (Viechtbauer, 2010) to a relative 10\u207B\u2076 on its reference data sets.",
        "Analyses were run with metapool %s, whose results agree with those of the R package metafor 3.8 (Viechtbauer, 2010) to a relative 1e-6 on its reference data sets.",
        MP_VERSION_STRING);
    cite(p, R_V10);
}

/* Print text word-wrapped at `width` columns. */
static void wrap(FILE *f, const char *s, size_t width, size_t indent)
{
    size_t ind = 0;
    while (*s) {
        size_t room = width > ind + 20 ? width - ind : 20;
        size_t i = 0, cols = 0, lastsp = 0, cut;
        while (s[i]) {
            if (((unsigned char)s[i] & 0xC0) != 0x80) {
                if (cols == room) break;
                cols++;
            }
            if (s[i] == ' ') lastsp = i;
            i++;
        }
        cut = !s[i] ? i : lastsp > 0 ? lastsp : i;
        fprintf(f, "%*s%.*s\n", (int)ind, "", (int)cut, s);
        s += cut;
        while (*s == ' ') s++;
        ind = indent;
    }
}

void mp_report_methods(FILE *f, const mp_report *r)
{
    para p = {0};
    p.ascii = r->opt->ascii;
    build(&p, r);
    if (p.oom || !p.s) { free(p.s); return; }
    size_t width = r->opt->width > 0 ? (size_t)r->opt->width : 80;
    fputc('\n', f);
    fputs("Methods\n", f);
    wrap(f, p.s, width, 0);
    fputs("\nReferences\n", f);
    for (int i = 0; i < R_COUNT; i++)
        if (p.cited[i]) wrap(f, refs[i], width, 4);
    free(p.s);
}
