#!/usr/bin/env bash
# tests/cli/reg_metafor.sh - `metapool reg` against R metafor 3.8-1 rma(mods=)
# on 25 simulated data sets (k 6..40, a numeric and a 3-level text moderator),
# all 10 estimators, z and knha (500 fits).
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Expected values: tests/reference/metafor_reg/expected.csv, made by gen.R in
# that folder (threshold and tol 1e-14).  Tolerance 1e-6 relative.  R2 is
# compared only where metafor's tau2 exceeds 1e-12: at the boundary metafor's
# Fisher scoring leaves tau2 at ~1e-15 noise in both the model and the
# intercept-only refit, and R2 = 100 (tau2_RE - tau2)/tau2_RE is then a
# ratio of two noise values (our exact 0 gives R2 = 0 by metafor's rule).
set -u
BIN=$1; SRC=$2
python3 - "$BIN" "$SRC/tests/reference/metafor_reg" <<'PY'
import csv, json, subprocess, sys
BIN, REF = sys.argv[1], sys.argv[2]
bad = n = 0
def close(a, b, rtol=1e-6, atol=1e-9): return a is not None and abs(a - b) <= rtol * abs(b) + atol
for r in csv.DictReader(open(REF + "/expected.csv")):
    n += 1
    tag = "%s %s %s %s" % (r["csv"], r["mods"], r["method"], r["test"])
    p = subprocess.run([BIN, "reg", REF + "/" + r["csv"], "--mods", r["mods"], "--method", r["method"],
                        "--test", r["test"], "--format", "json"], capture_output=True, text=True)
    if p.returncode:
        print("FAIL", tag, "exit", p.returncode, p.stderr.strip()[:200]); bad += 1; continue
    j = json.loads(p.stdout)
    msgs = []
    for key, got in (("coef", [c["estimate"] for c in j["coef"]]), ("se", [c["se"] for c in j["coef"]])):
        want = [float(x) for x in r[key].split(";")]
        if len(got) != len(want): msgs.append("%s count %d want %d" % (key, len(got), len(want)))
        msgs += ["%s %.10g want %.10g" % (key, a, b) for a, b in zip(got, want) if not close(a, b)]
    for key, jk in (("tau2", "tau2"), ("tau2_se", "tau2_se"), ("QE", "QE"), ("QM", "QM"),
                    ("QMp", "QM_pval"), ("I2", "I2"), ("H2", "H2"), ("R2", "R2")):
        if r[key] in ("NA", ""): continue
        if key == "R2" and float(r["tau2"]) <= 1e-12: continue
        if not close(j.get(jk), float(r[key]), 1e-6, 1e-8):
            msgs.append("%s %s want %.10g" % (jk, j.get(jk), float(r[key])))
    if msgs: bad += 1; print("FAIL", tag, "; ".join(msgs[:4]))
print("%d of %d fits agree with metafor" % (n - bad, n))
sys.exit(1 if bad or n == 0 else 0)
PY
