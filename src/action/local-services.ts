// Directories standing in for the Actions cache and artifact services when a stage runs outside
// Actions (the command line sets VLLM_ROCM_ACTION_LOCAL_SERVICES for its child only, when the job
// has no services); a workflow run never has it set, so it keeps the real services.
import { constants } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { exists } from '../tool/disk.js';
import { checkPlainTree } from './cache-archive.js';

export const LOCAL_SERVICES_ENV = 'VLLM_ROCM_ACTION_LOCAL_SERVICES';

/** The root directory of the local stand-ins, or undefined when the real services are in use. */
export function localServicesRoot(): string | undefined {
  return process.env[LOCAL_SERVICES_ENV] || undefined;
}

// Copy-on-write where the file system can (btrfs, xfs): a GB-sized BuildKit cache costs nothing.
const copy = (from: string, to: string): Promise<void> => cp(from, to, { recursive: true, mode: constants.COPYFILE_FICLONE, verbatimSymlinks: true });

const entryName = (key: string): string => encodeURIComponent(key);

/** As actions/cache: the exact key, else per restore key (a prefix) the newest entry. Returns the key restored. */
export async function restoreLocalDirectory(root: string, dir: string, key: string, restoreKeys: string[]): Promise<string | undefined> {
  const base = join(root, 'cache');
  let found: string | undefined = (await exists(join(base, entryName(key)))) ? key : undefined;
  if (!found) {
    const entries = (await readdir(base).catch(() => [] as string[])).filter((n) => !n.startsWith('.')).map((n) => decodeURIComponent(n));
    for (const prefix of restoreKeys) {
      const matches = entries.filter((k) => k.startsWith(prefix));
      const times = await Promise.all(matches.map(async (k) => (await stat(join(base, entryName(k)))).mtimeMs));
      found = matches.map((k, i) => ({ k, t: times[i]! })).sort((a, b) => b.t - a.t)[0]?.k;
      if (found) break;
    }
  }
  if (!found) return undefined;
  // Checked as a restored Actions cache entry is (src/action/cache-archive.ts): the copy may never
  // bring a link, device or fifo into a directory the build then writes through.
  const entry = join(base, entryName(found));
  checkPlainTree(entry);
  await mkdir(dirname(dir), { recursive: true });
  const fresh = await mkdtemp(`${dir}.restoring-`);
  try {
    await copy(entry, fresh);
    checkPlainTree(fresh);
    await rm(dir, { recursive: true, force: true });
    await rename(fresh, dir);
  } finally {
    await rm(fresh, { recursive: true, force: true });
  }
  return found;
}

/** As actions/cache: an entry is never replaced (false when the key exists). Written aside, then renamed in. */
export async function saveLocalDirectory(root: string, dir: string, key: string): Promise<boolean> {
  const base = join(root, 'cache');
  const target = join(base, entryName(key));
  if (await exists(target)) return false;
  const partial = join(base, `.partial-${process.pid}-${Date.now()}`);
  await mkdir(base, { recursive: true });
  try {
    await copy(dir, partial);
    await rename(partial, target);
  } finally {
    await rm(partial, { recursive: true, force: true });
  }
  return true;
}

/** Keeps files as artifact `name`; a later run's artifact of the same name replaces it. Returns its directory. */
export async function keepLocalArtifact(root: string, name: string, files: string[]): Promise<string> {
  const dir = join(root, 'artifacts', entryName(name));
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  for (const file of files) await copy(file, join(dir, basename(file)));
  return dir;
}

export async function fetchLocalArtifact(root: string, name: string, dir: string): Promise<string> {
  const from = join(root, 'artifacts', entryName(name));
  if (!(await exists(from))) throw new Error(`no artifact named '${name}' under ${join(root, 'artifacts')} (a run with artifact-name: ${name} keeps one there)`);
  await mkdir(dir, { recursive: true });
  await copy(from, dir);
  return dir;
}
