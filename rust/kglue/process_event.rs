// SPDX-License-Identifier: GPL-2.0

//! process_notify's events (fork, exec, exit), which hone_notify passes on to the readers as
//! they are: reference counted (`Arc`), so a subscriber that keeps one clones the `Arc`.

#[cfg(any(hone_crate = "process_notify", hone_crate = "hone_notify"))]
use super::chain::Chain;
use crate::hone::record::ProcessKind;
#[cfg(hone_crate = "honeevent")]
use crate::hone::record::{Place, ProcessRecord};
use kernel::prelude::*;
#[cfg(any(hone_crate = "process_notify", hone_crate = "hone_notify"))]
use kernel::sync::Arc;

/// A process event, with the process's identity at the time of the event.
#[cfg_attr(
    any(hone_crate = "process_notify", hone_crate = "hone_notify"),
    allow(dead_code, reason = "made by process_notify, passed on by hone_notify, read by honeevent")
)]
pub(crate) struct ProcessEvent {
    /// What happened.
    pub(crate) kind: ProcessKind,
    /// Process id (tgid).
    pub(crate) pid: i32,
    /// Parent's process id.
    pub(crate) ppid: i32,
    /// Effective user id (initial user namespace).
    pub(crate) euid: u32,
    /// Effective group id (initial user namespace).
    pub(crate) egid: u32,
    /// Monotonic time of the event (for a snapshot, the process's start time), in ns.
    pub(crate) ts_ns: u64,
    /// Executable path, or a kernel thread's name.
    pub(crate) path: Option<KVec<u8>>,
    /// Arguments, NUL-separated with a trailing NUL.
    pub(crate) argv: Option<KVec<u8>>,
    /// Its cgroup and namespaces (not for a kernel thread or an exit).
    pub(crate) place: Option<ProcessPlace>,
}

/// Where a process lives: its cgroup (v2) and namespaces (`hone::record::Place`).
#[cfg_attr(
    any(hone_crate = "process_notify", hone_crate = "hone_notify"),
    allow(dead_code, reason = "made by process_notify, its path read by hone_notify, all of it by honeevent")
)]
pub(crate) struct ProcessPlace {
    /// Id of its cgroup.
    pub(crate) cgroup_id: u64,
    /// Path of its cgroup from the hierarchy's root; empty if the kernel has no cgroups.
    pub(crate) cgroup_path: KVec<u8>,
    /// Its tgid in its own pid namespace.
    pub(crate) nspid: i32,
    /// Inode number of its pid namespace.
    pub(crate) pidns: u32,
    /// Inode number of its network namespace.
    pub(crate) netns: u32,
}

impl ProcessEvent {
    /// The encoder's view of this event.
    #[cfg(hone_crate = "honeevent")]
    pub(crate) fn record(&self) -> ProcessRecord<'_> {
        ProcessRecord {
            kind: self.kind,
            pid: self.pid,
            ppid: self.ppid,
            euid: self.euid,
            egid: self.egid,
            path: self.path.as_deref(),
            argv: self.argv.as_deref(),
            place: self.place.as_ref().map(|p| Place {
                cgroup_id: p.cgroup_id,
                cgroup_path: &p.cgroup_path,
                nspid: p.nspid,
                pidns: p.pidns,
                netns: p.netns,
            }),
        }
    }
}

/// Callback through which process_notify's snapshot hands over one process: its event and its
/// task (both lent for the call); `false` stops the walk.
#[cfg(hone_crate = "process_notify")]
pub(crate) type ProcessSnapshotFn = unsafe extern "C" fn(
    data: *mut core::ffi::c_void,
    event: *const core::ffi::c_void,
    task: *mut kernel::bindings::task_struct,
) -> bool;

/// process_notify's chain: fork, exec and exit.
#[cfg(any(hone_crate = "process_notify", hone_crate = "hone_notify"))]
pub(crate) struct ProcessChain;

#[cfg(any(hone_crate = "process_notify", hone_crate = "hone_notify"))]
impl Chain for ProcessChain {
    type Event<'a> = Arc<ProcessEvent>;
}
