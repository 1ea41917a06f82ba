// SPDX-License-Identifier: GPL-2.0
//! The encoders of rust/hone on fuzzer-chosen records and buffer sizes: each either reports a
//! full buffer or writes a block that splits, decodes back to the record, and has zeroed
//! padding; the text formatters either fit or report a full buffer.
#![no_main]

use hone::cursor::Cursor;
use hone::params::HostId;
use hone::pcapng::{
    connection_block, decode_connection, decode_packet, decode_process, interface_description, loss_statistics,
    packet_block, packet_process_info, process_block, section_header, section_statistics, split_block, Endian, SectionInfo,
    SectionStats,
};
use hone::container::{Container, Runtime};
use hone::record::{Basis, Comm, Counts, Owner, PacketRecord, Place, ProcessKind, ProcessRecord, SocketRecord};
use hone::text;
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;

fn bytes<'a>(u: &mut Unstructured<'a>, max: usize) -> Result<&'a [u8]> {
    let n = u.int_in_range(0..=max)?;
    u.bytes(n)
}

fn counts(u: &mut Unstructured<'_>) -> Result<Counts> {
    Ok(Counts([u.arbitrary()?, u.arbitrary()?, u.arbitrary()?]))
}

fn owner(u: &mut Unstructured<'_>) -> Result<Owner> {
    Ok(Owner { pid: u.arbitrary()?, ppid: u.arbitrary()?, euid: u.arbitrary()?, egid: u.arbitrary()?, comm: Comm::new(bytes(u, 20)?) })
}

/// Encodes with `f` into a buffer of a fuzzer-chosen size; the bytes written when it fit.
fn encode<'b>(buf: &'b mut [u8], size: usize, f: impl FnOnce(&mut Cursor<'_>) -> core::result::Result<(), hone::cursor::Full>) -> Option<&'b [u8]> {
    let size = size.min(buf.len());
    let mut c = Cursor::new(&mut buf[..size]);
    let before = c.remaining();
    if f(&mut c).is_err() {
        return None;
    }
    let n = before - c.remaining();
    Some(&buf[..n])
}

const RUNTIMES: [Runtime; 5] = [Runtime::Docker, Runtime::Containerd, Runtime::Crio, Runtime::Podman, Runtime::Nspawn];

fn run(u: &mut Unstructured<'_>) -> Result<()> {
    let mut buf = vec![0u8; 1 << 17];
    let mut line = vec![0u8; 1 << 17];
    let size = u.int_in_range(0..=(1 << 17))?;
    let ts: u64 = u.arbitrary()?;
    match u.int_in_range(0..=5)? {
        0 => {
            let kind = ProcessKind::from_code(u.int_in_range(1..=4)?).unwrap();
            let path = if u.arbitrary()? { Some(bytes(u, 600)?) } else { None };
            let argv = if u.arbitrary()? { Some(bytes(u, 600)?) } else { None };
            let place = if u.arbitrary()? {
                Some(Place { cgroup_id: u.arbitrary()?, cgroup_path: bytes(u, 600)?, nspid: u.arbitrary()?, pidns: u.arbitrary()?, netns: u.arbitrary()? })
            } else {
                None
            };
            let rec = ProcessRecord { kind, pid: u.arbitrary()?, ppid: u.arbitrary()?, euid: u.arbitrary()?, egid: u.arbitrary()?, path, argv, place };
            if let Some(b) = encode(&mut buf, size, |c| process_block(c, &rec, ts)) {
                let (blk, n) = split_block(b, Endian::NATIVE).expect("a process block splits");
                assert_eq!(n, b.len());
                let (back, back_ts) = decode_process(blk.body, Endian::NATIVE).expect("a process block decodes");
                assert_eq!((back.kind, back.pid, back.ppid, back.euid, back.egid, back.place, back_ts), (rec.kind, rec.pid, rec.ppid, rec.euid, rec.egid, rec.place, ts));
            }
            let _ = text::process(&mut Cursor::new(&mut line[..size]), ts, &rec);
        }
        1 => {
            let rec = SocketRecord { closed: u.arbitrary()?, conn: u.arbitrary()?, owner: owner(u)? };
            if let Some(b) = encode(&mut buf, size, |c| connection_block(c, &rec, ts)) {
                let (blk, _) = split_block(b, Endian::NATIVE).expect("a connection block splits");
                let (back, back_ts) = decode_connection(blk.body, Endian::NATIVE).expect("a connection block decodes");
                assert_eq!((back.closed, back.conn, back.owner.pid, back_ts), (rec.closed, rec.conn, rec.owner.pid, ts));
            }
            let _ = text::socket(&mut Cursor::new(&mut line[..size]), ts, &rec);
        }
        2 => {
            let data = bytes(u, 2000)?;
            let rec = PacketRecord {
                inbound: u.arbitrary()?,
                conn: u.arbitrary()?,
                pid: u.arbitrary()?,
                thread: u.arbitrary()?,
                comm: Comm::new(bytes(u, 20)?),
                basis: Basis::from_code(u.arbitrary()?),
                netns: u.arbitrary()?,
                cgroup: u.arbitrary()?,
                container: if u.arbitrary()? { Container::new(RUNTIMES[u.int_in_range(0..=4)?], bytes(u, 64)?) } else { None },
                len: u.arbitrary()?,
            };
            let info: Option<u32> = u.arbitrary()?;
            if let Some(b) = encode(&mut buf, size, |c| packet_block(c, &rec, info, ts, data.len() as u32, |d| { d.copy_from_slice(data); Ok(()) })) {
                let (blk, _) = split_block(b, Endian::NATIVE).expect("a packet block splits");
                let (back, back_ts, bytes) = decode_packet(blk.body, Endian::NATIVE).expect("a packet block decodes");
                assert_eq!((back.inbound, back.conn, back.pid, back.basis, back.netns, back.cgroup, back.container, back.len, back_ts, bytes), (rec.inbound, rec.conn, rec.pid, rec.basis, rec.netns, rec.cgroup, rec.container, rec.len, ts, data));
                assert_eq!(packet_process_info(blk.body, Endian::NATIVE), Ok(info), "the process info index decodes");
                let padding = &blk.body[20 + data.len()..20 + ((data.len() + 3) & !3)];
                assert!(padding.iter().all(|&b| b == 0), "packet data padding is zeroed");
            }
            let _ = text::packet(&mut Cursor::new(&mut line[..size]), ts, &rec, data);
        }
        3 => {
            let hostid = if u.arbitrary()? { HostId::Text(bytes(u, 300)?) } else { HostId::None };
            let info = SectionInfo { hostid, os: bytes(u, 300)?, userappl: bytes(u, 40)?, comment: bytes(u, 300)? };
            if let Some(b) = encode(&mut buf, size, |c| section_header(c, &info)) {
                split_block(b, Endian::NATIVE).expect("a section header splits");
            }
            if let Some(b) = encode(&mut buf, size, |c| interface_description(c, ts as u32)) {
                split_block(b, Endian::NATIVE).expect("an interface description splits");
            }
            let _ = text::head(&mut Cursor::new(&mut line[..size]), ts, u.arbitrary()?, &hostid);
            let _ = text::tail(&mut Cursor::new(&mut line[..size]), ts);
        }
        4 => {
            let st = SectionStats { start_ns: u.arbitrary()?, received: counts(u)?, lost: counts(u)?, dropped: counts(u)?, delivered: counts(u)?, filtered: u.arbitrary()?, untracked: u.arbitrary()? };
            if let Some(b) = encode(&mut buf, size, |c| section_statistics(c, ts, &st)) {
                assert_eq!(b.len(), 196, "the section statistics block keeps the original's size");
                split_block(b, Endian::NATIVE).expect("a statistics block splits");
            }
            let gap = counts(u)?;
            if let Some(b) = encode(&mut buf, size, |c| loss_statistics(c, ts, &gap)) {
                split_block(b, Endian::NATIVE).expect("a loss statistics block splits");
            }
            let _ = text::lost(&mut Cursor::new(&mut line[..size]), ts, &gap);
        }
        _ => {
            let header = bytes(u, 120)?;
            let _ = text::summary(&mut Cursor::new(&mut line[..size]), header);
            let _ = text::escape_ascii(&mut Cursor::new(&mut line[..size]), header);
        }
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let _ = run(&mut Unstructured::new(data));
});
