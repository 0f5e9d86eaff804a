#!/usr/bin/env bash
# tests/cli/batch_output.sh - `metapool batch --output FILE`, --sorted output after bad input,
# warnings in line order, and the refusal to run as several processes without MPI.
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
set -u
BIN=$1; SRC=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
fail=0
bad() { echo "FAIL $*"; fail=1; }
ok() { echo "ok   $*"; }
printf 'g,yi,vi\na,0.1,0.01\na,0.3,0.02\nb,0.2,0.03\nc,NA,0.1\nd,0.5,0.2\nd,0.1,0.1\n' >"$T/in.csv"
"$BIN" batch --group g --sorted "$T/in.csv" >"$T/stdout1.csv" 2>/dev/null
# --output: the bytes of standard output, in every reading mode
for mode in "" --sorted "--measure OR --method MH"; do
  f=$T/in.csv
  [ "$mode" = "--measure OR --method MH" ] && { printf 'g,ai,bi,ci,di\na,1,9,2,8\na,3,7,1,9\nb,2,8,2,8\n' >"$T/mh.csv"; f=$T/mh.csv; }
  "$BIN" batch --group g $mode "$f" >"$T/stdout.csv" 2>"$T/e1"; r1=$?
  "$BIN" batch --group g $mode --output "$T/file.csv" "$f" >"$T/nothing" 2>"$T/e2"; r2=$?
  if cmp -s "$T/stdout.csv" "$T/file.csv" && [ ! -s "$T/nothing" ] && [ $r1 = $r2 ] && cmp -s "$T/e1" "$T/e2"; then
    ok "--output $mode: the bytes of standard output (exit $r1)"
  else bad "--output $mode differs from standard output"; fi
done
"$BIN" batch --group g --output "$T/no/such/dir.csv" "$T/in.csv" 2>"$T/err"; r=$?
[ $r = 2 ] && grep -q "dir.csv: cannot write" "$T/err" && ok "--output to a missing directory: exit 2" || bad "--output unwritable: exit $r: $(cat "$T/err")"
"$BIN" batch --help | grep -q -- "--output FILE" && ok "--output in the help" || bad "--output not in the help"

# --sorted after bad input: the header and the groups before the bad row,
# without the group the bad row may belong to (exit 2)
printf 'g,yi,vi\na,1,1\na,2,1\nb,3,1\nb,x,1\nc,1,1\n' >"$T/inside.csv"    # bad number inside group b
printf 'g,yi,vi\na,1,1\na,2,1\nb,3,1\nc,x,1\nc,1,1\n' >"$T/starts.csv"    # bad number starting group c
printf 'g,yi,vi\na,1,1\na,2,1\nb,3,1\nc,1\nc,1,1\n' >"$T/ragged.csv"      # ragged: its group unknown
for f in inside:a starts:a,b ragged:a; do
  name=${f%%:*}; want=${f#*:}
  "$BIN" batch --group g --sorted --output "$T/o.csv" "$T/$name.csv" 2>"$T/err"; r=$?
  got=$(awk -F, 'NR > 1 { printf "%s%s", sep, $1; sep = "," }' "$T/o.csv")
  if [ $r = 2 ] && [ "$(head -1 "$T/o.csv")" = "group,k,estimate,se,ci_lb,ci_ub,pval,tau2,I2,H2,Q,Q_pval,pi_lb,pi_ub,status" ] && [ "$got" = "$want" ]; then
    ok "--sorted bad input ($name): groups '$got' written, exit 2"
  else bad "--sorted bad input ($name): exit $r, groups '$got', want '$want'"; cat "$T/err"; fi
done
# a group that comes back is found at the end of the file: every row written
printf 'g,yi,vi\na,1,1\nb,2,1\na,3,1\nc,4,1\n' >"$T/again.csv"
"$BIN" batch --group g --sorted --output "$T/o.csv" "$T/again.csv" 2>"$T/err2"; r=$?
got=$(awk -F, 'NR > 1 { printf "%s%s", sep, $1; sep = "," }' "$T/o.csv")
[ $r = 2 ] && [ "$got" = "a,b,a,c" ] && grep -q "again.csv:4:1: group 'a' appears again" "$T/err2" \
  && ok "--sorted, a group comes back: all rows, then the error (exit 2)" || bad "comes back: exit $r, groups '$got': $(cat "$T/err2")"
grep -q "ragged.csv:5:4: row has 2 fields, the header has 3" "$T/err" && ok "ragged: the message names line 5" || bad "ragged message: $(cat "$T/err")"

# --sorted warnings in line order: a row's own, then a group that fails there
printf 'g,yi,vi\na,1,1\nb,NA,1\nb,NA,2\nc,1,1\nc,NA,1\n' >"$T/w.csv"
"$BIN" batch --group g --sorted "$T/w.csv" >/dev/null 2>"$T/err"; r=$?
exp="metapool batch: warning: row 2 (line 3) left out: missing value (NA) in column 'yi'
metapool batch: warning: $T/w.csv: group 'b' (line 3): no studies left to pool
metapool batch: warning: row 3 (line 4) left out: missing value (NA) in column 'yi'
metapool batch: warning: row 5 (line 6) left out: missing value (NA) in column 'yi'"
[ $r = 1 ] && [ "$(cat "$T/err")" = "$exp" ] && ok "warnings in line order" || { bad "warning order (exit $r):"; cat "$T/err"; }
# one cap over the whole run: 100 shown, then how many more
awk 'BEGIN { print "g,yi,vi"; for (i = 0; i < 150; i++) printf "g%d,NA,1\n", i; print "z,1,1" }' >"$T/many.csv"
"$BIN" batch --group g --sorted "$T/many.csv" >/dev/null 2>"$T/err"
[ "$(wc -l <"$T/err")" = 101 ] && tail -1 "$T/err" | grep -q "and 200 more warnings not shown" && ok "warning cap: 100 of 300, then the count" || { bad "warning cap"; tail -2 "$T/err"; }

# started by an MPI launcher with several processes (the launcher's variables)
if "$BIN" --version | grep -q "^MPI: no"; then
  OMPI_COMM_WORLD_SIZE=2 OMPI_COMM_WORLD_RANK=0 "$BIN" batch --group g --sorted --output "$T/x.csv" "$T/in.csv" >"$T/out" 2>"$T/err"; r=$?
  [ $r = 2 ] && grep -q "started as 2 MPI processes (OMPI_COMM_WORLD_SIZE=2), but this metapool was built without MPI" "$T/err" && [ ! -e "$T/x.csv" ] \
    && ok "no MPI in this build: rank 0 says so, exit 2, nothing written" || bad "no-MPI refusal: exit $r: $(cat "$T/err")"
  PMI_SIZE=3 PMI_RANK=1 "$BIN" gosh "$T/in.csv" >"$T/out" 2>"$T/err"; r=$?
  [ $r = 2 ] && [ ! -s "$T/err" ] && [ ! -s "$T/out" ] && ok "no MPI: other ranks exit 2 quietly" || bad "rank 1: exit $r: $(cat "$T/err")"
else
  OMPI_COMM_WORLD_SIZE=2 OMPI_COMM_WORLD_RANK=0 "$BIN" pool "$T/in.csv" >"$T/out" 2>"$T/err"; r=$?
  [ $r = 2 ] && grep -q "only batch and gosh share their work under MPI" "$T/err" && ok "MPI build: pool refuses several processes" || bad "pool under MPI: exit $r: $(cat "$T/err")"
fi
MV2_COMM_WORLD_SIZE=1 "$BIN" batch --group g --sorted "$T/in.csv" >"$T/one.csv" 2>/dev/null; r=$?
[ $r = 1 ] && cmp -s "$T/one.csv" "$T/stdout1.csv" && ok "one process under a launcher runs as usual" || bad "size 1 launcher: exit $r"
[ $fail = 0 ] && echo "batch_output: all passed"
exit $fail
