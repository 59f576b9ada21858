// The Actions cache behind two calls that never fail a step: caching is an optimisation.
//
// @actions/cache restores with `tar -xf ARCHIVE -P -C $GITHUB_WORKSPACE` (pinned version; see
// node_modules/@actions/cache/lib/internal/tar.js getTarArgs): `-P` lets an entry's absolute names,
// `..` and symlinked parents write anywhere this user can, before any signature is checked. So it
// keeps only the transport: for the call, a stub `tar` (and `gtar`, which it prefers on macOS) is
// first on PATH, found there by its io.which, and moves the downloaded archive aside unextracted;
// extractCacheArchive then writes the plain files under the expected path into a fresh directory.
import * as cache from '@actions/cache';
import * as core from '@actions/core';
import { chmod, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, relative, sep } from 'node:path';
import { CacheEntryRefused, checkPlainTree, extractCacheArchive } from './cache-archive.js';
import { localServicesRoot, restoreLocalDirectory, saveLocalDirectory } from './local-services.js';
import { errorMessage } from './stage.js';

export async function restoreDirectory(dir: string, key: string, restoreKeys: string[]): Promise<string | undefined> {
  const local = localServicesRoot();
  if (local) return restoreLocalDirectory(local, dir, key, restoreKeys).catch(async (error: unknown) => {
    await rm(dir, { recursive: true, force: true });
    core.warning(`Cache restore from ${local} failed (building without it): ${errorMessage(error)}`);
    return undefined;
  });
  if (!cache.isFeatureAvailable()) {
    core.warning('The Actions cache service is not available to this job; building without a restored cache.');
    return undefined;
  }
  if (process.platform === 'win32') {
    core.warning('Restoring the Actions cache is not supported on Windows runners; building without it.');
    return undefined;
  }
  const hold = await mkdtemp(join(process.env.RUNNER_TEMP || tmpdir(), 'vllm-rocm-action-cache-'));
  try {
    const archive = join(hold, 'archive');
    const matched = await withTarStub(hold, archive, () => cache.restoreCache([dir], key, restoreKeys));
    if (!matched) return undefined;
    await extractInto(dir, archive);
    return matched;
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    const refused = error instanceof CacheEntryRefused;
    core.warning(`${refused ? 'Cache entry refused' : 'Cache restore failed'} (building without it): ${errorMessage(error)}`);
    return undefined;
  } finally {
    await rm(hold, { recursive: true, force: true });
  }
}

/**
 * The stub's whole job: @actions/cache's extract argv is `-xf ARCHIVE -P -C DIR` then compression
 * options (`--use-compress-program unzstd --long=30`, `-z`; on macOS `--delay-directory-restore`);
 * the archive is moved to `held` and nothing is extracted. Its debug listing (`-tf`) prints nothing
 * (member names are hostile text). Any other call fails, and so does the restore.
 */
export function tarStubScript(held: string): string {
  const quoted = `'${held.replace(/'/g, `'\\''`)}'`;
  return `#!/bin/sh
# vllm-rocm-action: stands in for tar while @actions/cache restores (src/action/cache.ts).
if [ "$1" = "-tf" ]; then exit 0; fi
if [ "$#" -ge 5 ] && [ "$1" = "-xf" ] && [ "$3" = "-P" ] && [ "$4" = "-C" ]; then exec mv -f -- "$2" ${quoted}; fi
echo "vllm-rocm-action: unexpected tar call from @actions/cache (its argv changed?): $1" >&2
exit 2
`;
}

/** Runs `fn` with a stub tar first on PATH. PATH is process-wide: nothing else runs tar meanwhile. */
export async function withTarStub<T>(hold: string, held: string, fn: () => Promise<T>): Promise<T> {
  const bin = join(hold, 'bin');
  await mkdir(bin, { mode: 0o700 });
  for (const name of ['tar', 'gtar']) {
    await writeFile(join(bin, name), tarStubScript(held), { mode: 0o700 });
    await chmod(join(bin, name), 0o700);
  }
  const path = process.env.PATH;
  process.env.PATH = path ? `${bin}${delimiter}${path}` : bin;
  try {
    return await fn();
  } finally {
    if (path === undefined) delete process.env.PATH;
    else process.env.PATH = path;
  }
}

/** How @actions/cache names `dir` in an archive: relative to the workspace, with `/`. */
export function archivePrefix(dir: string): string {
  return relative(process.env.GITHUB_WORKSPACE ?? process.cwd(), dir).split(sep).join('/') || '.';
}

async function extractInto(dir: string, archive: string): Promise<void> {
  await mkdir(dirname(dir), { recursive: true });
  const fresh = await mkdtemp(`${dir}.restoring-`);
  try {
    // A restore that did not reach the stub (another tar was used) has already extracted with -P.
    await extractCacheArchive(archive, archivePrefix(dir), fresh).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && (error as NodeJS.ErrnoException).path === archive) {
        throw new Error('@actions/cache did not hand over its archive (did its tar call change? see the pinned version in package.json)');
      }
      throw error;
    });
    checkPlainTree(fresh);
    await chmod(fresh, 0o755);
    await rm(dir, { recursive: true, force: true });
    await rename(fresh, dir);
  } finally {
    await rm(fresh, { recursive: true, force: true });
  }
}

export async function saveDirectory(dir: string, key: string): Promise<boolean> {
  const local = localServicesRoot();
  if (local) return saveLocalDirectory(local, dir, key).catch((error: unknown) => {
    core.warning(`Cache save to ${local} failed: ${errorMessage(error)}`);
    return false;
  });
  if (!cache.isFeatureAvailable()) {
    core.warning('The Actions cache service is not available to this job; the cache was not saved.');
    return false;
  }
  try {
    const id = await cache.saveCache([dir], key);
    return id !== -1;
  } catch (error) {
    core.warning(`Cache save failed: ${errorMessage(error)}`);
    return false;
  }
}
