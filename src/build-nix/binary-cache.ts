// `cache: gha`: the image's closure kept as ONE compressed file:// binary cache per key in the
// Actions cache (never one entry per store path). Main restores it and imports what this store
// lacks of the evaluated output's closure — signature-checked whenever a key is known (see
// CacheTrust) — and post saves a new one only when something new was built, leaving out what the
// configured substituters already serve.
import * as core from '@actions/core';
import { logInfo } from '../action/log.js';
import { createHash } from 'node:crypto';
import { readFile, rename, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { restoreDirectory, saveDirectory } from '../action/cache.js';
import { stageTempDir } from '../action/paths.js';
import { errorMessage } from '../action/stage.js';
import { NixCli, NixCommandError } from '../nix/cli.js';
import { IncompleteCacheError, missingClosure } from '../nix/narinfo.js';
import { directorySize } from '../tool/disk.js';
import type { BuildNixInputs } from './inputs.js';

/** Keep each entry well under the 10 GB repository quota, so a few keys fit side by side. */
export const MAX_CACHE_BYTES = 4 * 1024 ** 3;

export interface NixCacheState {
  key: string;
  restoredKey?: string;
  dir: string;
  newDir: string;
  outPath?: string;
  pathsBuilt: number;
}

export function cacheDirs(): { dir: string; newDir: string } {
  const base = stageTempDir('build-nix');
  return { dir: join(base, 'binary-cache'), newDir: join(base, 'binary-cache-new') };
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
  try {
    // With keys, Nix refuses any path not signed by one of them.
    await nix.copyFrom(`file://${dir}`, missing, checkSigs, checkSigs ? ['--option', 'trusted-public-keys', trust.keys.join(' ')] : []);
  } catch (error) {
    const reason = error instanceof NixCommandError ? error.stderr.trim().split('\n').slice(-3).join(' ') : errorMessage(error);
    core.warning(`The restored Nix binary cache ${restoredKey} was refused (${reason}); building without it.`);
    return { restoredKey, imported: [] };
  }
  if (checkSigs) logInfo(`Restored Nix binary cache ${restoredKey}: ${missing.length} store paths imported, signatures checked (of the closure of ${outPath}).`);
  else core.warning(`Restored Nix binary cache ${restoredKey}: ${missing.length} store paths imported without signatures: the cache is unauthenticated. Set signing-key or trusted-public-keys to verify it.`);
  return { restoredKey, imported: missing };
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
    if (size > MAX_CACHE_BYTES) {
      return core.warning(`The Nix closure is ${(size / 1024 ** 3).toFixed(1)} GiB compressed, over the ${MAX_CACHE_BYTES / 1024 ** 3} GiB kept in the Actions cache; not saving it. Use push-to with a binary cache instead.`);
    }
    await rm(state.dir, { recursive: true, force: true });
    await rename(state.newDir, state.dir);
    if (await saveDirectory(state.dir, state.key)) logInfo(`Saved Nix binary cache ${state.key}: ${toSave.length} store paths, ${size} bytes.`);
  } finally {
    await rm(state.dir, { recursive: true, force: true });
    await rm(state.newDir, { recursive: true, force: true });
  }
}
