// SPDX-License-Identifier: GPL-2.0

//! hone_notify's tables: of live sockets (connection id and current owner of each) and of the
//! ICMP echo identifiers its ping sockets use.
//!
//! Fixed capacity (a power of two) over caller-provided slots, open addressing with linear
//! probing and backward-shift deletion, so it never allocates and never degrades with
//! tombstones. Keys are opaque non-zero 64-bit values (in the kernel, the socket's address,
//! which never leaves the kernel: the connection id stored here is what goes out).

use super::record::Owner;
use core::ops::DerefMut;

/// What is known about a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SocketInfo {
    /// Its connection id.
    pub conn: u32,
    /// The process that last acted on it (created, accepted, sent or received), if known.
    pub owner: Option<Owner>,
}

/// One slot: a key and its value.
pub type Slot<V> = Option<(u64, V)>;

/// The table of live sockets.
pub type SocketTable<S> = Table<SocketInfo, S>;

/// The table is full (kept at most 7/8 full so probes stay short).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableFull;

/// A table from non-zero `u64` keys to `V` over caller-provided slots.
pub struct Table<V: Copy, S: DerefMut<Target = [Slot<V>]>> {
    slots: S,
    len: usize,
    shift: u32,
}

impl<V: Copy, S: DerefMut<Target = [Slot<V>]>> Table<V, S> {
    /// A table using `slots` (empty, a power of two of at least 8) as storage.
    pub fn new(slots: S) -> Option<Self> {
        let n = slots.len();
        if n < 8 || !n.is_power_of_two() || slots.iter().any(Option::is_some) {
            return None;
        }
        Some(Table { slots, len: 0, shift: 64 - n.trailing_zeros() })
    }

    /// Number of keys in the table.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    fn home(&self, key: u64) -> usize {
        (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    fn find(&self, key: u64) -> Option<usize> {
        let mut i = self.home(key);
        loop {
            match self.slots[i] {
                None => return None,
                Some((k, _)) if k == key => return Some(i),
                Some(_) => i = (i + 1) & self.mask(),
            }
        }
    }

    /// The value of `key`.
    pub fn get(&self, key: u64) -> Option<&V> {
        self.find(key).and_then(|i| self.slots[i].as_ref()).map(|(_, v)| v)
    }

    /// The value of `key`, to update it.
    pub fn get_mut(&mut self, key: u64) -> Option<&mut V> {
        let i = self.find(key)?;
        self.slots[i].as_mut().map(|(_, v)| v)
    }

    /// Sets the value of `key`; returns what it replaces.
    pub fn insert(&mut self, key: u64, info: V) -> Result<Option<V>, TableFull> {
        if let Some(v) = self.get_mut(key) {
            return Ok(Some(core::mem::replace(v, info)));
        }
        if (self.len + 1) * 8 > self.slots.len() * 7 {
            return Err(TableFull);
        }
        let mut i = self.home(key);
        while self.slots[i].is_some() {
            i = (i + 1) & self.mask();
        }
        self.slots[i] = Some((key, info));
        self.len += 1;
        Ok(None)
    }

    /// Forgets every key.
    pub fn clear(&mut self) {
        self.slots.fill(None);
        self.len = 0;
    }

    /// Forgets `key`; returns what was known.
    pub fn remove(&mut self, key: u64) -> Option<V> {
        let mut hole = self.find(key)?;
        let (_, removed) = self.slots[hole].take()?;
        self.len -= 1;
        // Backward shift: move later entries of the run into the hole when their home allows.
        let mut i = (hole + 1) & self.mask();
        while let Some((k, _)) = self.slots[i] {
            let home = self.home(k);
            // Distance from home to i and to the hole, along the probe direction.
            let to_i = i.wrapping_sub(home) & self.mask();
            let to_hole = hole.wrapping_sub(home) & self.mask();
            if to_hole < to_i {
                self.slots[hole] = self.slots[i].take();
                hole = i;
            }
            i = (i + 1) & self.mask();
        }
        Some(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;
    use std::vec::Vec;

    fn table(n: usize) -> SocketTable<Vec<Slot<SocketInfo>>> {
        SocketTable::new((0..n).map(|_| None).collect()).unwrap()
    }

    fn info(conn: u32) -> SocketInfo {
        SocketInfo { conn, owner: None }
    }

    #[test]
    fn refuses_bad_storage_and_overfilling() {
        assert!(SocketTable::new((0..12).map(|_| None).collect::<Vec<Slot<SocketInfo>>>()).is_none());
        assert!(SocketTable::new((0..4).map(|_| None).collect::<Vec<Slot<SocketInfo>>>()).is_none());
        let mut t = table(8);
        for k in 1..=7 {
            t.insert(k, info(k as u32)).unwrap();
        }
        assert_eq!(t.insert(8, info(8)), Err(TableFull));
        assert_eq!(t.insert(3, info(33)), Ok(Some(info(3))));
        assert_eq!(t.len(), 7);
        t.clear();
        assert!(t.is_empty() && t.get(3).is_none());
        t.insert(8, info(8)).unwrap();
    }

    proptest! {
        /// Against std's HashMap, with few distinct keys so that collisions and removals
        /// inside probe runs are frequent.
        #[test]
        fn matches_hashmap(ops in proptest::collection::vec((0u8..3, 1u64..40, any::<u32>()), 0..400)) {
            let mut t = table(32);
            let mut m: HashMap<u64, SocketInfo> = HashMap::new();
            for (op, key, v) in ops {
                match op {
                    0 => {
                        let r = t.insert(key, info(v));
                        if let Ok(old) = r {
                            prop_assert_eq!(old, m.insert(key, info(v)));
                        } else {
                            prop_assert!(!m.contains_key(&key) && m.len() >= 28);
                        }
                    }
                    1 => prop_assert_eq!(t.remove(key), m.remove(&key)),
                    _ => prop_assert_eq!(t.get(key), m.get(&key)),
                }
                prop_assert_eq!(t.len(), m.len());
            }
            for (k, v) in &m {
                prop_assert_eq!(t.get(*k), Some(v));
            }
        }
    }
}
