// SPDX-License-Identifier: GPL-2.0

//! The chains and snapshots of the three notifier modules, described for their consumer,
//! hone_notify (the functions are declared in `c/hone_interface.h`).

use super::packet_notice::PacketChain;
use super::process_event::{ProcessChain, ProcessEvent};
use super::socket_notice::SocketChain;
use super::sock::Sock;
use super::task::Task;
use kernel::bindings;
use kernel::ffi::c_void;
use kernel::prelude::*;
use kernel::sync::Arc;

crate::source!(ProcessChain, hone_process_register, hone_process_unregister);
crate::source!(SocketChain, hone_socket_register, hone_socket_unregister);
crate::source!(PacketChain, hone_packet_register, hone_packet_unregister);

type ProcessVisit<'a> = &'a mut dyn FnMut(&Arc<ProcessEvent>, &Task) -> bool;

/// Every running process, oldest first: process_notify lends its event and its task to
/// `take` until it returns false. Process context.
pub(crate) fn process_snapshot(mut take: impl FnMut(&Arc<ProcessEvent>, &Task) -> bool) -> Result {
    let mut take: ProcessVisit<'_> = &mut take;
    // `process_visit` matches the callback type process_notify calls.
    // SAFETY: and `take`, which it is given, outlives the call.
    let ret = unsafe { crate::shim::hone_process_snapshot(Some(process_visit), &mut take as *mut ProcessVisit<'_> as *mut c_void) };
    if ret < 0 {
        return Err(Error::from_errno(ret));
    }
    Ok(())
}

unsafe extern "C" fn process_visit(data: *mut c_void, event: *const c_void, task: *mut bindings::task_struct) -> bool {
    // process_notify lends a `&Arc<ProcessEvent>` and a referenced task for the call
    // (`c/hone_interface.h`).
    // SAFETY: and `data` is the `ProcessVisit` of `process_snapshot`, alive for the walk.
    let (take, event, task) = unsafe { (&mut *(data as *mut ProcessVisit<'_>), &*(event as *const Arc<ProcessEvent>), Task::from_raw(task)) };
    take(event, task)
}

type SocketVisit<'a> = &'a mut dyn FnMut(&Sock);

/// Lends each inet socket `task` has open to `visit`, under the lock of its file table:
/// `visit` must not sleep.
pub(crate) fn sockets_of(task: &Task, mut visit: impl FnMut(&Sock)) {
    let mut visit: SocketVisit<'_> = &mut visit;
    // `socket_visit` matches the callback type socket_notify calls, and `visit` outlives it.
    // SAFETY: and the task is live (`Task`'s invariant).
    unsafe { crate::shim::hone_socket_snapshot(task.as_ptr(), Some(socket_visit), &mut visit as *mut SocketVisit<'_> as *mut c_void) };
}

unsafe extern "C" fn socket_visit(data: *mut c_void, sk: *mut bindings::sock) {
    // SAFETY: `data` is `sockets_of`'s `SocketVisit`; the walk lends the socket for the call.
    let (visit, sk) = unsafe { (&mut *(data as *mut SocketVisit<'_>), Sock::from_raw(sk)) };
    visit(sk);
}
