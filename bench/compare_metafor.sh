#!/usr/bin/env bash
# bench/compare_metafor.sh - the same random-effects fits in metapool and in R's metafor, timed.
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Usage: bench/compare_metafor.sh [BUILD_DIR]     (BUILD_DIR holds the metapool binary [build])
#
# Writes synthetic CSV files (awk, fixed seed), then fits them
#  - gosh, k = 15: every subset (FE, DL; REML with MP_GOSH_REML=1), metapool
#              gosh vs metafor's gosh() (MP_ONLY=gosh runs only these;
#              MP_ONLY=batch only the k = 9 batch cases below);
#  - k = 9:    NG groups (default 10^6) with `metapool batch` (CSV ingest + REML fits + output,
#              one thread) and the first NR groups with metafor's rma() in R;
#  - k = 1000, 4000, 10000: one analysis each, `metapool batch` on the file vs
#              rma() on the same rows (metafor at k = 10000 only if MP_BIG=1:
#              it takes minutes).
# and prints one JSON line per case with both times per fit and the ratio
# metafor / metapool ("speedup"), and the largest relative difference of
# the REML estimate and tau2 over the fits both programs did (a check that
# the fits are the same: |difference| / max(|metafor's value|, 1); metafor
# stops at its default threshold, 1e-5 on tau2, so expect up to ~1e-5).  metapool's times include process start and CSV
# parsing, so the ratio is conservative.  Timings are wall-clock.
# If Rscript or metafor is missing, says so (one JSON line, "skipped") and
# exits 0: on Debian, `apt-get install r-cran-metafor` provides both.
set -eu
BUILD=${1:-build}
BIN=$BUILD/metapool
NG=${NG:-1000000}  # k = 9 groups for metapool (9e6 rows, 240 MB)
NR=${NR:-300}      # k = 9 groups for metafor (about 6 ms each)
if [ ! -x "$BIN" ]; then
    echo "compare_metafor.sh: no metapool binary at $BIN (give the build directory)" >&2
    exit 2
fi
if ! command -v Rscript >/dev/null 2>&1 ||
   ! Rscript -e 'suppressPackageStartupMessages(library(metafor))' >/dev/null 2>&1; then
    echo '{"bench": "compare_metafor", "skipped": "Rscript with the metafor package is not installed (Debian: apt-get install r-cran-metafor)"}'
    exit 0
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
now() { date +%s.%N; }

# y = mu_g + u + e, u ~ N(0, 0.05), e ~ N(0, v), v ~ U(0.01, 0.3); Box-Muller.
gen() { # groups k seed
    awk -v G="$1" -v K="$2" -v S="$3" 'function n01() { return sqrt(-2 * log(1 - rand())) * cos(6.283185307179586 * rand()) }
    BEGIN { srand(S); print "gene,yi,vi";
      for (g = 0; g < G; g++) { mu = 0.3 * n01();
        for (i = 0; i < K; i++) { v = 0.01 + 0.29 * rand(); printf "g%d,%.8f,%.8f\n", g, mu + sqrt(0.05) * n01() + sqrt(v) * n01(), v } } }'
}

case_run() { # name k groups_metapool groups_metafor file [threads]
    local name=$1 k=$2 ng=$3 nr=$4 f=$5 th=${6:-1}
    local t0 t1
    t0=$(now)
    "$BIN" batch --group gene --method REML --threads "$th" "$f" >"$T/mp.csv" 2>"$T/mp.err" || true
    t1=$(now)
    local mp_s
    mp_s=$(echo "$t1 - $t0" | bc -l)
    Rscript - "$f" "$nr" "$T/mp.csv" "$mp_s" "$ng" "$k" "$name" <<'R'
suppressPackageStartupMessages(library(metafor))
a <- commandArgs(trailingOnly = TRUE)
d <- read.csv(a[1]); nr <- as.integer(a[2]); mp <- read.csv(a[3])
mp_s <- as.numeric(a[4]); ng <- as.integer(a[5]); k <- as.integer(a[6])
first <- unique(d$gene)[seq_len(nr)]
d <- d[d$gene %in% first, ]
sp <- split(d[, c("yi", "vi")], factor(d$gene, levels = first))
est <- tau2 <- numeric(nr)
t <- system.time(for (i in seq_len(nr)) {
  f <- tryCatch(rma(sp[[i]]$yi, sp[[i]]$vi, method = "REML", control = list(maxiter = 1000)),
                error = function(e) NULL)  # metafor's Fisher scoring may not converge
  est[i] <- if (is.null(f)) NA else f$b[1]; tau2[i] <- if (is.null(f)) NA else f$tau2
})[["elapsed"]]
m <- mp[match(names(sp), mp$group), ]
# |difference| relative to max(|metafor|, 1): estimates near 0 and tau2 at
# the boundary would make a plain relative difference meaningless
rel <- function(x, y) max(abs(x - y) / pmax(abs(y), 1), na.rm = TRUE)
mf_ns <- 1e9 * t / nr; mp_ns <- 1e9 * mp_s / ng
cat(sprintf('{"bench": "compare_metafor", "case": "%s", "method": "REML", "k": %d, "metapool_analyses": %d, "metafor_analyses": %d, "metapool_ns_per_fit": %.6g, "metafor_ns_per_fit": %.6g, "speedup": %.6g, "metafor_failed": %d, "max_diff_estimate": %.3g, "max_diff_tau2": %.3g, "metafor_version": "%s"}\n',
            a[7], k, ng, nr, mp_ns, mf_ns, mf_ns / mp_ns, sum(is.na(est)), rel(m$estimate, est), rel(m$tau2, tau2),
            as.character(packageVersion("metafor"))))
R
}

# GOSH (issue 16): every subset of the same k = 15 studies in metapool and in
# metafor's gosh() (FE and DL; REML in metafor only with MP_GOSH_REML=1: it
# takes minutes), times and the largest difference of the summaries.
gosh_case() { # method
    local m=$1 t0 t1
    gen 1 15 16 | awk -F, 'NR == 1 { print "study,yi,vi"; next } { print "S" NR - 1 "," $2 "," $3 }' >"$T/g15.csv"
    t0=$(now)
    "$BIN" gosh "$T/g15.csv" --method "$m" --format json >"$T/g15.json" 2>/dev/null || true
    t1=$(now)
    Rscript - "$T/g15.csv" "$m" "$T/g15.json" "$(echo "$t1 - $t0" | bc -l)" <<'R'
suppressMessages(library(metafor))
a <- commandArgs(trailingOnly = TRUE)
d <- read.csv(a[1]); m <- a[2]; mp_s <- as.numeric(a[4])
j <- jsonlite_ok <- requireNamespace("jsonlite", quietly = TRUE)
fit <- rma(yi, vi, data = d, method = m)
t <- system.time(g <- gosh(fit, progbar = FALSE))[["elapsed"]]
# metafor's REML fits fail on some subsets (NA rows, its default control):
# the quantiles are over the fitted ones, as metapool's (its "failed" count)
q <- quantile(g$res$estimate, c(.05, .5, .95), type = 7, na.rm = TRUE)
nna <- sum(is.na(g$res$estimate))
diff <- NA; mpf <- NA
if (jsonlite_ok) {
  mp <- jsonlite::fromJSON(a[3])
  diff <- max(abs(c(mp$estimate$q05, mp$estimate$median, mp$estimate$q95) - q))
  mpf <- mp$failed
}
n <- nrow(g$res)
cat(sprintf('{"bench": "compare_metafor", "case": "gosh_k15", "method": "%s", "k": 15, "subsets": %d, "metapool_seconds": %.6g, "metafor_seconds": %.6g, "speedup": %.6g, "max_diff_quantiles": %s, "metafor_failed": %d, "metapool_failed": %s, "metafor_version": "%s"}\n',
            m, n, mp_s, t, t / mp_s, if (is.na(diff)) "null" else sprintf("%.3g", diff), nna,
            if (is.na(mpf)) "null" else as.character(mpf), as.character(packageVersion("metafor"))))
R
}
if [ "${MP_ONLY:-}" != batch ]; then
    gosh_case FE
    gosh_case DL
    if [ "${MP_GOSH_REML:-0}" = 1 ]; then gosh_case REML; fi
fi
if [ "${MP_ONLY:-}" = gosh ]; then exit 0; fi

gen "$NG" 9 1 >"$T/k9.csv"
case_run "batch_k9" 9 "$NG" "$NR" "$T/k9.csv" | tee "$T/k9.json"
# the same command on two threads, and with --sorted (the file is sorted by
# group: parsing overlaps fitting), against the metafor time just measured:
# RUNS runs each (default 5), the output to a new file as users write it
# (the previous run's output is removed before the clock starts: truncating
# a 280 MB file the shell reopens costs the filesystem 60-80 ms here, which
# is no part of the analysis); the JSON line gives the median and the best run and the analyses per second
# of each (issue 19's target: 1e6 per second on 2 cores).
RUNS=${RUNS:-5}
for mode in "" "--sorted"; do
    times=""
    for r in $(seq "$RUNS"); do
        rm -f "$T/mp2.csv"
        t0=$(now)
        "$BIN" batch --group gene --method REML --threads 2 $mode "$T/k9.csv" >"$T/mp2.csv" 2>/dev/null || true
        t1=$(now)
        times="$times $(echo "$t1 - $t0" | bc -l)"
    done
    cmp -s "$T/mp.csv" "$T/mp2.csv" || echo "compare_metafor.sh: batch --threads 2 $mode output differs from one thread" >&2
    python3 -c '
import json, sys, statistics
mf = json.load(open(sys.argv[1]))["metafor_ns_per_fit"]
ts = sorted(float(t) for t in sys.argv[2].split())
n = int(sys.argv[3]); med = statistics.median(ts); best = ts[0]
case = "batch_k9_2threads" + ("_sorted" if sys.argv[4] else "")
print(json.dumps({"bench": "compare_metafor", "case": case, "method": "REML", "k": 9, "threads": 2,
                  "analyses": n, "runs": len(ts), "seconds_median": med, "seconds_best": best,
                  "analyses_per_s_median": n / med, "analyses_per_s_best": n / best,
                  "metapool_ns_per_fit": 1e9 * med / n, "metafor_ns_per_fit": mf,
                  "speedup": mf / (1e9 * med / n)}))' \
        "$T/k9.json" "$times" "$NG" "$mode"
done
if [ "${MP_ONLY:-}" = batch ]; then exit 0; fi
# The library path without the CSV output: metapool-bench's batch_csv and
# batch_pipe cases (a million rows, k = 9, --sorted: ingest + REML fits;
# batch_pipe parses the next block while fitting), set against the metafor
# time per fit measured just above.
if [ -x "$BUILD/metapool-bench" ]; then
    for th in 1 2; do
        "$BUILD/metapool-bench" --only batch --threads $th | grep '"sorted": 1' | python3 -c '
import json, sys
mf = json.load(open(sys.argv[1]))["metafor_ns_per_fit"]
for line in sys.stdin:
    b = json.loads(line)
    print(json.dumps({"bench": "compare_metafor", "case": b["bench"] + "_library", "method": "REML", "k": 9,
                      "threads": b["threads"], "metapool_ns_per_fit": b["ns_per_fit"],
                      "metapool_cpu_ns_per_fit": b["cpu_ns_per_fit"], "metafor_ns_per_fit": mf,
                      "speedup": mf / b["ns_per_fit"]}))' "$T/k9.json"
    done
fi
for k in 1000 4000 10000; do
    if [ "$k" = 10000 ] && [ "${MP_BIG:-0}" != 1 ]; then continue; fi
    gen 1 "$k" 7 >"$T/big.csv"
    case_run "single_k$k" "$k" 1 1 "$T/big.csv"
done

# Leave-one-out at k = 1000 (REML): `metapool leave1out` (process start, CSV
# ingest, the 1000 refits, JSON output) against metafor's leave1out(rma(...))
# on the same rows; the largest difference of the refits' estimates and tau2.
# metafor refits 1000 times with k x k matrices (minutes on a quiet machine).
# L1O_REFITS=N times only metafor's first N refits, as leave1out() makes them
# (rma(yi, vi, subset = -i)), and reports the time per refit and the total
# it implies ("metafor_refits_timed" says how many were run).
K1O=${K1O:-1000}
gen 1 "$K1O" 11 >"$T/l1o.csv"
t0=$(now)
"$BIN" leave1out --method REML --format json "$T/l1o.csv" >"$T/l1o.json" 2>"$T/l1o.err" || true
t1=$(now)
Rscript - "$T/l1o.csv" "$T/l1o.json" "$(echo "$t1 - $t0" | bc -l)" "$K1O" "${L1O_REFITS:-0}" <<'R'
suppressPackageStartupMessages(library(metafor))
a <- commandArgs(trailingOnly = TRUE)
d <- read.csv(a[1]); mp_s <- as.numeric(a[3]); k <- as.integer(a[4]); nref <- as.integer(a[5])
txt <- paste(readLines(a[2]), collapse = "\n")
# the rows' "estimate" and "tau2", in order (no JSON package needed)
grab <- function(key) as.numeric(sub(sprintf('"%s": ', key), "",
                                     regmatches(txt, gregexpr(sprintf('"%s": [^,}]+', key), txt))[[1]]))
est_mp <- grab("estimate")[-1]; tau2_mp <- grab("tau2")[-1]   # the first is the full fit's
if (nref <= 0 || nref >= k) {
  nref <- k
  t <- system.time(l <- leave1out(rma(yi, vi, data = d, method = "REML")))[["elapsed"]]
  est_mf <- l$estimate; tau2_mf <- l$tau2
} else {
  est_mf <- tau2_mf <- rep(NA_real_, k)
  t <- system.time(for (i in seq_len(nref)) {
    f <- rma(yi, vi, data = d, method = "REML", subset = -i)
    est_mf[i] <- f$b[1]; tau2_mf[i] <- f$tau2
  })[["elapsed"]] * k / nref
}
rel <- function(x, y) max(abs(x - y) / pmax(abs(y), 1), na.rm = TRUE)
cat(sprintf('{"bench": "compare_metafor", "case": "leave1out_k%d", "method": "REML", "k": %d, "refits": %d, "metafor_refits_timed": %d, "metapool_seconds": %.6g, "metafor_seconds": %.6g, "metapool_ns_per_fit": %.6g, "metafor_ns_per_fit": %.6g, "speedup": %.6g, "max_diff_estimate": %.3g, "max_diff_tau2": %.3g, "metafor_version": "%s"}\n',
            k, k, k, nref, mp_s, t, 1e9 * mp_s / k, 1e9 * t / k, t / mp_s, rel(est_mp, est_mf), rel(tau2_mp, tau2_mf),
            as.character(packageVersion("metafor"))))
R
