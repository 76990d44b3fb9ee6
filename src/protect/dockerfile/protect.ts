// vigil protect dockerfile: the final stage (or --target) gains
//   COPY --from=<sidecar image> /vigil /vigil
// and an entry point that starts the enforcer first, with Docker's build semantics kept exactly:
//
// * the stage sets ENTRYPOINT: its last ENTRYPOINT is rewritten in place to the exec form
//   ["/vigil/enforcer", "--", ...its argv]; a shell form becomes [..., "/bin/sh", "-c", "TEXT"]
//   (or the stage's SHELL), which is what Docker stores for it anyway. CMD is untouched.
// * the stage does not: the entry point is inherited (an earlier stage of this Dockerfile, or the
//   base image's config, read from its registry or given with --base-config). An ENTRYPOINT
//   wrapping it is added at the end of the stage; since adding ENTRYPOINT makes Docker drop an
//   inherited CMD, the inherited CMD is written out too when the stage sets none.
//
// With a policy, the stage also gains `COPY <policy file in the build context> /vigil/policy` and
// `ENV VIGIL_POLICY_FILE=/vigil/policy` (after the sidecar's COPY, so they win over a policy the
// sidecar might carry): plain COPY and ENV, which every builder (classic or BuildKit) runs.
//
// Nothing else changes: every other byte, comment and line ending stays. Protecting a protected
// Dockerfile changes nothing (or only the sidecar image, when another one is asked for).

import { ENFORCER_PATH, POLICY_ENV, POLICY_PATH } from "../image/config.js";
import { commandForm, DockerfileSyntaxError, parseDockerfile, parseFrom, substitute, type FromInstruction, type Instruction, type ParsedDockerfile } from "./parse.js";

export interface BaseConfig {
  entrypoint: string[] | null;
  cmd: string[] | null;
  /** The base image's SHELL (config `Shell`); absent, null or empty: /bin/sh -c. */
  shell?: string[] | null;
}

/** Reads a base image's config (from a registry, a file…); throws BaseUnavailable when it cannot. */
export type BaseResolver = (image: string, platform: string | null, line: number) => Promise<BaseConfig>;

/** A base image's config could not be had (offline, registry error): `reason` says why. */
export class BaseUnavailable extends Error {
  constructor(
    readonly reason: string,
    readonly hint?: string,
  ) {
    super(reason);
  }
}

export interface ProtectDockerfileOptions {
  /** The sidecar image to copy /vigil from; default: the one a protected Dockerfile already names. */
  sidecarImage?: string;
  /** The stage to protect (its AS name); default the last. */
  target?: string;
  /** The compiled policy's path in the build context (forward slashes): COPY'd to /vigil/policy. */
  policySource?: string;
  /** --build-arg values, over the defaults of ARGs before the first FROM. */
  buildArgs?: ReadonlyMap<string, string>;
  resolveBase: BaseResolver;
}

export interface ProtectDockerfileResult {
  text: string;
  changed: boolean;
  /** What was done, for the user (stderr). */
  notes: string[];
}

export class DockerfileError extends Error {
  constructor(
    message: string,
    readonly line: number | null,
    readonly hint?: string,
  ) {
    super(message);
  }
}

const DEFAULT_SHELL = ["/bin/sh", "-c"];
const COMMENT = "# vigil protect dockerfile: the enforcer starts first, then the original command";

interface Stage {
  from: Instruction;
  parsed: FromInstruction;
  body: Instruction[];
}

interface StageState {
  entrypoint: string[] | null;
  cmd: string[] | null;
}

export async function protectDockerfile(text: string, options: ProtectDockerfileOptions): Promise<ProtectDockerfileResult> {
  let parsed: ParsedDockerfile;
  try {
    parsed = parseDockerfile(text);
  } catch (error) {
    if (error instanceof DockerfileSyntaxError) throw new DockerfileError(error.message, error.line);
    throw error;
  }
  const { stages, globalArgs } = splitStages(parsed, options.buildArgs ?? new Map());
  if (stages.length === 0) throw new DockerfileError("no FROM instruction: this is not a Dockerfile", null);
  const finalIndex = options.target === undefined ? stages.length - 1 : stages.findIndex((s) => s.parsed.alias?.toLowerCase() === options.target?.toLowerCase());
  if (finalIndex < 0) throw new DockerfileError(`no stage named ${options.target}`, null, `stages: ${stages.map((s) => s.parsed.alias ?? "(unnamed)").join(", ")}`);
  const stage = stages[finalIndex] as Stage;

  const imageOf = (s: Stage): string => {
    const r = substitute(s.parsed.image, globalArgs);
    if ("missing" in r) {
      throw new DockerfileError(`FROM ${s.parsed.image} uses $${r.missing}, which has no value`, s.from.line, `pass --build-arg ${r.missing}=VALUE, as for docker build`);
    }
    return r.value;
  };
  const notes: string[] = [];
  const parentOf = (index: number): number | null => {
    const image = imageOf(stages[index] as Stage).toLowerCase();
    for (let j = index - 1; j >= 0; j--) if (stages[j]?.parsed.alias?.toLowerCase() === image) return j;
    return null;
  };
  /** Each base image is read once, and only when something needs it. */
  const bases = new Map<number, Promise<BaseConfig>>();
  const baseOf = (index: number): Promise<BaseConfig> => {
    let base = bases.get(index);
    if (base === undefined) {
      const s = stages[index] as Stage;
      base = options.resolveBase(imageOf(s), s.parsed.platform, s.from.line);
      bases.set(index, base);
    }
    return base;
  };
  const unavailable = (index: number, why: string, error: BaseUnavailable): DockerfileError => {
    const s = stages[index] as Stage;
    return new DockerfileError(`${why} ${imageOf(s)}, which could not be read: ${error.reason}`, s.from.line, error.hint);
  };
  /**
   * The shell of a root stage: its base image's SHELL (Docker's builder inherits config.Shell), or
   * /bin/sh -c when the image has none. A base that cannot be read is taken to have none (what
   * nearly every Linux image does), with a note saying how to give its config.
   */
  const shellNoted = new Set<number>();
  const baseShell = async (index: number): Promise<string[]> => {
    const s = stages[index] as Stage;
    if (imageOf(s).toLowerCase() === "scratch") return DEFAULT_SHELL;
    try {
      const shell = (await baseOf(index)).shell;
      return shell === undefined || shell === null || shell.length === 0 ? DEFAULT_SHELL : shell;
    } catch (error) {
      if (!(error instanceof BaseUnavailable)) throw error;
      if (!shellNoted.has(index)) notes.push(`line ${s.from.line}: the SHELL of ${imageOf(s)} could not be read (${error.reason}); shell forms are taken as /bin/sh -c${error.hint === undefined ? "" : ` — ${error.hint}`}`);
      shellNoted.add(index);
      return DEFAULT_SHELL;
    }
  };
  /** The SHELL in effect before `upTo` in stage `index`: its own last SHELL, else its parent's or base image's. */
  const shellAt = async (index: number, upTo: number): Promise<string[]> => {
    let shell: string[] | null = null;
    for (const ins of (stages[index] as Stage).body) {
      if (ins.start >= upTo) break;
      if (ins.name === "SHELL") {
        const f = commandForm(ins.args, ins.line);
        if (f.form !== "exec") throw new DockerfileError("SHELL must be written in exec form", ins.line);
        shell = f.argv;
      }
    }
    if (shell !== null) return shell;
    const parent = parentOf(index);
    return parent !== null ? shellAt(parent, Infinity) : baseShell(index);
  };
  const argvOf = async (ins: Instruction, index: number): Promise<string[]> => {
    const f = commandForm(ins.args, ins.line);
    return f.form === "exec" ? f.argv : [...(await shellAt(index, ins.start)), f.text];
  };
  /** Docker's builder: ENTRYPOINT drops an inherited CMD unless this stage set CMD before it. */
  const stateOf = async (index: number): Promise<StageState> => {
    const s = stages[index] as Stage;
    const parent = parentOf(index);
    let state: StageState;
    if (parent !== null) state = await stateOf(parent);
    else if (imageOf(s).toLowerCase() === "scratch") state = { entrypoint: null, cmd: null };
    else {
      try {
        const base = await baseOf(index);
        state = { entrypoint: base.entrypoint, cmd: base.cmd };
      } catch (error) {
        if (error instanceof BaseUnavailable) throw unavailable(index, "the stage inherits its entry point from", error);
        throw error;
      }
    }
    let cmdSet = false;
    for (const ins of s.body) {
      if (ins.name === "CMD") {
        state.cmd = await argvOf(ins, index);
        cmdSet = true;
      } else if (ins.name === "ENTRYPOINT") {
        state.entrypoint = await argvOf(ins, index);
        if (!cmdSet) state.cmd = null;
      }
    }
    return state;
  };

  const edits: { start: number; end: number; text: string }[] = [];
  const eol = parsed.eol;
  const copy = stage.body.find((i) => i.name === "COPY" && /(^|\s)--from=\S+/.test(i.args) && /\s\/vigil\/?\s+\/vigil\/?$/.test(i.args));
  const existingSidecar = copy === undefined ? null : (/--from=(\S+)/.exec(copy.args)?.[1] ?? null);
  const sidecar = options.sidecarImage ?? existingSidecar;
  if (sidecar === null) {
    throw new DockerfileError("which sidecar image should /vigil be copied from?", null, "pass --sidecar-image REF (the image `vigil sidecar build --push REF` pushed), or set VIGIL_SIDECAR_IMAGE");
  }
  const block: string[] = [];
  if (copy === undefined) {
    block.push(COMMENT, `COPY --from=${sidecar} /vigil /vigil`);
  } else if (existingSidecar !== sidecar) {
    const slice = text.slice(copy.start, copy.lineEnd);
    edits.push({ start: copy.start, end: copy.lineEnd, text: slice.replace(/--from=\S+/, `--from=${sidecar}`) });
    notes.push(`line ${copy.line}: the sidecar image is now ${sidecar}`);
  }

  if (options.policySource !== undefined) block.push(...policyLines(text, stage, options.policySource, edits, notes));

  const entry = [...stage.body].reverse().find((i) => i.name === "ENTRYPOINT");
  if (entry !== undefined) {
    const argv = await argvOf(entry, finalIndex);
    if (argv[0] !== ENFORCER_PATH) {
      const original = text.slice(entry.start, entry.lineEnd);
      const ending = original.endsWith("\r\n") ? "\r\n" : original.endsWith("\n") ? "\n" : "";
      edits.push({ start: entry.start, end: entry.lineEnd, text: `${entry.keyword} ${execForm([ENFORCER_PATH, "--", ...argv])}${ending}` });
      notes.push(`line ${entry.line}: ENTRYPOINT wrapped${commandForm(entry.args, entry.line).form === "shell" ? " (shell form kept as its shell's -c)" : ""}`);
    }
  } else {
    const state = await stateOf(finalIndex);
    const inherited = state.entrypoint !== null && state.entrypoint.length === 1 && state.entrypoint[0] === "" ? [] : (state.entrypoint ?? []);
    if (inherited[0] !== ENFORCER_PATH) {
      block.push(`ENTRYPOINT ${execForm([ENFORCER_PATH, "--", ...inherited])}`);
      const cmdInStage = stage.body.some((i) => i.name === "CMD");
      if (!cmdInStage && state.cmd !== null && state.cmd.length > 0) block.push(`CMD ${execForm(state.cmd)}`);
      notes.push(`the inherited entry point ${JSON.stringify(state.entrypoint)} is wrapped by an ENTRYPOINT added at the end of the stage${!cmdInStage && state.cmd !== null ? ", with the inherited CMD written out (Docker drops it when ENTRYPOINT is set)" : ""}`);
    }
  }
  if (block.length > 0) {
    const last = stage.body.at(-1) ?? stage.from;
    const before = text.slice(0, last.end);
    const lead = before.endsWith("\n") ? "" : eol;
    edits.push({ start: last.end, end: last.end, text: `${lead}${block.join(eol)}${eol}` });
  }
  if (edits.length === 0) return { text, changed: false, notes: ["already protected; nothing to change"] };
  edits.sort((a, b) => b.start - a.start);
  let out = text;
  for (const e of edits) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return { text: out, changed: out !== text, notes };
}

/**
 * The policy's COPY and ENV: added when missing, the COPY's source moved in place when it
 * differs. Another VIGIL_POLICY or VIGIL_POLICY_FILE set in the stage would decide instead of
 * the built-in policy, so it is refused.
 */
function policyLines(text: string, stage: Stage, source: string, edits: { start: number; end: number; text: string }[], notes: string[]): string[] {
  if (source === "" || /[\r\n]/.test(source)) throw new DockerfileError(`the policy file's path in the build context is not usable: ${JSON.stringify(source)}`, null);
  const ours = POLICY_ENV.replace("=", "[= ]");
  for (const ins of stage.body) {
    if (ins.name === "ENV" && /(^|\s)VIGIL_POLICY(_FILE)?[= ]/.test(ins.args) && !new RegExp(`^${ours}$`).test(ins.args)) {
      throw new DockerfileError("the stage sets VIGIL_POLICY or VIGIL_POLICY_FILE, which would decide instead of --policy", ins.line, "remove that ENV, or protect without --policy");
    }
  }
  const lines: string[] = [];
  const copyLine = (src: string): string => (/\s|^\[/.test(src) ? `COPY ${JSON.stringify([src, POLICY_PATH])}` : `COPY ${src} ${POLICY_PATH}`);
  const copy = stage.body.find((i) => i.name === "COPY" && !/(^|\s)--from=/.test(i.args) && (i.args.endsWith(` ${POLICY_PATH}`) || i.args.endsWith(`"${POLICY_PATH}"]`)));
  if (copy === undefined) {
    lines.push(copyLine(source));
  } else if (copy.args !== copyLine(source).slice("COPY ".length)) {
    const original = text.slice(copy.start, copy.lineEnd);
    const ending = original.endsWith("\r\n") ? "\r\n" : original.endsWith("\n") ? "\n" : "";
    edits.push({ start: copy.start, end: copy.lineEnd, text: `${copyLine(source)}${ending}` });
    notes.push(`line ${copy.line}: the policy is now copied from ${source}`);
  }
  if (!stage.body.some((i) => i.name === "ENV" && new RegExp(`^${ours}$`).test(i.args))) lines.push(`ENV ${POLICY_ENV}`);
  if (lines.length > 0) notes.push(`the compiled policy is built in: ${source} → ${POLICY_PATH}, VIGIL_POLICY_FILE set`);
  return lines;
}

function execForm(argv: readonly string[]): string {
  return `[${argv.map((a) => JSON.stringify(a)).join(", ")}]`;
}

function splitStages(parsed: ParsedDockerfile, buildArgs: ReadonlyMap<string, string>): { stages: Stage[]; globalArgs: Map<string, string> } {
  const stages: Stage[] = [];
  const globalArgs = new Map<string, string>();
  for (const ins of parsed.instructions) {
    if (ins.name === "FROM") {
      stages.push({ from: ins, parsed: parseFrom(ins), body: [] });
    } else if (stages.length === 0) {
      if (ins.name === "ARG") {
        for (const word of ins.args.split(/[ \t]+/).filter((w) => w !== "")) {
          const eq = word.indexOf("=");
          const name = eq < 0 ? word : word.slice(0, eq);
          const given = buildArgs.get(name);
          if (given !== undefined) globalArgs.set(name, given);
          else if (eq >= 0) globalArgs.set(name, word.slice(eq + 1).replace(/^(["'])(.*)\1$/, "$2"));
        }
      }
    } else {
      stages.at(-1)?.body.push(ins);
    }
  }
  return { stages, globalArgs };
}
