// SPDX-License-Identifier: GPL-2.0

//! The chains of the three notifier modules, described for their consumer, hone_notify.

use super::event::{ProcessEvent, SnapshotFn};
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
    SocketSource, SocketNotice, hone_socket_register, hone_socket_unregister
);
crate::source!(
    /// packet_notify: packets at netfilter's LOCAL_IN and LOCAL_OUT.
    PacketSource, PacketNotice, hone_packet_register, hone_packet_unregister
);

/// A socket event of socket_notify, lent for the duration of the call.
#[repr(C)]
pub struct SocketNotice {
    /// The socket.
    pub sk: *mut kernel::bindings::sock,
    /// 0 = opened, 1 = closed.
    pub closed: bool,
}

/// A packet of packet_notify, lent for the duration of the call.
#[repr(C)]
pub struct PacketNotice {
    /// The packet, its network header at `data`.
    pub skb: *mut kernel::bindings::sk_buff,
    /// Its local socket, if one was found.
    pub sk: *mut kernel::bindings::sock,
    /// Whether it is arriving (LOCAL_IN) rather than leaving (LOCAL_OUT).
    pub inbound: bool,
}

extern "C" {
    /// process_notify: hands `&Arc<ProcessEvent>` for each running process to `sink`.
    pub fn hone_process_snapshot(sink: Option<SnapshotFn>, data: *mut c_void) -> c_int;
}
