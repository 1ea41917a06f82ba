// SPDX-License-Identifier: GPL-2.0

//! hone_notify: one stream of Hone events for the readers.
//!
//! Subscribes to process_notify, socket_notify and packet_notify while it has subscribers of
//! its own (`hone_notify_register`), and only then: with no reader, the notifiers see an empty
//! chain and do no work. Process events are passed on as shared `HoneEvent`s (no copy).
//! Correlates packet, socket and process by the rules of `rust/hone/src/attribution.rs`, whose
//! facts it gathers and whose tables it keeps. Each socket gets a connection id: the inode
//! number of its file, as `ss -e` and `/proc/<pid>/fd` show it (never a kernel address), kept
//! in a table until the socket is destroyed so that packets after `close()` still carry it. The
//! table also holds each socket's current owner: the process that last opened, accepted, sent
//! or received on it. Packets look sockets up without a lock (the table is a sequence lock, see
//! `rust/hone/src/socktab.rs`), so the packet paths of all CPUs share none there; only changes
//! (a socket opened, destroyed, or used by another process), and a lookup that overlaps one,
//! take one. A packet of up to `PACKET_HEAD` bytes is copied whole into its event; a longer one
//! is kept as a clone of the kernel's buffer (no copy) while a subscriber wants whole packets
//! (`hone_notify_whole_packets`), otherwise only its first `PACKET_HEAD` bytes are copied, so
//! that no buffer is cloned and none is held (a cloned buffer cannot be coalesced into a TCP
//! receive queue).
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
    pub mod attribution;
    pub mod container;
    pub mod ip;
    pub mod process_containers;
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
    pub(crate) mod param;
    pub(crate) mod process_event;
    pub(crate) mod publish;
    pub(crate) mod skb;
    pub(crate) mod slab;
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

use hone::attribution::{EchoSlot, EchoTable, PacketFacts, Sender, SocketFacts, Tables};
use hone::container;
use hone::process_containers::{ContainerSlot, ContainersWriter, PidSlot, ProcessContainers};
use hone::record::{Class, Owner, ProcessKind, SocketRecord, CLASSES};
use hone::socktab::{self, SocketSlot, SocketTable, Writer};
use kglue::chains;
use kglue::clock::mono_ns;
use kglue::hone_event::{HoneChain, HoneEvent, HoneStats, PacketEvent, SocketEvent};
use kglue::packet_notice::{PacketChain, PacketNotice};
use kglue::process_event::{ProcessChain, ProcessEvent};
use kglue::socket_notice::{SocketChain, SocketChange, SocketNotice};
use kglue::irqlock::IrqSpinLock;
use kglue::notify_exports::{Exported, Link, NotifyExports, Publication, Unlink};
use kglue::slab::SlabCache;
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
static EXPORTED: Exported<Correlation> = Exported::new();
crate::notify_exports!(EXPORTED);

/// Correlates the upstream events and passes them on to hone_notify's subscribers.
struct Correlator {
    state: Arc<Correlation>,
}

impl Subscriber<Arc<ProcessEvent>> for Correlator {
    fn notify(&self, event: &Arc<ProcessEvent>) {
        self.state.count(Class::Process);
        self.state.learn_place(event);
        HoneChain::publish(&HoneEvent::Process(event.clone()));
    }
}

impl Subscriber<SocketNotice<'static>> for Correlator {
    fn notify(&self, notice: &SocketNotice<'static>) {
        let state = &*self.state;
        let sk = notice.sock();
        if notice.change == SocketChange::Destroyed {
            state.destroyed(sk);
            return;
        }
        // Opened, closed and used are reported in the acting process's context.
        let Some(owner) = current_owner() else { return };
        let record = match notice.change {
            SocketChange::Opened => state.opened(sk, owner),
            SocketChange::Closed => state.closed(sk, owner),
            _ => return state.used(sk, owner),
        };
        state.count(Class::Socket);
        if let Some(record) = record {
            state.publish_socket(mono_ns(), record);
        }
    }
}

impl Subscriber<PacketNotice<'static>> for Correlator {
    fn notify(&self, notice: &PacketNotice<'static>) {
        let state = &*self.state;
        state.count(Class::Packet);
        let skb = notice.skb();
        let record = state.attribute(notice).record(notice.inbound, notice.netns, skb.len());
        let event = PacketEvent::new(skb, mono_ns(), record, state.whole_packets.load(Ordering::Relaxed) > 0);
        match event.and_then(|e| state.packets.alloc(e)) {
            Some(event) => HoneChain::publish(&HoneEvent::Packet(event)),
            None => state.lose(Class::Packet),
        }
    }
}

impl SocketFacts for Sock {
    /// Its address, unique while it lives (its destruction removes it from the tables), and
    /// never out of the kernel.
    fn key(&self) -> u64 {
        self.as_ptr() as usize as u64
    }

    fn ino(&self) -> u32 {
        Sock::ino(self)
    }

    fn is_ping(&self) -> bool {
        Sock::is_ping(self)
    }

    fn is_listener(&self) -> bool {
        Sock::is_listener(self)
    }

    fn cgroup_id(&self) -> Option<u64> {
        Sock::cgroup_id(self)
    }
}

impl PacketFacts for PacketNotice<'static> {
    type Socket = Sock;

    fn inbound(&self) -> bool {
        self.inbound
    }

    fn socket(&self) -> Option<&Sock> {
        self.sock()
    }

    /// Read from the packet's first bytes.
    fn echo(&self) -> Option<hone::ip::Echo> {
        let skb = self.skb();
        let mut header = [0u8; 96];
        let n = (skb.len() as usize).min(header.len());
        if !skb.copy(0, &mut header[..n]) {
            return None;
        }
        hone::ip::echo(&header[..n])
    }

    fn sender(&self) -> Option<Sender> {
        current_sender()
    }
}

/// The process running in task context, if any (not in an interrupt or softirq).
fn current_owner() -> Option<Owner> {
    current_sender().map(|s| s.process)
}

/// A task's process (with its command name) and its own thread id.
fn task_sender(task: &Task) -> Sender {
    let ids = task.ids();
    let process = Owner { pid: ids.pid, ppid: ids.ppid, euid: ids.euid, egid: ids.egid, comm: task.comm() };
    Sender { process, thread: ids.tid }
}

/// The thread running in task context and its process, if any (not in an interrupt or softirq).
fn current_sender() -> Option<Sender> {
    Task::with_current(task_sender)
}

/// hone_notify's subscriptions to the three notifiers, held while it has subscribers.
struct Upstream {
    _process: Subscription<ProcessChain, Correlator>,
    _socket: Subscription<SocketChain, Correlator>,
    _packet: Subscription<PacketChain, Correlator>,
}

impl Upstream {
    fn subscribe(state: ArcBorrow<'_, Correlation>) -> Result<Self> {
        let correlator = || Correlator { state: state.into() };
        Ok(Upstream {
            _process: Subscription::new(correlator())?,
            _socket: Subscription::new(correlator())?,
            _packet: Subscription::new(correlator())?,
        })
    }
}

struct Readers {
    count: usize,
    upstream: Option<Upstream>,
}

/// Slots of the echo table: up to 224 ping sockets waiting for replies at once.
const ECHO_SLOTS: usize = 256;

/// Slots of the table of processes in containers: up to 14,336 at once (16 bytes each, 256 KiB).
const PID_SLOTS: usize = 16384;

/// Slots of the table of their containers: up to 896 containers (80 bytes each, 80 KiB).
const CONTAINER_SLOTS: usize = 1024;

/// The correlation state: the tables the rules of `hone::attribution` consult, published for
/// the module's exported functions and shared with its subscriptions upstream, which it holds
/// while it has subscribers (a reference cycle, which the last one to leave ends, or else the
/// module's unloading). The reference the module holds is the last to go, at unload, in process
/// context.
#[pin_data]
struct Correlation {
    #[pin]
    readers: Mutex<Readers>,
    /// Connection id and current owner of every socket seen while there are readers: looked
    /// up without a lock, changed under `sockets_writer`.
    sockets: SocketTable<KVVec<SocketSlot>>,
    #[pin]
    sockets_writer: IrqSpinLock<Writer>,
    /// Echo requests sent by ping sockets, to attribute their replies (which no socket lookup
    /// of netfilter finds).
    echoes: EchoTable<KVVec<EchoSlot>>,
    #[pin]
    echoes_writer: IrqSpinLock<Writer>,
    /// The container of each process in one, from the process events, for its packets.
    containers: ProcessContainers<KVVec<PidSlot>, KVVec<ContainerSlot>>,
    #[pin]
    containers_writer: IrqSpinLock<ContainersWriter>,
    /// Processes in containers the full tables could not keep: their packets name no container.
    unplaced: AtomicU64,
    /// Sockets opened while the socket table was full: what arrives on them outside process
    /// context names no process.
    untracked: AtomicU64,
    /// Monotonic time the module was loaded, in ns.
    start_ns: u64,
    /// Events received, by class (`Class as usize`).
    received: [AtomicU64; CLASSES],
    /// Events lost because memory was short in atomic context.
    lost: [AtomicU64; CLASSES],
    /// Subscribers that want whole packets (see `hone_notify_whole_packets`).
    whole_packets: AtomicU32,
    /// Where packet events are made (`hone_packet` in `/proc/slabinfo`). Dropped last, when no
    /// event is left: the subscribers that keep events hold this module while they do.
    packets: SlabCache<PacketEvent>,
}

impl Tables for Correlation {
    type SocketSlots = KVVec<SocketSlot>;
    type EchoSlots = KVVec<EchoSlot>;
    type PidSlots = KVVec<PidSlot>;
    type ContainerSlots = KVVec<ContainerSlot>;

    fn sockets(&self) -> &SocketTable<KVVec<SocketSlot>> {
        &self.sockets
    }

    fn change_sockets<R>(&self, change: impl FnOnce(&mut Writer) -> R) -> R {
        change(&mut self.sockets_writer.lock())
    }

    fn echoes(&self) -> &EchoTable<KVVec<EchoSlot>> {
        &self.echoes
    }

    fn change_echoes<R>(&self, change: impl FnOnce(&mut Writer) -> R) -> R {
        change(&mut self.echoes_writer.lock())
    }

    fn containers(&self) -> &ProcessContainers<KVVec<PidSlot>, KVVec<ContainerSlot>> {
        &self.containers
    }

    fn change_containers<R>(&self, change: impl FnOnce(&mut ContainersWriter) -> R) -> R {
        change(&mut self.containers_writer.lock())
    }

    fn count_untracked(&self) {
        self.untracked.fetch_add(1, Ordering::Relaxed);
    }
}

impl Correlation {
    fn count(&self, class: Class) {
        self.received[class as usize].fetch_add(1, Ordering::Relaxed);
    }

    fn lose(&self, class: Class) {
        self.lost[class as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Remembers the container a process event says its process is in (or that it is in none,
    /// or gone), for its packets.
    fn learn_place(&self, event: &ProcessEvent) {
        match (event.kind, &event.place) {
            (ProcessKind::Exit, _) => self.exited(event.pid),
            (_, Some(place)) => {
                if !self.placed(event.pid, container::of_cgroup(&place.cgroup_path).as_ref()) {
                    self.unplaced.fetch_add(1, Ordering::Relaxed);
                }
            }
            _ => {}
        }
    }

    fn publish_socket(&self, ts_ns: u64, record: SocketRecord) {
        match Arc::new(SocketEvent { ts_ns, record }, GFP_ATOMIC) {
            Ok(event) => HoneChain::publish(&HoneEvent::Socket(event)),
            Err(_) => self.lose(Class::Socket),
        }
    }

    /// The snapshot event of a socket `holder` has open (since `start_ns`, when it started), if
    /// the socket has a connection id; it is tracked from now on. In the walk of its file table:
    /// must not sleep.
    fn snapshot_event(&self, sk: &Sock, holder: Owner, start_ns: u64) -> Option<Arc<SocketEvent>> {
        let record = self.snapshot_socket(sk, holder)?;
        let event = Arc::new(SocketEvent { ts_ns: start_ns, record }, GFP_ATOMIC).ok();
        if event.is_none() {
            self.lose(Class::Socket);
        }
        event
    }
}

impl NotifyExports for Correlation {
    /// Adds a subscriber to hone_notify's chain, subscribing upstream first if it is the first.
    fn register(state: ArcBorrow<'_, Correlation>, link: Link<'_>) -> Result {
        let mut readers = state.readers.lock();
        if readers.upstream.is_none() {
            readers.upstream = Some(Upstream::subscribe(state)?);
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
    fn unregister(state: ArcBorrow<'_, Correlation>, unlink: Unlink<'_>) -> Result {
        let mut readers = state.readers.lock();
        unlink.unlink()?;
        readers.count -= 1;
        if readers.count == 0 {
            readers.upstream = None;
            // Unsubscribed, destroyed sockets go unseen: forget them all.
            state.forget_all();
        }
        Ok(())
    }

    /// Hands every running process to `hand`, each followed by its open inet sockets, oldest
    /// first, until it returns false.
    fn snapshot(state: ArcBorrow<'_, Correlation>, hand: &dyn Fn(&HoneEvent) -> bool) -> Result {
        chains::process_snapshot(|process, task| {
            state.learn_place(process);
            if !hand(&HoneEvent::Process(process.clone())) {
                return false;
            }
            let holder = task_sender(task).process;
            let mut events = KVec::new();
            chains::sockets_of(task, |sk| {
                if let Some(event) = state.snapshot_event(sk, holder, process.ts_ns) {
                    if events.push(event, GFP_ATOMIC).is_err() {
                        state.lose(Class::Socket);
                    }
                }
            });
            events.into_iter().all(|event| hand(&HoneEvent::Socket(event)))
        })
    }

    /// Events received and events lost for want of memory, by class, since the module was loaded.
    fn stats(state: ArcBorrow<'_, Correlation>) -> HoneStats {
        let load = |c: &[AtomicU64; CLASSES]| c.each_ref().map(|n| n.load(Ordering::Relaxed));
        HoneStats {
            start_ns: state.start_ns,
            received: load(&state.received),
            lost: load(&state.lost),
            untracked: state.untracked.load(Ordering::Relaxed),
        }
    }

    /// While any subscriber wants whole packets, packet events keep clones of the kernel's
    /// buffers; otherwise they keep the first `PACKET_HEAD` bytes.
    fn whole_packets(state: ArcBorrow<'_, Correlation>, want: bool) {
        if want {
            state.whole_packets.fetch_add(1, Ordering::Relaxed);
        } else {
            state.whole_packets.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

struct HoneNotifyModule {
    state: Publication<Correlation>,
}

/// `n` empty table slots, in memory that may be virtually contiguous only.
fn empty_slots<T: Default>(n: usize) -> Result<KVVec<T>> {
    let mut slots = KVVec::with_capacity(n, GFP_KERNEL)?;
    for _ in 0..n {
        slots.push(T::default(), GFP_KERNEL)?;
    }
    Ok(slots)
}

/// The socket table the `max_sockets` parameter asks for: its slots (56 bytes each, a power of
/// two of which 7/8 hold the sockets: 2^18 slots, 14 MiB, for the default of 229,376), and how
/// many sockets it tracks at once.
fn socket_table_size() -> Result<(usize, usize)> {
    let most = crate::int_param!(hone_param_max_sockets);
    match socktab::socket_slots(i64::from(most)) {
        Some(slots) => Ok((slots, most as usize)),
        None => {
            pr_err!(
                "invalid parameter max_sockets: must be {} to {} (sockets tracked at once)\n",
                socktab::MIN_SOCKETS,
                socktab::MAX_SOCKETS
            );
            Err(EINVAL)
        }
    }
}

impl kernel::Module for HoneNotifyModule {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let (socket_slots, max_sockets) = socket_table_size()?;
        let (sockets, sockets_writer) = SocketTable::limited(empty_slots(socket_slots)?, max_sockets).ok_or(EINVAL)?;
        let (echoes, echoes_writer) = EchoTable::new(empty_slots(ECHO_SLOTS)?).ok_or(EINVAL)?;
        let (containers, containers_writer) =
            ProcessContainers::new(empty_slots(PID_SLOTS)?, empty_slots(CONTAINER_SLOTS)?).ok_or(EINVAL)?;
        let packets = SlabCache::new(kernel::c_str!("hone_packet"))?;
        let state = Arc::pin_init(
            pin_init!(Correlation {
                readers <- new_mutex!(Readers { count: 0, upstream: None }),
                sockets,
                sockets_writer <- kernel::sync::lock::Lock::new(sockets_writer, kernel::c_str!("hone_sockets"), kernel::static_lock_class!()),
                echoes,
                echoes_writer <- kernel::sync::lock::Lock::new(echoes_writer, kernel::c_str!("hone_echoes"), kernel::static_lock_class!()),
                containers,
                containers_writer <- kernel::sync::lock::Lock::new(containers_writer, kernel::c_str!("hone_containers"), kernel::static_lock_class!()),
                unplaced: AtomicU64::new(0),
                untracked: AtomicU64::new(0),
                start_ns: mono_ns(),
                received: [const { AtomicU64::new(0) }; CLASSES],
                lost: [const { AtomicU64::new(0) }; CLASSES],
                whole_packets: AtomicU32::new(0),
                packets,
            }),
            GFP_KERNEL,
        )?;
        Ok(HoneNotifyModule { state: EXPORTED.publish(state)? })
    }
}

impl Drop for HoneNotifyModule {
    fn drop(&mut self) {
        // Subscribers hold this module while registered, so none is left, nor are the upstream
        // subscriptions (which hold the state: a reference cycle until the last one leaves).
        let mut readers = self.state.readers.lock();
        if readers.count != 0 {
            pr_warn!("{} subscribers left at unload\n", readers.count);
        }
        readers.upstream = None;
        drop(readers);
        let r = &self.state.received;
        let l = &self.state.lost;
        pr_info!(
            "received {} process, {} socket, {} packet events; lost {}, {}, {} to memory shortage\n",
            r[0].load(Ordering::Relaxed),
            r[1].load(Ordering::Relaxed),
            r[2].load(Ordering::Relaxed),
            l[0].load(Ordering::Relaxed),
            l[1].load(Ordering::Relaxed),
            l[2].load(Ordering::Relaxed)
        );
        let untracked = self.state.untracked.load(Ordering::Relaxed);
        if untracked > 0 {
            pr_warn!(
                "{} sockets were opened while the socket table was full: arriving packets named no process (raise max_sockets)\n",
                untracked
            );
        }
        let unplaced = self.state.unplaced.load(Ordering::Relaxed);
        if unplaced > 0 {
            pr_warn!("{} processes in containers were not kept (tables full): their packets named no container\n", unplaced);
        }
    }
}
