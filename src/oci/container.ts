// The one reader of image files every stage uses: where an image's members live — an OCI layout
// directory, a plain tar (indexed once, then read by byte range), or a gzip'ed tar (read
// sequentially: a pass per request, one pass for a batch of digests). The image model (image.ts)
// reads members through this interface only. Bounded whatever the input: at most
// LIMITS.archiveMembers members are listed, a whole member is read into memory only up to
// LIMITS.documentBytes, tar metadata is capped by the parser, and a layout's members must stay
// inside the layout directory (no symlink out to a host file or a device).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile, realpath, stat, type FileHandle } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { createGunzip } from 'node:zlib';
import { ImageArchiveError, LIMITS, mib } from './bounds.js';
import type { HashPool } from './hash-pool.js';
import { indexTar, joinRelative, resolveMember, tooManyMembers, type TarMember } from './tar-index.js';
import { TarParser, type TarEntryType } from './tar.js';

export { ImageArchiveError };

export const CHUNK = 1 << 20;

export interface Container {
  readonly label: string;
  readonly kind: 'directory' | 'tar' | 'gzip-tar';
  /** Bytes read from disk so far (compressed bytes for a gzip'ed tar). */
  readonly bytesRead: number;
  /** The member's size, or undefined when it is missing (links are followed). */
  size(name: string): Promise<number | undefined>;
  /** A whole (small) member. */
  read(name: string): Promise<Buffer>;
  /** A member's bytes in order; the consumer may keep the chunks. */
  stream(name: string): AsyncIterable<Buffer>;
  /**
   * Where a member's bytes lie in the file `label` names (links followed), for a reader that
   * streams them itself by byte range: a plain tar only (a layout's member is a file of its own, a
   * gzip'ed tar has no random access). Undefined when the member is missing.
   */
  range?(name: string): { offset: number; size: number } | undefined;
  /** `algorithm:hex` digests of whole members, in request order. */
  digestMany(requests: Array<{ name: string; algorithm: string }>): Promise<string[]>;
  close(): Promise<void>;
}

export async function isGzip(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

/** A whole member is read into memory only when it is a document-sized one. */
function checkWholeRead(label: string, name: string, size: number): void {
  if (size > LIMITS.documentBytes) {
    throw new ImageArchiveError(`${label}: ${name} is ${size} bytes, more than the ${mib(LIMITS.documentBytes)} a manifest, config or index may have`);
  }
}

export async function openContainer(path: string, pool: HashPool): Promise<Container> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new ImageArchiveError(`${path} does not exist`);
  if (info.isDirectory()) return new DirContainer(path, pool);
  if (!info.isFile()) throw new ImageArchiveError(`${path} is neither a file nor a directory`);
  if (info.size === 0) throw new ImageArchiveError(`${path} is empty: not an image archive`);
  if (await isGzip(path)) {
    const container = new GzipTarContainer(path);
    await container.scan();
    return container;
  }
  const handle = await open(path, 'r');
  try {
    const { members, bytesRead } = await indexTar(handle, info.size);
    return new TarContainer(path, handle, members, bytesRead, pool);
  } catch (error) {
    await handle.close();
    throw new ImageArchiveError(`${path} is not a readable image archive: ${(error as Error).message}`);
  }
}

class DirContainer implements Container {
  readonly kind = 'directory';
  bytesRead = 0;
  private root: Promise<string> | undefined;

  constructor(readonly label: string, private readonly pool: HashPool) {}

  /**
   * The member's real path, or undefined when it does not exist. Links are followed only while
   * they stay inside the layout directory: a blob linking to a host file is refused.
   */
  private async real(name: string): Promise<string | undefined> {
    if (name.startsWith('/') || name.split('/').some((part) => part === '..')) throw new ImageArchiveError(`${this.label}: refusing member name ${name}`);
    this.root ??= realpath(this.label);
    const root = await this.root;
    const real = await realpath(join(root, name)).catch(() => undefined);
    if (real === undefined) return undefined;
    if (!real.startsWith(root + sep)) throw new ImageArchiveError(`${this.label}: ${name} leads outside the layout directory (to ${real}); refusing to read it`);
    return real;
  }

  /** The member as a regular file inside the layout (a device or FIFO would never end). */
  private async file(name: string): Promise<{ path: string; size: number } | undefined> {
    const path = await this.real(name);
    if (path === undefined) return undefined;
    const info = await stat(path);
    if (!info.isFile()) throw new ImageArchiveError(`${this.label}: ${name} is not a regular file`);
    return { path, size: info.size };
  }

  private async need(name: string): Promise<{ path: string; size: number }> {
    const file = await this.file(name);
    if (!file) throw new ImageArchiveError(`${this.label} lacks ${name}`);
    return file;
  }

  async size(name: string): Promise<number | undefined> {
    return (await this.file(name))?.size;
  }

  async read(name: string): Promise<Buffer> {
    const { path, size } = await this.need(name);
    checkWholeRead(this.label, name, size);
    const bytes = await readFile(path).catch((error: Error) => {
      throw new ImageArchiveError(`${this.label}: cannot read ${name}: ${error.message}`);
    });
    this.bytesRead += bytes.length;
    return bytes;
  }

  async *stream(name: string): AsyncIterable<Buffer> {
    const { path } = await this.need(name);
    for await (const chunk of createReadStream(path, { highWaterMark: CHUNK })) {
      this.bytesRead += (chunk as Buffer).length;
      yield chunk as Buffer;
    }
  }

  async digestMany(requests: Array<{ name: string; algorithm: string }>): Promise<string[]> {
    return Promise.all(
      requests.map(async ({ name, algorithm }) => {
        const { path, size } = await this.need(name);
        const digest = await this.pool.digestRange(path, 0, size, algorithm);
        this.bytesRead += size;
        return digest;
      }),
    );
  }

  async close(): Promise<void> {}
}

class TarContainer implements Container {
  readonly kind = 'tar';

  constructor(
    readonly label: string,
    private readonly handle: FileHandle,
    private readonly members: Map<string, TarMember>,
    public bytesRead: number,
    private readonly pool: HashPool,
  ) {}

  private member(name: string): TarMember {
    const member = resolveMember(this.members, name);
    if (!member) throw new ImageArchiveError(`${this.label} lacks ${name}`);
    return member;
  }

  async size(name: string): Promise<number | undefined> {
    return resolveMember(this.members, name)?.size;
  }

  range(name: string): { offset: number; size: number } | undefined {
    const member = resolveMember(this.members, name);
    return member && { offset: member.offset, size: member.size };
  }

  async read(name: string): Promise<Buffer> {
    const member = this.member(name);
    checkWholeRead(this.label, name, member.size);
    const buffer = Buffer.alloc(member.size);
    const { bytesRead } = await this.handle.read(buffer, 0, member.size, member.offset);
    this.bytesRead += bytesRead;
    if (bytesRead !== member.size) throw new ImageArchiveError(`${this.label}: ${name} is truncated`);
    return buffer;
  }

  async *stream(name: string): AsyncIterable<Buffer> {
    const member = this.member(name);
    if (member.size === 0) return;
    const stream = createReadStream(this.label, { start: member.offset, end: member.offset + member.size - 1, highWaterMark: CHUNK });
    let seen = 0;
    for await (const chunk of stream) {
      seen += (chunk as Buffer).length;
      this.bytesRead += (chunk as Buffer).length;
      yield chunk as Buffer;
    }
    if (seen !== member.size) throw new ImageArchiveError(`${this.label}: ${name} is truncated (${seen} of ${member.size} bytes)`);
  }

  async digestMany(requests: Array<{ name: string; algorithm: string }>): Promise<string[]> {
    return Promise.all(
      requests.map(async ({ name, algorithm }) => {
        const member = this.member(name);
        const digest = await this.pool.digestRange(this.label, member.offset, member.size, algorithm).catch((error: Error) => {
          throw new ImageArchiveError(`${this.label}: cannot read ${name}: ${error.message}`);
        });
        this.bytesRead += member.size;
        return digest;
      }),
    );
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

interface SeqMember {
  name: string;
  type: TarEntryType;
  size: number;
  linkname: string;
}

// The first pass keeps the small JSON members (the documents the model reads next), within a budget.
const KEEP_LIMIT = 1 << 20;
const KEEP_TOTAL = 32 << 20;

/** A gzip'ed tar: no random access, so members are found by decompressing from the start. */
class GzipTarContainer implements Container {
  readonly kind = 'gzip-tar';
  bytesRead = 0;
  private readonly members = new Map<string, SeqMember>();
  /** Small members that look like JSON (manifests, configs, indexes), kept from the first pass. */
  private readonly kept = new Map<string, Buffer>();

  constructor(readonly label: string) {}

  /** First pass: lists members and keeps the small JSON ones. */
  async scan(): Promise<void> {
    let keptBytes = 0;
    let entries = 0;
    await this.pass((entry) => {
      if (++entries > LIMITS.archiveMembers) throw tooManyMembers();
      this.members.set(entry.name, entry);
      if (entry.type !== 'file' || entry.size > KEEP_LIMIT || keptBytes + entry.size > KEEP_TOTAL) return undefined;
      const parts: Buffer[] = [];
      return {
        data: (chunk) => parts.push(Buffer.from(chunk)),
        end: () => {
          const body = Buffer.concat(parts);
          const first = body.length > 0 ? body[0] : undefined;
          if (first === 0x7b || first === 0x5b || entry.name === 'oci-layout' || entry.name === 'repositories') {
            this.kept.set(entry.name, body);
            keptBytes += body.length;
          }
        },
      };
    });
  }

  private resolve(name: string): SeqMember | undefined {
    let member = this.members.get(name);
    for (let hops = 0; member && (member.type === 'symlink' || member.type === 'hardlink') && hops < 16; hops++) {
      member = this.members.get(member.type === 'hardlink' ? member.linkname : joinRelative(member.name, member.linkname));
    }
    return member && member.type === 'file' ? member : undefined;
  }

  async size(name: string): Promise<number | undefined> {
    return this.resolve(name)?.size;
  }

  async read(name: string): Promise<Buffer> {
    const member = this.resolve(name);
    if (!member) throw new ImageArchiveError(`${this.label} lacks ${name}`);
    const kept = this.kept.get(member.name);
    if (kept) return kept;
    checkWholeRead(this.label, name, member.size);
    const parts: Buffer[] = [];
    for await (const chunk of this.stream(member.name)) parts.push(chunk);
    return Buffer.concat(parts);
  }

  async *stream(name: string): AsyncIterable<Buffer> {
    const member = this.resolve(name);
    if (!member) throw new ImageArchiveError(`${this.label} lacks ${name}`);
    let pieces: Buffer[] = [];
    let done = false;
    yield* this.passYield(
      (entry) => {
        if (entry.name !== member.name) return undefined;
        return { data: (chunk) => pieces.push(chunk), end: () => void (done = true) };
      },
      () => {
        const out = pieces;
        pieces = [];
        return { out, stop: done };
      },
    );
  }

  async digestMany(requests: Array<{ name: string; algorithm: string }>): Promise<string[]> {
    const wanted = new Map<string, Array<{ i: number; algorithm: string }>>();
    requests.forEach(({ name, algorithm }, i) => {
      const member = this.resolve(name);
      if (!member) throw new ImageArchiveError(`${this.label} lacks ${name}`);
      wanted.set(member.name, [...(wanted.get(member.name) ?? []), { i, algorithm }]);
    });
    const results: string[] = new Array(requests.length);
    if (wanted.size === 0) return results;
    await this.pass((entry) => {
      const asks = wanted.get(entry.name);
      if (!asks || entry.type !== 'file') return undefined;
      const hashes = asks.map((a) => createHash(a.algorithm));
      return {
        data: (chunk) => hashes.forEach((h) => h.update(chunk)),
        end: () => asks.forEach((a, k) => (results[a.i] = `${a.algorithm}:${hashes[k]!.digest('hex')}`)),
      };
    });
    return results;
  }

  async close(): Promise<void> {}

  private async pass(visitor: (entry: SeqMember) => ReturnType<ConstructorParameters<typeof TarParser>[0]>): Promise<void> {
    for await (const _ of this.passYield(visitor, () => ({ out: [], stop: false }))) void _;
  }

  /** One sequential pass; after each decompressed chunk, `drain` hands out what to yield and whether to stop. */
  private async *passYield(
    visitor: (entry: SeqMember) => ReturnType<ConstructorParameters<typeof TarParser>[0]>,
    drain: () => { out: Buffer[]; stop: boolean },
  ): AsyncGenerator<Buffer> {
    const file = createReadStream(this.label, { highWaterMark: CHUNK });
    const gunzip = createGunzip({ chunkSize: CHUNK });
    file.on('data', (chunk) => (this.bytesRead += chunk.length));
    file.on('error', (error) => gunzip.destroy(error));
    file.pipe(gunzip);
    const parser = new TarParser((entry) => visitor({ name: entry.name, type: entry.type, size: entry.size, linkname: entry.linkname }));
    let stopped = false;
    try {
      for await (const chunk of gunzip) {
        parser.push(chunk as Buffer);
        const { out, stop } = drain();
        for (const piece of out) yield piece;
        if (stop) {
          stopped = true;
          break;
        }
        if (parser.ended) break;
      }
      if (!stopped) await parser.finish();
    } catch (error) {
      throw new ImageArchiveError(`${this.label} is not a readable image archive: ${(error as Error).message}`);
    } finally {
      file.unpipe(gunzip);
      file.destroy();
      gunzip.destroy();
    }
  }
}
