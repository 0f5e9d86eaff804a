# tests/reference/sensitivity/gen_global.R - global-maximum oracles for the ML/REML refits of leave1out, cumul, influence.
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Run from this folder after gen.R: Rscript gen_global.R  (R 4.2.2, metafor 3.8-1).
#
# metafor's leave1out(), cumul() and influence() refit rma.uni() from its
# default start; in a few refits the ML likelihood of tau2 has two local
# maxima and metafor stops at the lower one.  metapool returns the global
# maximum on [0, inf) (issue 11), so for those refits the oracle here is
# the global maximum, found independently of metafor's iteration and of
# metapool's code:
#   - the (restricted) log-likelihood and its score in tau2 are written out
#     below (Viechtbauer 2005, Stat Med; metafor's rma.uni documentation):
#       ML:   ll = -1/2 sum log(v + t) - 1/2 r'Wr,
#             score = sum w^2 r^2 - sum w,
#       REML: ll = ML - 1/2 log det(X'WX),
#             score = sum w^2 r^2 - tr P,  tr P = sum w - tr((X'WX)^-1 X'W^2 X),
#     with W = diag(1/(v + t)) and r the weighted least-squares residuals;
#   - the score's sign is taken on a dense grid (0, then 4000 points with a
#     constant ratio from 1e-6 min v to 100 (range(y)^2 + max v)), every
#     + to - change is solved by uniroot() to 1e-15 relative, 0 is a
#     candidate when the score there is not positive, and the candidate
#     with the highest ll wins; the script stops if any of 400 of those grid
#     points has a higher ll than the winner;
#   - the refit's outputs are then metafor's own: the same leave1out() /
#     cumul() / influence() run with rma.uni() replaced, inside copies of
#     those functions, by a wrapper that refits with tau2 fixed at the
#     global maximum when metafor's estimate has a lower likelihood
#     (difference > 1e-9; logLik of both taken from metafor's logLik()).
# Every ML/REML case of gen.R is run; only the rows that change are
# written, to global_{leave1out,cumul,influence}.csv with the same columns
# as expected_*.csv plus tau2_metafor, loglik_metafor, loglik_global (a file
# with no such row is not written: with metafor 3.8-1 only global_cumul.csv
# has rows, BCG ML by year, 6 trials, z and knha).
suppressMessages(library(metafor))
ctl <- list(threshold = 1e-13, maxiter = 10000, stepadj = 0.5, tol = 1e-15)
f17 <- function(x) ifelse(is.na(x), "NA", sprintf("%.17g", x))

ll_score <- function(t, y, v, X, reml) {
  w <- 1 / (v + t)
  XtW <- t(X * w)
  A <- XtW %*% X
  b <- solve(A, XtW %*% y)
  r <- as.vector(y - X %*% b)
  ll <- -0.5 * sum(log(v + t)) - 0.5 * sum(w * r^2)
  trP <- sum(w)
  if (reml) {
    ll <- ll - 0.5 * as.numeric(determinant(A, logarithm = TRUE)$modulus)
    trP <- sum(w) - sum(diag(solve(A, t(X * w^2) %*% X)))
  }
  list(ll = ll, score = sum(w^2 * r^2) - trP)
}

# the score on the whole grid at once (one column per grid point)
score_grid <- function(grid, y, v, X, reml) {
  if (ncol(X) == 1 && all(X == 1)) {
    W <- 1 / outer(v, grid, `+`)
    mu <- colSums(W * y) / colSums(W)
    R <- y - rep(mu, each = length(y))
    s <- colSums(W^2 * R^2) - colSums(W)
    if (reml) s <- s + colSums(W^2) / colSums(W)
    return(s)
  }
  vapply(grid, function(t) ll_score(t, y, v, X, reml)$score, 0)
}
cache <- new.env()
global_max <- function(y, v, X, reml) {
  key <- paste(c(sprintf("%.17g", c(y, v, X)), reml), collapse = ",")
  if (!is.null(cache[[key]])) return(cache[[key]])
  grid <- c(0, exp(seq(log(1e-6 * min(v)), log(100 * (diff(range(y)))^2 + 100 * max(v)), length.out = 4000)))
  sc <- score_grid(grid, y, v, X, reml)
  cand <- if (sc[1] <= 0) 0 else numeric(0)
  for (j in which(sc[-length(sc)] > 0 & sc[-1] <= 0)) {
    u <- uniroot(function(t) ll_score(t, y, v, X, reml)$score, c(grid[j], grid[j + 1]), tol = 1e-15 * grid[j + 1],
                 maxiter = 10000)
    cand <- c(cand, u$root)
  }
  lls <- sapply(cand, function(t) ll_score(t, y, v, X, reml)$ll)
  best <- cand[which.max(lls)]
  # no point of a coarser grid (every 10th) beats the winner
  llg <- vapply(grid[seq(1, length(grid), by = 10)], function(t) ll_score(t, y, v, X, reml)$ll, 0)
  if (max(llg) > max(lls) + 1e-12) stop("a grid point beats every stationary point")
  cache[[key]] <- best
  best
}

changes <- list()
rma_global <- function(...) {
  a <- list(...)
  fit <- do.call(metafor::rma.uni, a)
  if (!(a$method %in% c("ML", "REML")) || (!is.null(a$tau2) && !is.na(a$tau2))) return(fit)
  n <- length(a$yi)
  idx <- if (is.null(a$subset)) seq_len(n) else seq_len(n)[a$subset]
  X <- if (is.null(a$mods)) matrix(1, n, 1) else as.matrix(a$mods)
  if (!is.null(a$mods) && !isFALSE(a$intercept)) X <- cbind(1, X)
  y <- a$yi[idx]; v <- a$vi[idx]; X <- X[idx, , drop = FALSE]
  tg <- global_max(y, v, X, a$method == "REML")
  b <- a; b$outlist <- NULL; b$skipr2 <- NULL
  b$tau2 <- fit$tau2; llm <- as.numeric(logLik(do.call(metafor::rma.uni, b)))
  b$tau2 <- tg; llg <- as.numeric(logLik(do.call(metafor::rma.uni, b)))
  if (llg > llm + 1e-9) {
    changes[[length(changes) + 1]] <<- data.frame(tau2_metafor = fit$tau2, loglik_metafor = llm,
                                                  tau2_global = tg, loglik_global = llg)
    a$tau2 <- tg
    fit <- do.call(metafor::rma.uni, a)
  }
  fit
}
with_global <- function(f) {
  e <- new.env(parent = environment(f))
  e$rma.uni <- rma_global
  environment(f) <- e
  f
}
l1o_g <- with_global(metafor:::leave1out.rma.uni)
cumul_g <- with_global(metafor:::cumul.rma.uni)
infl_g <- with_global(metafor:::influence.rma.uni)

rd <- function(name) read.csv(paste0("d_", name, ".csv"), stringsAsFactors = FALSE)
EL <- read.csv("expected_leave1out.csv", stringsAsFactors = FALSE, colClasses = "character")
EC <- read.csv("expected_cumul.csv", stringsAsFactors = FALSE, colClasses = "character")
EI <- read.csv("expected_influence.csv", stringsAsFactors = FALSE, colClasses = "character")

L <- list(); C <- list(); I <- list()
cols <- c("estimate", "se", "stat", "pval", "ci_lb", "ci_ub", "Q", "Q_pval", "tau2", "I2", "H2")
with_note <- function(e, ch) cbind(e, tau2_metafor = f17(ch$tau2_metafor), loglik_metafor = f17(ch$loglik_metafor),
                                   loglik_global = f17(ch$loglik_global))
# the change whose metafor tau2 is t (refits are recorded in call order)
pick <- function(ch, t) ch[which.min(abs(ch$tau2_metafor - t)), ]

infl_rows <- function(r, case, mods) {
  plain <- influence(r)
  changes <<- list()
  g <- infl_g(r)
  if (!length(changes)) return(NULL)
  ch <- do.call(rbind, changes)
  dfb <- do.call(cbind, unclass(g$dfbs)[seq_len(r$p)])
  out <- list()
  for (j in which(g$inf$tau2.del != plain$inf$tau2.del)) {
    e <- EI[EI$case == case & EI$row == as.character(j), ]
    stopifnot(nrow(e) == 1)
    e$rstudent <- f17(g$inf$rstudent[j]); e$dffits <- f17(g$inf$dffits[j]); e$cook_d <- f17(g$inf$cook.d[j])
    e$cov_r <- f17(g$inf$cov.r[j]); e$tau2_del <- f17(g$inf$tau2.del[j]); e$QE_del <- f17(g$inf$QE.del[j])
    e$hat <- f17(g$inf$hat[j]); e$weight <- f17(g$inf$weight[j])
    e$dfbetas <- paste(f17(dfb[j, ]), collapse = ";")
    e$influential <- as.character(as.integer(g$is.infl[j]))
    out[[length(out) + 1]] <- with_note(e, pick(ch, plain$inf$tau2.del[j]))
  }
  do.call(rbind, out)
}

for (dn in c("bcg", "normand", "hackshaw", "k2", "k3", "ties")) {
  d <- rd(dn)
  for (m in c("ML", "REML")) for (tst in c("z", "knha")) {
    r <- rma(yi, vi, data = d, method = m, test = tst, control = ctl, slab = study)
    case <- paste(dn, m, tst, sep = "_")
    changes <- list()
    invisible(rma_global(yi = d$yi, vi = d$vi, method = m, test = tst, control = ctl))
    if (length(changes)) stop("the full fit of ", case, " is not at the global maximum")
    if (nrow(d) >= 3) {
      plain <- suppressWarnings(leave1out(r))
      changes <- list()
      l <- suppressWarnings(l1o_g(r))
      if (length(changes)) {
        ch <- do.call(rbind, changes)
        for (j in which(l$tau2 != plain$tau2)) {
          e <- EL[EL$case == case & EL$row == as.character(j), ]
          e[cols] <- f17(c(l$estimate[j], l$se[j], if (tst == "z") l$zval[j] else l$tval[j], l$pval[j], l$ci.lb[j],
                           l$ci.ub[j], l$Q[j], l$Qp[j], l$tau2[j], l$I2[j], l$H2[j]))
          L[[length(L) + 1]] <- with_note(e, pick(ch, plain$tau2[j]))
        }
      }
    }
    ordcol <- switch(dn, bcg = "year", hackshaw = "year", ties = "yr", normand = "n", NA)
    variants <- list(list(col = "", dec = FALSE))
    if (!is.na(ordcol)) variants <- c(variants, list(list(col = ordcol, dec = FALSE), list(col = ordcol, dec = TRUE)))
    for (vv in variants) {
      cu_plain <- if (vv$col == "") suppressWarnings(cumul(r)) else
        suppressWarnings(cumul(r, order = d[[vv$col]], decreasing = vv$dec))
      changes <- list()
      cu <- if (vv$col == "") suppressWarnings(cumul_g(r)) else
        suppressWarnings(cumul_g(r, order = d[[vv$col]], decreasing = vv$dec))
      if (!length(changes)) next
      ch <- do.call(rbind, changes)
      cname <- paste0(case, "_", vv$col, if (vv$dec) "_dec" else "")
      st <- if (tst == "z") cu$zval else cu$tval
      for (j in which(cu$tau2 != cu_plain$tau2)) {
        e <- EC[EC$case == cname & EC$row == as.character(j), ]
        stopifnot(nrow(e) == 1)
        e[cols] <- f17(c(cu$estimate[j], cu$se[j], st[j], cu$pvals[j], cu$ci.lb[j], cu$ci.ub[j], cu$Q[j], cu$Qp[j],
                         cu$tau2[j], cu$I2[j], cu$H2[j]))
        C[[length(C) + 1]] <- with_note(e, pick(ch, cu_plain$tau2[j]))
      }
    }
    x <- infl_rows(r, case, "")
    if (!is.null(x)) I[[length(I) + 1]] <- x
  }
}
for (spec in list(list("bcg", "ablat", ~ ablat), list("bcg", "ablat,year", ~ ablat + year), list("regv", "x1,grp", ~ x1 + grp))) {
  d <- rd(spec[[1]])
  for (m in c("ML", "REML")) for (tst in c("z", "knha")) {
    r <- rma(yi, vi, mods = spec[[3]], data = d, method = m, test = tst, control = ctl, slab = study)
    case <- paste(spec[[1]], gsub(",", "+", spec[[2]]), m, tst, sep = "_")
    changes <- list()
    invisible(rma_global(yi = d$yi, vi = d$vi, mods = model.matrix(spec[[3]], data = d), intercept = FALSE,
                         method = m, test = tst, control = ctl))
    if (length(changes)) stop("the full fit of ", case, " is not at the global maximum")
    x <- infl_rows(r, case, spec[[2]])
    if (!is.null(x)) I[[length(I) + 1]] <- x
  }
}
# a file is written only when some refit changed (the table reader refuses a
# header without rows); the tests read a missing file as "no such refit"
wr <- function(x, fn) {
  if (!length(x)) { if (file.exists(fn)) file.remove(fn); cat(fn, ": no refit at a local maximum, not written\n"); return() }
  x <- do.call(rbind, x)
  write.csv(x, fn, row.names = FALSE)
  cat(fn, nrow(x), "rows\n")
  print(x[, c("case", "row", "tau2_metafor", "loglik_metafor", "loglik_global",
              intersect(c("tau2", "tau2_del"), names(x)))])
}
wr(L, "global_leave1out.csv")
wr(C, "global_cumul.csv")
wr(I, "global_influence.csv")
