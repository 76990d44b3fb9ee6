// Reads event files given on the command line: JSON lines as the enforcer writes them, possibly
// mixed with the application's own stderr (lines that are not events are skipped).

import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { ConnectEvent, ExecEvent } from "../events/schema.js";
import { parseEventLines } from "../events/schema.js";
import type { ObservedConnect, ObservedExec } from "../policy/learn.js";
import { UserError } from "./errors.js";
import type { CliIo } from "./io.js";

export async function readExecEvents(files: readonly string[], io: CliIo, command: string): Promise<ObservedExec[]> {
  return (await readRecordedEvents(files, io, command)).execs;
}

/** The exec events, and the connect events an exception would have let through for the application's own process. */
export async function readRecordedEvents(files: readonly string[], io: CliIo, command: string): Promise<{ execs: ObservedExec[]; notOwn: ObservedConnect[] }> {
  const out: ObservedExec[] = [];
  const notOwn: ObservedConnect[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = file === "-" ? await io.readStdin() : await readFile(resolve(io.cwd, file), "utf8");
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new UserError(`${command}: cannot read events ${file}: ${code === "ENOENT" ? "no such file" : String(code ?? error)}`);
    }
    const parsed = parseEventLines(text, { mixed: true });
    if (parsed.errors.length > 0) {
      const shown = parsed.errors.slice(0, 5).map((e) => `${file}:${e.line}: ${e.message}`);
      throw new UserError(`${command}: ${file} has lines that are not valid events:\n${shown.join("\n")}`, "give the JSON lines the enforcer wrote (--events FILE, or its stderr)");
    }
    parsed.events.forEach((event, i) => {
      const ref = { file: file === "-" ? "<stdin>" : file, line: parsed.lines[i] ?? 0 };
      if (event.kind === "exec") out.push({ event: event as ExecEvent, ref });
      if (event.kind === "connect" && (event as ConnectEvent).exceptionNotOwn !== undefined) notOwn.push({ event: event as ConnectEvent, ref });
    });
  }
  return { execs: out, notOwn };
}
