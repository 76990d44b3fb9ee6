#!/bin/sh
# Build the compiled-policy fuzz target and run it for SECONDS (default 20)
# on a copy of the seed corpus. Exits non-zero if the build fails or the
# fuzzer finds a crash, leak, UB or contract violation (artifacts are kept in
# build/fuzz/artifacts/).
set -eu
seconds=${1:-20}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
out="$repo/build/fuzz"

make -s -C "$here" OUT="$out"
work="$out/corpus"
mkdir -p "$work" "$out/artifacts"
cp "$here"/corpus/policy/* "$work"/
exec "$out/fuzz_policy" -max_total_time="$seconds" -max_len=8192 -timeout=10 \
	-rss_limit_mb=2048 -print_final_stats=1 -dict="$here/policy.dict" \
	-artifact_prefix="$out/artifacts/" "$work"
