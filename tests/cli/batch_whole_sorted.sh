#!/usr/bin/env bash
# tests/cli/batch_whole_sorted.sh - `metapool batch` without --sorted on a file
# that may be sorted: on 2+ threads with a regular input and output file the
# command first reads the file as --sorted does and falls back to the
# whole-file read when a group comes back, the input is bad, or there are too
# many groups (cmd_batch.c, whole_as_sorted).  Whatever the route, rows,
# warnings (their order and the "... more not shown" lines) and the exit status
# must be those of the whole-file read, which standard input always takes (it
# cannot be read twice): the oracle here.  Files: sorted with row and group
# warnings past the 100 shown, unsorted, sorted but for a group that comes
# back on the last line, sorted with a bad cell late in the file, CRLF.  The
# cut-back of the output is checked with `>>` (the output starts at an offset).
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
set -u
BIN=$1; SRC=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
fail=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fail=1; }
# 20000 groups of 1..9 rows (90 000 rows: more than the ring's three blocks),
# values from a fixed formula; every 37th group has only NA effects (a group
# warning, "no_studies"), every 11th row of the others is NA (a row warning)
awk 'BEGIN { print "gene,yi,vi";
  for (g = 0; g < 20000; g++) { k = 1 + (g * 7) % 9;
    for (p = 0; p < k; p++) {
      y = (g % 37 == 0 || (g * 9 + p) % 11 == 0) ? "NA" : sprintf("%.6f", 0.5 * sin(g * 1.7 + p));
      printf "g%05d,%s,%.6f\n", g, y, 0.03 + 0.1 * (1 + cos(g * 0.3 + p)) } } }' >"$T/sorted.csv"
# unsorted: the same rows, groups interleaved
awk 'NR == 1 { print; next } { r[NR] = $0 } END { for (s = 0; s < 7; s++) for (i = 2 + s; i <= NR; i += 7) print r[i] }' \
  "$T/sorted.csv" >"$T/mixed.csv"
# sorted but for the first group, which comes back on the last line
{ cat "$T/sorted.csv"; sed -n 2p "$T/sorted.csv"; } >"$T/late.csv"
# sorted, with a cell that is not a number near the end (exit 2, no rows written)
awk 'NR == 85000 { split($0, f, ","); print f[1] ",abc," f[3]; next } { print }' "$T/sorted.csv" >"$T/badcell.csv"
# CRLF line ends
awk '{ printf "%s\r\n", $0 }' "$T/sorted.csv" >"$T/crlf.csv"

for f in sorted mixed late badcell crlf; do
  in="$T/$f.csv"
  # the oracle: standard input takes the whole-file read
  "$BIN" batch --group gene --threads 2 - <"$in" >"$T/$f.ref" 2>"$T/$f.referr"; rref=$?
  sed "s|<stdin>|$in|g" "$T/$f.referr" >"$T/$f.referr2"
  for th in 2 3; do
    "$BIN" batch --group gene --threads $th "$in" --output "$T/$f.out" 2>"$T/$f.err"; r=$?
    if [ $r = $rref ] && cmp -s "$T/$f.out" "$T/$f.ref" && cmp -s "$T/$f.err" "$T/$f.referr2"; then
      ok "$f, --output, $th threads: rows, warnings, exit $r as the whole-file read"
    else
      bad "$f, --output, $th threads: exit $r (want $rref)"; diff "$T/$f.err" "$T/$f.referr2" | head -5
    fi
  done
  # standard output to a file, appended after other text: a fallback must cut
  # the output back to where it started, not to the start of the file
  printf 'kept line\n' >"$T/$f.app"
  "$BIN" batch --group gene --threads 2 "$in" >>"$T/$f.app" 2>/dev/null; r=$?
  { printf 'kept line\n'; cat "$T/$f.ref"; } >"$T/$f.appref"
  [ $r = $rref ] && cmp -s "$T/$f.app" "$T/$f.appref" && ok "$f, >> file: earlier text kept, rows as the whole-file read" \
    || bad "$f, >> file: exit $r or output differs"
done
# the files really exercise what the test is about
[ "$(grep -c 'warnings not shown' "$T/sorted.referr")" = 2 ] && ok "row and group warnings both past the 100 shown" \
  || bad "the sorted file should give two '... not shown' lines"
grep -q "no_studies" "$T/sorted.ref" && ok "groups with no studies in the sorted file" || bad "no no_studies group"
grep -q "badcell.csv:85000:" "$T/badcell.err" && ok "the bad cell is named by line" || bad "bad cell message"
[ "$(wc -l <"$T/badcell.out")" = 0 ] && ok "bad input leaves the output empty" || bad "badcell output not empty"
# the same rows with --sorted (the sorted and CRLF files) and the same row set unsorted
"$BIN" batch --group gene --threads 2 --sorted "$T/sorted.csv" >"$T/s.csv" 2>/dev/null
cmp -s "$T/s.csv" "$T/sorted.ref" && ok "--sorted gives the same rows" || bad "--sorted differs"
cmp -s "$T/crlf.ref" "$T/sorted.ref" && ok "CRLF gives the same rows" || bad "CRLF differs"
exit $fail
