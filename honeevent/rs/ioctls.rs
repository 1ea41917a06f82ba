// SPDX-License-Identifier: GPL-2.0

//! The ioctls that steer a reader: those of the original (restart, snaplen, socket filter,
//! "at head") and Hone's own (statistics, pid and connection filters); numbers and layouts in
//! `rust/hone/src/ioctl.rs`.

use core::sync::atomic::{AtomicU64, Ordering};
use kernel::ffi::c_long;
use kernel::prelude::*;

use crate::hone::ioctl::{self, DeviceStats, FilterList, IdSet};
use crate::hone::params;
use crate::hone::record::CLASSES;
use crate::kglue::files;
use crate::kglue::stream;
use crate::kglue::user::user_slice;
use crate::queue::TOTALS;
use crate::reader::Reader;

/// Reads `n` `u32`s from user memory at `addr`.
fn read_ids(addr: u64, n: usize) -> Result<KVec<u32>> {
    let mut bytes = KVec::from_elem(0u8, n * 4, GFP_KERNEL)?;
    let addr = usize::try_from(addr).map_err(|_| EFAULT)?;
    user_slice(addr, n * 4).reader().read_slice(&mut bytes)?;
    let mut ids = KVec::with_capacity(n, GFP_KERNEL)?;
    for c in bytes.chunks_exact(4) {
        ids.push(u32::from_ne_bytes([c[0], c[1], c[2], c[3]]), GFP_KERNEL)?;
    }
    Ok(ids)
}

/// Reads a [`ioctl::FilterList`] at user address `arg` and the ids it points to.
fn read_filter(arg: usize) -> Result<IdSet> {
    let mut raw = [0u8; FilterList::SIZE];
    user_slice(arg, raw.len()).reader().read_slice(&mut raw)?;
    let list = FilterList::from_bytes(&raw);
    let count = list.count as usize;
    if count > ioctl::MAX_FILTER || list.reserved != 0 {
        return Err(EINVAL);
    }
    let ids = if count == 0 { KVec::new() } else { read_ids(list.ids, count)? };
    IdSet::new(&ids).ok_or(EINVAL)
}

/// All readers' counters, and hone_notify's, since the modules were loaded.
fn device_stats() -> DeviceStats {
    let g = stream::stats();
    let load = |c: &[AtomicU64; CLASSES]| c.each_ref().map(|n| n.load(Ordering::Relaxed));
    DeviceStats {
        readers: TOTALS.readers.load(Ordering::Relaxed),
        received: g.received,
        lost: g.lost,
        dropped: load(&TOTALS.dropped),
        delivered: load(&TOTALS.delivered),
        filtered: TOTALS.filtered.load(Ordering::Relaxed),
    }
}

impl Reader {
    pub(crate) fn ioctl(&self, cmd: u32, arg: usize) -> Result<c_long> {
        match cmd {
            ioctl::RESTART => {
                self.stream.lock().section.restart();
                self.shared.kick();
                Ok(0)
            }
            ioctl::GET_AT_HEAD => Ok(c_long::from(self.stream.lock().section.at_head())),
            ioctl::GET_SNAPLEN => {
                let snaplen = self.stream.lock().snaplen;
                user_slice(arg, 4).writer().write_slice(&snaplen.to_ne_bytes())?;
                Ok(0)
            }
            ioctl::SET_SNAPLEN => {
                let v = i32::try_from(arg).map_err(|_| EINVAL)?;
                let snaplen = params::check_range(v, params::MAX_SNAPLEN).map_err(|_| EINVAL)?;
                self.stream.lock().set_snaplen(snaplen);
                self.shared.kick();
                Ok(0)
            }
            ioctl::SET_FILTER_SOCK => {
                // The argument is a C int: -1 clears the filter.
                let fd = arg as u32 as i32;
                let conn = if fd == -1 { None } else { Some(files::socket_ino(fd)?) };
                self.shared.queue.lock().filters.sock = conn;
                Ok(0)
            }
            ioctl::GET_STATS => {
                user_slice(arg, DeviceStats::SIZE).writer().write_slice(&device_stats().to_bytes())?;
                Ok(0)
            }
            ioctl::SET_FILTER_PIDS => {
                let set = read_filter(arg)?;
                self.shared.queue.lock().filters.pids = set;
                Ok(0)
            }
            ioctl::SET_FILTER_CONNS => {
                let set = read_filter(arg)?;
                self.shared.queue.lock().filters.conns = set;
                Ok(0)
            }
            _ => Err(EINVAL),
        }
    }
}
