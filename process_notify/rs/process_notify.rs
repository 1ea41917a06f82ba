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
//! (up to [`MAX_ARGV`] bytes), and a fork or exec the process's cgroup (v2 path and id), its
//! pid in its own pid namespace and the inodes of its pid and network namespaces. Events go to the subscribers of this module's chain
//! (`hone_process_register`), in the context of the tracepoint; with no subscriber the probes
//! return at once. `hone_process_snapshot` describes every running process, for readers that
//! start after them.

use core::sync::atomic::{AtomicU64, Ordering};
use kernel::prelude::*;
use kernel::sync::Arc;

// Shared with the other modules, each of which uses a part.
#[path = "../../rust/hone/src"]
#[allow(unreachable_pub)]
mod hone {
    pub mod record;
}

#[path = "../../rust/kglue"]
mod kglue {
    pub(crate) mod chain;
    pub(crate) mod clock;
    pub(crate) mod kvec;
    pub(crate) mod module;
    pub(crate) mod process;
    pub(crate) mod process_event;
    pub(crate) mod publish;
    pub(crate) mod task;
    pub(crate) mod tracepoint;
}

// What bindgen made of the shim's header: this crate's declarations of its C side and of what
// the other modules offer (public, so that the compiler does not take the declarations this
// crate does not call for dead code).
#[allow(non_camel_case_types, non_upper_case_globals, improper_ctypes, missing_docs)]
pub mod shim {
    include!("../../rust/kglue/shim_types.rs");
    include!("shim_bindings.rs");
}

use hone::record::ProcessKind;
use kglue::clock::mono_ns;
use kglue::process_event::{ProcessChain, ProcessEvent};
use kglue::kvec;
use kglue::process::{current_argv, sched_probes, Binprm, ProcessSink, Processes, SchedProbes};
use kglue::task::Task;
use kglue::tracepoint::{Probe, TracepointProbes, Tracepoints};
use shim::hone_task_ids;

crate::hone_module! {
    type: ProcessNotifyModule,
    name: "process_notify",
    description: "Hone: fork, exec and exit events from the scheduler tracepoints",
}

crate::publisher!(ProcessChain, hone_process_call, hone_process_has_subscribers);

crate::process_snapshot_entry!(snapshot);

/// Longest argument list kept for an exec; longer ones are cut and end with a NUL byte.
pub const MAX_ARGV: usize = 16 * 1024;

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
        place: None,
    }
}

/// Turns tracepoint hits into events for the chain's subscribers.
struct ProcessNotifier {
    /// Events lost because memory could not be allocated in atomic context.
    lost: AtomicU64,
}

impl ProcessNotifier {
    fn publish(&self, event: ProcessEvent) {
        match Arc::new(event, GFP_ATOMIC) {
            Ok(event) => ProcessChain::publish(&event),
            Err(_) => {
                self.lost.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

impl SchedProbes for ProcessNotifier {
    fn fork(&self, _parent: &Task, child: &Task) {
        if !ProcessChain::has_subscribers() {
            return;
        }
        let ids = child.ids();
        if !ids.is_leader() {
            return;
        }
        let kind = if ids.is_kthread() { ProcessKind::Kthread } else { ProcessKind::Fork };
        let mut ev = event(kind, &ids, mono_ns());
        if ids.is_kthread() {
            ev.path = kvec::exact(child.comm().as_bytes(), GFP_ATOMIC);
        } else {
            ev.place = child.place(GFP_ATOMIC);
        }
        self.publish(ev);
    }

    fn exec(&self, task: &Task, bprm: &Binprm) {
        if !ProcessChain::has_subscribers() {
            return;
        }
        let mut ev = event(ProcessKind::Exec, &task.ids(), mono_ns());
        ev.path = bprm.path(GFP_ATOMIC);
        ev.argv = current_argv(MAX_ARGV, GFP_ATOMIC).map(terminate);
        ev.place = task.place(GFP_ATOMIC);
        self.publish(ev);
    }

    fn exit(&self, task: &Task) {
        if !ProcessChain::has_subscribers() {
            return;
        }
        let ids = task.ids();
        if !ids.group_dead() {
            return;
        }
        self.publish(event(ProcessKind::Exit, &ids, mono_ns()));
    }
}

impl TracepointProbes for ProcessNotifier {
    type List = [Probe<Self>; 3];

    fn probes() -> [Probe<Self>; 3] {
        sched_probes::<Self>()
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
fn describe(task: &Task) -> Option<ProcessEvent> {
    let ids = task.ids();
    if ids.group_dead() {
        return None;
    }
    if ids.is_kthread() {
        let mut ev = event(ProcessKind::Kthread, &ids, ids.start_ns);
        ev.path = kvec::exact(task.comm().as_bytes(), GFP_KERNEL);
        return Some(ev);
    }
    let kind = if ids.never_execd() { ProcessKind::Fork } else { ProcessKind::Exec };
    let mut ev = event(kind, &ids, ids.start_ns);
    ev.path = task.exe_path(GFP_KERNEL);
    ev.argv = task.argv(MAX_ARGV, GFP_KERNEL).filter(|argv| !argv.is_empty()).map(terminate);
    ev.place = task.place(GFP_KERNEL);
    Some(ev)
}

/// `hone_process_snapshot`: hands an event for every running process (oldest first), with
/// its task, to the sink until it wants no more.
fn snapshot(sink: &ProcessSink) -> Result {
    let processes = Processes::collect()?;
    if processes.missed() > 0 {
        pr_warn!("snapshot: {} processes started during the walk are left out\n", processes.missed());
    }
    for task in processes.iter() {
        let Some(ev) = describe(task) else { continue };
        let ev = Arc::new(ev, GFP_KERNEL)?;
        if !sink.give(&ev, task) {
            break;
        }
    }
    Ok(())
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
