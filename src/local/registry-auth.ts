// Credentials for the engine's pulls. The Docker Engine does not read anyone's credentials: the
// client sends them with each pull (X-Registry-Auth), as `docker pull` does from its config.
// vigil finds them the way its registry client does (src/registry/credentials.ts):
// VIGIL_REGISTRY_USERNAME/PASSWORD, Docker's config.json (auths, credHelpers, credsStore), and
// Amazon ECR through the AWS credential chain; otherwise the pull is anonymous.

import { findCredential } from "../registry/credentials.js";
import { ecrCredential } from "../registry/ecr.js";
import { DOCKER_HUB, parseReference } from "../registry/reference.js";
import { registryAuthHeader } from "./docker-client.js";

export async function pullAuth(ref: string, env: Readonly<Record<string, string | undefined>>): Promise<string | null> {
  let registry: string;
  try {
    registry = parseReference(ref).registry;
  } catch {
    return null; // the engine will say what is wrong with the reference
  }
  const credential = await findCredential(registry, { env, ecr: (host) => ecrCredential(host) });
  if (credential === null) return null;
  // The engine matches `serveraddress` against the registry it pulls from; Docker Hub's is the v1 URL.
  const server = registry === DOCKER_HUB ? "https://index.docker.io/v1/" : registry;
  switch (credential.kind) {
    case "basic":
      return registryAuthHeader({ username: credential.username, password: credential.password }, server);
    case "identity-token":
      return registryAuthHeader({ identitytoken: credential.token }, server);
    case "bearer":
      return registryAuthHeader({ registrytoken: credential.token }, server);
  }
}
