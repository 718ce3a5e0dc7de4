//! Reading and writing the import CSV files.
