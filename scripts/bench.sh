#!/usr/bin/env bash
# The server's benchmarks on SQLite and on a throwaway PostgreSQL cluster,
# measured side by side in one run (see docs/BENCHMARKS.md, "Server" and
# "Reports").
#   bash scripts/bench.sh            # both
#   bash scripts/bench.sh sync       # one of them: sync or reports
set -euo pipefail
cd "$(dirname "$0")/.."

dir=$(mktemp -d /tmp/sotay-bench-pg.XXXXXX)
trap 'bash scripts/pg-cluster.sh stop "$dir"' EXIT
SOTAY_BENCH_POSTGRES=$(bash scripts/pg-cluster.sh start "$dir")
export SOTAY_BENCH_POSTGRES

which=${1:-all}
if [ "$which" = all ] || [ "$which" = sync ]; then
    cargo bench -p sotay-server --bench sync
fi
# Reports over 10 million repayments: generating the data takes minutes and
# several GB of disk (it is never part of the test command).
if [ "$which" = all ] || [ "$which" = reports ]; then
    cargo bench -p sotay-server --bench reports
fi
