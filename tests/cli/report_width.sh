#!/usr/bin/env bash
# tests/cli/report_width.sh - no line of the table (or --methods text) is longer than --width.
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Usage: bash report_width.sh METAPOOL SOURCE_DIR   (run by CTest)
#
# Width is counted in characters (UTF-8 code points: continuation bytes are
# not counted).  Every dataset x width x {UTF-8, ASCII} x {plain, --by}
# combination; the default (not a terminal) is 80.  Where the width leaves
# room (>= 72) the plot column must be there: the axis tick row exists.
set -u
BIN=$1; SRC=$2
R=$SRC/tests/reference/data
E=$SRC/tests/golden/report/data
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
export LC_ALL=C NO_COLOR=1
fail=0; n=0
maxw() { sed 's/[\x80-\xbf]//g' "$1" | awk '{ if (length($0) > m) m = length($0) } END { print m + 0 }'; }
run() { # width-or-empty, args...
    local w=$1; shift
    local wopt=(); [ -n "$w" ] && wopt=(--width "$w")
    "$BIN" pool "$@" "${wopt[@]}" >"$T/out" 2>/dev/null || { echo "FAIL exit $? for $* ${wopt[*]}"; fail=1; return; }
    local lim=${w:-80} got; got=$(maxw "$T/out")
    n=$((n + 1))
    if [ "$got" -gt "$lim" ]; then echo "FAIL $* ${wopt[*]}: a line of $got > $lim characters"; fail=1; fi
    if [ "$lim" -ge 72 ] && ! grep -Eq '^ *[-─]+[┬┼┴+]' "$T/out"; then echo "FAIL $* ${wopt[*]}: no plot axis"; fail=1; fi
}
for data in "$R/bcg_rr.csv --measure RR" "$R/bcg_or.csv --measure OR --by alloc" \
            "$R/normand1999_smd.csv --measure SMD --test knha" "$E/edge.csv --by grp" "$E/edge.csv" \
            "$E/k1.csv" "$R/bcg_rr.csv --measure RR --digits 8 --by alloc"; do
    for w in "" 40 41 45 50 57 60 64 72 80 81 99 100 132 200 1000; do
        for a in "" --ascii; do
            # shellcheck disable=SC2086
            run "$w" $data $a
        done
    done
done
# the methods paragraph wraps at the width too
"$BIN" pool "$R/bcg_rr.csv" --measure RR --methods --width 60 >"$T/m" 2>/dev/null
[ "$(maxw "$T/m")" -le 60 ] && echo "ok   --methods at width 60" || { echo "FAIL --methods wider than 60"; fail=1; }
echo "checked $n tables"
[ $fail = 0 ] && echo "ok   all lines within the width"
exit $fail
