#!/usr/bin/env bash
# Runs every test: formatting and lints, the Rust tests of every crate on
# SQLite and on a throwaway PostgreSQL cluster, among them the end-to-end
# tests of the real server binary, the mobile-core day test through the
# generated Python and Kotlin bindings, and the field book encrypted with
# SQLCipher.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
# A stage's name and the seconds since the start.
stage() { echo "== $1 ($(( $(date +%s) - started )) s)"; }

# Debian packages the tests need, installed here when missing: the
# console's browser tests drive headless Chromium through chromedriver; the
# encrypted field book (SQLCipher) links the system's OpenSSL; the Kotlin
# bindings run on the JVM through JNA; the PostgreSQL test cluster's TLS
# certificates are made with the openssl command.
missing=()
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then missing+=(chromium chromium-driver); fi
if [ ! -f /usr/include/openssl/evp.h ]; then missing+=(libssl-dev); fi
if ! command -v openssl >/dev/null 2>&1; then missing+=(openssl); fi
if [ ! -f /usr/share/java/jna.jar ]; then missing+=(libjna-java); fi
if ! command -v java >/dev/null 2>&1; then missing+=(default-jre-headless); fi
if [ ${#missing[@]} -gt 0 ]; then
    echo "== installing ${missing[*]}"
    if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi

pg_dir=$(mktemp -d /tmp/sotay-pg.XXXXXX)
trap 'bash scripts/pg-cluster.sh stop "$pg_dir"' EXIT
SOTAY_TEST_POSTGRES=$(bash scripts/pg-cluster.sh start "$pg_dir")
export SOTAY_TEST_POSTGRES
echo "== PostgreSQL test cluster: $SOTAY_TEST_POSTGRES"

stage "cargo fmt --check"
cargo fmt --all -- --check

stage "cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings

# The phones' field book encrypted at rest: sotay-core built with SQLCipher
# (a SQLite library of its own, so a build of its own). Selecting the whole
# workspace gives every other dependency the features the build below gives
# it, so only SQLite, rusqlite and sotay-core are built twice. First: its
# cdylib has the same file name as the plain one, which the bindings tests
# load, so the plain build below is the one left in place.
stage "cargo test: the field book encrypted with SQLCipher"
cargo test --workspace --features sotay-core/sqlcipher --test encrypted -- --show-output

# One cargo invocation for every crate: the packages share one build (each
# selection of packages would build its dependencies with other features).
# The end-to-end tests take turns among themselves (one server, browser or
# cluster load at a time); --show-output prints what passing tests report
# (the cuts and kills survived, the figures).
stage "cargo test: unit and integration tests, the real server binary and real field books,"
echo "   the Python and Kotlin bindings (SQLite and PostgreSQL)"
cargo test --workspace -- --show-output

echo "== all tests passed in $(( $(date +%s) - started )) s"
