// Per-file probes run while a layer streams past: the file's first bytes (and name) pick at most
// one probe — ELF, .pyc, zip, gzip, or a hash manifest — which reads only what its cause needs
// and adds its findings to the file's summary. Memory per file is bounded by each probe.
import { createHash, type Hash } from 'node:crypto';
import { ElfProbe } from './elf.js';
import { manifestFormat, ManifestProbe } from './manifests.js';
import type { FileSummary, GzipSummary } from './types.js';
import { ZipProbe } from './zip.js';

interface Probe {
  data(chunk: Buffer): void;
  finish(summary: FileSummary): void;
}

const MAGIC = 4;

/** Buffers the first bytes, then hands everything to the probe they select (if any). */
export class FileProbe {
  private head: Buffer[] = [];
  private headLength = 0;
  private probe: Probe | undefined;
  private decided = false;

  constructor(
    private readonly path: string,
    private readonly size: number,
  ) {}

  data(chunk: Buffer): void {
    if (this.decided) {
      this.probe?.data(chunk);
      return;
    }
    if (this.head.length === 0 && chunk.length >= MAGIC) {
      this.decide(chunk.subarray(0, MAGIC));
      this.probe?.data(chunk);
      return;
    }
    this.head.push(Buffer.from(chunk));
    this.headLength += chunk.length;
    if (this.headLength >= MAGIC) this.flush();
  }

  finish(summary: FileSummary): void {
    if (!this.decided) this.flush();
    this.probe?.finish(summary);
  }

  /** Decides on the bytes buffered so far and hands them over. */
  private flush(): void {
    const head = Buffer.concat(this.head);
    this.head = [];
    this.decide(head.subarray(0, MAGIC));
    if (head.length > 0) this.probe?.data(head);
  }

  private decide(magic: Buffer): void {
    this.decided = true;
    const format = manifestFormat(this.path);
    if (format) {
      const probe = new ManifestProbe(this.path, format);
      this.probe = { data: (c) => probe.data(c), finish: (s) => void (s.manifest = probe.finish()) };
    } else if (magic.length >= 4 && magic.readUInt32BE(0) === 0x7f454c46) {
      const probe = new ElfProbe(this.size);
      this.probe = { data: (c) => probe.data(c), finish: (s) => void (s.elf = probe.finish()) };
    } else if (this.path.endsWith('.pyc')) {
      this.probe = new PycProbe();
    } else if (magic.length >= 4 && magic[0] === 0x50 && magic[1] === 0x4b && ((magic[2] === 3 && magic[3] === 4) || (magic[2] === 5 && magic[3] === 6))) {
      const probe = new ZipProbe();
      this.probe = { data: (c) => probe.data(c), finish: (s) => void (s.zip = probe.finish()) };
    } else if (magic.length >= 3 && magic[0] === 0x1f && magic[1] === 0x8b && magic[2] === 8) {
      this.probe = new GzipProbe();
    }
  }
}

/** Cleans up optional fields a probe left undefined (descriptions carry no undefined keys). */
export function tidy(summary: FileSummary): void {
  for (const key of ['elf', 'zip', 'manifest', 'gz', 'pyc'] as const) if (summary[key] === undefined) delete summary[key];
}

/**
 * A header whose varying fields are the cause (a .pyc's source mtime, a gzip member's mtime and
 * name): buffered until `parse` can read it (at most `limit` bytes), then everything but those
 * fields is hashed, so equal masked digests mean "only the header differs".
 */
abstract class HeaderProbe<H> implements Probe {
  private head: Buffer | undefined = Buffer.alloc(0);
  private masked: Hash | undefined;
  private header: H | undefined;

  constructor(private readonly limit: number) {}

  /** The header and the bytes that stand for the file without its varying fields; 'more' while incomplete; 'none' when it is not such a header. */
  protected abstract parse(bytes: Buffer): { header: H; kept: Buffer[] } | 'more' | 'none';
  protected abstract record(summary: FileSummary, header: H, maskedSha256: string): void;

  data(chunk: Buffer): void {
    if (!this.head) {
      this.masked?.update(chunk);
      return;
    }
    this.head = Buffer.concat([this.head, chunk]);
    const parsed = this.parse(this.head);
    if (parsed === 'more' && this.head.length < this.limit) return;
    this.head = undefined;
    if (parsed === 'more' || parsed === 'none') return;
    this.header = parsed.header;
    this.masked = createHash('sha256');
    for (const bytes of parsed.kept) this.masked.update(bytes);
  }

  finish(summary: FileSummary): void {
    if (this.header !== undefined && this.masked) this.record(summary, this.header, this.masked.digest('hex'));
  }
}

/** PEP 552 header: magic, flags (0 = timestamp-based), source mtime (8..12), source size. */
class PycProbe extends HeaderProbe<number> {
  constructor() {
    super(16);
  }

  protected parse(bytes: Buffer): { header: number; kept: Buffer[] } | 'more' | 'none' {
    if (bytes.length < 16) return 'more';
    if (bytes.readUInt32LE(4) !== 0) return 'none';
    return { header: bytes.readUInt32LE(8), kept: [bytes.subarray(0, 8), bytes.subarray(12)] };
  }

  protected record(summary: FileSummary, mtime: number, maskedSha256: string): void {
    summary.pyc = { mtime, maskedSha256 };
  }
}

const GZIP_HEADER_LIMIT = 4096;

/** A gzip member's header (mtime, name, OS) and the digest of everything after it. */
class GzipProbe extends HeaderProbe<Omit<GzipSummary, 'maskedSha256'>> {
  constructor() {
    super(GZIP_HEADER_LIMIT);
  }

  protected parse(bytes: Buffer): { header: Omit<GzipSummary, 'maskedSha256'>; kept: Buffer[] } | 'more' {
    const parsed = parseGzipHeader(bytes);
    return parsed === 'more' ? 'more' : { header: parsed.header, kept: [bytes.subarray(parsed.end)] };
  }

  protected record(summary: FileSummary, header: Omit<GzipSummary, 'maskedSha256'>, maskedSha256: string): void {
    summary.gz = { ...header, maskedSha256 };
  }
}

function parseGzipHeader(b: Buffer): { header: Omit<GzipSummary, 'maskedSha256'>; end: number } | 'more' {
  if (b.length < 10) return 'more';
  const flags = b[3]!;
  let at = 10;
  if (flags & 4) {
    if (b.length < at + 2) return 'more';
    at += 2 + b.readUInt16LE(at);
  }
  let name = '';
  if (flags & 8) {
    const end = b.indexOf(0, at);
    if (end === -1) return 'more';
    name = b.toString('latin1', at, end);
    at = end + 1;
  }
  if (flags & 16) {
    const end = b.indexOf(0, at);
    if (end === -1) return 'more';
    at = end + 1;
  }
  if (flags & 2) at += 2;
  if (b.length < at) return 'more';
  return { header: { mtime: b.readUInt32LE(4), name, os: b[9]! }, end: at };
}
