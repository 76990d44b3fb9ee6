#!/usr/bin/env bash
# A real OCI distribution registry for tests: Debian's docker-registry (CNCF distribution 2.8) on
# 127.0.0.1, with TLS from a throw-away test CA and htpasswd (bcrypt) basic auth — or, with
# --http, plain HTTP and anonymous access.
#
#   scripts/registry.sh start [--http]   start (or find running) and print `export VAR=...` lines
#   scripts/registry.sh env              print the same lines for a running instance
#   scripts/registry.sh stop             stop it and delete its state directory
#   scripts/registry.sh status           exit 0 if it answers
#
# With VIGIL_REGISTRY_TOKEN_REALM=URL set at start, the registry (still TLS) uses bearer-token
# auth instead of htpasswd, trusting tokens signed with $DIR/token/token.key (the token service at
# URL — a test's — signs RS256 JWTs with it and puts token.crt in the x5c header); service
# "vigil-test-registry", issuer "vigil-test-issuer".
#
# Everything lives in one state directory: $VIGIL_REGISTRY_DIR, default
# ${XDG_CACHE_HOME:-~/.cache}/vigil/registry (or .../registry-http with --http). Tests give each
# run its own directory (test/helpers/registry.ts). Port: $VIGIL_REGISTRY_PORT, else a free one.
# Idempotent: `start` on a running instance only prints its address; `stop` on a stopped one is a
# no-op. Missing packages (docker-registry, apache2-utils, openssl, curl) are installed with apt.
set -euo pipefail

say() { printf 'registry: %s\n' "$*" >&2; }
die() { printf 'registry: error: %s\n' "$*" >&2; exit 1; }

cmd=${1:-}
[[ -n "$cmd" ]] && shift
http=0
for arg in "$@"; do
  case "$arg" in
    --http) http=1 ;;
    *) die "unknown option $arg (usage: registry.sh start|env|stop|status [--http])" ;;
  esac
done

default_dir="${XDG_CACHE_HOME:-$HOME/.cache}/vigil/registry"
((http)) && default_dir+="-http"
DIR=${VIGIL_REGISTRY_DIR:-$default_dir}
USER_NAME=vigil
# A fixed test password: the registry only listens on 127.0.0.1 and lives for one test run.
PASSWORD=vigil-test-password

ensure_packages() {
  local missing=() pkg status
  for pkg in docker-registry apache2-utils openssl curl; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
  done
  ((${#missing[@]} == 0)) && return 0
  [[ $(id -u) -eq 0 ]] || die "missing Debian packages (${missing[*]}); install them as root"
  say "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 \
    || { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2; }
}

free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 20000))
    if ! ss -Htln "sport = :$port" | grep -q .; then
      echo "$port"
      return 0
    fi
  done
  die "no free port found"
}

make_tls() {
  [[ -f "$DIR/tls/server.crt" ]] && return 0
  mkdir -p "$DIR/tls"
  (
    cd "$DIR/tls"
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=Vigil test CA" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
      -keyout ca.key -out ca.crt 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout server.key -out server.csr 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >server.ext
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 \
      -extfile server.ext -out server.crt 2>/dev/null
    rm -f server.csr server.ext ca.srl
  )
}

make_token_key() {
  [[ -f "$DIR/token/token.crt" ]] && return 0
  mkdir -p "$DIR/token"
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=Vigil test token issuer" \
    -keyout "$DIR/token/token.key" -out "$DIR/token/token.crt" 2>/dev/null
}

write_config() {
  local port=$1
  mkdir -p "$DIR/data"
  {
    echo "version: 0.1"
    echo "log: {level: warn, accesslog: {disabled: true}}"
    echo "storage:"
    echo "  filesystem: {rootdirectory: $DIR/data}"
    echo "  delete: {enabled: true}"
    echo "  maintenance: {uploadpurging: {enabled: false}}"
    echo "http:"
    echo "  addr: 127.0.0.1:$port"
    echo "  secret: vigil-test-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
    if ((!http)); then
      echo "  tls: {certificate: $DIR/tls/server.crt, key: $DIR/tls/server.key}"
      echo "auth:"
      if [[ -n "${VIGIL_REGISTRY_TOKEN_REALM:-}" ]]; then
        echo "  token: {realm: \"$VIGIL_REGISTRY_TOKEN_REALM\", service: vigil-test-registry, issuer: vigil-test-issuer, rootcertbundle: $DIR/token/token.crt}"
      else
        echo "  htpasswd: {realm: vigil-test-registry, path: $DIR/htpasswd}"
      fi
    fi
  } >"$DIR/config.yml"
  echo "$port" >"$DIR/port"
  echo "$http" >"$DIR/http"
}

url() {
  if [[ "$(cat "$DIR/http")" == 1 ]]; then echo "http://127.0.0.1:$(cat "$DIR/port")"; else echo "https://127.0.0.1:$(cat "$DIR/port")"; fi
}

# 401 (auth) or 200 (anonymous) from /v2/ means it is up.
answers() {
  [[ -f "$DIR/port" ]] || return 1
  local code ca=()
  [[ -f "$DIR/tls/ca.crt" ]] && ca=(--cacert "$DIR/tls/ca.crt")
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "${ca[@]}" "$(url)/v2/" 2>/dev/null || true)
  [[ "$code" == 200 || "$code" == 401 ]]
}

running() {
  [[ -f "$DIR/pid" ]] && kill -0 "$(cat "$DIR/pid")" 2>/dev/null
}

print_env() {
  local addr
  addr="127.0.0.1:$(cat "$DIR/port")"
  echo "export VIGIL_REGISTRY=$addr"
  echo "export VIGIL_REGISTRY_URL=$(url)"
  echo "export VIGIL_REGISTRY_DIR=$DIR"
  echo "export VIGIL_REGISTRY_PID=$(cat "$DIR/pid")"
  if [[ "$(cat "$DIR/http")" == 1 ]]; then
    echo "export VIGIL_REGISTRY_INSECURE=1"
  else
    echo "export VIGIL_REGISTRY_CA=$DIR/tls/ca.crt"
    echo "export VIGIL_REGISTRY_USERNAME=$USER_NAME"
    echo "export VIGIL_REGISTRY_PASSWORD=$PASSWORD"
    if [[ -f "$DIR/token/token.key" ]]; then
      echo "export VIGIL_REGISTRY_TOKEN_KEY=$DIR/token/token.key"
      echo "export VIGIL_REGISTRY_TOKEN_CERT=$DIR/token/token.crt"
    fi
  fi
}

start() {
  if running && answers; then
    print_env
    return 0
  fi
  running && stop_process
  ensure_packages
  mkdir -p "$DIR"
  chmod 700 "$DIR"
  if ((!http)); then
    make_tls
    htpasswd -Bbc "$DIR/htpasswd" "$USER_NAME" "$PASSWORD" 2>/dev/null
    if [[ -n "${VIGIL_REGISTRY_TOKEN_REALM:-}" ]]; then make_token_key; fi
  fi
  # A free port can be taken between the check and the bind (tests running in parallel open
  # ports too): with a port of our own choosing, such a start is tried again on another one.
  local attempt
  for attempt in 1 2 3 4 5; do
    write_config "${VIGIL_REGISTRY_PORT:-$(free_port)}"
    # setsid: its own process group, so nothing of the caller's (terminal, test runner) reaches it.
    setsid /usr/bin/docker-registry serve "$DIR/config.yml" >"$DIR/registry.log" 2>&1 </dev/null &
    echo $! >"$DIR/pid"
    for _ in $(seq 1 100); do
      if answers; then
        print_env
        return 0
      fi
      running || break
      sleep 0.1
    done
    if ! running && [[ -z "${VIGIL_REGISTRY_PORT:-}" ]] && grep -q "address already in use" "$DIR/registry.log"; then
      rm -f "$DIR/pid"
      continue
    fi
    running || { cat "$DIR/registry.log" >&2; die "docker-registry exited at start (log above)"; }
    stop_process
    die "docker-registry did not answer on $(url) within 10 s"
  done
  cat "$DIR/registry.log" >&2
  die "docker-registry found its port taken $attempt times (log above)"
}

stop_process() {
  [[ -f "$DIR/pid" ]] || return 0
  local pid
  pid=$(cat "$DIR/pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$DIR/pid"
}

stop() {
  [[ -d "$DIR" ]] || return 0
  stop_process
  # Only remove what this script made: refuse anything that does not look like a state directory.
  if [[ -f "$DIR/config.yml" || -d "$DIR/tls" ]]; then
    rm -rf -- "$DIR"
  fi
}

case "$cmd" in
  start) start ;;
  env) running && answers || die "no registry answers for $DIR"; print_env ;;
  stop) stop ;;
  status) running && answers ;;
  *) die "usage: registry.sh start|env|stop|status [--http]" ;;
esac
