#!/usr/bin/env bash
# Runs every test: formatting and lints, the Rust tests of every crate on
# SQLite and on a throwaway PostgreSQL cluster, among them the end-to-end
# tests of the real server binary and the mobile-core day test through the
# generated Python bindings.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)

# The console's browser tests drive headless Chromium through chromedriver
# (Debian packages); installed here when missing.
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    echo "== installing Chromium and chromedriver for the console's browser tests"
    if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver
fi

pg_dir=$(mktemp -d /tmp/sotay-pg.XXXXXX)
trap 'bash scripts/pg-cluster.sh stop "$pg_dir"' EXIT
SOTAY_TEST_POSTGRES=$(bash scripts/pg-cluster.sh start "$pg_dir")
export SOTAY_TEST_POSTGRES
echo "== PostgreSQL test cluster: $SOTAY_TEST_POSTGRES"

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings

# One cargo invocation for every crate: the packages share one build (each
# selection of packages would build its dependencies with other features).
# The end-to-end tests take turns among themselves (one server, browser or
# cluster load at a time); --show-output prints what passing tests report
# (the cuts and kills survived, the figures).
echo "== cargo test: unit and integration tests, the real server binary and real field books,"
echo "   the Python bindings (SQLite and PostgreSQL)"
cargo test --workspace -- --show-output

echo "== all tests passed in $(( $(date +%s) - started )) s"
