#!/usr/bin/env bash
# tests/cli/gosh_cli.sh - `metapool gosh` and --permutations end to end.
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Usage: bash gosh_cli.sh METAPOOL SOURCE_DIR   (run by CTest)
# --out rows against metafor's gosh() (tests/reference/gosh, every subset of
# normand1999), JSON keys of the contract, the plot, --threads and --seed
# repeatability, permutation p-values against metafor's permutest(), and
# every usage error (exit 2, one line, nothing on stdout).
set -u
BIN=$1
SRC=$2
REF=$SRC/tests/reference/gosh
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail=0
pass=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }

# every subset as metafor (1e-9 relative + 1e-12 absolute for FE/DL)
for m in FE DL REML; do
    "$BIN" gosh "$REF/normand1999.csv" --method "$m" --out "$TMP/$m.csv" --format json >"$TMP/$m.json" 2>"$TMP/err" || bad "gosh $m exit $?"
    python3 - "$TMP/$m.csv" "$REF/gosh_normand1999_${m}_subsets.csv" "$m" <<'PY' && ok || bad "gosh $m --out rows"
import csv, sys
got = {r["subset"]: r for r in csv.DictReader(open(sys.argv[1]))}
want = list(csv.DictReader(open(sys.argv[2])))
rt, at = (1e-7, 1e-9) if sys.argv[3] == "REML" else (1e-9, 1e-12)
assert len(got) == len(want) == 511, (len(got), len(want))
for w in want:
    g = got[w["subset"]]
    for k in ("k", "estimate", "Q", "I2", "H2", "tau2"):
        a, b = float(g[k]), float(w[k])
        assert abs(a - b) <= rt * abs(b) + at, (w["subset"], k, a, b)
PY
    python3 - "$TMP/$m.json" "$m" <<'PY' && ok || bad "gosh $m JSON keys"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["k"] == 9 and j["method"] == sys.argv[2] and j["subsets"] == 511 and j["exhaustive"] is True
for s in ("estimate", "I2"):
    assert set(j[s]) == {"min", "q05", "median", "q95", "max"}, j[s]
assert len(j["studies"]) == 9 and j["studies"][2]["study"] == "Orpington-Moderate"
assert set(j["studies"][0]) == {"study", "mean_estimate_with", "mean_estimate_without", "mean_I2_with", "mean_I2_without"}
assert j["quantiles"] == "exact"
PY
done

# the plot: hexagons, the highlighted study named
"$BIN" gosh "$REF/synth10.csv" --method DL --plot "$TMP/g.svg" --highlight S03 >/dev/null 2>&1 || bad "plot exit"
grep -q 'class="hex"' "$TMP/g.svg" && grep -q 'with S03' "$TMP/g.svg" && ok || bad "plot content"

# random subsets repeat with --seed and do not depend on --threads
"$BIN" gosh "$REF/synth10.csv" --method FE --subsets 500 --seed 7 --threads 1 --format json >"$TMP/r1.json" 2>/dev/null
"$BIN" gosh "$REF/synth10.csv" --method FE --subsets 500 --seed 7 --threads 2 --format json >"$TMP/r2.json" 2>/dev/null
cmp -s "$TMP/r1.json" "$TMP/r2.json" && grep -q '"exhaustive": false' "$TMP/r1.json" && ok || bad "random subsets not repeatable"

# permutation tests as metafor's permutest(exact = TRUE)
"$BIN" pool "$REF/normand1999.csv" --method REML --permutations exact --format json >"$TMP/p.json" 2>/dev/null
python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
assert abs(j["pval_perm"] - 0.1015625) < 1e-12 and j["permutations"] == 512 and j["exact"] is True, j
' "$TMP/p.json" && ok || bad "pool --permutations exact"
"$BIN" reg "$REF/synth7.csv" --mods x1,x2 --permutations exact --format json >"$TMP/q.json" 2>/dev/null
python3 - "$TMP/q.json" "$REF/perm_synth7_reg_REML.csv" <<'PY' && ok || bad "reg --permutations exact"
import csv, json, sys
j = json.load(open(sys.argv[1]))
w = {r["key"]: float(r["value"]) for r in csv.DictReader(open(sys.argv[2]))}
for i, c in enumerate(j["coef"]):
    assert abs(c["pval_perm"] - w["pval_%d" % (i + 1)]) < 1e-12, (c, w)
assert abs(j["QM_pval_perm"] - w["QM_pval"]) < 1e-12
assert j["permutations"] == 5040 and j["exact"] is True
PY
"$BIN" pool "$REF/synth10.csv" --permutations 300 --seed 3 --threads 1 --format json >"$TMP/s1.json" 2>/dev/null
"$BIN" pool "$REF/synth10.csv" --permutations 300 --seed 3 --threads 2 --format json >"$TMP/s2.json" 2>/dev/null
cmp -s "$TMP/s1.json" "$TMP/s2.json" && grep -q '"exact": false' "$TMP/s1.json" && ok || bad "random permutations not repeatable"

# usage errors: exit 2, a message, nothing on stdout
expect() { # NAME STATUS STDERR-SUBSTRING ARGS...
    local name=$1 want_rc=$2 want=$3
    shift 3
    "$BIN" "$@" >"$TMP/out" 2>"$TMP/err"
    local got=$?
    if [ "$got" -eq "$want_rc" ] && grep -q -F -- "$want" "$TMP/err" && [ ! -s "$TMP/out" ]; then ok
    else bad "$name: exit $got (want $want_rc), stderr: $(head -1 "$TMP/err")"; fi
}
printf 'yi,vi\n0.3,0.1\n' >"$TMP/one.csv"
expect method 2 "gosh fits FE, DL or REML" gosh "$REF/synth10.csv" --method PM
expect subsets 2 "--subsets must be all or an integer" gosh "$REF/synth10.csv" --subsets 1
expect seed 2 "--seed must be" gosh "$REF/synth10.csv" --seed -4
expect csv 2 "--format csv is not available" gosh "$REF/synth10.csv" --format csv
expect highlight-noplot 2 "--highlight needs --plot" gosh "$REF/synth10.csv" --highlight S01
expect highlight-name 2 "no study of that name" gosh "$REF/synth10.csv" --plot "$TMP/x.svg" --highlight Nobody
expect plot-ext 2 "name it FILE.svg, FILE.png or FILE.pdf" gosh "$REF/synth10.csv" --plot "$TMP/x.gif"
expect out-dir 2 "nonexistent" gosh "$REF/synth10.csv" --out "$TMP/nonexistent/x.csv"
expect one-study 1 "at least 2 studies" gosh "$TMP/one.csv"
expect perm-bad 2 "--permutations must be exact or an integer" pool "$REF/synth10.csv" --permutations x
expect perm-by 2 "not available with --by" pool "$REF/synth7.csv" --by x2 --permutations 100
awk 'BEGIN { print "yi,vi,x"; for (i = 0; i < 11; i++) print 0.1 * i "," 0.1 + 0.01 * i "," i }' >"$TMP/k11.csv"
expect perm-reg-exact 2 "too many" reg "$TMP/k11.csv" --mods x --permutations exact
awk 'BEGIN { print "yi,vi"; for (i = 0; i < 25; i++) print 0.1 * i "," 0.1 }' >"$TMP/k25.csv"
expect perm-pool-exact 2 "too many" pool "$TMP/k25.csv" --permutations exact

echo "gosh_cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
