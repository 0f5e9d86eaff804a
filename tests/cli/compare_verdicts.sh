#!/usr/bin/env bash
# tests/cli/compare_verdicts.sh - `pool --compare`: verdicts at the published rounding, exit 0/3, JSON.
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Usage: bash compare_verdicts.sh METAPOOL SOURCE_DIR   (run by CTest)
#
# Where the expected verdicts come from (never from metapool's own output):
# - BCG, log RR, REML: metafor 3.8-1 (tests/reference/bcg_rr.json) gives
#   estimate -0.714532342, ci -1.066897639 .. -0.362167046, p 7.054e-05, as
#   Viechtbauer (2010, J Stat Softw 36(3)) prints them: -0.7145 (-1.0669,
#   -0.3622), p < .0001.  So "-0.71", "-1.07", "-0.36", "-0.715", "0.00007",
#   "<0.001" match; "-0.72", "-1.06" and ">0.05" do not.  On the RR scale:
#   exp() of those = 0.4894, 0.3441, 0.6962 -> "0.49", "0.34", "0.70".
# - groups.csv with --method FE, closed forms: time 1 = mean of -0.5 and
#   -0.3 (equal weights 25) = -0.4, se = sqrt(1/50) = 0.141421, 95% CI
#   -0.4 -/+ 1.959964*0.141421 = -0.677181 .. -0.122819 -> "-0.68", "-0.12";
#   time 2 is one study: 0.2, se 0.1, CI 0.004004 .. 0.395996 -> "0.00",
#   "0.40", p = 2*Q(2) = 0.0455003 -> "<0.05" and "0.046"; overall FE =
#   (25*-0.5 + 25*-0.3 + 100*0.2)/150 = 0 -> "0.00"; time 3 is not in the data.
# - halfway.csv: one study, so the pooled estimate is yi = 0.125 exactly (a
#   binary fraction): both "0.12" and "0.13" are roundings of it, "0.14" is not.
set -u
BIN=$1
SRC=$2
D=$SRC/tests/data/compare
BCG=$SRC/tests/reference/data/bcg_rr.csv
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail=0
pass=0
check() { # check NAME CONDITION-RESULT(0/1)
    if [ "$2" -eq 0 ]; then pass=$((pass + 1)); else echo "FAIL: $1"; fail=$((fail + 1)); fi
}
run() { # run EXPECTED-STATUS NAME ARGS...; output in $TMP/out, $TMP/err
    local want=$1 name=$2
    shift 2
    "$BIN" "$@" >"$TMP/out" 2>"$TMP/err"
    local got=$?
    if [ "$got" -ne "$want" ]; then
        echo "FAIL: $name: exit $got, expected $want"; cat "$TMP/err"; fail=$((fail + 1))
    else
        pass=$((pass + 1))
    fi
}
has() { grep -q -F -- "$2" "$TMP/$1"; }
# JSON row with key K, published P: its "match" value
jmatch() { grep -F "\"key\": \"$1\", \"published\": \"$2\"" "$TMP/out" | grep -o '"match": [a-z]*' | head -1; }

# 1. a case that matches: log scale, several roundings, inequalities, unicode minus
run 0 "bcg match (table)" pool "$BCG" --measure RR --transf none --compare "$D/bcg_match.csv"
has out "Reproduction check"; check "table heading" $?
has out "Reproduced: all 14 published numbers match"; check "overall verdict line (match)" $?
if has out "DIFFERS"; then check "no DIFFERS in a matching case" 1; else check "no DIFFERS" 0; fi
run 0 "bcg match (json)" pool "$BCG" --measure RR --transf none --compare "$D/bcg_match.csv" --format json
has out '"compare": {'; check "json compare object" $?
has out '"reproduced": true'; check "json reproduced true" $?
[ "$(jmatch estimate -0.71)" = '"match": true' ]; check "json -0.71 matches -0.7145" $?
[ "$(jmatch p '<0.001')" = '"match": true' ]; check "json p <0.001 matches 7.05e-05" $?
[ "$(jmatch p '0.00007')" = '"match": true' ]; check "json p 0.00007 matches" $?
[ "$(grep -c '"match": true' "$TMP/out")" -eq 14 ]; check "json: 14 matching rows" $?

# 2. a case that does not match: one digit off at the published rounding
run 3 "bcg mismatch exit 3" pool "$BCG" --measure RR --transf none --compare "$D/bcg_mismatch.csv"
has out "NOT reproduced: 5 of 8 published numbers match; 3 differ."; check "overall verdict line (mismatch)" $?
run 3 "bcg mismatch json" pool "$BCG" --measure RR --transf none --compare "$D/bcg_mismatch.csv" --format json
has out '"reproduced": false'; check "json reproduced false" $?
[ "$(jmatch estimate -0.72)" = '"match": false' ]; check "-0.72 does not match -0.7145" $?
[ "$(jmatch estimate -0.71)" = '"match": true' ]; check "-0.71 matches in the mismatch file" $?
[ "$(jmatch ci_lb -1.06)" = '"match": false' ]; check "-1.06 does not match -1.0669" $?
[ "$(jmatch p '>0.05')" = '"match": false' ]; check "p >0.05 does not match 7e-05" $?
[ "$(jmatch p '<0.001')" = '"match": true' ]; check "p <0.001 matches" $?

# 3. the paper's scale: ratio measures are back-transformed unless --transf none
run 0 "bcg RR scale" pool "$BCG" --measure RR --compare "$D/bcg_exp.csv"
run 3 "log-scale numbers against exp scale" pool "$BCG" --measure RR --compare "$D/bcg_match.csv"
has out "--transf none"; check "hint about --transf none" $?
run 3 "exp-scale numbers with --transf none" pool "$BCG" --measure RR --transf none --compare "$D/bcg_exp.csv"

# 4. groups (--by): numeric group names, empty group = overall, missing group
run 3 "groups" pool "$D/groups.csv" --by time --method FE --compare "$D/groups_published.csv" --format json
[ "$(jmatch estimate -0.40)" = '"match": true' ]; check "group 1.0 = time 1 estimate" $?
[ "$(jmatch ci_lb -0.68)" = '"match": true' ]; check "group 1 ci_lb" $?
[ "$(jmatch ci_ub -0.12)" = '"match": true' ]; check "group 1 ci_ub" $?
[ "$(jmatch estimate 0.20)" = '"match": true' ]; check "group 2 estimate" $?
[ "$(jmatch ci_lb 0.00)" = '"match": true' ]; check "group 2 ci_lb" $?
[ "$(jmatch ci_ub 0.40)" = '"match": true' ]; check "group 2 ci_ub" $?
[ "$(jmatch p '<0.05')" = '"match": true' ]; check "group 2 p <0.05" $?
[ "$(jmatch p '0.046')" = '"match": true' ]; check "group 2 p 0.046" $?
[ "$(jmatch estimate 0.00)" = '"match": true' ]; check "overall (empty group)" $?
grep -F '"group": "3"' "$TMP/out" | grep -q '"verdict": "no such group"'; check "group 3 not in the data" $?
grep -F '"group": null' "$TMP/out" | grep -q '"key": "estimate"'; check "overall row has group null" $?
run 3 "groups table" pool "$D/groups.csv" --by time --method FE --compare "$D/groups_published.csv"
has out "no such group"; check "table shows no such group" $?
has out "1 belongs to groups not in the data"; check "verdict counts the missing group" $?

# 5. halfway values: 0.125 printed with 2 decimals may be 0.12 or 0.13
run 0 "halfway accepted both ways" pool "$D/halfway.csv" --compare "$D/halfway_published.csv"
run 3 "not a rounding" pool "$D/halfway.csv" --compare "$D/halfway_bad.csv"

# 6. without --compare nothing changes
run 0 "no compare" pool "$BCG" --measure RR --format json
if has out '"compare"'; then check "no compare object without --compare" 1; else check "no compare object" 0; fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
