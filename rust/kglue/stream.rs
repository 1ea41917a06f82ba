// SPDX-License-Identifier: GPL-2.0

//! hone_notify's stream, described for its consumer, honeevent.

use super::event::{HoneEvent, HoneStats, SnapshotFn};
use super::subscription::Source;
use kernel::bindings::notifier_block;
use kernel::ffi::{c_int, c_void};

extern "C" {
    fn hone_notify_register(nb: *mut notifier_block) -> c_int;
    fn hone_notify_unregister(nb: *mut notifier_block) -> c_int;
    /// Hands `&HoneEvent` for each running process, and its sockets, to `sink`.
    pub fn hone_notify_snapshot(sink: Option<SnapshotFn>, data: *mut c_void) -> c_int;
    /// Fills `out` with hone_notify's counters.
    pub fn hone_notify_stats(out: *mut HoneStats);
    fn hone_notify_whole_packets(want: bool);
}

/// A subscriber's wish for whole packets (clones of the kernel's buffers) rather than their
/// first [`PACKET_HEAD`](super::event::PACKET_HEAD) bytes; dropping it withdraws the wish.
pub struct WholePackets(());

impl WholePackets {
    /// Packets are kept whole from now on, until this is dropped.
    pub fn want() -> Self {
        // SAFETY: no precondition; `drop` makes the matching call.
        unsafe { hone_notify_whole_packets(true) };
        WholePackets(())
    }
}

impl Drop for WholePackets {
    fn drop(&mut self) {
        // SAFETY: `want` made the matching call.
        unsafe { hone_notify_whole_packets(false) };
    }
}

crate::source!(
    /// hone_notify: the correlated stream that readers consume.
    HoneSource, HoneEvent, hone_notify_register, hone_notify_unregister
);
