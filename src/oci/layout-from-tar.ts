// An OCI image tar stream (buildx `--output type=oci,dest=-`) written out as an OCI image layout
// directory that costs only the blobs another layout lacks: a blob the other layout already holds
// (same digest, a regular file, no symlink followed) is hard-linked from it (copied where the two
// are on different file systems) and its streamed bytes are only hashed. The stream is untrusted:
// every blob must hash to its member name, files are created exclusively under names made from
// that digest, and any member outside the layout spec's (opencontainers/image-spec
// image-layout.md: oci-layout, index.json, blobs/<alg>/<hex>) is refused. Memory stays bounded:
// blobs are written chunk by chunk (synchronously, as src/registry/staging.ts does, so the tar
// reader and the pipe give back-pressure), and index.json and oci-layout are capped.
import { createHash, type Hash } from 'node:crypto';
import { closeSync, constants, copyFileSync, linkSync, lstatSync, mkdirSync, openSync, rmSync, statfsSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ImageArchiveError, LIMITS, mib } from './bounds.js';
import { walkTar, type EntrySink, type TarEntry } from './tar.js';

const BLOB_MEMBER = /^blobs\/sha256\/([0-9a-f]{64})$/;
/** Directory members BuildKit's tar carries; no file is made for them. */
const DIRECTORY_MEMBERS = new Set(['blobs', 'blobs/', 'blobs/sha256', 'blobs/sha256/']);
const DOCUMENT_MEMBERS = new Set(['index.json', 'oci-layout']);

export interface LayoutFromTarStats {
  /** Blobs in the stream. */
  blobs: number;
  /** Of those, hard-linked (or copied) from the other layout. */
  linked: number;
  /** Of those, written from the stream. */
  written: number;
  writtenBytes: number;
  /** Linked blobs that had to be copied: the two layouts are on different file systems. */
  copied: number;
}

export interface LayoutFromTarOptions {
  /** Stop when less than this is left free under `dest` (checked every `checkEveryBytes` written). */
  minFreeBytes?: number;
  checkEveryBytes?: number;
}

/**
 * A regular file `blobs/sha256/<hex>` inside `layout` of `size` bytes, reached through real
 * directories only (no symlink anywhere from `layout` down), or undefined.
 */
function reusableBlob(layout: string, hex: string, size: number): string | undefined {
  let path = layout;
  for (const part of ['blobs', 'sha256', hex]) {
    path = join(path, part);
    const info = lstatSync(path, { throwIfNoEntry: false });
    if (!info || info.isSymbolicLink()) return undefined;
    if (part === hex ? !info.isFile() || info.size !== size : !info.isDirectory()) return undefined;
  }
  return path;
}

/** `dest` gets `source` (a checked blob of the other layout): a hard link, or a copy across file systems. */
function linkOrCopy(source: string, dest: string): 'linked' | 'copied' {
  try {
    linkSync(source, dest);
    return 'linked';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // EXDEV: another file system; EPERM/EMLINK: links refused (some file systems, protected_hardlinks, link count).
    if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'EMLINK') throw error;
    copyFileSync(source, dest, constants.COPYFILE_EXCL);
    return 'copied';
  }
}

/**
 * Writes the OCI tar `source` as the layout directory `dest` (which must not exist), reusing the
 * blobs of the layout `reuse`. On any error `dest` is removed: nothing half-written stays.
 */
export async function layoutFromTar(source: AsyncIterable<Buffer>, dest: string, reuse: string, options: LayoutFromTarOptions = {}): Promise<LayoutFromTarStats> {
  const minFree = options.minFreeBytes ?? 256 << 20;
  const checkEvery = options.checkEveryBytes ?? 256 << 20;
  mkdirSync(dest); // EEXIST: never written over
  try {
    return await writeLayout(source, dest, reuse, minFree, checkEvery);
  } catch (error) {
    rmSync(dest, { recursive: true, force: true });
    throw error;
  }
}

async function writeLayout(source: AsyncIterable<Buffer>, dest: string, reuse: string, minFree: number, checkEvery: number): Promise<LayoutFromTarStats> {
  const blobsDir = join(dest, 'blobs', 'sha256');
  mkdirSync(blobsDir, { recursive: true });
  const stats: LayoutFromTarStats = { blobs: 0, linked: 0, written: 0, writtenBytes: 0, copied: 0 };
  const documents = new Map<string, Buffer>();
  const seen = new Set<string>();
  let members = 0;
  let unchecked = 0;
  /** The blob file being written, closed here if the stream fails inside it. */
  let open: number | undefined;
  const checkSpace = (bytes: number): void => {
    unchecked += bytes;
    if (unchecked < checkEvery) return;
    unchecked = 0;
    const fs = statfsSync(dest);
    if (fs.bavail * fs.bsize < minFree) throw new ImageArchiveError(`less than ${mib(minFree)} left free under ${dest} after writing ${mib(stats.writtenBytes)} of the image's new blobs`);
  };

  const visit = (entry: TarEntry): EntrySink | undefined => {
    if (++members > LIMITS.archiveMembers) throw new ImageArchiveError(`the image tar has more than ${LIMITS.archiveMembers} members`);
    const name = entry.name;
    if (entry.type === 'directory' && DIRECTORY_MEMBERS.has(name)) return undefined;
    const shown = JSON.stringify(name.slice(0, 200));
    if (entry.type !== 'file') throw new ImageArchiveError(`the image tar has a ${entry.type} member ${shown}: an OCI layout holds regular files only`);
    if (seen.has(name)) throw new ImageArchiveError(`the image tar has member ${shown} twice`);
    seen.add(name);
    if (DOCUMENT_MEMBERS.has(name)) return collectDocument(name, entry.size, documents);
    const hex = BLOB_MEMBER.exec(name)?.[1];
    if (hex === undefined) throw new ImageArchiveError(`the image tar has member ${shown}: only oci-layout, index.json and blobs/sha256/<64 hex digits> are allowed`);
    stats.blobs++;
    const hash = createHash('sha256');
    const target = join(blobsDir, hex);
    const existing = reusableBlob(reuse, hex, entry.size);
    if (existing !== undefined) {
      return {
        data: (chunk) => void hash.update(chunk),
        end: () => {
          checkBlob(hex, hash);
          if (linkOrCopy(existing, target) === 'copied') stats.copied++;
          stats.linked++;
        },
      };
    }
    const fd = openSync(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
    open = fd;
    const close = (): void => {
      if (open === fd) closeSync(fd);
      open = undefined;
    };
    return {
      data: (chunk) => {
        hash.update(chunk);
        writeSync(fd, chunk);
        stats.writtenBytes += chunk.length;
        checkSpace(chunk.length);
      },
      end: () => {
        close();
        checkBlob(hex, hash);
        stats.written++;
      },
    };
  };

  try {
    await walkTar(source, visit);
  } finally {
    if (open !== undefined) closeSync(open);
  }
  for (const name of DOCUMENT_MEMBERS) {
    const bytes = documents.get(name);
    if (bytes === undefined) throw new ImageArchiveError(`the image tar has no ${name}: not an OCI image layout`);
    writeFileSync(join(dest, name), bytes, { flag: 'wx', mode: 0o644 });
  }
  return stats;
}

/** Streamed bytes whose sha256 is not the member's name: refused (the caller removes the layout). */
function checkBlob(hex: string, hash: Hash): void {
  const actual = hash.digest('hex');
  if (actual !== hex) throw new ImageArchiveError(`the image tar's blob blobs/sha256/${hex} has digest sha256:${actual}: corrupt image stream`);
}

function collectDocument(name: string, size: number, documents: Map<string, Buffer>): EntrySink {
  if (size > LIMITS.documentBytes) throw new ImageArchiveError(`the image tar's ${name} is ${size} bytes, more than the ${mib(LIMITS.documentBytes)} it may have`);
  const chunks: Buffer[] = [];
  return {
    data: (chunk) => void chunks.push(Buffer.from(chunk)),
    end: () => void documents.set(name, Buffer.concat(chunks)),
  };
}
