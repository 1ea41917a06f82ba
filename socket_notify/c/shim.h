/* SPDX-License-Identifier: GPL-2.0 */
/*
 * socket_notify's C shim: the kprobes on the inet socket entry points (6.12 has no tracepoint
 * for socket creation, accept or release of UDP/raw sockets) and the walk of a task's sockets.
 */
#ifndef SOCKET_NOTIFY_SHIM_H
#define SOCKET_NOTIFY_SHIM_H

#include "../../rust/kglue/c/hone_glue.h"
#include "../../rust/kglue/c/hone_chain.h"

HONE_DECLARE_CHAIN(socket);

/* What happened to a socket (enum SocketChange in Rust). */
#define HONE_SOCKET_OPENED	0
#define HONE_SOCKET_CLOSED	1
#define HONE_SOCKET_USED	2
#define HONE_SOCKET_DESTROYED	3

/*
 * kretprobes on inet_create, inet6_create and inet_accept (opened, in the opening process),
 * kprobes on inet_release (closed, in the closing process; inet6_release calls it) and on
 * inet_sock_destruct (destroyed: the last reference is gone).
 */
int hone_socket_probes_register(void);
/* Unregisters them, and warns of the hits they missed (no kretprobe instance was free). */
void hone_socket_probes_unregister(void);

#ifndef __BINDGEN__
/* Implemented in Rust: one socket change, in the context where it happened. */
void hone_socket_changed(struct sock *sk, unsigned int change);
/* Exported: calls visit(data, sk) for each AF_INET/AF_INET6 socket open in task (atomic). */
int hone_socket_snapshot(struct task_struct *task, void (*visit)(void *data, struct sock *sk), void *data);
#endif

#endif
