# tests/reference/newton_cycle/gen.R - metafor's fit of a k = 9 set on which
# a plain Newton/Fisher-scoring solve of the REML equation cycles.
# data.csv is group g149993 of the k = 9 benchmark file of
# bench/compare_metafor.sh (awk, seed 7, 200000 groups).  Its REML
# likelihood has a local minimum near tau2 = 0.0041, a local maximum near
# 0.0049 and its global maximum at tau2 = 0; metafor converges to the
# interior maximum and then keeps 0 (ll0check, "Setting tau^2 = 0").
# Run: Rscript gen.R  (metafor 3.8-1) -> expected.csv
suppressPackageStartupMessages(library(metafor))
d <- read.csv("data.csv")
out <- NULL
for (m in c("REML", "ML")) {
  r <- suppressWarnings(rma(yi, vi, data = d, method = m,
                            control = list(threshold = 1e-13, maxiter = 10000)))
  l0 <- logLik(rma(yi, vi, data = d, method = m, tau2 = 0))
  out <- rbind(out, data.frame(method = m, tau2 = sprintf("%.17g", r$tau2),
                               b0 = sprintf("%.17g", r$beta[1]),
                               se = sprintf("%.17g", r$se),
                               logLik = sprintf("%.17g", logLik(r)),
                               logLik0 = sprintf("%.17g", l0)))
}
write.csv(out, "expected.csv", row.names = FALSE, quote = FALSE)
