/* SPDX-License-Identifier: GPL-2.0 */
/*
 * socket_notify's C shim: the kprobes on the inet socket entry points (6.12 has no tracepoint
 * for socket creation, accept or release of UDP/raw sockets) and the walk of a task's sockets.
 */
#ifndef SOCKET_NOTIFY_SHIM_H
#define SOCKET_NOTIFY_SHIM_H

#include "../../rust/kglue/c/hone_glue.h"
#include "../../rust/kglue/c/hone_chain.h"
#include "../../rust/kglue/c/hone_interface.h"

HONE_DECLARE_CHAIN(socket);

/*
 * kretprobes on inet_create, inet6_create and inet_accept (opened, in the opening process),
 * kprobes on inet_release (closed, in the closing process; inet6_release calls it) and on
 * inet_sock_destruct (destroyed: the last reference is gone).
 */
int hone_socket_probes_register(void);
/*
 * Unregisters them, and warns of the hits they missed (no kretprobe instance was free, or a
 * probe was hit again while running).
 */
void hone_socket_probes_unregister(void);

/* Implemented in Rust: one change (HONE_SOCKET_*) of sk, in the context where it happened. */
void hone_socket_changed(struct sock *sk, u32 change);

#endif
