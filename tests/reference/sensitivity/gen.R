# tests/reference/sensitivity/gen.R - metafor oracles for leave1out, cumul, influence/baujat.
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Run from this folder: Rscript gen.R  (R 4.2.2, metafor 3.8-1, metadat 1.2-0).
# Writes the inputs (d_*.csv: study,yi,vi plus moderator/order columns; doubles
# with 17 significant digits, and every expected value computed from the values
# read back) and expected_leave1out.csv, expected_cumul.csv, expected_influence.csv
# (one line per case and row; row 0 of leave1out is the full fit).
suppressMessages(library(metafor))
ctl <- list(threshold = 1e-13, maxiter = 10000, stepadj = 0.5, tol = 1e-15)
methods <- c("FE", "DL", "HE", "HS", "HSk", "SJ", "ML", "REML", "EB", "PM")
f17 <- function(x) ifelse(is.na(x), "NA", sprintf("%.17g", x))

write_data <- function(name, df) {
  fn <- paste0("d_", name, ".csv")
  df$yi <- as.numeric(f17(df$yi)); df$vi <- as.numeric(f17(df$vi))
  out <- df
  out$yi <- f17(df$yi); out$vi <- f17(df$vi)
  write.csv(out, fn, row.names = FALSE, quote = TRUE)
  read.csv(fn, stringsAsFactors = FALSE)
}

sets <- list()
# 1. BCG, log RR (k = 13; two trials in 1973)
bcg <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
sets$bcg <- write_data("bcg", data.frame(study = paste(bcg$author, bcg$year), yi = bcg$yi, vi = bcg$vi,
                                       year = bcg$year, ablat = bcg$ablat, alloc = bcg$alloc))
# 2. Normand 1999, SMD (k = 9)
nd <- escalc(measure = "SMD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i,
             data = dat.normand1999)
sets$normand <- write_data("normand", data.frame(study = nd$source, yi = nd$yi, vi = nd$vi, n = nd$n1i + nd$n2i))
# 3. Hackshaw 1998, log OR (k = 37), order by year with many ties
hk <- dat.hackshaw1998
sets$hackshaw <- write_data("hackshaw", data.frame(study = paste(hk$author, hk$year, hk$study), yi = hk$yi, vi = hk$vi,
                                                 year = hk$year))
# 4. small k, synthetic (seed 2026131)
set.seed(2026131)
sets$k2 <- write_data("k2", data.frame(study = c("A", "B"), yi = c(0.31, -0.12), vi = c(0.04, 0.09)))
sets$k3 <- write_data("k3", data.frame(study = c("A", "B", "C"), yi = rnorm(3, 0.2, 0.4), vi = runif(3, 0.02, 0.2)))
# 5. ties in the cumul order, synthetic: 10 studies, order column with repeats
k <- 10
vi <- runif(k, 0.01, 0.3)
sets$ties <- write_data("ties", data.frame(study = sprintf("S%02d", 1:k), yi = rnorm(k, 0.3, sqrt(vi + 0.08)), vi = vi,
                                         yr = c(2001, 1999, 2001, 2005, 1999, 2003, 2001, 2005, 1999, 2003)))
# 6. a meta-regression set with a factor: 14 studies
k <- 14
vi <- runif(k, 0.02, 0.25); x1 <- round(rnorm(k, 10, 4), 1); grp <- sample(c("b", "a", "c"), k, replace = TRUE)
sets$regv <- write_data("regv", data.frame(study = sprintf("T%02d", 1:k),
                                         yi = 0.1 + 0.04 * x1 + ifelse(grp == "b", 0.3, 0) + rnorm(k, 0, sqrt(vi + 0.05)),
                                         vi = vi, x1 = x1, grp = grp))

L <- list(); C <- list(); I <- list()
l1o_cols <- function(case, data, m, tst, row, lab, b, se, z, p, lb, ub, Q, Qp, t2, I2, H2)
  data.frame(case = case, data = data, method = m, test = tst, row = row, omitted = lab,
             estimate = f17(b), se = f17(se), stat = f17(z), pval = f17(p), ci_lb = f17(lb), ci_ub = f17(ub),
             Q = f17(Q), Q_pval = f17(Qp), tau2 = f17(t2), I2 = f17(I2), H2 = f17(H2))

for (dn in c("bcg", "normand", "hackshaw", "k2", "k3", "ties")) {
  d <- sets[[dn]]
  for (m in methods) for (tst in c("z", "knha")) {
    r <- tryCatch(rma(yi, vi, data = d, method = m, test = tst, control = ctl, slab = study), error = function(e) NULL)
    if (is.null(r)) { cat("skip", dn, m, tst, "\n"); next }
    case <- paste(dn, m, tst, sep = "_")
    # leave1out
    l <- tryCatch(suppressWarnings(leave1out(r)), error = function(e) NULL)
    if (!is.null(l)) {
      t2 <- if (m == "FE") rep(0, length(l$estimate)) else l$tau2
      st <- if (tst == "z") l$zval else l$tval
      L[[length(L) + 1]] <- l1o_cols(case, dn, m, tst, 0, "", r$b[1], r$se, r$zval, r$pval, r$ci.lb, r$ci.ub,
                                     r$QE, r$QEp, r$tau2, r$I2, r$H2)
      L[[length(L) + 1]] <- l1o_cols(case, dn, m, tst, seq_along(l$estimate), d$study, l$estimate, l$se, st, l$pval,
                                     l$ci.lb, l$ci.ub, l$Q, l$Qp, t2, l$I2, l$H2)
    }
    # cumul: file order, by year / yr / n, decreasing too
    ordcol <- switch(dn, bcg = "year", hackshaw = "year", ties = "yr", normand = "n", NA)
    variants <- list(list(col = "", dec = FALSE))
    if (!is.na(ordcol)) variants <- c(variants, list(list(col = ordcol, dec = FALSE), list(col = ordcol, dec = TRUE)))
    for (vv in variants) {
      cu <- if (vv$col == "") suppressWarnings(cumul(r)) else
        suppressWarnings(cumul(r, order = d[[vv$col]], decreasing = vv$dec))
      t2 <- if (m == "FE") rep(0, length(cu$estimate)) else cu$tau2
      st <- if (tst == "z") cu$zval else cu$tval
      x <- l1o_cols(paste0(case, "_", vv$col, if (vv$dec) "_dec" else ""), dn, m, tst, seq_along(cu$estimate),
                    cu$slab, cu$estimate, cu$se, st, cu$pvals, cu$ci.lb, cu$ci.ub, cu$Q, cu$Qp, t2, cu$I2, cu$H2)
      names(x)[names(x) == "omitted"] <- "added"
      x$order <- vv$col; x$decreasing <- as.integer(vv$dec)
      C[[length(C) + 1]] <- x
    }
    # influence + baujat (k >= 2)
    inf_rows <- function(r, case, dn, m, tst, mods) {
      inf <- influence(r)
      pdf(NULL); bj <- baujat(r); dev.off()
      dfb <- do.call(cbind, unclass(inf$dfbs)[seq_len(r$p)])
      data.frame(case = case, data = dn, method = m, test = tst, mods = mods, row = seq_len(r$k), study = inf$inf$slab,
                 rstudent = f17(inf$inf$rstudent), dffits = f17(inf$inf$dffits), cook_d = f17(inf$inf$cook.d),
                 cov_r = f17(inf$inf$cov.r), tau2_del = f17(if (m == "FE") 0 * inf$inf$QE.del else inf$inf$tau2.del),
                 QE_del = f17(inf$inf$QE.del), hat = f17(inf$inf$hat), weight = f17(inf$inf$weight),
                 dfbetas = apply(dfb, 1, function(z) paste(f17(z), collapse = ";")),
                 influential = as.integer(inf$is.infl), baujat_x = f17(bj$x), baujat_y = f17(bj$y))
    }
    x <- tryCatch(inf_rows(r, case, dn, m, tst, ""), error = function(e) { cat("infl fail", case, conditionMessage(e), "\n"); NULL })
    if (!is.null(x)) I[[length(I) + 1]] <- x
  }
}
# meta-regression influence: bcg ~ ablat, bcg ~ ablat + year, regv ~ x1 + grp
for (spec in list(list("bcg", "ablat", ~ ablat), list("bcg", "ablat,year", ~ ablat + year), list("regv", "x1,grp", ~ x1 + grp))) {
  d <- sets[[spec[[1]]]]
  for (m in methods) for (tst in c("z", "knha")) {
    r <- tryCatch(rma(yi, vi, mods = spec[[3]], data = d, method = m, test = tst, control = ctl, slab = study),
                  error = function(e) NULL)
    if (is.null(r)) { cat("skip reg", spec[[1]], m, tst, "\n"); next }
    case <- paste(spec[[1]], gsub(",", "+", spec[[2]]), m, tst, sep = "_")
    x <- tryCatch(inf_rows(r, case, spec[[1]], m, tst, spec[[2]]), error = function(e) { cat("infl fail", case, conditionMessage(e), "\n"); NULL })
    if (!is.null(x)) I[[length(I) + 1]] <- x
  }
}
write.csv(do.call(rbind, L), "expected_leave1out.csv", row.names = FALSE)
write.csv(do.call(rbind, C), "expected_cumul.csv", row.names = FALSE)
write.csv(do.call(rbind, I), "expected_influence.csv", row.names = FALSE)
cat("leave1out rows", nrow(do.call(rbind, L)), "cumul rows", nrow(do.call(rbind, C)), "influence rows", nrow(do.call(rbind, I)), "\n")
