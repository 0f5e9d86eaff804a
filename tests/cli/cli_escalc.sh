#!/usr/bin/env bash
# tests/cli/cli_escalc.sh - metapool escalc: help, options, output shape, warnings.
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
# Usage: bash cli_escalc.sh METAPOOL_BINARY SOURCE_DIR   (exit 0 = pass)
set -euo pipefail
bin=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# help: stdout, exit 0, the same three ways
"$bin" escalc --help >"$tmp/h1"
"$bin" help escalc >"$tmp/h2"
"$bin" escalc -h >"$tmp/h3"
grep -q '^Usage:   metapool escalc' "$tmp/h1" || fail "no usage line"
cmp -s "$tmp/h1" "$tmp/h2" || fail "'help escalc' differs from 'escalc --help'"
cmp -s "$tmp/h1" "$tmp/h3" || fail "'-h' differs from '--help'"
"$bin" --help | grep -q 'escalc' || fail "escalc missing from metapool --help"
"$bin" --version | grep -q '^metapool ' || fail "--version"

# zero-event tables: by default kept with 1/2 added (metafor's escalc(),
# drop00 = FALSE: yi 0.17435338714477755, vi 4.175238095238095 for row 1),
# a note naming the row on stderr, exit 0
"$bin" escalc --measure OR "$src/tests/data/good/zero_cells.csv" >"$tmp/out" 2>"$tmp/err"
[ "$(wc -l <"$tmp/out")" -eq 5 ] || fail "zero cells: expected 5 lines"
sed -n 2p "$tmp/out" | grep -qx 'none,0,10,0,12,0.17435338714477755,4.175238095238095' || fail "zero cells row 1: $(sed -n 2p "$tmp/out")"
grep -qx "metapool escalc: warning: row 1 (line 2): no events in both arms: kept with 1/2 added to every cell" "$tmp/err" ||
    fail "warning: $(cat "$tmp/err")"
# --drop00 yes: NA in the output and a warning naming the row
"$bin" escalc --measure OR --drop00 yes "$src/tests/data/good/zero_cells.csv" >"$tmp/out" 2>"$tmp/err"
sed -n 2p "$tmp/out" | grep -qx 'none,0,10,0,12,NA,NA' || fail "zero cells row 1 (drop00 yes): $(sed -n 2p "$tmp/out")"
grep -qx "metapool escalc: warning: row 1 (line 2) left out: no events in both arms (OR not estimable)" "$tmp/err" ||
    fail "warning: $(cat "$tmp/err")"
grep -qx "metapool escalc: warning: row 2 (line 3) left out: no non-events in both arms (OR not estimable)" "$tmp/err" ||
    fail "warning: $(cat "$tmp/err")"
# RD keeps every table
"$bin" escalc --measure RD "$src/tests/data/good/zero_cells.csv" >"$tmp/out" 2>"$tmp/err"
[ ! -s "$tmp/err" ] || fail "RD: unexpected warnings: $(cat "$tmp/err")"
! grep -q NA "$tmp/out" || fail "RD left a table out"

# many rows left out: the first 100 warnings, then one line with the count
{ echo 'ai,bi,ci,di'; for i in $(seq 150); do echo '0,5,0,5'; done; echo '1,2,3,4'; } >"$tmp/many.csv"
"$bin" escalc --measure RR --drop00 yes "$tmp/many.csv" >"$tmp/out" 2>"$tmp/err"
[ "$(wc -l <"$tmp/err")" -eq 101 ] || fail "many warnings: $(wc -l <"$tmp/err") lines"
tail -1 "$tmp/err" | grep -qx 'metapool escalc: warning: ... and 50 more warnings not shown' || fail "$(tail -1 "$tmp/err")"
sed -n 100p "$tmp/err" | grep -q 'row 100 (line 101) left out' || fail "$(sed -n 100p "$tmp/err")"
[ "$(grep -c NA "$tmp/out")" -eq 150 ] || fail "many: expected 150 NA rows"

# yi given with sei: yi kept as written, vi = sei^2 appended
printf 'study,yi,sei\n"A, B",0.5,0.5\n' | "$bin" escalc - >"$tmp/out"
printf 'study,yi,sei,vi\n"A, B",0.5,0.5,0.25\n' | cmp -s - "$tmp/out" || fail "yi+sei: $(cat "$tmp/out")"

# yi with a CI: --level sets the width's level; qnorm(0.95) = 1.6448536269514722,
# the CI below is yi -+ 1.6448536269514722 * 0.5, so vi = 0.25
printf 'yi,ci_lb,ci_ub\n0,-0.8224268134757361,0.8224268134757361\n' | "$bin" escalc --level 90 - >"$tmp/out"
python3 -c 'import sys; v = float(open(sys.argv[1]).read().split()[1].split(",")[3]); sys.exit(abs(v - 0.25) > 1e-14)' "$tmp/out" ||
    fail "yi+CI at 90%: $(cat "$tmp/out")"

# semicolon input, BOM and CRLF: the output is plain comma-separated LF text
"$bin" escalc "$src/tests/data/good/bom_crlf.csv" >"$tmp/out"
printf 'study,yi,vi\nA,0.1,0.01\nB,-0.25,0.04\n' | cmp -s - "$tmp/out" || fail "bom_crlf: $(od -c "$tmp/out" | head)"

# usage errors: exit 2, the first stderr line names the problem
set +e
"$bin" escalc --measure 2>"$tmp/err" >/dev/null; rc=$?
set -e
[ "$rc" -eq 2 ] || fail "--measure without value: exit $rc"
head -1 "$tmp/err" | grep -qx "metapool escalc: option '--measure' needs a value" || fail "$(head -1 "$tmp/err")"
set +e
"$bin" escalc a.csv b.csv 2>"$tmp/err" >/dev/null; rc=$?
set -e
[ "$rc" -eq 2 ] || fail "two files: exit $rc"
# a full disk: exit 1 with a message, not a silent truncated file
if [ -w /dev/full ]; then
    set +e
    "$bin" escalc "$src/tests/data/good/bom_crlf.csv" >/dev/full 2>"$tmp/err"; rc=$?
    set -e
    [ "$rc" -eq 1 ] || fail "/dev/full: exit $rc"
    grep -qx 'metapool escalc: write error' "$tmp/err" || fail "/dev/full: $(cat "$tmp/err")"
fi
echo "cli_escalc: ok"
