// vigil policy test POLICY EVENTS.jsonl...: replay recorded exec events and list what the policy
// would block. Exit 1 when anything would be blocked, 0 when nothing would.

import { buildExecRules } from "../../policy/exec-rules.js";
import { replayExec } from "../../policy/replay.js";
import { EXIT_FINDINGS, EXIT_OK, UserError } from "../errors.js";
import type { CliIo, CliResult } from "../io.js";
import { loadPolicyDocument } from "../load-policy.js";
import { readExecEvents } from "../read-events.js";

const USAGE = "usage: vigil policy test POLICY EVENTS.jsonl...";

export async function policyTestCommand(argv: readonly string[], io: CliIo): Promise<CliResult> {
  const unknown = argv.find((a) => a.startsWith("-") && a !== "-");
  if (unknown !== undefined) throw new UserError(`policy test: unknown option ${unknown}`, USAGE);
  const [policyFile, ...files] = argv;
  if (policyFile === undefined) throw new UserError("policy test: no policy given", USAGE);
  if (files.length === 0) throw new UserError("policy test: no event file given", USAGE);
  const policy = await loadPolicyDocument(policyFile, io);
  const exec = policy.spec?.exec ?? {};
  const rules = buildExecRules(exec.allow ?? [], exec.deny ?? []);
  const observed = await readExecEvents(files, io, "policy test");
  const replayed = observed.map((o) => replayExec(rules, exec, false, o.event, o.ref));
  const refused = replayed.filter((r) => r.outcome !== "allowed");
  const lines = refused.map((r) => {
    const argv = r.event.argv.join(" ").replace(/[\r\n\t]/g, " ");
    const what = r.event.script ?? r.event.program ?? r.event.exe;
    const rule = r.verdict.pattern === null ? r.verdict.rule : `${r.verdict.rule} "${r.verdict.pattern}"`;
    return `${r.ref.file}:${r.ref.line}: ${r.outcome === "alert" ? "would be reported (alert)" : "would be blocked"}: ${what} (${argv.length > 100 ? `${argv.slice(0, 97)}...` : argv}) by ${rule} — ${r.verdict.reason}`;
  });
  const blocked = refused.filter((r) => r.outcome === "blocked").length;
  const n = replayed.length;
  lines.push(
    `${n} exec event${n === 1 ? "" : "s"} replayed: ${blocked === 0 ? "none" : blocked} would be blocked${refused.length > blocked ? `, ${refused.length - blocked} reported` : ""} (exec.drift and exec.reverseShell depend on the running container and are not replayed)`,
  );
  return { code: blocked > 0 ? EXIT_FINDINGS : EXIT_OK, stdout: `${lines.join("\n")}\n`, stderr: "" };
}
