/* SPDX-License-Identifier: GPL-2.0 */
/*
 * C helpers of rust/kglue/process.rs: what a process's exec, memory and task list hold, where
 * reading them needs static inlines, macros or locks Rust cannot take. The including module's
 * shim.h includes this header (so bindgen declares them) and its shim.c includes
 * hone_process.c once.
 */
#ifndef HONE_PROCESS_H
#define HONE_PROCESS_H

#include <linux/types.h>

struct linux_binprm;
struct task_struct;

/* Path of the executable being exec'd, written at the start of buf; length or -errno. */
int hone_bprm_path(struct linux_binprm *bprm, char *buf, int len);
/* Size of the current task's argument area. */
long hone_current_argv_len(void);
/* Copies up to len bytes of the current task's arguments without faulting; bytes or -errno. */
int hone_current_argv(char *buf, int len);

/*
 * Calls visit(data, task) for each process (thread-group leader) under rcu_read_lock, oldest
 * first, until visit returns false. visit must not sleep.
 */
void hone_for_each_process(bool (*visit)(void *data, struct task_struct *task), void *data);
void hone_task_get(struct task_struct *task);
void hone_task_put(struct task_struct *task);
/* Executable path / arguments of another task (process context, may sleep); length or -errno. */
int hone_task_exe_path(struct task_struct *task, char *buf, int len);
int hone_task_argv(struct task_struct *task, char *buf, int len);

/*
 * Where a process lives, as /proc/<pid> shows it to the host: its cgroup (v2) and namespaces.
 * An id the task no longer has (it is leaving its namespaces) is 0.
 */
struct hone_task_place {
	u64 cgroup_id;		/* kernfs id of its cgroup: the inode number of its directory */
	s32 nspid;		/* its tgid in its own pid namespace (the last NSpid) */
	u32 pidns;		/* inode number of /proc/<pid>/ns/pid */
	u32 netns;		/* inode number of /proc/<pid>/ns/net */
	u32 reserved;
};

/*
 * Fills place and writes the path of task's cgroup from the hierarchy's root at the start of
 * buf (cut to len - 1 bytes); the path's length, or -errno if the kernel has no cgroups. Any
 * context but a hard interrupt; takes the task's alloc_lock.
 */
int hone_task_place(struct task_struct *task, struct hone_task_place *place, char *buf, int len);

#endif
