/* src/cli/compare.h - reproduction check against published results (--compare).
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The published file is a CSV with the columns estimate, ci_lb, ci_ub
 * (required; cells may be empty when the paper did not print the number),
 * and optionally p, group and source; other columns are ignored.  A number
 * matches when ours, rounded to the decimals it was printed with, equals it
 * (both sides compared as correctly rounded decimal strings, so -0.7145
 * reproduces "-0.71" and "-0.7145" but not "-0.72").  A p given as an
 * inequality ("<0.001", "p < .05", ">=0.05", "≤0.01") matches when ours
 * satisfies it.  Estimates and CI bounds are compared on the scale the
 * paper used: exp() for OR, RR and ROM unless --transf none.
 *
 * Rows and groups: with --by, a row's `group` names the subgroup (matched
 * as text, or as numbers when both are numeric, so "24" = "24.0"); an empty
 * group means the overall analysis.  A group that is not in the data gets
 * the verdict "no such group" and counts as not reproduced (exit 3), so a
 * published table that covers more time points than the data still prints
 * a full check.  Without --by, a row with a group is a usage error.
 */
#ifndef MP_CLI_COMPARE_H
#define MP_CLI_COMPARE_H

#include <stdio.h>
#include "cli.h"

typedef struct compare_table compare_table;   /* published rows (opaque) */
typedef struct compare_result compare_result; /* verdicts (opaque) */

/* Load and validate a published-results CSV with mp_table_read().  Returns
 * 0 and a table in *out (free with compare_free), or -1 with err naming
 * file:line:col for a missing column, a cell that is neither empty nor a
 * number (nor, for p, an inequality), or a row with nothing to check. */
int compare_load(const char *path, compare_table **out, mp_error *err);
/* Free a published table. NULL-safe. */
void compare_free(compare_table *t);

/* Judge the results in r against every published row.  Returns 0 and the
 * verdicts in *out (free with compare_result_free; it copies what it needs,
 * so it may outlive t), or -1 after printing "metapool CMD: ..." for a usage
 * problem (a row with a group but no --by) or when out of memory. */
int compare_eval(const compare_table *t, const cli_report *r, compare_result **out,
                 const char *cmd);
/* The JSON "compare" object (no trailing newline): {"file", "scale",
 * "reproduced", "n_numbers", "n_matched", "rows": [{"group", "source",
 * "line", "key", "published", "ours", "rounded", "match", "verdict"}]}. */
void compare_json(FILE *f, const compare_result *c);
/* The reproduction table (published | ours | verdict per number) and an
 * overall verdict line, for printing after the forest table. */
void compare_print(FILE *f, const compare_result *c, const cli_report *r);
/* 1 when every published number was reproduced, else 0. */
int compare_reproduced(const compare_result *c);
/* Free verdicts. NULL-safe. */
void compare_result_free(compare_result *c);

#endif
