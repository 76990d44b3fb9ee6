// Renders bench/results/*.json (written by bench/run.sh) as the Markdown report.
//   node bench/render-results.mjs bench/results > bench/RESULTS.md
// Reading happens in main(); everything else is a pure function of the measurements.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

// The last one runs in the fork+exec benchmark only.
const CONTENDERS = ['native', 'tini', 'strace', 'vigil landlock', 'vigil seccomp', 'vigil no policy', 'vigil seccomp, tracer floating'];

const TARGETS = {
  'fork-exec': { 'vigil landlock': 1.15, 'vigil seccomp': 1.15 },
  'dd-300k': { 'vigil landlock': 1.05 },
  startupMs: { 'vigil landlock': 2, 'vigil seccomp': 2 },
  rssKiB: 2048,
  sizeBytes: 300 * 1024,
};

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * rounds: hyperfine exports of one benchmark → per contender the pooled median time and the
 * median of its per-round ratios to native (each round's contenders ran in the same period).
 */
export function summarize(rounds) {
  const byName = new Map(CONTENDERS.map((c) => [c, { times: [], roundMedians: [], cpu: [] }]));
  for (const round of rounds) {
    for (const r of round.results) {
      const entry = byName.get(r.command);
      if (!entry) throw new Error(`bug: unknown contender "${r.command}" in hyperfine export`);
      entry.times.push(...r.times);
      entry.roundMedians.push(r.median);
      entry.cpu.push(r.user + r.system); // mean per run, this process and its descendants
    }
  }
  const native = byName.get('native');
  return CONTENDERS.filter((name) => byName.get(name).times.length > 0).map((name) => {
    const { times, roundMedians, cpu } = byName.get(name);
    const roundRatios = roundMedians.map((m, i) => m / native.roundMedians[i]);
    return {
      name,
      rounds: roundMedians.length,
      runs: times.length,
      median: median(times),
      ratio: median(roundRatios),
      ratioMin: Math.min(...roundRatios),
      ratioMax: Math.max(...roundRatios),
      cpuRatio: median(cpu.map((c, i) => c / native.cpu[i])),
      cpuAdded: median(cpu.map((c, i) => c - native.cpu[i])), // seconds per run, median of rounds
    };
  });
}

const ms = (s) => (s * 1000).toFixed(s < 0.01 ? 2 : 1);
const x = (r) => `${r.toFixed(3)}×`;
const verdict = (ok) => (ok ? 'met' : '**missed**');

function ratioTable(rows, targets) {
  const lines = [
    '| contender | rounds × runs | median time | × native (median of rounds) | × native, range over rounds | CPU time (user+sys) × native | target |',
    '|---|---:|---:|---:|---:|---:|---|',
  ];
  for (const r of rows) {
    const t = targets[r.name];
    const target = t === undefined ? '' : `≤ ${t.toFixed(2)}× — ${verdict(r.ratio <= t)}`;
    lines.push(
      `| ${r.name} | ${r.rounds} × ${r.runs / r.rounds} | ${ms(r.median)} ms | ${x(r.ratio)} | ${x(r.ratioMin)} – ${x(r.ratioMax)} | ${x(r.cpuRatio)} | ${target} |`,
    );
  }
  return lines.join('\n');
}

/** Start-up: wall time added (the target), and CPU time added (user+sys of the whole tree, mean per run, median of
 * rounds), which moves less when other work shares the machine. */
function startupTable(rows) {
  const native = rows.find((r) => r.name === 'native').median;
  const signed = (v) => `${v >= 0 ? '+' : ''}${v.toFixed(2)} ms`;
  const lines = [
    '| contender | runs | median | added vs native /bin/true | CPU (user+sys) added | target |',
    '|---|---:|---:|---:|---:|---|',
  ];
  for (const r of rows) {
    const added = (r.median - native) * 1000;
    const t = TARGETS.startupMs[r.name];
    const target = t === undefined ? '' : `< ${t} ms — ${verdict(added < t)}`;
    lines.push(`| ${r.name} | ${r.runs} | ${ms(r.median)} ms | ${signed(added)} | ${signed(r.cpuAdded * 1000)} | ${target} |`);
  }
  return lines.join('\n');
}

/** Marginal cost of one read/write under each contender, start-up excluded: slope between the two dd counts. */
function perSyscall(small, big, counts) {
  const syscalls = 2 * (counts.big - counts.small);
  const slope = (name) =>
    (big.find((r) => r.name === name).median - small.find((r) => r.name === name).median) / syscalls;
  const nativeNs = slope('native') * 1e9;
  const lines = ['| contender | ns per read/write | added ns per system call |', '|---|---:|---:|'];
  for (const r of big) {
    const ns = slope(r.name) * 1e9;
    lines.push(`| ${r.name} | ${ns.toFixed(1)} | ${r.name === 'native' ? '' : (ns - nativeNs).toFixed(1)} |`);
  }
  return lines.join('\n');
}

function memoryTable(memory) {
  const lines = ['| contender | workload | peak RSS (VmHWM) | target |', '|---|---|---:|---|'];
  for (const r of memory.rows) {
    const target = r.contender.startsWith('vigil') ? `< 2 MiB — ${verdict(r.peakKiB < TARGETS.rssKiB)}` : '';
    lines.push(`| ${r.contender} | ${r.workload} | ${r.peakKiB} KiB | ${target} |`);
  }
  return lines.join('\n');
}

function syscallTable(counts) {
  const mechanisms = Object.keys(counts);
  const startup = (m, n) => counts[m].startup[n] ?? 0;
  const perExec = (m, n) => ((counts[m]['fork-exec'][n] ?? 0) - startup(m, n)) / 1000;
  const all = [...new Set(mechanisms.flatMap((m) => [...Object.keys(counts[m].startup), ...Object.keys(counts[m]['fork-exec'])]))];
  const weight = (n) => Math.max(...mechanisms.map((m) => Math.max(startup(m, n) / 1000, perExec(m, n))));
  const shown = all.filter((n) => mechanisms.some((m) => startup(m, n) >= 20 || perExec(m, n) >= 0.5));
  shown.sort((a, b) => weight(b) - weight(a) || a.localeCompare(b));
  const lines = [
    `| system call | ${mechanisms.map((m) => `${m}: start-up`).join(' | ')} | ${mechanisms.map((m) => `${m}: per fork+exec`).join(' | ')} |`,
    `|---|${mechanisms.map(() => '---:').join('|')}|${mechanisms.map(() => '---:').join('|')}|`,
  ];
  for (const n of shown) {
    lines.push(
      `| ${n} | ${mechanisms.map((m) => startup(m, n)).join(' | ')} | ${mechanisms.map((m) => perExec(m, n).toFixed(1)).join(' | ')} |`,
    );
  }
  return lines.join('\n');
}

const kib = (bytes) => (bytes === null ? 'not built' : `${(bytes / 1024).toFixed(1)} KiB (${bytes} bytes)`);

/**
 * Issue 7's headline, from bench/protect-image.sh's runs (protect-image.jsonl): per image size,
 * same registry, each tool's median wall time and vigil ÷ crane per round. null: no such runs.
 */
export function protectImageHeadline(runs) {
  const same = runs.filter((r) => r.dest === 'same' && r.status === 'ok');
  if (same.length === 0) return null;
  const lines = [];
  for (const mb of [...new Set(same.map((r) => r.mb))].sort((a, b) => b - a)) {
    const at = same.filter((r) => r.mb === mb);
    const med = (tool) => median(at.filter((r) => r.tool === tool).map((r) => r.seconds));
    const byRound = new Map();
    for (const r of at) byRound.set(r.round, { ...byRound.get(r.round), [r.tool]: r.seconds });
    const ratios = [...byRound.values()].filter((o) => o.vigil && o.crane).map((o) => o.vigil / o.crane);
    const tools = ['vigil', 'crane', 'buildah', 'docker'].filter((t) => at.some((r) => r.tool === t));
    const times = tools.map((t) => `${t} ${med(t).toFixed(2)} s`).join(', ');
    const vs = ratios.length === 0 ? '' : `; vigil ÷ crane per round ${median(ratios).toFixed(2)} (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}), vigil faster in ${ratios.filter((x) => x < 1).length} of ${ratios.length}`;
    lines.push(`- ${mb} MB, same registry: ${times}${vs}.`);
  }
  return lines.join('\n');
}

function interpretation({ forkExec, dd300k, dd3m, startup, memory, machine }) {
  const get = (rows, name) => rows.find((r) => r.name === name);
  const nativeStart = get(startup, 'native').median;
  const added = (name) => ((get(startup, name).median - nativeStart) * 1000).toFixed(2);
  const ddExtra = (name) => ((get(dd300k, name).median - get(dd300k, 'native').median) * 1000).toFixed(2);
  const syscalls = 2 * (machine.ddCounts.big - machine.ddCounts.small);
  const slopeNs = (name) =>
    (((get(dd3m, name).median - get(dd300k, name).median) - (get(dd3m, 'native').median - get(dd300k, 'native').median)) /
      syscalls) *
    1e9;
  const peak = (name) => memory.rows.find((r) => r.contender === name && r.workload === 'sleep 1').peakKiB;
  return [
    '- **the default**: `--mechanism auto` is the seccomp mechanism (exact and complete on every kernel, the same as on ' +
      "Fargate, whose kernels have no Landlock); its figures are the seccomp rows. Landlock is opt-in " +
      '(`--mechanism landlock`) for workloads where the per-system-call cost matters most (docs/enforcer-cli.md).',
    `- **fork+exec**: Landlock ${x(get(forkExec, 'vigil landlock').ratio)}, seccomp ${x(get(forkExec, 'vigil seccomp').ratio)}, ` +
      `no policy ${x(get(forkExec, 'vigil no policy').ratio)}, strace ${x(get(forkExec, 'strace').ratio)} of native. ` +
      'Every fork and exec is a ptrace stop; with Landlock the enforcer also follows each new process system call by ' +
      'system call until its first exec (to report Landlock refusals), which the "per fork+exec" column of the system ' +
      'call table shows as extra `ptrace`/`wait4` calls. Each stop is a hand-over: the stopped process wakes the tracer, ' +
      'the tracer resumes it. Left to the scheduler, the tracer is woken on the idle vCPU, an inter-processor interrupt ' +
      'that costs tens of microseconds on this VM; the enforcer keeps its tracer thread on one CPU (the application keeps ' +
      'all of its CPUs)' +
      (get(forkExec, 'vigil seccomp, tracer floating')
        ? `; the "tracer floating" row (\`VIGIL_TRACER_CPU=float\`) is the same run without that: ` +
          `${x(get(forkExec, 'vigil seccomp, tracer floating').ratio)}. `
        : '. ') +
      'Other load moves the ratios between rounds (see the range and the CPU-time column).',
    `- **300,000 read/write** (dd bs=1): Landlock ${x(get(dd300k, 'vigil landlock').ratio)}, seccomp ` +
      `${x(get(dd300k, 'vigil seccomp').ratio)} ("what a kernel without Landlock gets"). At this size the run lasts ` +
      `~${ms(get(dd300k, 'native').median)} ms, so the enforcer's start-up (below) is a visible part of the ratio; the ` +
      `${(machine.ddCounts.big / 1e6).toFixed(0)}M-count run (Landlock ${x(get(dd3m, 'vigil landlock').ratio)}, seccomp ` +
      `${x(get(dd3m, 'vigil seccomp').ratio)}) and the per-system-call slope isolate the steady-state cost: with Landlock ` +
      'there is no filter on the syscall path; with seccomp every system call takes the kernel’s seccomp entry path; the filter itself is cached for read/write (test/enforcer/seccomp-cache.test.ts). ' +
      `Landlock's +${ddExtra('vigil landlock')} ms over native at ${machine.ddCounts.small.toLocaleString('en-US')} is to be ` +
      `compared with its +${added('vigil landlock')} ms start-up; its steady-state cost is ${slopeNs('vigil landlock').toFixed(1)} ns ` +
      `per system call (seccomp ${slopeNs('vigil seccomp').toFixed(1)} ns). Slopes of a few ns are within noise.`,
    `- **start-up**: +${added('vigil landlock')} ms (Landlock), +${added('vigil seccomp')} ms (seccomp), ` +
      `+${added('vigil no policy')} ms (no policy), +${added('tini')} ms (tini) on \`/bin/true\`. The policy's globs ` +
      `(\`/bin/*\`, \`/usr/bin/*\`, \`/usr/sbin/*\`) are expanded at start-up: here ${machine.landlockRules} Landlock ` +
      'rules, each an `open`/`openat` + `landlock_add_rule`, after a `getdents64` walk of the directories (see the start-up ' +
      'columns of the appendix). ' +
      'The cost scales with the number of files the globs match; a slim image has far fewer than this Debian VM.',
    `- **memory**: ${peak('vigil landlock')} KiB (Landlock), ${peak('vigil seccomp')} KiB (seccomp) peak RSS of the ` +
      `enforcer process alone; tini ${peak('tini')} KiB for scale.`,
    `- **size**: amd64 ${kib(machine.sizes['linux-amd64'])} (static musl, target < 300 KiB — ` +
      `${verdict(machine.sizes['linux-amd64'] < TARGETS.sizeBytes)}); arm64 ${kib(machine.sizes['linux-arm64'])} ` +
      '(static glibc from the Debian cross toolchain, for information).',
  ].join('\n');
}

export function render({ machine, forkExec, dd300k, dd3m, startup, memory, syscalls, protectImage }) {
  const tools = Object.values(machine.tools).join(', ');
  return `# Vigil enforcer benchmarks

Generated by \`${machine.command}\` (bench/run.sh) — do not edit by hand; raw hyperfine exports and
measurements are in \`bench/results/\`.

- date: ${machine.date}
- machine: ${machine.nproc} CPUs, ${machine.cpu}, kernel ${machine.kernel}, Landlock ABI ${machine.landlockAbi}; load
  average ${machine.loadAverage.beforeTiming} before timing, ${machine.loadAverage.afterTiming} after (other work on the
  machine shows up as noise: compare the per-round range and the CPU-time column, which contention inflates less)
- enforcer: ${machine.enforcerVersion}, commit ${machine.gitCommit}${machine.enforcerDirty ? ' (with uncommitted changes under enforcer/)' : ''}
- tools: ${tools}
- method: every benchmark is several hyperfine invocations ("rounds", \`-N\`: no shell), each running every contender
  back to back, so a slow period of the VM lands on all of them. "median time" pools all runs of a contender; "× native"
  is the median over rounds of (contender's median ÷ native's median in the same round); the range shows how far that
  ratio moved between rounds. The CPU-time column (hyperfine's user+sys, children included) is the same ratio for CPU
  time, which other load on the machine inflates less than wall time. The enforcer binary is copied before the first
  run (sha256 \`${machine.enforcerSha256.slice(0, 16)}…\`).
- contenders: \`tini -s --\`; \`strace -f --seccomp-bpf -e trace=execve -o /dev/null\`; \`vigil-enforcer --policy
  exec-only.policy --mechanism landlock|seccomp --events /dev/null --\`; \`vigil-enforcer --events /dev/null --\` (no
  policy: pure tracing). The exec-only policy allows \`/bin/*\`, \`/usr/bin/*\`, \`/usr/sbin/*\` and denies
  \`/usr/bin/wget\`, \`/usr/bin/nc*\`. Before timing, the script checks that each mechanism really refuses an exec
  outside the policy (exit 126).

## The other benchmarks (each writes its own report next to this one)

| issue | what | report | written by |
|---|---|---|---|
| #6 | read-only opens and fork+exec with every protection on, vs native and strace | [RESULTS-protections.md](RESULTS-protections.md) | \`bash bench/protections.sh\` |
| #6 | nginx in a protected task under wrk (exec policy; every protection on) | [RESULTS-nginx.md](RESULTS-nginx.md), [RESULTS-nginx-full.md](RESULTS-nginx-full.md) | \`bash bench/nginx-task.sh\` |
| #6 | datagram sends under connect rules | [RESULTS-udp-send.md](RESULTS-udp-send.md) | \`bash bench/udp-send.sh\` |
| #7 | protect image vs crane, buildah, docker build + push (50 and 500 MB; same and another registry) | [RESULTS-protect-image.md](RESULTS-protect-image.md), paced at 50 MB/s: [RESULTS-protect-image-rate50.md](RESULTS-protect-image-rate50.md) | \`bash bench/protect-image.sh\` (\`RATE=50\` for the paced one) |
| #8 | console ingest, events/s and batch p99 (SQLite, PostgreSQL) | [RESULTS-console.md](RESULTS-console.md) | \`bash bench/console-ingest.sh\` |
| #8 | what shipping events to the console costs the application | [RESULTS-shipping.md](RESULTS-shipping.md) | \`node bench/shipping.mjs\` |
${protectImage === null ? '' : `
#7, protecting an image already in the registry (medians of the last \`bash bench/protect-image.sh\` run; details
and the other registry in RESULTS-protect-image.md; target: faster than crane and buildah, ≥ 10× faster than docker
build + push, flat from 50 to 500 MB):

${protectImage}
`}
## Interpretation

${interpretation({ forkExec, dd300k, dd3m, startup, memory, machine })}

## 1. 1,000 fork+exec of /bin/true

\`sh -c 'i=0; while [ $i -lt 1000 ]; do /bin/true; i=$((i+1)); done'\`

${ratioTable(forkExec, TARGETS['fork-exec'])}

## 2. ${machine.ddCounts.small.toLocaleString('en-US')} single-byte read/write pairs

\`dd if=/dev/zero of=/dev/null bs=1 count=${machine.ddCounts.small} status=none\`; seccomp is what a kernel without
Landlock gets.

${ratioTable(dd300k, TARGETS['dd-300k'])}

Same with \`count=${machine.ddCounts.big}\` (more signal, start-up diluted; for information):

${ratioTable(dd3m, {})}

Steady-state cost per system call (slope between the two counts, so start-up cancels out):

${perSyscall(dd300k, dd3m, machine.ddCounts)}

## 3. Start-up added to \`/bin/true\`

${startupTable(startup)}

## 4. Peak RSS of the enforcer process

${memory.method}. (\`/usr/bin/time -f %M\` would report wait4's \`ru_maxrss\`, which also covers the descendants the
enforcer reaped.)

${memoryTable(memory)}

## 5. Binary size

| binary | size | target |
|---|---:|---|
| dist/enforcer/linux-amd64/vigil-enforcer | ${kib(machine.sizes['linux-amd64'])} | < 300 KiB — ${verdict(machine.sizes['linux-amd64'] < TARGETS.sizeBytes)} |
| dist/enforcer/linux-arm64/vigil-enforcer | ${kib(machine.sizes['linux-arm64'])} | for information |

## Appendix: system calls made by the enforcer itself

\`strace -c\` attached to the enforcer only (not its children): start-up = all calls while running \`/bin/true\`; calls per
fork+exec over the 1,000-iteration loop (its start-up subtracted). Rows: calls made at least 20 times at start-up or
at least 0.5 times per fork+exec.

${syscallTable(syscalls)}
`;
}

function main(dir) {
  const json = (name) => JSON.parse(readFileSync(join(dir, name), 'utf8'));
  const rounds = (bench) =>
    readdirSync(dir)
      .filter((f) => f.startsWith(`${bench}.r`) && f.endsWith('.json'))
      .sort()
      .map(json);
  const data = {
    machine: json('machine.json'),
    forkExec: summarize(rounds('fork-exec')),
    dd300k: summarize(rounds('dd-300k')),
    dd3m: summarize(rounds('dd-3m')),
    startup: summarize(rounds('startup')),
    memory: json('memory.json'),
    syscalls: json('enforcer-syscalls.json'),
    protectImage: existsSync(join(dir, 'protect-image.jsonl'))
      ? protectImageHeadline(readFileSync(join(dir, 'protect-image.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)))
      : null,
  };
  process.stdout.write(render(data));
}

main(process.argv[2] ?? 'bench/results');
