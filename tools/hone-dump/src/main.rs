// SPDX-License-Identifier: GPL-2.0

//! hone-dump: prints a Hone PCAP-NG capture (from `/dev/hone`, a file or stdin) as the text
//! records of `/dev/honet`.
//!
//! A capture file holds wall-clock timestamps only, so every section starts with
//! `0.000000000 HEAD 0.000000000` (boot time 0: the timestamps that follow are already
//! seconds since 1970); process and socket records carry microsecond precision, packets
//! nanoseconds. Interface Statistics Blocks
//! written where a reader lost events become `LOST` lines with the counts of that gap.

use clap::Parser;
use hone::cursor::Cursor;
use hone::params::{Guid, HostId};
use hone::pcapng::{self, Endian};
use hone::record::{Counts, PacketRecord};
use hone::text;
use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketOption;
use pcap_file::pcapng::blocks::interface_statistics::InterfaceStatisticsOption;
use pcap_file::pcapng::blocks::section_header::{SectionHeaderBlock, SectionHeaderOption};
use pcap_file::pcapng::{Block, PcapNgParser};
use pcap_file::Endianness;
use std::io::{self, BufWriter, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(version, about = "Print a Hone PCAP-NG capture as /dev/honet text records")]
struct Args {
    /// Capture to read ("-" or nothing: standard input).
    #[arg(short = 'r', long = "read", value_name = "FILE")]
    read: Option<PathBuf>,
}

/// Drop counters of an Interface Statistics Block: process (259), socket (263) and packet
/// (`isb_osdrop`) events the reader has lost so far.
fn isb_drops(opts: &[InterfaceStatisticsOption<'_>], endian: Endian) -> Counts {
    let mut c = Counts::default();
    for o in opts {
        match o {
            InterfaceStatisticsOption::IsbOsDrop(v) => c.0[2] = *v,
            InterfaceStatisticsOption::Unknown(u) if u.code == 259 || u.code == 263 => {
                let Ok(bytes) = <[u8; 8]>::try_from(&u.value[..]) else { continue };
                let v = match endian {
                    Endian::Little => u64::from_le_bytes(bytes),
                    Endian::Big => u64::from_be_bytes(bytes),
                };
                c.0[if u.code == 259 { 0 } else { 1 }] = v;
            }
            _ => {}
        }
    }
    c
}

fn host_guid(opts: &[SectionHeaderOption<'_>], endian: Endian) -> Option<Guid> {
    opts.iter().find_map(|o| match o {
        SectionHeaderOption::Unknown(u) if u.code == 257 && u.value.len() == 20 => {
            let v = &u.value;
            if endian.u32(v).ok()? != 1 {
                return None;
            }
            let u16_at = |i: usize| -> u16 {
                let b = [v[i], v[i + 1]];
                match endian {
                    Endian::Little => u16::from_le_bytes(b),
                    Endian::Big => u16::from_be_bytes(b),
                }
            };
            let mut data4 = [0u8; 8];
            data4.copy_from_slice(&v[12..20]);
            Some(Guid { data1: endian.u32(&v[4..]).ok()?, data2: u16_at(8), data3: u16_at(10), data4 })
        }
        _ => None,
    })
}

fn section_endian(shb: &SectionHeaderBlock<'_>) -> Endian {
    if shb.endianness == Endianness::Big {
        Endian::Big
    } else {
        Endian::Little
    }
}

/// Decoding state across blocks.
struct Dumper {
    endian: Endian,
    dropped: Counts,
    line: Vec<u8>,
}

impl Dumper {
    fn head(&mut self, shb: &SectionHeaderBlock<'_>) -> Result<usize, String> {
        self.endian = section_endian(shb);
        self.dropped = Counts::default();
        let hostid = host_guid(&shb.options, self.endian).map(HostId::Guid).unwrap_or(HostId::None);
        let mut c = Cursor::new(&mut self.line);
        text::head(&mut c, 0, 0, &hostid).map_err(|_| "record too large".to_string())?;
        Ok(c.len())
    }

    /// Formats one block into `self.line`; returns the line's length (0: nothing to print).
    fn block(&mut self, block: &Block<'_>) -> Result<usize, String> {
        match block {
            Block::SectionHeader(shb) => self.head(shb),
            Block::Unknown(u) if u.type_ == pcapng::PROCESS_BLOCK => {
                let (rec, ts_us) =
                    pcapng::decode_process(&u.value, self.endian).map_err(|e| format!("bad process block: {e:?}"))?;
                let mut c = Cursor::new(&mut self.line);
                text::process(&mut c, ts_us.saturating_mul(1000), &rec).map_err(|_| "record too large".to_string())?;
                Ok(c.len())
            }
            Block::Unknown(u) if u.type_ == pcapng::CONNECTION_BLOCK => {
                let (mut rec, ts_us) = pcapng::decode_connection(&u.value, self.endian)
                    .map_err(|e| format!("bad connection block: {e:?}"))?;
                // The block carries only the pid: the other ids print as -1 (unknown).
                rec.owner.ppid = -1;
                rec.owner.euid = u32::MAX;
                rec.owner.egid = u32::MAX;
                let mut c = Cursor::new(&mut self.line);
                text::socket(&mut c, ts_us.saturating_mul(1000), &rec).map_err(|_| "record too large".to_string())?;
                Ok(c.len())
            }
            Block::EnhancedPacket(epb) => {
                let mut rec = PacketRecord {
                    inbound: false,
                    conn: None,
                    pid: None,
                    thread: None,
                    comm: Default::default(),
                    len: epb.original_len,
                };
                for o in &epb.options {
                    match o {
                        EnhancedPacketOption::Flags(f) => rec.inbound = f & 3 == 1,
                        EnhancedPacketOption::Unknown(u) if u.code == 257 || u.code == 258 => {
                            let v = self.endian.u32(&u.value).map_err(|e| format!("bad packet option: {e:?}"))?;
                            if u.code == 257 {
                                rec.conn = Some(v);
                            } else {
                                rec.pid = Some(v);
                            }
                        }
                        _ => {}
                    }
                }
                // pcap-file takes the raw timestamp for nanoseconds, which Hone's are.
                let ts_ns = u64::try_from(epb.timestamp.as_nanos()).unwrap_or(u64::MAX);
                let mut c = Cursor::new(&mut self.line);
                text::packet(&mut c, ts_ns, &rec, &epb.data)
                    .map_err(|_| "record too large".to_string())?;
                Ok(c.len())
            }
            Block::InterfaceStatistics(isb) => {
                let total = isb_drops(&isb.options, self.endian);
                let mut gap = Counts::default();
                for (g, (t, d)) in gap.0.iter_mut().zip(total.0.iter().zip(self.dropped.0.iter())) {
                    *g = t.saturating_sub(*d);
                }
                self.dropped = total;
                // pcap-file 2 reads the two 32-bit halves of an ISB timestamp as one u64 in the
                // section's byte order; on a little-endian section that swaps them.
                let ts_ns = match self.endian {
                    Endian::Little => isb.timestamp.rotate_left(32),
                    Endian::Big => isb.timestamp,
                };
                let mut c = Cursor::new(&mut self.line);
                text::lost(&mut c, ts_ns, &gap).map_err(|_| "record too large".to_string())?;
                Ok(c.len())
            }
            _ => Ok(0),
        }
    }
}

fn dump(data: &[u8], out: &mut impl Write) -> Result<(), String> {
    let (mut rest, parser) = PcapNgParser::new(data).map_err(|e| format!("offset 0: not a Hone PCAP-NG stream: {e}"))?;
    let mut parser = parser;
    let mut d = Dumper { endian: Endian::NATIVE, dropped: Counts::default(), line: vec![0u8; 1 << 20] };
    let n = d.head(parser.section())?;
    out.write_all(&d.line[..n]).map_err(|e| e.to_string())?;
    while !rest.is_empty() {
        let offset = data.len() - rest.len();
        let (next, block) = parser.next_block(rest).map_err(|e| format!("offset {offset}: {e}"))?;
        let n = d.block(&block).map_err(|e| format!("offset {offset}: {e}"))?;
        out.write_all(&d.line[..n]).map_err(|e| e.to_string())?;
        rest = next;
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    let mut data = Vec::new();
    let read = match args.read.as_deref() {
        None => io::stdin().lock().read_to_end(&mut data).map_err(|e| format!("cannot read standard input: {e}")),
        Some(p) if p.as_os_str() == "-" => {
            io::stdin().lock().read_to_end(&mut data).map_err(|e| format!("cannot read standard input: {e}"))
        }
        Some(p) => std::fs::read(p).map(|d| data = d).map(|_| 0).map_err(|e| format!("cannot read {}: {e}", p.display())),
    };
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let result = read.and_then(|_| dump(&data, &mut out));
    let flushed = out.flush();
    match (result, flushed) {
        (Err(e), _) => {
            eprintln!("hone-dump: {e}");
            ExitCode::FAILURE
        }
        (Ok(()), Ok(())) => ExitCode::SUCCESS,
        (Ok(()), Err(e)) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        (Ok(()), Err(e)) => {
            eprintln!("hone-dump: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hone::params::parse_guid;
    use hone::pcapng::SectionInfo;
    use hone::record::{ProcessKind, ProcessRecord};

    fn capture() -> (Vec<u8>, Vec<usize>) {
        let mut buf = vec![0u8; 8192];
        let mut ends = Vec::new();
        let mut c = Cursor::new(&mut buf);
        let guid = parse_guid(b"{0fa1b2c3-d4e5-f607-1829-3a4b5c6d7e8f}").unwrap();
        let info = SectionInfo { hostid: HostId::Guid(guid), os: b"Linux", userappl: b"Hone test", comment: b"c" };
        pcapng::section_header(&mut c, &info).unwrap();
        ends.push(c.len());
        pcapng::interface_description(&mut c, 0).unwrap();
        ends.push(c.len());
        let exec = ProcessRecord {
            kind: ProcessKind::Exec,
            pid: 42,
            ppid: 1,
            euid: 1000,
            egid: 100,
            path: Some(b"/bin/a b"),
            argv: Some(b"a b\0-x\0"),
        };
        pcapng::process_block(&mut c, &exec, 1_700_000_000_123_456).unwrap();
        ends.push(c.len());
        let owner = hone::record::Owner { pid: 42, ppid: 1, euid: 1000, egid: 100, comm: Default::default() };
        let sock = hone::record::SocketRecord { closed: false, conn: 0x1234, owner };
        pcapng::connection_block(&mut c, &sock, 1_700_000_000_200_000).unwrap();
        ends.push(c.len());
        let mut udp = [0u8; 28];
        udp[0] = 0x45;
        udp[9] = 17;
        udp[12..16].copy_from_slice(&[127, 0, 0, 1]);
        udp[16..20].copy_from_slice(&[127, 0, 0, 1]);
        udp[20..24].copy_from_slice(&[0x30, 0x39, 0, 53]);
        let rec = PacketRecord {
            inbound: false,
            conn: Some(0x1234),
            pid: Some(42),
            thread: None,
            comm: Default::default(),
            len: 28,
        };
        pcapng::packet_block(&mut c, &rec, 1_700_000_000_300_000_123, 24, |d| {
            d.copy_from_slice(&udp[..24]);
            Ok(())
        })
        .unwrap();
        ends.push(c.len());
        pcapng::loss_statistics(&mut c, 1_700_000_001_000_000_000, &Counts([5, 0, 2])).unwrap();
        ends.push(c.len());
        pcapng::loss_statistics(&mut c, 1_700_000_002_000_000_000, &Counts([7, 1, 2])).unwrap();
        let n = c.len();
        buf.truncate(n);
        (buf, ends)
    }

    #[test]
    fn prints_what_honet_prints() {
        let (data, _) = capture();
        let mut out = Vec::new();
        dump(&data, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "0.000000000 HEAD 0.000000000 {0fa1b2c3-d4e5-f607-1829-3a4b5c6d7e8f}\n\
             1700000000.123456000 EXEC 42 1 1000 100 \"/bin/a b\" a\\x20b -x \n\
             1700000000.200000000 SOCK O 42 -1 -1 -1 00001234\n\
             1700000000.300000123 PAKT O 00001234 42 UDPv4 127.0.0.1:12345 -> 127.0.0.1:53 28\n\
             1700000001.000000000 LOST 5 0 2\n\
             1700000002.000000000 LOST 2 1 0\n"
        );
    }

    #[test]
    fn damaged_input_is_an_error_naming_the_offset() {
        let (data, ends) = capture();
        for cut in 1..data.len() {
            let mut out = Vec::new();
            let r = dump(&data[..cut], &mut out);
            if ends.contains(&cut) {
                assert!(r.is_ok(), "cut at block boundary {cut}: {r:?}");
            } else {
                let e = r.expect_err(&format!("a cut inside a block must fail: {cut}"));
                assert!(e.starts_with("offset "), "{e}");
            }
        }
        let mut bad = data.clone();
        let at = ends[1] + 4;
        bad[at..at + 4].copy_from_slice(&13u32.to_le_bytes());
        assert!(dump(&bad, &mut Vec::new()).unwrap_err().starts_with(&format!("offset {}", ends[1])));
    }
}
