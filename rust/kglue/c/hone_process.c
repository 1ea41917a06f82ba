// SPDX-License-Identifier: GPL-2.0
/*
 * What the Rust side of rust/kglue/process.rs asks of the kernel: see hone_process.h.
 * Included once by the shim.c of the module that uses it (process_notify).
 */

#include <linux/binfmts.h>
#include <linux/cgroup.h>
#include <linux/dcache.h>
#include <linux/err.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/nsproxy.h>
#include <linux/pid_namespace.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <net/net_namespace.h>

#include "hone_process.h"

/* d_path() writes the name at the end of buf; move it to the start. */
static int path_to_start(const struct path *path, char *buf, int len)
{
	char *p = d_path(path, buf, len);
	int n;

	if (IS_ERR(p))
		return PTR_ERR(p);
	n = buf + len - 1 - p;
	memmove(buf, p, n);
	return n;
}

int hone_bprm_path(struct linux_binprm *bprm, char *buf, int len)
{
	return path_to_start(&bprm->file->f_path, buf, len);
}

long hone_current_argv_len(void)
{
	struct mm_struct *mm = current->mm;

	if (!mm || mm->arg_end < mm->arg_start)
		return 0;
	return mm->arg_end - mm->arg_start;
}

int hone_current_argv(char *buf, int len)
{
	struct mm_struct *mm = current->mm;
	unsigned long n;

	if (!mm)
		return -ESRCH;
	n = min_t(unsigned long, mm->arg_end - mm->arg_start, len);
	if (copy_from_user_nofault(buf, (const void __user *)mm->arg_start, n))
		return -EFAULT;
	return n;
}

void hone_for_each_process(bool (*visit)(void *data, struct task_struct *task), void *data)
{
	struct task_struct *p;

	rcu_read_lock();
	for_each_process(p) {
		if (!visit(data, p))
			break;
	}
	rcu_read_unlock();
}

void hone_task_get(struct task_struct *task)
{
	get_task_struct(task);
}

void hone_task_put(struct task_struct *task)
{
	put_task_struct(task);
}

int hone_task_exe_path(struct task_struct *task, char *buf, int len)
{
	struct mm_struct *mm = get_task_mm(task);
	struct file *exe;
	int n;

	if (!mm)
		return -ESRCH;
	rcu_read_lock();
	exe = get_file_rcu(&mm->exe_file);
	rcu_read_unlock();
	mmput(mm);
	if (!exe)
		return -ENOENT;
	n = path_to_start(&exe->f_path, buf, len);
	fput(exe);
	return n;
}

int hone_task_argv(struct task_struct *task, char *buf, int len)
{
	struct mm_struct *mm = get_task_mm(task);
	unsigned long start, end;
	int n;

	if (!mm)
		return -ESRCH;
	spin_lock(&mm->arg_lock);
	start = mm->arg_start;
	end = mm->arg_end;
	spin_unlock(&mm->arg_lock);
	n = min_t(unsigned long, end > start ? end - start : 0, len);
	if (n > 0)
		n = access_process_vm(task, start, buf, n, FOLL_FORCE);
	mmput(mm);
	return n;
}

static_assert(sizeof(struct hone_task_place) == 24, "hone_task_place layout is shared with Rust");

int hone_task_place(struct task_struct *task, struct hone_task_place *place, char *buf, int len)
{
	struct pid_namespace *pidns;
	int n = -EOPNOTSUPP;

	memset(place, 0, sizeof(*place));
	rcu_read_lock();
	pidns = task_active_pid_ns(task);
	if (pidns) {
		place->nspid = task_tgid_nr_ns(task, pidns);
		place->pidns = pidns->ns.inum;
	}
#ifdef CONFIG_CGROUPS
	{
		/* RCU keeps the css_set, its cgroup and the cgroup's kernfs node. */
		struct cgroup *cgrp = task_dfl_cgroup(task);

		place->cgroup_id = cgroup_id(cgrp);
		n = cgroup_path(cgrp, buf, len);
	}
#endif
	rcu_read_unlock();
	/* The nsproxy is the task's to change; alloc_lock keeps it while it is read. */
	task_lock(task);
	if (task->nsproxy)
		place->netns = task->nsproxy->net_ns->ns.inum;
	task_unlock(task);
	if (n >= len)
		n = len - 1;
	return n;
}
