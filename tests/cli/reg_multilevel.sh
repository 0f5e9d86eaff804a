#!/usr/bin/env bash
# tests/cli/reg_multilevel.sh - `reg`/`pool` formula terms, --predict, --cluster/--vcov, --random:
# outputs on the bundled three-level dataset and every usage/input error (exit 2) or fit failure (exit 1).
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Usage: bash reg_multilevel.sh METAPOOL SOURCE_DIR   (run by CTest)
# Expected numbers: metafor 3.8-1, rma.mv(yi, vi, random = ~ 1 | district/school) on
# dat.konstantopoulos2011 (estimate 0.184713163496638, sigma2 0.0650619424615177 and
# 0.0327365176046729), as in ../shared/reference/wave2/reg2_random_konstantopoulos2011.json.
set -u
BIN=$1
SRC=$2
K=$SRC/datasets/konstantopoulos2011/konstantopoulos2011.csv
BCG=$SRC/tests/reference/multilevel/data/bcg_rr.csv
X=$SRC/tests/reference/multilevel/data/synth_nested_crossed.csv
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail=0
pass=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
expect() { # NAME STATUS EXPECTED-STDERR-SUBSTRING COMMAND ARGS...
    local name=$1 want_rc=$2 want=$3
    shift 3
    "$BIN" "$@" >"$TMP/out" 2>"$TMP/err"
    local got=$?
    [ "$got" -eq "$want_rc" ] || { bad "$name: exit $got, expected $want_rc"; cat "$TMP/err"; return; }
    grep -q -F -- "$want" "$TMP/err" || { bad "$name: stderr lacks '$want':"; cat "$TMP/err"; return; }
    [ ! -s "$TMP/out" ] || { bad "$name: output on stdout"; return; }
    ok
}

# the three-level model of the README
"$BIN" pool "$K" --random district/school --format json >"$TMP/j" 2>"$TMP/e" || bad "pool --random failed"
grep -q '"estimate": 0.1847131634' "$TMP/j" && ok || bad "pool --random estimate"
grep -q '"sigma2": \[0.0650619424' "$TMP/j" && ok || bad "pool --random sigma2"
grep -q '"sigma2_names": \["district", "district/school"\]' "$TMP/j" && ok || bad "sigma2_names"
grep -q '"n_levels": \[11, 56\]' "$TMP/j" && ok || bad "n_levels"
# metafor confint(): sigma^2.1 0.0222 to 0.2072, sigma^2.2 0.0163 to 0.0628
grep -q '"sigma2_ci_lb": \[0.0222' "$TMP/j" && grep -q '"sigma2_ci_ub": \[0.2072' "$TMP/j" && ok || bad "profile CIs"
"$BIN" pool "$K" --random district/school >"$TMP/t" 2>&1 && grep -q "sigma^2.2" "$TMP/t" && ok || bad "pool --random table"
"$BIN" reg "$K" --mods year --random district/school --methods >"$TMP/t" 2>&1 &&
    grep -q "restricted maximum likelihood" "$TMP/t" && ok || bad "--methods names the model"
# CR2 JSON keys
"$BIN" reg "$K" --mods year --cluster district --vcov CR2 --format json >"$TMP/j" 2>/dev/null || bad "CR2 failed"
grep -q '"vcov": "CR2", "n_clusters": 11' "$TMP/j" && ok || bad "CR2 keys"
grep -q '"df": 3.3016265' "$TMP/j" && ok || bad "CR2 Satterthwaite df of year"
# terms: names as R prints them
"$BIN" reg "$BCG" --mods "ablat*alloc" --format csv >"$TMP/c" 2>/dev/null || bad "ablat*alloc failed"
grep -q '^ablat:allocrandom,' "$TMP/c" && ok || bad "interaction name"
"$BIN" reg "$BCG" --mods "ablat + I(ablat^2)" --format csv >"$TMP/c" 2>/dev/null
grep -q '^I(ablat^2),' "$TMP/c" && ok || bad "I() name"
# predictions, back-transformed in the table for a ratio measure
printf 'ablat,alloc\n20,random\n' >"$TMP/new.csv"
"$BIN" reg "$BCG" --mods "ablat + alloc" --measure RR --predict "$TMP/new.csv" >"$TMP/t" 2>/dev/null &&
    grep -q "back-transformed" "$TMP/t" && ok || bad "predictions table"
printf 'ablat,alloc\n20,lottery\n' >"$TMP/badlev.csv"
printf 'ablat\n20\n' >"$TMP/nocol.csv"

# bubble plots: one circle per study, the line and band, or the group means
"$BIN" reg "$BCG" --mods "ablat + I(ablat^2)" --plot "$TMP/b.svg" >/dev/null 2>&1 || bad "bubble plot failed"
[ "$(grep -c 'class="bubble"' "$TMP/b.svg")" -eq 13 ] && ok || bad "13 bubbles"
grep -q 'class="fit"' "$TMP/b.svg" && grep -q 'class="band"' "$TMP/b.svg" && ok || bad "fit line and band"
"$BIN" reg "$BCG" --mods alloc --plot "$TMP/g.svg" >/dev/null 2>&1 || bad "factor bubble plot failed"
[ "$(grep -c 'class="group-mean"' "$TMP/g.svg")" -eq 3 ] && ok || bad "3 group means"
"$BIN" reg "$K" --mods year --random district/school --plot "$TMP/m.svg" >/dev/null 2>&1 &&
    [ "$(grep -c 'class="bubble"' "$TMP/m.svg")" -eq 56 ] && ok || bad "multilevel bubble plot"

expect plot-gif 2 "FILE.svg, FILE.png or FILE.pdf" reg "$BCG" --mods ablat --plot "$TMP/b.gif"
"$BIN" reg "$BCG" --mods ablat --plot "$TMP/b.png" >/dev/null 2>&1 && [ "$(head -c 4 "$TMP/b.png" | tail -c 3)" = PNG ] && ok || bad "bubble plot as PNG"
expect plot-two-columns 2 "one column" reg "$BCG" --mods "ablat + year" --plot "$TMP/b2.svg"
expect plot-unwritable 2 "cannot write" reg "$BCG" --mods ablat --plot "$TMP/nodir/b.svg"
expect random-by 2 "does not combine with --by" pool "$K" --random district/school --by district
"$BIN" reg "$K" --mods year --cluster district --vcov CR2 --format csv >"$TMP/c" 2>/dev/null
grep -q '^year,.*,3.3016265' "$TMP/c" && ok || bad "CR2 df in the CSV"
expect no-convergence 1 "did not converge" pool "$K" --random district/school --maxiter 1
printf 'yi,vi,s,o\n.1,.01,a,x\n.3,.02,a,x\n.2,.03,b,x\n.5,.01,b,x\n.4,.02,c,x\n.1,.02,c,x\n' >"$TMP/single.csv"
"$BIN" pool "$TMP/single.csv" --random s,o --format json >"$TMP/j" 2>"$TMP/e" &&
    grep -q "fixed at 0" "$TMP/e" && grep -q '"sigma2": \[0.0108965422' "$TMP/j" && ok ||
    bad "single-level component fixed at 0 (metafor: 0.01089654, warning)"
expect unsupported-term 2 "unsupported term 'log(year)'" reg "$BCG" --mods "ablat + log(year)"
expect bad-operator 2 "unsupported term operator" reg "$BCG" --mods "ablat %in% alloc"
expect bad-vcov 2 "unknown --vcov 'CR3'" reg "$K" --mods year --cluster district --vcov CR3
expect vcov-no-cluster 2 "--vcov needs --cluster" reg "$K" --mods year --vcov CR2
expect no-cluster-col 2 "no column 'nope'" reg "$K" --mods year --cluster nope
expect random-method 2 "REML or ML" reg "$K" --mods year --random district/school --method DL
expect random-knha 2 "knha" pool "$K" --random district/school --test knha
expect random-col 2 "no column 'town'" pool "$K" --random town/school
expect random-empty 2 "empty column name" pool "$K" --random "district//school"
expect random-twice 2 "given twice" pool "$K" --random "district,district"
expect predict-level 2 "'lottery' is not a level" reg "$BCG" --mods "ablat + alloc" --predict "$TMP/badlev.csv"
expect predict-col 2 "no moderator column 'alloc'" reg "$BCG" --mods "ablat + alloc" --predict "$TMP/nocol.csv"
expect predict-nofile 2 "nofile.csv" reg "$BCG" --mods ablat --predict "$TMP/nofile.csv"
expect cr1-few-clusters 1 "more clusters than coefficients" reg "$BCG" --mods "ablat*year" --cluster alloc
expect not-nested 2 "not nested" reg "$X" --mods x --random "study,outcome" --cluster study

echo "reg_multilevel: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
