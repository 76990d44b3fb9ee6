#!/usr/bin/env bash
# vigil protect image against crane over TLS with basic auth, the way most registries are reached
# (protect-image.sh uses plain HTTP behind a counting proxy). One registry — Debian's
# docker-registry on 127.0.0.1 with a throw-away CA and htpasswd (scripts/registry.sh) — reached
# directly, so crane speaks HTTP/2 to it as to a real registry; a source image of 10 random
# layers (their size does not matter: within one registry every tool mounts them); each run
# protects it into a new repository. Interleaved, N rounds; medians, and vigil ÷ crane per round.
#
#   npm run build && N=21 bash bench/protect-image-tls.sh
#
# Both tools get the CA the same way, SSL_CERT_FILE (which replaces the bundled roots for both),
# and the credentials in a docker config.json (DOCKER_CONFIG); NODE_EXTRA_CA_CERTS is removed from
# both environments. Variants: VARIANTS="vigil vigil-registry-ca vigil-node-extra-ca crane"
# (default "vigil crane"): vigil-registry-ca gives the CA with --registry-ca instead (added to
# Node's roots), vigil-node-extra-ca with NODE_EXTRA_CA_CERTS=CA instead; vigil-base runs the build
# in BASE=DIR (another checkout after `npm run build`, e.g. the commit before a change) the way
# `vigil` runs. Prints a summary only: wall and CPU (user + system) medians, vigil ÷ crane per round.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
N=${N:-15}
VARIANTS=${VARIANTS:-vigil crane}
CRANE=${CRANE:-$(command -v crane || echo "${GOPATH:-$HOME/go}/bin/crane")}
VIGIL=(node "$ROOT/$(jq -r .bin.vigil "$ROOT/package.json")")
die() { printf 'protect-image-tls: error: %s\n' "$*" >&2; exit 1; }
[[ -f $ROOT/dist/cli/vigil.cjs ]] || die "run 'npm run build' first"
[[ " $VARIANTS " != *" vigil-base "* || -f ${BASE:-}/dist/cli/vigil.cjs ]] || die "vigil-base needs BASE=DIR, a built checkout"
[[ -x $CRANE ]] || die "crane missing: GOFLAGS=-mod=mod go install github.com/google/go-containerregistry/cmd/crane@latest"

TMP=$(mktemp -d /tmp/vigil-bench-protect-image-tls.XXXXXX)
cleanup() { VIGIL_REGISTRY_DIR=$TMP/reg "$ROOT/scripts/registry.sh" stop 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
eval "$(VIGIL_REGISTRY_DIR=$TMP/reg "$ROOT/scripts/registry.sh" start)"
REG=$VIGIL_REGISTRY CA=$VIGIL_REGISTRY_CA

mkdir -p "$TMP/docker"
printf '{"auths":{"%s":{"auth":"%s"}}}' "$REG" "$(printf '%s:%s' "$VIGIL_REGISTRY_USERNAME" "$VIGIL_REGISTRY_PASSWORD" | base64 -w0)" >"$TMP/docker/config.json"
unset VIGIL_REGISTRY_USERNAME VIGIL_REGISTRY_PASSWORD NODE_EXTRA_CA_CERTS
export DOCKER_CONFIG=$TMP/docker

cat >"$TMP/seed.mjs" <<'JS'
import { randomBytes, createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
const [root, host, ca] = process.argv.slice(2);
const { writeTar } = await import(`${root}/dist/oci/tar.js`);
const { buildImage } = await import(`${root}/dist/oci/image.js`);
const { pushImage } = await import(`${root}/dist/oci/push.js`);
const { RegistryClient } = await import(`${root}/dist/registry/client.js`);
const sha = (b) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const layers = [];
for (let i = 0; i < 10; i++) {
  const tar = writeTar([{ type: 'dir', path: `data${i}`, mode: 0o755 }, { type: 'file', path: `data${i}/random.bin`, mode: 0o644, content: randomBytes(1 << 20) }]);
  const bytes = gzipSync(tar, { level: 1 });
  layers.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', bytes, digest: sha(bytes), size: bytes.length, diffId: sha(tar) });
}
const image = buildImage({ platform: { os: 'linux', architecture: 'amd64' }, family: 'docker', created: '2026-01-01T00:00:00Z', layers,
  config: { Entrypoint: ['/docker-entrypoint.sh'], Cmd: ['nginx', '-g', 'daemon off;'], Env: ['PATH=/usr/bin:/bin'] } });
await pushImage(new RegistryClient(host, { caFile: ca, env: process.env }), 'bench/app', image, 'v1');
JS
SSL_CERT_FILE=$CA node "$TMP/seed.mjs" "$ROOT" "$REG" "$CA"
mkdir -p "$TMP/layer/vigil"
install -m 0755 "$ROOT/dist/enforcer/linux-amd64/vigil-enforcer" "$TMP/layer/vigil/enforcer"
tar -C "$TMP/layer" --owner=0 --group=0 --numeric-owner -cf "$TMP/enforcer.tar" vigil

run() { # VARIANT DEST
  local src=$REG/bench/app:v1 dest=$REG/$2
  case $1 in
    vigil) SSL_CERT_FILE=$CA "${VIGIL[@]}" protect image "$src" "$dest" ;;
    vigil-base) SSL_CERT_FILE=$CA node "$BASE/$(jq -r .bin.vigil "$BASE/package.json")" protect image "$src" "$dest" ;;
    vigil-registry-ca) env -u SSL_CERT_FILE "${VIGIL[@]}" protect image "$src" "$dest" --registry-ca "$CA" ;;
    vigil-node-extra-ca) env -u SSL_CERT_FILE NODE_EXTRA_CA_CERTS=$CA "${VIGIL[@]}" protect image "$src" "$dest" ;;
    crane) SSL_CERT_FILE=$CA "$CRANE" mutate "$src" --append "$TMP/enforcer.tar" \
      --entrypoint "/vigil/enforcer,--,/docker-entrypoint.sh" --cmd "nginx,-g,daemon off;" -t "$dest" ;;
    *) die "unknown variant $1" ;;
  esac
}
: >"$TMP/times"
for i in $(seq 1 "$N"); do
  for v in $VARIANTS; do
    TIMEFORMAT="$i $v %3R %3U %3S" # wall, user and system seconds of the whole run
    { time run "$v" "bench/out-$v-$i:p" >"$TMP/out" 2>"$TMP/err" || die "$v failed: $(tail -n3 "$TMP/err")"; } 2>>"$TMP/times"
    grep -Eq '^sha256:[0-9a-f]{64}$' "$TMP/out" || [[ $v == crane ]] || die "$v printed no digest"
  done
done
node - "$TMP/times" <<'JS'
import { readFileSync } from 'node:fs';
const rows = readFileSync(process.argv[2], 'utf8').trim().split('\n').map((l) => l.split(' ')).map(([i, v, wall, user, sys]) => ({ i, v, ms: Number(wall) * 1000, cpu: (Number(user) + Number(sys)) * 1000 }));
const med = (a) => { const s = [...a].sort((x, y) => x - y); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const variants = [...new Set(rows.map((r) => r.v))];
for (const v of variants) {
  const t = rows.filter((r) => r.v === v).map((r) => r.ms);
  const cpu = rows.filter((r) => r.v === v).map((r) => r.cpu);
  console.log(`${v.padEnd(20)} median ${med(t).toFixed(1)} ms, range ${Math.min(...t).toFixed(1)}–${Math.max(...t).toFixed(1)} ms, CPU median ${med(cpu).toFixed(0)} ms, n=${t.length}`);
}
const crane = new Map(rows.filter((r) => r.v === 'crane').map((r) => [r.i, r.ms]));
for (const v of variants.filter((v) => v !== 'crane' && crane.size > 0)) {
  const q = rows.filter((r) => r.v === v && crane.has(r.i)).map((r) => r.ms / crane.get(r.i)).sort((a, b) => a - b);
  console.log(`${v} ÷ crane, per round: median ${med(q).toFixed(2)}, quartiles ${q[q.length >> 2].toFixed(2)}–${q[(3 * q.length) >> 2].toFixed(2)}, range ${q[0].toFixed(2)}–${q[q.length - 1].toFixed(2)}; vigil faster in ${q.filter((x) => x < 1).length} of ${q.length}`);
}
JS
