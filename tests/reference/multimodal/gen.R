# tests/reference/multimodal/gen.R - intercept-only data sets whose ML or REML
# likelihood of tau2 has a local maximum at 0 and a higher one inside (issue 11
# item 2); ../multimodal_reg/gen.R makes the meta-regression ones (item 9).
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
# Run here: Rscript gen.R (R 4.2.2, metafor 3.8-1).  A seeded random search over
# k = 15 sets (variances log-uniform on [0.001, 2], effects N(0, vi) with an
# outlying shift N(0, 1.5^2) in about one study in seven): keep those where the
# score is negative at tau2 = 0 and at the Hedges start value (so a Newton
# search from there stops at 0) while the likelihood on a fine grid has a
# higher interior maximum that metafor's rma() (tightly converged, started
# there) reports.  Writes mm_NN.csv (yi, vi with 17 digits, read back exactly)
# and expected.csv: set, model (int), method, tau2, logLik of metafor's fit,
# logLik at tau2 = 0, estimate b0, b1 (NA), and metafor's default-start tau2.
suppressMessages(library(metafor))
set.seed(20261204)
ll_int <- function(t, yi, vi, reml) {
  w <- 1 / (vi + t); mu <- sum(w * yi) / sum(w)
  l <- -0.5 * sum(log(vi + t)) - 0.5 * sum(w * (yi - mu)^2)
  if (reml) l <- l - 0.5 * log(sum(w))
  l
}
found <- list(); n <- 0; tries <- 0
got <- c(ML = 0, REML = 0)
grid <- c(0, exp(seq(log(1e-6), log(20), length.out = 400)))
while (any(got < 2) && tries < 500000) {
  tries <- tries + 1
  k <- 15
  vi <- exp(runif(k, log(0.001), log(2)))
  yi <- rnorm(k, 0, sqrt(vi))
  out <- runif(k) < 0.15; yi[out] <- yi[out] + rnorm(sum(out), 0, 1.5)
  for (m in names(got)) {
    if (got[m] >= 2) next
    reml <- m == "REML"
    ll <- vapply(grid, ll_int, 0, yi = yi, vi = vi, reml = reml)
    if (ll[2] >= ll[1]) next
    j <- which.max(ll); if (j == 1 || ll[j] < ll[1] + 1e-3) next
    he <- max(0, var(yi) - mean(vi))   # metafor's HE for the intercept-only model
    if (he > 0) { d <- 1e-7 * he
      if (ll_int(he + d, yi, vi, reml) > ll_int(he, yi, vi, reml)) next }
    fit <- tryCatch(rma(yi, vi, method = m, control = list(threshold = 1e-14, maxiter = 10000,
                    tau2.init = grid[j])), error = function(e) NULL)
    if (is.null(fit) || fit$tau2 <= 0 || abs(fit$tau2 - grid[j]) > 0.2 * grid[j]) next
    n <- n + 1; got[m] <- got[m] + 1
    fn <- sprintf("mm_%02d.csv", n)
    write.csv(data.frame(yi = sprintf("%.17g", yi), vi = sprintf("%.17g", vi)), fn,
              row.names = FALSE, quote = FALSE)
    d <- read.csv(fn)
    fit <- rma(d$yi, d$vi, method = m, control = list(threshold = 1e-14, maxiter = 10000, tau2.init = grid[j]))
    fit0 <- rma(d$yi, d$vi, method = m, tau2 = 0)
    fitd <- rma(d$yi, d$vi, method = m)
    found[[n]] <- data.frame(set = fn, model = "int", method = m,
      tau2 = sprintf("%.17g", fit$tau2), logLik = sprintf("%.17g", as.numeric(logLik(fit))),
      logLik0 = sprintf("%.17g", as.numeric(logLik(fit0))), b0 = sprintf("%.17g", fit$b[1]),
      b1 = "NA", default_tau2 = sprintf("%.17g", fitd$tau2))
    write.csv(do.call(rbind, found), "expected.csv", row.names = FALSE, quote = FALSE)
  }
}
cat("tries", tries, "\n"); print(got)
