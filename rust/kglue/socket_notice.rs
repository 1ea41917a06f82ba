// SPDX-License-Identifier: GPL-2.0

//! What socket_notify lends hone_notify: a socket and what happened to it.

use super::chain::Chain;
use super::sock::Sock;
use crate::shim::{HONE_SOCKET_CLOSED, HONE_SOCKET_DESTROYED, HONE_SOCKET_OPENED, HONE_SOCKET_USED};

/// What happened to a socket (`HONE_SOCKET_*` in `c/hone_interface.h`).
#[cfg_attr(
    hone_crate = "hone_notify",
    allow(dead_code, reason = "made by socket_notify, from the codes of its C side")
)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub(crate) enum SocketChange {
    /// Created by `socket()` or `accept()`, in the opening process.
    Opened = HONE_SOCKET_OPENED,
    /// Released by its last `close()`, in the closing process.
    Closed = HONE_SOCKET_CLOSED,
    /// Sent or received on, in the acting process.
    Used = HONE_SOCKET_USED,
    /// About to be freed (after the last packet).
    Destroyed = HONE_SOCKET_DESTROYED,
}

impl SocketChange {
    /// The change for a raw code, if valid.
    #[cfg(hone_crate = "socket_notify")]
    pub(crate) fn from_code(code: u32) -> Option<Self> {
        match code {
            HONE_SOCKET_OPENED => Some(Self::Opened),
            HONE_SOCKET_CLOSED => Some(Self::Closed),
            HONE_SOCKET_USED => Some(Self::Used),
            HONE_SOCKET_DESTROYED => Some(Self::Destroyed),
            _ => None,
        }
    }
}

/// socket_notify's chain: open, use, close and destruction of inet sockets.
pub(crate) struct SocketChain;

impl Chain for SocketChain {
    type Event<'a> = SocketNotice<'a>;
}

/// A socket event of socket_notify, lent to the chain's subscribers for the call: `struct
/// hone_socket_notice` of `c/hone_interface.h`, whose layout it has.
///
/// A subscriber sees it as `SocketNotice<'static>`, which only names the type: it gets a
/// `&SocketNotice` for the call, and [`SocketNotice::sock`] lends the socket for no longer.
/// That holds as long as the socket stays a private field that no accessor returns for `'a`,
/// and the type is neither `Clone` nor `Copy`.
#[repr(C)]
pub(crate) struct SocketNotice<'a> {
    sk: &'a Sock,
    /// What happened to it.
    pub(crate) change: SocketChange,
}

impl<'a> SocketNotice<'a> {
    /// A notice of `change` to `sk`.
    #[cfg(hone_crate = "socket_notify")]
    pub(crate) fn new(sk: &'a Sock, change: SocketChange) -> Self {
        SocketNotice { sk, change }
    }

    /// The socket.
    #[cfg(hone_crate = "hone_notify")]
    pub(crate) fn sock(&self) -> &Sock {
        self.sk
    }
}

// The notice is the C struct, field for field (a reference is a pointer, `SocketChange` a `u32`).
const _: () = {
    use crate::shim::hone_socket_notice as CSocket;
    use core::mem::{offset_of, size_of};
    assert!(size_of::<SocketNotice<'_>>() == size_of::<CSocket>());
    assert!(offset_of!(SocketNotice<'_>, sk) == offset_of!(CSocket, sk));
    assert!(offset_of!(SocketNotice<'_>, change) == offset_of!(CSocket, change));
    assert!(size_of::<SocketChange>() == size_of::<u32>());
};
