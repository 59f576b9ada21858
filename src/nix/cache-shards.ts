// A file:// binary cache split into shards, each kept as its own cache entry, and put back
// together. The manifest listing the shards comes from a cache entry too: hostile until checked.
// Every name in it must be one `nix copy --to file://` writes, every file is in exactly one shard,
// and a restored shard must hold exactly its listed files, byte for byte (size and SHA-256).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { link, lstat, mkdir, readdir, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { BinaryCacheError } from './narinfo.js';

export const SHARD_MANIFEST_FILE = 'nix-cache-shards.json';
export const SHARD_MANIFEST_FORMAT = 'vllm-rocm-action-nix-cache-shards/1';
/** Enough for a closure of terabytes at the default bound; a bigger manifest is not one we wrote. */
export const MAX_SHARDS = 256;
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export interface CacheFile {
  /** Relative to the binary cache's root, `/`-separated. */
  path: string;
  size: number;
  /** Hex SHA-256 of the file's bytes. */
  sha256: string;
}

export interface Shard {
  key: string;
  files: CacheFile[];
}

export interface ShardManifest {
  format: typeof SHARD_MANIFEST_FORMAT;
  shards: Shard[];
}

// What Nix's BinaryCacheStore writes under a file:// cache (src/libstore/binary-cache-store.cc:
// nix-cache-info, <hashPart>.narinfo, nar/<fileHash>.nar<ext>, realisations/<id>.doi, log/<drv>):
// nothing else is taken, and no name can climb out of the directory.
const CACHE_FILE = /^(nix-cache-info|[0-9a-df-np-sv-z]{32}\.narinfo|nar\/[0-9a-df-np-sv-z]{52}\.nar(\.(zst|xz|bz2|br|gz|lz4))?|realisations\/sha256:[0-9a-f]{64}![A-Za-z0-9+._?=-]+\.doi|log\/[0-9a-df-np-sv-z]{32}-[A-Za-z0-9+._?=-]+\.drv)$/;

export function isCacheFileName(path: string): boolean {
  return CACHE_FILE.test(path) && !path.includes('..');
}

/**
 * Files into shards of at most `maxBytes` each (a file bigger than that is a shard of its own):
 * first-fit by decreasing size, ties by name, so the same cache always splits the same way.
 */
export function planShards<T extends { path: string; size: number }>(files: T[], maxBytes: number): T[][] {
  if (!(Number.isSafeInteger(maxBytes) && maxBytes > 0)) throw new RangeError(`a shard bound of ${maxBytes} bytes`);
  const ordered = [...files].sort((a, b) => b.size - a.size || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const bins: Array<{ bytes: number; files: T[] }> = [];
  for (const file of ordered) {
    const bin = bins.find((b) => b.bytes + file.size <= maxBytes);
    if (bin) {
      bin.bytes += file.size;
      bin.files.push(file);
    } else bins.push({ bytes: file.size, files: [file] });
  }
  return bins.map((b) => b.files.sort((x, y) => (x.path < y.path ? -1 : 1)));
}

/** A shard's key: the family's, its place, and a digest of what it holds (two saves never mix). */
export function shardKey(family: string, index: number, count: number, files: CacheFile[]): string {
  const digest = createHash('sha256');
  for (const f of files) digest.update(`${f.path}\0${f.size}\0${f.sha256}\n`);
  return `${family}-${index + 1}-of-${count}-${digest.digest('hex').slice(0, 16)}`;
}

/** Parses and checks a manifest; `keyPattern` is what a shard key of this family looks like. */
export function parseShardManifest(text: string, keyPattern: RegExp): ShardManifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new BinaryCacheError('its shard manifest is not JSON');
  }
  const obj = value as { format?: unknown; shards?: unknown };
  if (!obj || typeof obj !== 'object' || obj.format !== SHARD_MANIFEST_FORMAT) throw new BinaryCacheError(`its shard manifest is not ${SHARD_MANIFEST_FORMAT}`);
  if (!Array.isArray(obj.shards) || obj.shards.length < 1 || obj.shards.length > MAX_SHARDS) throw new BinaryCacheError(`its shard manifest lists no shards or more than ${MAX_SHARDS}`);
  const keys = new Set<string>();
  const names = new Set<string>();
  const shards = obj.shards.map((raw: unknown, i): Shard => {
    const shard = raw as { key?: unknown; files?: unknown };
    if (!shard || typeof shard !== 'object' || typeof shard.key !== 'string' || shard.key.length > 512 || !keyPattern.test(shard.key)) {
      throw new BinaryCacheError(`shard ${i + 1} of its manifest has no key of this cache`);
    }
    if (keys.has(shard.key)) throw new BinaryCacheError(`its manifest lists shard key ${shard.key} twice`);
    keys.add(shard.key);
    if (!Array.isArray(shard.files) || shard.files.length === 0) throw new BinaryCacheError(`shard ${i + 1} of its manifest lists no files`);
    const files = shard.files.map((f: unknown): CacheFile => {
      const file = f as { path?: unknown; size?: unknown; sha256?: unknown };
      if (!file || typeof file !== 'object' || typeof file.path !== 'string' || !isCacheFileName(file.path)) {
        throw new BinaryCacheError(`shard ${i + 1} of its manifest names a file that is not one of a Nix binary cache`);
      }
      if (!Number.isSafeInteger(file.size) || (file.size as number) < 0) throw new BinaryCacheError(`its manifest gives ${file.path} no size`);
      if (typeof file.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(file.sha256)) throw new BinaryCacheError(`its manifest gives ${file.path} no SHA-256`);
      if (names.has(file.path)) throw new BinaryCacheError(`its manifest lists ${file.path} in two places`);
      names.add(file.path);
      return { path: file.path, size: file.size as number, sha256: file.sha256 };
    });
    return { key: shard.key, files };
  });
  return { format: SHARD_MANIFEST_FORMAT, shards };
}

/**
 * Which shard a restored directory is, from the names it holds: every shard is saved from the
 * same path, so its archive alone does not say (src/action/cache.ts restoreEntries).
 */
export function identifyShard(manifest: ShardManifest, names: string[]): number {
  const held = [...names].sort().join('\n');
  const index = manifest.shards.findIndex((s) => s.files.map((f) => f.path).sort().join('\n') === held);
  if (index < 0) throw new BinaryCacheError(`a restored shard holds files its manifest does not list together (${names.length} files)`);
  return index;
}

/** Relative paths of the regular files under `dir`; anything else (a link, a fifo) is refused. */
export async function listCacheFiles(dir: string, under = ''): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(join(dir, under), { withFileTypes: true })) {
    const rel = under ? `${under}/${entry.name}` : entry.name;
    if (entry.isDirectory()) found.push(...(await listCacheFiles(dir, rel)));
    else if (entry.isFile()) found.push(rel);
    else throw new BinaryCacheError(`${rel} is not a plain file`);
  }
  return found;
}

export async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

/** The cache's files with sizes and hashes, for a manifest. */
export async function describeCacheFiles(dir: string): Promise<CacheFile[]> {
  const files: CacheFile[] = [];
  for (const path of (await listCacheFiles(dir)).sort()) {
    if (!isCacheFileName(path)) throw new BinaryCacheError(`nix copy wrote ${path}, which this action does not know how to cache`);
    files.push({ path, size: (await lstat(join(dir, path))).size, sha256: await fileSha256(join(dir, path)) });
  }
  return files;
}

/** What a shard's files were found to hold: size and hex SHA-256 by relative path. */
export type FileDigests = ReadonlyMap<string, { size: number; sha256: string }>;

/**
 * A restored shard holds exactly its listed files, with their sizes and hashes. `written`: the
 * digests its extraction computed from the very bytes it wrote (src/action/cache-archive.ts), so
 * the files are not read again; it must name every file in `dir`, or the shard is refused.
 * Without it each file is read and hashed here.
 */
export async function checkShard(dir: string, shard: Shard, written?: FileDigests): Promise<void> {
  const held = await listCacheFiles(dir);
  const heldSet = new Set(held);
  if (heldSet.size !== shard.files.length || shard.files.some((f) => !heldSet.has(f.path))) {
    throw new BinaryCacheError(`shard ${shard.key} does not hold exactly the files its manifest lists`);
  }
  if (written && (written.size !== held.length || held.some((path) => !written.has(path)))) {
    throw new BinaryCacheError(`shard ${shard.key} holds files its extraction did not write`);
  }
  for (const file of shard.files) {
    const path = join(dir, file.path);
    const size = (await lstat(path)).size;
    if (size !== file.size || (written && written.get(file.path)!.size !== file.size)) throw new BinaryCacheError(`shard ${shard.key}: ${file.path} is not the size its manifest gives`);
    const sha256 = written ? written.get(file.path)!.sha256 : await fileSha256(path);
    if (sha256 !== file.sha256) throw new BinaryCacheError(`shard ${shard.key}: ${file.path} does not match its manifest's SHA-256`);
  }
}

/** Moves a checked shard's files into `into`; a file already there is a conflict, never replaced. */
export async function mergeShard(dir: string, shard: Shard, into: string): Promise<void> {
  for (const file of shard.files) {
    const to = join(into, file.path);
    await mkdir(dirname(to), { recursive: true });
    // link() fails with EEXIST where rename() would silently replace.
    await link(join(dir, file.path), to).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new BinaryCacheError(`two shards hold ${file.path}`);
      throw error;
    });
    await unlink(join(dir, file.path));
  }
}
