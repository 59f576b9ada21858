// A small streaming tar reader (ustar, pax and GNU long names): entry bodies are handed to the
// caller chunk by chunk, so multi-GB archives are read with constant memory. The only bodies it
// collects itself, pax and long-name headers, are capped (LIMITS.tarMetadataBytes).
import { createReadStream } from 'node:fs';
import { ImageArchiveError, LIMITS, mib } from './bounds.js';

export type TarEntryType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo' | 'other';

export interface TarEntry {
  name: string;
  type: TarEntryType;
  size: number;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  linkname: string;
  pax: Record<string, string>;
}

/** Receives one entry's body. Returning undefined from the visitor skips the body. */
export interface EntrySink {
  data(chunk: Buffer): void;
  end(): void | Promise<void>;
}

export type TarVisitor = (entry: TarEntry) => EntrySink | undefined;

export class TarFormatError extends ImageArchiveError {}

const BLOCK = 512;

export class TarParser {
  private header = Buffer.alloc(BLOCK);
  private headerFill = 0;
  private remaining = 0; // body bytes left in the current entry
  private padding = 0; // zero bytes after the body
  private sink: EntrySink | undefined;
  private meta: Buffer[] | undefined; // body of a pax/longname header being collected
  private metaType = '';
  private pendingPax: Record<string, string> = {};
  private globalPax: Record<string, string> = {};
  private longName: string | undefined;
  private longLink: string | undefined;
  private zeroBlocks = 0;
  /** Metadata bytes collected for the next entry, and for the global headers. */
  private pendingMetaBytes = 0;
  private globalMetaBytes = 0;
  private ends: Array<void | Promise<void>> = [];
  ended = false;

  /** `after`: a parser whose global pax headers carry over (tar-index starts one per header it seeks to). */
  constructor(private readonly visitor: TarVisitor, after?: TarParser) {
    if (after) {
      this.globalPax = after.globalPax;
      this.globalMetaBytes = after.globalMetaBytes;
    }
  }

  push(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length && !this.ended) {
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, chunk.length - offset);
        const piece = chunk.subarray(offset, offset + n);
        if (this.meta) this.meta.push(Buffer.from(piece));
        else this.sink?.data(piece);
        this.remaining -= n;
        offset += n;
        if (this.remaining === 0) this.finishBody();
        continue;
      }
      if (this.padding > 0) {
        const n = Math.min(this.padding, chunk.length - offset);
        this.padding -= n;
        offset += n;
        continue;
      }
      const n = Math.min(BLOCK - this.headerFill, chunk.length - offset);
      chunk.copy(this.header, this.headerFill, offset, offset + n);
      this.headerFill += n;
      offset += n;
      if (this.headerFill === BLOCK) {
        this.headerFill = 0;
        this.readHeader();
      }
    }
  }

  /** Waits for the sinks' end() calls; throws if the archive stopped mid-entry. */
  async finish(): Promise<void> {
    if (this.remaining > 0 || this.headerFill > 0 || (this.padding > 0 && !this.ended)) {
      throw new TarFormatError('archive is truncated (it ends inside an entry)');
    }
    await Promise.all(this.ends);
  }

  private finishBody(): void {
    this.padding = (BLOCK - (this.sizeOfLast % BLOCK)) % BLOCK;
    if (this.meta) {
      const body = Buffer.concat(this.meta);
      this.meta = undefined;
      if (this.metaType === 'x') Object.assign(this.pendingPax, parsePax(body));
      else if (this.metaType === 'g') Object.assign(this.globalPax, parsePax(body));
      else if (this.metaType === 'L') this.longName = cString(body);
      else if (this.metaType === 'K') this.longLink = cString(body);
      return;
    }
    if (this.sink) this.ends.push(this.sink.end());
    this.sink = undefined;
  }

  private sizeOfLast = 0;

  private readHeader(): void {
    const h = this.header;
    if (h.every((b) => b === 0)) {
      if (++this.zeroBlocks >= 2) this.ended = true;
      return;
    }
    this.zeroBlocks = 0;
    if (!checksumOk(h)) throw new TarFormatError('bad tar header checksum (corrupt or not a tar archive)');
    const typeflag = String.fromCharCode(h[156] || 0x30);
    const size = readNumber(h, 124, 12);
    this.sizeOfLast = size;
    this.remaining = size;
    if (typeflag === 'x' || typeflag === 'g' || typeflag === 'L' || typeflag === 'K') {
      this.countMetadata(typeflag, size);
      this.meta = [];
      this.metaType = typeflag;
      if (size === 0) this.finishBody();
      return;
    }
    const pax = { ...this.globalPax, ...this.pendingPax };
    this.pendingPax = {};
    this.pendingMetaBytes = 0;
    const prefix = h.subarray(257, 262).toString('latin1') === 'ustar' ? cString(h.subarray(345, 500)) : '';
    let name = this.longName ?? pax.path ?? (prefix ? `${prefix}/${cString(h.subarray(0, 100))}` : cString(h.subarray(0, 100)));
    const linkname = this.longLink ?? pax.linkpath ?? cString(h.subarray(157, 257));
    this.longName = undefined;
    this.longLink = undefined;
    if (name.startsWith('./')) name = name.slice(2);
    const entrySize = pax.size !== undefined ? Number(pax.size) : size;
    if (!Number.isSafeInteger(entrySize) || entrySize < 0) throw new TarFormatError(`${name}: bad size ${JSON.stringify(pax.size)} in its pax header`);
    if (entrySize !== size) {
      this.remaining = entrySize;
      this.sizeOfLast = entrySize;
    }
    const entry: TarEntry = {
      name,
      type: entryType(typeflag),
      size: entrySize,
      mode: readNumber(h, 100, 8),
      uid: pax.uid !== undefined ? Number(pax.uid) : readNumber(h, 108, 8),
      gid: pax.gid !== undefined ? Number(pax.gid) : readNumber(h, 116, 8),
      mtime: pax.mtime !== undefined ? Number(pax.mtime) : readNumber(h, 136, 12),
      linkname,
      pax,
    };
    this.sink = this.visitor(entry);
    if (this.remaining === 0) this.finishBody();
  }

  /** Refuses a pax/long-name body (or a run of them) larger than any real one, before collecting it. */
  private countMetadata(typeflag: string, size: number): void {
    const limit = LIMITS.tarMetadataBytes;
    const what = typeflag === 'x' || typeflag === 'g' ? 'pax' : 'GNU long-name';
    if (typeflag === 'g') this.globalMetaBytes += size;
    else this.pendingMetaBytes += size;
    const total = typeflag === 'g' ? this.globalMetaBytes : this.pendingMetaBytes;
    if (size > limit || total > limit) {
      throw new TarFormatError(`a ${what} header of ${size} bytes${total > size ? ` (${total} with the ones before it)` : ''}: tar metadata is limited to ${mib(limit)}`);
    }
  }
}

/** Reads a tar file (or any byte stream) through the visitor. */
export async function walkTar(source: string | AsyncIterable<Buffer>, visitor: TarVisitor): Promise<void> {
  const parser = new TarParser(visitor);
  const stream = typeof source === 'string' ? createReadStream(source, { highWaterMark: 1 << 20 }) : source;
  for await (const chunk of stream) {
    parser.push(chunk as Buffer);
    if (parser.ended) break;
  }
  await parser.finish();
}

function entryType(flag: string): TarEntryType {
  switch (flag) {
    case '0':
    case '\0':
    case '7':
      return 'file';
    case '5':
      return 'directory';
    case '2':
      return 'symlink';
    case '1':
      return 'hardlink';
    case '3':
      return 'char';
    case '4':
      return 'block';
    case '6':
      return 'fifo';
    default:
      return 'other';
  }
}

function cString(buf: Buffer): string {
  const nul = buf.indexOf(0);
  return buf.subarray(0, nul === -1 ? buf.length : nul).toString('utf8');
}

function readNumber(h: Buffer, offset: number, length: number): number {
  if (h[offset]! & 0x80) {
    // GNU base-256 for values that do not fit in octal.
    let value = 0;
    for (let i = offset + 1; i < offset + length; i++) value = value * 256 + h[i]!;
    return value;
  }
  const text = cString(h.subarray(offset, offset + length)).trim();
  return text === '' ? 0 : parseInt(text, 8);
}

function checksumOk(h: Buffer): boolean {
  const stored = readNumber(h, 148, 8);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
  return sum === stored;
}

function parsePax(body: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 0;
  while (pos < body.length) {
    const space = body.indexOf(0x20, pos);
    if (space === -1) break;
    const len = Number(body.subarray(pos, space).toString('latin1'));
    if (!Number.isFinite(len) || len <= 0) break;
    const record = body.subarray(space + 1, pos + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    pos += len;
  }
  return out;
}
