// SPDX-License-Identifier: GPL-2.0

//! A reader's bounded event queue, which counts what it has to drop and marks where.
//!
//! When the ring is full the newest event is dropped (tail drop) and counted by class. The next
//! event that is queued after such a gap carries a loss mark with the counts of that gap, so the
//! reader gets a [`Entry::Lost`] at the point where the loss happened. A gap that is still open
//! when the ring runs empty is reported by [`Ring::pop`] straight away.
//!
//! Slots hold events only (for the kernel's events, 16 bytes each): loss marks live in a short
//! queue of their own ([`LOSS_MARKS`]), so they take no room from events. While that queue is
//! full, an event that would need a new mark is dropped too, and counted in the open gap.

use super::record::{Class, Counts};
use core::ops::DerefMut;

/// How many gaps can wait in a ring at once, each before the event that followed it.
pub const LOSS_MARKS: usize = 32;

/// One item taken from the ring.
#[derive(Debug, PartialEq, Eq)]
pub enum Entry<T> {
    /// An event.
    Event(T),
    /// Events of each class were dropped here because the ring was full.
    Lost(Counts),
}

/// A gap closed by a queued event: its counts, and the sequence number of that event.
#[derive(Clone, Copy, Default)]
struct LossMark {
    before: u64,
    gap: Counts,
}

/// A first-in first-out ring of events over caller-provided slots.
pub struct Ring<T, S: DerefMut<Target = [Option<T>]>> {
    slots: S,
    head: usize,
    len: usize,
    /// Sequence number of the event at `head` (events taken so far).
    taken: u64,
    /// Drops since the last queued event, not yet marked.
    gap: Counts,
    /// Closed gaps, oldest first: `marks[(marks_head + i) % LOSS_MARKS]` for `i < marks_len`.
    marks: [LossMark; LOSS_MARKS],
    marks_head: usize,
    marks_len: usize,
    dropped: Counts,
}

impl<T, S: DerefMut<Target = [Option<T>]>> Ring<T, S> {
    /// A ring using `slots` (all `None`, at least one) as storage.
    pub fn new(slots: S) -> Option<Self> {
        if slots.is_empty() || slots.iter().any(Option::is_some) {
            return None;
        }
        Some(Ring {
            slots,
            head: 0,
            len: 0,
            taken: 0,
            gap: Counts::default(),
            marks: [LossMark::default(); LOSS_MARKS],
            marks_head: 0,
            marks_len: 0,
            dropped: Counts::default(),
        })
    }

    /// How many events fit.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// How many events are queued.
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

    /// Queues `event`, or gives it back (counted as dropped) when the ring is full.
    pub fn push(&mut self, event: T, class: Class) -> Result<(), T> {
        let cap = self.slots.len();
        let needs_mark = !self.gap.is_zero();
        if self.len == cap || (needs_mark && self.marks_len == LOSS_MARKS) {
            self.gap.bump(class);
            self.dropped.bump(class);
            return Err(event);
        }
        if needs_mark {
            let at = (self.marks_head + self.marks_len) % LOSS_MARKS;
            self.marks[at] = LossMark { before: self.taken + self.len as u64, gap: core::mem::take(&mut self.gap) };
            self.marks_len += 1;
        }
        let at = (self.head + self.len) % cap;
        self.slots[at] = Some(event);
        self.len += 1;
        Ok(())
    }

    /// Takes the oldest entry: a gap's loss mark comes just before the event queued after it,
    /// and a loss not yet followed by any event is reported once the queue has drained.
    pub fn pop(&mut self) -> Option<Entry<T>> {
        if self.marks_len > 0 && self.marks[self.marks_head].before == self.taken {
            let mark = self.marks[self.marks_head];
            self.marks_head = (self.marks_head + 1) % LOSS_MARKS;
            self.marks_len -= 1;
            return Some(Entry::Lost(mark.gap));
        }
        if self.len == 0 {
            if self.gap.is_zero() {
                return None;
            }
            return Some(Entry::Lost(core::mem::take(&mut self.gap)));
        }
        let event = self.slots[self.head].take();
        self.head = (self.head + 1) % self.slots.len();
        self.len -= 1;
        self.taken += 1;
        event.map(Entry::Event)
    }

    /// Takes entries, oldest first, into `out` until it is full or the ring has nothing left,
    /// as repeated [`Ring::pop`]s would; returns how many it wrote, from `out[0]` on. A reader
    /// uses it to empty the ring in batches under one lock.
    pub fn pop_into(&mut self, out: &mut [Option<Entry<T>>]) -> usize {
        let mut n = 0;
        for slot in out.iter_mut() {
            let Some(entry) = self.pop() else { break };
            *slot = Some(entry);
            n += 1;
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::VecDeque;
    use std::vec::Vec;

    fn ring(n: usize) -> Ring<u32, Vec<Option<u32>>> {
        Ring::new((0..n).map(|_| None).collect()).unwrap()
    }

    #[test]
    fn rejects_empty_or_dirty_storage() {
        let none: Vec<Option<u32>> = Vec::new();
        assert!(Ring::new(none).is_none());
        let dirty = std::vec![None, Some(1u32)];
        assert!(Ring::new(dirty).is_none());
        assert!(Ring::new(std::vec![None::<u32>]).is_some());
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
        // The mark takes no slot: one free slot is enough to close the gap.
        r.push(6, Class::Socket).unwrap();
        assert_eq!(r.push(7, Class::Process), Err(7));
        assert_eq!(r.pop(), Some(Entry::Event(2)));
        assert_eq!(r.pop(), Some(Entry::Event(3)));
        assert_eq!(r.pop(), Some(Entry::Lost(Counts([1, 0, 1]))));
        assert_eq!(r.pop(), Some(Entry::Event(6)));
        assert!(!r.is_empty());
        assert_eq!(r.pop(), Some(Entry::Lost(Counts([1, 0, 0]))));
        assert!(r.is_empty());
        assert_eq!(r.pop(), None);
        assert_eq!(r.dropped(), Counts([2, 0, 1]));
    }

    #[test]
    fn a_full_mark_queue_drops_into_the_open_gap() {
        let cap = LOSS_MARKS + 4;
        let mut r = ring(cap);
        let mut next = 0u32;
        for _ in 0..cap {
            r.push(next, Class::Packet).unwrap();
            next += 1;
        }
        // Each round: a drop on the full ring, a pop, and the next event closes the gap.
        for _ in 0..LOSS_MARKS {
            assert!(r.push(next, Class::Packet).is_err());
            assert!(matches!(r.pop(), Some(Entry::Event(_))));
            r.push(next + 1, Class::Packet).unwrap();
            next += 2;
        }
        // No mark left: the event that would need one is dropped although a slot is free.
        assert!(r.push(next, Class::Packet).is_err());
        assert!(matches!(r.pop(), Some(Entry::Event(_))));
        assert_eq!(r.len(), cap - 1);
        assert!(r.push(next + 1, Class::Packet).is_err());
        let mut lost = 0;
        while let Some(e) = r.pop() {
            if let Entry::Lost(c) = e {
                lost += c.get(Class::Packet);
            }
        }
        assert_eq!(lost, LOSS_MARKS as u64 + 2);
        assert_eq!(r.dropped().get(Class::Packet), lost);
    }

    #[test]
    fn pop_into_stops_at_the_end_of_the_ring_or_of_the_batch() {
        let mut r = ring(4);
        for v in 0..4 {
            r.push(v, Class::Packet).unwrap();
        }
        assert!(r.push(9, Class::Packet).is_err());
        let mut batch: [Option<Entry<u32>>; 3] = [None, None, None];
        assert_eq!(r.pop_into(&mut batch), 3);
        assert_eq!(batch, [Some(Entry::Event(0)), Some(Entry::Event(1)), Some(Entry::Event(2))]);
        let mut batch: [Option<Entry<u32>>; 3] = [None, None, None];
        assert_eq!(r.pop_into(&mut batch), 2);
        assert_eq!(batch, [Some(Entry::Event(3)), Some(Entry::Lost(Counts([0, 0, 1]))), None]);
        assert_eq!(r.pop_into(&mut batch), 0);
        assert_eq!(r.pop_into(&mut []), 0);
    }

    proptest! {
        /// Taking in batches gives the same entries, in the same order, as taking one by one.
        #[test]
        fn pop_into_matches_pop(cap in 1usize..20, batch in 1usize..8, ops in proptest::collection::vec(0u8..4, 0..300)) {
            let (mut one, mut many) = (ring(cap), ring(cap));
            let (mut by_one, mut by_batch) = (Vec::new(), Vec::new());
            let mut buf: Vec<Option<Entry<u32>>> = (0..batch).map(|_| None).collect();
            for (i, op) in ops.into_iter().enumerate() {
                if op < 3 {
                    let class = [Class::Process, Class::Socket, Class::Packet][op as usize];
                    prop_assert_eq!(one.push(i as u32, class).is_ok(), many.push(i as u32, class).is_ok());
                } else {
                    for _ in 0..batch {
                        match one.pop() { Some(e) => by_one.push(e), None => break }
                    }
                    let n = many.pop_into(&mut buf);
                    by_batch.extend(buf[..n].iter_mut().map(|e| e.take().unwrap()));
                }
            }
            prop_assert_eq!(by_one, by_batch);
            prop_assert_eq!(one.dropped(), many.dropped());
        }

        /// Against a model: nothing is reordered or duplicated, every event is either delivered
        /// or counted in exactly one loss marker, and markers sit where the loss happened.
        #[test]
        fn matches_model(cap in 1usize..40, ops in proptest::collection::vec(0u8..4, 0..1000)) {
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
