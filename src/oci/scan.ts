// One streaming pass over an image tar (plain or gzip'ed): small members are kept in memory,
// and every member's size (and, when asked, sha256) is recorded. Both OCI archives and
// docker-archives are read from this.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { walkTar } from './tar.js';

export class ImageArchiveError extends Error {}

export interface ArchiveScan {
  label: string;
  small: Map<string, Buffer>;
  members: Map<string, { size: number; digest?: string }>;
}

const SMALL = 4 << 20;

export async function isGzip(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

export async function scanImageTar(path: string, opts: { hashAll?: boolean } = {}): Promise<ArchiveScan> {
  const small = new Map<string, Buffer>();
  const members = new Map<string, { size: number; digest?: string }>();
  try {
    const stream = (await isGzip(path))
      ? createReadStream(path, { highWaterMark: 1 << 20 }).pipe(createGunzip({ chunkSize: 1 << 20 }))
      : createReadStream(path, { highWaterMark: 1 << 20 });
    await walkTar(stream as AsyncIterable<Buffer>, (entry) => {
      if (entry.type !== 'file') return undefined;
      const keep = entry.size <= SMALL;
      if (!keep && !opts.hashAll) {
        members.set(entry.name, { size: entry.size });
        return undefined;
      }
      const hash = opts.hashAll ? createHash('sha256') : undefined;
      const parts: Buffer[] = [];
      return {
        data: (chunk) => {
          hash?.update(chunk);
          if (keep) parts.push(Buffer.from(chunk));
        },
        end: () => {
          members.set(entry.name, { size: entry.size, digest: hash ? `sha256:${hash.digest('hex')}` : undefined });
          if (keep) small.set(entry.name, Buffer.concat(parts));
        },
      };
    });
  } catch (error) {
    throw new ImageArchiveError(`${path} is not a readable image archive: ${(error as Error).message}`);
  }
  return { label: path, small, members };
}
