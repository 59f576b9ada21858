// An image as every stage reads it, from an OCI archive, an OCI layout directory or a
// docker-archive (plain or gzip'ed): the top descriptor, the index (if any), each platform's
// manifest and config as their exact bytes, and the attestations. Every blob read is checked
// against its digest; the documents held at once are capped (LIMITS.documentsBytes), and layers
// are only ever streamed (layerBytes) or hashed (verifyLayers).
import { createHash } from 'node:crypto';
import { ImageArchiveError, LIMITS, mib } from './bounds.js';
import { openContainer, type Container } from './container.js';
import { describeDockerScan } from './docker-archive.js';
import { HashPool } from './hash-pool.js';
import {
  isAttestation,
  isIndex,
  MEDIA_TYPES,
  platformString,
  type AttestationInfo,
  type Descriptor,
  type ImageIndex,
  type ImageManifest,
} from './types.js';

export { ImageArchiveError };

export type ImageKind = 'oci-archive' | 'oci-layout' | 'docker-archive';

export interface ManifestDoc extends ImageManifest {
  annotations?: Record<string, string>;
  artifactType?: string;
  subject?: Descriptor;
}

export interface IndexDoc extends ImageIndex {
  annotations?: Record<string, string>;
}

export interface PlatformImage {
  platform: string;
  descriptor: Descriptor;
  manifestBytes: Buffer;
  manifest: ManifestDoc;
  configBytes: Buffer;
  config: Record<string, unknown>;
  diffIds: string[];
}

export interface ImageModel {
  input: string;
  kind: ImageKind;
  /** What a tag would point to once pushed. */
  top: { digest: string; mediaType: string; size: number };
  /** The index the top descriptor names (absent for a single manifest). */
  index?: { bytes: Buffer; json: IndexDoc };
  images: PlatformImage[];
  attestations: AttestationInfo[];
}

/** An image model plus access to its layer blobs. */
export interface OpenedImage {
  model: ImageModel;
  container: Container;
  /** The container member holding a layer blob. */
  layerMember(layer: Descriptor): string;
  close(): Promise<void>;
}

const DIGEST = /^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$/;

export function digestOf(bytes: Buffer, algorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

export function algorithmOf(digest: string): string {
  return digest.slice(0, digest.indexOf(':'));
}

export function checkDigest(label: string, digest: unknown): string {
  if (typeof digest !== 'string' || !DIGEST.test(digest)) throw new ImageArchiveError(`${label}: ${JSON.stringify(digest)} is not a valid digest`);
  return digest;
}

export function parseJson<T>(label: string, what: string, bytes: Buffer): T {
  try {
    return JSON.parse(bytes.toString('utf8')) as T;
  } catch (error) {
    throw new ImageArchiveError(`${label}: ${what} is not valid JSON (${(error as Error).message})`);
  }
}

export async function openImage(input: string, pool: HashPool): Promise<OpenedImage> {
  const container = await openContainer(input, pool);
  try {
    if ((await container.size('index.json')) !== undefined) return await openOci(input, container);
    if ((await container.size('manifest.json')) !== undefined) return await openDocker(input, container);
    throw new ImageArchiveError(
      container.kind === 'directory'
        ? `${input} is a directory without index.json: not an OCI image layout`
        : `${input} is a tar archive but neither an OCI archive (index.json) nor a docker-archive (manifest.json)`,
    );
  } catch (error) {
    await container.close();
    throw error;
  }
}

function blobName(digest: string): string {
  return `blobs/${digest.replace(':', '/')}`;
}

/** Counts the documents an image holds at once: an index naming one big blob a thousand times is refused. */
class DocumentBudget {
  private used = 0;

  constructor(private readonly label: string) {}

  take(what: string, size: number): void {
    this.used += size;
    if (this.used > LIMITS.documentsBytes) {
      throw new ImageArchiveError(`${this.label}: its manifests, configs and indexes come to more than ${mib(LIMITS.documentsBytes)} (at ${what})`);
    }
  }
}

/** Reads a small blob and checks its size and digest. */
async function readBlob(container: Container, label: string, d: Descriptor, budget: DocumentBudget): Promise<Buffer> {
  const digest = checkDigest(label, d.digest);
  const name = blobName(digest);
  const size = await container.size(name);
  if (size === undefined) throw new ImageArchiveError(`${label} lacks blob ${digest}`);
  if (typeof d.size === 'number' && size !== d.size) throw new ImageArchiveError(`${label}: blob ${digest} is ${size} bytes, its descriptor says ${d.size}`);
  budget.take(`blob ${digest}`, size);
  const bytes = await container.read(name);
  const actual = digestOf(bytes, algorithmOf(digest));
  if (actual !== digest) throw new ImageArchiveError(`${label}: blob ${digest} has digest ${actual} (corrupt archive)`);
  return bytes;
}

async function openOci(input: string, container: Container): Promise<OpenedImage> {
  const kind: ImageKind = container.kind === 'directory' ? 'oci-layout' : 'oci-archive';
  const budget = new DocumentBudget(input);
  const indexJsonBytes = await container.read('index.json');
  budget.take('index.json', indexJsonBytes.length);
  const indexJson = parseJson<IndexDoc>(input, 'index.json', indexJsonBytes);
  if (!Array.isArray(indexJson.manifests) || indexJson.manifests.length === 0) throw new ImageArchiveError(`${input}: index.json lists no manifests`);

  const images: PlatformImage[] = [];
  const attestations: AttestationInfo[] = [];
  let top: ImageModel['top'];
  let index: ImageModel['index'];

  const loadManifest = async (d: Descriptor): Promise<void> => {
    const manifestBytes = await readBlob(container, input, d, budget);
    const manifest = parseJson<ManifestDoc>(input, `manifest ${d.digest}`, manifestBytes);
    if (Array.isArray((manifest as unknown as IndexDoc).manifests)) {
      await loadIndexEntries(parseJson<IndexDoc>(input, `index ${d.digest}`, manifestBytes), 1);
      return;
    }
    if (!manifest.config || !Array.isArray(manifest.layers)) throw new ImageArchiveError(`${input}: ${d.digest} is not an image manifest`);
    const configBytes = await readBlob(container, input, manifest.config, budget);
    const config = parseJson<Record<string, unknown>>(input, `config ${manifest.config.digest}`, configBytes);
    const rootfs = config.rootfs as { diff_ids?: unknown } | undefined;
    const diffIds = Array.isArray(rootfs?.diff_ids) ? (rootfs.diff_ids as unknown[]) : [];
    if (diffIds.length !== manifest.layers.length) {
      throw new ImageArchiveError(`${input}: manifest ${d.digest} has ${manifest.layers.length} layers, its config lists ${diffIds.length} diff_ids`);
    }
    manifest.layers.forEach((l) => checkDigest(input, l.digest));
    images.push({
      platform: platformString(d.platform) || configPlatform(config),
      descriptor: d,
      manifestBytes,
      manifest,
      configBytes,
      config,
      diffIds: diffIds.map((id) => checkDigest(input, id)),
    });
  };

  const loadAttestation = async (d: Descriptor): Promise<void> => {
    const bytes = await readBlob(container, input, d, budget);
    const manifest = parseJson<ManifestDoc>(input, `attestation ${d.digest}`, bytes);
    const predicateTypes = [...new Set((manifest.layers ?? []).map((l) => l.annotations?.['in-toto.io/predicate-type']).filter((t): t is string => !!t))];
    attestations.push({ digest: d.digest, refersTo: d.annotations?.['vnd.docker.reference.digest'], predicateTypes });
  };

  const loadIndexEntries = async (doc: IndexDoc, depth: number): Promise<void> => {
    if (depth > 3) throw new ImageArchiveError(`${input}: indexes nested too deep`);
    for (const d of doc.manifests ?? []) {
      if (isAttestation(d)) await loadAttestation(d);
      else if (isIndex(d.mediaType)) {
        const bytes = await readBlob(container, input, d, budget);
        await loadIndexEntries(parseJson<IndexDoc>(input, `index ${d.digest}`, bytes), depth + 1);
      } else await loadManifest(d);
    }
  };

  if (indexJson.manifests.length === 1) {
    const d = indexJson.manifests[0]!;
    checkDigest(input, d.digest);
    if (isIndex(d.mediaType)) {
      const bytes = await readBlob(container, input, d, budget);
      const json = parseJson<IndexDoc>(input, `index ${d.digest}`, bytes);
      top = { digest: d.digest, mediaType: d.mediaType, size: bytes.length };
      index = { bytes, json };
      await loadIndexEntries(json, 1);
    } else {
      top = { digest: d.digest, mediaType: d.mediaType, size: d.size };
      await loadManifest(d);
    }
  } else {
    // Several images side by side in index.json: index.json itself plays the index.
    top = { digest: digestOf(indexJsonBytes), mediaType: indexJson.mediaType ?? MEDIA_TYPES.ociIndex, size: indexJsonBytes.length };
    index = { bytes: indexJsonBytes, json: indexJson };
    await loadIndexEntries(indexJson, 1);
  }
  if (images.length === 0) throw new ImageArchiveError(`${input}: the index names no image manifest`);

  return {
    model: { input, kind, top, index, images, attestations },
    container,
    layerMember: (layer) => blobName(checkDigest(input, layer.digest)),
    close: () => container.close(),
  };
}

interface DockerManifestEntry {
  Config: string;
  Layers: string[];
}

async function openDocker(input: string, container: Container): Promise<OpenedImage> {
  const manifestJson = await container.read('manifest.json');
  const budget = new DocumentBudget(input);
  budget.take('manifest.json', manifestJson.length);
  const entries = parseJson<DockerManifestEntry[]>(input, 'manifest.json', manifestJson);
  const entry = Array.isArray(entries) ? entries[0] : undefined;
  if (!entry || typeof entry.Config !== 'string' || !Array.isArray(entry.Layers)) throw new ImageArchiveError(`${input}: manifest.json lists no image`);
  if ((await container.size(entry.Config)) === undefined) throw new ImageArchiveError(`${input} lacks its config ${entry.Config}`);
  const configBytes = await container.read(entry.Config);
  budget.take(entry.Config, configBytes.length);
  const config = parseJson<Record<string, unknown>>(input, `config ${entry.Config}`, configBytes);
  const rootfs = config.rootfs as { diff_ids?: unknown } | undefined;
  const diffIds = (Array.isArray(rootfs?.diff_ids) ? (rootfs.diff_ids as unknown[]) : []).map((id) => checkDigest(input, id));
  // The layers' digests are the config's diff_ids (uncompressed layers); they are checked when read.
  const members = new Map<string, { size: number; digest?: string }>();
  const memberOf = new Map<string, string>();
  for (const [i, name] of entry.Layers.entries()) {
    const size = await container.size(name);
    if (size === undefined) throw new ImageArchiveError(`${input} lacks layer ${name}`);
    members.set(name, { size, digest: diffIds[i] });
    if (diffIds[i]) memberOf.set(diffIds[i]!, name);
  }
  const scan = { label: input, small: new Map([['manifest.json', manifestJson], [entry.Config, configBytes]]), members };
  const docker = describeDockerScan(scan);
  const descriptor: Descriptor = { mediaType: docker.manifest.mediaType!, digest: docker.manifestDigest, size: docker.manifestBytes.length };
  const image: PlatformImage = {
    platform: configPlatform(config),
    descriptor,
    manifestBytes: docker.manifestBytes,
    manifest: docker.manifest,
    configBytes,
    config,
    diffIds,
  };
  return {
    model: { input, kind: 'docker-archive', top: { digest: descriptor.digest, mediaType: descriptor.mediaType, size: descriptor.size }, images: [image], attestations: [] },
    container,
    layerMember: (layer) => {
      const name = memberOf.get(layer.digest);
      if (!name) throw new ImageArchiveError(`${input}: no layer member for ${layer.digest}`);
      return name;
    },
    close: () => container.close(),
  };
}

export function configPlatform(config: Record<string, unknown>): string {
  const os = typeof config.os === 'string' ? config.os : '';
  const architecture = typeof config.architecture === 'string' ? config.architecture : '';
  const variant = typeof config.variant === 'string' ? config.variant : undefined;
  return platformString({ os, architecture, variant });
}

/** The members holding the layers, each checked to have the size its descriptor gives. */
export async function checkLayerSizes(image: OpenedImage, layers: Descriptor[]): Promise<string[]> {
  const input = image.model.input;
  return Promise.all(
    layers.map(async (layer) => {
      const name = image.layerMember(layer);
      const size = await image.container.size(name);
      if (size === undefined) throw new ImageArchiveError(`${input} lacks layer ${layer.digest}`);
      if (size !== layer.size) throw new ImageArchiveError(`${input}: layer ${layer.digest} is ${size} bytes, the manifest says ${layer.size}`);
      return name;
    }),
  );
}

/** Checks layer blobs' digests (and sizes) without keeping their bytes. */
export async function verifyLayers(image: OpenedImage, layers: Descriptor[]): Promise<void> {
  const names = await checkLayerSizes(image, layers);
  const digests = await image.container.digestMany(names.map((name, i) => ({ name, algorithm: algorithmOf(layers[i]!.digest) })));
  digests.forEach((actual, i) => {
    const layer = layers[i]!;
    if (actual !== layer.digest) throw new ImageArchiveError(`${image.model.input}: layer ${layer.digest} has digest ${actual} (corrupt archive)`);
  });
}

/** Opens an image for the length of `use` (a hash pool of its own; everything closed after). */
export async function withImage<T>(input: string, use: (image: OpenedImage) => Promise<T>, hashWorkers?: number): Promise<T> {
  const pool = new HashPool(hashWorkers);
  try {
    const image = await openImage(input, pool);
    try {
      return await use(image);
    } finally {
      await image.close();
    }
  } finally {
    await pool.close();
  }
}

/** A layer blob's bytes; the size and digest are checked as the last chunk goes by (an error is thrown then). */
export async function* layerBytes(image: OpenedImage, layer: Descriptor): AsyncGenerator<Buffer> {
  const input = image.model.input;
  const name = image.layerMember(layer);
  const size = await image.container.size(name);
  if (size === undefined) throw new ImageArchiveError(`${input} lacks layer ${layer.digest}`);
  if (size !== layer.size) throw new ImageArchiveError(`${input}: layer ${layer.digest} is ${size} bytes, the manifest says ${layer.size}`);
  const algorithm = algorithmOf(layer.digest);
  const hash = createHash(algorithm);
  let seen = 0;
  for await (const chunk of image.container.stream(name)) {
    hash.update(chunk);
    seen += chunk.length;
    yield chunk;
  }
  const actual = `${algorithm}:${hash.digest('hex')}`;
  if (seen !== size) throw new ImageArchiveError(`${input}: layer ${layer.digest} is truncated (${seen} of ${size} bytes)`);
  if (actual !== layer.digest) throw new ImageArchiveError(`${input}: layer ${layer.digest} has digest ${actual} (corrupt archive)`);
}
