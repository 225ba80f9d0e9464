//! The port conformance suite: backend-agnostic test functions that every adapter must pass.
//!
//! In the spirit of object_store's `integration.rs`: each adapter's tests call these functions
//! with a fresh store (see `tests/conformance.rs`). A failure panics with a message naming the
//! broken rule, so the functions are used like assertions. They are public so that adapters
//! outside this crate can be held to the same contract.

mod artifacts;
mod blob;
mod metadata;
mod registry;

pub use artifacts::*;
pub use blob::*;
pub use metadata::*;
pub use registry::*;
