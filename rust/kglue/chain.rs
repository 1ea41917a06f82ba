// SPDX-License-Identifier: GPL-2.0

//! The chains of events between Hone's modules (`c/hone_interface.h`). Each chain's tag lives
//! with its event type: `process_event`, `socket_notice`, `packet_notice`, `hone_event`. Every
//! module compiles the same files, so the types agree across module boundaries. A chain call
//! lends `&E` to each subscriber for the call.

/// A chain of events between Hone's modules (`c/hone_interface.h`): what it lends its
/// subscribers for a call. The module that publishes on it (`publisher!`) and those that
/// subscribe to it (`source!`) name the chain, so both sides agree on the type.
pub(crate) trait Chain {
    /// The event, which may borrow (`'a`) what the publisher lends with it.
    type Event<'a>;
}
