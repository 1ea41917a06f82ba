// SPDX-License-Identifier: GPL-2.0

//! Which processes a PCAP-NG section has described in Darwin Process Info Blocks, so that each
//! attributed packet can name its process by the index of such a block (EPB option 0x8001), as
//! Wireshark 4.6 reads them.
//!
//! The indices count the section's blocks from 0, in the order they are written; a new section
//! starts again at 0, so a file that holds one section (every file hone-read writes) stands
//! alone. Before the first packet of a process that the section has not described, a block is
//! written for it. The blocks written are remembered in a small direct-mapped table keyed by pid:
//! a process whose entry was taken by another gets a second block with the same content, which
//! costs a few bytes and never names the wrong process. An entry is forgotten when its process
//! forks anew or exits (a reused pid gets a block of its own), and a name that changed (exec)
//! gets a new block.

use super::cursor::{Cursor, Full};
use super::pcapng;
use super::record::{Comm, PacketRecord};
use core::ops::DerefMut;

/// One remembered block: the process it describes, and its index in the section.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Slot {
    /// The process's pid; 0 for an empty slot (a packet's pid is never 0).
    pid: u32,
    comm: Comm,
    index: u32,
}

/// The Darwin Process Info Blocks of the current section, over caller-provided slots.
pub struct ProcessInfoIndex<S: DerefMut<Target = [Slot]>> {
    slots: S,
    /// Blocks written in this section: the index the next one gets.
    blocks: u32,
}

impl<S: DerefMut<Target = [Slot]>> ProcessInfoIndex<S> {
    /// An index using `slots` (at least one) as storage, for a section with no blocks yet.
    pub fn new(slots: S) -> Option<Self> {
        if slots.is_empty() {
            return None;
        }
        let mut index = ProcessInfoIndex { slots, blocks: 0 };
        index.new_section();
        Some(index)
    }

    /// A new section starts: it has no blocks.
    pub fn new_section(&mut self) {
        self.slots.fill(Slot::default());
        self.blocks = 0;
    }

    /// Process `pid` forked anew or exited: its next packet gets a block of its own.
    pub fn forget(&mut self, pid: u32) {
        let at = self.slot_of(pid);
        if self.slots[at].pid == pid {
            self.slots[at] = Slot::default();
        }
    }

    /// Where `pid` is remembered, if it is (multiplicative hashing onto the slots).
    fn slot_of(&self, pid: u32) -> usize {
        let hash = u64::from(pid.wrapping_mul(0x9E37_79B1));
        ((hash * self.slots.len() as u64) >> 32) as usize
    }

    /// Writes the Enhanced Packet Block of `rec` (as [`pcapng::packet_block`]), preceded by a
    /// Darwin Process Info Block for its process when the section has none, and returns where
    /// the packet's captured bytes start in what it wrote. Nothing is remembered unless both
    /// blocks fit: a record written again into a larger buffer comes out the same.
    pub fn packet(
        &mut self,
        c: &mut Cursor<'_>,
        rec: &PacketRecord,
        ts_ns: u64,
        caplen: u32,
        fill: impl FnOnce(&mut [u8]) -> Result<(), Full>,
    ) -> Result<usize, Full> {
        let start = c.len();
        let mut new_block = None;
        let mut index = None;
        if let Some(pid) = rec.pid {
            let at = self.slot_of(pid);
            let slot = self.slots[at];
            if slot.pid == pid && slot.comm == rec.comm {
                index = Some(slot.index);
            } else if self.blocks < u32::MAX {
                pcapng::process_info_block(c, pid, &rec.comm)?;
                index = Some(self.blocks);
                new_block = Some((at, Slot { pid, comm: rec.comm, index: self.blocks }));
            }
        }
        let data_at = c.len() - start + pcapng::EPB_DATA_OFFSET;
        pcapng::packet_block(c, rec, index, ts_ns, caplen, fill)?;
        if let Some((at, slot)) = new_block {
            self.slots[at] = slot;
            self.blocks += 1;
        }
        Ok(data_at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pcapng::{decode_process_info, packet_process_info, split_block, Endian, EPB, PROCESS_INFO_BLOCK};
    use proptest::prelude::*;
    use std::vec::Vec;

    /// What happens to a reader's stream.
    #[derive(Debug, Clone)]
    enum Op {
        /// A packet of process `pid` (when given) named `names[name]`.
        Packet(Option<u32>, usize),
        /// The process forked anew or exited.
        Forget(u32),
        /// A restart: a new section.
        Section,
    }

    const NAMES: [&[u8]; 4] = [b"curl", b"sshd", b"", b"a b\\\xff"];

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            8 => (proptest::option::of(1u32..40), 0..NAMES.len()).prop_map(|(p, n)| Op::Packet(p, n)),
            1 => (1u32..40).prop_map(Op::Forget),
            1 => Just(Op::Section),
        ]
    }

    fn record(pid: Option<u32>, name: usize) -> PacketRecord {
        PacketRecord { inbound: false, conn: None, pid, thread: None, comm: Comm::new(NAMES[name]), basis: None, netns: None, cgroup: None, container: None, len: 20 }
    }

    /// The name a block carries for `comm`.
    fn escaped(comm: &[u8]) -> Vec<u8> {
        let mut out = [0u8; 64];
        let mut c = Cursor::new(&mut out);
        crate::text::escape_name(&mut c, comm).unwrap();
        let n = c.len();
        out[..n].to_vec()
    }

    /// Encodes one packet with `index`; returns its bytes.
    fn encode(index: &mut ProcessInfoIndex<Vec<Slot>>, rec: &PacketRecord) -> Vec<u8> {
        let mut buf = [0u8; 512];
        let mut c = Cursor::new(&mut buf);
        let data_at = index.packet(&mut c, rec, 7, 20, |d| {
            d.fill(0x45);
            Ok(())
        }).unwrap();
        let n = c.len();
        assert_eq!(&buf[data_at..data_at + 20], &[0x45; 20], "the packet's bytes are where it says");
        buf[..n].to_vec()
    }

    proptest! {
        /// Every packet with a pid refers to a block of the section, written before it, that
        /// names its pid and name; a packet without one refers to none; a block is written only
        /// when the section has none for that process, or its pid was forgotten since.
        #[test]
        fn every_packet_names_its_process(ops in proptest::collection::vec(op(), 1..300), slots in 1usize..16) {
            let mut index = ProcessInfoIndex::new(std::vec![Slot::default(); slots]).unwrap();
            let mut blocks: Vec<(u32, Vec<u8>)> = Vec::new();
            // Processes forgotten since their last block: the next packet must get a new one.
            let mut forgotten: Vec<u32> = Vec::new();
            for op in ops {
                match op {
                    Op::Section => {
                        index.new_section();
                        blocks.clear();
                        forgotten.clear();
                    }
                    Op::Forget(pid) => {
                        index.forget(pid);
                        forgotten.push(pid);
                    }
                    Op::Packet(pid, name) => {
                        let rec = record(pid, name);
                        let bytes = encode(&mut index, &rec);
                        let mut rest = &bytes[..];
                        let mut epb = None;
                        let before = blocks.len();
                        while !rest.is_empty() {
                            let (blk, n) = split_block(rest, Endian::NATIVE).unwrap();
                            match blk.kind {
                                PROCESS_INFO_BLOCK => {
                                    prop_assert!(epb.is_none(), "the block comes before the packet");
                                    let (p, name) = decode_process_info(blk.body, Endian::NATIVE).unwrap();
                                    blocks.push((p, name.to_vec()));
                                }
                                EPB => epb = Some(packet_process_info(blk.body, Endian::NATIVE).unwrap()),
                                kind => prop_assert!(false, "unexpected block {:#x}", kind),
                            }
                            rest = &rest[n..];
                        }
                        let info = epb.unwrap();
                        prop_assert!(blocks.len() - before <= 1);
                        match pid {
                            None => prop_assert_eq!((info, blocks.len()), (None, before)),
                            Some(pid) => {
                                let i = info.unwrap() as usize;
                                prop_assert_eq!(&blocks[i], &(pid, escaped(NAMES[name])));
                                if forgotten.contains(&pid) {
                                    prop_assert_eq!(blocks.len(), before + 1, "a forgotten pid gets a new block");
                                    forgotten.retain(|&p| p != pid);
                                }
                                if !blocks[..before].contains(&(pid, escaped(NAMES[name]))) {
                                    prop_assert_eq!(blocks.len(), before + 1, "a process new to the section gets a block");
                                }
                                if blocks.len() > before {
                                    prop_assert_eq!(i, before, "a new block is the one referred to");
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn each_process_is_described_once_per_section_when_the_table_holds_it() {
        let mut index = ProcessInfoIndex::new(std::vec![Slot::default(); 64]).unwrap();
        let count = |b: &[u8]| {
            let mut rest = b;
            let mut n = 0;
            while !rest.is_empty() {
                let (blk, len) = split_block(rest, Endian::NATIVE).unwrap();
                n += usize::from(blk.kind == PROCESS_INFO_BLOCK);
                rest = &rest[len..];
            }
            n
        };
        let curl = record(Some(4242), 0);
        let sshd = record(Some(22), 1);
        assert_eq!(count(&encode(&mut index, &curl)), 1);
        assert_eq!(count(&encode(&mut index, &sshd)), 1);
        assert_eq!(count(&encode(&mut index, &curl)), 0);
        // exec changed the name: a new block, index 2.
        let renamed = record(Some(4242), 1);
        let b = encode(&mut index, &renamed);
        assert_eq!(count(&b), 1);
        let (_, n) = split_block(&b, Endian::NATIVE).unwrap();
        let (epb, _) = split_block(&b[n..], Endian::NATIVE).unwrap();
        assert_eq!(packet_process_info(epb.body, Endian::NATIVE), Ok(Some(2)));
        // A new section describes its processes again, from index 0.
        index.new_section();
        let b = encode(&mut index, &sshd);
        assert_eq!(count(&b), 1);
        let (_, n) = split_block(&b, Endian::NATIVE).unwrap();
        let (epb, _) = split_block(&b[n..], Endian::NATIVE).unwrap();
        assert_eq!(packet_process_info(epb.body, Endian::NATIVE), Ok(Some(0)));
    }

    #[test]
    fn a_record_that_did_not_fit_comes_out_the_same_when_written_again() {
        let mut index = ProcessInfoIndex::new(std::vec![Slot::default(); 8]).unwrap();
        let rec = record(Some(4242), 0);
        for short in [0, 12, 40, 100] {
            let mut buf = std::vec![0u8; short];
            let mut c = Cursor::new(&mut buf);
            assert_eq!(index.packet(&mut c, &rec, 7, 20, |d| {
                d.fill(1);
                Ok(())
            }), Err(Full));
        }
        let first = encode(&mut index, &rec);
        let (blk, _) = split_block(&first, Endian::NATIVE).unwrap();
        assert_eq!(blk.kind, PROCESS_INFO_BLOCK, "the block was not counted as written");
        let mut fresh = ProcessInfoIndex::new(std::vec![Slot::default(); 8]).unwrap();
        assert_eq!(first, encode(&mut fresh, &rec));
    }

    #[test]
    fn no_slots_no_index() {
        assert!(ProcessInfoIndex::new(Vec::<Slot>::new()).is_none());
    }
}
