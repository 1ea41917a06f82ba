// SPDX-License-Identifier: GPL-2.0

//! One open file of a Hone device: its ring, the stream it reads and the ioctls that steer it.
//!
//! A reader's stream is a sequence of sections. Each starts with a header (SHB and IDB, or a
//! `HEAD` line) and a snapshot of the running processes and their sockets, followed by live
//! events from the ring. `RESTART` ends the section with statistics (an Interface Statistics
//! Block, or a `TAIL` line), makes one read return 0 (end of file), and starts a new section,
//! so a file cut at every restart is complete on its own; a record is never cut by it.

use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use kernel::bindings;
use kernel::c_str;
use kernel::ffi::c_long;
use kernel::new_mutex;
use kernel::prelude::*;
use kernel::sync::{Arc, Mutex};

use crate::hone::cursor::{Cursor, Full};
use crate::hone::ioctl::{self, DeviceStats, FilterList, IdSet};
use crate::hone::pcapng::{self, SectionInfo, SectionStats};
use crate::hone::process_info::{self, ProcessInfoIndex};
use crate::hone::record::{Counts, ProcessKind, CLASSES};
use crate::hone::ring::{Entry, Ring};
use crate::hone::text::{self, PacketPlaces};
use crate::hone::params;
use crate::kglue::clock::{mono_ns, real_offset_ns};
use crate::kglue::hone_event::{HoneChain, HoneEvent, PacketEvent, PACKET_HEAD};
use crate::Config;
use crate::kglue::device::DeviceFile;
use crate::kglue::irqlock::IrqSpinLock;
use crate::kglue::stream::{self, WholePackets};
use crate::kglue::subscription::{Subscriber, Subscription};
use crate::kglue::user::user_slice;
use crate::kglue::waitqueue::{HasWaitQueue, WaitQueue, Waker};
use crate::kglue::{files, uts};

/// Size of a reader's formatting buffer: the largest record (a text exec line with a
/// `PATH_MAX` path and a 16 KiB argument list, every byte escaped to four) fits.
const FORMAT_BUF: usize = 96 * 1024;
/// Most bytes of a packet captured, whatever the snaplen (a GSO packet can be larger).
const MAX_CAPTURE: u32 = 65535;

/// How many processes a reader's section remembers having described (Darwin Process Info
/// Blocks): 28 bytes each. One that is not remembered is described again, never wrongly.
const PROCESS_INFO_SLOTS: usize = 128;

/// A reader keeping up with a stream of events is woken once per batch, not once per event:
/// when its ring holds this share of its capacity (1/8), or else this many ms after the first
/// event of the batch.
const WAKE_BATCH_SHARE: usize = 8;
const WAKE_DELAY_MS: u32 = 5;

/// A reader takes up to this many entries from its ring per lock, not one.
const POP_BATCH: usize = 64;

/// All readers together, since the module was loaded (what `GET_STATS` reports).
struct Totals {
    readers: AtomicU32,
    dropped: [AtomicU64; CLASSES],
    delivered: [AtomicU64; CLASSES],
    filtered: AtomicU64,
}

static TOTALS: Totals = Totals {
    readers: AtomicU32::new(0),
    dropped: [const { AtomicU64::new(0) }; CLASSES],
    delivered: [const { AtomicU64::new(0) }; CLASSES],
    filtered: AtomicU64::new(0),
};

/// Counts an open reader in [`TOTALS`] while it lives.
struct Counted;

impl Counted {
    fn new() -> Self {
        TOTALS.readers.fetch_add(1, Ordering::Relaxed);
        Counted
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        TOTALS.readers.fetch_sub(1, Ordering::Relaxed);
    }
}

fn count(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// Output format of a reader, chosen by the minor number.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Pcapng,
    Text,
}

type Slots = KVVec<Option<HoneEvent>>;

/// Which packets a reader does not want.
#[derive(Default)]
struct Filters {
    /// Connection id of the socket set with `SET_FILTER_SOCK` (the reader's own, typically).
    sock: Option<u32>,
    pids: IdSet,
    conns: IdSet,
}

impl Filters {
    fn hides(&self, event: &HoneEvent) -> bool {
        let HoneEvent::Packet(p) = event else { return false };
        let r = &p.record;
        r.conn.is_some_and(|c| self.sock == Some(c) || self.conns.contains(c)) || r.pid.is_some_and(|pid| self.pids.contains(pid))
    }
}

/// A reader's ring, and what decides what enters it.
struct Queue {
    ring: Ring<HoneEvent, Slots>,
    filters: Filters,
    /// Packets the filters hid.
    filtered: u64,
}

/// The part of a reader that hone_notify's callbacks reach: its queue and wait queue.
#[pin_data]
struct Shared {
    #[pin]
    queue: IrqSpinLock<Queue>,
    #[pin]
    wq: WaitQueue,
    /// An ioctl gave the stream something to send (a restart, a new header).
    kicked: AtomicBool,
}

impl HasWaitQueue for Shared {
    fn wait_queue(&self) -> &WaitQueue {
        &self.wq
    }
}

impl Shared {
    fn has_events(&self) -> bool {
        self.kicked.load(Ordering::Acquire) || !self.queue.lock().ring.is_empty()
    }
}

/// Queues hone_notify's events into a reader's ring, and wakes the reader (through the
/// waker, which holds the reader's `Shared`).
struct RingFeeder {
    waker: Waker<Shared>,
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

/// The user buffer of a `read`, filled from its start.
struct UserOut {
    addr: usize,
    len: usize,
}

impl UserOut {
    fn len(&self) -> usize {
        self.len
    }

    fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn advance(&mut self, n: usize) {
        self.addr += n;
        self.len -= n;
    }

    /// Copies all of `data` (no more than `len()` bytes).
    fn write_slice(&mut self, data: &[u8]) -> Result {
        user_slice(self.addr, data.len()).writer().write_slice(data)?;
        self.advance(data.len());
        Ok(())
    }

    /// Copies `n` bytes (no more than `len()`) of `packet` from `off` after its network header.
    fn write_packet(&mut self, packet: &PacketEvent, off: usize, n: usize) -> Result {
        let off = u32::try_from(off).map_err(|_| EINVAL)?;
        let len = u32::try_from(n).map_err(|_| EINVAL)?;
        packet.copy_to_user(off, self.addr, len)?;
        self.advance(n);
        Ok(())
    }
}

/// The bytes of the record in a stream's buffer that go from a packet's own buffer straight to
/// the reader: a whole packet is not copied through the formatting buffer.
struct Hole {
    /// Where in the record the packet's bytes go.
    at: usize,
    len: usize,
    packet: Arc<PacketEvent>,
}

/// What a reader's `read` works through, under its mutex.
struct Stream {
    /// The section's statistics block (or TAIL line) is to be sent: a restart was asked for.
    tail_pending: bool,
    /// The end of file that follows it is to be returned.
    eof_pending: bool,
    /// A section header (SHB+IDB or HEAD line) is to be sent.
    head_pending: bool,
    /// A section header has been sent: there is a section to end.
    in_section: bool,
    /// A new snapshot is to be taken after the header.
    snapshot_pending: bool,
    /// Processes (and their sockets) running when the section started.
    snapshot: KVec<HoneEvent>,
    snapshot_next: usize,
    /// The record being sent, `buf[sent..len]` still to go, except for its hole if it has one.
    buf: KVVec<u8>,
    len: usize,
    sent: usize,
    hole: Option<Hole>,
    /// A record taken from the stream that did not fit in the batch: the next batch opens with it.
    held_back: Option<Next>,
    /// Entries taken from the ring under one lock and not yet sent, `popped[popped_next..popped_len]`,
    /// and the ring's drop counts when they were taken.
    popped: KVec<Option<Entry<HoneEvent>>>,
    popped_next: usize,
    popped_len: usize,
    popped_dropped: Counts,
    open_ns: u64,
    snaplen: u32,
    /// Held while this reader's snaplen needs more of a packet than its first `PACKET_HEAD` bytes.
    whole: Option<WholePackets>,
    /// Events this reader delivered, by class.
    delivered: Counts,
    /// The processes this section has described for its packets (PCAP-NG).
    processes: ProcessInfoIndex<KVec<process_info::Slot>>,
    /// Where this section's last packet shown was seen (text).
    places: PacketPlaces,
}

/// Whether a reader needs whole packets kept (PCAP-NG with a snaplen over `PACKET_HEAD`, or
/// none); the text format shows headers only.
fn wants_whole(format: Format, snaplen: u32) -> bool {
    format == Format::Pcapng && (snaplen == 0 || snaplen > PACKET_HEAD)
}

/// What a stream sends next (formatted by `next_record`).
enum Next {
    /// The section's statistics.
    Tail(SectionStats),
    /// A section header.
    Head,
    /// A process, socket or packet.
    Event(HoneEvent),
    /// The ring overflowed: the gap, and this reader's drops so far.
    Lost(Counts, Counts),
}

/// What `next_record` produced.
enum Produced {
    /// A record is in the buffer.
    Record,
    /// The next record does not fit after those in the buffer: it waits for the next batch.
    Full,
    /// The end of the section: this read must end here.
    EndOfSection,
    /// Nothing to send.
    Nothing,
}

/// One open file of a Hone device.
#[pin_data]
pub(crate) struct Reader {
    format: Format,
    config: Arc<Config>,
    _counted: Counted,
    feeder: Subscription<HoneChain, RingFeeder>,
    shared: Arc<Shared>,
    #[pin]
    stream: Mutex<Stream>,
}

/// Monotonic ns to ns since the epoch (the interface's resolution: packets, statistics).
fn wall_ns(mono: u64) -> u64 {
    mono.saturating_add_signed(real_offset_ns())
}

/// Monotonic ns to µs since the epoch (process and connection blocks, as the original).
fn wall_us(mono: u64) -> u64 {
    wall_ns(mono) / 1000
}

/// The running processes, each followed by its open inet sockets.
fn take_snapshot() -> Result<KVec<HoneEvent>> {
    let mut snapshot = KVec::new();
    stream::snapshot(|event| snapshot.push(event.clone(), GFP_KERNEL).is_ok())?;
    Ok(snapshot)
}

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

impl Reader {
    fn open(minor: u32, config: &Arc<Config>) -> Result<Pin<KBox<Reader>>> {
        let cfg = &**config;
        let format = if minor == 1 { Format::Text } else { Format::Pcapng };
        let bytes = (bindings::PAGE_SIZE as usize) << cfg.pageorder;
        let n = bytes / core::mem::size_of::<Option<HoneEvent>>();
        let mut slots = Slots::with_capacity(n, GFP_KERNEL)?;
        for _ in 0..n {
            slots.push(None, GFP_KERNEL)?;
        }
        let queue = Queue { ring: Ring::new(slots).ok_or(ENOMEM)?, filters: Filters::default(), filtered: 0 };
        let shared = Arc::pin_init(
            pin_init!(Shared {
                queue <- kernel::sync::lock::Lock::new(queue, c_str!("hone_reader_queue"), kernel::static_lock_class!()),
                wq <- WaitQueue::new(),
                kicked: AtomicBool::new(false),
            }),
            GFP_KERNEL,
        )?;
        // Live events queue from here on; the snapshot taken next may repeat a process that
        // started in between, but none is missed.
        let feeder = Subscription::new(RingFeeder { waker: Waker::new(shared.clone())? })?;
        let stream = Stream {
            tail_pending: false,
            eof_pending: false,
            head_pending: true,
            in_section: false,
            snapshot_pending: false,
            snapshot: take_snapshot()?,
            snapshot_next: 0,
            buf: KVVec::from_elem(0u8, FORMAT_BUF, GFP_KERNEL)?,
            len: 0,
            sent: 0,
            hole: None,
            held_back: None,
            popped: {
                let mut popped = KVec::with_capacity(POP_BATCH, GFP_KERNEL)?;
                for _ in 0..POP_BATCH {
                    popped.push(None, GFP_KERNEL)?;
                }
                popped
            },
            popped_next: 0,
            popped_len: 0,
            popped_dropped: Counts::default(),
            open_ns: mono_ns(),
            snaplen: cfg.snaplen,
            whole: wants_whole(format, cfg.snaplen).then(WholePackets::want),
            delivered: Counts::default(),
            processes: ProcessInfoIndex::new(KVec::from_elem(process_info::Slot::default(), PROCESS_INFO_SLOTS, GFP_KERNEL)?)
                .ok_or(ENOMEM)?,
            places: PacketPlaces::default(),
        };
        KBox::pin_init(
            pin_init!(Reader {
                format,
                config: config.clone(),
                _counted: Counted::new(),
                feeder,
                shared,
                stream <- new_mutex!(stream),
            }),
            GFP_KERNEL,
        )
    }

    fn readable(&self) -> bool {
        let s = self.stream.lock();
        s.sent < s.len
            || s.held_back.is_some()
            || s.popped_next < s.popped_len
            || s.tail_pending
            || s.eof_pending
            || s.head_pending
            || s.snapshot_next < s.snapshot.len()
            || self.shared.has_events()
    }

    fn read_into(&self, out: &mut UserOut, nonblock: bool) -> Result<usize> {
        loop {
            {
                let mut s = self.stream.lock();
                self.shared.kicked.store(false, Ordering::Release);
                let (copied, end) = self.fill(&mut s, out)?;
                if copied > 0 {
                    return Ok(copied);
                }
                if end {
                    // The end of file between two sections, returned once.
                    s.eof_pending = false;
                    return Ok(0);
                }
            }
            if nonblock {
                return Err(EAGAIN);
            }
            self.shared.wq.wait_until(&|| self.shared.has_events())?;
        }
    }

    /// Copies records into `out` until it is full, nothing is left, or the section ends (then
    /// the second value is true, with nothing copied); a record that does not fit is continued
    /// by the next read.
    fn fill(&self, s: &mut Stream, out: &mut UserOut) -> Result<(usize, bool)> {
        let mut copied = 0;
        loop {
            if s.sent < s.len {
                // Up to the hole, through the hole, or after it.
                let (end, in_hole) = match &s.hole {
                    Some(h) if s.sent < h.at => (h.at, false),
                    Some(h) if s.sent < h.at + h.len => (h.at + h.len, true),
                    _ => (s.len, false),
                };
                let chunk = (end - s.sent).min(out.len());
                if chunk == 0 {
                    break;
                }
                let written = match &s.hole {
                    Some(h) if in_hole => out.write_packet(&h.packet, s.sent - h.at, chunk),
                    _ => out.write_slice(&s.buf[s.sent..s.sent + chunk]),
                };
                if let Err(e) = written {
                    return if copied > 0 { Ok((copied, false)) } else { Err(e) };
                }
                s.sent += chunk;
                copied += chunk;
                if s.sent == s.len {
                    // Sent: the packet's buffer can go.
                    s.hole = None;
                }
                continue;
            }
            if out.is_empty() {
                break;
            }
            // All formatted records are sent: format the next batch, as many records as the
            // reader asked for and the buffer holds, so that one copy sends them all. A record
            // with a hole ends its batch.
            s.len = 0;
            s.sent = 0;
            s.hole = None;
            let mut end_of_section = false;
            while s.len < out.len() && s.hole.is_none() {
                match self.next_record(s) {
                    Ok(Produced::Record) => {}
                    Ok(Produced::Full | Produced::Nothing) => break,
                    Ok(Produced::EndOfSection) => {
                        end_of_section = true;
                        break;
                    }
                    // Nothing taken from the stream is lost: what is formatted goes first.
                    Err(e) if copied == 0 && s.len == 0 => return Err(e),
                    Err(_) => break,
                }
            }
            if s.len == 0 {
                // The end of the section is reported once everything before it is sent.
                return Ok((copied, end_of_section));
            }
        }
        Ok((copied, false))
    }

    fn section_stats(&self, s: &Stream) -> SectionStats {
        let g = stream::stats();
        let q = self.shared.queue.lock();
        SectionStats {
            start_ns: wall_ns(g.start_ns),
            received: Counts(g.received),
            lost: Counts(g.lost),
            dropped: q.ring.dropped(),
            delivered: s.delivered,
            filtered: q.filtered,
            untracked: g.untracked,
        }
    }

    /// Takes what the stream sends next, in order: a section's statistics, its header, the
    /// snapshot, then the ring; `None` at the end of a section or when nothing is left.
    fn take_next(&self, s: &mut Stream) -> Result<Option<Next>> {
        let next = if s.tail_pending {
            s.tail_pending = false;
            Next::Tail(self.section_stats(s))
        } else if s.eof_pending {
            return Ok(None);
        } else if s.head_pending {
            s.head_pending = false;
            s.in_section = true;
            s.processes.new_section();
            s.places.new_section();
            if s.snapshot_pending {
                s.snapshot_pending = false;
                s.snapshot = take_snapshot()?;
                s.snapshot_next = 0;
            }
            Next::Head
        } else if let Some(ev) = s.snapshot.get(s.snapshot_next) {
            let ev = ev.clone();
            s.snapshot_next += 1;
            if s.snapshot_next == s.snapshot.len() {
                s.snapshot = KVec::new();
                s.snapshot_next = 0;
            }
            Next::Event(ev)
        } else {
            if s.popped_next == s.popped_len {
                self.pop_batch(s);
            }
            let Some(entry) = s.popped.get_mut(s.popped_next).and_then(Option::take) else { return Ok(None) };
            s.popped_next += 1;
            match entry {
                Entry::Event(ev) => Next::Event(ev),
                Entry::Lost(gap) => Next::Lost(gap, s.popped_dropped),
            }
        };
        if let Next::Event(ev) = &next {
            s.delivered.bump(ev.class());
            count(&TOTALS.delivered[ev.class() as usize]);
        }
        Ok(Some(next))
    }

    /// Takes up to `POP_BATCH` entries from the ring, under one lock, into `s.popped`.
    fn pop_batch(&self, s: &mut Stream) {
        let mut q = self.shared.queue.lock();
        s.popped_len = q.ring.pop_into(&mut s.popped);
        s.popped_dropped = q.ring.dropped();
        s.popped_next = 0;
    }

    /// Formats the next record into the stream's buffer, after the records already there.
    fn next_record(&self, s: &mut Stream) -> Result<Produced> {
        let next = match s.held_back.take() {
            Some(next) => next,
            None => match self.take_next(s)? {
                Some(next) => next,
                None if s.eof_pending => return Ok(Produced::EndOfSection),
                None => return Ok(Produced::Nothing),
            },
        };
        let cfg = &*self.config;
        let open_ns = s.open_ns;
        let snaplen = s.snaplen;
        let start = s.len;
        let mut hole = None;
        let mut c = Cursor::new(&mut s.buf[start..]);
        let written: Result<(), Full> = match (self.format, &next) {
            (Format::Pcapng, Next::Tail(st)) => pcapng::section_statistics(&mut c, wall_ns(mono_ns()), st),
            (Format::Text, Next::Tail(_)) => text::tail(&mut c, open_ns),
            (Format::Pcapng, Next::Head) => {
                let mut os = [0u8; 512];
                let os = uts::uname(&mut os);
                let info = SectionInfo { hostid: cfg.hostid, os, userappl: &cfg.userappl, comment: &cfg.comment };
                pcapng::section_header(&mut c, &info).and_then(|_| pcapng::interface_description(&mut c, snaplen))
            }
            (Format::Text, Next::Head) => {
                text::head(&mut c, open_ns, u64::try_from(real_offset_ns()).unwrap_or(0), &cfg.hostid)
            }
            (Format::Pcapng, Next::Event(HoneEvent::Process(p))) => {
                let rec = p.record();
                if matches!(rec.kind, ProcessKind::Fork | ProcessKind::Exit) {
                    // Its pid names another process from here on.
                    s.processes.forget(rec.pid as u32);
                }
                pcapng::process_block(&mut c, &rec, wall_us(p.ts_ns))
            }
            (Format::Text, Next::Event(HoneEvent::Process(p))) => text::process(&mut c, p.ts_ns, &p.record()),
            (Format::Pcapng, Next::Event(HoneEvent::Socket(e))) => {
                pcapng::connection_block(&mut c, &e.record, wall_us(e.ts_ns))
            }
            (Format::Text, Next::Event(HoneEvent::Socket(e))) => text::socket(&mut c, e.ts_ns, &e.record),
            (Format::Pcapng, Next::Event(HoneEvent::Packet(p))) => {
                let caplen = pcapng::captured_len(p.record.len.min(MAX_CAPTURE), snaplen).min(p.held());
                // Past the first PACKET_HEAD bytes, sent from the packet's buffer: the formatting
                // buffer keeps zeros there.
                let from_packet = caplen > PACKET_HEAD;
                s.processes
                    .packet(&mut c, &p.record, wall_ns(p.ts_ns), caplen, |d| {
                        if from_packet || p.copy(0, d) {
                            Ok(())
                        } else {
                            Err(Full)
                        }
                    })
                    .map(|at| {
                        if from_packet {
                            hole = Some(Hole { at, len: caplen as usize, packet: p.clone() });
                        }
                    })
            }
            (Format::Text, Next::Event(HoneEvent::Packet(p))) => {
                let mut header = [0u8; 128];
                let n = (p.held() as usize).min(header.len());
                let header = if p.copy(0, &mut header[..n]) { &header[..n] } else { &header[..0] };
                s.places.packet(&mut c, p.ts_ns, &p.record, header)
            }
            (Format::Pcapng, Next::Lost(_, total)) => pcapng::loss_statistics(&mut c, wall_ns(mono_ns()), total),
            (Format::Text, Next::Lost(gap, _)) => text::lost(&mut c, mono_ns(), gap),
        };
        let len = c.len();
        match written {
            Ok(()) => {
                s.len = start + len;
                if let Some(mut h) = hole {
                    h.at += start;
                    s.hole = Some(h);
                }
                Ok(Produced::Record)
            }
            // It goes first into the next batch, in an empty buffer.
            Err(Full) if start > 0 => {
                s.held_back = Some(next);
                Ok(Produced::Full)
            }
            // A record larger than the whole buffer cannot happen (see FORMAT_BUF); should it,
            // its partial bytes are not sent and the stream stays well-formed.
            Err(Full) => Ok(Produced::Record),
        }
    }

    /// Tells blocked readers and pollers that the stream has something new to send.
    fn kick(&self) {
        self.shared.kicked.store(true, Ordering::Release);
        self.shared.wq.wake();
    }

    fn ioctl(&self, cmd: u32, arg: usize) -> Result<c_long> {
        match cmd {
            ioctl::RESTART => {
                let mut s = self.stream.lock();
                // Before its first header a section has nothing to end: it just starts afresh.
                s.tail_pending = s.in_section;
                s.eof_pending = s.in_section;
                s.in_section = false;
                s.head_pending = true;
                s.snapshot_pending = true;
                drop(s);
                self.kick();
                Ok(0)
            }
            ioctl::GET_AT_HEAD => Ok(c_long::from(self.stream.lock().head_pending)),
            ioctl::GET_SNAPLEN => {
                let snaplen = self.stream.lock().snaplen;
                user_slice(arg, 4).writer().write_slice(&snaplen.to_ne_bytes())?;
                Ok(0)
            }
            ioctl::SET_SNAPLEN => {
                let v = i32::try_from(arg).map_err(|_| EINVAL)?;
                let snaplen = params::check_range(v, params::MAX_SNAPLEN).map_err(|_| EINVAL)?;
                let mut s = self.stream.lock();
                s.snaplen = snaplen;
                if !wants_whole(self.format, snaplen) {
                    s.whole = None;
                } else if s.whole.is_none() {
                    s.whole = Some(WholePackets::want());
                }
                s.head_pending = true;
                drop(s);
                self.kick();
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
                let g = stream::stats();
                let load = |c: &[AtomicU64; CLASSES]| c.each_ref().map(|n| n.load(Ordering::Relaxed));
                let stats = DeviceStats {
                    readers: TOTALS.readers.load(Ordering::Relaxed),
                    received: g.received,
                    lost: g.lost,
                    dropped: load(&TOTALS.dropped),
                    delivered: load(&TOTALS.delivered),
                    filtered: TOTALS.filtered.load(Ordering::Relaxed),
                };
                user_slice(arg, DeviceStats::SIZE).writer().write_slice(&stats.to_bytes())?;
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

impl DeviceFile for Reader {
    type Context = Arc<Config>;

    fn open(minor: u32, config: &Arc<Config>) -> Result<Pin<KBox<Reader>>> {
        Reader::open(minor, config)
    }

    fn read(&self, addr: usize, len: usize, nonblock: bool) -> Result<usize> {
        self.read_into(&mut UserOut { addr, len }, nonblock)
    }

    fn ioctl(&self, cmd: u32, arg: usize) -> Result<c_long> {
        Reader::ioctl(self, cmd, arg)
    }

    fn wait_queue(&self) -> &WaitQueue {
        &self.shared.wq
    }

    fn readable(&self) -> bool {
        Reader::readable(self)
    }
}

crate::device_file_entries!(Reader);
