//! The demo fund.
