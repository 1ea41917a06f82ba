// SPDX-License-Identifier: GPL-2.0

//! The ioctls of `/dev/hone` and `/dev/honet` (magic 0xE0), numbered as the original sensor did
//! on x86, plus Hone's per-reader pid and connection filters.

const NONE: u32 = 0;
const WRITE: u32 = 1;
const READ: u32 = 2;
const MAGIC: u32 = 0xE0;

const fn ioc(dir: u32, nr: u32, size: u32) -> u32 {
    dir << 30 | size << 16 | MAGIC << 8 | nr
}

/// Ends the reader's section (statistics block), returns EOF once, then starts a new section
/// with a fresh snapshot. No argument.
pub const RESTART: u32 = ioc(NONE, 1, 0);
/// Returns 1 while a new section header is pending, else 0. No argument.
pub const GET_AT_HEAD: u32 = ioc(NONE, 3, 0);
/// Stores the reader's snaplen at the `u32` the argument points to.
pub const GET_SNAPLEN: u32 = ioc(READ, 4, 4);
/// Sets the reader's snaplen to the argument itself (not a pointer; 0 = whole packets) and
/// starts a new section header.
pub const SET_SNAPLEN: u32 = ioc(WRITE, 5, 4);
/// Hides the packets of the socket whose file descriptor is the argument (-1: none).
pub const SET_FILTER_SOCK: u32 = ioc(WRITE, 6, 4);
/// Hides the packets of the pids listed in the [`FilterList`] the argument points to.
pub const SET_FILTER_PIDS: u32 = ioc(WRITE, 8, 16);
/// Hides the packets of the connection ids listed in the [`FilterList`] the argument points to.
pub const SET_FILTER_CONNS: u32 = ioc(WRITE, 9, 16);

/// Most entries of a pid or connection filter.
pub const MAX_FILTER: usize = 64;

/// Argument of [`SET_FILTER_PIDS`] and [`SET_FILTER_CONNS`]: `count` ids (at most
/// [`MAX_FILTER`]; 0 clears the filter) in an array of `u32` at user address `ids`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FilterList {
    /// Number of ids.
    pub count: u32,
    /// Must be zero.
    pub reserved: u32,
    /// User address of the ids.
    pub ids: u64,
}

/// A set of at most [`MAX_FILTER`] ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdSet {
    ids: [u32; MAX_FILTER],
    len: usize,
}

impl Default for IdSet {
    fn default() -> Self {
        IdSet { ids: [0; MAX_FILTER], len: 0 }
    }
}

impl IdSet {
    /// The set of `ids`; `None` if there are more than [`MAX_FILTER`].
    pub fn new(ids: &[u32]) -> Option<Self> {
        let mut set = IdSet::default();
        set.ids.get_mut(..ids.len())?.copy_from_slice(ids);
        set.len = ids.len();
        Some(set)
    }

    /// Whether `id` is in the set.
    pub fn contains(&self, id: u32) -> bool {
        self.ids[..self.len].contains(&id)
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_of_the_original() {
        assert_eq!(RESTART, 0x0000_E001);
        assert_eq!(GET_AT_HEAD, 0x0000_E003);
        assert_eq!(GET_SNAPLEN, 0x8004_E004);
        assert_eq!(SET_SNAPLEN, 0x4004_E005);
        assert_eq!(SET_FILTER_SOCK, 0x4004_E006);
        assert_eq!(core::mem::size_of::<FilterList>(), 16);
    }

    #[test]
    fn id_sets() {
        let s = IdSet::new(&[3, 5]).unwrap();
        assert!(s.contains(5) && !s.contains(4));
        assert!(IdSet::new(&[0; MAX_FILTER + 1]).is_none());
        assert!(IdSet::default().is_empty());
    }
}
