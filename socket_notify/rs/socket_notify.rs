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

use core::ffi::c_void;
use kernel::bindings::sock;
use kernel::c_str;
use kernel::error::to_result;
use kernel::prelude::*;

// Shared with the other modules, each of which uses a part.
#[path = "../../rust/kglue"]
#[allow(dead_code, unreachable_pub)]
mod kglue {
    pub mod event;
    pub mod module;
    pub mod tracepoint;
    pub mod user;
}

// Shared with the other modules, each of which uses a part.
#[path = "../../rust/hone/src"]
#[allow(dead_code, unreachable_pub)]
mod hone {
    pub mod record;
}

#[allow(non_camel_case_types, non_upper_case_globals, dead_code, improper_ctypes, missing_docs, unreachable_pub)]
mod shim {
    include!("../../rust/kglue/shim_types.rs");
    include!("shim_bindings.rs");
}

use kglue::event::{SocketChange, SocketNotice};
use kglue::tracepoint::{Probe, TracepointProbes, Tracepoints};

crate::hone_module! {
    type: SocketNotifyModule,
    name: "socket_notify",
    description: "Hone: open, use, close and destruction of inet sockets",
}

/// Called by the probes (and the send/receive tracepoints) for one socket change.
///
/// # Safety
///
/// `sk` must be a valid socket for the duration of the call.
#[no_mangle]
pub unsafe extern "C" fn hone_socket_changed(sk: *mut sock, change: u32) {
    let Some(change) = SocketChange::from_code(change) else { return };
    // SAFETY: guaranteed by the caller.
    if !unsafe { shim::hone_sock_is_user_inet(sk) } {
        return;
    }
    let notice = SocketNotice { sk, change };
    // SAFETY: the chain lends `&SocketNotice` (what `SocketSource` promises) for the call.
    unsafe { shim::hone_socket_call(&notice as *const SocketNotice as *mut c_void) };
}

/// Marks sockets as used by the process sending or receiving on them.
struct SocketUse;

impl SocketUse {
    fn used(sk: *mut sock) {
        // SAFETY: reads the chain's head; callable from any context.
        if unsafe { shim::hone_socket_has_subscribers() } {
            // SAFETY: the tracepoint lends a valid socket for the call.
            unsafe { hone_socket_changed(sk, SocketChange::Used as u32) };
        }
    }
}

unsafe extern "C" fn msg_length_probe(_data: *mut c_void, sk: *mut sock, _ret: i32, _flags: i32) {
    SocketUse::used(sk);
}

impl TracepointProbes for SocketUse {
    type List = [Probe; 2];

    fn probes() -> [Probe; 2] {
        [
            Probe { name: c_str!("sock_send_length"), func: msg_length_probe as *mut c_void },
            Probe { name: c_str!("sock_recv_length"), func: msg_length_probe as *mut c_void },
        ]
    }
}

/// The kprobes on the socket entry points; dropping unregisters them.
struct SocketProbes;

impl SocketProbes {
    fn register() -> Result<Self> {
        // SAFETY: registers the shim's static probes once; undone by `drop`.
        to_result(unsafe { shim::hone_socket_probes_register() })?;
        Ok(SocketProbes)
    }
}

impl Drop for SocketProbes {
    fn drop(&mut self) {
        // SAFETY: `register` succeeded; unregistering waits for running handlers.
        unsafe { shim::hone_socket_probes_unregister() };
        // SAFETY: reads the probes' counters.
        let missed = unsafe { shim::hone_socket_probes_missed() };
        if missed > 0 {
            pr_warn!("{} socket events were missed by the kprobes\n", missed);
        }
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
