#!/usr/bin/env bash
# tests/cli/traj_dense.sh - trajectory fits checked by an independent dense computation in pure Python.
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Usage: bash traj_dense.sh METAPOOL SOURCE_DIR   (run by CTest; skipped without python3)
# For structures and models without a metafor reference file, the script
# below rebuilds the full k x k marginal covariance M = V + Z G Z' from
# metafor's definitions (vcalc: phi^|t1-t2| sqrt(v1 v2) within a study; G of
# CS/HCS/AR/HAR/CAR/ID/INT as in metafor's .process.G) with no study blocks,
# and evaluates the REML log-likelihood with REMLf = TRUE by its own dense
# Cholesky.  At our reported (tau2, rho) it must give our logLik (1e-10
# relative) and our coefficients (1e-9), and no perturbation of a variance
# parameter by +-1e-3 on metafor's unconstrained scale may raise it (we claim
# the REML optimum).
set -u
BIN=$1
SRC=$2
command -v python3 >/dev/null || { echo "python3 not found: skipped"; exit 0; }
exec python3 - "$BIN" "$SRC/tests/reference/data/ishak2007_long.csv" <<'PY'
import csv, json, math, subprocess, sys
BIN, F = sys.argv[1], sys.argv[2]
rows = list(csv.DictReader(open(F)))

def chol(A):
    n = len(A); L = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1):
            s = A[i][j] - sum(L[i][k] * L[j][k] for k in range(j))
            if i == j:
                if s <= 0: raise ValueError("not positive definite")
                L[i][i] = math.sqrt(s)
            else:
                L[i][j] = s / L[j][j]
    return L

def solve(L, b):
    n = len(L); y = [0.0] * n
    for i in range(n): y[i] = (b[i] - sum(L[i][k] * y[k] for k in range(i))) / L[i][i]
    x = [0.0] * n
    for i in reversed(range(n)): x[i] = (y[i] - sum(L[k][i] * x[k] for k in range(i + 1, n))) / L[i][i]
    return x

def logdet(L): return 2 * sum(math.log(L[i][i]) for i in range(len(L)))

def design(model, t, ut):
    if model == "factor": return [1.0 if t == u else 0.0 for u in ut]
    u = math.log(t)
    return [1.0, u] if model == "loglinear" else [1.0, u, u * u]

def reml(tcol, model, struct, phi, tau2, rho):
    y = [float(r["yi"]) for r in rows]; v = [float(r["vi"]) for r in rows]
    t = [float(r[tcol]) for r in rows]; st = [r["study"] for r in rows]
    ut = sorted(set(t)); k = len(y); lev = [ut.index(x) for x in t]
    X = [design(model, x, ut) for x in t]; p = len(X[0])
    M = [[0.0] * k for _ in range(k)]
    for i in range(k):
        for j in range(k):
            if st[i] != st[j]: continue
            a, b = lev[i], lev[j]
            V = v[i] if i == j else (phi ** abs(t[i] - t[j]) if phi > 0 else 0.0) * math.sqrt(v[i] * v[j])
            if struct == "INT": g = tau2[0]
            elif struct == "ID": g = tau2[0] if a == b else 0.0
            else:
                s = math.sqrt(tau2[a] * tau2[b]) if struct in ("HCS", "HAR") else tau2[0]
                d = {"CS": 1, "HCS": 1, "AR": abs(a - b), "HAR": abs(a - b), "CAR": abs(ut[a] - ut[b])}[struct]
                g = s * (1.0 if a == b else rho ** d)
            M[i][j] = V + g
    L = chol(M)
    MX = [solve(L, [X[i][c] for i in range(k)]) for c in range(p)]
    My = solve(L, y)
    A = [[sum(X[i][r] * MX[c][i] for i in range(k)) for c in range(p)] for r in range(p)]
    LA = chol(A); beta = solve(LA, [sum(X[i][r] * My[i] for i in range(k)) for r in range(p)])
    res = [y[i] - sum(X[i][c] * beta[c] for c in range(p)) for i in range(k)]
    rss = sum(a * b for a, b in zip(res, solve(L, res)))
    XX = [[sum(X[i][r] * X[i][c] for i in range(k)) for c in range(p)] for r in range(p)]
    return (-0.5 * (k - p) * math.log(2 * math.pi) + 0.5 * logdet(chol(XX)) - 0.5 * logdet(L)
            - 0.5 * logdet(LA) - 0.5 * rss), beta

fails = 0
cases = [("time", "factor", "HCS"), ("time", "factor", "HAR"), ("months", "factor", "CAR"),
         ("time", "factor", "INT"), ("time", "factor", "ID"), ("months", "loglinear", "CAR"),
         ("months", "quadratic", "AR"), ("months", "loglinear", "INT"), ("months", "factor", "HCS")]
for tcol, model, struct in cases:
    phi = 0.97
    p = subprocess.run([BIN, "trajectory", F, "--time", tcol, "--model", model, "--struct", struct,
                        "--phi", str(phi), "--format", "json"], capture_output=True, text=True)
    tag = "%s %s %s" % (struct, model, tcol)
    if p.returncode != 0: print("FAIL:", tag, p.stderr.strip()); fails += 1; continue
    j = json.loads(p.stdout)
    tau2 = j["tau2"]; rho = j["rho"] if j["rho"] is not None else 0.0
    l0, beta = reml(tcol, model, struct, phi, tau2, rho)
    bad = []
    if abs(j["logLik"] - l0) > 1e-10 * abs(l0): bad.append("logLik %r vs dense %r" % (j["logLik"], l0))
    if any(abs(c["estimate"] - b) > 1e-9 * max(1, abs(b)) for c, b in zip(j["coef"], beta)): bad.append("coef")
    for q in range(len(tau2) + (1 if j["rho"] is not None else 0)):
        for h in (1e-3, -1e-3):
            t2 = list(tau2); r = rho
            if q < len(tau2): t2[q] = tau2[q] * math.exp(h)
            elif struct == "CAR": r = 1 / (1 + math.exp(-(math.log(rho / (1 - rho)) + h)))
            else: r = math.tanh(math.atanh(rho) + h)
            try: l1, _ = reml(tcol, model, struct, phi, t2, r)
            except ValueError: continue
            if l1 > l0 + 1e-12 * abs(l0): bad.append("parameter %d moved by %g raises logLik by %.3g" % (q, h, l1 - l0))
    if bad: print("FAIL:", tag, "; ".join(bad)); fails += 1
print("%d cases, %d failed" % (len(cases), fails))
sys.exit(1 if fails else 0)
PY
