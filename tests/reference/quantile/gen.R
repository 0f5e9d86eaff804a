# tests/reference/quantile/gen.R - R's quantiles for test_quantile.c.
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
# Run from this folder: Rscript gen.R  (R 4.2.2; writes quantiles.csv).
# dist: chisq_upper = qchisq(p, df, lower.tail=FALSE), chisq_lower = qchisq(p, df),
# t_upper = qt(p, df, lower.tail=FALSE), norm_upper = qnorm(p, lower.tail=FALSE) (df NA).
dfs <- c(1, 2, 5, 10, 100, 1000, 2000, 2322, 2323, 2500, 5000, 1e4, 5e4, 1e5, 999999, 1e6, 1e7)
ps <- c(0.025, 0.005, 0.05, 1e-10, 0.3, 0.975)
rows <- list()
add <- function(dist, p, df, q) rows[[length(rows) + 1]] <<- data.frame(dist = dist, p = p, df = df, q = q)
for (df in dfs) for (p in ps) {
  add("chisq_upper", p, df, qchisq(p, df, lower.tail = FALSE))
  add("chisq_lower", p, df, qchisq(p, df, lower.tail = TRUE))
  add("t_upper", p, df, qt(p, df, lower.tail = FALSE))
}
for (p in ps) add("norm_upper", p, NA, qnorm(p, lower.tail = FALSE))
out <- do.call(rbind, rows)
out$p <- sprintf("%.17g", out$p)
out$df <- ifelse(is.na(out$df), "NA", sprintf("%.17g", out$df))
out$q <- sprintf("%.17g", out$q)
write.csv(out, "quantiles.csv", row.names = FALSE, quote = FALSE)
