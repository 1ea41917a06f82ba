// SPDX-License-Identifier: GPL-2.0
/* Implementation of hone_glue.h; included once by each module's shim.c. */

#include <linux/cgroup.h>
#include <linux/cred.h>
#include <linux/skbuff.h>
#include <net/sock.h>
#include <net/tcp_states.h>
#include <linux/poll.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/spinlock.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/timer.h>
#include <linux/timekeeping.h>
#include <linux/tracepoint.h>
#include <linux/uidgid.h>
#include <linux/uio.h>
#include <linux/user_namespace.h>
#include <linux/version.h>
#include <linux/wait.h>

#include "hone_glue.h"

static_assert(sizeof(struct hone_task_ids) == 32, "hone_task_ids layout is shared with Rust");

unsigned long hone_spin_lock_irqsave(spinlock_t *lock)
{
	unsigned long flags;

	spin_lock_irqsave(lock, flags);
	return flags;
}

void hone_spin_unlock_irqrestore(spinlock_t *lock, unsigned long flags)
{
	spin_unlock_irqrestore(lock, flags);
}

bool hone_spin_trylock_irqsave(spinlock_t *lock, unsigned long *flags)
{
	unsigned long saved;

	if (!spin_trylock_irqsave(lock, saved))
		return false;
	*flags = saved;
	return true;
}

void hone_spin_assert_held(spinlock_t *lock)
{
	lockdep_assert_held(lock);
}

void hone_waitqueue_init(struct wait_queue_head *wq)
{
	init_waitqueue_head(wq);
}

void hone_waitqueue_wake(struct wait_queue_head *wq)
{
	if (wq_has_sleeper(wq))
		wake_up_interruptible_poll(wq, EPOLLIN | EPOLLRDNORM);
}

int hone_waitqueue_wait(struct wait_queue_head *wq, bool (*ready)(void *data), void *data)
{
	return wait_event_interruptible(*wq, ready(data));
}

struct hone_waker {
	struct timer_list timer;
	struct wait_queue_head *wq;
};

/* 6.16 renamed from_timer() to timer_container_of(). */
#ifndef timer_container_of
#define timer_container_of from_timer
#endif

static void hone_waker_fire(struct timer_list *timer)
{
	struct hone_waker *waker = timer_container_of(waker, timer, timer);

	hone_waitqueue_wake(waker->wq);
}

struct hone_waker *hone_waker_new(struct wait_queue_head *wq)
{
	struct hone_waker *waker = kzalloc(sizeof(*waker), GFP_KERNEL);

	if (!waker)
		return NULL;
	waker->wq = wq;
	timer_setup(&waker->timer, hone_waker_fire, 0);
	return waker;
}

void hone_waker_arm(struct hone_waker *waker, unsigned int delay_ms)
{
	if (!timer_pending(&waker->timer))
		mod_timer(&waker->timer, jiffies + msecs_to_jiffies(delay_ms));
}

void hone_waker_free(struct hone_waker *waker)
{
	if (!waker)
		return;
	timer_shutdown_sync(&waker->timer);
	kfree(waker);
}

u64 hone_clock_mono_ns(void)
{
	return ktime_get_ns();
}

s64 hone_clock_real_offset_ns(void)
{
	return ktime_to_ns(ktime_mono_to_real(0));
}

void hone_task_ids(struct task_struct *task, struct hone_task_ids *ids)
{
	const struct cred *cred;

	rcu_read_lock();
	ids->pid = task_tgid_nr(task);
	ids->tid = task_pid_nr(task);
	ids->ppid = task_tgid_nr(rcu_dereference(task->real_parent));
	cred = __task_cred(task);
	ids->euid = from_kuid_munged(&init_user_ns, cred->euid);
	ids->egid = from_kgid_munged(&init_user_ns, cred->egid);
	rcu_read_unlock();
	ids->flags = 0;
	if (task->flags & PF_KTHREAD)
		ids->flags |= HONE_TASK_KTHREAD;
	if (task->flags & PF_FORKNOEXEC)
		ids->flags |= HONE_TASK_FORKNOEXEC;
	if (thread_group_leader(task))
		ids->flags |= HONE_TASK_LEADER;
	if (task->signal && atomic_read(&task->signal->live) == 0)
		ids->flags |= HONE_TASK_GROUP_DEAD;
	ids->start_ns = task->start_time;
}

int hone_task_comm(struct task_struct *task, char *buf, int len)
{
	char comm[TASK_COMM_LEN];
	int n;

	/*
	 * Without task_lock: it is not safe to take in the packet hooks, which can run under
	 * softirq-safe locks. A rename racing with this read may give a mix of both names, never
	 * more than TASK_COMM_LEN bytes (printk reads current->comm the same way).
	 */
	strscpy_pad(comm, task->comm, sizeof(comm));
	n = min_t(int, strnlen(comm, sizeof(comm)), len);
	memcpy(buf, comm, n);
	return n;
}

struct task_struct *hone_current_task(void)
{
	return in_task() ? current : NULL;
}

struct kmem_cache *hone_slab_create(const char *name, unsigned int size, unsigned int align)
{
	return kmem_cache_create(name, size, align, SLAB_NO_MERGE, NULL);
}

void hone_slab_destroy(struct kmem_cache *cache)
{
	kmem_cache_destroy(cache);
}

struct hone_slab_head *hone_slab_alloc(struct kmem_cache *cache)
{
	struct hone_slab_head *head = kmem_cache_alloc(cache, GFP_ATOMIC | __GFP_NOWARN);

	if (head) {
		refcount_set(&head->refs, 1);
		head->cache = cache;
	}
	return head;
}

void hone_slab_get(struct hone_slab_head *head)
{
	refcount_inc(&head->refs);
}

bool hone_slab_put(struct hone_slab_head *head)
{
	return refcount_dec_and_test(&head->refs);
}

void hone_slab_free(struct hone_slab_head *head)
{
	kmem_cache_free(head->cache, head);
}

struct sk_buff *hone_skb_clone(struct sk_buff *skb)
{
	return skb_clone(skb, GFP_ATOMIC);
}

void hone_skb_free(struct sk_buff *skb)
{
	consume_skb(skb);
}

u32 hone_skb_len(struct sk_buff *skb)
{
	int off = skb_network_offset(skb);

	return off >= 0 && off <= skb->len ? skb->len - off : 0;
}

int hone_skb_copy(struct sk_buff *skb, u32 off, void *buf, u32 len)
{
	return skb_copy_bits(skb, skb_network_offset(skb) + off, buf, len);
}

int hone_skb_copy_to_user(struct sk_buff *skb, u32 off, void __user *to, u32 len)
{
	struct iov_iter iter;
	int ret = import_ubuf(ITER_DEST, to, len, &iter);

	if (ret)
		return ret;
	return skb_copy_datagram_iter(skb, skb_network_offset(skb) + off, &iter, len);
}

u32 hone_sock_ino(struct sock *sk)
{
	/* The kernel's own sockets (TCP resets, ICMP errors) belong to no connection. */
	if (sk->sk_kern_sock)
		return 0;
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 17, 0)
	/* Since 6.17 sock_i_ino() reads the number without a lock, in any context. */
	return sock_i_ino(sk);
#else
	/*
	 * sock_i_ino() disables and re-enables bottom halves, which must not happen with interrupts
	 * off (a kprobe handler); where they are off already, the lock alone is enough.
	 */
	if (irqs_disabled() || in_softirq())
		return __sock_i_ino(sk);
	return sock_i_ino(sk);
#endif
}

struct tracepoint_lookup {
	const char *name;
	struct tracepoint *found;
};

static void tracepoint_match(struct tracepoint *tp, void *priv)
{
	struct tracepoint_lookup *l = priv;

	if (!l->found && strcmp(tp->name, l->name) == 0)
		l->found = tp;
}

static struct tracepoint *tracepoint_find(const char *name)
{
	struct tracepoint_lookup l = { .name = name };

	for_each_kernel_tracepoint(tracepoint_match, &l);
	return l.found;
}

int hone_tracepoint_attach(const char *name, void *probe, void *data)
{
	struct tracepoint *tp = tracepoint_find(name);

	if (!tp)
		return -ENOENT;
	return tracepoint_probe_register(tp, probe, data);
}

void hone_tracepoint_detach(const char *name, void *probe, void *data)
{
	struct tracepoint *tp = tracepoint_find(name);

	if (tp)
		tracepoint_probe_unregister(tp, probe, data);
}

void hone_tracepoint_sync(void)
{
	tracepoint_synchronize_unregister();
}

bool hone_sock_is_user_inet(struct sock *sk)
{
	return (sk->sk_family == AF_INET || sk->sk_family == AF_INET6) && !sk->sk_kern_sock;
}

bool hone_sock_is_ping(struct sock *sk)
{
	return sk->sk_type == SOCK_DGRAM &&
	       (sk->sk_protocol == IPPROTO_ICMP || sk->sk_protocol == IPPROTO_ICMPV6);
}

u64 hone_sock_cgroup_id(struct sock *sk)
{
#ifdef CONFIG_SOCK_CGROUP_DATA
	struct cgroup *cgrp = sock_cgroup_ptr(&sk->sk_cgrp_data);

	return cgrp ? cgroup_id(cgrp) : 0;
#else
	return 0;
#endif
}

bool hone_sock_is_listener(struct sock *sk)
{
	return sk->sk_protocol == IPPROTO_TCP && READ_ONCE(sk->sk_state) == TCP_LISTEN;
}
