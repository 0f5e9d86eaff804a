#!/usr/bin/env bash
# tests/mpi/gosh_mpi.sh - `mpirun -n N metapool gosh` writes what one process writes, byte for byte.
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Arguments as tests/mpi/batch_mpi.sh.  The per-study means are sums over
# millions of subsets: merging the parts' totals instead of their per-chunk
# sums changes their last digits in the JSON (tried: 24 of 24 studies on
# the k = 23 file), so these comparisons see the merge order.
set -u
BIN=$1; SRC=$2; MPIRUN=${3:-mpirun}
RUN=("$MPIRUN" --oversubscribe --allow-run-as-root)
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
fail=0
bad() { echo "FAIL $*"; fail=1; }
cd "$T"
cp "$SRC/datasets/bcg/bcg.csv" bcg.csv
python3 -c "
import random
r = random.Random(3)
print('study,yi,vi')
for i in range(23): print('s%d,%.4f,%.4f' % (i, r.gauss(0, 0.5), r.uniform(0.01, 0.3)))
" >k23.csv
same() { # name, N, arguments...
  local name=$1 n=$2; shift 2
  rm -f one.svg many.svg
  "$BIN" gosh "${@/PLOT/one.svg}" >one.out 2>one.err; local r1=$?
  "${RUN[@]}" -n "$n" "$BIN" gosh "${@/PLOT/many.svg}" >many.out 2>many.err; local r2=$?
  grep '^metapool' one.err >one.msg; grep '^metapool' many.err >many.msg
  [ "$r1" = "$r2" ] || { bad "$name -n $n: exit $r2, one process $r1"; cat many.err; return; }
  cmp -s one.out many.out || { bad "$name -n $n: output differs"; diff one.out many.out | head -5; return; }
  cmp -s one.msg many.msg || { bad "$name -n $n: messages differ"; diff one.msg many.msg; return; }
  if [ -e one.svg ] || [ -e many.svg ]; then cmp one.svg many.svg || { bad "$name -n $n: plot differs"; return; }; fi
  echo "ok   $name -n $n (exit $r1)"
}
for n in 2 3; do
  same "bcg RR, FE, every subset (exact quantiles)" $n --measure RR bcg.csv --format json
  same "bcg RR, REML" $n --measure RR --method REML bcg.csv --format json
  same "bcg table and plot with a highlighted study" $n --measure RR bcg.csv --plot PLOT --highlight "Aronson 1948"
  same "k = 23, DL, 2^23 - 1 subsets (histogram quantiles)" $n k23.csv --method DL --format json
  same "k = 23, 300000 random subsets" $n k23.csv --method DL --subsets 300000 --format json
  same "a bad option" $n k23.csv --method PM
done
"${RUN[@]}" -n 2 "$BIN" gosh bcg.csv --measure RR --out rows.csv >/dev/null 2>err; r=$?
[ $r = 2 ] && [ "$(grep -c -- '--out works in one process only' err)" = 1 ] && echo "ok   --out under MPI: exit 2, said once" || { bad "--out under MPI: exit $r"; cat err; }
[ $fail = 0 ] && echo "gosh_mpi: all passed"
exit $fail
