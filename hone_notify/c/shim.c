// SPDX-License-Identifier: GPL-2.0
/* hone_notify's C shim; see shim.h. */

#include <linux/module.h>

#include "../../rust/kglue/c/hone_glue.c"
#include "shim.h"

HONE_DEFINE_CHAIN(notify_chain);
EXPORT_SYMBOL_GPL(hone_notify_register);
EXPORT_SYMBOL_GPL(hone_notify_unregister);
EXPORT_SYMBOL_GPL(hone_notify_snapshot);
EXPORT_SYMBOL_GPL(hone_notify_stats);
EXPORT_SYMBOL_GPL(hone_notify_whole_packets);
