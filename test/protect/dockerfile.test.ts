// vigil protect dockerfile: many Dockerfile shapes, each with its exact expected output.

import { describe, expect, it } from "vitest";
import { BaseUnavailable, DockerfileError, protectDockerfile, type BaseConfig } from "../../src/protect/dockerfile/protect.js";

const SIDECAR = "registry.example.com/vigil-sidecar:0.1.0";
const BASES: Record<string, BaseConfig> = {
  "nginx:1.27": { entrypoint: ["/docker-entrypoint.sh"], cmd: ["nginx", "-g", "daemon off;"] },
  "debian:bookworm": { entrypoint: null, cmd: ["bash"] },
  "alpine:3.19": { entrypoint: null, cmd: ["/bin/sh"] },
  "node:20": { entrypoint: ["docker-entrypoint.sh"], cmd: ["node"] },
  // An image whose own Dockerfile ran SHELL: images built FROM it inherit it (config.Shell).
  "bash-shell:1": { entrypoint: null, cmd: ["bash"], shell: ["/bin/bash", "-eo", "pipefail", "-c"] },
};

async function protect(text: string, extra: { buildArgs?: Map<string, string>; target?: string; sidecarImage?: string } = {}): Promise<{ text: string; asked: string[] }> {
  const asked: string[] = [];
  const r = await protectDockerfile(text, {
    sidecarImage: SIDECAR,
    ...extra,
    resolveBase: async (image) => {
      asked.push(image);
      const c = BASES[image];
      if (c === undefined) throw new Error(`unexpected base ${image}`);
      return c;
    },
  });
  return { text: r.text, asked };
}

const COPY = ["# vigil protect dockerfile: the enforcer starts first, then the original command", `COPY --from=${SIDECAR} /vigil /vigil`];
const lines = (...l: string[]): string => `${l.join("\n")}\n`;

const cases: { name: string; input: string; output: string; asked?: string[]; buildArgs?: Record<string, string> }[] = [
  {
    name: "exec-form ENTRYPOINT and CMD: ENTRYPOINT wrapped in place, CMD kept",
    input: lines("FROM nginx:1.27", "COPY site /usr/share/nginx/html", 'ENTRYPOINT ["/docker-entrypoint.sh"]', 'CMD ["nginx", "-g", "daemon off;"]'),
    output: lines("FROM nginx:1.27", "COPY site /usr/share/nginx/html", 'ENTRYPOINT ["/vigil/enforcer", "--", "/docker-entrypoint.sh"]', 'CMD ["nginx", "-g", "daemon off;"]', ...COPY),
    asked: [],
  },
  {
    name: "shell-form ENTRYPOINT over continuation lines keeps its /bin/sh -c meaning",
    input: lines("FROM alpine:3.19", "ENTRYPOINT exec /app/server \\", "    --port 80 \\", "  # a comment inside", '    --name "a b"', "# trailing comment"),
    output: lines("FROM alpine:3.19", 'ENTRYPOINT ["/vigil/enforcer", "--", "/bin/sh", "-c", "exec /app/server     --port 80     --name \\"a b\\""]', ...COPY, "# trailing comment"),
  },
  {
    name: "CMD only, FROM scratch: an ENTRYPOINT with nothing to wrap",
    input: lines("FROM scratch", "COPY app /app", 'CMD ["/app"]'),
    output: lines("FROM scratch", "COPY app /app", 'CMD ["/app"]', ...COPY, 'ENTRYPOINT ["/vigil/enforcer", "--"]'),
  },
  {
    name: "neither: the base image's ENTRYPOINT is wrapped and its CMD written out",
    input: lines("FROM nginx:1.27", "COPY site /usr/share/nginx/html"),
    output: lines("FROM nginx:1.27", "COPY site /usr/share/nginx/html", ...COPY, 'ENTRYPOINT ["/vigil/enforcer", "--", "/docker-entrypoint.sh"]', 'CMD ["nginx", "-g", "daemon off;"]'),
    asked: ["nginx:1.27"],
  },
  {
    name: "CMD in the stage, ENTRYPOINT from the base",
    input: lines("FROM node:20", "WORKDIR /app", "CMD node server.js"),
    output: lines("FROM node:20", "WORKDIR /app", "CMD node server.js", ...COPY, 'ENTRYPOINT ["/vigil/enforcer", "--", "docker-entrypoint.sh"]'),
    asked: ["node:20"],
  },
  {
    name: "multi-stage: only the final stage changes; it inherits from an earlier stage of this file",
    input: lines("FROM golang:1.22 AS build", "RUN go build -o /out/app ./cmd/app", 'ENTRYPOINT ["/should/not/change"]', "", "FROM scratch AS base", 'ENTRYPOINT ["/app"]', 'CMD ["--serve"]', "", "FROM base", "COPY --from=build /out/app /app"),
    output: lines("FROM golang:1.22 AS build", "RUN go build -o /out/app ./cmd/app", 'ENTRYPOINT ["/should/not/change"]', "", "FROM scratch AS base", 'ENTRYPOINT ["/app"]', 'CMD ["--serve"]', "", "FROM base", "COPY --from=build /out/app /app", ...COPY, 'ENTRYPOINT ["/vigil/enforcer", "--", "/app"]', 'CMD ["--serve"]'),
    asked: [],
  },
  {
    name: "ARG-dependent FROM: the ARG's default",
    input: lines("ARG BASE=debian", "ARG TAG=bookworm", "FROM ${BASE}:$TAG", "RUN apt-get update"),
    output: lines("ARG BASE=debian", "ARG TAG=bookworm", "FROM ${BASE}:$TAG", "RUN apt-get update", ...COPY, 'ENTRYPOINT ["/vigil/enforcer", "--"]', 'CMD ["bash"]'),
    asked: ["debian:bookworm"],
  },
  {
    name: "ARG-dependent FROM: a --build-arg wins",
    input: lines("ARG BASE=debian:bookworm", "FROM $BASE"),
    output: lines("ARG BASE=debian:bookworm", "FROM $BASE", ...COPY, 'ENTRYPOINT ["/vigil/enforcer", "--"]', 'CMD ["/bin/sh"]'),
    asked: ["alpine:3.19"],
    buildArgs: { BASE: "alpine:3.19" },
  },
  {
    name: "heredocs: their bodies are never instructions",
    input: lines("# syntax=docker/dockerfile:1", "FROM alpine:3.19", "RUN <<EOF cat > /entry.sh && chmod +x /entry.sh", "#!/bin/sh", "ENTRYPOINT not an instruction", "EOF", "COPY <<-EOT /etc/motd", "\thello", "\tEOT", 'ENTRYPOINT ["/entry.sh"]'),
    output: lines("# syntax=docker/dockerfile:1", "FROM alpine:3.19", "RUN <<EOF cat > /entry.sh && chmod +x /entry.sh", "#!/bin/sh", "ENTRYPOINT not an instruction", "EOF", "COPY <<-EOT /etc/motd", "\thello", "\tEOT", 'ENTRYPOINT ["/vigil/enforcer", "--", "/entry.sh"]', ...COPY),
  },
  {
    name: "escape=` directive, CRLF line endings, lowercase keywords",
    input: ["# escape=`", "from alpine:3.19", "run echo a `", "  b", "entrypoint echo C:\\path `", "  done", ""].join("\r\n"),
    output: ["# escape=`", "from alpine:3.19", "run echo a `", "  b", 'entrypoint ["/vigil/enforcer", "--", "/bin/sh", "-c", "echo C:\\\\path   done"]', ...COPY, ""].join("\r\n"),
  },
  {
    name: "SHELL decides what a shell form means",
    input: lines("FROM debian:bookworm", 'SHELL ["/bin/bash", "-o", "pipefail", "-c"]', "ENTRYPOINT exec app | tee /log"),
    output: lines("FROM debian:bookworm", 'SHELL ["/bin/bash", "-o", "pipefail", "-c"]', 'ENTRYPOINT ["/vigil/enforcer", "--", "/bin/bash", "-o", "pipefail", "-c", "exec app | tee /log"]', ...COPY),
  },
  {
    name: "a shell form in a stage FROM an image with its own SHELL runs with that shell",
    input: lines("FROM bash-shell:1", "ENTRYPOINT exec app | tee /log"),
    output: lines("FROM bash-shell:1", 'ENTRYPOINT ["/vigil/enforcer", "--", "/bin/bash", "-eo", "pipefail", "-c", "exec app | tee /log"]', ...COPY),
    asked: ["bash-shell:1"],
  },
  {
    name: "the base image's SHELL reaches a later stage through FROM <stage>; the stage's own SHELL wins over it",
    input: lines("FROM bash-shell:1 AS base", "RUN true", "FROM base AS other", 'SHELL ["/bin/sh", "-c"]', "ENTRYPOINT exec other", "FROM base", "ENTRYPOINT exec app"),
    output: lines("FROM bash-shell:1 AS base", "RUN true", "FROM base AS other", 'SHELL ["/bin/sh", "-c"]', "ENTRYPOINT exec other", "FROM base", 'ENTRYPOINT ["/vigil/enforcer", "--", "/bin/bash", "-eo", "pipefail", "-c", "exec app"]', ...COPY),
    asked: ["bash-shell:1"],
  },
  {
    name: "an inherited shell-form CMD written out uses the base image's SHELL",
    input: lines("FROM bash-shell:1 AS base", "CMD serve --port 80", "FROM base", "RUN true"),
    output: lines("FROM bash-shell:1 AS base", "CMD serve --port 80", "FROM base", "RUN true", ...COPY, 'ENTRYPOINT ["/vigil/enforcer", "--"]', 'CMD ["/bin/bash", "-eo", "pipefail", "-c", "serve --port 80"]'),
    asked: ["bash-shell:1"],
  },
  {
    name: "a shell form under a stage SHELL never reads the base image",
    input: lines("FROM bash-shell:1", 'SHELL ["/bin/sh", "-c"]', "ENTRYPOINT exec app"),
    output: lines("FROM bash-shell:1", 'SHELL ["/bin/sh", "-c"]', 'ENTRYPOINT ["/vigil/enforcer", "--", "/bin/sh", "-c", "exec app"]', ...COPY),
    asked: [],
  },
  {
    name: "no line break at the end of the file",
    input: 'FROM scratch\nENTRYPOINT ["/app"]',
    output: `FROM scratch\nENTRYPOINT ["/vigil/enforcer", "--", "/app"]\n${COPY.join("\n")}\n`,
  },
  {
    name: 'ENTRYPOINT [""] in the base stage means none',
    input: lines("FROM scratch AS a", 'ENTRYPOINT [""]', "FROM a", 'CMD ["/bin/x"]'),
    output: lines("FROM scratch AS a", 'ENTRYPOINT [""]', "FROM a", 'CMD ["/bin/x"]', ...COPY, 'ENTRYPOINT ["/vigil/enforcer", "--"]'),
  },
  {
    name: "ENTRYPOINT in the stage but CMD from the base: the base CMD stays dropped, as Docker drops it",
    input: lines("FROM nginx:1.27", 'ENTRYPOINT ["/my-entry"]'),
    output: lines("FROM nginx:1.27", 'ENTRYPOINT ["/vigil/enforcer", "--", "/my-entry"]', ...COPY),
    asked: [],
  },
];

describe("vigil protect dockerfile", () => {
  for (const c of cases) {
    it(c.name, async () => {
      const r = await protect(c.input, c.buildArgs === undefined ? {} : { buildArgs: new Map(Object.entries(c.buildArgs)) });
      expect(r.text).toBe(c.output);
      if (c.asked !== undefined) expect(r.asked).toEqual(c.asked);
      const again = await protect(r.text);
      expect(again.text).toBe(r.text);
    });
  }

  it("a new sidecar image replaces the old one and nothing else", async () => {
    const once = (await protect(lines("FROM scratch", 'ENTRYPOINT ["/app"]'))).text;
    const moved = await protect(once, { sidecarImage: "other.example.com/vigil:0.2.0" });
    expect(moved.text).toBe(once.replace(SIDECAR, "other.example.com/vigil:0.2.0"));
  });

  it("--target protects that stage", async () => {
    const input = lines("FROM scratch AS app", 'ENTRYPOINT ["/app"]', "FROM scratch AS debug", 'ENTRYPOINT ["/debug"]');
    const r = await protect(input, { target: "app" });
    expect(r.text).toBe(lines("FROM scratch AS app", 'ENTRYPOINT ["/vigil/enforcer", "--", "/app"]', ...COPY, "FROM scratch AS debug", 'ENTRYPOINT ["/debug"]'));
  });

  it("says what to pass when an ARG in FROM has no value", async () => {
    await expect(protect(lines("ARG IMAGE", "FROM $IMAGE"))).rejects.toThrow(/uses \$IMAGE, which has no value/);
  });

  it("a base image that cannot be read: its SHELL is taken as /bin/sh -c, with a note; an inherited entry point is an error", async () => {
    const resolveBase = async (): Promise<BaseConfig> => {
      throw new BaseUnavailable("--offline forbids reading a registry", "pass --base-config FILE");
    };
    const r = await protectDockerfile(lines("FROM private.example/app:1", "ENTRYPOINT exec app"), { sidecarImage: SIDECAR, resolveBase });
    expect(r.text).toBe(lines("FROM private.example/app:1", 'ENTRYPOINT ["/vigil/enforcer", "--", "/bin/sh", "-c", "exec app"]', ...COPY));
    expect(r.notes[0]).toBe("line 1: the SHELL of private.example/app:1 could not be read (--offline forbids reading a registry); shell forms are taken as /bin/sh -c — pass --base-config FILE");
    const error = await protectDockerfile(lines("ARG V=1", "FROM private.example/app:$V", "RUN true"), { sidecarImage: SIDECAR, resolveBase }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DockerfileError);
    expect(error).toMatchObject({ line: 2, message: "the stage inherits its entry point from private.example/app:1, which could not be read: --offline forbids reading a registry", hint: "pass --base-config FILE" });
  });

  it("--policy: the stage copies the compiled policy to /vigil/policy after the sidecar, and sets VIGIL_POLICY_FILE; idempotent", async () => {
    const opts = { sidecarImage: SIDECAR, policySource: "vigil.policy", resolveBase: async (): Promise<BaseConfig> => ({ entrypoint: null, cmd: null }) };
    const input = lines("FROM scratch", "COPY app /app", 'ENTRYPOINT ["/app"]');
    const r = await protectDockerfile(input, opts);
    expect(r.text).toBe(lines("FROM scratch", "COPY app /app", 'ENTRYPOINT ["/vigil/enforcer", "--", "/app"]', ...COPY, "COPY vigil.policy /vigil/policy", "ENV VIGIL_POLICY_FILE=/vigil/policy"));
    expect((await protectDockerfile(r.text, opts)).text).toBe(r.text);
    // Another place in the context: the COPY moves, nothing else.
    const moved = await protectDockerfile(r.text, { ...opts, policySource: "deploy/my policy" });
    expect(moved.text).toBe(r.text.replace("COPY vigil.policy /vigil/policy", 'COPY ["deploy/my policy","/vigil/policy"]'));
    // Added to a Dockerfile protected before without a policy.
    const before = (await protectDockerfile(input, { sidecarImage: SIDECAR, resolveBase: opts.resolveBase })).text;
    expect((await protectDockerfile(before, opts)).text).toBe(r.text);
  });

  it("--policy refuses a stage that sets VIGIL_POLICY itself", async () => {
    const error = await protectDockerfile(lines("FROM scratch", "ENV VIGIL_POLICY_FILE=/etc/p", 'ENTRYPOINT ["/app"]'), { sidecarImage: SIDECAR, policySource: "vigil.policy", resolveBase: async () => ({ entrypoint: null, cmd: null }) }).catch((e: unknown) => e);
    expect(error).toMatchObject({ line: 2, message: "the stage sets VIGIL_POLICY or VIGIL_POLICY_FILE, which would decide instead of --policy" });
  });

  it("says which sidecar image is missing", async () => {
    await expect(protectDockerfile("FROM scratch\nCMD [\"/a\"]\n", { resolveBase: async () => ({ entrypoint: null, cmd: null }) })).rejects.toThrow(/which sidecar image/);
  });
});
