/* SPDX-License-Identifier: GPL-2.0 */
/*
 * process_notify's C shim: its subscribers' chain, and the task helpers of rust/kglue. It
 * exports the chain and hone_process_snapshot (implemented in Rust), both in hone_interface.h.
 */
#ifndef PROCESS_NOTIFY_SHIM_H
#define PROCESS_NOTIFY_SHIM_H

#include "../../rust/kglue/c/hone_glue.h"
#include "../../rust/kglue/c/hone_chain.h"
#include "../../rust/kglue/c/hone_interface.h"
#include "../../rust/kglue/c/hone_process.h"

HONE_DECLARE_CHAIN(process);

#endif
