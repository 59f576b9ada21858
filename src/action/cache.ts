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
import { chmod, mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, relative, sep } from 'node:path';
import { CacheEntryRefused, checkPlainTree, extractCacheArchive, type WrittenFiles } from './cache-archive.js';
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
export function tarStubScript(held: string, { unique = false } = {}): string {
  const quoted = `'${held.replace(/'/g, `'\\''`)}'`;
  // For several restores at once (restoreEntries): each archive to a new file in the `held`
  // directory, first as part.* (a move across file systems copies), then renamed to archive.* in
  // one step, so an archive.* that appears is whole and can be extracted while others download.
  const move = unique
    ? `p="$(mktemp ${quoted}/part.XXXXXXXX)" && mv -f -- "$2" "$p" && exec mv -f -- "$p" ${quoted}/"archive.\${p##*/part.}"`
    : `exec mv -f -- "$2" ${quoted}`;
  return `#!/bin/sh
# vllm-rocm-action: stands in for tar while @actions/cache restores (src/action/cache.ts).
if [ "$1" = "-tf" ]; then exit 0; fi
if [ "$#" -ge 5 ] && [ "$1" = "-xf" ] && [ "$3" = "-P" ] && [ "$4" = "-C" ]; then ${move}; fi
echo "vllm-rocm-action: unexpected tar call from @actions/cache (its argv changed?): $1" >&2
exit 2
`;
}

/** Runs `fn` with a stub tar first on PATH. PATH is process-wide: nothing else runs tar meanwhile. */
export async function withTarStub<T>(hold: string, held: string, fn: () => Promise<T>, { unique = false } = {}): Promise<T> {
  const bin = join(hold, 'bin');
  await mkdir(bin, { mode: 0o700 });
  for (const name of ['tar', 'gtar']) {
    await writeFile(join(bin, name), tarStubScript(held, { unique }), { mode: 0o700 });
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

async function extractInto(dir: string, archive: string, prefix = archivePrefix(dir), { digests = false } = {}): Promise<WrittenFiles | undefined> {
  await mkdir(dirname(dir), { recursive: true });
  const fresh = await mkdtemp(`${dir}.restoring-`);
  try {
    // A restore that did not reach the stub (another tar was used) has already extracted with -P.
    const { files } = await extractCacheArchive(archive, prefix, fresh, undefined, { digests }).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && (error as NodeJS.ErrnoException).path === archive) {
        throw new Error('@actions/cache did not hand over its archive (did its tar call change? see the pinned version in package.json)');
      }
      throw error;
    });
    checkPlainTree(fresh);
    await chmod(fresh, 0o755);
    await rm(dir, { recursive: true, force: true });
    await rename(fresh, dir);
    return files;
  } finally {
    await rm(fresh, { recursive: true, force: true });
  }
}

/** One entry restored by restoreEntries. */
export interface RestoredEntry {
  dir: string;
  /**
   * Every file extraction wrote, with the SHA-256 of its bytes (hashed as they were written);
   * absent where the entry was copied from the local stand-in, whose files the caller reads itself.
   */
  files?: WrittenFiles;
}

/**
 * Several entries saved from the same `dir`, each by its exact key, downloaded `concurrency` at a
 * time, each into a directory of its own (`${dir}-1`, …) through the same confined extraction,
 * which starts as soon as an archive is whole, while the others still download; `onEntry` then
 * gets it at once (a caller checks and uses one entry while the next is fetched).
 * One stub for the whole batch (PATH is process-wide) moves each archive to a new file, so which
 * directory came from which key is not known here: the caller tells them apart by content.
 * Returns the entries, or the keys with no entry; throws when a restore fails or is refused, or
 * when `onEntry` throws.
 */
export async function restoreEntries(
  dir: string,
  keys: string[],
  concurrency: number,
  onEntry: (entry: RestoredEntry) => Promise<void> = async () => {},
): Promise<{ entries: RestoredEntry[]; missing: string[] }> {
  const targets = keys.map((_, i) => `${dir}-${i + 1}`);
  const local = localServicesRoot();
  const missing: string[] = [];
  const found: RestoredEntry[] = [];
  const pool = async <T>(items: T[], fn: (item: T, i: number) => Promise<void>): Promise<void> => {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i]!, i);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
  };
  const byDir = (a: RestoredEntry, b: RestoredEntry): number => (a.dir < b.dir ? -1 : 1);
  const hold = local ? undefined : await mkdtemp(join(process.env.RUNNER_TEMP || tmpdir(), 'vllm-rocm-action-cache-'));
  // Extractions (and their onEntry) run beside the downloads; all are settled before returning or throwing.
  const working: Array<Promise<void>> = [];
  const settle = async (): Promise<void> => {
    const failed = (await Promise.allSettled(working)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  };
  try {
    if (local) {
      await pool(keys, async (key, i) => {
        if (!(await restoreLocalDirectory(local, targets[i]!, key, []))) return void missing.push(key);
        const entry = { dir: targets[i]! };
        found.push(entry);
        await onEntry(entry);
      });
      return { entries: found.sort(byDir), missing };
    }
    if (!cache.isFeatureAvailable()) throw new Error('the Actions cache service is not available to this job');
    if (process.platform === 'win32') throw new Error('restoring the Actions cache is not supported on Windows runners');
    const held = join(hold!, 'held');
    await mkdir(held, { mode: 0o700 });
    const prefix = archivePrefix(dir);
    const claimed = new Set<string>();
    // Every archive.* the stub has finished renaming in and nobody has taken yet.
    const claimWhole = async (): Promise<void> => {
      for (const name of (await readdir(held)).sort()) {
        if (!name.startsWith('archive.') || claimed.has(name)) continue;
        claimed.add(name);
        if (claimed.size > keys.length) throw new CacheEntryRefused(`${keys.length} entries asked for but more archives handed over`);
        const target = targets[claimed.size - 1]!;
        working.push((async () => {
          const entry = { dir: target, files: await extractInto(target, join(held, name), prefix, { digests: true }) };
          found.push(entry);
          await onEntry(entry);
        })());
      }
    };
    try {
      await withTarStub(hold!, held, () => pool(keys, async (key) => {
        if (!(await cache.restoreCache([dir], key, []))) missing.push(key);
        else await claimWhole();
      }), { unique: true });
      await claimWhole();
    } finally {
      await settle();
    }
    if (missing.length > 0) {
      await Promise.all(targets.map((t) => rm(t, { recursive: true, force: true })));
      return { entries: [], missing };
    }
    if (claimed.size !== keys.length) throw new CacheEntryRefused(`${keys.length} entries restored but ${claimed.size} archives handed over`);
    return { entries: found.sort(byDir), missing };
  } catch (error) {
    await Promise.allSettled(working);
    await Promise.all(targets.map((t) => rm(t, { recursive: true, force: true })));
    throw error;
  } finally {
    if (hold) await rm(hold, { recursive: true, force: true });
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
