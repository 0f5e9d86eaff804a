#!/usr/bin/env bash
# tests/cli/conventions.sh - conventions a user reproducing metafor trips on (issue 11, item 7).
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Each check failed before its fix: a 'Study' column was not found (labels
# "Study 1", ...), --plot x.png wrote SVG into a .png (now: rendered, and an
# unknown extension refused), the pool JSON had no
# "fixed" object, batch gave no Knapp-Hartung warning for FE, and --tau2 was
# not an option.  Independent values: the FE fit of tests/reference/bcg_rr.json
# (metafor 3.8-1, rma(yi, vi, method = "FE")).
set -u
BIN=$1; SRC=$2
REF=$SRC/tests/reference
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
export NO_COLOR=1
fail=0
bad() { echo "FAIL $*"; fail=1; }

# a 'Study' (any case) column gives the labels
printf 'Study,yi,vi\nAlpha trial,1,0.1\nBeta trial,2,0.2\n' >"$T/s.csv"
"$BIN" pool "$T/s.csv" >"$T/out" 2>"$T/err" || bad "Study column: exit $?"
grep -q "^Alpha trial" "$T/out" || bad "Study column: labels not shown"
printf 'STUDY,yi,vi\nGamma,1,0.1\nDelta,2,0.2\n' >"$T/s2.csv"
"$BIN" pool "$T/s2.csv" --format json >"$T/out" 2>/dev/null
grep -q '"study": "Gamma"' "$T/out" || bad "STUDY column: labels not in JSON"
# a label-like column that is not used is named in a note
printf 'Author,yi,vi\nSmith,1,0.1\nJones,2,0.2\n' >"$T/a.csv"
"$BIN" pool "$T/a.csv" >/dev/null 2>"$T/err"
grep -q "note: .*'Author' looks like study labels" "$T/err" || bad "no note about the Author column"

# --plot: only .svg until PNG/PDF are rendered
# the picture's format is its extension: an unknown one is a usage error
# before anything is printed or written (issue 17)
"$BIN" pool "$REF/data/bcg_rr.csv" --measure RR --plot "$T/x.jpg" >"$T/out" 2>"$T/err"
st=$?
[ "$st" = 2 ] || bad "--plot x.jpg: exit $st, want 2"
[ -s "$T/out" ] && bad "--plot x.jpg printed results"
[ -e "$T/x.jpg" ] && bad "--plot x.jpg wrote a file"
grep -q "unknown picture format: name it FILE.svg, FILE.png or FILE.pdf" "$T/err" || bad "--plot x.jpg: message: $(cat "$T/err")"
# .png is rendered when the build has librsvg and cairo, else refused with a message
if "$BIN" --version | grep -q "PNG, PDF"; then
    "$BIN" pool "$REF/data/bcg_rr.csv" --measure RR --plot "$T/x.png" >/dev/null 2>"$T/err" || bad "--plot x.png refused: $(cat "$T/err")"
    head -c 8 "$T/x.png" | od -An -tx1 | grep -q "89 50 4e 47 0d 0a 1a 0a" || bad "--plot x.png is not a PNG"
else
    "$BIN" pool "$REF/data/bcg_rr.csv" --measure RR --plot "$T/x.png" >"$T/out" 2>"$T/err"
    st=$?
    [ "$st" = 2 ] || bad "--plot x.png without librsvg: exit $st, want 2"
    grep -q "writes SVG only" "$T/err" || bad "--plot x.png without librsvg: message: $(cat "$T/err")"
fi
"$BIN" pool "$REF/data/bcg_rr.csv" --measure RR --plot "$T/x.SVG" >/dev/null 2>&1 || bad "--plot x.SVG refused"
[ -s "$T/x.SVG" ] || bad "--plot x.SVG wrote nothing"
# shellcheck source=../tools/render_check.sh
. "$SRC/tests/tools/render_check.sh"
render_check "$T/x.SVG" >/dev/null || bad "x.SVG does not render"

# the pool JSON carries the fixed-effect result the table prints
"$BIN" pool "$REF/data/bcg_rr.csv" --measure RR --format json >"$T/j" 2>/dev/null
python3 - "$T/j" "$REF/bcg_rr.json" <<'PY' || fail=1
import json, sys
got = json.load(open(sys.argv[1]))["fixed"]
ref = next(f["expected"] for f in json.load(open(sys.argv[2]))["fits"]
           if f["method"] == "FE" and f["test"] == "z")
bad = [k for k in ("estimate", "se", "stat", "pval", "ci_lb", "ci_ub")
       if abs(got[k] - ref[k]) > 1e-6 * abs(ref[k]) + 1e-12]
if bad:
    print("FAIL fixed: %s differ from metafor's FE fit" % bad)
    sys.exit(1)
PY

# FE with knha: a warning (as metafor and as pool) in batch too
printf 'g,yi,vi\na,1,0.1\na,2,0.2\na,0.5,0.3\n' >"$T/b.csv"
"$BIN" batch "$T/b.csv" --group g --method FE --test knha >/dev/null 2>"$T/err"
grep -q "Knapp-Hartung adjustment is not meant for the fixed-effect model" "$T/err" || bad "batch FE+knha: no warning"
"$BIN" pool "$REF/data/bcg_rr.csv" --measure RR --method FE --test knha >/dev/null 2>"$T/err"
grep -q "Knapp-Hartung adjustment is not meant for the fixed-effect model" "$T/err" || bad "pool FE+knha: no warning"

# --tau2 common|separate, and the table says which
printf 'yi,vi,g\n-0.9,0.33,a\n-1.6,0.19,a\n-1.3,0.41,b\n-1.4,0.02,b\n-0.2,0.05,b\n' >"$T/g.csv"
"$BIN" pool "$T/g.csv" --by g --tau2 common >"$T/out" 2>&1 || bad "--tau2 common: exit $?"
grep -q "subgroup differences (common τ²): QM" "$T/out" || bad "--tau2 common: table does not say so"
"$BIN" pool "$T/g.csv" --by g >"$T/out" 2>&1
grep -q "subgroup differences (separate τ²): Q" "$T/out" || bad "separate: table does not say so"
"$BIN" pool "$T/g.csv" --by g --tau2 shared >/dev/null 2>"$T/err"
[ $? = 2 ] && grep -q -- "--tau2 must be common or separate" "$T/err" || bad "--tau2 shared not refused"

[ $fail = 0 ] && echo "conventions: all checks passed"
exit $fail
