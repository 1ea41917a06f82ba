// SPDX-License-Identifier: GPL-2.0

//! Probes attached to kernel tracepoints, found by name (the `__tracepoint_*` objects are not
//! exported, so they are looked up with `for_each_kernel_tracepoint`).

use core::ffi::c_void;
use core::marker::PhantomData;
use kernel::prelude::*;

/// One probe for handler `T`: a tracepoint's name and a function with that tracepoint's
/// prototype, whose first argument is a `*const T`. The typed constructors (`sched_probes`,
/// `sock_length_probes`) make them.
///
/// # Invariants
///
/// `func` is `void probe(const T *handler, <TP_PROTO of name>)`.
pub(crate) struct Probe<T> {
    name: &'static CStr,
    func: *mut c_void,
    _handler: PhantomData<fn(&T)>,
}

impl<T> Probe<T> {
    /// The probe `func` on the tracepoint `name`.
    ///
    /// # Safety
    ///
    /// `func` must be a function `void (const T *handler, <TP_PROTO of name>)`.
    pub(crate) unsafe fn new(name: &'static CStr, func: *mut c_void) -> Self {
        // INVARIANT: the caller's guarantee.
        Probe { name, func, _handler: PhantomData }
    }
}

/// A handler of several tracepoints.
pub(crate) trait TracepointProbes: Sync + Sized {
    /// The probe list's type (an array).
    type List: AsRef<[Probe<Self>]>;
    /// The probes to attach, each with the handler as its data.
    fn probes() -> Self::List;
}

/// The probes of `T` attached to their tracepoints; dropping detaches them and waits until none
/// is running any more.
pub(crate) struct Tracepoints<T: TracepointProbes> {
    handler: KBox<T>,
    attached: usize,
}

impl<T: TracepointProbes> Tracepoints<T> {
    fn data(&self) -> *mut c_void {
        &*self.handler as *const T as *mut c_void
    }

    /// Attaches every probe of `handler`, or none.
    pub(crate) fn attach(handler: T) -> Result<Self> {
        let mut this = Tracepoints { handler: KBox::new(handler, GFP_KERNEL)?, attached: 0 };
        for probe in T::probes().as_ref() {
            // `probe.func` has the prototype of tracepoint `probe.name`, its first argument a
            // `*const T` (`Probe`'s invariant, and `T::List` holds `Probe<T>`s).
            // SAFETY: and the handler stays valid until `drop` detaches it.
            let ret = unsafe { crate::shim::hone_tracepoint_attach(probe.name.as_char_ptr(), probe.func, this.data()) };
            if ret != 0 {
                pr_err!("cannot attach to tracepoint {}: error {}\n", probe.name, ret);
                return Err(Error::from_errno(ret));
            }
            this.attached += 1;
        }
        Ok(this)
    }
}

impl<T: TracepointProbes> Drop for Tracepoints<T> {
    fn drop(&mut self) {
        let data = self.data();
        for probe in T::probes().as_ref().iter().take(self.attached) {
            // SAFETY: detaches exactly what `attach` attached.
            unsafe { crate::shim::hone_tracepoint_detach(probe.name.as_char_ptr(), probe.func, data) };
        }
        // SAFETY: no precondition; after it no probe uses the handler, which is freed next.
        unsafe { crate::shim::hone_tracepoint_sync() };
    }
}
