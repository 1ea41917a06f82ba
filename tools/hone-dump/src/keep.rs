// SPDX-License-Identifier: GPL-2.0

//! Keeping one container's or one cgroup's part of a PCAP-NG stream, block by block, as
//! `hone-read --container` and `--cgroup` write it: still a capture that stock tools read, each
//! section standing alone.
//!
//! Kept: every section header, interface description and statistics block (the counters are
//! the whole stream's), the process blocks of the processes in the container or cgroup (their
//! fork and exec blocks say where they are; their exit follows), the connection blocks of the
//! sockets those processes own, and the packets that name the container (EPB options 262/263)
//! or whose socket was opened in the cgroup (option 261), as `hone-dump --container` and `-g`
//! select them. A Darwin Process Info Block is written only for a kept packet that refers to it,
//! just before the first such packet, and the packets' references (option 0x8001) are renumbered
//! to match: no other process's pid or name is left in the capture.

use hone::container::Runtime;
use hone::pcapng::{self, Endian, Options};
use hone::record::ProcessKind;
use std::collections::{HashMap, HashSet};
use std::fmt;

/// What to keep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Want {
    /// The cgroup with this id (the inode number of its directory).
    Cgroup(u64),
    /// The container `[runtime:]id` (the id whole, or 12 or more of a runtime's 64 digits).
    Container(String),
}

/// A stream that is not one of Hone's: the keeping stops there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed(String);

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not a PCAP-NG stream of Hone's: {}", self.0)
    }
}

/// A Darwin Process Info Block of the section: written already (its new index), or held back
/// until a kept packet needs it.
enum ProcessInfo {
    Written(u32),
    Held(Vec<u8>),
}

/// The state of the keeping across the stream's blocks.
pub struct Keep {
    want: Want,
    endian: Endian,
    /// The bytes of a block not yet whole.
    partial: Vec<u8>,
    /// Processes of the section in the container or cgroup.
    pids: HashSet<i32>,
    /// The section's process info blocks, by their index in the stream.
    infos: HashMap<u32, ProcessInfo>,
    /// Process info blocks the section has had in the stream, and in the output.
    infos_in: u32,
    infos_out: u32,
}

impl Keep {
    /// Keeps what `want` names.
    pub fn new(want: Want) -> Self {
        Keep {
            want,
            endian: Endian::NATIVE,
            partial: Vec::new(),
            pids: HashSet::new(),
            infos: HashMap::new(),
            infos_in: 0,
            infos_out: 0,
        }
    }

    /// Follows the next `data` of the stream and appends to `out` the blocks it keeps, whole:
    /// a block cut at the end of `data` is held until the rest arrives.
    pub fn feed(&mut self, mut data: &[u8], out: &mut Vec<u8>) -> Result<(), Malformed> {
        while !data.is_empty() {
            let len = if self.partial.len() < 12 {
                let take = (12 - self.partial.len()).min(data.len());
                self.partial.extend_from_slice(&data[..take]);
                data = &data[take..];
                if self.partial.len() < 12 {
                    return Ok(());
                }
                self.block_len()?
            } else {
                self.block_len()?
            };
            let take = (len - self.partial.len()).min(data.len());
            self.partial.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.partial.len() == len {
                let block = std::mem::take(&mut self.partial);
                self.block(block, out)?;
            }
        }
        Ok(())
    }

    /// The length of the block whose first 12 bytes are held (a section header sets the byte
    /// order from its magic first).
    fn block_len(&mut self) -> Result<usize, Malformed> {
        let head = &self.partial[..12];
        if head[..4] == pcapng::SHB.to_le_bytes() {
            let magic = &head[8..12];
            self.endian = if magic == pcapng::BYTE_ORDER_MAGIC.to_le_bytes() {
                Endian::Little
            } else if magic == pcapng::BYTE_ORDER_MAGIC.to_be_bytes() {
                Endian::Big
            } else {
                return Err(Malformed("a section header with no byte-order magic".into()));
            };
        }
        let len = self.endian.u32(&head[4..]).map_err(|_| Malformed("short block".into()))? as usize;
        if len < 12 || !len.is_multiple_of(4) || len > 16 << 20 {
            return Err(Malformed(format!("a block of {len} bytes")));
        }
        Ok(len)
    }

    /// Keeps `block` (whole) or not.
    fn block(&mut self, block: Vec<u8>, out: &mut Vec<u8>) -> Result<(), Malformed> {
        let endian = self.endian;
        let (b, _) = pcapng::split_block(&block, endian).map_err(|e| Malformed(format!("{e:?}")))?;
        let bad = |what: &str| Malformed(format!("bad {what} block"));
        match b.kind {
            pcapng::SHB => {
                self.pids.clear();
                self.infos.clear();
                (self.infos_in, self.infos_out) = (0, 0);
            }
            pcapng::PROCESS_BLOCK => {
                let (p, _) = pcapng::decode_process(b.body, endian).map_err(|_| bad("process"))?;
                let kept = match &p.place {
                    Some(place) => {
                        let here = match &self.want {
                            Want::Cgroup(id) => place.cgroup_id == *id,
                            Want::Container(want) => place.container().is_some_and(|c| c.is_named(want)),
                        };
                        if here {
                            self.pids.insert(p.pid);
                        } else {
                            self.pids.remove(&p.pid);
                        }
                        here
                    }
                    None if p.kind == ProcessKind::Exit => self.pids.remove(&p.pid),
                    None => self.pids.contains(&p.pid),
                };
                if !kept {
                    return Ok(());
                }
            }
            pcapng::CONNECTION_BLOCK => {
                let (s, _) = pcapng::decode_connection(b.body, endian).map_err(|_| bad("connection"))?;
                if !self.pids.contains(&s.owner.pid) {
                    return Ok(());
                }
            }
            pcapng::PROCESS_INFO_BLOCK => {
                self.infos.insert(self.infos_in, ProcessInfo::Held(block));
                self.infos_in += 1;
                return Ok(());
            }
            pcapng::EPB => return self.packet(block, out),
            _ => {}
        }
        out.extend_from_slice(&block);
        Ok(())
    }

    /// Keeps a packet block that names the container or cgroup, with its process info block
    /// before it if this is the first kept packet to refer to it.
    fn packet(&mut self, mut block: Vec<u8>, out: &mut Vec<u8>) -> Result<(), Malformed> {
        let endian = self.endian;
        let body = &block[8..block.len() - 4];
        let (_, options) = pcapng::epb_data_and_options(body, endian).map_err(|e| Malformed(format!("packet block: {e:?}")))?;
        let at = 8 + body.len() - options.len();
        let (mut runtime, mut id, mut cgroup, mut info) = (None, None, None, None);
        let mut off = at;
        for opt in Options::new(options, endian) {
            let (code, value) = opt.map_err(|e| Malformed(format!("packet options: {e:?}")))?;
            match code {
                pcapng::EPB_CONTAINER_RUNTIME => runtime = Runtime::from_name(value),
                pcapng::EPB_CONTAINER_ID => id = Some(value.to_vec()),
                pcapng::EPB_CGROUP => cgroup = endian.u64(value).ok(),
                pcapng::EPB_PROCESS_INFO => info = endian.u32(value).ok().map(|index| (index, off + 4)),
                _ => {}
            }
            off += 4 + value.len().div_ceil(4) * 4;
        }
        let here = match &self.want {
            Want::Cgroup(want) => cgroup == Some(*want),
            Want::Container(want) => {
                runtime.zip(id).and_then(|(r, id)| hone::container::Container::new(r, &id)).is_some_and(|c| c.is_named(want))
            }
        };
        if !here {
            return Ok(());
        }
        if let Some((index, value_at)) = info {
            let new = match self.infos.remove(&index) {
                Some(ProcessInfo::Written(new)) => new,
                Some(ProcessInfo::Held(info_block)) => {
                    out.extend_from_slice(&info_block);
                    self.infos_out += 1;
                    self.infos_out - 1
                }
                None => return Err(Malformed(format!("a packet refers to process info block {index}, which the section lacks"))),
            };
            self.infos.insert(index, ProcessInfo::Written(new));
            let bytes = match endian {
                Endian::Little => new.to_le_bytes(),
                Endian::Big => new.to_be_bytes(),
            };
            block[value_at..value_at + 4].copy_from_slice(&bytes);
        }
        out.extend_from_slice(&block);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hone::cursor::Cursor;
    use hone::params::HostId;
    use hone::pcapng::SectionInfo;
    use hone::record::{Basis, Comm, Owner, PacketRecord, Place, ProcessRecord, SocketRecord};

    const ID: &str = "3f2a9c0d5e8b7a6f1c4d2e0b9a8f7e6d5c4b3a291807f6e5d4c3b2a19087f6e5";

    /// What a block of the test stream is, to check what was kept.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Tag {
        Head,
        Interface,
        Process(i32),
        Socket(i32),
        Info(u32),
        Packet(i32),
        Stats,
    }

    fn process(c: &mut Cursor<'_>, kind: ProcessKind, pid: i32, path: Option<&str>, cgroup_id: u64) {
        let place = path.map(|p| Place { cgroup_id, cgroup_path: p.as_bytes(), nspid: 1, pidns: 1, netns: 2 });
        let rec = ProcessRecord { kind, pid, ppid: 1, euid: 0, egid: 0, path: Some(b"/bin/x"), argv: None, place };
        let rec = if kind == ProcessKind::Exit { ProcessRecord { path: None, ..rec } } else { rec };
        pcapng::process_block(c, &rec, 1).unwrap();
    }

    fn packet(c: &mut Cursor<'_>, pid: i32, cgroup: u64, info: u32) {
        let container = (pid == 42).then(|| hone::container::Container::new(Runtime::Docker, ID.as_bytes()).unwrap());
        let rec = PacketRecord {
            inbound: true,
            conn: Some(pid as u32),
            pid: Some(pid as u32),
            thread: None,
            comm: Comm::new(b"x"),
            basis: Some(Basis::Owner),
            netns: Some(2),
            cgroup: Some(cgroup),
            container,
            len: 5,
        };
        pcapng::packet_block(c, &rec, Some(info), 9, 5, |d| {
            d.copy_from_slice(b"hello");
            Ok(())
        })
        .unwrap();
    }

    /// Two sections: process 42 in a docker container (cgroup 77), 43 on the host (cgroup 5)
    /// with a packet of a socket it opened in cgroup 77; their sockets, process info blocks
    /// (43's first) and packets, 42's exit, statistics.
    fn stream() -> (Vec<u8>, Vec<(Tag, std::ops::Range<usize>)>) {
        let mut buf = vec![0u8; 1 << 16];
        let mut c = Cursor::new(&mut buf);
        let mut tags = Vec::new();
        let mut at = 0;
        let mut mark = |c: &Cursor<'_>, tag: Tag| {
            tags.push((tag, at..c.len()));
            at = c.len();
        };
        let scope = format!("/system.slice/docker-{ID}.scope");
        for section in 0..2 {
            let info = SectionInfo { hostid: HostId::None, os: b"Linux", userappl: b"Hone test", comment: b"" };
            pcapng::section_header(&mut c, &info).unwrap();
            mark(&c, Tag::Head);
            pcapng::interface_description(&mut c, 0).unwrap();
            mark(&c, Tag::Interface);
            process(&mut c, ProcessKind::Exec, 43, Some("/user.slice"), 5);
            mark(&c, Tag::Process(43));
            process(&mut c, ProcessKind::Fork, 42, Some(&scope), 77);
            mark(&c, Tag::Process(42));
            for pid in [43, 42] {
                let owner = Owner { pid, ..Default::default() };
                pcapng::connection_block(&mut c, &SocketRecord { closed: false, conn: pid as u32, owner }, 2).unwrap();
                mark(&c, Tag::Socket(pid));
            }
            pcapng::process_info_block(&mut c, 43, &Comm::new(b"host")).unwrap();
            mark(&c, Tag::Info(43));
            packet(&mut c, 43, 77, 0);
            mark(&c, Tag::Packet(43));
            pcapng::process_info_block(&mut c, 42, &Comm::new(b"web")).unwrap();
            mark(&c, Tag::Info(42));
            packet(&mut c, 42, 77, 1);
            mark(&c, Tag::Packet(42));
            packet(&mut c, 42, 77, 1);
            mark(&c, Tag::Packet(42));
            packet(&mut c, 43, 5, 0);
            mark(&c, Tag::Packet(43));
            if section == 0 {
                process(&mut c, ProcessKind::Exit, 42, None, 0);
                mark(&c, Tag::Process(42));
                // After its exit, pid 42 is someone else's: not kept.
                let owner = Owner { pid: 42, ..Default::default() };
                pcapng::connection_block(&mut c, &SocketRecord { closed: false, conn: 9, owner }, 2).unwrap();
                mark(&c, Tag::Socket(-42));
            }
            pcapng::section_statistics(&mut c, 3, &Default::default()).unwrap();
            mark(&c, Tag::Stats);
        }
        let n = c.len();
        buf.truncate(n);
        (buf, tags)
    }

    fn keep(want: Want, data: &[u8], chunk: usize) -> Result<Vec<u8>, Malformed> {
        let mut k = Keep::new(want);
        let mut out = Vec::new();
        for piece in data.chunks(chunk) {
            k.feed(piece, &mut out)?;
        }
        Ok(out)
    }

    /// The blocks of `data` picked by `tags`, in order.
    fn expected(data: &[u8], tags: &[(Tag, std::ops::Range<usize>)], pick: &[Tag]) -> Vec<u8> {
        let mut want = Vec::new();
        for (tag, range) in tags {
            if pick.contains(tag) {
                want.extend_from_slice(&data[range.clone()]);
            }
        }
        want
    }

    /// The process info index of each packet block in `data`, and the pids of its info blocks.
    fn references(data: &[u8]) -> (Vec<u32>, Vec<u32>) {
        let (mut refs, mut infos) = (Vec::new(), Vec::new());
        let mut rest = data;
        while !rest.is_empty() {
            let (b, n) = pcapng::split_block(rest, Endian::NATIVE).unwrap();
            match b.kind {
                pcapng::EPB => refs.push(pcapng::packet_process_info(b.body, Endian::NATIVE).unwrap().unwrap()),
                pcapng::PROCESS_INFO_BLOCK => infos.push(pcapng::decode_process_info(b.body, Endian::NATIVE).unwrap().0),
                _ => {}
            }
            rest = &rest[n..];
        }
        (refs, infos)
    }

    #[test]
    fn a_container_keeps_its_processes_sockets_and_packets_in_any_chunks() {
        let (data, tags) = stream();
        let out = keep(Want::Container(ID[..12].into()), &data, data.len()).unwrap();
        // 42's blocks and every head and statistics block; its info block (just before its first
        // packet in the stream too), renumbered 0 in each section.
        let pick = [Tag::Head, Tag::Interface, Tag::Process(42), Tag::Socket(42), Tag::Info(42), Tag::Packet(42), Tag::Stats];
        let (refs, infos) = references(&out);
        assert_eq!((refs, infos), (vec![0, 0, 0, 0], vec![42, 42]));
        let plain = expected(&data, &tags, &pick);
        // The packets differ from the stream's only in their renumbered index (1 -> 0).
        assert_eq!(out.len(), plain.len());
        let differing = out.iter().zip(&plain).filter(|(a, b)| a != b).count();
        assert_eq!(differing, 4, "one byte of each of the four packets' index");
        for chunk in [1, 3, 7, 12, 13, 100] {
            assert_eq!(keep(Want::Container(ID[..12].into()), &data, chunk).unwrap(), out, "in chunks of {chunk}");
        }
        assert_eq!(keep(Want::Container(format!("docker:{ID}")), &data, 64).unwrap(), out);
        // Another runtime, a shorter prefix or another id keep the heads and statistics only.
        let bare = expected(&data, &tags, &[Tag::Head, Tag::Interface, Tag::Stats]);
        for other in [format!("podman:{ID}"), ID[..11].to_string(), "0123456789ab".into()] {
            assert_eq!(keep(Want::Container(other), &data, 64).unwrap(), bare);
        }
    }

    #[test]
    fn a_cgroup_keeps_its_processes_and_the_packets_of_its_sockets() {
        let (data, _) = stream();
        let out = keep(Want::Cgroup(77), &data, 5).unwrap();
        let mut kinds = Vec::new();
        let mut rest = &out[..];
        while !rest.is_empty() {
            let (b, n) = pcapng::split_block(rest, Endian::NATIVE).unwrap();
            kinds.push(match b.kind {
                pcapng::PROCESS_BLOCK => Tag::Process(pcapng::decode_process(b.body, Endian::NATIVE).unwrap().0.pid),
                pcapng::CONNECTION_BLOCK => Tag::Socket(pcapng::decode_connection(b.body, Endian::NATIVE).unwrap().0.owner.pid),
                pcapng::PROCESS_INFO_BLOCK => Tag::Info(pcapng::decode_process_info(b.body, Endian::NATIVE).unwrap().0),
                pcapng::EPB => Tag::Packet(pcapng::decode_packet(b.body, Endian::NATIVE).unwrap().0.pid.unwrap() as i32),
                pcapng::SHB => Tag::Head,
                pcapng::IDB => Tag::Interface,
                _ => Tag::Stats,
            });
            rest = &rest[n..];
        }
        // 43's packet of a socket opened in cgroup 77 is kept (with 43's info block), not 43.
        let section = [
            Tag::Head,
            Tag::Interface,
            Tag::Process(42),
            Tag::Socket(42),
            Tag::Info(43),
            Tag::Packet(43),
            Tag::Info(42),
            Tag::Packet(42),
            Tag::Packet(42),
        ];
        let mut want = section.to_vec();
        want.extend([Tag::Process(42), Tag::Stats]);
        want.extend(section);
        want.push(Tag::Stats);
        assert_eq!(kinds, want);
        assert_eq!(references(&out).0, vec![0, 1, 1, 0, 1, 1]);
    }

    #[test]
    fn damaged_streams_are_kept_or_refused_alike_in_any_chunks() {
        let (data, _) = stream();
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let outcome = |want: Want, bytes: &[u8], chunk: usize| match keep(want, bytes, chunk) {
            Ok(out) => (out, true),
            Err(_) => (Vec::new(), false),
        };
        for _ in 0..3000 {
            let mut bad = data.clone();
            for _ in 0..1 + next() % 3 {
                let at = (next() % bad.len() as u64) as usize;
                bad[at] = next() as u8;
            }
            let cut = (next() % bad.len() as u64) as usize;
            let bad = &bad[..cut];
            for want in [Want::Cgroup(77), Want::Container(ID[..12].into())] {
                let whole = outcome(want.clone(), bad, bad.len().max(1));
                assert_eq!(whole, outcome(want, bad, 1 + (next() % 64) as usize));
            }
        }
    }

    #[test]
    fn what_is_not_a_stream_of_blocks_is_refused() {
        let (data, _) = stream();
        let mut bad = data.clone();
        bad[4] = 13; // the header's length
        assert!(keep(Want::Cgroup(77), &bad, 64).is_err());
        let mut bad = data.clone();
        bad[8] ^= 0xff; // its byte-order magic
        assert!(keep(Want::Cgroup(77), &bad, 64).unwrap_err().to_string().contains("byte-order magic"));
        // A cut stream keeps what was whole and holds the rest.
        let out = keep(Want::Cgroup(5), &data[..data.len() - 3], 64).unwrap();
        assert!(data.starts_with(&out[..28]) && pcapng::split_block(&out, Endian::NATIVE).is_ok());
    }
}
