// Compares two layers' entry streams. The streams are advanced in lockstep while the entry names
// agree; when they do not, entries are matched by name and only the unmatched ones are kept
// (as small summaries). For each matched pair the FIRST differing field is reported; for content,
// what the file's probe found says why (ELF, zip, manifest, gzip, .pyc).
import { compareElf } from './elf.js';
import { compareManifests } from './manifests.js';
import type { DifferenceKind, DiffValue, FileSummary } from './types.js';
import { compareZip } from './zip.js';

export interface FileDifference {
  kind: DifferenceKind;
  field: string;
  a: DiffValue;
  b: DiffValue;
  detail?: string;
  /** A manifest's listed files whose recorded hashes differ (see manifests.ts). */
  listed?: string[];
}

const octal = (mode: number): string => `0${mode.toString(8).padStart(3, '0')}`;

/** The first field that differs between two entries with the same path, or undefined when equal. */
export function firstDifference(a: FileSummary, b: FileSummary): FileDifference | undefined {
  return fileDifferences(a, b)[0];
}

/**
 * The differences of two entries with the same path: the first differing field, except that a
 * zip archive reports each aspect that differs (content, order, compression, timestamps).
 */
export function fileDifferences(a: FileSummary, b: FileSummary): FileDifference[] {
  if (a.type !== b.type) return [{ kind: 'type', field: 'type', a: a.type, b: b.type }];
  if (a.linkname !== b.linkname) return [{ kind: 'link-target', field: 'link target', a: a.linkname, b: b.linkname }];
  if (a.mode !== b.mode) return [{ kind: 'mode', field: 'mode', a: octal(a.mode), b: octal(b.mode) }];
  if (a.uid !== b.uid || a.gid !== b.gid) return [{ kind: 'uid-gid', field: 'uid/gid', a: `${a.uid}:${a.gid}`, b: `${b.uid}:${b.gid}` }];
  if (a.size !== b.size || a.sha256 !== b.sha256) {
    const inside = contentDifferences(a, b);
    if (inside.length > 0) return inside;
    if (a.size !== b.size) return [{ kind: 'size', field: 'size', a: a.size, b: b.size }];
    return [{ kind: 'content', field: 'content sha256', a: a.sha256 ?? null, b: b.sha256 ?? null, ...(a.zip && b.zip ? { detail: 'zip archive: every member is equal; the archive differs elsewhere (extra fields, attributes or comment)' } : {}) }];
  }
  if (a.mtime !== b.mtime) return [{ kind: 'mtime', field: 'mtime', a: a.mtime, b: b.mtime }];
  if ((a.pax ?? '') !== (b.pax ?? '')) return [{ kind: 'pax', field: 'pax records', a: a.pax ?? '', b: b.pax ?? '' }];
  return [];
}

/** Why two files' bytes differ, from what their probes found; [] when nothing says more. */
function contentDifferences(a: FileSummary, b: FileSummary): FileDifference[] {
  if (a.pyc && b.pyc && a.size === b.size) {
    if (a.pyc.maskedSha256 === b.pyc.maskedSha256) return [{ kind: 'pyc-timestamp', field: 'content (.pyc header mtime)', a: a.pyc.mtime, b: b.pyc.mtime }];
    return [{ kind: 'pyc-content', field: 'content sha256 (.pyc)', a: a.sha256 ?? null, b: b.sha256 ?? null }];
  }
  if (a.elf && b.elf) return [compareElf(a.elf, b.elf)];
  if (a.zip && b.zip) return compareZip(a.zip, b.zip);
  if (a.manifest && b.manifest && a.manifest.format === b.manifest.format) return [compareManifests(a.manifest, b.manifest, a.sha256 ?? null, b.sha256 ?? null)];
  if (a.gz && b.gz && a.gz.maskedSha256 === b.gz.maskedSha256) {
    const header = (g: NonNullable<FileSummary['gz']>): string => `mtime ${g.mtime}${g.name ? `, name "${g.name}"` : ''}, OS ${g.os}`;
    return [{ kind: 'gzip-header', field: 'gzip header', a: header(a.gz), b: header(b.gz), detail: 'the compressed data is equal; only the gzip header differs' }];
  }
  return [];
}

/** A bounded queue between a layer walker (producer) and the comparison (consumer). */
export class SummaryQueue {
  private readonly items: FileSummary[] = [];
  private head = 0;
  private closed = false;
  private error: Error | undefined;
  private wakeConsumer: (() => void) | undefined;
  private wakeProducer: (() => void) | undefined;

  constructor(private readonly capacity = 4096) {}

  push(item: FileSummary): Promise<void> | undefined {
    if (this.closed) return Promise.reject(this.error ?? new Error('the entry queue is closed'));
    this.items.push(item);
    this.wakeConsumer?.();
    if (this.items.length - this.head < this.capacity) return undefined;
    return new Promise((resolve) => (this.wakeProducer = resolve));
  }

  close(error?: Error): void {
    this.closed = true;
    this.error ??= error;
    this.wakeConsumer?.();
    this.wakeProducer?.();
  }

  async next(): Promise<FileSummary | undefined> {
    while (this.head >= this.items.length) {
      if (this.error) throw this.error;
      if (this.closed) return undefined;
      await new Promise<void>((resolve) => (this.wakeConsumer = resolve));
      this.wakeConsumer = undefined;
    }
    if (this.error) throw this.error;
    const item = this.items[this.head]!;
    this.items[this.head++] = undefined as unknown as FileSummary;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items.splice(0, this.head);
      this.head = 0;
    }
    if (this.wakeProducer && this.items.length - this.head < this.capacity / 2) {
      const wake = this.wakeProducer;
      this.wakeProducer = undefined;
      wake();
    }
    return item;
  }
}

export interface EntrySource {
  next(): Promise<FileSummary | undefined>;
}

export interface LayerFileResult {
  compared: number;
  differing: number;
  onlyInA: number;
  onlyInB: number;
  /** The first pair found out of order (positions in each tar), when the order differs. */
  orderDiffers?: { path: string; positionA: number; positionB: number };
}

export type FileDifferenceSink = (path: string, difference: FileDifference) => void;

/**
 * Advances both streams together. Memory: the entries seen on one side whose partner has not
 * been seen yet (none while the order agrees).
 */
export async function compareEntryStreams(a: EntrySource, b: EntrySource, report: FileDifferenceSink): Promise<LayerFileResult> {
  const pendingA = new Map<string, { s: FileSummary; seq: number }>();
  const pendingB = new Map<string, { s: FileSummary; seq: number }>();
  const result: LayerFileResult = { compared: 0, differing: 0, onlyInA: 0, onlyInB: 0 };
  let seqA = 0;
  let seqB = 0;
  let maxA = -1;
  let maxB = -1;

  const match = (sa: FileSummary, ia: number, sb: FileSummary, ib: number): void => {
    // Matched pairs must rise on both sides for the two orders to agree.
    if (!result.orderDiffers && (ia <= maxA || ib <= maxB)) result.orderDiffers = { path: sa.path, positionA: ia, positionB: ib };
    maxA = Math.max(maxA, ia);
    maxB = Math.max(maxB, ib);
    result.compared++;
    const found = fileDifferences(sa, sb);
    if (found.length > 0) {
      result.differing++;
      for (const d of found) report(sa.path, d);
    }
  };

  let ea = await a.next();
  let eb = await b.next();
  while (ea || eb) {
    if (ea && eb && ea.path === eb.path && pendingA.size === 0 && pendingB.size === 0) {
      match(ea, seqA++, eb, seqB++);
    } else {
      if (ea) {
        const other = pendingB.get(ea.path);
        if (other) {
          pendingB.delete(ea.path);
          match(ea, seqA, other.s, other.seq);
        } else pendingA.set(ea.path, { s: ea, seq: seqA });
        seqA++;
      }
      if (eb) {
        const other = pendingA.get(eb.path);
        if (other) {
          pendingA.delete(eb.path);
          match(other.s, other.seq, eb, seqB);
        } else pendingB.set(eb.path, { s: eb, seq: seqB });
        seqB++;
      }
    }
    [ea, eb] = await Promise.all([ea ? a.next() : undefined, eb ? b.next() : undefined]);
  }
  const leftovers = (pending: Map<string, { s: FileSummary; seq: number }>, kind: 'only-in-a' | 'only-in-b'): void => {
    const sorted = [...pending.values()].sort((x, y) => x.seq - y.seq);
    for (const { s } of sorted) {
      result.differing++;
      if (kind === 'only-in-a') result.onlyInA++;
      else result.onlyInB++;
      report(s.path, { kind, field: 'path', a: kind === 'only-in-a' ? s.type : null, b: kind === 'only-in-b' ? s.type : null });
    }
  };
  leftovers(pendingA, 'only-in-a');
  leftovers(pendingB, 'only-in-b');
  return result;
}

/** An EntrySource over an in-memory list (descriptions). */
export function listSource(list: Iterable<FileSummary>): EntrySource {
  const iterator = list[Symbol.iterator]();
  return {
    next: async () => {
      const n = iterator.next();
      return n.done ? undefined : n.value;
    },
  };
}

/**
 * Compares two flattened filesystems path by path (sorted), the way two layer streams are
 * compared: the first differing field per path, entries on one side only.
 */
export function compareFilesystems(a: Map<string, FileSummary>, b: Map<string, FileSummary>, report: FileDifferenceSink): LayerFileResult {
  const result: LayerFileResult = { compared: 0, differing: 0, onlyInA: 0, onlyInB: 0 };
  const paths = [...new Set([...a.keys(), ...b.keys()])].sort();
  for (const path of paths) {
    const x = a.get(path);
    const y = b.get(path);
    if (x && y) {
      result.compared++;
      const found = fileDifferences(x, y);
      if (found.length > 0) result.differing++;
      for (const d of found) report(path, d);
    } else {
      result.differing++;
      if (x) result.onlyInA++;
      else result.onlyInB++;
      const s = (x ?? y)!;
      report(path, { kind: x ? 'only-in-a' : 'only-in-b', field: 'path', a: x ? s.type : null, b: y ? s.type : null });
    }
  }
  return result;
}
