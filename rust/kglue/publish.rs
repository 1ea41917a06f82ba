// SPDX-License-Identifier: GPL-2.0

//! The chain a notifier module publishes its events on (`HONE_DEFINE_CHAIN` in
//! `c/hone_chain.h`), for the module that defines it. Other modules subscribe to it through
//! `subscription::Source`.

/// Declares the publishing side of a chain: `$name::has_subscribers()` and
/// `$name::publish(&$event)`, over the chain's `$call` and `$has_subscribers` functions.
#[macro_export]
macro_rules! publisher {
    ($(#[$doc:meta])* $name:ident, $event:ty, $call:ident, $has_subscribers:ident) => {
        $(#[$doc])*
        pub struct $name;

        impl $name {
            /// Whether the chain has a subscriber: without one, no event needs to be made. Any
            /// context.
            pub fn has_subscribers() -> bool {
                // SAFETY: reads the chain's head pointer; no precondition.
                unsafe { $crate::shim::$has_subscribers() }
            }

            /// Lends `event` to each subscriber in turn, in this context.
            pub fn publish(event: &$event) {
                // The chain passes the pointer to its subscribers for the call only, which
                // `event` outlives; they read it as the `Source::Event` declared for this
                // chain, which is `$event`.
                // SAFETY: and the chain's functions have no other precondition.
                unsafe { $crate::shim::$call(event as *const $event as *mut core::ffi::c_void) };
            }
        }
    };
}
