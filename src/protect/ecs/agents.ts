// Known agent sidecars that protect leaves alone unless named with --container: proxies, log
// routers, telemetry and security agents. Wrapping them adds nothing (they are not the workload)
// and can break them (Envoy's iptables setup, FireLens' socket, agents that trace themselves).

export interface AgentPattern {
  /** Shown in the report. */
  agent: string;
  /** Repository paths (registry host, tag and digest removed) that end with one of these. */
  repositories: readonly string[];
  /** Container names that match when the image is given through an intrinsic function. */
  names: readonly RegExp[];
}

export const KNOWN_AGENTS: readonly AgentPattern[] = [
  { agent: "Envoy / App Mesh proxy", repositories: ["aws-appmesh-envoy", "envoyproxy/envoy", "envoy"], names: [/envoy/i] },
  {
    agent: "FireLens log router (Fluent Bit / Fluentd)",
    repositories: ["aws-for-fluent-bit", "fluent/fluent-bit", "fluent-bit", "fluent/fluentd", "fluentd"],
    names: [/log[-_]?router/i, /fluent[-_]?bit/i, /fluentd/i, /firelens/i],
  },
  {
    agent: "Datadog agent",
    repositories: ["datadog/agent", "datadoghq/agent", "datadog/cws-instrumentation", "datadog/serverless-init"],
    names: [/datadog/i],
  },
  { agent: "AWS X-Ray daemon", repositories: ["aws-xray-daemon", "xray/aws-xray-daemon"], names: [/x-?ray/i] },
  { agent: "CloudWatch agent", repositories: ["cloudwatch-agent", "cloudwatch-agent/cloudwatch-agent"], names: [/cloudwatch[-_]?agent/i, /cwagent/i] },
  {
    agent: "OpenTelemetry collector (ADOT)",
    repositories: ["aws-otel-collector", "aws-observability/aws-otel-collector", "opentelemetry-collector", "opentelemetry-collector-contrib", "splunk-otel-collector"],
    names: [/otel[-_]?collector/i, /aws-otel/i, /adot/i],
  },
  { agent: "New Relic infrastructure agent", repositories: ["newrelic/nri-ecs", "newrelic/infrastructure", "newrelic/infrastructure-bundle"], names: [/newrelic/i] },
  { agent: "Sysdig workload agent", repositories: ["sysdig/workload-agent"], names: [/sysdig/i] },
  { agent: "Aqua MicroEnforcer", repositories: ["microenforcer", "microenforcer-basic"], names: [/aqua/i] },
  { agent: "Prisma Cloud defender", repositories: ["twistlock/defender"], names: [/twistlock/i] },
  { agent: "Lacework agent", repositories: ["lacework/datacollector"], names: [/lacework/i] },
  { agent: "Dynatrace OneAgent", repositories: ["dynatrace/oneagent"], names: [/oneagent/i] },
  { agent: "AWS Secrets/Config agent", repositories: ["aws-appconfig-agent", "aws-appconfig/aws-appconfig-agent"], names: [/appconfig[-_]?agent/i] },
];

/** `123.dkr.ecr.us-east-1.amazonaws.com/team/app:1.2@sha256:…` → `team/app`. */
export function repositoryPath(image: string): string {
  let rest = image.split("@")[0] ?? image;
  const slash = rest.indexOf("/");
  if (slash > 0) {
    const first = rest.slice(0, slash);
    if (first.includes(".") || first.includes(":") || first === "localhost") rest = rest.slice(slash + 1);
  }
  const lastSlash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  if (colon > lastSlash) rest = rest.slice(0, colon);
  return rest.toLowerCase();
}

/**
 * The agent a container looks like, or null. `image` is null when it is an intrinsic function;
 * then only the container name is looked at. A container with `firelensConfiguration` is always
 * the FireLens router.
 */
export function knownAgent(image: string | null, name: string, hasFirelensConfiguration: boolean): string | null {
  if (hasFirelensConfiguration) return "FireLens log router (Fluent Bit / Fluentd)";
  if (image !== null) {
    const repo = repositoryPath(image);
    for (const pattern of KNOWN_AGENTS) {
      if (pattern.repositories.some((r) => repo === r || repo.endsWith(`/${r}`))) return pattern.agent;
    }
    return null;
  }
  for (const pattern of KNOWN_AGENTS) {
    if (pattern.names.some((re) => re.test(name))) return pattern.agent;
  }
  return null;
}
