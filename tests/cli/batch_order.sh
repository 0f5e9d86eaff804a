#!/usr/bin/env bash
# tests/cli/batch_order.sh - `metapool batch`: order of first appearance and
# identical output for any --threads; --sorted equals the unsorted mode on a
# sorted file and rejects an unsorted one (exit 2, file:line:col).
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
set -u
BIN=$1; SRC=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
fail=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fail=1; }
# 3000 groups of 1..9 rows; rows of the groups interleaved (unsorted) and
# grouped (sorted).  Values from a fixed formula: no RNG, same on every run.
awk 'BEGIN { print "gene,yi,vi";
  for (p = 0; p < 9; p++) for (g = 0; g < 3000; g++) { k = 1 + g % 9; if (p < k)
    printf "x%d,%.6f,%.6f\n", (g * 7919) % 3000, 0.4 * sin(g * 1.3 + p * 0.7), 0.02 + 0.1 * (1 + cos(g * 0.11 + p)) }
}' >"$T/mixed.csv"
awk 'NR == 1 { print; next } { print | "sort -t, -k1,1 -s" }' "$T/mixed.csv" >"$T/sorted.csv"
for th in 1 2 3; do
  "$BIN" batch --group gene --threads $th "$T/mixed.csv" >"$T/m$th.csv" 2>"$T/err" || { bad "mixed threads $th: exit $?"; cat "$T/err"; }
done
cmp -s "$T/m1.csv" "$T/m2.csv" && cmp -s "$T/m1.csv" "$T/m3.csv" && ok "threads 1, 2, 3 identical" || bad "thread counts differ"
[ "$(wc -l <"$T/m1.csv")" = 3001 ] && ok "one row per group" || bad "rows: $(wc -l <"$T/m1.csv")"
# order of first appearance: the group column equals the first occurrences in the input
awk -F, 'NR > 1 && !seen[$1]++ { print $1 }' "$T/mixed.csv" >"$T/first.txt"
awk -F, 'NR > 1 { print $1 }' "$T/m1.csv" >"$T/got.txt"
cmp -s "$T/first.txt" "$T/got.txt" && ok "order of first appearance" || bad "order differs"
head -1 "$T/m1.csv" | grep -qx 'group,k,estimate,se,ci_lb,ci_ub,pval,tau2,I2,H2,Q,Q_pval,pi_lb,pi_ub,status' && ok header || bad header
# sorted input: the streaming mode gives the same rows as the whole-file mode
for th in 1 2; do
  "$BIN" batch --group gene --threads $th --sorted "$T/sorted.csv" >"$T/s$th.csv" 2>"$T/err" || { bad "sorted threads $th: exit $?"; cat "$T/err"; }
done
"$BIN" batch --group gene "$T/sorted.csv" >"$T/u.csv" 2>/dev/null
cmp -s "$T/s1.csv" "$T/u.csv" && cmp -s "$T/s2.csv" "$T/u.csv" && ok "--sorted equals unsorted" || bad "--sorted differs"
# same numbers for the same group whatever the file order
sort "$T/m1.csv" >"$T/a"; sort "$T/u.csv" >"$T/b"
cmp -s "$T/a" "$T/b" && ok "same rows in any input order" || bad "rows depend on input order"
# standard input
"$BIN" batch --group gene --threads 2 - <"$T/mixed.csv" >"$T/stdin.csv" 2>/dev/null
cmp -s "$T/stdin.csv" "$T/m1.csv" && ok "stdin" || bad "stdin differs"
# --sorted on an unsorted file: exit 2, names the line where a group comes back
printf 'g,yi,vi\na,1,0.1\na,2,0.1\nb,1,0.1\na,3,0.1\n' >"$T/unsorted.csv"
"$BIN" batch --group g --sorted "$T/unsorted.csv" >"$T/out" 2>"$T/err"; rc=$?
[ $rc = 2 ] && ok "unsorted exit 2" || bad "unsorted exit $rc"
grep -q "unsorted.csv:5:1: group 'a' appears again after other groups" "$T/err" && ok "unsorted message" || { bad "unsorted message"; cat "$T/err"; }
# detected also at the end of a larger file
{ cat "$T/sorted.csv"; echo "x0,0.1,0.1"; } >"$T/late.csv"
line=$(wc -l <"$T/late.csv")
"$BIN" batch --group gene --sorted "$T/late.csv" >"$T/out" 2>"$T/err"; rc=$?
[ $rc = 2 ] && grep -q "late.csv:$line:1: group 'x0' appears again" "$T/err" && ok "late unsorted row" || { bad "late unsorted: exit $rc"; cat "$T/err"; }
[ $fail = 0 ] && echo "batch_order: all passed"
exit $fail
