#!/usr/bin/env bash
# nginx in an ECS task run by `vigil local run`: protected (volumes-from sidecar, entry point through
# /vigil/enforcer with an exec policy, SYS_PTRACE) against the same task unprotected, under wrk on
# loopback, in one run. Target: the protected task serves >= 97% of the unprotected requests/s.
#
#   npm run build && bash bench/nginx-task.sh
#
# Both tasks run at once (--network host, ports 127.0.0.1:$PORT_PLAIN and :$PORT_VIGIL); the wrk
# runs alternate between them (ROUNDS x DURATION each), so a slow period of the machine hits both.
# Writes bench/RESULTS-nginx.md (overwritten). Bounded: every wait has a timeout; both tasks are
# stopped with SIGTERM at the end (and on any failure), and must exit 0.
# Environment: ROUNDS (3), DURATION (10s), CONNECTIONS (32), THREADS (1), PORT_PLAIN (18181), PORT_VIGIL (18182),
# PROFILE: exec (default: an exec policy; writes RESULTS-nginx.md) or full (every protection on: exec rules,
# drift/fileless/loader/reverse shell, files.readOnly and watch, network connect and listen rules; writes
# RESULTS-nginx-full.md).
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-1}
PORT_PLAIN=${PORT_PLAIN:-18181}
PORT_VIGIL=${PORT_VIGIL:-18182}
VIGIL="node $ROOT/dist/cli/main.js"
ENFORCER=$ROOT/dist/enforcer/linux-amd64/vigil-enforcer
PROFILE=${PROFILE:-exec}
case $PROFILE in
  exec) OUT=$BENCH_DIR/RESULTS-nginx.md ;;
  full) OUT=$BENCH_DIR/RESULTS-nginx-full.md ;;
  *) echo "bench-nginx: PROFILE must be exec or full" >&2; exit 2 ;;
esac

die() { echo "bench-nginx: $*" >&2; exit 1; }
log() { echo "bench-nginx: $*" >&2; }

[[ -x $ENFORCER && -f $ROOT/dist/cli/main.js ]] || die "run 'npm run build' first"
command -v wrk >/dev/null || die "wrk not found (apt-get install -y wrk)"
DOCKER=$("$ROOT/scripts/docker-engine.sh" | tail -n 1)
NGINX=$("$ROOT/scripts/test-images.sh" nginx | awk '$1 == "nginx" { print $2 }')
[[ -n $NGINX ]] || die "scripts/test-images.sh built no nginx image"

TMP=$(mktemp -d /tmp/vigil-bench-nginx.XXXXXX)
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do timeout 60 tail --pid="$p" -f /dev/null 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT

# The sidecar image (until `vigil sidecar build` loads one): /vigil/enforcer, VOLUME /vigil.
SIDECAR="vigil-test/sidecar-local:$(sha256sum "$ENFORCER" | cut -c1-12)"
if ! timeout 30 "$DOCKER" image inspect "$SIDECAR" >/dev/null 2>&1; then
  mkdir -p "$TMP/sidecar/vigil"
  install -m 0755 "$ENFORCER" "$TMP/sidecar/vigil/enforcer"
  tar --numeric-owner --owner=0 --group=0 -C "$TMP/sidecar" -cf "$TMP/sidecar.tar" .
  timeout 60 "$DOCKER" import --change 'VOLUME /vigil' --change 'CMD ["/vigil/enforcer", "--noop"]' "$TMP/sidecar.tar" "$SIDECAR" >/dev/null
fi

# JSON-escaped: the compiled policy, one rule a line, ending with a newline.
POLICY='vigil-policy 1\nname bench-nginx\nmode enforce\nexec.deny /usr/bin/wget\nexec.deny /usr/bin/nc*\nend\n'
POLICY_TEXT="exec policy (deny /usr/bin/wget, /usr/bin/nc*; default mechanism)"
if [[ $PROFILE == full ]]; then
  POLICY='vigil-policy 1\nname bench-nginx-full\nmode enforce\nexec.deny /usr/bin/wget\nexec.deny /usr/bin/nc*\nexec.drift block\nexec.fileless block\nexec.loader block\nexec.reverseShell block\nfiles.readOnly /usr/**\nfiles.watch /etc/nginx/**\nnetwork.connect.deny 169.254.170.2/32\nnetwork.connect.deny 169.254.169.254/32\nnetwork.listen.allow '"$PORT_VIGIL"'\nselfProtection on\nend\n'
  POLICY_TEXT="every protection on: exec deny rules, drift/fileless/loader/reverseShell block, files.readOnly /usr/**, files.watch /etc/nginx/**, connect deny 169.254.170.2 and 169.254.169.254, listen allow $PORT_VIGIL (default mechanism)"
fi
cat >"$TMP/plain.json" <<JSON
{ "family": "bench-plain", "containerDefinitions": [
  { "name": "web", "image": "$NGINX", "environment": [{ "name": "NGINX_PORT", "value": "$PORT_PLAIN" }] } ] }
JSON
cat >"$TMP/vigil.json" <<JSON
{ "family": "bench-vigil", "containerDefinitions": [
  { "name": "vigil", "image": "$SIDECAR", "essential": false },
  { "name": "web", "image": "$NGINX",
    "dependsOn": [{ "containerName": "vigil", "condition": "START" }],
    "volumesFrom": [{ "sourceContainer": "vigil", "readOnly": true }],
    "entryPoint": ["/vigil/enforcer", "--", "/docker-entrypoint.sh"],
    "command": ["nginx", "-g", "daemon off;"],
    "linuxParameters": { "capabilities": { "add": ["SYS_PTRACE"] } },
    "environment": [{ "name": "NGINX_PORT", "value": "$PORT_VIGIL" }, { "name": "VIGIL_POLICY", "value": "$POLICY" }] } ] }
JSON

start_task() { # NAME PORT
  $VIGIL local run "$TMP/$1.json" --network host --timeout 900 >"$TMP/$1.out" 2>"$TMP/$1.err" &
  PIDS+=($!)
  local deadline=$((SECONDS + 60))
  until curl -fsS -m 2 "http://127.0.0.1:$2/" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || { cat "$TMP/$1.err" >&2; die "$1 did not serve on 127.0.0.1:$2 within 60s"; }
    sleep 0.3
  done
}
start_task plain "$PORT_PLAIN"
start_task vigil "$PORT_VIGIL"
grep -q '"kind":"lifecycle".*"event":"start"' "$TMP/vigil.err" || die "the protected task shows no enforcer start event"

to_ms() { # wrk latency like 1.23ms / 850.00us / 1.02s
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n = n; else if (v ~ /s$/) n *= 1000; printf "%.3f", n }'
}
bench() { # NAME PORT ROUND
  local out
  out=$(timeout 120 wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "http://127.0.0.1:$2/")
  local rps p99 errors
  rps=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")
  p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' <<<"$out")")
  errors=$(grep -E 'Non-2xx|Socket errors' <<<"$out" || true)
  [[ -z $errors ]] || die "$1: wrk saw errors: $errors"
  printf '%s %s %s %s\n' "$1" "$3" "$rps" "$p99" >>"$TMP/results"
  log "round $3 $1: $rps req/s, p99 $p99 ms"
}

log "warm-up"
timeout 30 wrk -t1 -c8 -d2s "http://127.0.0.1:$PORT_PLAIN/" >/dev/null
timeout 30 wrk -t1 -c8 -d2s "http://127.0.0.1:$PORT_VIGIL/" >/dev/null
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for ((r = 1; r <= ROUNDS; r++)); do
  if ((r % 2)); then bench plain "$PORT_PLAIN" "$r"; bench vigil "$PORT_VIGIL" "$r"
  else bench vigil "$PORT_VIGIL" "$r"; bench plain "$PORT_PLAIN" "$r"; fi
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# Stop both tasks like ECS (SIGTERM): each must exit 0 (nginx's graceful exit through the enforcer).
for i in 0 1; do kill -TERM "${PIDS[$i]}"; done
codes=()
for i in 0 1; do
  set +e; timeout 60 bash -c "while kill -0 ${PIDS[$i]} 2>/dev/null; do sleep 0.2; done"; wait "${PIDS[$i]}"; codes+=($?); set -e
done
PIDS=()
[[ ${codes[0]} == 0 && ${codes[1]} == 0 ]] || die "tasks exited ${codes[*]} after SIGTERM (expected 0 0)"

median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
col() { awk -v n="$1" -v c="$2" '$1 == n { print $c }' "$TMP/results"; }
P_RPS=$(col plain 3 | median); V_RPS=$(col vigil 3 | median)
P_P99=$(col plain 4 | median); V_P99=$(col vigil 4 | median)
# The ratio is the median over rounds of (protected ÷ unprotected in the same round): a slow period
# of the machine lands on both halves of a round.
RATIO=$(awk '{ r[$2, $1] = $3; n[$2] = 1 } END { for (k in n) print 100 * r[k, "vigil"] / r[k, "plain"] }' "$TMP/results" | median)
RATIO=$(printf '%.1f' "$RATIO")
VERDICT=$(awk -v r="$RATIO" 'BEGIN { print (r >= 97) ? "met" : "NOT met" }')

{
  echo "# nginx in a task: protected vs unprotected"
  echo
  echo "Generated by \`bash bench/nginx-task.sh\` — do not edit by hand."
  echo
  echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ); commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "- machine: $(nproc) CPUs, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), kernel $(uname -r); load average $LOAD_BEFORE before, $LOAD_AFTER after"
  echo "- engine: Docker $("$DOCKER" version --format '{{.Server.Version}}'), dockerd --bridge=none; tasks run by \`vigil local run --network host\`"
  echo "- nginx: Debian's $(dpkg-query -W -f='${Version}' nginx) in \`$NGINX\`, 1 worker, access log off, static index.html ($(curl -s "http://127.0.0.1:$PORT_PLAIN/" 2>/dev/null | wc -c || true) bytes)"
  echo "- protected: volumes-from sidecar \`$SIDECAR\` (non-essential), entryPoint \`/vigil/enforcer -- /docker-entrypoint.sh\`, SYS_PTRACE, $POLICY_TEXT"
  echo "- load: \`wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency\` on 127.0.0.1, $ROUNDS rounds alternating between the two tasks; medians over rounds"
  echo
  echo "| task | requests/s (median) | p99 latency ms (median) |"
  echo "|---|---|---|"
  echo "| unprotected | $P_RPS | $P_P99 |"
  echo "| protected | $V_RPS | $V_P99 |"
  echo
  echo "**Protected throughput: $RATIO% of unprotected (median of the per-round ratios) (target ≥ 97%: $VERDICT).** Both tasks stopped with SIGTERM and exited 0."
  echo
  echo "Per round:"
  echo
  echo "| task | round | requests/s | p99 ms |"
  echo "|---|---|---|---|"
  awk '{ printf "| %s | %s | %s | %s |\n", $1, $2, $3, $4 }' "$TMP/results"
  echo
  if [[ $PROFILE == full ]]; then
    echo "Serving a static file does no exec, opens no file for writing and makes no outgoing connection, so"
    echo "no system call of nginx stops: each runs the generated BPF filter (read-only opens and accepted"
    echo "connections are decided in BPF), which is the whole cost."
  else
    echo "Serving a static file does no exec, so after start-up the enforcer is idle: with the seccomp"
    echo "mechanism each system call of nginx runs a small BPF filter (no trace stop), which is the whole cost."
  fi
} >"$OUT"
log "wrote $OUT: protected $RATIO% of unprotected"
