#!/usr/bin/env bash
# tests/cli/traj_metafor.sh - `metapool trajectory` against R metafor 3.8-1 rma.mv
# on Ishak 2007 for every structure (INT, CS, HCS, AR, HAR, CAR, ID), the factor
# and log-linear fixed parts, time as rank-like codes or months, phi 0/0.5/0.97.
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Expected values: tests/reference/metafor_traj/expected.csv, made by gen.R in
# that folder (rma.mv, REML, nlminb rel.tol 1e-10).  Tolerances as
# ../shared/tools/check_reference.py: coef 1e-5, se/tau2/rho 1e-4, logLik 1e-7
# (relative); metafor's optimiser stops at rel.tol, ours at the optimum.
set -u
BIN=$1; SRC=$2
python3 - "$BIN" "$SRC" <<'PY'
import csv, json, subprocess, sys
BIN, SRC = sys.argv[1], sys.argv[2]
ref = SRC + "/tests/reference"
bad = n = 0
def close(a, b, rtol, atol): return a is not None and abs(a - b) <= rtol * abs(b) + atol
for r in csv.DictReader(open(ref + "/metafor_traj/expected.csv")):
    n += 1
    tag = "%s %s %s phi=%s" % (r["tcol"], r["model"], r["struct"], r["phi"])
    p = subprocess.run([BIN, "trajectory", ref + "/data/ishak2007_long.csv", "--time", r["tcol"],
                        "--model", r["model"], "--struct", r["struct"], "--phi", r["phi"],
                        "--format", "json"], capture_output=True, text=True)
    if p.returncode:
        print("FAIL", tag, "exit", p.returncode, p.stderr.strip()[:200]); bad += 1; continue
    j = json.loads(p.stdout)
    msgs = []
    want_c = [float(x) for x in r["coef"].split(";")]
    want_s = [float(x) for x in r["se"].split(";")]
    got_c = [c["estimate"] for c in j["coef"]]; got_s = [c["se"] for c in j["coef"]]
    if len(got_c) != len(want_c): msgs.append("coef count %d want %d" % (len(got_c), len(want_c)))
    msgs += ["coef %.10g want %.10g" % (a, b) for a, b in zip(got_c, want_c) if not close(a, b, 1e-5, 1e-8)]
    msgs += ["se %.10g want %.10g" % (a, b) for a, b in zip(got_s, want_s) if not close(a, b, 1e-4, 1e-8)]
    t2 = j["tau2"] if isinstance(j["tau2"], list) else [j["tau2"]]
    wt = [float(x) for x in r["tau2"].split(";")]
    if len(t2) != len(wt) or not all(close(a, b, 1e-4, 1e-6) for a, b in zip(t2, wt)):
        msgs.append("tau2 %s want %s" % (t2, wt))
    if r["rho"] not in ("NA", "") and not close(j.get("rho"), float(r["rho"]), 1e-4, 1e-6):
        msgs.append("rho %s want %s" % (j.get("rho"), r["rho"]))
    if not close(j["logLik"], float(r["logLik"]), 1e-7, 0):
        msgs.append("logLik %.12g want %.12g" % (j["logLik"], float(r["logLik"])))
    if msgs: bad += 1; print("FAIL", tag, "; ".join(msgs[:4]))
    else: print("ok  ", tag)
print("%d of %d fits agree with metafor" % (n - bad, n))
sys.exit(1 if bad or n == 0 else 0)
PY
