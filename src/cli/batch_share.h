/* src/cli/batch_share.h - the --sorted batch loop over one reader, shared by the one-process and MPI drivers.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A reader (the whole file, or one share of it: batch.h) is read block by
 * block, fitted and formatted; the CSV rows go to a sink (a FILE or
 * memory) and the warnings are printed or kept, in an order that does not
 * depend on where blocks or shares end: by line, a row's own warnings
 * before the warning of a group that starts at that row. */
#ifndef MP_CLI_BATCH_SHARE_H
#define MP_CLI_BATCH_SHARE_H

#include "cli.h"
#include "metapool/batch.h"

#include <stdio.h>

/* Warnings shown before "... and N more warnings not shown". */
#define BATCH_WARN_SHOWN 100

#define BATCH_CSV_HEADER "group,k,estimate,se,ci_lb,ci_ub,pval,tau2,I2,H2,Q,Q_pval,pi_lb,pi_ub,status\n"

typedef struct batch_sink {
    FILE *f;           /* the CSV goes here, or (NULL) into mem */
    char *mem;         /* CSV in memory */
    size_t n, cap;     /* its bytes, allocated */
    int keep;          /* warnings: 1 kept (the first BATCH_WARN_SHOWN + 1), 0 printed */
    mp_msgs kept;      /* the kept warnings, or the one held back while printing */
    size_t nwarn;      /* warnings so far */
    long failed;       /* groups that could not be fitted */
    int nomem;         /* memory ran out (or a write failed) */
    mp_msgs *rowkeep;  /* not NULL: the rows' own warnings are kept here (the first
                          BATCH_WARN_SHOWN + 1) and counted in nrowwarn, apart from
                          the groups' (batch without --sorted, tried as sorted) */
    size_t nrowwarn;
    size_t groups;     /* groups written */
    size_t max_groups; /* not 0: writing more groups than this fails (it stops the run) */
    int record;        /* keep every group written (name, first line): MPI checks that
                          no group comes back in another process's share */
    char *gname;       /* their names, NUL-terminated, one after another */
    size_t gname_n, gname_cap;
    size_t *gline, *goff; /* per group: first line, offset of its name */
    size_t ng, gcap;
} batch_sink;

/* Append CSV bytes to the sink; -1 on a write or memory error. */
int batch_sink_write(batch_sink *k, const char *p, size_t n);
/* One warning (text without "warning: "). */
void batch_sink_warn(batch_sink *k, const char *cmd, const char *msg);
/* Printing mode: the held-back warning or the count of those not shown. */
void batch_sink_warn_end(batch_sink *k, const char *cmd);
void batch_sink_free(batch_sink *k);
/* Record a group (k->record); -1 when memory runs out (k->nomem set). */
int batch_sink_group(batch_sink *k, const char *name, size_t line);

/* Read `rd` (opened for --sorted input) to its end or first error, fit
 * every block on `nthreads` threads and send rows and warnings to `k`.
 * On bad input the groups read before the bad row are fitted and written,
 * except the one the bad row may belong to (mp_batch_reader_error_ends_group),
 * and the error is returned (not printed): MP_OK, or the reader's status
 * with *err set.  -1 (as an mp_status value never used) is not returned:
 * memory and write errors set k->nomem and return MP_ENOMEM. */
mp_status batch_sorted_run(const char *cmd, mp_batch_reader *rd, const char *file,
                           const mp_pool_opts *po, long nthreads, batch_sink *k, mp_error *err);

/* The MPI driver (batch_mpi.c): returns the exit status, or -1 when the
 * process was not started by an MPI launcher with more than one process
 * (then cmd_batch goes on as one process). */
int batch_mpi(const cli_common *c, const mp_pool_opts *po);

#endif
