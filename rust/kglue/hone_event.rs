// SPDX-License-Identifier: GPL-2.0

//! hone_notify's stream, which honeevent's readers consume: process, socket and packet events,
//! reference counted and shared: a reader that keeps an event clones its reference (no copy of
//! the data). Packet events, one per packet, come from hone_notify's slab cache of its own
//! (`hone_packet` in `/proc/slabinfo`); the others are `Arc`s.

use super::chain::Chain;
use super::process_event::ProcessEvent;
#[cfg(hone_crate = "hone_notify")]
use super::skb::SkBuff;
use super::skb::SkBuffClone;
use super::slab::SlabArc;
#[cfg(hone_crate = "honeevent")]
use crate::hone::record::Class;
use crate::hone::record::{PacketRecord, SocketRecord};
#[cfg(hone_crate = "honeevent")]
use kernel::prelude::*;
use kernel::sync::Arc;

/// Bytes of a packet an event copies: all of a packet that fits (a small one costs less to copy
/// than to clone, and a TCP ACK that is not cloned can still be coalesced), else its head when
/// no subscriber wants whole packets. More than a snaplen of 96 needs, and the 128 bytes of
/// headers the text format decodes.
pub(crate) const PACKET_HEAD: u32 = 256;

/// What an event keeps of its packet.
#[cfg_attr(hone_crate = "hone_notify", allow(dead_code, reason = "read by honeevent"))]
#[cfg_attr(hone_crate = "honeevent", allow(dead_code, reason = "made by hone_notify"))]
enum PacketData {
    /// A clone of the kernel's `sk_buff`, sharing its data (no copy).
    Clone(SkBuffClone),
    /// A copy of the packet's first `len` bytes, the kernel's buffer left alone.
    Head { len: u32, bytes: [u8; PACKET_HEAD as usize] },
}

/// A packet: a copy of its first [`PACKET_HEAD`] bytes (all of it if it fits), or a clone of the
/// kernel's `sk_buff` when it is longer and whole packets are wanted.
#[cfg_attr(hone_crate = "hone_notify", allow(dead_code, reason = "read by honeevent"))]
pub(crate) struct PacketEvent {
    data: PacketData,
    /// Monotonic time the packet passed the hook, in ns.
    pub(crate) ts_ns: u64,
    /// Direction, connection, process and length.
    pub(crate) record: PacketRecord,
}

impl PacketEvent {
    /// Keeps a clone of `skb` if `whole` and the packet is longer than [`PACKET_HEAD`], else a
    /// copy of its head; `None` if memory is short.
    #[cfg(hone_crate = "hone_notify")]
    pub(crate) fn new(skb: &SkBuff, ts_ns: u64, record: PacketRecord, whole: bool) -> Option<Self> {
        let data = if whole && record.len > PACKET_HEAD {
            PacketData::Clone(skb.clone_atomic()?)
        } else {
            let len = record.len.min(PACKET_HEAD);
            let mut bytes = [0u8; PACKET_HEAD as usize];
            let copied = skb.copy(0, &mut bytes[..len as usize]);
            PacketData::Head { len: if copied { len } else { 0 }, bytes }
        };
        Some(PacketEvent { data, ts_ns, record })
    }

    /// Copies `len` bytes of the packet, starting `off` bytes after its network header, to user
    /// memory at `addr`: a clone's data goes from the kernel's buffer straight to the reader.
    /// `EFAULT` if the user memory is bad or the event does not hold those bytes.
    #[cfg(hone_crate = "honeevent")]
    pub(crate) fn copy_to_user(&self, off: u32, addr: usize, len: u32) -> Result {
        match &self.data {
            PacketData::Clone(skb) => skb.copy_to_user(off, addr, len),
            PacketData::Head { len: held, bytes } => {
                let held = bytes.get(..*held as usize).unwrap_or(&[]);
                let src = held.get(off as usize..).and_then(|rest| rest.get(..len as usize)).ok_or(EFAULT)?;
                super::user::user_slice(addr, src.len()).writer().write_slice(src)
            }
        }
    }
}

// What the encoders read of a packet.
#[cfg(hone_crate = "honeevent")]
impl crate::hone::encoder::PacketBytes for PacketEvent {
    fn held(&self) -> u32 {
        match &self.data {
            PacketData::Clone(_) => self.record.len,
            PacketData::Head { len, .. } => *len,
        }
    }

    fn copy(&self, off: u32, buf: &mut [u8]) -> bool {
        match &self.data {
            PacketData::Clone(skb) => skb.copy(off, buf),
            PacketData::Head { len: held, bytes } => {
                let held = bytes.get(..*held as usize).unwrap_or(&[]);
                match held.get(off as usize..).and_then(|rest| rest.get(..buf.len())) {
                    Some(src) => {
                        buf.copy_from_slice(src);
                        true
                    }
                    None => false,
                }
            }
        }
    }
}

/// A socket opened or closed.
#[cfg_attr(hone_crate = "hone_notify", allow(dead_code, reason = "read by honeevent"))]
pub(crate) struct SocketEvent {
    /// Monotonic time of the event (for a snapshot, the holding process's start time), in ns.
    pub(crate) ts_ns: u64,
    /// Open or close, connection id, owner.
    pub(crate) record: SocketRecord,
}

/// An event of hone_notify's stream.
#[cfg_attr(hone_crate = "hone_notify", allow(dead_code, reason = "read by honeevent"))]
#[cfg_attr(hone_crate = "honeevent", allow(dead_code, reason = "made by hone_notify"))]
#[derive(Clone)]
pub(crate) enum HoneEvent {
    /// A process event.
    Process(Arc<ProcessEvent>),
    /// A socket event.
    Socket(Arc<SocketEvent>),
    /// A packet.
    Packet(SlabArc<PacketEvent>),
}

impl HoneEvent {
    /// The class the event is counted in.
    #[cfg(hone_crate = "honeevent")]
    pub(crate) fn class(&self) -> Class {
        match self {
            HoneEvent::Process(_) => Class::Process,
            HoneEvent::Socket(_) => Class::Socket,
            HoneEvent::Packet(_) => Class::Packet,
        }
    }
}

/// hone_notify's chain: the correlated stream that readers consume.
pub(crate) struct HoneChain;

impl Chain for HoneChain {
    type Event<'a> = HoneEvent;
}

/// hone_notify's counters since it was loaded (`struct hone_stats` of `c/hone_interface.h`);
/// `received` and `lost` are indexed by `Class as usize`.
pub(crate) type HoneStats = crate::shim::hone_stats;

// A start time, a count of each class received and lost, then the untracked sockets.
const _: () = assert!(core::mem::size_of::<HoneStats>() == 8 * (2 + 2 * crate::hone::record::CLASSES));
