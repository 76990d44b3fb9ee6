// A tiny ECS endpoint on 127.0.0.1 speaking the AWS JSON 1.1 protocol for the two calls vigil
// makes: DescribeTaskDefinition and RegisterTaskDefinition. It keeps task definitions in memory
// and records every request (target, signature header, body) for assertions.

import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface RecordedRequest {
  target: string;
  contentType: string;
  authorization: string;
  body: Record<string, unknown>;
}

export interface FakeEcs {
  url: string;
  requests: RecordedRequest[];
  /** family → revisions (1-based, index + 1), each the registered task definition. */
  families: Map<string, Record<string, unknown>[]>;
  tags: Map<string, unknown[]>;
  close(): Promise<void>;
}

const PREFIX = "AmazonEC2ContainerServiceV20141113.";

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export async function startFakeEcs(): Promise<FakeEcs> {
  const requests: RecordedRequest[] = [];
  const families = new Map<string, Record<string, unknown>[]>();
  const tags = new Map<string, unknown[]>();
  const server: Server = createServer((req, res) => {
    void (async () => {
      const text = await readBody(req);
      const target = String(req.headers["x-amz-target"] ?? "");
      const body = (text === "" ? {} : JSON.parse(text)) as Record<string, unknown>;
      requests.push({ target, contentType: String(req.headers["content-type"] ?? ""), authorization: String(req.headers["authorization"] ?? ""), body });
      const reply = (status: number, value: unknown): void => {
        res.writeHead(status, { "content-type": "application/x-amz-json-1.1", "x-amzn-requestid": `req-${requests.length}` });
        res.end(JSON.stringify(value));
      };
      const clientError = (message: string): void => reply(400, { __type: "ClientException", message });
      if (req.method !== "POST" || !target.startsWith(PREFIX)) return clientError(`unexpected ${req.method} ${target}`);
      const operation = target.slice(PREFIX.length);
      const described = (family: string, revision: number): Record<string, unknown> => ({
        ...(families.get(family)?.[revision - 1] ?? {}),
        taskDefinitionArn: `arn:aws:ecs:us-east-1:123456789012:task-definition/${family}:${revision}`,
        revision,
        status: "ACTIVE",
        compatibilities: ["EC2", "FARGATE"],
        requiresAttributes: [{ name: "ecs.capability.task-eni" }],
        registeredAt: 1_700_000_000.5,
        registeredBy: "arn:aws:iam::123456789012:user/test",
      });
      if (operation === "DescribeTaskDefinition") {
        const ref = String(body["taskDefinition"] ?? "");
        const [family = "", rev] = ref.split(":");
        const list = families.get(family);
        const revision = rev === undefined ? (list?.length ?? 0) : Number(rev);
        if (list === undefined || revision < 1 || revision > list.length) return clientError("Unable to describe task definition.");
        const include = body["include"] as string[] | undefined;
        return reply(200, { taskDefinition: described(family, revision), ...(include?.includes("TAGS") ? { tags: tags.get(family) ?? [] } : {}) });
      }
      if (operation === "RegisterTaskDefinition") {
        const { tags: newTags, ...definition } = body;
        const family = String(definition["family"] ?? "");
        if (family === "" || !Array.isArray(definition["containerDefinitions"])) return clientError("family and containerDefinitions are required");
        for (const field of ["taskDefinitionArn", "revision", "status", "registeredAt"]) {
          if (field in definition) return clientError(`Unknown parameter in input: "${field}"`);
        }
        const list = families.get(family) ?? [];
        list.push(definition);
        families.set(family, list);
        if (Array.isArray(newTags)) tags.set(family, newTags);
        return reply(200, { taskDefinition: described(family, list.length), tags: newTags ?? [] });
      }
      return clientError(`operation ${operation} is not served here`);
    })().catch((error: unknown) => {
      res.writeHead(500);
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    families,
    tags,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
