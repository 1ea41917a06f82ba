// SPDX-License-Identifier: GPL-2.0
//! The decoders of rust/hone on arbitrary bytes, and the text formatter of what they accept.
#![no_main]

use hone::cursor::Cursor;
use hone::pcapng::{decode_connection, decode_packet, decode_process, split_block, Endian, Options};
use hone::{ip, text};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut line = vec![0u8; 1 << 18];
    for endian in [Endian::Little, Endian::Big] {
        if let Ok((block, _)) = split_block(data, endian) {
            if let Ok((rec, ts)) = decode_process(block.body, endian) {
                let _ = text::process(&mut Cursor::new(&mut line), ts, &rec);
            }
            if let Ok((rec, ts)) = decode_connection(block.body, endian) {
                let _ = text::socket(&mut Cursor::new(&mut line), ts, &rec);
            }
            if let Ok((rec, ts, bytes)) = decode_packet(block.body, endian) {
                let _ = text::packet(&mut Cursor::new(&mut line), ts, &rec, bytes);
            }
        }
        for opt in Options::new(data, endian) {
            let _ = opt;
        }
    }
    let _ = ip::summarize(data);
    let _ = ip::echo(data);
});
