// SPDX-License-Identifier: GPL-2.0

//! The chain a notifier module publishes its events on (`HONE_DEFINE_CHAIN` in
//! `c/hone_chain.h`), for the module that defines it. Other modules subscribe to it through
//! `subscription::Source`.

/// Gives the chain `$chain` (a [`Chain`](super::chain::Chain)), which this
/// module defines, its publishing side: `$chain::publish(&event)` over the chain's `$call`
/// function and, for a publisher that asks before it makes an event, `$chain::has_subscribers()`
/// over `$has_subscribers`.
#[macro_export]
macro_rules! publisher {
    ($chain:path, $call:ident) => {
        impl $chain {
            /// Lends `event` to each subscriber in turn, in this context.
            pub(crate) fn publish(event: &<$chain as $crate::kglue::chain::Chain>::Event<'_>) {
                // The chain passes the pointer to its subscribers for the call only, which
                // `event` outlives; they read it as the same chain's event (`source!`).
                // SAFETY: and the chain's functions have no other precondition.
                unsafe { $crate::shim::$call(event as *const _ as *mut ::core::ffi::c_void) };
            }
        }
    };
    ($chain:path, $call:ident, $has_subscribers:ident) => {
        $crate::publisher!($chain, $call);

        impl $chain {
            /// Whether the chain has a subscriber: without one, no event needs to be made. Any
            /// context.
            pub(crate) fn has_subscribers() -> bool {
                // SAFETY: reads the chain's head pointer; no precondition.
                unsafe { $crate::shim::$has_subscribers() }
            }
        }
    };
}
