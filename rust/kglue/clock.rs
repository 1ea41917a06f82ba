// SPDX-License-Identifier: GPL-2.0

//! The clocks Hone stamps events with.

/// The monotonic clock (`ktime_get_ns`), in ns. Any context.
pub(crate) fn mono_ns() -> u64 {
    // SAFETY: reads the clock; no precondition.
    unsafe { crate::shim::hone_clock_mono_ns() }
}

/// What turns the monotonic clock into wall-clock time (ns since 1970): add it. Any context.
#[cfg(hone_crate = "honeevent")]
pub(crate) fn real_offset_ns() -> i64 {
    // SAFETY: reads the clocks' offset; no precondition.
    unsafe { crate::shim::hone_clock_real_offset_ns() }
}
