#!/usr/bin/env bash
# tests/cli/traj_errors.sh - `metapool trajectory` misuse and bad input: exit 2 (1 for non-convergence).
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Usage: bash traj_errors.sh METAPOOL SOURCE_DIR   (run by CTest)
# Bad input gives exit status 2 and a message naming file:line:col where a
# cell is at fault; bad options give exit 2; an optimiser that runs out of
# iterations gives exit 1 and says so.  Nothing is written to stdout.
set -u
BIN=$1
SRC=$2
ISHAK=$SRC/tests/reference/data/ishak2007_long.csv
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
printf 'study,time,yi,vi\nA,1,0.5,0.1\nA,0,0.4,0.1\nB,1,0.3,0.2\nB,2,0.1,0.2\n' >"$TMP/zero.csv"
printf 'study,time,yi,vi\nA,1,0.5,0.1\nA,x,0.4,0.1\nB,1,0.3,0.2\n' >"$TMP/text.csv"
printf 'study,time,yi,vi\nA,1,0.5,0.1\nA,2,0.4,-0.1\n' >"$TMP/negvar.csv"
printf 'study,time,yi,vi\nA,1,0.5,0.1\nA,2,0.4,0.1\nB,1,0.3,0.2\nB,2,0.1,0.2\n' >"$TMP/two.csv"
fail=0
pass=0
expect() { # NAME STATUS STDERR-SUBSTRING -- ARGS...
    local name=$1 want_rc=$2 want=$3
    shift 3
    "$BIN" trajectory "$@" >"$TMP/out" 2>"$TMP/err"
    local got=$? ok=1
    [ "$got" -eq "$want_rc" ] || { echo "FAIL: $name: exit $got, expected $want_rc"; ok=0; }
    grep -q -F -- "$want" "$TMP/err" || { echo "FAIL: $name: stderr lacks '$want':"; cat "$TMP/err"; ok=0; }
    [ ! -s "$TMP/out" ] || { echo "FAIL: $name: output on stdout"; ok=0; }
    if [ $ok -eq 1 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
}
expect "time 0, loglinear" 2 "zero.csv:3:3: time = 0 is not > 0" "$TMP/zero.csv" --time time --model loglinear
expect "time 0, spline" 2 "zero.csv:3:3: time = 0 is not > 0" "$TMP/zero.csv" --time time --model spline
expect "time 0, quadratic" 2 "zero.csv:3:3:" "$TMP/zero.csv" --time time --model quadratic
expect "non-numeric time" 2 "text.csv:3:3:" "$TMP/text.csv" --time time
expect "negative variance" 2 "negvar.csv:3" "$TMP/negvar.csv" --time time
expect "unknown struct" 2 "unknown --struct 'UN'" "$ISHAK" --time time --struct UN
expect "unknown model" 2 "unknown --model 'cubic'" "$ISHAK" --time time --model cubic
expect "no --time" 2 "--time COL is required" "$ISHAK"
expect "no time column" 2 "no column 'week' for --time" "$ISHAK" --time week
expect "no study column" 2 "no column 'site' for --study" "$ISHAK" --time time --study site
expect "phi out of range" 2 "--phi must be a number from 0 to 1" "$ISHAK" --time time --phi 1.5
expect "phi not a number" 2 "--phi must be a number" "$ISHAK" --time time --phi high
expect "bad time unit" 2 "unknown --time-unit 'fortnights'" "$ISHAK" --time time --time-unit fortnights
expect "bad maxiter" 2 "--maxiter must be an integer" "$ISHAK" --time time --maxiter 0
expect "csv format" 2 "--format csv is not available" "$ISHAK" --time time --format csv
expect "two files" 2 "expected one input FILE" "$ISHAK" "$ISHAK" --time time
expect "no such file" 2 "nope.csv" "$TMP/nope.csv" --time time
expect "too few distinct times" 2 "needs at least 3 distinct times" "$TMP/two.csv" --time time --model spline
expect "non-convergence" 1 "did not converge in 1 iterations" "$ISHAK" --time time --struct HAR --phi 0.97 --maxiter 1
# a missing study label leaves its row out with a warning (never a merged study "")
printf 'study,time,yi,vi\nA,1,-1.0,0.1\n,2,-1.2,0.1\nB,1,-0.8,0.2\nNA,2,-1.1,0.1\nB,2,-0.9,0.2\nC,1,-1.3,0.1\nC,2,-1.0,0.15\n' >"$TMP/nostudy.csv"
"$BIN" trajectory "$TMP/nostudy.csv" --time time --struct CS --format json >"$TMP/out" 2>"$TMP/err"
if grep -q "row 2 (line 3) left out: missing study" "$TMP/err" && grep -q "row 4 (line 5) left out: missing study" "$TMP/err" &&
    python3 -c "import json,sys; j=json.load(open('$TMP/out')); sys.exit(0 if j['k']==5 and j['n_studies']==3 else 1)"; then
    pass=$((pass + 1))
else
    echo "FAIL: missing study labels not left out with warnings"; cat "$TMP/err"; fail=$((fail + 1))
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
