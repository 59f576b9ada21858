// Manifests that hash other files — a wheel's installed `*.dist-info/RECORD`, dpkg's
// `var/lib/dpkg/info/*.md5sums` — differ whenever a file they list differs. Their lines are kept
// (path → recorded hash) so that the report can call such a manifest a consequence of the files
// it lists, and point at them, instead of one more cause.
import { posix } from 'node:path';
import type { FileDifference } from './file-compare.js';
import type { ManifestSummary } from './types.js';

/** Larger manifests are compared as plain files. */
export const MANIFEST_LIMIT = 8 << 20;
const MAX_LISTED = 1000;

export function manifestFormat(path: string): ManifestSummary['format'] | undefined {
  if (/\.dist-info\/RECORD$/.test(path)) return 'record';
  if (/(^|\/)var\/lib\/dpkg\/info\/[^/]+\.md5sums$/.test(path)) return 'md5sums';
  return undefined;
}

export class ManifestProbe {
  private readonly chunks: Buffer[] = [];
  private length = 0;

  constructor(
    private readonly path: string,
    private readonly format: ManifestSummary['format'],
  ) {}

  data(chunk: Buffer): void {
    this.length += chunk.length;
    if (this.length <= MANIFEST_LIMIT) this.chunks.push(Buffer.from(chunk));
  }

  finish(): ManifestSummary | undefined {
    if (this.length > MANIFEST_LIMIT) return undefined;
    return parseManifest(this.path, this.format, Buffer.concat(this.chunks).toString('utf8'));
  }
}

/** RECORD paths are relative to the directory holding the .dist-info; md5sums paths to the root. */
export function parseManifest(path: string, format: ManifestSummary['format'], text: string): ManifestSummary {
  const root = format === 'record' ? posix.dirname(posix.dirname(path)) : '';
  const entries: Array<[string, string]> = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let listed: string;
    let hash: string;
    if (format === 'record') {
      const fields = csvFields(line.replace(/\r$/, ''));
      listed = fields[0] ?? '';
      hash = fields[1] ?? '';
    } else {
      const m = /^([0-9a-f]+)\s+\*?(.+)$/.exec(line);
      if (!m) continue;
      hash = m[1]!;
      listed = m[2]!;
    }
    entries.push([posix.normalize(posix.join(root, listed)).replace(/^(\.\/|\/)+/, ''), hash]);
  }
  return { format, entries };
}

/** A CSV line's fields (RECORD quotes paths that hold commas). */
function csvFields(line: string): string[] {
  const fields: string[] = [];
  let at = 0;
  while (at <= line.length) {
    if (line[at] === '"') {
      let value = '';
      let i = at + 1;
      for (; i < line.length; i++) {
        if (line[i] === '"' && line[i + 1] === '"') {
          value += '"';
          i++;
        } else if (line[i] === '"') break;
        else value += line[i];
      }
      fields.push(value);
      at = line.indexOf(',', i) === -1 ? line.length + 1 : line.indexOf(',', i) + 1;
    } else {
      const comma = line.indexOf(',', at);
      fields.push(line.slice(at, comma === -1 ? line.length : comma));
      at = comma === -1 ? line.length + 1 : comma + 1;
    }
  }
  return fields;
}

/**
 * The image paths whose recorded hash differs (or that one side lists only), for the collector to
 * check against the files that differ; the difference stays "content" until then.
 */
export function compareManifests(a: ManifestSummary, b: ManifestSummary, shaA: string | null, shaB: string | null): FileDifference {
  const inA = new Map(a.entries);
  const inB = new Map(b.entries);
  const listed: string[] = [];
  for (const [path, hash] of a.entries) if (inB.get(path) !== hash && listed.length < MAX_LISTED) listed.push(path);
  for (const [path] of b.entries) if (!inA.has(path) && listed.length < MAX_LISTED) listed.push(path);
  const name = a.format === 'record' ? 'RECORD' : 'md5sums';
  return {
    kind: 'content',
    field: 'content sha256',
    a: shaA,
    b: shaB,
    detail: `${name}: ${listed.length} listed file${listed.length === 1 ? '' : 's'} with another recorded hash`,
    listed,
  };
}
