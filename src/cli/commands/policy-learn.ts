// vigil policy learn EVENTS.jsonl... [--from POLICY] [-o OUT]: the tightest exec allow list that
// allows every recorded exec, as a commented policy document.

import { resolve } from "node:path";
import { writeFileAtomic } from "../../fs/atomic-write.js";
import { buildExecRules } from "../../policy/exec-rules.js";
import { learnPolicy } from "../../policy/learn.js";
import { UserError } from "../errors.js";
import type { CliIo, CliResult } from "../io.js";
import { loadPolicyDocument, readPolicyText } from "../load-policy.js";
import { readRecordedEvents } from "../read-events.js";

const USAGE = "usage: vigil policy learn EVENTS.jsonl... [--from POLICY] [-o OUT]";

export async function policyLearnCommand(argv: readonly string[], io: CliIo): Promise<CliResult> {
  const files: string[] = [];
  let from: string | null = null;
  let out = "-";
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined || v === "") throw new UserError(`policy learn: ${arg} needs a value`, USAGE);
      return v;
    };
    if (arg === "--from") from = value();
    else if (arg === "-o" || arg === "--output") out = value();
    else if (arg.startsWith("-") && arg !== "-") throw new UserError(`policy learn: unknown option ${arg}`, USAGE);
    else files.push(arg);
  }
  if (files.length === 0) throw new UserError("policy learn: no event file given", USAGE);

  let base: { text: string; rules: ReturnType<typeof buildExecRules> } | null = null;
  if (from !== null) {
    const policy = await loadPolicyDocument(from, io);
    base = { text: await readPolicyText(from, io), rules: buildExecRules(policy.spec?.exec?.allow ?? [], policy.spec?.exec?.deny ?? []) };
  }
  const { execs: observed, notOwn } = await readRecordedEvents(files, io, "policy learn");
  if (observed.length === 0) throw new UserError(`policy learn: no exec event in ${files.join(", ")}`, "record events with `vigil exec --audit --events FILE -- COMMAND`");
  const result = learnPolicy(observed, base, notOwn);
  const stderr = [
    `learned ${result.added.length} allow rule${result.added.length === 1 ? "" : "s"} from ${observed.length} exec event${observed.length === 1 ? "" : "s"}`,
    ...result.notes.map((n) => `note: ${n}`),
  ].join("\n");
  if (out === "-") return { code: 0, stdout: result.text, stderr: `${stderr}\n` };
  await writeFileAtomic(resolve(io.cwd, out), result.text);
  return { code: 0, stdout: "", stderr: `${stderr}\n` };
}
