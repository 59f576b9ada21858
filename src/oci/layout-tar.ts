// An OCI image layout directory as one tar stream, for `docker load` (which reads OCI layouts in a
// tar since Docker 24; checked on dockerd 26 and 28): index.json (less a bare-tag name, loadName),
// oci-layout, and the blobs index.json references, nothing else. The layout is untrusted: no
// symlink is followed (each file is opened O_NOFOLLOW and must be a regular file of its
// descriptor's size), member names are made from digests, never from directory entries, and every
// blob is checked against its digest as it goes by. Layout: opencontainers/image-spec image-layout.md. Tar: POSIX ustar, with the
// base-256 size field Go's archive/tar (format.go, reader.go) reads for members of 8 GiB or more.
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { ImageArchiveError, LIMITS, mib } from './bounds.js';
import { isDigest, MEDIA_TYPES } from './types.js';

const BLOCK = 512;
const CHUNK = 1 << 20;
const MAX_DEPTH = 4;

const DOCUMENT_TYPES = new Set<string>([MEDIA_TYPES.ociIndex, MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifestList, MEDIA_TYPES.dockerManifest]);

interface Blob {
  digest: string;
  size: number;
  /** A document (index or manifest), read and checked while planning; a layer or config is streamed. */
  bytes?: Buffer;
}

export interface LayoutTarPlan {
  dir: string;
  /** The layout's index.json, less any bare-tag ref.name (loadName). */
  indexJson: Buffer;
  ociLayout: Buffer;
  blobs: Blob[];
  /** The tar's size in bytes. */
  tarBytes: number;
}

/** Refuses a path that is a symlink or not of the kind expected. */
async function requireReal(dir: string, name: string, kind: 'directory' | 'file'): Promise<void> {
  const info = await lstat(join(dir, name)).catch(() => undefined);
  if (!info) throw new ImageArchiveError(`${dir} lacks ${name}: not an OCI image layout`);
  if (info.isSymbolicLink()) throw new ImageArchiveError(`${dir}: ${name} is a symbolic link; refusing to follow it`);
  if (kind === 'directory' ? !info.isDirectory() : !info.isFile()) throw new ImageArchiveError(`${dir}: ${name} is not a ${kind === 'directory' ? 'directory' : 'regular file'}`);
}

/** A layout member opened without following a symlink, as a regular file. */
async function openMember(dir: string, name: string): Promise<{ handle: FileHandle; size: number }> {
  const handle = await open(join(dir, name), constants.O_RDONLY | constants.O_NOFOLLOW).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ELOOP') throw new ImageArchiveError(`${dir}: ${name} is a symbolic link; refusing to follow it`);
    if (error.code === 'ENOENT') throw new ImageArchiveError(`${dir} lacks ${name}`);
    throw new ImageArchiveError(`${dir}: cannot open ${name}: ${error.message}`);
  });
  const info = await handle.stat();
  if (!info.isFile()) {
    await handle.close();
    throw new ImageArchiveError(`${dir}: ${name} is not a regular file`);
  }
  return { handle, size: info.size };
}

async function readDocument(dir: string, name: string): Promise<Buffer> {
  const { handle, size } = await openMember(dir, name);
  try {
    if (size > LIMITS.documentBytes) throw new ImageArchiveError(`${dir}: ${name} is ${size} bytes, more than the ${mib(LIMITS.documentBytes)} an index or manifest may have`);
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

const blobName = (digest: string): string => `blobs/sha256/${digest.slice('sha256:'.length)}`;

function checkDescriptor(dir: string, value: unknown): { digest: string; size: number; mediaType: string } {
  const d = value as { digest?: unknown; size?: unknown; mediaType?: unknown } | null;
  // sha256 only: its member name (77 bytes) fits ustar's 100-byte name field; BuildKit writes nothing else.
  if (!d || typeof d !== 'object' || typeof d.digest !== 'string' || !isDigest(d.digest)) {
    throw new ImageArchiveError(`${dir}: a descriptor's digest is not sha256:<64 hex> (${JSON.stringify((d as { digest?: unknown } | null)?.digest)?.slice(0, 100)})`);
  }
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) throw new ImageArchiveError(`${dir}: blob ${d.digest} has no valid size`);
  return { digest: d.digest, size: d.size, mediaType: typeof d.mediaType === 'string' ? d.mediaType : '' };
}

function parseDocument(dir: string, what: string, bytes: Buffer): Record<string, unknown> {
  try {
    const value = JSON.parse(bytes.toString('utf8')) as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // Reported below.
  }
  throw new ImageArchiveError(`${dir}: ${what} is not a JSON object`);
}

/**
 * What the tar holds: index.json, oci-layout and every blob index.json reaches (indexes, manifests,
 * configs, layers; attestation manifests too), each once. Documents are read, bounded and checked
 * against their digests here; the other blobs only have their size checked until they are streamed.
 */
export async function planLayoutTar(dir: string): Promise<LayoutTarPlan> {
  const top = await lstat(dir).catch(() => undefined);
  if (!top?.isDirectory()) throw new ImageArchiveError(`${dir} is not a directory`);
  await requireReal(dir, 'oci-layout', 'file');
  await requireReal(dir, 'index.json', 'file');
  await requireReal(dir, 'blobs', 'directory');
  await requireReal(dir, 'blobs/sha256', 'directory');
  const ociLayout = await readDocument(dir, 'oci-layout');
  const indexJson = await readDocument(dir, 'index.json');
  const blobs = new Map<string, Blob>();
  let documentBytes = 0;

  const visit = async (value: unknown, depth: number): Promise<void> => {
    const { digest, size, mediaType } = checkDescriptor(dir, value);
    const seen = blobs.get(digest);
    if (seen) {
      if (seen.size !== size) throw new ImageArchiveError(`${dir}: blob ${digest} is given sizes ${seen.size} and ${size}`);
      return;
    }
    if (blobs.size >= LIMITS.archiveMembers) throw new ImageArchiveError(`${dir}: index.json reaches more than ${LIMITS.archiveMembers} blobs`);
    const { handle, size: actual } = await openMember(dir, blobName(digest));
    await handle.close();
    if (actual !== size) throw new ImageArchiveError(`${dir}: blob ${digest} is ${actual} bytes, its descriptor says ${size}`);
    if (!DOCUMENT_TYPES.has(mediaType)) {
      blobs.set(digest, { digest, size });
      return;
    }
    if (depth > MAX_DEPTH) throw new ImageArchiveError(`${dir}: indexes nested too deep`);
    documentBytes += size;
    if (documentBytes > LIMITS.documentsBytes) throw new ImageArchiveError(`${dir}: its manifests and indexes come to more than ${mib(LIMITS.documentsBytes)}`);
    const bytes = await readDocument(dir, blobName(digest));
    const hashed = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    if (hashed !== digest) throw new ImageArchiveError(`${dir}: blob ${digest} has digest ${hashed} (corrupt layout)`);
    blobs.set(digest, { digest, size, bytes });
    const doc = parseDocument(dir, `blob ${digest}`, bytes);
    if (Array.isArray(doc.manifests)) for (const d of doc.manifests) await visit(d, depth + 1);
    if (doc.config !== undefined) await visit(doc.config, depth + 1);
    if (Array.isArray(doc.layers)) for (const d of doc.layers) await visit(d, depth + 1);
  };

  const index = parseDocument(dir, 'index.json', indexJson);
  if (!Array.isArray(index.manifests) || index.manifests.length === 0) throw new ImageArchiveError(`${dir}: index.json lists no manifests`);
  for (const d of index.manifests) await visit(d, 1);
  const forLoad = loadName(index) ? Buffer.from(JSON.stringify(index)) : indexJson;
  const list = [...blobs.values()];
  const padded = (n: number): number => BLOCK + Math.ceil(n / BLOCK) * BLOCK;
  const tarBytes = padded(ociLayout.length) + padded(forLoad.length) + 2 * BLOCK + list.reduce((n, b) => n + padded(b.size), 0) + 2 * BLOCK;
  return { dir, indexJson: forLoad, ociLayout, blobs: list, tarBytes };
}

const REF_NAME = 'org.opencontainers.image.ref.name';

/**
 * BuildKit names an untagged layout's image `latest` (a bare tag, as the layout spec allows);
 * `docker load` then reports "Loaded image: latest:latest" yet stores the image without a name
 * (seen on dockerd 26 and 28), so the name it reports cannot be run. Without that annotation it
 * reports the image ID, which can. A full reference (a tagged build's) stays. True if one was dropped.
 */
function loadName(index: Record<string, unknown>): boolean {
  let dropped = false;
  for (const d of index.manifests as Array<{ annotations?: Record<string, unknown> }>) {
    const name = d.annotations?.[REF_NAME];
    if (typeof name === 'string' && /^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(name)) {
      delete d.annotations![REF_NAME];
      dropped = true;
    }
  }
  return dropped;
}

function octal(header: Buffer, offset: number, length: number, value: number): void {
  header.write(`${value.toString(8).padStart(length - 1, '0')}\0`, offset, length, 'ascii');
}

/** A ustar header; a size too big for 11 octal digits in base-256 (high bit set, big-endian). */
export function tarHeader(name: string, type: 'file' | 'directory', size: number): Buffer {
  if (Buffer.byteLength(name) > 100 || /[^\x21-\x7e]/.test(name)) throw new ImageArchiveError(`refusing tar member name ${JSON.stringify(name)}`);
  const header = Buffer.alloc(BLOCK);
  header.write(name, 0, 100, 'ascii');
  octal(header, 100, 8, type === 'directory' ? 0o755 : 0o644);
  octal(header, 108, 8, 0);
  octal(header, 116, 8, 0);
  if (size < 8 ** 11) octal(header, 124, 12, size);
  else {
    header[124] = 0x80;
    let rest = BigInt(size);
    for (let i = 135; i > 124; i--, rest >>= 8n) header[i] = Number(rest & 0xffn);
  }
  octal(header, 136, 12, 0);
  header.write(type === 'directory' ? '5' : '0', 156, 1, 'ascii');
  header.write('ustar\0', 257, 6, 'ascii');
  header.write('00', 263, 2, 'ascii');
  header.fill(' ', 148, 156);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return header;
}

const padding = (size: number): Buffer => Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);

/** The tar stream of a plan. A blob that changed since planning (size or digest) ends it with an error. */
export async function* layoutTar(plan: LayoutTarPlan): AsyncGenerator<Buffer> {
  const { dir } = plan;
  for (const [name, bytes] of [['oci-layout', plan.ociLayout], ['index.json', plan.indexJson]] as const) {
    yield tarHeader(name, 'file', bytes.length);
    yield bytes;
    yield padding(bytes.length);
  }
  yield tarHeader('blobs/', 'directory', 0);
  yield tarHeader('blobs/sha256/', 'directory', 0);
  for (const blob of plan.blobs) {
    const name = blobName(blob.digest);
    yield tarHeader(name, 'file', blob.size);
    if (blob.bytes) {
      yield blob.bytes;
    } else {
      const { handle, size } = await openMember(dir, name);
      try {
        if (size !== blob.size) throw new ImageArchiveError(`${dir}: blob ${blob.digest} changed size while being read (${size}, was ${blob.size})`);
        const hash = createHash('sha256');
        let seen = 0;
        const stream = blob.size === 0 ? [] : handle.createReadStream({ highWaterMark: CHUNK, autoClose: false, start: 0, end: blob.size - 1 });
        for await (const chunk of stream) {
          const bytes = chunk as Buffer;
          hash.update(bytes);
          seen += bytes.length;
          yield bytes;
        }
        const digest = `sha256:${hash.digest('hex')}`;
        if (seen !== blob.size || digest !== blob.digest) throw new ImageArchiveError(`${dir}: blob ${blob.digest} has digest ${digest} (${seen} bytes; corrupt layout)`);
      } finally {
        await handle.close();
      }
    }
    yield padding(blob.size);
  }
  yield Buffer.alloc(2 * BLOCK);
}
