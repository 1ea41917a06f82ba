// SPDX-License-Identifier: GPL-2.0

//! hone_notify's stream, described for its consumer, honeevent (the functions are declared in
//! `c/hone_interface.h`).

use super::hone_event::{HoneChain, HoneEvent, HoneStats};
use kernel::ffi::c_void;
use kernel::prelude::*;

/// Every running process, each followed by its open inet sockets (oldest first): hone_notify
/// lends each event to `take` until it returns false. Process context.
pub(crate) fn snapshot(mut take: impl FnMut(&HoneEvent) -> bool) -> Result {
    let mut take: &mut dyn FnMut(&HoneEvent) -> bool = &mut take;
    // SAFETY: `collect` matches the callback type hone_notify calls, and `take` outlives the call.
    let ret = unsafe { crate::shim::hone_notify_snapshot(Some(collect), &mut take as *mut _ as *mut c_void) };
    if ret < 0 {
        return Err(Error::from_errno(ret));
    }
    Ok(())
}

unsafe extern "C" fn collect(data: *mut c_void, event: *const c_void) -> bool {
    // hone_notify lends a `&HoneEvent` for the call (`c/hone_interface.h`).
    // SAFETY: and `data` is the `&mut dyn FnMut` of `snapshot`, alive for the walk.
    let (take, event) = unsafe { (&mut *(data as *mut &mut dyn FnMut(&HoneEvent) -> bool), &*(event as *const HoneEvent)) };
    take(event)
}

/// hone_notify's counters since it was loaded.
pub(crate) fn stats() -> HoneStats {
    let mut stats = HoneStats::default();
    // SAFETY: `stats` is valid for writes.
    unsafe { crate::shim::hone_notify_stats(&mut stats) };
    stats
}

/// A subscriber's wish for whole packets (those longer than
/// [`PACKET_HEAD`](super::hone_event::PACKET_HEAD) as clones of the kernel's buffers) rather
/// than their first `PACKET_HEAD` bytes; dropping it withdraws the wish.
pub(crate) struct WholePackets(());

impl WholePackets {
    /// Packets are kept whole from now on, until this is dropped.
    pub(crate) fn want() -> Self {
        // SAFETY: this starts a pair, which `drop` ends.
        unsafe { crate::shim::hone_notify_whole_packets(true) };
        WholePackets(())
    }
}

impl Drop for WholePackets {
    fn drop(&mut self) {
        // SAFETY: ends the pair `want` started.
        unsafe { crate::shim::hone_notify_whole_packets(false) };
    }
}

crate::source!(HoneChain, hone_notify_register, hone_notify_unregister);
