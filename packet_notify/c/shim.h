/* SPDX-License-Identifier: GPL-2.0 */
/*
 * packet_notify's C shim: the netfilter hooks (struct nf_hook_ops and nf_hook_state are not in
 * 6.12's Rust bindings) registered in every network namespace, and the inbound socket lookup.
 */
#ifndef PACKET_NOTIFY_SHIM_H
#define PACKET_NOTIFY_SHIM_H

#include "../../rust/kglue/c/hone_glue.h"
#include "../../rust/kglue/c/hone_chain.h"
#include "../../rust/kglue/c/hone_interface.h"

HONE_DECLARE_CHAIN(packet);

/* Hooks LOCAL_IN and LOCAL_OUT of IPv4 and IPv6 in every network namespace, present and future. */
int hone_packet_hooks_register(void);
void hone_packet_hooks_unregister(void);

/* Implemented in Rust: called for every packet while the chain has subscribers. */
void hone_packet_seen(struct sk_buff *skb, struct sock *sk, bool inbound, u32 netns);

#endif
