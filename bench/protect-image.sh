#!/usr/bin/env bash
# Issue 7's benchmark: putting the enforcer into an image that is already in a registry, side by
# side in one run —
#   vigil    vigil protect image SRC DEST
#   crane    crane mutate SRC --append enforcer.tar --entrypoint ... -t DEST   (go-containerregistry)
#   buildah  buildah from + add + config --entrypoint + commit + push           (no daemon)
#   docker   docker build of FROM/COPY/ENTRYPOINT/CMD + docker push            (Docker Engine)
# for a 50 MB and a 500 MB image of random (incompressible) layers, protected into the same
# registry and, for information, into a second registry. Both registries are Debian's
# docker-registry over plain HTTP on 127.0.0.1 (scripts/registry.sh --http), each behind a
# counting proxy, so every tool's traffic (the Docker daemon's included) is counted.
#
#   npm run build && bash bench/protect-image.sh        RUNS=3 (default) rounds, SIZES="50 500"
#
# Every run starts cold, as on a fresh CI runner: a new destination repository (no blob of it
# exists there yet), registry B emptied, buildah's storage emptied, the source image removed from
# the Docker Engine. Tools run interleaved in each round, their order turning by one each round. vigil runs as installed by `npm run build`,
# with the code cache the build made (dist/cli/commands/*.cjs.v8cache). Writes bench/RESULTS-protect-image.md
# (tables regenerated, text after the "interpretation" marker kept) and
# bench/results/protect-image.jsonl (every run).
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
# RATE=N (MB/s): the proxies pace each direction to N MB/s, a network link instead of loopback;
# such a run writes RESULTS-protect-image-rateN.md / protect-image-rateN.jsonl instead.
RATE=${RATE:-0}
SUFFIX=$([[ $RATE == 0 ]] || echo "-rate$RATE")
# A quick look at vigil against crane alone, without touching the committed report:
#   TOOLS="vigil crane" SIZES=500 DESTS=same RUNS=15 OUT=/tmp/quick.md RAW=/tmp/quick.jsonl bash bench/protect-image.sh
OUT=${OUT:-$BENCH_DIR/RESULTS-protect-image$SUFFIX.md}
RAW=${RAW:-$BENCH_DIR/results/protect-image$SUFFIX.jsonl}
RUNS=${RUNS:-3}
SIZES=${SIZES:-50 500}
# Trust is given to every tool the same way: SSL_CERT_FILE (and SSL_CERT_DIR), as the machine
# sets them, which crane (Go) and vigil both read, at their first TLS connection (here, none: the
# registries are plain HTTP). NODE_EXTRA_CA_CERTS is removed from vigil's environment: Node 20
# parses that file and its whole root store before running any JavaScript (~35 ms here with the
# system bundle, ~20 ms with a single CA, in every node process), and vigil does not need it to
# trust a CA (it reads SSL_CERT_FILE, or --registry-ca). vigil-node-extra-ca: vigil with the
# machine's NODE_EXTRA_CA_CERTS left in place, when it sets one, to show that cost apart.
TOOLS=${TOOLS:-vigil ${NODE_EXTRA_CA_CERTS:+vigil-node-extra-ca} crane buildah docker}
DESTS=${DESTS:-same other}
STEP_TIMEOUT=${STEP_TIMEOUT:-900}
ENFORCER=$ROOT/dist/enforcer/linux-amd64/vigil-enforcer
VIGIL=(node "$ROOT/$(jq -r .bin.vigil "$ROOT/package.json")") # as installed: the package.json bin (dist/cli/vigil.cjs)
CRANE=${CRANE:-$(command -v crane || echo "${GOPATH:-$HOME/go}/bin/crane")}

die() { printf 'protect-image: error: %s\n' "$*" >&2; exit 1; }
say() { printf 'protect-image: %s\n' "$*" >&2; }
[[ -x $ENFORCER && -f $ROOT/dist/cli/vigil.cjs ]] || die "run 'npm run build' first"
# The layer made at build time must be the binary's, else every vigil run gzips the enforcer
# itself (20-40 ms here): an enforcer rebuilt with make alone, after npm run build, does that.
[[ $(jq -r .diffId "$ENFORCER.layer.json" 2>/dev/null) == "sha256:$(gzip -dc "$ENFORCER.layer.tar.gz" 2>/dev/null | sha256sum | cut -d' ' -f1)" &&
   $(gzip -dc "$ENFORCER.layer.tar.gz" | tar -xOf - vigil/enforcer | cmp - "$ENFORCER" && echo same) == same ]] ||
  die "dist/enforcer/linux-amd64/vigil-enforcer.layer.tar.gz is not the layer of the binary next to it: run 'npm run build'"
[[ -x $CRANE ]] || die "crane missing: GOFLAGS=-mod=mod go install github.com/google/go-containerregistry/cmd/crane@latest"
command -v buildah >/dev/null || die "buildah missing (apt-get install -y buildah)"
command -v jq >/dev/null || die "jq missing (apt-get install -y jq)"
DOCKER=$("$ROOT/scripts/docker-engine.sh" 2>/dev/null | tail -n1) || die "no Docker Engine (scripts/docker-engine.sh)"
export DOCKER_BUILDKIT=0 # Engine 20.10 without buildx: the classic builder (what `docker build` runs here)

TMP=$(mktemp -d /tmp/vigil-bench-protect-image.XXXXXX)
BUILDAH=(buildah --root "$TMP/buildah/root" --runroot "$TMP/buildah/run" --storage-driver overlay)
PROXY_PIDS=()
PX_A="" PX_B=""

buildah_wipe() {
  [[ -d $TMP/buildah ]] || return 0
  "${BUILDAH[@]}" rm --all >/dev/null 2>&1 || true
  "${BUILDAH[@]}" rmi --all --force >/dev/null 2>&1 || true
  # overlay leaves its own mount points behind; unmount anything under the storage root.
  while read -r mnt; do umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true; done \
    < <(awk -v r="$TMP/buildah" '$2 ~ "^"r {print $2}' /proc/self/mounts | sort -r)
  rm -rf "$TMP/buildah"
}

docker_wipe() { # every image this run made: its references name one of our proxies
  local ids
  [[ -n $PX_A$PX_B ]] || return 0
  ids=$("$DOCKER" images --format '{{.Repository}}:{{.Tag}}' | grep -E "^(${PX_A:-none}|${PX_B:-none})/" || true)
  [[ -z $ids ]] || "$DOCKER" rmi -f $ids >/dev/null 2>&1 || true
  "$DOCKER" images -q --filter dangling=true --filter "label=dev.vigil.bench=protect-image" | xargs -r "$DOCKER" rmi -f >/dev/null 2>&1 || true
}

cleanup() {
  set +e
  docker_wipe
  buildah_wipe
  for pid in "${PROXY_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  VIGIL_REGISTRY_DIR=$TMP/regA "$ROOT/scripts/registry.sh" stop 2>/dev/null
  VIGIL_REGISTRY_DIR=$TMP/regB "$ROOT/scripts/registry.sh" stop 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- registries and counting proxies ------------------------------------------------------------
registry_start() { # NAME [PORT] -> prints host:port
  local env
  env=$(VIGIL_REGISTRY_DIR=$TMP/$1 VIGIL_REGISTRY_PORT=${2:-} "$ROOT/scripts/registry.sh" start --http) || die "registry $1 did not start"
  sed -n 's/^export VIGIL_REGISTRY=//p' <<<"$env"
}

cat >"$TMP/proxy.mjs" <<'JS'
// Plain-HTTP proxy on 127.0.0.1 in front of one registry. Counts request body bytes (uploaded to
// the registry) and response body bytes (downloaded from it). GET /__bench/counts returns the
// counts since the last POST /__bench/reset. The Host header is passed through, so the registry's
// Location headers point back at the proxy.
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import { Transform } from 'node:stream';
const [upstreamPort, portFile, rateMBps] = process.argv.slice(2);
// RATE (MB/s, each direction, all connections together): a network link instead of loopback.
const rate = Number(rateMBps) * 1e6;
const bucket = () => { let next = 0; return (n) => { const now = Date.now(); next = Math.max(now, next) + (n / rate) * 1000; return next - now; }; };
const [upBucket, downBucket] = [bucket(), bucket()];
const link = (b) => (rate > 0 ? new Transform({ transform(chunk, _e, cb) { setTimeout(() => cb(null, chunk), b(chunk.length)); } }) : null);
let c;
const reset = () => (c = { requests: 0, up: 0, down: 0, blobGets: 0, blobGetBytes: 0, blobHeads: 0, mounts: 0, uploads: 0 });
reset();
const server = http.createServer((req, res) => {
  if (req.url === '/__bench/counts') return res.end(JSON.stringify(c));
  if (req.url === '/__bench/reset') return reset(), res.end('{}');
  const isBlob = /\/blobs\/sha256:[0-9a-f]{64}$/.test(req.url);
  c.requests++;
  if (req.method === 'HEAD' && isBlob) c.blobHeads++;
  if (req.method === 'POST' && /\/blobs\/uploads\/\?.*mount=/.test(req.url)) c.mounts++;
  if (req.method === 'POST' && /\/blobs\/uploads\/(\?|$)/.test(req.url) && !/mount=/.test(req.url)) c.uploads++;
  const up = http.request({ host: '127.0.0.1', port: Number(upstreamPort), method: req.method, path: req.url, headers: req.headers, agent: false }, (ur) => {
    res.writeHead(ur.statusCode ?? 502, ur.headers);
    const blobGet = req.method === 'GET' && isBlob && ur.statusCode === 200;
    if (blobGet) c.blobGets++;
    ur.on('data', (d) => { c.down += d.length; if (blobGet) c.blobGetBytes += d.length; });
    const down = link(downBucket);
    down ? ur.pipe(down).pipe(res) : ur.pipe(res);
  });
  up.on('error', () => res.destroy());
  req.on('data', (d) => { c.up += d.length; });
  const upl = link(upBucket);
  upl ? req.pipe(upl).pipe(up) : req.pipe(up);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => writeFileSync(portFile, String(server.address().port)));
JS

# Not called through $(...): the proxy's pid must reach PROXY_PIDS in this shell for cleanup.
proxy_start() { # UPSTREAM_HOST NAME VAR -> sets VAR to 127.0.0.1:port
  node "$TMP/proxy.mjs" "${1##*:}" "$TMP/$2.port" "${RATE:-0}" >"$TMP/$2.log" 2>&1 &
  PROXY_PIDS+=($!)
  for _ in $(seq 1 50); do [[ -s $TMP/$2.port ]] && break; sleep 0.1; done
  [[ -s $TMP/$2.port ]] || die "proxy $2 did not start"
  printf -v "$3" '127.0.0.1:%s' "$(cat "$TMP/$2.port")"
}
counts() { curl -sf --max-time 5 "http://$1/__bench/counts"; }
reset_counts() { curl -sf --max-time 5 -X POST "http://$1/__bench/reset" >/dev/null; }

REG_A=$(registry_start regA)
REG_B=$(registry_start regB)
PORT_B=${REG_B##*:}
proxy_start "$REG_A" proxyA PX_A
proxy_start "$REG_B" proxyB PX_B
say "registry A $REG_A (proxy $PX_A), registry B $REG_B (proxy $PX_B)"

registry_b_empty() { # stop B, delete its storage, start it again on the same port
  VIGIL_REGISTRY_DIR=$TMP/regB "$ROOT/scripts/registry.sh" stop
  registry_start regB "$PORT_B" >/dev/null
}

# --- the source images: N layers of random bytes, gzip'd (they do not compress) -----------------
ENTRYPOINT='["/docker-entrypoint.sh"]'
CMD='["nginx","-g","daemon off;"]'
WRAPPED='["/vigil/enforcer","--","/docker-entrypoint.sh"]'
cat >"$TMP/seed.mjs" <<'JS'
import { randomBytes, createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
const [root, host, repo, mb, layers] = process.argv.slice(2);
const { writeTar } = await import(`${root}/dist/oci/tar.js`);
const { buildImage } = await import(`${root}/dist/oci/image.js`);
const { pushImage } = await import(`${root}/dist/oci/push.js`);
const { RegistryClient } = await import(`${root}/dist/registry/client.js`);
const sha = (b) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const per = Math.floor((Number(mb) * 1024 * 1024) / Number(layers));
const ls = [];
for (let i = 0; i < Number(layers); i++) {
  const tar = writeTar([{ type: 'dir', path: `data${i}`, mode: 0o755 }, { type: 'file', path: `data${i}/random.bin`, mode: 0o644, content: randomBytes(per) }]);
  const bytes = gzipSync(tar, { level: 1 });
  ls.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', bytes, digest: sha(bytes), size: bytes.length, diffId: sha(tar) });
}
const image = buildImage({
  platform: { os: 'linux', architecture: 'amd64' }, family: 'docker', created: '2026-01-01T00:00:00Z', layers: ls,
  config: { Entrypoint: ['/docker-entrypoint.sh'], Cmd: ['nginx', '-g', 'daemon off;'], Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Labels: { 'dev.vigil.bench': 'protect-image' } },
});
const client = new RegistryClient(host, { insecure: true });
await pushImage(client, repo, image, 'v1');
console.log(ls.reduce((n, l) => n + l.size, 0));
JS
declare -A SRC SRC_BYTES
for mb in $SIZES; do
  layers=$((mb >= 100 ? 10 : 5))
  SRC[$mb]=$PX_A/bench/app$mb:v1
  SRC_BYTES[$mb]=$(timeout "$STEP_TIMEOUT" node "$TMP/seed.mjs" "$ROOT" "$REG_A" "bench/app$mb" "$mb" "$layers") || die "could not push the $mb MB image"
  say "source ${SRC[$mb]}: $layers layers, ${SRC_BYTES[$mb]} bytes compressed"
  # docker build's context: the generated Dockerfile (FROM, COPY, ENTRYPOINT and CMD — a stage
  # that sets ENTRYPOINT drops the inherited CMD, so it is written out) and the enforcer.
  mkdir -p "$TMP/ctx$mb"
  install -m 0755 "$ENFORCER" "$TMP/ctx$mb/enforcer"
  printf 'FROM %s\nCOPY enforcer /vigil/enforcer\nENTRYPOINT %s\nCMD %s\n' "${SRC[$mb]}" "$WRAPPED" "$CMD" >"$TMP/ctx$mb/Dockerfile"
done
# crane's layer: a tar of /vigil/enforcer (crane gzips it).
mkdir -p "$TMP/layer/vigil"
install -m 0755 "$ENFORCER" "$TMP/layer/vigil/enforcer"
tar -C "$TMP/layer" --owner=0 --group=0 --numeric-owner -cf "$TMP/enforcer.tar" vigil

# --- one run ------------------------------------------------------------------------------------
run_tool() { # TOOL SRC DEST SIZE
  local tool=$1 src=$2 dest=$3 mb=$4 ctr
  case $tool in
    vigil) timeout "$STEP_TIMEOUT" env -u NODE_EXTRA_CA_CERTS "${VIGIL[@]}" protect image "$src" "$dest" --insecure-registry >"$TMP/out" 2>"$TMP/err" ;;
    vigil-node-extra-ca) timeout "$STEP_TIMEOUT" "${VIGIL[@]}" protect image "$src" "$dest" --insecure-registry >"$TMP/out" 2>"$TMP/err" ;;
    crane) timeout "$STEP_TIMEOUT" "$CRANE" mutate "$src" --insecure --append "$TMP/enforcer.tar" \
      --entrypoint "/vigil/enforcer,--,/docker-entrypoint.sh" --cmd "nginx,-g,daemon off;" -t "$dest" >"$TMP/out" 2>"$TMP/err" ;;
    buildah)
      ctr=$(timeout "$STEP_TIMEOUT" "${BUILDAH[@]}" from -q --tls-verify=false "docker://$src" 2>"$TMP/err") &&
        "${BUILDAH[@]}" add "$ctr" "$TMP/layer/vigil/enforcer" /vigil/enforcer >/dev/null 2>>"$TMP/err" &&
        "${BUILDAH[@]}" config --entrypoint "$WRAPPED" --cmd "$CMD" "$ctr" 2>>"$TMP/err" &&
        timeout "$STEP_TIMEOUT" "${BUILDAH[@]}" commit -q "$ctr" bench-protected >"$TMP/out" 2>>"$TMP/err" &&
        timeout "$STEP_TIMEOUT" "${BUILDAH[@]}" push -q --tls-verify=false bench-protected "docker://$dest" >>"$TMP/out" 2>>"$TMP/err" ;;
    docker)
      timeout "$STEP_TIMEOUT" "$DOCKER" build -q --label dev.vigil.bench=protect-image -t "$dest" "$TMP/ctx$mb" >"$TMP/out" 2>"$TMP/err" &&
        timeout "$STEP_TIMEOUT" "$DOCKER" push "$dest" >>"$TMP/out" 2>>"$TMP/err" ;;
  esac
}

# The result must be the source plus one layer, the entry point wrapped and Cmd kept.
check() { # DEST SIZE -> prints "ok" or what is wrong
  local cfg layers
  cfg=$("$CRANE" config --insecure "$1" 2>/dev/null) || { echo "no image at $1"; return; }
  layers=$("$CRANE" manifest --insecure "$1" | jq '.layers | length')
  [[ $(jq -c '.config.Entrypoint' <<<"$cfg") == "$WRAPPED" ]] || { echo "Entrypoint $(jq -c '.config.Entrypoint' <<<"$cfg")"; return; }
  [[ $(jq -c '.config.Cmd' <<<"$cfg") == "$CMD" ]] || { echo "Cmd $(jq -c '.config.Cmd' <<<"$cfg")"; return; }
  [[ $layers == $(($(jq '.rootfs.diff_ids | length' <<<"$cfg"))) && $layers == $(( $([[ $2 -ge 100 ]] && echo 10 || echo 5) + 1 )) ]] || { echo "$layers layers"; return; }
  echo ok
}

mkdir -p "$BENCH_DIR/results"
: >"$TMP/results.jsonl"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg) # other work on the machine shows in every tool's times
n=0
for round in $(seq 1 "$RUNS"); do
  for mb in $SIZES; do
    for dest_kind in $DESTS; do
      # The order turns by one tool each round: the tool after docker and buildah (their daemon's
      # and the page cache's work lingering) is not always the same one.
      read -ra tools <<<"$TOOLS"
      k=$(((round - 1) % ${#tools[@]}))
      for tool in "${tools[@]:k}" "${tools[@]:0:k}"; do
        n=$((n + 1))
        if [[ $dest_kind == same ]]; then px=$PX_A; else px=$PX_B; registry_b_empty; fi
        dest=$px/bench/out$mb-$tool-r$round:protected
        # cold start: nothing of the source in the engine or in buildah's storage
        docker_wipe
        buildah_wipe
        sync
        reset_counts "$PX_A"
        reset_counts "$PX_B"
        t0=$(date +%s%N)
        status=ok
        run_tool "$tool" "${SRC[$mb]}" "$dest" "$mb" || status="exit $?: $(tail -n3 "$TMP/err" | tr '\n"' ' \047')"
        t1=$(date +%s%N)
        ca=$(counts "$PX_A")
        cb=$(counts "$PX_B")
        [[ $status == ok ]] && status=$(check "$dest" "$mb")
        secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
        jq -nc --arg tool "$tool" --argjson mb "$mb" --arg dest "$dest_kind" --argjson round "$round" --argjson seconds "$secs" \
          --argjson a "$ca" --argjson b "$cb" --arg status "$status" --argjson srcBytes "${SRC_BYTES[$mb]}" \
          '{tool:$tool, mb:$mb, dest:$dest, round:$round, seconds:$seconds, status:$status, srcBytes:$srcBytes, registryA:$a, registryB:$b}' >>"$TMP/results.jsonl"
        say "round $round, $mb MB, $dest_kind registry, $tool: ${secs}s, $status, A down $(jq .down <<<"$ca") up $(jq .up <<<"$ca"), B down $(jq .down <<<"$cb") up $(jq .up <<<"$cb")"
      done
    done
  done
done
cp "$TMP/results.jsonl" "$RAW"

# --- the report ---------------------------------------------------------------------------------
versions=$(printf 'vigil %s (node %s); crane %s; %s; Docker Engine %s (classic builder); docker-registry %s' \
  "$(jq -r .version "$ROOT/package.json")" "$(node --version)" "$("$CRANE" version)" "$(buildah --version)" \
  "$("$DOCKER" version --format '{{.Server.Version}}')" "$(dpkg-query -W -f='${Version}' docker-registry)")
machine="$(nproc) CPUs ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n1)), $(free -g | awk '/^Mem:/ {print $2}') GB RAM, kernel $(uname -r), load average $LOAD_START at the start and $(cut -d' ' -f1-3 /proc/loadavg) at the end"
startup() { local t=() a b; for _ in 1 2 3 4 5; do a=$(date +%s%N); "$@" >/dev/null; b=$(date +%s%N); t+=($(((b - a) / 1000000))); done; printf '%s\n' "${t[@]}" | sort -n | sed -n 3p; }
startup_ms="$(startup env -u NODE_EXTRA_CA_CERTS "${VIGIL[@]}" --version) ms for \`vigil --version\` (without NODE_EXTRA_CA_CERTS), $(startup node -e 0) ms for \`node -e 0\`$(
  [[ -z ${NODE_EXTRA_CA_CERTS:-} ]] || printf ' (%s ms without NODE_EXTRA_CA_CERTS, which is set here)' "$(startup env -u NODE_EXTRA_CA_CERTS node -e 0)"), $(startup "$CRANE" version) ms for \`crane version\`"
node --input-type=module - "$RAW" "$OUT" "$RUNS" "$versions" "$machine" "$RATE" "$startup_ms" <<'JS'
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
const [raw, out, runs, versions, machine, rate, startup] = process.argv.slice(2);
const rows = readFileSync(raw, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const median = (a) => { const s = [...a].sort((x, y) => x - y); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const mb = (b) => (b >= 10e6 ? `${(b / 1e6).toFixed(0)} MB` : b >= 1e6 ? `${(b / 1e6).toFixed(1)} MB` : `${(b / 1e3).toFixed(1)} kB`);
const tools = [...new Set(rows.map((r) => r.tool))];
const sizes = [...new Set(rows.map((r) => r.mb))];
const group = (t, s, d) => rows.filter((r) => r.tool === t && r.mb === s && r.dest === d);
const stat = (t, s, d) => {
  const g = group(t, s, d); const ok = g.filter((r) => r.status === 'ok');
  if (g.length === 0) return null;
  const dst = d === 'same' ? 'registryA' : 'registryB';
  return {
    n: g.length, ok: ok.length, failures: g.filter((r) => r.status !== 'ok').map((r) => r.status),
    t: median(g.map((r) => r.seconds)), min: Math.min(...g.map((r) => r.seconds)), max: Math.max(...g.map((r) => r.seconds)),
    down: median(g.map((r) => r.registryA.down + (d === 'same' ? 0 : r.registryB.down))), blobGets: median(g.map((r) => r.registryA.blobGets)),
    up: median(g.map((r) => r[dst].up + (d === 'same' ? 0 : r.registryA.up))), reqs: median(g.map((r) => r.registryA.requests + r.registryB.requests)),
    mounts: median(g.map((r) => r[dst].mounts)),
  };
};
function table(d) {
  if (!rows.some((r) => r.dest === d)) return `(not run: DESTS did not include ${d})`;
  const lines = ['| size | tool | median wall time | range | × vigil | downloaded from the registries | blob GETs (A) | uploaded | HTTP requests | checked |', '|---|---|---:|---:|---:|---:|---:|---:|---:|---|'];
  for (const s of sizes) {
    const v = stat('vigil', s, d);
    for (const t of tools) {
      const x = stat(t, s, d); if (!x) continue;
      lines.push(`| ${s} MB | ${t} | **${x.t.toFixed(2)} s** | ${x.min.toFixed(2)}–${x.max.toFixed(2)} s | ${v ? (x.t / v.t).toFixed(1) + '×' : ''} | ${mb(x.down)} | ${x.blobGets} | ${mb(x.up)} | ${x.reqs} | ${x.ok}/${x.n} ok${x.failures.length ? ': ' + [...new Set(x.failures)].join('; ') : ''} |`);
    }
  }
  return lines.join('\n');
}
function growth(d) {
  if (sizes.length < 2 || !rows.some((r) => r.dest === d)) return '(not run)';
  const [a, b] = [Math.min(...sizes), Math.max(...sizes)];
  const lines = [`| tool | ${a} MB | ${b} MB | ${b} MB ÷ ${a} MB |`, '|---|---:|---:|---:|'];
  for (const t of tools) { const x = stat(t, a, d), y = stat(t, b, d); if (x && y) lines.push(`| ${t} | ${x.t.toFixed(2)} s | ${y.t.toFixed(2)} s | ${(y.t / x.t).toFixed(2)}× |`); }
  return lines.join('\n');
}
const srcSizes = sizes.map((s) => `${s} MB → ${mb(rows.find((r) => r.mb === s).srcBytes)} of layers`).join(', ');
const marker = '<!-- interpretation: text below this line is kept when the script rewrites the tables -->';
const kept = existsSync(out) && readFileSync(out, 'utf8').includes(marker) ? readFileSync(out, 'utf8').split(marker)[1] : '\n\n## Interpretation\n\n(to be written)\n';
writeFileSync(out, `# vigil protect image vs crane, buildah and docker build

Generated by \`bash bench/protect-image.sh\` (tables; do not edit them by hand). ${new Date().toISOString()},
${runs} round${runs === '1' ? '' : 's'}, tools interleaved in each round (their order turning by one each round), every run cold. ${machine}. ${versions}.

Sources: images of random, incompressible gzip'd layers (${srcSizes}), Entrypoint \`["/docker-entrypoint.sh"]\`, Cmd
\`["nginx","-g","daemon off;"]\`, in registry A. Every tool produces the source plus one layer holding \`/vigil/enforcer\`
(the same static binary for every tool), Entrypoint \`["/vigil/enforcer","--","/docker-entrypoint.sh"]\`, Cmd kept;
each result is checked (entry point, Cmd, layer count) with \`crane config\`/\`crane manifest\` after the run, outside the timing.
Bytes are counted by a proxy in front of each registry (response bodies = downloaded, request bodies = uploaded), the
Docker daemon's traffic included. ${rate !== '0' ? `**The proxies pace each direction to ${rate} MB/s** (a network link, not loopback). ` : 'Loopback, no pacing: transfers cost as little here as they ever will. '}Wall time includes everything the tool does (buildah: from + add + config + commit +
push; docker: build + push, the source pulled by the build). Start-up alone (median of 5): ${startup}.

## Same registry (A → a new repository in A)

${table('same')}

## Another registry (A → B), for information

${table('other')}

## Growth from the small to the large image

Same registry:

${growth('same')}

Another registry:

${growth('other')}

${marker}${kept}`);
JS
say "wrote $OUT and $RAW"
