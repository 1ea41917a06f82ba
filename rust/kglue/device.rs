// SPDX-License-Identifier: GPL-2.0

//! A character device whose every open is a reader: its registration, and the entry points its
//! C file operations call (`hone_chrdev_*` and `hone_reader_*` in the module's shim).

use kernel::bindings;
use kernel::ffi::c_long;
use kernel::prelude::*;
use kernel::str::CStr;

use super::waitqueue::WaitQueue;

/// The module's character device: a major with its minors, the class and the device nodes,
/// whose opens are `F`s made with the context the device holds; dropping it removes them.
///
/// # Invariants
///
/// `major`, `name` and `class` are those of a `hone_chrdev_register` that succeeded with
/// `context` for each open, and only `drop` unregisters them.
pub(crate) struct ChrDev<F: DeviceFile> {
    major: i32,
    name: &'static CStr,
    class: *mut bindings::class,
    /// What each open gets; dropped after `drop` has unregistered the device, when no open
    /// can reach it any more.
    _context: KBox<F::Context>,
}

// The class pointer is only used to unregister, once, from `drop`.
// SAFETY: and the context is `Send + Sync` (`DeviceFile`).
unsafe impl<F: DeviceFile> Send for ChrDev<F> {}
// SAFETY: `&ChrDev` gives no access to the class, and shares the context only as `&`.
unsafe impl<F: DeviceFile> Sync for ChrDev<F> {}

impl<F: DeviceFile> ChrDev<F> {
    /// Registers the device `name` under `major` (0 for a dynamic one), each open of which
    /// gets `context`.
    ///
    /// # Safety
    ///
    /// The module's `hone_reader_*` functions must be those that
    /// [`device_file_entries!`](crate::device_file_entries) defines for `F`; its
    /// `register_device` is the safe way here.
    pub(crate) unsafe fn register(major: i32, name: &'static CStr, context: F::Context) -> Result<Self> {
        let context = KBox::new(context, GFP_KERNEL)?;
        let data = &*context as *const F::Context as *mut core::ffi::c_void;
        let mut class = core::ptr::null_mut();
        // `name` lives as long as the module; `data` until the device is unregistered (the box
        // is kept with it).
        // SAFETY: and `class` is a valid out-pointer.
        let ret = unsafe { crate::shim::hone_chrdev_register(major, name.as_char_ptr(), data, &mut class) };
        if ret < 0 {
            pr_err!("cannot register character device {} (major {}): error {}\n", name, major, ret);
            return Err(Error::from_errno(ret));
        }
        // INVARIANT: the registration succeeded, with the major it returned and this context.
        Ok(ChrDev { major: ret, name, class, _context: context })
    }

    /// The major in use.
    pub(crate) fn major(&self) -> i32 {
        self.major
    }
}

impl<F: DeviceFile> Drop for ChrDev<F> {
    fn drop(&mut self) {
        // SAFETY: undoes exactly the successful `register` (type invariant), once.
        unsafe { crate::shim::hone_chrdev_unregister(self.major, self.name.as_char_ptr(), self.class) };
    }
}

/// One open file of the device, as [`device_file_entries!`](crate::device_file_entries) lends
/// it to the file operations.
pub(crate) trait DeviceFile: Sized + Send + Sync {
    /// What the device gives each open (its configuration).
    type Context: Send + Sync;
    /// `open`: a new file for minor `minor`.
    fn open(minor: u32, context: &Self::Context) -> Result<Pin<KBox<Self>>>;
    /// `read`: copies up to `len` (> 0) bytes to user memory at `addr`; blocks unless `nonblock`.
    fn read(&self, addr: usize, len: usize, nonblock: bool) -> Result<usize>;
    /// `unlocked_ioctl` and `compat_ioctl`.
    fn ioctl(&self, cmd: u32, arg: usize) -> Result<c_long>;
    /// `poll`: the wait queue it sleeps on.
    fn wait_queue(&self) -> &WaitQueue;
    /// `poll`: whether a read would return at once.
    fn readable(&self) -> bool;
}

/// Defines the `hone_reader_*` functions that the module's C file operations call (declared in
/// its shim.h), each on the open file `$file` (a [`DeviceFile`]) that `open` made and that
/// `release` drops: the file's private data is that file, boxed and pinned. Also defines
/// `register_device(major, name, context)`, which registers the device whose opens these are.
#[macro_export]
macro_rules! device_file_entries {
    ($file:ty) => {
        /// Registers the module's character device, whose opens are `$file`s.
        pub(crate) fn register_device(
            major: i32,
            name: &'static ::kernel::str::CStr,
            context: <$file as $crate::kglue::device::DeviceFile>::Context,
        ) -> ::kernel::error::Result<$crate::kglue::device::ChrDev<$file>> {
            // SAFETY: the entry points of this module are the ones defined here, for `$file`.
            unsafe { $crate::kglue::device::ChrDev::register(major, name, context) }
        }

        /// `open`: a new file, or null with `*err` set.
        ///
        /// # Safety
        ///
        /// `context` must be what `register_device` registered, and the device still
        /// registered; `err` must be valid for writes.
        #[no_mangle]
        pub(crate) unsafe extern "C" fn hone_reader_open(
            minor: u32,
            context: *mut ::core::ffi::c_void,
            err: *mut ::kernel::ffi::c_int,
        ) -> *mut ::core::ffi::c_void {
            // The caller passes the context of a `ChrDev<$file>`, alive while it is registered.
            // SAFETY: guaranteed by the caller.
            let context = unsafe { &*context.cast::<<$file as $crate::kglue::device::DeviceFile>::Context>() };
            match <$file as $crate::kglue::device::DeviceFile>::open(minor, context) {
                // SAFETY: the file stays pinned: only `hone_reader_release` turns it back into a box.
                Ok(file) => ::kernel::alloc::KBox::into_raw(unsafe { ::core::pin::Pin::into_inner_unchecked(file) }).cast(),
                Err(e) => {
                    // SAFETY: the caller guarantees `err`.
                    unsafe { *err = e.to_errno() };
                    ::core::ptr::null_mut()
                }
            }
        }

        /// Borrows the open file behind a file's private data.
        ///
        /// # Safety
        ///
        /// `file` must come from `hone_reader_open` and not be released yet.
        unsafe fn device_file<'a>(file: *mut ::core::ffi::c_void) -> &'a $file {
            // SAFETY: guaranteed by the caller.
            unsafe { &*file.cast::<$file>() }
        }

        /// `read`: copies up to `len` bytes of the stream; blocks unless `nonblock`.
        ///
        /// # Safety
        ///
        /// `file` as for `device_file`; `buf` is a user pointer.
        #[no_mangle]
        pub(crate) unsafe extern "C" fn hone_reader_read(
            file: *mut ::core::ffi::c_void,
            buf: *mut ::kernel::ffi::c_char,
            len: usize,
            nonblock: bool,
        ) -> isize {
            if len == 0 {
                return 0;
            }
            // SAFETY: guaranteed by the caller.
            match <$file as $crate::kglue::device::DeviceFile>::read(unsafe { device_file(file) }, buf as usize, len, nonblock) {
                Ok(n) => n as isize,
                Err(e) => e.to_errno() as isize,
            }
        }

        /// `unlocked_ioctl` and `compat_ioctl`: a value, or a negative errno.
        ///
        /// # Safety
        ///
        /// As for `device_file`.
        #[no_mangle]
        pub(crate) unsafe extern "C" fn hone_reader_ioctl(file: *mut ::core::ffi::c_void, cmd: u32, arg: usize) -> ::kernel::ffi::c_long {
            // SAFETY: guaranteed by the caller.
            match <$file as $crate::kglue::device::DeviceFile>::ioctl(unsafe { device_file(file) }, cmd, arg) {
                Ok(v) => v,
                Err(e) => e.to_errno() as ::kernel::ffi::c_long,
            }
        }

        /// `poll`: the file's wait queue.
        ///
        /// # Safety
        ///
        /// As for `device_file`.
        #[no_mangle]
        pub(crate) unsafe extern "C" fn hone_reader_waitqueue(file: *mut ::core::ffi::c_void) -> *mut ::kernel::bindings::wait_queue_head {
            // SAFETY: guaranteed by the caller.
            <$file as $crate::kglue::device::DeviceFile>::wait_queue(unsafe { device_file(file) }).as_ptr()
        }

        /// `poll`: whether a read would return at once.
        ///
        /// # Safety
        ///
        /// As for `device_file`.
        #[no_mangle]
        pub(crate) unsafe extern "C" fn hone_reader_readable(file: *mut ::core::ffi::c_void) -> bool {
            // SAFETY: guaranteed by the caller.
            <$file as $crate::kglue::device::DeviceFile>::readable(unsafe { device_file(file) })
        }

        /// `release`: drops the file with everything it holds.
        ///
        /// # Safety
        ///
        /// `file` must come from `hone_reader_open`; it is not used again.
        #[no_mangle]
        pub(crate) unsafe extern "C" fn hone_reader_release(file: *mut ::core::ffi::c_void) {
            // SAFETY: guaranteed by the caller: this is the box `hone_reader_open` leaked.
            drop(unsafe { ::kernel::alloc::KBox::from_raw(file.cast::<$file>()) });
        }

        $crate::declared_in_c!(hone_reader_open);
        $crate::declared_in_c!(hone_reader_read);
        $crate::declared_in_c!(hone_reader_ioctl);
        $crate::declared_in_c!(hone_reader_waitqueue);
        $crate::declared_in_c!(hone_reader_readable);
        $crate::declared_in_c!(hone_reader_release);
    };
}
