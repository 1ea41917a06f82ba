// SPDX-License-Identifier: GPL-2.0

//! Probes attached to kernel tracepoints, found by name (the `__tracepoint_*` objects are not
//! exported, so they are looked up with `for_each_kernel_tracepoint`).

use core::ffi::c_void;
use kernel::prelude::*;

/// One probe: a tracepoint's name and a function with that tracepoint's prototype, whose first
/// argument is a pointer to the handler.
pub struct Probe {
    /// Tracepoint name, e.g. `sched_process_fork`.
    pub name: &'static CStr,
    /// `void probe(void *handler, <TP_PROTO>)`.
    pub func: *mut c_void,
}

/// A handler of several tracepoints.
pub trait TracepointProbes: Sync + Sized {
    /// The probe list's type (an array).
    type List: AsRef<[Probe]>;
    /// The probes to attach, each with the handler as its data.
    fn probes() -> Self::List;
}

/// The probes of `T` attached to their tracepoints; dropping detaches them and waits until none
/// is running any more.
pub struct Tracepoints<T: TracepointProbes> {
    handler: KBox<T>,
    attached: usize,
}

impl<T: TracepointProbes> Tracepoints<T> {
    fn data(&self) -> *mut c_void {
        &*self.handler as *const T as *mut c_void
    }

    /// Attaches every probe of `handler`, or none.
    pub fn attach(handler: T) -> Result<Self> {
        let mut this = Tracepoints { handler: KBox::new(handler, GFP_KERNEL)?, attached: 0 };
        for probe in T::probes().as_ref() {
            // `probe.func` has the prototype of tracepoint `probe.name` (`TracepointProbes`).
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

    /// The handler.
    pub fn handler(&self) -> &T {
        &self.handler
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
