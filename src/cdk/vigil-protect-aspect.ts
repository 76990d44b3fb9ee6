// A CDK Aspect that protects every ECS task definition of a scope:
//
//   Aspects.of(stack).add(new VigilProtect({ sidecarImage: "…/vigil-sidecar:0.1.0" }));
//
// It renders each CfnTaskDefinition as CloudFormation, runs the same pure rewrite as
// `vigil protect ecs`, and applies the result as property overrides. Synthesis is synchronous, so
// image configs cannot be read from a registry here: set `command`/`entryPoint` on the container,
// or pass `imageConfigs` (by image reference or container name). aws-cdk-lib and constructs are
// optional peer dependencies: only this module needs them.

import { Annotations, type IAspect, Stack } from "aws-cdk-lib";
import { CfnTaskDefinition } from "aws-cdk-lib/aws-ecs";
import type { IConstruct } from "constructs";
import { compilePolicySource, isCompiledPolicy } from "../policy/compile-source.js";
import { formatDiagnostic } from "../policy/diagnostic.js";
import { protectEcs } from "../protect/ecs/protect.js";
import type { ConsoleOptions } from "../protect/ecs/console.js";
import type { DeliveryMode, ImageRunConfig, ProtectOptions } from "../protect/ecs/types.js";

export interface VigilProtectProps {
  sidecarImage: string;
  mode?: DeliveryMode;
  /** Policy YAML/JSON source, or an already compiled policy; passed inline in VIGIL_POLICY. */
  policy?: string;
  /** SSM parameter / Secrets Manager ARN holding the compiled policy (VIGIL_POLICY through secrets). */
  policySecret?: string;
  /** Protect exactly these containers; default: essential containers except known agents. */
  containers?: string[];
  /** Image ENTRYPOINT/CMD by image reference or container name, for containers that set no entryPoint. */
  imageConfigs?: Record<string, ImageRunConfig>;
  allowSharedPid?: boolean;
  /**
   * Enroll the protected containers with the Vigil console (docs/protect-ecs.md, "Connecting to the
   * console"): VIGIL_CONSOLE in `environment`, the enrollment token from `tokenSecret` (an SSM
   * parameter or Secrets Manager ARN) through `secrets` — never in clear.
   */
  console?: ConsoleOptions;
}

interface RenderedTemplate {
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
}

export class VigilProtect implements IAspect {
  private readonly options: ProtectOptions;

  constructor(props: VigilProtectProps) {
    let policy = props.policy;
    if (policy !== undefined && !isCompiledPolicy(policy)) {
      const compiled = compilePolicySource(policy, "policy");
      if (compiled.text === null) throw new Error(`VigilProtect: the policy does not compile:\n${compiled.errors.map(formatDiagnostic).join("\n")}`);
      policy = compiled.text;
    }
    const imageConfigs = new Map<string, ImageRunConfig>();
    for (const [name, config] of Object.entries(props.imageConfigs ?? {})) {
      imageConfigs.set(name, config);
      imageConfigs.set(`container:${name}`, config);
    }
    this.options = {
      sidecarImage: props.sidecarImage,
      imageConfigs,
      surface: "cdk",
      ...(props.mode === undefined ? {} : { mode: props.mode }),
      ...(policy === undefined ? {} : { policy }),
      ...(props.policySecret === undefined ? {} : { policySecret: props.policySecret }),
      ...(props.containers === undefined ? {} : { containers: props.containers }),
      ...(props.allowSharedPid === true ? { allowSharedPid: true } : {}),
      ...(props.console === undefined ? {} : { console: props.console }),
    };
  }

  visit(node: IConstruct): void {
    if (!(node instanceof CfnTaskDefinition)) return;
    const stack = Stack.of(node);
    // _toCloudFormation is how the L1 renders itself (with earlier overrides); resolve turns tokens into intrinsics.
    const rendered = stack.resolve((node as unknown as { _toCloudFormation(): object })._toCloudFormation()) as RenderedTemplate;
    const result = protectEcs(JSON.stringify(rendered), this.options);
    for (const d of result.diagnostics) {
      const text = `vigil: ${d.path === "" ? "" : `${d.path.replace(/^Resources\.[^.]+\.Properties\./, "")}: `}${d.message}${d.hint === undefined ? "" : ` (${d.hint})`}`;
      if (d.severity === "error") Annotations.of(node).addError(text);
      else Annotations.of(node).addWarning(text);
    }
    if (result.text === null) return;
    const out = JSON.parse(result.text) as RenderedTemplate;
    for (const [logicalId, resource] of Object.entries(out.Resources)) {
      if (rendered.Resources[logicalId] === undefined) continue;
      const properties = resource.Properties ?? {};
      node.addPropertyOverride("ContainerDefinitions", properties["ContainerDefinitions"]);
      if (properties["Volumes"] !== undefined) node.addPropertyOverride("Volumes", properties["Volumes"]);
    }
  }
}
