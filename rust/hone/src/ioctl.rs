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

/// Fills the [`DeviceStats`] the argument points to.
pub const GET_STATS: u32 = ioc(READ, 10, DeviceStats::SIZE as u32);

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

impl FilterList {
    /// Size of the argument.
    pub const SIZE: usize = 16;

    /// The argument as it lies in memory (native byte order).
    pub fn from_bytes(b: &[u8; Self::SIZE]) -> Self {
        let u32_at = |i: usize| u32::from_ne_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let mut ids = [0u8; 8];
        ids.copy_from_slice(&b[8..16]);
        FilterList { count: u32_at(0), reserved: u32_at(4), ids: u64::from_ne_bytes(ids) }
    }
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
    #[cfg(not(hone_kernel))]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// What `GET_STATS` reports: Hone's counters since honeevent was loaded, by event class
/// (`Class as usize`: process, socket, packet).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeviceStats {
    /// Readers open now, including the one asking.
    pub readers: u32,
    /// Events hone_notify received (since it was loaded).
    pub received: [u64; 3],
    /// Events hone_notify lost for want of memory.
    pub lost: [u64; 3],
    /// Events readers dropped because their ring was full, all readers together.
    pub dropped: [u64; 3],
    /// Events readers delivered, all readers together.
    pub delivered: [u64; 3],
    /// Packets readers' filters hid, all readers together.
    pub filtered: u64,
}

impl DeviceStats {
    /// Size on the wire: `u32` readers, `u32` zero, then the counters as `u64`s in field order.
    pub const SIZE: usize = 8 + 8 * 13;

    /// The bytes `GET_STATS` copies out, in host byte order.
    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        b[..4].copy_from_slice(&self.readers.to_ne_bytes());
        let values = self.received.iter().chain(&self.lost).chain(&self.dropped).chain(&self.delivered).chain([&self.filtered]);
        for (i, v) in values.enumerate() {
            b[8 + 8 * i..16 + 8 * i].copy_from_slice(&v.to_ne_bytes());
        }
        b
    }

    /// Reads what [`DeviceStats::to_bytes`] wrote.
    #[cfg(not(hone_kernel))]
    pub fn from_bytes(b: &[u8; Self::SIZE]) -> Self {
        let u64_at = |i: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&b[8 + 8 * i..16 + 8 * i]);
            u64::from_ne_bytes(w)
        };
        let three = |first: usize| [u64_at(first), u64_at(first + 1), u64_at(first + 2)];
        DeviceStats {
            readers: u32::from_ne_bytes([b[0], b[1], b[2], b[3]]),
            received: three(0),
            lost: three(3),
            dropped: three(6),
            delivered: three(9),
            filtered: u64_at(12),
        }
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
        assert_eq!(core::mem::size_of::<FilterList>(), FilterList::SIZE);
    }

    #[test]
    fn filter_list_as_a_c_program_lays_it_out() {
        // struct { uint32_t count, reserved; uint64_t ids; } with the fields in that order.
        let mut raw = [0u8; FilterList::SIZE];
        raw[..4].copy_from_slice(&3u32.to_ne_bytes());
        raw[4..8].copy_from_slice(&7u32.to_ne_bytes());
        raw[8..].copy_from_slice(&0x1122_3344_5566_7788u64.to_ne_bytes());
        assert_eq!(FilterList::from_bytes(&raw), FilterList { count: 3, reserved: 7, ids: 0x1122_3344_5566_7788 });
        assert_eq!(core::mem::offset_of!(FilterList, ids), 8);
    }

    #[test]
    fn stats_round_trip() {
        let st = DeviceStats {
            readers: 3,
            received: [1, 2, 3],
            lost: [4, 5, 6],
            dropped: [7, 8, 9],
            delivered: [10, 11, 12],
            filtered: 13,
        };
        assert_eq!(DeviceStats::from_bytes(&st.to_bytes()), st);
        assert_eq!(GET_STATS, 0x8070_E00A);
    }

    #[test]
    fn id_sets() {
        let s = IdSet::new(&[3, 5]).unwrap();
        assert!(s.contains(5) && !s.contains(4));
        assert!(IdSet::new(&[0; MAX_FILTER + 1]).is_none());
        assert!(IdSet::default().is_empty());
    }
}
