#!/usr/bin/env bash
# tests/cli/batch_errors.sh - `metapool batch`: usage and input errors (exit 2,
# file:line:col), groups that cannot be fitted (status column, warning, exit 1).
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
set -u
BIN=$1; SRC=$2
REF=$SRC/tests/reference/data
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
fail=0
check() { # name, expected-status, stderr-regex, command...
  local name=$1 want=$2 re=$3; shift 3
  "$@" >"$T/out" 2>"$T/err"; local got=$?
  if [ "$got" != "$want" ]; then echo "FAIL $name: exit $got, want $want"; cat "$T/err"; fail=1; return; fi
  if [ -n "$re" ] && ! grep -Eq -- "$re" "$T/err"; then echo "FAIL $name: stderr lacks /$re/:"; cat "$T/err"; fail=1; return; fi
  echo "ok   $name"
}
printf 'g,yi,vi\na,0.1,0.01\na,0.3,0.02\nb,0.2,0.03\n' >"$T/good.csv"
check help 0 "" "$BIN" batch --help
grep -q -- "--sorted" "$T/out" && grep -q "status" "$T/out" || { echo "FAIL help text"; fail=1; }
check no-group 2 "--group COL is required" "$BIN" batch "$T/good.csv"
check no-file 2 "expected one input FILE" "$BIN" batch --group g
check bad-threads 2 "--threads must be an integer" "$BIN" batch --group g --threads 0 "$T/good.csv"
check bad-threads2 2 "--threads must be an integer" "$BIN" batch --group g --threads two "$T/good.csv"
check bad-method 2 "unknown --method" "$BIN" batch --group g --method XX "$T/good.csv"
check bad-maxiter 2 "--maxiter must be an integer from 1 to 1000000, got '0'" "$BIN" batch --group g --maxiter 0 "$T/good.csv"
check unknown-option 2 "" "$BIN" batch --group g --nope "$T/good.csv"
check missing-file 2 "nonexistent.csv: cannot open" "$BIN" batch --group g "$T/nonexistent.csv"
check group-column 2 "good.csv: no column 'nope' for --group" "$BIN" batch --group nope "$T/good.csv"
printf 'g,yi,vi\na,0.1,0.01\nb,x1,0.02\n' >"$T/cell.csv"
check bad-cell 2 "cell.csv:3:3: column 'yi': 'x1' is not a number" "$BIN" batch --group g "$T/cell.csv"
[ -s "$T/out" ] && { echo "FAIL bad-cell wrote output"; fail=1; }
printf 'g;yi;vi\na;0,1;0.01\n' >"$T/semi.csv"
check decimal-comma 2 "semi.csv:2:3: column 'yi': '0,1' is not a number \(the decimal point must be '.'\)" "$BIN" batch --group g "$T/semi.csv"
check bad-cell-sorted 2 "cell.csv:3:3: column 'yi': 'x1' is not a number" "$BIN" batch --group g --sorted "$T/cell.csv"
printf 'g,yi,vi\na,0.1,0.01\nb,0.2\n' >"$T/ragged.csv"
check ragged 2 "ragged.csv:3:6: row has 2 fields, the header has 3" "$BIN" batch --group g "$T/ragged.csv"
printf 'g,yi,vi\na,0.1,-1\n' >"$T/neg.csv"
check negative-vi 2 "neg.csv:2:7: column 'vi': sampling variance must be positive" "$BIN" batch --group g "$T/neg.csv"
printf 'g,ai,bi,ci,di\na,1,2,3,4\n' >"$T/counts.csv"
check need-measure 2 "choose --measure OR, RR or RD" "$BIN" batch --group g "$T/counts.csv"
# a group whose every row is left out: status no_studies, NA numbers, warning, exit 1
printf 'g,yi,vi\na,0.1,0.01\nc,NA,0.1\na,0.3,0.02\nb,0.2,0.03\n' >"$T/na.csv"
check no-studies 1 "warning: .*na.csv: group 'c' \(line 3\): no studies left to pool" "$BIN" batch --group g "$T/na.csv"
grep -q "row 2 (line 3) left out: missing value (NA) in column 'yi'" "$T/err" || { echo "FAIL no-studies: row warning"; fail=1; }
grep -qx 'c,0,NA,NA,NA,NA,NA,NA,NA,NA,NA,NA,NA,NA,no_studies' "$T/out" || { echo "FAIL no-studies row"; cat "$T/out"; fail=1; }
[ "$(awk -F, 'NR > 1 { printf "%s%s ", $1, $NF }' "$T/out")" = "aok cno_studies bok " ] || { echo "FAIL no-studies order/status"; cat "$T/out"; fail=1; }
# non-convergence: status not_converged, NA numbers, warning naming the group, exit 1
awk 'BEGIN { print "g,yi,vi"; for (i = 0; i < 13; i++) printf "a,%.3f,%.3f\n", (i % 5) - 2, 0.01 + i / 50; print "b,0.1,0.1" }' >"$T/conv.csv"
check not-converged 1 "group 'a' \(line 2\): the REML estimator of tau2 did not converge in 2 iterations" "$BIN" batch --group g --maxiter 2 "$T/conv.csv"
grep -q '^a,13,NA,.*,not_converged$' "$T/out" && grep -q ',ok$' "$T/out" || { echo "FAIL not-converged rows"; cat "$T/out"; fail=1; }
# k = 1: the study itself, Q/I2/H2 undefined (NA), status ok
printf 'g,yi,vi\none,0.5,0.04\n' >"$T/k1.csv"
check k1 0 "" "$BIN" batch --group g "$T/k1.csv"
# (numbers compared as values, not as digit strings: se = sqrt(0.04) is the double 0.2)
awk -F, 'NR == 2 && NF == 15 && $1 == "one" && $2 == 1 && $3 == 0.5 && $4 == 0.2 && $8 == 0 &&
         $9 == "NA" && $10 == "NA" && $11 == "NA" && $12 == "NA" && $15 == "ok" { ok = 1 }
         END { exit !ok }' "$T/out" || { echo "FAIL k1 row"; cat "$T/out"; fail=1; }
# a missing group value (empty, NA) leaves its row out, named in a warning,
# in both reading modes; groups stay as they are
printf 'g,yi,vi\na,0.1,0.1\n,0.3,0.2\na,0.5,0.1\nNA,0.9,0.3\nb,0.2,0.2\n' >"$T/gmiss.csv"
for mode in "" --sorted; do
  check "group-missing $mode" 0 "row 2 \\(line 3\\) left out: missing value in the --group column 'g'" "$BIN" batch --group g $mode "$T/gmiss.csv"
  grep -q "row 4 (line 5) left out" "$T/err" || { echo "FAIL group-missing: row 4 not reported"; fail=1; }
  [ "$(cut -d, -f1,2 "$T/out" | tr '\n' ' ')" = "group,k a,2 b,1 " ] || { echo "FAIL group-missing groups: $(cut -d, -f1,2 "$T/out" | tr '\n' ' ')"; fail=1; }
done
check bad-option 2 "^metapool batch: unrecognized option '--bogus'" "$BIN" batch --bogus "$T/gmiss.csv"
[ $fail = 0 ] && echo "batch_errors: all passed"
exit $fail
