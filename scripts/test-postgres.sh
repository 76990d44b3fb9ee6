#!/usr/bin/env bash
# A private PostgreSQL for tests: `start DIR PORT` initializes DIR (once) and starts a server that
# listens on 127.0.0.1:PORT and a socket in DIR; `stop DIR` stops it and removes DIR. Idempotent:
# starting a running server or stopping a stopped one succeeds. As root, the server runs as the
# `postgres` user (initdb refuses root). Prints the connection URL on start.
set -euo pipefail

cmd=${1:-}; dir=${2:-}
[[ -n "$cmd" && -n "$dir" ]] || { echo "usage: $0 start DIR PORT | stop DIR" >&2; exit 2; }

bin=${PG_BIN:-}
if [[ -z "$bin" ]]; then
  for candidate in /usr/lib/postgresql/*/bin; do [[ -x "$candidate/initdb" ]] && bin=$candidate; done
fi
[[ -x "$bin/initdb" ]] || { echo "test-postgres: initdb not found (apt-get install postgresql)" >&2; exit 1; }

as_owner() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
  start)
    port=${3:?port}
    mkdir -p "$dir"
    if [[ $(id -u) -eq 0 ]]; then
      chown postgres: "$dir"
      # The postgres user must be able to reach DIR: let it traverse the (temporary) parent.
      runuser -u postgres -- test -x "$(dirname "$dir")" || chmod o+x "$(dirname "$dir")"
    fi
    chmod 700 "$dir"
    if [[ ! -f "$dir/data/PG_VERSION" ]]; then
      as_owner "$bin/initdb" -D "$dir/data" -U vigil --auth=trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    if ! as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
      as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null \
        || { cat "$dir/server.log" >&2; exit 1; }
    fi
    echo "postgres://vigil@127.0.0.1:$port/postgres"
    ;;
  stop)
    if [[ -f "$dir/data/PG_VERSION" ]]; then
      as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
  *) echo "usage: $0 start DIR PORT | stop DIR" >&2; exit 2 ;;
esac
