/* SPDX-License-Identifier: GPL-2.0 */
/* hone_notify's C shim: its readers' chain and the exports of its Rust API. */
#ifndef HONE_NOTIFY_SHIM_H
#define HONE_NOTIFY_SHIM_H

#include "../../rust/kglue/c/hone_glue.h"
#include "../../rust/kglue/c/hone_chain.h"

HONE_DECLARE_CHAIN(notify_chain);

#ifndef __BINDGEN__
/* Implemented in Rust, exported here. */
int hone_notify_register(struct notifier_block *nb);
int hone_notify_unregister(struct notifier_block *nb);
int hone_notify_snapshot(bool (*sink)(void *data, const void *event), void *data);
struct hone_stats;
void hone_notify_stats(struct hone_stats *out);
void hone_notify_whole_packets(bool want);
#endif

#endif
