// SPDX-License-Identifier: GPL-2.0

//! hone_notify: one stream of Hone events for the readers.
//!
//! Subscribes to process_notify, socket_notify and packet_notify while it has subscribers of
//! its own (`hone_notify_register`), and only then: with no reader, the notifiers see an empty
//! chain and do no work. Process events are passed on as shared `HoneEvent`s (no copy).
//! Correlates packet, socket and process. Each socket gets a connection id: the inode number of
//! its file, as `ss -e` and `/proc/<pid>/fd` show it (never a kernel address), kept in a table
//! until the socket is destroyed so that packets after `close()` still carry it. The table also
//! holds each socket's current owner: the process that last opened, accepted, sent or received
//! on it. Packets look sockets up without a lock (the table is a sequence lock, see
//! `rust/hone/src/socktab.rs`), so the packet paths of all CPUs share none there; only changes
//! (a socket opened, destroyed, or used by another process), and a lookup that overlaps one,
//! take one. A packet leaving in process context is attributed to the sending process (after a
//! fork, the child that writes); any other packet of a socket to its current owner; packets of
//! the kernel's own sockets (resets, ICMP errors) to no process. An echo reply, which no socket
//! lookup finds, goes to the ping socket that sent the request. Packets are kept as clones of
//! the kernel's buffers (no copy) while a subscriber wants whole packets
//! (`hone_notify_whole_packets`); otherwise only their first `PACKET_HEAD` bytes are copied,
//! so that no buffer is cloned and none is held (a cloned buffer cannot be coalesced into a
//! TCP receive queue).
//! `hone_notify_snapshot` describes the processes already running, for a reader that starts.
//! Counts what it received per class and reports the totals when unloaded.

use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use kernel::new_mutex;
use kernel::prelude::*;
use kernel::sync::{Arc, ArcBorrow, Mutex};

// Shared with the other modules, each of which uses a part.
#[path = "../../rust/hone/src"]
#[allow(unreachable_pub)]
mod hone {
    pub mod ip;
    pub mod record;
    pub mod socktab;
}

#[path = "../../rust/kglue"]
mod kglue {
    pub(crate) mod chain;
    pub(crate) mod chains;
    pub(crate) mod clock;
    pub(crate) mod hone_event;
    pub(crate) mod irqlock;
    pub(crate) mod module;
    pub(crate) mod notify_exports;
    pub(crate) mod packet_notice;
    pub(crate) mod process_event;
    pub(crate) mod publish;
    pub(crate) mod skb;
    pub(crate) mod sock;
    pub(crate) mod socket_notice;
    pub(crate) mod subscription;
    pub(crate) mod task;
}

// What bindgen made of the shim's header: this crate's declarations of its C side and of what
// the other modules offer (public, so that the compiler does not take the declarations this
// crate does not call for dead code).
#[allow(non_camel_case_types, non_upper_case_globals, improper_ctypes, missing_docs)]
pub mod shim {
    include!("../../rust/kglue/shim_types.rs");
    include!("shim_bindings.rs");
}

use hone::record::{Class, Owner, PacketRecord, SocketRecord, CLASSES};
use hone::socktab::{Pack, Slot, SocketInfo, SocketSlot, SocketTable, Table, Writer};
use kglue::chains;
use kglue::clock::mono_ns;
use kglue::hone_event::{HoneChain, HoneEvent, HoneStats, PacketEvent, SocketEvent};
use kglue::packet_notice::{PacketChain, PacketNotice};
use kglue::process_event::{ProcessChain, ProcessEvent};
use kglue::socket_notice::{SocketChain, SocketChange, SocketNotice};
use kglue::irqlock::IrqSpinLock;
use kglue::notify_exports::{Exported, Link, NotifyExports, Publication, Unlink};
use kglue::skb::SkBuff;
use kglue::sock::Sock;
use kglue::subscription::{Subscriber, Subscription};
use kglue::task::Task;

crate::hone_module! {
    type: HoneNotifyModule,
    name: "hone_notify",
    description: "Hone: correlated event stream of processes, sockets and packets",
}

crate::publisher!(HoneChain, hone_notify_chain_call);

/// hone_notify's state, as its exports find it.
static EXPORTED: Exported<Hub> = Exported::new();
crate::notify_exports!(EXPORTED);

/// Passes upstream events on to hone_notify's subscribers.
struct Forwarder {
    hub: Arc<Hub>,
}

impl Subscriber<Arc<ProcessEvent>> for Forwarder {
    fn notify(&self, event: &Arc<ProcessEvent>) {
        self.hub.count(Class::Process);
        HoneChain::publish(&HoneEvent::Process(event.clone()));
    }
}

/// The key of a socket in the tables: its address, unique while it lives (its destruction
/// removes it).
fn key(sk: &Sock) -> u64 {
    sk.as_ptr() as usize as u64
}

impl Subscriber<SocketNotice<'static>> for Forwarder {
    fn notify(&self, notice: &SocketNotice<'static>) {
        let hub = &*self.hub;
        let sk = notice.sock();
        if notice.change == SocketChange::Destroyed {
            hub.sockets.remove(&mut hub.sockets_writer.lock(), key(sk));
            return;
        }
        // Opened, closed and used are reported in the acting process's context.
        let Some(owner) = current_owner() else { return };
        match notice.change {
            SocketChange::Opened => {
                hub.count(Class::Socket);
                let conn = sk.ino();
                if conn == 0 {
                    return;
                }
                hub.track(sk, SocketInfo { conn, owner: Some(owner) });
                hub.publish_socket(mono_ns(), SocketRecord { closed: false, conn, owner });
            }
            SocketChange::Closed => {
                hub.count(Class::Socket);
                let known = lookup(&hub.sockets, &hub.sockets_writer, key(sk)).map(|i| i.conn);
                let conn = known.unwrap_or_else(|| sk.ino());
                if conn != 0 {
                    hub.publish_socket(mono_ns(), SocketRecord { closed: true, conn, owner });
                }
            }
            _ => hub.set_owner(sk, owner),
        }
    }
}

impl Subscriber<PacketNotice<'static>> for Forwarder {
    fn notify(&self, notice: &PacketNotice<'static>) {
        let hub = &*self.hub;
        hub.count(Class::Packet);
        let skb = notice.skb();
        let (conn, owner) = match notice.sock() {
            None if notice.inbound => hub.echo_reply_socket(skb),
            None => (None, None),
            Some(sk) => {
                if !notice.inbound && sk.is_ping() {
                    hub.echo_request(skb, sk);
                }
                hub.socket(sk)
            }
        };
        // A packet leaving in process context is sent by the current process; any other packet
        // of a socket belongs to the socket's current owner.
        let sender = if notice.inbound || conn.is_none() { None } else { current_sender() };
        let thread = sender.and_then(|(_, tid)| u32::try_from(tid).ok());
        let process = sender.map(|(o, _)| o).or(owner);
        let pid = process.and_then(|o| u32::try_from(o.pid).ok()).filter(|&p| p != 0);
        let comm = process.map(|o| o.comm).unwrap_or_default();
        let record = PacketRecord { inbound: notice.inbound, conn, pid, thread: pid.and(thread), comm, len: skb.len() };
        let event = PacketEvent::new(skb, mono_ns(), record, hub.whole_packets.load(Ordering::Relaxed) > 0);
        match event.map(|e| Arc::new(e, GFP_ATOMIC)) {
            Some(Ok(event)) => HoneChain::publish(&HoneEvent::Packet(event)),
            _ => hub.lose(Class::Packet),
        }
    }
}

/// The process running in task context, if any (not in an interrupt or softirq).
fn current_owner() -> Option<Owner> {
    current_sender().map(|(owner, _)| owner)
}

fn task_owner(task: &Task) -> Owner {
    task_owner_and_thread(task).0
}

/// A task's process (with its command name) and its own thread id.
fn task_owner_and_thread(task: &Task) -> (Owner, i32) {
    let ids = task.ids();
    (Owner { pid: ids.pid, ppid: ids.ppid, euid: ids.euid, egid: ids.egid, comm: task.comm() }, ids.tid)
}

/// The thread running in task context and its process, if any (not in an interrupt or softirq).
fn current_sender() -> Option<(Owner, i32)> {
    Task::with_current(task_owner_and_thread)
}

/// The ICMP echo a packet carries, read from its first bytes.
fn echo_of(skb: &SkBuff) -> Option<hone::ip::Echo> {
    let mut header = [0u8; 96];
    let n = (skb.len() as usize).min(header.len());
    if !skb.copy(0, &mut header[..n]) {
        return None;
    }
    hone::ip::echo(&header[..n])
}

/// hone_notify's subscriptions to the three notifiers, held while it has subscribers.
struct Upstream {
    _process: Subscription<ProcessChain, Forwarder>,
    _socket: Subscription<SocketChain, Forwarder>,
    _packet: Subscription<PacketChain, Forwarder>,
}

impl Upstream {
    fn subscribe(hub: ArcBorrow<'_, Hub>) -> Result<Self> {
        let forwarder = || Forwarder { hub: hub.into() };
        Ok(Upstream {
            _process: Subscription::new(forwarder())?,
            _socket: Subscription::new(forwarder())?,
            _packet: Subscription::new(forwarder())?,
        })
    }
}

struct Readers {
    count: usize,
    upstream: Option<Upstream>,
}

/// Slots of the socket table: up to 28,672 sockets are tracked at once (48 bytes each, 1.5 MiB).
const SOCKET_SLOTS: usize = 32768;

type Sockets = SocketTable<KVVec<SocketSlot>>;

/// Slots of the echo table: up to 224 ping sockets waiting for replies at once.
const ECHO_SLOTS: usize = 256;

/// ICMP echo identifier (and family) to the ping socket that sent the request.
type Echoes = Table<u64, 1, KVVec<Slot<1>>>;

/// What `table` holds for `key`: looked up without a lock, unless a change overlaps the lookup,
/// which then waits for `writer` (its lock) instead of spinning.
fn lookup<V: Pack<W>, const W: usize>(table: &Table<V, W, KVVec<Slot<W>>>, writer: &IrqSpinLock<Writer>, key: u64) -> Option<V> {
    table.try_get(key).unwrap_or_else(|| table.get_locked(&writer.lock(), key))
}

fn echo_key(e: &hone::ip::Echo) -> u64 {
    u64::from(e.v6) << 16 | u64::from(e.id)
}

/// The module's state, published for its exported functions and shared with its subscriptions
/// upstream, which it holds while it has subscribers (a reference cycle, which the last one to
/// leave ends, or else the module's unloading). The reference the module holds is the last to
/// go, at unload, in process context.
#[pin_data]
struct Hub {
    #[pin]
    readers: Mutex<Readers>,
    /// Connection id and current owner of every socket seen while there are readers: looked
    /// up without a lock, changed under `sockets_writer`.
    sockets: Sockets,
    #[pin]
    sockets_writer: IrqSpinLock<Writer>,
    /// Echo requests sent by ping sockets, to attribute their replies (which no socket lookup
    /// of netfilter finds).
    echoes: Echoes,
    #[pin]
    echoes_writer: IrqSpinLock<Writer>,
    /// Monotonic time the module was loaded, in ns.
    start_ns: u64,
    /// Events received, by class (`Class as usize`).
    received: [AtomicU64; CLASSES],
    /// Events lost because memory was short in atomic context.
    lost: [AtomicU64; CLASSES],
    /// Subscribers that want whole packets (see `hone_notify_whole_packets`).
    whole_packets: AtomicU32,
}

impl Hub {
    fn count(&self, class: Class) {
        self.received[class as usize].fetch_add(1, Ordering::Relaxed);
    }

    fn lose(&self, class: Class) {
        self.lost[class as usize].fetch_add(1, Ordering::Relaxed);
    }

    fn publish_socket(&self, ts_ns: u64, record: SocketRecord) {
        match Arc::new(SocketEvent { ts_ns, record }, GFP_ATOMIC) {
            Ok(event) => HoneChain::publish(&HoneEvent::Socket(event)),
            Err(_) => self.lose(Class::Socket),
        }
    }

    /// Records `info` for `sk`. A full table leaves the socket untracked: its packets still
    /// carry its inode number, and the sender when sent in process context.
    fn track(&self, sk: &Sock, info: SocketInfo) {
        let _ = self.sockets.insert(&mut self.sockets_writer.lock(), key(sk), info);
    }

    /// Makes `owner` the current owner of `sk`, tracking it if it is not yet. The common case,
    /// the same process using its socket again, changes nothing and takes no lock.
    fn set_owner(&self, sk: &Sock, owner: Owner) {
        if lookup(&self.sockets, &self.sockets_writer, key(sk)).is_some_and(|info| info.owner == Some(owner)) {
            return;
        }
        let mut writer = self.sockets_writer.lock();
        let info = match self.sockets.get_locked(&writer, key(sk)) {
            Some(info) => SocketInfo { owner: Some(owner), ..info },
            None => match sk.ino() {
                0 => return,
                conn => SocketInfo { conn, owner: Some(owner) },
            },
        };
        let _ = self.sockets.insert(&mut writer, key(sk), info);
    }

    /// Remembers which ping socket sent an echo request.
    fn echo_request(&self, skb: &SkBuff, sk: &Sock) {
        let Some(e) = echo_of(skb) else { return };
        if e.reply {
            return;
        }
        let mut writer = self.echoes_writer.lock();
        if self.echoes.insert(&mut writer, echo_key(&e), key(sk)).is_err() {
            // Full of identifiers of sockets that are gone or got their replies long ago.
            self.echoes.clear(&mut writer);
            let _ = self.echoes.insert(&mut writer, echo_key(&e), key(sk));
        }
    }

    /// The ping socket an echo reply is for, if one sent its request.
    fn echo_reply_socket(&self, skb: &SkBuff) -> (Option<u32>, Option<Owner>) {
        let Some(e) = echo_of(skb).filter(|e| e.reply) else { return (None, None) };
        let Some(sk) = lookup(&self.echoes, &self.echoes_writer, echo_key(&e)) else { return (None, None) };
        // Only the table is consulted: the socket itself may be gone.
        match lookup(&self.sockets, &self.sockets_writer, sk) {
            Some(info) => (Some(info.conn), info.owner),
            None => (None, None),
        }
    }

    /// Connection id and owner of a packet's socket; a socket seen for the first time (open
    /// before the first reader) is tracked from now on, so its id outlives its file.
    fn socket(&self, sk: &Sock) -> (Option<u32>, Option<Owner>) {
        if let Some(info) = lookup(&self.sockets, &self.sockets_writer, key(sk)) {
            return (Some(info.conn), info.owner);
        }
        let conn = sk.ino();
        if conn == 0 {
            return (None, None);
        }
        self.track(sk, SocketInfo { conn, owner: None });
        (Some(conn), None)
    }

    /// The snapshot event of a socket `holder` has open (since `start_ns`, when it started), if
    /// the socket has a connection id; it is tracked from now on. In the walk of its file table:
    /// must not sleep.
    fn snapshot_socket(&self, sk: &Sock, holder: Owner, start_ns: u64) -> Option<Arc<SocketEvent>> {
        let (conn, owner) = self.socket(sk);
        let conn = conn?;
        if owner.is_none() {
            self.track(sk, SocketInfo { conn, owner: Some(holder) });
        }
        let record = SocketRecord { closed: false, conn, owner: holder };
        let event = Arc::new(SocketEvent { ts_ns: start_ns, record }, GFP_ATOMIC).ok();
        if event.is_none() {
            self.lose(Class::Socket);
        }
        event
    }
}

impl NotifyExports for Hub {
    /// Adds a subscriber to hone_notify's chain, subscribing upstream first if it is the first.
    fn register(hub: ArcBorrow<'_, Hub>, link: Link<'_>) -> Result {
        let mut readers = hub.readers.lock();
        if readers.upstream.is_none() {
            readers.upstream = Some(Upstream::subscribe(hub)?);
        }
        let linked = link.link();
        if linked.is_ok() {
            readers.count += 1;
        } else if readers.count == 0 {
            readers.upstream = None;
        }
        linked
    }

    /// Removes a subscriber; the last one out also unsubscribes upstream.
    fn unregister(hub: ArcBorrow<'_, Hub>, unlink: Unlink<'_>) -> Result {
        let mut readers = hub.readers.lock();
        unlink.unlink()?;
        readers.count -= 1;
        if readers.count == 0 {
            readers.upstream = None;
            // Unsubscribed, destroyed sockets go unseen: forget them all.
            hub.sockets.clear(&mut hub.sockets_writer.lock());
            hub.echoes.clear(&mut hub.echoes_writer.lock());
        }
        Ok(())
    }

    /// Hands every running process to `hand`, each followed by its open inet sockets, oldest
    /// first, until it returns false.
    fn snapshot(hub: ArcBorrow<'_, Hub>, hand: &dyn Fn(&HoneEvent) -> bool) -> Result {
        chains::process_snapshot(|process, task| {
            if !hand(&HoneEvent::Process(process.clone())) {
                return false;
            }
            let holder = task_owner(task);
            let mut events = KVec::new();
            chains::sockets_of(task, |sk| {
                if let Some(event) = hub.snapshot_socket(sk, holder, process.ts_ns) {
                    if events.push(event, GFP_ATOMIC).is_err() {
                        hub.lose(Class::Socket);
                    }
                }
            });
            events.into_iter().all(|event| hand(&HoneEvent::Socket(event)))
        })
    }

    /// Events received and events lost for want of memory, by class, since the module was loaded.
    fn stats(hub: ArcBorrow<'_, Hub>) -> HoneStats {
        let load = |c: &[AtomicU64; CLASSES]| c.each_ref().map(|n| n.load(Ordering::Relaxed));
        HoneStats { start_ns: hub.start_ns, received: load(&hub.received), lost: load(&hub.lost) }
    }

    /// While any subscriber wants whole packets, packet events keep clones of the kernel's
    /// buffers; otherwise they keep the first `PACKET_HEAD` bytes.
    fn whole_packets(hub: ArcBorrow<'_, Hub>, want: bool) {
        if want {
            hub.whole_packets.fetch_add(1, Ordering::Relaxed);
        } else {
            hub.whole_packets.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

struct HoneNotifyModule {
    hub: Publication<Hub>,
}

impl kernel::Module for HoneNotifyModule {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let mut slots = KVVec::with_capacity(SOCKET_SLOTS, GFP_KERNEL)?;
        for _ in 0..SOCKET_SLOTS {
            slots.push(Slot::default(), GFP_KERNEL)?;
        }
        let (sockets, sockets_writer) = SocketTable::new(slots).ok_or(EINVAL)?;
        let mut slots = KVVec::with_capacity(ECHO_SLOTS, GFP_KERNEL)?;
        for _ in 0..ECHO_SLOTS {
            slots.push(Slot::default(), GFP_KERNEL)?;
        }
        let (echoes, echoes_writer) = Table::new(slots).ok_or(EINVAL)?;
        let hub = Arc::pin_init(
            pin_init!(Hub {
                readers <- new_mutex!(Readers { count: 0, upstream: None }),
                sockets,
                sockets_writer <- kernel::sync::lock::Lock::new(sockets_writer, kernel::c_str!("hone_sockets"), kernel::static_lock_class!()),
                echoes,
                echoes_writer <- kernel::sync::lock::Lock::new(echoes_writer, kernel::c_str!("hone_echoes"), kernel::static_lock_class!()),
                start_ns: mono_ns(),
                received: [const { AtomicU64::new(0) }; CLASSES],
                lost: [const { AtomicU64::new(0) }; CLASSES],
                whole_packets: AtomicU32::new(0),
            }),
            GFP_KERNEL,
        )?;
        Ok(HoneNotifyModule { hub: EXPORTED.publish(hub)? })
    }
}

impl Drop for HoneNotifyModule {
    fn drop(&mut self) {
        // Subscribers hold this module while registered, so none is left, nor are the upstream
        // subscriptions (which hold the state: a reference cycle until the last one leaves).
        let mut readers = self.hub.readers.lock();
        if readers.count != 0 {
            pr_warn!("{} subscribers left at unload\n", readers.count);
        }
        readers.upstream = None;
        drop(readers);
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
