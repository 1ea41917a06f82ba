// SPDX-License-Identifier: GPL-2.0

//! Wait queues (`struct wait_queue_head`): where a reader sleeps until its stream has something
//! for it, and the deferred wake-up that batches the wake-ups of a busy stream.

use core::ffi::c_void;
use core::ptr::NonNull;
use kernel::bindings;
use kernel::prelude::*;
use kernel::sync::Arc;
use kernel::types::Opaque;

/// A wait queue head.
///
/// # Invariants
///
/// The head was initialised (`init_waitqueue_head`) when the `WaitQueue` was made, and it
/// stays where it is (pinned) until it is dropped.
#[pin_data]
pub(crate) struct WaitQueue {
    #[pin]
    head: Opaque<bindings::wait_queue_head>,
}

// The head is only used through the kernel's wait-queue functions, which take its own lock.
// SAFETY: so it may be used from any thread and any CPU at once.
unsafe impl Send for WaitQueue {}
// SAFETY: as above.
unsafe impl Sync for WaitQueue {}

impl WaitQueue {
    /// An initialiser of an empty wait queue.
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(WaitQueue {
            // INVARIANT: the head is initialised in its final (pinned) place.
            // SAFETY: `slot` is valid for writes and pinned inside the new `WaitQueue`.
            head <- Opaque::ffi_init(|slot| unsafe { crate::shim::hone_waitqueue_init(slot) }),
        })
    }

    /// The raw head, for the C side that polls it (`poll_wait`).
    pub(crate) fn as_ptr(&self) -> *mut bindings::wait_queue_head {
        self.head.get()
    }

    /// Wakes the readers that sleep on it, if any. Any context.
    pub(crate) fn wake(&self) {
        // SAFETY: the head is initialised (type invariant).
        unsafe { crate::shim::hone_waitqueue_wake(self.as_ptr()) };
    }

    /// Sleeps (interruptibly) until `ready()` holds; `ready` is asked again after each wake-up
    /// and must not sleep. `Err(ERESTARTSYS)` when a signal came first.
    pub(crate) fn wait_until<F: Fn() -> bool>(&self, ready: &F) -> Result {
        let data = ready as *const F as *mut c_void;
        // `ready_trampoline::<F>` reads `data` as the `F` it is, which outlives the wait.
        // SAFETY: and the head is initialised (type invariant).
        let ret = unsafe { crate::shim::hone_waitqueue_wait(self.as_ptr(), Some(ready_trampoline::<F>), data) };
        if ret == 0 {
            Ok(())
        } else {
            Err(Error::from_errno(ret))
        }
    }
}

/// The condition of [`WaitQueue::wait_until`], called by `wait_event_interruptible`.
///
/// # Safety
///
/// `data` must point to an `F` that is alive for the call.
unsafe extern "C" fn ready_trampoline<F: Fn() -> bool>(data: *mut c_void) -> bool {
    // SAFETY: guaranteed by the caller (`wait_until` passes its own `ready`).
    let ready = unsafe { &*(data as *const F) };
    ready()
}

/// Something shared that holds a wait queue: what a [`Waker`] wakes.
pub(crate) trait HasWaitQueue {
    /// The wait queue.
    fn wait_queue(&self) -> &WaitQueue;
}

/// A deferred wake-up of the sleepers of `T`'s wait queue (`hone_waker_*` in `hone_glue.h`),
/// so that a reader keeping up with a stream of events is woken once per batch instead of once
/// per event. It keeps `T` alive; dropping it stops the timer for good and waits for a wake-up
/// in progress.
///
/// # Invariants
///
/// `raw` came from `hone_waker_new` for the wait queue of `target`, is freed only by `drop`,
/// and `target` outlives it (it is a field, dropped after `drop` has run).
pub(crate) struct Waker<T: HasWaitQueue> {
    raw: NonNull<crate::shim::hone_waker>,
    target: Arc<T>,
}

// `hone_waker_arm` may be called from any context on any CPU at once (the timer code locks),
// and `hone_waker_free` runs once, in `drop`.
// SAFETY: and `T` is shared through an `Arc` of a `Send + Sync` type.
unsafe impl<T: HasWaitQueue + Send + Sync> Send for Waker<T> {}
// SAFETY: as above.
unsafe impl<T: HasWaitQueue + Send + Sync> Sync for Waker<T> {}

impl<T: HasWaitQueue> Waker<T> {
    /// A waker of `target`'s wait queue; `ENOMEM` if memory is short.
    pub(crate) fn new(target: Arc<T>) -> Result<Self> {
        // `target`, kept in the waker, keeps its wait queue alive and in place for as long as
        // the timer can fire.
        // SAFETY: and the wait queue is initialised (`WaitQueue` invariant).
        let raw = unsafe { crate::shim::hone_waker_new(target.wait_queue().as_ptr()) };
        // INVARIANT: `raw` is the waker made for `target`'s wait queue, kept with `target`.
        NonNull::new(raw).map(|raw| Waker { raw, target }).ok_or(ENOMEM)
    }

    /// What it wakes.
    pub(crate) fn target(&self) -> &T {
        &self.target
    }

    /// Wakes the sleepers `delay_ms` from now, unless a wake-up is already pending. Any context.
    pub(crate) fn arm(&self, delay_ms: u32) {
        // SAFETY: `raw` is a live waker (type invariant).
        unsafe { crate::shim::hone_waker_arm(self.raw.as_ptr(), delay_ms) };
    }
}

impl<T: HasWaitQueue> Drop for Waker<T> {
    fn drop(&mut self) {
        // This is the last use of `raw`, and the wait queue it wakes is still alive (`target`
        // is dropped after this).
        // SAFETY: and `raw` is a live waker (type invariant).
        unsafe { crate::shim::hone_waker_free(self.raw.as_ptr()) };
    }
}
