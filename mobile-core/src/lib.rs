//! Sổ Tay mobile core: the officer's offline field book.
//!
//! [`domain`] holds the business rules and is shared with the server.

pub mod domain;

uniffi::setup_scaffolding!();
