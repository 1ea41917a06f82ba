// SPDX-License-Identifier: GPL-2.0

//! The module's load-time parameters, which its C shim defines (`module_param`) and reads back
//! through one getter each, declared in its shim.h: `int hone_param_x(void)` for an `int`,
//! `const char *hone_param_x(void)` for a `charp` (or a constant string of the module).

/// The value of the `int` parameter that the shim's getter `$getter` reads.
#[macro_export]
macro_rules! int_param {
    ($getter:ident) => {{
        // SAFETY: a parameter getter only reads the parameter's variable; no precondition.
        unsafe { $crate::shim::$getter() }
    }};
}

/// The value of the string parameter that the shim's getter `$getter` reads, as a
/// `&'static CStr` (it lives as long as the module); `None` for an unset (NULL) one.
#[macro_export]
macro_rules! charp_param {
    ($getter:ident) => {{
        // SAFETY: a parameter getter only reads the parameter's variable; no precondition.
        let ptr = unsafe { $crate::shim::$getter() };
        if ptr.is_null() {
            None
        } else {
            // A string getter returns a `charp`, which the kernel frees only after the module
            // is gone and which nothing changes while it lives (the module's string parameters
            // are read-only in sysfs, 0444), or a constant of the module; either is
            // NUL-terminated.
            // SAFETY: so the string is valid and unchanged for as long as the module is loaded.
            Some(unsafe { ::kernel::str::CStr::from_char_ptr(ptr) })
        }
    }};
}

/// Sets the `int` parameter that the shim's setter `$setter` writes (what sysfs reads back),
/// to `$value`.
#[macro_export]
macro_rules! set_int_param {
    ($setter:ident, $value:expr) => {{
        let value: i32 = $value;
        // A parameter setter only writes the parameter's variable, which sysfs reads as a whole `int`.
        // SAFETY: no precondition.
        unsafe { $crate::shim::$setter(value) }
    }};
}
