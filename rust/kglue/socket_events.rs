// SPDX-License-Identifier: GPL-2.0

//! Where socket_notify's socket changes come from: its C kprobes, which call
//! `hone_socket_changed`, and the `sock_send_length`/`sock_recv_length` tracepoints.

use super::sock::Sock;
use super::tracepoint::Probe;
use core::ffi::c_void;
use kernel::bindings;
use kernel::c_str;

/// Handler of the `sock_send_length` and `sock_recv_length` tracepoints, called in the
/// context of the process sending or receiving (it may be atomic: it must not sleep).
pub(crate) trait SockLengthProbes: Sync {
    /// `sk` was sent or received on.
    fn used(&self, sk: &Sock);
}

/// The probes of `T` on `sock_send_length` and `sock_recv_length`: what its
/// `TracepointProbes::probes` returns.
pub(crate) fn sock_length_probes<T: SockLengthProbes>() -> [Probe<T>; 2] {
    // SAFETY: the function takes a `*const T`, then both tracepoints' `sk`, `ret` and `flags`.
    unsafe {
        [
            Probe::new(c_str!("sock_send_length"), length_probe::<T> as *mut c_void),
            Probe::new(c_str!("sock_recv_length"), length_probe::<T> as *mut c_void),
        ]
    }
}

/// `sock_send_length(sk, ret, flags)` and `sock_recv_length(sk, ret, flags)`.
unsafe extern "C" fn length_probe<T: SockLengthProbes>(data: *mut c_void, sk: *mut bindings::sock, _ret: i32, _flags: i32) {
    // `data` is the `T` that `Tracepoints::attach` attached with this probe, alive until it is
    // detached.
    // SAFETY: and the tracepoint lends the socket for the call.
    let (probes, sk) = unsafe { (&*(data as *const T), Sock::from_raw(sk)) };
    probes.used(sk);
}

/// Defines `hone_socket_changed`, through which socket_notify's C kprobes report a change of
/// a socket, as a call of `$handler(&Sock, SocketChange)`.
#[macro_export]
macro_rules! socket_changed_entry {
    ($handler:path) => {
        /// Called by the C kprobes for one socket change (a `HONE_SOCKET_*` code), in the
        /// context where it happened.
        ///
        /// # Safety
        ///
        /// `sk` must point to a socket that stays valid for the call.
        #[no_mangle]
        pub unsafe extern "C" fn hone_socket_changed(sk: *mut ::kernel::bindings::sock, change: u32) {
            let Some(change) = $crate::kglue::socket_notice::SocketChange::from_code(change) else { return };
            // SAFETY: the caller's guarantee.
            $handler(unsafe { $crate::kglue::sock::Sock::from_raw(sk) }, change);
        }
        $crate::declared_in_c!(hone_socket_changed);
    };
}
