#!/usr/bin/env bash
# tests/cli/batch_sorted_repeat.sh - batch --sorted finds a group that comes back, in fixed
# memory, via a temporary file in $TMPDIR that is never left behind (issue 11, item 12).
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
# Usage: bash batch_sorted_repeat.sh METAPOOL_BINARY SOURCE_DIR   (exit 0 = pass)
# The filter-collision cases (every group a suspect) are in tests/test_batch.c
# (test_sorted_filter_collisions); memory is measured in bench/README.md.
set -euo pipefail
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
mkdir "$tmp/t"

# 20000 one-row groups, then g123 again at line 20002: exit 2 naming line:col
awk 'BEGIN { print "g,yi,vi"; for (i = 0; i < 20000; i++) printf "g%d,0.%d,0.1\n", i, i % 10;
             print "g123,0.5,0.1" }' >"$tmp/rep.csv"
set +e
TMPDIR=$tmp/t "$bin" batch --sorted --group g "$tmp/rep.csv" >"$tmp/out" 2>"$tmp/err"
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "repeat: exit $rc"
grep -qx "metapool batch: $tmp/rep.csv:20002:1: group 'g123' appears again after other groups: the input is not sorted by 'g' (drop --sorted)" "$tmp/err" ||
    fail "repeat: $(cat "$tmp/err")"
[ -z "$(ls -A "$tmp/t")" ] || fail "temporary file left behind: $(ls -A "$tmp/t")"

# the same file without the last row: exit 0, one output row per group, nothing left behind
head -n 20001 "$tmp/rep.csv" >"$tmp/ok.csv"
TMPDIR=$tmp/t "$bin" batch --sorted --group g "$tmp/ok.csv" >"$tmp/out" 2>"$tmp/err" || fail "ok: exit $?"
[ "$(wc -l <"$tmp/out")" -eq 20001 ] || fail "ok: $(wc -l <"$tmp/out") lines"
[ -z "$(ls -A "$tmp/t")" ] || fail "temporary file left behind: $(ls -A "$tmp/t")"

# no usable TMPDIR: a one-line error, exit 2
set +e
TMPDIR=$tmp/none "$bin" batch --sorted --group g "$tmp/ok.csv" >"$tmp/out" 2>"$tmp/err"
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "no TMPDIR: exit $rc"
grep -qx "metapool batch: $tmp/ok.csv: --sorted: cannot create a temporary file in $tmp/none (set TMPDIR): No such file or directory" "$tmp/err" ||
    fail "no TMPDIR: $(cat "$tmp/err")"
echo "batch_sorted_repeat: ok"
