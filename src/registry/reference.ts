// Image references as Docker spells them: [REGISTRY[:PORT]/]REPOSITORY[:TAG][@DIGEST].
// "nginx" is docker.io/library/nginx:latest; the first component is a registry only when it has
// a "." or a ":" or is "localhost" (the rule of distribution/reference's ParseNormalizedNamed).

import { RegistryError } from "./errors.js";

export const DOCKER_HUB = "docker.io";
/** Where Docker Hub's registry API actually answers. */
export const DOCKER_HUB_API_HOST = "registry-1.docker.io";

export interface ImageReference {
  /** Registry host[:port] as written (docker.io for Docker Hub). */
  registry: string;
  /** Repository path inside the registry, e.g. library/nginx. */
  repository: string;
  tag: string | null;
  digest: string | null;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
const SHA256 = /^sha256:[a-f0-9]{64}$/;
const HOST = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?$/;

export function parseReference(input: string): ImageReference {
  const ref = input.trim();
  const bad = (why: string): RegistryError =>
    new RegistryError("bad-reference", `invalid image reference "${input}": ${why}`);
  if (ref === "") throw bad("it is empty");
  if (ref.length > 4096) throw bad("it is too long");

  let rest = ref;
  let digest: string | null = null;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw bad(`"${digest}" is not a digest (algorithm:hex)`);
    if (digest.startsWith("sha256:") && !SHA256.test(digest)) throw bad(`"${digest}" is not a sha256 digest (64 lowercase hex digits)`);
  }

  let registry = DOCKER_HUB;
  const slash = rest.indexOf("/");
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (first.includes(".") || first.includes(":") || first === "localhost" || first.startsWith("[")) {
      if (!HOST.test(first)) throw bad(`"${first}" is not a registry host[:port]`);
      registry = first;
      rest = rest.slice(slash + 1);
    }
  }

  let tag: string | null = null;
  const colon = rest.lastIndexOf(":");
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad(`"${tag}" is not a valid tag`);
  }

  let repository = rest;
  if (repository === "") throw bad("the repository name is missing");
  for (const component of repository.split("/")) {
    if (!COMPONENT.test(component)) {
      throw bad(
        /[A-Z]/.test(component)
          ? `repository names must be lowercase ("${component}")`
          : `"${component}" is not a valid repository path component`,
      );
    }
  }
  if (registry === "index.docker.io" || registry === "registry-1.docker.io" || registry === "registry.hub.docker.com") {
    registry = DOCKER_HUB;
  }
  if (registry === DOCKER_HUB && !repository.includes("/")) repository = `library/${repository}`;
  if (repository.length > 255) throw bad("the repository name is longer than 255 characters");
  if (tag === null && digest === null) tag = "latest";
  return { registry, repository, tag, digest };
}

/** The reference to ask the registry for: the digest when there is one, else the tag. */
export function manifestReference(ref: ImageReference): string {
  return ref.digest ?? ref.tag ?? "latest";
}

/** Host[:port] the registry API answers on. */
export function apiHost(registry: string): string {
  return registry === DOCKER_HUB ? DOCKER_HUB_API_HOST : registry;
}

export function formatReference(ref: ImageReference): string {
  let out = `${ref.registry}/${ref.repository}`;
  if (ref.tag !== null) out += `:${ref.tag}`;
  if (ref.digest !== null) out += `@${ref.digest}`;
  return out;
}
