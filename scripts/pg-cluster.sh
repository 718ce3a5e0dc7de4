#!/usr/bin/env bash
# Starts or stops a throwaway PostgreSQL cluster for the tests.
#   scripts/pg-cluster.sh start DIR   → prints the admin URL on stdout
#   scripts/pg-cluster.sh stop DIR    → stops it and removes DIR
#   scripts/pg-cluster.sh halt DIR    → stops it and keeps DIR (a later start reuses it)
# PostgreSQL refuses to run as root; as root the cluster runs as `postgres`.
set -euo pipefail

find_bin() {
    local name=$1
    if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return; fi
    local found
    found=$(ls -d /usr/lib/postgresql/*/bin/"$name" 2>/dev/null | sort -V | tail -n 1 || true)
    [ -n "$found" ] && echo "$found"
}

as_pg() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cmd=${1:-}; dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop|halt DIR" >&2; exit 2; }

initdb=$(find_bin initdb || true)
pg_ctl=$(find_bin pg_ctl || true)
if [ -z "$initdb" ] || [ -z "$pg_ctl" ]; then
    echo "error: PostgreSQL server binaries (initdb, pg_ctl) were not found on PATH or in /usr/lib/postgresql/*/bin." >&2
    echo "       The tests run every storage and API test on PostgreSQL too; install PostgreSQL 15 (apt-get install postgresql-15)." >&2
    exit 1
fi

case "$cmd" in
start)
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
        chown postgres "$dir"
    fi
    # TLS offered beside plain connections, with a certificate for
    # 127.0.0.1 signed by a throwaway CA (DIR/ca.crt, beside the
    # certificate `SHOW ssl_cert_file` names), so the tests connect with
    # sslmode=require and verify-full too.
    tls=""
    if command -v openssl >/dev/null 2>&1; then
        if [ ! -f "$dir/server.key" ]; then
            openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=sotay test CA" \
                -keyout "$dir/ca.key" -out "$dir/ca.crt" >/dev/null 2>&1
            openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
                -keyout "$dir/server.key" -out "$dir/server.csr" >/dev/null 2>&1
            printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n' >"$dir/server.ext"
            openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
                -CAcreateserial -days 30 -extfile "$dir/server.ext" -out "$dir/server.crt" >/dev/null 2>&1
            chmod 600 "$dir/server.key"
            if [ "$(id -u)" = 0 ]; then chown postgres "$dir/server.key" "$dir/server.crt"; fi
        fi
        tls="-c ssl=on -c ssl_cert_file=$dir/server.crt -c ssl_key_file=$dir/server.key"
    else
        echo "note: openssl was not found: the cluster runs without TLS, and the TLS test fails" >&2
    fi
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    if [ ! -d "$dir/data" ]; then
        as_pg "$initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
            || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    as_pg "$pg_ctl" -D "$dir/data" -w -l "$dir/log" \
        -o "-k $dir -p $port -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300 -c shared_buffers=128MB $tls" \
        start >/dev/null || { cat "$dir/log" >&2; exit 1; }
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    ;;
stop)
    [ -d "$dir/data" ] && as_pg "$pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
halt)
    [ -d "$dir/data" ] && as_pg "$pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true
    ;;
*)
    echo "usage: $0 start|stop|halt DIR" >&2; exit 2 ;;
esac
