/* include/metapool/design.h - moderator design matrices for meta-regression.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Builds X for metafor's rma(yi, vi, mods = ~ a + b) from table columns, as
 * R's model.matrix() does with treatment contrasts (R documentation of
 * model.matrix, contr.treatment and factor; metafor documentation of rma.uni).
 *
 * Rules (the contract of `metapool reg --mods`):
 *  - A moderator "COL" is NUMERIC when at least one non-missing cell of COL
 *    (over all data rows) is a number; then every non-missing cell must be a
 *    finite number, otherwise the build fails with MP_EPARSE naming the file,
 *    line and column of the first offending cell.  It enters X as it is,
 *    named "COL".
 *  - A column with no numeric cell is CATEGORICAL, and "factor(COL)" forces
 *    a column to be categorical.  Its levels are the distinct cell texts of
 *    the rows analysed, sorted in byte order (strcmp; R's factor() in the C
 *    locale); the first is the reference, every other level L gets a 0/1
 *    column named "COL" + "L" (metafor's "designcohort"), or
 *    "factor(COL)" + "L".  factor(COL) of a column whose cells are all
 *    numbers orders the levels by value and labels them "%.15g" (R's
 *    factor() of a numeric vector: factor(dose)2.5).  A single level is an
 *    error (MP_ESING).
 *  - Missing cells (empty, "NA" or ".", mp_table_is_missing()) leave their
 *    row out with a warning naming the row, as R's na.omit; rows the
 *    effect-size loader left out are left out too.
 *  - Rank deficiency (a constant moderator, duplicated or collinear
 *    moderators) is not repaired by dropping columns: the build fails with
 *    MP_ESING and a message naming the first coefficient that is a linear
 *    combination of the earlier ones (mp_reg_check_rank(), lm's tolerance
 *    1e-7).  So does k <= p (no residual degrees of freedom: MP_ETOOFEW). */
#ifndef MP_DESIGN_H
#define MP_DESIGN_H

#include <stddef.h>
#include "status.h"
#include "table.h"
#include "escalc.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A design matrix with its responses. */
typedef struct mp_design {
    size_t k;          /**< rows entering the analysis */
    size_t p;          /**< columns of X (coefficients), intercept included */
    double *X;         /**< k x p, column-major: element (i, j) at X[i + j k] */
    double *y;         /**< k effect sizes */
    double *v;         /**< k sampling variances */
    size_t *row;       /**< k table rows (0-based) the design rows come from */
    char **names;      /**< p coefficient names ("intrcpt", "ablat", "designcohort") */
    int intercept;     /**< 1 if column 0 is the intercept */
    mp_msgs warnings;  /**< rows left out because a moderator is missing */
    struct mp_design_enc *enc; /**< how rows are encoded (for mp_design_newrows()); opaque */
} mp_design;

/** Build the design of `nmods` moderators `mods` (each "COL" or
 *  "factor(COL)", surrounding blanks ignored) over the rows of `t` that `e`
 *  marks as used, with an intercept column first when `intercept` is 1.
 *  On success `out` owns its arrays (free with mp_design_free()).
 *  Returns MP_OK; MP_EINVAL (a moderator column not in the table, an empty
 *  name, NULL arguments; err names the column); MP_EPARSE (a non-numeric
 *  cell in a numeric column; err gives file:line:col); MP_ESING (single-level
 *  factor, rank-deficient X; err names the coefficient); MP_ETOOFEW (no more
 *  rows than coefficients); MP_ENOMEM.  `err` may be NULL.  On failure `out`
 *  holds no allocations. */
MP_EXPORT mp_status mp_design_build(const mp_table *t, const mp_effects *e,
                                    const char *const *mods, size_t nmods, int intercept,
                                    mp_design *out, mp_error *err);

/** Build the design of the R formula right-hand side `formula` (formula.h:
 *  a + b, a:b, a*b, factor(COL), I(expr), - 1), columns in the order of R's
 *  model.matrix() with its contrast rules (a factor in an interaction whose
 *  margin is absent gets indicators of all its levels) and R's names
 *  ("ablat:year", "I(ablat^2)", "ablat:allocrandom").  Rows, levels and
 *  errors as mp_design_build(); an unsupported term is MP_EINVAL with err
 *  naming it. */
MP_EXPORT mp_status mp_design_build_formula(const mp_table *t, const mp_effects *e,
                                            const char *formula, mp_design *out, mp_error *err);

/** Encode the rows of the table `nt` (new moderator values: the columns the
 *  formula reads) as rows of d's design matrix (same terms, levels and
 *  coding; R's model.matrix for predict(fit, newmods = )).  *X (n x p,
 *  column-major, malloc'd) and *n are set.  Returns MP_OK; MP_EINVAL (a
 *  column missing, NULL arguments); MP_EPARSE (a missing or non-numeric
 *  cell, a factor level not in the data fitted: err gives file:line:col);
 *  MP_ENOMEM. */
MP_EXPORT mp_status mp_design_newrows(const mp_design *d, const mp_table *nt, double **X,
                                      size_t *n, mp_error *err);

/** The one table column every term of d's formula reads, for a plot against
 *  it: *col its name; *factor 1 if it enters as a factor, then *nlev and
 *  *lev its levels in design order (pointers into d).  MP_OK, or MP_EINVAL
 *  when the formula reads no column or more than one. */
MP_EXPORT mp_status mp_design_axis(const mp_design *d, const char **col, int *factor,
                                   size_t *nlev, const char *const **lev);

/** Free the arrays and warnings of `d`. NULL-safe. */
MP_EXPORT void mp_design_free(mp_design *d);

#ifdef __cplusplus
}
#endif
#endif /* MP_DESIGN_H */
