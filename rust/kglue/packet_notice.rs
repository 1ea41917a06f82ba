// SPDX-License-Identifier: GPL-2.0

//! What packet_notify lends hone_notify: a packet at a netfilter hook, and its socket.

use super::chain::Chain;
use super::skb::SkBuff;
use super::sock::Sock;

/// packet_notify's chain: packets at netfilter's LOCAL_IN and LOCAL_OUT.
pub(crate) struct PacketChain;

impl Chain for PacketChain {
    type Event<'a> = PacketNotice<'a>;
}

/// A packet of packet_notify, lent to the chain's subscribers for the call: `struct
/// hone_packet_notice` of `c/hone_interface.h`, whose layout it has.
///
/// A subscriber sees it as `PacketNotice<'static>`, which only names the type: it gets a
/// `&PacketNotice` for the call, and its accessors lend the packet and socket for no longer.
/// That holds as long as they stay private fields that no accessor returns for `'a`, and the
/// type is neither `Clone` nor `Copy`.
#[repr(C)]
pub(crate) struct PacketNotice<'a> {
    skb: &'a SkBuff,
    sk: Option<&'a Sock>,
    /// Whether it is arriving (LOCAL_IN) rather than leaving (LOCAL_OUT).
    pub(crate) inbound: bool,
    /// Inode number of the network namespace of the hook (what `/proc/<pid>/ns/net` names).
    pub(crate) netns: u32,
}

impl<'a> PacketNotice<'a> {
    /// A notice of `skb`, whose local socket is `sk` if one was found.
    #[cfg(hone_crate = "packet_notify")]
    pub(crate) fn new(skb: &'a SkBuff, sk: Option<&'a Sock>, inbound: bool, netns: u32) -> Self {
        PacketNotice { skb, sk, inbound, netns }
    }

    /// The packet, its network header at `data`.
    #[cfg(hone_crate = "hone_notify")]
    pub(crate) fn skb(&self) -> &SkBuff {
        self.skb
    }

    /// Its local socket, if one was found: a full socket.
    #[cfg(hone_crate = "hone_notify")]
    pub(crate) fn sock(&self) -> Option<&Sock> {
        self.sk
    }
}

// The notice is the C struct, field for field (a reference or an `Option` of one is a pointer).
const _: () = {
    use crate::shim::hone_packet_notice as CPacket;
    use core::mem::{offset_of, size_of};
    assert!(size_of::<PacketNotice<'_>>() == size_of::<CPacket>());
    assert!(offset_of!(PacketNotice<'_>, skb) == offset_of!(CPacket, skb));
    assert!(offset_of!(PacketNotice<'_>, sk) == offset_of!(CPacket, sk));
    assert!(offset_of!(PacketNotice<'_>, inbound) == offset_of!(CPacket, inbound));
    assert!(offset_of!(PacketNotice<'_>, netns) == offset_of!(CPacket, netns));
};
