// The CloudFormation macro: a Lambda-compatible handler that protects every
// AWS::ECS::TaskDefinition of a template, so a user can add `Transform: Vigil` (or
// `Transform: {Name: Vigil, Parameters: {SidecarImage: …}}`) instead of running the CLI.
//
// CloudFormation calls it with { requestId, fragment, params, templateParameterValues, … } and
// expects { requestId, status: "success" | "failure", fragment, errorMessage }.

import { compilePolicySource, isCompiledPolicy } from "../../policy/compile-source.js";
import { formatDiagnostic } from "../../policy/diagnostic.js";
import { protectEcsWithResolver } from "./protect.js";
import type { DeliveryMode, ImageConfigResolver, ProtectOptions } from "./types.js";

export interface MacroEvent {
  requestId: string;
  fragment: unknown;
  /** The transform's Parameters (template-level `Transform: {Name, Parameters}`). */
  params?: Record<string, unknown>;
  templateParameterValues?: Record<string, unknown>;
  region?: string;
  accountId?: string;
  transformId?: string;
}

export interface MacroResponse {
  requestId: string;
  status: "success" | "failure";
  fragment?: unknown;
  errorMessage?: string;
}

export interface MacroDependencies {
  /** Reads image configs (the Lambda uses the registry client with its role's ECR access); null: never. */
  resolver: ImageConfigResolver | null;
  /** Defaults: VIGIL_SIDECAR_IMAGE, VIGIL_MODE, VIGIL_POLICY (policy YAML or compiled text). */
  env: Readonly<Record<string, string | undefined>>;
}

function text(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** Options from the transform's parameters, falling back to the function's environment. */
export function macroOptions(event: MacroEvent, env: MacroDependencies["env"]): ProtectOptions | string {
  const params = event.params ?? {};
  const mode = text(params["Mode"]) ?? text(env["VIGIL_MODE"]);
  if (mode !== undefined && mode !== "copy" && mode !== "volumes-from") return `Mode must be copy or volumes-from; received "${mode}"`;
  const sidecarImage = text(params["SidecarImage"]) ?? text(env["VIGIL_SIDECAR_IMAGE"]);
  const rawContainers = params["Containers"];
  const containers = Array.isArray(rawContainers)
    ? rawContainers.filter((c): c is string => typeof c === "string")
    : typeof rawContainers === "string" && rawContainers !== ""
      ? rawContainers.split(",").map((c) => c.trim())
      : undefined;
  let policy = text(params["Policy"]) ?? text(env["VIGIL_POLICY"]);
  if (policy !== undefined && !isCompiledPolicy(policy)) {
    const compiled = compilePolicySource(policy, "Policy");
    if (compiled.text === null) return `the policy does not compile:\n${compiled.errors.map(formatDiagnostic).join("\n")}`;
    policy = compiled.text;
  }
  const policySecret = text(params["PolicyParameter"]) ?? text(env["VIGIL_POLICY_PARAMETER"]);
  if (policy !== undefined && policySecret !== undefined) return "give Policy or PolicyParameter, not both";
  const consoleUrl = text(params["Console"]) ?? text(env["VIGIL_CONSOLE"]);
  const tokenSecret = text(params["TokenParameter"]) ?? text(env["VIGIL_TOKEN_PARAMETER"]);
  const flag = (name: string): boolean => params[name] === true || params[name] === "true";
  if (consoleUrl === undefined && (tokenSecret !== undefined || flag("TokenEnv") || flag("ConsoleInsecure"))) return "TokenParameter, TokenEnv and ConsoleInsecure go with Console";
  if (consoleUrl !== undefined && tokenSecret === undefined && !flag("TokenEnv")) {
    return "Console needs TokenParameter (an SSM parameter or Secrets Manager ARN holding the enrollment token), or TokenEnv: true when the containers get VIGIL_TOKEN another way";
  }
  if (tokenSecret !== undefined && flag("TokenEnv")) return "give TokenParameter or TokenEnv, not both";
  const parameters: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.templateParameterValues ?? {})) if (typeof value === "string") parameters[name] = value;
  return {
    ...(mode === undefined ? {} : { mode: mode as DeliveryMode }),
    ...(sidecarImage === undefined ? {} : { sidecarImage }),
    ...(policy === undefined ? {} : { policy }),
    ...(policySecret === undefined ? {} : { policySecret }),
    ...(containers === undefined ? {} : { containers }),
    ...(consoleUrl === undefined
      ? {}
      : { console: { url: consoleUrl, ...(tokenSecret === undefined ? {} : { tokenSecret }), ...(flag("ConsoleInsecure") ? { insecure: true } : {}) } }),
    ...(params["AllowSharedPid"] === true || params["AllowSharedPid"] === "true" ? { allowSharedPid: true } : {}),
    parameters,
    surface: "macro",
  };
}

export function createMacroHandler(deps: MacroDependencies): (event: MacroEvent) => Promise<MacroResponse> {
  return async (event) => {
    const fail = (errorMessage: string): MacroResponse => ({ requestId: event.requestId, status: "failure", errorMessage: `vigil: ${errorMessage}` });
    const options = macroOptions(event, deps.env);
    if (typeof options === "string") return fail(options);
    const result = await protectEcsWithResolver(JSON.stringify(event.fragment), options, deps.resolver);
    if (result.text === null) {
      const errors = result.diagnostics.filter((d) => d.severity === "error");
      return fail(errors.map((d) => `${d.path === "" ? "" : `${d.path}: `}${d.message}${d.hint === undefined ? "" : ` (${d.hint})`}`).join("; "));
    }
    return { requestId: event.requestId, status: "success", fragment: JSON.parse(result.text) as unknown };
  };
}
