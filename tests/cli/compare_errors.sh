#!/usr/bin/env bash
# tests/cli/compare_errors.sh - `pool --compare` with bad published files: file:line:col, exit 2.
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Usage: bash compare_errors.sh METAPOOL SOURCE_DIR   (run by CTest)
# Each bad file must give exit status 2 and one line on stderr that names
# the file, the line and (for a cell) the column, and nothing on stdout.
set -u
BIN=$1
SRC=$2
D=$SRC/tests/data/compare
BCG=$SRC/tests/reference/data/bcg_rr.csv
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail=0
pass=0
expect_error() { # NAME FILE EXPECTED-STDERR-SUBSTRING [extra args]
    local name=$1 file=$2 want=$3
    shift 3
    "$BIN" pool "$BCG" --measure RR --compare "$file" "$@" >"$TMP/out" 2>"$TMP/err"
    local got=$?
    local ok=1
    [ "$got" -eq 2 ] || { echo "FAIL: $name: exit $got, expected 2"; ok=0; }
    grep -q -F -- "$want" "$TMP/err" || { echo "FAIL: $name: stderr lacks '$want':"; cat "$TMP/err"; ok=0; }
    [ "$(wc -l <"$TMP/err")" -eq 1 ] || { echo "FAIL: $name: not one line on stderr"; cat "$TMP/err"; ok=0; }
    [ ! -s "$TMP/out" ] || { echo "FAIL: $name: output on stdout"; ok=0; }
    if [ $ok -eq 1 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
}
# col 7 = where "abc" starts in "-0.71,abc,..."
expect_error "non-numeric cell" "$D/bad_number.csv" "bad_number.csv:2:7: ci_lb 'abc' is not a number"
expect_error "missing column" "$D/bad_missing_column.csv" "bad_missing_column.csv:1: published results need the columns estimate, ci_lb and ci_ub"
expect_error "bad p" "$D/bad_p.csv" "bad_p.csv:2:19: p 'n.s.' is neither a number from 0 to 1 nor an inequality"
expect_error "p above 1" "$D/bad_p_range.csv" "bad_p_range.csv:2:19: p '1.5' is neither a number from 0 to 1"
expect_error "blank inside a number" "$D/bad_blank_number.csv" "bad_blank_number.csv:2:1: estimate '-0.7 1' is not a number"
expect_error "row with nothing to check" "$D/bad_empty_row.csv" "bad_empty_row.csv:3:1: nothing to compare"
expect_error "group without --by" "$D/bad_group_without_by.csv" "bad_group_without_by.csv:2: the published row is for group 'random', but no --by was given"
expect_error "ragged row" "$D/bad_ragged.csv" "bad_ragged.csv:2"
expect_error "no such file" "$D/does_not_exist.csv" "does_not_exist.csv"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
