#!/usr/bin/env bash
# tests/cli/binary.sh - issue 12 end to end: the new measures, ratio + CI input,
# --method MH|PETO in pool, --by and batch, bad input with file:line:col.
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Expected values (independent of metapool): R metafor 3.8-1, saved in
# tests/reference/escalc2/expected_mh.csv by gen.R (rma.mh, rma.peto with
# their defaults), and the hand-worked numbers written beside each check.
set -u
BIN=$1; SRC=$2
R=$SRC/tests/reference/escalc2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
fail=0
check() { # name, expected-status, stderr-regex, command...
  local name=$1 want=$2 re=$3; shift 3
  "$@" >"$T/out" 2>"$T/err"; local got=$?
  if [ "$got" != "$want" ]; then echo "FAIL $name: exit $got, want $want"; cat "$T/err"; fail=1; return; fi
  if [ -n "$re" ] && ! grep -Eq -- "$re" "$T/err"; then echo "FAIL $name: stderr lacks /$re/:"; cat "$T/err"; fail=1; return; fi
  echo "ok   $name"
}
# --- MH / Peto against metafor (expected_mh.csv), JSON keys ---
for spec in "counts.csv OR MH" "counts.csv RR MH" "counts.csv RD MH" "counts.csv OR PETO" \
            "rare.csv OR MH" "rare.csv OR PETO" "rates.csv IRR MH" "rates.csv IRD MH"; do
  set -- $spec
  check "pool $1 $2 $3" 0 "" "$BIN" pool "$R/$1" --measure "$2" --method "$3" --format json
  python3 - "$T/out" "$R/expected_mh.csv" "$1" "$2" "$3" <<'PY' || fail=1
import csv, json, math, sys
j = json.load(open(sys.argv[1]))
row = [r for r in csv.DictReader(open(sys.argv[2]))
       if (r["csv"], r["measure"], r["method"]) == tuple(sys.argv[3:6])][0]
keys = {"estimate": "beta", "se": "se", "stat": "zval", "pval": "pval", "ci_lb": "ci_lb",
        "ci_ub": "ci_ub", "Q": "QE", "Q_pval": "QEp", "I2": "I2", "H2": "H2",
        "MH": "MH", "MH_pval": "MHp", "TA": "TA", "TA_pval": "TAp"}
bad = []
for k, rk in keys.items():
    want = float(row[rk]) if row[rk] != "NA" else None
    got = j.get(k)
    if want is None:
        if got is not None: bad.append("%s=%s, want null" % (k, got))
    elif got is None or abs(got - want) > 1e-8 * max(1.0, abs(want)):
        bad.append("%s=%s, want %r" % (k, got, want))
if j["tau2"] is not None: bad.append("tau2 not null")
if j["method"] != sys.argv[5]: bad.append("method %s" % j["method"])
if abs(j["Q_df"] - (float(row["k_yi"]) - 1)) > 0: bad.append("Q_df %s" % j["Q_df"])
if abs(sum(s["weight"] for s in j["studies"]) - 100) > 1e-9: bad.append("weights")
assert not bad, "; ".join(bad)
print("ok   values %s" % " ".join(sys.argv[3:6]))
PY
done
# --by: each group equals rma.mh on its rows (group 'a' = counts.csv rows 1-6, checked
# against the whole-file fit of those rows); batch gives the pool numbers
awk -F, 'NR == 1 { print $0 ",g"; next } { print $0 "," (NR <= 7 ? "a" : "b") }' "$R/counts.csv" >"$T/cg.csv"
head -7 "$T/cg.csv" >"$T/ca.csv"
check "by MH" 0 "" "$BIN" pool "$T/cg.csv" --measure OR --method MH --by g --format json
cp "$T/out" "$T/by.json"
check "MH rows 1-6" 0 "" "$BIN" pool "$T/ca.csv" --measure OR --method MH --format json
python3 -c "
import json; b=json.load(open('$T/by.json')); a=json.load(open('$T/out'))
g=b['groups'][0]; assert g['group']=='a' and g['estimate']==a['estimate'] and g['TA']==a['TA'], (g, a)
print('ok   --by group a = its own MH fit')" || fail=1
check "batch MH" 0 "" "$BIN" batch --group g --measure OR --method MH "$T/cg.csv"
python3 -c "
import csv, json; b=json.load(open('$T/by.json')); rows=list(csv.DictReader(open('$T/out')))
for r, g in zip(rows, b['groups']):
    assert r['group']==g['group'] and float(r['estimate'])==g['estimate'] and float(r['Q'])==g['Q'] and r['tau2']=='NA' and r['status']=='ok', (r, g)
print('ok   batch MH rows = pool --by groups')" || fail=1
# --- refusals and errors ---
check "MH on means" 2 "--method MH needs 2x2 counts" "$BIN" pool "$SRC/datasets/normand1999/normand1999.csv" --measure SMD --method MH
check "PETO with RR" 2 "--method PETO needs 2x2 counts" "$BIN" pool "$R/counts.csv" --measure RR --method PETO
check "MH knha" 2 "--test knha is not available with --method MH" "$BIN" pool "$R/counts.csv" --measure OR --method MH --test knha
check "MH tau2 common" 2 "--tau2 common needs a random-effects model: --method MH fits no tau2" "$BIN" pool "$T/cg.csv" --measure OR --method MH --by g --tau2 common
check "reg MH" 2 "--method MH pools 2x2 tables or rates: use it with pool or batch" "$BIN" reg "$R/counts.csv" --measure OR --method MH --mods ai
printf 'study,ai,bi,ci,di\nA,0,10,3,7\nB,0,12,2,9\n' >"$T/noev.csv"
check "MH RR not estimable" 1 "Mantel-Haenszel estimate is not estimable" "$BIN" pool "$T/noev.csv" --measure RR --method MH
check "batch MH not estimable" 1 "group 'x' \\(line 2\\): the Mantel-Haenszel estimate is not estimable" "$BIN" batch --group g --measure RR --method MH <(awk -F, 'NR==1{print $0",g";next}{print $0",x"}' "$T/noev.csv")
grep -q ',not_estimable$' "$T/out" || { echo "FAIL batch not_estimable row"; fail=1; }
# bad input: file:line:col, exit 2
printf 'study,xi,ni\nA,3,10\nB,12,10\n' >"$T/p.csv"
check "xi > ni" 2 "p.csv:3:3: column 'xi': events exceed the sample size ni" "$BIN" escalc "$T/p.csv" --measure PLO
printf 'study,ri,ni\nA,0.3,20\nB,1.3,20\n' >"$T/r.csv"
check "r > 1" 2 "r.csv:3:3: column 'ri': a correlation must lie in \\[-1, 1\\]" "$BIN" pool "$T/r.csv" --measure ZCOR
printf 'study,m1i,m2i,sd1i,sd2i,ni,ri\nA,5,4,1,1,10,0.5\nB,5,4,1,1,10,NA\n' >"$T/pd.csv"
check "ri missing" 2 "pd.csv:3:14: column 'ri': the correlation between the two measurements is missing" "$BIN" pool "$T/pd.csv" --measure SMCC
check "ri missing (batch)" 2 "pd.csv:3:14: column 'ri'" "$BIN" batch --group study "$T/pd.csv" --measure MC
printf 'study,xi,ti\nA,3,100\nB,2,0\n' >"$T/ir.csv"
check "ti <= 0" 2 "ir.csv:3:5: column 'ti': person-time must be positive" "$BIN" trajectory "$T/ir.csv" --measure IR --time xi
printf 'study,yi,ci_lb,ci_ub\nA,0.75,0.60,0.94\nB,-0.3,0.5,0.9\n' >"$T/hr.csv"
check "ratio <= 0" 2 "hr.csv:3:3: column 'yi': a ratio must be positive \\(the logarithm is taken\\)" "$BIN" pool "$T/hr.csv" --measure HR
check "missing columns" 2 "SMCR needs the columns m1i, m2i, sd1i, ri" "$BIN" pool "$T/p.csv" --measure SMCR
# --- ratio + CI: logs taken; GEN suggests the measure ---
printf 'study,yi,ci_lb,ci_ub\nA,0.75,0.60,0.94\nB,1.32,1.01,1.73\nC,0.9,0.55,1.47\n' >"$T/hr3.csv"
check "HR escalc" 0 "" "$BIN" escalc "$T/hr3.csv" --measure HR
python3 -c "
import csv, math; r=list(csv.DictReader(open('$T/out')))[0]
want=((math.log(.94)-math.log(.6))/(2*1.959963984540054))**2
assert abs(float(r['yi'])-math.log(.75))<1e-15 and abs(float(r['vi'])-want)<1e-14*want, r
print('ok   HR: log 0.75 and the log CI width')" || fail=1
check "GEN ratio warning" 0 "they look like ratios printed on the ratio scale; if so, use --measure OR, RR, HR or IRR" "$BIN" pool "$T/hr3.csv"
check "HR no warning" 0 "" "$BIN" pool "$T/hr3.csv" --measure HR
grep -q "look like ratios" "$T/err" && { echo "FAIL HR warned"; fail=1; }
# --- back-transformed display: PLO 4/8 and 2/8 (FE): logits 0, log(1/3); by hand
#     w = 1/(1/4 + 1/4) = 2 and 1/(1/2 + 1/6) = 1.5: mean = 1.5 log(1/3)/3.5 -> ilogit
printf 'study,xi,ni\nA,4,8\nB,2,8\n' >"$T/p2.csv"
check "PLO FE csv" 0 "" "$BIN" pool "$T/p2.csv" --measure PLO --method FE --format csv
python3 -c "
import csv, math; rows=[r for r in csv.DictReader(open('$T/out')) if r['row_type']=='fixed']
m=1.5*math.log(1/3)/3.5; want=1/(1+math.exp(-m))
assert abs(float(rows[0]['estimate'])-want)<1e-14, rows
print('ok   PLO shown through the inverse logit')" || fail=1
check "PLO table" 0 "" "$BIN" pool "$T/p2.csv" --measure PLO --method FE --width 100
grep -q "shown as proportions through the inverse logit" "$T/out" || { echo "FAIL PLO note"; fail=1; }
grep -q "Proportion \\[95% CI\\]" "$T/out" || { echo "FAIL PLO header"; fail=1; }
check "PLO transf none" 0 "" "$BIN" pool "$T/p2.csv" --measure PLO --method FE --transf none --width 100
grep -q "PLO \\[95% CI\\]" "$T/out" || { echo "FAIL PLO --transf none header"; fail=1; }
check "MH table" 0 "" "$BIN" pool "$R/counts.csv" --measure OR --method MH --width 100 --plot "$T/mh.svg"
grep -q "^Mantel-Haenszel" "$T/out" && grep -q "Cochran-Mantel-Haenszel test" "$T/out" && grep -q "Tarone" "$T/out" || { echo "FAIL MH table rows"; fail=1; }
grep -q "Mantel-Haenszel" "$T/mh.svg" || { echo "FAIL MH plot label"; fail=1; }
check "MH methods" 0 "" "$BIN" pool "$R/counts.csv" --measure OR --method MH --methods
grep -q "Robins, Breslow & Greenland, 1986" "$T/out" || { echo "FAIL MH methods text"; fail=1; }
# --- the other commands take the new measures (they share the plan) ---
check "reg PLO" 0 "" "$BIN" reg "$R/props.csv" --measure PLO --mods ni --format json
python3 - "$T/out" "$R/expected_other.csv" <<'PY' || fail=1
import csv, json, sys
j = json.load(open(sys.argv[1])); w = {r["what"]: float(r["value"]) for r in csv.DictReader(open(sys.argv[2]))}
got = [c["estimate"] for c in j["coef"]]
want = [w["reg_PLO_intrcpt"], w["reg_PLO_ni"]]
assert all(abs(g - x) <= 1e-6 * max(abs(x), 1e-3) for g, x in zip(got, want)), (got, want)
print("ok   reg PLO ~ ni = metafor")
PY
check "trajectory ZCOR" 0 "" "$BIN" trajectory "$R/traj_zcor.csv" --measure ZCOR --time time --struct CS --format json
python3 - "$T/out" "$R/expected_other.csv" <<'PY' || fail=1
import csv, json, sys
j = json.load(open(sys.argv[1])); w = {r["what"]: float(r["value"]) for r in csv.DictReader(open(sys.argv[2]))}
got = [c["estimate"] for c in j["coef"]]
want = [w["traj_ZCOR_t1"], w["traj_ZCOR_t2"], w["traj_ZCOR_t4"]]
assert all(abs(g - x) <= 1e-5 for g, x in zip(got, want)), (got, want)
print("ok   trajectory ZCOR = metafor rma.mv (1e-5)")
PY
check "batch ZCOR" 0 "" "$BIN" batch --group study "$R/cors.csv" --measure ZCOR
[ "$(grep -c ',ok$' "$T/out")" = 10 ] || { echo "FAIL batch ZCOR rows"; fail=1; }
# a table without events in both arms kept with 1/2 added is marked (table, plot), with a note
printf 'study,ai,bi,ci,di\nA,2,10,3,9\nB,0,12,0,11\nC,4,8,1,12\n' >"$T/z00.csv"
check "double-zero mark" 0 "row 2 \\(line 3\\): no events in both arms: kept with 1/2 added" "$BIN" pool "$T/z00.csv" --measure OR --width 100 --plot "$T/z00.svg"
grep -q "^B †" "$T/out" && grep -q "^† A zero cell: 1/2 added to every cell" "$T/out" || { echo "FAIL double-zero mark in the table"; cat "$T/out"; fail=1; }
grep -q 'class="corrected">†<' "$T/z00.svg" || { echo "FAIL double-zero mark in the plot"; fail=1; }
check "drop00 yes: no mark" 0 "row 2 \\(line 3\\) left out" "$BIN" pool "$T/z00.csv" --measure OR --drop00 yes --width 100 --plot "$T/ne.svg"
grep -q "†" "$T/out" && { echo "FAIL mark with --drop00 yes"; fail=1; }
grep -Eq "^B +.*not estimable$" "$T/out" || { echo "FAIL drop00 yes: no 'not estimable' row"; cat "$T/out"; fail=1; }
grep -q ">Not estimable<" "$T/ne.svg" || { echo "FAIL drop00 yes: no 'not estimable' row in the plot"; fail=1; }
check "batch MH no group column" 2 "no column 'nope' for --group" "$BIN" batch --group nope --measure OR --method MH "$R/counts.csv"
check "batch MH on means" 2 "--method MH needs 2x2 counts" "$BIN" batch --group study --measure SMD --method MH "$SRC/datasets/normand1999/normand1999.csv"
printf 'g,ai,bi,ci,di\nx,NA,10,3,7\ny,2,10,3,7\n,1,2,3,4\n' >"$T/gna.csv"
check "batch MH no_studies" 1 "group 'x' \\(line 2\\): no studies left to pool" "$BIN" batch --group g --measure OR --method MH "$T/gna.csv"
grep -q "row 3 (line 4) left out: missing value in the --group column 'g'" "$T/err" || { echo "FAIL batch MH missing group warning"; fail=1; }
grep -q '^x,0,NA,NA,NA,NA,NA,NA,NA,NA,NA,NA,NA,NA,no_studies$' "$T/out" || { echo "FAIL batch MH no_studies row: $(cat "$T/out")"; fail=1; }
printf 'study,ai,bi,ci,di\nA,0,10,0,7\n' >"$T/zz.csv"
check "PETO not estimable" 1 "Peto estimate is not estimable \\(no table with both events and non-events\\)" "$BIN" pool "$T/zz.csv" --measure OR --method PETO
exit $fail
