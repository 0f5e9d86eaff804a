# tests/reference/largek/gen.R - a k = 2324 data set and metafor's Q-profile CI.
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
# Run here: Rscript gen.R (R 4.2.2, metafor 3.8-1).  Writes k2324.csv (yi, vi
# with 17 significant digits, read back exactly) and expected.csv: rma(...,
# method = M) converged tightly and confint() with the search range raised
# (tau2.max = max(1e10, 1e4 tau2), as ../../../../shared/reference/wave2 does)
# so that every bound is a root.  At this k GSL's chi-square quantiles are
# wrong (issue 11), so these cases fail without src/models/quantile.c.
suppressMessages(library(metafor))
set.seed(20261201)
k <- 2324
vi <- runif(k, 0.01, 0.3)
yi <- rnorm(k, 0.3, sqrt(vi + 0.04))
dat <- data.frame(yi = sprintf("%.17g", yi), vi = sprintf("%.17g", vi))
write.csv(dat, "k2324.csv", row.names = FALSE, quote = FALSE)
d <- read.csv("k2324.csv")
rows <- list()
for (m in c("REML", "DL", "PM")) {
  res <- rma(d$yi, d$vi, method = m, control = list(threshold = 1e-14, maxiter = 10000, tol = 1e-14))
  ci <- confint(res, control = list(tol = 1e-14, tau2.max = max(1e10, 1e4 * res$tau2)))
  rows[[length(rows) + 1]] <- data.frame(method = m, tau2 = sprintf("%.17g", res$tau2),
    tau2_ci_lb = sprintf("%.17g", ci$random[1, 2]), tau2_ci_ub = sprintf("%.17g", ci$random[1, 3]),
    I2_ci_lb = sprintf("%.17g", ci$random[3, 2]), I2_ci_ub = sprintf("%.17g", ci$random[3, 3]),
    H2_ci_lb = sprintf("%.17g", ci$random[4, 2]), H2_ci_ub = sprintf("%.17g", ci$random[4, 3]))
}
write.csv(do.call(rbind, rows), "expected.csv", row.names = FALSE, quote = FALSE)
