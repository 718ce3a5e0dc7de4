//! Harness for end-to-end tests: starts the real server binary and a throwaway PostgreSQL.
