#!/bin/sh
# Build the fuzz targets and run TARGET (policy, http, json, trust, dgram, exec; default:
# policy) for SECONDS (default 20) on a copy of its seed corpus. Exits non-zero
# if the build fails or the fuzzer finds a crash, leak, UB or contract violation
# (artifacts are kept in build/fuzz/artifacts/).
set -eu
seconds=${1:-20}
target=${2:-policy}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
out="$repo/build/fuzz"

case "$target" in
policy | http | json | trust | dgram | exec) ;;
*) echo "run.sh: unknown target $target (policy, http, json, trust, dgram or exec)" >&2; exit 2 ;;
esac
make -s -C "$here" OUT="$out"
work="$out/corpus-$target"
rm -rf "$work"
mkdir -p "$work" "$out/artifacts"
cp "$here"/corpus/"$target"/* "$work"/
dict=""
[ -f "$here/$target.dict" ] && dict="-dict=$here/$target.dict"
# shellcheck disable=SC2086
exec "$out/fuzz_$target" -max_total_time="$seconds" -max_len=8192 -timeout=10 \
	-rss_limit_mb=2048 -print_final_stats=1 $dict \
	-artifact_prefix="$out/artifacts/$target-" "$work"
