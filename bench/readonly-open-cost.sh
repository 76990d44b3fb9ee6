#!/usr/bin/env bash
# Cost of an allowed write-open under files.readOnly (issue #6): the open-race probe's `loop`
# (open + write 1 byte + close, N times) on a writable file, with and without the exit-stop
# check, alternating the enforcers in each round. Medians of ROUNDS runs, in ns per open.
#   bash bench/readonly-open-cost.sh OLD_ENFORCER [ROUNDS] [N]
# OLD_ENFORCER: the enforcer before the change (e.g. built from the parent commit).
# ptrace-only: Landlock hidden by the no-landlock probe (mechanisms.files = ptrace, Fargate);
# landlock: the default on this kernel (landlock+ptrace), where nothing should change.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
OLD=${1:?usage: readonly-open-cost.sh OLD_ENFORCER [ROUNDS] [N]}
ROUNDS=${2:-7}
N=${3:-20000}
NEW=$REPO/dist/enforcer/linux-amd64/vigil-enforcer
P=$REPO/build/probes
make -s -C "$REPO/enforcer/tests/probes" >/dev/null
DIR=$(mktemp -d -p "${BENCH_DIR:-/dev/shm}")  # tmpfs: no disk in the truncation
trap 'rm -rf "$DIR"' EXIT
mkdir -p "$DIR/ro" "$DIR/app"
printf 'vigil-policy 1\nfiles.readOnly %s/ro/**\nend\n' "$DIR" >"$DIR/policy"
touch "$DIR/app/f"

one() { # WRAP ENFORCER FLAGS -> ns per open
  local wrap=$1 enf=$2 flags=$3
  if [ "$enf" = none ]; then
    "$P/open-race" loop "$flags" "$DIR/app/f" "$N"
  else
    $wrap "$enf" --mechanism seccomp --events "$DIR/events" --policy "$DIR/policy" -- "$P/open-race" loop "$flags" "$DIR/app/f" "$N"
  fi | sed -n 's/.*ns-per-open=\([0-9]*\).*/\1/p'
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

declare -A R
for ((i = 0; i < ROUNDS; i++)); do
  for flags in trunc append; do
    R[none,$flags]+="$(one "" none $flags) "
    for mode in ptrace landlock; do
      wrap=""; [ $mode = ptrace ] && wrap="$P/no-landlock"
      R[old,$mode,$flags]+="$(one "$wrap" "$OLD" $flags) "
      R[new,$mode,$flags]+="$(one "$wrap" "$NEW" $flags) "
    done
  done
done
echo "N=$N opens per run, $ROUNDS rounds, median ns per open (open+write+close); load: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-10s %-7s %10s %10s %10s %8s\n' files flags no-enforcer before after after/before
for mode in ptrace landlock; do
  for flags in trunc append; do
    base=$(echo ${R[none,$flags]} | tr ' ' '\n' | median)
    o=$(echo ${R[old,$mode,$flags]} | tr ' ' '\n' | median)
    n=$(echo ${R[new,$mode,$flags]} | tr ' ' '\n' | median)
    printf '%-10s %-7s %10s %10s %10s %8.2f\n' $mode $flags "$base" "$o" "$n" "$(echo "$n / $o" | bc -l)"
  done
done
