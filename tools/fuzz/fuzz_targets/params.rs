// SPDX-License-Identifier: GPL-2.0
//! The module-parameter parsers and the text unescaper on arbitrary bytes and output sizes:
//! they accept or refuse, never panic, and what they accept is consistent.
#![no_main]

use hone::params::{check_devname, check_range, parse_guid, parse_hostid, unescape_comment, HostId};
use hone::text::unescape_field;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (first, input) = data.split_first().unwrap_or((&0, data));
    if let Ok(guid) = parse_guid(input) {
        assert_eq!(parse_hostid(input).ok().map(|h| matches!(h, HostId::Guid(g) if g == guid)), Some(true));
    }
    let _ = parse_hostid(input);
    if check_devname(input).is_ok() {
        assert!(!input.is_empty() && !input.contains(&b'/'), "an accepted devname is a file name");
    }
    if input.len() >= 8 {
        let v = i32::from_ne_bytes(input[..4].try_into().unwrap());
        let max = i32::from_ne_bytes(input[4..8].try_into().unwrap());
        if let Ok(u) = check_range(v, max) {
            assert!(v >= 0 && v <= max && u as i32 == v);
        }
    }
    let mut out = vec![0u8; usize::from(*first)];
    let n = unescape_comment(input, &mut out);
    assert!(n <= out.len());
    if let Some(field) = unescape_field(input, &mut out) {
        assert!(field.len() <= input.len());
    }
});
