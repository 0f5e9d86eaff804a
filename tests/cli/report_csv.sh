#!/usr/bin/env bash
# tests/cli/report_csv.sh - `pool --format csv`: one tidy table of study and pooled rows, RFC 4180 quoting.
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Usage: bash report_csv.sh METAPOOL SOURCE_DIR   (run by CTest)
#
# Structure only; the numbers are checked against metafor in
# report_metafor.sh.  Expected row counts follow from the data: bcg_rr has 13
# studies, alloc splits them into 3 groups; per analysis one fixed row, and
# for a random-effects method a random row and a prediction row.
set -u
BIN=$1; SRC=$2
R=$SRC/tests/reference/data
E=$SRC/tests/golden/report/data
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
export LC_ALL=C
fail=0
HEAD="group,row_type,label,k,estimate,ci_lb,ci_ub,weight,yi,se,stat,df,pval,tau2,I2,H2,Q,Q_df,Q_pval"
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fail=1; }
types() { cut -d, -f2 "$1" | sort | uniq -c | awk '{ printf "%s=%s ", $2, $1 }'; }

"$BIN" pool "$R/bcg_rr.csv" --measure RR --format csv >"$T/a.csv" 2>/dev/null || bad "exit status"
[ "$(head -1 "$T/a.csv")" = "$HEAD" ] && ok header || bad "header: $(head -1 "$T/a.csv")"
[ "$(types "$T/a.csv")" = "fixed=1 prediction=1 random=1 row_type=1 study=13 " ] && ok "rows: $(types "$T/a.csv")" || bad "rows: $(types "$T/a.csv")"
awk -F, 'NR > 1 && NF != 19 { bad = 1 } END { exit bad }' "$T/a.csv" && ok "19 fields per row" || bad "field count"
# study weights add up to 100
awk -F, '$2 == "study" { s += $8 } END { exit !(s > 100 - 1e-9 && s < 100 + 1e-9) }' "$T/a.csv" && ok "weights sum to 100" || bad "weights"
# no table decoration, no escape codes
grep -q $'\033' "$T/a.csv" && bad "escape codes in CSV" || ok "no escape codes"

"$BIN" pool "$R/bcg_rr.csv" --measure RR --by alloc --format csv >"$T/b.csv" 2>/dev/null || bad "by: exit status"
[ "$(types "$T/b.csv")" = "fixed=4 prediction=4 random=4 row_type=1 study=13 subgroup_test=1 " ] && ok "by rows: $(types "$T/b.csv")" || bad "by rows: $(types "$T/b.csv")"
[ "$(cut -d, -f1 "$T/b.csv" | awk 'NR > 1 && $0 != prev { printf "%s;", $0; prev = $0 }')" = "random;alternate;systematic;;" ] \
    && ok "by group column (overall rows have an empty group)" || bad "by group column"
# subgroup test row: Q, Q_df = 2, Q_pval, nothing else
awk -F, '$2 == "subgroup_test" { found = 1; if ($18 != 2 || $17 == "" || $19 == "" || $5 != "") bad = 1 } END { exit bad || !found }' "$T/b.csv" \
    && ok "subgroup test row" || bad "subgroup test row"

# --transf none keeps the log scale: estimate equals yi
"$BIN" pool "$R/bcg_rr.csv" --measure RR --transf none --format csv >"$T/c.csv" 2>/dev/null
awk -F, '$2 == "study" && $5 != $9 { bad = 1 } END { exit bad }' "$T/c.csv" && ok "--transf none" || bad "--transf none"
# FE: no random or prediction row; fixed row carries the 100% weight
"$BIN" pool "$R/bcg_rr.csv" --measure RR --method FE --format csv >"$T/d.csv" 2>/dev/null
[ "$(types "$T/d.csv")" = "fixed=1 row_type=1 study=13 " ] && awk -F, '$2 == "fixed" && $8 == 100 { ok = 1 } END { exit !ok }' "$T/d.csv" \
    && ok "FE rows" || bad "FE rows: $(types "$T/d.csv")"

# RFC 4180: fields with a comma or a quote are quoted, quotes doubled
"$BIN" pool "$E/edge.csv" --format csv >"$T/e.csv" 2>/dev/null
grep -qF ',study,"A study with a really very long label that goes on and on, and on (2021)",' "$T/e.csv" && ok "comma quoted" || bad "comma quoting"
grep -qF ',study,"Tiny & <special> ""quotes""",' "$T/e.csv" && ok "quotes doubled" || bad "quote doubling"
grep -qF ',study,Wide CI,' "$T/e.csv" && ok "plain field unquoted" || bad "plain field"
# a reader that follows RFC 4180 gets 19 fields on every row
if command -v python3 >/dev/null; then
    python3 -c 'import csv,sys; r=list(csv.reader(open(sys.argv[1]))); sys.exit(any(len(x)!=19 for x in r) or len(r)!=9)' "$T/e.csv" \
        && ok "python csv reader: 9 rows x 19 fields" || bad "python csv reader"
fi
exit $fail
