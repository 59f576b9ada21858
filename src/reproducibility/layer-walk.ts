// Walks one layer blob entry by entry, streaming: decompresses (gzip or zstd, sniffed from the
// bytes), checks the uncompressed stream against the diff_id, and turns each tar entry into a
// FileSummary (content sha256, and what the file's probe finds: see probes.ts).
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import * as zlib from 'node:zlib';
import { ImageArchiveError } from '../oci/bounds.js';
import { TarParser, type EntrySink, type TarEntry, type TarVisitor } from '../oci/tar.js';
import { algorithmOf } from '../oci/image.js';
import { FileProbe, tidy } from './probes.js';
import type { FileSummary } from './types.js';

export interface WalkOptions {
  label: string;
  /** The config's diff_id for the layer: the uncompressed stream must hash to it. */
  diffId: string;
  /** The blob digest; when the layer is stored uncompressed it must equal the diff_id. */
  digest: string;
  detectArtifacts: boolean;
}

export interface WalkResult {
  /** Uncompressed bytes walked. */
  bytes: number;
  entries: number;
  compression: 'gzip' | 'zstd' | 'none';
}

type Emit = (summary: FileSummary) => void | Promise<void>;

const PAX_COMPARED = new Set(['path', 'linkpath', 'size', 'uid', 'gid', 'mtime']);

function sniff(first: Buffer | undefined): WalkResult['compression'] {
  if (first && first.length >= 2 && first[0] === 0x1f && first[1] === 0x8b) return 'gzip';
  if (first && first.length >= 4 && first.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  return 'none';
}

function decompressor(kind: 'gzip' | 'zstd'): zlib.Gunzip | zlib.ZstdDecompress {
  if (kind === 'gzip') return zlib.createGunzip({ chunkSize: 1 << 20 });
  if (typeof zlib.createZstdDecompress !== 'function') throw new ImageArchiveError('zstd layers need Node 22.15 or later');
  return zlib.createZstdDecompress({ chunkSize: 1 << 20 });
}

/**
 * Streams `raw` (the compressed blob, already digest-checked by its producer) through the
 * decompressor and the tar parser, calling `emit` for each entry in archive order. `emit` may
 * return a promise to slow the walk down (backpressure).
 */
export async function walkLayer(raw: AsyncIterable<Buffer>, options: WalkOptions, emit: Emit): Promise<WalkResult> {
  const ready: FileSummary[] = [];
  const flush = async (): Promise<void> => {
    for (const s of ready.splice(0)) {
      const wait = emit(s);
      if (wait) await wait;
    }
  };
  const result = await walkLayerEntries(raw, options, (entry) => summarize(entry, options.detectArtifacts, (s) => ready.push(s)), flush);
  await flush();
  return result;
}

/**
 * The layer's tar entries through `visitor` (its bodies streamed to the sinks it returns), the
 * uncompressed stream checked against the diff_id. `afterChunk` runs between chunks (backpressure).
 */
export async function walkLayerEntries(raw: AsyncIterable<Buffer>, options: Omit<WalkOptions, 'detectArtifacts'>, visitor: TarVisitor, afterChunk?: () => Promise<void>): Promise<WalkResult> {
  const iterator = raw[Symbol.asyncIterator]();
  const first = await iterator.next();
  const compression = sniff(first.done ? undefined : first.value);
  if (compression === 'none' && options.digest !== options.diffId) {
    throw new ImageArchiveError(`${options.label}: layer ${options.digest} is stored uncompressed but its diff_id is ${options.diffId}`);
  }
  const rest = async function* (): AsyncGenerator<Buffer> {
    if (!first.done) yield first.value;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value;
    }
  };

  let tarChunks: AsyncIterable<Buffer>;
  let feeding: Promise<void> = Promise.resolve();
  let decoder: zlib.Gunzip | zlib.ZstdDecompress | undefined;
  const abort = new AbortController();
  if (compression === 'none') {
    tarChunks = rest();
  } else {
    const d = decompressor(compression);
    decoder = d;
    feeding = (async () => {
      try {
        for await (const chunk of rest()) {
          if (!d.write(chunk)) await once(d, 'drain', { signal: abort.signal });
        }
        d.end();
      } catch (error) {
        d.destroy(error as Error);
      }
    })();
    tarChunks = d as AsyncIterable<Buffer>;
  }

  // The diff_id needs its own hash only when the blob is compressed (otherwise the blob check covers it).
  const diffHash = compression === 'none' ? undefined : createHash(algorithmOf(options.diffId));
  let entries = 0;
  const parser = new TarParser((entry) => {
    entries++;
    return visitor(entry);
  });
  let bytes = 0;
  try {
    for await (const chunk of tarChunks) {
      bytes += chunk.length;
      diffHash?.update(chunk);
      if (parser.ended) continue; // trailing zeros after the end blocks still count for the diff_id
      parser.push(chunk);
      if (afterChunk) await afterChunk();
    }
    await feeding;
    await parser.finish();
  } catch (error) {
    abort.abort();
    decoder?.destroy();
    await feeding;
    await iterator.return?.();
    if (error instanceof ImageArchiveError) throw error;
    throw new ImageArchiveError(`${options.label}: layer ${options.digest} cannot be read: ${(error as Error).message}`);
  }
  if (diffHash) {
    const actual = `${algorithmOf(options.diffId)}:${diffHash.digest('hex')}`;
    if (actual !== options.diffId) {
      throw new ImageArchiveError(`${options.label}: layer ${options.digest} uncompresses to ${actual}, the config's diff_id is ${options.diffId}`);
    }
  }
  return { bytes, entries, compression };
}

function paxExtras(pax: Record<string, string>): string | undefined {
  const keys = Object.keys(pax).filter((k) => !PAX_COMPARED.has(k)).sort();
  if (keys.length === 0) return undefined;
  return keys.map((k) => `${k}=${pax[k]}`).join('\n');
}

function summarize(entry: TarEntry, detect: boolean, done: (s: FileSummary) => void): EntrySink | undefined {
  const summary: FileSummary = {
    // "bin/" and "bin" are the same directory whichever tool wrote the layer.
    path: entry.name.replace(/\/+$/, '') || '.',
    type: entry.type,
    mode: entry.mode & 0o7777,
    uid: entry.uid,
    gid: entry.gid,
    size: entry.type === 'file' ? entry.size : 0,
    mtime: entry.mtime,
    linkname: entry.type === 'symlink' || entry.type === 'hardlink' ? entry.linkname : '',
  };
  const pax = paxExtras(entry.pax);
  if (pax !== undefined) summary.pax = pax;
  if (entry.type !== 'file') {
    // Bodies of non-files (rare: a hardlink with data) are skipped.
    done(summary);
    return undefined;
  }
  const hash = createHash('sha256');
  const probe = detect ? new FileProbe(summary.path, entry.size) : undefined;
  return {
    data(chunk) {
      hash.update(chunk);
      probe?.data(chunk);
    },
    end() {
      summary.sha256 = hash.digest('hex');
      probe?.finish(summary);
      tidy(summary);
      done(summary);
    },
  };
}

export { findBuildId } from './elf.js';
