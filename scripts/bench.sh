#!/usr/bin/env bash
# The server's benchmarks on SQLite and on a throwaway PostgreSQL cluster,
# each backend side by side in one run (see docs/BENCHMARKS.md, "Server" and
# "Supervisor approval").
#   bash scripts/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."

dir=$(mktemp -d /tmp/sotay-bench-pg.XXXXXX)
trap 'bash scripts/pg-cluster.sh stop "$dir"' EXIT
SOTAY_BENCH_POSTGRES=$(bash scripts/pg-cluster.sh start "$dir")
export SOTAY_BENCH_POSTGRES

cargo bench -p sotay-server --bench sync
cargo bench -p sotay-server --bench approve
