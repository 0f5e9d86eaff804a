# tests/reference/escalc2/gen.R - oracle values for the wave-2 measures and for
# Mantel-Haenszel / Peto pooling, from R metafor 3.8-1 (run: Rscript gen.R here).
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Inputs are synthetic (fixed seed 2026121) plus hand-made edge cases: zero
# cells, xi = ni, tables without events in both arms, r near +-1, ZCOR with
# ni = 4, negative correlations of a paired design.  Every escalc() call uses
# metafor's defaults (add = 1/2, to = "only0" where metafor adds; add = 0
# for PAS, PFT, IRS, IRFT; drop00 = FALSE, vtype "LS").  rma.mh() and
# rma.peto() use their defaults (add = c(1/2, 0), to = c("only0", "none"),
# drop00 = c(TRUE, FALSE), correct = TRUE).  Doubles are written with 17
# significant digits.
suppressPackageStartupMessages(library(metafor))
set.seed(2026121)
f17 <- function(x) ifelse(is.na(x), "NA", trimws(formatC(x, digits = 17, format = "g")))
wr <- function(d, file) write.csv(d, file, row.names = FALSE, quote = FALSE)

# ---- inputs ----
k <- 12
n <- sample(8:200, k)
x <- rbinom(k, n, runif(k, 0.02, 0.6))
props <- data.frame(study = paste0("S", 1:(k + 4)),
                    xi = c(x, 0, 5, 7, 1), ni = c(n, 30, 5, 7, 1))   # zeros, xi = ni, ni = 1
wr(props, "props.csv")

cors <- data.frame(study = paste0("R", 1:10),
                   ri = c(round(runif(6, -0.8, 0.9), 3), -0.999, 0.999, 0, 0.5),
                   ni = c(sample(10:300, 6), 50, 40, 4, 5))
wr(cors, "cors.csv")

ir <- data.frame(study = paste0("I", 1:9), xi = c(rpois(7, 6), 0, 1),
                 ti = c(round(runif(7, 50, 3000), 1), 120, 0.5))
wr(ir, "ir.csv")

rates <- data.frame(study = paste0("T", 1:10),
                    x1i = c(rpois(7, 8), 0, 0, 3), t1i = c(round(runif(7, 100, 5000)), 800, 900, 40),
                    x2i = c(rpois(7, 10), 4, 0, 0), t2i = c(round(runif(7, 100, 5000)), 700, 1000, 60))
wr(rates, "rates.csv")

np <- sample(6:80, 8)
paired <- data.frame(study = paste0("P", 1:8),
                     m1i = round(rnorm(8, 50, 10), 1), m2i = round(rnorm(8, 46, 10), 1),
                     sd1i = round(runif(8, 4, 15), 2), sd2i = round(runif(8, 4, 15), 2),
                     ni = np, ri = c(round(runif(6, -0.3, 0.9), 2), -0.5, 0.95))
wr(paired, "paired.csv")

n1 <- sample(20:300, 10); n2 <- sample(20:300, 10)
a <- rbinom(10, n1, 0.08); cc <- rbinom(10, n2, 0.12)
counts <- data.frame(study = paste0("C", 1:13),
                     ai = c(a, 0, 0, 6), n1i = c(n1, 40, 25, 6),
                     ci = c(cc, 3, 0, 5), n2i = c(n2, 38, 30, 5))    # zero, double zero, all events
wr(counts, "counts.csv")

hr <- data.frame(study = paste0("H", 1:6), yi = c(0.75, 1.32, 0.9, 2.4, 0.51, 1.05),
                 ci_lb = c(0.60, 1.01, 0.55, 1.1, 0.3, 0.98), ci_ub = c(0.94, 1.73, 1.47, 5.2, 0.87, 1.12))
wr(hr, "ratio_ci.csv")

# ---- escalc ----
out <- NULL
add <- function(file, measure, es) {
  out <<- rbind(out, data.frame(csv = file, measure = measure, row = seq_along(es$yi),
                                yi = f17(as.numeric(es$yi)), vi = f17(as.numeric(es$vi))))
}
for (m in c("PR", "PLN", "PLO", "PAS", "PFT"))
  add("props.csv", m, escalc(m, xi = xi, ni = ni, data = props))
for (m in c("COR", "ZCOR"))
  add("cors.csv", m, suppressWarnings(escalc(m, ri = ri, ni = ni, data = cors)))
for (m in c("IR", "IRLN", "IRS", "IRFT"))
  add("ir.csv", m, escalc(m, xi = xi, ti = ti, data = ir))
for (m in c("IRR", "IRD"))
  add("rates.csv", m, escalc(m, x1i = x1i, t1i = t1i, x2i = x2i, t2i = t2i, data = rates))
for (m in c("MC", "SMCC", "SMCR"))
  add("paired.csv", m, escalc(m, m1i = m1i, m2i = m2i, sd1i = sd1i, sd2i = sd2i, ni = ni,
                              ri = ri, data = paired))
for (m in c("OR", "RR", "RD", "PETO"))
  add("counts.csv", m, escalc(m, ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = counts))
# a ratio and its CI on the ratio scale: log, and vi from the log CI width
add("ratio_ci.csv", "HR", data.frame(yi = log(hr$yi),
    vi = ((log(hr$ci_ub) - log(hr$ci_lb)) / (2 * qnorm(0.975)))^2))
wr(out, "expected_escalc.csv")

# ---- rma.mh / rma.peto ----
keys <- c("beta", "se", "zval", "pval", "ci.lb", "ci.ub", "QE", "QEp", "I2", "H2",
          "MH", "MHp", "TA", "TAp", "CO", "COp", "BD", "BDp", "k.yi", "k.pos")
mh <- NULL
addmh <- function(file, measure, method, r) {
  v <- sapply(keys, function(x) { y <- r[[x]]; if (is.null(y)) NA else as.numeric(y) })
  mh <<- rbind(mh, data.frame(csv = file, measure = measure, method = method,
                              t(setNames(f17(v), gsub(".", "_", keys, fixed = TRUE)))))
}
# more tables (seeded): many small trials with rare events
kk <- 25
m1 <- sample(10:60, kk); m2 <- sample(10:60, kk)
rare <- data.frame(study = paste0("Z", 1:kk), ai = rbinom(kk, m1, 0.04), n1i = m1,
                   ci = rbinom(kk, m2, 0.07), n2i = m2)
wr(rare, "rare.csv")
for (f in c("counts.csv", "rare.csv")) {
  d <- read.csv(f)
  for (m in c("OR", "RR", "RD"))
    addmh(f, m, "MH", rma.mh(measure = m, ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = d))
  addmh(f, "OR", "PETO", rma.peto(ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = d))
}
for (m in c("IRR", "IRD"))
  addmh("rates.csv", m, "MH", rma.mh(measure = m, x1i = x1i, t1i = t1i, x2i = x2i, t2i = t2i,
                                     data = rates))
wr(mh, "expected_mh.csv")

# ---- back-transformations (metafor's transf functions) ----
tr <- data.frame(
  fn = c(rep("ilogit", 3), rep("ztor", 3), rep("iarcsin", 4), rep("ipft_hm", 5), rep("isqrt", 2),
         rep("iirft", 3)),
  x = c(-2, 0, 1.5, -0.4, 0, 2, -0.1, 0.3, 1.2, 1.6, 0.2, 0.7, 1.1, 0.01, 1.6, -1, 0.3,
        0.05, 0.2, 0.001),
  aux = c(rep(NA, 10), 30.5, 30.5, 30.5, 30.5, 30.5, NA, NA, 250, 250, 250))
tr$value <- mapply(function(fn, x, aux) switch(fn,
  ilogit = transf.ilogit(x), ztor = transf.ztor(x), iarcsin = transf.iarcsin(x),
  ipft_hm = transf.ipft.hm(x, targs = list(ni = aux)), isqrt = transf.isqrt(x),
  iirft = transf.iirft(x, aux)), tr$fn, tr$x, tr$aux)
tr$value <- f17(tr$value)
wr(tr, "expected_transf.csv")

# ---- the other commands on new measures: reg (PLO ~ ni), trajectory (ZCOR over time) ----
pl <- escalc("PLO", xi = xi, ni = ni, data = props)
rg <- rma(yi, vi, mods = ~ ni, data = pl, control = list(threshold = 1e-13, maxiter = 10000, stepadj = 0.5))
set.seed(2026122)
tz <- do.call(rbind, lapply(1:12, function(s) data.frame(study = paste0("S", s), time = c(1, 2, 4),
  ri = round(pmin(0.9, pmax(-0.9, 0.3 - 0.05 * c(1, 2, 4) + rnorm(3, 0, 0.15))), 3),
  ni = sample(20:200, 3))))
wr(tz, "traj_zcor.csv")
ez <- escalc("ZCOR", ri = ri, ni = ni, data = tz)
tj <- rma.mv(yi, vi, mods = ~ factor(time) - 1, random = ~ time | study, struct = "CS", data = ez,
             control = list(rel.tol = 1e-12, iter.max = 10000, eval.max = 10000))
wr(data.frame(what = c("reg_PLO_intrcpt", "reg_PLO_ni", "traj_ZCOR_t1", "traj_ZCOR_t2", "traj_ZCOR_t4"),
              value = f17(c(rg$beta, tj$beta))), "expected_other.csv")
