//! Tests of the CSV reader and writer.
