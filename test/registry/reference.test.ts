import { describe, expect, it } from "vitest";
import { parseChallenges } from "../../src/registry/challenge.js";
import { normalizeArchitecture, selectPlatform, type ImageIndex } from "../../src/registry/manifest.js";
import { apiHost, formatReference, parseReference } from "../../src/registry/reference.js";

const D = `sha256:${"a".repeat(64)}`;

describe("parseReference", () => {
  it.each([
    ["nginx", "docker.io", "library/nginx", "latest", null],
    ["nginx:1.27", "docker.io", "library/nginx", "1.27", null],
    ["bitnami/nginx", "docker.io", "bitnami/nginx", "latest", null],
    ["docker.io/nginx", "docker.io", "library/nginx", "latest", null],
    ["index.docker.io/library/nginx:1", "docker.io", "library/nginx", "1", null],
    [`nginx@${D}`, "docker.io", "library/nginx", null, D],
    [`nginx:1.27@${D}`, "docker.io", "library/nginx", "1.27", D],
    ["localhost/app", "localhost", "app", "latest", null],
    ["localhost:5000/a/b/c:t", "localhost:5000", "a/b/c", "t", null],
    ["127.0.0.1:5000/app:v1", "127.0.0.1:5000", "app", "v1", null],
    ["[::1]:5000/app", "[::1]:5000", "app", "latest", null],
    ["123456789012.dkr.ecr.us-east-1.amazonaws.com/team/api:prod", "123456789012.dkr.ecr.us-east-1.amazonaws.com", "team/api", "prod", null],
    ["ghcr.io/org/img_name-1.x:v1.2.3-rc_1", "ghcr.io", "org/img_name-1.x", "v1.2.3-rc_1", null],
  ])("%s", (input, registry, repository, tag, digest) => {
    expect(parseReference(input)).toEqual({ registry, repository, tag, digest });
  });

  it.each([
    ["", "it is empty"],
    ["Nginx", 'repository names must be lowercase ("Nginx")'],
    ["nginx:", '"" is not a valid tag'],
    ["nginx@sha256:abc", '"sha256:abc" is not a digest'],
    [`nginx@sha256:${"A".repeat(64)}`, "is not a sha256 digest"],
    ["a//b", "is not a valid repository path component"],
    ["host:5000/", "the repository name is missing"],
  ])("rejects %j", (input, message) => {
    expect(() => parseReference(input)).toThrow(message);
  });

  it("formats and maps Docker Hub to its API host", () => {
    expect(formatReference(parseReference("nginx"))).toBe("docker.io/library/nginx:latest");
    expect(apiHost("docker.io")).toBe("registry-1.docker.io");
    expect(apiHost("localhost:5000")).toBe("localhost:5000");
  });
});

describe("parseChallenges", () => {
  it("Docker Hub's bearer challenge", () => {
    expect(parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"')).toEqual([
      { scheme: "bearer", params: { realm: "https://auth.docker.io/token", service: "registry.docker.io", scope: "repository:library/nginx:pull" } },
    ]);
  });
  it("basic, several challenges, quoted escapes and unquoted tokens", () => {
    expect(parseChallenges('Basic realm="a \\"b\\"", Bearer realm=x, error=insufficient_scope')).toEqual([
      { scheme: "basic", params: { realm: 'a "b"' } },
      { scheme: "bearer", params: { realm: "x", error: "insufficient_scope" } },
    ]);
  });
});

describe("selectPlatform", () => {
  const d = (architecture: string, variant?: string, os = "linux") => ({
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    digest: `sha256:${architecture}${variant ?? ""}${os}`,
    size: 1,
    platform: { os, architecture, ...(variant !== undefined ? { variant } : {}) },
  });
  const index: ImageIndex = { schemaVersion: 2, manifests: [d("unknown", undefined, "unknown"), d("amd64"), d("arm", "v6"), d("arm", "v7"), d("arm64", "v8"), d("ppc64le")] };

  it("matches os/architecture, with ECS and uname spellings", () => {
    expect(selectPlatform(index, { os: "linux", architecture: "X86_64" }, "i").digest).toBe("sha256:amd64linux");
    expect(selectPlatform(index, { os: "LINUX", architecture: "ARM64" }, "i").digest).toBe("sha256:arm64v8linux");
    expect(selectPlatform(index, { os: "linux", architecture: "arm", variant: "v6" }, "i").digest).toBe("sha256:armv6linux");
    expect(selectPlatform(index, { os: "linux", architecture: "arm" }, "i").digest).toBe("sha256:armv7linux");
  });
  it("lists what the index offers, without attestation entries", () => {
    expect(() => selectPlatform(index, { os: "windows", architecture: "amd64" }, "img")).toThrow(
      "img: no image for windows/amd64; the index offers linux/amd64, linux/arm/v6, linux/arm/v7, linux/arm64/v8, linux/ppc64le",
    );
  });
  it("normalizes architectures", () => {
    expect(["x86_64", "aarch64", "AMD64", "arm64"].map(normalizeArchitecture)).toEqual(["amd64", "arm64", "amd64", "arm64"]);
  });
});

describe("mergeScopes", () => {
  it("merges a challenge's scope with ours per repository, whatever the action order", async () => {
    const { mergeScopes } = await import("../../src/registry/auth.js");
    expect(mergeScopes(["repository:a:pull,push", "repository:a:push,pull"])).toEqual(["repository:a:pull,push"]);
    expect(mergeScopes(["repository:a:pull,push", "repository:b:pull", "repository:a:delete"])).toEqual(["repository:a:pull,push,delete", "repository:b:pull"]);
    expect(mergeScopes(["registry:catalog:*", ""])).toEqual(["registry:catalog:*"]);
  });
});
