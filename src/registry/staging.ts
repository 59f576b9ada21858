// Unpacks an image tar that cannot be read in place (a gzip'ed OCI archive or docker-archive, or
// a stream such as `docker save`; a plain tar file is read in place, see source.ts) into a content-addressed directory: every regular member is written to
// sha256-<hex> of its own bytes, hashed on the way. A blob is later found only under the digest of
// what was actually read, so every blob pushed is checked against its digest by construction, and
// memory stays bounded whatever the archive holds (member names never become paths).
import { createHash } from 'node:crypto';
import { closeSync, openSync, renameSync, statfsSync, unlinkSync, writeSync, existsSync } from 'node:fs';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { ImageArchiveError, LIMITS } from '../oci/bounds.js';
import { isGzip } from '../oci/container.js';
import { walkTar } from '../oci/tar.js';
import { tooManyMembers } from '../oci/tar-index.js';

/** JSON documents (manifests, configs, index.json) are read into memory up to this size. */
export const MAX_DOCUMENT = 4 << 20;

export interface StagedArchive {
  label: string;
  dir: string;
  /** Archive member name → size and sha256 of its bytes. */
  members: Map<string, { size: number; digest: string }>;
}

/** Unpacking stops, with a clear error, when the disk under the staging directory gets this full. */
export interface SpaceGuard {
  minFreeBytes: number;
  /** Free space is looked up after every this many bytes written. */
  checkEveryBytes: number;
}

export const DEFAULT_SPACE_GUARD: SpaceGuard = { minFreeBytes: 512 << 20, checkEveryBytes: 256 << 20 };

export async function stageArchiveFile(path: string, dir: string, guard = DEFAULT_SPACE_GUARD): Promise<StagedArchive> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new ImageArchiveError(`${path} does not exist`);
  if (!info.isFile()) throw new ImageArchiveError(`${path} is not a file`);
  const raw = createReadStream(path, { highWaterMark: 1 << 20 });
  const stream = (await isGzip(path)) ? raw.pipe(createGunzip({ chunkSize: 1 << 20 })) : raw;
  return stageArchiveStream(stream as AsyncIterable<Buffer>, path, dir, guard);
}

export async function stageArchiveStream(stream: AsyncIterable<Buffer>, label: string, dir: string, guard = DEFAULT_SPACE_GUARD): Promise<StagedArchive> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const members = new Map<string, { size: number; digest: string }>();
  let sequence = 0;
  let entries = 0;
  let written = 0;
  let unchecked = 0;
  // A gzip'ed archive can expand far beyond its size (a hostile one on purpose): stop before the disk fills.
  const checkSpace = (bytes: number) => {
    written += bytes;
    unchecked += bytes;
    if (unchecked < guard.checkEveryBytes) return;
    unchecked = 0;
    const fs = statfsSync(dir);
    if (fs.bavail * fs.bsize < guard.minFreeBytes) {
      throw new ImageArchiveError(`less than ${guard.minFreeBytes >> 20} MiB left under ${dir} after unpacking ${written} bytes of ${label}: free space for one copy of the image is needed`);
    }
  };
  try {
    await walkTar(stream, (entry) => {
      // The shared reader's member cap: each member costs a file here and an entry in `members`.
      if (++entries > LIMITS.archiveMembers) throw tooManyMembers();
      if (entry.type !== 'file') return undefined;
      const partial = join(dir, `partial-${sequence++}`);
      const fd = openSync(partial, 'w', 0o600);
      const hash = createHash('sha256');
      return {
        data: (chunk) => {
          hash.update(chunk);
          try {
            writeSync(fd, chunk);
            checkSpace(chunk.length);
          } catch (error) {
            closeSync(fd);
            throw error;
          }
        },
        end: () => {
          closeSync(fd);
          const hex = hash.digest('hex');
          const target = join(dir, `sha256-${hex}`);
          if (existsSync(target)) unlinkSync(partial);
          else renameSync(partial, target);
          members.set(entry.name, { size: entry.size, digest: `sha256:${hex}` });
        },
      };
    });
  } catch (error) {
    throw new ImageArchiveError(`${label} is not a readable image archive: ${(error as Error).message}`);
  }
  return { label, dir, members };
}

/** The staged file holding the blob with this digest, or undefined when the archive had none. */
export function stagedBlob(staged: StagedArchive, digest: string): string | undefined {
  const file = join(staged.dir, digest.replace(':', '-'));
  return existsSync(file) ? file : undefined;
}

export async function readStagedMember(staged: StagedArchive, name: string): Promise<Buffer | undefined> {
  const member = staged.members.get(name);
  if (!member) return undefined;
  if (member.size > MAX_DOCUMENT) throw new ImageArchiveError(`${staged.label}: ${name} is ${member.size} bytes, more than a JSON document may be`);
  return readFile(join(staged.dir, member.digest.replace(':', '-')));
}
