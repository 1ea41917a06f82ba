// SPDX-License-Identifier: GPL-2.0

//! hone-dump's decoder: turns a Hone PCAP-NG capture into `/dev/honet` text records or JSON,
//! optionally filtered by pid, process name, connection, cgroup or container (the `hone-dump` binary is a thin
//! front end; the fuzz targets in `fuzz/` drive [`dump`] directly).
//!
//! A capture file holds wall-clock timestamps only, so every section starts with
//! `0.000000000 HEAD 0.000000000` (boot time 0: the timestamps that follow are already
//! seconds since 1970); process and socket records carry microsecond precision, packets
//! nanoseconds. Interface Statistics Blocks
//! written where a reader lost events become `LOST` lines with the counts of that gap.

pub mod keep;

use hone::container::{Container, Runtime};
use hone::cursor::Cursor;
use hone::params::{Guid, HostId};
use hone::pcapng::{self, Endian};
use hone::record::{Basis, Comm, Counts, PacketRecord, ProcessRecord, SocketRecord};
use hone::text;
use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketOption;
use pcap_file::pcapng::blocks::interface_statistics::InterfaceStatisticsOption;
use pcap_file::pcapng::blocks::section_header::{SectionHeaderBlock, SectionHeaderOption};
use pcap_file::pcapng::{Block, PcapNgParser};
use pcap_file::Endianness;
use std::collections::HashMap;
use serde::Serialize;
use serde_json::value::RawValue;
use std::fmt;
use std::io::{self, Write};

/// Drop counters of an Interface Statistics Block: process (259), socket (263) and packet
/// (`isb_osdrop`) events the reader has lost so far.
fn isb_drops(opts: &[InterfaceStatisticsOption<'_>], endian: Endian) -> Counts {
    let mut c = Counts::default();
    for o in opts {
        match o {
            InterfaceStatisticsOption::IsbOsDrop(v) => c.0[2] = *v,
            InterfaceStatisticsOption::Unknown(u) if (u.code == 259 || u.code == 263) && u.value.len() == 8 => {
                let Ok(v) = endian.u64(&u.value) else { continue };
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

/// One record of the capture, decoded from a block.
enum Record<'a> {
    /// A section header.
    Head(HostId<'static>),
    /// A process event; time in ns since 1970.
    Process(ProcessRecord<'a>, u64),
    /// A socket event (only the pid of its owner is known).
    Socket(SocketRecord, u64),
    /// A packet and its captured bytes.
    Packet(PacketRecord, u64, &'a [u8]),
    /// Events the reader dropped at this point.
    Lost(Counts, u64),
}

/// Decoding state across blocks.
struct Decoder {
    endian: Endian,
    dropped: Counts,
}

impl Decoder {
    fn head(&mut self, shb: &SectionHeaderBlock<'_>) -> Record<'static> {
        self.endian = section_endian(shb);
        self.dropped = Counts::default();
        Record::Head(host_guid(&shb.options, self.endian).map(HostId::Guid).unwrap_or(HostId::None))
    }

    /// The record a block holds, if it is one Hone writes.
    fn record<'a>(&mut self, block: &'a Block<'a>) -> Result<Option<Record<'a>>, String> {
        Ok(Some(match block {
            Block::SectionHeader(shb) => self.head(shb),
            Block::Unknown(u) if u.type_ == pcapng::PROCESS_BLOCK => {
                let (rec, ts_us) =
                    pcapng::decode_process(&u.value, self.endian).map_err(|e| format!("bad process block: {e:?}"))?;
                Record::Process(rec, ts_us.saturating_mul(1000))
            }
            Block::Unknown(u) if u.type_ == pcapng::CONNECTION_BLOCK => {
                let (mut rec, ts_us) = pcapng::decode_connection(&u.value, self.endian)
                    .map_err(|e| format!("bad connection block: {e:?}"))?;
                // The block carries only the pid: the other ids print as -1 (unknown).
                rec.owner.ppid = -1;
                rec.owner.euid = u32::MAX;
                rec.owner.egid = u32::MAX;
                Record::Socket(rec, ts_us.saturating_mul(1000))
            }
            Block::EnhancedPacket(epb) => {
                let mut rec = PacketRecord {
                    inbound: false,
                    conn: None,
                    pid: None,
                    thread: None,
                    comm: Default::default(),
                    basis: None,
                    netns: None,
                    cgroup: None,
                    container: None,
                    len: epb.original_len,
                };
                let (mut runtime, mut id) = (None, None);
                for o in &epb.options {
                    match o {
                        EnhancedPacketOption::Flags(f) => rec.inbound = f & 3 == 1,
                        EnhancedPacketOption::Comment(c) => rec.comm = comment_comm(c),
                        EnhancedPacketOption::Unknown(u) if u.code == pcapng::EPB_BASIS => {
                            let v = self.endian.u32(&u.value).map_err(|e| format!("bad packet option: {e:?}"))?;
                            rec.basis = Basis::from_code(v);
                        }
                        EnhancedPacketOption::Unknown(u) if u.code == pcapng::EPB_NETNS => {
                            rec.netns = Some(self.endian.u32(&u.value).map_err(|e| format!("bad packet option: {e:?}"))?);
                        }
                        EnhancedPacketOption::Unknown(u) if u.code == pcapng::EPB_CGROUP => {
                            rec.cgroup = Some(self.endian.u64(&u.value).map_err(|e| format!("bad packet option: {e:?}"))?);
                        }
                        EnhancedPacketOption::Unknown(u) if u.code == pcapng::EPB_CONTAINER_RUNTIME => {
                            runtime = Some(Runtime::from_name(&u.value).ok_or("bad packet option: unknown container runtime")?);
                        }
                        EnhancedPacketOption::Unknown(u) if u.code == pcapng::EPB_CONTAINER_ID => id = Some(u.value.clone()),
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
                rec.container = runtime.zip(id).and_then(|(r, id)| Container::new(r, &id));
                // pcap-file takes the raw timestamp for nanoseconds, which Hone's are.
                let ts_ns = u64::try_from(epb.timestamp.as_nanos()).unwrap_or(u64::MAX);
                Record::Packet(rec, ts_ns, &epb.data)
            }
            Block::InterfaceStatistics(isb) => {
                let total = isb_drops(&isb.options, self.endian);
                let mut gap = Counts::default();
                for (g, (t, d)) in gap.0.iter_mut().zip(total.0.iter().zip(self.dropped.0.iter())) {
                    *g = t.saturating_sub(*d);
                }
                self.dropped = total;
                if gap.is_zero() {
                    // The statistics block that ends a section reports no new loss.
                    return Ok(None);
                }
                // pcap-file 2 reads the two 32-bit halves of an ISB timestamp as one u64 in the
                // section's byte order; on a little-endian section that swaps them.
                let ts_ns = match self.endian {
                    Endian::Little => isb.timestamp.rotate_left(32),
                    Endian::Big => isb.timestamp,
                };
                Record::Lost(gap, ts_ns)
            }
            _ => return Ok(None),
        }))
    }
}

/// The command name in a packet comment `pid=.. comm=<name> conn=..`.
fn comment_comm(comment: &str) -> Comm {
    let Some(field) = comment.split(' ').find_map(|f| f.strip_prefix("comm=")) else { return Comm::default() };
    let mut out = [0u8; 64];
    text::unescape_field(field.as_bytes(), &mut out).map(Comm::new).unwrap_or_default()
}

/// What the process records so far said of each pid, for the records that name only a pid.
#[derive(Default)]
struct Processes(HashMap<i32, Known>);

/// What is known of one process.
#[derive(Default)]
struct Known {
    /// Its executable's file name, or a kernel thread's name.
    name: Option<Vec<u8>>,
    /// Its cgroup's id.
    cgroup: Option<u64>,
    /// The container its cgroup names.
    container: Option<Container>,
}

impl Processes {
    fn learn(&mut self, rec: &Record<'_>) {
        let Record::Process(p, _) = rec else { return };
        let known = self.0.entry(p.pid).or_default();
        if let Some(path) = p.path {
            known.name = Some(base_name(path).to_vec());
        }
        if let Some(place) = &p.place {
            known.cgroup = Some(place.cgroup_id);
            known.container = place.container();
        }
    }

    fn of(&self, pid: Option<i64>) -> Option<&Known> {
        self.0.get(&i32::try_from(pid?).ok()?)
    }
}

/// Which records to print.
#[derive(Default)]
pub struct Filter {
    /// Keep only this process id's records.
    pub pid: Option<i64>,
    /// Keep only the records of processes with this name.
    pub name: Option<String>,
    /// Keep only this connection id's records.
    pub conn: Option<u32>,
    /// Keep only the records of processes in the cgroup with this id, and the packets of sockets
    /// opened in it.
    pub cgroup: Option<u64>,
    /// Keep only the records of processes in this container: `[runtime:]id`, the id whole or
    /// its first 12 or more digits.
    pub container: Option<String>,
}

fn base_name(path: &[u8]) -> &[u8] {
    path.rsplit(|&b| b == b'/').next().unwrap_or(path)
}

impl Filter {
    /// Keeps the records that match every criterion given (`None`: any).
    pub fn new(pid: Option<i64>, name: Option<String>, conn: Option<u32>, cgroup: Option<u64>, container: Option<String>) -> Self {
        Filter { pid, name, conn, cgroup, container }
    }

    fn keeps(&self, rec: &Record<'_>, processes: &Processes) -> bool {
        type Fields<'r> = (Option<i64>, Option<u32>, Option<&'r [u8]>, Option<u64>, Option<Container>);
        let (pid, conn, comm, cgroup, container): Fields<'_> = match rec {
            Record::Head(_) | Record::Lost(..) => return true,
            Record::Process(p, _) => {
                (Some(i64::from(p.pid)), None, None, p.place.map(|pl| pl.cgroup_id), p.place.and_then(|pl| pl.container()))
            }
            Record::Socket(s, _) => (Some(i64::from(s.owner.pid)), Some(s.conn), None, None, None),
            Record::Packet(p, _, _) => (p.pid.map(i64::from), p.conn, Some(p.comm.as_bytes()).filter(|c| !c.is_empty()), p.cgroup, p.container),
        };
        let known = processes.of(pid);
        let name = comm.or_else(|| known.and_then(|k| k.name.as_deref()));
        // A packet is in the cgroup of its socket (where the kernel keeps it), a record of a
        // process or socket in the process's.
        let cgroup = match rec {
            Record::Packet(..) => cgroup,
            _ => cgroup.or_else(|| known.and_then(|k| k.cgroup)),
        };
        let container = container.or_else(|| known.and_then(|k| k.container));
        self.pid.is_none_or(|want| pid == Some(want))
            && self.conn.is_none_or(|want| conn == Some(want))
            && self.name.as_deref().is_none_or(|want| name == Some(want.as_bytes()))
            && self.cgroup.is_none_or(|want| cgroup == Some(want))
            && self.container.as_deref().is_none_or(|want| container.is_some_and(|c| c.is_named(want)))
    }
}

/// The text of `rec`, as `/dev/honet` writes it (with `places`, the stream's packet places).
fn text_line(rec: &Record<'_>, places: &mut text::PacketPlaces, line: &mut [u8]) -> Result<usize, String> {
    let mut c = Cursor::new(line);
    let r = match rec {
        Record::Head(hostid) => {
            places.new_section();
            text::head(&mut c, 0, 0, hostid)
        }
        Record::Process(p, ts) => text::process(&mut c, *ts, p),
        Record::Socket(s, ts) => text::socket(&mut c, *ts, s),
        Record::Packet(p, ts, data) => places.packet(&mut c, *ts, p, data),
        Record::Lost(gap, ts) => text::lost(&mut c, *ts, gap),
    };
    r.map_err(|_| "record too large".to_string())?;
    Ok(c.len())
}

/// Bytes as a JSON string (invalid UTF-8 replaced).
fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A time in ns since 1970 as a JSON number of seconds with all nine decimals.
fn json_ts(ns: u64) -> Box<RawValue> {
    RawValue::from_string(format!("{}.{:09}", ns / 1_000_000_000, ns % 1_000_000_000)).expect("a decimal number is JSON")
}

#[derive(Serialize)]
struct HeadJson {
    #[serde(rename = "type")]
    kind: &'static str,
    hostid: Option<String>,
}

#[derive(Serialize)]
struct ProcessJson {
    ts: Box<RawValue>,
    #[serde(rename = "type")]
    kind: String,
    pid: i32,
    ppid: i32,
    uid: u32,
    gid: u32,
    path: Option<String>,
    argv: Option<Vec<String>>,
    cgroup: Option<u64>,
    cgroup_path: Option<String>,
    nspid: Option<i32>,
    pidns: Option<u32>,
    netns: Option<u32>,
    container: Option<ContainerJson>,
}

#[derive(Serialize)]
struct ContainerJson {
    runtime: &'static str,
    id: String,
}

impl From<Container> for ContainerJson {
    fn from(c: Container) -> Self {
        ContainerJson { runtime: c.runtime.name(), id: lossy(c.id()) }
    }
}

#[derive(Serialize)]
struct SocketJson {
    ts: Box<RawValue>,
    #[serde(rename = "type")]
    kind: &'static str,
    event: &'static str,
    pid: i32,
    conn: String,
}

#[derive(Serialize)]
struct PacketJson {
    ts: Box<RawValue>,
    #[serde(rename = "type")]
    kind: &'static str,
    dir: &'static str,
    conn: Option<String>,
    pid: Option<u32>,
    comm: Option<String>,
    via: Option<&'static str>,
    netns: Option<u32>,
    cgroup: Option<u64>,
    container: Option<ContainerJson>,
    len: u32,
    caplen: usize,
    summary: String,
}

#[derive(Serialize)]
struct LostJson {
    ts: Box<RawValue>,
    #[serde(rename = "type")]
    kind: &'static str,
    process: u64,
    socket: u64,
    packet: u64,
}

/// `rec` as a JSON object; a packet names the container `processes` know its process to be in.
fn json_line(rec: &Record<'_>, processes: &Processes) -> Result<String, String> {
    let line = match rec {
        Record::Head(hostid) => {
            let hostid = match hostid {
                HostId::Guid(_) => {
                    let mut line = [0u8; 128];
                    let n = text_line(rec, &mut Default::default(), &mut line)?;
                    let s = String::from_utf8_lossy(&line[..n]);
                    Some(s.trim_end().rsplit(' ').next().unwrap_or("").to_string())
                }
                _ => None,
            };
            serde_json::to_string(&HeadJson { kind: "HEAD", hostid })
        }
        Record::Process(p, ts) => {
            let argv = p.argv.map(|a| {
                let a = a.strip_suffix(&[0]).unwrap_or(a);
                if a.is_empty() {
                    vec![]
                } else {
                    a.split(|&b| b == 0).map(lossy).collect()
                }
            });
            serde_json::to_string(&ProcessJson {
                ts: json_ts(*ts),
                kind: lossy(p.kind.tag()),
                pid: p.pid,
                ppid: p.ppid,
                uid: p.euid,
                gid: p.egid,
                path: p.path.map(lossy),
                argv,
                cgroup: p.place.map(|pl| pl.cgroup_id),
                cgroup_path: p.place.map(|pl| lossy(pl.cgroup_path)),
                nspid: p.place.map(|pl| pl.nspid),
                pidns: p.place.map(|pl| pl.pidns),
                netns: p.place.map(|pl| pl.netns),
                container: p.place.and_then(|pl| pl.container()).map(ContainerJson::from),
            })
        }
        Record::Socket(s, ts) => serde_json::to_string(&SocketJson {
            ts: json_ts(*ts),
            kind: "SOCK",
            event: if s.closed { "close" } else { "open" },
            pid: s.owner.pid,
            conn: format!("{:08x}", s.conn),
        }),
        Record::Packet(p, ts, data) => {
            let mut buf = [0u8; 256];
            let mut c = Cursor::new(&mut buf);
            text::summary(&mut c, data).map_err(|_| "record too large".to_string())?;
            let n = c.len();
            serde_json::to_string(&PacketJson {
                ts: json_ts(*ts),
                kind: "PAKT",
                dir: if p.inbound { "in" } else { "out" },
                conn: p.conn.map(|c| format!("{c:08x}")),
                pid: p.pid,
                comm: Some(p.comm.as_bytes()).filter(|c| !c.is_empty()).map(lossy),
                via: p.basis.map(Basis::token),
                netns: p.netns,
                cgroup: p.cgroup,
                container: p.container.or_else(|| processes.of(p.pid.map(i64::from)).and_then(|k| k.container)).map(ContainerJson::from),
                len: p.len,
                caplen: data.len(),
                summary: lossy(&buf[..n]),
            })
        }
        Record::Lost(gap, ts) => serde_json::to_string(&LostJson {
            ts: json_ts(*ts),
            kind: "LOST",
            process: gap.0[0],
            socket: gap.0[1],
            packet: gap.0[2],
        }),
    };
    line.map_err(|e| e.to_string())
}

/// How to print.
pub struct Printer {
    json: bool,
    filter: Filter,
    processes: Processes,
    places: text::PacketPlaces,
    line: Vec<u8>,
}

impl Printer {
    /// Prints text records, or JSON objects, that `filter` keeps.
    pub fn new(json: bool, filter: Filter) -> Self {
        Printer { json, filter, processes: Processes::default(), places: Default::default(), line: vec![0u8; 1 << 20] }
    }

    fn print(&mut self, rec: &Record<'_>, out: &mut impl Write) -> Result<(), DumpError> {
        self.processes.learn(rec);
        if !self.filter.keeps(rec, &self.processes) {
            return Ok(());
        }
        if self.json {
            let mut l = json_line(rec, &self.processes).map_err(DumpError::Record)?;
            l.push('\n');
            out.write_all(l.as_bytes()).map_err(DumpError::Output)
        } else {
            let n = text_line(rec, &mut self.places, &mut self.line).map_err(DumpError::Record)?;
            out.write_all(&self.line[..n]).map_err(DumpError::Output)
        }
    }
}

/// Why a dump stopped.
#[derive(Debug)]
pub enum DumpError {
    /// The capture is damaged: where, and how.
    Damaged(String),
    /// A record could not be printed.
    Record(String),
    /// Writing the output failed (a closed pipe, for one).
    Output(io::Error),
}

impl fmt::Display for DumpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DumpError::Damaged(e) | DumpError::Record(e) => f.write_str(e),
            DumpError::Output(e) => write!(f, "cannot write the output: {e}"),
        }
    }
}

/// Prints the records of the capture `data` to `out`; a damaged block is an error naming its
/// offset (the records before it are printed).
pub fn dump(data: &[u8], printer: &mut Printer, out: &mut impl Write) -> Result<(), DumpError> {
    let (mut rest, mut parser) = PcapNgParser::new(data)
        .map_err(|e| DumpError::Damaged(format!("offset 0: not a Hone PCAP-NG stream: {e}")))?;
    let mut d = Decoder { endian: Endian::NATIVE, dropped: Counts::default() };
    let head = d.head(parser.section());
    printer.print(&head, out)?;
    while !rest.is_empty() {
        let offset = data.len() - rest.len();
        let (next, block) = parser.next_block(rest).map_err(|e| DumpError::Damaged(format!("offset {offset}: {e}")))?;
        if let Some(rec) = d.record(&block).map_err(|e| DumpError::Damaged(format!("offset {offset}: {e}")))? {
            printer.print(&rec, out)?;
        }
        rest = next;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hone::params::parse_guid;

    #[test]
    fn tools_workspace_version_agrees_with_the_version_file() {
        assert_eq!(env!("CARGO_PKG_VERSION"), hone::VERSION);
    }
    use hone::pcapng::SectionInfo;
    use hone::record::{Place, ProcessKind};

    const CONTAINER: &str = "3f2a9c0d5e8b7a6f1c4d2e0b9a8f7e6d5c4b3a291807f6e5d4c3b2a19087f6e5";
    const DOCKER_SCOPE: &str =
        "/system.slice/docker-3f2a9c0d5e8b7a6f1c4d2e0b9a8f7e6d5c4b3a291807f6e5d4c3b2a19087f6e5.scope";

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
            place: Some(Place { cgroup_id: 77, cgroup_path: DOCKER_SCOPE.as_bytes(), nspid: 1, pidns: 4026532290, netns: 4026532293 }),
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
            basis: Some(Basis::Owner),
            netns: Some(4026531840),
            cgroup: Some(5),
            container: None,
            len: 28,
        };
        // The process's Darwin Process Info Block, which hone-dump passes over.
        pcapng::process_info_block(&mut c, 42, &Comm::new(b"a b")).unwrap();
        ends.push(c.len());
        pcapng::packet_block(&mut c, &rec, Some(0), 1_700_000_000_300_000_123, 24, |d| {
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

    fn printer(json: bool, filter: Filter) -> Printer {
        Printer::new(json, filter)
    }

    fn run(json: bool, filter: Filter) -> String {
        let (data, _) = capture();
        let mut out = Vec::new();
        dump(&data, &mut printer(json, filter), &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn filters_and_json() {
        // Each packet printed comes after its place line (PKNS), the section's first.
        let by_name = run(false, Filter { name: Some("a b".into()), ..Default::default() });
        assert_eq!(by_name.lines().count(), 8, "{by_name}");
        assert_eq!(run(false, Filter { name: Some("nope".into()), ..Default::default() }).lines().count(), 3);
        assert_eq!(run(false, Filter { conn: Some(0x1234), ..Default::default() }).lines().count(), 6);
        assert_eq!(run(false, Filter { pid: Some(7), ..Default::default() }).lines().count(), 3);
        // The packet's socket is in cgroup 5: that packet, and the head and loss records.
        let by_cgroup = run(false, Filter { cgroup: Some(5), ..Default::default() });
        assert_eq!(by_cgroup.lines().filter(|l| l.contains(" PAKT ")).count(), 1, "{by_cgroup}");
        assert_eq!(by_cgroup.lines().count(), 5, "{by_cgroup}");
        assert_eq!(run(false, Filter { cgroup: Some(6), ..Default::default() }).lines().count(), 3);
        // The process is in cgroup 77: its records and its socket's, not the packet of a socket
        // the kernel says was opened elsewhere.
        let by_process_cgroup = run(false, Filter { cgroup: Some(77), ..Default::default() });
        assert_eq!(by_process_cgroup.lines().count(), 6, "{by_process_cgroup}");
        assert_eq!(by_process_cgroup.lines().filter(|l| l.contains(" PAKT ")).count(), 0);
        // Its container: every record of the process, its socket and its packet.
        for want in [CONTAINER, "docker:3f2a9c0d5e8b", "3f2a9c0d5e8b7a6f"] {
            let by_container = run(false, Filter { container: Some(want.into()), ..Default::default() });
            assert_eq!(by_container.lines().count(), 8, "{want}: {by_container}");
        }
        for other in ["3f2a9c0d5e8", "podman:3f2a9c0d5e8b", "nope:3f2a9c0d5e8b", "4f2a9c0d5e8b"] {
            assert_eq!(run(false, Filter { container: Some(other.into()), ..Default::default() }).lines().count(), 3, "{other}");
        }
        let json = run(true, Filter::default());
        let lines: Vec<&str> = json.lines().collect();
        assert_eq!(lines[0], "{\"type\":\"HEAD\",\"hostid\":\"{0fa1b2c3-d4e5-f607-1829-3a4b5c6d7e8f}\"}");
        assert_eq!(
            lines[1],
            format!("{{\"ts\":1700000000.123456000,\"type\":\"EXEC\",\"pid\":42,\"ppid\":1,\"uid\":1000,\"gid\":100,\
             \"path\":\"/bin/a b\",\"argv\":[\"a b\",\"-x\"],\"cgroup\":77,\"cgroup_path\":\"{DOCKER_SCOPE}\",\
             \"nspid\":1,\"pidns\":4026532290,\"netns\":4026532293,\"container\":{{\"runtime\":\"docker\",\"id\":\"{CONTAINER}\"}}}}")
        );
        assert!(lines[3].contains("\"summary\":\"UDPv4 127.0.0.1:12345 -> 127.0.0.1:53\""), "{}", lines[3]);
        assert!(
            lines[3].contains(&format!(
                "\"pid\":42,\"comm\":null,\"via\":\"owner\",\"netns\":4026531840,\"cgroup\":5,\
                 \"container\":{{\"runtime\":\"docker\",\"id\":\"{CONTAINER}\"}},"
            )),
            "{}",
            lines[3]
        );
        assert_eq!(lines[4], "{\"ts\":1700000001.000000000,\"type\":\"LOST\",\"process\":5,\"socket\":0,\"packet\":2}");
        for l in &lines {
            serde_json::from_str::<serde_json::Value>(l).unwrap_or_else(|e| panic!("{l}: {e}"));
        }
        let odd = ProcessRecord {
            kind: ProcessKind::Exec,
            pid: 1,
            ppid: 0,
            euid: 0,
            egid: 0,
            path: Some(b"q\"\\\n\xff"),
            argv: Some(b"\0"),
            place: None,
        };
        let line = json_line(&Record::Process(odd, 5), &Processes::default()).unwrap();
        assert!(line.starts_with("{\"ts\":0.000000005,"), "every digit of the time: {line}");
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["path"], "q\"\\\n\u{fffd}");
        assert_eq!(v["argv"], serde_json::json!([]));
    }

    #[test]
    fn prints_what_honet_prints() {
        let (data, _) = capture();
        let mut out = Vec::new();
        dump(&data, &mut printer(false, Filter::default()), &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!(
            "0.000000000 HEAD 0.000000000 {{0fa1b2c3-d4e5-f607-1829-3a4b5c6d7e8f}}\n\
             1700000000.123456000 EXEC 42 1 1000 100 \"/bin/a b\" a\\x20b -x \n\
             1700000000.123456000 CGNS 42 77 1 4026532290 4026532293 \"{DOCKER_SCOPE}\" docker:{CONTAINER}\n\
             1700000000.200000000 SOCK O 42 -1 -1 -1 00001234\n\
             1700000000.300000123 PKNS 4026531840 5 -\n\
             1700000000.300000123 PAKT O 00001234 42 UDPv4 127.0.0.1:12345 -> 127.0.0.1:53 28\n\
             1700000001.000000000 LOST 5 0 2\n\
             1700000002.000000000 LOST 2 1 0\n")
        );
    }

    #[test]
    fn damaged_input_is_an_error_naming_the_offset() {
        let (data, ends) = capture();
        for cut in 1..data.len() {
            let mut out = Vec::new();
            let r = dump(&data[..cut], &mut printer(false, Filter::default()), &mut out);
            if ends.contains(&cut) {
                assert!(r.is_ok(), "cut at block boundary {cut}: {r:?}");
            } else {
                let e = r.expect_err(&format!("a cut inside a block must fail: {cut}"));
                assert!(e.to_string().starts_with("offset "), "{e}");
            }
        }
        let mut bad = data.clone();
        let at = ends[1] + 4;
        bad[at..at + 4].copy_from_slice(&13u32.to_le_bytes());
        let r = dump(&bad, &mut printer(false, Filter::default()), &mut Vec::new());
        assert!(r.unwrap_err().to_string().starts_with(&format!("offset {}", ends[1])));
    }

    /// A writer whose reader has gone away.
    struct ClosedPipe;

    impl Write for ClosedPipe {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_output_is_told_apart_from_a_damaged_capture() {
        let (data, _) = capture();
        for json in [false, true] {
            match dump(&data, &mut printer(json, Filter::default()), &mut ClosedPipe) {
                Err(DumpError::Output(e)) => assert_eq!(e.kind(), io::ErrorKind::BrokenPipe),
                other => panic!("{other:?}"),
            }
        }
    }
}
