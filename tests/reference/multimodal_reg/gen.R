# tests/reference/multimodal_reg/gen.R - as ../multimodal/gen.R, meta-regression sets only
# tau2 has a local maximum at 0 and a higher one inside (issue 11 items 2, 9).
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
# Run here: Rscript gen.R (R 4.2.2, metafor 3.8-1).  A seeded random search
# over k = 15 sets (intercept only) and k = 15 sets with one moderator: keep
# those where the score is negative at tau2 = 0 and at the Hedges start
# value (so a search from there stops at 0) while the likelihood on a fine
# grid has a higher interior maximum, and where metafor's rma() (tightly
# converged) reports that interior maximum.  Writes mm_NN.csv (yi, vi, x with
# 17 digits) and expected.csv: set, model (int = ~1, mod = ~x), method, tau2,
# logLik of metafor's fit, logLik at tau2 = 0, estimate(s).
suppressMessages(library(metafor))
set.seed(20261203)
ll_fun <- function(t, yi, vi, X, reml) {
  w <- 1 / (vi + t); W <- diag(w)
  XtWX <- t(X) %*% W %*% X
  b <- solve(XtWX, t(X) %*% (w * yi)); e <- yi - X %*% b
  l <- -0.5 * sum(log(vi + t)) - 0.5 * sum(w * e^2)
  if (reml) l <- l - 0.5 * determinant(XtWX, logarithm = TRUE)$modulus
  as.numeric(l)
}
found <- list(); n <- 0; tries <- 0
want <- list(c("mod", "ML"), c("mod", "REML"))
got <- setNames(rep(0, 2), sapply(want, paste, collapse = "_"))
while (any(got < 2) && tries < 200000) {
  tries <- tries + 1
  k <- 15
  vi <- exp(runif(k, log(0.001), log(2)))
  yi <- rnorm(k, 0, sqrt(vi))
  big <- sample(k, sample(1:3, 1)); yi[big] <- yi[big] + rnorm(length(big), 0, 1.5)
  x <- round(runif(k, 0, 10), 1)
  for (wi in seq_along(want)) {
    key <- paste(want[[wi]], collapse = "_"); if (got[key] >= 2) next
    mod <- want[[wi]][1] == "mod"; reml <- want[[wi]][2] == "REML"
    X <- if (mod) cbind(1, x) else matrix(1, k, 1)
    grid <- c(0, exp(seq(log(1e-6), log(20), length.out = 400)))
    ll <- sapply(grid, function(t) ll_fun(t, yi, vi, X, reml))
    if (ll[2] >= ll[1]) next               # need a local max at 0
    j <- which.max(ll); if (j == 1 || ll[j] < ll[1] + 1e-3) next
    # the Hedges start must also have a negative score (the trap)
    he <- tryCatch(rma(yi, vi, mods = if (mod) ~ x else NULL, method = "HE")$tau2, error = function(e) NA)
    if (is.na(he)) next
    if (he > 0) { d <- 1e-7 * max(he, 1e-8)
      if (ll_fun(he + d, yi, vi, X, reml) > ll_fun(he, yi, vi, X, reml)) next }
    fit <- tryCatch(rma(yi, vi, mods = if (mod) ~ x else NULL, method = want[[wi]][2],
                        control = list(threshold = 1e-14, maxiter = 10000, tau2.init = grid[j])),
                    error = function(e) NULL)
    if (is.null(fit) || fit$tau2 <= 0) next
    if (abs(fit$tau2 - grid[j]) > 0.2 * grid[j]) next
    n <- n + 1; got[key] <- got[key] + 1
    fn <- sprintf("mr_%02d.csv", n)
    write.csv(data.frame(yi = sprintf("%.17g", yi), vi = sprintf("%.17g", vi), x = sprintf("%.17g", x)),
              fn, row.names = FALSE, quote = FALSE)
    d <- read.csv(fn)
    # the fit from the data read back, started at the interior mode; and the fit at tau2 = 0
    fit <- rma(d$yi, d$vi, mods = if (mod) d$x else NULL, method = want[[wi]][2],
               control = list(threshold = 1e-14, maxiter = 10000, tau2.init = grid[j]))
    fit0 <- rma(d$yi, d$vi, mods = if (mod) d$x else NULL, method = want[[wi]][2], tau2 = 0)
    fitd <- rma(d$yi, d$vi, mods = if (mod) d$x else NULL, method = want[[wi]][2])
    found[[n]] <- data.frame(set = fn, model = want[[wi]][1], method = want[[wi]][2],
      tau2 = sprintf("%.17g", fit$tau2), logLik = sprintf("%.17g", as.numeric(logLik(fit))),
      logLik0 = sprintf("%.17g", as.numeric(logLik(fit0))),
      b0 = sprintf("%.17g", fit$b[1]), b1 = if (mod) sprintf("%.17g", fit$b[2]) else "NA",
      default_tau2 = sprintf("%.17g", fitd$tau2))
    write.csv(do.call(rbind, found), "expected.csv", row.names = FALSE, quote = FALSE)
  }
}
write.csv(do.call(rbind, found), "expected.csv", row.names = FALSE, quote = FALSE)
cat("tries", tries, "\n"); print(got)
