// ECS environment files (`environmentFiles`, `.env`): one VARIABLE=VALUE per line, lines starting
// with # and blank lines ignored, no quote processing (the value is everything after the first
// "="). Parsing is pure; reading the files is the caller's business.

export interface EnvFileProblem {
  line: number;
  message: string;
}

export function parseEnvFile(text: string): { vars: [string, string][]; problems: EnvFileProblem[] } {
  const vars: [string, string][] = [];
  const problems: EnvFileProblem[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line.trim() === "" || line.trimStart().startsWith("#")) return;
    const eq = line.indexOf("=");
    if (eq <= 0) {
      problems.push({ line: i + 1, message: `expected VARIABLE=VALUE; received ${JSON.stringify(line.length > 40 ? `${line.slice(0, 37)}...` : line)}` });
      return;
    }
    const name = line.slice(0, eq);
    if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(name)) {
      problems.push({ line: i + 1, message: `${JSON.stringify(name)} is not a variable name` });
      return;
    }
    vars.push([name, line.slice(eq + 1)]);
  });
  return { vars, problems };
}

/**
 * A container's environment as ECS builds it: `environment` wins over environment files; among
 * the files, the first one that sets a variable wins (they are read top down); secrets are added
 * last and win over both. The result is sorted by name (deterministic).
 */
export function mergeEnvironment(
  environment: readonly { name: string; value: string }[],
  files: readonly (readonly [string, string])[][],
  secrets: readonly { name: string; value: string }[],
): string[] {
  const env = new Map<string, string>();
  for (const file of files) for (const [k, v] of file) if (!env.has(k)) env.set(k, v);
  for (const { name, value } of environment) env.set(name, value);
  for (const { name, value } of secrets) env.set(name, value);
  return [...env.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${k}=${v}`);
}
