# tests/reference/bias/gen.R - metafor oracles for the bias diagnostics (tests/test_bias.c).
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Run from this folder: Rscript gen.R  (R 4.2.2, metafor 3.8-1, metadat, numDeriv).
# Writes d_*.csv (yi, vi, ni) and expected.csv (data, method, what, key, value), the
# values of regtest(), ranktest(), trimfill(), fsn(), lm() PET/PEESE and
# selmodel(type = "stepfun") on fits rma(yi, vi, method = M) converged far past
# metafor's defaults.  selmodel: metafor's fit, then Newton steps on metafor's own
# step-function log-likelihood (numDeriv gradient/Hessian) to the optimum, SEs from
# numDeriv's Hessian there as selmodel() computes them (a tight optim(BFGS) run
# instead stops at maxit without converging); cases whose optimum is on the
# boundary (a delta at 0 or 100, tau2 at 0 for a random-effects fit) are left out.
suppressMessages({library(metafor); library(numDeriv)})
ctrl <- list(threshold = 1e-13, maxiter = 10000, stepadj = 0.5, tol = 1e-15)
out <- list()
put <- function(data, method, what, key, value)
  out[[length(out) + 1]] <<- data.frame(data = data, method = method, what = what, key = key,
                                         value = format(value, digits = 17))

sets <- list()
sets$hackshaw1998 <- data.frame(yi = dat.hackshaw1998$yi, vi = dat.hackshaw1998$vi, ni = NA_real_)
d <- escalc("SMD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = dat.normand1999)
sets$normand1999 <- data.frame(yi = c(d$yi), vi = d$vi, ni = with(dat.normand1999, n1i + n2i))
d <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
sets$bcg <- data.frame(yi = c(d$yi), vi = d$vi, ni = with(dat.bcg, tpos + tneg + cpos + cneg))
d <- escalc("ZCOR", ri = ri, ni = ni, data = dat.molloy2014)
sets$molloy2014 <- data.frame(yi = c(d$yi), vi = d$vi, ni = dat.molloy2014$ni)
d <- dat.bangertdrowns2004[!is.na(dat.bangertdrowns2004$yi), ]
sets$bangertdrowns2004 <- data.frame(yi = d$yi, vi = d$vi, ni = d$ni)
d <- escalc("PLO", xi = xi, ni = ni, data = dat.pritz1997)
sets$pritz1997 <- data.frame(yi = c(d$yi), vi = d$vi, ni = dat.pritz1997$ni)
set.seed(2026141)
# k = 6 (fewer than 10: the tests warn)
ni <- sample(20:200, 6); vi <- 4 / ni; yi <- rnorm(6, 0.3, sqrt(vi + 0.02))
sets$small6 <- data.frame(yi = round(yi, 4), vi = round(vi, 6), ni = ni)
# ties in both yi* (two identical studies) and vi (ranktest's normal approximation)
ni <- rep(c(30, 60, 90, 120), 3); vi <- 4 / ni; yi <- round(rnorm(12, 0.2, sqrt(vi)), 2)
yi[5] <- yi[1]; vi[5] <- vi[1]
sets$ties12 <- data.frame(yi = yi, vi = vi, ni = ni)
# small studies with larger effects: studies missing on the left
ni <- sample(15:400, 25); vi <- 4 / ni; yi <- 0.1 + 1.2 * sqrt(vi) + rnorm(25, 0, sqrt(vi + 0.01))
sets$asym_left25 <- data.frame(yi = round(yi, 5), vi = round(vi, 7), ni = ni)
# small studies with smaller effects: studies missing on the right
ni <- sample(15:400, 20); vi <- 4 / ni; yi <- -0.2 - 1.5 * sqrt(vi) + rnorm(20, 0, sqrt(vi + 0.03))
sets$asym_right20 <- data.frame(yi = round(yi, 5), vi = round(vi, 7), ni = ni)

# publication selection simulated: non-significant studies kept with probability < 1
set.seed(2026142)
mk <- function(k, mu, tau2, keep) {
  y <- c(); v <- c(); n <- c()
  while (length(y) < k) {
    ni <- sample(20:300, 1); vi <- 4/ni; yi <- rnorm(1, mu, sqrt(vi + tau2))
    p <- pnorm(yi/sqrt(vi), lower.tail=FALSE)
    if (p <= 0.025 || runif(1) < keep(p)) { y <- c(y, yi); v <- c(v, vi); n <- c(n, ni) }
  }
  data.frame(yi=round(y,5), vi=round(v,7), ni=n)
}
sets$selected60 <- mk(60, 0.15, 0.04, function(p) if (p < 0.5) 0.6 else 0.3)
sets$selected40 <- mk(40, 0.3, 0.1, function(p) if (p < 0.1) 0.7 else 0.4)

stepsets <- list(s1 = c(0.025, 1), s2 = c(0.05, 0.5, 1), s3 = c(0.025, 0.1, 0.5, 1))

refine_sel <- function(r, steps) {
  # metafor's fit (default control), then Newton steps on metafor's own
  # log-likelihood (.selmodel.ll.stepfun) in natural parameters with numDeriv's
  # gradient and Hessian, to the converged optimum; SEs from numDeriv's Hessian
  # (r = 6) at that point, as selmodel() computes them; LRT against logLik of
  # the ML (or FE) model without selection.
  N <- length(steps)
  s <- selmodel(r, type = "stepfun", steps = steps)
  fe <- r$method == "FE"
  pv <- pnorm(r$yi / sqrt(r$vi), lower.tail = FALSE)
  pgrp <- sapply(pv, function(p) which(p <= steps)[1])
  llf <- function(th) {
    tau2 <- if (fe) 0 else th[2]
    delta <- c(1, th[(if (fe) 2 else 3):length(th)])
    -metafor:::.selmodel.ll.stepfun(c(th[1], tau2, delta), yi = r$yi, vi = r$vi, X = r$X,
      preci = rep(1, r$k), k = r$k, pX = 1, pvals = pv, deltas = N, delta.val = rep(NA, N),
      delta.transf = FALSE, mapfun = rep(NA, N), delta.min = rep(0, N), delta.max = rep(100, N),
      tau2.val = if (fe) 0 else NA, tau2.transf = FALSE, tau2.max = Inf, beta.val = NA,
      wi.fun = NULL, steps = steps, pgrp = pgrp, alternative = "greater", pval.min = 0,
      intCtrl = NULL, verbose = FALSE, digits = 4)
  }
  th <- c(s$beta[1], if (fe) NULL else s$tau2, s$delta[-1])
  th0 <- th
  conv <- FALSE
  for (it in 1:30) {
    g <- grad(llf, th); H <- hessian(llf, th)
    step <- -solve(H, g); th <- th + step
    if (max(abs(step) / pmax(abs(th), 1e-3)) < 1e-11) { conv <- TRUE; break }
  }
  if (!conv) return(NULL)
  if (!fe && th[2] < 1e-6) return(NULL)
  dl <- th[(if (fe) 2 else 3):length(th)]
  if (any(dl < 1e-3 | dl > 99.9)) return(NULL)
  H <- hessian(llf, th, method.args = list(r = 6))
  V <- chol2inv(chol(-H))
  se <- sqrt(diag(V))
  ml <- rma(r$yi, r$vi, method = if (fe) "FE" else "ML", control = ctrl)
  ll <- llf(th)
  LRT <- max(0, -2 * (c(logLik(ml, REML = FALSE)) - ll))
  z <- qnorm(0.975)
  list(estimate = th[1], se = se[1], ci_lb = th[1] - z * se[1], ci_ub = th[1] + z * se[1],
       tau2 = if (fe) 0 else th[2], tau2_se = if (fe) NA else se[2], delta = c(1, dl),
       delta_se = c(NA, se[(if (fe) 2 else 3):length(th)]), logLik = ll, LRT = LRT,
       LRT_pval = pchisq(LRT, N - 1, lower.tail = FALSE),
       rel = max(abs(th - th0) / pmax(abs(th), 1e-8)))
}

for (nm in names(sets)) {
  D <- sets[[nm]]
  fn <- paste0("d_", nm, ".csv")
  write.csv(D, fn, row.names = FALSE)
  for (M in c("REML", "DL", "FE")) {
    r <- rma(yi, vi, data = D, method = M, control = ctrl)
    r$ni <- D$ni
    put(nm, M, "fit", "k", r$k)
    preds <- if (anyNA(D$ni)) c("sei", "vi") else c("sei", "vi", "ni", "ninv", "sqrtni", "sqrtninv")
    for (pred in preds) for (mod in c("rma", "lm")) {
      e <- if (anyNA(D$ni)) regtest(r, model = mod, predictor = pred) else regtest(r, model = mod, predictor = pred, ni = D$ni)
      w <- paste0("egger_", mod, "_", pred)
      put(nm, M, w, "stat", e$zval); put(nm, M, w, "pval", e$pval)
      put(nm, M, w, "df", if (mod == "lm") e$dfs else NA)
      put(nm, M, w, "limit_estimate", if (is.null(e$est)) NA else e$est)
      put(nm, M, w, "limit_ci_lb", if (is.null(e$ci.lb)) NA else e$ci.lb)
      put(nm, M, w, "limit_ci_ub", if (is.null(e$ci.ub)) NA else e$ci.ub)
    }
    rt <- suppressWarnings(ranktest(r))
    put(nm, M, "rank", "tau", rt$tau); put(nm, M, "rank", "pval", rt$pval)
    for (est in c("L0", "R0", "Q0")) {
      tf <- tryCatch(trimfill(r, estimator = est, control = ctrl), error = function(e) NULL)
      w <- paste0("trimfill_", est)
      if (is.null(tf)) { put(nm, M, w, "error", 1); next }  # metafor stops (e.g. Q0's sqrt of a negative)
      put(nm, M, w, "k0", tf$k0); put(nm, M, w, "se_k0", tf$se.k0); put(nm, M, w, "side", if (tf$side == "left") 0 else 1)
      put(nm, M, w, "estimate", tf$beta[1]); put(nm, M, w, "se", tf$se); put(nm, M, w, "ci_lb", tf$ci.lb)
      put(nm, M, w, "ci_ub", tf$ci.ub); put(nm, M, w, "tau2", tf$tau2)
      if (tf$k0 > 0) {
        fy <- tf$yi[tf$fill]; fv <- tf$vi[tf$fill]; o <- order(fy)
        for (j in seq_along(o)) { put(nm, M, w, paste0("fill_yi_", j), fy[o[j]]); put(nm, M, w, paste0("fill_vi_", j), fv[o[j]]) }
      }
    }
    for (ss in names(stepsets)) {
      res <- tryCatch(suppressWarnings(refine_sel(r, stepsets[[ss]])), error = function(e) NULL)
      if (is.null(res)) next
      w <- paste0("selmodel_", ss)
      for (key in c("estimate", "se", "ci_lb", "ci_ub", "tau2", "tau2_se", "LRT", "LRT_pval", "logLik"))
        put(nm, M, w, key, res[[key]])
      for (j in seq_along(res$delta)) { put(nm, M, w, paste0("delta_", j), res$delta[j]); put(nm, M, w, paste0("delta_se_", j), res$delta_se[j]) }
      put(nm, M, w, "newton_vs_metafor_rel", res$rel)
    }
  }
  # fsn and PET/PEESE do not depend on the method
  f1 <- fsn(yi, vi, data = D); f2 <- fsn(yi, vi, data = D, type = "Orwin"); f3 <- fsn(yi, vi, data = D, type = "Rosenberg")
  put(nm, "-", "fsn", "rosenthal", f1$fsnum); put(nm, "-", "fsn", "rosenthal_pval", f1$pval)
  put(nm, "-", "fsn", "orwin", f2$fsnum); put(nm, "-", "fsn", "orwin_mean", f2$meanes); put(nm, "-", "fsn", "orwin_target", f2$target)
  put(nm, "-", "fsn", "rosenberg", f3$fsnum); put(nm, "-", "fsn", "rosenberg_pval", f3$pval)
  D$sei <- sqrt(D$vi)
  for (w in c("pet", "peese")) {
    m <- if (w == "pet") lm(yi ~ sei, weights = 1/vi, data = D) else lm(yi ~ vi, weights = 1/vi, data = D)
    cf <- coef(summary(m)); ci <- confint(m)
    put(nm, "-", w, "estimate", cf[1, 1]); put(nm, "-", w, "se", cf[1, 2]); put(nm, "-", w, "pval", cf[1, 4])
    put(nm, "-", w, "ci_lb", ci[1, 1]); put(nm, "-", w, "ci_ub", ci[1, 2])
  }
}
write.csv(do.call(rbind, out), "expected.csv", row.names = FALSE, quote = FALSE)
# R's exact null distribution of Kendall's statistic (cor.test's pkendall)
kt <- list()
for (n in c(2, 3, 5, 9, 13, 25, 37, 60, 120)) {
  M <- n * (n - 1) / 2
  for (q in unique(round(c(0, 1, 2, M / 10, M / 4, M / 3, M / 2 - 1, M / 2, M / 2 + 1, 2 * M / 3, M - 2, M - 1, M))))
    kt[[length(kt) + 1]] <- data.frame(n = n, q = q, p = format(.Call(stats:::C_pKendall, q, n), digits = 17))
}
write.csv(do.call(rbind, kt), "kendall.csv", row.names = FALSE, quote = FALSE)
