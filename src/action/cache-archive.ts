// Restored cache entries are hostile bytes until proven otherwise: whoever can write one entry in
// a scope this job reads chose every member name and type. This module writes a cache archive
// itself (never `tar -P`) into a fresh empty directory, taking only regular files and directories
// named under the one expected path, and checks the result, or a copied local entry, with lstat.
import { createHash } from 'node:crypto';
import { closeSync, constants, createReadStream, lstatSync, mkdirSync, openSync, readdirSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createZstdDecompress } from 'node:zlib';
import { TarFormatError, TarParser, type EntrySink, type TarEntry } from '../oci/tar.js';

/** An archive or directory that is not a plain tree of files and directories under the expected path. */
export class CacheEntryRefused extends Error {}

export interface CacheLimits {
  readonly members: number;
  readonly nameBytes: number;
  readonly componentBytes: number;
  readonly totalBytes: number;
}

export const CACHE_LIMITS: CacheLimits = {
  /** Members (files and directories). A Nix binary cache or a BuildKit cache holds thousands. */
  members: 200_000,
  /** Bytes of one member name, and of one of its components (PATH_MAX, NAME_MAX). */
  nameBytes: 4096,
  componentBytes: 255,
  /** Bytes written in all: the Actions cache keeps 10 GiB per repository, compressed. */
  totalBytes: 16 * 1024 ** 3,
};

// Pax keys GNU tar --posix writes for a plain file (tar(5), "pax Interchange Format"); any other
// (GNU.sparse.*, linkpath, SCHILY.xattr.*) describes something this restore does not create.
const PLAIN_PAX_KEYS = new Set(['path', 'size', 'mtime', 'atime', 'ctime', 'uid', 'gid', 'uname', 'gname']);

const SAFE_COMPONENT = /^[A-Za-z0-9._+=@:!,~%-]+$/;

/** A member name as safe log text: no workflow-command characters, bounded length. */
export function shownName(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9._/+=@-]/g, '?');
  return safe.length > 120 ? `${safe.slice(0, 120)}…` : safe;
}

/**
 * The path below `prefix` that member `name` stands for ('' for the prefix itself), or a refusal.
 * `prefix` is how @actions/cache names the restore directory in its archives: relative to the
 * workspace (src: @actions/cache lib/internal/cacheUtils.js resolvePaths), e.g. `../../_temp/x`.
 */
export function memberPath(name: string, prefix: string, limits: CacheLimits = CACHE_LIMITS): string {
  const trimmed = name.replace(/\/+$/, '');
  const shown = shownName(name);
  if (Buffer.byteLength(name) > limits.nameBytes) throw new CacheEntryRefused(`a member name of ${Buffer.byteLength(name)} bytes (at most ${limits.nameBytes})`);
  if (trimmed === prefix) return '';
  if (!trimmed.startsWith(`${prefix}/`)) throw new CacheEntryRefused(`member ${shown} is outside the cache directory (${shownName(prefix)})`);
  const parts = trimmed.slice(prefix.length + 1).split('/');
  for (const part of parts) {
    if (part === '' || part === '.' || part === '..') throw new CacheEntryRefused(`member ${shown} has an empty, '.' or '..' component`);
    // What the suite's own caches hold (Nix: <hash>.narinfo, nar/…, realisations/sha256:…!out.doi;
    // BuildKit: an OCI layout), and nothing that could read as a workflow command in a message.
    if (!SAFE_COMPONENT.test(part)) throw new CacheEntryRefused(`member ${shown} has a character outside [A-Za-z0-9._+=@:!,~%-]`);
    if (Buffer.byteLength(part) > limits.componentBytes) throw new CacheEntryRefused(`member ${shown} has a component over ${limits.componentBytes} bytes`);
  }
  return parts.join('/');
}

function checkEntry(entry: TarEntry): void {
  if (entry.type !== 'file' && entry.type !== 'directory') {
    throw new CacheEntryRefused(`member ${shownName(entry.name)} is a ${entry.type}: only regular files and directories are restored`);
  }
  const extra = Object.keys(entry.pax).find((key) => !PLAIN_PAX_KEYS.has(key));
  if (extra) throw new CacheEntryRefused(`member ${shownName(entry.name)} carries the pax record ${shownName(extra)}`);
}

/** Decompresses by magic number: @actions/cache writes zstd (--long=30) or gzip, nothing else. */
async function decompressor(archive: string): Promise<Transform> {
  const handle = await open(archive, 'r');
  const magic = Buffer.alloc(4);
  try {
    await handle.read(magic, 0, 4, 0);
  } finally {
    await handle.close();
  }
  // Without --long (CompressionMethod.ZstdWithoutLong, all this version writes): the decoder's default 128 MiB window limit holds.
  if (magic.readUInt32LE(0) === 0xfd2fb528) return createZstdDecompress();
  if (magic[0] === 0x1f && magic[1] === 0x8b) return createGunzip();
  throw new CacheEntryRefused('the archive is neither zstd nor gzip');
}

/** What extraction wrote to one file: the bytes it streamed through, counted and hashed on the way. */
export interface WrittenFile {
  size: number;
  /** Hex SHA-256. */
  sha256: string;
}

/** Relative `/`-separated path below the restored directory to what was written there. */
export type WrittenFiles = Map<string, WrittenFile>;

export interface Extracted {
  members: number;
  bytes: number;
  /** With `{ digests: true }`: every file written, with the SHA-256 of the bytes written to it. */
  files?: WrittenFiles;
}

/**
 * Writes the members of `archive` (an @actions/cache archive) named under `prefix` into `into`,
 * which must be a fresh empty directory. Files are created with O_EXCL|O_NOFOLLOW, modes reduced
 * to 0644/0755, owners not restored. Throws CacheEntryRefused on the first member that is not
 * a plain file or directory under `prefix`; the caller removes `into`. With `digests`, each file is
 * hashed as it is written (the bytes pass through here anyway), so a caller checking every file
 * against a manifest need not read them all again.
 */
export async function extractCacheArchive(archive: string, prefix: string, into: string, limits: CacheLimits = CACHE_LIMITS, { digests = false } = {}): Promise<Extracted> {
  let members = 0;
  let bytes = 0;
  let openFd: number | undefined;
  const files: WrittenFiles | undefined = digests ? new Map() : undefined;
  const visit = (entry: TarEntry): EntrySink | undefined => {
    if (++members > limits.members) throw new CacheEntryRefused(`more than ${limits.members} members`);
    checkEntry(entry);
    const rel = memberPath(entry.name, prefix, limits);
    const target = rel === '' ? into : join(into, rel);
    if (entry.type === 'directory') {
      if (rel !== '') mkdirSync(target, { recursive: true, mode: 0o755 });
      return undefined;
    }
    if (rel === '') throw new CacheEntryRefused('the cache directory itself is a file in the archive');
    bytes += entry.size;
    if (bytes > limits.totalBytes) throw new CacheEntryRefused(`more than ${limits.totalBytes} bytes of files`);
    mkdirSync(join(target, '..'), { recursive: true, mode: 0o755 });
    try {
      openFd = openSync(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, entry.mode & 0o111 ? 0o755 : 0o644);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new CacheEntryRefused(`member ${shownName(entry.name)} appears twice`);
      throw error;
    }
    const fd = openFd;
    const hash = files ? createHash('sha256') : undefined;
    let written = 0;
    return {
      data(chunk) {
        hash?.update(chunk);
        written += chunk.length;
        for (let off = 0; off < chunk.length; ) off += writeSync(fd, chunk, off);
      },
      end() {
        closeSync(fd);
        openFd = undefined;
        if (files && hash) files.set(rel, { size: written, sha256: hash.digest('hex') });
      },
    };
  };
  const parser = new TarParser(visit);
  try {
    try {
      await pipeline(createReadStream(archive, { highWaterMark: 1 << 20 }), await decompressor(archive), async (source: AsyncIterable<Buffer>) => {
        for await (const chunk of source) {
          parser.push(chunk);
          if (parser.ended) break; // what follows the end-of-archive blocks is never read (a zstd bomb of padding)
        }
      });
    } catch (error) {
      if (!parser.ended) throw error; // stopping there aborts the rest of the pipeline
    }
    await parser.finish();
  } catch (error) {
    if (error instanceof TarFormatError) throw new CacheEntryRefused(`not a readable tar archive: ${error.message}`);
    throw error;
  } finally {
    if (openFd !== undefined) closeSync(openFd);
  }
  return files ? { members, bytes, files } : { members, bytes };
}

/**
 * Walks `root` with lstat: only directories and regular files with one link and no set-id or
 * sticky bit, at most CACHE_LIMITS.members of them. Anything else (a symlink, hard link, device,
 * fifo, socket) is refused.
 */
export function checkPlainTree(root: string): number {
  let count = 0;
  const stack = [''];
  while (stack.length > 0) {
    const rel = stack.pop()!;
    for (const name of readdirSync(join(root, rel))) {
      const path = rel ? `${rel}/${name}` : name;
      if (++count > CACHE_LIMITS.members) throw new CacheEntryRefused(`more than ${CACHE_LIMITS.members} files and directories`);
      const st = lstatSync(join(root, path));
      if (st.mode & 0o7000) throw new CacheEntryRefused(`${shownName(path)} has a set-id or sticky bit`);
      if (st.isDirectory()) stack.push(path);
      else if (!st.isFile()) throw new CacheEntryRefused(`${shownName(path)} is not a regular file or directory`);
      else if (st.nlink !== 1) throw new CacheEntryRefused(`${shownName(path)} is a hard link`);
    }
  }
  return count;
}
