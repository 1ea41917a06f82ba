// SPDX-License-Identifier: GPL-2.0

//! honeevent: Hone's character devices.
//!
//! `/dev/<devname>` streams PCAP-NG (Section Header, Interface Description, Process Event
//! blocks 0x101, Connection Event Blocks 0x102, Enhanced Packet Blocks with connection id, pid
//! and direction, Interface
//! Statistics blocks where a reader lost events) and `/dev/<devname>t` the same events as text
//! lines. Every open is an independent reader with its own ring of
//! `PAGE_SIZE << pageorder` bytes, fed by hone_notify; a reader first gets a section header and a
//! snapshot of the processes already running, each followed by its open inet sockets, then live
//! events. Reads may be of any size (a
//! record is continued on the next read), blocking or `O_NONBLOCK`, and `poll` works. When a
//! ring is full, events are dropped, counted, and the loss is reported in the stream where it
//! happened. Opening for writing fails with `EINVAL`. The ioctls of the original (restart,
//! snaplen, socket filter, "at head") and per-reader pid and connection filters steer a reader
//! (see `reader`).
//!
//! Parameters (validated at load; a bad value fails the load with `EINVAL`): `devname`,
//! `major`, `hostid`, `comment`, `snaplen`, `pageorder`.

use core::ptr::null_mut;
use core::sync::atomic::{AtomicPtr, Ordering};
use kernel::bindings;
use kernel::ffi::c_char;
use kernel::prelude::*;
use kernel::str::{BStr, CStr};

// Shared with the other modules, each of which uses a part.
#[path = "../../rust/hone/src"]
#[allow(dead_code, unreachable_pub)]
mod hone {
    pub mod cursor;
    pub mod ioctl;
    pub mod ip;
    pub mod params;
    pub mod pcapng;
    pub mod record;
    pub mod ring;
    pub mod text;
}

#[path = "../../rust/kglue"]
#[allow(dead_code, unreachable_pub)]
mod kglue {
    pub mod clock;
    pub mod event;
    pub mod irqlock;
    pub mod kvec;
    pub mod module;
    pub mod skb;
    pub mod sock;
    pub mod stream;
    pub mod subscription;
    pub mod user;
}

#[allow(non_camel_case_types, non_upper_case_globals, dead_code, improper_ctypes, missing_docs, unreachable_pub)]
mod shim {
    include!("../../rust/kglue/shim_types.rs");
    include!("shim_bindings.rs");
}

mod reader;

use hone::params::{self, HostId, ParamError};

crate::hone_module! {
    type: HoneEventModule,
    name: "honeevent",
    description: "Hone: PCAP-NG and text devices streaming process, socket and packet events",
}

/// Largest comment kept for the section header.
const MAX_COMMENT: usize = 1024;

fn param_bytes(ptr: *const c_char) -> &'static [u8] {
    if ptr.is_null() {
        return &[];
    }
    // SAFETY: module parameters are NUL-terminated strings that live as long as the module.
    bytes(unsafe { CStr::from_char_ptr(ptr) })
}

/// The bytes of `s`, without its NUL.
fn bytes(s: &CStr) -> &[u8] {
    let b: &BStr = s.as_ref();
    b
}

/// Validated module parameters.
struct Config {
    devname: &'static CStr,
    major: i32,
    hostid: HostId<'static>,
    comment: KVec<u8>,
    snaplen: u32,
    pageorder: u32,
    userappl: KVec<u8>,
}

fn refuse(name: &str, why: &str) -> Error {
    pr_err!("invalid parameter {}: {}\n", name, why);
    EINVAL
}

impl Config {
    fn from_params() -> Result<Self> {
        // SAFETY: the getters only read the parameters' storage; no precondition.
        let (devname_ptr, major, hostid, comment, snaplen, pageorder, version) = unsafe {
            (
                shim::hone_param_devname(),
                shim::hone_param_major(),
                shim::hone_param_hostid(),
                shim::hone_param_comment(),
                shim::hone_param_snaplen(),
                shim::hone_param_pageorder(),
                shim::hone_version(),
            )
        };
        if devname_ptr.is_null() {
            return Err(refuse("devname", "must not be empty"));
        }
        // SAFETY: as in `param_bytes`.
        let devname = unsafe { CStr::from_char_ptr(devname_ptr) };
        params::check_devname(bytes(devname))
            .map_err(|_| refuse("devname", "must be 1-30 characters without '/', spaces or control characters"))?;
        if !(0..=511).contains(&major) {
            return Err(refuse("major", "must be 0 (dynamic) or 1-511"));
        }
        let hostid = params::parse_hostid(param_bytes(hostid)).map_err(|e| match e {
            ParamError::BadGuid => refuse("hostid", "a value starting with '{' must be a GUID {xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}"),
            _ => refuse("hostid", "must be at most 255 characters without control characters"),
        })?;
        let snaplen = params::check_range(snaplen, params::MAX_SNAPLEN)
            .map_err(|_| refuse("snaplen", "must be 0 (whole packets) to 65535"))?;
        let pageorder = params::check_range(pageorder, params::MAX_PAGEORDER)
            .map_err(|_| refuse("pageorder", "must be 0 to 10"))?;
        let raw_comment = param_bytes(comment);
        if raw_comment.len() > MAX_COMMENT {
            return Err(refuse("comment", "must be at most 1024 characters"));
        }
        let mut comment = KVec::from_elem(0u8, raw_comment.len(), GFP_KERNEL)?;
        let n = params::unescape_comment(raw_comment, &mut comment);
        kglue::kvec::truncate(&mut comment, n);
        let mut userappl = KVec::new();
        userappl.extend_from_slice(b"Hone ", GFP_KERNEL)?;
        userappl.extend_from_slice(param_bytes(version), GFP_KERNEL)?;
        Ok(Config { devname, major, hostid, comment, snaplen, pageorder, userappl })
    }
}

static CONFIG: AtomicPtr<Config> = AtomicPtr::new(null_mut());

fn config() -> &'static Config {
    // `CONFIG` is set before the devices exist and cleared after they are gone, and readers
    // hold a module reference (fops owner).
    // SAFETY: so every reader callback sees it set.
    unsafe { &*CONFIG.load(Ordering::Acquire) }
}

/// The registered character device, class and nodes; dropping removes them.
struct ChrDev {
    major: i32,
    name: &'static CStr,
    class: *mut bindings::class,
}

impl ChrDev {
    fn register(major: i32, name: &'static CStr) -> Result<Self> {
        let mut class = null_mut();
        // SAFETY: `name` lives as long as the module; `class` is a valid out-pointer.
        let ret = unsafe { shim::hone_chrdev_register(major, name.as_char_ptr(), &mut class) };
        if ret < 0 {
            pr_err!("cannot register character device {} (major {}): error {}\n", name, major, ret);
            return Err(Error::from_errno(ret));
        }
        Ok(ChrDev { major: ret, name, class })
    }
}

impl Drop for ChrDev {
    fn drop(&mut self) {
        // SAFETY: undoes exactly the successful `register`.
        unsafe { shim::hone_chrdev_unregister(self.major, self.name.as_char_ptr(), self.class) };
    }
}

// SAFETY: the class pointer is only used to unregister, once, from the module's exit.
unsafe impl Send for ChrDev {}
// SAFETY: `&ChrDev` gives no access to the class.
unsafe impl Sync for ChrDev {}

struct HoneEventModule {
    _device: ChrDev,
    _config: KBox<Config>,
}

impl kernel::Module for HoneEventModule {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let config = KBox::new(Config::from_params()?, GFP_KERNEL)?;
        CONFIG.store(&*config as *const Config as *mut Config, Ordering::Release);
        let device = match ChrDev::register(config.major, config.devname) {
            Ok(d) => d,
            Err(e) => {
                CONFIG.store(null_mut(), Ordering::Release);
                return Err(e);
            }
        };
        // SAFETY: writes the parameter's storage; no reader of it runs concurrently with init.
        unsafe { shim::hone_param_set_major(device.major) };
        pr_info!(
            "{} loaded: /dev/{} and /dev/{}t, major {}\n",
            BStr::from_bytes(&config.userappl),
            config.devname,
            config.devname,
            device.major
        );
        Ok(HoneEventModule { _device: device, _config: config })
    }
}

impl Drop for HoneEventModule {
    fn drop(&mut self) {
        // The fields (device, then config) are dropped after this body. No reader exists any
        // more (each holds a module reference) and no new open can reach this module while it
        // is going away, so nothing reads `CONFIG` from here on.
        CONFIG.store(null_mut(), Ordering::Release);
    }
}
