// SPDX-License-Identifier: GPL-2.0

//! The system's name, as `uname -a` shows it.

/// Writes "sysname nodename release version machine" of the initial UTS namespace into `buf`
/// (cut to fit) and returns the part written.
pub(crate) fn uname(buf: &mut [u8]) -> &[u8] {
    let cap = buf.len().min(kernel::ffi::c_int::MAX as usize);
    // SAFETY: `buf` is valid for writes of `cap` bytes.
    let n = unsafe { crate::shim::hone_uname(buf.as_mut_ptr().cast(), cap as kernel::ffi::c_int) };
    &buf[..usize::try_from(n).unwrap_or(0).min(cap)]
}
