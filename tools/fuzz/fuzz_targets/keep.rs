// SPDX-License-Identifier: GPL-2.0
//! hone-read's --container/--cgroup filter on arbitrary bytes cut into arbitrary chunks: it never
//! panics, and what it keeps (or where it finds the stream malformed) does not depend on where
//! reads happened to cut the stream.
#![no_main]

use hone_dump::keep::{Keep, Want};
use libfuzzer_sys::fuzz_target;

fn keep(want: &Want, stream: &[u8], mut size: usize) -> (Vec<u8>, bool) {
    let mut k = Keep::new(want.clone());
    let mut out = Vec::new();
    let mut rest = stream;
    while !rest.is_empty() {
        let (chunk, tail) = rest.split_at(size.min(rest.len()));
        if k.feed(chunk, &mut out).is_err() {
            return (out, false);
        }
        rest = tail;
        size = size * 7 % 251 + 1;
    }
    (out, true)
}

fuzz_target!(|data: &[u8]| {
    let Some((&cut, stream)) = data.split_first() else { return };
    let want = if cut & 1 == 0 { Want::Cgroup(u64::from(cut)) } else { Want::Container("docker:3f2a9c0d5e8b".into()) };
    let whole = keep(&want, stream, stream.len().max(1));
    let chunked = keep(&want, stream, usize::from(cut) + 1);
    assert_eq!(whole, chunked);
});
