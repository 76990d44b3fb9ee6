// The shapes that go in and out of the ECS rewrite. The rewrite itself is pure: documents and
// already-resolved image configs in, a document, diagnostics and a report out.

import type { ConsoleOptions } from "./console.js";

/** How the enforcer reaches the application containers. Values are the CLI's wire format. */
export type DeliveryMode = "copy" | "volumes-from";

/** The part of an image config the rewrite needs (ENTRYPOINT and CMD, as Docker stores them). */
export interface ImageRunConfig {
  entrypoint: string[] | null;
  cmd: string[] | null;
  /** "linux" or "windows", when the source says. */
  os?: string;
}

/** The platform an image is read for (OCI names: os "linux", architecture "amd64" | "arm64"). */
export interface ImagePlatform {
  os: string;
  architecture: string;
}

/**
 * Reads an image's config from wherever it lives (a registry, a file). The effect the pure
 * rewrite is kept away from; `src/registry/image-config.ts` provides the real one.
 */
export type ImageConfigResolver = (ref: string, platform: ImagePlatform) => Promise<ImageRunConfig>;

/** One image whose config the rewrite needs before it can keep a container's argv exactly. */
export interface ImageLookup {
  /** The key `imageConfigs` is looked up by: the image reference, or `container:NAME` for images given through intrinsics. */
  key: string;
  /** The literal image reference, or null when the document gives it through an intrinsic function. */
  image: string | null;
  platform: ImagePlatform;
  /** Field paths of the containers that need it, for messages. */
  containers: string[];
}

/** The default delivery: only AWS-documented Fargate behaviour (see docs/protect-ecs.md). */
export const DEFAULT_MODE: DeliveryMode = "copy";

export interface ProtectOptions {
  /** When absent: the mode of an already protected task, else DEFAULT_MODE. */
  mode?: DeliveryMode;
  /** The sidecar image; when absent, the one already in a protected document is kept. */
  sidecarImage?: string;
  /** Compiled policy text, passed inline in VIGIL_POLICY. */
  policy?: string;
  /**
   * An SSM parameter or Secrets Manager secret (ARN or name) holding the compiled policy: ECS puts
   * it in VIGIL_POLICY through `secrets`. Exclusive with `policy`.
   */
  policySecret?: string;
  /**
   * Enroll the protected containers with the Vigil console: VIGIL_CONSOLE in `environment`, the
   * enrollment token as a `secrets` entry (VIGIL_TOKEN). Absent: what an earlier protect set is
   * kept; null: an earlier console connection is removed.
   */
  console?: ConsoleOptions | null;
  /** Protect exactly these containers (by name); otherwise every essential non-agent container. */
  containers?: readonly string[];
  /** Image configs by lookup key (see ImageLookup.key). */
  imageConfigs?: ReadonlyMap<string, ImageRunConfig>;
  /** Accept pidMode "task" (warning instead of error). */
  allowSharedPid?: boolean;
  /** Where the user gives missing image configs, for hints: the CLI (default), the macro, or the CDK aspect. */
  surface?: "cli" | "macro" | "cdk";
  /** CloudFormation parameter values, so an image given as `Ref: Param` can be read (the macro knows them). */
  parameters?: Readonly<Record<string, string>>;
}

export type Severity = "error" | "warning";

export interface ProtectDiagnostic {
  severity: Severity;
  /** Field path such as `Resources.Web.Properties.ContainerDefinitions[1].Image`, or "" for the document. */
  path: string;
  /** 1-based position in the input, when known. */
  line?: number;
  col?: number;
  message: string;
  hint?: string;
}

/** What happened to one container. Values are the report's wire format. */
export type ContainerOutcome =
  | "protected"
  | "reprotected"
  | "unprotected"
  | "skipped-agent"
  | "skipped-not-essential"
  | "skipped-not-selected"
  | "sidecar";

export interface ContainerReport {
  task: string;
  container: string;
  outcome: ContainerOutcome;
  /** For skipped agents: which agent it looks like. */
  agent?: string;
  /** For the sidecar: how it delivers the enforcer. */
  mode?: DeliveryMode;
}

export type InputKind = "register" | "describe" | "container-definitions" | "cloudformation";

export interface ProtectReport {
  kind: InputKind;
  format: "json" | "yaml";
  containers: ContainerReport[];
  /**
   * Read-only fields of a describe-task-definition output or of a console export (the register
   * form with them at the top level) that were removed so the result can be registered. Present
   * only when some were removed; unprotect does not bring them back.
   */
  removedReadOnly?: string[];
}

export interface ProtectResult {
  /** The rewritten document text, or null when an error diagnostic stopped the rewrite. */
  text: string | null;
  diagnostics: ProtectDiagnostic[];
  report: ProtectReport;
}
