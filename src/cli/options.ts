// Walking a command's arguments: `--name value`, `--name=value`, flags and positionals, with one
// message for an option that lacks its value. Each command keeps its own switch over the names.

import { UserError } from "./errors.js";

export interface ArgToken {
  /** The option name (`--policy` for `--policy=x`), or the argument itself. */
  name: string;
  /** The argument as given. */
  arg: string;
  /** The option's value (inline after `=`, or the next argument); a UserError if there is none. */
  value: () => string;
}

export function* argTokens(argv: readonly string[], command: string, usage: string): Generator<ArgToken> {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    const eq = arg.indexOf("=");
    const name = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg;
    const inline = arg.startsWith("--") && eq > 0 ? arg.slice(eq + 1) : undefined;
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === "") throw new UserError(`${command}: ${name} needs a value`, usage);
      return v;
    };
    yield { name, arg, value };
  }
}
