// SPDX-License-Identifier: GPL-2.0

//! Which process a packet belongs to, and how that was found: the rules of the README's "Which
//! process a packet belongs to", over the tables of [`socktab`](super::socktab).
//!
//! hone_notify gathers the facts (the packet's direction and local socket, the task sending it,
//! the ICMP echo it carries) and keeps the tables; everything decided from them is here, so that
//! the host tests it. The facts are asked for lazily, through [`SocketFacts`] and
//! [`PacketFacts`]: a socket's inode number takes a lock on older kernels and an echo needs the
//! packet's first bytes, so they are read only where a rule needs them.
//!
//! The rules, in order:
//! 1. A packet of a listening socket (a SYN, or a packet packet_notify found through the
//!    listener: a request socket's SYN-ACK and handshake-completing ACK, a connection's packets
//!    before `accept()`) belongs to the listener's current owner ([`Basis::Listener`]).
//! 2. A packet leaving in process context belongs to the sending process ([`Basis::Sender`]).
//! 3. Any other packet of a socket belongs to the socket's current owner: the process that last
//!    opened, accepted, sent or received on it ([`Basis::Owner`]).
//! 4. An arriving echo reply, which no socket lookup finds, belongs to the owner of the ping
//!    socket that sent the request ([`Basis::Echo`]).
//!
//! A packet of a socket with no inode (the kernel's own) belongs to no process and no connection.

use super::container::Container;
use super::ip::Echo;
use super::process_containers::{ContainerSlot, ContainersWriter, PidSlot, ProcessContainers};
use super::record::{Basis, Comm, Owner, PacketRecord, SocketRecord};
use super::socktab::{Slot, SocketInfo, SocketSlot, SocketTable, Table, Writer};
use core::ops::Deref;

/// What the kernel can tell of a socket, each asked only when a rule needs it.
pub trait SocketFacts {
    /// A non-zero key, unique while the socket lives (its destruction is reported).
    fn key(&self) -> u64;
    /// The inode number of its file; 0 for the kernel's own sockets and one with no file.
    fn ino(&self) -> u32;
    /// Whether it is an ICMP or ICMPv6 ping socket.
    fn is_ping(&self) -> bool;
    /// Whether it is a listening TCP socket.
    fn is_listener(&self) -> bool;
    /// The id of the cgroup it was opened in, if the kernel keeps it.
    fn cgroup_id(&self) -> Option<u64>;
}

/// The thread sending a packet in its own context, and its process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sender {
    /// Its process.
    pub process: Owner,
    /// Its thread id.
    pub thread: i32,
}

/// What the kernel can tell of a packet at a hook, each asked only when a rule needs it.
pub trait PacketFacts {
    /// Its socket's facts.
    type Socket: SocketFacts;
    /// Arriving (LOCAL_IN) rather than leaving (LOCAL_OUT).
    fn inbound(&self) -> bool;
    /// Its local full socket, if the hook found one.
    fn socket(&self) -> Option<&Self::Socket>;
    /// The ICMP echo request or reply it carries, if any.
    fn echo(&self) -> Option<Echo>;
    /// The thread running in task context, if any (none in an interrupt or softirq).
    fn sender(&self) -> Option<Sender>;
}

/// Who a packet belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Attribution {
    /// Connection id of its socket, if it has one.
    pub conn: Option<u32>,
    /// Its process, if known (never 0).
    pub pid: Option<u32>,
    /// The thread that sent it, when it was sent in process context.
    pub thread: Option<u32>,
    /// Command name of the process.
    pub comm: Comm,
    /// How the process was found, when it was.
    pub basis: Option<Basis>,
    /// The cgroup its socket was opened in, when known.
    pub cgroup: Option<u64>,
    /// The container its process is in, if any.
    pub container: Option<Container>,
}

impl Attribution {
    /// The attribution of a packet of connection `conn` (if any) to `process` (if known).
    fn of(conn: Option<u32>, process: Option<Owner>, basis: Basis, thread: Option<i32>) -> Self {
        let Some(pid) = process.and_then(|p| u32::try_from(p.pid).ok()).filter(|&p| p != 0) else {
            return Attribution { conn, ..Attribution::default() };
        };
        Attribution {
            conn,
            pid: Some(pid),
            thread: thread.and_then(|t| u32::try_from(t).ok()),
            comm: process.map(|p| p.comm).unwrap_or_default(),
            basis: Some(basis),
            cgroup: None,
            container: None,
        }
    }

    /// The same, its socket opened in cgroup `cgroup`.
    fn in_cgroup(self, cgroup: Option<u64>) -> Self {
        Attribution { cgroup, ..self }
    }

    /// The record of a packet with this attribution, seen by a hook of the network namespace
    /// `netns`.
    pub fn record(self, inbound: bool, netns: u32, len: u32) -> PacketRecord {
        let Attribution { conn, pid, thread, comm, basis, cgroup, container } = self;
        PacketRecord { inbound, conn, pid, thread, comm, basis, netns: Some(netns), cgroup, container, len }
    }
}

/// A slot of an echo table.
pub type EchoSlot = Slot<1>;

/// ICMP echo identifier (and family) to the key of the ping socket that sent the request.
pub type EchoTable<S> = Table<u64, 1, S>;

fn echo_key(e: &Echo) -> u64 {
    u64::from(e.v6) << 16 | u64::from(e.id)
}

/// The correlation state: a table of the sockets seen (connection id and current owner), one
/// of the echo requests of ping sockets and those of the containers of processes, each changed
/// through its writer, which the implementation keeps behind a lock. The provided methods are
/// the rules that use them.
pub trait Tables {
    /// The storage of the socket table.
    type SocketSlots: Deref<Target = [SocketSlot]>;
    /// The storage of the echo table.
    type EchoSlots: Deref<Target = [EchoSlot]>;
    /// The storage of the table of processes in containers.
    type PidSlots: Deref<Target = [PidSlot]>;
    /// The storage of the table of their containers.
    type ContainerSlots: Deref<Target = [ContainerSlot]>;
    /// The table of sockets.
    fn sockets(&self) -> &SocketTable<Self::SocketSlots>;
    /// Runs `change` with the socket table's writer, locked.
    fn change_sockets<R>(&self, change: impl FnOnce(&mut Writer) -> R) -> R;
    /// The table of echo requests.
    fn echoes(&self) -> &EchoTable<Self::EchoSlots>;
    /// Runs `change` with the echo table's writer, locked.
    fn change_echoes<R>(&self, change: impl FnOnce(&mut Writer) -> R) -> R;
    /// The containers of processes.
    fn containers(&self) -> &ProcessContainers<Self::PidSlots, Self::ContainerSlots>;
    /// Runs `change` with the containers' writer, locked.
    fn change_containers<R>(&self, change: impl FnOnce(&mut ContainersWriter) -> R) -> R;

    /// Process `pid` forked or exec'd in `container` (or in none), as its process event says;
    /// false if the tables are full, and its packets will name no container.
    /// Most processes live outside containers: theirs take no lock.
    fn placed(&self, pid: i32, container: Option<&Container>) -> bool {
        if container.is_none() && self.containers().try_key(pid) == Some(0) {
            return true;
        }
        self.change_containers(|w| self.containers().set(w, pid, container)).is_ok()
    }

    /// Process `pid` exited: its pid names no container any more (its sockets still do).
    fn exited(&self, pid: i32) {
        self.placed(pid, None);
    }

    /// The key of the container of process `pid` (0 for none), looked up as
    /// [`Tables::socket_info`] looks up sockets.
    fn container_key(&self, pid: i32) -> u64 {
        let containers = self.containers();
        containers.try_key(pid).unwrap_or_else(|| self.change_containers(|w| containers.key_locked(w, pid)))
    }

    /// The container of key `key` (none for 0), looked up likewise.
    fn container_of_key(&self, key: u64) -> Option<Container> {
        let containers = self.containers();
        containers.try_container(key).unwrap_or_else(|| self.change_containers(|w| containers.container_locked(w, key)))
    }

    /// What is known of the socket `key`: looked up without a lock, unless a change overlaps
    /// the lookup, which then waits for the writer instead of spinning.
    fn socket_info(&self, key: u64) -> Option<SocketInfo> {
        let sockets = self.sockets();
        sockets.try_get(key).unwrap_or_else(|| self.change_sockets(|w| sockets.get_locked(w, key)))
    }

    /// Counts a socket opened while the socket table was full (see [`Tables::opened`]).
    fn count_untracked(&self);

    /// Records `info` for the socket `key`; false if the table is full. An untracked socket's
    /// packets still carry its inode number, and the sender when sent in process context, but
    /// those handled outside it (most of what arrives) name no process.
    fn track(&self, key: u64, info: SocketInfo) -> bool {
        self.change_sockets(|w| self.sockets().insert(w, key, info)).is_ok()
    }

    /// `owner` opened (or accepted) `sk`: its record, when the socket has a connection id.
    /// A socket the full table cannot track is counted.
    fn opened(&self, sk: &impl SocketFacts, owner: Owner) -> Option<SocketRecord> {
        let conn = sk.ino();
        if conn == 0 {
            return None;
        }
        if !self.track(sk.key(), SocketInfo { conn, owner: Some(owner), container: self.container_key(owner.pid) }) {
            self.count_untracked();
        }
        Some(SocketRecord { closed: false, conn, owner })
    }

    /// `owner` closed `sk` (its last close): its record, when it has a connection id. It stays
    /// tracked until destroyed, so that its last packets carry the id.
    fn closed(&self, sk: &impl SocketFacts, owner: Owner) -> Option<SocketRecord> {
        let conn = self.socket_info(sk.key()).map_or_else(|| sk.ino(), |info| info.conn);
        (conn != 0).then_some(SocketRecord { closed: true, conn, owner })
    }

    /// `owner` sent or received on `sk`: it becomes the socket's current owner, tracked if it
    /// was not. The common case, the same process using its socket again, takes no lock.
    fn used(&self, sk: &impl SocketFacts, owner: Owner) {
        let key = sk.key();
        if self.socket_info(key).is_some_and(|info| info.owner == Some(owner)) {
            return;
        }
        let container = self.container_key(owner.pid);
        self.change_sockets(|w| {
            let info = match self.sockets().get_locked(w, key) {
                Some(info) => SocketInfo { owner: Some(owner), container, ..info },
                None => match sk.ino() {
                    0 => return,
                    conn => SocketInfo { conn, owner: Some(owner), container },
                },
            };
            let _ = self.sockets().insert(w, key, info);
        });
    }

    /// `sk` is being freed: forgets it.
    fn destroyed(&self, sk: &impl SocketFacts) {
        self.change_sockets(|w| self.sockets().remove(w, sk.key()));
    }

    /// Forgets every socket, echo request and container (when no change can be seen any more).
    fn forget_all(&self) {
        self.change_sockets(|w| self.sockets().clear(w));
        self.change_echoes(|w| self.echoes().clear(w));
        self.change_containers(|w| self.containers().clear(w));
    }

    /// Connection id and owner of `sk`; a socket seen for the first time (open before the first
    /// reader) is tracked from now on, so that its id outlives its file.
    fn socket_of(&self, sk: &impl SocketFacts) -> Option<SocketInfo> {
        if let Some(info) = self.socket_info(sk.key()) {
            return Some(info);
        }
        let conn = sk.ino();
        if conn == 0 {
            return None;
        }
        let info = SocketInfo { conn, owner: None, container: 0 };
        // Untracked when the table is full: this packet still carries the id.
        self.track(sk.key(), info);
        Some(info)
    }

    /// The snapshot record of `sk`, which `holder` has open, when it has a connection id; it is
    /// tracked from now on, owned by `holder` unless it has an owner already.
    fn snapshot_socket(&self, sk: &impl SocketFacts, holder: Owner) -> Option<SocketRecord> {
        let info = self.socket_of(sk)?;
        if info.owner.is_none() {
            // Changes the value socket_of tracked (untracked only if the table is full).
            self.track(sk.key(), SocketInfo { owner: Some(holder), container: self.container_key(holder.pid), ..info });
        }
        Some(SocketRecord { closed: false, conn: info.conn, owner: holder })
    }

    /// Remembers that the ping socket `sk` sent the echo request `e`.
    fn echo_request(&self, sk: &impl SocketFacts, e: &Echo) {
        self.change_echoes(|w| {
            let echoes = self.echoes();
            if echoes.insert(w, echo_key(e), sk.key()).is_err() {
                // Full of identifiers of sockets that are gone or got their replies long ago.
                echoes.clear(w);
                let _ = echoes.insert(w, echo_key(e), sk.key());
            }
        });
    }

    /// The ping socket that sent the request the echo reply `e` answers, if one did.
    fn echo_reply_socket(&self, e: &Echo) -> Option<SocketInfo> {
        let echoes = self.echoes();
        let key = echoes.try_get(echo_key(e)).unwrap_or_else(|| self.change_echoes(|w| echoes.get_locked(w, echo_key(e))))?;
        // Only the table is consulted: the socket itself may be gone.
        self.socket_info(key)
    }

    /// Who `packet` belongs to, by the rules of this module, and the container of its process;
    /// remembers the echo requests of ping sockets and tracks sockets seen for the first time.
    fn attribute(&self, packet: &impl PacketFacts) -> Attribution {
        let (by, container) = attribute_by_socket(self, packet);
        Attribution { container: by.pid.and_then(|_| self.container_of_key(container)), ..by }
    }
}

/// Who `packet` belongs to by its socket, or by the echo request it answers (the rules of this
/// module), and the key of that process's container: the sender's own, or the one kept with
/// the socket for its owner.
fn attribute_by_socket<T: Tables + ?Sized>(tables: &T, packet: &impl PacketFacts) -> (Attribution, u64) {
    let inbound = packet.inbound();
    let Some(sk) = packet.socket() else {
        let reply = if inbound { packet.echo().filter(|e| e.reply) } else { None };
        return match reply.and_then(|e| tables.echo_reply_socket(&e)) {
            Some(info) => (Attribution::of(Some(info.conn), info.owner, Basis::Echo, None), info.container),
            None => (Attribution::default(), 0),
        };
    };
    if !inbound && sk.is_ping() {
        if let Some(e) = packet.echo().filter(|e| !e.reply) {
            tables.echo_request(sk, &e);
        }
    }
    let Some(info) = tables.socket_of(sk) else { return (Attribution::default(), 0) };
    let (by, container) = if sk.is_listener() {
        (Attribution::of(Some(info.conn), info.owner, Basis::Listener, None), info.container)
    } else {
        match if inbound { None } else { packet.sender() } {
            Some(s) => (
                Attribution::of(Some(info.conn), Some(s.process), Basis::Sender, Some(s.thread)),
                tables.container_key(s.process.pid),
            ),
            None => (Attribution::of(Some(info.conn), info.owner, Basis::Owner, None), info.container),
        }
    };
    (by.in_cgroup(sk.cgroup_id()), container)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;
    use std::sync::Mutex;
    use std::vec::Vec;

    /// The tables over host storage, their writers behind mutexes.
    struct HostTables {
        sockets: SocketTable<Vec<SocketSlot>>,
        sockets_writer: Mutex<Writer>,
        echoes: EchoTable<Vec<EchoSlot>>,
        echoes_writer: Mutex<Writer>,
        containers: ProcessContainers<Vec<PidSlot>, Vec<ContainerSlot>>,
        containers_writer: Mutex<ContainersWriter>,
        untracked: core::sync::atomic::AtomicU64,
    }

    fn slots<T: Default>(n: usize) -> Vec<T> {
        (0..n).map(|_| T::default()).collect()
    }

    impl HostTables {
        fn new(socket_slots: usize, echo_slots: usize) -> Self {
            let (sockets, sw) = SocketTable::new(slots(socket_slots)).unwrap();
            let (echoes, ew) = EchoTable::new(slots(echo_slots)).unwrap();
            let (containers, cw) = ProcessContainers::new(slots(64), slots(8)).unwrap();
            HostTables {
                sockets,
                sockets_writer: Mutex::new(sw),
                echoes,
                echoes_writer: Mutex::new(ew),
                containers,
                containers_writer: Mutex::new(cw),
                untracked: Default::default(),
            }
        }
    }

    impl Tables for HostTables {
        type SocketSlots = Vec<SocketSlot>;
        type EchoSlots = Vec<EchoSlot>;
        type PidSlots = Vec<PidSlot>;
        type ContainerSlots = Vec<ContainerSlot>;
        fn sockets(&self) -> &SocketTable<Vec<SocketSlot>> {
            &self.sockets
        }
        fn change_sockets<R>(&self, change: impl FnOnce(&mut Writer) -> R) -> R {
            change(&mut self.sockets_writer.lock().unwrap())
        }
        fn echoes(&self) -> &EchoTable<Vec<EchoSlot>> {
            &self.echoes
        }
        fn change_echoes<R>(&self, change: impl FnOnce(&mut Writer) -> R) -> R {
            change(&mut self.echoes_writer.lock().unwrap())
        }
        fn containers(&self) -> &ProcessContainers<Vec<PidSlot>, Vec<ContainerSlot>> {
            &self.containers
        }
        fn change_containers<R>(&self, change: impl FnOnce(&mut ContainersWriter) -> R) -> R {
            change(&mut self.containers_writer.lock().unwrap())
        }
        fn count_untracked(&self) {
            self.untracked.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
        }
    }

    /// A socket as the kernel would describe it.
    #[derive(Debug, Clone, Copy)]
    struct Sock {
        key: u64,
        ino: u32,
        ping: bool,
        listener: bool,
        cgroup: Option<u64>,
    }

    impl SocketFacts for Sock {
        fn key(&self) -> u64 {
            self.key
        }
        fn ino(&self) -> u32 {
            self.ino
        }
        fn is_ping(&self) -> bool {
            self.ping
        }
        fn is_listener(&self) -> bool {
            self.listener
        }
        fn cgroup_id(&self) -> Option<u64> {
            self.cgroup
        }
    }

    /// A packet as a hook would see it.
    #[derive(Debug, Clone, Copy)]
    struct Packet {
        inbound: bool,
        sock: Option<Sock>,
        echo: Option<Echo>,
        sender: Option<Sender>,
    }

    impl PacketFacts for Packet {
        type Socket = Sock;
        fn inbound(&self) -> bool {
            self.inbound
        }
        fn socket(&self) -> Option<&Sock> {
            self.sock.as_ref()
        }
        fn echo(&self) -> Option<Echo> {
            self.echo
        }
        fn sender(&self) -> Option<Sender> {
            self.sender
        }
    }

    fn process(pid: i32) -> Owner {
        Owner { pid, ppid: 1, euid: pid as u32, egid: 7, comm: Comm::new(std::format!("p{pid}").as_bytes()) }
    }

    fn sender(pid: i32, thread: i32) -> Sender {
        Sender { process: process(pid), thread }
    }

    fn sock(key: u64, ino: u32) -> Sock {
        Sock { key, ino, ping: false, listener: false, cgroup: None }
    }

    fn packet(inbound: bool, sock: Option<Sock>, sender: Option<Sender>) -> Packet {
        Packet { inbound, sock, echo: None, sender }
    }

    fn by(pid: i32, conn: u32, basis: Basis, thread: Option<u32>) -> Attribution {
        Attribution { conn: Some(conn), pid: Some(pid as u32), thread, comm: process(pid).comm, basis: Some(basis), cgroup: None, container: None }
    }

    #[test]
    fn packets_name_the_cgroup_of_their_socket() {
        let t = HostTables::new(64, 8);
        let s = Sock { cgroup: Some(4242), ..sock(0x10, 501) };
        let l = Sock { listener: true, cgroup: Some(77), ..sock(0x20, 600) };
        t.opened(&s, process(40));
        t.opened(&l, process(50));
        assert_eq!(t.attribute(&packet(false, Some(s), Some(sender(40, 40)))).cgroup, Some(4242));
        assert_eq!(t.attribute(&packet(true, Some(s), None)).cgroup, Some(4242));
        assert_eq!(t.attribute(&packet(true, Some(l), None)).cgroup, Some(77));
        // The kernel's own sockets and echo replies (whose socket may be gone): none.
        let k = Sock { cgroup: Some(1), ..sock(0x30, 0) };
        assert_eq!(t.attribute(&packet(true, Some(k), None)).cgroup, None);
        let ping = Sock { ping: true, cgroup: Some(9), ..sock(0x40, 900) };
        t.opened(&ping, process(60));
        let request = Echo { reply: false, v6: true, id: 3 };
        t.attribute(&Packet { echo: Some(request), ..packet(false, Some(ping), Some(sender(60, 60))) });
        let reply = Packet { echo: Some(Echo { reply: true, ..request }), ..packet(true, None, None) };
        assert_eq!(t.attribute(&reply), by(60, 900, Basis::Echo, None));
        // The record takes the hook's namespace.
        let rec = t.attribute(&packet(true, Some(s), None)).record(true, 4026531840, 60);
        assert_eq!((rec.netns, rec.cgroup, rec.pid, rec.len), (Some(4026531840), Some(4242), Some(40), 60));
    }

    #[test]
    fn packets_name_the_container_of_their_process() {
        use crate::container::Runtime;
        let t = HostTables::new(64, 8);
        let web = Container::new(Runtime::Docker, &[b'a'; 64]).unwrap();
        // The process execs in its container, then opens its socket.
        assert!(t.placed(40, Some(&web)));
        assert!(t.placed(41, None));
        let s = sock(0x10, 501);
        t.opened(&s, process(40));
        // Whichever rule finds the process, its container comes with it.
        assert_eq!(t.attribute(&packet(true, Some(s), None)).container, Some(web));
        assert_eq!(t.attribute(&packet(false, Some(s), Some(sender(40, 40)))).container, Some(web));
        assert_eq!(t.attribute(&packet(false, Some(s), Some(sender(41, 41)))).container, None);
        let ping = Sock { ping: true, ..sock(0x40, 900) };
        t.opened(&ping, process(40));
        let request = Echo { reply: false, v6: false, id: 9 };
        t.attribute(&Packet { echo: Some(request), ..packet(false, Some(ping), Some(sender(40, 40))) });
        let reply = Packet { echo: Some(Echo { reply: true, ..request }), ..packet(true, None, None) };
        assert_eq!(t.attribute(&reply).container, Some(web));
        // No process, no container.
        assert_eq!(t.attribute(&packet(true, Some(sock(0x50, 0)), None)).container, None);
        // After the process exits, its socket's last packets still name its container, though
        // its pid names none (a reused pid outside containers sends without one).
        t.exited(40);
        assert_eq!(t.attribute(&packet(true, Some(s), None)).container, Some(web));
        assert_eq!(t.attribute(&reply).container, Some(web));
        assert_eq!(t.attribute(&packet(false, Some(s), Some(sender(40, 40)))).container, None);
        // A new owner brings its own.
        assert!(t.placed(41, None));
        t.used(&s, process(41));
        assert_eq!(t.attribute(&packet(true, Some(s), None)).container, None);
        assert!(t.placed(40, Some(&web)));
        t.used(&s, process(40));
        assert_eq!(t.attribute(&packet(true, Some(s), None)).container, Some(web));
        t.forget_all();
        assert_eq!(t.container_of_key(t.container_key(40)), None);
        assert_eq!(t.attribute(&packet(true, Some(s), None)).record(true, 1, 60).container, None);
    }

    #[test]
    fn a_full_table_counts_the_sockets_it_cannot_track() {
        use core::sync::atomic::Ordering::Relaxed;
        let t = HostTables::new(8, 8);
        let socks: Vec<Sock> = (1..=10).map(|i| sock(0x100 * i, 500 + i as u32)).collect();
        for (i, s) in socks.iter().enumerate() {
            assert!(t.opened(s, process(40 + i as i32)).is_some(), "every open is reported");
        }
        assert_eq!((t.sockets().len(), t.untracked.load(Relaxed)), (7, 3));
        // The last tracked socket is attributed; an untracked one has its id, and its sender
        // in process context, but no owner for what arrives.
        assert_eq!(t.attribute(&packet(true, Some(socks[6]), None)), by(46, 507, Basis::Owner, None));
        let lost = socks[9];
        assert_eq!(t.attribute(&packet(true, Some(lost), None)), Attribution { conn: Some(510), ..Attribution::default() });
        assert_eq!(t.attribute(&packet(false, Some(lost), Some(sender(49, 49)))), by(49, 510, Basis::Sender, Some(49)));
        // Neither packets nor later uses count it again; a socket destroyed makes room.
        t.used(&lost, process(49));
        assert_eq!(t.untracked.load(Relaxed), 3);
        t.destroyed(&socks[0]);
        t.opened(&lost, process(49));
        assert_eq!(t.attribute(&packet(true, Some(lost), None)), by(49, 510, Basis::Owner, None));
        assert_eq!(t.untracked.load(Relaxed), 3);
    }

    #[test]
    fn each_rule_on_its_own() {
        let t = HostTables::new(64, 8);
        let s = sock(0x10, 501);
        assert_eq!(t.opened(&s, process(40)), Some(SocketRecord { closed: false, conn: 501, owner: process(40) }));
        // Leaving in process context: the sending thread, even if another process owns it.
        assert_eq!(t.attribute(&packet(false, Some(s), Some(sender(41, 45)))), by(41, 501, Basis::Sender, Some(45)));
        // Arriving, or leaving in softirq: the owner.
        assert_eq!(t.attribute(&packet(true, Some(s), Some(sender(41, 45)))), by(40, 501, Basis::Owner, None));
        assert_eq!(t.attribute(&packet(false, Some(s), None)), by(40, 501, Basis::Owner, None));
        // Another process used it: the new owner.
        t.used(&s, process(41));
        assert_eq!(t.attribute(&packet(true, Some(s), None)), by(41, 501, Basis::Owner, None));
        // A listener's packets go to its owner, whoever is running.
        let l = Sock { listener: true, ..sock(0x20, 600) };
        t.opened(&l, process(50));
        assert_eq!(t.attribute(&packet(false, Some(l), Some(sender(41, 41)))), by(50, 600, Basis::Listener, None));
        assert_eq!(t.attribute(&packet(true, Some(l), None)), by(50, 600, Basis::Listener, None));
        // The kernel's own sockets: nothing, and not tracked.
        let k = sock(0x30, 0);
        assert_eq!(t.attribute(&packet(false, Some(k), Some(sender(41, 41)))), Attribution::default());
        assert_eq!(t.attribute(&packet(true, None, None)), Attribution::default());
        assert!(t.socket_info(0x30).is_none());
        // Closed: the id stays until the socket is destroyed.
        assert_eq!(t.closed(&Sock { ino: 0, ..s }, process(41)).map(|r| r.conn), Some(501));
        assert_eq!(t.attribute(&packet(true, Some(Sock { ino: 0, ..s }), None)), by(41, 501, Basis::Owner, None));
        t.destroyed(&s);
        assert_eq!(t.attribute(&packet(true, Some(Sock { ino: 0, ..s }), None)), Attribution::default());
    }

    #[test]
    fn a_socket_open_before_the_first_reader() {
        let t = HostTables::new(64, 8);
        let s = sock(0x10, 777);
        // Its first packet: the connection id, no owner yet, unless sent in process context.
        assert_eq!(t.attribute(&packet(true, Some(s), None)), Attribution { conn: Some(777), ..Attribution::default() });
        assert_eq!(t.attribute(&packet(false, Some(s), Some(sender(9, 10)))), by(9, 777, Basis::Sender, Some(10)));
        // The snapshot names its holder, who becomes its owner; the id outlives the file.
        assert_eq!(t.snapshot_socket(&s, process(9)).map(|r| (r.conn, r.owner.pid)), Some((777, 9)));
        assert_eq!(t.attribute(&packet(true, Some(Sock { ino: 0, ..s }), None)), by(9, 777, Basis::Owner, None));
        // A snapshot does not take a socket from its owner.
        t.used(&s, process(12));
        t.snapshot_socket(&s, process(9));
        assert_eq!(t.attribute(&packet(true, Some(s), None)).pid, Some(12));
    }

    #[test]
    fn echo_replies_go_to_the_ping_socket_of_the_request() {
        let t = HostTables::new(64, 8);
        let ping = Sock { ping: true, ..sock(0x40, 900) };
        t.opened(&ping, process(60));
        let request = Echo { reply: false, v6: false, id: 3 };
        let reply = Echo { reply: true, ..request };
        let out = Packet { echo: Some(request), ..packet(false, Some(ping), Some(sender(60, 61))) };
        assert_eq!(t.attribute(&out), by(60, 900, Basis::Sender, Some(61)));
        let back = Packet { echo: Some(reply), ..packet(true, None, None) };
        assert_eq!(t.attribute(&back), by(60, 900, Basis::Echo, None));
        // Another identifier, the other family, or a request arriving: nobody's.
        for e in [Echo { id: 4, ..reply }, Echo { v6: true, ..reply }, request] {
            assert_eq!(t.attribute(&Packet { echo: Some(e), ..back }), Attribution::default(), "{e:?}");
        }
        // A request on a socket that is not a ping socket is not remembered.
        let raw = sock(0x41, 901);
        t.opened(&raw, process(62));
        let raw_out = Packet { echo: Some(Echo { id: 5, ..request }), ..packet(false, Some(raw), Some(sender(62, 62))) };
        t.attribute(&raw_out);
        assert_eq!(t.attribute(&Packet { echo: Some(Echo { id: 5, ..reply }), ..back }), Attribution::default());
        // The socket destroyed: its replies are nobody's.
        t.destroyed(&ping);
        assert_eq!(t.attribute(&back), Attribution::default());
        // A full echo table starts afresh rather than refusing new requests.
        t.opened(&ping, process(60));
        for id in 10..40 {
            t.attribute(&Packet { echo: Some(Echo { id, ..request }), ..out });
            assert_eq!(t.attribute(&Packet { echo: Some(Echo { id, ..reply }), ..back }).basis, Some(Basis::Echo));
        }
    }

    #[test]
    fn a_full_table_still_gives_the_connection_id() {
        let t = HostTables::new(8, 8);
        for k in 1..=7 {
            t.opened(&sock(k, k as u32), process(1));
        }
        let s = sock(99, 99);
        assert!(t.opened(&s, process(5)).is_some());
        assert_eq!(t.attribute(&packet(true, Some(s), None)), Attribution { conn: Some(99), ..Attribution::default() });
        assert_eq!(t.attribute(&packet(false, Some(s), Some(sender(5, 6)))), by(5, 99, Basis::Sender, Some(6)));
    }

    #[test]
    fn pid_zero_and_negative_are_no_process() {
        let t = HostTables::new(8, 8);
        let s = sock(1, 5);
        for pid in [0, -1] {
            t.opened(&s, process(pid));
            assert_eq!(t.attribute(&packet(true, Some(s), None)), Attribution { conn: Some(5), ..Attribution::default() });
        }
    }

    #[test]
    fn basis_codes_round_trip() {
        for b in [Basis::Sender, Basis::Owner, Basis::Listener, Basis::Echo] {
            assert_eq!(Basis::from_code(b as u32), Some(b));
        }
        assert_eq!(Basis::from_code(0), None);
        assert_eq!(Basis::from_code(5), None);
    }

    /// What happens to sockets, at random.
    #[derive(Debug, Clone)]
    enum Op {
        Open { sock: usize, pid: i32 },
        Use { sock: usize, pid: i32 },
        Close { sock: usize, pid: i32 },
        Destroy { sock: usize },
        Packet { sock: Option<usize>, inbound: bool, sender: Option<i32> },
    }

    fn op() -> impl Strategy<Value = Op> {
        let s = 0usize..6;
        let pid = 1i32..5;
        prop_oneof![
            (s.clone(), pid.clone()).prop_map(|(sock, pid)| Op::Open { sock, pid }),
            (s.clone(), pid.clone()).prop_map(|(sock, pid)| Op::Use { sock, pid }),
            (s.clone(), pid.clone()).prop_map(|(sock, pid)| Op::Close { sock, pid }),
            s.clone().prop_map(|sock| Op::Destroy { sock }),
            (proptest::option::weighted(0.9, s), any::<bool>(), proptest::option::of(pid))
                .prop_map(|(sock, inbound, sender)| Op::Packet { sock, inbound, sender }),
            ]
    }

    proptest! {
        /// Each packet of a random history of six sockets (socket 0 the kernel's, socket 5 a
        /// listener) is attributed as the rules say, against a plain map of what happened.
        #[test]
        fn every_packet_follows_the_rules(ops in proptest::collection::vec(op(), 1..200)) {
            let t = HostTables::new(16, 8);
            let socks: Vec<Sock> = (0..6)
                .map(|i| Sock { listener: i == 5, cgroup: (i % 2 == 1).then_some(i as u64), ..sock(100 + i as u64, i as u32 * 11) })
                .collect();
            // Socket index to (connection id, owner pid) while it lives in the table.
            let mut known: HashMap<usize, (u32, Option<i32>)> = HashMap::new();
            for op in ops {
                match op {
                    Op::Open { sock, pid } => {
                        let r = t.opened(&socks[sock], process(pid));
                        prop_assert_eq!(r.is_some(), sock != 0);
                        if sock != 0 {
                            known.insert(sock, (socks[sock].ino, Some(pid)));
                        }
                    }
                    Op::Use { sock, pid } => {
                        t.used(&socks[sock], process(pid));
                        if sock != 0 {
                            let conn = known.get(&sock).map_or(socks[sock].ino, |k| k.0);
                            known.insert(sock, (conn, Some(pid)));
                        }
                    }
                    Op::Close { sock, pid } => {
                        let r = t.closed(&socks[sock], process(pid));
                        prop_assert_eq!(r.map(|r| r.conn), (sock != 0).then_some(socks[sock].ino));
                    }
                    Op::Destroy { sock } => {
                        t.destroyed(&socks[sock]);
                        known.remove(&sock);
                    }
                    Op::Packet { sock, inbound, sender: who } => {
                        let p = packet(inbound, sock.map(|i| socks[i]), who.map(|pid| sender(pid, pid + 100)));
                        let got = t.attribute(&p);
                        let want = match sock {
                            None | Some(0) => Attribution::default(),
                            Some(i) => {
                                let (conn, owner) = *known.entry(i).or_insert((socks[i].ino, None));
                                let owner = owner.map(process);
                                let by = if i == 5 {
                                    Attribution::of(Some(conn), owner, Basis::Listener, None)
                                } else if let (false, Some(pid)) = (inbound, who) {
                                    by(pid, conn, Basis::Sender, Some(pid as u32 + 100))
                                } else {
                                    Attribution::of(Some(conn), owner, Basis::Owner, None)
                                };
                                Attribution { cgroup: socks[i].cgroup, ..by }
                            }
                        };
                        prop_assert_eq!(got, want, "{:?}", p);
                        prop_assert_eq!(got.basis.is_some(), got.pid.is_some());
                        prop_assert!(got.thread.is_none() || got.basis == Some(Basis::Sender));
                    }
                }
            }
        }
    }
}
