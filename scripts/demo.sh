#!/usr/bin/env bash
# The quick start: set up and build, then run the demo (arguments go to `vigil demo`, e.g. --no-wait).
# In a terminal the demo keeps its console up until Ctrl-C; exec lets that Ctrl-C reach it alone.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >&2
exec node dist/cli/main.js demo "$@"
