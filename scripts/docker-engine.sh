#!/usr/bin/env bash
# Makes sure a Docker Engine answers on this machine, the way Vigil's tests and CI need it:
#   dockerd --bridge=none --iptables=false --ip6tables=false
# No bridge network is ever created; containers use --network none / host / container:ID.
#
# Idempotent: installs Debian's docker.io only when dockerd is missing, starts dockerd only when
# `docker info` does not answer, then waits (bounded) until it does. Fails loudly otherwise.
#
# Environment:
#   VIGIL_DOCKERD_LOG      dockerd's log file          (default /var/log/vigil-dockerd.log)
#   VIGIL_DOCKERD_PIDFILE  dockerd's pidfile           (default /run/vigil-dockerd.pid)
#   VIGIL_DOCKERD_WAIT     seconds to wait for dockerd (default 60)
#
# Prints the docker client to use (its absolute path) as the last line of stdout, so callers can
# do `docker=$(scripts/docker-engine.sh | tail -n1)`.
set -euo pipefail

LOG=${VIGIL_DOCKERD_LOG:-/var/log/vigil-dockerd.log}
PIDFILE=${VIGIL_DOCKERD_PIDFILE:-/run/vigil-dockerd.pid}
WAIT=${VIGIL_DOCKERD_WAIT:-60}

say() { printf 'docker-engine: %s\n' "$*" >&2; }
die() {
  printf 'docker-engine: error: %s\n' "$*" >&2
  if [[ -f "$LOG" ]]; then
    printf 'docker-engine: last lines of %s:\n' "$LOG" >&2
    tail -n 30 "$LOG" >&2 || true
  fi
  exit 1
}

# A docker client that works with the engine: the one on PATH (e.g. /usr/local/bin/docker), else
# Debian's /usr/bin/docker from docker.io.
pick_client() {
  local c
  for c in "$(command -v docker 2>/dev/null || true)" /usr/local/bin/docker /usr/bin/docker; do
    [[ -n "$c" && -x "$c" ]] || continue
    printf '%s\n' "$c"
    return 0
  done
  return 1
}

answers() { timeout 10 "$DOCKER" info >/dev/null 2>&1; }

if ! command -v dockerd >/dev/null 2>&1; then
  [[ $(id -u) -eq 0 ]] || die "dockerd is missing; run this script as root to install docker.io"
  say "installing docker.io"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || die "apt-get update failed"
  apt-get install -y -qq --no-install-recommends docker.io >&2 || die "apt-get install docker.io failed"
  command -v dockerd >/dev/null 2>&1 || die "docker.io installed but dockerd is still not on PATH"
fi

DOCKER=$(pick_client) || die "no docker client found"

if answers; then
  say "engine already answers ($DOCKER)"
  printf '%s\n' "$DOCKER"
  exit 0
fi

# Not answering: is our dockerd still starting (pidfile names a live dockerd)? Then only wait.
running=""
if [[ -f "$PIDFILE" ]]; then
  pid=$(cat "$PIDFILE" 2>/dev/null || true)
  if [[ "$pid" =~ ^[0-9]+$ ]] && [[ "$(cat "/proc/$pid/comm" 2>/dev/null || true)" == dockerd ]]; then
    running=$pid
    say "dockerd (pid $pid) is running but not answering yet; waiting"
  fi
fi
# Docker's own default pidfile also counts (an engine started by someone else).
if [[ -z "$running" && -f /var/run/docker.pid ]]; then
  pid=$(cat /var/run/docker.pid 2>/dev/null || true)
  if [[ "$pid" =~ ^[0-9]+$ ]] && [[ "$(cat "/proc/$pid/comm" 2>/dev/null || true)" == dockerd ]]; then
    running=$pid
    say "a dockerd (pid $pid) is running but not answering yet; waiting"
  fi
fi

if [[ -z "$running" ]]; then
  [[ $(id -u) -eq 0 ]] || die "the Docker engine does not answer and starting dockerd needs root"
  mkdir -p "$(dirname "$LOG")" "$(dirname "$PIDFILE")"
  say "starting dockerd --bridge=none --iptables=false --ip6tables=false (log $LOG)"
  # setsid: the daemon outlives this script and the test process that called it.
  setsid dockerd --bridge=none --iptables=false --ip6tables=false --pidfile "$PIDFILE" \
    >>"$LOG" 2>&1 </dev/null &
  running=$!
fi

deadline=$((SECONDS + WAIT))
until answers; do
  if ! kill -0 "$running" 2>/dev/null; then
    # Raced with another starter? Then its engine may answer now.
    answers && break
    die "dockerd exited before answering"
  fi
  ((SECONDS < deadline)) || die "dockerd did not answer within ${WAIT}s"
  sleep 0.5
done

say "engine answers ($DOCKER, server $("$DOCKER" version --format '{{.Server.Version}}' 2>/dev/null || echo '?'))"
printf '%s\n' "$DOCKER"
