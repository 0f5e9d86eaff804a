#!/usr/bin/env bash
# tests/cli/reg_output.sh - `metapool reg` table, JSON and CSV output on the BCG data.
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Usage: bash reg_output.sh METAPOOL SOURCE_DIR   (run by CTest)
# Expected numbers: metafor 3.8-1 rma(yi, vi, mods = ~ ablat) on the BCG data
# (tests/reference/bcg_rr_metareg_ablat.json), at the 4 decimals metafor prints.
set -u
BIN=$1
SRC=$2
BCG=$SRC/tests/reference/data/bcg_rr.csv
fail=0
pass=0
check() { # NAME OUTPUT SUBSTRING
    if printf '%s' "$2" | grep -q -F -- "$3"; then pass=$((pass + 1)); else
        echo "FAIL: $1: output lacks '$3'"; printf '%s\n' "$2"; fail=$((fail + 1)); fi
}
out=$("$BIN" reg "$BCG" --measure RR --mods ablat)
check table-title "$out" "Mixed-Effects Model (k = 13; tau^2 estimator: REML)"
check table-tau2 "$out" "0.0763"
check table-R2 "$out" "75.63%"
check table-QE "$out" "QE(df = 11) = 30.7331, p-val = 0.0012"
check table-QM "$out" "QM(df = 1) = 16.3582, p-val <.0001"
check table-ablat "$out" "-0.0291"
out=$("$BIN" reg "$BCG" --measure RR --mods ablat --test knha)
check knha-F "$out" "F(df1 = 1, df2 = 11) = 12.5910, p-val = 0.0046"
check knha-tval "$out" "tval"
out=$("$BIN" reg "$BCG" --measure RR --mods ablat --format csv)
check csv-header "$out" "name,estimate,se,stat,df,pval,ci_lb,ci_ub"
check csv-row "$out" "ablat,-0.0291017250"
out=$("$BIN" reg "$BCG" --measure RR --mods ablat,alloc --format json)
for k in '"coef"' '"name": "intrcpt"' '"name": "allocrandom"' '"name": "allocsystematic"' \
         '"tau2"' '"tau2_se"' '"I2"' '"H2"' '"R2"' '"QE"' '"QE_df": 9' '"QE_pval"' \
         '"QM"' '"QM_df": 3' '"QM_pval"' '"method": "REML"' '"test": "z"' '"df": null'; do
    check json "$out" "$k"
done
# metafor's formula style gives the same model as the comma list
out=$("$BIN" reg "$BCG" --measure RR --mods '~ ablat + factor(alloc)' --format csv)
want=$("$BIN" reg "$BCG" --measure RR --mods 'ablat,factor(alloc)' --format csv)
if [ -n "$want" ] && [ "$out" = "$want" ]; then pass=$((pass + 1)); else
    echo "FAIL: plus-syntax: '~ a + b' differs from 'a,b'"; fail=$((fail + 1)); fi
check plus-syntax-name "$out" "factor(alloc)random,"
echo "reg_output: $pass passed, $fail failed"
[ $fail -eq 0 ]
