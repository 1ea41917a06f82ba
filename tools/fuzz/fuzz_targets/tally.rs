// SPDX-License-Identifier: GPL-2.0
//! hone-read's stream follower on arbitrary bytes cut into arbitrary chunks: it never panics,
//! and what it reports does not depend on where reads happened to cut the stream.
#![no_main]

use hone::tally::Tally;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&cut, stream)) = data.split_first() else { return };
    let mut whole = Tally::default();
    whole.feed(stream);
    let mut chunked = Tally::default();
    let mut rest = stream;
    let mut size = usize::from(cut) + 1;
    while !rest.is_empty() {
        let (chunk, tail) = rest.split_at(size.min(rest.len()));
        chunked.feed(chunk);
        rest = tail;
        size = size * 7 % 251 + 1;
    }
    assert_eq!(
        (whole.packets, whole.dropped, whole.lost_track()),
        (chunked.packets, chunked.dropped, chunked.lost_track())
    );
});
