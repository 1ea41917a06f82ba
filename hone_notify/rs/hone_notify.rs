// SPDX-License-Identifier: GPL-2.0

//! hone_notify: one stream of Hone events for the readers.
//!
//! Subscribes to process_notify, socket_notify and packet_notify while it has subscribers of
//! its own (`hone_notify_register`), and only then: with no reader, the notifiers see an empty
//! chain and do no work. Process events are passed on as shared `HoneEvent`s (no copy).
//! Packets are kept as clones of the kernel's buffers, with their direction, length, connection
//! id (the inode number of their local socket, as `ss` and `/proc/<pid>/fd` show it; never a
//! kernel address) and, for a packet sent in process context, the sending process.
//! `hone_notify_snapshot` describes the processes already running, for a reader that starts.
//! Counts what it received per class and reports the totals when unloaded.

use core::ffi::c_void;
use core::ptr::null_mut;
use core::sync::atomic::{AtomicPtr, AtomicU64, Ordering};
use kernel::bindings::notifier_block;
use kernel::ffi::c_int;
use kernel::new_mutex;
use kernel::prelude::*;
use kernel::sync::{Arc, Mutex};

// Shared with the other modules, each of which uses a part.
#[path = "../../rust/hone/src"]
#[allow(dead_code, unreachable_pub)]
mod hone {
    pub mod record;
}

#[path = "../../rust/kglue"]
#[allow(dead_code, unreachable_pub)]
mod kglue {
    pub mod chains;
    pub mod event;
    pub mod subscription;
}

#[allow(non_camel_case_types, non_upper_case_globals, dead_code, improper_ctypes, missing_docs, unreachable_pub)]
mod shim {
    include!("../../rust/kglue/shim_types.rs");
    include!("shim_bindings.rs");
}

use hone::record::{Class, PacketRecord};
use kglue::chains::{self, PacketSource, ProcessSource, SocketSource};
use kglue::event::{HoneEvent, PacketEvent, PacketNotice, ProcessEvent, SnapshotFn, SocketNotice};
use kglue::subscription::{Subscriber, Subscription};

module! {
    type: HoneNotifyModule,
    name: "hone_notify",
    author: "Hone developers",
    description: "Hone: correlated event stream of processes, sockets and packets",
    license: "GPL",
}

/// Passes upstream events on to hone_notify's subscribers.
struct Forwarder;

impl Forwarder {
    fn publish(event: &HoneEvent) {
        // SAFETY: the chain lends `&HoneEvent` (what `HoneSource` promises) for the call.
        unsafe { shim::hone_notify_chain_call(event as *const HoneEvent as *mut c_void) };
    }
}

impl Subscriber<Arc<ProcessEvent>> for Forwarder {
    fn notify(&self, event: &Arc<ProcessEvent>) {
        hub().count(Class::Process);
        Self::publish(&HoneEvent::Process(event.clone()));
    }
}

impl Subscriber<SocketNotice> for Forwarder {
    fn notify(&self, _event: &SocketNotice) {
        hub().count(Class::Socket);
    }
}

impl Subscriber<PacketNotice> for Forwarder {
    fn notify(&self, notice: &PacketNotice) {
        let hub = hub();
        hub.count(Class::Packet);
        let sk = notice.sk;
        let conn = if sk.is_null() {
            None
        } else {
            // SAFETY: packet_notify lends a valid full socket for the call.
            Some(unsafe { shim::hone_sock_ino(sk) }).filter(|&ino| ino != 0)
        };
        // A packet leaving in process context is sent by the current process.
        let pid = if notice.inbound || conn.is_none() { None } else { current_pid() };
        // SAFETY: packet_notify lends a valid packet for the call.
        let len = unsafe { shim::hone_skb_len(notice.skb) };
        let record = PacketRecord { inbound: notice.inbound, conn, pid, len };
        // SAFETY: as above.
        let event = unsafe { PacketEvent::new(notice.skb, now_ns(), record) };
        match event.map(|e| Arc::new(e, GFP_ATOMIC)) {
            Some(Ok(event)) => Self::publish(&HoneEvent::Packet(event)),
            _ => hub.lose(Class::Packet),
        }
    }
}

/// The process running in task context, if any (not in an interrupt or softirq).
fn current_pid() -> Option<u32> {
    // SAFETY: no precondition; returns null outside task context.
    let task = unsafe { shim::hone_current_task() };
    if task.is_null() {
        return None;
    }
    let mut ids = shim::hone_task_ids::default();
    // SAFETY: `task` is the current task, alive for this call.
    unsafe { shim::hone_task_ids(task, &mut ids) };
    u32::try_from(ids.pid).ok().filter(|&p| p != 0)
}

fn now_ns() -> u64 {
    // SAFETY: reads the monotonic clock; callable from any context.
    unsafe { shim::hone_clock_mono_ns() }
}

/// hone_notify's subscriptions to the three notifiers, held while it has subscribers.
struct Upstream {
    _process: Subscription<ProcessSource, Forwarder>,
    _socket: Subscription<SocketSource, Forwarder>,
    _packet: Subscription<PacketSource, Forwarder>,
}

impl Upstream {
    fn subscribe() -> Result<Self> {
        Ok(Upstream {
            _process: Subscription::new(Forwarder)?,
            _socket: Subscription::new(Forwarder)?,
            _packet: Subscription::new(Forwarder)?,
        })
    }
}

struct Readers {
    count: usize,
    upstream: Option<Upstream>,
}

/// The module's state, reachable from its exported functions.
#[pin_data]
struct Hub {
    #[pin]
    readers: Mutex<Readers>,
    received: [AtomicU64; 3],
    /// Events lost because memory was short in atomic context.
    lost: [AtomicU64; 3],
}

impl Hub {
    fn count(&self, class: Class) {
        self.received[class as usize].fetch_add(1, Ordering::Relaxed);
    }

    fn lose(&self, class: Class) {
        self.lost[class as usize].fetch_add(1, Ordering::Relaxed);
    }
}

static HUB: AtomicPtr<Hub> = AtomicPtr::new(null_mut());

fn hub() -> &'static Hub {
    // SAFETY: `HUB` points to the pinned hub from `init` until `drop`, and nothing calls into
    // this module outside that window: other modules reach it only through its exports, which
    // keep it loaded, and the upstream subscriptions end before `drop`.
    unsafe { &*HUB.load(Ordering::Acquire) }
}

/// Adds `nb` to hone_notify's chain, subscribing upstream first if it is the first.
///
/// # Safety
///
/// `nb` must stay valid until `hone_notify_unregister(nb)` returns. Process context.
#[no_mangle]
pub unsafe extern "C" fn hone_notify_register(nb: *mut notifier_block) -> c_int {
    let mut readers = hub().readers.lock();
    if readers.upstream.is_none() {
        match Upstream::subscribe() {
            Ok(up) => readers.upstream = Some(up),
            Err(e) => return e.to_errno(),
        }
    }
    // SAFETY: forwarded from the caller.
    let ret = unsafe { shim::hone_notify_chain_register(nb) };
    if ret == 0 {
        readers.count += 1;
    } else if readers.count == 0 {
        readers.upstream = None;
    }
    ret
}

/// Removes `nb`; the last one out also unsubscribes upstream. Waits for running callbacks.
///
/// # Safety
///
/// `nb` must have been registered with `hone_notify_register`. Process context.
#[no_mangle]
pub unsafe extern "C" fn hone_notify_unregister(nb: *mut notifier_block) -> c_int {
    let mut readers = hub().readers.lock();
    // SAFETY: forwarded from the caller.
    let ret = unsafe { shim::hone_notify_chain_unregister(nb) };
    if ret == 0 {
        readers.count -= 1;
        if readers.count == 0 {
            readers.upstream = None;
        }
    }
    ret
}

struct SnapshotCtx {
    sink: SnapshotFn,
    data: *mut c_void,
}

unsafe extern "C" fn snapshot_each(ctx: *mut c_void, event: *const c_void) -> bool {
    // SAFETY: `ctx` is the `SnapshotCtx` of `hone_notify_snapshot`, alive for the whole walk.
    let ctx = unsafe { &*(ctx as *const SnapshotCtx) };
    // SAFETY: process_notify lends `&Arc<ProcessEvent>` for the call.
    let event = unsafe { &*(event as *const Arc<ProcessEvent>) };
    let event = HoneEvent::Process(event.clone());
    // SAFETY: the caller of `hone_notify_snapshot` guarantees `sink` and `data`.
    unsafe { (ctx.sink)(ctx.data, &event as *const HoneEvent as *const c_void) }
}

/// Hands `&HoneEvent` for every running process to `sink(data, event)`, oldest first, until
/// it returns false. Process context.
///
/// # Safety
///
/// `sink` must be callable with `data` for the whole call.
#[no_mangle]
pub unsafe extern "C" fn hone_notify_snapshot(sink: Option<SnapshotFn>, data: *mut c_void) -> c_int {
    let Some(sink) = sink else { return EINVAL.to_errno() };
    let ctx = SnapshotCtx { sink, data };
    // SAFETY: `snapshot_each` matches `SnapshotFn` and `ctx` outlives the call.
    unsafe { chains::hone_process_snapshot(Some(snapshot_each), &ctx as *const SnapshotCtx as *mut c_void) }
}

struct HoneNotifyModule {
    hub: Pin<KBox<Hub>>,
}

impl kernel::Module for HoneNotifyModule {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let hub = KBox::pin_init(
            pin_init!(Hub {
                readers <- new_mutex!(Readers { count: 0, upstream: None }),
                received: [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)],
                lost: [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)],
            }),
            GFP_KERNEL,
        )?;
        HUB.store(&*hub as *const Hub as *mut Hub, Ordering::Release);
        Ok(HoneNotifyModule { hub })
    }
}

impl Drop for HoneNotifyModule {
    fn drop(&mut self) {
        HUB.store(null_mut(), Ordering::Release);
        let r = &self.hub.received;
        let l = &self.hub.lost;
        pr_info!(
            "received {} process, {} socket, {} packet events; lost {}, {}, {} to memory shortage\n",
            r[0].load(Ordering::Relaxed),
            r[1].load(Ordering::Relaxed),
            r[2].load(Ordering::Relaxed),
            l[0].load(Ordering::Relaxed),
            l[1].load(Ordering::Relaxed),
            l[2].load(Ordering::Relaxed)
        );
    }
}
