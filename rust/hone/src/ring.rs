// SPDX-License-Identifier: GPL-2.0

//! A reader's bounded event queue, which counts what it has to drop and marks where.
//!
//! When the ring is full the newest event is dropped (tail drop) and counted by class. The next
//! time there is room for both, a [`Entry::Lost`] marker carrying the counts of that gap is queued
//! ahead of the event that follows it, so the reader sees the loss at the point where it
//! happened. A gap that is still open when the ring runs empty is reported by [`Ring::pop`]
//! straight away.

use super::record::{Class, Counts};
use core::ops::DerefMut;

/// One queued item.
#[derive(Debug, PartialEq, Eq)]
pub enum Entry<T> {
    /// An event.
    Event(T),
    /// Events of each class were dropped here because the ring was full.
    Lost(Counts),
}

/// A first-in first-out ring over caller-provided slots.
pub struct Ring<T, S: DerefMut<Target = [Option<Entry<T>>]>> {
    slots: S,
    head: usize,
    len: usize,
    gap: Counts,
    dropped: Counts,
}

impl<T, S: DerefMut<Target = [Option<Entry<T>>]>> Ring<T, S> {
    /// A ring using `slots` (all `None`) as storage; `None` if there are fewer than two slots,
    /// since a loss marker and the event after it must both fit.
    pub fn new(slots: S) -> Option<Self> {
        if slots.len() < 2 || slots.iter().any(Option::is_some) {
            return None;
        }
        Some(Ring {
            slots,
            head: 0,
            len: 0,
            gap: Counts::default(),
            dropped: Counts::default(),
        })
    }

    /// How many entries fit.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// How many entries are queued.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is queued and no loss is waiting to be reported.
    pub fn is_empty(&self) -> bool {
        self.len == 0 && self.gap.is_zero()
    }

    /// Everything dropped since the ring was made, by class.
    pub fn dropped(&self) -> Counts {
        self.dropped
    }

    fn put(&mut self, entry: Entry<T>) {
        let cap = self.slots.len();
        let at = (self.head + self.len) % cap;
        self.slots[at] = Some(entry);
        self.len += 1;
    }

    /// Queues `event`, or gives it back (counted as dropped) when the ring is full.
    pub fn push(&mut self, event: T, class: Class) -> Result<(), T> {
        let free = self.slots.len() - self.len;
        let needed = if self.gap.is_zero() { 1 } else { 2 };
        if free < needed {
            self.gap.bump(class);
            self.dropped.bump(class);
            return Err(event);
        }
        if !self.gap.is_zero() {
            let gap = core::mem::take(&mut self.gap);
            self.put(Entry::Lost(gap));
        }
        self.put(Entry::Event(event));
        Ok(())
    }

    /// Takes the oldest entry; a loss not yet followed by any event is reported once the queue
    /// has drained.
    pub fn pop(&mut self) -> Option<Entry<T>> {
        if self.len == 0 {
            if self.gap.is_zero() {
                return None;
            }
            return Some(Entry::Lost(core::mem::take(&mut self.gap)));
        }
        let entry = self.slots[self.head].take();
        self.head = (self.head + 1) % self.slots.len();
        self.len -= 1;
        entry
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::VecDeque;
    use std::vec::Vec;

    fn ring(n: usize) -> Ring<u32, Vec<Option<Entry<u32>>>> {
        Ring::new((0..n).map(|_| None).collect()).unwrap()
    }

    #[test]
    fn rejects_tiny_or_dirty_storage() {
        let one: Vec<Option<Entry<u32>>> = (0..1).map(|_| None).collect();
        assert!(Ring::new(one).is_none());
        let dirty = std::vec![None, Some(Entry::Event(1u32))];
        assert!(Ring::new(dirty).is_none());
    }

    #[test]
    fn marks_the_gap_where_it_happened() {
        let mut r = ring(3);
        r.push(1, Class::Process).unwrap();
        r.push(2, Class::Process).unwrap();
        r.push(3, Class::Process).unwrap();
        assert_eq!(r.push(4, Class::Process), Err(4));
        assert_eq!(r.push(5, Class::Packet), Err(5));
        assert_eq!(r.pop(), Some(Entry::Event(1)));
        // One slot free is not enough for marker + event.
        assert_eq!(r.push(6, Class::Socket), Err(6));
        assert_eq!(r.pop(), Some(Entry::Event(2)));
        r.push(7, Class::Process).unwrap();
        assert_eq!(r.pop(), Some(Entry::Event(3)));
        assert_eq!(r.pop(), Some(Entry::Lost(Counts([1, 1, 1]))));
        assert_eq!(r.pop(), Some(Entry::Event(7)));
        assert_eq!(r.pop(), None);
        assert_eq!(r.dropped(), Counts([1, 1, 1]));
    }

    #[test]
    fn reports_an_open_gap_when_drained() {
        let mut r = ring(2);
        r.push(1, Class::Process).unwrap();
        r.push(2, Class::Process).unwrap();
        assert!(r.push(3, Class::Process).is_err());
        assert_eq!(r.pop(), Some(Entry::Event(1)));
        assert_eq!(r.pop(), Some(Entry::Event(2)));
        assert!(!r.is_empty());
        assert_eq!(r.pop(), Some(Entry::Lost(Counts([1, 0, 0]))));
        assert!(r.is_empty());
        assert_eq!(r.pop(), None);
    }

    proptest! {
        /// Against a model: nothing is reordered or duplicated, every event is either delivered
        /// or counted in exactly one loss marker, and markers sit where the loss happened.
        #[test]
        fn matches_model(cap in 2usize..9, ops in proptest::collection::vec(0u8..4, 0..300)) {
            let mut r = ring(cap);
            let mut next = 0u32;
            let mut out: Vec<Entry<u32>> = Vec::new();
            let mut expected: VecDeque<u32> = VecDeque::new();
            let mut dropped_total = 0u64;
            for op in ops {
                if op < 3 {
                    let class = [Class::Process, Class::Socket, Class::Packet][op as usize];
                    match r.push(next, class) {
                        Ok(()) => expected.push_back(next),
                        Err(e) => { prop_assert_eq!(e, next); dropped_total += 1; }
                    }
                    next += 1;
                } else if let Some(e) = r.pop() {
                    out.push(e);
                }
                prop_assert!(r.len() <= r.capacity());
            }
            while let Some(e) = r.pop() { out.push(e); }
            let mut lost = 0u64;
            let mut last: Option<u32> = None;
            for e in &out {
                match e {
                    Entry::Event(v) => {
                        prop_assert_eq!(Some(*v), expected.pop_front());
                        if let Some(l) = last { prop_assert!(*v > l); }
                        last = Some(*v);
                    }
                    Entry::Lost(c) => { prop_assert!(!c.is_zero()); lost += c.0.iter().sum::<u64>(); }
                }
            }
            prop_assert!(expected.is_empty());
            prop_assert_eq!(lost, dropped_total);
            prop_assert_eq!(r.dropped().0.iter().sum::<u64>(), dropped_total);
        }
    }
}
