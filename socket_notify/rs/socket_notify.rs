// SPDX-License-Identifier: GPL-2.0

//! socket_notify: the life of the host's inet sockets.
//!
//! Reports, for every AF_INET/AF_INET6 socket opened by a user (TCP, UDP, ICMP ping, raw):
//! opened (`socket()`, and `accept()` in the accepting process), closed (the last `close()`,
//! in the closing process), used (each `sendmsg`/`recvmsg`, in the acting process) and
//! destroyed (its memory is about to be freed). Used comes from the `sock_send_length` and
//! `sock_recv_length` tracepoints. 6.12 has no tracepoint for socket creation, accept or the
//! release of UDP and raw sockets, so opened, closed and destroyed come from kprobes on the
//! address-taken or exported entry points `inet_create`, `inet6_create`, `inet_accept`,
//! `inet_release` (which `inet6_release` calls) and `inet_sock_destruct`, kept in this module.
//!
//! Changes go to the subscribers of this module's chain (`hone_socket_register`) as a
//! `SocketNotice`, in the context where they happened; with no subscriber the probes return at
//! once. `hone_socket_snapshot` lists the inet sockets a task has open.

use kernel::prelude::*;

// Shared with the other modules, each of which uses a part.
#[path = "../../rust/kglue"]
mod kglue {
    pub(crate) mod chain;
    pub(crate) mod module;
    pub(crate) mod publish;
    pub(crate) mod registration;
    pub(crate) mod sock;
    pub(crate) mod socket_events;
    pub(crate) mod socket_notice;
    pub(crate) mod tracepoint;
}

// What bindgen made of the shim's header: this crate's declarations of its C side and of what
// the other modules offer (public, so that the compiler does not take the declarations this
// crate does not call for dead code).
#[allow(non_camel_case_types, non_upper_case_globals, improper_ctypes, missing_docs)]
pub mod shim {
    include!("../../rust/kglue/shim_types.rs");
    include!("shim_bindings.rs");
}

use kglue::socket_notice::{SocketChain, SocketChange, SocketNotice};
use kglue::sock::Sock;
use kglue::socket_events::{sock_length_probes, SockLengthProbes};
use kglue::tracepoint::{Probe, TracepointProbes, Tracepoints};

crate::hone_module! {
    type: SocketNotifyModule,
    name: "socket_notify",
    description: "Hone: open, use, close and destruction of inet sockets",
}

crate::publisher!(SocketChain, hone_socket_call, hone_socket_has_subscribers);

crate::registration!(
    /// The kprobes on the socket entry points (the C shim's); they report the probe hits they
    /// missed when unregistered.
    SocketProbes, hone_socket_probes_register, hone_socket_probes_unregister
);

crate::socket_changed_entry!(socket_changed);

/// One change of a socket, from the kprobes or the send/receive tracepoints: the chain hears
/// of the user's inet sockets.
fn socket_changed(sk: &Sock, change: SocketChange) {
    if sk.is_user_inet() {
        SocketChain::publish(&SocketNotice::new(sk, change));
    }
}

/// Marks sockets as used by the process sending or receiving on them.
struct SocketUse;

impl SockLengthProbes for SocketUse {
    fn used(&self, sk: &Sock) {
        if SocketChain::has_subscribers() {
            socket_changed(sk, SocketChange::Used);
        }
    }
}

impl TracepointProbes for SocketUse {
    type List = [Probe<Self>; 2];

    fn probes() -> [Probe<Self>; 2] {
        sock_length_probes::<Self>()
    }
}

struct SocketNotifyModule {
    _probes: SocketProbes,
    _use: Tracepoints<SocketUse>,
}

impl kernel::Module for SocketNotifyModule {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        Ok(SocketNotifyModule { _probes: SocketProbes::register()?, _use: Tracepoints::attach(SocketUse)? })
    }
}
