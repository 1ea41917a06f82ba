// SPDX-License-Identifier: GPL-2.0

//! The functions hone_notify exports to its subscribers (`hone_notify_*`, declared in
//! `c/hone_interface.h`), made by [`notify_exports!`](crate::notify_exports) from the safe
//! methods of the module's state ([`NotifyExports`]), which the module publishes for them with
//! [`Exported::publish`].

use core::cell::Cell;
use core::ffi::c_void;
use core::ops::Deref;
use core::ptr::null_mut;
use core::sync::atomic::{AtomicPtr, Ordering};
use kernel::bindings;
use kernel::error::to_result;
use kernel::ffi::c_int;
use kernel::prelude::*;
use kernel::sync::{Arc, ArcBorrow};
use kernel::types::Opaque;

use super::hone_event::{HoneEvent, HoneStats};

/// What hone_notify's exports do, on the state `Self` of the module. Whatever the methods do
/// with their [`Link`] and [`Unlink`], a subscriber is on the chain after the export returns
/// only if `register` linked it and succeeded.
pub(crate) trait NotifyExports: Send + Sync + Sized + 'static {
    /// `hone_notify_register`: adds a subscriber (`link`). Process context.
    fn register(state: ArcBorrow<'_, Self>, link: Link<'_>) -> Result;
    /// `hone_notify_unregister`: removes it (`unlink`). Process context.
    fn unregister(state: ArcBorrow<'_, Self>, unlink: Unlink<'_>) -> Result;
    /// `hone_notify_snapshot`: lends each event of the running processes to `hand` until it
    /// returns false. Process context.
    fn snapshot(state: ArcBorrow<'_, Self>, hand: &dyn Fn(&HoneEvent) -> bool) -> Result;
    /// `hone_notify_stats`: the counters.
    fn stats(state: ArcBorrow<'_, Self>) -> HoneStats;
    /// `hone_notify_whole_packets`: a subscriber starts or stops wanting whole packets. Any
    /// context.
    fn whole_packets(state: ArcBorrow<'_, Self>, want: bool);
}

/// A subscriber's `notifier_block`, as an export's caller lends it.
///
/// # Invariants
///
/// It is valid and in place for `'a`, and once on hone_notify's chain, until
/// `hone_notify_unregister` for it returns.
#[repr(transparent)]
struct NotifierBlock(Opaque<bindings::notifier_block>);

impl NotifierBlock {
    /// The block at `ptr`.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a `notifier_block` that is valid and in place for `'a` and, once
    /// added to the chain, until `hone_notify_unregister(ptr)` returns (the contract of the
    /// exports).
    unsafe fn from_raw<'a>(ptr: *mut bindings::notifier_block) -> &'a Self {
        // INVARIANT: guaranteed by the caller.
        // `NotifierBlock` is a transparent `Opaque` of the type `ptr` points to.
        // SAFETY: and the caller keeps it valid for `'a`.
        unsafe { &*ptr.cast::<Self>() }
    }

    fn link(&self) -> Result {
        // SAFETY: the block stays valid and in place while it is on the chain (type invariant).
        to_result(unsafe { crate::shim::hone_notify_chain_register(self.0.get()) })
    }

    fn unlink(&self) -> Result {
        // The chain compares `self` with its entries and unlinks it only if it is there.
        // SAFETY: the block is valid (type invariant).
        to_result(unsafe { crate::shim::hone_notify_chain_unregister(self.0.get()) })
    }
}

/// The subscriber of a `hone_notify_register` call, to add to the chain, once.
pub(crate) struct Link<'a> {
    nb: &'a NotifierBlock,
    linked: &'a Cell<bool>,
}

impl Link<'_> {
    /// Adds the subscriber to the chain, whose events it gets from then on.
    pub(crate) fn link(self) -> Result {
        self.nb.link()?;
        self.linked.set(true);
        Ok(())
    }
}

/// The subscriber of a `hone_notify_unregister` call, to take off the chain (if `unregister`
/// does not, the export does when it returns).
pub(crate) struct Unlink<'a> {
    nb: &'a NotifierBlock,
    tried: &'a Cell<bool>,
}

impl Unlink<'_> {
    /// Takes the subscriber off the chain and waits until no call to it is running; fails
    /// (`ENOENT`) if it was not on it.
    pub(crate) fn unlink(self) -> Result {
        self.tried.set(true);
        self.nb.unlink()
    }
}

fn errno_of(result: Result) -> c_int {
    match result {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// Where the exports find the module's state: set from `init` to `drop` by the
/// [`Publication`] the module holds.
///
/// # Invariants
///
/// The pointer is null or the one a live [`Publication`] of this static holds.
pub(crate) struct Exported<T: NotifyExports>(AtomicPtr<T>);

impl<T: NotifyExports> Exported<T> {
    /// Nothing published yet.
    pub(crate) const fn new() -> Self {
        // INVARIANT: null.
        Exported(AtomicPtr::new(null_mut()))
    }

    /// Makes `state` what the exports act on until the returned value is dropped; the module
    /// keeps that value for its whole life (in its module struct). Fails if this static already
    /// has a publication.
    pub(crate) fn publish(&'static self, state: Arc<T>) -> Result<Publication<T>> {
        let raw = Arc::into_raw(state).cast_mut();
        match self.0.compare_exchange(null_mut(), raw, Ordering::AcqRel, Ordering::Acquire) {
            // INVARIANT: the pointer is the new publication's.
            Ok(_) => Ok(Publication { exported: self, state: raw }),
            Err(_) => {
                // SAFETY: `raw` came from `Arc::into_raw` just above and was not published.
                let state = unsafe { Arc::from_raw(raw) };
                drop(state);
                Err(EBUSY)
            }
        }
    }

    /// The published state, for the call of an export.
    ///
    /// # Safety
    ///
    /// Called by an export (other modules call those only while this one is live, their symbol
    /// references holding it: after `init` has published, before `drop`), for that call only.
    unsafe fn get(&self) -> ArcBorrow<'_, T> {
        // The pointer is a live publication's (type invariant; not null: the caller), which
        // holds its reference until the module's `drop`, after every export.
        // SAFETY: so it comes from `Arc::into_raw`, and the count stays above zero meanwhile.
        unsafe { ArcBorrow::from_raw(self.0.load(Ordering::Acquire)) }
    }

    /// `hone_notify_register`.
    ///
    /// # Safety
    ///
    /// Called by that export, whose caller keeps `nb` valid and in place until
    /// `hone_notify_unregister(nb)` returns.
    pub(crate) unsafe fn register(&self, nb: *mut bindings::notifier_block) -> c_int {
        // SAFETY: guaranteed by the caller, for this call and, once linked, until unregistered.
        let nb = unsafe { NotifierBlock::from_raw(nb) };
        let linked = Cell::new(false);
        // SAFETY: called by an export (the caller), for this call.
        let result = T::register(unsafe { self.get() }, Link { nb, linked: &linked });
        if result.is_err() && linked.get() {
            // A failed registration leaves nothing on the chain.
            let _ = nb.unlink();
        }
        errno_of(result)
    }

    /// `hone_notify_unregister`.
    ///
    /// # Safety
    ///
    /// Called by that export, whose caller passes a block valid for the call.
    pub(crate) unsafe fn unregister(&self, nb: *mut bindings::notifier_block) -> c_int {
        // Not kept past the call: it leaves the chain before this returns.
        // SAFETY: valid for the call (the caller).
        let nb = unsafe { NotifierBlock::from_raw(nb) };
        let tried = Cell::new(false);
        // SAFETY: called by an export (the caller), for this call.
        let result = T::unregister(unsafe { self.get() }, Unlink { nb, tried: &tried });
        if !tried.get() {
            let _ = nb.unlink();
        }
        errno_of(result)
    }

    /// `hone_notify_snapshot`.
    ///
    /// # Safety
    ///
    /// Called by that export, whose caller guarantees that `sink` can be called with `data`
    /// for the whole call.
    pub(crate) unsafe fn snapshot(&self, sink: Option<SnapshotFn>, data: *mut c_void) -> c_int {
        let Some(sink) = sink else { return EINVAL.to_errno() };
        let hand = |event: &HoneEvent| {
            // The event is lent for the call, as the sink expects.
            // SAFETY: the caller guarantees `sink` with `data`.
            unsafe { sink(data, event as *const HoneEvent as *const c_void) }
        };
        // SAFETY: called by an export (the caller), for this call.
        errno_of(T::snapshot(unsafe { self.get() }, &hand))
    }

    /// `hone_notify_stats`.
    ///
    /// # Safety
    ///
    /// Called by that export, whose caller passes an `out` valid for writes.
    pub(crate) unsafe fn stats(&self, out: *mut HoneStats) {
        // SAFETY: called by an export (the caller), for this call.
        let stats = T::stats(unsafe { self.get() });
        // SAFETY: guaranteed by the caller.
        unsafe { out.write(stats) };
    }

    /// `hone_notify_whole_packets`.
    ///
    /// # Safety
    ///
    /// Called by that export.
    pub(crate) unsafe fn whole_packets(&self, want: bool) {
        // SAFETY: called by an export (the caller), for this call.
        T::whole_packets(unsafe { self.get() }, want);
    }
}

/// Keeps the module's state published for the exports (and lends it to the module); dropping
/// it withdraws the state and releases its reference.
///
/// # Invariants
///
/// `state` comes from `Arc::into_raw`, and its reference is this value's; `exported` holds it.
pub(crate) struct Publication<T: NotifyExports> {
    exported: &'static Exported<T>,
    state: *mut T,
}

// SAFETY: it owns a reference of an `Arc<T>`, which is `Send` and `Sync` for `T: Send + Sync`.
unsafe impl<T: NotifyExports> Send for Publication<T> {}
// SAFETY: as above; `&Publication` only gives `&T`.
unsafe impl<T: NotifyExports> Sync for Publication<T> {}

impl<T: NotifyExports> Deref for Publication<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: this value holds a reference to the state (type invariant).
        unsafe { &*self.state }
    }
}

impl<T: NotifyExports> Drop for Publication<T> {
    fn drop(&mut self) {
        self.exported.0.store(null_mut(), Ordering::Release);
        // `state` came from `Arc::into_raw`, and its reference is this value's (type invariant).
        // SAFETY: so it is taken back, once.
        let state = unsafe { Arc::from_raw(self.state) };
        drop(state);
    }
}

/// Callback through which a snapshot hands over one event (lent for the call); `false` stops
/// the walk.
pub(crate) type SnapshotFn = unsafe extern "C" fn(data: *mut c_void, event: *const c_void) -> bool;

/// Defines hone_notify's exported functions (declared in `c/hone_interface.h`) on
/// `$exported`, the module's [`Exported`] static of a [`NotifyExports`].
#[macro_export]
macro_rules! notify_exports {
    ($exported:ident) => {
        /// Adds `nb` to hone_notify's chain, subscribing upstream first if it is the first.
        ///
        /// # Safety
        ///
        /// `nb` must stay valid until `hone_notify_unregister(nb)` returns. Process context.
        #[no_mangle]
        pub unsafe extern "C" fn hone_notify_register(nb: *mut ::kernel::bindings::notifier_block) -> ::kernel::ffi::c_int {
            // SAFETY: this is the export, and its caller guarantees `nb`.
            unsafe { $exported.register(nb) }
        }

        /// Removes `nb`, which must have been registered, and waits for running callbacks; the
        /// last one out unsubscribes upstream.
        ///
        /// # Safety
        ///
        /// `nb` must be valid for the call. Process context.
        #[no_mangle]
        pub unsafe extern "C" fn hone_notify_unregister(nb: *mut ::kernel::bindings::notifier_block) -> ::kernel::ffi::c_int {
            // SAFETY: this is the export, and its caller guarantees `nb`.
            unsafe { $exported.unregister(nb) }
        }

        /// Hands `&HoneEvent` for every running process, each followed by its open inet
        /// sockets, to `sink(data, event)`, oldest first, until it returns false. Process
        /// context.
        ///
        /// # Safety
        ///
        /// `sink` must be callable with `data` for the whole call.
        #[no_mangle]
        pub unsafe extern "C" fn hone_notify_snapshot(
            sink: Option<$crate::kglue::notify_exports::SnapshotFn>,
            data: *mut ::core::ffi::c_void,
        ) -> ::kernel::ffi::c_int {
            // SAFETY: this is the export, and its caller guarantees `sink` with `data`.
            unsafe { $exported.snapshot(sink, data) }
        }

        /// Fills `out` with the counters since the module was loaded: events received and
        /// events lost for want of memory, by class.
        ///
        /// # Safety
        ///
        /// `out` must be valid for writes.
        #[no_mangle]
        pub unsafe extern "C" fn hone_notify_stats(out: *mut $crate::kglue::hone_event::HoneStats) {
            // SAFETY: this is the export, and its caller guarantees `out`.
            unsafe { $exported.stats(out) }
        }

        /// A subscriber starts (`want`) or stops wanting whole packets. Any context.
        ///
        /// # Safety
        ///
        /// Calls come in pairs: a subscriber stops (`false`) only after it started (`true`).
        #[no_mangle]
        pub unsafe extern "C" fn hone_notify_whole_packets(want: bool) {
            // SAFETY: this is the export.
            unsafe { $exported.whole_packets(want) }
        }

        $crate::declared_in_c!(hone_notify_register);
        $crate::declared_in_c!(hone_notify_unregister);
        $crate::declared_in_c!(hone_notify_snapshot);
        $crate::declared_in_c!(hone_notify_stats);
        $crate::declared_in_c!(hone_notify_whole_packets);
    };
}
