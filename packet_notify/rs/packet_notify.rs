// SPDX-License-Identifier: GPL-2.0

//! packet_notify: the IPv4 and IPv6 packets the host sends and receives.
//!
//! Offers the packet chain (`hone_packet_register`/`hone_packet_unregister`) whose subscribers
//! receive a `PacketNotice` (packet, local socket, direction) per packet at netfilter's
//! LOCAL_IN and LOCAL_OUT. In this release the chain has no producer yet: the netfilter hooks
//! arrive with packet correlation; hone_notify already subscribes so the module chain and its
//! load order are in place.

use kernel::prelude::*;

module! {
    type: PacketNotifyModule,
    name: "packet_notify",
    author: "Hone developers",
    description: "Hone: packet event chain",
    license: "GPL",
}

struct PacketNotifyModule;

impl kernel::Module for PacketNotifyModule {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        Ok(PacketNotifyModule)
    }
}
