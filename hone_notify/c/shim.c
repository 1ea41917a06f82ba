// SPDX-License-Identifier: GPL-2.0
/* hone_notify's C shim; see shim.h. */

#include <linux/module.h>
#include <linux/moduleparam.h>

#include "../../rust/kglue/c/hone_glue.c"
#include "shim.h"

/* 2^18 slots of 56 bytes (14 MiB), of which 7/8 are used: a busy server's sockets. */
static int max_sockets = 229376;
module_param(max_sockets, int, 0444);
MODULE_PARM_DESC(max_sockets, "Sockets tracked at once (1024-4194304, default 229376: 14 MiB); "
		 "arriving packets of sockets opened beyond it name no process");

int hone_param_max_sockets(void) { return max_sockets; }

HONE_DEFINE_CHAIN(notify_chain);
EXPORT_SYMBOL_GPL(hone_notify_register);
EXPORT_SYMBOL_GPL(hone_notify_unregister);
EXPORT_SYMBOL_GPL(hone_notify_snapshot);
EXPORT_SYMBOL_GPL(hone_notify_stats);
EXPORT_SYMBOL_GPL(hone_notify_whole_packets);
