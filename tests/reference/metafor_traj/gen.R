suppressMessages(library(metafor))
# run from this folder: Rscript gen.R  (R 4.2.2, metafor 3.8-1)
dat <- read.csv("../data/ishak2007_long.csv")
out <- list()
for (phi in c(0, 0.5, 0.97)) {
 for (tcol in c("time", "months")) {
  V <- vcalc(vi, cluster=study, time1=dat[[tcol]], phi=phi, data=dat)
  for (model in c("factor", "loglinear")) {
   if (model == "factor" && tcol == "months") next
   f <- if (model == "factor") ~ factor(time) - 1 else as.formula(paste("~ log(", tcol, ")"))
   for (st in c("INT","CS","HCS","AR","HAR","CAR","ID")) {
     dat$tt <- dat[[tcol]]
     res <- tryCatch(if (st == "INT") rma.mv(yi, V, mods=f, random=~1|study, data=dat, control=list(rel.tol=1e-10, iter.max=10000, eval.max=10000)) else
                     rma.mv(yi, V, mods=f, random=~tt|study, struct=st, data=dat, control=list(rel.tol=1e-10, iter.max=10000, eval.max=10000)), error=function(e) {message(st, ": ", conditionMessage(e)); NULL})
     if (is.null(res)) next
     t2 <- if (st == "INT") res$sigma2 else res$tau2
     out[[length(out)+1]] <- data.frame(phi=phi, tcol=tcol, model=model, struct=st,
        coef=paste(format(c(res$b), digits=15), collapse=";"), se=paste(format(res$se, digits=15), collapse=";"),
        tau2=paste(format(t2, digits=15), collapse=";"), rho=if (is.null(res$rho) || st %in% c("INT","ID")) NA else res$rho,
        logLik=as.numeric(logLik(res)), QE=res$QE)
   }
  }
 }
}
write.csv(do.call(rbind, out), "expected.csv", row.names=FALSE)
