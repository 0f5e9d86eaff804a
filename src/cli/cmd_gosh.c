/* src/cli/cmd_gosh.c - `metapool gosh`: the model fitted to every subset of the studies.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * metafor's gosh(rma(yi, vi, method = M)) (include/metapool/gosh.h); this
 * file only parses options, streams --out rows, shows progress on a
 * terminal and hands the result to the reporter. */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* --out: rows streamed as CSV */
typedef struct {
    FILE *f;
    size_t k;
    int err;
} out_ctx;

static void csv_num(FILE *f, double x)
{
    if (isfinite(x)) mp_json_num(f, x);
    else fputs("NA", f);
}

static mp_status write_rows(void *ctx, const mp_gosh_rows *r)
{
    out_ctx *o = ctx;
    char sub[72];
    for (size_t i = 0; i < r->n; i++) {
        for (size_t j = 0; j < o->k; j++) sub[j] = ((r->mask[i] >> j) & 1) ? '1' : '0';
        sub[o->k] = 0;
        fprintf(o->f, "%s,%d,", sub, __builtin_popcountll(r->mask[i]));
        if (r->ok[i]) {
            csv_num(o->f, r->estimate[i]);
            fputc(',', o->f);
            csv_num(o->f, r->Q[i]);
            fputc(',', o->f);
            csv_num(o->f, r->I2[i]);
            fputc(',', o->f);
            csv_num(o->f, r->H2[i]);
            fputc(',', o->f);
            csv_num(o->f, r->tau2[i]);
            fputc('\n', o->f);
        } else {
            fputs("NA,NA,NA,NA,NA\n", o->f);
        }
    }
    if (ferror(o->f)) { o->err = errno ? errno : EIO; return MP_EIO; }
    return MP_OK;
}

/* progress on a terminal: percent, subsets/s, time left (at most 5 a second) */
typedef struct {
    struct timespec t0;
    double last;
    int shown;
} prog_ctx;

static double since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + 1e-9 * (double)(t.tv_nsec - t0->tv_nsec);
}

static void progress(void *ctx, uint64_t done, uint64_t total)
{
    prog_ctx *p = ctx;
    double s = since(&p->t0);
    if (s - p->last < 0.2 && done < total) return;
    p->last = s;
    double rate = s > 0 ? (double)done / s : 0, left = rate > 0 ? (double)(total - done) / rate : 0;
    fprintf(stderr, "\rmetapool gosh: %5.1f%%  %.3g subsets/s  %.0f s left   ",
            100.0 * (double)done / (double)total, rate, left);
    fflush(stderr);
    p->shown = 1;
}

static int gosh_main(int argc, char **argv, int rank, int nranks)
{
    const char *cmd = "gosh";
    cli_common c;
    int status = cli_parse(&gosh_spec, argc, argv, &c);
    if (status != CLI_GO_ON) return status;
    if (c.format == CLI_FMT_CSV) {
        cli_errorf(cmd, "--format csv is not available for gosh (use --out FILE for the rows)");
        return CLI_USAGE;
    }
    mp_method m = c.pool.method;
    if (m != MP_METHOD_FE && m != MP_METHOD_DL && m != MP_METHOD_REML) {
        cli_errorf(cmd, "--method %s: gosh fits FE, DL or REML", mp_method_name(m));
        return CLI_USAGE;
    }
    if (c.highlight && !c.plot) {
        cli_errorf(cmd, "--highlight needs --plot FILE");
        return CLI_USAGE;
    }
    if (nranks > 1 && (c.out || c.exact_quantiles)) {
        cli_errorf(cmd, "running as %d MPI processes: %s works in one process only", nranks,
                   c.out ? "--out" : "--exact-quantiles");
        return CLI_USAGE;
    }
    if (c.plot && cli_check_writable(cmd, c.plot) != 0) return CLI_USAGE; /* every rank: the same outcome */
    if (c.out && cli_check_writable(cmd, c.out) != 0) return CLI_USAGE;

    mp_table *t = NULL;
    mp_effects e;
    status = cli_load(cmd, c.file, &c, &t, &e);
    if (status != CLI_OK) return status;
    char *labbuf = NULL;
    const char **lab = cli_labels(t, c.study, &labbuf);
    size_t nr = mp_table_nrows(t), k = 0;
    double *y = malloc((nr ? nr : 1) * sizeof *y), *v = malloc((nr ? nr : 1) * sizeof *v);
    const char **slab = malloc((nr ? nr : 1) * sizeof *slab);
    mp_gosh_result res;
    memset(&res, 0, sizeof res);
    mp_msgs warn = {0};
    out_ctx oc = {NULL, 0, 0};
    prog_ctx pc;
    memset(&pc, 0, sizeof pc);
    if (!lab || !y || !v || !slab) {
        cli_errorf(cmd, "out of memory");
        status = CLI_FAIL;
        goto out;
    }
    for (size_t i = 0; i < nr; i++)
        if (e.used[i]) { y[k] = e.yi[i]; v[k] = e.vi[i]; slab[k] = lab[i]; k++; }

    mp_gosh_opts o;
    mp_gosh_opts_init(&o);
    o.method = m;
    o.seed = c.seed;
    o.threads = (size_t)c.threads;
    o.epsrel = c.pool.epsrel;
    o.maxiter = c.pool.maxiter;
    o.exact_quantiles = c.exact_quantiles;
    if (c.subsets_given) o.subsets = c.subsets;
    else if (k > 30) {
        o.subsets = 1000000;
        mp_msgs_add(&warn, "k = %zu: 10^6 random subsets (--subsets all for every one)", k);
        cli_errorf(cmd, "note: k = %zu > 30: fitting 10^6 random subsets (--subsets all for "
                        "every one of the 2^%zu - 1)", k, k);
    }
    if (o.subsets == 0 && k > MP_GOSH_KMAX_ALL) {
        cli_errorf(cmd, "%s: k = %zu is too many for every subset (at most %d): use --subsets N",
                   mp_table_name(t), k, MP_GOSH_KMAX_ALL);
        status = CLI_USAGE;
        goto out;
    }
    if (m == MP_METHOD_REML && o.subsets == 0 && k > 22)
        cli_errorf(cmd, "note: REML fits each of the 2^%zu - 1 subsets iteratively (about a "
                        "microsecond each per core); --method DL or FE, or --subsets N, is much "
                        "quicker", k);
    if (c.plot) {
        o.grid_nx = 600;
        o.grid_ny = 450;
    }
    if (c.highlight) {
        size_t j = 0;
        while (j < k && strcmp(slab[j], c.highlight) != 0) j++;
        if (j == k) {
            cli_errorf(cmd, "--highlight '%s': no study of that name in %s", c.highlight,
                       mp_table_name(t));
            status = CLI_USAGE;
            goto out;
        }
        o.highlight = j;
    }
    if (c.out) {
        oc.f = fopen(c.out, "w");
        if (!oc.f) {
            cli_errorf(cmd, "%s: %s", c.out, strerror(errno));
            status = CLI_USAGE;
            goto out;
        }
        setvbuf(oc.f, NULL, _IOFBF, 1 << 20);
        oc.k = k;
        fputs("subset,k,estimate,Q,I2,H2,tau2\n", oc.f);
        o.row_fn = write_rows;
        o.row_ctx = &oc;
    }
    if (nranks == 1 && isatty(STDERR_FILENO)) {
        clock_gettime(CLOCK_MONOTONIC, &pc.t0);
        o.progress_fn = progress;
        o.progress_ctx = &pc;
    }
    mp_status s = gosh_mpi_run(y, v, k, &o, &res); /* mp_gosh_run(), shared under mpirun */
    if (pc.shown) fputs("\r\033[K", stderr);
    if (oc.f) {
        if (fclose(oc.f) != 0 && s == MP_OK) { oc.err = errno; s = MP_EIO; }
        oc.f = NULL;
    }
    if (s == MP_EIO) {
        cli_errorf(cmd, "%s: cannot write the rows: %s", c.out ? c.out : "--out",
                   strerror(oc.err ? oc.err : EIO));
        status = CLI_FAIL;
        goto out;
    } else if (s == MP_ETOOFEW) {
        cli_errorf(cmd, "%s: gosh needs at least 2 studies (k = %zu)", mp_table_name(t), k);
        status = CLI_FAIL;
        goto out;
    } else if (s == MP_EDOM) {
        cli_errorf(cmd, "%s: effect sizes or variances outside the supported range, or k too large",
                   mp_table_name(t));
        status = CLI_USAGE;
        goto out;
    } else if (s != MP_OK) {
        cli_errorf(cmd, "%s: %s", mp_table_name(t), mp_strerror(s));
        status = CLI_FAIL;
        goto out;
    }
    for (size_t i = 0; i < e.warnings.n; i++) mp_msgs_add(&warn, "%s", e.warnings.v[i]);
    if (res.failed) {
        mp_msgs_add(&warn, "%llu subsets could not be fitted (the %s estimator did not converge); "
                           "they are left out of the summaries",
                    (unsigned long long)res.failed, mp_method_name(m));
        cli_errorf(cmd, "%s: %llu subsets could not be fitted (%s did not converge); left out",
                   mp_table_name(t), (unsigned long long)res.failed, mp_method_name(m));
        status = CLI_FAIL;
    }
    if (c.format == CLI_FMT_JSON) mp_report_gosh_json(stdout, &res, slab, &warn);
    else mp_report_gosh_table(stdout, &res, slab, c.rep.digits);
    if (c.plot && rank == 0) {
        char ylab[96];
        snprintf(ylab, sizeof ylab, "estimate (%s)", mp_measure_name(e.measure));
        if (mp_report_gosh_svg(c.plot, &res, slab, ylab) != MP_OK) {
            cli_errorf(cmd, "%s: cannot write the plot: %s", c.plot, strerror(errno));
            status = CLI_FAIL;
        }
    }
out:
    if (oc.f) fclose(oc.f);
    mp_gosh_result_free(&res);
    mp_msgs_free(&warn);
    free(y);
    free(v);
    free(slab);
    free(lab);
    free(labbuf);
    mp_effects_free(&e);
    mp_table_free(t);
    return cli_finish(cmd, status);
}

int cmd_gosh(int argc, char **argv)
{
    int rank, nranks;
    gosh_mpi_begin(&rank, &nranks);
    return gosh_mpi_end(gosh_main(argc, argv, rank, nranks));
}
