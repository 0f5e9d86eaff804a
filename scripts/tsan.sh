#!/usr/bin/env bash
# scripts/tsan.sh - ThreadSanitizer over batch: the threaded library cases and the command.
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Usage: scripts/tsan.sh            (from anywhere; builds in build-tsan/)
# Builds the library, the command and tests/test_batch.c with -fsanitize=thread
# (cmake -DMP_TSAN=ON), then runs
#  - test_batch: every case, among them mp_pool_batch() on 2, 3 and 4 threads against
#    1 thread, the per-range callback from worker threads, and `metapool batch
#    --threads 2` against `pool` (that case runs this build's metapool);
#  - metapool batch on a file of 40,000 groups of 5 rows (200,000 rows: blocks of
#    8,192, 16,384, ... 131,072 rows, more than the ring of three, so with --sorted
#    the ring's blocks are reused, the parser can wait for the workers, and a worker
#    writes while another fits and takes chunks of the next block) with --threads 1,
#    2 and 4, with and without --sorted: no ThreadSanitizer report, and the output of
#    every run byte for byte that of --threads 1.
# A data race (or any other ThreadSanitizer report) fails the run (exit status 1).
# Run by scripts/test.sh (CI): only the library, the command and test_batch are built,
# so the whole script costs about 40 CPU-seconds (measured: 31 s user + 7 s system for
# a clean build and every run, at one job).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMP_TSAN=ON -DMP_SANITIZE=OFF \
    -DMP_BUILD_BENCH=OFF >/dev/null
cmake --build build-tsan -j"$jobs" --target metapool test_batch >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# every report fails the process that makes it; the reports go to $tmp/tsan.PID
export TSAN_OPTIONS="halt_on_error=1 exitcode=66 log_path=$tmp/tsan"
status=0
# Some kernels randomise mmap addresses more than GCC 12's ThreadSanitizer allows
# ("unexpected memory mapping"); then everything runs with address-space
# randomisation off for these processes (setarch -R; inherited by the children).
run=()
if ! build-tsan/metapool --version >/dev/null 2>&1; then
    if setarch "$(uname -m)" -R build-tsan/metapool --version >/dev/null 2>&1; then
        run=(setarch "$(uname -m)" -R)
        echo "(ThreadSanitizer needs address-space randomisation off here: setarch -R)"
    else
        echo "tsan: the ThreadSanitizer build does not start:" >&2
        build-tsan/metapool --version 2>&1 | head -5 >&2 || true
        exit 1
    fi
fi

echo "== tests/test_batch.c under ThreadSanitizer"
if ! (cd build-tsan && "${run[@]}" ./tests/test_batch); then status=1; fi

echo "== metapool batch, 40000 groups x 5 rows, --threads 1/2/4, with and without --sorted"
awk 'BEGIN { srand(7); print "gene,yi,vi";
             for (g = 0; g < 40000; g++) for (r = 0; r < 5; r++)
                 printf "g%d,%.6f,%.6f\n", g, rand() - 0.5, 0.01 + rand() * 0.2 }' >"$tmp/big.csv"
for sorted in "" --sorted; do
    for t in 1 2 4; do
        set +e
        "${run[@]}" build-tsan/metapool batch "$tmp/big.csv" --group gene --threads "$t" $sorted \
            >"$tmp/out$t" 2>"$tmp/err$t"
        rc=$?
        set -e
        if [ "$rc" -ne 0 ]; then
            echo "batch --threads $t $sorted: exit $rc: $(head -c 300 "$tmp/err$t")" >&2
            status=1
        fi
        if [ "$t" != 1 ] && ! cmp -s "$tmp/out1" "$tmp/out$t"; then
            echo "batch --threads $t $sorted: output differs from --threads 1" >&2
            status=1
        fi
        echo "batch --threads $t ${sorted:-(whole file)}: exit $rc, $(($(wc -l <"$tmp/out$t") - 1)) groups"
    done
done
if ls "$tmp"/tsan.* >/dev/null 2>&1; then
    echo "ThreadSanitizer reports:" >&2
    cat "$tmp"/tsan.* | head -60 >&2
    status=1
fi
[ "$status" = 0 ] && echo "tsan: no data race reported" || echo "tsan: FAILED" >&2
exit $status
