// SPDX-License-Identifier: GPL-2.0

//! The calling process's open files.

use kernel::prelude::*;

/// The inode number of the socket open as `fd` in the calling process (its connection id);
/// `EBADF` if `fd` is not open, `ENOTSOCK` if it is not a socket. Process context.
pub(crate) fn socket_ino(fd: i32) -> Result<u32> {
    // Looks `fd` up in the calling process's table and holds the file while it reads the socket.
    // SAFETY: no precondition.
    let ino = unsafe { crate::shim::hone_fd_sock_ino(fd) };
    if ino < 0 {
        return Err(Error::from_errno(ino as kernel::ffi::c_int));
    }
    Ok(ino as u32)
}
