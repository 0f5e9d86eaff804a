# run from this folder: Rscript gen.R  (R 4.2.2, metafor 3.8-1); writes r01..r25.csv and expected.csv
suppressMessages(library(metafor))
set.seed(7)
methods <- c("FE","DL","HE","HS","HSk","SJ","ML","REML","EB","PM")
rows <- list()
for (d in 1:25) {
  k <- sample(c(6,8,12,20,40),1)
  x1 <- round(rnorm(k, 10, 5), 2); grp <- sample(c("b","a","c"), k, replace=TRUE)
  vi <- exp(runif(k, log(0.01), log(1)))
  tau2 <- sample(c(0,0.05,0.3),1)
  yi <- 0.2 + 0.03*x1 + ifelse(grp=="b",0.3,0) + rnorm(k,0,sqrt(vi+tau2))
  fn <- sprintf("r%02d.csv", d)
  write.csv(data.frame(yi=yi, vi=vi, x1=x1, grp=grp), fn, row.names=FALSE)
  mods <- if (d %% 2) "x1" else "x1,grp"
  f <- if (d %% 2) ~ x1 else ~ x1 + grp
  for (m in methods) for (tst in c("z","knha")) {
    res <- tryCatch(rma(yi, vi, mods=f, method=m, test=tst, control=list(threshold=1e-14, tol=1e-14, maxiter=10000)), error=function(e) NULL)
    if (is.null(res)) next
    rows[[length(rows)+1]] <- data.frame(csv=fn, mods=mods, method=m, test=tst, coef=paste(format(c(res$b), digits=17), collapse=";"),
       se=paste(format(res$se, digits=17), collapse=";"), tau2=res$tau2, QE=res$QE, QM=res$QM, QMp=res$QMp,
       R2=if (is.null(res$R2)) NA else res$R2, I2=res$I2, H2=res$H2, tau2_se=if (is.null(res$se.tau2)) NA else res$se.tau2)
  }
}
write.csv(do.call(rbind, rows), "expected.csv", row.names=FALSE)
