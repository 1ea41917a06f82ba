/* SPDX-License-Identifier: GPL-2.0 */
/*
 * C helpers shared by every Hone module: what Rust cannot call directly because it is a
 * static inline or a macro (irq-safe spinlocks, wait queues, task fields, RCU). Where the
 * kernel's C API changed since 6.12, hone_glue.c alone knows the difference.
 * Each module's shim.c includes hone_glue.c once; shim.h includes this header so that bindgen
 * turns these prototypes into checked Rust declarations.
 */
#ifndef HONE_GLUE_H
#define HONE_GLUE_H

#include <linux/refcount.h>
#include <linux/spinlock_types.h>
#include <linux/types.h>

struct task_struct;
struct wait_queue_head;
struct notifier_block;

/* spin_lock_irqsave()/spin_unlock_irqrestore() on a spinlock_t. */
unsigned long hone_spin_lock_irqsave(spinlock_t *lock);
void hone_spin_unlock_irqrestore(spinlock_t *lock, unsigned long flags);
/* spin_trylock_irqsave(): true, with *flags set, if the lock was free and is now held. */
bool hone_spin_trylock_irqsave(spinlock_t *lock, unsigned long *flags);
/* lockdep_assert_held(): warns (with lockdep) unless the current context holds the lock. */
void hone_spin_assert_held(spinlock_t *lock);

/* init_waitqueue_head(); wake readers only if somebody sleeps. */
void hone_waitqueue_init(struct wait_queue_head *wq);
void hone_waitqueue_wake(struct wait_queue_head *wq);
/*
 * wait_event_interruptible(*wq, ready(data)): 0 once ready, -ERESTARTSYS on a signal.
 * ready() runs in TASK_INTERRUPTIBLE state and must not sleep.
 */
int hone_waitqueue_wait(struct wait_queue_head *wq, bool (*ready)(void *data), void *data);

/*
 * A deferred wake-up of a wait queue's sleepers, so that a reader keeping up with a stream of
 * events is woken once per batch instead of once per event. hone_waker_arm() (any context)
 * schedules a wake-up delay_ms from now unless one is pending; hone_waker_free() stops it for
 * good, waits for a running wake-up, and frees it. NULL from hone_waker_new() means no memory.
 */
struct hone_waker;
struct hone_waker *hone_waker_new(struct wait_queue_head *wq);
void hone_waker_arm(struct hone_waker *waker, unsigned int delay_ms);
void hone_waker_free(struct hone_waker *waker);

/* Monotonic clock (ns) and the offset that turns it into wall-clock time (ns since 1970). */
u64 hone_clock_mono_ns(void);
s64 hone_clock_real_offset_ns(void);

/* Identity of a task, as Hone reports it. */
struct hone_task_ids {
	s32 pid;	/* tgid */
	s32 ppid;	/* tgid of the real parent */
	u32 euid;	/* effective ids in the initial user namespace */
	u32 egid;
	u32 flags;	/* HONE_TASK_* */
	s32 tid;	/* the task's own (thread) id */
	u64 start_ns;	/* monotonic start time */
};

#define HONE_TASK_KTHREAD	1u	/* PF_KTHREAD */
#define HONE_TASK_FORKNOEXEC	2u	/* PF_FORKNOEXEC: forked, never exec'd */
#define HONE_TASK_LEADER	4u	/* thread-group leader */
#define HONE_TASK_GROUP_DEAD	8u	/* last thread of its group is exiting */

void hone_task_ids(struct task_struct *task, struct hone_task_ids *ids);
/* The current task, when running in task context (not in an interrupt or softirq); else NULL. */
struct task_struct *hone_current_task(void);
/* Copies the task's comm (NUL-free) into buf; returns its length. */
int hone_task_comm(struct task_struct *task, char *buf, int len);

/* Finds the kernel tracepoint called `name` and attaches probe(data, ...) to it. */
int hone_tracepoint_attach(const char *name, void *probe, void *data);
void hone_tracepoint_detach(const char *name, void *probe, void *data);
/* Waits until no probe detached before this call is still running. */
void hone_tracepoint_sync(void);

/*
 * Slab caches of Hone's own, for what is made for every packet. Each object starts with a
 * hone_slab_head: its reference count and its cache, so that whoever drops the last reference
 * (any module, any context) frees it to the right cache. The cache is not merged with others
 * of its size, so /proc/slabinfo counts its objects alone. Destroying a cache that still has
 * objects warns and leaves it in place (the slab allocator's rule).
 */
struct kmem_cache;
struct hone_slab_head {
	refcount_t refs;
	struct kmem_cache *cache;
};

/* A cache named name (copied) of objects of size bytes aligned to align; NULL if none. */
struct kmem_cache *hone_slab_create(const char *name, unsigned int size, unsigned int align);
void hone_slab_destroy(struct kmem_cache *cache);
/* An object of the cache (GFP_ATOMIC, no warning) with one reference; NULL if memory is short. */
struct hone_slab_head *hone_slab_alloc(struct kmem_cache *cache);
/* Takes a reference; drops one: true if it was the last, and the object is to be freed. */
void hone_slab_get(struct hone_slab_head *head);
bool hone_slab_put(struct hone_slab_head *head);
/* Gives the object back to its cache. */
void hone_slab_free(struct hone_slab_head *head);

struct sk_buff;
struct sock;

/* A clone of skb (GFP_ATOMIC) sharing its data, or NULL. */
struct sk_buff *hone_skb_clone(struct sk_buff *skb);
/* Frees a clone made by hone_skb_clone(). */
void hone_skb_free(struct sk_buff *skb);
/* Bytes from the network header to the end of the packet. */
u32 hone_skb_len(struct sk_buff *skb);
/* Copies len bytes starting off bytes after the network header; 0 or -errno. */
int hone_skb_copy(struct sk_buff *skb, u32 off, void *buf, u32 len);
/*
 * Copies len bytes of a packet, starting off bytes after its network header, to user memory at
 * to: 0, or -EFAULT if the user memory is bad or the packet shorter.
 */
int hone_skb_copy_to_user(struct sk_buff *skb, u32 off, void __user *to, u32 len);
/*
 * Inode number of the socket's file (what ss and /proc/<pid>/fd show); 0 for a socket with no
 * file (closed) and for the kernel's own sockets.
 */
u32 hone_sock_ino(struct sock *sk);

/* Whether the socket is an ICMP or ICMPv6 "ping" socket (SOCK_DGRAM). */
bool hone_sock_is_ping(struct sock *sk);
/* Whether the socket is a listening TCP socket. */
bool hone_sock_is_listener(struct sock *sk);
/* Id of the cgroup (v2) the socket was opened in; 0 when the kernel does not keep it. */
u64 hone_sock_cgroup_id(struct sock *sk);
/* Whether the socket is an AF_INET or AF_INET6 socket opened by a user (not the kernel). */
bool hone_sock_is_user_inet(struct sock *sk);

#endif
