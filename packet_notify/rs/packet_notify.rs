// SPDX-License-Identifier: GPL-2.0

//! packet_notify: the IPv4 and IPv6 packets the host sends and receives.
//!
//! Hooks netfilter's `LOCAL_IN` and `LOCAL_OUT`, for IPv4 and IPv6, in every network namespace
//! (present and future), last in line. It never alters or drops a packet. Each packet goes to
//! the subscribers of this module's chain (`hone_packet_register`) as a `PacketNotice`: the
//! packet, its direction and its local socket (outbound: the sending socket; inbound: the
//! socket early demux attached, else the one a lookup finds: TCP established and listening,
//! UDP connected and bound, ICMP errors quoting TCP or UDP). A TCP connection not yet accepted
//! is handed as its listener, as its request socket is. With no subscriber the hooks return at
//! once.

use kernel::prelude::*;

// Shared with the other modules, each of which uses a part.
#[path = "../../rust/kglue"]
mod kglue {
    pub(crate) mod chain;
    pub(crate) mod module;
    pub(crate) mod netfilter;
    pub(crate) mod packet_notice;
    pub(crate) mod publish;
    pub(crate) mod registration;
    pub(crate) mod skb;
    pub(crate) mod sock;
}

// What bindgen made of the shim's header: this crate's declarations of its C side and of what
// the other modules offer (public, so that the compiler does not take the declarations this
// crate does not call for dead code).
#[allow(non_camel_case_types, non_upper_case_globals, improper_ctypes, missing_docs)]
pub mod shim {
    include!("../../rust/kglue/shim_types.rs");
    include!("shim_bindings.rs");
}

use kglue::packet_notice::{PacketChain, PacketNotice};
use kglue::skb::SkBuff;
use kglue::sock::Sock;

crate::hone_module! {
    type: PacketNotifyModule,
    name: "packet_notify",
    description: "Hone: packets at netfilter LOCAL_IN/LOCAL_OUT with their local socket",
}

crate::publisher!(PacketChain, hone_packet_call);

crate::registration!(
    /// The netfilter hooks (the C shim's) in every network namespace.
    NetfilterHooks, hone_packet_hooks_register, hone_packet_hooks_unregister
);

crate::packet_seen_entry!(packet_seen);

/// Every packet, while the chain has subscribers, with its local socket if one was found.
fn packet_seen(skb: &SkBuff, sk: Option<&Sock>, inbound: bool, netns: u32) {
    PacketChain::publish(&PacketNotice::new(skb, sk, inbound, netns));
}

struct PacketNotifyModule {
    _hooks: NetfilterHooks,
}

impl kernel::Module for PacketNotifyModule {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        Ok(PacketNotifyModule { _hooks: NetfilterHooks::register()? })
    }
}
