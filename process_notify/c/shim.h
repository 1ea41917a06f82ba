/* SPDX-License-Identifier: GPL-2.0 */
/* process_notify's C shim: tracepoint attachment and task/exec accessors for the Rust crate. */
#ifndef PROCESS_NOTIFY_SHIM_H
#define PROCESS_NOTIFY_SHIM_H

#include "../../rust/kglue/c/hone_glue.h"
#include "../../rust/kglue/c/hone_chain.h"

struct linux_binprm;

HONE_DECLARE_CHAIN(process);

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

#ifndef __BINDGEN__
/* Implemented in Rust, exported here. */
int hone_process_snapshot(bool (*sink)(void *data, const void *event, struct task_struct *task), void *data);
#endif

#endif
