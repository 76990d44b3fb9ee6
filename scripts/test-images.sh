#!/usr/bin/env bash
# Builds the small images the enforcer is tested in, without pulling anything: each one is a
# tarball assembled from this machine's files (or a cached debootstrap) and `docker import`ed.
#
#   vigil-test/scratch          a static busybox and applet links (sh true id ls cat sleep), nothing else
#   vigil-test/alpine-like      musl's loader/libc, musl-gcc programs (dynamic), static busybox for sh
#   vigil-test/distroless-like  glibc only (loader + libc.so.6 + what the programs need), no shell
#   vigil-test/debian           debootstrap --variant=minbase bookworm (tarball cached, built once)
#   vigil-test/nginx            Debian's nginx (binary, libraries, mime.types) + static busybox; like the
#                               official image: ENTRYPOINT ["/docker-entrypoint.sh"], CMD ["nginx", "-g",
#                               "daemon off;"]; serves /usr/share/nginx/html on 127.0.0.1:$NGINX_PORT (8080);
#                               $APP_BACKGROUND, if set, is a shell command the app runs in the background;
#                               /usr/bin/wget and /usr/bin/nc are busybox copies (deniable by path)
#   vigil-test/python           the debian image + Debian's python3 (interpreter, standard library, the
#                               libraries its modules load): a small web app, CMD ["python3", "/app/app.py"],
#                               on 127.0.0.1:$PORT (8000): GET / says hello; GET /run?cmd=ARGV runs ARGV
#                               (split like a shell, no shell) and answers status=N and its output — a
#                               command-injection hole on purpose, the way an attacker makes an app exec;
#                               SIGTERM: stops serving, exits 0
#
# The images hold NO enforcer: tests bind-mount dist/enforcer/linux-amd64/vigil-enforcer read-only
# at /vigil/enforcer, as the ECS sidecar volume does.
#
# Test programs (test/images/programs/*.c) are installed as /usr/bin/* (alpine-like) and /app/*
# (distroless-like): hello [CODE], forbidden, try-exec PATH..., waiter.
#
# Idempotent and cached: every image is tagged vigil-test/NAME:h-<hash of its inputs> (this
# script, the program sources, the Debian package versions it copies from, the debootstrap
# tarball) and :latest. An image whose hash tag exists is not rebuilt.
#
# Usage: scripts/test-images.sh [--force] [NAME...]      (default: all)
# Prints one line per image on stdout: NAME REF   e.g. "scratch vigil-test/scratch:h-0123456789ab"
#
# Environment:
#   VIGIL_CACHE_DIR     where the debootstrap tarball is kept (default /var/cache/vigil as root,
#                       else ~/.cache/vigil)
#   VIGIL_DEBIAN_MIRROR (default http://deb.debian.org/debian)
#   VIGIL_DEBIAN_SUITE  (default bookworm)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SELF="$ROOT/scripts/test-images.sh"
PROGRAMS_DIR="$ROOT/test/images/programs"
PROGRAMS=(hello forbidden try-exec waiter)
ALL_IMAGES=(scratch alpine-like distroless-like debian nginx python)

if [[ $(id -u) -eq 0 ]]; then
  CACHE_DIR=${VIGIL_CACHE_DIR:-/var/cache/vigil}
else
  CACHE_DIR=${VIGIL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/vigil}
fi
MIRROR=${VIGIL_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=${VIGIL_DEBIAN_SUITE:-bookworm}
DEFAULT_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

say() { printf 'test-images: %s\n' "$*" >&2; }
die() { printf 'test-images: error: %s\n' "$*" >&2; exit 1; }

force=0
wanted=()
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    -h|--help) sed -n '2,34p' "$SELF"; exit 0 ;;
    scratch|alpine-like|distroless-like|debian|nginx|python) wanted+=("$arg") ;;
    *) die "unknown argument: $arg (images: ${ALL_IMAGES[*]})" ;;
  esac
done
((${#wanted[@]} > 0)) || wanted=("${ALL_IMAGES[@]}")

# --- prerequisites -----------------------------------------------------------------------------
# Debian's python3 as the python image copies it (the packages' files, then any library missing).
PYTHON_PKGS=(python3-minimal python3.11-minimal libpython3.11-minimal libpython3-stdlib libpython3.11-stdlib python3)
need_pkgs=(busybox-static musl musl-tools gcc libc6-dev)
for img in "${wanted[@]}"; do
  [[ $img == debian ]] && need_pkgs+=(debootstrap)
  [[ $img == nginx ]] && need_pkgs+=(nginx)
  [[ $img == python ]] && need_pkgs+=(debootstrap "${PYTHON_PKGS[@]}")
done
missing=()
for pkg in "${need_pkgs[@]}"; do
  [[ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)" == "install ok installed" ]] || missing+=("$pkg")
done
if ((${#missing[@]} > 0)); then
  [[ $(id -u) -eq 0 ]] || die "missing Debian packages (${missing[*]}); run as root"
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

DOCKER=$("$ROOT/scripts/docker-engine.sh" | tail -n 1)
[[ -x "$DOCKER" ]] || die "scripts/docker-engine.sh did not name a docker client"
dk() { timeout 300 "$DOCKER" "$@"; }

WORK=$(mktemp -d /tmp/vigil-test-images.XXXXXX)
cleanup() {
  # never delete through a mount that debootstrap may have left behind
  if grep -q " $WORK/" /proc/mounts 2>/dev/null; then
    say "leaving $WORK in place: something is still mounted below it"
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT

# --- helpers -----------------------------------------------------------------------------------
pkg_versions() { dpkg-query -W -f='${Package}=${Version}\n' "$@" 2>/dev/null | sort; }

hash_of() { sha256sum | cut -c1-12; }

image_exists() { dk image inspect "$1" >/dev/null 2>&1; }

# import ROOTFS_DIR REF [--change ...]: a tarball of the directory, owned by root, imported.
import_dir() {
  local dir=$1 ref=$2
  shift 2
  tar --numeric-owner --owner=0 --group=0 --sort=name --mtime=@0 -C "$dir" -cf - . |
    dk import "$@" --message "vigil test image (scripts/test-images.sh)" - "$ref" >/dev/null
}

finish() { # NAME REF: tag :latest, drop older h-* tags of NAME, print the line
  dk tag "$2" "vigil-test/$1:latest"
  local tag
  for tag in $(dk images "vigil-test/$1" --format '{{.Tag}}'); do
    [[ $tag == h-* && "vigil-test/$1:$tag" != "$2" ]] || continue
    dk rmi "vigil-test/$1:$tag" >/dev/null 2>&1 || true
  done
  printf '%s %s\n' "$1" "$2"
}

compile() { # CC OUTDIR
  local cc=$1 out=$2 p
  mkdir -p "$out"
  for p in "${PROGRAMS[@]}"; do
    "$cc" -O2 -Wall -Wextra -Werror -o "$out/$p" "$PROGRAMS_DIR/$p.c"
    strip "$out/$p"
  done
}

busybox_links() { # DIR APPLET...
  local dir=$1
  shift
  install -D -m 0755 /bin/busybox "$dir/bin/busybox"
  file_is_static /bin/busybox || die "/bin/busybox is not static (install busybox-static)"
  local a
  for a in "$@"; do ln -s busybox "$dir/bin/$a"; done
}

file_is_static() { ! LC_ALL=C readelf -l "$1" 2>/dev/null | grep -q 'Requesting program interpreter'; }

etc_files() { # DIR: a root and a nonroot (65532, as distroless) user, /tmp
  local dir=$1
  mkdir -p "$dir/etc" "$dir/tmp" "$dir/home/nonroot"
  chmod 1777 "$dir/tmp"
  chown 65532:65532 "$dir/home/nonroot"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$dir/etc/passwd"
  printf 'root:x:0:\nnonroot:x:65532:\n' >"$dir/etc/group"
}

common_inputs() { cat "$SELF"; for p in "${PROGRAMS[@]}"; do cat "$PROGRAMS_DIR/$p.c"; done; }

# --- images ------------------------------------------------------------------------------------
build_scratch() {
  local h ref dir
  h=$({ echo scratch; cat "$SELF"; pkg_versions busybox-static; } | hash_of)
  ref="vigil-test/scratch:h-$h"
  if ((force == 0)) && image_exists "$ref"; then finish scratch "$ref"; return; fi
  say "building $ref"
  dir="$WORK/scratch"
  mkdir -p "$dir"
  busybox_links "$dir" sh true id ls cat sleep
  import_dir "$dir" "$ref" --change "ENV PATH=/bin" --change 'CMD ["/bin/sh"]'
  finish scratch "$ref"
}

build_alpine_like() {
  local h ref dir
  h=$({ echo alpine-like; common_inputs; pkg_versions busybox-static musl musl-dev musl-tools gcc; } | hash_of)
  ref="vigil-test/alpine-like:h-$h"
  if ((force == 0)) && image_exists "$ref"; then finish alpine-like "$ref"; return; fi
  say "building $ref"
  dir="$WORK/alpine-like"
  mkdir -p "$dir/lib" "$dir/usr/bin" "$dir/usr/lib"
  # Alpine's layout: the loader is libc; libc.musl-x86_64.so.1 names the same file.
  install -m 0755 "$(readlink -f /lib/ld-musl-x86_64.so.1)" "$dir/lib/ld-musl-x86_64.so.1"
  ln -s ld-musl-x86_64.so.1 "$dir/lib/libc.musl-x86_64.so.1"
  busybox_links "$dir" sh true id ls cat sleep env echo
  compile musl-gcc "$WORK/musl-bin"
  local p
  for p in "${PROGRAMS[@]}"; do
    LC_ALL=C readelf -l "$WORK/musl-bin/$p" | grep -q 'interpreter: /lib/ld-musl-x86_64.so.1' ||
      die "musl-gcc did not link $p dynamically against musl"
    install -m 0755 "$WORK/musl-bin/$p" "$dir/usr/bin/$p"
  done
  etc_files "$dir"
  import_dir "$dir" "$ref" --change "ENV PATH=$DEFAULT_PATH" --change 'CMD ["/bin/sh"]'
  finish alpine-like "$ref"
}

build_distroless_like() {
  local h ref dir
  h=$({ echo distroless-like; common_inputs; pkg_versions libc6 gcc libc6-dev; } | hash_of)
  ref="vigil-test/distroless-like:h-$h"
  if ((force == 0)) && image_exists "$ref"; then finish distroless-like "$ref"; return; fi
  say "building $ref"
  dir="$WORK/distroless-like"
  mkdir -p "$dir/app"
  compile gcc "$WORK/glibc-bin"
  local p lib interp
  for p in "${PROGRAMS[@]}"; do
    install -m 0755 "$WORK/glibc-bin/$p" "$dir/app/$p"
    # every library ldd names, at the path it names (contents of the real file)
    while read -r lib; do
      [[ -e "$dir$lib" ]] && continue
      install -D -m 0755 "$(readlink -f "$lib")" "$dir$lib"
    done < <(ldd "$WORK/glibc-bin/$p" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }')
    interp=$(LC_ALL=C readelf -l "$WORK/glibc-bin/$p" | sed -n 's/.*interpreter: \(.*\)]$/\1/p')
    [[ -n "$interp" ]] || die "gcc did not link $p dynamically"
    if [[ ! -e "$dir$interp" && ! -L "$dir$interp" ]]; then
      # as on Debian (and distroless): /lib64/ld-linux-x86-64.so.2 -> /lib/x86_64-linux-gnu/...
      local real multiarch_path
      real=$(readlink -f "$interp")
      multiarch_path="/lib/x86_64-linux-gnu/$(basename "$real")"
      install -D -m 0755 "$real" "$dir$multiarch_path"
      if [[ "$interp" != "$multiarch_path" ]]; then
        mkdir -p "$(dirname "$dir$interp")"
        ln -s "$multiarch_path" "$dir$interp"
      fi
    fi
  done
  etc_files "$dir"
  import_dir "$dir" "$ref" --change "ENV PATH=$DEFAULT_PATH" --change 'CMD ["/app/hello"]'
  finish distroless-like "$ref"
}

debian_tarball() { # prints the cached tarball's path, building it once
  local tarball="$CACHE_DIR/debian-$SUITE-minbase-amd64.tar"
  if [[ -s "$tarball" && -s "$tarball.sha256" ]]; then
    printf '%s\n' "$tarball"
    return
  fi
  mkdir -p "$CACHE_DIR"
  local dir="$WORK/debian"
  say "debootstrap --variant=minbase $SUITE from $MIRROR (once; cached in $tarball)"
  local started=$SECONDS
  if ! debootstrap --variant=minbase --arch=amd64 "$SUITE" "$dir" "$MIRROR" >"$WORK/debootstrap.log" 2>&1; then
    tail -n 40 "$WORK/debootstrap.log" >&2
    [[ -f "$dir/debootstrap/debootstrap.log" ]] && tail -n 40 "$dir/debootstrap/debootstrap.log" >&2
    die "debootstrap failed"
  fi
  grep -q " $dir/" /proc/mounts && die "debootstrap left mounts below $dir"
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/* "$dir"/debootstrap
  tar --numeric-owner -C "$dir" -cf "$tarball.tmp" .
  sha256sum "$tarball.tmp" | cut -c1-64 >"$tarball.sha256.tmp"
  mv "$tarball.tmp" "$tarball"
  mv "$tarball.sha256.tmp" "$tarball.sha256"
  rm -rf "$dir"
  say "debootstrap took $((SECONDS - started))s"
  printf '%s\n' "$tarball"
}

build_debian() {
  local tarball h ref
  tarball=$(debian_tarball)
  h=$({ echo debian; cat "$SELF"; cat "$tarball.sha256"; } | hash_of)
  ref="vigil-test/debian:h-$h"
  if ((force == 0)) && image_exists "$ref"; then finish debian "$ref"; return; fi
  say "importing $ref"
  dk import --change "ENV PATH=$DEFAULT_PATH" --change 'CMD ["bash"]' \
    --message "vigil test image (scripts/test-images.sh)" "$tarball" "$ref" >/dev/null
  finish debian "$ref"
}

# Debian's nginx with its libraries, busybox for the entrypoint script and the tests' tools.
build_nginx() {
  local h ref dir lib
  h=$({ echo nginx; cat "$SELF"; pkg_versions busybox-static nginx libc6 libssl3 libpcre2-8-0 zlib1g libcrypt1; } | hash_of)
  ref="vigil-test/nginx:h-$h"
  if ((force == 0)) && image_exists "$ref"; then finish nginx "$ref"; return; fi
  say "building $ref"
  dir="$WORK/nginx"
  mkdir -p "$dir/usr/sbin" "$dir/usr/bin" "$dir/etc/nginx" "$dir/usr/share/nginx/html" "$dir/var/log/nginx" "$dir/var/lib/nginx" "$dir/run"
  busybox_links "$dir" sh true id ls cat sleep echo env kill ps grep sed printf mkdir rm
  # wget and nc as files of their own (busybox copies), so a policy can deny them by path
  install -m 0755 /bin/busybox "$dir/usr/bin/wget"
  install -m 0755 /bin/busybox "$dir/usr/bin/nc"
  install -m 0755 /usr/sbin/nginx "$dir/usr/sbin/nginx"
  while read -r lib; do
    install -D -m 0755 "$(readlink -f "$lib")" "$dir$lib"
  done < <(ldd /usr/sbin/nginx | awk '$2 == "=>" && $3 ~ /^\// { print $3 }')
  install -D -m 0755 "$(readlink -f /lib64/ld-linux-x86-64.so.2)" "$dir/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"
  mkdir -p "$dir/lib64"
  ln -s /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "$dir/lib64/ld-linux-x86-64.so.2"
  install -m 0644 /etc/nginx/mime.types "$dir/etc/nginx/mime.types"
  etc_files "$dir"
  printf 'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n' >>"$dir/etc/passwd"
  printf 'nogroup:x:65534:\n' >>"$dir/etc/group"
  printf '<!doctype html><title>vigil</title><p>hello from nginx</p>\n' >"$dir/usr/share/nginx/html/index.html"
  cat >"$dir/docker-entrypoint.sh" <<'SCRIPT'
#!/bin/sh
# Like the official nginx image's entrypoint: writes the configuration, then execs the command.
# NGINX_PORT (default 8080): the port on 127.0.0.1. NGINX_WORKERS (default 1).
# APP_BACKGROUND: a shell command started in the background first (a descendant of the app, as a
# command an attacker makes the app run would be).
set -e
port=${NGINX_PORT:-8080}
cat >/etc/nginx/nginx.conf <<CONF
worker_processes ${NGINX_WORKERS:-1};
error_log stderr notice;
pid /run/nginx.pid;
events { worker_connections 4096; }
http {
  include /etc/nginx/mime.types;
  access_log off;
  keepalive_requests 100000;
  server {
    listen 127.0.0.1:${port};
    root /usr/share/nginx/html;
  }
}
CONF
if [ -n "${APP_BACKGROUND:-}" ]; then sh -c "$APP_BACKGROUND" & fi
exec "$@"
SCRIPT
  chmod 0755 "$dir/docker-entrypoint.sh"
  import_dir "$dir" "$ref" --change "ENV PATH=$DEFAULT_PATH" --change 'ENTRYPOINT ["/docker-entrypoint.sh"]' \
    --change 'CMD ["nginx", "-g", "daemon off;"]'
  finish nginx "$ref"
}

# The debian image plus Debian's python3 and a small web app (see the header).
build_python() {
  local tarball h ref dir f lib
  tarball=$(debian_tarball)
  h=$({ echo python; cat "$SELF"; cat "$tarball.sha256"; pkg_versions "${PYTHON_PKGS[@]}"; } | hash_of)
  ref="vigil-test/python:h-$h"
  if ((force == 0)) && image_exists "$ref"; then finish python "$ref"; return; fi
  say "building $ref"
  dir="$WORK/python"
  mkdir -p "$dir"
  tar --numeric-owner -C "$dir" -xf "$tarball"
  # every file of the packages (documentation aside), as the packages install them
  dpkg -L "${PYTHON_PKGS[@]}" | sort -u | while read -r f; do
    [[ "$f" == /usr/share/doc/* || "$f" == /usr/share/man/* ]] && continue
    if [[ -L "$f" || -f "$f" ]]; then printf '%s\n' "${f#/}"; fi
  done | tar -C / --no-recursion -T - -cf - | tar --numeric-owner -C "$dir" -xf -
  # libraries the interpreter and its extension modules need that minbase lacks
  while read -r lib; do
    [[ -e "$dir$lib" ]] || install -D -m 0644 "$(readlink -f "$lib")" "$dir$lib"
  done < <({ ldd /usr/bin/python3.11; find /usr/lib/python3.11/lib-dynload -name '*.so' -exec ldd {} \;; } |
    awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | sort -u)
  chroot "$dir" /usr/bin/python3 -c 'import http.server, subprocess, shlex, ssl, sqlite3, json' ||
    die "python3 does not start in the image"
  mkdir -p "$dir/app"
  cat >"$dir/app/app.py" <<'APP'
# A small web app for Vigil's tests. GET / says hello. GET /run?cmd=ARGV runs ARGV (split like a
# shell, but no shell) and answers "status=N" and its output: a command-injection hole on purpose,
# the way an attacker makes an application exec something. PORT (default 8000) on 127.0.0.1.
# SIGTERM: stop serving, exit 0.
import http.server, os, shlex, signal, subprocess, sys, threading, urllib.parse

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        if url.path == "/run":
            argv = shlex.split(urllib.parse.parse_qs(url.query).get("cmd", [""])[0])
            try:
                r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=10)
                body = ("status=%d\n" % r.returncode).encode() + r.stdout
            except OSError as e:
                body = ("error=%s\n" % e).encode()
        elif url.path == "/":
            body = b"hello from python\n"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        print("%s %s" % (self.address_string(), fmt % args), flush=True)

server = http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ.get("PORT", "8000"))), Handler)

def stop(signum, frame):
    print("python app: signal %d, stopping" % signum, flush=True)
    threading.Thread(target=server.shutdown).start()

signal.signal(signal.SIGTERM, stop)
print("python app: serving on 127.0.0.1:%d" % server.server_address[1], flush=True)
server.serve_forever()
server.server_close()
print("python app: stopped", flush=True)
sys.exit(0)
APP
  import_dir "$dir" "$ref" --change "ENV PATH=$DEFAULT_PATH" --change "ENV PYTHONUNBUFFERED=1" \
    --change 'WORKDIR /app' --change 'CMD ["python3", "/app/app.py"]'
  finish python "$ref"
}

for img in "${wanted[@]}"; do
  case "$img" in
    python) build_python ;;
    nginx) build_nginx ;;
    scratch) build_scratch ;;
    alpine-like) build_alpine_like ;;
    distroless-like) build_distroless_like ;;
    debian) build_debian ;;
  esac
done
