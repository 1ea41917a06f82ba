/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What Hone's modules offer each other, declared once. Every module's shim.h includes this
 * header: the C compiler checks each definition and EXPORT_SYMBOL_GPL against it, and bindgen
 * turns it into the declarations the Rust side uses (rust/kglue/chains.rs and stream.rs call
 * them; a Rust definition is checked against them by `declared_in_c!`). The events themselves
 * are Rust values (rust/kglue/process_event.rs, socket_notice.rs, packet_notice.rs and
 * hone_event.rs, which the modules on both ends compile alike), passed by pointer; the structs
 * below are their C layout, which the Rust types are checked against.
 *
 * A chain's register/unregister pair adds or removes a subscriber (a notifier_block that stays
 * valid and in place until unregistered); subscribers are called in the context of the event,
 * possibly atomic; unregister waits for running calls, so it is called in process context.
 */
#ifndef HONE_INTERFACE_H
#define HONE_INTERFACE_H

#include <linux/types.h>

struct notifier_block;
struct sk_buff;
struct sock;
struct task_struct;

/* process_notify: fork, exec and exit; a subscriber gets `const Arc<ProcessEvent> *`. */
int hone_process_register(struct notifier_block *nb);
int hone_process_unregister(struct notifier_block *nb);
/*
 * Calls sink(data, event, task) with a `const Arc<ProcessEvent> *` and the task of each running
 * process, both lent for the call, oldest first, until sink returns false. Process context; 0
 * or -errno.
 */
int hone_process_snapshot(bool (*sink)(void *data, const void *event, struct task_struct *task), void *data);

/* socket_notify: what happened to a socket. */
#define HONE_SOCKET_OPENED	0u	/* socket() or accept(), in the opening process */
#define HONE_SOCKET_CLOSED	1u	/* its last close(), in the closing process */
#define HONE_SOCKET_USED	2u	/* sent or received on, in the acting process */
#define HONE_SOCKET_DESTROYED	3u	/* about to be freed (after its last packet) */

/* What a subscriber of socket_notify's chain gets: a change (HONE_SOCKET_*) of a user's inet socket. */
struct hone_socket_notice {
	struct sock *sk;
	u32 change;
};

int hone_socket_register(struct notifier_block *nb);
int hone_socket_unregister(struct notifier_block *nb);
/* Calls visit(data, sk) for each AF_INET/AF_INET6 socket task has open (atomic: must not sleep). */
int hone_socket_snapshot(struct task_struct *task, void (*visit)(void *data, struct sock *sk), void *data);

/* What a subscriber of packet_notify's chain gets: a packet at LOCAL_IN or LOCAL_OUT. */
struct hone_packet_notice {
	struct sk_buff *skb;	/* its network header at data */
	struct sock *sk;	/* its local full socket, or NULL if none was found */
	bool inbound;		/* LOCAL_IN rather than LOCAL_OUT */
	u32 netns;		/* inode number of the network namespace of the hook */
};

int hone_packet_register(struct notifier_block *nb);
int hone_packet_unregister(struct notifier_block *nb);

/*
 * hone_notify: the correlated stream; a subscriber gets `const HoneEvent *`. The first
 * subscriber makes hone_notify subscribe to the three chains above, the last one out ends that.
 */
int hone_notify_register(struct notifier_block *nb);
int hone_notify_unregister(struct notifier_block *nb);
/*
 * Calls sink(data, event) with a `const HoneEvent *` for every running process, each followed
 * by its open inet sockets, oldest first, until sink returns false. Process context; 0 or -errno.
 */
int hone_notify_snapshot(bool (*sink)(void *data, const void *event), void *data);

/* hone_notify's counters since it was loaded, by class (process, socket, packet). */
struct hone_stats {
	u64 start_ns;		/* monotonic time it was loaded */
	u64 received[3];	/* events received */
	u64 lost[3];		/* events lost for want of memory */
	u64 untracked;		/* sockets opened while the socket table was full */
};

void hone_notify_stats(struct hone_stats *out);
/*
 * A subscriber starts (want) or stops wanting whole packets; calls come in pairs. While any
 * subscriber wants them, packet events keep clones of the kernel's buffers; otherwise their
 * first bytes. Any context.
 */
void hone_notify_whole_packets(bool want);

#endif
