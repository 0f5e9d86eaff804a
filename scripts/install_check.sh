#!/usr/bin/env bash
# scripts/install_check.sh - `cmake --install` puts everything in place, and programs build against it.
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Usage: scripts/install_check.sh BUILD_DIR     (run by scripts/test.sh after the Release build)
# Installs BUILD_DIR into BUILD_DIR/install-tree and checks: the binary, the
# shared and static library, the headers, metapool.pc, the CMake package,
# the man pages (man metapool works with the tree's share/man) and the bash
# completion; then builds tests/consumer/consumer.c against the tree with
# pkg-config (shared and static) and with find_package(metapool) (both
# imported targets), and runs each.  Exit status 0 = all good.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$(cd "$1" && pwd)
prefix=$build/install-tree
rm -rf "$prefix"
cmake --install "$build" --prefix "$prefix" >"$build/install.log"
fail=0
bad() { echo "FAIL $*" >&2; fail=1; }
need() { [ -e "$prefix/$1" ] && echo "ok   installed $1" || bad "not installed: $1"; }
libdir=$(dirname "$(find "$prefix" -name libmetapool.a | head -1)")
[ -d "$libdir" ] || { echo "FAIL no libmetapool.a under $prefix" >&2; exit 1; }
lib=${libdir#"$prefix"/}
for f in bin/metapool "$lib/libmetapool.a" "$lib/libmetapool.so" include/metapool/metapool.h \
         include/metapool/version.h include/metapool/report.h "$lib/pkgconfig/metapool.pc" \
         "$lib/cmake/metapool/metapoolConfig.cmake" "$lib/cmake/metapool/metapoolTargets.cmake" \
         share/man/man1/metapool.1 share/man/man1/metapool-pool.1 \
         share/bash-completion/completions/metapool; do
    need "$f"
done
# the installed program runs and draws
v=$("$prefix/bin/metapool" --version)
echo "${v%%$'\n'*}"
"$prefix/bin/metapool" pool "$root/datasets/bcg/bcg.csv" --measure RR --plot "$build/install-check.svg" >/dev/null ||
    bad "installed metapool pool failed"
# man metapool with the tree's pages
if command -v man >/dev/null; then
    # (outputs captured first: with pipefail, grep -q closing the pipe early could fail man)
    page=$(MANPATH=$prefix/share/man man -P cat metapool 2>/dev/null || true)
    [[ $page == *"meta-analysis statistics engine"* ]] && echo "ok   man metapool" || bad "man metapool"
    page=$(MANPATH=$prefix/share/man man -P cat metapool-pool 2>/dev/null || true)
    [[ $page == *"--favours"* ]] && echo "ok   man metapool-pool" || bad "man metapool-pool"
else
    echo "SKIP man: man-db not installed"
fi
# the consumer program, four ways
src=$root/tests/consumer/consumer.c
out=$build/consumer
mkdir -p "$out"
export PKG_CONFIG_PATH=$prefix/$lib/pkgconfig
# shellcheck disable=SC2046
cc -std=c11 -o "$out/pc_shared" "$src" $(pkg-config --cflags --libs metapool) -Wl,-rpath,"$prefix/$lib"
"$out/pc_shared" && echo "ok   pkg-config, shared" || bad "pkg-config shared consumer"
deps=$(ldd "$out/pc_shared")
[[ $deps == *"$prefix/$lib/libmetapool.so"* ]] || bad "pc_shared does not use the installed libmetapool.so"
# shellcheck disable=SC2046
cc -std=c11 -o "$out/pc_static" "$src" $(pkg-config --cflags metapool) "$prefix/$lib/libmetapool.a" \
    $(pkg-config --static --libs metapool | sed 's/-lmetapool\b//')
"$out/pc_static" && echo "ok   pkg-config, static" || bad "pkg-config static consumer"
deps=$(ldd "$out/pc_static")
[[ $deps != *libmetapool* ]] || bad "pc_static links libmetapool.so"
cmake -S "$root/tests/consumer" -B "$out/cmake" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release >"$out/cmake.log"
cmake --build "$out/cmake" >>"$out/cmake.log"
"$out/cmake/consumer_shared" && echo "ok   find_package(metapool), metapool::metapool" || bad "cmake shared consumer"
"$out/cmake/consumer_static" && echo "ok   find_package(metapool), metapool::metapool_static" || bad "cmake static consumer"
exit $fail
