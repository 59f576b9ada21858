// A content hash of the build context and the Dockerfile, for the local BuildKit cache key.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, lstat, readlink } from 'node:fs/promises';
import { join, relative } from 'node:path';

const SKIP = new Set(['.git']);

export async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** sha256 over every path, type, executable bit and content under dir (sorted; .git skipped). */
export async function hashContext(dir: string): Promise<string> {
  const hash = createHash('sha256');
  const walk = async (current: string): Promise<void> => {
    const entries = (await readdir(current)).sort();
    for (const name of entries) {
      if (SKIP.has(name)) continue;
      const path = join(current, name);
      const rel = relative(dir, path);
      const stat = await lstat(path);
      if (stat.isDirectory()) {
        hash.update(`d ${rel}\n`);
        await walk(path);
      } else if (stat.isSymbolicLink()) {
        hash.update(`l ${rel} ${await readlink(path)}\n`);
      } else if (stat.isFile()) {
        hash.update(`f ${rel} ${stat.mode & 0o111 ? 'x' : '-'} ${await hashFile(path)}\n`);
      }
    }
  };
  await walk(dir);
  return hash.digest('hex');
}
