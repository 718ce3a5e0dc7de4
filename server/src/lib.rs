//! Sổ Tay central server.

pub mod demo;
pub mod import;
