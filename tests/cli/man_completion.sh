#!/usr/bin/env bash
# tests/cli/man_completion.sh - man pages, bash completion and --version, generated from the option table.
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Usage: bash man_completion.sh METAPOOL SOURCE_DIR   (run by CTest)
#
# The man pages and the completion come from the same cli_spec entries as
# each command's --help, so every option --help lists must be in the page
# and among the completions; this checks that for every command that
# `metapool --help` lists, and that the pages are valid roff (groff -ww, when
# installed) and the completion valid bash that completes what it should.
set -u
BIN=$1; SRC=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
export LC_ALL=C
fail=0
bad() { echo "FAIL $*"; fail=1; }

cmds=$("$BIN" --help | awk '/^Commands:/ {on = 1; next} on && /^  [a-z]/ {print $1}' | grep -v -x -e help -e version)
[ -n "$cmds" ] || bad "no commands in metapool --help"
"$BIN" --man-pages "$T" || bad "--man-pages failed"
[ -s "$T/metapool.1" ] || bad "no metapool.1"
"$BIN" --bash-completion >"$T/completion" || bad "--bash-completion failed"
bash -n "$T/completion" && echo "ok   completion is valid bash" || bad "completion syntax"
# shellcheck disable=SC1090
. "$T/completion"
complete_at() { # words... : run the completion with the cursor on the last word
    COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=(); _metapool; echo "${COMPREPLY[*]}"
}
for c in $cmds; do
    page=$T/metapool-$c.1
    [ -s "$page" ] || { bad "$c: no man page"; continue; }
    "$BIN" --man "$c" | cmp -s - "$page" || bad "$c: --man differs from --man-pages"
    grep -q "^\.TH METAPOOL\\\\-$(echo "$c" | tr a-z A-Z) 1" "$page" || bad "$c: no .TH line"
    grep -q "metapool\\\\-$c" "$T/metapool.1" || bad "$c: not in metapool.1"
    opts=$("$BIN" "$c" --help | grep -oE '^  --[a-z0-9-]+' | sed 's/^  //')
    n=0
    for o in $opts; do
        roff=$(printf '%s' "$o" | sed 's/-/\\\\-/g')
        grep -q "^\\\\fB$roff\\\\fR" "$page" || bad "$c: $o not in the man page"
        case " $(complete_at metapool "$c" "${o:0:5}") " in
            *" $o "*) ;; *) bad "$c: $o not completed from ${o:0:5}" ;; esac
        n=$((n + 1))
    done
    [ "$n" -ge 3 ] && echo "ok   $c: $n options in --help, the man page and the completion" || bad "$c: only $n options"
done
if command -v groff >/dev/null; then
    for f in "$T"/*.1; do
        groff -man -Tutf8 -ww -z "$f" 2>"$T/groff" && [ ! -s "$T/groff" ] || { bad "$(basename "$f"): groff warnings"; cat "$T/groff"; }
    done
    echo "ok   groff -ww: no warnings"
else
    echo "SKIP groff not installed"
fi
# values and files
[ "$(complete_at metapool pool --format j)" = json ] && echo "ok   --format completes its values" || bad "--format values"
[ "$(complete_at metapool po)" = pool ] && echo "ok   command names complete" || bad "command names"
mkdir "$T/d" && touch "$T/d/bcg.csv"
(cd "$T/d" && [ "$(complete_at metapool pool bc)" = bcg.csv ]) && echo "ok   files complete" || bad "file completion"
[ -z "$(complete_at metapool pool --labels x)" ] && echo "ok   no completion of an option's free value" || bad "--labels value completed"
# hidden options: usage errors
"$BIN" --man nosuch >/dev/null 2>"$T/err"; st=$?
[ $st = 2 ] && grep -q "one command name" "$T/err" && echo "ok   --man nosuch: exit 2" || bad "--man nosuch: exit $st"
"$BIN" --man-pages >/dev/null 2>&1; st=$?
[ $st = 2 ] && echo "ok   --man-pages without a directory: exit 2" || bad "--man-pages: exit $st"
"$BIN" --man-pages "$T/no/such" >/dev/null 2>"$T/err"; st=$?
[ $st = 1 ] && grep -q "no/such/metapool" "$T/err" && echo "ok   --man-pages unwritable: exit 1" || bad "--man-pages unwritable: exit $st"
# --version: the version, the git revision when built from a checkout
v=$("$BIN" --version | head -1)
echo "$v" | grep -qE '^metapool [0-9]+\.[0-9]+\.[0-9]+( \(git [0-9a-z.-]+\))?$' && echo "ok   --version: $v" || bad "--version: $v"
if git -C "$SRC" rev-parse --git-dir >/dev/null 2>&1; then
    echo "$v" | grep -q "(git " && echo "ok   --version names the git revision" || bad "--version without the git revision in a checkout"
fi
exit $fail
