// SPDX-License-Identifier: GPL-2.0

//! Where packet_notify's packets come from: its C netfilter hook, which calls
//! `hone_packet_seen` with each packet and its local socket.

/// Defines `hone_packet_seen`, through which packet_notify's C hook hands over each packet, as
/// a call of `$handler(&SkBuff, Option<&Sock>, inbound)`.
#[macro_export]
macro_rules! packet_seen_entry {
    ($handler:path) => {
        /// Called by the netfilter hook for every packet while the chain has subscribers.
        ///
        /// # Safety
        ///
        /// `skb` must be the hook's packet and `sk` null or a full socket, both valid for the
        /// call; `netns` is the inode number of the hook's network namespace.
        #[no_mangle]
        pub unsafe extern "C" fn hone_packet_seen(
            skb: *mut ::kernel::bindings::sk_buff,
            sk: *mut ::kernel::bindings::sock,
            inbound: bool,
            netns: u32,
        ) {
            // SAFETY: the caller's guarantee.
            let skb = unsafe { $crate::kglue::skb::SkBuff::from_raw(skb) };
            // SAFETY: the caller's guarantee.
            let sk = (!sk.is_null()).then(|| unsafe { $crate::kglue::sock::Sock::from_raw(sk) });
            $handler(skb, sk, inbound, netns);
        }
        $crate::declared_in_c!(hone_packet_seen);
    };
}
