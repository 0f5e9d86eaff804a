#!/usr/bin/env bash
# tests/cli/input_stdin.sh - '-' reads standard input; bad input there is named <stdin>.
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
# Usage: bash input_stdin.sh METAPOOL_BINARY SOURCE_DIR   (exit 0 = pass)
set -euo pipefail
bin=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

data=$src/tests/reference/data/bcg_or.csv
# the same output from a file and from a pipe
"$bin" escalc --measure OR "$data" >"$tmp/file.out"
"$bin" escalc --measure OR - <"$data" >"$tmp/pipe.out"
cat "$data" | "$bin" escalc --measure OR - >"$tmp/pipe2.out"
cmp -s "$tmp/file.out" "$tmp/pipe.out" || fail "escalc from stdin differs from the file"
cmp -s "$tmp/file.out" "$tmp/pipe2.out" || fail "escalc from a pipe differs from the file"
[ "$(wc -l <"$tmp/file.out")" -eq 14 ] || fail "expected header + 13 rows"
head -1 "$tmp/file.out" | grep -qx 'study,year,ai,bi,ci,di,ablat,alloc,yi,vi' || fail "header: $(head -1 "$tmp/file.out")"

# bad input on stdin: one line naming <stdin>:line:col, exit 2, no stdout
set +e
"$bin" escalc - <"$src/tests/data/bad/negative_vi.csv" >"$tmp/out" 2>"$tmp/err"
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "exit $rc, expected 2"
[ ! -s "$tmp/out" ] || fail "partial output on stdout"
[ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "stderr is not one line: $(cat "$tmp/err")"
grep -q '^metapool escalc: <stdin>:3:7: column .vi.: sampling variance must be positive' "$tmp/err" ||
    fail "stderr: $(cat "$tmp/err")"

# empty standard input
set +e
"$bin" escalc - </dev/null >"$tmp/out" 2>"$tmp/err"
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "empty stdin: exit $rc"
grep -qx 'metapool escalc: <stdin>: empty file (no header row)' "$tmp/err" || fail "empty stdin: $(cat "$tmp/err")"

# the other commands load through the same code: same message, same status
for cmd in pool; do
    set +e
    "$bin" "$cmd" "$src/tests/data/bad/ragged_short.csv" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    set -e
    [ "$rc" -eq 2 ] || fail "$cmd: exit $rc, expected 2"
    [ ! -s "$tmp/out" ] || fail "$cmd: partial output"
    grep -q "^metapool $cmd: .*ragged_short.csv:3:6: row has 2 fields, the header has 3\$" "$tmp/err" ||
        fail "$cmd: $(cat "$tmp/err")"
done
echo "input_stdin: ok"
