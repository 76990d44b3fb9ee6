#!/usr/bin/env bash
# The project's test command: set up and build, then run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
npx vitest run
