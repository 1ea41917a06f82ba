// SPDX-License-Identifier: GPL-2.0

//! hone_notify's tables: of live sockets (connection id and current owner of each) and of the
//! ICMP echo identifiers its ping sockets use.
//!
//! Fixed capacity (a power of two) over caller-provided slots, open addressing with linear
//! probing and backward-shift deletion, so it never allocates and never degrades with
//! tombstones. Keys are opaque non-zero 64-bit values (in the kernel, the socket's address,
//! which never leaves the kernel: the connection id stored here is what goes out).
//!
//! Lookups take no lock, so that the packets of all CPUs do not meet on one: the table is a
//! sequence lock over atomic slots. A lookup reads the sequence number, probes, and reads the
//! number again; it retries if a change was under way or happened meanwhile. Changes go through
//! the table's one [`Writer`], which the caller keeps behind a lock (in the kernel, one that
//! disables interrupts, so that no lookup on the writer's CPU can wait for an unfinished change).

use super::record::{Comm, Owner};
use core::marker::PhantomData;
use core::ops::Deref;
use core::sync::atomic::{fence, AtomicU64, AtomicUsize, Ordering};

/// What is known about a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SocketInfo {
    /// Its connection id.
    pub conn: u32,
    /// The process that last acted on it (created, accepted, sent or received), if known.
    pub owner: Option<Owner>,
    /// The key of that process's container in the table of
    /// [`process_containers`](super::process_containers), 0 for none: kept with the socket so
    /// that its packets name the container after the process has exited.
    pub container: u64,
}

/// A value that a slot holds as `W` 64-bit words.
pub trait Pack<const W: usize>: Copy {
    /// The value as words.
    fn pack(&self) -> [u64; W];
    /// The value of words made by [`Pack::pack`].
    fn unpack(words: [u64; W]) -> Self;
}

impl Pack<1> for u64 {
    fn pack(&self) -> [u64; 1] {
        [*self]
    }

    fn unpack(words: [u64; 1]) -> Self {
        words[0]
    }
}

impl Pack<6> for SocketInfo {
    fn pack(&self) -> [u64; 6] {
        let owner = self.owner.unwrap_or_default();
        let name = owner.comm.as_bytes();
        let mut comm = [0u8; 16];
        comm[..name.len()].copy_from_slice(name);
        let [lo, hi] = [0, 8].map(|at| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&comm[at..at + 8]);
            u64::from_le_bytes(w)
        });
        [
            u64::from(self.conn) | u64::from(self.owner.is_some()) << 32 | (name.len() as u64) << 40,
            u64::from(owner.pid as u32) | u64::from(owner.ppid as u32) << 32,
            u64::from(owner.euid) | u64::from(owner.egid) << 32,
            lo,
            hi,
            self.container,
        ]
    }

    fn unpack(w: [u64; 6]) -> Self {
        let mut comm = [0u8; 16];
        comm[..8].copy_from_slice(&w[3].to_le_bytes());
        comm[8..].copy_from_slice(&w[4].to_le_bytes());
        let len = usize::from((w[0] >> 40) as u8).min(16);
        let owner = Owner {
            pid: w[1] as u32 as i32,
            ppid: (w[1] >> 32) as u32 as i32,
            euid: w[2] as u32,
            egid: (w[2] >> 32) as u32,
            comm: Comm::new(&comm[..len]),
        };
        SocketInfo { conn: w[0] as u32, owner: ((w[0] >> 32) & 1 == 1).then_some(owner), container: w[5] }
    }
}

/// One slot: a key (0 when free) and its value's words, each read and written whole.
pub struct Slot<const W: usize> {
    key: AtomicU64,
    words: [AtomicU64; W],
}

impl<const W: usize> Default for Slot<W> {
    fn default() -> Self {
        Slot { key: AtomicU64::new(0), words: core::array::from_fn(|_| AtomicU64::new(0)) }
    }
}

impl<const W: usize> Slot<W> {
    fn key(&self) -> u64 {
        self.key.load(Ordering::Relaxed)
    }

    fn words(&self) -> [u64; W] {
        core::array::from_fn(|i| self.words[i].load(Ordering::Relaxed))
    }

    fn set(&self, key: u64, words: [u64; W]) {
        self.key.store(key, Ordering::Relaxed);
        for (slot, w) in self.words.iter().zip(words) {
            slot.store(w, Ordering::Relaxed);
        }
    }

    fn copy_from(&self, other: &Self) {
        self.set(other.key(), other.words());
    }
}

/// A slot of a socket table.
pub type SocketSlot = Slot<6>;

/// The table of live sockets.
pub type SocketTable<S> = Table<SocketInfo, 6, S>;

/// Fewest sockets a socket table can be asked to track (`max_sockets`).
pub const MIN_SOCKETS: usize = 1024;
/// Most sockets a socket table can be asked to track (`max_sockets`): 2^23 slots, 448 MiB.
pub const MAX_SOCKETS: usize = 4 << 20;

/// The slots of a table that holds up to `most` keys (the fewest: a power of two, of which 7/8
/// hold `most` or more), or `None` when a socket table may not be that large or small.
pub fn socket_slots(most: i64) -> Option<usize> {
    let most = usize::try_from(most).ok().filter(|n| (MIN_SOCKETS..=MAX_SOCKETS).contains(n))?;
    Some(slots_for(most))
}

/// The fewest slots (a power of two, at least 8) of which 7/8 hold `most` keys.
pub fn slots_for(most: usize) -> usize {
    most.div_ceil(7).saturating_mul(8).next_power_of_two().max(8)
}

/// The table is full: it holds its limit of keys (at most 7/8 of its slots, so that probes stay
/// short).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableFull;

/// The right to change a table: [`Table::new`] makes one per table, and every change takes it
/// by `&mut`, so changes are one at a time. Keep it with its table and use it with no other.
#[derive(Debug)]
pub struct Writer {
    _private: (),
}

/// A table from non-zero `u64` keys to `V` over caller-provided slots: lookups from any number
/// of threads at once, changes through its [`Writer`].
pub struct Table<V: Pack<W>, const W: usize, S: Deref<Target = [Slot<W>]>> {
    slots: S,
    /// Odd while a change is under way; each change adds 2.
    seq: AtomicU64,
    len: AtomicUsize,
    /// Most keys it holds at once.
    limit: usize,
    shift: u32,
    _value: PhantomData<V>,
}

impl<V: Pack<W>, const W: usize, S: Deref<Target = [Slot<W>]>> Table<V, W, S> {
    /// A table using `slots` (empty, a power of two of at least 8), and its writer; it holds
    /// up to 7/8 of its slots.
    pub fn new(slots: S) -> Option<(Self, Writer)> {
        let most = slots.len() / 8 * 7;
        Self::limited(slots, most)
    }

    /// The same, holding up to `most` keys (from 1 to 7/8 of its slots, see [`slots_for`]).
    pub fn limited(slots: S, most: usize) -> Option<(Self, Writer)> {
        let n = slots.len();
        if n < 8 || !n.is_power_of_two() || most == 0 || most > n / 8 * 7 || slots.iter().any(|s| s.key() != 0) {
            return None;
        }
        let table = Table {
            slots,
            seq: AtomicU64::new(0),
            len: AtomicUsize::new(0),
            limit: most,
            shift: 64 - n.trailing_zeros(),
            _value: PhantomData,
        };
        Some((table, Writer { _private: () }))
    }

    /// Number of keys in the table.
    pub fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }

    /// Whether the table is empty.
    #[cfg(not(hone_kernel))]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    fn home(&self, key: u64) -> usize {
        (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    /// The slot of `key`. In a lookup racing a change the slots may be inconsistent (the
    /// sequence check then discards the answer), so the probe is bounded by the table's size.
    fn find(&self, key: u64) -> Option<usize> {
        let mut i = self.home(key);
        for _ in 0..self.slots.len() {
            match self.slots[i].key() {
                0 => return None,
                k if k == key => return Some(i),
                _ => i = (i + 1) & self.mask(),
            }
        }
        None
    }

    /// The value of `key` (the outer `Some`), in one attempt without a lock; `None` when a
    /// change was under way or happened meanwhile: try again, or take the writer and use
    /// [`Table::get_locked`] (what the kernel does, so that a lookup never spins on a change
    /// that cannot finish, as under PREEMPT_RT, where the writer's lock does not stop preemption).
    pub fn try_get(&self, key: u64) -> Option<Option<V>> {
        let before = self.seq.load(Ordering::Acquire);
        if before & 1 == 1 {
            return None;
        }
        let words = self.find(key).map(|i| self.slots[i].words());
        // Orders the slot reads above before the second read of the sequence number.
        fence(Ordering::Acquire);
        (self.seq.load(Ordering::Relaxed) == before).then(|| words.map(V::unpack))
    }

    /// The value of `key`, read by the holder of the writer: no change can overlap it.
    pub fn get_locked(&self, _writer: &Writer, key: u64) -> Option<V> {
        self.find(key).map(|i| V::unpack(self.slots[i].words()))
    }

    /// Runs `change` as one change: lookups that overlap it retry.
    fn change<R>(&self, _writer: &mut Writer, change: impl FnOnce() -> R) -> R {
        let seq = self.seq.load(Ordering::Relaxed);
        self.seq.store(seq + 1, Ordering::Relaxed);
        // Orders the odd sequence number before the slot writes of `change`.
        fence(Ordering::Release);
        let r = change();
        self.seq.store(seq + 2, Ordering::Release);
        r
    }

    /// Sets the value of `key`; returns what it replaces.
    pub fn insert(&self, writer: &mut Writer, key: u64, value: V) -> Result<Option<V>, TableFull> {
        if let Some(i) = self.find(key) {
            let old = V::unpack(self.slots[i].words());
            self.change(writer, || self.slots[i].set(key, value.pack()));
            return Ok(Some(old));
        }
        let len = self.len();
        if len == self.limit {
            return Err(TableFull);
        }
        let mut i = self.home(key);
        while self.slots[i].key() != 0 {
            i = (i + 1) & self.mask();
        }
        self.change(writer, || self.slots[i].set(key, value.pack()));
        self.len.store(len + 1, Ordering::Relaxed);
        Ok(None)
    }

    /// Forgets every key.
    pub fn clear(&self, writer: &mut Writer) {
        self.change(writer, || self.slots.iter().for_each(|s| s.set(0, [0; W])));
        self.len.store(0, Ordering::Relaxed);
    }

    /// Forgets `key`; returns what was known.
    pub fn remove(&self, writer: &mut Writer, key: u64) -> Option<V> {
        let found = self.find(key)?;
        let removed = V::unpack(self.slots[found].words());
        self.change(writer, || {
            let mut hole = found;
            self.slots[hole].set(0, [0; W]);
            // Backward shift: move later entries of the run into the hole when their home allows.
            let mut i = (hole + 1) & self.mask();
            while self.slots[i].key() != 0 {
                let home = self.home(self.slots[i].key());
                // Distance from home to i and to the hole, along the probe direction.
                let to_i = i.wrapping_sub(home) & self.mask();
                let to_hole = hole.wrapping_sub(home) & self.mask();
                if to_hole < to_i {
                    self.slots[hole].copy_from(&self.slots[i]);
                    self.slots[i].set(0, [0; W]);
                    hole = i;
                }
                i = (i + 1) & self.mask();
            }
        });
        self.len.store(self.len() - 1, Ordering::Relaxed);
        Some(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;
    use std::vec::Vec;

    type Sockets = SocketTable<Vec<SocketSlot>>;

    /// A lookup that retries until no change overlaps it.
    fn get(t: &Sockets, key: u64) -> Option<SocketInfo> {
        loop {
            if let Some(found) = t.try_get(key) {
                return found;
            }
            std::hint::spin_loop();
        }
    }

    fn table(n: usize) -> (Sockets, Writer) {
        SocketTable::new((0..n).map(|_| Slot::default()).collect()).unwrap()
    }

    fn info(conn: u32) -> SocketInfo {
        SocketInfo { conn, owner: None, container: 0 }
    }

    #[test]
    fn refuses_bad_storage_and_overfilling() {
        assert!(SocketTable::new((0..12).map(|_| Slot::default()).collect::<Vec<SocketSlot>>()).is_none());
        assert!(SocketTable::new((0..4).map(|_| Slot::default()).collect::<Vec<SocketSlot>>()).is_none());
        let dirty: Vec<SocketSlot> = (0..8).map(|_| Slot::default()).collect();
        dirty[3].set(9, [0; 6]);
        assert!(SocketTable::new(dirty).is_none());
        let (t, mut w) = table(8);
        for k in 1..=7 {
            t.insert(&mut w, k, info(k as u32)).unwrap();
        }
        assert_eq!(t.insert(&mut w, 8, info(8)), Err(TableFull));
        assert_eq!(t.insert(&mut w, 3, info(33)), Ok(Some(info(3))));
        assert_eq!(t.len(), 7);
        t.clear(&mut w);
        assert!(t.is_empty() && t.get_locked(&w, 3).is_none() && t.try_get(3) == Some(None));
        t.insert(&mut w, 8, info(8)).unwrap();
    }

    #[test]
    fn a_limited_table_holds_its_limit_and_no_more() {
        let n = slots_for(1000);
        assert_eq!(n, 2048);
        let (t, mut w) = SocketTable::limited((0..n).map(|_| Slot::default()).collect::<Vec<SocketSlot>>(), 1000).unwrap();
        for k in 1..=1000 {
            t.insert(&mut w, k, info(k as u32)).unwrap();
        }
        assert_eq!(t.insert(&mut w, 1001, info(1001)), Err(TableFull));
        assert_eq!(t.insert(&mut w, 500, info(5)), Ok(Some(info(500))), "a tracked key still changes");
        t.remove(&mut w, 1);
        t.insert(&mut w, 1001, info(1001)).unwrap();
        assert_eq!((get(&t, 1001), get(&t, 1)), (Some(info(1001)), None));
        let slots = || (0..16).map(|_| Slot::default()).collect::<Vec<SocketSlot>>();
        assert!(SocketTable::limited(slots(), 15).is_none(), "more than 7/8 of the slots");
        assert!(SocketTable::limited(slots(), 0).is_none());
        assert!(SocketTable::limited(slots(), 14).is_some());
    }

    #[test]
    fn max_sockets_picks_the_fewest_slots() {
        assert_eq!(socket_slots(229_376), Some(262_144), "the default fills 2^18 slots");
        assert_eq!(socket_slots(1_000_000), Some(1 << 21));
        assert_eq!(socket_slots(MIN_SOCKETS as i64), Some(2048));
        assert_eq!(socket_slots(MAX_SOCKETS as i64), Some(1 << 23));
        for bad in [-1, 0, MIN_SOCKETS as i64 - 1, MAX_SOCKETS as i64 + 1, i64::MAX] {
            assert_eq!(socket_slots(bad), None, "{bad}");
        }
    }

    proptest! {
        #[test]
        fn slots_for_is_the_fewest_that_hold(most in 1usize..10_000_000) {
            let n = slots_for(most);
            prop_assert!(n.is_power_of_two() && n >= 8);
            prop_assert!(n / 8 * 7 >= most);
            prop_assert!(n == 8 || (n / 2) / 8 * 7 < most);
        }
    }

    fn owner(pid: i32, comm: &[u8]) -> Owner {
        Owner { pid, ppid: -7, euid: u32::MAX, egid: 1000, comm: Comm::new(comm) }
    }

    #[test]
    fn values_survive_packing() {
        for v in [
            info(0),
            info(u32::MAX),
            SocketInfo { conn: 5, owner: Some(Owner::default()), container: 0 },
            SocketInfo { conn: 6, owner: Some(owner(i32::MIN, b"")), container: u64::MAX },
            SocketInfo { conn: 7, owner: Some(owner(i32::MAX, b"sshd")), container: 0x8000_0000_0000_0001 },
            SocketInfo { conn: 8, owner: Some(owner(1, b"0123456789abcdef")), container: 3 },
        ] {
            assert_eq!(SocketInfo::unpack(v.pack()), v);
        }
    }

    /// Lookups racing a writer that keeps changing, moving and removing entries never see a
    /// torn value (the owner's fields are all derived from the connection id) nor miss a key
    /// that stays in the table throughout.
    #[test]
    fn lookups_racing_changes_see_whole_values() {
        fn value(conn: u32) -> SocketInfo {
            let pid = conn as i32;
            let owner = Owner { pid, ppid: !pid, euid: conn, egid: !conn, comm: Comm::new(&conn.to_le_bytes()) };
            SocketInfo { conn, owner: Some(owner), container: u64::from(conn) << 32 | u64::from(conn) }
        }
        let (t, mut w) = table(64);
        let t = Arc::new(t);
        // Keys 1..=8 stay; keys 9..=48 come and go, colliding with them.
        for k in 1..=8 {
            t.insert(&mut w, k, value(k as u32)).unwrap();
        }
        let stop = Arc::new(AtomicBool::new(false));
        let lookups: Vec<_> = (0..3)
            .map(|_| {
                let (t, stop) = (t.clone(), stop.clone());
                std::thread::spawn(move || {
                    let mut seen = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        for k in 1..=48u64 {
                            match get(&t, k) {
                                Some(v) => {
                                    assert_eq!(v, value(v.conn), "a whole value");
                                    assert_eq!(u64::from(v.conn) % 1000, k);
                                    seen += 1;
                                }
                                None => assert!(k > 8, "key {k} is always there"),
                            }
                        }
                    }
                    seen
                })
            })
            .collect();
        for round in 0..20_000u32 {
            let k = u64::from(round % 40) + 9;
            if round % 3 == 0 {
                t.remove(&mut w, k);
            } else {
                let _ = t.insert(&mut w, k, value((round % 4000) * 1000 + k as u32));
            }
            let stay = u64::from(round % 8) + 1;
            t.insert(&mut w, stay, value((round % 4000) * 1000 + stay as u32)).unwrap();
        }
        stop.store(true, Ordering::Relaxed);
        for l in lookups {
            assert!(l.join().unwrap() > 0);
        }
    }

    proptest! {
        /// Against std's HashMap, with few distinct keys so that collisions and removals
        /// inside probe runs are frequent.
        #[test]
        fn matches_hashmap(ops in proptest::collection::vec((0u8..3, 1u64..40, any::<u32>()), 0..400)) {
            let (t, mut w) = table(32);
            let mut m: HashMap<u64, SocketInfo> = HashMap::new();
            for (op, key, v) in ops {
                match op {
                    0 => {
                        let r = t.insert(&mut w, key, info(v));
                        if let Ok(old) = r {
                            prop_assert_eq!(old, m.insert(key, info(v)));
                        } else {
                            prop_assert!(!m.contains_key(&key) && m.len() >= 28);
                        }
                    }
                    1 => prop_assert_eq!(t.remove(&mut w, key), m.remove(&key)),
                    _ => {
                        prop_assert_eq!(t.try_get(key), Some(m.get(&key).copied()));
                        prop_assert_eq!(t.get_locked(&w, key), m.get(&key).copied());
                    }
                }
                prop_assert_eq!(t.len(), m.len());
            }
            for (k, v) in &m {
                prop_assert_eq!(get(&t, *k), Some(*v));
            }
        }
    }
}
