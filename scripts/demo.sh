#!/usr/bin/env bash
# The quick start: set up and build, then run the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >&2
node dist/cli/main.js demo
