// SPDX-License-Identifier: GPL-2.0

//! User memory, addressed by the plain numbers that `read()` and `ioctl()` receive.

use kernel::uaccess::UserSlice;

/// The `len` bytes of user memory at `addr` (checked by the reader or writer made from it).
pub(crate) fn user_slice(addr: usize, len: usize) -> UserSlice {
    #[cfg(hone_user_ptr_type)]
    let addr = kernel::uaccess::UserPtr::from_addr(addr);
    UserSlice::new(addr, len)
}
