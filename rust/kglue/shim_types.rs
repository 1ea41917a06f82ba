// SPDX-License-Identifier: GPL-2.0

// Included by each crate root inside `mod shim { ... }`, next to the bindgen output of the
// module's `c/shim.h`: the kernel's types in scope, and the C types of `hone_glue.h`.

#[allow(unused_imports)]
use kernel::bindings::*;
#[allow(unused_imports)]
use kernel::ffi;

/// Identity of a task (`struct hone_task_ids` in `hone_glue.h`).
#[repr(C)]
#[derive(Default, Clone, Copy)]
pub struct hone_task_ids {
    /// tgid.
    pub pid: i32,
    /// tgid of the real parent.
    pub ppid: i32,
    /// Effective uid (initial user namespace).
    pub euid: u32,
    /// Effective gid (initial user namespace).
    pub egid: u32,
    /// `HONE_TASK_*` bits.
    pub flags: u32,
    /// The task's own (thread) id.
    pub tid: i32,
    /// Monotonic start time in ns.
    pub start_ns: u64,
}

/// A deferred wake-up of a wait queue (`struct hone_waker` in `hone_glue.h`), only ever
/// handled through a pointer.
#[repr(C)]
pub struct hone_waker {
    _opaque: [u8; 0],
}

/// `PF_KTHREAD`.
pub const HONE_TASK_KTHREAD: u32 = 1;
/// `PF_FORKNOEXEC`.
pub const HONE_TASK_FORKNOEXEC: u32 = 2;
/// Thread-group leader.
pub const HONE_TASK_LEADER: u32 = 4;
/// The last thread of the group is exiting.
pub const HONE_TASK_GROUP_DEAD: u32 = 8;

const _: () = assert!(core::mem::size_of::<hone_task_ids>() == 32);
