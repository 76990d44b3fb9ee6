// OCI image layouts (image-spec image-layout.md: oci-layout, index.json, blobs/ALG/HEX), as a
// folder or inside a `docker save` archive of Docker >= 25 (which writes one), and the older
// `docker save` format (manifest.json + LAYER/layer.tar, no manifests at all), read as an OCI
// image whose layers are the uncompressed tars. Every blob read is checked against its digest.

import { createReadStream } from "node:fs";
import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createWriteStream } from "node:fs";
import { indexTarFile, openTarEntry, type TarFileEntry } from "../../oci/tar-file.js";
import { sha256Digest, verifyDigest, verifyingStream } from "../../registry/digest.js";
import type { Descriptor, ImageIndex } from "../../registry/manifest.js";
import { OCI_CONFIG, OCI_INDEX, OCI_LAYER_GZIP, OCI_LAYER_TAR, OCI_MANIFEST } from "../../registry/media-types.js";
import { VigilImageError } from "./errors.js";
import type { BlobCopy, ImageDestination, ImageSource, ManifestBytes, StreamSlot } from "./store.js";

export const REF_NAME = "org.opencontainers.image.ref.name";
const LIMIT = 8 * 1024 * 1024;

/** Files of a layout: a folder, or entries of a tar. */
interface Files {
  has(path: string): Promise<boolean>;
  read(path: string): Promise<Buffer>;
  open(path: string): Readable;
}

function folderFiles(dir: string): Files {
  return {
    has: async (p) => (await stat(join(dir, p)).catch(() => null))?.isFile() === true,
    read: (p) => readFile(join(dir, p)),
    open: (p) => createReadStream(join(dir, p)),
  };
}

function tarFiles(file: string, index: ReadonlyMap<string, TarFileEntry>): Files {
  return {
    has: async (p) => index.has(p),
    read: async (p) => {
      const chunks: Buffer[] = [];
      for await (const c of openTarEntry(file, index, p) as AsyncIterable<Buffer>) chunks.push(c);
      return Buffer.concat(chunks);
    },
    open: (p) => openTarEntry(file, index, p),
  };
}

const blobPath = (digest: string): string => `blobs/${digest.replace(":", "/")}`;

function parseJson<T>(bytes: Buffer, what: string): T {
  try {
    return JSON.parse(bytes.toString("utf8")) as T;
  } catch {
    throw new VigilImageError(`${what} is not valid JSON`);
  }
}

export class LayoutSource implements ImageSource {
  private constructor(
    readonly name: string,
    private readonly files: Files,
    private readonly top: Descriptor,
  ) {}

  static async folder(dir: string, ref: string | null): Promise<LayoutSource> {
    const files = folderFiles(dir);
    if (!(await files.has("index.json"))) throw new VigilImageError(`${dir} is not an OCI image layout (no index.json)`);
    return new LayoutSource(`oci:${dir}${ref === null ? "" : `:${ref}`}`, files, await pick(files, dir, ref));
  }

  static async fromTar(file: string, index: ReadonlyMap<string, TarFileEntry>, ref: string | null, name: string): Promise<LayoutSource> {
    const files = tarFiles(file, index);
    return new LayoutSource(name, files, await pick(files, file, ref));
  }

  async root(): Promise<ManifestBytes> {
    return this.manifest(this.top);
  }

  async manifest(desc: Descriptor): Promise<ManifestBytes> {
    const bytes = await this.blob(desc);
    return { bytes, mediaType: desc.mediaType, digest: desc.digest };
  }

  async blob(desc: Descriptor): Promise<Buffer> {
    if (desc.size > LIMIT) throw new VigilImageError(`${this.name}: ${desc.digest} is larger than ${LIMIT} bytes`);
    const bytes = await this.read(desc.digest);
    verifyDigest(bytes, desc.digest, `${this.name}: ${blobPath(desc.digest)}`);
    return bytes;
  }

  async openBlob(desc: Descriptor): Promise<Readable> {
    if (!(await this.files.has(blobPath(desc.digest)))) throw new VigilImageError(`${this.name}: blob ${desc.digest} is missing`);
    return verifyingStream(this.files.open(blobPath(desc.digest)), desc.digest, `${this.name}: ${blobPath(desc.digest)}`);
  }

  private async read(digest: string): Promise<Buffer> {
    if (!(await this.files.has(blobPath(digest)))) throw new VigilImageError(`${this.name}: blob ${digest} is missing`);
    return this.files.read(blobPath(digest));
  }
}

async function pick(files: Files, where: string, ref: string | null): Promise<Descriptor> {
  const index = parseJson<ImageIndex>(await files.read("index.json"), `${where}: index.json`);
  const entries = Array.isArray(index.manifests) ? index.manifests : [];
  const named = (d: Descriptor): string | undefined => d.annotations?.[REF_NAME];
  const found = ref === null ? entries : entries.filter((d) => named(d) === ref || d.annotations?.["io.containerd.image.name"] === ref || d.digest === ref);
  if (found.length === 1 && found[0] !== undefined) return found[0];
  const names = entries.map((d) => named(d) ?? d.digest).join(", ");
  if (found.length === 0) throw new VigilImageError(`${where}: no image ${ref === null ? "" : `named ${ref} `}in index.json (it lists: ${names || "nothing"})`);
  throw new VigilImageError(`${where}: index.json lists ${found.length} images (${names}); say which one: oci:PATH:NAME`);
}

/** `docker save` of Docker < 25: manifest.json, CONFIG.json, ID/layer.tar; no manifests. */
export class DockerSaveSource implements ImageSource {
  private readonly paths = new Map<string, string>();
  private manifestBytes: ManifestBytes | null = null;
  readonly repoTags: string[];

  constructor(
    readonly name: string,
    private readonly file: string,
    private readonly index: ReadonlyMap<string, TarFileEntry>,
    private readonly entry: { Config: string; RepoTags?: string[] | null; Layers: string[] },
  ) {
    this.repoTags = entry.RepoTags ?? [];
  }

  async root(): Promise<ManifestBytes> {
    if (this.manifestBytes !== null) return this.manifestBytes;
    const files = tarFiles(this.file, this.index);
    const config = await files.read(this.entry.Config);
    const configDigest = sha256Digest(config);
    this.paths.set(configDigest, this.entry.Config);
    const diffIds = parseJson<{ rootfs?: { diff_ids?: string[] } }>(config, `${this.name}: ${this.entry.Config}`).rootfs?.diff_ids ?? [];
    if (diffIds.length !== this.entry.Layers.length) throw new VigilImageError(`${this.name}: manifest.json lists ${this.entry.Layers.length} layers, the config ${diffIds.length}`);
    const layers: Descriptor[] = [];
    for (const [i, path] of this.entry.Layers.entries()) {
      const size = this.index.get(path)?.size;
      if (size === undefined) throw new VigilImageError(`${this.name}: layer ${path} is missing`);
      const head = await firstBytes(files.open(path), 2);
      let digest = diffIds[i] ?? "";
      let mediaType = OCI_LAYER_TAR;
      if (head[0] === 0x1f && head[1] === 0x8b) {
        // A compressed layer: its digest is not its DiffID; hash it (streamed).
        digest = await hashStream(files.open(path));
        mediaType = OCI_LAYER_GZIP;
      }
      this.paths.set(digest, path);
      layers.push({ mediaType, digest, size });
    }
    const doc = { schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: OCI_CONFIG, digest: configDigest, size: config.length }, layers };
    const bytes = Buffer.from(JSON.stringify(doc));
    this.manifestBytes = { bytes, mediaType: OCI_MANIFEST, digest: sha256Digest(bytes) };
    return this.manifestBytes;
  }

  async manifest(desc: Descriptor): Promise<ManifestBytes> {
    const root = await this.root();
    if (desc.digest !== root.digest) throw new VigilImageError(`${this.name}: no manifest ${desc.digest}`);
    return root;
  }

  async blob(desc: Descriptor): Promise<Buffer> {
    const bytes = await tarFiles(this.file, this.index).read(this.path(desc.digest));
    verifyDigest(bytes, desc.digest, `${this.name}: ${this.path(desc.digest)}`);
    return bytes;
  }

  async openBlob(desc: Descriptor): Promise<Readable> {
    return verifyingStream(openTarEntry(this.file, this.index, this.path(desc.digest)), desc.digest, `${this.name}: ${this.path(desc.digest)}`);
  }

  private path(digest: string): string {
    const p = this.paths.get(digest);
    if (p === undefined) throw new VigilImageError(`${this.name}: no blob ${digest}`);
    return p;
  }
}

/** `docker-archive:FILE`: either format of `docker save`. */
export async function openDockerArchive(file: string, ref: string | null): Promise<ImageSource & { repoTags?: string[] }> {
  let index: Map<string, TarFileEntry>;
  try {
    index = await indexTarFile(file);
  } catch (error) {
    throw new VigilImageError(`cannot read ${file} as a docker save archive: ${(error as Error).message}`);
  }
  const name = `docker-archive:${file}${ref === null ? "" : `:${ref}`}`;
  if (index.has("index.json") && index.has("oci-layout")) return LayoutSource.fromTar(file, index, ref, name);
  if (!index.has("manifest.json")) throw new VigilImageError(`${file} is neither a docker save archive nor an OCI layout tar (no manifest.json, no index.json)`);
  const list = parseJson<{ Config: string; RepoTags?: string[] | null; Layers: string[] }[]>(await tarFiles(file, index).read("manifest.json"), `${file}: manifest.json`);
  const found = ref === null ? list : list.filter((e) => (e.RepoTags ?? []).includes(ref));
  if (found.length !== 1 || found[0] === undefined) {
    const tags = list.flatMap((e) => e.RepoTags ?? []).join(", ");
    throw new VigilImageError(`${file}: ${found.length === 0 ? `no image ${ref ?? ""}` : `${found.length} images`} in manifest.json (${tags || "untagged"}); say which one: docker-archive:FILE:NAME:TAG`);
  }
  return new DockerSaveSource(name, file, index, found[0]);
}

async function firstBytes(stream: Readable, n: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let got = 0;
  for await (const c of stream as AsyncIterable<Buffer>) {
    chunks.push(c);
    got += c.length;
    if (got >= n) break;
  }
  stream.destroy();
  return Buffer.concat(chunks).subarray(0, n);
}

async function hashStream(stream: Readable): Promise<string> {
  const { createHash } = await import("node:crypto");
  const h = createHash("sha256");
  for await (const c of stream as AsyncIterable<Buffer>) h.update(c);
  return `sha256:${h.digest("hex")}`;
}

/** An OCI layout folder as a destination; index.json lists the written image (under REF, keeping other names). */
export class LayoutDestination implements ImageDestination {
  readonly name: string;

  constructor(
    private readonly dir: string,
    private readonly ref: string | null,
  ) {
    this.name = `oci:${dir}${ref === null ? "" : `:${ref}`}`;
  }

  async copyBlob(source: ImageSource, desc: Descriptor, stream: StreamSlot): Promise<BlobCopy> {
    const path = join(this.dir, blobPath(desc.digest));
    if (await exists(path)) return "exists";
    await mkdir(join(this.dir, "blobs", desc.digest.split(":")[0] ?? "sha256"), { recursive: true });
    const temp = `${path}.${process.pid}.tmp`;
    try {
      await stream(async () => pipeline(await source.openBlob(desc), createWriteStream(temp, { flags: "w", mode: 0o644 })));
      await rename(temp, path);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    return "copied";
  }

  async putBlob(bytes: Buffer, desc: Descriptor): Promise<BlobCopy> {
    const path = join(this.dir, blobPath(desc.digest));
    if (await exists(path)) return "exists";
    await mkdir(join(this.dir, "blobs", desc.digest.split(":")[0] ?? "sha256"), { recursive: true });
    await writeFile(`${path}.${process.pid}.tmp`, bytes);
    await rename(`${path}.${process.pid}.tmp`, path);
    return "written";
  }

  async putManifest(m: ManifestBytes): Promise<void> {
    await this.putBlob(m.bytes, { mediaType: m.mediaType, digest: m.digest, size: m.bytes.length });
  }

  async finish(root: ManifestBytes): Promise<string> {
    await this.putManifest(root);
    await writeFile(join(this.dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
    const indexPath = join(this.dir, "index.json");
    let kept: Descriptor[] = [];
    if (this.ref !== null && (await exists(indexPath))) {
      const old = parseJson<ImageIndex>(await readFile(indexPath), `${this.dir}/index.json`);
      kept = (old.manifests ?? []).filter((d) => d.annotations?.[REF_NAME] !== this.ref);
    }
    const entry: Descriptor = { mediaType: root.mediaType, digest: root.digest, size: root.bytes.length, ...(this.ref === null ? {} : { annotations: { [REF_NAME]: this.ref } }) };
    const index = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [...kept, entry] };
    await writeFile(`${indexPath}.${process.pid}.tmp`, JSON.stringify(index));
    await rename(`${indexPath}.${process.pid}.tmp`, indexPath);
    return `${this.name}@${root.digest}`;
  }
}

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null)) !== null;
}
