#!/usr/bin/env bash
# tests/cli/input_endless.sh - endless or binary input stops at the first impossible byte,
# at a row past the 64 MiB limit, or at a header without the needed columns, instead of
# being read to the end of memory (issue 11, item 11).
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
# Usage: bash input_endless.sh METAPOOL_BINARY SOURCE_DIR   (exit 0 = pass)
# Each command gets 60 s (it needs well under 5 s; reading /dev/zero to the end of memory,
# as before, does not end with the messages below).
set -euo pipefail
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# check WHAT EXIT REGEX: the command's exit status (given), stderr one line matching REGEX
check() {
    local what=$1 rc=$2 want=$3
    [ "$rc" -ne 124 ] || fail "$what: timed out"
    [ "$rc" -eq 2 ] || fail "$what: exit $rc, expected 2 ($(head -c 300 "$tmp/err"))"
    [ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "$what: stderr is not one line: $(head -c 300 "$tmp/err")"
    grep -Eq "$want" "$tmp/err" || fail "$what: stderr: $(head -c 300 "$tmp/err")"
}

set +e
for cmd in pool escalc "batch --group g" "batch --sorted --group g"; do
    # /dev/zero: the first byte is a NUL
    timeout 60 "$bin" $cmd /dev/zero >/dev/null 2>"$tmp/err"
    check "$cmd /dev/zero" $? "^metapool ${cmd%% *}: /dev/zero:1:1: NUL byte in input \(binary data\?\)$"

    # endless lines of 'y': the header has no effect-size columns / no group column
    yes | timeout 60 "$bin" $cmd - >/dev/null 2>"$tmp/err"
    rc=${PIPESTATUS[1]}
    if [ "${cmd%% *}" = batch ]; then
        check "yes | $cmd" "$rc" "^metapool batch: <stdin>: no column 'g' for --group$"
    else
        check "yes | $cmd" "$rc" "^metapool $cmd: <stdin>:1: no effect-size columns"
    fi

    # one endless line (no line end): refused at the 64 MiB row limit
    yes | tr -d '\n' | timeout 60 "$bin" $cmd - >/dev/null 2>"$tmp/err"
    rc=${PIPESTATUS[2]}
    check "endless line | $cmd" "$rc" \
        "^metapool ${cmd%% *}: <stdin>:1:1: line longer than 64 MiB \(the limit of one row; not a delimited text file\?\)$"

    # a quoted field never closed, then endless lines: refused at the limit, naming the quote
    { echo 'g,yi,vi'; echo 'a,"x'; yes; } | timeout 60 "$bin" $cmd - >/dev/null 2>"$tmp/err"
    rc=${PIPESTATUS[1]}
    check "open quote | $cmd" "$rc" \
        "^metapool ${cmd%% *}: <stdin>:2:3: quoted field opened here runs past 64 MiB without its closing quote$"

    # random bytes: some error with exit 2, one line, never "out of memory" or an empty message
    head -c 3000000 /dev/urandom | timeout 60 "$bin" $cmd - >/dev/null 2>"$tmp/err"
    rc=${PIPESTATUS[1]}
    check "urandom | $cmd" "$rc" "^metapool ${cmd%% *}: <stdin>(:[0-9]+)*: [a-zA-Z]"
done
set -e

# a control byte deep inside a long line is found while it is read (line:col exact)
{ echo 'g,yi,vi'; printf 'a,1,0.1\n'; head -c 3000000 /dev/zero | tr '\0' 'x'; printf '\001'; } >"$tmp/ctl.csv"
for cmd in pool "batch --group g"; do
    set +e
    timeout 60 "$bin" $cmd "$tmp/ctl.csv" >/dev/null 2>"$tmp/err"
    rc=$?
    set -e
    check "ctl $cmd" "$rc" "ctl.csv:3:3000001: control byte 0x01 in input \(binary data\?\)$"
done
# a byte-order mark split over two reads of a pipe, then a blank line: still a good file
(printf '\357\273'; sleep 0.3; printf '\277\n\nyi,vi\n0.1,0.01\n0.2,0.02\n') |
    "$bin" pool --format json - >"$tmp/out" 2>"$tmp/err" || fail "split BOM: exit $? ($(cat "$tmp/err"))"
grep -q '"k": 2' "$tmp/out" || fail "split BOM: $(head -c 200 "$tmp/out")"
echo "input_endless: ok"
