// SPDX-License-Identifier: GPL-2.0

//! What a reader's `read` sends: the records of its stream (its section's statistics, header
//! and snapshot, then the events of its ring), formatted in batches into one buffer so that one
//! copy to the user sends many, a captured packet's bytes going straight from the packet.

use kernel::prelude::*;

use crate::hone::cursor::{Cursor, Full};
use crate::hone::encoder::{ByMinor, Clock, Encoder, Record};
use crate::hone::pcapng::{SectionInfo, SectionStats};
use crate::hone::process_info;
use crate::hone::record::Counts;
use crate::hone::ring::Entry;
use crate::hone::section::{Phase, Section, Step};
use crate::kglue::clock::{mono_ns, real_offset_ns};
use crate::kglue::hone_event::{HoneEvent, PacketEvent, PACKET_HEAD};
use crate::kglue::slab::SlabArc;
use crate::kglue::stream::{self, WholePackets};
use crate::kglue::user::user_slice;
use crate::kglue::uts;
use crate::queue::{count, Shared, TOTALS};
use crate::Config;

/// Size of a reader's formatting buffer: the largest record (a text exec line with a
/// `PATH_MAX` path and a 16 KiB argument list, every byte escaped to four) fits. It is
/// vmalloc'ed: the general allocator would round it up to 128 KiB of contiguous pages whenever
/// it found them, so that a reader's memory would depend on the fragmentation of the moment.
const FORMAT_BUF: usize = 96 * 1024;

/// How many processes a reader's section remembers having described (Darwin Process Info
/// Blocks): 28 bytes each. One that is not remembered is described again, never wrongly.
const PROCESS_INFO_SLOTS: usize = 128;

/// A reader takes up to this many entries from its ring per lock, not one.
const POP_BATCH: usize = 64;

/// The user buffer of a `read`, filled from its start.
pub(crate) struct UserOut {
    addr: usize,
    len: usize,
}

impl UserOut {
    pub(crate) fn new(addr: usize, len: usize) -> Self {
        UserOut { addr, len }
    }

    fn advance(&mut self, n: usize) {
        self.addr += n;
        self.len -= n;
    }

    /// Copies all of `data` (no more than `len` bytes).
    fn write_slice(&mut self, data: &[u8]) -> Result {
        user_slice(self.addr, data.len()).writer().write_slice(data)?;
        self.advance(data.len());
        Ok(())
    }

    /// Copies `n` bytes (no more than `len`) of `packet` from `off` after its network header.
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
struct FromPacket {
    /// Where in the buffer the packet's bytes go.
    at: usize,
    len: usize,
    packet: SlabArc<PacketEvent>,
}

/// What a stream sends next (written by `next_record`).
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

/// What a reader's `read` works through, under its mutex.
pub(crate) struct Stream {
    pub(crate) section: Section,
    /// Processes (and their sockets) running when the section started, `snapshot[snapshot_next..]`
    /// still to send.
    snapshot: KVec<HoneEvent>,
    snapshot_next: usize,
    /// The record being sent, `buf[sent..len]` still to go, except for bytes from a packet.
    buf: VVec<u8>,
    len: usize,
    sent: usize,
    from_packet: Option<FromPacket>,
    /// A record taken from the stream that did not fit in the batch: the next batch opens with it.
    held_back: Option<Next>,
    /// Entries taken from the ring under one lock and not yet sent, `popped[popped_next..popped_len]`,
    /// and the ring's drop counts when they were taken.
    popped: KVec<Option<Entry<HoneEvent>>>,
    popped_next: usize,
    popped_len: usize,
    popped_dropped: Counts,
    pub(crate) snaplen: u32,
    /// Held while this reader's snaplen needs more of a packet than its first `PACKET_HEAD` bytes.
    whole: Option<WholePackets>,
    /// Events this reader delivered, by class.
    delivered: Counts,
    encoder: ByMinor<KVec<process_info::Slot>>,
}

/// The running processes, each followed by its open inet sockets.
fn take_snapshot() -> Result<KVec<HoneEvent>> {
    let mut snapshot = KVec::new();
    stream::snapshot(|event| snapshot.push(event.clone(), GFP_KERNEL).is_ok())?;
    Ok(snapshot)
}

impl Stream {
    /// The stream of a reader of device `minor` that opened it just now, with `snaplen`:
    /// its first section is next.
    pub(crate) fn new(minor: u32, snaplen: u32) -> Result<Self> {
        let slots = KVec::from_elem(process_info::Slot::default(), PROCESS_INFO_SLOTS, GFP_KERNEL)?;
        let mut popped = KVec::with_capacity(POP_BATCH, GFP_KERNEL)?;
        for _ in 0..POP_BATCH {
            popped.push(None, GFP_KERNEL)?;
        }
        let mut s = Stream {
            section: Section::new(),
            snapshot: take_snapshot()?,
            snapshot_next: 0,
            buf: VVec::from_elem(0u8, FORMAT_BUF, GFP_KERNEL)?,
            len: 0,
            sent: 0,
            from_packet: None,
            held_back: None,
            popped,
            popped_next: 0,
            popped_len: 0,
            popped_dropped: Counts::default(),
            snaplen,
            whole: None,
            delivered: Counts::default(),
            encoder: ByMinor::new(minor, mono_ns(), slots, PACKET_HEAD).ok_or(ENOMEM)?,
        };
        s.set_snaplen(snaplen);
        Ok(s)
    }

    /// Sets the snaplen, keeping whole packets while it needs them; its header is sent again.
    pub(crate) fn set_snaplen(&mut self, snaplen: u32) {
        self.snaplen = snaplen;
        if !self.encoder.wants_whole_packets(snaplen) {
            self.whole = None;
        } else if self.whole.is_none() {
            self.whole = Some(WholePackets::want());
        }
        self.section.new_header();
    }

    /// Whether there is something to send, ring aside.
    pub(crate) fn has_records(&self) -> bool {
        self.sent < self.len
            || self.held_back.is_some()
            || self.popped_next < self.popped_len
            || self.section.at_head()
            || self.snapshot_next < self.snapshot.len()
    }

    /// Copies records into `out` until it is full, nothing is left, or the section ends (then
    /// the second value is true, with nothing copied); a record that does not fit is continued
    /// by the next read.
    pub(crate) fn fill(&mut self, shared: &Shared, cfg: &Config, out: &mut UserOut) -> Result<(usize, bool)> {
        let mut copied = 0;
        loop {
            if self.sent < self.len {
                // Up to the packet's bytes, through them, or after them.
                let (end, in_packet) = match &self.from_packet {
                    Some(p) if self.sent < p.at => (p.at, false),
                    Some(p) if self.sent < p.at + p.len => (p.at + p.len, true),
                    _ => (self.len, false),
                };
                let chunk = (end - self.sent).min(out.len);
                if chunk == 0 {
                    break;
                }
                let written = match &self.from_packet {
                    Some(p) if in_packet => out.write_packet(&p.packet, self.sent - p.at, chunk),
                    _ => out.write_slice(&self.buf[self.sent..self.sent + chunk]),
                };
                if let Err(e) = written {
                    return if copied > 0 { Ok((copied, false)) } else { Err(e) };
                }
                self.sent += chunk;
                copied += chunk;
                if self.sent == self.len {
                    // Sent: the packet's buffer can go.
                    self.from_packet = None;
                }
                continue;
            }
            if out.len == 0 {
                break;
            }
            // All formatted records are sent: format the next batch, as many records as the
            // reader asked for and the buffer holds, so that one copy sends them all. A record
            // with bytes from its packet ends its batch.
            self.len = 0;
            self.sent = 0;
            self.from_packet = None;
            let mut end_of_section = false;
            while self.len < out.len && self.from_packet.is_none() {
                match self.next_record(shared, cfg) {
                    Ok(Produced::Record) => {}
                    Ok(Produced::Full | Produced::Nothing) => break,
                    Ok(Produced::EndOfSection) => {
                        end_of_section = true;
                        break;
                    }
                    // Nothing taken from the stream is lost: what is formatted goes first.
                    Err(e) if copied == 0 && self.len == 0 => return Err(e),
                    Err(_) => break,
                }
            }
            if self.len == 0 {
                // The end of the section is reported once everything before it is sent.
                return Ok((copied, end_of_section));
            }
        }
        Ok((copied, false))
    }

    fn section_stats(&self, shared: &Shared, clock: Clock) -> SectionStats {
        let g = stream::stats();
        let q = shared.queue.lock();
        SectionStats {
            start_ns: clock.wall_ns(g.start_ns),
            received: Counts(g.received),
            lost: Counts(g.lost),
            dropped: q.ring.dropped(),
            delivered: self.delivered,
            filtered: q.filtered,
            untracked: g.untracked,
        }
    }

    /// Takes what the stream sends next, in order: a section's statistics, its header, the
    /// snapshot, then the ring; `None` at the end of a section or when nothing is left.
    fn take_next(&mut self, shared: &Shared, clock: Clock) -> Result<Option<Next>> {
        let before = self.section;
        let next = match self.section.step() {
            Step::Tail => Next::Tail(self.section_stats(shared, clock)),
            Step::EndOfFile => return Ok(None),
            Step::Header { snapshot } => {
                if snapshot {
                    match take_snapshot() {
                        Ok(taken) => self.snapshot = taken,
                        Err(e) => {
                            // The header waits until the snapshot can be taken.
                            self.section = before;
                            return Err(e);
                        }
                    }
                    self.snapshot_next = 0;
                }
                self.encoder.new_section();
                Next::Head
            }
            Step::Records => {
                if let Some(ev) = self.snapshot.get(self.snapshot_next) {
                    let ev = ev.clone();
                    self.snapshot_next += 1;
                    if self.snapshot_next == self.snapshot.len() {
                        self.snapshot = KVec::new();
                        self.snapshot_next = 0;
                    }
                    Next::Event(ev)
                } else {
                    if self.popped_next == self.popped_len {
                        self.pop_batch(shared);
                    }
                    let Some(entry) = self.popped.get_mut(self.popped_next).and_then(Option::take) else {
                        return Ok(None);
                    };
                    self.popped_next += 1;
                    match entry {
                        Entry::Event(ev) => Next::Event(ev),
                        Entry::Lost(gap) => Next::Lost(gap, self.popped_dropped),
                    }
                }
            }
        };
        if let Next::Event(ev) = &next {
            self.delivered.bump(ev.class());
            count(&TOTALS.delivered[ev.class() as usize]);
        }
        Ok(Some(next))
    }

    /// Takes up to `POP_BATCH` entries from the ring, under one lock, into `popped`.
    fn pop_batch(&mut self, shared: &Shared) {
        let mut q = shared.queue.lock();
        self.popped_len = q.ring.pop_into(&mut self.popped);
        self.popped_dropped = q.ring.dropped();
        self.popped_next = 0;
    }

    /// Formats the next record into the buffer, after the records already there.
    fn next_record(&mut self, shared: &Shared, cfg: &Config) -> Result<Produced> {
        // Read for each record: one taken from the ring after an earlier read of the clock could
        // be later than it, and a loss or a section's end is dated when it is written.
        let clock = Clock { now_ns: mono_ns(), real_offset_ns: real_offset_ns() };
        let next = match self.held_back.take() {
            Some(next) => next,
            None => match self.take_next(shared, clock)? {
                Some(next) => next,
                None if self.section.phase() == Phase::EndOfFile => return Ok(Produced::EndOfSection),
                None => return Ok(Produced::Nothing),
            },
        };
        let start = self.len;
        let mut c = Cursor::new(&mut self.buf[start..]);
        let (mut os_buf, info, process);
        let record: Record<'_, PacketEvent> = match &next {
            Next::Tail(stats) => Record::Tail(stats),
            Next::Head => {
                os_buf = [0u8; 512];
                let os = uts::uname(&mut os_buf);
                info = SectionInfo { hostid: cfg.hostid, os, userappl: &cfg.userappl, comment: &cfg.comment };
                Record::Head(&info, self.snaplen)
            }
            Next::Event(HoneEvent::Process(p)) => {
                process = p.record();
                Record::Process(p.ts_ns, &process)
            }
            Next::Event(HoneEvent::Socket(e)) => Record::Socket(e.ts_ns, &e.record),
            Next::Event(HoneEvent::Packet(p)) => Record::Packet(p.ts_ns, &p.record, &**p, self.snaplen),
            Next::Lost(gap, total) => Record::Lost(gap, total),
        };
        let written = self.encoder.encode(&mut c, clock, &record);
        let len = c.len();
        match written {
            Ok(hole) => {
                self.len = start + len;
                if let (Some(hole), Next::Event(HoneEvent::Packet(p))) = (hole, &next) {
                    self.from_packet = Some(FromPacket { at: start + hole.at, len: hole.len, packet: p.clone() });
                }
                Ok(Produced::Record)
            }
            // It goes first into the next batch, in an empty buffer.
            Err(Full) if start > 0 => {
                self.held_back = Some(next);
                Ok(Produced::Full)
            }
            // A record larger than the whole buffer cannot happen (see FORMAT_BUF); should it,
            // its partial bytes are not sent and the stream stays well-formed.
            Err(Full) => Ok(Produced::Record),
        }
    }
}
