// SPDX-License-Identifier: GPL-2.0

//! process_notify's events (fork, exec, exit), which hone_notify passes on to the readers as
//! they are: reference counted (`Arc`), so a subscriber that keeps one clones the `Arc`.

#[cfg(any(hone_crate = "process_notify", hone_crate = "hone_notify"))]
use super::chain::Chain;
use crate::hone::record::ProcessKind;
#[cfg(hone_crate = "honeevent")]
use crate::hone::record::ProcessRecord;
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
