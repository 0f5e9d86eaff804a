#!/usr/bin/env bash
# tests/cli/report_table.sh - golden-output tests of the forest-plot table of `metapool pool`.
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Usage: bash report_table.sh METAPOOL SOURCE_DIR          (run by CTest)
#        UPDATE_GOLDEN=1 bash report_table.sh METAPOOL SOURCE_DIR
#            rewrites tests/golden/report/*.txt from the current program;
#            review `git diff tests/golden/report` before committing.
#
# Each case runs `metapool pool ARGS` from SOURCE_DIR with stdout redirected
# (not a terminal, so: width 80 unless --width, no colour) and compares the
# whole standard output, byte for byte, with tests/golden/report/NAME.txt.
#
# Provenance of the numbers in the golden files: they are NOT taken on trust
# from the program.  The bcg_rr goldens (bcg_rr.txt, bcg_rr_ascii.txt) were
# checked, before being frozen, against metafor 3.8-1's results in
# tests/reference/bcg_rr.json: per-study RR and CI = exp(yi +/- 1.959964
# sqrt(vi)) from the JSON's yi and vi, weights = fits[REML, z].weights,
# pooled RE row = exp(estimate, ci_lb, ci_ub) = 0.49 [0.34, 0.70], PI =
# exp(pi_lb, pi_ub) = [0.15, 1.55], FE row from fits[FE] = 0.65 [0.60, 0.70],
# Q = 152.23, I2 = 92.22%, tau2 = 0.3132 [0.1197, 1.1115], H2 = 12.86; the
# same order of studies as the data (as in metafor's forest()).  That check
# is automated in tests/cli/report_metafor.sh, which applies it to the
# golden files as well as to the live output, so a regenerated golden with
# wrong numbers fails there.  The other goldens pin the layout (edge cases:
# long label, CI beyond both plot edges, CI beyond one edge, narrow width,
# one study, knha with one study) and their numbers are covered by the
# library tests against tests/reference/*.json and metafor's k = 1 results
# (test_single_study, test_single_study_knha in tests/test_pool.c).
set -u
BIN=$1; SRC=$2
G=$SRC/tests/golden/report
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
export LC_ALL=C NO_COLOR=1
unset COLUMNS
fail=0
R=tests/reference/data
E=tests/golden/report/data
# name | arguments of `metapool pool`
cases="
bcg_rr|$R/bcg_rr.csv --measure RR
bcg_rr_ascii|$R/bcg_rr.csv --measure RR --ascii
bcg_rr_by_alloc|$R/bcg_rr.csv --measure RR --by alloc
bcg_rr_by_alloc_ascii|$R/bcg_rr.csv --measure RR --by alloc --ascii
bcg_rr_log_fe_d3|$R/bcg_rr.csv --measure RR --transf none --method FE --digits 3
bcg_or_dl_knha_w100|$R/bcg_or.csv --measure OR --method DL --test knha --width 100
bcg_rd_pm_w60|$R/bcg_rd.csv --measure RD --method PM --width 60
normand_smd_knha|$R/normand1999_smd.csv --measure SMD --test knha
normand_md_w120_ascii|$R/normand1999_md.csv --measure MD --width 120 --ascii
edge|$E/edge.csv
edge_by_ascii_w90_d3|$E/edge.csv --by grp --ascii --width 90 --digits 3
edge_ascii_w40|$E/edge.csv --ascii --width 40
edge_w50|$E/edge.csv --width 50
k1|$E/k1.csv
k1_knha|$E/k1.csv --test knha
"
while IFS='|' read -r name args; do
    [ -n "$name" ] || continue
    # shellcheck disable=SC2086  # args are split on purpose
    (cd "$SRC" && "$BIN" pool $args) >"$T/$name.txt" 2>"$T/$name.err"
    st=$?
    if [ $st -ne 0 ]; then
        echo "FAIL $name: exit $st"; cat "$T/$name.err"; fail=1; continue
    fi
    if [ "${UPDATE_GOLDEN:-0}" = 1 ]; then
        cp "$T/$name.txt" "$G/$name.txt"; echo "updated $name"; continue
    fi
    if [ ! -f "$G/$name.txt" ]; then
        echo "FAIL $name: no golden file $G/$name.txt (run with UPDATE_GOLDEN=1)"; fail=1; continue
    fi
    if diff -u "$G/$name.txt" "$T/$name.txt" >"$T/$name.diff"; then
        echo "ok   $name"
    else
        echo "FAIL $name: output differs from the golden file:"; cat "$T/$name.diff"; fail=1
    fi
done <<<"$cases"
exit $fail
