#!/usr/bin/env bash
# tests/mpi/batch_mpi.sh - `mpirun -n N metapool batch --sorted --output` writes the bytes one process writes.
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Arguments: the metapool binary (an MPI build), the source directory, the
# launcher (mpirun).  For each input (tests/mpi/make_batch_inputs.py) and
# N = 2, 3: the output file must be identical (cmp) to the one-process
# output, the lines metapool writes on standard error identical (the
# launcher adds its own lines, which are dropped), and the exit status the
# same.  Open MPI's flags: --oversubscribe (more processes than cores),
# --allow-run-as-root (CI runs as root).
set -u
BIN=$1; SRC=$2; MPIRUN=${3:-mpirun}
RUN=("$MPIRUN" --oversubscribe --allow-run-as-root)
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
fail=0
bad() { echo "FAIL $*"; fail=1; }
python3 "$SRC/tests/mpi/make_batch_inputs.py" "$T" || { echo "FAIL: cannot make the inputs"; exit 1; }
cd "$T"  # messages name the file as given: the same relative name in both runs

same() { # name, N, options...
  local name=$1 n=$2; shift 2
  rm -f one.csv many.csv
  "$BIN" batch "$@" --output one.csv >one.out 2>one.err; local r1=$?
  "${RUN[@]}" -n "$n" "$BIN" batch "$@" --output many.csv >many.out 2>many.err; local r2=$?
  grep '^metapool' one.err >one.msg; grep '^metapool' many.err >many.msg
  if [ "$r1" != "$r2" ]; then bad "$name -n $n: exit $r2, one process $r1"; cat many.err; return; fi
  if [ -e one.csv ] || [ -e many.csv ]; then
    cmp one.csv many.csv || { bad "$name -n $n: output differs"; return; }
  fi
  if ! cmp -s one.msg many.msg; then bad "$name -n $n: messages differ"; diff one.msg many.msg | head; return; fi
  [ -s many.out ] && { bad "$name -n $n: wrote to standard output"; return; }
  echo "ok   $name -n $n: $([ -e one.csv ] && echo $(($(wc -l <one.csv) - 1)) || echo no) groups, $(wc -l <one.msg) messages, exit $r1"
}
# every case with 2 processes; with 3 (a process between two cuts) those
# where a middle share matters, to keep the CI job short
for n in 2 3; do
  same "mixed CRLF, BOM, quoted names with line breaks, no_studies" $n mixed_crlf.csv --group g --sorted
  same "one group over most of the file (with 3: a process without groups)" $n big.csv --group g --sorted
  same "malformed row: ragged" $n ragged.csv --group g --sorted
  same "a group comes back in another share" $n repeat_across.csv --group g --sorted
  [ $n = 3 ] && continue
  same "mixed LF, no final line end" $n mixed_lf.csv --group g --sorted
  same "tab-delimited, lone CR" $n tab_cr.csv --group g --sorted --method DL
  same "not converged (--maxiter 2)" $n conv.csv --group g --sorted --maxiter 2
  same "malformed row: bad number" $n badnum.csv --group g --sorted
  same "malformed row: open quote" $n badquote.csv --group g --sorted
  same "header only" $n header_only.csv --group g --sorted
  same "no such column" $n big.csv --group nope --sorted
  same "--threads 1" $n mixed_lf.csv --group g --sorted --threads 1
  for f in repeat_within repeat_two repeat_then_bad; do
    same "a group comes back: $f" $n $f.csv --group g --sorted
  done
done
# of two groups that come back, the earlier (g10, before g2) is named, once
"${RUN[@]}" -n 3 "$BIN" batch repeat_two.csv --group g --sorted --output x.csv 2>err >/dev/null
[ "$(grep -c "^metapool batch: repeat_two.csv:[0-9]*:1: group 'g10' appears again after other groups" err)" = 1 ] \
  && [ "$(grep -c '^metapool' err)" = 1 ] && echo "ok   the earlier of two repeats named once" || { bad "repeat_two message"; cat err; }
# the file's real line number, said once
"${RUN[@]}" -n 2 "$BIN" batch ragged.csv --group g --sorted --output x.csv 2>err >/dev/null
grep -q "^metapool batch: ragged.csv:806:7: row has 2 fields, the header has 3$" err && echo "ok   the error names line 806 once" || { bad "ragged message"; cat err; }
[ "$(grep -c '^metapool' err)" = 1 ] || bad "the error is not said once"
# usage: --sorted and --output are needed under MPI
"${RUN[@]}" -n 2 "$BIN" batch big.csv --group g --output x.csv >/dev/null 2>err; r=$?
[ $r = 2 ] && [ "$(grep -c 'needs --sorted' err)" = 1 ] && echo "ok   without --sorted: exit 2, said once" || { bad "without --sorted: exit $r"; cat err; }
"${RUN[@]}" -n 2 "$BIN" batch big.csv --group g --sorted >/dev/null 2>err; r=$?
[ $r = 2 ] && grep -q 'needs --output FILE' err && echo "ok   without --output: exit 2" || { bad "without --output: exit $r"; cat err; }
[ $fail = 0 ] && echo "batch_mpi: all passed"
exit $fail
