/* src/cli/cmd_escalc.c - `metapool escalc`: effect sizes written back as CSV.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
    "About:   Compute effect sizes (yi) and sampling variances (vi) as metafor's escalc()\n"
    "         and write the input back as CSV with yi and vi (replaced or appended).\n"
    "Usage:   metapool escalc [OPTIONS] FILE     (FILE '-' reads standard input)\n"
    "Options:\n"
    "  --measure M    SMD, MD, ROM, OR, RR, RD or GEN [from the columns]\n"
    "  --vtype V      variance of Hedges' g: LS (metafor), UB, RevMan, CMA [LS]\n"
    "  --level L      confidence level of ci_lb/ci_ub input columns [95]\n"
    "  -h, --help     this help\n"
    "Rows left out (NA cells, tables without events in both arms) get yi and vi NA\n"
    "and a warning naming the row.\n";

int cmd_escalc(int argc, char **argv)
{
    static const struct option opts[] = {{"measure", required_argument, NULL, OPT_MEASURE},
                                         {"vtype", required_argument, NULL, OPT_VTYPE},
                                         {"level", required_argument, NULL, OPT_LEVEL},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    cli_common c;
    cli_common_init(&c);
    int id;
    optind = 1;
    while ((id = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (id == 'h') { fputs(usage_text, stdout); return CLI_OK; }
        int r = cli_common_opt("escalc", id, optarg, &c);
        if (r == 1) continue;
        if (r == 0) fputs(usage_text, stderr);
        return CLI_USAGE;
    }
    if (optind != argc - 1) {
        cli_errorf("escalc", "expected one input FILE");
        fputs(usage_text, stderr);
        return CLI_USAGE;
    }
    cli_common_finish(&c);
    mp_table *t = NULL;
    mp_effects e;
    int rc = cli_load("escalc", argv[optind], &c, &t, &e);
    if (rc != CLI_OK) return rc;

    size_t nc = mp_table_ncols(t), nr = mp_table_nrows(t);
    long jy = mp_table_col(t, "yi"), jv = mp_table_col(t, "vi");
    /* header: every input column, then yi / vi where they were not there */
    for (size_t j = 0; j < nc; j++) {
        if (j) fputc(',', stdout);
        csv_field(stdout, mp_table_colname(t, j), ',');
    }
    if (jy < 0) fputs(nc ? ",yi" : "yi", stdout);
    if (jv < 0) fputs(",vi", stdout);
    fputc('\n', stdout);
    for (size_t i = 0; i < nr; i++) {
        char ybuf[40], vbuf[40];
        if (e.used[i]) {
            snprintf(ybuf, sizeof ybuf, "%.17g", e.yi[i]);
            snprintf(vbuf, sizeof vbuf, "%.17g", e.vi[i]);
        } else {
            strcpy(ybuf, "NA");
            strcpy(vbuf, "NA");
        }
        for (size_t j = 0; j < nc; j++) {
            if (j) fputc(',', stdout);
            const char *cell = (long)j == jy ? ybuf : (long)j == jv ? vbuf : mp_table_cell(t, i, j);
            csv_field(stdout, cell, ',');
        }
        if (jy < 0) printf(",%s", ybuf);
        if (jv < 0) printf(",%s", vbuf);
        fputc('\n', stdout);
    }
    mp_effects_free(&e);
    mp_table_free(t);
    if (fflush(stdout) != 0) { cli_errorf("escalc", "write error"); return CLI_FAIL; }
    return CLI_OK;
}
