#!/usr/bin/env bash
# tests/cli/report_color.sh - colour only on a terminal, never with NO_COLOR or --ascii; terminal width.
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Usage: bash report_color.sh METAPOOL SOURCE_DIR   (run by CTest)
#
# Pipes and files get no escape codes.  The terminal cases run the program
# under `script` (util-linux) for a pseudo-terminal; they are skipped, with a
# message, when `script` is missing.  On that pseudo-terminal the window size
# is unset (0 columns), so the width comes from COLUMNS.
set -u
BIN=$1; SRC=$2
D=$SRC/tests/reference/data/bcg_rr.csv
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
export LC_ALL=C
fail=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fail=1; }
esc() { grep -q $'\033' "$1"; }
maxw() { LC_ALL=C sed 's/\x1b\[[0-9;]*m//g; s/[\x80-\xbf]//g' "$1" | awk '{ if (length($0) > m) m = length($0) } END { print m + 0 }'; }

unset NO_COLOR
"$BIN" pool "$D" --measure RR >"$T/pipe.txt" 2>&1
esc "$T/pipe.txt" && bad "escape codes when stdout is a file" || ok "no colour into a file"
"$BIN" pool "$D" --measure RR --by alloc | cat >"$T/pipe2.txt"
esc "$T/pipe2.txt" && bad "escape codes into a pipe" || ok "no colour into a pipe"
COLUMNS=200 "$BIN" pool "$D" --measure RR >"$T/cols.txt"
[ "$(maxw "$T/cols.txt")" -le 80 ] && ok "COLUMNS ignored when not a terminal (80)" || bad "width $(maxw "$T/cols.txt") with COLUMNS=200 into a file"

if ! command -v script >/dev/null; then
    echo "SKIP terminal cases: script (util-linux) not installed"
    exit $fail
fi
tty_run() { # output-file, environment..., -- args
    local out=$1; shift
    local envs=()
    while [ "$1" != -- ]; do envs+=("$1"); shift; done; shift
    env "${envs[@]}" script -qec "$(printf '%q ' "$BIN" pool "$@")" /dev/null >"$out" 2>&1
    tr -d '\r' <"$out" >"$out.tmp" && mv "$out.tmp" "$out"
}
tty_run "$T/tty.txt" COLUMNS=100 -- "$D" --measure RR
if ! grep -q "Study" "$T/tty.txt"; then
    echo "SKIP terminal cases: script did not run the program"; cat "$T/tty.txt"; exit $fail
fi
esc "$T/tty.txt" && ok "colour on a terminal" || bad "no colour on a terminal"
# every escape sequence is SGR and each line ends reset
grep -o $'\033[^m]*m' "$T/tty.txt" | grep -qv $'^\033\\[[0-9;]*m$' && bad "non-SGR escape" || ok "only SGR escapes"
w=$(maxw "$T/tty.txt"); [ "$w" -le 100 ] && [ "$w" -gt 80 ] && ok "terminal width from COLUMNS (100): widest line $w" || bad "widest line $w with COLUMNS=100"
tty_run "$T/nc.txt" NO_COLOR=1 COLUMNS=100 -- "$D" --measure RR
esc "$T/nc.txt" && bad "escape codes with NO_COLOR" || ok "NO_COLOR honoured on a terminal"
tty_run "$T/as.txt" COLUMNS=100 -- "$D" --measure RR --ascii
esc "$T/as.txt" && bad "escape codes with --ascii" || ok "--ascii: no colour"
LC_ALL=C grep -q $'[\x80-\xff]' "$T/as.txt" && bad "--ascii printed non-ASCII bytes" || ok "--ascii output is ASCII"
tty_run "$T/w.txt" COLUMNS=100 -- "$D" --measure RR --width 60
w=$(maxw "$T/w.txt"); [ "$w" -le 60 ] && ok "--width beats the terminal width" || bad "widest line $w with --width 60"
# the terminal's own size (TIOCGWINSZ) wins over COLUMNS
COLUMNS=100 script -qec "stty cols 90 rows 40 2>/dev/null; $(printf '%q ' "$BIN" pool "$D" --measure RR)" /dev/null 2>&1 | tr -d '\r' >"$T/ws.txt"
w=$(maxw "$T/ws.txt")
if grep -q "Study" "$T/ws.txt" && [ "$w" -le 90 ] && [ "$w" -gt 80 ]; then ok "terminal width from the window size (90): widest line $w"
elif ! grep -q "Study" "$T/ws.txt"; then echo "SKIP window size: stty did not run on the pseudo-terminal"
else bad "widest line $w on a 90-column terminal"; fi
# the coloured table is the plain one plus SGR codes
tty_run "$T/c80.txt" COLUMNS=80 -- "$D" --measure RR
sed 's/\x1b\[[0-9;]*m//g' "$T/c80.txt" >"$T/stripped.txt"
"$BIN" pool "$D" --measure RR >"$T/plain.txt"
diff -q "$T/stripped.txt" "$T/plain.txt" >/dev/null && ok "colour adds nothing but SGR codes" || { bad "coloured table differs from the plain one"; diff "$T/stripped.txt" "$T/plain.txt" | head; }
exit $fail
