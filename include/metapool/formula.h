/* include/metapool/formula.h - the right-hand side of an R model formula, parsed.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The subset of R's formula language that `metapool reg --mods` accepts
 * (R documentation of formula and terms.formula):
 *   a + b, a, b (a comma is a plus), a:b (interaction), a*b (= a + b + a:b),
 *   parentheses around sums ((a + b)*c), factor(COL), I(expr) where expr is
 *   arithmetic (+ - * / ^, unary minus, numbers, numeric columns, parentheses,
 *   log/exp/sqrt/abs), and 1 / - 1 / + 0 for the intercept.  A leading '~'
 *   is skipped.  Column names are R names or `back-quoted` text.
 *
 * As terms.formula() does, duplicate terms are dropped, terms are ordered by
 * their degree (main effects first, then two-way interactions, ...; ties in
 * the order written), and the variables of an interaction are listed in the
 * order in which the variables first appear in the formula, so `b:a + a` has
 * the terms "a" and "b:a".  Variable labels are those R deparses:
 * "factor(x)", "I(x^2)", "I(a * b)", "I(x/2)". */
#ifndef MP_FORMULA_H
#define MP_FORMULA_H

#include <stddef.h>
#include <stdint.h>
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Kind of a formula variable. */
typedef enum mp_fvar_kind {
    MP_FVAR_COLUMN = 0, /**< a column: numeric when it holds numbers, else a factor */
    MP_FVAR_FACTOR = 1, /**< factor(COL): always categorical */
    MP_FVAR_EXPR = 2    /**< I(expr): numeric, computed from numeric columns */
} mp_fvar_kind;

/** Node types of an I() expression. */
typedef enum mp_fexpr_op {
    MP_FX_NUM, MP_FX_COL, MP_FX_NEG, MP_FX_ADD, MP_FX_SUB, MP_FX_MUL, MP_FX_DIV, MP_FX_POW,
    MP_FX_PAREN, MP_FX_LOG, MP_FX_EXP, MP_FX_SQRT, MP_FX_ABS
} mp_fexpr_op;

/** One node of an I() expression (children by index into the variable's node array). */
typedef struct mp_fexpr {
    mp_fexpr_op op;
    double num;     /**< MP_FX_NUM: the value */
    size_t col;     /**< MP_FX_COL: index into the variable's cols */
    size_t a, b;    /**< operands (b only for binary operators) */
} mp_fexpr;

/** A variable of the formula. */
typedef struct mp_fvar {
    mp_fvar_kind kind;
    char *label;     /**< as R names it: "ablat", "factor(dose)", "I(ablat^2)" */
    char **cols;     /**< column names it reads (1 for COLUMN/FACTOR) */
    size_t ncols;
    mp_fexpr *node;  /**< EXPR: the nodes, root last */
    size_t nnode;
} mp_fvar;

/** A parsed formula: variables and terms (bit j of a term = variable j). */
typedef struct mp_formula {
    mp_fvar *var;
    size_t nvar;      /**< at most 64 */
    uint64_t *term;   /**< terms in R's order */
    size_t nterm;
    int intercept;    /**< 1 unless "- 1" or "+ 0" */
} mp_formula;

/** Parse the right-hand side `s` into `f`.  Returns MP_OK; MP_EINVAL with
 *  err->msg naming the unsupported term or the syntax error (err may be
 *  NULL); MP_ENOMEM.  On failure `f` holds no allocations. */
MP_EXPORT mp_status mp_formula_parse(const char *s, mp_formula *f, mp_error *err);

/** Evaluate the I() expression of variable `v` with its columns' values
 *  `x[0..v->ncols-1]`; returns NaN where R gives NaN/NA. */
MP_EXPORT double mp_formula_eval(const mp_fvar *v, const double *x);

/** The label of term `t` of `f` ("a:b") into buf (n bytes); returns buf. */
MP_EXPORT char *mp_formula_term_label(const mp_formula *f, uint64_t t, char *buf, size_t n);

/** Free the arrays of `f`. NULL-safe. */
MP_EXPORT void mp_formula_free(mp_formula *f);

#ifdef __cplusplus
}
#endif
#endif /* MP_FORMULA_H */
