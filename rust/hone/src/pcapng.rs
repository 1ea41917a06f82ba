// SPDX-License-Identifier: GPL-2.0

//! PCAP-NG encoding of Hone's stream (`/dev/hone`) and decoding of its own blocks.
//!
//! Wire format of the original sensor: integers in host byte order, one raw-IP interface,
//! Process Event Blocks of type 0x101 and Connection Event Blocks of type 0x102 with timestamps
//! in microseconds since the Unix epoch. The interface declares nanosecond resolution
//! (`if_tsresol` 9), so packet and statistics timestamps are in nanoseconds, and each packet
//! also carries its process for stock tools: an `opt_comment` such as
//! `pid=1234 comm=curl conn=000004a1`, `epb_processid_threadid`, and the index of a Darwin
//! Process Info Block (Apple's extension, block type 0x80000001, EPB option 0x8001) that
//! Wireshark 4.6 shows as `frame.darwin.process_info.pid` and `.pname`.

#[cfg(not(hone_kernel))]
use super::container::{Container, Runtime};
use super::cursor::{Cursor, Full};
use super::params::HostId;
#[cfg(not(hone_kernel))]
use super::record::Owner;
#[cfg(not(hone_kernel))]
use super::record::Place;
use super::record::{Comm, Counts, PacketRecord, ProcessKind, ProcessRecord, SocketRecord};
use super::text;

/// Section Header Block.
pub const SHB: u32 = 0x0A0D_0D0A;
/// Interface Description Block.
pub const IDB: u32 = 1;
/// Interface Statistics Block.
pub const ISB: u32 = 5;
/// Enhanced Packet Block.
pub const EPB: u32 = 6;
/// Hone's Process Event Block.
pub const PROCESS_BLOCK: u32 = 0x101;
/// Hone's Connection Event Block.
pub const CONNECTION_BLOCK: u32 = 0x102;
/// Apple's Darwin Process Info Block: a pid and, as option 2, the process's name.
pub const PROCESS_INFO_BLOCK: u32 = 0x8000_0001;
/// Enhanced Packet Block option of Apple's: the index, within its section, of the Darwin
/// Process Info Block of the packet's process.
pub const EPB_PROCESS_INFO: u16 = 0x8001;
/// Enhanced Packet Block option: how the packet's process was found (`Basis as u32`: 1 the
/// sending task, 2 the socket's owner, 3 the listener, 4 the ping socket of an echo).
pub const EPB_BASIS: u16 = 259;
/// Enhanced Packet Block option: the inode number of the network namespace whose hook saw the
/// packet (u32).
pub const EPB_NETNS: u16 = 260;
/// Enhanced Packet Block option: the id of the cgroup (v2) the packet's socket was opened in
/// (u64).
pub const EPB_CGROUP: u16 = 261;
/// Enhanced Packet Block option: the runtime of the container the packet's process is in, as
/// the process block's [`process_opt::CONTAINER_RUNTIME`].
pub const EPB_CONTAINER_RUNTIME: u16 = 262;
/// Enhanced Packet Block option: that container's id.
pub const EPB_CONTAINER_ID: u16 = 263;
/// Interface Statistics Block option of a section's end: sockets opened since hone_notify was
/// loaded that its full socket table could not track (u64; see `max_sockets`).
pub const ISB_UNTRACKED: u16 = 265;
/// SHB byte-order magic.
pub const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;
/// LINKTYPE_RAW: packet data starts at the IPv4 or IPv6 header.
pub const LINKTYPE_RAW: u16 = 101;
/// The IDB's `if_description`.
pub const IF_DESCRIPTION: &[u8] = b"Hone Capture Pseudo-device";
/// Longest option value (its length field is 16 bits and values are padded to 4).
pub const MAX_OPTION: usize = 65532;

/// Option codes of the Process Event Block.
pub mod process_opt {
    /// Event: absent for exec, 1 fork, 2 kernel thread, 0xFFFFFFFF exit.
    pub const EVENT: u16 = 2;
    /// Executable path, or `[name]` of a kernel thread.
    pub const PATH: u16 = 3;
    /// Arguments, NUL-separated with a trailing NUL.
    pub const ARGV: u16 = 4;
    /// Parent process id.
    pub const PPID: u16 = 5;
    /// Effective user id.
    pub const EUID: u16 = 6;
    /// Effective group id.
    pub const EGID: u16 = 7;
    /// Hone's additions, after the original's (8 and 9 were user and group names, never
    /// written on Linux): the id of the process's cgroup (v2), u64.
    pub const CGROUP_ID: u16 = 257;
    /// Path of that cgroup from the root of the hierarchy.
    pub const CGROUP_PATH: u16 = 258;
    /// Its process id in its own pid namespace, u32.
    pub const NSPID: u16 = 259;
    /// Inode number of its pid namespace, u32.
    pub const PIDNS: u16 = 260;
    /// Inode number of its network namespace, u32.
    pub const NETNS: u16 = 261;
    /// The runtime of the container its cgroup names ([`Runtime::name`](crate::container::Runtime::name)).
    pub const CONTAINER_RUNTIME: u16 = 262;
    /// The id of that container.
    pub const CONTAINER_ID: u16 = 263;
}

/// What goes into a Section Header Block.
#[derive(Debug, Clone, Copy)]
pub struct SectionInfo<'a> {
    /// Option 257.
    pub hostid: HostId<'a>,
    /// `shb_os`, e.g. `Linux host 6.12.117 #1 SMP x86_64`.
    pub os: &'a [u8],
    /// `shb_userappl`, e.g. `Hone 0.1.0`.
    pub userappl: &'a [u8],
    /// `opt_comment`, already unescaped; omitted when empty.
    pub comment: &'a [u8],
}

fn pad4(n: usize) -> usize {
    (4 - n % 4) % 4
}

/// Writes a block of type `kind` whose body `body` writes, with both length fields.
fn block(c: &mut Cursor<'_>, kind: u32, body: impl FnOnce(&mut Cursor<'_>) -> Result<(), Full>) -> Result<(), Full> {
    let start = c.len();
    c.u32(kind)?;
    c.u32(0)?;
    body(c)?;
    let total = c.len() - start + 4;
    let total32 = u32::try_from(total).map_err(|_| Full)?;
    c.u32(total32)?;
    c.patch_u32(start + 4, total32)
}

/// Writes one option made of the concatenation of `parts`, clamped to [`MAX_OPTION`] bytes.
fn option_parts(c: &mut Cursor<'_>, code: u16, parts: &[&[u8]]) -> Result<(), Full> {
    let mut len = 0usize;
    for p in parts {
        len = len.saturating_add(p.len());
    }
    let len = len.min(MAX_OPTION);
    c.u16(code)?;
    c.u16(len as u16)?;
    let mut left = len;
    for p in parts {
        let take = p.len().min(left);
        c.put(&p[..take])?;
        left -= take;
    }
    c.zeros(pad4(len))
}

fn option(c: &mut Cursor<'_>, code: u16, value: &[u8]) -> Result<(), Full> {
    option_parts(c, code, &[value])
}

fn option_u32(c: &mut Cursor<'_>, code: u16, v: u32) -> Result<(), Full> {
    option(c, code, &v.to_ne_bytes())
}

fn option_u64(c: &mut Cursor<'_>, code: u16, v: u64) -> Result<(), Full> {
    option(c, code, &v.to_ne_bytes())
}

fn end_of_options(c: &mut Cursor<'_>) -> Result<(), Full> {
    c.u32(0)
}

fn timestamp(c: &mut Cursor<'_>, ts_us: u64) -> Result<(), Full> {
    c.u32((ts_us >> 32) as u32)?;
    c.u32(ts_us as u32)
}

/// Section Header Block: opens a section.
pub fn section_header(c: &mut Cursor<'_>, info: &SectionInfo<'_>) -> Result<(), Full> {
    block(c, SHB, |c| {
        c.u32(BYTE_ORDER_MAGIC)?;
        c.u16(1)?;
        c.u16(0)?;
        c.u64(u64::MAX)?;
        match info.hostid {
            HostId::None => {}
            HostId::Text(name) => option_parts(c, 257, &[&[0u8], name])?,
            HostId::Guid(g) => option_parts(
                c,
                257,
                &[
                    &1u32.to_ne_bytes(),
                    &g.data1.to_ne_bytes(),
                    &g.data2.to_ne_bytes(),
                    &g.data3.to_ne_bytes(),
                    &g.data4,
                ],
            )?,
        }
        option(c, 3, info.os)?;
        option(c, 4, info.userappl)?;
        if !info.comment.is_empty() {
            option(c, 1, info.comment)?;
        }
        end_of_options(c)
    })
}

/// Interface Description Block for Hone's single raw-IP pseudo-interface: `if_description` as
/// the original, and `if_tsresol` = 9 (nanoseconds).
pub fn interface_description(c: &mut Cursor<'_>, snaplen: u32) -> Result<(), Full> {
    block(c, IDB, |c| {
        c.u16(LINKTYPE_RAW)?;
        c.u16(0)?;
        c.u32(snaplen)?;
        option(c, 3, IF_DESCRIPTION)?;
        option(c, 9, &[9])?;
        end_of_options(c)
    })
}

/// Process Event Block (0x101): the original's options (2 to 7), then, when the process's
/// place is known, 257 to 261 and, when its cgroup names a container, 262 and 263
/// ([`process_opt`]).
pub fn process_block(c: &mut Cursor<'_>, rec: &ProcessRecord<'_>, ts_us: u64) -> Result<(), Full> {
    block(c, PROCESS_BLOCK, |c| {
        c.u32(rec.pid as u32)?;
        timestamp(c, ts_us)?;
        match rec.kind {
            ProcessKind::Exec => {}
            ProcessKind::Fork => option_u32(c, process_opt::EVENT, 1)?,
            ProcessKind::Kthread => option_u32(c, process_opt::EVENT, 2)?,
            ProcessKind::Exit => option_u32(c, process_opt::EVENT, u32::MAX)?,
        }
        option_u32(c, process_opt::PPID, rec.ppid as u32)?;
        option_u32(c, process_opt::EUID, rec.euid)?;
        option_u32(c, process_opt::EGID, rec.egid)?;
        if let Some(path) = rec.path {
            if rec.kind == ProcessKind::Kthread {
                option_parts(c, process_opt::PATH, &[b"[", path, b"]"])?;
            } else {
                option(c, process_opt::PATH, path)?;
            }
        }
        if let (Some(argv), false) = (rec.argv, rec.kind == ProcessKind::Kthread) {
            option(c, process_opt::ARGV, argv)?;
        }
        if let Some(place) = &rec.place {
            option_u64(c, process_opt::CGROUP_ID, place.cgroup_id)?;
            option(c, process_opt::CGROUP_PATH, place.cgroup_path)?;
            option_u32(c, process_opt::NSPID, place.nspid as u32)?;
            option_u32(c, process_opt::PIDNS, place.pidns)?;
            option_u32(c, process_opt::NETNS, place.netns)?;
            if let Some(container) = place.container() {
                option(c, process_opt::CONTAINER_RUNTIME, container.runtime.name().as_bytes())?;
                option(c, process_opt::CONTAINER_ID, container.id())?;
            }
        }
        end_of_options(c)
    })
}

/// Connection Event Block (0x102): no options for an open (28 bytes), option 2 = 0xFFFFFFFF for
/// a close (40 bytes).
pub fn connection_block(c: &mut Cursor<'_>, rec: &SocketRecord, ts_us: u64) -> Result<(), Full> {
    block(c, CONNECTION_BLOCK, |c| {
        c.u32(rec.conn)?;
        c.u32(rec.owner.pid as u32)?;
        timestamp(c, ts_us)?;
        if rec.closed {
            option_u32(c, 2, u32::MAX)?;
            end_of_options(c)?;
        }
        Ok(())
    })
}

/// Darwin Process Info Block of process `pid` (body: the pid, then option 2 `proc_name`, the
/// name as printable ASCII ([`text::escape_name`]), when there is one).
pub fn process_info_block(c: &mut Cursor<'_>, pid: u32, comm: &Comm) -> Result<(), Full> {
    block(c, PROCESS_INFO_BLOCK, |c| {
        c.u32(pid)?;
        if comm.as_bytes().is_empty() {
            return Ok(());
        }
        let mut name = [0u8; 64];
        let mut nc = Cursor::new(&mut name);
        text::escape_name(&mut nc, comm.as_bytes())?;
        let len = nc.len();
        option(c, 2, &name[..len])?;
        end_of_options(c)
    })
}

/// Captured length of a packet of `len` bytes for a reader's `snaplen` (0 = whole packet).
pub fn captured_len(len: u32, snaplen: u32) -> u32 {
    if snaplen == 0 {
        len
    } else {
        len.min(snaplen)
    }
}

/// The `opt_comment` of a packet:
/// `pid=<pid> comm=<name> via=<basis> container=<runtime>:<id> conn=<connection id>`, each part
/// present when known, the name escaped as in `/dev/honet`, the basis as [`Basis::token`] says,
/// a runtime's 64-digit id cut to 12 as `docker ps` shows it; empty when nothing is known.
pub fn packet_comment(c: &mut Cursor<'_>, rec: &PacketRecord) -> Result<(), Full> {
    if let Some(pid) = rec.pid {
        c.put(b"pid=")?;
        c.dec(u64::from(pid))?;
        if !rec.comm.as_bytes().is_empty() {
            c.put(b" comm=")?;
            text::escape_ascii(c, rec.comm.as_bytes())?;
        }
        if let Some(basis) = rec.basis {
            c.put(b" via=")?;
            c.put(basis.token().as_bytes())?;
        }
        if let Some(container) = &rec.container {
            c.put(b" container=")?;
            c.put(container.runtime.name().as_bytes())?;
            c.byte(b':')?;
            text::escape_ascii(c, container.short_id())?;
        }
    }
    if let Some(conn) = rec.conn {
        if rec.pid.is_some() {
            c.byte(b' ')?;
        }
        c.put(b"conn=")?;
        c.hex(u64::from(conn), 8)?;
    }
    Ok(())
}

/// Where a packet's captured bytes start in the Enhanced Packet Block of [`packet_block`]: after
/// the type, length, interface, timestamp, captured and original lengths.
pub const EPB_DATA_OFFSET: usize = 28;

/// Enhanced Packet Block on interface 0 (timestamp in ns) with options 1 (the comment of
/// [`packet_comment`], when there is one), 257 (connection id), 258 (pid), 8
/// (`epb_processid_threadid`: pid, then the sending thread or 0), 259 (how the process was
/// found, [`EPB_BASIS`]), 260 (network namespace, [`EPB_NETNS`]), 261 (the socket's cgroup,
/// [`EPB_CGROUP`]), each when known, 0x8001
/// (the index of the section's Darwin Process Info Block for the process, `process_info`), when
/// given, and 2 (`epb_flags`: 1 inbound, 2 outbound). `fill` writes the `caplen` captured bytes
/// into the slice it is given.
pub fn packet_block(
    c: &mut Cursor<'_>,
    rec: &PacketRecord,
    process_info: Option<u32>,
    ts_ns: u64,
    caplen: u32,
    fill: impl FnOnce(&mut [u8]) -> Result<(), Full>,
) -> Result<(), Full> {
    block(c, EPB, |c| {
        c.u32(0)?;
        timestamp(c, ts_ns)?;
        c.u32(caplen)?;
        c.u32(rec.len)?;
        let n = caplen as usize;
        fill(c.reserve(n)?)?;
        c.zeros(pad4(n))?;
        // Option 1, written in place: its length is known once the comment is written.
        let at = c.len();
        c.u16(1)?;
        c.u16(0)?;
        packet_comment(c, rec)?;
        match c.len() - at - 4 {
            0 => c.truncate(at),
            len => {
                c.patch_u16(at + 2, u16::try_from(len).map_err(|_| Full)?)?;
                c.zeros(pad4(len))?;
            }
        }
        if let Some(conn) = rec.conn {
            option_u32(c, 257, conn)?;
        }
        if let Some(pid) = rec.pid {
            option_u32(c, 258, pid)?;
            option_parts(c, 8, &[&pid.to_ne_bytes(), &rec.thread.unwrap_or(0).to_ne_bytes()])?;
        }
        if let Some(basis) = rec.basis {
            option_u32(c, EPB_BASIS, basis as u32)?;
        }
        if let Some(netns) = rec.netns {
            option_u32(c, EPB_NETNS, netns)?;
        }
        if let Some(cgroup) = rec.cgroup {
            option(c, EPB_CGROUP, &cgroup.to_ne_bytes())?;
        }
        if let Some(container) = &rec.container {
            option(c, EPB_CONTAINER_RUNTIME, container.runtime.name().as_bytes())?;
            option(c, EPB_CONTAINER_ID, container.id())?;
        }
        if let Some(index) = process_info {
            option_u32(c, EPB_PROCESS_INFO, index)?;
        }
        option_u32(c, 2, if rec.inbound { 1 } else { 2 })?;
        end_of_options(c)
    })
}

/// What a reader's section-ending Interface Statistics Block reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SectionStats {
    /// When Hone started counting (hone_notify loaded), in ns since the epoch.
    pub start_ns: u64,
    /// Events hone_notify received, by class.
    pub received: Counts,
    /// Events hone_notify lost for want of memory, by class.
    pub lost: Counts,
    /// Events this reader dropped because its ring was full, by class.
    pub dropped: Counts,
    /// Events this reader delivered, by class.
    pub delivered: Counts,
    /// Packets this reader's filters hid.
    pub filtered: u64,
    /// Sockets hone_notify could not track (its table full): what arrives on them outside
    /// process context names no process.
    pub untracked: u64,
}

/// Interface Statistics Block that ends a reader's section (208 bytes; times in ns), with the original's
/// options: 2 `isb_starttime`, 4 `isb_ifrecv` and 5 `isb_ifdrop` (packets received and lost by
/// Hone), 6 packets filtered out by this reader, 7 `isb_osdrop` and 8 `isb_usrdeliv` (this
/// reader's packets dropped and delivered), then for process events 257/258 (received/lost by
/// Hone) and 259/260 (dropped/delivered by this reader), and the same for socket events at
/// 261 to 264; then Hone's own: [`ISB_UNTRACKED`].
pub fn section_statistics(c: &mut Cursor<'_>, ts_ns: u64, st: &SectionStats) -> Result<(), Full> {
    use super::record::Class::{Packet, Process, Socket};
    block(c, ISB, |c| {
        c.u32(0)?;
        timestamp(c, ts_ns)?;
        c.u16(2)?;
        c.u16(8)?;
        timestamp(c, st.start_ns)?;
        option_u64(c, 4, st.received.get(Packet))?;
        option_u64(c, 5, st.lost.get(Packet))?;
        option_u64(c, 6, st.filtered)?;
        option_u64(c, 7, st.dropped.get(Packet))?;
        option_u64(c, 8, st.delivered.get(Packet))?;
        for (code, class) in [(257u16, Process), (261, Socket)] {
            option_u64(c, code, st.received.get(class))?;
            option_u64(c, code + 1, st.lost.get(class))?;
            option_u64(c, code + 2, st.dropped.get(class))?;
            option_u64(c, code + 3, st.delivered.get(class))?;
        }
        option_u64(c, ISB_UNTRACKED, st.untracked)?;
        end_of_options(c)
    })
}

/// Interface Statistics Block written where a reader's ring overflowed: `isb_osdrop` (7) holds
/// the packets, 259 the process events and 263 the socket events this reader has lost so far
/// (the option codes of the original sensor's end-of-section statistics). Time in ns.
pub fn loss_statistics(c: &mut Cursor<'_>, ts_ns: u64, dropped: &Counts) -> Result<(), Full> {
    use super::record::Class;
    block(c, ISB, |c| {
        c.u32(0)?;
        timestamp(c, ts_ns)?;
        option_u64(c, 7, dropped.get(Class::Packet))?;
        option_u64(c, 259, dropped.get(Class::Process))?;
        option_u64(c, 263, dropped.get(Class::Socket))?;
        end_of_options(c)
    })
}

/// Why bytes could not be decoded.
#[cfg(not(hone_kernel))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    /// The data ends inside a block or field.
    Truncated,
    /// A block length is not a multiple of 4, is shorter than 12, or disagrees with its copy.
    BadLength,
    /// A Process Event Block holds an impossible value (an unknown event code).
    BadValue,
}

/// Byte order of a section.
#[cfg(not(hone_kernel))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endian {
    /// Little-endian.
    Little,
    /// Big-endian.
    Big,
}

#[cfg(not(hone_kernel))]
impl Endian {
    /// The byte order of this machine.
    pub const NATIVE: Endian = if cfg!(target_endian = "big") { Endian::Big } else { Endian::Little };

    fn u16(self, b: &[u8]) -> Result<u16, DecodeError> {
        let a: [u8; 2] = b.get(..2).ok_or(DecodeError::Truncated)?.try_into().map_err(|_| DecodeError::Truncated)?;
        Ok(match self {
            Endian::Little => u16::from_le_bytes(a),
            Endian::Big => u16::from_be_bytes(a),
        })
    }

    /// Reads a `u32` from the start of `b`.
    pub fn u32(self, b: &[u8]) -> Result<u32, DecodeError> {
        let a: [u8; 4] = b.get(..4).ok_or(DecodeError::Truncated)?.try_into().map_err(|_| DecodeError::Truncated)?;
        Ok(match self {
            Endian::Little => u32::from_le_bytes(a),
            Endian::Big => u32::from_be_bytes(a),
        })
    }

    /// Reads a `u64` from the start of `b`.
    pub fn u64(self, b: &[u8]) -> Result<u64, DecodeError> {
        let a: [u8; 8] = b.get(..8).ok_or(DecodeError::Truncated)?.try_into().map_err(|_| DecodeError::Truncated)?;
        Ok(match self {
            Endian::Little => u64::from_le_bytes(a),
            Endian::Big => u64::from_be_bytes(a),
        })
    }
}

/// One block: its type and its body (between the leading length and the trailing length).
#[cfg(not(hone_kernel))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block<'a> {
    /// Block type.
    pub kind: u32,
    /// Block body.
    pub body: &'a [u8],
}

/// Splits the first block off `data`; returns it and the bytes it took.
#[cfg(not(hone_kernel))]
pub fn split_block(data: &[u8], endian: Endian) -> Result<(Block<'_>, usize), DecodeError> {
    let kind = endian.u32(data)?;
    let len = endian.u32(data.get(4..).ok_or(DecodeError::Truncated)?)? as usize;
    if len < 12 || len % 4 != 0 {
        return Err(DecodeError::BadLength);
    }
    let whole = data.get(..len).ok_or(DecodeError::Truncated)?;
    if endian.u32(&whole[len - 4..])? as usize != len {
        return Err(DecodeError::BadLength);
    }
    Ok((Block { kind, body: &whole[8..len - 4] }, len))
}

/// Iterates over the options in `data` (code, value), stopping at end-of-options.
#[cfg(not(hone_kernel))]
pub struct Options<'a> {
    data: &'a [u8],
    endian: Endian,
}

#[cfg(not(hone_kernel))]
impl<'a> Options<'a> {
    /// Options starting at the beginning of `data`.
    pub fn new(data: &'a [u8], endian: Endian) -> Self {
        Options { data, endian }
    }
}

#[cfg(not(hone_kernel))]
impl<'a> Iterator for Options<'a> {
    type Item = Result<(u16, &'a [u8]), DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.data.is_empty() {
            return None;
        }
        let parsed = (|| {
            let code = self.endian.u16(self.data)?;
            let len = self.endian.u16(self.data.get(2..).ok_or(DecodeError::Truncated)?)? as usize;
            let value = self.data.get(4..4 + len).ok_or(DecodeError::Truncated)?;
            let next = (4 + len + pad4(len)).min(self.data.len());
            Ok((code, value, next))
        })();
        match parsed {
            Err(e) => {
                self.data = &[];
                Some(Err(e))
            }
            Ok((0, _, _)) => {
                self.data = &[];
                None
            }
            Ok((code, value, next)) => {
                self.data = &self.data[next..];
                Some(Ok((code, value)))
            }
        }
    }
}

/// Decodes the body of a Connection Event Block into the record and its timestamp (µs).
#[cfg(not(hone_kernel))]
pub fn decode_connection(body: &[u8], endian: Endian) -> Result<(SocketRecord, u64), DecodeError> {
    let conn = endian.u32(body)?;
    let pid = endian.u32(body.get(4..).ok_or(DecodeError::Truncated)?)? as i32;
    let hi = endian.u32(body.get(8..).ok_or(DecodeError::Truncated)?)? as u64;
    let lo = endian.u32(body.get(12..).ok_or(DecodeError::Truncated)?)? as u64;
    let mut closed = false;
    for opt in Options::new(&body[16..], endian) {
        let (code, value) = opt?;
        if code == 2 {
            closed = endian.u32(value)? == u32::MAX;
        }
    }
    // The block holds only the pid of the owner.
    let owner = Owner { pid, ..Default::default() };
    Ok((SocketRecord { closed, conn, owner }, hi << 32 | lo))
}

/// Decodes the body of an Enhanced Packet Block: the record (without the command name), its
/// timestamp (ns) and the captured bytes.
#[cfg(not(hone_kernel))]
pub fn decode_packet(body: &[u8], endian: Endian) -> Result<(PacketRecord, u64, &[u8]), DecodeError> {
    let hi = endian.u32(body.get(4..).ok_or(DecodeError::Truncated)?)? as u64;
    let lo = endian.u32(body.get(8..).ok_or(DecodeError::Truncated)?)? as u64;
    let len = endian.u32(body.get(16..).ok_or(DecodeError::Truncated)?)?;
    let (data, opts) = epb_data_and_options(body, endian)?;
    let mut rec = PacketRecord { inbound: false, conn: None, pid: None, thread: None, comm: Default::default(), basis: None, netns: None, cgroup: None, container: None, len };
    let (mut runtime, mut id) = (None, None);
    for opt in Options::new(opts, endian) {
        let (code, value) = opt?;
        match code {
            257 => rec.conn = Some(endian.u32(value)?),
            258 => rec.pid = Some(endian.u32(value)?),
            EPB_BASIS => rec.basis = super::record::Basis::from_code(endian.u32(value)?),
            EPB_NETNS => rec.netns = Some(endian.u32(value)?),
            EPB_CGROUP => rec.cgroup = Some(endian.u64(value)?),
            EPB_CONTAINER_RUNTIME => runtime = Some(value),
            EPB_CONTAINER_ID => id = Some(value),
            8 => rec.thread = Some(endian.u32(value.get(4..).ok_or(DecodeError::Truncated)?)?).filter(|&t| t != 0),
            2 => rec.inbound = endian.u32(value)? & 3 == 1,
            _ => {}
        }
    }
    if let (Some(runtime), Some(id)) = (runtime, id) {
        rec.container = Container::new(Runtime::from_name(runtime).ok_or(DecodeError::BadValue)?, id);
    }
    Ok((rec, hi << 32 | lo, data))
}

/// The captured bytes of the Enhanced Packet Block `body` and its options after them.
#[cfg(not(hone_kernel))]
pub fn epb_data_and_options(body: &[u8], endian: Endian) -> Result<(&[u8], &[u8]), DecodeError> {
    let caplen = endian.u32(body.get(12..).ok_or(DecodeError::Truncated)?)? as usize;
    let data = body.get(20..20usize.checked_add(caplen).ok_or(DecodeError::BadLength)?).ok_or(DecodeError::Truncated)?;
    Ok((data, body.get(20 + caplen + pad4(caplen)..).unwrap_or(&[])))
}

/// Decodes the body of a Darwin Process Info Block: the pid and the name (option 2, as written,
/// empty when absent).
#[cfg(not(hone_kernel))]
pub fn decode_process_info(body: &[u8], endian: Endian) -> Result<(u32, &[u8]), DecodeError> {
    let pid = endian.u32(body)?;
    let mut name: &[u8] = &[];
    for opt in Options::new(&body[4..], endian) {
        if let (2, value) = opt? {
            name = value;
        }
    }
    Ok((pid, name))
}

/// The Darwin Process Info Block index (option 0x8001) of the Enhanced Packet Block `body`.
#[cfg(not(hone_kernel))]
pub fn packet_process_info(body: &[u8], endian: Endian) -> Result<Option<u32>, DecodeError> {
    let (_, opts) = epb_data_and_options(body, endian)?;
    for opt in Options::new(opts, endian) {
        if let (EPB_PROCESS_INFO, value) = opt? {
            return Ok(Some(endian.u32(value)?));
        }
    }
    Ok(None)
}

/// Decodes the body of a Process Event Block into the record and its timestamp (µs).
#[cfg(not(hone_kernel))]
pub fn decode_process(body: &[u8], endian: Endian) -> Result<(ProcessRecord<'_>, u64), DecodeError> {
    let pid = endian.u32(body)? as i32;
    let hi = endian.u32(body.get(4..).ok_or(DecodeError::Truncated)?)? as u64;
    let lo = endian.u32(body.get(8..).ok_or(DecodeError::Truncated)?)? as u64;
    let mut rec = ProcessRecord {
        kind: ProcessKind::Exec,
        pid,
        ppid: 0,
        euid: 0,
        egid: 0,
        path: None,
        argv: None,
        place: None,
    };
    let mut place = Place { cgroup_id: 0, cgroup_path: b"", nspid: 0, pidns: 0, netns: 0 };
    let mut placed = false;
    for opt in Options::new(&body[12..], endian) {
        let (code, value) = opt?;
        match code {
            process_opt::EVENT => {
                rec.kind = match endian.u32(value)? {
                    0 => ProcessKind::Exec,
                    1 => ProcessKind::Fork,
                    2 => ProcessKind::Kthread,
                    u32::MAX => ProcessKind::Exit,
                    _ => return Err(DecodeError::BadValue),
                }
            }
            process_opt::PPID => rec.ppid = endian.u32(value)? as i32,
            process_opt::EUID => rec.euid = endian.u32(value)?,
            process_opt::EGID => rec.egid = endian.u32(value)?,
            process_opt::PATH => rec.path = Some(value),
            process_opt::ARGV => rec.argv = Some(value),
            process_opt::CGROUP_ID => place.cgroup_id = endian.u64(value)?,
            process_opt::CGROUP_PATH => place.cgroup_path = value,
            process_opt::NSPID => place.nspid = endian.u32(value)? as i32,
            process_opt::PIDNS => place.pidns = endian.u32(value)?,
            process_opt::NETNS => place.netns = endian.u32(value)?,
            _ => continue,
        }
        placed |= (process_opt::CGROUP_ID..=process_opt::NETNS).contains(&code);
    }
    if placed {
        rec.place = Some(place);
    }
    if rec.kind == ProcessKind::Kthread {
        if let Some(p) = rec.path {
            if p.len() >= 2 && p[0] == b'[' && p[p.len() - 1] == b']' {
                rec.path = Some(&p[1..p.len() - 1]);
            }
        }
    }
    Ok((rec, hi << 32 | lo))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::parse_guid;
    use crate::record::Basis;
    use proptest::prelude::*;

    fn encode(f: impl FnOnce(&mut Cursor<'_>) -> Result<(), Full>) -> std::vec::Vec<u8> {
        let mut buf = std::vec![0u8; 1 << 17];
        let mut c = Cursor::new(&mut buf);
        f(&mut c).unwrap();
        let n = c.len();
        buf.truncate(n);
        buf
    }

    #[test]
    fn idb_is_the_original_plus_nanosecond_resolution() {
        let b = encode(|c| interface_description(c, 0));
        let mut want = std::vec::Vec::new();
        for w in [1u32, 56] {
            want.extend_from_slice(&w.to_le_bytes());
        }
        want.extend_from_slice(&[0x65, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0x1a, 0]);
        want.extend_from_slice(IF_DESCRIPTION);
        want.extend_from_slice(&[0, 0, 9, 0, 1, 0, 9, 0, 0, 0, 0, 0, 0, 0, 64, 0, 0, 0]);
        want[4] = 64;
        assert_eq!(b, want);
    }

    #[test]
    fn process_block_sizes_follow_the_spec() {
        let exit = ProcessRecord { kind: ProcessKind::Exit, pid: 7, ppid: 1, euid: 0, egid: 0, path: None, argv: None, place: None };
        assert_eq!(encode(|c| process_block(c, &exit, 0)).len(), 60);
        let exec = ProcessRecord {
            kind: ProcessKind::Exec,
            path: Some(b"/usr/bin/curl"),
            argv: Some(b"curl\0-s\0http://example.com/\0"),
            ..exit
        };
        let b = encode(|c| process_block(c, &exec, 0));
        assert_eq!(b.len(), 104);
        // EXEC carries no event option: the first option is ppid.
        assert_eq!(&b[20..22], &5u16.to_ne_bytes());
    }

    #[test]
    fn a_place_adds_options_after_the_originals() {
        let id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        let path = std::format!("/machine.slice/libpod-{id}.scope/container");
        let place = Place { cgroup_id: 0x1_0000_0042, cgroup_path: path.as_bytes(), nspid: 1, pidns: 4026532290, netns: 4026532293 };
        let exec = ProcessRecord { kind: ProcessKind::Exec, pid: 9, ppid: 1, euid: 0, egid: 0, path: Some(b"/bin/sh"), argv: None, place: Some(place) };
        let b = encode(|c| process_block(c, &exec, 0));
        let (blk, _) = split_block(&b, Endian::NATIVE).unwrap();
        let opts: std::vec::Vec<_> = Options::new(&blk.body[12..], Endian::NATIVE).map(Result::unwrap).collect();
        let codes: std::vec::Vec<u16> = opts.iter().map(|o| o.0).collect();
        assert_eq!(codes, [5, 6, 7, 3, 257, 258, 259, 260, 261, 262, 263]);
        assert_eq!(opts[4].1, 0x1_0000_0042u64.to_ne_bytes());
        assert_eq!(opts[5].1, path.as_bytes());
        assert_eq!(opts[9].1, b"podman");
        assert_eq!(opts[10].1, id.as_bytes());
        assert_eq!(decode_process(blk.body, Endian::NATIVE).unwrap().0, exec);
        // Outside a container there is no container option.
        let host = ProcessRecord { place: Some(Place { cgroup_path: b"/init.scope", ..place }), ..exec };
        let b = encode(|c| process_block(c, &host, 0));
        let (blk, _) = split_block(&b, Endian::NATIVE).unwrap();
        assert_eq!(Options::new(&blk.body[12..], Endian::NATIVE).map(|o| o.unwrap().0).last(), Some(261));
    }

    #[test]
    fn shb_with_guid_host_id() {
        let g = parse_guid(b"{0fa1b2c3-d4e5-f607-1829-3a4b5c6d7e8f}").unwrap();
        let info = SectionInfo { hostid: HostId::Guid(g), os: b"Linux", userappl: b"Hone 1", comment: b"" };
        let b = encode(|c| section_header(c, &info));
        let (blk, n) = split_block(&b, Endian::NATIVE).unwrap();
        assert_eq!((blk.kind, n), (SHB, b.len()));
        let opts: std::vec::Vec<_> = Options::new(&blk.body[16..], Endian::NATIVE).map(Result::unwrap).collect();
        assert_eq!(opts[0].0, 257);
        assert_eq!(opts[0].1.len(), 20);
        assert_eq!(&opts[0].1[..8], &[1, 0, 0, 0, 0xc3, 0xb2, 0xa1, 0x0f]);
        assert_eq!(opts[1], (3, &b"Linux"[..]));
        assert_eq!(opts[2], (4, &b"Hone 1"[..]));
        assert_eq!(opts.len(), 3);
    }

    #[test]
    fn truncated_and_bad_lengths_are_errors() {
        let exit = ProcessRecord { kind: ProcessKind::Exit, pid: 7, ppid: 1, euid: 0, egid: 0, path: None, argv: None, place: None };
        let b = encode(|c| process_block(c, &exit, 0));
        for cut in 0..b.len() {
            assert!(split_block(&b[..cut], Endian::NATIVE).is_err());
        }
        let mut bad = b.clone();
        bad[4] = 61;
        assert_eq!(split_block(&bad, Endian::NATIVE).err(), Some(DecodeError::BadLength));
    }

    fn kind() -> impl Strategy<Value = ProcessKind> {
        prop_oneof![
            Just(ProcessKind::Fork),
            Just(ProcessKind::Exec),
            Just(ProcessKind::Exit),
            Just(ProcessKind::Kthread)
        ]
    }

    #[test]
    fn section_statistics_block_is_208_bytes() {
        let st = SectionStats { filtered: 3, delivered: Counts([1, 2, 4]), untracked: 11, ..Default::default() };
        let b = encode(|c| section_statistics(c, 9, &st));
        assert_eq!(b.len(), 208);
        let (blk, _) = split_block(&b, Endian::NATIVE).unwrap();
        let opts: std::vec::Vec<_> = Options::new(&blk.body[12..], Endian::NATIVE).map(Result::unwrap).collect();
        let codes: std::vec::Vec<u16> = opts.iter().map(|o| o.0).collect();
        assert_eq!(codes, [2, 4, 5, 6, 7, 8, 257, 258, 259, 260, 261, 262, 263, 264, 265]);
        assert_eq!(opts[14].1, &11u64.to_ne_bytes());
        assert_eq!(opts[3].1, &3u64.to_ne_bytes());
        assert_eq!(opts[5].1, &4u64.to_ne_bytes());
        assert_eq!(opts[9].1, &1u64.to_ne_bytes());
    }

    #[test]
    fn connection_blocks_are_28_and_40_bytes() {
        let owner = Owner { pid: 2345, ppid: 1, euid: 0, egid: 0, comm: Default::default() };
        let open = SocketRecord { closed: false, conn: 0x8f3a_2c40, owner };
        let b = encode(|c| connection_block(c, &open, 5));
        assert_eq!(b.len(), 28);
        let close = SocketRecord { closed: true, ..open };
        let b = encode(|c| connection_block(c, &close, 5));
        assert_eq!(b.len(), 40);
        let (blk, _) = split_block(&b, Endian::NATIVE).unwrap();
        let (back, ts) = decode_connection(blk.body, Endian::NATIVE).unwrap();
        assert_eq!((back, ts), (SocketRecord { owner: Owner { pid: 2345, ..Default::default() }, ..close }, 5));
    }

    /// An Enhanced Packet Block, laid out byte by byte as the PCAP-NG draft and the README's
    /// option table say, against what `packet_block` writes.
    #[test]
    fn epb_is_the_documented_layout_byte_for_byte() {
        fn opt(out: &mut std::vec::Vec<u8>, code: u16, value: &[u8]) {
            out.extend_from_slice(&code.to_ne_bytes());
            out.extend_from_slice(&(value.len() as u16).to_ne_bytes());
            out.extend_from_slice(value);
            out.resize(out.len() + (4 - value.len() % 4) % 4, 0);
        }
        let rec = PacketRecord {
            inbound: true,
            conn: Some(0x4a1),
            pid: Some(1234),
            thread: Some(1236),
            comm: crate::record::Comm::new(b"curl"),
            basis: Some(Basis::Owner),
            netns: Some(4026531840),
            cgroup: Some(0x1_0000_0007),
            container: None,
            len: 70,
        };
        for (caplen, index) in [(5u32, Some(3u32)), (0, None), (8, Some(0))] {
            let data: std::vec::Vec<u8> = (0..caplen as u8).collect();
            let ts = 0x0102_0304_0506_0708u64;
            let mut body = std::vec::Vec::new();
            for v in [0u32, (ts >> 32) as u32, ts as u32, caplen, 70] {
                body.extend_from_slice(&v.to_ne_bytes());
            }
            body.extend_from_slice(&data);
            body.resize(body.len() + (4 - data.len() % 4) % 4, 0);
            opt(&mut body, 1, b"pid=1234 comm=curl via=owner conn=000004a1");
            opt(&mut body, 257, &0x4a1u32.to_ne_bytes());
            opt(&mut body, 258, &1234u32.to_ne_bytes());
            opt(&mut body, 8, &[1234u32.to_ne_bytes(), 1236u32.to_ne_bytes()].concat());
            opt(&mut body, EPB_BASIS, &2u32.to_ne_bytes());
            opt(&mut body, EPB_NETNS, &4026531840u32.to_ne_bytes());
            opt(&mut body, EPB_CGROUP, &0x1_0000_0007u64.to_ne_bytes());
            if let Some(index) = index {
                opt(&mut body, EPB_PROCESS_INFO, &index.to_ne_bytes());
            }
            opt(&mut body, 2, &1u32.to_ne_bytes());
            body.extend_from_slice(&0u32.to_ne_bytes());
            let total = (body.len() + 12) as u32;
            let mut want = std::vec::Vec::new();
            want.extend_from_slice(&EPB.to_ne_bytes());
            want.extend_from_slice(&total.to_ne_bytes());
            want.extend_from_slice(&body);
            want.extend_from_slice(&total.to_ne_bytes());
            let got = encode(|c| packet_block(c, &rec, index, ts, caplen, |d| {
                d.copy_from_slice(&data);
                Ok(())
            }));
            assert_eq!(got, want, "caplen {caplen}");
        }
        // No comment, no option 1.
        let bare = PacketRecord { conn: None, pid: None, thread: None, basis: None, netns: None, cgroup: None, ..rec };
        let got = encode(|c| packet_block(c, &bare, None, 0, 0, |_| Ok(())));
        let mut want = std::vec::Vec::new();
        for v in [EPB, 44, 0, 0, 0, 0, 70] {
            want.extend_from_slice(&v.to_ne_bytes());
        }
        opt(&mut want, 2, &1u32.to_ne_bytes());
        for v in [0u32, 44] {
            want.extend_from_slice(&v.to_ne_bytes());
        }
        assert_eq!(got, want);
    }

    #[test]
    fn epb_carries_the_process_for_stock_tools() {
        let rec = PacketRecord {
            inbound: false,
            conn: Some(0x4a1),
            pid: Some(1234),
            thread: Some(1236),
            comm: crate::record::Comm::new(b"curl"),
            basis: Some(Basis::Sender),
            netns: Some(4026531840),
            cgroup: Some(0x1_0000_0007),
            container: None,
            len: 60,
        };
        let b = encode(|c| packet_block(c, &rec, None, 0, 60, |d| { d.fill(0xab); Ok(()) }));
        let (blk, _) = split_block(&b, Endian::NATIVE).unwrap();
        let opts: std::vec::Vec<_> = Options::new(&blk.body[80..], Endian::NATIVE).map(Result::unwrap).collect();
        assert_eq!(opts[0], (1, &b"pid=1234 comm=curl via=sender conn=000004a1"[..]));
        assert!(opts.contains(&(EPB_BASIS, &1u32.to_ne_bytes()[..])));
        assert!(opts.contains(&(EPB_NETNS, &4026531840u32.to_ne_bytes()[..])));
        assert!(opts.contains(&(EPB_CGROUP, &0x1_0000_0007u64.to_ne_bytes()[..])));
        let mut tid = std::vec::Vec::from(1234u32.to_ne_bytes());
        tid.extend_from_slice(&1236u32.to_ne_bytes());
        assert!(opts.contains(&(8, &tid[..])));
        // In a container: the comment names it as `docker ps` does, options 262 and 263 whole.
        let id = b"3f2a9c0d5e8b7a6f1c4d2e0b9a8f7e6d5c4b3a291807f6e5d4c3b2a19087f6e5";
        let docker = Container::new(Runtime::Docker, id).unwrap();
        let boxed = PacketRecord { container: Some(docker), ..rec };
        let b = encode(|c| packet_block(c, &boxed, None, 0, 60, |d| { d.fill(0xab); Ok(()) }));
        let (blk, _) = split_block(&b, Endian::NATIVE).unwrap();
        let opts: std::vec::Vec<_> = Options::new(&blk.body[80..], Endian::NATIVE).map(Result::unwrap).collect();
        assert_eq!(opts[0], (1, &b"pid=1234 comm=curl via=sender container=docker:3f2a9c0d5e8b conn=000004a1"[..]));
        assert!(opts.contains(&(EPB_CONTAINER_RUNTIME, &b"docker"[..])));
        assert!(opts.contains(&(EPB_CONTAINER_ID, &id[..])));
        assert_eq!(decode_packet(blk.body, Endian::NATIVE).unwrap().0.container, Some(docker));
        // The longest comment (a name and a machine's name each of escaped bytes) is one option.
        let machine = Container::new(Runtime::Nspawn, &[0xff; 64]).unwrap();
        let worst = PacketRecord { pid: Some(u32::MAX), comm: crate::record::Comm::new(&[0xff; 16]), container: Some(machine), ..rec };
        let b = encode(|c| packet_block(c, &worst, None, 0, 60, |d| { d.fill(0); Ok(()) }));
        let (blk, _) = split_block(&b, Endian::NATIVE).unwrap();
        let (code, comment) = Options::new(&blk.body[80..], Endian::NATIVE).next().unwrap().unwrap();
        assert!(code == 1 && comment.starts_with(b"pid=4294967295 comm=\\xff") && comment.ends_with(b"conn=000004a1"));
        // Without socket or process: no comment, no ids, only the direction.
        let bare = PacketRecord { conn: None, pid: None, thread: None, comm: Default::default(), basis: None, netns: None, cgroup: None, container: None, ..rec };
        let b = encode(|c| packet_block(c, &bare, None, 0, 60, |d| { d.fill(0); Ok(()) }));
        assert_eq!(b.len(), 28 + 60 + 8 + 4 + 4);
    }

    #[test]
    fn process_info_block_is_apples_layout() {
        let b = encode(|c| process_info_block(c, 4242, &crate::record::Comm::new(b"curl")));
        let mut want = std::vec::Vec::new();
        for v in [PROCESS_INFO_BLOCK, 28, 4242] {
            want.extend_from_slice(&v.to_ne_bytes());
        }
        want.extend_from_slice(&2u16.to_ne_bytes());
        want.extend_from_slice(&4u16.to_ne_bytes());
        want.extend_from_slice(b"curl");
        want.extend_from_slice(&[0, 0, 0, 0]);
        want.extend_from_slice(&28u32.to_ne_bytes());
        assert_eq!(b, want);
        // No name: the pid alone.
        let b = encode(|c| process_info_block(c, 7, &crate::record::Comm::default()));
        assert_eq!(b.len(), 16);
        let (blk, _) = split_block(&b, Endian::NATIVE).unwrap();
        assert_eq!(decode_process_info(blk.body, Endian::NATIVE), Ok((7, &b""[..])));
    }

    proptest! {
        #[test]
        fn packet_round_trip(
            inbound in any::<bool>(), conn in proptest::option::of(any::<u32>()),
            pid in proptest::option::of(any::<u32>()), thread in proptest::option::of(1u32..),
            comm in proptest::collection::vec(any::<u8>(), 0..20), basis in 0u32..6,
            netns in proptest::option::of(any::<u32>()), cgroup in proptest::option::of(any::<u64>()),
            container in proptest::option::of((0usize..5, proptest::collection::vec(any::<u8>(), 1..=64))),
            data in proptest::collection::vec(any::<u8>(), 0..200), snaplen in 0u32..300, ts in any::<u64>(),
        ) {
            let thread = pid.and(thread);
            let comm = crate::record::Comm::new(&comm);
            let basis = pid.and(Basis::from_code(basis));
            let runtimes = [Runtime::Docker, Runtime::Containerd, Runtime::Crio, Runtime::Podman, Runtime::Nspawn];
            let container = container.and_then(|(r, id)| Container::new(runtimes[r], &id));
            let rec = PacketRecord { inbound, conn, pid, thread, comm, basis, netns, cgroup, container, len: data.len() as u32 };
            let caplen = captured_len(rec.len, snaplen);
            let b = encode(|c| packet_block(c, &rec, None, ts, caplen, |d| { d.copy_from_slice(&data[..caplen as usize]); Ok(()) }));
            let (blk, n) = split_block(&b, Endian::NATIVE).unwrap();
            prop_assert_eq!((blk.kind, n), (EPB, b.len()));
            let (back, ts_back, bytes) = decode_packet(blk.body, Endian::NATIVE).unwrap();
            prop_assert_eq!(back, PacketRecord { comm: Default::default(), ..rec });
            prop_assert_eq!(ts_back, ts);
            prop_assert_eq!(bytes, &data[..caplen as usize]);
            // Where readers send the packet's bytes from its own buffer instead.
            prop_assert_eq!(&b[EPB_DATA_OFFSET..EPB_DATA_OFFSET + caplen as usize], &data[..caplen as usize]);
        }

        #[test]
        fn process_round_trip(
            kind in kind(), pid in any::<i32>(), ppid in any::<i32>(), euid in any::<u32>(), egid in any::<u32>(),
            path in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..300)),
            argv in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..300)),
            place in proptest::option::of((any::<u64>(), proptest::collection::vec(any::<u8>(), 0..300), any::<i32>(), any::<u32>(), any::<u32>())),
            ts in any::<u64>(),
        ) {
            let place = place.as_ref().map(|(cgroup_id, path, nspid, pidns, netns)| {
                Place { cgroup_id: *cgroup_id, cgroup_path: path, nspid: *nspid, pidns: *pidns, netns: *netns }
            });
            let rec = ProcessRecord { kind, pid, ppid, euid, egid, path: path.as_deref(), argv: argv.as_deref(), place };
            let b = encode(|c| process_block(c, &rec, ts));
            prop_assert_eq!(b.len() % 4, 0);
            let (blk, n) = split_block(&b, Endian::NATIVE).unwrap();
            prop_assert_eq!(n, b.len());
            prop_assert_eq!(blk.kind, PROCESS_BLOCK);
            let (back, ts_back) = decode_process(blk.body, Endian::NATIVE).unwrap();
            prop_assert_eq!(ts_back, ts);
            let mut want = rec;
            if kind == ProcessKind::Kthread { want.argv = None; }
            if kind == ProcessKind::Kthread && want.path.is_none() { want.path = None; }
            prop_assert_eq!(back, want);
        }

        #[test]
        fn decoding_garbage_never_panics(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            if let Ok((blk, _)) = split_block(&data, Endian::NATIVE) {
                let _ = decode_process(blk.body, Endian::NATIVE);
            }
            let _ = decode_process(&data, Endian::Big);
            let _ = decode_packet(&data, Endian::Little);
            let _ = decode_connection(&data, Endian::Little);
            for o in Options::new(&data, Endian::Little) { let _ = o; }
        }
    }
}
