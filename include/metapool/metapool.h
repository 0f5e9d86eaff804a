/* include/metapool/metapool.h - umbrella header of the metapool library.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Embedding programs should call gsl_set_error_handler_off() once at start:
 * the library checks every GSL status itself and never changes that global. */
#ifndef MP_METAPOOL_H
#define MP_METAPOOL_H

#include "status.h"
#include "table.h"
#include "escalc.h"
#include "pool.h"
#include "mh.h"
#include "reg.h"
#include "traj.h"
#include "batch.h"
#include "design.h"
#include "sensitivity.h"
#include "report.h"
#include "quantile.h"
#include "bias.h"
#include "gosh.h"
#include "permute.h"
#include "formula.h"
#include "mv.h"
#include "robust.h"
#include "metapool/version.h"

#endif
