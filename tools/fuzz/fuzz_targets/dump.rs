// SPDX-License-Identifier: GPL-2.0
//! hone-dump on arbitrary input, as text and as JSON, filtered and not: an error is fine, a
//! panic is a bug.
#![no_main]

use hone_dump::{dump, Filter, Printer};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (mode, capture) = data.split_first().unwrap_or((&0, data));
    let filter = if mode & 2 != 0 { Filter::new(Some(1), Some("init".into()), Some(0x10), Some(1), Some("docker:0123456789ab".into())) } else { Filter::default() };
    let mut printer = Printer::new(mode & 1 != 0, filter);
    let _ = dump(capture, &mut printer, &mut std::io::sink());
});
