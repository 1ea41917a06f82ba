// SPDX-License-Identifier: GPL-2.0
//! The ring and the socket table driven by fuzzer-chosen operations, against simple models:
//! the ring must deliver events in order and account for every dropped one in a loss marker
//! at the point of loss; the table must agree with a map.
#![no_main]

use std::collections::HashMap;

use hone::record::{Class, Counts};
use hone::ring::{Entry, Ring};
use hone::socktab::{Slot, Table};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&size, ops)) = data.split_first() else { return };
    // Up to 48 slots: rings both smaller and larger than the queue of loss marks.
    let slots: Vec<Option<u32>> = (0..usize::from(size % 48) + 1).map(|_| None).collect();
    let mut ring = Ring::new(slots).expect("one or more slots make a ring");
    let mut pushed = 0u32;
    let mut next_expected = 0u32;
    let mut lost_total = Counts::default();
    let mut dropped_by_push = Counts::default();

    let table_slots: Vec<Slot<1>> = (0..8usize << (size % 4)).map(|_| Slot::default()).collect();
    let (table, mut writer) = Table::<u64, 1, _>::new(table_slots).expect("a power of two of at least 8 slots makes a table");
    let mut model: HashMap<u64, u64> = HashMap::new();

    for op in ops.chunks(3) {
        let class = match op[0] % 3 { 0 => Class::Process, 1 => Class::Socket, _ => Class::Packet };
        let key = u64::from(*op.get(1).unwrap_or(&0) % 40) + 1; // keys are non-zero
        let value = u64::from(*op.get(2).unwrap_or(&0));
        match op[0] >> 5 {
            0..=3 => {
                if ring.push(pushed, class).is_err() {
                    dropped_by_push.bump(class);
                }
                pushed += 1;
            }
            4 | 5 => match ring.pop() {
                Some(Entry::Event(e)) => {
                    assert!(e >= next_expected, "events come out in order");
                    next_expected = e + 1;
                }
                Some(Entry::Lost(c)) => {
                    for i in 0..3 {
                        lost_total.0[i] += c.0[i];
                    }
                }
                None => assert!(ring.is_empty()),
            },
            6 => match table.insert(&mut writer, key, value) {
                Ok(_) => {
                    model.insert(key, value);
                }
                Err(_) => assert!(!model.contains_key(&key), "a full table still updates a key it holds"),
            },
            _ => assert_eq!(table.remove(&mut writer, key), model.remove(&key)),
        }
        assert!(ring.len() <= ring.capacity());
        assert_eq!(table.len(), model.len());
        for (k, v) in &model {
            assert_eq!(table.try_get(*k), Some(Some(*v)), "no change overlaps a lookup here");
            assert_eq!(table.get_locked(&writer, *k), Some(*v));
        }
    }
    // Drain: every push was either delivered, or refused and reported as lost.
    while let Some(entry) = ring.pop() {
        match entry {
            Entry::Event(e) => {
                assert!(e >= next_expected);
                next_expected = e + 1;
            }
            Entry::Lost(c) => {
                for i in 0..3 {
                    lost_total.0[i] += c.0[i];
                }
            }
        }
    }
    assert_eq!(ring.dropped(), dropped_by_push, "the ring counts every refused push");
    assert_eq!(lost_total, dropped_by_push, "and reports every one of them in a loss marker");
});
