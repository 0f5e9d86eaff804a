/* src/cli/gosh_mpi.c - `mpirun -n N metapool gosh`: the subsets split across processes, one result.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Each process (rank) runs part `rank` of `nranks` of the subsets
 * (mp_gosh_opts part/parts: contiguous chunks, so the parts in rank order
 * are the chunks in order), and rank 0 merges the partial summaries into
 * what one process computes, bit for bit: integer counts, histograms and
 * grids add (MPI_Reduce), extremes combine (MIN/MAX), kept values are
 * gathered (quantiles by selection do not depend on their order), and the
 * per-study sums are added chunk by chunk in chunk order from the parts'
 * per-chunk sums (mp_gosh_summary_chunk_sums), as the one-process run
 * adds them.  Rank 0 then writes the output; the others write nothing
 * (their standard output and error go to /dev/null) and all exit with
 * rank 0's status. */
#include "cli.h"
#include "metapool/gosh.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef MP_HAVE_MPI

int gosh_mpi_begin(int *rank, int *nranks)
{
    *rank = 0;
    *nranks = 1;
    return 0;
}
mp_status gosh_mpi_run(const double *y, const double *v, size_t k, mp_gosh_opts *o,
                       mp_gosh_result *res)
{
    return mp_gosh_run(y, v, k, o, res);
}
int gosh_mpi_end(int status) { return status; }

#else

#include <mpi.h>

static int g_active, g_rank, g_nranks;

int gosh_mpi_begin(int *rank, int *nranks)
{
    *rank = 0;
    *nranks = 1;
    if (cli_mpi_world(NULL, NULL) <= 1) return 0;
    MPI_Init(NULL, NULL);
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_nranks);
    g_active = 1;
    if (g_rank != 0) { /* one voice: rank 0's */
        if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr)) {
            /* nothing better to do: the output would only be doubled */
        }
    }
    *rank = g_rank;
    *nranks = g_nranks;
    return 1;
}

/* Gather n_r items of `type` from every rank to rank 0 (into *out,
 * malloc'd there); returns the total on rank 0. */
static int gather(const void *mine, int n, MPI_Datatype type, size_t size, void **out, long long *total)
{
    int *cnt = NULL, *dis = NULL, bad = 0;
    if (g_rank == 0) {
        cnt = calloc((size_t)g_nranks, sizeof *cnt);
        dis = calloc((size_t)g_nranks, sizeof *dis);
        bad = !cnt || !dis;
    }
    MPI_Gather(&n, 1, MPI_INT, cnt, 1, MPI_INT, 0, MPI_COMM_WORLD);
    long long t = 0;
    if (g_rank == 0 && !bad) {
        for (int r = 0; r < g_nranks; r++) {
            dis[r] = (int)t;
            t += cnt[r];
        }
        bad = t > 0x7fffffffLL;
        *out = bad ? NULL : malloc((size_t)(t ? t : 1) * size);
        bad = bad || !*out;
    }
    MPI_Bcast(&bad, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (!bad) MPI_Gatherv(mine, n, type, g_rank == 0 ? *out : NULL, cnt, dis, type, 0, MPI_COMM_WORLD);
    free(cnt);
    free(dis);
    *total = t;
    return bad;
}

static void sum_u64(uint64_t *x, size_t n)
{
    if (n == 0 || !x) return;
    MPI_Reduce(g_rank == 0 ? MPI_IN_PLACE : x, x, (int)n, MPI_UINT64_T, MPI_SUM, 0, MPI_COMM_WORLD);
}

mp_status gosh_mpi_run(const double *y, const double *v, size_t k, mp_gosh_opts *o,
                       mp_gosh_result *res)
{
    if (!g_active) return mp_gosh_run(y, v, k, o, res);
    o->part = (size_t)g_rank;
    o->parts = (size_t)g_nranks;
    mp_status s = mp_gosh_run(y, v, k, o, res);
    int mine = (int)s, worst = 0, best = 0;
    MPI_Allreduce(&mine, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    MPI_Allreduce(&mine, &best, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (worst != MP_OK || best != MP_OK) return (mp_status)(worst != MP_OK ? worst : best);
    mp_gosh_summary *S = &res->sum;
    uint64_t sc[4] = {S->n, S->failed, S->i2_zero, res->subsets};
    sum_u64(sc, 4);
    double mn[2] = {S->est_min, S->i2_min}, mx[2] = {S->est_max, S->i2_max};
    MPI_Reduce(g_rank == 0 ? MPI_IN_PLACE : mn, mn, 2, MPI_DOUBLE, MPI_MIN, 0, MPI_COMM_WORLD);
    MPI_Reduce(g_rank == 0 ? MPI_IN_PLACE : mx, mx, 2, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
    sum_u64(S->n_with, k);
    sum_u64(S->n_without, k);
    if (!S->exact) {
        sum_u64(S->est_hist, S->bins);
        sum_u64(S->i2_hist, S->bins);
    }
    if (S->grid) sum_u64(S->grid, S->nx * S->ny);
    if (S->grid_hl) sum_u64(S->grid_hl, S->nx * S->ny);
    int bad = 0;
    double *ev = NULL, *iv = NULL, *cs = NULL;
    long long nv = 0, nc = 0;
    if (S->exact) {
        /* a part without a fitted subset was not compacted: its slots are
         * NaN, dropped when rank 0 summarises */
        bad |= gather(S->est_vals, (int)S->nvals, MPI_DOUBLE, sizeof(double), (void **)&ev, &nv);
        if (!bad) bad |= gather(S->i2_vals, (int)S->nvals, MPI_DOUBLE, sizeof(double), (void **)&iv, &nv);
    }
    if (!bad)
        bad |= gather(res->chunk_sums, (int)(res->nchunk * k * 4), MPI_DOUBLE, sizeof(double),
                      (void **)&cs, &nc);
    s = bad ? MP_ENOMEM : MP_OK;
    if (g_rank == 0 && s == MP_OK) {
        S->n = sc[0];
        S->failed = sc[1];
        S->i2_zero = sc[2];
        res->subsets = sc[3];
        res->failed = sc[1];
        S->est_min = mn[0];
        S->i2_min = mn[1];
        S->est_max = mx[0];
        S->i2_max = mx[1];
        if (S->exact) {
            free(S->est_vals);
            free(S->i2_vals);
            S->est_vals = ev;
            S->i2_vals = iv;
            S->nvals = S->mvals = (uint64_t)nv;
            ev = iv = NULL;
        }
        s = mp_gosh_summary_chunk_sums(S, cs, (uint64_t)nc / (k * 4));
        if (s == MP_OK) s = S->n ? mp_gosh_summarise(S, res) : MP_ETOOFEW;
    }
    free(ev);
    free(iv);
    free(cs);
    mine = (int)s;
    MPI_Bcast(&mine, 1, MPI_INT, 0, MPI_COMM_WORLD);
    return (mp_status)mine;
}

int gosh_mpi_end(int status)
{
    if (!g_active) return status;
    MPI_Bcast(&status, 1, MPI_INT, 0, MPI_COMM_WORLD);
    MPI_Finalize();
    g_active = 0;
    return status;
}

#endif /* MP_HAVE_MPI */
