// SPDX-License-Identifier: GPL-2.0

//! Sockets (`struct sock`) the kernel lends to a hook, a probe or a walk.

use kernel::bindings;
use kernel::types::Opaque;

/// A socket.
///
/// # Invariants
///
/// A `&Sock` refers to a live `sock` for its whole lifetime.
#[repr(transparent)]
pub(crate) struct Sock(Opaque<bindings::sock>);

impl Sock {
    /// The socket at `ptr`.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a `sock` that stays alive for `'a`.
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::sock) -> &'a Sock {
        // INVARIANT: the caller keeps the socket alive for `'a`.
        // `Sock` is a transparent wrapper of `sock`: the cast keeps the layout.
        // SAFETY: and the pointer is valid for `'a` (the caller's guarantee).
        unsafe { &*ptr.cast::<Sock>() }
    }

    /// The raw `sock`, for the C side of a module boundary.
    #[cfg(any(hone_crate = "socket_notify", hone_crate = "hone_notify"))]
    pub(crate) fn as_ptr(&self) -> *mut bindings::sock {
        self.0.get()
    }

    /// Inode number of the socket's file (what `ss` and `/proc/<pid>/fd` show); 0 for a socket
    /// with no file (closed) and for the kernel's own sockets. Any context.
    #[cfg(hone_crate = "hone_notify")]
    pub(crate) fn ino(&self) -> u32 {
        // SAFETY: the socket is live (type invariant).
        unsafe { crate::shim::hone_sock_ino(self.as_ptr()) }
    }

    /// Whether this is an ICMP or ICMPv6 "ping" socket (`SOCK_DGRAM`).
    #[cfg(hone_crate = "hone_notify")]
    pub(crate) fn is_ping(&self) -> bool {
        // SAFETY: the socket is live (type invariant).
        unsafe { crate::shim::hone_sock_is_ping(self.as_ptr()) }
    }

    /// Id of the cgroup (v2) the socket was opened in, if the kernel keeps it
    /// (`CONFIG_SOCK_CGROUP_DATA`). Any context.
    #[cfg(hone_crate = "hone_notify")]
    pub(crate) fn cgroup_id(&self) -> Option<u64> {
        // SAFETY: the socket is live (type invariant).
        Some(unsafe { crate::shim::hone_sock_cgroup_id(self.as_ptr()) }).filter(|&id| id != 0)
    }

    /// Whether this is a listening TCP socket.
    #[cfg(hone_crate = "hone_notify")]
    pub(crate) fn is_listener(&self) -> bool {
        // SAFETY: the socket is live (type invariant).
        unsafe { crate::shim::hone_sock_is_listener(self.as_ptr()) }
    }

    /// Whether this is an AF_INET or AF_INET6 socket opened by a user (not by the kernel).
    #[cfg(hone_crate = "socket_notify")]
    pub(crate) fn is_user_inet(&self) -> bool {
        // SAFETY: the socket is live (type invariant).
        unsafe { crate::shim::hone_sock_is_user_inet(self.as_ptr()) }
    }
}
