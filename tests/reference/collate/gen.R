# tests/reference/collate/gen.R - R's sort() order of tricky factor level sets.
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
# Run from this folder: Rscript gen.R  (writes sorted.tsv: one set per line, its levels in
# R's order, separated by tabs).  Made with R 4.2.2 built with ICU (capabilities("ICU")
# TRUE, icuGetCollate() "root").  This machine has no en_US.UTF-8 locale (locale -a: C,
# C.utf8, POSIX); R's ICU collator is the root collation either way, and ICU's "en" has
# no tailoring of root, so the order is the one R gives under LC_COLLATE=en_US.UTF-8.
stopifnot(capabilities("ICU"), icuGetCollate() %in% c("root", "en_US", "en"))
sets <- list(
  c("US", "asia", "EU"),
  c("b", "B", "a", "A", "ab", "Ab", "aB", "AB"),
  c("Alpha", "_x", "alpha", "beta", "Beta", "BETA"),
  c("a b", "ab", "a-b", "a_b", "a.b", "a,b", "a;b", "a:b", "a!b", "a?b", "a'b", "a\"b"),
  c("1", "10", "9", "-1", "+1", "01", "1.5", "1,5", "1e3", "one", "One"),
  c("a1", "a10", "a9", "A1", "a", "a.", "a!", "a ", "A", "a_", "a-"),
  c("(x)", "[x]", "{x}", "@x", "*x", "/x", "\\x", "&x", "#x", "%x", "`x", "^x", "+x",
    "<x", "=x", ">x", "|x", "~x", "$x", "0x", "x"),
  c("placebo", "Placebo", "PLACEBO", "drug A", "drug B", "Drug a", "drug_a", "drug-a"),
  c("cohort", "case-control", "case control", "RCT", "rct", "Rct", "quasi-RCT"),
  c("low", "Low", "medium", "high", "High", "HIGH", "very high"),
  c("Z", "z", "Y", "y", "zz", "Zz", "zZ", "ZZ", "z z"),
  c("x", "x ", "x  ", " x", "x_", "_x", "x-", "-x"),
  c("2010", "2009", "2010a", "2010b", "2010A", "2010 a"),
  c("Europe", "europe", "EUROPE", "Europe/West", "Europe-West", "Europe West", "Europe (West)")
)
lines <- vapply(sets, function(s) paste(sort(s), collapse = "\t"), "")
writeLines(lines, "sorted.tsv", useBytes = TRUE)
