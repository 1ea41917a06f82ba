// SPDX-License-Identifier: GPL-2.0

//! The `module!` declaration of a Hone module, in the form the kernel's macro takes.

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
