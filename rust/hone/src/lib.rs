// SPDX-License-Identifier: GPL-2.0

//! Hone's shared logic: everything that is neither kernel glue nor userspace I/O.
//!
//! This crate is `no_std` and never allocates. The kernel modules include its source files
//! directly (each module root has `#[path = "../../rust/hone/src"] mod hone { ... }`), the tools
//! in `tools/` depend on it as a crate, and `cargo test` runs its tests on the host.

#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(test)]
extern crate std;

pub mod cursor;
pub mod encoder;
pub mod ioctl;
pub mod attribution;
pub mod container;
pub mod ip;
pub mod params;
pub mod pcapng;
pub mod process_containers;
pub mod process_info;
pub mod record;
pub mod ring;
pub mod section;
pub mod socktab;
pub mod tally;
pub mod text;

/// Hone's release as the repository's `VERSION` file says it: the one place every version
/// (modules, tools, dkms, deb and rpm packages) comes from.
pub const VERSION: &str = trim_line_end(include_str!("../../../VERSION"));

/// `text` without trailing whitespace (the `VERSION` file ends with a newline), at compile time.
const fn trim_line_end(text: &str) -> &str {
    let bytes = text.as_bytes();
    let mut len = bytes.len();
    while len > 0 && bytes[len - 1].is_ascii_whitespace() {
        len -= 1;
    }
    match core::str::from_utf8(bytes.split_at(len).0) {
        Ok(trimmed) => trimmed,
        Err(_) => panic!("VERSION is not UTF-8"),
    }
}

#[cfg(test)]
mod version_tests {
    #[test]
    fn cargo_manifest_agrees_with_the_version_file() {
        assert_eq!(env!("CARGO_PKG_VERSION"), super::VERSION);
        assert!(!super::VERSION.is_empty() && !super::VERSION.contains('\n'));
    }
}
