// SPDX-License-Identifier: GPL-2.0
/* process_notify's C shim; see shim.h. */

#include <linux/module.h>

#include "../../rust/kglue/c/hone_glue.c"
#include "../../rust/kglue/c/hone_process.c"
#include "shim.h"

HONE_DEFINE_CHAIN(process);
HONE_EXPORT_CHAIN(process);
EXPORT_SYMBOL_GPL(hone_process_snapshot);
