// What a command may touch of the outside world, so tests can run the whole CLI in-process.

export interface CliIo {
  /**
   * "inherit": programs that `vigil exec` starts use this process's stdin, stdout and stderr, and
   * this process's signals are forwarded to them (the real command line).
   * "capture": their output is collected into the result (tests); stdin is empty.
   */
  stdio: "inherit" | "capture";
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  readStdin: () => Promise<string>;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}
