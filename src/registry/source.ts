// The image to publish, from any source the stage takes, as the exact manifests and verified blobs
// to push: an OCI archive, an OCI layout directory, a docker-archive (pushed with the suite's fixed
// encoding, see src/oci/docker-archive.ts), an image in the local engine (`docker save`), or an
// image already in a registry by digest. Nothing here talks to the target registry.
import { spawn } from 'node:child_process';
import { mkdir, readFile, realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { describeDockerScan, OCI_CONFIG, sha256Digest } from '../oci/docker-archive.js';
import { ImageArchiveError } from '../oci/bounds.js';
import { formatBytes, requireFreeDisk } from '../tool/free-disk.js';
import { isDigest, isIndex, MEDIA_TYPES, type Descriptor } from '../oci/types.js';
import { RegistryClient, RegistryError } from './client.js';
import { MANIFEST_ACCEPT, pullScope, getManifest, downloadBlob } from './api.js';
import { parseReference, type Repository } from './reference.js';
import { DEFAULT_SPACE_GUARD, MAX_DOCUMENT, readStagedMember, stageArchiveFile, stageArchiveStream, stagedBlob, type StagedArchive } from './staging.js';
import { isGzip, openContainer } from '../oci/container.js';
import { HashPool } from '../oci/hash-pool.js';
import type { ArchiveScan } from '../oci/docker-archive.js';
import type { FileRange } from './blob-bytes.js';

export type SourceKind = 'oci-archive' | 'oci-layout' | 'docker-archive' | 'engine' | 'registry';

export interface Blob {
  digest: string;
  size: number;
  mediaType: string;
  /**
   * Where its bytes are on this runner (a whole file, or a byte range of a plain image tar read in
   * place). Not trusted: they are hashed as they are uploaded (blob-bytes.ts).
   */
  file?: FileRange;
  /** The repository of the source registry holding it (promotion: mounted, not uploaded). */
  mountFrom?: Repository;
}

export interface ManifestDocument {
  digest: string;
  mediaType: string;
  bytes: Buffer;
}

export interface SourceImage {
  kind: SourceKind;
  label: string;
  /** Children of an index first; the last one is the image (what the tags point to). */
  manifests: ManifestDocument[];
  blobs: Blob[];
}

export function topManifest(image: SourceImage): ManifestDocument {
  return image.manifests[image.manifests.length - 1]!;
}

/** Manifests + unique blobs. */
export function imageSize(image: SourceImage): number {
  return image.manifests.reduce((n, m) => n + m.bytes.length, 0) + image.blobs.reduce((n, b) => n + b.size, 0);
}

export type SourceSpec =
  | { kind: 'path'; path: string }
  | { kind: 'engine'; ref: string }
  | { kind: 'registry'; ref: string; repository: Repository; digest: string };

export class SourceError extends Error {}

/** Parses the `source` input: `engine:<ref>`, `docker://<ref>@sha256:…`, or a path. */
export function parseSource(text: string): SourceSpec {
  const value = text.trim();
  if (value.startsWith('engine:')) {
    const ref = value.slice('engine:'.length);
    if (ref === '' || /\s/.test(ref) || ref.startsWith('-')) throw new SourceError(`'${value}': engine:<image reference or ID> expected`);
    return { kind: 'engine', ref };
  }
  if (value.startsWith('docker://')) {
    const ref = value.slice('docker://'.length);
    const parsed = parseReference(ref);
    if (!parsed.digest) throw new SourceError(`'${value}': a registry source must be pinned by digest (docker://<image>@sha256:…), so that what was tested is what is published`);
    return { kind: 'registry', ref, repository: { host: parsed.host, path: parsed.path }, digest: parsed.digest };
  }
  return { kind: 'path', path: value };
}

interface Store {
  label: string;
  /** A manifest or index by descriptor, checked against its digest. */
  document(d: Descriptor): Promise<Buffer>;
  blob(d: Descriptor): Promise<Blob>;
}

/** Walks an image from its top descriptor: every manifest (children of an index included) and blob. */
async function collect(kind: SourceKind, store: Store, top: Descriptor): Promise<SourceImage> {
  const image: SourceImage = { kind, label: store.label, manifests: [], blobs: [] };
  const seenBlobs = new Set<string>();
  const seenManifests = new Set<string>();
  const visit = async (d: Descriptor, depth: number): Promise<void> => {
    if (depth > 4) throw new ImageArchiveError(`${store.label}: indexes nested too deep`);
    if (seenManifests.has(d.digest)) return;
    seenManifests.add(d.digest);
    const bytes = await store.document(d);
    let doc: { mediaType?: string; manifests?: Descriptor[]; config?: Descriptor; layers?: Descriptor[] };
    try {
      doc = JSON.parse(bytes.toString('utf8')) as typeof doc;
    } catch {
      throw new ImageArchiveError(`${store.label}: ${d.digest} is not JSON`);
    }
    const mediaType = doc.mediaType ?? d.mediaType;
    if (isIndex(mediaType) || (mediaType === undefined && Array.isArray(doc.manifests))) {
      for (const child of doc.manifests ?? []) await visit(checked(store.label, child), depth + 1);
    } else if (doc.config && Array.isArray(doc.layers)) {
      for (const blob of [doc.config, ...doc.layers]) {
        const descriptor = checked(store.label, blob);
        if (seenBlobs.has(descriptor.digest)) continue;
        seenBlobs.add(descriptor.digest);
        const found = await store.blob(descriptor);
        if (found.size !== descriptor.size) throw new ImageArchiveError(`${store.label}: blob ${descriptor.digest} is ${found.size} bytes, the manifest says ${descriptor.size}`);
        image.blobs.push(found);
      }
    } else {
      throw new ImageArchiveError(`${store.label}: ${d.digest} is neither an image manifest nor an index (media type ${mediaType ?? 'unset'})`);
    }
    image.manifests.push({ digest: d.digest, mediaType: mediaType ?? MEDIA_TYPES.ociManifest, bytes });
  };
  await visit(checked(store.label, top), 0);
  return image;
}

function checked(label: string, d: Descriptor): Descriptor {
  if (!d || typeof d.digest !== 'string' || !isDigest(d.digest)) throw new ImageArchiveError(`${label}: a descriptor has no valid sha256 digest (${JSON.stringify(d?.digest)})`);
  if (!Number.isSafeInteger(d.size) || d.size < 0) throw new ImageArchiveError(`${label}: descriptor ${d.digest} has no valid size`);
  return d;
}

function verifyDocument(label: string, d: Descriptor, bytes: Buffer): Buffer {
  const actual = sha256Digest(bytes);
  if (actual !== d.digest) throw new ImageArchiveError(`${label}: ${d.digest} has digest ${actual}`);
  if (bytes.length !== d.size) throw new ImageArchiveError(`${label}: ${d.digest} is ${bytes.length} bytes, its descriptor says ${d.size}`);
  return bytes;
}

function topOfIndex(label: string, bytes: Buffer | undefined): Descriptor {
  if (!bytes) throw new ImageArchiveError(`${label} has no index.json`);
  const index = JSON.parse(bytes.toString('utf8')) as { manifests?: Descriptor[] };
  const manifests = index.manifests ?? [];
  if (manifests.length !== 1) throw new ImageArchiveError(`${label}: index.json lists ${manifests.length} images; publish takes exactly one`);
  return manifests[0]!;
}

const wholeFile = (path: string, length: number): FileRange => ({ path, offset: 0, length });

const blobMember = (digest: string) => `blobs/${digest.replace(':', '/')}`;

/**
 * A plain OCI archive or docker-archive, read in place: indexed once by the shared bounded tar
 * reader (src/oci/container.ts: member cap, metadata cap, links resolved between members only),
 * documents read into memory up to MAX_DOCUMENT and checked against their digests, and each blob
 * handed on as its byte range in the archive, hashed as it is uploaded. Member names never become
 * paths; nothing is written to disk.
 */
async function fromArchive(path: string): Promise<SourceImage> {
  const pool = new HashPool(1); // openContainer's; nothing here hashes through it
  try {
    const container = await openContainer(path, pool);
    try {
      const range = (name: string): FileRange | undefined => {
        const at = container.range?.(name);
        return at && { path, offset: at.offset, length: at.size };
      };
      const document = async (name: string, what: string): Promise<Buffer> => {
        const size = await container.size(name);
        if (size === undefined) throw new ImageArchiveError(`${path} lacks ${what}`);
        if (size > MAX_DOCUMENT) throw new ImageArchiveError(`${path}: ${what} is ${size} bytes, more than a JSON document may be`);
        return container.read(name);
      };
      if ((await container.size('index.json')) !== undefined) {
        const store: Store = {
          label: path,
          document: async (d) => verifyDocument(path, d, await document(blobMember(d.digest), `blob ${d.digest}`)),
          blob: async (d) => {
            const file = range(blobMember(d.digest));
            if (!file) throw new ImageArchiveError(`${path} lacks blob ${d.digest}`);
            return { digest: d.digest, size: file.length, mediaType: d.mediaType, file };
          },
        };
        return await collect('oci-archive', store, topOfIndex(path, await document('index.json', 'index.json')));
      }
      if ((await container.size('manifest.json')) !== undefined) {
        return await fromDockerArchive({
          label: path,
          document: (name) => document(name, name),
          // In place, a layer's digest is taken from the config's diff_ids and checked as it is uploaded.
          layers: async (names, diffIds) => {
            const found = new Map<string, { size: number; digest?: string }>();
            for (const [i, name] of names.entries()) {
              const id = diffIds[i];
              if (typeof id !== 'string' || !isDigest(id)) throw new ImageArchiveError(`${path}: the config's diff_id for layer ${name} is not a sha256 digest (${JSON.stringify(id)})`);
              const size = await container.size(name);
              if (size !== undefined) found.set(name, { size, digest: id });
            }
            return found;
          },
          locate: range,
        });
      }
      throw new ImageArchiveError(`${path} is a tar archive but neither an OCI archive (index.json) nor a docker-archive (manifest.json)`);
    } finally {
      await container.close();
    }
  } finally {
    await pool.close();
  }
}

/** An OCI archive or docker-archive unpacked into `staging` (see staging.ts). */
async function fromStaged(staged: StagedArchive, kind: SourceKind): Promise<SourceImage> {
  const store: Store = {
    label: staged.label,
    document: async (d) => {
      const file = stagedBlob(staged, d.digest);
      if (!file) throw new ImageArchiveError(`${staged.label} lacks blob ${d.digest}`);
      if (d.size > MAX_DOCUMENT) throw new ImageArchiveError(`${staged.label}: manifest ${d.digest} is ${d.size} bytes`);
      return verifyDocument(staged.label, d, await readFile(file));
    },
    blob: async (d) => {
      const file = stagedBlob(staged, d.digest);
      if (!file) throw new ImageArchiveError(`${staged.label} lacks blob ${d.digest}`);
      const { size } = await stat(file);
      return { digest: d.digest, size, mediaType: d.mediaType, file: wholeFile(file, size) };
    },
  };
  if (staged.members.has('index.json')) {
    return collect(kind === 'engine' ? 'engine' : 'oci-archive', store, topOfIndex(staged.label, await readStagedMember(staged, 'index.json')));
  }
  if (staged.members.has('manifest.json')) {
    const image = await fromDockerArchive({
      label: staged.label,
      document: async (name) => {
        const bytes = await readStagedMember(staged, name);
        if (!bytes) throw new ImageArchiveError(`${staged.label} lacks ${name}`);
        return bytes;
      },
      // Hashed as they were unpacked: describeDockerScan checks them against the diff_ids.
      layers: async () => staged.members,
      locate: (name) => {
        const found = staged.members.get(name);
        const file = found && stagedBlob(staged, found.digest);
        return file ? wholeFile(file, found.size) : undefined;
      },
    });
    return kind === 'engine' ? { ...image, kind: 'engine' } : image;
  }
  throw new ImageArchiveError(`${staged.label} is a tar archive but neither an OCI archive (index.json) nor a docker-archive (manifest.json)`);
}

/** What fromDockerArchive reads of a docker-archive, staged or in place. */
interface DockerArchiveReader {
  label: string;
  /** manifest.json or the config, whole (at most MAX_DOCUMENT). */
  document(name: string): Promise<Buffer>;
  /** The layer members' sizes and digests (those missing left out). */
  layers(names: string[], diffIds: unknown[]): Promise<ArchiveScan['members']>;
  locate(name: string): FileRange | undefined;
}

/**
 * A docker-archive as the OCI image the suite pushes (src/oci/docker-archive.ts): the config byte
 * for byte, each layer tar as it is in the archive, so a layer is pushed from where it lies.
 */
async function fromDockerArchive(reader: DockerArchiveReader): Promise<SourceImage> {
  const { label } = reader;
  const manifestJson = await reader.document('manifest.json');
  let entry: { Config?: unknown; Layers?: unknown } | undefined;
  let config: { rootfs?: { diff_ids?: unknown } };
  try {
    entry = (JSON.parse(manifestJson.toString('utf8')) as Array<typeof entry>)[0];
  } catch {
    throw new ImageArchiveError(`${label}: manifest.json is not valid JSON`);
  }
  if (!entry || typeof entry.Config !== 'string' || !Array.isArray(entry.Layers) || !entry.Layers.every((l) => typeof l === 'string')) {
    throw new ImageArchiveError(`${label}: manifest.json lists no image`);
  }
  const layerNames = entry.Layers as string[];
  const configBytes = await reader.document(entry.Config);
  try {
    config = JSON.parse(configBytes.toString('utf8')) as typeof config;
  } catch {
    throw new ImageArchiveError(`${label}: its config ${entry.Config} is not valid JSON`);
  }
  const diffIds = Array.isArray(config.rootfs?.diff_ids) ? (config.rootfs.diff_ids as unknown[]) : [];
  if (diffIds.length !== layerNames.length) throw new ImageArchiveError(`${label}: the config lists ${diffIds.length} layers, manifest.json ${layerNames.length}`);
  const small = new Map([['manifest.json', manifestJson], [entry.Config, configBytes]]);
  const described = describeDockerScan({ label, small, members: await reader.layers(layerNames, diffIds) });
  const blobs: Blob[] = [{ digest: described.manifest.config.digest, size: configBytes.length, mediaType: OCI_CONFIG, file: reader.locate(entry.Config) }];
  described.manifest.layers.forEach((d, i) => {
    if (blobs.some((b) => b.digest === d.digest)) return;
    const file = reader.locate(layerNames[i]!);
    if (!file) throw new ImageArchiveError(`${label} lacks layer ${layerNames[i]}`);
    blobs.push({ digest: d.digest, size: d.size, mediaType: d.mediaType, file });
  });
  return {
    kind: 'docker-archive',
    label,
    manifests: [{ digest: described.manifestDigest, mediaType: MEDIA_TYPES.ociManifest, bytes: described.manifestBytes }],
    blobs,
  };
}

/**
 * An OCI image layout directory: blobs are pushed in place, hashed as they are uploaded. A blob
 * must be a regular file inside the layout (as the shared reader, src/oci/container.ts, asks): a
 * link out of it would send a host file's bytes to the registry before its digest failed.
 */
async function fromLayout(dir: string): Promise<SourceImage> {
  const index = await readFile(join(dir, 'index.json')).catch(() => undefined);
  if (!index) throw new ImageArchiveError(`${dir} is a directory without index.json: not an OCI image layout`);
  const root = await realpath(dir);
  const blobPath = async (digest: string): Promise<string | undefined> => {
    const real = await realpath(join(dir, 'blobs', ...digest.split(':'))).catch(() => undefined);
    if (real !== undefined && !real.startsWith(root + sep)) throw new ImageArchiveError(`${dir}: blob ${digest} leads outside the layout directory (to ${real}); refusing to read it`);
    return real;
  };
  const store: Store = {
    label: dir,
    document: async (d) => {
      if (d.size > MAX_DOCUMENT) throw new ImageArchiveError(`${dir}: manifest ${d.digest} is ${d.size} bytes`);
      const file = await blobPath(d.digest);
      const bytes = file === undefined ? undefined : await readFile(file).catch(() => undefined);
      if (!bytes) throw new ImageArchiveError(`${dir} lacks blob ${d.digest}`);
      return verifyDocument(dir, d, bytes);
    },
    blob: async (d) => {
      const file = await blobPath(d.digest);
      const info = file === undefined ? undefined : await stat(file).catch(() => undefined);
      if (!file || !info?.isFile()) throw new ImageArchiveError(`${dir} lacks blob ${d.digest}`);
      return { digest: d.digest, size: info.size, mediaType: d.mediaType, file: wholeFile(file, info.size) };
    },
  };
  return collect('oci-layout', store, topOfIndex(dir, index));
}

/** The engine's size of an image (what `docker save` writes, about), or undefined when it cannot say. */
/**
 * Staging is a whole copy of the image: the shared free-disk check first (src/tool/free-disk.ts),
 * with the staging guard's margin on top, and the way around it said in the estimate.
 */
async function requireStagingSpace(staging: string, bytes: number, what: string, basis: string): Promise<void> {
  const need = { bytes: bytes + DEFAULT_SPACE_GUARD.minFreeBytes, basis: `${basis}, plus ${formatBytes(DEFAULT_SPACE_GUARD.minFreeBytes)} to spare; an OCI layout directory or a plain tar is pushed in place, with no copy` };
  await requireFreeDisk('publish', staging, need, what);
}

async function engineImageSize(ref: string): Promise<number | undefined> {
  const child = spawn('docker', ['image', 'inspect', '--format', '{{.Size}}', '--', ref], { stdio: ['ignore', 'pipe', 'ignore'] });
  const out: Buffer[] = [];
  child.stdout.on('data', (d: Buffer) => out.push(d));
  const code = await new Promise<number>((resolve) => {
    child.on('error', () => resolve(127));
    child.on('close', (c) => resolve(c ?? 1));
  });
  const text = Buffer.concat(out).toString('utf8').trim();
  return code === 0 && /^\d{1,16}$/.test(text) ? Number(text) : undefined;
}

/** `docker save` streamed straight into the staging directory (no intermediate archive). */
async function fromEngine(ref: string, staging: string): Promise<SourceImage> {
  // An image the engine does not have gets docker save's own error below.
  const size = await engineImageSize(ref);
  if (size !== undefined) await requireStagingSpace(staging, size, `unpacking engine image ${ref}`, `its size by docker image inspect, ${formatBytes(size)}`);
  const child = spawn('docker', ['save', ref], { stdio: ['ignore', 'pipe', 'pipe'] });
  const errors: Buffer[] = [];
  child.stderr.on('data', (d: Buffer) => errors.push(d));
  const exited = new Promise<number>((resolve) => {
    child.on('error', (error) => {
      errors.push(Buffer.from(error.message));
      resolve(127);
    });
    child.on('close', (code) => resolve(code ?? 1));
  });
  const label = `engine image ${ref}`;
  const staged = await stageArchiveStream(child.stdout as AsyncIterable<Buffer>, label, staging).catch(async (error: Error) => {
    const code = await exited;
    if (code !== 0) return undefined;
    throw error;
  });
  const code = await exited;
  if (code !== 0 || !staged) {
    throw new SourceError(`docker save ${ref} exited ${code}: ${Buffer.concat(errors).toString('utf8').trim().split('\n').slice(-3).join(' ')}`);
  }
  return fromStaged(staged, 'engine');
}

/**
 * An image in a registry, by digest. Within the target registry its blobs are mounted (never
 * downloaded); from another registry they are downloaded into `staging` and checked.
 */
async function fromRegistry(spec: Extract<SourceSpec, { kind: 'registry' }>, client: RegistryClient, mountable: boolean, staging: string): Promise<SourceImage> {
  const repo = spec.repository;
  const label = `${repo.host}/${repo.path}@${spec.digest}`;
  const scopes = [pullScope(repo)];
  const store: Store = {
    label,
    document: async (d) => verifyDocument(label, d, (await getManifest(client, repo, d.digest, scopes)).bytes),
    blob: async (d) => {
      if (mountable) return { digest: d.digest, size: d.size, mediaType: d.mediaType, mountFrom: repo };
      const file = join(staging, d.digest.replace(':', '-'));
      await downloadBlob(client, repo, d, file, scopes);
      return { digest: d.digest, size: d.size, mediaType: d.mediaType, file: wholeFile(file, d.size) };
    },
  };
  if (!mountable) await mkdir(staging, { recursive: true, mode: 0o700 });
  const top = await getManifest(client, repo, spec.digest, scopes);
  if (sha256Digest(top.bytes) !== spec.digest) throw new RegistryError(`${label}: the registry returned a manifest with digest ${sha256Digest(top.bytes)}`);
  return collect('registry', store, { mediaType: top.mediaType || MANIFEST_ACCEPT[0]!, digest: spec.digest, size: top.bytes.length });
}

export interface LoadOptions {
  /** Where archives are unpacked (under RUNNER_TEMP). */
  staging: string;
  /** For a registry source: a client of its registry, and whether it is the target registry. */
  sourceClient?: RegistryClient;
  sameRegistry?: boolean;
}

export async function loadSource(spec: SourceSpec, opts: LoadOptions): Promise<SourceImage> {
  if (spec.kind === 'engine') return fromEngine(spec.ref, opts.staging);
  if (spec.kind === 'registry') {
    if (!opts.sourceClient) throw new Error('loadSource: a registry source needs its client');
    return fromRegistry(spec, opts.sourceClient, opts.sameRegistry ?? false, opts.staging);
  }
  const info = await stat(spec.path).catch(() => undefined);
  if (!info) throw new ImageArchiveError(`${spec.path} does not exist`);
  if (info.isDirectory()) return fromLayout(spec.path);
  if (!info.isFile()) throw new ImageArchiveError(`${spec.path} is neither a file nor a directory`);
  if (!(await isGzip(spec.path))) return fromArchive(spec.path);
  // A gzip'ed archive has no random access: it is unpacked once. Its uncompressed size is not
  // known before; the archive's own size is the least it takes (the staging guard stops it later).
  await requireStagingSpace(opts.staging, info.size, `unpacking ${spec.path}`, `the gzip'ed archive's size, ${formatBytes(info.size)}, the least unpacking it takes`);
  return fromStaged(await stageArchiveFile(spec.path, opts.staging), 'oci-archive');
}

/** The image with extra manifest annotations: a new manifest, so a new digest (the caller says so). */
export function annotate(image: SourceImage, annotations: Array<[string, string]>): SourceImage {
  if (annotations.length === 0) return image;
  const top = topManifest(image);
  const doc = JSON.parse(top.bytes.toString('utf8')) as { annotations?: Record<string, string> };
  doc.annotations = { ...doc.annotations, ...Object.fromEntries(annotations) };
  const bytes = Buffer.from(JSON.stringify(doc));
  return { ...image, manifests: [...image.manifests.slice(0, -1), { digest: sha256Digest(bytes), mediaType: top.mediaType, bytes }] };
}
