#!/usr/bin/env bash
# tests/cli/escalc_zero_sd.sh - an SD of 0 in one arm is kept as metafor keeps it (warned
# by row); both SDs 0, or a negative SD, is refused naming the cell.  (issue 11, item 8)
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
# Usage: bash escalc_zero_sd.sh METAPOOL_BINARY SOURCE_DIR   (exit 0 = pass)
# Oracle: tests/reference/zero_sd/expected.csv, from metafor 3.8-1 escalc() (gen.R beside it).
set -euo pipefail
bin=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
ref=$src/tests/reference/zero_sd

for mv in SMD:LS SMD:UB MD:LS ROM:LS; do
    m=${mv%%:*} v=${mv##*:}
    "$bin" escalc --measure "$m" --vtype "$v" "$ref/means.csv" >"$tmp/out" 2>"$tmp/err" ||
        fail "$m/$v: exit $? ($(head -2 "$tmp/err"))"
    # yi and vi agree with metafor to 1e-10 relative (closed forms; c(m) via lgamma)
    python3 - "$tmp/out" "$ref/expected.csv" "$m" "$v" <<'PY' || fail "$m/$v: numbers differ from metafor"
import csv, sys
ours = list(csv.DictReader(open(sys.argv[1])))
want = [r for r in csv.DictReader(open(sys.argv[2])) if r["measure"] == sys.argv[3] and r["vtype"] == sys.argv[4]]
assert len(ours) == len(want) == 24, (len(ours), len(want))
for o, w in zip(ours, want):
    for key in ("yi", "vi"):
        a, b = float(o[key]), float(w[key])
        if abs(a - b) > 1e-10 * abs(b):
            sys.exit("row %s %s: ours %r metafor %r" % (w["row"], key, a, b))
PY
    # one warning per row, naming the column that is 0
    [ "$(grep -c "warning: row .* is 0: the variance comes from the other arm" "$tmp/err")" -eq 24 ] ||
        fail "$m/$v: warnings: $(head -3 "$tmp/err")"
    grep -qx "metapool escalc: warning: row 1 (line 2): column 'sd1i' is 0: the variance comes from the other arm (as metafor's escalc())" "$tmp/err" ||
        fail "$m/$v: row 1 warning: $(head -1 "$tmp/err")"
    grep -q "warning: row 2 (line 3): column 'sd2i' is 0" "$tmp/err" || fail "$m/$v: row 2 warning"
done

# pool and batch keep such rows too (exit 0) and warn
"$bin" pool --measure MD "$ref/means.csv" >"$tmp/out" 2>"$tmp/err" || fail "pool: exit $?"
grep -q "warning: row 24 (line 25): column 'sd2i' is 0" "$tmp/err" || fail "pool warning: $(tail -1 "$tmp/err")"
{ echo 'g,m1i,sd1i,n1i,m2i,sd2i,n2i'; echo 'a,10,0,12,8,3,15'; echo 'a,10,2,12,8,2.5,15'; } >"$tmp/b.csv"
"$bin" batch --measure MD --group g "$tmp/b.csv" >"$tmp/out" 2>"$tmp/err" || fail "batch: exit $?"
grep -q "warning: row 1 (line 2): column 'sd1i' is 0" "$tmp/err" || fail "batch warning: $(cat "$tmp/err")"

# refused: both SDs 0 (no positive variance / g undefined), a negative SD
expect_err() { # file measure message
    set +e
    "$bin" escalc --measure "$2" "$1" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    set -e
    [ "$rc" -eq 2 ] || fail "$2: exit $rc, expected 2"
    grep -qx "$3" "$tmp/err" || fail "$2: stderr: $(cat "$tmp/err")"
}
printf 'm1i,sd1i,n1i,m2i,sd2i,n2i\n10,0,12,8,3,15\n10,0,12,8,0,15\n' >"$tmp/both.csv"
expect_err "$tmp/both.csv" MD "metapool escalc: $tmp/both.csv:3:11: column 'sd2i': both standard deviations are 0: the sampling variance would be 0 (got 0)"
expect_err "$tmp/both.csv" ROM "metapool escalc: $tmp/both.csv:3:11: column 'sd2i': both standard deviations are 0: the sampling variance would be 0 (got 0)"
expect_err "$tmp/both.csv" SMD "metapool escalc: $tmp/both.csv:3:11: column 'sd2i': both standard deviations are 0: the standardized mean difference is undefined (got 0)"
printf 'm1i,sd1i,n1i,m2i,sd2i,n2i\n10,-1,12,8,3,15\n' >"$tmp/neg.csv"
expect_err "$tmp/neg.csv" MD "metapool escalc: $tmp/neg.csv:2:4: column 'sd1i': standard deviation must not be negative (got -1)"
echo "escalc_zero_sd: ok"
