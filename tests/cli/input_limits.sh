#!/usr/bin/env bash
# tests/cli/input_limits.sh - the stated limits at their real defaults, through the command:
# most columns (2^20), most groups (2^20, pool --by and batch without --sorted), largest
# whole-file input (8 GiB, a sparse file whose size alone decides); each refused one past
# the limit with exit status 2 and one line naming file:line:col (the file for the size)
# and the limit.  The 64 MiB row is tested at its default in tests/test_limits.c (library)
# and tests/cli/input_endless.sh (command); test_limits.c also holds every limit at a small
# setting, where the exact boundary is cheap, for both readers.
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
# Usage: bash input_limits.sh METAPOOL_BINARY SOURCE_DIR   (exit 0 = pass)
set -euo pipefail
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# expect RC REGEX command...: exit status RC; with RC 2, stderr is one line matching REGEX
expect() {
    local want_rc=$1 want=$2; shift 2
    set +e
    "$@" >"$tmp/out" 2>"$tmp/err"
    local rc=$?
    set -e
    [ "$rc" -eq "$want_rc" ] || fail "$*: exit $rc, expected $want_rc ($(head -c 300 "$tmp/err"))"
    if [ "$want_rc" -eq 2 ]; then
        [ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "$*: stderr is not one line: $(head -c 300 "$tmp/err")"
    fi
    grep -Eq "$want" "$tmp/err" "$tmp/out" || fail "$*: output: $(head -c 300 "$tmp/err")"
}

# ---- most columns: g, yi, vi, c3 ... c(N-1), two rows -------------------------------------
wide() { # N FILE
    awk -v n="$1" 'BEGIN { printf "g,yi,vi"; for (i = 3; i < n; i++) printf ",c%d", i; print "";
                           for (r = 0; r < 2; r++) { printf "%s", r ? "b,0.2,0.02" : "a,0.1,0.01";
                                                     for (i = 3; i < n; i++) printf ",1"; print "" } }' >"$2"
}
wide 1048576 "$tmp/cols.csv"
wide 1048577 "$tmp/cols1.csv"
# column 1048577 starts after the header's first 1048576 names and their commas
col=$(( $(head -1 "$tmp/cols.csv" | wc -c) + 1 ))
expect 0 '"k": 2' "$bin" pool "$tmp/cols.csv" --format json
expect 0 '^b,1,' "$bin" batch "$tmp/cols.csv" --group g
for cmd in pool "batch --group g" "batch --sorted --group g"; do
    expect 2 "^metapool ${cmd%% *}: $tmp/cols1.csv:1:$col: more than 1048576 columns in the header \\(the limit\\)$" \
        "$bin" $cmd "$tmp/cols1.csv"
done

# ---- most groups: one row per group g0 ... g(N-1) --------------------------------------------
groups() { # N FILE
    awk -v n="$1" 'BEGIN { print "g,ai,bi,ci,di"; for (i = 0; i < n; i++) printf "g%d,3,7,4,6\n", i }' >"$2"
}
groups 1048576 "$tmp/groups.csv"
groups 1048577 "$tmp/groups1.csv"
msg='more than 1048576 groups in column .g. \(the limit when the whole file is grouped; batch --sorted takes any number of groups, contiguous\)$'
# at the limit: every group gets its row (k = 1 each)
# (log OR = log(3*6/(7*4)) = -0.44183275...)
expect 0 '' "$bin" batch "$tmp/groups.csv" --group g --measure OR
[ "$(wc -l <"$tmp/out")" -eq 1048577 ] || fail "batch at the limit: $(wc -l <"$tmp/out") lines"
grep -q '^g1048575,1,-0\.441832752' "$tmp/out" || fail "batch at the limit: last group: $(tail -1 "$tmp/out")"
# one past: the first row of group 1048577 (line 1048578, column 1)
expect 2 "^metapool batch: $tmp/groups1.csv:1048578:1: $msg" \
    "$bin" batch "$tmp/groups1.csv" --group g --measure OR
expect 2 "^metapool batch: $tmp/groups1.csv:1048578:1: $msg" \
    "$bin" batch "$tmp/groups1.csv" --group g --measure OR --method MH
expect 2 "^metapool pool: $tmp/groups1.csv:1048578:1: $msg" \
    "$bin" pool "$tmp/groups1.csv" --by g --measure OR --format csv
# --sorted has no such limit (its groups are contiguous here)
expect 0 '' "$bin" batch "$tmp/groups1.csv" --group g --measure OR --sorted
[ "$(wc -l <"$tmp/out")" -eq 1048578 ] || fail "batch --sorted past the limit: $(wc -l <"$tmp/out") lines"

# ---- largest whole-file input: 8 GiB (sparse: a good start, then zeros that are never read) --
printf 'g,yi,vi\na,0.1,0.01\nb,0.2,0.02\n' >"$tmp/big.csv"
truncate -s 8589934593 "$tmp/big.csv"   # 2^33 + 1 bytes
size_msg='input larger than 8 GiB \(the limit when the whole file is read at once; batch --sorted streams larger files\)$'
for cmd in pool escalc "batch --group g"; do
    expect 2 "^metapool ${cmd%% *}: $tmp/big.csv: $size_msg" "$bin" $cmd "$tmp/big.csv"
done
# batch --sorted streams it: it reads on to the first zero byte
expect 2 "^metapool batch: $tmp/big.csv:4:1: NUL byte in input \\(binary data\\?\\)$" \
    "$bin" batch --sorted --group g "$tmp/big.csv"
# exactly 2^33 bytes: within the limit, so the read goes on to the first zero byte
truncate -s 8589934592 "$tmp/big.csv"
for cmd in pool "batch --group g"; do
    expect 2 "^metapool ${cmd%% *}: $tmp/big.csv:4:1: NUL byte in input \\(binary data\\?\\)$" \
        "$bin" $cmd "$tmp/big.csv"
done
# every limit is stated in the general help and the man page
"$bin" --help >"$tmp/help"
for want in 'one row: at most 64 MiB' 'at most 1048576 columns' 'at most 8 GiB' 'at most 1048576 groups'; do
    tr '\n' ' ' <"$tmp/help" | tr -s ' ' | grep -q "$want" || fail "--help does not say '$want'"
done
"$bin" --man | grep -q '^\.SH LIMITS' || fail "the man page has no LIMITS section"
echo "input_limits: ok"
