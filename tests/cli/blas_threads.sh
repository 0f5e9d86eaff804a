#!/usr/bin/env bash
# tests/cli/blas_threads.sh - results do not depend on OpenBLAS's thread count.
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Usage: bash blas_threads.sh METAPOOL SOURCE_DIR   (run by CTest)
# The library sets BLAS to one thread inside its fits (src/models/blas_threads.c,
# issue 11): `trajectory` and `reg` on a sizeable synthetic input (2,000 studies,
# 4 times, fixed seed) must print byte-identical JSON under OPENBLAS_NUM_THREADS
# 1, 2 and 4.  Without the setting OpenBLAS's threaded kernels sum in another
# order for k x p blocks this size and the last digits differ.
set -u
BIN=$1
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail=0
pass=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }

# 2,000 studies x 4 times, a linear congruential generator (fixed seed) in awk
awk 'BEGIN {
    s = 12345; print "study,time,yi,vi,x";
    for (i = 1; i <= 2000; i++) {
        u = 0;
        for (t = 1; t <= 4; t++) {
            s = (s * 1103515245 + 12345) % 2147483648; a = s / 2147483648;
            s = (s * 1103515245 + 12345) % 2147483648; b = s / 2147483648;
            s = (s * 1103515245 + 12345) % 2147483648; c = s / 2147483648;
            if (t == 1) u = (a - 0.5) * 4;
            printf "s%d,%d,%.10g,%.10g,%.6g\n", i, t, -10 + 2 * t + u + (b - 0.5) * 6, 1 + 9 * c, (i % 17) / 3.0
        }
    }
}' >"$TMP/big.csv"

for n in 1 2 4; do
    if OPENBLAS_NUM_THREADS=$n "$BIN" trajectory "$TMP/big.csv" --time time --struct CS \
        --format json >"$TMP/traj$n.json" 2>"$TMP/err$n"; then ok; else bad "trajectory ($n threads) failed"; cat "$TMP/err$n"; fi
    if OPENBLAS_NUM_THREADS=$n "$BIN" reg "$TMP/big.csv" --mods x,time \
        --format json >"$TMP/reg$n.json" 2>"$TMP/rerr$n"; then ok; else bad "reg ($n threads) failed"; cat "$TMP/rerr$n"; fi
done
for n in 2 4; do
    cmp -s "$TMP/traj1.json" "$TMP/traj$n.json" && ok || bad "trajectory JSON differs between 1 and $n BLAS threads"
    cmp -s "$TMP/reg1.json" "$TMP/reg$n.json" && ok || bad "reg JSON differs between 1 and $n BLAS threads"
done
grep -q '"logLik"' "$TMP/traj1.json" && ok || bad "trajectory JSON has no logLik"

echo "blas_threads: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
