#!/usr/bin/env bash
# tests/cli/reg_errors.sh - `metapool reg` exit statuses and one-line messages on bad input.
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Usage: bash reg_errors.sh METAPOOL SOURCE_DIR   (run by CTest)
# Bad usage and bad input: exit 2 with one line naming the problem (file:line:col
# for a cell); a model that cannot be fitted: exit 1; nothing on stdout.
set -u
BIN=$1
SRC=$2
BCG=$SRC/tests/reference/data/bcg_rr.csv
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail=0
pass=0
expect() { # NAME STATUS EXPECTED-STDERR-SUBSTRING ARGS...
    local name=$1 want_rc=$2 want=$3
    shift 3
    "$BIN" reg "$@" >"$TMP/out" 2>"$TMP/err"
    local got=$?
    local ok=1
    [ "$got" -eq "$want_rc" ] || { echo "FAIL: $name: exit $got, expected $want_rc"; ok=0; }
    grep -q -F -- "$want" "$TMP/err" || { echo "FAIL: $name: stderr lacks '$want':"; cat "$TMP/err"; ok=0; }
    [ "$(grep -c -v '^\(Usage\|About\|Options\|Exit\| \)' "$TMP/err")" -ge 1 ] || { echo "FAIL: $name: no message"; ok=0; }
    [ ! -s "$TMP/out" ] || { echo "FAIL: $name: output on stdout"; ok=0; }
    if [ $ok -eq 1 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
}

printf 'yi,vi,x,g\n0.1,0.1,1,a\n0.5,0.2,2,b\n0.2,0.1,abc,a\n0.7,0.3,3,b\n0.3,0.1,4,a\n' >"$TMP/badcell.csv"
printf 'yi,vi,g\n0.1,0.1,a\n0.5,0.2,a\n0.2,0.1,a\n' >"$TMP/onelevel.csv"

expect missing-column 2 "no moderator column 'latitude'" "$BCG" --measure RR --mods ablat,latitude
expect missing-mods 2 "--mods is required" "$BCG" --measure RR
expect bad-method 2 "unknown --method" "$BCG" --measure RR --mods ablat --method XYZ
expect bad-test 2 "unknown --test" "$BCG" --measure RR --mods ablat --test t
expect bad-maxiter 2 "--maxiter" "$BCG" --measure RR --mods ablat --maxiter 0
expect no-file 2 "nonexistent.csv" "$TMP/nonexistent.csv" --mods x
expect bad-cell 2 "badcell.csv:4:9:" "$TMP/badcell.csv" --mods x
expect collinear 1 "linear combination" "$BCG" --measure RR --mods "ablat,I(ablat/2)"
expect no-residual-df 1 "no residual degrees of freedom" "$BCG" --measure RR --mods study
expect one-level 1 "single level 'a'" "$TMP/onelevel.csv" --mods g
expect no-convergence 1 "REML estimator of tau2 did not converge" "$BCG" --measure RR --mods ablat --maxiter 1
expect no-convergence-pm 1 "PM estimator of tau2 did not converge" "$BCG" --measure RR --mods ablat --method PM --maxiter 1

# an NA moderator: warning naming the row, exit 0, k one less
printf 'yi,vi,x\n0.1,0.1,1\n0.5,0.2,2\n0.2,0.1,NA\n0.7,0.3,3\n0.3,0.1,5\n' >"$TMP/na.csv"
"$BIN" reg "$TMP/na.csv" --mods x --format json >"$TMP/out" 2>"$TMP/err"
rc=$?
if [ $rc -eq 0 ] && grep -q -F 'row 3 (line 4) left out' "$TMP/err" && grep -q -F '"k": 4' "$TMP/out" \
    && grep -q -F 'row 3 (line 4) left out' "$TMP/out"; then
    pass=$((pass + 1))
else
    echo "FAIL: na-row: exit $rc"; cat "$TMP/err"; fail=$((fail + 1))
fi

# help goes to stdout with exit 0
if "$BIN" reg --help | grep -q -F -- "--mods"; then pass=$((pass + 1)); else echo "FAIL: help"; fail=$((fail + 1)); fi

echo "reg_errors: $pass passed, $fail failed"
[ $fail -eq 0 ]
