// SPDX-License-Identifier: GPL-2.0

//! Registrations of a module's static C objects (its kprobes, its netfilter hooks) as values:
//! made once by `register()`, undone when dropped.

/// Declares `$name`, the registration of what the shim's `$register()` (0 or a negative
/// errno) registers and `$unregister()` unregisters. `$unregister` must wait until no handler
/// is running, and must be callable only after `$register` succeeded.
#[macro_export]
macro_rules! registration {
    ($(#[$doc:meta])* $name:ident, $register:ident, $unregister:ident) => {
        $(#[$doc])*
        pub(crate) struct $name(());

        impl $name {
            /// Whether the objects are registered: a second registration of the same static
            /// objects would corrupt the kernel's lists.
            fn registered() -> &'static ::core::sync::atomic::AtomicBool {
                static REGISTERED: ::core::sync::atomic::AtomicBool = ::core::sync::atomic::AtomicBool::new(false);
                &REGISTERED
            }

            /// Registers the shim's objects; they are unregistered when the value is dropped.
            /// Process context. Fails if they are registered already.
            pub(crate) fn register() -> ::kernel::error::Result<Self> {
                if Self::registered().swap(true, ::core::sync::atomic::Ordering::AcqRel) {
                    return Err(::kernel::error::code::EBUSY);
                }
                // `drop` undoes this.
                // SAFETY: the objects are static, and not registered yet (the flag).
                match ::kernel::error::to_result(unsafe { $crate::shim::$register() }) {
                    Ok(()) => Ok($name(())),
                    Err(e) => {
                        Self::registered().store(false, ::core::sync::atomic::Ordering::Release);
                        Err(e)
                    }
                }
            }
        }

        impl Drop for $name {
            fn drop(&mut self) {
                // SAFETY: the value exists only once `register` succeeded; only one does (the flag).
                unsafe { $crate::shim::$unregister() };
                Self::registered().store(false, ::core::sync::atomic::Ordering::Release);
            }
        }
    };
}
