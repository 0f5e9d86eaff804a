# tests/reference/multilevel/gen.R - oracle values for formula terms, predictions,
# cluster-robust inference (CR1, CR2) and multilevel models (rma.mv), from R's metafor.
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Run from this folder: Rscript gen.R   (R 4.2, metafor 3.8-1, metadat 1.2-0,
# clubSandwich 0.5.8).  Writes data/*.csv, cases.csv (what to fit) and
# expected.csv (id,key,value).  The tests read the files; they never call R.
suppressMessages({library(metafor); library(clubSandwich)})
options(digits = 17)
wcsv <- function(d, f) write.csv(d, file.path("data", f), row.names = FALSE)
fmt <- function(x) if (is.character(x)) x else formatC(x, digits = 17, format = "g")
ctl.uni <- list(threshold = 1e-13, maxiter = 10000, stepadj = 0.5, tol = 1e-15)

cases <- data.frame()
exp <- data.frame(id = character(), key = character(), value = character())
add <- function(id, key, value) exp <<- rbind(exp, data.frame(id = id, key = key, value = fmt(value)))
addcase <- function(id, data, mods, random = "", method = "REML", test = "z", cluster = "",
                    vcov = "", newdata = "")
    cases <<- rbind(cases, data.frame(id = id, data = data, mods = mods, random = random,
                                      method = method, test = test, cluster = cluster,
                                      vcov = vcov, newdata = newdata))
addcoef <- function(id, names, b, se, stat, pval, lb, ub, df = NULL) {
    for (j in seq_along(names)) {
        n <- names[j]
        add(id, paste0("name:", j), n)
        add(id, paste0("coef:", j, ":estimate"), b[j]); add(id, paste0("coef:", j, ":se"), se[j])
        add(id, paste0("coef:", j, ":stat"), stat[j]); add(id, paste0("coef:", j, ":pval"), pval[j])
        add(id, paste0("coef:", j, ":ci_lb"), lb[j]); add(id, paste0("coef:", j, ":ci_ub"), ub[j])
        if (!is.null(df)) add(id, paste0("coef:", j, ":df"), df[j])
    }
}
addfit <- function(id, r) {
    nm <- rownames(r$beta)
    nm[nm == "intrcpt"] <- "intrcpt"
    addcoef(id, nm, c(r$beta), r$se, r$zval, r$pval, r$ci.lb, r$ci.ub)
    add(id, "QE", r$QE); add(id, "QE_pval", r$QEp)
    if (r$p > 1) { add(id, "QM", r$QM); add(id, "QM_pval", r$QMp) }
    if (inherits(r, "rma.mv")) {
        for (s in seq_along(r$sigma2)) { add(id, paste0("sigma2:", s), r$sigma2[s])
            add(id, paste0("sigma2_name:", s), r$s.names[s]); add(id, paste0("n_levels:", s), r$s.nlevels[s]) }
        add(id, "logLik", c(logLik(r)))
    } else add(id, "tau2", r$tau2)
}
addpred <- function(id, p) {
    p <- as.data.frame(p)
    for (i in seq_len(nrow(p))) {
        add(id, paste0("pred:", i, ":pred"), p$pred[i]); add(id, paste0("pred:", i, ":se"), p$se[i])
        add(id, paste0("pred:", i, ":ci_lb"), p$ci.lb[i]); add(id, paste0("pred:", i, ":ci_ub"), p$ci.ub[i])
        pl <- if (!is.null(p$pi.lb)) p$pi.lb else p$cr.lb
        pu <- if (!is.null(p$pi.ub)) p$pi.ub else p$cr.ub
        add(id, paste0("pred:", i, ":pi_lb"), pl[i]); add(id, paste0("pred:", i, ":pi_ub"), pu[i])
    }
}
# profile-likelihood CIs of the variance components (confint(), uniroot tol 1e-12)
addci <- function(id, r) {
    for (s in seq_along(r$sigma2)) {
        ci <- confint(r, sigma2 = s, control = list(tol = 1e-12))$random
        add(id, paste0("sigma2_ci_lb:", s), ci[1, 2]); add(id, paste0("sigma2_ci_ub:", s), ci[1, 3])
    }
}
# a tight rma.mv: nlminb far past its defaults, checked against optim BFGS from there
rmamv <- function(yi, vi, mods = ~ 1, random, data, method = "REML") {
    r <- rma.mv(yi, vi, mods = mods, random = random, data = data, method = method)
    r2 <- rma.mv(yi, vi, mods = mods, random = random, data = data, method = method,
                 control = list(optimizer = "optim", optmethod = "BFGS", reltol = 1e-15,
                                sigma2.init = pmax(r$sigma2, 1e-6), maxit = 10000))
    r3 <- tryCatch(rma.mv(yi, vi, mods = mods, random = random, data = data, method = method,
                 control = list(optimizer = "optim", optmethod = "Nelder-Mead", reltol = 1e-15,
                                sigma2.init = pmax(r2$sigma2, 1e-8), maxit = 100000)),
                   error = function(e) r2)
    stopifnot(max(abs(r$sigma2 - r2$sigma2) / pmax(r$sigma2, 1e-3)) < 1e-4)
    best <- list(r, r2, r3)[[which.max(c(logLik(r), logLik(r2), logLik(r3)))]]
    # components at the boundary: refit with them fixed at 0 (the optimisers
    # above stop short of 0 on the log scale and leave the others ~1e-5 off)
    small <- best$sigma2 < 1e-6 * max(best$sigma2)
    if (any(small) && !all(small)) {
        r4 <- tryCatch(rma.mv(yi, vi, mods = mods, random = random, data = data, method = method,
                              sigma2 = ifelse(small, 0, NA),
                              control = list(optimizer = "optim", optmethod = "BFGS", reltol = 1e-15,
                                             sigma2.init = pmax(best$sigma2, 1e-6), maxit = 10000)),
                       error = function(e) NULL)
        if (!is.null(r4) && logLik(r4) >= logLik(best) - 1e-12) best <- r4
    }
    cat(sprintf("%-10s max |sigma2 change| of the three optimisers: %.2e\n", method,
                max(abs(r2$sigma2 - r3$sigma2))))
    best
}

## 1. terms on dat.bcg (escalc RR)
bcg <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
bcg <- data.frame(study = paste(bcg$author, bcg$year), year = bcg$year, ablat = bcg$ablat,
                  alloc = bcg$alloc, yi = c(bcg$yi), vi = c(bcg$vi))
wcsv(bcg, "bcg_rr.csv")
bcg <- read.csv("data/bcg_rr.csv")
terms <- list(t_x_alloc_noMain = "ablat + ablat:alloc", t_alloc_ablat_only = "alloc:ablat",
              t_I_prod = "I(ablat * year) + I(ablat^2)", t_nointercept = "alloc - 1",
              t_ablat_year_x = "year + ablat*year")
for (id in names(terms)) {
    f <- as.formula(paste("~", terms[[id]]))
    r <- rma(yi, vi, mods = f, data = bcg, method = "REML", control = ctl.uni)
    addcase(id, "bcg_rr.csv", terms[[id]])
    addfit(id, r)
}
# ML and DL with knha
r <- rma(yi, vi, mods = ~ ablat*alloc, data = bcg, method = "ML", test = "knha", control = ctl.uni)
addcase("t_x_alloc_ML_knha", "bcg_rr.csv", "ablat*alloc", method = "ML", test = "knha"); addfit("t_x_alloc_ML_knha", r)

## 2. predictions
nd <- data.frame(ablat = c(15, 35, 50), alloc = c("systematic", "random", "alternate"))
wcsv(nd, "bcg_new.csv")
r <- rma(yi, vi, mods = ~ ablat*alloc, data = bcg, method = "REML", control = ctl.uni)
X <- model.matrix(~ ablat*alloc, data = rbind(bcg[, c("ablat", "alloc")], nd))[-(1:13), -1]
addcase("p_x_alloc", "bcg_rr.csv", "ablat*alloc", newdata = "bcg_new.csv"); addfit("p_x_alloc", r)
addpred("p_x_alloc", predict(r, newmods = X))

## 3. dat.assink2016: three-level (study/esid), moderators, robust
a <- dat.assink2016
a <- data.frame(study = a$study, esid = a$esid, year = a$year, deltype = a$deltype,
                pubstatus = a$pubstatus, yi = a$yi, vi = a$vi)
wcsv(a, "assink2016.csv")
a <- read.csv("data/assink2016.csv")
r <- rmamv(yi, vi, random = ~ 1 | study/esid, data = a, method = "REML")
addcase("m_assink_pool", "assink2016.csv", "1", random = "study/esid"); addfit("m_assink_pool", r)
addci("m_assink_pool", r)
r <- rmamv(yi, vi, mods = ~ deltype + year, random = ~ 1 | study/esid, data = a, method = "REML")
addcase("m_assink_mods", "assink2016.csv", "deltype + year", random = "study/esid"); addfit("m_assink_mods", r)
ndy <- data.frame(year = c(-4, 0, 3), deltype = c("general", "overt", "covert"))
wcsv(ndy, "assink_new.csv")
Xn <- model.matrix(~ deltype + year, data = rbind(a[, c("deltype", "year")], ndy))[-(1:nrow(a)), -1]
addcase("m_assink_pred", "assink2016.csv", "deltype + year", random = "study/esid", newdata = "assink_new.csv")
addfit("m_assink_pred", r); addpred("m_assink_pred", predict(r, newmods = Xn))
r <- rmamv(yi, vi, mods = ~ year, random = ~ 1 | study/esid, data = a, method = "ML")
addcase("m_assink_ML", "assink2016.csv", "year", random = "study/esid", method = "ML"); addfit("m_assink_ML", r)
addci("m_assink_ML", r)
# robust on the multilevel model (clusters = studies)
rr <- robust(r <- rmamv(yi, vi, mods = ~ deltype + year, random = ~ 1 | study/esid, data = a), cluster = a$study, adjust = TRUE)
addcase("r_mv_CR1", "assink2016.csv", "deltype + year", random = "study/esid", cluster = "study", vcov = "CR1")
addcoef("r_mv_CR1", rownames(rr$beta), c(rr$beta), rr$se, rr$zval, rr$pval, rr$ci.lb, rr$ci.ub, rep(rr$ddf[1], length(rr$se)))
add("r_mv_CR1", "QM", rr$QM); add("r_mv_CR1", "QM_pval", rr$QMp)
rr <- robust(r, cluster = a$study, clubSandwich = TRUE)
addcase("r_mv_CR2", "assink2016.csv", "deltype + year", random = "study/esid", cluster = "study", vcov = "CR2")
addcoef("r_mv_CR2", rownames(rr$beta), c(rr$beta), rr$se, rr$zval, rr$pval, rr$ci.lb, rr$ci.ub, rr$ddf)
add("r_mv_CR2", "QM", rr$QM); add("r_mv_CR2", "QM_pval", rr$QMp); add("r_mv_CR2", "QM_ddf", rr$QMdf[2])
# robust on rma.uni with two moderators (HTZ with q = 3)
ru <- rma(yi, vi, mods = ~ deltype + year, data = a, method = "REML", control = ctl.uni)
rr <- robust(ru, cluster = a$study, adjust = TRUE)
addcase("r_uni_CR1", "assink2016.csv", "deltype + year", cluster = "study", vcov = "CR1")
addcoef("r_uni_CR1", rownames(rr$beta), c(rr$beta), rr$se, rr$zval, rr$pval, rr$ci.lb, rr$ci.ub, rep(rr$ddf[1], length(rr$se)))
add("r_uni_CR1", "QM", rr$QM); add("r_uni_CR1", "QM_pval", rr$QMp); add("r_uni_CR1", "tau2", ru$tau2)
rr <- robust(ru, cluster = a$study, clubSandwich = TRUE)
addcase("r_uni_CR2", "assink2016.csv", "deltype + year", cluster = "study", vcov = "CR2")
addcoef("r_uni_CR2", rownames(rr$beta), c(rr$beta), rr$se, rr$zval, rr$pval, rr$ci.lb, rr$ci.ub, rr$ddf)
add("r_uni_CR2", "QM", rr$QM); add("r_uni_CR2", "QM_pval", rr$QMp); add("r_uni_CR2", "QM_ddf", rr$QMdf[2])

# predictions from robust fits (metafor's predict() uses the robust vb and ddf[1])
ndr <- data.frame(year = c(0, 3))
wcsv(ndr, "assink_new_year.csv")
ru1 <- rma(yi, vi, mods = ~ year, data = a, method = "REML", control = ctl.uni)
for (v in c("CR1", "CR2")) {
    rr <- if (v == "CR1") robust(ru1, cluster = a$study, adjust = TRUE) else robust(ru1, cluster = a$study, clubSandwich = TRUE)
    id <- paste0("r_uni_", v, "_pred")
    addcase(id, "assink2016.csv", "year", cluster = "study", vcov = v, newdata = "assink_new_year.csv")
    addcoef(id, rownames(rr$beta), c(rr$beta), rr$se, rr$zval, rr$pval, rr$ci.lb, rr$ci.ub,
            if (v == "CR1") rep(rr$ddf[1], 2) else rr$ddf)
    addpred(id, predict(rr, newmods = ndr$year))
}

## 4. synthetic: nested plus crossed (study/es, outcome), unbalanced, with a moderator
set.seed(2026915)
ns <- 18
nes <- sample(1:5, ns, replace = TRUE)
s <- data.frame(study = rep(paste0("S", 1:ns), nes))
s$es <- ave(seq_len(nrow(s)), s$study, FUN = seq_along)
s$outcome <- sample(c("anx", "dep", "qol", "pain"), nrow(s), replace = TRUE)
s$x <- round(runif(nrow(s), 0, 10), 1)
u <- rnorm(ns, 0, 0.3)[as.integer(factor(s$study, levels = paste0("S", 1:ns)))]
w <- rnorm(4, 0, 0.15)[as.integer(factor(s$outcome))]
s$vi <- round(runif(nrow(s), 0.01, 0.1), 4)
s$yi <- round(0.2 + 0.03 * s$x + u + w + rnorm(nrow(s), 0, 0.1) + rnorm(nrow(s), 0, sqrt(s$vi)), 4)
wcsv(s, "synth_nested_crossed.csv")
s <- read.csv("data/synth_nested_crossed.csv")
r <- rmamv(yi, vi, random = list(~ 1 | study/es, ~ 1 | outcome), data = s)
addcase("m_synth_pool", "synth_nested_crossed.csv", "1", random = "study/es,outcome"); addfit("m_synth_pool", r)
r <- rmamv(yi, vi, mods = ~ x, random = list(~ 1 | study/es, ~ 1 | outcome), data = s)
addcase("m_synth_x", "synth_nested_crossed.csv", "x", random = "study/es,outcome"); addfit("m_synth_x", r)
addci("m_synth_x", r)
r <- rmamv(yi, vi, mods = ~ x, random = list(~ 1 | study/es, ~ 1 | outcome), data = s, method = "ML")
addcase("m_synth_x_ML", "synth_nested_crossed.csv", "x", random = "study/es,outcome", method = "ML"); addfit("m_synth_x_ML", r)
r <- rmamv(yi, vi, mods = ~ x, random = list(~ 1 | study, ~ 1 | outcome), data = s)
addcase("m_synth_crossed", "synth_nested_crossed.csv", "x", random = "study,outcome"); addfit("m_synth_crossed", r)
addci("m_synth_crossed", r)
# a component at the boundary: outcome effects absent from the data
s0 <- s; s0$yi <- round(0.2 + u + rnorm(nrow(s), 0, sqrt(s$vi)), 4)
wcsv(s0, "synth_boundary.csv")
s0 <- read.csv("data/synth_boundary.csv")
r <- rmamv(yi, vi, random = list(~ 1 | study/es, ~ 1 | outcome), data = s0)
addcase("m_boundary", "synth_boundary.csv", "1", random = "study/es,outcome"); addfit("m_boundary", r)

## 6. four levels (region/district/school) and a factor moderator with crossed effects
set.seed(2026916)
g <- expand.grid(region = paste0("R", 1:4), district = 1:3, school = 1:3)
g <- g[sample(nrow(g), 30), ]
g$arm <- sample(c("ctrl", "waitlist", "usual"), nrow(g), replace = TRUE)
g$rater <- sample(paste0("rater", 1:5), nrow(g), replace = TRUE)
ur <- rnorm(4, 0, 0.2)[as.integer(factor(g$region))]
ud <- rnorm(12, 0, 0.15)[as.integer(factor(paste(g$region, g$district)))]
g$vi <- round(runif(nrow(g), 0.02, 0.08), 4)
g$yi <- round(0.3 + ur + ud + rnorm(5, 0, 0.1)[as.integer(factor(g$rater))] +
              0.1 * (g$arm == "usual") + rnorm(nrow(g), 0, sqrt(g$vi)), 4)
wcsv(g, "synth_four_level.csv")
g <- read.csv("data/synth_four_level.csv")
r <- rmamv(yi, vi, random = ~ 1 | region/district/school, data = g)
addcase("m_four_level", "synth_four_level.csv", "1", random = "region/district/school"); addfit("m_four_level", r)
r <- rmamv(yi, vi, mods = ~ arm, random = list(~ 1 | region/district, ~ 1 | rater), data = g, method = "ML")
addcase("m_nested_crossed_factor_ML", "synth_four_level.csv", "arm", random = "region/district,rater", method = "ML")
addfit("m_nested_crossed_factor_ML", r)
nd4 <- data.frame(arm = c("usual", "ctrl"))
wcsv(nd4, "four_level_new.csv")
Xn <- model.matrix(~ arm, data = rbind(g[, "arm", drop = FALSE], nd4))[-(1:nrow(g)), -1, drop = FALSE]
addcase("m_nested_crossed_pred", "synth_four_level.csv", "arm", random = "region/district,rater", method = "ML",
        newdata = "four_level_new.csv")
addfit("m_nested_crossed_pred", r); addpred("m_nested_crossed_pred", predict(r, newmods = Xn))

## 5. a single-level random factor: metafor fixes its sigma2 to 0 (with a warning)
d1 <- data.frame(yi = c(.1, .3, .2, .5, .4, .1, .35, .15), vi = c(.01, .02, .03, .01, .02, .02, .015, .025),
                 s = c("a", "a", "b", "b", "c", "c", "d", "d"), o = "x")
wcsv(d1, "single_level.csv")
d1 <- read.csv("data/single_level.csv")
r <- suppressWarnings(rma.mv(yi, vi, random = list(~ 1 | s, ~ 1 | o), data = d1,
    control = list(optimizer = "optim", optmethod = "BFGS", reltol = 1e-15)))
addcase("m_single_level", "single_level.csv", "1", random = "s,o"); addfit("m_single_level", r)

## 7. random designs: 12 synthetic data sets, unbalanced studies (1-6 effects),
## 2-6 crossed outcomes, true components 0 or not, REML and ML, one moderator
set.seed(99)
for (rep in 1:12) {
    ns <- sample(4:25, 1)
    nes <- sample(1:6, ns, replace = TRUE)
    d <- data.frame(study = rep(paste0("S", 1:ns), nes))
    d$es <- ave(seq_len(nrow(d)), d$study, FUN = seq_along)
    no <- sample(2:6, 1)
    d$out <- sample(paste0("o", 1:no), nrow(d), replace = TRUE)
    d$x <- round(rnorm(nrow(d)), 2)
    s1 <- c(0, 0.01, 0.1, 0.5)[sample(4, 1)]; s2 <- c(0, 0.02, 0.2)[sample(3, 1)]; s3 <- c(0, 0.05)[sample(2, 1)]
    d$vi <- round(runif(nrow(d), 0.005, 0.2), 4)
    d$yi <- round(0.1 + 0.2 * d$x + rnorm(ns, 0, sqrt(s1))[as.integer(factor(d$study, levels = paste0("S", 1:ns)))] +
                  rnorm(nrow(d), 0, sqrt(s2)) + rnorm(no, 0, sqrt(s3))[as.integer(factor(d$out))] +
                  rnorm(nrow(d), 0, sqrt(d$vi)), 4)
    f <- sprintf("sim%02d.csv", rep)
    wcsv(d, f)
    d <- read.csv(file.path("data", f))
    spec <- c("study/es", "study/es,out", "study,out")[(rep %% 3) + 1]
    rnd <- switch(spec, "study/es" = ~ 1 | study/es, "study/es,out" = list(~ 1 | study/es, ~ 1 | out),
                  "study,out" = list(~ 1 | study, ~ 1 | out))
    meth <- if (rep %% 2) "REML" else "ML"
    r <- rmamv(yi, vi, mods = ~ x, random = rnd, data = d, method = meth)
    id <- sprintf("sim%02d", rep)
    addcase(id, f, "x", random = spec, method = meth)
    addfit(id, r)
}

write.csv(cases, "cases.csv", row.names = FALSE)
write.csv(exp, "expected.csv", row.names = FALSE)
cat(nrow(cases), "cases,", nrow(exp), "values\n")
