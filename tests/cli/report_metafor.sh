#!/usr/bin/env bash
# tests/cli/report_metafor.sh - the forest table, SVG and CSV for bcg_rr show what metafor's forest() shows.
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Usage: bash report_metafor.sh METAPOOL SOURCE_DIR   (run by CTest)
#
# Independent source: tests/reference/bcg_rr.json, the results of R's
# metafor 3.8-1 for dat.bcg with measure = "RR".  metafor's forest(res) for
# res <- rma(yi, vi) (REML) lists the studies in data order with
# exp(yi +/- qnorm(0.975) sqrt(vi)) (atransf = exp), weights(res) in percent
# and the RE polygon exp(estimate, ci_lb, ci_ub); addpred adds
# exp(pi_lb, pi_ub).  Expected strings are computed here with awk from the
# JSON's yi, vi, weights and pooled values (printf %.2f, the rounding of
# --digits 2), never from metapool's output.  Checked: the live table (UTF-8
# and ASCII), the frozen golden files of report_table.sh, the SVG's text,
# and the CSV's numbers (relative 1e-6, the project's agreement criterion).
set -u
BIN=$1; SRC=$2
J=$SRC/tests/reference/bcg_rr.json
D=$SRC/tests/reference/data/bcg_rr.csv
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
export LC_ALL=C NO_COLOR=1
fail=0
Z=1.959963984540054   # qnorm(0.975)

arr() { grep -m1 "^  \"$1\":" "$J" | sed 's/.*\[//; s/\].*//; s/,/ /g'; }
# fitval METHOD TEST KEY: a value of fits[METHOD, TEST].expected
fitval() {
    awk -v M="$1" -v TT="$2" -v K="$3" '
        /"method":/ { m = $0; sub(/.*"method": *"/, "", m); sub(/".*/, "", m) }
        /"test":/   { t = $0; sub(/.*"test": *"/, "", t); sub(/".*/, "", t) }
        m == M && t == TT && index($0, "\"" K "\":") { v = $0; sub(/^[^:]*: */, "", v); sub(/,$/, "", v); gsub(/[][]/, "", v); print v; exit }' "$J"
}
YI=$(arr yi); VI=$(arr vi); W=$(fitval REML z weights | sed 's/,/ /g')
[ "$(echo $YI | wc -w)" = 13 ] && [ "$(echo $W | wc -w)" = 13 ] || { echo "FAIL cannot read $J"; exit 1; }
awk -F, 'NR > 1 { gsub(/"/, "", $1); print $1 }' "$D" >"$T/labels"

# expected study rows: label|weight|annotation
awk -v yi="$YI" -v vi="$VI" -v w="$W" -v z=$Z '
    BEGIN { split(yi, y, " "); split(vi, v, " "); split(w, ww, " ") }
    { i = NR; h = z * sqrt(v[i])
      printf "%s|%.2f%%|%.2f [%.2f, %.2f]\n", $0, ww[i], exp(y[i]), exp(y[i] - h), exp(y[i] + h) }' \
    "$T/labels" >"$T/studies"
num() { awk -v x="$1" -v f="$2" 'BEGIN { printf f, x }'; }
ex() { num "$(awk -v x="$1" 'BEGIN { print exp(x) }')" "%.2f"; }
RE="$(ex "$(fitval REML z estimate)") [$(ex "$(fitval REML z ci_lb)"), $(ex "$(fitval REML z ci_ub)")]"
FE="$(ex "$(fitval FE z estimate)") [$(ex "$(fitval FE z ci_lb)"), $(ex "$(fitval FE z ci_ub)")]"
PI="[$(ex "$(fitval REML z pi_lb)"), $(ex "$(fitval REML z pi_ub)")]"
HET="Q = $(num "$(fitval REML z Q)" %.2f), df = 12, p < 0.001; I^2 = $(num "$(fitval REML z I2)" %.2f)% [$(num "$(fitval REML z I2_ci_lb)" %.2f), $(num "$(fitval REML z I2_ci_ub)" %.2f)]; tau^2 = $(num "$(fitval REML z tau2)" %.4f) [$(num "$(fitval REML z tau2_ci_lb)" %.4f), $(num "$(fitval REML z tau2_ci_ub)" %.4f)]; H^2 = $(num "$(fitval REML z H2)" %.2f)"
TEST="z = $(num "$(fitval REML z stat)" %.2f), p < 0.001"
echo "expected: RE $RE, FE $FE, PI $PI"
echo "expected: $HET"

# endrow START END: a line of $T/norm starts with START and ends with END
endrow() {
    awk -v a="$1" -v b="$2" 'index($0, a) == 1 && substr($0, length($0) - length(b) + 1) == b { ok = 1 }
        END { exit !ok }' "$T/norm"
}
# check_table NAME FILE
check_table() {
    local name=$1 f=$2 bad=0
    # UTF-8 -> ASCII spellings, runs of blanks -> one, no blank after '['
    sed 's/τ/tau/g; s/²/^2/g; s/  */ /g; s/\[ /[/g' "$f" >"$T/norm"
    # study rows: lines 3..15, in data order
    awk -F'|' -v T="$T" '
        NR == FNR { lab[NR] = $1; w[NR] = $2; ann[NR] = $3; n = NR; next }
        FNR >= 3 && FNR < 3 + n { i = FNR - 2
            if (index($0, lab[i]) != 1 || !index($0, " " w[i] " ") || !index($0, ann[i])) {
                printf "  row %d: want \"%s ... %s %s\", got \"%s\"\n", i, lab[i], w[i], ann[i], $0; bad = 1 } }
        END { exit bad }' "$T/studies" "$T/norm" || bad=1
    endrow "Fixed effect " " $FE" || { echo "  no FE row ending in $FE"; bad=1; }
    endrow "Random effects (REML) " " 100.00% $RE" || { echo "  no RE row ending in 100.00% $RE"; bad=1; }
    endrow "Prediction interval " " $PI" || { echo "  no PI row ending in $PI"; bad=1; }
    # heterogeneity paragraph (wrapped lines joined)
    awk '/^Heterogeneity:/ { on = 1; s = $0; next } on && /^ / { s = s $0; next } on { print s; exit }' "$T/norm" \
        | sed 's/  */ /g' >"$T/het"
    grep -qF "Heterogeneity: $HET" "$T/het" || { echo "  heterogeneity: want \"$HET\", got \"$(cat "$T/het")\""; bad=1; }
    grep -qF "Test for overall effect: $TEST" "$T/norm" || { echo "  no \"$TEST\""; bad=1; }
    if [ $bad = 0 ]; then echo "ok   $name"; else echo "FAIL $name ($f)"; fail=1; fi
}

(cd "$SRC" && "$BIN" pool tests/reference/data/bcg_rr.csv --measure RR) >"$T/live.txt" || { echo "FAIL run"; fail=1; }
(cd "$SRC" && "$BIN" pool tests/reference/data/bcg_rr.csv --measure RR --ascii) >"$T/live_ascii.txt" || fail=1
check_table "live table (UTF-8)" "$T/live.txt"
check_table "live table (ASCII)" "$T/live_ascii.txt"
for g in bcg_rr bcg_rr_ascii; do
    check_table "golden $g.txt" "$SRC/tests/golden/report/$g.txt"
done

# SVG: per study, in data order, the texts label, weight, estimate, "[lb,", "ub]"
"$BIN" pool "$D" --measure RR --plot "$T/p.svg" >/dev/null || { echo "FAIL svg run"; fail=1; }
# shellcheck source=../tools/render_check.sh
. "$SRC/tests/tools/render_check.sh"
render_check "$T/p.svg" || fail=1
grep -o 'class="label">[^<]*' "$T/p.svg" | sed 's/.*>//; s/&amp;/\&/g' | head -13 >"$T/svglabels"
if diff "$T/labels" "$T/svglabels" >/dev/null; then echo "ok   svg labels in data order"; else echo "FAIL svg labels"; diff "$T/labels" "$T/svglabels"; fail=1; fi
grep -o 'class="num">[^<]*' "$T/p.svg" | sed 's/.*>//' | head -52 | paste -d' ' - - - - >"$T/svgnums"
awk -F'|' '{ sub(/ \[/, " [", $3); print $2 " " $3 }' "$T/studies" >"$T/wantnums"
if diff "$T/wantnums" "$T/svgnums" >/dev/null; then echo "ok   svg weights and CIs"; else echo "FAIL svg numbers"; diff "$T/wantnums" "$T/svgnums"; fail=1; fi

# CSV: study rows and pooled rows agree with the JSON to a relative 1e-6
"$BIN" pool "$D" --measure RR --format csv >"$T/out.csv" || { echo "FAIL csv run"; fail=1; }
awk -F, -v yi="$YI" -v vi="$VI" -v w="$W" -v z=$Z \
    -v re="$(fitval REML z estimate) $(fitval REML z ci_lb) $(fitval REML z ci_ub) $(fitval REML z pi_lb) $(fitval REML z pi_ub) $(fitval REML z tau2) $(fitval REML z I2) $(fitval REML z Q)" \
    -v fe="$(fitval FE z estimate) $(fitval FE z ci_lb) $(fitval FE z ci_ub)" '
    function close_(a, b) { return (a - b < 0 ? b - a : a - b) <= 1e-6 * (b < 0 ? -b : b) + 1e-12 }
    function chk(what, got, want) { if (!close_(got + 0, want + 0)) { printf "  %s: %s, want %.15g\n", what, got, want; bad = 1 } }
    BEGIN { split(yi, y, " "); split(vi, v, " "); split(w, ww, " "); split(re, R, " "); split(fe, F, " ") }
    NR == 1 { if ($0 != "group,row_type,label,k,estimate,ci_lb,ci_ub,weight,yi,se,stat,df,pval,tau2,I2,H2,Q,Q_df,Q_pval") { print "  header: " $0; bad = 1 }; next }
    $2 == "study" { i++; h = z * sqrt(v[i])
        chk("study " i " estimate", $5, exp(y[i])); chk("study " i " ci_lb", $6, exp(y[i] - h))
        chk("study " i " ci_ub", $7, exp(y[i] + h)); chk("study " i " weight", $8, ww[i]); chk("study " i " yi", $9, y[i]) }
    $2 == "random" { r++; chk("RE estimate", $5, exp(R[1])); chk("RE ci_lb", $6, exp(R[2])); chk("RE ci_ub", $7, exp(R[3]))
        chk("RE tau2", $14, R[6]); chk("RE I2", $15, R[7]); chk("RE Q", $17, R[8]) }
    $2 == "prediction" { p++; chk("PI lb", $6, exp(R[4])); chk("PI ub", $7, exp(R[5])) }
    $2 == "fixed" { f++; chk("FE estimate", $5, exp(F[1])); chk("FE ci_lb", $6, exp(F[2])); chk("FE ci_ub", $7, exp(F[3])) }
    END { if (i != 13 || r != 1 || p != 1 || f != 1) { printf "  rows: %d studies, %d RE, %d PI, %d FE\n", i, r, p, f; bad = 1 }
          exit bad }' "$T/out.csv" && echo "ok   csv numbers (rel 1e-6)" || { echo "FAIL csv numbers"; fail=1; }
exit $fail
