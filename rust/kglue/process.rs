// SPDX-License-Identifier: GPL-2.0

//! Processes as process_notify sees them: the scheduler's fork, exec and exit tracepoints, the
//! list of running processes, and what a process's exec and memory say of it (executable path,
//! arguments). The C half is `c/hone_process.c`.

use super::process_event::{ProcessEvent, ProcessPlace, ProcessSnapshotFn};
use super::kvec;
use super::task::Task;
use super::tracepoint::Probe;
use core::ffi::c_void;
use core::ptr::NonNull;
use kernel::alloc::Flags;
use kernel::bindings;
use kernel::c_str;
use kernel::ffi::c_int;
use kernel::prelude::*;
use kernel::sync::Arc;
use kernel::types::Opaque;

/// Buffer for `d_path` (the kernel's `PATH_MAX`).
const PATH_MAX: usize = 4096;

/// Reads a path through a `PATH_MAX` scratch buffer and keeps an exactly sized copy.
fn read_path(flags: Flags, fill: impl FnOnce(*mut u8, c_int) -> c_int) -> Option<KVec<u8>> {
    kvec::exact(&kvec::filled(PATH_MAX, flags, fill)?, flags)
}

/// The program an exec is loading (`struct linux_binprm`).
///
/// # Invariants
///
/// A `&Binprm` refers to a live `linux_binprm` whose file is open, for its whole lifetime.
#[repr(transparent)]
pub(crate) struct Binprm(Opaque<bindings::linux_binprm>);

impl Binprm {
    /// The path of the executable; `None` if it cannot be named or memory is short. Any
    /// context.
    pub(crate) fn path(&self, flags: Flags) -> Option<KVec<u8>> {
        // SAFETY: the binprm is live, its file open (type invariant); `buf` holds `len` bytes.
        read_path(flags, |buf, len| unsafe { crate::shim::hone_bprm_path(self.0.get(), buf, len) })
    }
}

/// Up to `max` bytes of the current task's arguments (NUL-separated), read without faulting,
/// so in any context; `None` if it has none, if they are not in memory (paged out) or if memory
/// is short.
pub(crate) fn current_argv(max: usize, flags: Flags) -> Option<KVec<u8>> {
    // SAFETY: reads `current`'s mm; no precondition.
    let total = usize::try_from(unsafe { crate::shim::hone_current_argv_len() }).unwrap_or(0);
    let want = total.min(max);
    if want == 0 {
        return None;
    }
    // SAFETY: the buffer is valid for `len` bytes; the copy does not fault.
    kvec::filled(want, flags, |buf, len| unsafe { crate::shim::hone_current_argv(buf, len) })
}

impl Task {
    /// The path of its executable, read from its memory; `None` for a task with no memory (a
    /// kernel thread, an exited process) or if memory is short. Process context: may sleep.
    pub(crate) fn exe_path(&self, flags: Flags) -> Option<KVec<u8>> {
        // SAFETY: the task is live (`Task`'s invariant); the buffer is valid for `len` bytes.
        read_path(flags, |buf, len| unsafe { crate::shim::hone_task_exe_path(self.as_ptr(), buf, len) })
    }

    /// Its cgroup and namespaces; `None` if memory is short. Any context but a hard interrupt.
    pub(crate) fn place(&self, flags: Flags) -> Option<ProcessPlace> {
        let mut place = crate::shim::hone_task_place::default();
        let path = kvec::filled(PATH_MAX, flags, |buf, len| {
            // SAFETY: the task is live (`Task`'s invariant), `place` is writable, `buf` holds `len` bytes.
            unsafe { crate::shim::hone_task_place(self.as_ptr(), &mut place, buf, len) }.max(0)
        })?;
        Some(ProcessPlace {
            cgroup_id: place.cgroup_id,
            cgroup_path: kvec::exact(&path, flags)?,
            nspid: place.nspid,
            pidns: place.pidns,
            netns: place.netns,
        })
    }

    /// Up to `max` bytes of its arguments (NUL-separated), read from its memory, in an exactly
    /// sized vector. Process context: may sleep.
    pub(crate) fn argv(&self, max: usize, flags: Flags) -> Option<KVec<u8>> {
        // SAFETY: the task is live (`Task`'s invariant); the buffer is valid for `len` bytes.
        let argv = kvec::filled(max, flags, |buf, len| unsafe { crate::shim::hone_task_argv(self.as_ptr(), buf, len) })?;
        kvec::exact(&argv, flags)
    }
}

/// Handlers of the scheduler's process tracepoints, called in the tracepoint's context (it
/// may be atomic: they must not sleep).
pub(crate) trait SchedProbes: Sync {
    /// `sched_process_fork`: `parent` made `child` (a process or a thread).
    fn fork(&self, parent: &Task, child: &Task);
    /// `sched_process_exec`: `task`, the current task, has exec'd `bprm`.
    fn exec(&self, task: &Task, bprm: &Binprm);
    /// `sched_process_exit`: `task` (a thread) is exiting.
    fn exit(&self, task: &Task);
}

/// The probes of `T` on `sched_process_fork`, `sched_process_exec` and `sched_process_exit`:
/// what its `TracepointProbes::probes` returns.
pub(crate) fn sched_probes<T: SchedProbes>() -> [Probe<T>; 3] {
    // Each function takes a `*const T` and then its tracepoint's arguments, as far as it reads
    // them (an argument a newer kernel appends is ignored by the C calling convention).
    // SAFETY: so each is a probe of that tracepoint for `T`.
    unsafe {
        [
            Probe::new(c_str!("sched_process_fork"), fork_probe::<T> as *mut c_void),
            Probe::new(c_str!("sched_process_exec"), exec_probe::<T> as *mut c_void),
            Probe::new(c_str!("sched_process_exit"), exit_probe::<T> as *mut c_void),
        ]
    }
}

/// `sched_process_fork(parent, child)`.
unsafe extern "C" fn fork_probe<T: SchedProbes>(
    data: *mut c_void,
    parent: *mut bindings::task_struct,
    child: *mut bindings::task_struct,
) {
    // `data` is the `T` that `Tracepoints::attach` attached with this probe, alive until it is
    // detached.
    // SAFETY: and the tracepoint lends both tasks for the call.
    let (probes, parent, child) = unsafe { (&*(data as *const T), Task::from_raw(parent), Task::from_raw(child)) };
    probes.fork(parent, child);
}

/// `sched_process_exec(task, old_pid, bprm)`.
unsafe extern "C" fn exec_probe<T: SchedProbes>(
    data: *mut c_void,
    task: *mut bindings::task_struct,
    _old_pid: i32,
    bprm: *mut bindings::linux_binprm,
) {
    // INVARIANT: the tracepoint fires after the exec succeeded, with `bprm`'s file open.
    // `Binprm` is a transparent wrapper of `linux_binprm`.
    // SAFETY: `data` as in `fork_probe`; the tracepoint lends the task and binprm for the call.
    let (probes, task, bprm) = unsafe { (&*(data as *const T), Task::from_raw(task), &*bprm.cast::<Binprm>()) };
    probes.exec(task, bprm);
}

/// `sched_process_exit(task)`.
unsafe extern "C" fn exit_probe<T: SchedProbes>(data: *mut c_void, task: *mut bindings::task_struct) {
    // SAFETY: as in `fork_probe`.
    let (probes, task) = unsafe { (&*(data as *const T), Task::from_raw(task)) };
    probes.exit(task);
}

/// A reference on a task, which keeps it alive until dropped.
///
/// # Invariants
///
/// This value holds a reference (`get_task_struct`) on the task at `self.0`.
struct TaskRef(NonNull<bindings::task_struct>);

impl TaskRef {
    /// Takes a reference on `task`.
    fn new(task: &Task) -> Self {
        // SAFETY: the task is live (`Task`'s invariant).
        unsafe { crate::shim::hone_task_get(task.as_ptr()) };
        // INVARIANT: the reference was just taken.
        TaskRef(NonNull::from(task).cast())
    }
}

impl core::ops::Deref for TaskRef {
    type Target = Task;

    fn deref(&self) -> &Task {
        // SAFETY: the reference held (type invariant) keeps the task alive while `self` is.
        unsafe { Task::from_raw(self.0.as_ptr()) }
    }
}

impl Drop for TaskRef {
    fn drop(&mut self) {
        // SAFETY: drops the reference this value holds (type invariant).
        unsafe { crate::shim::hone_task_put(self.0.as_ptr()) };
    }
}

/// References on running processes (thread-group leaders), oldest first.
pub(crate) struct Processes {
    tasks: KVec<TaskRef>,
    missed: usize,
}

impl Processes {
    /// References on every running process. Process context.
    pub(crate) fn collect() -> Result<Self> {
        let mut n = 0usize;
        // SAFETY: `count` only touches the counter, a `usize`.
        unsafe { crate::shim::hone_for_each_process(Some(Self::count), &mut n as *mut usize as *mut c_void) };
        // Room for processes started while the list is being made.
        let mut list = Processes { tasks: KVec::with_capacity(n + 64, GFP_KERNEL)?, missed: 0 };
        // SAFETY: `take` does not sleep and only touches the list, a `Processes`.
        unsafe { crate::shim::hone_for_each_process(Some(Self::take), &mut list as *mut Processes as *mut c_void) };
        Ok(list)
    }

    /// The processes, oldest first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Task> {
        self.tasks.iter().map(|task| &**task)
    }

    /// How many processes started during the walk were left out (the list had no room).
    pub(crate) fn missed(&self) -> usize {
        self.missed
    }

    unsafe extern "C" fn count(data: *mut c_void, _task: *mut bindings::task_struct) -> bool {
        // SAFETY: `data` is the `usize` counter `collect` passed.
        let n = unsafe { &mut *(data as *mut usize) };
        *n += 1;
        true
    }

    unsafe extern "C" fn take(data: *mut c_void, task: *mut bindings::task_struct) -> bool {
        // SAFETY: `data` is `collect`'s `Processes`; `task` lives under the walk's RCU lock.
        let (list, task) = unsafe { (&mut *(data as *mut Processes), Task::from_raw(task)) };
        if list.tasks.len() < list.tasks.capacity() {
            // The capacity was checked: nothing is allocated, so this cannot fail; if it did,
            // the reference would be dropped with the value.
            let _ = list.tasks.push(TaskRef::new(task), GFP_ATOMIC);
        } else {
            list.missed += 1;
        }
        true
    }
}

/// A consumer of process_notify's snapshot: its callback and the callback's data.
///
/// # Invariants
///
/// `sink` may be called with `data` for as long as this value lives.
pub(crate) struct ProcessSink {
    sink: ProcessSnapshotFn,
    data: *mut c_void,
}

impl ProcessSink {
    /// The consumer behind `hone_process_snapshot(sink, data)`.
    ///
    /// # Safety
    ///
    /// `sink` must be callable with `data` for as long as the value lives.
    pub(crate) unsafe fn new(sink: ProcessSnapshotFn, data: *mut c_void) -> Self {
        // INVARIANT: the caller's guarantee.
        ProcessSink { sink, data }
    }

    /// Hands `event`, which describes `task`, to the consumer (both lent for the call); false
    /// when it wants no more.
    pub(crate) fn give(&self, event: &Arc<ProcessEvent>, task: &Task) -> bool {
        // The sink reads the event as the `&Arc<ProcessEvent>` that `ProcessSnapshotFn` promises.
        // SAFETY: and `sink` is callable with `data` (type invariant).
        unsafe { (self.sink)(self.data, event as *const Arc<ProcessEvent> as *const c_void, task.as_ptr()) }
    }
}

/// Defines `hone_process_snapshot`, which process_notify exports to hone_notify, as a call of
/// `$handler(&ProcessSink) -> Result`, which describes every running process to the sink.
#[macro_export]
macro_rules! process_snapshot_entry {
    ($handler:path) => {
        /// Hands an event for every running process (oldest first), with its task, to
        /// `sink(data, &Arc<ProcessEvent>, task)` until it returns false. Process context.
        /// Returns 0 or a negative errno.
        ///
        /// # Safety
        ///
        /// `sink` must be callable with `data` for the whole call.
        #[no_mangle]
        pub unsafe extern "C" fn hone_process_snapshot(
            sink: Option<$crate::kglue::process_event::ProcessSnapshotFn>,
            data: *mut ::core::ffi::c_void,
        ) -> ::kernel::ffi::c_int {
            let Some(sink) = sink else { return ::kernel::error::code::EINVAL.to_errno() };
            // SAFETY: the caller's guarantee; the sink is dropped before this call returns.
            let sink = unsafe { $crate::kglue::process::ProcessSink::new(sink, data) };
            match $handler(&sink) {
                Ok(()) => 0,
                Err(e) => e.to_errno(),
            }
        }
        $crate::declared_in_c!(hone_process_snapshot);
    };
}
