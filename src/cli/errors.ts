// Errors a command throws to end with a given exit code. Anything else that escapes a command is
// a bug in vigil and ends with exit code 70.

export const EXIT_OK = 0;
export const EXIT_FINDINGS = 1;
export const EXIT_USER_ERROR = 2;
export const EXIT_INTERNAL_ERROR = 70;

/** The user asked for something wrong: says what, where, and how to fix it. Exit code 2. */
export class UserError extends Error {
  override readonly name = "UserError";
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** What an error that escaped a command ends with: its message and exit code 2, or code 70 for a bug. */
export function errorResult(error: unknown): { code: number; stdout: string; stderr: string } {
  if (error instanceof UserError) {
    const hint = error.hint === undefined ? "" : `\n${error.hint}`;
    return { code: EXIT_USER_ERROR, stdout: "", stderr: `vigil: error: ${error.message}${hint}\n` };
  }
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return {
    code: EXIT_INTERNAL_ERROR,
    stdout: "",
    stderr: `vigil: internal error — this is a bug in vigil; please report it with the command you ran.\n${detail}\n`,
  };
}
