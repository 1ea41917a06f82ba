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
}

crate::source!(
    /// hone_notify: the correlated stream that readers consume.
    HoneSource, HoneEvent, hone_notify_register, hone_notify_unregister
);
