#!/usr/bin/env python3
# bench/mpi_scaling.py - `metapool batch --sorted` as one process and under mpirun -n 1, 2, ...: wall and CPU time.
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Usage: bench/mpi_scaling.py BUILD_DIR [--analyses N] [--ranks 1,2] [--repeat R] [--mpirun-args ARGS]

BUILD_DIR is a build with -DMP_MPI=ON.  Writes a sorted file of N analyses
of k = 9 REML rows (gene,yi,vi; y = mu + u + e as in metapool-bench, fixed
seed), then times `metapool batch FILE --group gene --sorted --output OUT`:
as one process (no launcher), then under `mpirun -n P` for each P in
--ranks with --threads 1 per process (and, for comparison, P = 1 with all
threads).  Every MPI output is compared with the one-process output (cmp).
One JSON object per line: bench, ranks, threads, analyses, bytes, seconds
(wall, best of --repeat), cpu_seconds (user + system of all processes,
mpirun included, of that run), us_per_analysis (wall), same_output.  Ends
with metapool-bench-shares on the file (the passes that cut it)."""
import argparse
import filecmp
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time


def child_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run(cmd):
    c0, w0 = child_cpu(), time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    w, c = time.perf_counter() - w0, child_cpu() - c0
    if p.returncode != 0:
        sys.exit("failed (%d): %s\n%s" % (p.returncode, " ".join(cmd), p.stderr.decode()[-2000:]))
    return w, c


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--analyses", type=int, default=200000)
    ap.add_argument("--ranks", default="1,2")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--mpirun-args", default="", help="extra mpirun arguments, e.g. '--mca mpi_yield_when_idle 1'")
    a = ap.parse_args()
    exe = os.path.join(a.build, "metapool")
    d = tempfile.mkdtemp(prefix="mp-mpi-bench-")
    path = os.path.join(d, "in.csv")
    r = random.Random(1)
    with open(path, "w") as f:
        f.write("gene,yi,vi\n")
        for g in range(a.analyses):
            u = r.gauss(0, 0.05 ** 0.5)
            f.write("".join("g%d,%.6f,%.6f\n" % (g, 0.2 + u + r.gauss(0, v ** 0.5), v)
                            for v in (r.uniform(0.01, 0.3) for _ in range(9))))
    size = os.path.getsize(path)
    ncpu = os.cpu_count() or 1
    base = os.path.join(d, "one.csv")
    runs = [("one_process", 1, ncpu, [exe])]
    for p in [int(x) for x in a.ranks.split(",")]:
        mpirun = ["mpirun", "--oversubscribe", "--allow-run-as-root"] + a.mpirun_args.split() + ["-n", str(p), exe]
        if p == 1:
            runs.append(("mpirun", 1, ncpu, mpirun))
        runs.append(("mpirun", p, 1, mpirun))
    for name, ranks, threads, pre in runs:
        out = base if name == "one_process" else os.path.join(d, "many.csv")
        best = None
        for _ in range(a.repeat):
            w, c = run(pre + ["batch", path, "--group", "gene", "--sorted", "--threads", str(threads),
                              "--output", out])
            if best is None or w < best[0]:
                best = (w, c)
        print(json.dumps({"bench": "mpi_batch_" + name, "ranks": ranks, "threads": threads,
                          "analyses": a.analyses, "bytes": size, "seconds": round(best[0], 4),
                          "cpu_seconds": round(best[1], 4),
                          "us_per_analysis": round(1e6 * best[0] / a.analyses, 3),
                          "same_output": filecmp.cmp(base, out, shallow=False),
                          "mpirun_args": a.mpirun_args if name == "mpirun" else ""}), flush=True)
    sb = os.path.join(a.build, "metapool-bench-shares")
    if os.path.exists(sb):
        sys.stdout.flush()
        subprocess.run([sb, path, "gene", "2"], check=True)
    for f in os.listdir(d):
        os.unlink(os.path.join(d, f))
    os.rmdir(d)


if __name__ == "__main__":
    main()
