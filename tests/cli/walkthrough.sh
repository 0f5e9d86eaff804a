#!/usr/bin/env bash
# tests/cli/walkthrough.sh - runs the README walkthrough's commands exactly as written.
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Usage: bash walkthrough.sh METAPOOL SOURCE_DIR   (run by CTest)
#
# The commands are extracted from the markdown, so the documentation and this
# test cannot drift: the section "## Reproducing a published result" of
# README.md.
# - Every line of a ```sh block is a command (a trailing backslash continues
#   it), run from SOURCE_DIR with `metapool` on the PATH, under bash with
#   pipefail.  It must exit 0, or N when it ends with the comment "# exit N".
# - Every non-blank line of a ```text output block must appear, as a whole
#   line (trailing blanks ignored), in the standard output of the command
#   just before it.
set -u
BIN=$1
SRC=$2
HEADING='## Reproducing a published result'
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

DOC=$SRC/README.md
grep -qxF "$HEADING" "$DOC" || { echo "FAIL: README.md has no section '$HEADING'"; exit 1; }
echo "walkthrough from ${DOC#"$SRC"/}"

# the section: from the heading to the next heading of the same level
awk -v h="$HEADING" '$0 == h { on = 1; print; next } on && /^## / { exit } on' "$DOC" >"$TMP/section.md"
# records: "C<TAB>command" and "O<TAB>expected output line"
awk '
    /^```/ {
        if (mode != "") { mode = ""; next }
        info = substr($0, 4)
        if (info == "sh" || info == "bash") mode = "sh"
        else if (info ~ /^text[ \t]+output/) mode = "out"
        else mode = "skip"
        next
    }
    mode == "sh" {
        line = $0
        if (cont != "") { line = cont " " line; cont = "" }
        if (line ~ /\\$/) { cont = substr(line, 1, length(line) - 1); next }
        if (line ~ /^[ \t]*$/ || line ~ /^[ \t]*#/) next
        print "C\t" line
    }
    mode == "out" && $0 !~ /^[ \t]*$/ { print "O\t" $0 }
' "$TMP/section.md" >"$TMP/records"

mkdir "$TMP/bin"
ln -s "$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")" "$TMP/bin/metapool"
export PATH="$TMP/bin:$PATH"

pass=0
fail=0

ncmd=0
have_out=0
while IFS=$'\t' read -r kind text; do
    if [ "$kind" = C ]; then
        ncmd=$((ncmd + 1))
        want=0
        if [[ $text =~ \#[[:space:]]*exit[[:space:]]+([0-9]+)[[:space:]]*$ ]]; then want=${BASH_REMATCH[1]}; fi
        (cd "$SRC" && bash -o pipefail -c "$text") >"$TMP/out" 2>"$TMP/err" </dev/null
        got=$?
        sed 's/[[:space:]]*$//' "$TMP/out" >"$TMP/out.trim"
        have_out=1
        if [ "$got" -ne "$want" ]; then
            echo "FAIL: exit $got, expected $want: $text"
            head -5 "$TMP/err"
            fail=$((fail + 1))
        else
            pass=$((pass + 1))
        fi
    elif [ "$kind" = O ]; then
        [ "$have_out" -eq 1 ] || continue
        line=$(printf '%s' "$text" | sed 's/[[:space:]]*$//')
        if grep -qxF -- "$line" "$TMP/out.trim"; then
            pass=$((pass + 1))
        else
            echo "FAIL: sample output line not in the output of the command before it: $line"
            fail=$((fail + 1))
        fi
    fi
done <"$TMP/records"

if [ "$ncmd" -lt 5 ]; then
    echo "FAIL: only $ncmd commands found in the walkthrough"
    fail=$((fail + 1))
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
