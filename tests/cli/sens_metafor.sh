#!/usr/bin/env bash
# tests/cli/sens_metafor.sh - `leave1out`, `cumul`, `influence` JSON against the metafor oracles.
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Usage: bash sens_metafor.sh METAPOOL SOURCE_DIR   (run by CTest)
#
# Every case of tests/reference/sensitivity/expected_{leave1out,cumul,influence}.csv
# (R metafor 3.8-1, gen.R beside them) is run through the command line with
# --format json and compared key by key: 1e-6 relative plus 1e-9 absolute,
# `influential` and the study labels exactly.  The cases listed in KNOWN hit
# a bimodal ML likelihood that mp_pool/mp_reg_fit on main do not yet resolve
# as metafor does (issue 11; see tests/test_sensitivity.c): their mismatches
# are printed as KNOWN and not counted.
set -u
BIN=$1; SRC=$2
python3 - "$BIN" "$SRC/tests/reference/sensitivity" <<'PY'
import csv, json, math, subprocess, sys, collections
BIN, REF = sys.argv[1], sys.argv[2]
KNOWN = {"bcg_ML_z_year", "bcg_ML_knha_year", "bcg_ablat+year_ML_z", "bcg_ablat+year_ML_knha"}
def close(got, want):
    if want is None or (isinstance(want, float) and math.isnan(want)):
        return got is None
    if got is None: return False
    return abs(got - want) <= 1e-6 * abs(want) + 1e-9
def num(s):
    return None if s == "NA" else float(s)
def cases(name):
    d = collections.OrderedDict()
    with open(f"{REF}/expected_{name}.csv", newline="") as f:
        for row in csv.DictReader(f):
            d.setdefault(row["case"], []).append(row)
    return d
def run(args):
    p = subprocess.run([BIN] + args + ["--format", "json"], capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"exit {p.returncode}: {' '.join(args)}\n{p.stderr}")
    return json.loads(p.stdout)
bad = known = n = ncase = 0
def report(case, msg):
    global bad, known
    if case in KNOWN:
        known += 1
    else:
        bad += 1
        if bad <= 30: print(f"FAIL {case}: {msg}")
keys = ["estimate", "se", "stat", "pval", "ci_lb", "ci_ub", "Q", "Q_pval", "tau2", "I2", "H2"]
for kind in ("leave1out", "cumul"):
    for case, rows in cases(kind).items():
        r0 = rows[0]
        args = [kind, f"{REF}/d_{r0['data']}.csv", "--method", r0["method"], "--test", r0["test"], "--tol", "1e-13"]
        if kind == "cumul" and r0["order"]:
            args += ["--order", r0["order"]] + (["--decreasing"] if r0["decreasing"] == "1" else [])
        elif kind == "cumul":
            continue  # file order: the library test covers it (the command needs --order)
        out = run(args); ncase += 1
        lab = "omitted" if kind == "leave1out" else "added"
        exp_rows = [r for r in rows if r["row"] != "0"]
        if kind == "leave1out":
            for k in keys:
                n += 1
                if not close(out["full"][k], num(rows[0][k])): report(case, f"full {k} {out['full'][k]} vs {rows[0][k]}")
        if len(out["rows"]) != len(exp_rows): report(case, "row count"); continue
        for got, want in zip(out["rows"], exp_rows):
            if got[lab] != want[lab]: report(case, f"{lab} {got[lab]!r} vs {want[lab]!r}")
            for k in keys:
                n += 1
                if not close(got[k], num(want[k])): report(case, f"row {want['row']} {k} {got[k]} vs {want[k]}")
ikeys = ["rstudent", "dffits", "cook_d", "cov_r", "tau2_del", "QE_del", "hat", "weight", "baujat_x", "baujat_y"]
for case, rows in cases("influence").items():
    r0 = rows[0]
    args = ["influence", f"{REF}/d_{r0['data']}.csv", "--method", r0["method"], "--test", r0["test"], "--tol", "1e-13"]
    if r0["mods"]: args += ["--mods", r0["mods"]]
    out = run(args); ncase += 1
    if len(out["rows"]) != len(rows): report(case, "row count"); continue
    for got, want in zip(out["rows"], rows):
        if got["study"] != want["study"]: report(case, f"study {got['study']!r}")
        for k in ikeys:
            n += 1
            if not close(got[k], num(want[k])): report(case, f"row {want['row']} {k} {got[k]} vs {want[k]}")
        for g, w in zip(got["dfbetas"], want["dfbetas"].split(";")):
            n += 1
            if not close(g, float(w)): report(case, f"row {want['row']} dfbetas {g} vs {w}")
        if got["influential"] != (want["influential"] == "1"): report(case, f"row {want['row']} influential")
print(f"{ncase} cases, {n} values compared; {known} KNOWN (issue 11) mismatches not counted")
if ncase < 450 or n < 70000:
    print("FAIL: fewer cases or values than the oracle files hold"); bad += 1
print("ok" if bad == 0 else f"FAIL: {bad} mismatches")
sys.exit(1 if bad else 0)
PY
