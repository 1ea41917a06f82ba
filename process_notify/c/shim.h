/* SPDX-License-Identifier: GPL-2.0 */
/* process_notify's C shim: its subscribers' chain, and the task helpers of rust/kglue. */
#ifndef PROCESS_NOTIFY_SHIM_H
#define PROCESS_NOTIFY_SHIM_H

#include "../../rust/kglue/c/hone_glue.h"
#include "../../rust/kglue/c/hone_chain.h"
#include "../../rust/kglue/c/hone_process.h"

HONE_DECLARE_CHAIN(process);

#ifndef __BINDGEN__
/* Implemented in Rust, exported here. */
int hone_process_snapshot(bool (*sink)(void *data, const void *event, struct task_struct *task), void *data);
#endif

#endif
