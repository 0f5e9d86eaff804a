#!/usr/bin/env bash
# tests/cli/datasets_load.sh - every bundled dataset loads, runs, and has its README.
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Usage: bash datasets_load.sh METAPOOL SOURCE_DIR   (run by CTest)
#
# Expected values (independent of metapool):
# - datasets/bcg/published.csv: Viechtbauer (2010, J Stat Softw 36(3)),
#   REML log RR -0.7145 (-1.0669, -0.3622), p < .0001; must reproduce.
# - Normand 1999, SMD, REML: metafor 3.8-1 (tests/reference/normand1999_smd.json
#   and normand1999_g_n.json) -0.537108 / -0.537112 -> "-0.5371", CI
#   (-1.14207, 0.06786) -> "-1.1421", "0.0679"; MD, DL: -13.98172 ->
#   "-13.98", CI (-24.0299, -3.9336) -> "-24.03", "-3.93".
# - Lii 2023 day 1 (n1 = 20, n2 = 19), Hedges' g variance conventions, closed
#   forms from metafor's escalc documentation (LS) and "Statistical algorithms
#   in Review Manager 5" (Deeks & Higgins 2010) (RevMan):
#   LS = 1/n1 + 1/n2 + g^2/(2(n1+n2)); RevMan = 1/n1 + 1/n2 + g^2/(2(n1+n2-3.94)),
#   checked against the g that escalc writes (to 1e-12 absolute).
# - trials.csv: the nine arm totals add up to 234, Kishimoto 2016's n.
set -u
BIN=$1
SRC=$2
DS=$SRC/datasets
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail=0
pass=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
run() { # run EXPECTED-STATUS NAME ARGS...
    local want=$1 name=$2
    shift 2
    "$BIN" "$@" >"$TMP/out" 2>"$TMP/err"
    local got=$?
    if [ "$got" -ne "$want" ]; then
        bad "$name: exit $got, expected $want"; head -5 "$TMP/err"
    else
        ok
    fi
}
run_traj() {
    "$BIN" "$@" >"$TMP/out" 2>"$TMP/err"
    local got=$?
    if [ "$got" -ne 0 ]; then
        bad "trajectory $*: exit $got"; head -5 "$TMP/err"
    else
        ok
    fi
}

# every dataset folder has a README naming source, licence and published results
for d in "$DS"/*/; do
    name=$(basename "$d")
    r=$d/README.md
    if [ ! -s "$r" ]; then bad "$name: no README.md"; continue; fi
    grep -qi "source" "$r" || bad "$name/README.md: no source"
    grep -qi "licen[cs]e" "$r" || bad "$name/README.md: no licence status"
    grep -qi "published" "$r" || bad "$name/README.md: no published results section"
    case $name in bcg | normand1999 | ishak2007 | ketamine | pritz1997 | molloy2014 | konstantopoulos2011) ok ;;
    *) bad "$name: a dataset folder this test does not load (add it here)" ;;
    esac
done
[ -s "$DS/README.md" ] && ok || bad "datasets/README.md missing"

# Konstantopoulos 2011: the three-level model (metafor 3.8-1: estimate 0.184713163496638,
# reference case reg2_random_konstantopoulos2011 of ../shared/reference/wave2)
run 0 "konstantopoulos2011 pool --random" pool "$DS/konstantopoulos2011/konstantopoulos2011.csv" \
    --random district/school --format json
grep -q '"estimate": 0.18471316' "$TMP/out" && ok || bad "konstantopoulos2011: three-level estimate"

# BCG
run 0 "bcg pool RR" pool "$DS/bcg/bcg.csv" --measure RR
run 0 "bcg pool OR" pool "$DS/bcg/bcg.csv" --measure OR
run 0 "bcg escalc" escalc "$DS/bcg/bcg.csv" --measure RR
[ "$(grep -c . "$TMP/out")" -eq 14 ] && ok || bad "bcg escalc: expected 13 rows + header"
run 0 "bcg published result reproduces" pool "$DS/bcg/bcg.csv" --measure RR --transf none \
    --compare "$DS/bcg/published.csv"

# Pritz 1997 (proportions) and Molloy 2014 (correlations): metafor 3.8-1
# predict(rma(yi, vi), transf = transf.ilogit) on escalc("PLO") = 0.7575
# [0.6605, 0.8337]; transf.ipft.hm on escalc("PFT") = 0.8029 [0.7022, 0.8893];
# transf.ztor on escalc("ZCOR") = 0.1488 [0.0878, 0.2087] (datasets/*/README.md)
printf 'estimate,ci_lb,ci_ub,source\n0.7575,0.6605,0.8337,metafor 3.8-1 PLO REML\n' >"$TMP/p_plo.csv"
printf 'estimate,ci_lb,ci_ub,source\n0.8029,0.7022,0.8893,metafor 3.8-1 PFT REML\n' >"$TMP/p_pft.csv"
printf 'estimate,ci_lb,ci_ub,source\n0.1488,0.0878,0.2087,metafor 3.8-1 ZCOR REML\n' >"$TMP/m_z.csv"
run 0 "pritz PLO" pool "$DS/pritz1997/pritz1997.csv" --measure PLO --compare "$TMP/p_plo.csv"
run 0 "pritz PFT" pool "$DS/pritz1997/pritz1997.csv" --measure PFT --compare "$TMP/p_pft.csv"
run 0 "molloy ZCOR" pool "$DS/molloy2014/molloy2014.csv" --measure ZCOR --compare "$TMP/m_z.csv"
run 0 "molloy reg" reg "$DS/molloy2014/molloy2014.csv" --measure ZCOR --mods meanage

# Normand 1999
printf 'estimate,ci_lb,ci_ub,source\n-0.5371,-1.1421,0.0679,metafor 3.8-1 REML\n' >"$TMP/n_smd.csv"
printf 'estimate,ci_lb,ci_ub,source\n-13.98,-24.03,-3.93,metafor 3.8-1 DL\n' >"$TMP/n_md.csv"
run 0 "normand SMD" pool "$DS/normand1999/normand1999.csv" --measure SMD --compare "$TMP/n_smd.csv"
run 0 "normand g+n" pool "$DS/normand1999/normand1999_g_n.csv" --measure SMD --compare "$TMP/n_smd.csv"
run 0 "normand MD DL" pool "$DS/normand1999/normand1999.csv" --measure MD --method DL --compare "$TMP/n_md.csv"
run 0 "normand escalc" escalc "$DS/normand1999/normand1999.csv" --measure SMD

# Ishak 2007 (long format)
run 0 "ishak pool by time" pool "$DS/ishak2007/ishak2007_long.csv" --by time
run_traj trajectory "$DS/ishak2007/ishak2007_long.csv" --time time --model factor --struct AR --phi 0.97

# ketamine
K=$DS/ketamine
run 0 "lii escalc" escalc "$K/lii2023_madrs.csv" --measure SMD
cp "$TMP/out" "$TMP/lii_ls.csv"
run 0 "lii pool by time" pool "$K/lii2023_madrs.csv" --measure SMD --by time
run 0 "lii pool json" pool "$K/lii2023_madrs.csv" --measure SMD --by time --format json
grep -q '"groups"' "$TMP/out" && ok || bad "lii json has no groups"
run 0 "lii escalc RevMan" escalc "$K/lii2023_madrs.csv" --measure SMD --vtype RevMan
cp "$TMP/out" "$TMP/lii_rm.csv"
# day 1 is data row 2; columns: yi and vi are the last two
awk -F, 'NR == 3 { g = $(NF-1); v = $NF; n1 = $6; n2 = $9;
    want = 1/n1 + 1/n2 + g*g/(2*(n1+n2)); d = v - want; if (d < 0) d = -d;
    if (n1 != 20 || n2 != 19 || d > 1e-12) { print "LS vi " v " want " want; exit 1 } }' "$TMP/lii_ls.csv" \
    && ok || bad "LS variance of Lii day 1"
awk -F, 'NR == 3 { g = $(NF-1); v = $NF; n1 = $6; n2 = $9;
    want = 1/n1 + 1/n2 + g*g/(2*(n1+n2-3.94)); d = v - want; if (d < 0) d = -d;
    if (d > 1e-12) { print "RevMan vi " v " want " want; exit 1 } }' "$TMP/lii_rm.csv" \
    && ok || bad "RevMan variance of Lii day 1"
for vt in LS UB RevMan CMA; do
    run 0 "lii --vtype $vt --method DL --test knha --methods" pool "$K/lii2023_madrs.csv" \
        --measure SMD --by time --vtype "$vt" --method DL --test knha --methods
done
grep -qi "revman" <("$BIN" pool "$K/lii2023_madrs.csv" --measure SMD --vtype RevMan --methods 2>/dev/null) \
    && ok || bad "--methods does not name the RevMan variance"
# the published files load (exit 3 = compared and not reproduced, not 2 = bad file)
run 3 "ketamine published.csv loads" pool "$K/lii2023_madrs.csv" --measure SMD --by time \
    --compare "$K/published.csv"
run 3 "ketamine published_pooled.csv loads" pool "$K/lii2023_madrs.csv" --measure SMD \
    --compare "$K/published_pooled.csv"
# trials.csv: nine trials, each labelled, totals add up to Kishimoto's n = 234
awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    { n++; t += $c["n_total"]; if ($c["status"] == "") exit 1 }
    END { if (n != 9 || t != 234) { print n " trials, total " t; exit 1 } }' "$K/trials.csv" \
    && ok || bad "trials.csv: nine labelled trials adding to 234"
grep -q "hypothesis" "$K/trials.csv" && ok || bad "trials.csv: Price 2014 not labelled a hypothesis"
grep -qi "not public" "$K/README.md" && ok || bad "ketamine README does not say what is not public"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
