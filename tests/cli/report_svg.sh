#!/usr/bin/env bash
# tests/cli/report_svg.sh - `pool --plot FILE.svg`: well-formed SVG, one marker per study, one diamond per pooled row, renders.
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Usage: bash report_svg.sh METAPOOL SOURCE_DIR   (run by CTest)
#
# Expected counts follow from the data, not from the program: a study is one
# element of class "study-marker"; each analysis has a fixed-effect diamond
# and, for a random-effects method, a random-effects diamond (with k = 1 only
# the model's own row); with --by there is one analysis per subgroup plus the
# overall one.  bcg_rr has 13 studies; alloc splits them 7/2/4 (3 groups).
# xmllint checks well-formedness; every SVG is rendered to PNG by rsvg-convert
# (librsvg2-bin) and checked for size and ink (tests/tools/render_check.sh;
# skipped, with a message, only when it is not installed); clipped CIs end
# in arrows inside the plot area.
set -u
BIN=$1; SRC=$2
R=$SRC/tests/reference/data
E=$SRC/tests/golden/report/data
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
export LC_ALL=C
fail=0
have_xmllint=1; command -v xmllint >/dev/null || { have_xmllint=0; echo "SKIP well-formedness: xmllint not installed"; }
# shellcheck source=../tools/render_check.sh
. "$SRC/tests/tools/render_check.sh"
count() { grep -o "$1" "$2" | wc -l | tr -d ' '; }

# name | markers | diamonds | arrows(min) | args
cases="
bcg_rr|13|2|0|$R/bcg_rr.csv --measure RR
bcg_rr_by|13|8|0|$R/bcg_rr.csv --measure RR --by alloc
bcg_rr_fe|13|1|0|$R/bcg_rr.csv --measure RR --method FE
bcg_or_knha|13|2|0|$R/bcg_or.csv --measure OR --test knha --transf none
normand_smd|9|2|0|$R/normand1999_smd.csv --measure SMD
edge|5|2|3|$E/edge.csv
edge_by|5|6|3|$E/edge.csv --by grp
k1|1|1|0|$E/k1.csv
k1_knha|1|1|0|$E/k1.csv --test knha
"
while IFS='|' read -r name nm nd na args; do
    [ -n "$name" ] || continue
    f=$T/$name.svg
    # shellcheck disable=SC2086
    "$BIN" pool $args --plot "$f" >/dev/null 2>"$T/err" || { echo "FAIL $name: exit $?"; cat "$T/err"; fail=1; continue; }
    bad=0
    if [ $have_xmllint = 1 ] && ! xmllint --noout "$f" 2>"$T/xml"; then echo "  not well-formed:"; cat "$T/xml"; bad=1; fi
    head -c 5 "$f" | grep -q '<?xml' || { echo "  no XML declaration"; bad=1; }
    grep -q '<svg xmlns="http://www.w3.org/2000/svg"' "$f" || { echo "  no svg root in the SVG namespace"; bad=1; }
    got=$(count 'class="study-marker"' "$f"); [ "$got" = "$nm" ] || { echo "  $got study markers, want $nm"; bad=1; }
    got=$(count 'class="diamond ' "$f"); [ "$got" = "$nd" ] || { echo "  $got diamonds, want $nd"; bad=1; }
    got=$(count 'class="arrow"' "$f"); [ "$got" -ge "$na" ] || { echo "  $got arrows, want >= $na"; bad=1; }
    if [ "$na" = 0 ] && [ "$got" != 0 ]; then echo "  $got arrows, want none"; bad=1; fi
    grep -q 'class="no-effect"' "$f" || { echo "  no line of no effect"; bad=1; }
    [ "$(count 'class="tick"' "$f")" -ge 2 ] || { echo "  fewer than 2 axis ticks"; bad=1; }
    render_check "$f" || bad=1
    # arrows (clipped CIs) stay inside the plot area: tips at the axis ends
    python3 - "$f" <<'PY' || bad=1
import re, sys
s = open(sys.argv[1]).read()
ax = re.search(r'<g class="axis"[^>]*>\s*<line x1="([-\d.]+)" y1="[-\d.]+" x2="([-\d.]+)"', s)
lo, hi = float(ax.group(1)), float(ax.group(2))
for pts in re.findall(r'class="arrow" points="([^"]+)"', s):
    xs = [float(p.split(",")[0]) for p in pts.split()]
    if min(xs) < lo - 0.01 or max(xs) > hi + 0.01:
        sys.exit("  arrow %s outside the axis [%.2f, %.2f]" % (pts, lo, hi))
PY
    if [ $bad = 0 ]; then echo "ok   $name"; else echo "FAIL $name"; fail=1; fi
done <<<"$cases"

# ratio measures: a log axis labelled on the ratio scale with 1 among the ticks
"$BIN" pool "$R/bcg_rr.csv" --measure RR --plot "$T/rr.svg" >/dev/null
ticks=$(grep -o 'class="tick-label">[^<]*' "$T/rr.svg" | sed 's/.*>//' | tr '\n' ' ')
case " $ticks" in *" 0.5 1 2 "*) echo "ok   ratio ticks: $ticks" ;; *) echo "FAIL ratio ticks: $ticks"; fail=1 ;; esac
grep -q 'Risk ratio (log scale)' "$T/rr.svg" && echo "ok   log axis title" || { echo "FAIL axis title"; fail=1; }
grep -q 'class="prediction-interval"' "$T/rr.svg" && echo "ok   prediction interval drawn" || { echo "FAIL no PI"; fail=1; }
render_check "$T/rr.svg" || fail=1
# labels are XML-escaped (& < > "), long ones cut with an ellipsis
"$BIN" pool "$E/edge.csv" --plot "$T/e.svg" >/dev/null
grep -qF 'Tiny &amp; &lt;special&gt; &quot;quotes&quot;' "$T/e.svg" && echo "ok   XML escapes" || { echo "FAIL XML escapes"; fail=1; }
grep -qF '>A study with a really very long label that goes' "$T/e.svg" && grep -q $'\xe2\x80\xa6</text>' "$T/e.svg" \
    && echo "ok   long label cut with an ellipsis" || { echo "FAIL long label"; fail=1; }
render_check "$T/e.svg" || fail=1
# a label with bytes that are not UTF-8 still gives well-formed XML
printf 'study,yi,vi\n"Caf\xe9 study",0.1,0.1\nB,0.2,0.1\n' >"$T/latin1.csv"
"$BIN" pool "$T/latin1.csv" --plot "$T/l.svg" >/dev/null
if [ $have_xmllint = 1 ]; then xmllint --noout "$T/l.svg" && echo "ok   invalid UTF-8 label" || { echo "FAIL invalid UTF-8 label"; fail=1; }; fi
render_check "$T/l.svg" || fail=1
# an unwritable path is found before any output: exit 2, one line naming the
# path and the reason, nothing on stdout
"$BIN" pool "$R/bcg_rr.csv" --measure RR --plot "$T/no/such/dir/p.svg" >"$T/out" 2>"$T/err"; st=$?
if [ $st = 2 ] && grep -q "no/such/dir/p.svg: cannot write: No such file or directory" "$T/err" &&
    [ "$(wc -l <"$T/err")" = 1 ] && [ ! -s "$T/out" ]; then echo "ok   unwritable plot path"; else
    echo "FAIL unwritable plot path: exit $st"; cat "$T/err"; fail=1; fi
exit $fail
