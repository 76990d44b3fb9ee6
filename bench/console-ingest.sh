#!/usr/bin/env bash
# Console ingest benchmark: events/s into a real `vigil console` over HTTP on 127.0.0.1, with
# SQLite (a temp file) and with PostgreSQL (a private server from scripts/test-postgres.sh).
#
#   npm run build && bash bench/console-ingest.sh [--runs N] [--enforcers N] [--batches N] [--no-postgres]
#
# Writes bench/RESULTS-console.md (overwritten). Everything it starts (consoles, PostgreSQL) and
# every temp dir is stopped and removed on exit, also on failure or Ctrl-C.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
die() { echo "bench: $*" >&2; exit 1; }

postgres=1
args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --no-postgres) postgres=0; shift ;;
    --runs|--enforcers|--batches) [[ $# -ge 2 ]] || die "$1 needs a value"; args+=("$1" "$2"); shift 2 ;;
    *) die "unknown argument $1 (usage: bash bench/console-ingest.sh [--runs N] [--enforcers N] [--batches N] [--no-postgres])" ;;
  esac
done

[[ -f $ROOT/dist/cli/main.js ]] || die "$ROOT/dist/cli/main.js missing: run 'npm run build' first"

TMP=$(mktemp -d /tmp/vigil-bench-console.XXXXXX)
cleanup() {
  [[ -d $TMP/pg ]] && "$ROOT/scripts/test-postgres.sh" stop "$TMP/pg" || true
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The console runs from a copy of dist/, so a rebuild during the run cannot mix two builds.
mkdir -p "$TMP/vigil"
cp -r "$ROOT/dist" "$ROOT/package.json" "$TMP/vigil/"
ln -s "$ROOT/node_modules" "$TMP/vigil/node_modules"
export VIGIL_BENCH_CLI=$TMP/vigil/dist/cli/main.js

results=()
echo "bench: SQLite" >&2
node "$BENCH_DIR/console-ingest.mjs" --db sqlite --json "$TMP/sqlite.json" "${args[@]}"
results+=("$TMP/sqlite.json")

if [[ $postgres -eq 1 ]]; then
  # A free port on loopback, then a private server on it.
  port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
  url=$("$ROOT/scripts/test-postgres.sh" start "$TMP/pg" "$port")
  echo "bench: PostgreSQL ($url)" >&2
  node "$BENCH_DIR/console-ingest.mjs" --db "$url" --json "$TMP/postgres.json" "${args[@]}"
  results+=("$TMP/postgres.json")
fi

node "$BENCH_DIR/console-ingest.mjs" --render "$BENCH_DIR/RESULTS-console.md" "${results[@]}"
echo "bench: wrote $BENCH_DIR/RESULTS-console.md" >&2
