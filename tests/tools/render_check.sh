# tests/tools/render_check.sh - sourced by the CLI tests: every SVG they write is rendered and checked.
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# render_check FILE.svg [MIN_WIDTH MIN_HEIGHT]
#   xmllint: well-formed (when installed); rsvg-convert (librsvg2-bin) renders
#   it to FILE.svg.png; tests/tools/png_check.py checks size and ink.  Prints
#   "ok   render FILE" or "FAIL ..." and returns 1 on failure.  Without
#   rsvg-convert it says SKIP (CI installs it: .ci/run).
# Needs $SRC (the source directory) set by the sourcing test.
render_check() {
    local f=$1 name
    name=$(basename "$f")
    if command -v xmllint >/dev/null && ! xmllint --noout "$f" 2>"$f.xmllint"; then
        echo "FAIL render $name: not well-formed XML:"; cat "$f.xmllint"; return 1
    fi
    if ! command -v rsvg-convert >/dev/null; then
        echo "SKIP render $name: rsvg-convert (librsvg2-bin) not installed"; return 0
    fi
    if ! rsvg-convert "$f" -o "$f.png" 2>"$f.rsvg"; then
        echo "FAIL render $name: rsvg-convert failed:"; cat "$f.rsvg"; return 1
    fi
    local out
    if out=$(python3 "$SRC/tests/tools/png_check.py" "$f.png" "${2:-100}" "${3:-50}" 2>&1); then
        echo "ok   render $name ($out)"
    else
        echo "FAIL render $name: $out"; return 1
    fi
}
