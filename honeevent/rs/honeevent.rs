// SPDX-License-Identifier: GPL-2.0

//! honeevent: Hone's character devices.
//!
//! `/dev/<devname>` streams PCAP-NG (Section Header, Interface Description, Process Event
//! blocks 0x101, Connection Event Blocks 0x102, Enhanced Packet Blocks with connection id, pid
//! and direction, Darwin Process Info Blocks that name their processes for Wireshark, Interface
//! Statistics blocks where a reader lost events) and `/dev/<devname>t` the same events as text
//! lines. Every open is an independent reader with its own ring of
//! `PAGE_SIZE << pageorder` bytes, fed by hone_notify; a reader first gets a section header and a
//! snapshot of the processes already running, each followed by its open inet sockets, then live
//! events. Reads may be of any size (a
//! record is continued on the next read), blocking or `O_NONBLOCK`, and `poll` works. When a
//! ring is full, events are dropped, counted, and the loss is reported in the stream where it
//! happened. Opening for writing fails with `EINVAL`. The ioctls of the original (restart,
//! snaplen, socket filter, "at head") and per-reader pid and connection filters steer a reader
//! (see `ioctls`).
//!
//! Parameters (validated at load; a bad value fails the load with `EINVAL`): `devname`,
//! `major`, `hostid`, `comment`, `snaplen`, `pageorder`.

use kernel::prelude::*;
use kernel::str::{BStr, CStr};
use kernel::sync::Arc;

// Shared with the other modules, each of which uses a part.
#[path = "../../rust/hone/src"]
#[allow(unreachable_pub)]
mod hone {
    pub mod container;
    pub mod cursor;
    pub mod encoder;
    pub mod ioctl;
    pub mod ip;
    pub mod params;
    pub mod pcapng;
    pub mod process_info;
    pub mod record;
    pub mod ring;
    pub mod section;
    pub mod text;
}

#[path = "../../rust/kglue"]
mod kglue {
    pub(crate) mod chain;
    pub(crate) mod clock;
    pub(crate) mod device;
    pub(crate) mod files;
    pub(crate) mod hone_event;
    pub(crate) mod irqlock;
    pub(crate) mod kvec;
    pub(crate) mod module;
    pub(crate) mod param;
    pub(crate) mod process_event;
    pub(crate) mod skb;
    pub(crate) mod slab;
    pub(crate) mod stream;
    pub(crate) mod subscription;
    pub(crate) mod user;
    pub(crate) mod uts;
    pub(crate) mod waitqueue;
}

// What bindgen made of the shim's header: this crate's declarations of its C side and of what
// the other modules offer (public, so that the compiler does not take the declarations this
// crate does not call for dead code).
#[allow(non_camel_case_types, non_upper_case_globals, improper_ctypes, missing_docs)]
pub mod shim {
    include!("../../rust/kglue/shim_types.rs");
    include!("shim_bindings.rs");
}

mod ioctls;
mod output;
mod queue;
mod reader;

use hone::params::{self, HostId, ParamError};
use kglue::device::ChrDev;
use reader::Reader;

crate::hone_module! {
    type: HoneEventModule,
    name: "honeevent",
    description: "Hone: PCAP-NG and text devices streaming process, socket and packet events",
}

/// Largest comment kept for the section header.
const MAX_COMMENT: usize = 1024;

/// The bytes of `s`, without its NUL; none for an unset parameter.
fn bytes(s: Option<&CStr>) -> &[u8] {
    match s {
        Some(s) => {
            let b: &BStr = s.as_ref();
            b
        }
        None => &[],
    }
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
        let devname = crate::charp_param!(hone_param_devname).ok_or_else(|| refuse("devname", "must not be empty"))?;
        params::check_devname(bytes(Some(devname)))
            .map_err(|_| refuse("devname", "must be 1-30 characters without '/', spaces or control characters"))?;
        let major = crate::int_param!(hone_param_major);
        if !(0..=511).contains(&major) {
            return Err(refuse("major", "must be 0 (dynamic) or 1-511"));
        }
        let hostid = params::parse_hostid(bytes(crate::charp_param!(hone_param_hostid))).map_err(|e| match e {
            ParamError::BadGuid => refuse("hostid", "a value starting with '{' must be a GUID {xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}"),
            _ => refuse("hostid", "must be at most 255 characters without control characters"),
        })?;
        let snaplen = params::check_range(crate::int_param!(hone_param_snaplen), params::MAX_SNAPLEN)
            .map_err(|_| refuse("snaplen", "must be 0 (whole packets) to 65535"))?;
        let pageorder = params::check_range(crate::int_param!(hone_param_pageorder), params::MAX_PAGEORDER)
            .map_err(|_| refuse("pageorder", "must be 0 to 10"))?;
        let raw_comment = bytes(crate::charp_param!(hone_param_comment));
        if raw_comment.len() > MAX_COMMENT {
            return Err(refuse("comment", "must be at most 1024 characters"));
        }
        let mut comment = KVec::from_elem(0u8, raw_comment.len(), GFP_KERNEL)?;
        let n = params::unescape_comment(raw_comment, &mut comment);
        kglue::kvec::truncate(&mut comment, n);
        let mut userappl = KVec::new();
        userappl.extend_from_slice(b"Hone ", GFP_KERNEL)?;
        userappl.extend_from_slice(bytes(crate::charp_param!(hone_version)), GFP_KERNEL)?;
        Ok(Config { devname, major, hostid, comment, snaplen, pageorder, userappl })
    }
}

struct HoneEventModule {
    _device: ChrDev<Reader>,
}

impl kernel::Module for HoneEventModule {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let config = Arc::new(Config::from_params()?, GFP_KERNEL)?;
        let device = reader::register_device(config.major, config.devname, config.clone())?;
        crate::set_int_param!(hone_param_set_major, device.major());
        pr_info!(
            "{} loaded: /dev/{} and /dev/{}t, major {}\n",
            BStr::from_bytes(&config.userappl),
            config.devname,
            config.devname,
            device.major()
        );
        Ok(HoneEventModule { _device: device })
    }
}
