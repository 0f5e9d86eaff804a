#!/usr/bin/env bash
# tests/cli/pool_cli.sh - end-to-end checks of `metapool pool`: exit codes,
# messages, JSON keys, --by ordering and the subgroup test.
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
set -u
BIN=$1; SRC=$2
REF=$SRC/tests/reference/data
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
fail=0
check() { # name, expected-status, stderr-regex, command...
  local name=$1 want=$2 re=$3; shift 3
  "$@" >"$T/out" 2>"$T/err"; local got=$?
  if [ "$got" != "$want" ]; then echo "FAIL $name: exit $got, want $want"; cat "$T/err"; fail=1; return; fi
  if [ -n "$re" ] && ! grep -Eq -- "$re" "$T/err"; then echo "FAIL $name: stderr lacks /$re/:"; cat "$T/err"; fail=1; return; fi
  echo "ok   $name"
}
check help 0 "" "$BIN" pool --help
grep -q -- "--method" "$T/out" || { echo "FAIL help lists no --method"; fail=1; }
check help-cmd 0 "" "$BIN" help pool
check unknown-method 2 "unknown --method 'XX'" "$BIN" pool "$REF/bcg_rr.csv" --measure RR --method XX
check unknown-test 2 "unknown --test" "$BIN" pool "$REF/bcg_rr.csv" --measure RR --test t
check bad-level 2 "--level" "$BIN" pool "$REF/bcg_rr.csv" --measure RR --level 150
check no-file 2 "expected one input FILE" "$BIN" pool
check by-missing 2 "no column 'nope' for --by" "$BIN" pool "$REF/bcg_rr.csv" --measure RR --by nope
# non-convergence is reported with the estimator's name, exit 1, no output
check noconv 1 "REML estimator of tau2 did not converge" "$BIN" pool "$REF/bcg_rr.csv" --measure RR --maxiter 2 --format json
[ -s "$T/out" ] && { echo "FAIL noconv printed output"; fail=1; }
# every row left out -> nothing to pool: exit 1
printf 'yi,vi\nNA,0.1\n0.2,NA\n' >"$T/allna.csv"
check all-na 1 "no studies left" "$BIN" pool "$T/allna.csv"
grep -q "row 1 (line 2) left out" "$T/err" || { echo "FAIL all-na: row warning missing"; fail=1; }
# JSON has the contract's keys; FE has null tau2_se
check json 0 "" "$BIN" pool "$REF/bcg_rr.csv" --measure RR --method FE --format json
python3 - "$T/out" <<'PY' || fail=1
import json, sys
j = json.load(open(sys.argv[1]))
need = "measure method test level k estimate se stat df pval ci_lb ci_ub pi_lb pi_ub tau2 tau2_se tau2_ci_lb tau2_ci_ub tau I2 I2_ci_lb I2_ci_ub H2 H2_ci_lb H2_ci_ub Q Q_df Q_pval studies warnings".split()
miss = [k for k in need if k not in j]
assert not miss, "missing keys %s" % miss
assert j["tau2_se"] is None and j["df"] is None and j["pi_lb"] is None
assert len(j["studies"]) == 13 and abs(sum(s["weight"] for s in j["studies"]) - 100) < 1e-9
print("ok   json keys")
PY
# --by: numeric values in numeric order (2 < 10), subgroup test = FE Q on the estimates
printf 'study,yi,vi,g\na,0.1,0.1,10\nb,0.3,0.2,2\nc,0.5,0.1,10\nd,0.9,0.3,2\ne,0.2,0.1,10\n' >"$T/by.csv"
check by-json 0 "" "$BIN" pool "$T/by.csv" --by g --method FE --format json
python3 - "$T/out" <<'PY' || fail=1
import json, sys
j = json.load(open(sys.argv[1]))
assert [g["group"] for g in j["groups"]] == ["2", "10"], [g["group"] for g in j["groups"]]
# group "2": FE of (0.3, 0.2), (0.9, 0.3): w = 5, 10/3 -> est = (1.5 + 3)/(25/3) = 0.54, var = 3/25
# group "10": three studies of v = 0.1 -> est = mean(0.1, 0.5, 0.2) = 0.26666..., var = 0.1/3
e1, v1, e2, v2 = 0.54, 3/25, 0.8/3, 0.1/3
mu = (e1/v1 + e2/v2) / (1/v1 + 1/v2)
Q = (e1-mu)**2/v1 + (e2-mu)**2/v2
st = j["subgroup_test"]
assert abs(j["groups"][0]["estimate"] - e1) < 1e-14 and abs(j["groups"][1]["estimate"] - e2) < 1e-14
assert abs(st["Q"] - Q) < 1e-12 * Q and st["df"] == 1, (st, Q)
assert j["overall"]["k"] == 5
print("ok   by-json ordering and subgroup test")
PY
# text groups keep the order of first appearance
printf 'yi,vi,g\n0.1,0.1,zeta\n0.3,0.2,alpha\n0.5,0.1,zeta\n0.9,0.3,alpha\n' >"$T/by2.csv"
check by-text 0 "" "$BIN" pool "$T/by2.csv" --by g --format json
python3 -c "import json,sys; j=json.load(open('$T/out')); assert [g['group'] for g in j['groups']]==['zeta','alpha']; print('ok   by-text order')" || fail=1
# k = 1 warns and reports the study itself
printf 'yi,vi\n0.5,0.04\n' >"$T/k1.csv"
check k1 0 "only one study" "$BIN" pool "$T/k1.csv" --format json
python3 -c "import json; j=json.load(open('$T/out')); assert j['estimate']==0.5 and j['Q'] is None and j['I2'] is None and abs(j['se']-0.2)<1e-15; print('ok   k1 values')" || fail=1
# a missing --by value leaves the row out, named in a warning (not a group "")
printf 'yi,vi,g\n0.1,0.1,a\n0.3,0.2,\n0.5,0.1,a\n0.9,0.3,NA\n0.2,0.2,b\n' >"$T/bymiss.csv"
check by-missing-value 0 "row 2 \\(line 3\\) left out: missing value in the --by column 'g'" "$BIN" pool "$T/bymiss.csv" --by g --format json
grep -q "row 4 (line 5) left out" "$T/err" || { echo "FAIL by-missing-value: row 4 not reported"; fail=1; }
python3 -c "import json; j=json.load(open('$T/out')); assert [(g['group'],g['k']) for g in j['groups']]==[('a',2),('b',1)], j['groups']; assert j['overall']['k']==3; print('ok   by-missing groups')" || fail=1
# Tables without events in both arms are kept with 1/2 added by default
# (--drop00 no), as metafor's rma(): R metafor 3.8-1 on these five tables
# gives k = 5, estimate -0.325559427173452, se 0.459395345802385, tau2 0
# (REML, OR); rma(..., drop00 = TRUE) (= --drop00 yes) gives k = 3,
# estimate -0.351341390425099, se 0.483915582365186, tau2 0.
printf 'study,ai,bi,ci,di\nA,0,10,0,12\nB,3,7,6,8\nC,5,15,4,16\nD,2,20,5,18\nE,4,0,6,0\n' >"$T/zero.csv"
check drop00-no 0 "row 1 \\(line 2\\): no events in both arms: kept" "$BIN" pool "$T/zero.csv" --measure OR --drop00 no --format json
python3 -c "import json; j=json.load(open('$T/out')); assert j['k']==5 and abs(j['estimate']+0.325559427173452)<1e-12 and abs(j['se']-0.459395345802385)<1e-12 and j['tau2']==0, j; print('ok   drop00-no values (metafor)')" || fail=1
check drop00-default 0 "row 1 \\(line 2\\): no events in both arms: kept" "$BIN" pool "$T/zero.csv" --measure OR --format json
python3 -c "import json; j=json.load(open('$T/out')); assert j['k']==5 and abs(j['estimate']+0.325559427173452)<1e-12, j['k']; print('ok   drop00 default keeps them (metafor rma())')" || fail=1
check drop00-yes 0 "row 1 \\(line 2\\) left out: no events in both arms" "$BIN" pool "$T/zero.csv" --measure OR --drop00 yes --format json
python3 -c "import json; j=json.load(open('$T/out')); assert j['k']==3 and abs(j['estimate']+0.351341390425099)<1e-12 and abs(j['se']-0.483915582365186)<1e-12, j['k']; print('ok   drop00 yes leaves 2 out (metafor drop00=TRUE)')" || fail=1
check drop00-bad 2 "--drop00 must be yes or no" "$BIN" pool "$T/zero.csv" --measure OR --drop00 maybe
exit $fail
