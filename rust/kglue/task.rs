// SPDX-License-Identifier: GPL-2.0

//! Tasks the kernel lends to a call, and their identity as Hone reports it.

use crate::shim::hone_task_ids;
#[cfg(hone_crate = "process_notify")]
use crate::shim::{HONE_TASK_FORKNOEXEC, HONE_TASK_GROUP_DEAD, HONE_TASK_KTHREAD, HONE_TASK_LEADER};
use crate::hone::record::Comm;
use kernel::bindings;
use kernel::ffi::c_int;
use kernel::types::Opaque;

/// A task (a thread, or a thread group's leader).
///
/// # Invariants
///
/// A `&Task` refers to a live `task_struct` for its whole lifetime.
#[repr(transparent)]
pub(crate) struct Task(Opaque<bindings::task_struct>);

impl Task {
    /// The task at `ptr`.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a `task_struct` that stays alive for `'a`.
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::task_struct) -> &'a Task {
        // INVARIANT: the caller keeps the task alive for `'a`.
        // `Task` is a transparent wrapper of `task_struct`: the cast keeps the layout.
        // SAFETY: and the pointer is valid for `'a` (the caller's guarantee).
        unsafe { &*ptr.cast::<Task>() }
    }

    /// `f(current)` when running in task context; `None` in an interrupt or a softirq, where
    /// the current task is only the one interrupted.
    #[cfg(hone_crate = "hone_notify")]
    pub(crate) fn with_current<R>(f: impl FnOnce(&Task) -> R) -> Option<R> {
        // SAFETY: no precondition; null outside task context.
        let task = unsafe { crate::shim::hone_current_task() };
        if task.is_null() {
            return None;
        }
        // SAFETY: the current task is alive while it runs this call.
        Some(f(unsafe { Task::from_raw(task) }))
    }

    /// The raw `task_struct`, for the C side of a module boundary.
    pub(crate) fn as_ptr(&self) -> *mut bindings::task_struct {
        self.0.get()
    }

    /// Its ids, flags and start time. Any context.
    pub(crate) fn ids(&self) -> hone_task_ids {
        let mut ids = hone_task_ids::default();
        // SAFETY: the task is live (type invariant) and `ids` is a valid place to write.
        unsafe { crate::shim::hone_task_ids(self.as_ptr(), &mut ids) };
        ids
    }

    /// Its name (`comm`). Any context; allocates nothing.
    pub(crate) fn comm(&self) -> Comm {
        let mut comm = [0u8; 16];
        // SAFETY: the task is live (type invariant) and `comm` is valid for 16 bytes.
        let n = unsafe { crate::shim::hone_task_comm(self.as_ptr(), comm.as_mut_ptr(), comm.len() as c_int) };
        Comm::new(&comm[..usize::try_from(n).unwrap_or(0).min(comm.len())])
    }
}

impl hone_task_ids {
    /// A kernel thread (`PF_KTHREAD`).
    #[cfg(hone_crate = "process_notify")]
    pub(crate) fn is_kthread(&self) -> bool {
        self.flags & HONE_TASK_KTHREAD != 0
    }

    /// Forked and never exec'd (`PF_FORKNOEXEC`).
    #[cfg(hone_crate = "process_notify")]
    pub(crate) fn never_execd(&self) -> bool {
        self.flags & HONE_TASK_FORKNOEXEC != 0
    }

    /// A thread-group leader: the task that stands for a process.
    #[cfg(hone_crate = "process_notify")]
    pub(crate) fn is_leader(&self) -> bool {
        self.flags & HONE_TASK_LEADER != 0
    }

    /// The last thread of its group is exiting: the process is ending.
    #[cfg(hone_crate = "process_notify")]
    pub(crate) fn group_dead(&self) -> bool {
        self.flags & HONE_TASK_GROUP_DEAD != 0
    }
}
