// A file:// binary cache read as untrusted data: the closure of one store path, walked through
// the References of the cache's .narinfo files, every name checked before it reaches argv.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

export const STORE_PATH = /^\/nix\/store\/[0-9a-z]{32}-[^/]+$/;
/** Store path names are short; a bigger .narinfo is not one Nix wrote. */
const MAX_NARINFO_BYTES = 1024 * 1024;

export class BinaryCacheError extends Error {}
/** The cache does not hold the whole closure (e.g. an entry written for another derivation). */
export class IncompleteCacheError extends BinaryCacheError {}

export interface NarInfo {
  storePath: string;
  references: string[];
  signatures: string[];
}

export function isStorePath(path: string): boolean {
  return STORE_PATH.test(path) && !/\s/.test(path);
}

/** Parses the fields the walk needs; References are base names in a .narinfo. */
export function parseNarInfo(text: string): NarInfo {
  const field = (name: string): string[] => [...text.matchAll(new RegExp(`^${name}: ?(.*)$`, 'gm'))].map((m) => m[1]!.trim());
  const [storePath] = field('StorePath');
  if (!storePath) throw new BinaryCacheError('a .narinfo without StorePath');
  const references = (field('References')[0] ?? '').split(' ').filter(Boolean).map((name) => `/nix/store/${name}`);
  return { storePath, references, signatures: field('Sig') };
}

/**
 * The paths of `root`'s closure that this store lacks (`invalid` says which of a batch it lacks),
 * all of them present in the cache at `dir`. A lacking path's closure is walked further; a valid
 * one's closure is valid already. Anything malformed, or a needed path the cache lacks, throws.
 */
export async function missingClosure(dir: string, root: string, invalid: (paths: string[]) => Promise<string[]>): Promise<string[]> {
  const seen = new Set<string>([root]);
  const missing: string[] = [];
  let level = [root];
  while (level.length > 0) {
    for (const path of level) if (!isStorePath(path)) throw new BinaryCacheError(`'${path}' is not a store path`);
    const lacking = await invalid(level);
    const next: string[] = [];
    for (const path of lacking) {
      if (!seen.has(path)) throw new BinaryCacheError(`Nix reported '${path}', which was not asked about`);
      const info = await readNarInfo(dir, path);
      missing.push(path);
      for (const ref of info.references) {
        if (!isStorePath(ref)) throw new BinaryCacheError(`${path} refers to '${ref}', which is not a store path`);
        if (!seen.has(ref)) {
          seen.add(ref);
          next.push(ref);
        }
      }
    }
    level = next;
  }
  return missing.sort();
}

async function readNarInfo(dir: string, path: string): Promise<NarInfo> {
  const file = join(dir, `${path.slice('/nix/store/'.length, '/nix/store/'.length + 32)}.narinfo`);
  const size = await stat(file).then((s) => (s.isFile() ? s.size : -1), () => -1);
  if (size < 0) throw new IncompleteCacheError(`it lacks ${path}`);
  if (size > MAX_NARINFO_BYTES) throw new BinaryCacheError(`its .narinfo for ${path} is ${size} bytes`);
  const info = parseNarInfo(await readFile(file, 'utf8'));
  if (info.storePath !== path) throw new BinaryCacheError(`its .narinfo for ${path} names ${info.storePath}`);
  return info;
}
