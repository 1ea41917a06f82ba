// SPDX-License-Identifier: GPL-2.0

// Included by each crate root inside `mod shim { ... }`, next to the bindgen output of the
// module's `c/shim.h`, which names the kernel's types as C does: they are in scope here.

#[allow(unused_imports)]
use kernel::bindings::*;
#[allow(unused_imports)]
use kernel::ffi;
