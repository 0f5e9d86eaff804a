#!/usr/bin/env python3
# tests/mpi/make_batch_inputs.py - input files for tests/mpi/batch_mpi.sh (sorted by group, tricky bytes).
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Writes into the directory given: files whose groups straddle any cut
point (random group sizes), quoted group values with line breaks, commas
and quotes, CRLF / lone-CR / LF line ends, a BOM, rows with missing values, a
group whose rows are all left out (status no_studies), one group spanning
most of the file (so with 3 processes the middle one gets no group),
single malformed rows of three kinds, and groups that come back.  Fixed seeds: the files are the same
on every run."""
import os
import random
import sys

d = sys.argv[1]


def write(name, lines, eol="\n", final=True, bom=False):
    with open(os.path.join(d, name), "w", newline="", encoding="utf-8") as f:
        f.write(("\ufeff" if bom else "") + eol.join(lines) + (eol if final else ""))


def rows(n_groups, seed, big=None, name=lambda i: "g%d" % i, extra=None):
    r = random.Random(seed)
    out = ["g,yi,vi"]
    for i in range(n_groups):
        k = 4000 if i == big else r.choice([1, 2, 3, 5, 8, 13])
        for j in range(k):
            y = "%.4f" % r.gauss(0, 1)
            v = "%.4f" % r.uniform(0.01, 0.5)
            out.append("%s,%s,%s" % (name(i), y, v))
            if extra:
                out.extend(extra(i, j))
    return out


def tricky(i):
    if i % 7 == 3:
        return '"grp\n%d, x"' % i       # a line break and a comma inside quotes
    if i % 11 == 5:
        return '"q""%d"' % i            # an escaped quote
    if i % 13 == 6:
        return '"cr\r\n%d"' % i         # CRLF inside quotes
    return "g%d" % i


def mixed_extra(i, j):
    if i == 40 and j == 0:
        return ["NA,1,1", ",2,1"]       # rows without a group value
    return []


m = rows(300, 1, name=tricky, extra=mixed_extra)
# a group whose every row is left out (no_studies), and NA rows inside groups
m = ["g120,NA," + ln.rsplit(",", 1)[1] if ln.startswith("g120,") else ln for ln in m]
write("mixed_crlf.csv", m, "\r\n", bom=True)
write("mixed_lf.csv", m, "\n", final=False)
write("big.csv", rows(40, 2, big=20))
t = rows(200, 3)
write("tab_cr.csv", [ln.replace(",", "\t") for ln in t], "\r")
# not converging with --maxiter 2 for most groups
write("conv.csv", rows(150, 4))
# one malformed row each, in the middle of the file
base = rows(300, 5)
mid = len(base) // 2
write("ragged.csv", base[:mid] + ["g999,1"] + base[mid:])
write("badnum.csv", base[:mid] + [base[mid].split(",")[0] + ",zz,1"] + base[mid:])
write("badquote.csv", base[:mid] + ['"open,1,1'] + base[mid:])
write("header_only.csv", ["g,yi,vi", ""])
# a group that comes back: in a later share, within one share, two of them
# (the earlier is named), and one before a malformed row (which is named:
# one process finds a group coming back only at the end of the file)
rep = rows(300, 6)
n = len(rep)
write("repeat_across.csv", rep[:n - 20] + ["g3,1,1"] + rep[n - 20:])
write("repeat_within.csv", rep[:n - 2] + ["g280,1,1"] + rep[n - 2:])
write("repeat_two.csv", rep[:n // 2 + 30] + ["g10,1,1"] + rep[n // 2 + 30:n - 5] + ["g2,1,1"] + rep[n - 5:])
write("repeat_then_bad.csv", rep[:100] + ["g1,1,1"] + rep[100:n - 30] + ["g250,1"] + rep[n - 30:])
