#!/usr/bin/env bash
# scripts/fuzz.sh - build the libFuzzer targets and run one (or all) for a fixed time.
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Usage: scripts/fuzz.sh TARGET|all SECONDS|ci [--record]
#   TARGET   table, batch, compare, fit, options or formula (tests/fuzz/fuzz_TARGET.c)
#   SECONDS  how long each target runs; `ci` runs a fixed number of inputs per
#            target from seed 1 (about 15 s each), so a CI run repeats exactly
#   --record append "date target seconds executions findings" to tests/fuzz/runs.tsv
# Needs clang and libFuzzer (Debian: clang libfuzzer-14-dev).  Builds in
# build-fuzz/; the working corpus grows in build-fuzz/corpus/TARGET, seeded from
# tests/fuzz/corpus/TARGET and every input in tests/fuzz/regressions that once
# found a bug.  A finding (crash, leak, sanitizer report or a failed invariant)
# leaves its input as build-fuzz/findings/TARGET/crash-* and the exit status 1.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
[ $# -ge 2 ] || { sed -n '4,14p' "$0"; exit 2; }
which=$1; secs=$2; record=${3:-}
case $secs in ci | [0-9]*) ;; *) echo "fuzz.sh: SECONDS must be a number or 'ci'" >&2; exit 2 ;; esac
targets="table batch compare fit options formula"
[ "$which" = all ] || targets=$which
if [ ! -x build-fuzz/tests/fuzz/fuzz_table ] || [ -n "$(find src include tests/fuzz -newer build-fuzz/tests/fuzz/fuzz_table -name '*.[ch]' 2>/dev/null | head -1)" ]; then
    CC=${CC:-clang} cmake -S . -B build-fuzz -DMP_FUZZ=ON -DMP_BUILD_TESTS=OFF -DMP_BUILD_BENCH=OFF \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build build-fuzz -j"${JOBS:-$(nproc)}" >/dev/null
fi
status=0
for t in $targets; do
    bin=build-fuzz/tests/fuzz/fuzz_$t
    [ -x "$bin" ] || { echo "fuzz.sh: no target '$t'" >&2; exit 2; }
    corpus=build-fuzz/corpus/$t; out=build-fuzz/findings/$t
    mkdir -p "$corpus" "$out"
    log=$(mktemp)
    # findings of this run only: the folder keeps those of earlier runs
    before=$(ls "$out" | grep -c '^\(crash\|leak\|timeout\|oom\)-' || true)
    set +e
    if [ "$secs" = ci ]; then
        case $t in table) n=150000 ;; batch) n=2500 ;; compare) n=4000 ;; fit) n=6000 ;; *) n=10000 ;; esac
        limit="-runs=$n -seed=1"
    else
        limit="-max_total_time=$secs"
    fi
    # regressions first, then the seeds; -timeout: an input running over 10 s is a finding
    ( cd "$out" && "$root/$bin" $limit -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
        -dict="$root/tests/fuzz/csv.dict" -print_final_stats=1 \
        "$root/$corpus" "$root/tests/fuzz/corpus/$t" "$root/tests/fuzz/regressions" ) >"$log" 2>&1
    rc=$?
    set -e
    execs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' || echo 0)
    findings=$(( $(ls "$out" | grep -c '^\(crash\|leak\|timeout\|oom\)-' || true) - before ))
    printf 'fuzz_%s: %s s, %s executions, exit %s, %s finding(s)\n' "$t" "$secs" "$execs" "$rc" "$findings"
    if [ "$rc" != 0 ]; then
        grep -m5 -E 'fuzz finding|ERROR|SUMMARY' "$log" | cut -c1-300 >&2 || true
        status=1
    fi
    [ "$record" = --record ] && printf '%s\t%s\t%s\t%s\t%s\n' "$(date -u +%F)" "fuzz_$t" "$secs" "$execs" "$findings" >>tests/fuzz/runs.tsv
    rm -f "$log"
done
exit $status
