#!/usr/bin/env bash
# tests/cli/report_plots.sh - forest plots as papers need them (issue 17): arm-level columns, favours, PNG and PDF.
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Usage: bash report_plots.sh METAPOOL SOURCE_DIR   (run by CTest)
#
# The expected cells come from the data file, not from the program: the BCG
# trials' events and totals per arm are tpos and tpos + tneg (ai, ai + bi)
# and cpos and cpos + cneg (ci, ci + di) of metafor's dat.bcg; Aronson 1948
# is 4/123 vaccinated and 11/139 control.  The zero-cell file below has one
# table without events in both arms (left out by --drop00 yes: "not
# estimable"), one with a missing count (left out: "not estimable") and one
# with a single zero cell (kept with 1/2 added: marked).  Every picture is
# rendered and checked: SVG through rsvg-convert, PNG by png_check.py (size,
# ink), PDF by its header and page count (pdfinfo from poppler-utils when
# installed, else the page objects).
set -u
BIN=$1; SRC=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
export LC_ALL=C NO_COLOR=1
fail=0
bad() { echo "FAIL $*"; fail=1; }
# shellcheck source=../tools/render_check.sh
. "$SRC/tests/tools/render_check.sh"
BCG=$SRC/datasets/bcg/bcg.csv
ARGS=(--measure RR --labels "Vaccinated,Unvaccinated" --favours "Favours vaccine,Favours control"
      --title "BCG vaccine against tuberculosis" --xlab "Risk ratio of tuberculosis")

# ---- SVG: the arm-level columns, group names, favours, title, caps ----
"$BIN" pool "$BCG" "${ARGS[@]}" --plot "$T/bcg.svg" >/dev/null 2>"$T/err" || bad "bcg svg: $(cat "$T/err")"
python3 - "$T/bcg.svg" "$BCG" <<'PY' || fail=1
import csv, re, sys
svg = open(sys.argv[1]).read()
rows = list(csv.DictReader(open(sys.argv[2])))
def texts(cls):
    return re.findall(r'class="%s"[^>]*>([^<]*)<' % cls, svg)
problems = []
heads = texts("header arm-group")
if heads != ["Vaccinated", "Unvaccinated"]:
    problems.append("group headers %r" % heads)
if texts("header arm-head") != ["Events", "Total", "Events", "Total"]:
    problems.append("column headers %r" % texts("header arm-head"))
cells = texts("arm num")
want = []
for r in rows:
    a, b, c, d = (int(r[k]) for k in ("ai", "bi", "ci", "di"))
    want += [str(a), str(a + b), str(c), str(c + d)]
if cells != want:
    problems.append("arm cells %r..., want %r..." % (cells[:8], want[:8]))
if texts("favours favours-left") != ["Favours vaccine"] or texts("favours favours-right") != ["Favours control"]:
    problems.append("favours labels")
if texts("title") != ["BCG vaccine against tuberculosis"]:
    problems.append("title %r" % texts("title"))
if texts("axis-title") != ["Risk ratio of tuberculosis"]:
    problems.append("axis title %r" % texts("axis-title"))
# favours either side of the line of no effect
x0 = float(re.search(r'class="no-effect" x1="([\d.]+)"', svg).group(1))
xl = float(re.search(r'<text x="([\d.]+)"[^>]*class="favours favours-left"', svg).group(1))
xr = float(re.search(r'<text x="([\d.]+)"[^>]*class="favours favours-right"', svg).group(1))
if not xl < x0 < xr:
    problems.append("favours not either side of no effect (%g %g %g)" % (xl, x0, xr))
# whisker caps: two per study whose CI is not clipped (no arrows here)
caps = svg.count('class="cap"')
arrows = svg.count('class="arrow"')
if caps + arrows < 2 * len(rows) or caps < 2 * len(rows) - 2 * arrows:
    problems.append("%d caps and %d arrows for %d studies" % (caps, arrows, len(rows)))
for p in problems:
    print("FAIL bcg svg:", p)
if not problems:
    print("ok   bcg svg: arm columns (%d cells), group names, favours, title, xlab, %d caps" % (len(cells), caps))
sys.exit(1 if problems else 0)
PY
render_check "$T/bcg.svg" 600 300 || fail=1

if "$BIN" --version | grep -q "PNG, PDF"; then
    # ---- PNG: rendered by the library at --dpi; the same drawing ----
    "$BIN" pool "$BCG" "${ARGS[@]}" --plot "$T/bcg.png" >/dev/null 2>"$T/err" || bad "bcg png: $(cat "$T/err")"
    out=$(python3 "$SRC/tests/tools/png_check.py" "$T/bcg.png" 1000 500) && echo "ok   bcg png ($out)" || bad "bcg png: $out"
    "$BIN" pool "$BCG" "${ARGS[@]}" --plot "$T/bcg96.png" --dpi 96 >/dev/null 2>&1 || bad "bcg png --dpi 96"
    "$BIN" pool "$BCG" "${ARGS[@]}" --plot "$T/bcg192.png" --dpi 192 >/dev/null 2>&1 || bad "bcg png --dpi 192"
    # at 96 dpi the PNG has the SVG's size in px; at 192 twice that
    python3 - "$T/bcg.svg" "$T/bcg96.png" "$T/bcg192.png" <<'PY' && echo "ok   --dpi scales the PNG" || fail=1
import re, struct, sys
w, h = (float(x) for x in re.search(r'<svg[^>]* width="([\d.]+)" height="([\d.]+)"', open(sys.argv[1]).read()).groups())
def size(p):
    return struct.unpack(">II", open(p, "rb").read()[16:24])
a, b = size(sys.argv[2]), size(sys.argv[3])
if a != (int(w), int(h)) or b != (2 * int(w), 2 * int(h)):
    sys.exit("FAIL --dpi: svg %gx%g, 96 dpi %r, 192 dpi %r" % (w, h, a, b))
PY
    # ---- PDF: one page of the drawing's size (px * 0.75 pt) ----
    "$BIN" pool "$BCG" "${ARGS[@]}" --plot "$T/bcg.pdf" >/dev/null 2>"$T/err" || bad "bcg pdf: $(cat "$T/err")"
    head -c 5 "$T/bcg.pdf" | grep -q '%PDF-' || bad "bcg pdf: no PDF header"
    if command -v pdfinfo >/dev/null; then
        pages=$(pdfinfo "$T/bcg.pdf" | awk '/^Pages:/ {print $2}')
        [ "$pages" = 1 ] && echo "ok   bcg pdf: 1 page (pdfinfo)" || bad "bcg pdf: $pages pages"
        if command -v pdftoppm >/dev/null; then # and it draws: rasterise and look for ink
            pdftoppm -png -r 50 -singlefile "$T/bcg.pdf" "$T/bcgpdf" &&
                out=$(python3 "$SRC/tests/tools/png_check.py" "$T/bcgpdf.png" 300 100) &&
                echo "ok   bcg pdf rasterised ($out)" || bad "bcg pdf rasterised: $out"
        fi
    else
        n=$(grep -a -c '/Type /Page\b' "$T/bcg.pdf")
        [ "$n" = 1 ] && echo "ok   bcg pdf: 1 page object" || bad "bcg pdf: $n page objects"
    fi
    # the trajectory plot goes through the same renderer
    "$BIN" trajectory "$SRC/datasets/ishak2007/ishak2007_long.csv" --time time --struct AR --phi 0.97 \
        --plot "$T/traj.png" --dpi 72 >/dev/null 2>"$T/err" || bad "trajectory png: $(cat "$T/err")"
    out=$(python3 "$SRC/tests/tools/png_check.py" "$T/traj.png" 500 300) && echo "ok   trajectory png ($out)" || bad "trajectory png: $out"
    "$BIN" trajectory "$SRC/datasets/ishak2007/ishak2007_long.csv" --time time --struct AR --phi 0.97 \
        --plot "$T/traj.pdf" >/dev/null 2>&1 && head -c 5 "$T/traj.pdf" | grep -q '%PDF-' &&
        echo "ok   trajectory pdf" || bad "trajectory pdf"
    # a resolution that would make a picture of more than 64 megapixels: the
    # results are printed, the plot is refused (exit 1) and no file is left
    "$BIN" pool "$BCG" --measure RR --plot "$T/huge.png" --dpi 2400 >"$T/out" 2>"$T/err"; st=$?
    [ $st = 1 ] && [ -s "$T/out" ] && [ ! -e "$T/huge.png" ] && grep -q "too large at this --dpi" "$T/err" &&
        echo "ok   --dpi 2400: too large, refused" || bad "--dpi 2400: exit $st $(cat "$T/err")"
    # a PNG to a directory that does not exist: exit 2 before any output
    "$BIN" pool "$BCG" --measure RR --plot "$T/no/such/p.png" >"$T/out" 2>"$T/err"; st=$?
    [ $st = 2 ] && [ ! -s "$T/out" ] && grep -q "no/such/p.png: cannot write" "$T/err" &&
        echo "ok   unwritable png path" || bad "unwritable png path: exit $st $(cat "$T/err")"
else
    echo "SKIP PNG and PDF: this build has no librsvg/cairo"
    "$BIN" pool "$BCG" --measure RR --plot "$T/x.pdf" >/dev/null 2>"$T/err"; st=$?
    [ $st = 2 ] && grep -q "writes SVG only" "$T/err" && echo "ok   pdf refused without librsvg" || bad "pdf without librsvg: exit $st"
fi

# ---- not estimable rows and 1/2 added, in the table and the picture ----
cat >"$T/zero.csv" <<'CSV'
study,ai,n1i,ci,n2i
Alpha,0,20,0,21
Beta,3,25,0,24
Gamma,5,30,9,31
Delta,NA,30,4,28
Eps,2,40,7,41
CSV
"$BIN" pool "$T/zero.csv" --measure OR --drop00 yes --width 120 --plot "$T/zero.svg" >"$T/zero.txt" 2>"$T/err" || bad "zero: $(cat "$T/err")"
[ "$(grep -c 'not estimable$' "$T/zero.txt")" = 2 ] && grep -q '^Alpha .* 0/20 *0/21 ' "$T/zero.txt" &&
    grep -q '^Delta .*NA/30 *4/28 ' "$T/zero.txt" && echo "ok   table: 2 not-estimable rows with their data" ||
    { bad "table: not-estimable rows"; cat "$T/zero.txt"; }
grep -q $'^Beta \xe2\x80\xa0 ' "$T/zero.txt" && grep -q $'^\xe2\x80\xa0 A zero cell: 1/2 added' "$T/zero.txt" &&
    [ "$(grep -c $'\xe2\x80\xa0' "$T/zero.txt")" = 2 ] && echo "ok   table: 1/2-added study marked, footnote" ||
    { bad "table: corrected mark"; cat "$T/zero.txt"; }
# the order of the rows is the order of the file
order=$(grep -oE '^(Alpha|Beta|Gamma|Delta|Eps)' "$T/zero.txt" | tr '\n' ' ')
[ "$order" = "Alpha Beta Gamma Delta Eps " ] && echo "ok   table: input order kept" || bad "table order: $order"
[ "$(grep -c 'class="label not-estimable"' "$T/zero.svg")" = 2 ] &&
    [ "$(grep -c '>Not estimable</text>' "$T/zero.svg")" = 2 ] &&
    [ "$(grep -c 'class="corrected"' "$T/zero.svg")" = 1 ] &&
    [ "$(grep -c 'class="study-marker"' "$T/zero.svg")" = 3 ] && echo "ok   svg: 2 not-estimable rows, 1 marked, 3 markers" ||
    bad "svg: not-estimable/corrected rows"
render_check "$T/zero.svg" || fail=1
# --ascii marks with '*'; without --drop00 the both-zero table is kept, 1/2 added, marked
"$BIN" pool "$T/zero.csv" --measure OR --drop00 no --width 120 --ascii >"$T/zero2.txt" 2>/dev/null
grep -q '^Alpha \* ' "$T/zero2.txt" && grep -q '^Beta \* ' "$T/zero2.txt" &&
    [ "$(grep -c 'not estimable$' "$T/zero2.txt")" = 1 ] && echo "ok   drop00 no: kept and marked (ascii)" ||
    { bad "drop00 no"; cat "$T/zero2.txt"; }
# means: mean (SD) n per arm, in the table at a width that has room
"$BIN" pool "$SRC/datasets/normand1999/normand1999.csv" --measure MD --labels "Specialist,General" --width 130 \
    --plot "$T/normand.svg" >"$T/n.txt" 2>/dev/null
grep -q '^Edinburgh  *55 (47) 155  *75 (64) 156 ' "$T/n.txt" && grep -q 'Specialist *General' "$T/n.txt" &&
    echo "ok   table: mean (SD) n per arm" || { bad "table means"; head -5 "$T/n.txt"; }
[ "$(grep -o 'class="header arm-head">[A-Za-z]*' "$T/normand.svg" | sed 's/.*>//' | tr '\n' ' ')" = "Mean SD Total Mean SD Total " ] &&
    grep -q '>Specialist</text>' "$T/normand.svg" && echo "ok   svg: mean, SD, total per arm" || bad "svg means"
render_check "$T/normand.svg" || fail=1
# yi and vi with xi and ni beside them: events/total of the one group
printf 'study,yi,vi,xi,ni\nA,0.1,0.01,5,50\nB,0.3,0.02,7,60\nC,-0.2,0.015,3,45\n' >"$T/prop.csv"
"$BIN" pool "$T/prop.csv" --plot "$T/prop.svg" --width 100 >"$T/p.txt" 2>/dev/null
grep -q '^A  *5/50 ' "$T/p.txt" && [ "$(grep -c 'class="arm num"' "$T/prop.svg")" = 6 ] &&
    echo "ok   x/n for one group" || { bad "x/n"; cat "$T/p.txt"; }
render_check "$T/prop.svg" || fail=1
# a display-only arm column that is not a number: warned, columns left out, results stand
printf 'study,yi,vi,xi,ni\nA,0.1,0.01,5,50\nB,0.3,0.02,seven,60\n' >"$T/bad.csv"
"$BIN" pool "$T/bad.csv" --width 100 >"$T/b.txt" 2>"$T/err"; st=$?
[ $st = 0 ] && grep -q "warning: arm-level columns not shown: .*bad.csv:3:" "$T/err" && ! grep -q '5/50' "$T/b.txt" &&
    echo "ok   non-numeric arm column: warning, no columns" || bad "non-numeric arm column: exit $st $(cat "$T/err")"

# ---- usage errors: one line, exit 2 ----
while IFS='|' read -r args msg; do
    [ -n "$args" ] || continue
    # shellcheck disable=SC2086
    "$BIN" pool "$BCG" --measure RR $args >"$T/out" 2>"$T/err"; st=$?
    if [ $st = 2 ] && [ ! -s "$T/out" ] && grep -q -- "$msg" "$T/err"; then echo "ok   refused: $args"; else
        bad "$args: exit $st: $(head -1 "$T/err")"; fi
done <<'CASES'
--labels Ketamine|--labels needs two texts separated by a comma
--labels ,Placebo|--labels needs two texts separated by a comma
--favours Left,|--favours needs two texts separated by a comma
--dpi 5|--dpi must be a number from 10 to 2400
--dpi many|--dpi must be a number from 10 to 2400
--plot x.gif|unknown picture format
--plot noext|unknown picture format
CASES
exit $fail
