//! Master-data import: CSV files (and the demo generator) → [`rows::ImportSet`].

pub mod csv;
pub mod rows;
