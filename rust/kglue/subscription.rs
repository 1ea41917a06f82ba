// SPDX-License-Identifier: GPL-2.0

//! Subscriptions to the event chains that Hone's modules offer each other.
//!
//! A provider module exports `hone_<name>_register`/`_unregister` (see `c/hone_chain.h`); a
//! consumer describes that pair as a [`Source`] and subscribes an implementation of
//! [`Subscriber`]. The [`Subscription`] value is the registration: dropping it unregisters and
//! waits until no callback is running any more.

use core::marker::PhantomData;
use core::pin::Pin;
use kernel::bindings;
use kernel::error::to_result;
use kernel::ffi::{c_int, c_ulong, c_void};
use kernel::prelude::*;
use kernel::types::Opaque;

/// An event chain of another module.
pub(crate) trait Source {
    /// What the chain passes to its subscribers.
    type Event;

    /// Adds `nb` to the chain.
    ///
    /// # Safety
    ///
    /// `nb` must stay valid and pinned until [`Source::unregister`] has returned for it.
    unsafe fn register(nb: *mut bindings::notifier_block) -> c_int;

    /// Removes `nb` and waits until no call through it is running.
    ///
    /// # Safety
    ///
    /// `nb` must have been registered with [`Source::register`]; called in process context.
    unsafe fn unregister(nb: *mut bindings::notifier_block);
}

/// Receives the events of a chain.
pub(crate) trait Subscriber<E>: Send + Sync {
    /// Called for every event, in the context where it happened (possibly atomic: must not
    /// sleep, must not panic).
    fn notify(&self, event: &E);
}

#[repr(C)]
struct Node<T> {
    // First field: the chain hands back a pointer to it, which is also a pointer to the node.
    nb: Opaque<bindings::notifier_block>,
    subscriber: T,
}

/// A live subscription of `T` to the chain `S`.
pub(crate) struct Subscription<S: Source, T: Subscriber<S::Event>> {
    node: Pin<KBox<Node<T>>>,
    _source: PhantomData<S>,
}

impl<S: Source, T: Subscriber<S::Event>> Subscription<S, T> {
    /// Subscribes `subscriber`; events flow to it as soon as this returns.
    pub(crate) fn new(subscriber: T) -> Result<Self> {
        let node = KBox::pin(
            Node {
                nb: Opaque::new(bindings::notifier_block {
                    notifier_call: Some(Self::call),
                    next: core::ptr::null_mut(),
                    priority: 0,
                }),
                subscriber,
            },
            GFP_KERNEL,
        )?;
        // SAFETY: the node is pinned in its box, owned by `Self`, whose `Drop` unregisters it.
        to_result(unsafe { S::register(node.nb.get()) })?;
        Ok(Subscription { node, _source: PhantomData })
    }

    extern "C" fn call(nb: *mut bindings::notifier_block, _action: c_ulong, event: *mut c_void) -> c_int {
        // `nb` is the first field of a `#[repr(C)] Node<T>` (`Opaque` is transparent).
        // SAFETY: and it is alive until `drop` has unregistered it, which waits for this call.
        let node = unsafe { &*(nb as *const Node<T>) };
        // SAFETY: providers of `S` pass a pointer to a live `S::Event` for the whole call.
        let event = unsafe { &*(event as *const S::Event) };
        node.subscriber.notify(event);
        bindings::NOTIFY_DONE as c_int
    }
}

impl<S: Source, T: Subscriber<S::Event>> Drop for Subscription<S, T> {
    fn drop(&mut self) {
        // SAFETY: `new` registered this node; subscriptions are dropped in process context.
        unsafe { S::unregister(self.node.nb.get()) };
    }
}

// The `notifier_block` is only read and linked by the chain, under the chain's own lock and RCU.
// SAFETY: and the subscriber is `Send + Sync`; moving or sharing the owning value is safe.
unsafe impl<S: Source, T: Subscriber<S::Event>> Send for Subscription<S, T> {}
// SAFETY: as above; `&Subscription` only gives `&T`.
unsafe impl<S: Source, T: Subscriber<S::Event>> Sync for Subscription<S, T> {}

/// Makes the chain `$chain` (a [`Chain`](super::chain::Chain)) a [`Source`],
/// through the register/unregister pair its module exports.
#[macro_export]
macro_rules! source {
    ($chain:path, $register:ident, $unregister:ident) => {
        impl $crate::kglue::subscription::Source for $chain {
            type Event = <$chain as $crate::kglue::chain::Chain>::Event<'static>;

            unsafe fn register(nb: *mut ::kernel::bindings::notifier_block) -> ::kernel::ffi::c_int {
                // SAFETY: forwarded from the caller, who keeps `nb` valid until unregistered.
                unsafe { $crate::shim::$register(nb) }
            }

            unsafe fn unregister(nb: *mut ::kernel::bindings::notifier_block) {
                // The only error is "not registered" (-ENOENT), which the contract rules out.
                // SAFETY: forwarded from the caller; `nb` was registered.
                unsafe { $crate::shim::$unregister(nb) };
            }
        }
    };
}
