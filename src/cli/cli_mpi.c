/* src/cli/cli_mpi.c - started by an MPI launcher? Say so when this build or command cannot share the work.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * mpirun starts N copies of the program.  A copy that does not talk MPI
 * would do all the work and write all the output N times over, so every
 * build looks at the variables launchers set for their processes (Open
 * MPI: OMPI_COMM_WORLD_SIZE/RANK; MPICH, Intel MPI and other PMI-1/2
 * launchers: PMI_SIZE/RANK; MVAPICH2: MV2_COMM_WORLD_SIZE/RANK) before
 * anything else runs, without linking MPI. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static long env_long(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v) return -1;
    char *end;
    long x = strtol(v, &end, 10);
    return *end == '\0' && x >= 0 ? x : -1;
}

long cli_mpi_world(long *rank, const char **var)
{
    static const char *const vars[][2] = {{"OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK"},
                                          {"PMI_SIZE", "PMI_RANK"},
                                          {"MV2_COMM_WORLD_SIZE", "MV2_COMM_WORLD_RANK"}};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        long n = env_long(vars[i][0]);
        if (n < 1) continue;
        long r = env_long(vars[i][1]);
        if (rank) *rank = r < 0 ? 0 : r;
        if (var) *var = vars[i][0];
        return n;
    }
    if (rank) *rank = 0;
    if (var) *var = NULL;
    return 0;
}

int cli_mpi_guard(const char *cmd)
{
    long rank;
    const char *var;
    long n = cli_mpi_world(&rank, &var);
    if (n <= 1) return 0;
#ifdef MP_HAVE_MPI
    if (strcmp(cmd, "batch") == 0 || strcmp(cmd, "gosh") == 0) return 0;
    if (rank == 0)
        cli_errorf(cmd,
                   "started as %ld MPI processes (%s=%ld), but only batch and gosh share their "
                   "work under MPI: run it as one process",
                   n, var, n);
#else
    if (rank == 0)
        cli_errorf(cmd,
                   "started as %ld MPI processes (%s=%ld), but this metapool was built without "
                   "MPI, so each would do all the work and write the same output: run one "
                   "process, or build with cmake -DMP_MPI=ON",
                   n, var, n);
#endif
    return CLI_USAGE;
}
