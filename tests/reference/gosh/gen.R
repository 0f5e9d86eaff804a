# tests/reference/gosh/gen.R - metafor oracles for test_gosh and test_permute.
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Run from this folder: Rscript gen.R   (R 4.2.2, metafor 3.8-1, metadat 1.2-0)
# Writes, per data set NAME (NAME.csv: study,yi,vi[,x1,x2]):
#   gosh_NAME_METHOD_subsets.csv  one row per subset: subset (0/1 per study in
#                                 file order), k, estimate, Q, I2, H2, tau2
#   gosh_NAME_METHOD_summary.csv  key,value: estimate/I2 min, q05, median,
#                                 q95, max (quantile type 7); per study j
#                                 est_with_j, est_without_j, i2_with_j, i2_without_j
#   perm_NAME_METHOD.csv          key,value: permutest(exact = TRUE) p-values
# The data files are written by write.csv (15 significant digits) while the
# expected values come from the full-precision values: the inputs differ by
# < 1e-15 relative, which moves the results far less than the tests' tolerances.
suppressMessages(library(metafor))
ctrl <- list(threshold = 1e-13, maxiter = 10000, stepadj = 0.5, tol = 1e-15)
fmt <- function(x) format(x, digits = 17)

dat <- escalc(measure = "SMD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i,
              n2i = n2i, data = dat.normand1999)
sets <- list(normand1999 = data.frame(study = dat$source, yi = as.numeric(dat$yi),
                                      vi = as.numeric(dat$vi)))
# synthetic, heterogeneous, k = 10, with two moderators
set.seed(2026016)
k <- 10
vi <- runif(k, 0.01, 0.3)
x1 <- round(rnorm(k, 40, 12))
x2 <- round(runif(k, 0, 3))
yi <- 0.1 + 0.01 * x1 + rnorm(k, 0, sqrt(0.08 + vi))
sets$synth10 <- data.frame(study = sprintf("S%02d", 1:k), yi = yi, vi = vi, x1 = x1, x2 = x2)
# homogeneous, k = 8 (many subsets with Q < k - 1, tau2 = 0)
set.seed(2026017)
k <- 8
vi <- runif(k, 0.02, 0.2)
sets$homog8 <- data.frame(study = sprintf("H%d", 1:k), yi = 0.3 + rnorm(k, 0, sqrt(vi)), vi = vi)

for (nm in names(sets)) {
  d <- sets[[nm]]
  write.csv(d, paste0(nm, ".csv"), row.names = FALSE)
  for (m in c("FE", "DL", "REML")) {
    fit <- rma(yi, vi, data = d, method = m, control = ctrl)
    g <- gosh(fit, progbar = FALSE)
    inc <- g$incl
    sub <- apply(inc, 1, function(r) paste(ifelse(r, "1", "0"), collapse = ""))
    res <- g$res
    out <- data.frame(subset = sub, k = rowSums(inc), estimate = fmt(res$estimate),
                      Q = fmt(res$QE), I2 = fmt(res$I2), H2 = fmt(res$H2), tau2 = fmt(res$tau2))
    write.csv(out, sprintf("gosh_%s_%s_subsets.csv", nm, m), row.names = FALSE, quote = FALSE)
    q <- function(x) c(min(x), quantile(x, c(.05, .5, .95), type = 7), max(x))
    key <- c(paste0("est_", c("min", "q05", "median", "q95", "max")),
             paste0("i2_", c("min", "q05", "median", "q95", "max")))
    val <- c(q(res$estimate), q(res$I2))
    for (j in seq_len(nrow(d))) {
      key <- c(key, sprintf("est_with_%d", j), sprintf("est_without_%d", j),
               sprintf("i2_with_%d", j), sprintf("i2_without_%d", j))
      val <- c(val, mean(res$estimate[inc[, j]]), mean(res$estimate[!inc[, j]]),
               mean(res$I2[inc[, j]]), mean(res$I2[!inc[, j]]))
    }
    write.csv(data.frame(key = key, value = fmt(val)),
              sprintf("gosh_%s_%s_summary.csv", nm, m), row.names = FALSE, quote = FALSE)
    # sign-flip permutation test (intercept-only), exact: 2^k refits
    if (nm != "synth10" || m != "REML") {
      p <- permutest(fit, exact = TRUE, progbar = FALSE)
      write.csv(data.frame(key = c("pval", "permutations"), value = fmt(c(p$pval, 2^nrow(d)))),
                sprintf("perm_%s_%s.csv", nm, m), row.names = FALSE, quote = FALSE)
    }
  }
}
# meta-regression permutation tests, exact (all distinct orderings of the rows)
d <- sets$synth10[1:7, ]
write.csv(d, "synth7.csv", row.names = FALSE)
for (m in c("REML", "DL")) {
  fit <- rma(yi, vi, mods = ~ x1 + x2, data = d, method = m, control = ctrl)
  p <- permutest(fit, exact = TRUE, progbar = FALSE)
  write.csv(data.frame(key = c(paste0("pval_", 1:3), "QM_pval"), value = fmt(c(p$pval, p$QMp))),
            sprintf("perm_synth7_reg_%s.csv", m), row.names = FALSE, quote = FALSE)
}
