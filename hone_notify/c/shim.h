/* SPDX-License-Identifier: GPL-2.0 */
/* hone_notify's C shim: its readers' chain and the exports of its Rust API. */
#ifndef HONE_NOTIFY_SHIM_H
#define HONE_NOTIFY_SHIM_H

#include "../../rust/kglue/c/hone_glue.h"
#include "../../rust/kglue/c/hone_chain.h"
#include "../../rust/kglue/c/hone_interface.h"

HONE_DECLARE_CHAIN(notify_chain);

/* The max_sockets module parameter as given at load time. */
int hone_param_max_sockets(void);

#endif
