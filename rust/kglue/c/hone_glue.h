/* SPDX-License-Identifier: GPL-2.0 */
/*
 * C helpers shared by every Hone module: what Rust cannot call directly because it is a
 * static inline or a macro in 6.12 (irq-safe spinlocks, wait queues, task fields, RCU).
 * Each module's shim.c includes hone_glue.c once; shim.h includes this header so that bindgen
 * turns these prototypes into checked Rust declarations.
 */
#ifndef HONE_GLUE_H
#define HONE_GLUE_H

#include <linux/spinlock_types.h>
#include <linux/types.h>

struct task_struct;
struct wait_queue_head;
struct notifier_block;

/* spin_lock_irqsave()/spin_unlock_irqrestore() on a spinlock_t. */
unsigned long hone_spin_lock_irqsave(spinlock_t *lock);
void hone_spin_unlock_irqrestore(spinlock_t *lock, unsigned long flags);

/* init_waitqueue_head(); wake readers only if somebody sleeps. */
void hone_waitqueue_init(struct wait_queue_head *wq);
void hone_waitqueue_wake(struct wait_queue_head *wq);
/*
 * wait_event_interruptible(*wq, ready(data)): 0 once ready, -ERESTARTSYS on a signal.
 * ready() runs in TASK_INTERRUPTIBLE state and must not sleep.
 */
int hone_waitqueue_wait(struct wait_queue_head *wq, bool (*ready)(void *data), void *data);

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
	u64 start_ns;	/* monotonic start time */
};

#define HONE_TASK_KTHREAD	1u	/* PF_KTHREAD */
#define HONE_TASK_FORKNOEXEC	2u	/* PF_FORKNOEXEC: forked, never exec'd */
#define HONE_TASK_LEADER	4u	/* thread-group leader */
#define HONE_TASK_GROUP_DEAD	8u	/* last thread of its group is exiting */

void hone_task_ids(struct task_struct *task, struct hone_task_ids *ids);
/* Copies the task's comm (NUL-free) into buf; returns its length. */
int hone_task_comm(struct task_struct *task, char *buf, int len);

#endif
