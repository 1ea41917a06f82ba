// SPDX-License-Identifier: GPL-2.0

//! How a reader's stream writes each of its records, in each of its two formats: which
//! encoder a device minor gets, the clock and units of every timestamp, and how much of a
//! packet is captured. Fed plain data (records, the clock's readings, the packet's bytes
//! through [`PacketBytes`]), so the host tests all of it; the kernel reader only gathers the
//! data and copies what is written.

use super::cursor::{Cursor, Full};
use super::pcapng::{self, SectionInfo, SectionStats};
use super::process_info::{ProcessInfoIndex, Slot};
use super::record::{Counts, PacketRecord, ProcessKind, ProcessRecord, SocketRecord};
use super::text::{self, PacketPlaces};
use core::ops::DerefMut;

/// Most bytes of a packet captured, whatever the snaplen (a GSO packet can be larger).
pub const MAX_CAPTURE: u32 = 65535;

/// Bytes of a packet's headers the text format decodes for its summary.
const TEXT_HEADER: usize = 128;

/// The bytes of a packet that an event holds, from its network header on.
pub trait PacketBytes {
    /// How many bytes are held.
    fn held(&self) -> u32;
    /// Copies `buf.len()` bytes starting `off` bytes after the network header; false if they
    /// are not held.
    fn copy(&self, off: u32, buf: &mut [u8]) -> bool;
}

impl PacketBytes for [u8] {
    fn held(&self) -> u32 {
        u32::try_from(self.len()).unwrap_or(u32::MAX)
    }

    fn copy(&self, off: u32, buf: &mut [u8]) -> bool {
        match self.get(off as usize..).and_then(|rest| rest.get(..buf.len())) {
            Some(bytes) => {
                buf.copy_from_slice(bytes);
                true
            }
            None => false,
        }
    }
}

/// The clock readings a record is written with: monotonic time now and the offset from the
/// monotonic clock to the epoch, both in ns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    /// Monotonic time now.
    pub now_ns: u64,
    /// Real time minus monotonic time (the boot time since the epoch).
    pub real_offset_ns: i64,
}

impl Clock {
    /// Monotonic ns to ns since the epoch.
    pub fn wall_ns(&self, mono_ns: u64) -> u64 {
        mono_ns.saturating_add_signed(self.real_offset_ns)
    }

    /// Monotonic ns to µs since the epoch.
    pub fn wall_us(&self, mono_ns: u64) -> u64 {
        self.wall_ns(mono_ns) / 1000
    }
}

/// One record of a reader's stream; times are monotonic ns.
pub enum Record<'a, P: PacketBytes + ?Sized> {
    /// The statistics that end a section.
    Tail(&'a SectionStats),
    /// A section header, for a reader whose snaplen is `snaplen`.
    Head(&'a SectionInfo<'a>, u32),
    /// A process event.
    Process(u64, &'a ProcessRecord<'a>),
    /// A socket event.
    Socket(u64, &'a SocketRecord),
    /// A packet, its bytes, and the reader's snaplen (0: whole packets).
    Packet(u64, &'a PacketRecord, &'a P, u32),
    /// The reader's ring overflowed here: the events lost in this gap, and in all so far.
    Lost(&'a Counts, &'a Counts),
}

/// Bytes of a record that an encoder left unwritten (the cursor's bytes there are as they were),
/// which the caller sends straight from the packet: `len` bytes of the packet from its start, at
/// `at` bytes after where the record starts in the cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hole {
    /// Where in the record the packet's bytes go.
    pub at: usize,
    /// How many of them.
    pub len: usize,
}

/// Writes records in one format, keeping what a format remembers within a section.
pub trait Encoder {
    /// A new section starts: its header is the next record.
    fn new_section(&mut self);

    /// Writes `record` at the cursor, with the clock read when it is sent; a packet's bytes may
    /// be left as a [`Hole`]. When it does not fit, what the cursor holds past its start is to be
    /// discarded, and the record written again into a larger buffer comes out the same.
    fn encode<P: PacketBytes + ?Sized>(&mut self, c: &mut Cursor<'_>, clock: Clock, record: &Record<'_, P>)
        -> Result<Option<Hole>, Full>;

    /// Whether a reader with this snaplen needs more of a packet than its head.
    fn wants_whole_packets(&self, snaplen: u32) -> bool;
}

/// The PCAP-NG format of `/dev/hone`: packet and statistics times in ns since the epoch,
/// process and connection blocks in µs (as the original), each attributed packet preceded by
/// the Darwin Process Info Block of its process where the section has none.
pub struct Pcapng<S: DerefMut<Target = [Slot]>> {
    processes: ProcessInfoIndex<S>,
    /// Captures up to this long are written into the record; longer ones are left as a hole.
    inline_limit: u32,
}

impl<S: DerefMut<Target = [Slot]>> Pcapng<S> {
    /// An encoder that remembers its section's process blocks in `slots` (at least one) and
    /// writes captures of up to `inline_limit` bytes into its records.
    pub fn new(slots: S, inline_limit: u32) -> Option<Self> {
        Some(Pcapng { processes: ProcessInfoIndex::new(slots)?, inline_limit })
    }
}

/// How many bytes of a packet of `len` bytes, of which `held` are held, a reader with `snaplen`
/// (0: whole packets) captures.
pub fn caplen(len: u32, held: u32, snaplen: u32) -> u32 {
    pcapng::captured_len(len.min(MAX_CAPTURE), snaplen).min(held)
}

impl<S: DerefMut<Target = [Slot]>> Encoder for Pcapng<S> {
    fn new_section(&mut self) {
        self.processes.new_section();
    }

    fn encode<P: PacketBytes + ?Sized>(&mut self, c: &mut Cursor<'_>, clock: Clock, record: &Record<'_, P>)
        -> Result<Option<Hole>, Full> {
        match *record {
            Record::Tail(stats) => pcapng::section_statistics(c, clock.wall_ns(clock.now_ns), stats)?,
            Record::Head(info, snaplen) => {
                pcapng::section_header(c, info)?;
                pcapng::interface_description(c, snaplen)?;
            }
            Record::Process(ts_ns, rec) => {
                if matches!(rec.kind, ProcessKind::Fork | ProcessKind::Exit) {
                    // Its pid names another process from here on.
                    self.processes.forget(rec.pid as u32);
                }
                pcapng::process_block(c, rec, clock.wall_us(ts_ns))?;
            }
            Record::Socket(ts_ns, rec) => pcapng::connection_block(c, rec, clock.wall_us(ts_ns))?,
            Record::Packet(ts_ns, rec, bytes, snaplen) => {
                let caplen = caplen(rec.len, bytes.held(), snaplen);
                let inline = caplen <= self.inline_limit;
                let at = self.processes.packet(c, rec, clock.wall_ns(ts_ns), caplen, |d| {
                    if !inline || bytes.copy(0, d) {
                        Ok(())
                    } else {
                        Err(Full)
                    }
                })?;
                return Ok((!inline).then_some(Hole { at, len: caplen as usize }));
            }
            Record::Lost(_, total) => pcapng::loss_statistics(c, clock.wall_ns(clock.now_ns), total)?,
        }
        Ok(None)
    }

    fn wants_whole_packets(&self, snaplen: u32) -> bool {
        snaplen == 0 || snaplen > self.inline_limit
    }
}

/// The text format of `/dev/honet`: every time monotonic, a section's `HEAD` and `TAIL` at the
/// time the reader opened the device, a `PKNS` line where a packet's place changes.
pub struct Text {
    open_ns: u64,
    places: PacketPlaces,
}

impl Text {
    /// An encoder for a reader that opened the device at monotonic `open_ns`.
    pub fn new(open_ns: u64) -> Self {
        Text { open_ns, places: PacketPlaces::default() }
    }
}

impl Encoder for Text {
    fn new_section(&mut self) {
        self.places.new_section();
    }

    fn encode<P: PacketBytes + ?Sized>(&mut self, c: &mut Cursor<'_>, clock: Clock, record: &Record<'_, P>)
        -> Result<Option<Hole>, Full> {
        match *record {
            Record::Tail(_) => text::tail(c, self.open_ns)?,
            Record::Head(info, _) => {
                text::head(c, self.open_ns, u64::try_from(clock.real_offset_ns).unwrap_or(0), &info.hostid)?
            }
            Record::Process(ts_ns, rec) => text::process(c, ts_ns, rec)?,
            Record::Socket(ts_ns, rec) => text::socket(c, ts_ns, rec)?,
            Record::Packet(ts_ns, rec, bytes, _) => {
                let mut header = [0u8; TEXT_HEADER];
                let n = (bytes.held() as usize).min(header.len());
                let header = if bytes.copy(0, &mut header[..n]) { &header[..n] } else { &header[..0] };
                self.places.packet(c, ts_ns, rec, header)?;
            }
            Record::Lost(gap, _) => text::lost(c, clock.now_ns, gap)?,
        }
        Ok(None)
    }

    fn wants_whole_packets(&self, _snaplen: u32) -> bool {
        // The text format shows headers only.
        false
    }
}

/// The encoder of a device minor: 1 is the text device, any other PCAP-NG.
pub enum ByMinor<S: DerefMut<Target = [Slot]>> {
    /// `/dev/hone`.
    Pcapng(Pcapng<S>),
    /// `/dev/honet`.
    Text(Text),
}

impl<S: DerefMut<Target = [Slot]>> ByMinor<S> {
    /// The encoder of `minor`, for a reader that opened it at monotonic `open_ns`; a PCAP-NG
    /// one as [`Pcapng::new`] makes it.
    pub fn new(minor: u32, open_ns: u64, slots: S, inline_limit: u32) -> Option<Self> {
        Some(if minor == 1 { ByMinor::Text(Text::new(open_ns)) } else { ByMinor::Pcapng(Pcapng::new(slots, inline_limit)?) })
    }
}

impl<S: DerefMut<Target = [Slot]>> Encoder for ByMinor<S> {
    fn new_section(&mut self) {
        match self {
            ByMinor::Pcapng(e) => e.new_section(),
            ByMinor::Text(e) => e.new_section(),
        }
    }

    fn encode<P: PacketBytes + ?Sized>(&mut self, c: &mut Cursor<'_>, clock: Clock, record: &Record<'_, P>)
        -> Result<Option<Hole>, Full> {
        match self {
            ByMinor::Pcapng(e) => e.encode(c, clock, record),
            ByMinor::Text(e) => e.encode(c, clock, record),
        }
    }

    fn wants_whole_packets(&self, snaplen: u32) -> bool {
        match self {
            ByMinor::Pcapng(e) => e.wants_whole_packets(snaplen),
            ByMinor::Text(e) => e.wants_whole_packets(snaplen),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::HostId;
    use crate::pcapng::{decode_connection, decode_packet, decode_process, split_block, Endian, EPB, PROCESS_INFO_BLOCK};
    use crate::record::{Comm, Owner};
    use proptest::prelude::*;
    use std::string::String;
    use std::vec;
    use std::vec::Vec;

    const SLOTS: usize = 8;

    fn pcapng(inline_limit: u32) -> Pcapng<Vec<Slot>> {
        Pcapng::new(vec![Slot::default(); SLOTS], inline_limit).unwrap()
    }

    fn packet_record(len: u32, pid: Option<u32>) -> PacketRecord {
        PacketRecord {
            inbound: true,
            conn: Some(7),
            pid,
            thread: None,
            comm: Comm::new(b"curl"),
            basis: None,
            netns: Some(4026531840),
            cgroup: None,
            container: None,
            len,
        }
    }

    /// Encodes `record` into a buffer of `size` bytes; the bytes written, or `Full`.
    fn encode<E: Encoder, P: PacketBytes + ?Sized>(e: &mut E, size: usize, clock: Clock, record: &Record<'_, P>)
        -> Result<(Vec<u8>, Option<Hole>), Full> {
        let mut buf = vec![0u8; size];
        let mut c = Cursor::new(&mut buf);
        let hole = e.encode(&mut c, clock, record)?;
        let n = c.len();
        buf.truncate(n);
        Ok((buf, hole))
    }

    /// The blocks of `bytes`, in order.
    fn blocks(mut bytes: &[u8]) -> Vec<(u32, Vec<u8>)> {
        let mut out = Vec::new();
        while !bytes.is_empty() {
            let (b, n) = split_block(bytes, Endian::NATIVE).unwrap();
            out.push((b.kind, b.body.to_vec()));
            bytes = &bytes[n..];
        }
        out
    }

    #[test]
    fn minor_one_is_the_text_device_and_every_other_pcapng() {
        let slots = || vec![Slot::default(); 1];
        assert!(matches!(ByMinor::new(1, 0, slots(), 256), Some(ByMinor::Text(_))));
        for minor in [0, 2, 255] {
            assert!(matches!(ByMinor::new(minor, 0, slots(), 256), Some(ByMinor::Pcapng(_))));
        }
        assert!(ByMinor::new(0, 0, Vec::new(), 256).is_none(), "a PCAP-NG encoder needs a slot");
        assert!(ByMinor::new(1, 0, Vec::new(), 256).is_some(), "the text encoder needs none");
    }

    #[test]
    fn whole_packets_are_wanted_by_pcapng_past_the_inline_limit_only() {
        let e = pcapng(256);
        assert!(e.wants_whole_packets(0), "snaplen 0 is whole packets");
        assert!(!e.wants_whole_packets(96) && !e.wants_whole_packets(256));
        assert!(e.wants_whole_packets(257) && e.wants_whole_packets(65535));
        let t = Text::new(0);
        assert!(!t.wants_whole_packets(0) && !t.wants_whole_packets(65535));
    }

    proptest! {
        /// A packet's capture is its length cut to 65535, to the snaplen and to what the event
        /// holds; it is in the record up to the inline limit and a hole where the EPB's data
        /// goes past it; its time is ns since the epoch.
        #[test]
        fn packet_capture_and_time(
            len in 0u32..70000,
            held in 0usize..600,
            snaplen in prop_oneof![Just(0u32), 1u32..70000],
            inline_limit in 0u32..400,
            ts in any::<u64>(),
            offset in any::<i64>(),
            pid in proptest::option::of(1u32..5),
        ) {
            let bytes: Vec<u8> = (0..held).map(|i| i as u8 ^ 0x5a).collect();
            let rec = packet_record(len, pid);
            let clock = Clock { now_ns: 1, real_offset_ns: offset };
            let mut e = pcapng(inline_limit);
            let (out, hole) = encode(&mut e, 1 << 17, clock, &Record::Packet(ts, &rec, &bytes[..], snaplen)).unwrap();
            let mut want = len.min(65535).min(held as u32);
            if snaplen != 0 {
                want = want.min(snaplen);
            }
            let blocks = blocks(&out);
            // A process's first packet is preceded by its Darwin Process Info Block.
            prop_assert_eq!(blocks.len(), 1 + usize::from(pid.is_some()));
            if pid.is_some() {
                prop_assert_eq!(blocks[0].0, PROCESS_INFO_BLOCK);
            }
            let (kind, body) = blocks.last().unwrap();
            prop_assert_eq!(*kind, EPB);
            let (got, got_ts, data) = decode_packet(body, Endian::NATIVE).unwrap();
            prop_assert_eq!(got.len, len);
            prop_assert_eq!(data.len(), want as usize);
            prop_assert_eq!(got_ts, ts.saturating_add_signed(offset));
            if want <= inline_limit {
                prop_assert_eq!(hole, None);
                prop_assert_eq!(data, &bytes[..want as usize]);
            } else {
                let h = hole.unwrap();
                prop_assert_eq!(h.len, want as usize);
                let data_at = out.len() - body.len() - 4 + 20;
                prop_assert_eq!(h.at, data_at);
            }
        }

        /// A record that does not fit leaves the encoder as it was: written again into a large
        /// enough buffer it is what a fresh encoder writes, and so is the record after it.
        #[test]
        fn a_record_that_does_not_fit_comes_out_the_same_when_written_again(
            size in 0usize..400,
            text in any::<bool>(),
            which in 0usize..6,
        ) {
            let head = SectionInfo { hostid: HostId::Text(b"h"), os: b"Linux", userappl: b"Hone", comment: b"" };
            let stats = SectionStats::default();
            let gap = Counts([1, 2, 3]);
            let path: &[u8] = b"/usr/bin/curl";
            let process = ProcessRecord {
                kind: ProcessKind::Exec, pid: 3, ppid: 1, euid: 0, egid: 0, path: Some(path), argv: Some(b"curl\0x\0"), place: None,
            };
            let socket = SocketRecord { closed: false, conn: 9, owner: Owner { pid: 3, ppid: 1, euid: 0, egid: 0, comm: Comm::new(b"curl") } };
            let rec = packet_record(300, Some(3));
            let bytes = [0x45u8; 300];
            let records: [Record<'_, [u8]>; 6] = [
                Record::Head(&head, 0),
                Record::Process(5, &process),
                Record::Socket(6, &socket),
                Record::Packet(7, &rec, &bytes[..], 0),
                Record::Lost(&gap, &gap),
                Record::Tail(&stats),
            ];
            let clock = Clock { now_ns: 1_000_000_123, real_offset_ns: 5 };
            let fresh = || if text { ByMinor::Text(Text::new(11)) } else { ByMinor::Pcapng(pcapng(512)) };
            let mut tried = fresh();
            let mut clean = fresh();
            let record = &records[which];
            if encode(&mut tried, size, clock, record).is_err() {
                prop_assert_eq!(encode(&mut tried, 1 << 16, clock, record), encode(&mut clean, 1 << 16, clock, record));
            } else {
                encode(&mut clean, 1 << 16, clock, record).unwrap();
            }
            let next = &records[3];
            prop_assert_eq!(encode(&mut tried, 1 << 16, clock, next), encode(&mut clean, 1 << 16, clock, next));
        }
    }

    #[test]
    fn process_and_connection_blocks_are_in_microseconds_since_the_epoch() {
        let clock = Clock { now_ns: 0, real_offset_ns: 1_700_000_000_000_000_000 };
        let mut e = pcapng(256);
        let process = ProcessRecord { kind: ProcessKind::Fork, pid: 3, ppid: 1, euid: 0, egid: 0, path: None, argv: None, place: None };
        let (out, _) = encode(&mut e, 4096, clock, &Record::<[u8]>::Process(2_500_999, &process)).unwrap();
        let (_, ts) = decode_process(&blocks(&out)[0].1, Endian::NATIVE).unwrap();
        assert_eq!(ts, 1_700_000_000_002_500);
        let socket = SocketRecord { closed: true, conn: 1, owner: Owner { pid: 3, ppid: 1, euid: 0, egid: 0, comm: Comm::new(b"") } };
        let (out, _) = encode(&mut e, 4096, clock, &Record::<[u8]>::Socket(1_999, &socket)).unwrap();
        let (_, ts) = decode_connection(&blocks(&out)[0].1, Endian::NATIVE).unwrap();
        assert_eq!(ts, 1_700_000_000_000_001);
    }

    #[test]
    fn a_fork_or_exit_gives_the_pid_a_new_process_info_block() {
        let clock = Clock { now_ns: 0, real_offset_ns: 0 };
        let mut e = pcapng(256);
        let rec = packet_record(20, Some(3));
        let bytes = [0u8; 20];
        let kinds = |e: &mut Pcapng<Vec<Slot>>| {
            let (out, _) = encode(e, 4096, clock, &Record::Packet(1, &rec, &bytes[..], 0)).unwrap();
            blocks(&out).iter().map(|b| b.0).collect::<Vec<_>>()
        };
        assert_eq!(kinds(&mut e), [PROCESS_INFO_BLOCK, EPB]);
        assert_eq!(kinds(&mut e), [EPB]);
        for kind in [ProcessKind::Exec, ProcessKind::Fork, ProcessKind::Exit] {
            let process = ProcessRecord { kind, pid: 3, ppid: 1, euid: 0, egid: 0, path: None, argv: None, place: None };
            encode(&mut e, 4096, clock, &Record::<[u8]>::Process(2, &process)).unwrap();
            let want: &[u32] = if kind == ProcessKind::Exec { &[EPB] } else { &[PROCESS_INFO_BLOCK, EPB] };
            assert_eq!(kinds(&mut e), want, "after {kind:?}");
        }
        e.new_section();
        assert_eq!(kinds(&mut e), [PROCESS_INFO_BLOCK, EPB], "a new section describes its processes anew");
    }

    #[test]
    fn text_times_are_monotonic_with_head_and_tail_at_the_open() {
        let clock = Clock { now_ns: 9_000_000_001, real_offset_ns: 1_700_000_000_000_000_000 };
        let mut e = Text::new(2_000_000_003);
        let line = |e: &mut Text, record: &Record<'_, [u8]>| String::from_utf8(encode(e, 4096, clock, record).unwrap().0).unwrap();
        let head = SectionInfo { hostid: HostId::Text(b"h"), os: b"Linux", userappl: b"Hone", comment: b"" };
        assert_eq!(line(&mut e, &Record::Head(&head, 96)), "2.000000003 HEAD 1700000000.000000000\n");
        assert_eq!(line(&mut e, &Record::Tail(&SectionStats::default())), "2.000000003 TAIL\n");
        assert_eq!(line(&mut e, &Record::Lost(&Counts([1, 2, 3]), &Counts([4, 5, 6]))), "9.000000001 LOST 1 2 3\n");
        let negative = Clock { now_ns: 0, real_offset_ns: -1 };
        let (out, _) = encode(&mut e, 4096, negative, &Record::<[u8]>::Head(&head, 0)).unwrap();
        assert_eq!(out, b"2.000000003 HEAD 0.000000000\n", "a boot time before the epoch shows as 0");
    }

    #[test]
    fn text_packets_decode_the_first_128_bytes_held() {
        let clock = Clock { now_ns: 0, real_offset_ns: 0 };
        // A UDP datagram's IPv4 header, 10.0.0.1:1 -> 10.0.0.2:2, then payload.
        let mut packet = vec![0u8; 300];
        packet[..20].copy_from_slice(&[0x45, 0, 1, 44, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
        packet[20..24].copy_from_slice(&[0, 1, 0, 2]);
        let rec = packet_record(300, Some(3));
        let text = |held: usize| {
            let mut e = Text::new(0);
            let (out, hole) = encode(&mut e, 4096, clock, &Record::Packet(1, &rec, &packet[..held], 0)).unwrap();
            assert_eq!(hole, None);
            String::from_utf8(out).unwrap()
        };
        let mut want = Text::new(0);
        let mut buf = vec![0u8; 4096];
        let mut c = Cursor::new(&mut buf);
        want.places.packet(&mut c, 1, &rec, &packet[..128]).unwrap();
        let n = c.len();
        assert_eq!(text(300).as_bytes(), &buf[..n], "the summary comes from the first 128 bytes");
        assert!(text(300).contains("10.0.0.1"), "{}", text(300));
        assert!(!text(0).contains("10.0.0.1"), "no bytes held, no addresses: {}", text(0));
    }

    #[test]
    fn a_slice_holds_its_bytes() {
        let bytes: &[u8] = &[1, 2, 3, 4];
        let mut two = [0u8; 2];
        assert_eq!(bytes.held(), 4);
        assert!(bytes.copy(2, &mut two) && two == [3, 4]);
        assert!(!bytes.copy(3, &mut two) && !bytes.copy(u32::MAX, &mut two));
        assert!(bytes.copy(4, &mut []));
    }
}
