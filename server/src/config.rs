//! Configuration from the environment.

use std::net::SocketAddr;

/// Where the server listens and what it stores into.
#[derive(Debug, Clone)]
pub struct Config {
    /// `DATABASE_URL`: `postgres://…` for PostgreSQL, otherwise a SQLite file.
    pub database_url: String,
    /// `SOTAY_BIND`.
    pub bind: SocketAddr,
    /// `SOTAY_JWT_SECRET`; when unset a secret is generated and kept in the database.
    pub jwt_secret: Option<String>,
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/sotay.db";
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
