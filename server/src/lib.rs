//! Sổ Tay central server: the API the phones sync with, the supervisors'
//! and admins' tools, and the command line that runs it.

pub mod api;
pub mod app;
pub mod auth;
pub mod client_addr;
pub mod config;
pub mod console;
pub mod db;
pub mod demo;
pub mod error;
pub mod import;
pub mod importer;
pub mod ledger;
pub mod ops;
pub mod reports;
pub mod review;
pub mod statement;
pub mod sync;
pub mod uploads;
