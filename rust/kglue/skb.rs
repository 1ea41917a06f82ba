// SPDX-License-Identifier: GPL-2.0

//! Packets: the `sk_buff`s the kernel lends to a hook, and the clones of them Hone keeps.

#[cfg(any(hone_crate = "hone_notify", hone_crate = "honeevent"))]
use core::ptr::NonNull;
use kernel::bindings;
#[cfg(hone_crate = "honeevent")]
use kernel::prelude::*;
use kernel::types::Opaque;

/// A packet whose network header is at `data`, as netfilter's `LOCAL_IN` and `LOCAL_OUT` hooks
/// see it.
///
/// # Invariants
///
/// A `&SkBuff` refers to a live `sk_buff` for its whole lifetime.
#[repr(transparent)]
pub(crate) struct SkBuff(Opaque<bindings::sk_buff>);

impl SkBuff {
    /// The packet at `ptr`.
    ///
    /// # Safety
    ///
    /// `ptr` must point to an `sk_buff` that stays alive, with its network header set, for `'a`.
    #[cfg(any(hone_crate = "packet_notify", hone_crate = "honeevent"))]
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::sk_buff) -> &'a SkBuff {
        // INVARIANT: the caller keeps the packet alive for `'a`.
        // `SkBuff` is a transparent wrapper of `sk_buff`: the cast keeps the layout.
        // SAFETY: and the pointer is valid for `'a` (the caller's guarantee).
        unsafe { &*ptr.cast::<SkBuff>() }
    }

    /// The raw `sk_buff`, for the C side of a module boundary.
    #[cfg(any(hone_crate = "hone_notify", hone_crate = "honeevent"))]
    pub(crate) fn as_ptr(&self) -> *mut bindings::sk_buff {
        self.0.get()
    }

    /// Bytes from the network header to the end of the packet.
    #[cfg(hone_crate = "hone_notify")]
    pub(crate) fn len(&self) -> u32 {
        // SAFETY: the packet is live (type invariant).
        unsafe { crate::shim::hone_skb_len(self.as_ptr()) }
    }

    /// Copies `buf.len()` bytes starting `off` bytes after the network header; false if the
    /// packet is shorter.
    #[cfg(any(hone_crate = "hone_notify", hone_crate = "honeevent"))]
    pub(crate) fn copy(&self, off: u32, buf: &mut [u8]) -> bool {
        let Ok(len) = u32::try_from(buf.len()) else { return false };
        // `skb_copy_bits` checks the bounds against the packet.
        // SAFETY: the packet is live (type invariant) and `buf` is valid for `len` bytes.
        unsafe { crate::shim::hone_skb_copy(self.as_ptr(), off, buf.as_mut_ptr().cast(), len) == 0 }
    }

    /// Copies `len` bytes starting `off` bytes after the network header to user memory at
    /// `addr`; `EFAULT` if the user memory is bad or the packet shorter.
    #[cfg(hone_crate = "honeevent")]
    pub(crate) fn copy_to_user(&self, off: u32, addr: usize, len: u32) -> Result {
        // `hone_skb_copy_to_user` checks the bounds against the packet and the user range with
        // `access_ok`, and copies with the fault-handling user copy.
        // SAFETY: the packet is live (type invariant).
        let ret = unsafe { crate::shim::hone_skb_copy_to_user(self.as_ptr(), off, addr as *mut core::ffi::c_void, len) };
        if ret == 0 {
            Ok(())
        } else {
            Err(EFAULT)
        }
    }

    /// A clone that shares this packet's data (no copy) and lives on after the hook;
    /// `None` if memory is short. Any context.
    #[cfg(hone_crate = "hone_notify")]
    pub(crate) fn clone_atomic(&self) -> Option<SkBuffClone> {
        // SAFETY: the packet is live (type invariant).
        let clone = NonNull::new(unsafe { crate::shim::hone_skb_clone(self.as_ptr()) })?;
        // INVARIANT: `hone_skb_clone` made it and nothing else holds it.
        Some(SkBuffClone(clone))
    }
}

/// A clone of a packet that Hone owns, freed when dropped.
///
/// # Invariants
///
/// `self.0` is a clone made by `hone_skb_clone`, owned by this value alone and freed only by
/// its `drop`.
#[cfg(any(hone_crate = "hone_notify", hone_crate = "honeevent"))]
pub(crate) struct SkBuffClone(NonNull<bindings::sk_buff>);

#[cfg(any(hone_crate = "hone_notify", hone_crate = "honeevent"))]
impl SkBuffClone {
    #[cfg(hone_crate = "honeevent")]
    fn skb(&self) -> &SkBuff {
        // SAFETY: the clone stays alive until `drop` (type invariant), which needs `&mut self`.
        unsafe { SkBuff::from_raw(self.0.as_ptr()) }
    }

    /// As [`SkBuff::copy`].
    #[cfg(hone_crate = "honeevent")]
    pub(crate) fn copy(&self, off: u32, buf: &mut [u8]) -> bool {
        self.skb().copy(off, buf)
    }

    /// As [`SkBuff::copy_to_user`].
    #[cfg(hone_crate = "honeevent")]
    pub(crate) fn copy_to_user(&self, off: u32, addr: usize, len: u32) -> Result {
        self.skb().copy_to_user(off, addr, len)
    }
}

#[cfg(any(hone_crate = "hone_notify", hone_crate = "honeevent"))]
impl Drop for SkBuffClone {
    fn drop(&mut self) {
        // SAFETY: the clone is ours and is freed once, here (type invariant).
        unsafe { crate::shim::hone_skb_free(self.0.as_ptr()) };
    }
}

#[cfg(any(hone_crate = "hone_notify", hone_crate = "honeevent"))]
// The clone is only read (`skb_copy_bits`, `skb_copy_datagram_iter`) and freed once, which any
// thread may do.
// SAFETY: and it is owned by this value alone (type invariant).
unsafe impl Send for SkBuffClone {}
#[cfg(any(hone_crate = "hone_notify", hone_crate = "honeevent"))]
// `&SkBuffClone` gives nothing but those reads (not `SkBuff::clone_atomic`, which writes to the
// packet it clones).
// SAFETY: as above.
unsafe impl Sync for SkBuffClone {}
