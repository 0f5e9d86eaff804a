suppressMessages(library(metafor))
set.seed(20261126)
methods <- c("FE","DL","HE","HS","HSk","SJ","ML","REML","EB","PM")
rows <- list(); dsi <- 0
for (rep in 1:60) {
  k <- sample(c(2,3,4,5,7,9,13,20,35,50), 1)
  tau2 <- sample(c(0, 0, 0.01, 0.05, 0.2, 1, 5), 1)
  vi <- exp(runif(k, log(0.005), log(2)))
  if (rep %% 10 == 0) vi <- exp(runif(k, log(1e-6), log(1e4)))
  yi <- rnorm(k, 0.3, sqrt(vi + tau2))
  dsi <- dsi + 1
  fn <- sprintf("ds%03d.csv", dsi)
  write.csv(data.frame(yi=yi, vi=vi), fn, row.names=FALSE)
  for (m in methods) for (tst in c("z","knha")) {
    if (m == "FE" && tst == "knha") next
    res <- tryCatch(rma(yi, vi, method=m, test=tst, control=list(threshold=1e-14, maxiter=10000, tol=1e-14)), error=function(e) NULL)
    if (is.null(res)) { rows[[length(rows)+1]] <- data.frame(csv=fn, method=m, test=tst, err=1); next }
    ci <- if (m != "FE" && k > 1) tryCatch(confint(res, control=list(tol=1e-14, tau2.max=max(1e10, 1e4*res$tau2))), error=function(e) NULL) else NULL
    pr <- predict(res)
    g <- function(x) if (is.null(x) || length(x)==0) NA else x
    r <- data.frame(csv=fn, method=m, test=tst, err=0, k=k, estimate=c(res$b), se=res$se, stat=res$zval, pval=res$pval,
       ci_lb=res$ci.lb, ci_ub=res$ci.ub, pi_lb=if (m=="FE") NA else g(pr$pi.lb), pi_ub=if (m=="FE") NA else g(pr$pi.ub),
       tau2=res$tau2, tau2_se=g(res$se.tau2), I2=res$I2, H2=res$H2, Q=res$QE, Q_pval=res$QEp,
       tau2_ci_lb=if (is.null(ci)) NA else ci$random[1,2], tau2_ci_ub=if (is.null(ci)) NA else ci$random[1,3],
       I2_ci_lb=if (is.null(ci)) NA else ci$random[3,2], I2_ci_ub=if (is.null(ci)) NA else ci$random[3,3])
    rows[[length(rows)+1]] <- r
  }
}
out <- do.call(rbind, lapply(rows, function(r) { for (n in c("k","estimate","se","stat","pval","ci_lb","ci_ub","pi_lb","pi_ub","tau2","tau2_se","I2","H2","Q","Q_pval","tau2_ci_lb","tau2_ci_ub","I2_ci_lb","I2_ci_ub")) if (is.null(r[[n]])) r[[n]] <- NA; r }))
write.csv(out, "expected.csv", row.names=FALSE)
