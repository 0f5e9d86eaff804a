/* src/cli/compare.h - reproduction check against published results (--compare).
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef MP_CLI_COMPARE_H
#define MP_CLI_COMPARE_H

#include <stdio.h>
#include "cli.h"

typedef struct compare_table compare_table;   /* published rows */
typedef struct compare_result compare_result; /* verdicts */

/* Load a published-results CSV (estimate, ci_lb, ci_ub, optional p, group,
 * source). 0 on success; -1 with err filled. */
int compare_load(const char *path, compare_table **out, mp_error *err);
void compare_free(compare_table *t);
/* Judge our results in r against the published rows. 0 ok, -1 on a usage
 * problem (message printed, e.g. a group not in the data). */
int compare_eval(const compare_table *t, const cli_report *r, compare_result **out,
                 const char *cmd);
void compare_json(FILE *f, const compare_result *c);
void compare_print(FILE *f, const compare_result *c, const cli_report *r);
int compare_reproduced(const compare_result *c);
void compare_result_free(compare_result *c);

#endif
