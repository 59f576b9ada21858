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

/** PEP 552 header: magic, flags (0 = timestamp-based), source mtime (8..12), source size. */
class PycProbe implements Probe {
  private head: Buffer[] | undefined = [];
  private length = 0;
  private masked: Hash | undefined;
  private mtime = 0;

  data(chunk: Buffer): void {
    if (!this.head) {
      this.masked?.update(chunk);
      return;
    }
    this.head.push(Buffer.from(chunk));
    this.length += chunk.length;
    if (this.length >= 16) this.close();
  }

  private close(): void {
    const bytes = Buffer.concat(this.head!);
    this.head = undefined;
    if (bytes.length < 16 || bytes.readUInt32LE(4) !== 0) return;
    this.mtime = bytes.readUInt32LE(8);
    this.masked = createHash('sha256').update(bytes.subarray(0, 8)).update(bytes.subarray(12));
  }

  finish(summary: FileSummary): void {
    if (this.head) this.close();
    if (this.masked) summary.pyc = { mtime: this.mtime, maskedSha256: this.masked.digest('hex') };
  }
}

const GZIP_HEADER_LIMIT = 4096;

/** A gzip member's header (mtime, name, OS) and the digest of everything after it. */
class GzipProbe implements Probe {
  private head: Buffer[] | undefined = [];
  private length = 0;
  private masked: Hash | undefined;
  private header: Omit<GzipSummary, 'maskedSha256'> | undefined;

  data(chunk: Buffer): void {
    if (!this.head) {
      this.masked?.update(chunk);
      return;
    }
    this.head.push(Buffer.from(chunk));
    this.length += chunk.length;
    const bytes = Buffer.concat(this.head);
    this.head = [bytes];
    const parsed = parseGzipHeader(bytes);
    if (parsed === 'more' && this.length < GZIP_HEADER_LIMIT) return;
    this.head = undefined;
    if (parsed === 'more') return;
    this.header = parsed.header;
    this.masked = createHash('sha256').update(bytes.subarray(parsed.end));
  }

  finish(summary: FileSummary): void {
    if (this.header && this.masked) summary.gz = { ...this.header, maskedSha256: this.masked.digest('hex') };
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
