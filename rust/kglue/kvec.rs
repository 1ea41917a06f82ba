// SPDX-License-Identifier: GPL-2.0

//! Vectors filled through a C call that reports how much it wrote.

use kernel::prelude::*;

/// Shortens `v` to `n` elements; a longer `n` leaves it as it is.
pub fn truncate<T: Copy>(v: &mut KVec<T>, n: usize) {
    #[cfg(hone_kvec_truncate)]
    v.truncate(n);
    #[cfg(not(hone_kvec_truncate))]
    if n <= v.len() {
        // SAFETY: shrinking over initialised elements, which need no drop (`T: Copy`).
        unsafe { v.set_len(n) };
    }
}
