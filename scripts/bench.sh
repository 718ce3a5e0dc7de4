#!/usr/bin/env bash
# The server's benchmarks on SQLite and on a throwaway PostgreSQL cluster,
# each backend side by side in one run (see docs/BENCHMARKS.md, "Server",
# "Supervisor approval" and "Reports").
#   bash scripts/bench.sh            # all three
#   bash scripts/bench.sh sync       # one of them: sync, approve or reports
# With SOTAY_BENCH_DATA=DIR the reports bench keeps its generated databases
# in DIR (PostgreSQL in a cluster kept in DIR/pg) and measures them again on
# the next run instead of generating them (see server/benches/reports.rs).
set -euo pipefail
cd "$(dirname "$0")/.."

which=${1:-all}
case "$which" in
all | sync | approve | reports) ;;
*) echo "usage: $0 [all|sync|approve|reports]" >&2; exit 2 ;;
esac

if [ -n "${SOTAY_BENCH_DATA:-}" ]; then
    mkdir -p "$SOTAY_BENCH_DATA"
    SOTAY_BENCH_DATA=$(cd "$SOTAY_BENCH_DATA" && pwd)
    export SOTAY_BENCH_DATA
    dir=$SOTAY_BENCH_DATA/pg
    trap 'bash scripts/pg-cluster.sh halt "$dir"' EXIT
else
    dir=$(mktemp -d /tmp/sotay-bench-pg.XXXXXX)
    trap 'bash scripts/pg-cluster.sh stop "$dir"' EXIT
fi
SOTAY_BENCH_POSTGRES=$(bash scripts/pg-cluster.sh start "$dir")
export SOTAY_BENCH_POSTGRES

for bench in sync approve reports; do
    if [ "$which" = all ] || [ "$which" = "$bench" ]; then
        # Reports over 10 million repayments: generating the data takes
        # minutes and several GB of disk (never part of the test command).
        cargo bench -p sotay-server --bench "$bench"
    fi
done
