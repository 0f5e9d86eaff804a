#!/usr/bin/env bash
# tests/cli/input_wide_header.sh - a header of 10^6 columns is checked for repeated names
# in linear time by both loaders (the whole-file one and batch's streaming one).
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
# Usage: bash input_wide_header.sh METAPOOL_BINARY SOURCE_DIR   (exit 0 = pass)
# Not a timing test: the limit of 60 s per command is ~100x what a linear check
# needs; the pairwise check this replaces took ~50 minutes (issue 11, item 10).
set -euo pipefail
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# 10^6 distinct names c0..c999999, then a repeat of c77 as column 1000001
awk 'BEGIN { n = 1000000; printf "c0"; for (i = 1; i < n; i++) printf ",c%d", i; print "";
             printf "1"; for (i = 1; i < n; i++) printf ",1"; print "" }' >"$tmp/wide.csv"
{ head -1 "$tmp/wide.csv" | tr -d '\n'; echo ',c77'; tail -1 "$tmp/wide.csv" | tr -d '\n'; echo ',1'; } \
    >"$tmp/dup.csv"

run() { # expected-message-regex command...
    local want=$1; shift
    set +e
    timeout 60 "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    set -e
    [ "$rc" -ne 124 ] || fail "timed out: $*"
    [ "$rc" -eq 2 ] || fail "exit $rc, expected 2: $* ($(head -c 300 "$tmp/err"))"
    grep -Eq "$want" "$tmp/err" || fail "$*: stderr: $(head -c 300 "$tmp/err")"
}

# distinct names: the loader accepts them; the command then finds no effect-size columns
run 'wide.csv:1: no effect-size columns' "$bin" pool "$tmp/wide.csv"
run 'wide.csv:1: no effect-size columns' "$bin" batch "$tmp/wide.csv" --group c5
# the repeated name is found and named with its line:col (col = byte after 10^6 names)
col=$(( $(head -1 "$tmp/wide.csv" | wc -c) + 1 ))
run "dup.csv:1:$col: duplicated column name 'c77' \\(columns 78 and 1000001\\)" "$bin" pool "$tmp/dup.csv"
run "dup.csv:1:$col: duplicated column name 'c77' \\(columns 78 and 1000001\\)" \
    "$bin" batch "$tmp/dup.csv" --group c5
echo "input_wide_header: ok"
