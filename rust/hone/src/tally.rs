// SPDX-License-Identifier: GPL-2.0

//! Following a PCAP-NG stream as it passes through a reader, in chunks of any size, without
//! keeping it: what `hone-read` reports about a capture it copies (packets written, and the
//! drop counters of the latest statistics block).
//!
//! Only block headers and statistics blocks are looked at; packet data is skipped by count,
//! never copied. A length that cannot be a block's ends the following for good: the bytes are
//! then not a stream of blocks (or not in this machine's byte order), and nothing later in
//! them can be trusted to start a block.

use crate::pcapng::{self, Endian};

/// Longest statistics block whose counters are read (Hone's are 208 bytes at most); a longer
/// one is skipped like any other block.
const MAX_STATS_BLOCK: usize = 1024;

/// What a stream of blocks has shown so far.
pub struct Tally {
    /// The leading type and length of the block being started.
    head: [u8; 8],
    head_len: usize,
    /// Type of the current block, once its head is complete.
    kind: u32,
    /// Bytes of the current block still to come after its head (0: at a block boundary).
    remaining: usize,
    /// The current block, when it is a statistics block short enough to be read.
    stats: [u8; MAX_STATS_BLOCK],
    stats_len: usize,
    collecting: bool,
    lost_track: bool,
    /// Enhanced Packet Blocks seen whole.
    pub packets: u64,
    /// Process, socket and packet events the device dropped for this reader, as the latest
    /// statistics block reported them.
    pub dropped: [u64; 3],
}

impl Default for Tally {
    fn default() -> Self {
        Tally {
            head: [0; 8],
            head_len: 0,
            kind: 0,
            remaining: 0,
            stats: [0; MAX_STATS_BLOCK],
            stats_len: 0,
            collecting: false,
            lost_track: false,
            packets: 0,
            dropped: [0; 3],
        }
    }
}

impl Tally {
    /// Follows the next `data` of the stream.
    pub fn feed(&mut self, mut data: &[u8]) {
        while !data.is_empty() && !self.lost_track {
            if self.remaining == 0 {
                let take = (self.head.len() - self.head_len).min(data.len());
                self.head[self.head_len..self.head_len + take].copy_from_slice(&data[..take]);
                self.head_len += take;
                data = &data[take..];
                if self.head_len == self.head.len() {
                    self.start_block();
                }
                continue;
            }
            let take = self.remaining.min(data.len());
            if self.collecting {
                self.stats[self.stats_len..self.stats_len + take].copy_from_slice(&data[..take]);
                self.stats_len += take;
            }
            self.remaining -= take;
            data = &data[take..];
            if self.remaining == 0 {
                self.end_block();
            }
        }
    }

    /// Whether the bytes stopped looking like a stream of blocks.
    pub fn lost_track(&self) -> bool {
        self.lost_track
    }

    fn start_block(&mut self) {
        self.head_len = 0;
        let (Ok(kind), Ok(len)) = (Endian::NATIVE.u32(&self.head), Endian::NATIVE.u32(&self.head[4..])) else {
            self.lost_track = true;
            return;
        };
        let len = len as usize;
        if len < 12 || len % 4 != 0 {
            self.lost_track = true;
            return;
        }
        self.kind = kind;
        self.remaining = len - self.head.len();
        self.collecting = kind == pcapng::ISB && len <= MAX_STATS_BLOCK;
        if self.collecting {
            self.stats[..self.head.len()].copy_from_slice(&self.head);
            self.stats_len = self.head.len();
        }
    }

    fn end_block(&mut self) {
        match self.kind {
            pcapng::EPB => self.packets += 1,
            pcapng::ISB if self.collecting => self.read_counters(),
            _ => {}
        }
        self.collecting = false;
    }

    fn read_counters(&mut self) {
        let Ok((blk, _)) = pcapng::split_block(&self.stats[..self.stats_len], Endian::NATIVE) else { return };
        // Interface id (4 bytes) and timestamp (8) come before the options.
        let Some(options) = blk.body.get(12..) else { return };
        for (code, value) in pcapng::Options::new(options, Endian::NATIVE).flatten() {
            let Ok(v) = <[u8; 8]>::try_from(value).map(u64::from_ne_bytes) else { continue };
            match code {
                259 => self.dropped[0] = v,
                263 => self.dropped[1] = v,
                7 => self.dropped[2] = v,
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cursor::Cursor;
    use crate::record::{Counts, PacketRecord};

    fn stream(buf: &mut [u8]) -> usize {
        let mut c = Cursor::new(buf);
        let rec = PacketRecord { inbound: true, conn: None, pid: None, thread: None, comm: Default::default(), basis: None, netns: None, cgroup: None, container: None, len: 3000 };
        for caplen in [20, 3000, 1] {
            pcapng::packet_block(&mut c, &rec, None, 1, caplen, |d| {
                d.fill(0x45);
                Ok(())
            })
            .unwrap();
        }
        pcapng::loss_statistics(&mut c, 2, &Counts([5, 6, 7])).unwrap();
        pcapng::packet_block(&mut c, &rec, None, 3, 64, |d| {
            d.fill(0);
            Ok(())
        })
        .unwrap();
        c.len()
    }

    #[test]
    fn follows_blocks_across_chunks_of_every_size() {
        let mut buf = [0u8; 8192];
        let n = stream(&mut buf);
        for size in 1..=n {
            let mut t = Tally::default();
            for chunk in buf[..n].chunks(size) {
                t.feed(chunk);
            }
            assert_eq!((t.packets, t.dropped, t.lost_track()), (4, [5, 6, 7], false), "chunks of {size}");
        }
    }

    #[test]
    fn a_block_cut_short_is_not_counted() {
        let mut buf = [0u8; 8192];
        let n = stream(&mut buf);
        let mut t = Tally::default();
        t.feed(&buf[..n - 1]);
        assert_eq!(t.packets, 3);
    }

    #[test]
    fn stops_on_bytes_that_are_not_blocks() {
        let mut t = Tally::default();
        t.feed(&[6, 0, 0, 0, 5, 0, 0, 0]);
        t.feed(&[6, 0, 0, 0, 12, 0, 0, 0, 12, 0, 0, 0]);
        assert!(t.lost_track());
        assert_eq!(t.packets, 0);
    }
}
