# tests/reference/zero_sd/gen.R - metafor 3.8-1 escalc() on rows with an SD of 0 in one arm.
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
# Run from this folder: Rscript gen.R  (writes means.csv and expected.csv)
# metafor keeps such rows: for SMD the other arm alone gives the pooled SD,
# for MD and ROM the zero arm adds nothing to vi.  Rows with both SDs 0 are
# not here: metafor gives vi = 0 (MD, ROM) or yi = +-Inf/NaN (SMD), which
# metapool refuses (tests/cli/escalc_zero_sd.sh checks the messages).
suppressMessages(library(metafor))
stopifnot(packageVersion("metafor") == "3.8.1")
set.seed(20261201)
k <- 24
d <- data.frame(m1i = round(runif(k, 2, 30), 2), sd1i = round(runif(k, 0.5, 6), 2),
                n1i = sample(5:60, k, TRUE), m2i = round(runif(k, 2, 30), 2),
                sd2i = round(runif(k, 0.5, 6), 2), n2i = sample(5:60, k, TRUE))
d$sd1i[seq(1, k, 2)] <- 0            # odd rows: treatment SD 0
d$sd2i[seq(2, k, 2)] <- 0            # even rows: control SD 0
d$n1i[1] <- 3; d$n2i[1] <- 2         # small groups (m = n1 + n2 - 2 = 3) with a zero SD
write.csv(d, "means.csv", row.names = FALSE)
out <- NULL
for (m in c("SMD", "MD", "ROM")) {
  vts <- if (m == "SMD") c("LS", "UB") else "LS"
  for (vt in vts) {
    e <- escalc(m, m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i,
                data = d, vtype = vt)
    stopifnot(all(is.finite(e$yi)), all(e$vi > 0))
    out <- rbind(out, data.frame(measure = m, vtype = vt, row = seq_len(k),
                                 yi = sprintf("%.17g", e$yi), vi = sprintf("%.17g", e$vi)))
  }
}
write.csv(out, "expected.csv", row.names = FALSE, quote = FALSE)
