// SPDX-License-Identifier: GPL-2.0

//! How a Hone module declares itself: its `module!`, in the form the kernel's macro takes, and
//! the functions it defines for C to call, checked against their C declarations.

/// Declares a Hone module: `hone_module! { type: T, name: "n", description: "d" }` becomes the
/// kernel's `module!` with Hone's author and licence, under the key the kernel being built
/// against knows (`authors: [..]` since 6.15, `author:` before).
#[macro_export]
macro_rules! hone_module {
    (type: $type:ident, name: $name:tt, description: $description:tt $(,)?) => {
        #[cfg(hone_module_authors)]
        kernel::prelude::module! {
            type: $type,
            name: $name,
            authors: ["Hone developers"],
            description: $description,
            license: "GPL",
        }
        #[cfg(not(hone_module_authors))]
        kernel::prelude::module! {
            type: $type,
            name: $name,
            author: "Hone developers",
            description: $description,
            license: "GPL",
        }
    };
}

/// Checks, when compiling, that the function `$f` this crate defines for C (another module, or
/// its own shim) has the type that its C declaration, through bindgen, gives it in
/// `crate::shim`: the array only type-checks if both coerce to one function pointer type.
#[macro_export]
macro_rules! declared_in_c {
    ($f:ident) => {
        const _: () = {
            let _ = [$f, $crate::shim::$f];
        };
    };
}
