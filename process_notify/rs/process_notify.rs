// SPDX-License-Identifier: GPL-2.0

//! process_notify: fork, exec and exit of every process on the host.
//!
//! Events come from the scheduler tracepoints `sched_process_fork`, `sched_process_exec` and
//! `sched_process_exit` (no kprobes). Only processes are reported, not threads: a fork is
//! reported when the child is a thread-group leader, an exit when the last thread of a group
//! exits. A new kernel thread is reported as a kernel-thread event carrying its name.
//!
//! Each event carries pid (tgid), parent pid, effective uid and gid (initial user namespace)
//! and a monotonic timestamp; an exec also carries the executable's path and the arguments
//! (up to [`MAX_ARGV`] bytes). Events go to the subscribers of this module's chain
//! (`hone_process_register`), in the context of the tracepoint; with no subscriber the probes
//! return at once. `hone_process_snapshot` describes every running process, for readers that
//! start after them.

use core::ffi::c_void;
use core::sync::atomic::{AtomicU64, Ordering};
use kernel::alloc::Flags;
use kernel::bindings::{linux_binprm, task_struct};
use kernel::c_str;
use kernel::ffi::c_int;
use kernel::prelude::*;
use kernel::sync::Arc;

// Shared with the other modules, each of which uses a part.
#[path = "../../rust/hone/src"]
#[allow(dead_code, unreachable_pub)]
mod hone {
    pub mod record;
}

#[path = "../../rust/kglue"]
#[allow(dead_code, unreachable_pub)]
mod kglue {
    pub mod event;
    pub mod kvec;
    pub mod module;
    pub mod tracepoint;
    pub mod user;
}

#[allow(non_camel_case_types, non_upper_case_globals, dead_code, improper_ctypes, missing_docs, unreachable_pub)]
mod shim {
    include!("../../rust/kglue/shim_types.rs");
    include!("shim_bindings.rs");
}

use hone::record::ProcessKind;
use kglue::event::{ProcessEvent, ProcessSnapshotFn};
use kglue::tracepoint::{Probe, TracepointProbes, Tracepoints};
use shim::hone_task_ids;

crate::hone_module! {
    type: ProcessNotifyModule,
    name: "process_notify",
    description: "Hone: fork, exec and exit events from the scheduler tracepoints",
}

/// Longest argument list kept for an exec; longer ones are cut and end with a NUL byte.
pub const MAX_ARGV: usize = 16 * 1024;
/// Buffer for `d_path` (the kernel's `PATH_MAX`).
const PATH_MAX: usize = 4096;

/// A task the kernel lends us for the duration of a call.
#[derive(Clone, Copy)]
struct TaskRef(*mut task_struct);

impl TaskRef {
    fn ids(self) -> hone_task_ids {
        let mut ids = hone_task_ids::default();
        // SAFETY: `self.0` is a live task for the duration of the call that lent it.
        unsafe { shim::hone_task_ids(self.0, &mut ids) };
        ids
    }

    fn comm(self, flags: Flags) -> Option<KVec<u8>> {
        // SAFETY: as in `ids`; the buffer is valid for `len` bytes.
        read_bytes(16, flags, |buf, len| unsafe { shim::hone_task_comm(self.0, buf, len) })
    }
}

/// Fills up to `cap` bytes with `fill(buf, cap)` (which returns the length or a negative
/// errno) and returns exactly the bytes written.
fn read_bytes(cap: usize, flags: Flags, fill: impl FnOnce(*mut u8, c_int) -> c_int) -> Option<KVec<u8>> {
    let mut v = KVec::from_elem(0u8, cap, flags).ok()?;
    let n = fill(v.as_mut_ptr(), cap as c_int);
    let n = usize::try_from(n).ok()?.min(cap);
    kglue::kvec::truncate(&mut v, n);
    Some(v)
}

/// Reads a path through a `PATH_MAX` scratch buffer and keeps an exactly sized copy.
fn read_path(flags: Flags, fill: impl FnOnce(*mut u8, c_int) -> c_int) -> Option<KVec<u8>> {
    let scratch = read_bytes(PATH_MAX, flags, fill)?;
    let mut path = KVec::with_capacity(scratch.len(), flags).ok()?;
    path.extend_from_slice(&scratch, flags).ok()?;
    Some(path)
}

/// Makes a truncated argument list end with a NUL, as a complete one does.
fn terminate(mut argv: KVec<u8>) -> KVec<u8> {
    if let Some(last) = argv.last_mut() {
        *last = 0;
    }
    argv
}

fn event(kind: ProcessKind, ids: &hone_task_ids, ts_ns: u64) -> ProcessEvent {
    ProcessEvent {
        kind,
        pid: ids.pid,
        ppid: ids.ppid,
        euid: ids.euid,
        egid: ids.egid,
        ts_ns,
        path: None,
        argv: None,
    }
}

fn now_ns() -> u64 {
    // SAFETY: reads the monotonic clock; callable from any context.
    unsafe { shim::hone_clock_mono_ns() }
}

/// Handlers of the three scheduler tracepoints.
trait SchedProbes: Sync {
    /// `sched_process_fork(parent, child)`.
    fn fork(&self, child: TaskRef);
    /// `sched_process_exec(task, old_pid, bprm)`; `task` is `current`.
    fn exec(&self, task: TaskRef, bprm: *mut linux_binprm);
    /// `sched_process_exit(task)`.
    fn exit(&self, task: TaskRef);
}

unsafe extern "C" fn fork_probe<T: SchedProbes>(data: *mut c_void, _parent: *mut task_struct, child: *mut task_struct) {
    // SAFETY: `data` is the `T` that `SchedTracepoints` attached, alive until detached.
    let probes = unsafe { &*(data as *const T) };
    probes.fork(TaskRef(child));
}

unsafe extern "C" fn exec_probe<T: SchedProbes>(data: *mut c_void, task: *mut task_struct, _old_pid: i32, bprm: *mut linux_binprm) {
    // SAFETY: as in `fork_probe`.
    let probes = unsafe { &*(data as *const T) };
    probes.exec(TaskRef(task), bprm);
}

unsafe extern "C" fn exit_probe<T: SchedProbes>(data: *mut c_void, task: *mut task_struct) {
    // SAFETY: as in `fork_probe`.
    let probes = unsafe { &*(data as *const T) };
    probes.exit(TaskRef(task));
}

impl<T: SchedProbes> TracepointProbes for T {
    type List = [Probe; 3];

    fn probes() -> [Probe; 3] {
        [
            Probe { name: c_str!("sched_process_fork"), func: fork_probe::<T> as *mut c_void },
            Probe { name: c_str!("sched_process_exec"), func: exec_probe::<T> as *mut c_void },
            Probe { name: c_str!("sched_process_exit"), func: exit_probe::<T> as *mut c_void },
        ]
    }
}

/// Turns tracepoint hits into events for the chain's subscribers.
struct ProcessNotifier {
    /// Events lost because memory could not be allocated in atomic context.
    lost: AtomicU64,
}

impl ProcessNotifier {
    fn active() -> bool {
        // SAFETY: reads the chain's head pointer; callable from any context.
        unsafe { shim::hone_process_has_subscribers() }
    }

    fn publish(&self, event: ProcessEvent) {
        match Arc::new(event, GFP_ATOMIC) {
            Ok(event) => {
                // SAFETY: lends `&Arc<ProcessEvent>` (what `ProcessSource` promises) for the call.
                unsafe { shim::hone_process_call(&event as *const Arc<ProcessEvent> as *mut c_void) };
            }
            Err(_) => {
                self.lost.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

impl SchedProbes for ProcessNotifier {
    fn fork(&self, child: TaskRef) {
        if !Self::active() {
            return;
        }
        let ids = child.ids();
        if ids.flags & shim::HONE_TASK_LEADER == 0 {
            return;
        }
        let kthread = ids.flags & shim::HONE_TASK_KTHREAD != 0;
        let kind = if kthread { ProcessKind::Kthread } else { ProcessKind::Fork };
        let mut ev = event(kind, &ids, now_ns());
        if kthread {
            ev.path = child.comm(GFP_ATOMIC);
        }
        self.publish(ev);
    }

    fn exec(&self, task: TaskRef, bprm: *mut linux_binprm) {
        if !Self::active() {
            return;
        }
        let mut ev = event(ProcessKind::Exec, &task.ids(), now_ns());
        // SAFETY: `bprm` is the tracepoint's live binprm, with its file open.
        ev.path = read_path(GFP_ATOMIC, |buf, len| unsafe { shim::hone_bprm_path(bprm, buf, len) });
        // SAFETY: reads `current`'s (the exec'ing task's) mm; no precondition.
        let total = usize::try_from(unsafe { shim::hone_current_argv_len() }).unwrap_or(0);
        let want = total.min(MAX_ARGV);
        if want > 0 {
            // SAFETY: the buffer is valid for `len` bytes; the copy cannot fault.
            let argv = read_bytes(want, GFP_ATOMIC, |buf, len| unsafe { shim::hone_current_argv(buf, len) });
            ev.argv = argv.map(terminate);
        }
        self.publish(ev);
    }

    fn exit(&self, task: TaskRef) {
        if !Self::active() {
            return;
        }
        let ids = task.ids();
        if ids.flags & shim::HONE_TASK_GROUP_DEAD == 0 {
            return;
        }
        self.publish(event(ProcessKind::Exit, &ids, now_ns()));
    }
}

impl Drop for ProcessNotifier {
    fn drop(&mut self) {
        let lost = self.lost.load(Ordering::Relaxed);
        if lost > 0 {
            pr_warn!("{} process events were lost to allocation failures\n", lost);
        }
    }
}

/// Describes a process that was already running, in process context (path and arguments are
/// read from its memory, which may sleep).
fn describe(task: TaskRef) -> Option<ProcessEvent> {
    let ids = task.ids();
    if ids.flags & shim::HONE_TASK_GROUP_DEAD != 0 {
        return None;
    }
    if ids.flags & shim::HONE_TASK_KTHREAD != 0 {
        let mut ev = event(ProcessKind::Kthread, &ids, ids.start_ns);
        ev.path = task.comm(GFP_KERNEL);
        return Some(ev);
    }
    let kind = if ids.flags & shim::HONE_TASK_FORKNOEXEC != 0 { ProcessKind::Fork } else { ProcessKind::Exec };
    let mut ev = event(kind, &ids, ids.start_ns);
    // SAFETY: the caller holds a reference on the task; the buffers are valid for `len` bytes.
    ev.path = read_path(GFP_KERNEL, |buf, len| unsafe { shim::hone_task_exe_path(task.0, buf, len) });
    // SAFETY: as above.
    ev.argv = read_bytes(MAX_ARGV, GFP_KERNEL, |buf, len| unsafe { shim::hone_task_argv(task.0, buf, len) })
        .and_then(|argv| {
            let mut exact = KVec::with_capacity(argv.len(), GFP_KERNEL).ok()?;
            exact.extend_from_slice(&argv, GFP_KERNEL).ok()?;
            Some(exact)
        })
        .filter(|argv| !argv.is_empty())
        .map(terminate);
    Some(ev)
}

/// Task references taken under RCU, released on drop.
struct TaskList {
    tasks: KVec<TaskRef>,
    missed: usize,
}

impl TaskList {
    unsafe extern "C" fn count(data: *mut c_void, _task: *mut task_struct) -> bool {
        // SAFETY: `data` is the `usize` counter passed by `collect`.
        let n = unsafe { &mut *(data as *mut usize) };
        *n += 1;
        true
    }

    unsafe extern "C" fn take(data: *mut c_void, task: *mut task_struct) -> bool {
        // SAFETY: `data` is the `TaskList` passed by `collect`.
        let list = unsafe { &mut *(data as *mut TaskList) };
        if list.tasks.len() < list.tasks.capacity() {
            // SAFETY: `task` is alive under the walk's RCU lock; this reference lasts until `drop`.
            unsafe { shim::hone_task_get(task) };
            // Cannot fail: the capacity was checked, so nothing is allocated.
            if list.tasks.push(TaskRef(task), GFP_ATOMIC).is_err() {
                // SAFETY: drops the reference just taken.
                unsafe { shim::hone_task_put(task) };
            }
        } else {
            list.missed += 1;
        }
        true
    }

    /// References to every process, oldest first.
    fn collect() -> Result<Self> {
        let mut n = 0usize;
        // SAFETY: `count` only touches the counter.
        unsafe { shim::hone_for_each_process(Some(Self::count), &mut n as *mut usize as *mut c_void) };
        // Room for processes started while the list is being made.
        let mut list = TaskList { tasks: KVec::with_capacity(n + 64, GFP_KERNEL)?, missed: 0 };
        // SAFETY: `take` does not sleep and only touches the list.
        unsafe { shim::hone_for_each_process(Some(Self::take), &mut list as *mut TaskList as *mut c_void) };
        if list.missed > 0 {
            pr_warn!("snapshot: {} processes started during the walk are left out\n", list.missed);
        }
        Ok(list)
    }
}

impl Drop for TaskList {
    fn drop(&mut self) {
        for task in self.tasks.iter() {
            // SAFETY: `take` took this reference.
            unsafe { shim::hone_task_put(task.0) };
        }
    }
}

/// Hands an event for every running process (oldest first) to
/// `sink(data, &Arc<ProcessEvent>, task)` until it returns false. Process context only. Returns 0
/// or a negative errno.
///
/// # Safety
///
/// `sink` must be callable with `data` for the whole call.
#[no_mangle]
pub unsafe extern "C" fn hone_process_snapshot(
    sink: Option<ProcessSnapshotFn>,
    data: *mut c_void,
) -> c_int {
    let Some(sink) = sink else { return EINVAL.to_errno() };
    let list = match TaskList::collect() {
        Ok(list) => list,
        Err(e) => return e.to_errno(),
    };
    for task in list.tasks.iter() {
        let Some(ev) = describe(*task) else { continue };
        let ev = match Arc::new(ev, GFP_KERNEL) {
            Ok(ev) => ev,
            Err(_) => return ENOMEM.to_errno(),
        };
        // SAFETY: the caller guarantees `sink`/`data`; the event is lent for the call.
        if !unsafe { sink(data, &ev as *const Arc<ProcessEvent> as *const c_void, task.0) } {
            break;
        }
    }
    0
}

struct ProcessNotifyModule {
    _probes: Tracepoints<ProcessNotifier>,
}

impl kernel::Module for ProcessNotifyModule {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let notifier = ProcessNotifier { lost: AtomicU64::new(0) };
        Ok(ProcessNotifyModule { _probes: Tracepoints::attach(notifier)? })
    }
}
