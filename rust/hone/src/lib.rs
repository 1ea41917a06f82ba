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
pub mod ioctl;
pub mod ip;
pub mod params;
pub mod pcapng;
pub mod record;
pub mod ring;
pub mod socktab;
pub mod text;
