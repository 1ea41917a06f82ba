// SPDX-License-Identifier: GPL-2.0

//! Events as they travel between Hone's modules.
//!
//! Every module compiles this same file, so the types agree across module boundaries. Events
//! are reference counted (`Arc`) and shared: a chain call lends `&E`, and a subscriber that keeps
//! the event clones the `Arc` (no copy of the data).

use crate::hone::record::{Class, ProcessKind, ProcessRecord};
use kernel::prelude::*;
use kernel::sync::Arc;

/// A process event, with the process's identity at the time of the event.
pub struct ProcessEvent {
    /// What happened.
    pub kind: ProcessKind,
    /// Process id (tgid).
    pub pid: i32,
    /// Parent's process id.
    pub ppid: i32,
    /// Effective user id (initial user namespace).
    pub euid: u32,
    /// Effective group id (initial user namespace).
    pub egid: u32,
    /// Monotonic time of the event (for a snapshot, the process's start time), in ns.
    pub ts_ns: u64,
    /// Executable path, or a kernel thread's name.
    pub path: Option<KVec<u8>>,
    /// Arguments, NUL-separated with a trailing NUL.
    pub argv: Option<KVec<u8>>,
}

impl ProcessEvent {
    /// The encoder's view of this event.
    pub fn record(&self) -> ProcessRecord<'_> {
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

/// An event of hone_notify's stream.
#[derive(Clone)]
pub enum HoneEvent {
    /// A process event.
    Process(Arc<ProcessEvent>),
}

impl HoneEvent {
    /// The class the event is counted in.
    pub fn class(&self) -> Class {
        match self {
            HoneEvent::Process(_) => Class::Process,
        }
    }

    /// Monotonic time of the event, in ns.
    pub fn ts_ns(&self) -> u64 {
        match self {
            HoneEvent::Process(p) => p.ts_ns,
        }
    }
}

/// Callback through which a snapshot hands over one event (lent for the call); `false` stops
/// the walk.
pub type SnapshotFn = unsafe extern "C" fn(data: *mut core::ffi::c_void, event: *const core::ffi::c_void) -> bool;
