// SPDX-License-Identifier: GPL-2.0

//! Slab caches of Hone's own, for what is made for every packet: an object comes from its
//! cache's per-CPU free list (no general allocation on the packet path, no rounding up to a
//! `kmalloc` size) and is counted under the cache's name in `/proc/slabinfo`, where a user sees
//! the memory Hone holds. Objects are shared by reference count, as with `kernel::sync::Arc`;
//! whichever module drops the last reference frees the object to its cache.

#[cfg(hone_crate = "hone_notify")]
use core::marker::PhantomData;
use core::ops::Deref;
use core::ptr::{addr_of_mut, NonNull};
#[cfg(hone_crate = "hone_notify")]
use kernel::{bindings, prelude::*, str::CStr};

/// An object of a cache: C's header (reference count, cache), then the value.
#[repr(C)]
struct Slot<T> {
    head: crate::shim::hone_slab_head,
    value: T,
}

/// A slab cache of `T`s, destroyed when dropped.
///
/// # Invariants
///
/// `self.cache` was made by `hone_slab_create` for objects of the size and alignment of a
/// `Slot<T>`, and is destroyed by `drop` alone.
#[cfg(hone_crate = "hone_notify")]
pub(crate) struct SlabCache<T> {
    cache: NonNull<bindings::kmem_cache>,
    _values: PhantomData<T>,
}

#[cfg(hone_crate = "hone_notify")]
impl<T: Send + Sync> SlabCache<T> {
    /// A cache called `name` in `/proc/slabinfo`. Process context.
    pub(crate) fn new(name: &'static CStr) -> Result<Self> {
        let size = u32::try_from(core::mem::size_of::<Slot<T>>())?;
        let align = u32::try_from(core::mem::align_of::<Slot<T>>())?;
        // SAFETY: `name` is a NUL-terminated string (the slab allocator copies it).
        let cache = unsafe { crate::shim::hone_slab_create(name.as_char_ptr(), size, align) };
        // INVARIANT: made just above for a `Slot<T>`, and only `drop` destroys it.
        Ok(SlabCache { cache: NonNull::new(cache).ok_or(ENOMEM)?, _values: PhantomData })
    }

    /// `value` in an object of this cache, with one reference; `None` if memory is short.
    /// Any context.
    pub(crate) fn alloc(&self, value: T) -> Option<SlabArc<T>> {
        // SAFETY: the cache lives until `drop` (type invariant).
        let head = NonNull::new(unsafe { crate::shim::hone_slab_alloc(self.cache.as_ptr()) })?;
        let slot = head.cast::<Slot<T>>();
        // `head` is the first field of the `repr(C)` slot (at offset 0) and its object has the
        // size and alignment of a `Slot<T>` (type invariant), with the header set by C.
        // SAFETY: so `value` is written in bounds, once, into memory nothing else refers to.
        unsafe { addr_of_mut!((*slot.as_ptr()).value).write(value) };
        // INVARIANT: an object of this cache with a value, one reference, which is this one's.
        Some(SlabArc { slot })
    }
}

#[cfg(hone_crate = "hone_notify")]
impl<T> Drop for SlabCache<T> {
    fn drop(&mut self) {
        // An object still referred to keeps the cache: the slab allocator then warns (a leak
        // is reported, as a kernel warning) and does not free it, so that object's last drop
        // still frees into a live cache.
        // SAFETY: the cache is ours and destroyed once, here (type invariant).
        unsafe { crate::shim::hone_slab_destroy(self.cache.as_ptr()) };
    }
}

#[cfg(hone_crate = "hone_notify")]
// SAFETY: the cache is a kernel object that any thread may allocate from and destroy.
unsafe impl<T: Send + Sync> Send for SlabCache<T> {}
#[cfg(hone_crate = "hone_notify")]
// SAFETY: `&SlabCache` only allocates, which the slab allocator allows in any context at once.
unsafe impl<T: Send + Sync> Sync for SlabCache<T> {}

/// A counted reference to a `T` in an object of a [`SlabCache`].
///
/// # Invariants
///
/// `self.slot` is an object of a slab cache, its header set by `hone_slab_alloc` and its value
/// initialised; this value owns one of its references. The object is freed (after its value is
/// dropped) when its last reference is dropped, and not before.
pub(crate) struct SlabArc<T> {
    slot: NonNull<Slot<T>>,
}

impl<T> SlabArc<T> {
    fn head(&self) -> *mut crate::shim::hone_slab_head {
        // SAFETY: the object lives while this reference does (type invariant).
        unsafe { addr_of_mut!((*self.slot.as_ptr()).head) }
    }
}

impl<T> Deref for SlabArc<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // The value is only ever shared: no `&mut` to it is made until the last drop.
        // SAFETY: the value is initialised and lives while this reference does (type invariant).
        unsafe { &(*self.slot.as_ptr()).value }
    }
}

impl<T> Clone for SlabArc<T> {
    fn clone(&self) -> Self {
        // SAFETY: the object lives while this reference does (type invariant).
        unsafe { crate::shim::hone_slab_get(self.head()) };
        // INVARIANT: the reference taken just above is the new value's.
        SlabArc { slot: self.slot }
    }
}

impl<T> Drop for SlabArc<T> {
    fn drop(&mut self) {
        // SAFETY: this value owns a reference of a live object (type invariant).
        if !unsafe { crate::shim::hone_slab_put(self.head()) } {
            return;
        }
        // The last reference is gone: nothing else reads the value or the object any more.
        // SAFETY: the value is initialised (type invariant) and dropped once, here.
        unsafe { core::ptr::drop_in_place(addr_of_mut!((*self.slot.as_ptr()).value)) };
        // SAFETY: the object came from `hone_slab_alloc`, and its header names its cache.
        unsafe { crate::shim::hone_slab_free(self.head()) };
    }
}

// SAFETY: a reference hands out `&T` on any thread and may drop a `T` on any thread.
unsafe impl<T: Send + Sync> Send for SlabArc<T> {}
// SAFETY: `&SlabArc<T>` gives `&T` and clones; the count is atomic.
unsafe impl<T: Send + Sync> Sync for SlabArc<T> {}
