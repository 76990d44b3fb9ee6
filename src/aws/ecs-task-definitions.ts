// Reading and registering ECS task definitions (AWS SDK for JavaScript v3). The effects around
// the pure rewrite: `vigil protect ecs --from FAMILY[:REVISION] [--register]`.

import type { ECSClient, RegisterTaskDefinitionCommandInput } from "@aws-sdk/client-ecs";

export interface EcsConnection {
  region?: string;
  /** An endpoint other than AWS's (tests, VPC endpoints, LocalStack). */
  endpoint?: string;
  /** The environment to take credentials and region from; the SDK's default chain otherwise. */
  env: Readonly<Record<string, string | undefined>>;
}

export class EcsError extends Error {
  override readonly name = "EcsError";
}

async function client(connection: EcsConnection): Promise<{ client: ECSClient; sdk: typeof import("@aws-sdk/client-ecs") }> {
  let sdk: typeof import("@aws-sdk/client-ecs");
  try {
    sdk = await import("@aws-sdk/client-ecs");
  } catch {
    throw new EcsError("the AWS SDK for ECS is not installed (npm install @aws-sdk/client-ecs)");
  }
  const env = connection.env;
  const region = connection.region ?? env["AWS_REGION"] ?? env["AWS_DEFAULT_REGION"];
  if (region === undefined || region === "") throw new EcsError("no AWS region: pass --region or set AWS_REGION");
  const accessKeyId = env["AWS_ACCESS_KEY_ID"];
  const secretAccessKey = env["AWS_SECRET_ACCESS_KEY"];
  const sessionToken = env["AWS_SESSION_TOKEN"];
  const credentials =
    accessKeyId !== undefined && secretAccessKey !== undefined
      ? { accessKeyId, secretAccessKey, ...(sessionToken === undefined ? {} : { sessionToken }) }
      : undefined;
  const endpoint = connection.endpoint ?? env["AWS_ENDPOINT_URL_ECS"] ?? env["AWS_ENDPOINT_URL"];
  return {
    sdk,
    client: new sdk.ECSClient({
      region,
      maxAttempts: 2,
      ...(credentials === undefined ? {} : { credentials }),
      ...(endpoint === undefined || endpoint === "" ? {} : { endpoint }),
    }),
  };
}

function describeError(error: unknown, what: string): EcsError {
  const e = error as { name?: string; message?: string };
  return new EcsError(`${what}: ${e.name ?? "error"}: ${e.message ?? String(error)}`);
}

/** `describe-task-definition --include TAGS` output, as the JSON text the CLI prints. */
export async function fetchTaskDefinition(connection: EcsConnection, ref: string): Promise<string> {
  const { client: ecs, sdk } = await client(connection);
  try {
    const out = await ecs.send(new sdk.DescribeTaskDefinitionCommand({ taskDefinition: ref, include: ["TAGS"] }));
    if (out.taskDefinition === undefined) throw new EcsError(`describe-task-definition ${ref}: no task definition in the answer`);
    return `${JSON.stringify({ taskDefinition: out.taskDefinition, tags: out.tags ?? [] }, null, 4)}\n`;
  } catch (error) {
    throw error instanceof EcsError ? error : describeError(error, `describe-task-definition ${ref}`);
  } finally {
    ecs.destroy();
  }
}

/** Registers a task definition (the register-task-definition JSON text); returns the new ARN. */
export async function registerTaskDefinition(connection: EcsConnection, text: string): Promise<string> {
  const { client: ecs, sdk } = await client(connection);
  try {
    const input = JSON.parse(text) as RegisterTaskDefinitionCommandInput;
    const out = await ecs.send(new sdk.RegisterTaskDefinitionCommand(input));
    const arn = out.taskDefinition?.taskDefinitionArn;
    if (arn === undefined) throw new EcsError("register-task-definition: no ARN in the answer");
    return arn;
  } catch (error) {
    throw error instanceof EcsError ? error : describeError(error, "register-task-definition");
  } finally {
    ecs.destroy();
  }
}
