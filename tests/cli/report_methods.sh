#!/usr/bin/env bash
# tests/cli/report_methods.sh - `pool --methods`: the paragraph states every convention behind the numbers.
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Usage: bash report_methods.sh METAPOOL SOURCE_DIR   (run by CTest)
#
# For each configuration the paragraph must name the measure and its
# variance formula, the estimator with its citation, the test, the tau^2 CI
# method, the prediction-interval formula and the software version (read
# from CMakeLists.txt, not from the program), and list the cited references.
set -u
BIN=$1; SRC=$2
R=$SRC/tests/reference/data
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
export LC_ALL=C NO_COLOR=1
fail=0
VER=$(sed -n 's/^project(metapool VERSION \([0-9.]*\).*/\1/p' "$SRC/CMakeLists.txt")
[ -n "$VER" ] || { echo "FAIL cannot read the version from CMakeLists.txt"; exit 1; }
# expect NAME "args" phrase... : every phrase must occur in the text (line breaks joined)
expect() {
    local name=$1 args=$2; shift 2
    # shellcheck disable=SC2086
    "$BIN" pool $args --methods --width 1000 >"$T/out" 2>"$T/err" || { echo "FAIL $name: exit $?"; cat "$T/err"; fail=1; return; }
    local bad=0
    for ph in "$@"; do
        grep -qF -- "$ph" "$T/out" || { echo "  missing: $ph"; bad=1; }
    done
    if [ $bad = 0 ]; then echo "ok   $name"; else echo "FAIL $name"; sed -n '/^Methods/,$p' "$T/out"; fail=1; fi
}
expect rr-reml "$R/bcg_rr.csv --measure RR" \
    "Log risk ratios" "1/a − 1/(a + b) + 1/c − 1/(c + d)" "restricted maximum likelihood (REML) estimator (Viechtbauer, 2005)" \
    "Wald-type z test" "Q-profile method (Viechtbauer, 2007)" "μ̂ ± z √(τ̂² + SE(μ̂)²)" \
    "back-transformed" "metapool $VER" "metafor 3.8" "References" \
    "Viechtbauer W (2005). Bias and efficiency" "Viechtbauer W (2007). Confidence intervals"
expect or-dl-knha "$R/bcg_or.csv --measure OR --method DL --test knha" \
    "Log odds ratios" "DerSimonian-Laird (DL) estimator (DerSimonian & Laird, 1986)" \
    "Hartung-Knapp-Sidik-Jonkman method (Hartung & Knapp, 2001; Sidik & Jonkman, 2002)" \
    "t distribution with k − 1 degrees of freedom" "t(k − 1) √(τ̂² + SE(μ̂)²)" \
    "DerSimonian R, Laird N (1986)" "Hartung J, Knapp G (2001)"
expect pm "$R/bcg_rr.csv --measure RR --method PM" "Paule-Mandel (PM) estimator (Paule & Mandel, 1982)" "Paule RC, Mandel J (1982)"
expect fe "$R/bcg_rr.csv --measure RR --method FE" "fixed-effect (common-effect) model" "Cochran's Q"
expect smd-ls "$R/normand1999_smd.csv --measure SMD" "Hedges' g" "exact small-sample correction" \
    "1/n₁ + 1/n₂ + g²/(2(n₁ + n₂)) (metafor's default, vtype = \"LS\")" "Hedges LV (1981)"
expect smd-revman "$R/normand1999_smd.csv --measure SMD --vtype RevMan" "g²/(2(n₁ + n₂ − 3.94)), the formula of Review Manager 5"
expect smd-cma "$R/normand1999_g_n.csv --measure SMD --vtype CMA --method DL" "used as reported" "Comprehensive Meta-Analysis"
expect smd-ub "$R/normand1999_smd.csv --measure SMD --vtype UB" "unbiased estimates" "Hedges, 1983"
expect md "$R/normand1999_md.csv --measure MD" "Raw mean differences" "sd₁²/n₁ + sd₂²/n₂"
expect by "$R/bcg_rr.csv --measure RR --by alloc" "Subgroups defined by alloc were analysed separately, each with its own estimate of τ²" "test for subgroup differences"
expect level90 "$R/bcg_rr.csv --measure RR --level 90" "90% confidence interval" "The 90% prediction interval"
expect ascii "$R/bcg_rr.csv --measure RR --ascii --test knha" "mu +/- t(k - 1) sqrt(tau^2 + SE(mu)^2)" "1/a - 1/(a + b)"
"$BIN" pool "$R/bcg_rr.csv" --measure RR --ascii --methods >"$T/a" 2>&1
LC_ALL=C grep -q $'[\x80-\xff]' "$T/a" && { echo "FAIL --ascii methods has non-ASCII bytes"; fail=1; } || echo "ok   --ascii methods is ASCII"
# with --format json the paragraph goes to stderr and stdout stays JSON
"$BIN" pool "$R/bcg_rr.csv" --measure RR --methods --format json >"$T/j" 2>"$T/je"
head -c1 "$T/j" | grep -q '{' && grep -q "^Methods" "$T/je" && echo "ok   json: methods on stderr" || { echo "FAIL json + methods"; fail=1; }
exit $fail
