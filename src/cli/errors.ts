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
