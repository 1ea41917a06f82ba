// SPDX-License-Identifier: GPL-2.0

//! Events as they travel between Hone's modules.
//!
//! Every module compiles this same file, so the types agree across module boundaries. Events
//! are reference counted (`Arc`) and shared: a chain call lends `&E`, and a subscriber that keeps
//! the event clones the `Arc` (no copy of the data).

use super::skb::{SkBuff, SkBuffClone};
use super::sock::Sock;
use crate::hone::record::{Class, PacketRecord, ProcessKind, ProcessRecord, SocketRecord};
use crate::shim::{HONE_SOCKET_CLOSED, HONE_SOCKET_DESTROYED, HONE_SOCKET_OPENED, HONE_SOCKET_USED};
use kernel::prelude::*;
use kernel::sync::Arc;

/// A process event, with the process's identity at the time of the event.
pub struct ProcessEvent {
    /// What happened.
    pub kind: ProcessKind,
    /// Process id (tgid).
    pub pid: i32,
    /// Parent's process id.
    pub ppid: i32,
    /// Effective user id (initial user namespace).
    pub euid: u32,
    /// Effective group id (initial user namespace).
    pub egid: u32,
    /// Monotonic time of the event (for a snapshot, the process's start time), in ns.
    pub ts_ns: u64,
    /// Executable path, or a kernel thread's name.
    pub path: Option<KVec<u8>>,
    /// Arguments, NUL-separated with a trailing NUL.
    pub argv: Option<KVec<u8>>,
}

impl ProcessEvent {
    /// The encoder's view of this event.
    pub fn record(&self) -> ProcessRecord<'_> {
        ProcessRecord {
            kind: self.kind,
            pid: self.pid,
            ppid: self.ppid,
            euid: self.euid,
            egid: self.egid,
            path: self.path.as_deref(),
            argv: self.argv.as_deref(),
        }
    }
}

/// Bytes of a packet an event keeps when no subscriber wants whole packets: more than a
/// snaplen of 96 needs, and the 128 bytes of headers the text format decodes.
pub const PACKET_HEAD: u32 = 256;

/// What an event keeps of its packet.
enum PacketData {
    /// A clone of the kernel's `sk_buff`, sharing its data (no copy).
    Clone(SkBuffClone),
    /// A copy of the packet's first `len` bytes, the kernel's buffer left alone.
    Head { len: u32, bytes: [u8; PACKET_HEAD as usize] },
}

/// A packet: a clone of the kernel's `sk_buff` when whole packets are wanted, else a copy of
/// its first [`PACKET_HEAD`] bytes.
pub struct PacketEvent {
    data: PacketData,
    /// Monotonic time the packet passed the hook, in ns.
    pub ts_ns: u64,
    /// Direction, connection, process and length.
    pub record: PacketRecord,
}

impl PacketEvent {
    /// Keeps a clone of `skb` if `whole`, else a copy of its head; `None` if memory is short.
    pub fn new(skb: &SkBuff, ts_ns: u64, record: PacketRecord, whole: bool) -> Option<Self> {
        let data = if whole {
            PacketData::Clone(skb.clone_atomic()?)
        } else {
            let len = record.len.min(PACKET_HEAD);
            let mut bytes = [0u8; PACKET_HEAD as usize];
            let copied = skb.copy(0, &mut bytes[..len as usize]);
            PacketData::Head { len: if copied { len } else { 0 }, bytes }
        };
        Some(PacketEvent { data, ts_ns, record })
    }

    /// How many of the packet's bytes (from its network header) the event holds.
    pub fn held(&self) -> u32 {
        match &self.data {
            PacketData::Clone(_) => self.record.len,
            PacketData::Head { len, .. } => *len,
        }
    }

    /// Copies `buf.len()` bytes of the packet, starting `off` bytes after its network header;
    /// false if the event does not hold them.
    pub fn copy(&self, off: u32, buf: &mut [u8]) -> bool {
        match &self.data {
            PacketData::Clone(skb) => skb.copy(off, buf),
            PacketData::Head { len: held, bytes } => {
                let Ok(len) = u32::try_from(buf.len()) else { return false };
                match off.checked_add(len).filter(|&end| end <= *held) {
                    Some(end) => {
                        buf.copy_from_slice(&bytes[off as usize..end as usize]);
                        true
                    }
                    None => false,
                }
            }
        }
    }

    /// Copies `len` bytes of the packet, starting `off` bytes after its network header, to user
    /// memory at `addr`: a clone's data goes from the kernel's buffer straight to the reader.
    /// `EFAULT` if the user memory is bad or the event does not hold those bytes.
    pub fn copy_to_user(&self, off: u32, addr: usize, len: u32) -> Result {
        match &self.data {
            PacketData::Clone(skb) => skb.copy_to_user(off, addr, len),
            PacketData::Head { len: held, bytes } => {
                let end = off.checked_add(len).filter(|&end| end <= *held).ok_or(EFAULT)?;
                super::user::user_slice(addr, len as usize).writer().write_slice(&bytes[off as usize..end as usize])
            }
        }
    }
}

/// A socket opened or closed.
pub struct SocketEvent {
    /// Monotonic time of the event (for a snapshot, the holding process's start time), in ns.
    pub ts_ns: u64,
    /// Open or close, connection id, owner.
    pub record: SocketRecord,
}

/// An event of hone_notify's stream.
#[derive(Clone)]
pub enum HoneEvent {
    /// A process event.
    Process(Arc<ProcessEvent>),
    /// A socket event.
    Socket(Arc<SocketEvent>),
    /// A packet.
    Packet(Arc<PacketEvent>),
}

impl HoneEvent {
    /// The class the event is counted in.
    pub fn class(&self) -> Class {
        match self {
            HoneEvent::Process(_) => Class::Process,
            HoneEvent::Socket(_) => Class::Socket,
            HoneEvent::Packet(_) => Class::Packet,
        }
    }

    /// Monotonic time of the event, in ns.
    pub fn ts_ns(&self) -> u64 {
        match self {
            HoneEvent::Process(p) => p.ts_ns,
            HoneEvent::Socket(s) => s.ts_ns,
            HoneEvent::Packet(p) => p.ts_ns,
        }
    }
}

/// Callback through which a snapshot hands over one event (lent for the call); `false` stops
/// the walk.
pub type SnapshotFn = unsafe extern "C" fn(data: *mut core::ffi::c_void, event: *const core::ffi::c_void) -> bool;

/// Callback through which process_notify's snapshot hands over one process: its event and its
/// task (both lent for the call); `false` stops the walk.
pub type ProcessSnapshotFn = unsafe extern "C" fn(
    data: *mut core::ffi::c_void,
    event: *const core::ffi::c_void,
    task: *mut kernel::bindings::task_struct,
) -> bool;

/// What happened to a socket (`HONE_SOCKET_*` in `c/hone_interface.h`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum SocketChange {
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
    pub fn from_code(code: u32) -> Option<Self> {
        match code {
            HONE_SOCKET_OPENED => Some(Self::Opened),
            HONE_SOCKET_CLOSED => Some(Self::Closed),
            HONE_SOCKET_USED => Some(Self::Used),
            HONE_SOCKET_DESTROYED => Some(Self::Destroyed),
            _ => None,
        }
    }
}

/// A chain of events between Hone's modules (`c/hone_interface.h`): what it lends its
/// subscribers for a call. The module that publishes on it (`publisher!`) and those that
/// subscribe to it (`source!`) name the chain, so both sides agree on the type.
pub trait Chain {
    /// The event, which may borrow (`'a`) what the publisher lends with it.
    type Event<'a>;
}

/// process_notify's chain: fork, exec and exit.
pub struct ProcessChain;

impl Chain for ProcessChain {
    type Event<'a> = Arc<ProcessEvent>;
}

/// socket_notify's chain: open, use, close and destruction of inet sockets.
pub struct SocketChain;

impl Chain for SocketChain {
    type Event<'a> = SocketNotice<'a>;
}

/// packet_notify's chain: packets at netfilter's LOCAL_IN and LOCAL_OUT.
pub struct PacketChain;

impl Chain for PacketChain {
    type Event<'a> = PacketNotice<'a>;
}

/// hone_notify's chain: the correlated stream that readers consume.
pub struct HoneChain;

impl Chain for HoneChain {
    type Event<'a> = HoneEvent;
}

/// A socket event of socket_notify, lent to the chain's subscribers for the call: `struct
/// hone_socket_notice` of `c/hone_interface.h`, whose layout it has.
///
/// A subscriber sees it as `SocketNotice<'static>`, which only names the type: it gets a
/// `&SocketNotice` for the call, and [`SocketNotice::sock`] lends the socket for no longer.
/// That holds as long as the socket stays a private field that no accessor returns for `'a`,
/// and the type is neither `Clone` nor `Copy`.
#[repr(C)]
pub struct SocketNotice<'a> {
    sk: &'a Sock,
    /// What happened to it.
    pub change: SocketChange,
}

impl<'a> SocketNotice<'a> {
    /// A notice of `change` to `sk`.
    pub fn new(sk: &'a Sock, change: SocketChange) -> Self {
        SocketNotice { sk, change }
    }

    /// The socket.
    pub fn sock(&self) -> &Sock {
        self.sk
    }
}

/// A packet of packet_notify, lent to the chain's subscribers for the call: `struct
/// hone_packet_notice` of `c/hone_interface.h`, whose layout it has.
///
/// A subscriber sees it as `PacketNotice<'static>`, which only names the type: it gets a
/// `&PacketNotice` for the call, and its accessors lend the packet and socket for no longer.
/// That holds as long as they stay private fields that no accessor returns for `'a`, and the
/// type is neither `Clone` nor `Copy`.
#[repr(C)]
pub struct PacketNotice<'a> {
    skb: &'a SkBuff,
    sk: Option<&'a Sock>,
    /// Whether it is arriving (LOCAL_IN) rather than leaving (LOCAL_OUT).
    pub inbound: bool,
}

impl<'a> PacketNotice<'a> {
    /// A notice of `skb`, whose local socket is `sk` if one was found.
    pub fn new(skb: &'a SkBuff, sk: Option<&'a Sock>, inbound: bool) -> Self {
        PacketNotice { skb, sk, inbound }
    }

    /// The packet, its network header at `data`.
    pub fn skb(&self) -> &SkBuff {
        self.skb
    }

    /// Its local socket, if one was found: a full socket.
    pub fn sock(&self) -> Option<&Sock> {
        self.sk
    }
}

/// hone_notify's counters since it was loaded (`struct hone_stats` of `c/hone_interface.h`);
/// `received` and `lost` are indexed by `Class as usize`.
pub type HoneStats = crate::shim::hone_stats;

// A start time, then a count of each class received and lost.
const _: () = assert!(core::mem::size_of::<HoneStats>() == 8 * (1 + 2 * crate::hone::record::CLASSES));

// The notices are the C structs, field for field (a reference or an `Option` of one is a
// pointer, `SocketChange` a `u32`).
const _: () = {
    use crate::shim::{hone_packet_notice as CPacket, hone_socket_notice as CSocket};
    use core::mem::{offset_of, size_of};
    assert!(size_of::<SocketNotice<'_>>() == size_of::<CSocket>());
    assert!(offset_of!(SocketNotice<'_>, sk) == offset_of!(CSocket, sk));
    assert!(offset_of!(SocketNotice<'_>, change) == offset_of!(CSocket, change));
    assert!(size_of::<SocketChange>() == size_of::<u32>());
    assert!(size_of::<PacketNotice<'_>>() == size_of::<CPacket>());
    assert!(offset_of!(PacketNotice<'_>, skb) == offset_of!(CPacket, skb));
    assert!(offset_of!(PacketNotice<'_>, sk) == offset_of!(CPacket, sk));
    assert!(offset_of!(PacketNotice<'_>, inbound) == offset_of!(CPacket, inbound));
};
