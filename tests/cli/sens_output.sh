#!/usr/bin/env bash
# tests/cli/sens_output.sh - leave1out/cumul/influence: SVG plots, table, CSV, and every error path.
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Usage: bash sens_output.sh METAPOOL SOURCE_DIR   (run by CTest)
#
# Expected counts follow from the data: bcg has 13 trials, so the
# leave-one-out and cumulative forest plots have 13 rows (one element of
# class "study-marker" each) and one diamond (all studies), the Baujat plot
# 13 points.  xmllint checks well-formedness; rsvg-convert must render
# (each skipped with a message only when not installed), as report_svg.sh.
set -u
BIN=$1; SRC=$2
D=$SRC/datasets/bcg/bcg.csv
S=$SRC/tests/reference/sensitivity
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
export LC_ALL=C
fail=0
have_xmllint=1; command -v xmllint >/dev/null || { have_xmllint=0; echo "SKIP well-formedness: xmllint not installed"; }
have_rsvg=1; command -v rsvg-convert >/dev/null || { have_rsvg=0; echo "SKIP PNG rendering: rsvg-convert not installed"; }
count() { grep -o "$1" "$2" | wc -l | tr -d ' '; }
ok() { echo "ok   $1"; }
no() { echo "FAIL $1"; fail=1; }

# ---- SVG: name | markers | diamonds | args
while IFS='|' read -r name nm nd args; do
    [ -n "$name" ] || continue
    f=$T/$name.svg
    # shellcheck disable=SC2086
    "$BIN" $args --plot "$f" >/dev/null 2>"$T/err" || { no "$name: exit $?"; cat "$T/err"; continue; }
    bad=0
    if [ $have_xmllint = 1 ] && ! xmllint --noout "$f" 2>"$T/xml"; then cat "$T/xml"; bad=1; fi
    head -c 5 "$f" | grep -q '<?xml' || { echo "  no XML declaration"; bad=1; }
    got=$(count 'class="study-marker' "$f"); [ "$got" = "$nm" ] || { echo "  $got markers, want $nm"; bad=1; }
    got=$(count 'class="diamond ' "$f"); [ "$got" = "$nd" ] || { echo "  $got diamonds, want $nd"; bad=1; }
    [ "$(count 'class="tick"' "$f")" -ge 2 ] || { echo "  fewer than 2 ticks"; bad=1; }
    if [ $have_rsvg = 1 ] && ! rsvg-convert "$f" -o "$T/$name.png" 2>"$T/rsvg"; then cat "$T/rsvg"; bad=1; fi
    if [ $bad = 0 ]; then ok "$name"; else no "$name"; fi
done <<EOC
leave1out|13|1|leave1out $D --measure RR
leave1out_fe_knha|13|1|leave1out $D --measure OR --method FE --test knha
cumul_year|13|1|cumul $D --measure RR --order year
cumul_dec|13|1|cumul $D --measure RR --order year --decreasing --transf none
baujat|13|0|influence $D --measure RR
baujat_mods|13|0|influence $D --measure RR --mods ablat,alloc
baujat_k2|2|0|influence $S/d_k2.csv
baujat_normand|9|0|influence $S/d_normand.csv
EOC
# the no-effect line and the full estimate's line in the forest plots
grep -q 'class="no-effect"' "$T/leave1out.svg" && grep -q 'class="pooled-line"' "$T/leave1out.svg" && ok "forest lines" || no "forest lines"
# Baujat: a red (influential) marker exactly where influence flags a study
# (Normand 1999, REML: metafor flags studies as influential; see expected_influence.csv)
n_infl=$("$BIN" influence $S/d_normand.csv --format json | python3 -c 'import json,sys; print(sum(r["influential"] for r in json.load(sys.stdin)["rows"]))')
[ "$n_infl" -ge 1 ] && [ "$(count 'study-marker influential' "$T/baujat_normand.svg")" = "$n_infl" ] \
    && ok "baujat influential ($n_infl)" || no "baujat influential"
[ "$("$BIN" influence $S/d_normand.csv | grep -c ' \*$')" = "$n_infl" ] && ok "table marks influential" || no "table marks influential"

# ---- table and CSV
"$BIN" leave1out $D --measure RR --ascii >"$T/t" 2>&1 || no "table exit"
[ "$(grep -c '\[' "$T/t")" = 15 ] && grep -q '^All studies (k = 13) *0.49 \[0.34, 0.70\]' "$T/t" && ok "leave1out table" || { no "leave1out table"; cat "$T/t"; }
"$BIN" cumul $D --measure RR --order year --format csv >"$T/c" || no "csv exit"
[ "$(wc -l <"$T/c")" = 15 ] && head -1 "$T/c" | grep -q '^added,k,estimate,se,stat,df,pval,ci_lb,ci_ub,Q,Q_pval,tau2,I2,H2$' \
    && sed -n 2p "$T/c" | grep -q '^Aronson 1948,1,' && ok "cumul csv" || { no "cumul csv"; cat "$T/c"; }
"$BIN" influence $D --measure RR --mods ablat --format csv >"$T/i" || no "influence csv exit"
head -1 "$T/i" | grep -q '^study,rstudent,dffits,cook_d,cov_r,tau2_del,QE_del,hat,weight,dfbetas_intrcpt,dfbetas_ablat,influential,baujat_x,baujat_y$' \
    && [ "$(wc -l <"$T/i")" = 14 ] && ok "influence csv" || { no "influence csv"; head -2 "$T/i"; }
# ties in the order column keep file order, both directions (bcg: two 1973 trials, rows 5 and 7)
"$BIN" cumul $D --measure RR --order year --format json | python3 -c '
import json,sys; a=[r["added"] for r in json.load(sys.stdin)["rows"]]
i,j=a.index("Frimodt-Moller et al 1973"),a.index("Vandiviere et al 1973"); sys.exit(0 if j==i+1 else 1)' && ok "ties increasing" || no "ties increasing"
"$BIN" cumul $D --measure RR --order year --decreasing --format json | python3 -c '
import json,sys; a=[r["added"] for r in json.load(sys.stdin)["rows"]]
i,j=a.index("Frimodt-Moller et al 1973"),a.index("Vandiviere et al 1973"); sys.exit(0 if j==i+1 and a[0]=="TPT Madras 1980" else 1)' && ok "ties decreasing" || no "ties decreasing"

# ---- error paths: name | want exit | stderr must contain | args
printf 'study,yi,vi\nA,0.1,0.02\n' >"$T/k1.csv"
printf 'study,yi,vi,yr\nA,0.1,0.02,2001\nB,0.3,0.03,NA\nC,0.2,0.01,1999\n' >"$T/na.csv"
printf 'study,yi,vi,yr\nA,0.1,0.02,2001\nB,0.3,0.03,late\nC,0.2,0.01,1999\n' >"$T/txt.csv"
printf 'study,yi,vi,x\nA,0.1,0.02,1\nB,0.5,0.03,2\nC,0.2,0.04,4\n' >"$T/k3x.csv"
printf 'study,yi,vi\nA,0.1,0.02\nB,0.3,-1\n' >"$T/badv.csv"
while IFS='|' read -r name want msg args; do
    [ -n "$name" ] || continue
    # shellcheck disable=SC2086
    "$BIN" $args >"$T/out" 2>"$T/err"; got=$?
    if [ "$got" = "$want" ] && grep -q -- "$msg" "$T/err" && [ "$(wc -l <"$T/err")" -ge 1 ]; then ok "$name"; else
        no "$name: exit $got (want $want)"; cat "$T/err"; fi
done <<EOC
cumul_no_order|2|--order is required|cumul $D --measure RR
cumul_bad_col|2|no column 'nosuch' for --order|cumul $D --measure RR --order nosuch
cumul_text_col|2|txt.csv:3:|cumul $T/txt.csv --order yr
leave1out_k1|1|needs at least 2 studies|leave1out $T/k1.csv
influence_k1|1|needs at least 2 studies|influence $T/k1.csv
leave1out_decreasing|2|unrecognized option '--decreasing'|leave1out $D --measure RR --decreasing
influence_bad_mods|2|nosuch|influence $D --measure RR --mods nosuch
influence_bad_plot|2|cannot write|influence $D --measure RR --plot $T/no/such/dir/x.svg
leave1out_bad_plot|2|cannot write|leave1out $D --measure RR --plot $T/no/such/dir/x.svg
leave1out_bad_v|2|vi|leave1out $T/badv.csv
cumul_bad_method|2|unknown --method|cumul $D --measure RR --order year --method XX
EOC
# NA in the order column: the study is added last, with a warning naming the row
"$BIN" cumul "$T/na.csv" --order yr --format json >"$T/out" 2>"$T/err"
[ $? = 0 ] && grep -q 'row 2 (line 3)' "$T/err" && python3 -c '
import json,sys; a=[r["added"] for r in json.load(open(sys.argv[1]))["rows"]]; sys.exit(0 if a==["C","A","B"] else 1)' "$T/out" \
    && ok "cumul NA last" || { no "cumul NA last"; cat "$T/err"; }
# a meta-regression whose refits have no residual df: rows NA (null), named on stderr, exit 0
"$BIN" influence "$T/k3x.csv" --mods x --format json >"$T/out" 2>"$T/err"
[ $? = 0 ] && [ "$(grep -c "failed" "$T/err")" = 3 ] && python3 -c '
import json,sys; r=json.load(open(sys.argv[1]))["rows"]; sys.exit(0 if all(x["dffits"] is None and x["hat"] is not None and "error" in x for x in r) else 1)' "$T/out" \
    && ok "influence refits without df" || { no "influence refits without df"; cat "$T/err" "$T/out"; }
# --help of each command lists its options (generated from the shared table)
"$BIN" cumul --help | grep -q -- '--order COL' && "$BIN" cumul --help | grep -q -- '--decreasing' \
    && "$BIN" influence --help | grep -q -- '--mods LIST' && "$BIN" leave1out --help | grep -q -- '--test T' \
    && ok "help" || no "help"
if [ $fail = 0 ]; then echo "all sensitivity output checks passed"; fi
exit $fail
