#!/usr/bin/env bash
# tests/cli/bias_cli.sh - `metapool bias`: output forms, the funnel plot, warnings and errors.
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Usage: bash bias_cli.sh METAPOOL SOURCE_DIR   (run by CTest)
# The numbers themselves are checked against metafor in tests/test_bias.c; here:
# the JSON carries every key of the contract; the funnel SVG is well-formed
# (xmllint) with one point per study plus one open point per filled study;
# fewer than 10 studies gives a warning, not a refusal; bad usage exits 2 with
# one line; a fit that does not converge exits 1.
set -u
BIN=$1
SRC=$2
REF=$SRC/tests/reference/bias
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
pass=0
ok() { echo "ok   $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1"; fail=$((fail + 1)); }
json() { python3 -c "import json,sys; d=json.load(open('$1')); print($2)"; }
have_xmllint=1
command -v xmllint >/dev/null || { have_xmllint=0; echo "SKIP well-formedness: xmllint not installed"; }

# 1. JSON with every contract key (hackshaw1998: k = 37, 7 studies filled on the left)
if "$BIN" bias "$REF/d_hackshaw1998.csv" --format json >"$T/h.json" 2>"$T/err"; then
    keys=$(json "$T/h.json" "' '.join(sorted(k for k in ['egger','rank','trimfill','fsn','pet','peese','selmodel'] if isinstance(d.get(k), dict)))")
    [ "$keys" = "egger fsn peese pet rank selmodel trimfill" ] && ok "json blocks" || bad "json blocks: $keys"
    miss=$(json "$T/h.json" "[b+'.'+k for b,ks in {'egger':['stat','df','pval','limit_estimate','limit_ci_lb','limit_ci_ub'],'rank':['tau','pval'],'trimfill':['k0','se_k0','side','estimate','se','ci_lb','ci_ub','tau2','filled'],'fsn':['rosenthal','rosenthal_pval','orwin','rosenberg'],'pet':['estimate','se','pval','ci_lb','ci_ub'],'peese':['estimate','se','pval','ci_lb','ci_ub'],'selmodel':['steps','delta','estimate','se','ci_lb','ci_ub','tau2','LRT','LRT_pval']}.items() for k in ks if k not in d[b]]")
    [ "$miss" = "[]" ] && ok "json keys" || bad "json keys missing: $miss"
    [ "$(json "$T/h.json" "(d['trimfill']['k0'], d['trimfill']['side'], len(d['trimfill']['filled']), d['k'])")" = "(7, 'left', 7, 37)" ] \
        && ok "trimfill k0/side/filled" || bad "trimfill k0/side/filled"
    [ "$(json "$T/h.json" "d['warnings']")" = "[]" ] && ok "no warnings at k = 37" || bad "warnings at k = 37"
else
    bad "bias --format json exit $?"; cat "$T/err"
fi

# 2. funnel plot: well-formed, one point per study, one open point per filled study
for variant in plain contours; do
    extra=""; [ $variant = contours ] && extra="--contours"
    if "$BIN" bias "$REF/d_hackshaw1998.csv" --plot "$T/f_$variant.svg" $extra >/dev/null 2>"$T/err"; then
        if [ $have_xmllint = 1 ]; then
            xmllint --noout "$T/f_$variant.svg" 2>"$T/xml" && ok "funnel $variant well-formed" || { bad "funnel $variant not well-formed"; cat "$T/xml"; }
        fi
        ns=$(grep -c 'class="study"' "$T/f_$variant.svg")
        nf=$(grep -c 'class="filled"' "$T/f_$variant.svg")
        [ "$ns" = 37 ] && [ "$nf" = 7 ] && ok "funnel $variant: 37 studies + 7 filled" || bad "funnel $variant: $ns studies, $nf filled"
        nc=$(grep -c '<polygon class="contour"' "$T/f_$variant.svg")
        want=0; [ $variant = contours ] && want=3
        [ "$nc" = $want ] && ok "funnel $variant: $want contour regions" || bad "funnel $variant: $nc contour regions"
        grep -q 'class="pseudo-ci"' "$T/f_$variant.svg" && ok "funnel $variant: pseudo-CI region" || bad "funnel $variant: no pseudo-CI region"
    else
        bad "bias --plot ($variant) exit $?"; cat "$T/err"
    fi
done
# no study filled (normand1999, L0: k0 = 0): only the 9 studies
"$BIN" bias "$REF/d_normand1999.csv" --plot "$T/n.svg" >/dev/null 2>&1
[ "$(grep -c 'class="study"' "$T/n.svg")/$(grep -c 'class="filled"' "$T/n.svg")" = "9/0" ] \
    && ok "funnel without filled studies" || bad "funnel without filled studies"

# 3. fewer than 10 studies: a warning, not a refusal; table and CSV forms
"$BIN" bias "$REF/d_small6.csv" --format json >"$T/s.json" 2>"$T/err"
rc=$?
[ $rc = 0 ] && grep -q "fewer than 10 studies" "$T/err" && \
    [ "$(json "$T/s.json" "any('fewer than 10' in w for w in d['warnings'])")" = True ] \
    && ok "k = 6 warns (exit 0)" || bad "k = 6: exit $rc, warning missing"
"$BIN" bias "$REF/d_small6.csv" >"$T/s.txt" 2>/dev/null
grep -q "^Egger's test: z = .*, p = " "$T/s.txt" && grep -q "^Warning: k = 6" "$T/s.txt" \
    && ok "table: Egger reading line and the warning" || bad "table lines"
"$BIN" bias "$REF/d_small6.csv" --format csv >"$T/s.csv" 2>/dev/null
[ "$(head -1 "$T/s.csv")" = "method,key,value" ] && grep -q "^egger,pval," "$T/s.csv" \
    && ok "csv" || bad "csv"
# the n predictors read the ni column; the lm model gives t with k - 2 df
"$BIN" bias "$REF/d_small6.csv" --predictor sqrtninv --egger-model lm --format json >"$T/p.json" 2>/dev/null
[ "$(json "$T/p.json" "(d['egger']['predictor'], d['egger']['model'], d['egger']['df'])")" = "('sqrtninv', 'lm', 4)" ] \
    && ok "--predictor sqrtninv --egger-model lm" || bad "--predictor sqrtninv --egger-model lm"
"$BIN" bias "$REF/d_hackshaw1998.csv" --steps 0.025,0.5 --format json >"$T/st.json" 2>/dev/null
[ "$(json "$T/st.json" "(d['selmodel']['steps'], len(d['selmodel']['delta']))")" = "([0.025, 0.5, 1], 3)" ] \
    && ok "--steps adds 1" || bad "--steps"

# 4. methods that cannot run on 2 studies: null with a warning, the others still printed
printf 'yi,vi\n0.1,0.01\n0.3,0.02\n' >"$T/k2.csv"
"$BIN" bias "$T/k2.csv" --format json >"$T/k2.json" 2>"$T/err"
rc=$?
[ $rc = 0 ] && [ "$(json "$T/k2.json" "d['selmodel'] is None and d['egger'] is None and d['trimfill'] is None and d['rank'] is not None and any('selection model not computed' in w for w in d['warnings'])")" = True ] \
    && ok "k = 2: selmodel, egger, trimfill null with warnings" || bad "k = 2: exit $rc"
printf 'yi,vi\n0.1,0.01\n0.3,0.02\n0.2,0.04\n' >"$T/k3.csv"

# 5. bad usage: exit 2 and one line on stderr, nothing on stdout
expect2() { # NAME SUBSTRING ARGS...
    local name=$1 want=$2
    shift 2
    "$BIN" bias "$@" >"$T/out" 2>"$T/err"
    local rc=$?
    if [ $rc = 2 ] && grep -q -F -- "$want" "$T/err" && [ ! -s "$T/out" ]; then ok "$name"
    else bad "$name: exit $rc"; cat "$T/err"; fi
}
expect2 "--predictor ni without sample sizes" "needs sample sizes" "$T/k3.csv" --predictor ni
expect2 "unknown --predictor" "unknown --predictor" "$T/k3.csv" --predictor se
expect2 "unknown --egger-model" "unknown --egger-model" "$T/k3.csv" --egger-model glm
expect2 "unknown --estimator" "unknown --estimator" "$T/k3.csv" --estimator L1
expect2 "--steps not increasing" "--steps must be" "$T/k3.csv" --steps 0.5,0.025
expect2 "--steps out of range" "--steps must be" "$T/k3.csv" --steps 0,1
expect2 "--contours without --plot" "--contours" "$T/k3.csv" --contours
expect2 "--plot unknown format" "FILE.svg, FILE.png or FILE.pdf" "$T/k3.csv" --plot "$T/f.gif"
expect2 "unwritable --plot" "cannot write" "$T/k3.csv" --plot "$T/no/such/dir/f.svg"
expect2 "missing file" "nonexistent.csv" "$T/nonexistent.csv"

# 6. a model that does not converge: exit 1
"$BIN" bias "$REF/d_hackshaw1998.csv" --maxiter 1 >"$T/out" 2>"$T/err"
rc=$?
[ $rc = 1 ] && grep -q "did not converge" "$T/err" && ok "no convergence: exit 1" || { bad "no convergence: exit $rc"; cat "$T/err"; }

echo "$pass passed, $fail failed"
[ $fail = 0 ]
