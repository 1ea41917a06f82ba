// SPDX-License-Identifier: GPL-2.0

//! What runs in hone_notify's context, on the CPU and in the context (hook, softirq, process)
//! where an event happened: a reader's filters, its ring and the wake-up of the reader, and the
//! counters of all readers.

use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use kernel::bindings;
use kernel::c_str;
use kernel::prelude::*;
use kernel::sync::Arc;

use crate::hone::ioctl::IdSet;
use crate::hone::record::CLASSES;
use crate::hone::ring::Ring;
use crate::kglue::hone_event::HoneEvent;
use crate::kglue::irqlock::IrqSpinLock;
use crate::kglue::subscription::Subscriber;
use crate::kglue::waitqueue::{HasWaitQueue, WaitQueue, Waker};

/// A reader keeping up with a stream of events is woken once per batch, not once per event:
/// when its ring holds this share of its capacity (1/8), or else this many ms after the first
/// event of the batch.
const WAKE_BATCH_SHARE: usize = 8;
const WAKE_DELAY_MS: u32 = 5;

/// All readers together, since the module was loaded (what `GET_STATS` reports).
pub(crate) struct Totals {
    pub(crate) readers: AtomicU32,
    pub(crate) dropped: [AtomicU64; CLASSES],
    pub(crate) delivered: [AtomicU64; CLASSES],
    pub(crate) filtered: AtomicU64,
}

pub(crate) static TOTALS: Totals = Totals {
    readers: AtomicU32::new(0),
    dropped: [const { AtomicU64::new(0) }; CLASSES],
    delivered: [const { AtomicU64::new(0) }; CLASSES],
    filtered: AtomicU64::new(0),
};

/// Counts an open reader in [`TOTALS`] while it lives.
pub(crate) struct Counted;

impl Counted {
    pub(crate) fn new() -> Self {
        TOTALS.readers.fetch_add(1, Ordering::Relaxed);
        Counted
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        TOTALS.readers.fetch_sub(1, Ordering::Relaxed);
    }
}

pub(crate) fn count(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

type Slots = KVVec<Option<HoneEvent>>;

/// Which packets a reader does not want.
#[derive(Default)]
pub(crate) struct Filters {
    /// Connection id of the socket set with `SET_FILTER_SOCK` (the reader's own, typically).
    pub(crate) sock: Option<u32>,
    pub(crate) pids: IdSet,
    pub(crate) conns: IdSet,
}

impl Filters {
    fn hides(&self, event: &HoneEvent) -> bool {
        let HoneEvent::Packet(p) = event else { return false };
        let r = &p.record;
        r.conn.is_some_and(|c| self.sock == Some(c) || self.conns.contains(c)) || r.pid.is_some_and(|pid| self.pids.contains(pid))
    }
}

/// A reader's ring, and what decides what enters it.
pub(crate) struct Queue {
    pub(crate) ring: Ring<HoneEvent, Slots>,
    pub(crate) filters: Filters,
    /// Packets the filters hid.
    pub(crate) filtered: u64,
}

/// The part of a reader that hone_notify's callbacks reach: its queue and wait queue.
#[pin_data]
pub(crate) struct Shared {
    #[pin]
    pub(crate) queue: IrqSpinLock<Queue>,
    #[pin]
    pub(crate) wq: WaitQueue,
    /// An ioctl gave the stream something to send (a restart, a new header).
    pub(crate) kicked: AtomicBool,
}

impl HasWaitQueue for Shared {
    fn wait_queue(&self) -> &WaitQueue {
        &self.wq
    }
}

impl Shared {
    /// A reader's queue, with a ring of `PAGE_SIZE << pageorder` bytes of slots.
    pub(crate) fn new(pageorder: u32) -> Result<Arc<Shared>> {
        let bytes = (bindings::PAGE_SIZE as usize) << pageorder;
        let n = bytes / core::mem::size_of::<Option<HoneEvent>>();
        let mut slots = Slots::with_capacity(n, GFP_KERNEL)?;
        for _ in 0..n {
            slots.push(None, GFP_KERNEL)?;
        }
        let queue = Queue { ring: Ring::new(slots).ok_or(ENOMEM)?, filters: Filters::default(), filtered: 0 };
        Arc::pin_init(
            pin_init!(Shared {
                queue <- kernel::sync::lock::Lock::new(queue, c_str!("hone_reader_queue"), kernel::static_lock_class!()),
                wq <- WaitQueue::new(),
                kicked: AtomicBool::new(false),
            }),
            GFP_KERNEL,
        )
    }

    pub(crate) fn has_events(&self) -> bool {
        self.kicked.load(Ordering::Acquire) || !self.queue.lock().ring.is_empty()
    }

    /// Tells blocked readers and pollers that the stream has something new to send.
    pub(crate) fn kick(&self) {
        self.kicked.store(true, Ordering::Release);
        self.wq.wake();
    }
}

/// Queues hone_notify's events into a reader's ring, and wakes the reader (through the
/// waker, which holds the reader's `Shared`).
pub(crate) struct RingFeeder {
    pub(crate) waker: Waker<Shared>,
}

impl Subscriber<HoneEvent> for RingFeeder {
    fn notify(&self, event: &HoneEvent) {
        let shared = self.waker.target();
        let (rejected, batch_full) = {
            let mut q = shared.queue.lock();
            if q.filters.hides(event) {
                q.filtered += 1;
                count(&TOTALS.filtered);
                return;
            }
            let rejected = q.ring.push(event.clone(), event.class()).err();
            (rejected, q.ring.len() >= q.ring.capacity() / WAKE_BATCH_SHARE)
        };
        match rejected {
            // Dropped outside the lock: the last reference frees the event.
            Some(rejected) => {
                count(&TOTALS.dropped[event.class() as usize]);
                drop(rejected);
            }
            None if batch_full => shared.wq.wake(),
            None => self.waker.arm(WAKE_DELAY_MS),
        }
    }
}
