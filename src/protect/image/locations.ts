// SOURCE and DEST as the user writes them:
//   oci:PATH[:NAME]             an OCI image layout folder (NAME: its org.opencontainers.image.ref.name)
//   docker-archive:FILE[:NAME]  a `docker save` tar (NAME: one of its RepoTags); as DEST, a docker load-able tar
//   an existing folder with an oci-layout file, or an existing file: the same, without the prefix
//   anything else: a registry reference (REGISTRY/REPO[:TAG][@DIGEST], Docker's rules)

import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { parseReference, type ImageReference } from "../../registry/reference.js";

export type Location =
  | { kind: "registry"; ref: ImageReference; text: string }
  | { kind: "oci"; path: string; name: string | null; text: string }
  | { kind: "docker-archive"; path: string; name: string | null; text: string };

/** `oci:PATH:NAME` — the name is what follows the last ":" when it holds no "/". */
function splitName(rest: string, archive: boolean): { path: string; name: string | null } {
  if (archive) {
    // docker-archive:FILE.tar:NAME:TAG — the file ends at ".tar:".
    const at = rest.indexOf(".tar:");
    if (at >= 0) return { path: rest.slice(0, at + 4), name: rest.slice(at + 5) || null };
    return { path: rest, name: null };
  }
  const colon = rest.lastIndexOf(":");
  if (colon > 0 && !rest.slice(colon + 1).includes("/")) return { path: rest.slice(0, colon), name: rest.slice(colon + 1) || null };
  return { path: rest, name: null };
}

export async function parseLocation(text: string, cwd: string): Promise<Location> {
  if (text.startsWith("oci:")) {
    const { path, name } = splitName(text.slice(4), false);
    return { kind: "oci", path: resolve(cwd, path), name, text };
  }
  if (text.startsWith("docker-archive:")) {
    const { path, name } = splitName(text.slice("docker-archive:".length), true);
    return { kind: "docker-archive", path: resolve(cwd, path), name, text };
  }
  const onDisk = await stat(resolve(cwd, text)).catch(() => null);
  if (onDisk?.isDirectory() === true) return { kind: "oci", path: resolve(cwd, text), name: null, text };
  if (onDisk?.isFile() === true) return { kind: "docker-archive", path: resolve(cwd, text), name: null, text };
  if (text.startsWith("/") || text.startsWith("./") || text.startsWith("../") || text.endsWith(".tar")) {
    return text.endsWith(".tar") ? { kind: "docker-archive", path: resolve(cwd, text), name: null, text } : { kind: "oci", path: resolve(cwd, text), name: null, text };
  }
  return { kind: "registry", ref: parseReference(text), text };
}
