// SPDX-License-Identifier: GPL-2.0

//! A spinlock that disables interrupts while held.
//!
//! 6.12's `kernel::sync::SpinLock` takes a plain `spin_lock()`, which deadlocks when the same
//! lock is taken by a reader in process context and by an event hook in softirq or interrupt
//! context on the same CPU. Hone's rings are fed from tracepoints and netfilter hooks, so they
//! use this backend instead. Where the kernel's `Backend` asks for them (6.13, 6.14), it also
//! tries the lock without spinning and asserts, through lockdep, that the lock is held.

use kernel::bindings;
use kernel::sync::lock::{Backend, Lock};

/// Backend of [`IrqSpinLock`]: `spin_lock_irqsave`/`spin_unlock_irqrestore`.
pub(crate) struct IrqSpinBackend;

/// A `spinlock_t` taken with interrupts disabled.
pub(crate) type IrqSpinLock<T> = Lock<T, IrqSpinBackend>;

// `relock` uses the default implementation, which calls `lock` again (the same method).
// SAFETY: `spinlock_t` gives mutual exclusion between `lock` (or a `try_lock` that succeeded) and `unlock`.
unsafe impl Backend for IrqSpinBackend {
    type State = bindings::spinlock_t;
    type GuardState = kernel::ffi::c_ulong;

    unsafe fn init(
        ptr: *mut Self::State,
        name: *const kernel::ffi::c_char,
        key: *mut bindings::lock_class_key,
    ) {
        // SAFETY: the caller guarantees `ptr` writable, `name` and `key` readable for the lock's life.
        unsafe { bindings::__spin_lock_init(ptr, name, key) }
    }

    unsafe fn lock(ptr: *mut Self::State) -> Self::GuardState {
        // SAFETY: the caller guarantees that `ptr` points to a spinlock initialised by `init`.
        unsafe { crate::shim::hone_spin_lock_irqsave(ptr) }
    }

    unsafe fn unlock(ptr: *mut Self::State, flags: &Self::GuardState) {
        // SAFETY: the caller owns the lock, and `flags` came from the `lock` call that took it.
        unsafe { crate::shim::hone_spin_unlock_irqrestore(ptr, *flags) }
    }

    #[cfg(hone_lock_try_lock)]
    unsafe fn try_lock(ptr: *mut Self::State) -> Option<Self::GuardState> {
        let mut flags: Self::GuardState = 0;
        // `flags` is a valid out-pointer, written only when the lock was taken.
        // SAFETY: the caller guarantees that `ptr` points to a spinlock initialised by `init`.
        unsafe { crate::shim::hone_spin_trylock_irqsave(ptr, &mut flags) }.then_some(flags)
    }

    #[cfg(hone_lock_assert_is_held)]
    unsafe fn assert_is_held(ptr: *mut Self::State) {
        // SAFETY: the caller guarantees that `ptr` points to a spinlock initialised by `init`.
        unsafe { crate::shim::hone_spin_assert_held(ptr) }
    }
}
