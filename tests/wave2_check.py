#!/usr/bin/env python3
# tests/wave2_check.py - run metapool on reference cases (JSON) and compare with metafor's numbers.
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Usage: wave2_check.py METAPOOL CASES.json [CASES.json ...]

Each CASES.json holds {"cases": [{"id", "args", "expected", "optional"?,
"match_by"?, "unordered"?, "fallback"?}]} as made by the R scripts named in
tests/reference/wave2/README.md.  For each case the command line `args` is
run with `--format json` added ('@data/x.csv' is resolved against the JSON's
folder, '{out}' replaced by a temporary file) and every key under "expected"
must agree: numbers to 1e-6 relative plus 1e-9 absolute, strings and booleans
exactly, null equal to null, an absent key or NaN.  Keys under "optional"
are compared only where the output has them.  Lists are compared item by
item, or matched on a key (match_by) or as sets (unordered).  A key listed
in "fallback" may also be found in the output's "fixed" object.

Prints one line per disagreement and 'N passed, N failed' at the end; exit
status 0 only when every case agrees."""
import json
import math
import os
import subprocess
import sys
import tempfile

RTOL, ATOL = 1e-6, 1e-9


def is_null(x):
    return x is None or (isinstance(x, float) and math.isnan(x))


def num_close(got, want):
    if isinstance(got, bool) or not isinstance(got, (int, float)):
        return False
    if math.isinf(want) or math.isinf(got):
        return got == want
    return abs(got - want) <= RTOL * abs(want) + ATOL


def compare(got, want, path, errs, opts, optional=False):
    """Append to errs a message per disagreement of got with want at path."""
    if is_null(want):
        if not is_null(got):
            errs.append("%s = %r (want null)" % (path, got))
        return
    if isinstance(want, bool) or isinstance(want, str):
        if got != want:
            errs.append("%s = %r (want %r)" % (path, got, want))
        return
    if isinstance(want, (int, float)):
        if got is None or not num_close(got, float(want)):
            errs.append("%s = %r (want %.10g)" % (path, got, want))
        return
    if isinstance(want, dict):
        if not isinstance(got, dict):
            errs.append("%s: not an object" % path)
            return
        for key, w in want.items():
            g = got.get(key)
            if key not in got and key in opts.get("fallback", ()) and isinstance(got.get("fixed"), dict):
                g = got["fixed"].get(key)
                if key not in got["fixed"] and optional:
                    continue
            elif key not in got and optional:
                continue
            compare(g, w, "%s.%s" % (path, key) if path else key, errs, opts, optional)
        return
    if isinstance(want, list):
        if not isinstance(got, list):
            errs.append("%s: not a list" % path)
            return
        name = path.split(".")[-1]
        by = opts.get("match_by", {}).get(name)
        if by:
            index = {str(g.get(by)): g for g in got if isinstance(g, dict)}
            for w in want:
                g = index.get(str(w.get(by)))
                if g is None:
                    if not optional:
                        errs.append("%s: no item with %s = %r" % (path, by, w.get(by)))
                    continue
                compare(g, w, "%s[%s=%s]" % (path, by, w.get(by)), errs, opts, optional)
            return
        if name in opts.get("unordered", ()):
            left = list(got)
            for w in want:
                hit = None
                for i, g in enumerate(left):
                    e = []
                    compare(g, w, path, e, opts, optional)
                    if not e:
                        hit = i
                        break
                if hit is None:
                    errs.append("%s: no item matches %r" % (path, w))
                else:
                    left.pop(hit)
            return
        if len(got) != len(want):
            errs.append("%s: %d items (want %d)" % (path, len(got), len(want)))
            return
        for i, (g, w) in enumerate(zip(got, want)):
            compare(g, w, "%s[%d]" % (path, i), errs, opts, optional)
        return
    errs.append("%s: cannot compare %r" % (path, want))


def run_case(binary, folder, case, tmp):
    args = []
    out = os.path.join(tmp, "out_%s" % case["id"])
    for a in case["args"]:
        if a.startswith("@"):
            a = os.path.join(folder, a[1:])
        args.append(a.replace("{out}", out))
    p = subprocess.run([binary] + args + ["--format", "json"], capture_output=True, text=True)
    if p.returncode != 0:
        return ["command failed (exit %d): %s" % (p.returncode, p.stderr.strip()[:300])]
    try:
        got = json.loads(p.stdout)
    except ValueError as e:
        return ["output is not JSON: %s" % e]
    opts = {"match_by": case.get("match_by", {}), "unordered": case.get("unordered", []),
            "fallback": case.get("fallback", [])}
    if isinstance(opts["fallback"], str):
        opts["fallback"] = [opts["fallback"]]
    if opts["fallback"] == ["fixed"]:  # any key may sit in the fixed object
        opts["fallback"] = list(case.get("expected", {}).keys())
    errs = []
    compare(got, case["expected"], "", errs, opts)
    if case.get("optional"):
        compare(got, case["optional"], "", errs, opts, optional=True)
    return errs


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    binary = sys.argv[1]
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for f in sys.argv[2:]:
            with open(f) as fh:
                doc = json.load(fh)
            folder = os.path.dirname(os.path.abspath(f))
            for case in doc["cases"]:
                errs = run_case(binary, folder, case, tmp)
                if errs:
                    failed += 1
                    print("FAIL %s %s: %s" % (os.path.basename(f), case["id"], "; ".join(errs[:6])))
                else:
                    passed += 1
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(0 if failed == 0 and passed > 0 else 1)


if __name__ == "__main__":
    main()
