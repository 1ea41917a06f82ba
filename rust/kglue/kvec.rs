// SPDX-License-Identifier: GPL-2.0

//! Vectors filled through a C call that reports how much it wrote.

#[cfg(hone_crate = "process_notify")]
use kernel::alloc::Flags;
#[cfg(hone_crate = "process_notify")]
use kernel::ffi::c_int;
use kernel::prelude::*;

/// Shortens `v` to `n` elements; a longer `n` leaves it as it is.
pub(crate) fn truncate<T: Copy>(v: &mut KVec<T>, n: usize) {
    #[cfg(hone_kvec_truncate)]
    v.truncate(n);
    #[cfg(not(hone_kvec_truncate))]
    if n <= v.len() {
        // SAFETY: shrinking over initialised elements, which need no drop (`T: Copy`).
        unsafe { v.set_len(n) };
    }
}

/// Lends a zeroed buffer of `cap` bytes to `fill(buf, cap)`, which returns how many bytes it
/// wrote at the start or a negative errno, and returns exactly those bytes; `None` on an error
/// or if memory is short.
#[cfg(hone_crate = "process_notify")]
pub(crate) fn filled(cap: usize, flags: Flags, fill: impl FnOnce(*mut u8, c_int) -> c_int) -> Option<KVec<u8>> {
    let cap = cap.min(c_int::MAX as usize);
    let mut v = KVec::from_elem(0u8, cap, flags).ok()?;
    let n = fill(v.as_mut_ptr(), cap as c_int);
    truncate(&mut v, usize::try_from(n).ok()?.min(cap));
    Some(v)
}

/// A copy of `bytes` that takes no more memory than they need (a buffer sized for the longest
/// case, kept in an event, would waste the rest).
#[cfg(hone_crate = "process_notify")]
pub(crate) fn exact(bytes: &[u8], flags: Flags) -> Option<KVec<u8>> {
    let mut v = KVec::with_capacity(bytes.len(), flags).ok()?;
    v.extend_from_slice(bytes, flags).ok()?;
    Some(v)
}
