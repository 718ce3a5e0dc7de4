//! Business rules shared by the phones and the server. Pure Rust: no I/O.

pub mod gifts;
pub mod ids;
pub mod money;
pub mod rules;
pub mod schedule;
pub mod text;
pub mod time;
