// SPDX-License-Identifier: GPL-2.0

//! packet_notify: the IPv4 and IPv6 packets the host sends and receives.
//!
//! Hooks netfilter's `LOCAL_IN` and `LOCAL_OUT`, for IPv4 and IPv6, in every network namespace
//! (present and future), last in line. It never alters or drops a packet. Each packet goes to
//! the subscribers of this module's chain (`hone_packet_register`) as a `PacketNotice`: the
//! packet, its direction and its local socket (outbound: the sending socket; inbound: the
//! socket early demux attached, else the one a lookup finds: TCP established and listening,
//! UDP connected and bound, ICMP errors quoting TCP or UDP). With no subscriber the hooks
//! return at once.

use kernel::bindings::{sk_buff, sock};
use kernel::error::to_result;
use kernel::prelude::*;

// Shared with the other modules, each of which uses a part.
#[path = "../../rust/kglue"]
#[allow(dead_code, unreachable_pub)]
mod kglue {
    pub mod event;
    pub mod module;
    pub mod user;
}

// Shared with the other modules, each of which uses a part.
#[path = "../../rust/hone/src"]
#[allow(dead_code, unreachable_pub)]
mod hone {
    pub mod record;
}

#[allow(non_camel_case_types, non_upper_case_globals, dead_code, improper_ctypes, missing_docs, unreachable_pub)]
mod shim {
    include!("../../rust/kglue/shim_types.rs");
    include!("shim_bindings.rs");
}

use kglue::event::PacketNotice;

crate::hone_module! {
    type: PacketNotifyModule,
    name: "packet_notify",
    description: "Hone: packets at netfilter LOCAL_IN/LOCAL_OUT with their local socket",
}

/// Called by the netfilter hook for every packet while the chain has subscribers.
///
/// # Safety
///
/// `skb` is the hook's packet and `sk` null or a full socket, both valid for the call.
#[no_mangle]
pub unsafe extern "C" fn hone_packet_seen(skb: *mut sk_buff, sk: *mut sock, inbound: bool) {
    let notice = PacketNotice { skb, sk, inbound };
    // SAFETY: the chain lends `&PacketNotice` (what `PacketSource` promises) for the call.
    unsafe { shim::hone_packet_call(&notice as *const PacketNotice as *mut core::ffi::c_void) };
}

/// The netfilter hooks in every network namespace; dropping unregisters them.
struct NetfilterHooks;

impl NetfilterHooks {
    fn register() -> Result<Self> {
        // SAFETY: registers the shim's static pernet operations once; undone by `drop`.
        to_result(unsafe { shim::hone_packet_hooks_register() })?;
        Ok(NetfilterHooks)
    }
}

impl Drop for NetfilterHooks {
    fn drop(&mut self) {
        // SAFETY: `register` succeeded; after this no hook runs.
        unsafe { shim::hone_packet_hooks_unregister() };
    }
}

struct PacketNotifyModule {
    _hooks: NetfilterHooks,
}

impl kernel::Module for PacketNotifyModule {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        Ok(PacketNotifyModule { _hooks: NetfilterHooks::register()? })
    }
}
