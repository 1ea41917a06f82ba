// SPDX-License-Identifier: GPL-2.0

//! socket_notify: open and close of the host's inet sockets.
//!
//! Offers the socket chain (`hone_socket_register`/`hone_socket_unregister`) whose subscribers
//! receive a `SocketNotice` per AF_INET/AF_INET6 socket opened or closed. In this release the
//! chain has no producer yet: socket events (inet_sock_set_state, inet_create/accept/release)
//! arrive with packet correlation; hone_notify already subscribes so the module chain and its
//! load order are in place.

use kernel::prelude::*;

module! {
    type: SocketNotifyModule,
    name: "socket_notify",
    author: "Hone developers",
    description: "Hone: socket open/close event chain",
    license: "GPL",
}

struct SocketNotifyModule;

impl kernel::Module for SocketNotifyModule {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        Ok(SocketNotifyModule)
    }
}
