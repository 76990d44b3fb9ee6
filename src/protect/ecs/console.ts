// Enrolling protected containers with the Vigil console: which variables protect adds, and the
// checks on what the user gives. The console URL goes in clear into `environment`
// (VIGIL_CONSOLE); the enrollment token never does: it is a `secrets` entry (VIGIL_TOKEN,
// valueFrom an SSM parameter or Secrets Manager secret), or comes some other way the user manages.
// The variables are the enforcer's (docs/console-protocol.md, "Environment of the enforcer").

import type { ProtectDiagnostic } from "./types.js";

export const CONSOLE_VARIABLE = "VIGIL_CONSOLE";
export const INSECURE_VARIABLE = "VIGIL_CONSOLE_INSECURE";
export const TOKEN_VARIABLE = "VIGIL_TOKEN";
/** Every variable of the enforcer's console connection a user might already set. */
export const CONSOLE_VARIABLES: readonly string[] = [CONSOLE_VARIABLE, INSECURE_VARIABLE, TOKEN_VARIABLE, "VIGIL_CONSOLE_CA", "VIGIL_CONSOLE_QUEUE"];

export interface ConsoleOptions {
  /** The console's base URL: https://NAME[:PORT][/prefix], or http:// with `insecure`. */
  url: string;
  /**
   * An SSM parameter (ARN or name) or Secrets Manager secret (ARN) holding the enrollment token:
   * ECS puts it in VIGIL_TOKEN through `secrets`. Absent: the token reaches the container another
   * way the user manages (a `secrets` entry of their own, an environment file).
   */
  tokenSecret?: string;
  /** Allow http:// (adds VIGIL_CONSOLE_INSECURE=1). */
  insecure?: boolean;
}

/** What the user calls each setting, by where the options come from. */
const NAMES = {
  cli: { url: "--console", token: "--token-secret", tokenEnv: "--token-env", insecure: "--console-insecure" },
  macro: { url: "Console", token: "TokenParameter", tokenEnv: "TokenParameter", insecure: "ConsoleInsecure" },
  cdk: { url: "console.url", token: "console.tokenSecret", tokenEnv: "console.tokenSecret", insecure: "console.insecure" },
} as const;

export type OptionSurface = keyof typeof NAMES;

/** An enrollment token as the console issues it (docs/console-protocol.md, "Credentials"). */
const TOKEN_SHAPE = /vgt_[0-9a-f]{12}_[A-Za-z0-9_-]{20,}/;

/** True when `text` holds an enrollment token itself (rather than where one is stored). */
export function holdsToken(text: string): boolean {
  return TOKEN_SHAPE.test(text) || text.startsWith("vgt_");
}

/** How to keep a token out of the task definition, for messages. */
export function storeTokenHint(flag: string): string {
  return (
    "store the token in SSM Parameter Store as a SecureString " +
    "(aws ssm put-parameter --name /vigil/token --type SecureString --value 'vgt_…'), " +
    `then pass ${flag} arn:aws:ssm:REGION:ACCOUNT:parameter/vigil/token (the task's execution role must be allowed ssm:GetParameters on it)`
  );
}

const SSM_ARN = /^arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:parameter\/.+$/;
const SECRETS_MANAGER_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/;
/** An SSM parameter name (same region as the task): letters, digits, `_.-/`. */
const SSM_NAME = /^\/?[A-Za-z0-9_.\-/]{1,2048}$/;

/** Errors and warnings about the console options themselves (not about any one task). */
export function checkConsoleOptions(options: ConsoleOptions, surface: OptionSurface = "cli"): ProtectDiagnostic[] {
  const names = NAMES[surface];
  const out: ProtectDiagnostic[] = [];
  const error = (message: string, hint?: string): void => {
    out.push({ severity: "error", path: "", message, ...(hint === undefined ? {} : { hint }) });
  };
  const problem = consoleUrlProblem(options.url, options.insecure === true, names.insecure);
  if (problem !== null) error(`${names.url} ${JSON.stringify(options.url)}: ${problem.message}`, problem.hint);
  else if (options.url.startsWith("http://")) {
    out.push({
      severity: "warning",
      path: "",
      message: `${names.url} ${options.url} is plain http: the enrollment token, the enforcer's key, its events and its policy cross the network unencrypted and unauthenticated (${INSECURE_VARIABLE}=1 is set)`,
      hint: "use it only on a network you trust (a local test); give the console a certificate and use https://",
    });
  }
  const secret = options.tokenSecret;
  if (secret !== undefined) {
    if (holdsToken(secret)) {
      error(`${names.token}: that is an enrollment token itself; vigil never writes a token in clear into a task definition`, storeTokenHint(names.token));
    } else if (!SSM_ARN.test(secret) && !SECRETS_MANAGER_ARN.test(secret) && !SSM_NAME.test(secret)) {
      error(
        `${names.token} ${JSON.stringify(secret)}: expected the ARN of an SSM parameter or Secrets Manager secret (or an SSM parameter name) holding the enrollment token`,
        "e.g. arn:aws:ssm:us-east-1:123456789012:parameter/vigil/token",
      );
    }
  }
  return out;
}

/** null when `url` is a console base URL the enforcer accepts, else what is wrong and what to do. */
export function consoleUrlProblem(url: string, insecure: boolean, insecureFlag = "--console-insecure"): { message: string; hint?: string } | null {
  const scheme = /^(https?):\/\//.exec(url)?.[1];
  if (scheme === undefined) return { message: "must start with https://", hint: "give the console's base URL, e.g. https://vigil.example.com" };
  if (scheme === "http" && !insecure) {
    return { message: "plain http would send the enrollment token and the events unencrypted", hint: `use https://, or pass ${insecureFlag} to accept it (a local test)` };
  }
  const rest = url.slice(scheme.length + 3);
  if (/[?#@]/.test(rest)) return { message: "must not contain user info, a query or a fragment", hint: "give only https://HOST[:PORT][/PATH]" };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { message: "is not a URL" };
  }
  const host = parsed.hostname;
  const isIp = host.startsWith("[") || /^\d+\.\d+\.\d+\.\d+$/.test(host);
  if (!isIp && !/^[A-Za-z0-9._-]{1,255}$/.test(host)) return { message: "the host name has a character the enforcer does not accept", hint: "use the console's DNS name (ASCII; punycode for IDNs)" };
  if (scheme === "https" && isIp) {
    return { message: "HTTPS needs the console's DNS name, the one in its certificate: the enforcer checks DNS names only, not IP addresses", hint: "give the console a DNS name (a private hosted zone, or localhost for a local test)" };
  }
  if (/[\s\u0080-\uffff]/.test(rest)) return { message: "the path has a space or a non-ASCII character", hint: "percent-encode it" };
  if (parsed.pathname.replace(/\/+$/, "").length >= 512) return { message: "the path is too long (the enforcer takes at most 511 bytes)" };
  return null;
}
