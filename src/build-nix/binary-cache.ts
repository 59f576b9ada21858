// `cache: gha`: the image's closure kept as ONE compressed file:// binary cache per key in the
// Actions cache (never one entry per store path); over SHARD_BYTES it is split into shard entries
// under the same key family, the key's own entry then holding only their manifest. Main restores
// it (shards in parallel) and imports what this store lacks of the evaluated output's closure —
// signature-checked whenever a key is known (see CacheTrust) — and post saves a new one only when
// something new was built, leaving out what the configured substituters already serve.
import * as core from '@actions/core';
import { seconds } from '../action/job-time.js';
import { logInfo } from '../action/log.js';
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { restoreDirectory, restoreEntries, saveDirectory } from '../action/cache.js';
import { stageTempDir } from '../action/paths.js';
import { errorMessage } from '../action/stage.js';
import { NixCli, NixCommandError } from '../nix/cli.js';
import {
  MAX_MANIFEST_BYTES,
  SHARD_MANIFEST_FILE,
  SHARD_MANIFEST_FORMAT,
  checkShard,
  describeCacheFiles,
  identifyShard,
  listCacheFiles,
  mergeShard,
  parseShardManifest,
  planShards,
  shardKey,
  type ShardManifest,
} from '../nix/cache-shards.js';
import { BinaryCacheError, IncompleteCacheError, missingClosure } from '../nix/narinfo.js';
import { directorySize, exists } from '../tool/disk.js';
import type { BuildNixInputs } from './inputs.js';

/** A closure bigger than this compressed is saved as several entries, restored in parallel. */
export const SHARD_BYTES = 2 * 1024 ** 3;
/**
 * Test and benchmark use only (not an input: the bound changes nothing a user sees but the number
 * of entries): the shard bound in bytes, so a test's closure of a few MiB splits.
 */
export const SHARD_BYTES_ENV = 'VLLM_ROCM_ACTION_TEST_NIX_SHARD_BYTES';
/** Shards downloaded at once. */
const SHARD_CONCURRENCY = 4;
/** The Actions cache's default quota per repository; beyond it the oldest entries are evicted. */
const REPOSITORY_CACHE_QUOTA = 10 * 1000 ** 3;
const KEY_FAMILY = 'vllm-rocm-action-nix-';
/**
 * Shards live under their own prefix: no restore key (a prefix of a manifest key) and no key
 * prefix match of the Actions cache ever lands on a shard instead of a manifest.
 */
const SHARD_FAMILY = 'vllm-rocm-action-nixshard-';

export function shardBytes(): number {
  const text = process.env[SHARD_BYTES_ENV];
  if (!text) return SHARD_BYTES;
  const value = Number(text);
  if (/^[1-9][0-9]*$/.test(text) && Number.isSafeInteger(value)) return value;
  core.warning(`${SHARD_BYTES_ENV} is not a positive whole number of bytes; using ${SHARD_BYTES}.`);
  return SHARD_BYTES;
}

/** The prefix of the shard keys of the manifest at `key`. */
export function shardFamily(key: string): string {
  return `${SHARD_FAMILY}${key.slice(KEY_FAMILY.length)}`;
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export interface NixCacheState {
  key: string;
  restoredKey?: string;
  dir: string;
  newDir: string;
  outPath?: string;
  pathsBuilt: number;
}

export function cacheDirs(): { dir: string; newDir: string; shardDir: string } {
  const base = stageTempDir('build-nix');
  return { dir: join(base, 'binary-cache'), newDir: join(base, 'binary-cache-new'), shardDir: join(base, 'binary-cache-shard') };
}

/** Known from evaluation alone: system, Nix version, flake.lock and the image's drvPath. */
export async function nixCacheKey(inputs: BuildNixInputs, nixVersion: string, drvPath: string, workspace: string): Promise<{ key: string; restoreKeys: string[] }> {
  // "The same flake": its place in the repository (local) or its reference, and the attribute.
  const flakeRef = inputs.flakeDir ? relative(workspace, inputs.flakeDir) || '.' : inputs.flake;
  const flakeId = createHash('sha256').update(`${flakeRef}#${inputs.attr}`).digest('hex').slice(0, 12);
  const lock = inputs.flakeDir ? await readFile(join(inputs.flakeDir, 'flake.lock')).catch(() => Buffer.from('')) : Buffer.from(inputs.flake);
  const lockHash = createHash('sha256').update(lock).digest('hex').slice(0, 16);
  const drvHash = drvPath.replace(/^\/nix\/store\//, '').split('-')[0]!;
  const prefix = `vllm-rocm-action-nix-${inputs.system}-${flakeId}-`;
  return { key: `${prefix}${nixVersion}-${lockHash}-${drvHash}`, restoreKeys: [`${prefix}${nixVersion}-${lockHash}-`, prefix] };
}

/**
 * Whose cache entries this job accepts. Anyone who can run a job on the default branch's cache
 * scope can write an entry, so only a signature makes one trustworthy:
 * - `signed`: only paths signed by one of `keys` (trusted-public-keys and the signing key's own);
 * - `unsigned`: the job neither signs nor pushes, so nothing it imports is passed on under the
 *   organisation's name: the exact key only, and the summary says the cache is unauthenticated;
 * - `off`: the job pushes without any key to check, so it restores nothing.
 */
export type CacheTrust = { mode: 'signed'; keys: string[] } | { mode: 'unsigned' } | { mode: 'off' };

export function cacheTrust(inputs: Pick<BuildNixInputs, 'trustedPublicKeys' | 'pushTo'>, signingPublicKey?: string): CacheTrust {
  const keys = [...new Set([...inputs.trustedPublicKeys, ...(signingPublicKey ? [signingPublicKey] : [])])];
  if (keys.length > 0) return { mode: 'signed', keys };
  return inputs.pushTo ? { mode: 'off' } : { mode: 'unsigned' };
}

export interface Restored {
  restoredKey?: string;
  /** Paths this store lacked and took from the restored cache. */
  imported: string[];
}

export async function restoreNixCache(nix: NixCli, key: string, restoreKeys: string[], outPath: string, trust: CacheTrust): Promise<Restored> {
  const { dir, newDir } = cacheDirs();
  await rm(newDir, { recursive: true, force: true });
  if (trust.mode === 'off') {
    logInfo('Not restoring the Nix binary cache: this job pushes, and without signing-key or trusted-public-keys nothing restored could be verified.');
    return { imported: [] };
  }
  // A prefix match is an entry another flake, lock or derivation wrote: only signatures make it usable.
  const restoredKey = await restoreDirectory(dir, key, trust.mode === 'signed' ? restoreKeys : []);
  if (!restoredKey) {
    logInfo(`No Nix binary cache for ${key} yet.`);
    return { imported: [] };
  }
  if (await exists(join(dir, SHARD_MANIFEST_FILE))) {
    if (!(await restoreShards(dir, restoredKey))) {
      await rm(dir, { recursive: true, force: true });
      return { imported: [] };
    }
  }
  let missing: string[];
  try {
    missing = await missingClosure(dir, outPath, (paths) => nix.invalidPaths(paths));
  } catch (error) {
    if (error instanceof IncompleteCacheError) {
      logInfo(`The restored Nix binary cache ${restoredKey} does not hold the closure of ${outPath} (${error.message}); building without it.`);
      return { restoredKey, imported: [] };
    }
    core.warning(`The restored Nix binary cache ${restoredKey} is not usable (${errorMessage(error)}); building without it.`);
    return { restoredKey, imported: [] };
  }
  if (missing.length === 0) {
    logInfo(`Restored Nix binary cache ${restoredKey}; this store already has all of ${outPath}.`);
    return { restoredKey, imported: [] };
  }
  const checkSigs = trust.mode === 'signed';
  const importStarted = process.hrtime.bigint();
  try {
    // With keys, Nix refuses any path not signed by one of them.
    await nix.copyFrom(`file://${dir}`, missing, checkSigs, checkSigs ? ['--option', 'trusted-public-keys', trust.keys.join(' ')] : []);
  } catch (error) {
    const reason = error instanceof NixCommandError ? error.stderr.trim().split('\n').slice(-3).join(' ') : errorMessage(error);
    core.warning(`The restored Nix binary cache ${restoredKey} was refused (${reason}); building without it.`);
    return { restoredKey, imported: [] };
  }
  const took = `${seconds(importStarted).toFixed(1)} s`;
  if (checkSigs) logInfo(`Restored Nix binary cache ${restoredKey}: ${missing.length} store paths imported, signatures checked (of the closure of ${outPath}; import ${took}).`);
  else core.warning(`Restored Nix binary cache ${restoredKey}: ${missing.length} store paths imported without signatures: the cache is unauthenticated (import ${took}). Set signing-key or trusted-public-keys to verify it.`);
  return { restoredKey, imported: missing };
}

/**
 * The entry at `restoredKey` is a shard manifest: fetch its shards, check each against it and
 * merge them into `dir`, the binary cache the import then reads. False (warned) when any shard is
 * missing or does not match: the job builds without the cache, and its post saves the shards again.
 */
async function restoreShards(dir: string, restoredKey: string): Promise<boolean> {
  const { shardDir } = cacheDirs();
  const merged = `${dir}.merging`;
  const dirs: string[] = [];
  try {
    const held = await listCacheFiles(dir);
    if (held.length !== 1) throw new BinaryCacheError(`its entry holds ${held.length} files beside the shard manifest`);
    const size = (await stat(join(dir, SHARD_MANIFEST_FILE))).size;
    if (size > MAX_MANIFEST_BYTES) throw new BinaryCacheError(`its shard manifest is ${size} bytes`);
    const family = escapeRegExp(shardFamily(restoredKey));
    const manifest = parseShardManifest(await readFile(join(dir, SHARD_MANIFEST_FILE), 'utf8'), new RegExp(`^${family}-[0-9]+-of-[0-9]+-[0-9a-f]{16}$`));
    const count = manifest.shards.length;
    manifest.shards.forEach((shard, i) => {
      if (!shard.key.startsWith(`${shardFamily(restoredKey)}-${i + 1}-of-${count}-`)) throw new BinaryCacheError(`its manifest lists ${shard.key} as shard ${i + 1} of ${count}`);
    });
    const started = process.hrtime.bigint();
    const seen = new Set<number>();
    let checking = 0;
    await rm(merged, { recursive: true, force: true });
    await mkdir(merged, { recursive: true });
    // Each shard is checked and merged as soon as it is extracted, while the others download.
    const restored = await restoreEntries(shardDir, manifest.shards.map((s) => s.key), SHARD_CONCURRENCY, async (entry) => {
      dirs.push(entry.dir);
      const checkStarted = process.hrtime.bigint();
      const index = identifyShard(manifest, await listCacheFiles(entry.dir));
      if (seen.has(index)) throw new BinaryCacheError(`shard ${index + 1} was restored twice`);
      seen.add(index);
      await checkShard(entry.dir, manifest.shards[index]!, entry.files);
      await mergeShard(entry.dir, manifest.shards[index]!, merged);
      checking += seconds(checkStarted);
    });
    const restoreTook = seconds(started);
    if (restored.missing.length > 0) {
      core.warning(`The Nix binary cache ${restoredKey} lacks ${restored.missing.length} of its ${count} shards (${restored.missing.join(', ')}); building without it.`);
      return false;
    }
    if (seen.size !== count) throw new BinaryCacheError(`${seen.size} of its ${count} shards were restored`);
    await rm(dir, { recursive: true, force: true });
    await rename(merged, dir);
    logInfo(`Restored the ${count} shards of Nix binary cache ${restoredKey}, each checked against its manifest (download, extraction and checks ${restoreTook.toFixed(1)} s, of which checks ${checking.toFixed(1)} s, beside the downloads).`);
    return true;
  } catch (error) {
    core.warning(`The restored Nix binary cache ${restoredKey} was refused (${errorMessage(error)}); building without it.`);
    return false;
  } finally {
    await Promise.all([merged, ...dirs].map((d) => rm(d, { recursive: true, force: true })));
  }
}

/** Post: one compressed binary cache of the closure, minus what the substituters serve. */
export async function saveNixCache(nix: NixCli, state: NixCacheState, substituters: string[]): Promise<void> {
  try {
    if (!state.outPath) return logInfo('The build did not finish; no Nix cache to save.');
    if (state.restoredKey === state.key && state.pathsBuilt === 0) {
      return logInfo(`Nix binary cache ${state.key} was restored exactly and nothing new was built; not saving.`);
    }
    const closure = (await nix.pathInfo([state.outPath], { recursive: true })).map((p) => p.path);
    let toSave = closure;
    for (const substituter of substituters) {
      const served = new Set((await nix.pathInfo(toSave, { store: substituter })).map((p) => p.path));
      toSave = toSave.filter((p) => !served.has(p));
    }
    if (toSave.length === 0) return logInfo('The configured substituters already serve the whole closure; nothing to cache.');
    await rm(state.newDir, { recursive: true, force: true });
    await nix.copyTo(`file://${state.newDir}?compression=zstd`, toSave);
    const size = await directorySize(state.newDir);
    if (size > REPOSITORY_CACHE_QUOTA) {
      core.warning(`The Nix closure is ${(size / 1024 ** 3).toFixed(1)} GiB compressed, over the Actions cache's default 10 GB per repository: saving it evicts older entries, and unless the repository's cache limit is raised, maybe its own shards. push-to with a binary cache keeps it instead.`);
    }
    await rm(state.dir, { recursive: true, force: true });
    const bound = shardBytes();
    if (size <= bound) {
      await rename(state.newDir, state.dir);
      if (await saveDirectory(state.dir, state.key)) logInfo(`Saved Nix binary cache ${state.key}: ${toSave.length} store paths, ${size} bytes.`);
      return;
    }
    await saveShards(state, bound, `${toSave.length} store paths, ${size} bytes`);
  } finally {
    await rm(state.dir, { recursive: true, force: true });
    await rm(state.newDir, { recursive: true, force: true });
    await rm(cacheDirs().shardDir, { recursive: true, force: true });
  }
}

/**
 * Each shard is saved from the same directory (so restore extracts them all alike), then the
 * manifest at the key itself, last: a job that finds the manifest finds its shards. A shard whose
 * key exists already is the same bytes (the key names their digest), so a job that lacked one
 * shard saves it again, and the set is whole once more.
 */
async function saveShards(state: NixCacheState, bound: number, what: string): Promise<void> {
  const { shardDir } = cacheDirs();
  const files = await describeCacheFiles(state.newDir);
  const planned = planShards(files, bound);
  const shards = planned.map((shardFiles, i) => ({ key: shardKey(shardFamily(state.key), i, planned.length, shardFiles), files: shardFiles }));
  let saved = 0;
  for (const shard of shards) {
    await rm(shardDir, { recursive: true, force: true });
    for (const file of shard.files) {
      await mkdir(dirname(join(shardDir, file.path)), { recursive: true });
      await rename(join(state.newDir, file.path), join(shardDir, file.path));
    }
    if (await saveDirectory(shardDir, shard.key)) saved += 1;
  }
  const manifest: ShardManifest = { format: SHARD_MANIFEST_FORMAT, shards };
  await mkdir(state.dir, { recursive: true });
  await writeFile(join(state.dir, SHARD_MANIFEST_FILE), `${JSON.stringify(manifest)}\n`);
  if (await saveDirectory(state.dir, state.key)) {
    logInfo(`Saved Nix binary cache ${state.key}: ${what}, in ${shards.length} shards of at most ${bound} bytes (${saved} new, the others already kept).`);
  }
}
