// SPDX-License-Identifier: GPL-2.0

//! The chains of the three notifier modules, described for their consumer, hone_notify.

use super::event::{PacketNotice, ProcessEvent, ProcessSnapshotFn, SocketNotice};
use super::subscription::Source;
use kernel::bindings::notifier_block;
use kernel::ffi::{c_int, c_void};
use kernel::sync::Arc;

extern "C" {
    fn hone_process_register(nb: *mut notifier_block) -> c_int;
    fn hone_process_unregister(nb: *mut notifier_block) -> c_int;
    fn hone_socket_register(nb: *mut notifier_block) -> c_int;
    fn hone_socket_unregister(nb: *mut notifier_block) -> c_int;
    fn hone_packet_register(nb: *mut notifier_block) -> c_int;
    fn hone_packet_unregister(nb: *mut notifier_block) -> c_int;
}

crate::source!(
    /// process_notify: fork, exec and exit events.
    ProcessSource, Arc<ProcessEvent>, hone_process_register, hone_process_unregister
);
crate::source!(
    /// socket_notify: open and close of inet sockets.
    SocketSource, SocketNotice<'static>, hone_socket_register, hone_socket_unregister
);
crate::source!(
    /// packet_notify: packets at netfilter's LOCAL_IN and LOCAL_OUT.
    PacketSource, PacketNotice<'static>, hone_packet_register, hone_packet_unregister
);

// `task_struct` holds a zero-sized member; only pointers to it cross (as `rust/bindings` does).
#[allow(improper_ctypes)]
extern "C" {
    /// process_notify: hands `&Arc<ProcessEvent>` and the task of each running process to
    /// `sink`.
    pub fn hone_process_snapshot(sink: Option<ProcessSnapshotFn>, data: *mut c_void) -> c_int;
    /// socket_notify: calls `visit(data, sk)` for each inet socket `task` has open (atomic
    /// context: `visit` must not sleep).
    pub fn hone_socket_snapshot(
        task: *mut kernel::bindings::task_struct,
        visit: Option<unsafe extern "C" fn(data: *mut c_void, sk: *mut kernel::bindings::sock)>,
        data: *mut c_void,
    ) -> c_int;
}
