#!/usr/bin/env bash
# tests/cli/traj_output.sh - `metapool trajectory` output: JSON contract, table, SVG plot.
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Usage: bash traj_output.sh METAPOOL SOURCE_DIR   (run by CTest)
# Expected numbers: tests/reference/ishak2007_mv.json (R metafor 3.8-1).
set -u
BIN=$1
SRC=$2
ISHAK=$SRC/tests/reference/data/ishak2007_long.csv
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail=0
pass=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }

# help
"$BIN" trajectory --help >"$TMP/out" 2>&1 && grep -q -- "--struct" "$TMP/out" && ok || bad "--help"
"$BIN" help trajectory >"$TMP/out" 2>&1 && grep -q -- "--time COL" "$TMP/out" && ok || bad "help trajectory"

# JSON: contract keys and metafor's AR fit
if "$BIN" trajectory "$ISHAK" --time time --struct AR --phi 0.97 --format json >"$TMP/ar.json" 2>"$TMP/err"; then
    if command -v python3 >/dev/null; then
        python3 - "$TMP/ar.json" <<'PY' && ok || bad "JSON contract (AR)"
import json, sys
j = json.load(open(sys.argv[1]))
for key in ("k", "n_studies", "model", "struct", "phi", "coef", "tau2", "rho", "logLik", "QE",
            "QE_pval", "curve", "onset", "peak", "offset"):
    assert key in j, key
assert j["k"] == 82 and j["n_studies"] == 46 and j["model"] == "factor" and j["struct"] == "AR"
assert [c["name"] for c in j["coef"]] == ["time=1", "time=2", "time=3", "time=4"]
for c in j["coef"]:
    assert set(c) >= {"name", "estimate", "se", "stat", "pval", "ci_lb", "ci_ub"}
close = lambda a, b, r: abs(a - b) <= r * abs(b)
assert close(j["logLik"], -232.270176684999, 1e-10), j["logLik"]
assert close(j["coef"][2]["estimate"], -28.7053633039434, 1e-8)
assert close(j["tau2"][0], 26.6874837229067, 1e-6) and close(j["rho"], 0.865613428118815, 1e-6)
assert close(j["QE"], 856.163513075998, 1e-10)
assert len(j["curve"]) == 4 and j["onset"] == 1 and j["peak"] == 3 and j["offset"] is None
assert len(j["windows"]) == 4 and sum(w["k"] for w in j["windows"]) == 82
PY
    else
        grep -q '"logLik": -232.27017668' "$TMP/ar.json" && ok || bad "JSON logLik (AR)"
    fi
else
    bad "AR fit failed: $(cat "$TMP/err")"
fi

# every structure and model runs; rho is null for ID and INT; HCS/HAR give 4 tau2
for st in INT CS HCS AR HAR CAR ID; do
    for m in factor loglinear quadratic spline; do
        if "$BIN" trajectory "$ISHAK" --time months --struct $st --model $m --phi 0.97 --format json >"$TMP/o.json" 2>"$TMP/err"; then
            ok
        else
            bad "$st $m: $(cat "$TMP/err")"
            continue
        fi
        case $st in
        ID | INT) grep -q '"rho": null' "$TMP/o.json" && ok || bad "$st rho not null" ;;
        HCS | HAR) python3 -c "import json,sys; assert len(json.load(open(sys.argv[1]))['tau2']) == 4" "$TMP/o.json" 2>/dev/null && ok || bad "$st tau2 count" ;;
        esac
    done
done
# continuous models: 50-point curve
"$BIN" trajectory "$ISHAK" --time months --model loglinear --struct CAR --phi 0.97 --format json >"$TMP/ll.json" 2>/dev/null
[ "$(grep -c '"time":' "$TMP/ll.json")" -ge 54 ] && ok || bad "loglinear curve points"

# standard input, table with the side-by-side per-time comparison
"$BIN" trajectory - --time months --struct CS --phi 0.97 --time-unit months <"$ISHAK" >"$TMP/table" 2>"$TMP/err" || bad "stdin table"
grep -q "By time: separate pooled analyses" "$TMP/table" && ok || bad "table lacks the per-time comparison"
grep -q "^  3 mo  *24 " "$TMP/table" && ok || bad "table lacks the 3-month window with k = 24"
grep -q "onset" "$TMP/table" && grep -q "peak" "$TMP/table" && ok || bad "table lacks onset/peak"

# plot: well-formed SVG with the curve, band, no-effect line and readable labels
if "$BIN" trajectory "$ISHAK" --time months --struct AR --phi 0.97 --time-unit months --plot "$TMP/p.svg" >/dev/null 2>"$TMP/err"; then
    grep -q "<svg" "$TMP/p.svg" && grep -q "<polygon" "$TMP/p.svg" && grep -q "stroke-dasharray=\"6 4\"" "$TMP/p.svg" \
        && grep -q ">12 mo<" "$TMP/p.svg" && ok || bad "plot content"
    if command -v xmllint >/dev/null; then xmllint --noout "$TMP/p.svg" && ok || bad "plot is not well-formed XML"; fi
    # shellcheck source=../tools/render_check.sh
    . "$SRC/tests/tools/render_check.sh"
    render_check "$TMP/p.svg" 300 200 && ok || bad "plot does not render"
else
    bad "plot: $(cat "$TMP/err")"
fi
# an unwritable plot path is found before any output: exit 2, nothing on stdout
"$BIN" trajectory "$ISHAK" --time months --plot "$TMP/nodir/p.svg" >"$TMP/out" 2>"$TMP/err"
[ $? -eq 2 ] && grep -q "nodir/p.svg: cannot write: No such file or directory" "$TMP/err" &&
    [ ! -s "$TMP/out" ] && ok || bad "unwritable plot path"
# rows without a time are left out with a warning naming them; no study column: one study per row
printf 'study,time,yi,vi\nA,1,0.5,0.1\nA,NA,0.4,0.1\nA,2,0.45,0.1\nB,1,0.3,0.2\nB,2,0.1,0.2\nC,1,0.2,0.1\n' >"$TMP/na.csv"
"$BIN" trajectory "$TMP/na.csv" --time time --format json >"$TMP/na.json" 2>"$TMP/err" \
    && grep -q "row 2 (line 3) left out: missing time" "$TMP/err" && grep -q '"k": 5' "$TMP/na.json" \
    && grep -q '"n_studies": 3' "$TMP/na.json" && ok || bad "NA time: $(cat "$TMP/err")"
printf 'time,yi,vi\n1,0.5,0.1\n2,0.4,0.1\n1,0.3,0.2\n2,0.1,0.2\n' >"$TMP/nostudy.csv"
"$BIN" trajectory "$TMP/nostudy.csv" --time time --format json >"$TMP/ns.json" 2>"$TMP/err" \
    && grep -q "every row is taken as its own study" "$TMP/err" && grep -q '"n_studies": 4' "$TMP/ns.json" \
    && ok || bad "no study column: $(cat "$TMP/err")"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
