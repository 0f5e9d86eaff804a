#!/usr/bin/env bash
# scripts/test.sh - build and run every test: Release + CTest, ASan/UBSan + CTest, TSan over batch, bench smoke.
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Usage: scripts/test.sh            (from anywhere; builds in build-ci/ and build-asan/)
# Needs: cmake, a C compiler, GSL, OpenBLAS, LAPACKE, Check, pkg-config, python3,
# clang and libFuzzer for the fuzz step (skipped without clang),
# xmllint (libxml2-utils), rsvg-convert (librsvg2-bin), librsvg2-dev and libcairo2-dev
# (PNG/PDF plots), pdfinfo (poppler-utils) and man (man-db)
# (on Debian 12: see .ci/run for the apt-get line).  Exit status 0 = all passed.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}
t0=$(date +%s)
step() { printf '\n== %s (%ss)\n' "$*" "$(($(date +%s) - t0))"; }

step "Release build in build-ci"
cmake -S . -B build-ci -DCMAKE_BUILD_TYPE=Release -DMP_SANITIZE=OFF
cmake --build build-ci -j"$jobs"

step "tests (Release)"
(cd build-ci && ctest --output-on-failure -j"$jobs")

step "install tree: binary, libraries, headers, metapool.pc, CMake package, man pages, completion; consumer builds"
scripts/install_check.sh build-ci

step "AddressSanitizer + UndefinedBehaviorSanitizer build in build-asan"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMP_SANITIZE=ON
cmake --build build-asan -j"$jobs"

step "tests (ASan + UBSan, leak checking on)"
# Every test program and every metapool run they start inherits these:
# any memory error, leak or undefined behaviour makes that run fail.
(cd build-asan &&
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --output-on-failure -j"$jobs")

step "ThreadSanitizer over batch in build-tsan (scripts/tsan.sh)"
JOBS=$jobs scripts/tsan.sh

step "forest plot with arm-level columns and favours: SVG (xmllint, rsvg-convert), PNG and PDF (librsvg + cairo)"
forest=(pool datasets/bcg/bcg.csv --measure RR --by alloc --labels "Vaccinated,Control"
        --favours "Favours vaccine,Favours control")
build-ci/metapool "${forest[@]}" --plot build-ci/forest.svg >/dev/null
xmllint --noout build-ci/forest.svg
rsvg-convert build-ci/forest.svg -o build-ci/forest-rsvg.png
python3 tests/tools/png_check.py build-ci/forest-rsvg.png 600 300
build-ci/metapool "${forest[@]}" --plot build-ci/forest.png >/dev/null
python3 tests/tools/png_check.py build-ci/forest.png 1000 500
build-ci/metapool "${forest[@]}" --plot build-ci/forest.pdf >/dev/null
[ "$(pdfinfo build-ci/forest.pdf | awk '/^Pages:/ {print $2}')" = 1 ] || { echo "forest.pdf: not one page" >&2; exit 1; }
build-ci/metapool trajectory datasets/ishak2007/ishak2007_long.csv --time time --struct AR --phi 0.97 \
    --plot build-ci/trajectory.svg >/dev/null
xmllint --noout build-ci/trajectory.svg
rsvg-convert build-ci/trajectory.svg -o build-ci/trajectory.png
python3 tests/tools/png_check.py build-ci/trajectory.png 500 300
echo "rendered build-ci/forest.{svg,png,pdf} and build-ci/trajectory.png"

if command -v clang >/dev/null 2>&1; then
    step "fuzz targets (libFuzzer + ASan/UBSan): regressions and seeds, then a fixed run each (tests/fuzz)"
    scripts/fuzz.sh all ci
else
    step "no clang: fuzz targets skipped (apt-get install clang libfuzzer-14-dev)"
fi

if [ -x build-ci/metapool-bench ]; then
    step "benchmark smoke run (output must be JSON lines)"
    build-ci/metapool-bench --smoke >build-ci/bench-smoke.jsonl
    [ -s build-ci/bench-smoke.jsonl ] || { echo "metapool-bench --smoke printed nothing" >&2; exit 1; }
    python3 - build-ci/bench-smoke.jsonl <<'PY'
import json, sys
n = 0
with open(sys.argv[1]) as f:
    for lineno, line in enumerate(f, 1):
        if not line.strip():
            continue
        try:
            json.loads(line)
        except ValueError as e:
            sys.exit("bench-smoke line %d is not JSON: %s: %r" % (lineno, e, line[:200]))
        n += 1
print("bench smoke: %d JSON lines" % n)
PY
else
    step "no metapool-bench target: benchmark smoke run skipped"
fi

step "all tests passed"
