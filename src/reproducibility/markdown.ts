// The job-summary rendering of a comparison report: verdict and what to fix first, then every
// cause (rarest first) with its count and examples, the digest ladder, the differences grouped by
// cause in the same order, and the reading speed. Always under GitHub's 1 MiB step-summary limit,
// however many files differ.
import type { ComparisonReport, Difference, DifferenceKind, DiffValue, FixLine, LayerRung } from './types.js';
import { codeSpan } from '../tool/markdown.js';

export interface MarkdownOptions {
  /** Differences listed per cause (default 10). */
  maxRows?: number;
  /** Hard cap on the output, in UTF-8 bytes (default 1000 KiB: under GitHub's 1 MiB). */
  maxBytes?: number;
  /** Layer rows per platform in the ladder (default 128). */
  maxLayers?: number;
  title?: string;
}

export const SHORT: Record<DifferenceKind, string> = {
  platforms: 'platform sets differ',
  attestation: 'provenance/SBOM attestation',
  'index-field': 'index field',
  'manifest-field': 'manifest field',
  'manifest-encoding': 'same JSON, other serialisation',
  'layer-count': 'layer count',
  compression: 'compression only',
  'layer-encoding': 'layer encoding (tar vs gzip)',
  'config-created': 'build time in config.created',
  'history-created': 'build time in history',
  'config-field': 'config field (build args, labels, env)',
  'file-order': 'file order in the layer tar',
  'tar-metadata': 'tar header data',
  'only-in-a': 'only in A',
  'only-in-b': 'only in B',
  type: 'entry type',
  'link-target': 'link target',
  mode: 'permissions',
  'uid-gid': 'owner uid/gid',
  size: 'non-deterministic content (size)',
  content: 'non-deterministic content',
  'pyc-timestamp': '.pyc source timestamp',
  'pyc-content': '.pyc marshal differences',
  'elf-build-id': 'ELF build ID',
  'elf-build-time': 'ELF build time (__DATE__/__TIME__)',
  'elf-sections': 'ELF sections',
  'zip-timestamps': 'zip member timestamps',
  'zip-order': 'zip member order',
  'zip-compression': 'zip member compression',
  'zip-content': 'zip member content',
  'gzip-header': 'gzip header (mtime/name)',
  'manifest-consequence': 'manifest hashing changed files (consequence)',
  layering: 'same filesystem, different layers',
  mtime: 'mtime (build time)',
  pax: 'pax records (atime/ctime/xattrs)',
};

const CELL = 120;

function clip(text: string, max = CELL): string {
  // eslint-disable-next-line no-control-regex
  const flat = text.replace(/[\u0000-\u001f\u007f]/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** Text for a table cell: no pipes, no newlines, no HTML. */
function cell(text: string, max = CELL): string {
  return clip(text, max).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\|/g, '\\|');
}

/** A code span for a table cell (its backticks kept: the span is opened with more). */
function code(text: string, max = CELL): string {
  return codeSpan(clip(text, max), true);
}

function shortDigest(digest: string | undefined): string {
  if (!digest) return '—';
  const colon = digest.indexOf(':');
  return code(colon === -1 ? digest : `${digest.slice(0, colon + 13)}…`);
}

function value(v: DiffValue, field: string): string {
  if (v === null) return '—';
  if (typeof v === 'number' && (field === 'mtime' || field.includes('mtime'))) {
    const date = new Date(v * 1000);
    return Number.isFinite(date.getTime()) ? `${code(String(v))} (${date.toISOString().replace('.000Z', 'Z')})` : code(String(v));
  }
  const text = String(v);
  if (/^[0-9a-f]{64}$/.test(text)) return code(`${text.slice(0, 16)}…`);
  if (/^sha(256|512):[0-9a-f]+$/.test(text)) return shortDigest(text);
  return code(text, 80);
}

function bytes(n: number): string {
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(2)} GiB`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KiB`;
  return `${n} B`;
}

function layerLabel(r: LayerRung): string {
  switch (r.status) {
    case 'equal':
      return '✅ equal';
    case 'compression-only':
      return '⚠️ compression only (same diff_id)';
    case 'differs': {
      const files = r.filesDiffering !== undefined ? `: ${entryCounts(r.filesCompared ?? 0, r.filesDiffering, r.filesOnlyInA ?? 0, r.filesOnlyInB ?? 0)}` : ' (layer counts differ: see the flattened filesystems)';
      return `❌ differs${files}${r.fileOrderDiffers ? ', file order differs' : ''}`;
    }
    case 'only-in-a':
      return '❌ only in A';
    case 'only-in-b':
      return '❌ only in B';
  }
}

/** "2 of 10 entries present on both sides differ, 1 only in A" — never "4 of 2". */
export function entryCounts(compared: number, differing: number, onlyA: number, onlyB: number, noun = 'entries'): string {
  const changed = differing - onlyA - onlyB;
  const parts = [`${changed} of ${compared} ${noun} present on both sides differ`];
  if (onlyA > 0) parts.push(`${onlyA} only in A`);
  if (onlyB > 0) parts.push(`${onlyB} only in B`);
  return parts.join(', ');
}

/** The sentence about entries: per layer pair, or about the flattened filesystems when layer counts differ. */
export function entriesSentence(report: ComparisonReport): string {
  const c = report.counts;
  const flattened = report.ladder.platforms.filter((p) => p.filesystem);
  const sentences: string[] = [];
  for (const p of flattened) {
    const f = p.filesystem!;
    const name = report.ladder.platforms.length > 1 ? `${p.platform}: ` : '';
    const layers = `layer counts differ (A ${p.layers.filter((l) => l.a).length}, B ${p.layers.filter((l) => l.b).length})`;
    sentences.push(
      f.differing === 0
        ? `${name}${layers}, but the flattened filesystems are equal: same filesystem, different layers`
        : `${name}${layers}; flattened filesystems compared: ${entryCounts(f.compared, f.differing, f.onlyInA, f.onlyInB, 'paths')}`,
    );
  }
  const walked = report.ladder.platforms.flatMap((p) => p.layers).filter((l) => l.filesCompared !== undefined);
  if (walked.length > 0) {
    const sum = (f: (l: LayerRung) => number | undefined): number => walked.reduce((n, l) => n + (f(l) ?? 0), 0);
    sentences.push(`${entryCounts(sum((l) => l.filesCompared), sum((l) => l.filesDiffering), sum((l) => l.filesOnlyInA), sum((l) => l.filesOnlyInB), 'layer entries')}`);
  } else if (flattened.length === 0 && c.filesCompared > 0) {
    sentences.push(entryCounts(c.filesCompared, c.filesDiffering, c.filesOnlyInA, c.filesOnlyInB, 'layer entries'));
  }
  return sentences.join('; ');
}

function differenceRow(d: Difference): string {
  const where = d.where === 'file' || d.where === 'layer' ? `${d.where}${d.layer ? ` (layer ${d.layer.index})` : ''}` : d.where;
  const subject = d.path !== undefined ? code(d.path, 100) + (d.where === 'file' ? ` ${cell(d.field)}` : '') : code(d.field, 100);
  return `| ${where} | ${subject} | ${value(d.a, d.field)} | ${value(d.b, d.field)} | ${d.detail ? cell(d.detail, 300) : cell(SHORT[d.kind])} |`;
}

function fixLine(line: FixLine, i: number): string {
  const kinds = line.kinds.map((k) => SHORT[k]).join(', ');
  const examples = line.examples.length > 0 ? `, e.g. ${line.examples.map((e) => code(e, 80)).join(', ')}` : '';
  return `${i + 1}. **${cell(line.fixLabel, 200)}**: removes ${line.count} difference${line.count === 1 ? '' : 's'} (${cell(kinds, 200)}${examples})`;
}

export function renderMarkdown(report: ComparisonReport, options: MarkdownOptions = {}): string {
  const maxRows = options.maxRows ?? 10;
  const maxBytes = options.maxBytes ?? 1000 * 1024;
  const maxLayers = options.maxLayers ?? 128;
  const lines: string[] = [];
  const title = options.title ?? 'Reproducibility';
  const { counts } = report;

  if (report.reproducible) {
    lines.push(`## ${cell(title)}: ✅ reproducible`, '', `Both images have digest ${code(report.digestA)}; every blob was read and checked against its digest.`);
  } else {
    lines.push(`## ${cell(title)}: ❌ not reproducible`, '');
    const { most, rarest } = report.fixFirst;
    if (most.length > 0) {
      lines.push('### What to fix first', '', 'Removing the most differences:', '');
      most.forEach((l, i) => lines.push(fixLine(l, i)));
      if (rarest.length > 0) {
        lines.push('', 'Removing the rarest causes (each a separate problem, easy to miss among the bulk):', '');
        rarest.forEach((l, i) => lines.push(fixLine(l, i)));
      }
      lines.push('');
    }
    const built = (side: ComparisonReport['a']): string => (side.engine ? `, built by ${cell(side.engine, 200)}` : '');
    lines.push(`- A: ${code(report.digestA)} (${cell(report.a.kind)}, ${code(report.a.input, 100)}${built(report.a)})`);
    lines.push(`- B: ${code(report.digestB)} (${cell(report.b.kind)}, ${code(report.b.input, 100)}${built(report.b)})`);
    const where = Object.entries(counts.byWhere).map(([w, n]) => `${n} ${w}`).join(', ');
    const entries = entriesSentence(report);
    lines.push(`- ${counts.total} difference${counts.total === 1 ? '' : 's'} (${where})${entries ? `; ${cell(entries, 600)}` : ''}.`);
    if (report.contentReproducible) {
      lines.push('- The image content is the same (configs and uncompressed layers are equal): only packaging differs (attestations, compression, serialisation).');
    }
  }
  lines.push('');

  if (report.causes.length > 0) {
    lines.push('### Causes, rarest first', '', '| Count | Cause | Examples | Fix |', '|---:|---|---|---|');
    for (const c of report.causes) {
      const examples = c.examples.map((e) => code(e, 80)).join('<br>') + (c.count > c.examples.length ? '<br>…' : '');
      lines.push(`| ${c.count} | **${cell(SHORT[c.kind])}**: ${cell(c.cause, 300)} | ${examples} | ${cell(c.fix, 300)} |`);
    }
    lines.push('');
  }

  lines.push('### Digest ladder', '', '| Rung | | A | B |', '|---|---|---|---|');
  const { ladder } = report;
  lines.push(`| top (${cell(ladder.top.mediaTypeA?.split('.').slice(-2).join('.') ?? '')}) | ${ladder.top.equal ? '✅' : '❌'} | ${shortDigest(ladder.top.a)} | ${shortDigest(ladder.top.b)} |`);
  for (const p of ladder.platforms.slice(0, 16)) {
    const name = cell(p.platform || 'image');
    lines.push(`| ${name} manifest | ${p.manifest.equal ? '✅' : '❌'} | ${shortDigest(p.manifest.a)} | ${shortDigest(p.manifest.b)} |`);
    lines.push(`| ${name} config | ${p.config.equal ? '✅' : '❌'} | ${shortDigest(p.config.a)} | ${shortDigest(p.config.b)} |`);
    for (const r of p.layers.slice(0, maxLayers)) {
      const side = (x: LayerRung['a']): string => (x ? `${shortDigest(x.digest)}<br>diff_id ${shortDigest(x.diffId)}, ${bytes(x.size)}` : '—');
      lines.push(`| layer ${r.index} | ${layerLabel(r)} | ${side(r.a)} | ${side(r.b)} |`);
    }
    if (p.layers.length > maxLayers) lines.push(`| … | ${p.layers.length - maxLayers} more layers | | |`);
    if (p.filesystem) {
      const f = p.filesystem;
      lines.push(`| ${name} filesystem | ${f.differing === 0 ? '✅ same filesystem, different layers' : `❌ ${cell(entryCounts(f.compared, f.differing, f.onlyInA, f.onlyInB, 'paths'))}`} | | |`);
    }
  }
  if (ladder.platforms.length > 16) lines.push(`| … | ${ladder.platforms.length - 16} more platforms | | |`);
  const att = ladder.attestations;
  if (att.a.length > 0 || att.b.length > 0) {
    lines.push(`| attestations | ${att.a.length === att.b.length && att.a.every((x, i) => x.digest === att.b[i]?.digest) ? '✅' : 'ℹ️'} | ${att.a.length} | ${att.b.length} |`);
  }
  lines.push('');

  if (report.differences.length > 0) {
    lines.push('### Differences by cause', '');
    const byKind = new Map<DifferenceKind, Difference[]>();
    for (const d of report.differences) {
      const list = byKind.get(d.kind) ?? [];
      if (list.length < maxRows) list.push(d);
      byKind.set(d.kind, list);
    }
    for (const c of report.causes) {
      const rows = byKind.get(c.kind) ?? [];
      lines.push(`#### ${cell(SHORT[c.kind])}: ${c.count}`, '', '| Where | Path or field | A | B | What differs |', '|---|---|---|---|---|');
      for (const d of rows) lines.push(differenceRow(d));
      const more = c.count - rows.length;
      if (more > 0) {
        const inJson = c.listed > rows.length ? ` (the JSON report lists ${c.listed - rows.length} more${c.count > c.listed ? `; ${c.count - c.listed} are counted only` : ''})` : ' (counted, not listed)';
        lines.push('', `… ${more} more${inJson}.`);
      }
      lines.push('');
    }
  }

  const s = report.stats;
  lines.push('### Work', '', `Read ${bytes(s.bytesRead)} in ${s.seconds.toFixed(2)} s (${s.throughputMBps.toFixed(0)} MB/s); ${bytes(s.bytesWalked)} of layers decompressed and walked; ${s.blobsVerified} layer blobs checked against their digests.`, '');

  return capBytes(lines.join('\n'), maxBytes);
}

/** Cuts at a line boundary so the UTF-8 size stays under `max`. */
function capBytes(text: string, max: number): string {
  if (Buffer.byteLength(text, 'utf8') <= max) return text;
  const note = '\n\n… summary truncated to stay under the step-summary limit (the JSON report has everything).\n';
  const budget = max - Buffer.byteLength(note, 'utf8');
  let cut = Buffer.from(text, 'utf8').subarray(0, budget).toString('utf8');
  if (cut.endsWith('\uFFFD')) cut = cut.slice(0, -1);
  const nl = cut.lastIndexOf('\n');
  return (nl > 0 ? cut.slice(0, nl) : cut) + note;
}
