// builder: both: the Nix and Docker builds of one image side by side, as the job summary's table
// and mermaid chart and as the `comparison` JSON. Pure: the figures come from the stages' outputs.
import { formatBytes } from '../action/summary.js';
import { codeSpan } from '../tool/markdown.js';
import type { ImageBuilder } from './inputs.js';

export interface BuildFigures {
  builder: ImageBuilder;
  digest: string;
  /** This run's build time. */
  buildSeconds?: number;
  /** This run's cache restore (download and import), which build time leaves out. */
  restoreSeconds?: number;
  /** hit, partial or miss, with what came from the cache (steps cached or paths substituted). */
  cache?: string;
  /** The cache-less rebuild's time, where a verify rebuild measured it. */
  coldSeconds?: number;
  compressedBytes?: number;
  uncompressedBytes?: number;
  layers?: number;
  reproducible?: boolean;
  /** Why (not) reproducible: the verdict in words. */
  reproducibleWhy?: string;
  smokePassed?: boolean;
  startupSeconds?: number;
  ttftMs?: number;
  tokensPerSecond?: number;
}

export interface Comparison {
  schema: 'vllm-rocm-action/comparison/v1';
  /** The image the publish stage pushed (when it ran). */
  published?: ImageBuilder;
  builds: BuildFigures[];
}

/** build-docker's cache state from its outputs: hit when every step was cached. */
export function dockerCacheState(cachedSteps: string | undefined): string | undefined {
  const m = /^(\d+)\/(\d+)$/.exec(cachedSteps ?? '');
  if (!m) return undefined;
  const [cached, total] = [Number(m[1]), Number(m[2])];
  const state = total > 0 && cached === total ? 'hit' : cached > 0 ? 'partial' : 'miss';
  return `${state} (${cached}/${total} steps cached)`;
}

/** build-nix's cache state from its outputs: hit when nothing had to be built. */
export function nixCacheState(pathsBuilt: string | undefined, pathsSubstituted: string | undefined): string | undefined {
  if (pathsBuilt === undefined) return undefined;
  const built = Number(pathsBuilt);
  const substituted = Number(pathsSubstituted ?? '0');
  const state = built === 0 ? 'hit' : substituted > 0 ? 'partial' : 'miss';
  return `${state} (${built} built, ${substituted} substituted)`;
}

const seconds = (s: number | undefined): string => (s === undefined ? '–' : `${s.toFixed(1)} s`);
const bytes = (b: number | undefined): string => (b === undefined ? '–' : formatBytes(b));
const number = (n: number | undefined, unit = ''): string => (n === undefined ? '–' : `${Number(n.toFixed(1))}${unit}`);
const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

function verdict(b: BuildFigures): string {
  if (b.reproducible === undefined) return '– (verify off)';
  return `${b.reproducible ? 'yes' : 'no'}${b.reproducibleWhy ? `: ${b.reproducibleWhy}` : ''}`;
}

function smoke(b: BuildFigures): string {
  if (b.smokePassed === undefined) return '– (smoke test off)';
  return b.smokePassed ? 'passed' : 'failed';
}

const ROWS: Array<[string, (b: BuildFigures) => string]> = [
  ['Build time', (b) => seconds(b.buildSeconds)],
  ['Cache restore time', (b) => seconds(b.restoreSeconds)],
  ['Cache', (b) => b.cache ?? '–'],
  ['Cold build time (verify rebuild)', (b) => seconds(b.coldSeconds)],
  ['Size, compressed', (b) => bytes(b.compressedBytes)],
  ['Size, uncompressed', (b) => bytes(b.uncompressedBytes)],
  ['Layers', (b) => number(b.layers)],
  ['Reproducible', verdict],
  ['Smoke test', smoke],
  ['Server start-up', (b) => seconds(b.startupSeconds)],
  ['TTFT', (b) => number(b.ttftMs, ' ms')],
  ['Output tokens/s', (b) => number(b.tokensPerSecond)],
  ['Digest', (b) => codeSpan(b.digest ?? '')],
];

const NAMES: Record<ImageBuilder, string> = { nix: 'Nix', docker: 'Docker' };

export function comparisonTable(c: Comparison): string {
  const header = `| | ${c.builds.map((b) => `${NAMES[b.builder]}${c.published === b.builder ? ' (published)' : ''}`).join(' | ')} |`;
  const rule = `|---|${c.builds.map(() => '---').join('|')}|`;
  return [header, rule, ...ROWS.map(([label, value]) => `| ${label} | ${c.builds.map((b) => cell(value(b))).join(' | ')} |`)].join('\n');
}

/** A mermaid bar chart, or nothing when no build has the figure. */
function barChart(title: string, unit: string, series: Array<[string, number | undefined]>): string {
  const known = series.filter((s): s is [string, number] => s[1] !== undefined);
  if (known.length === 0) return '';
  const max = Math.max(...known.map(([, v]) => v));
  return [
    '```mermaid',
    'xychart-beta',
    `    title "${title}"`,
    `    x-axis [${known.map(([label]) => `"${label}"`).join(', ')}]`,
    `    y-axis "${unit}" 0 --> ${Number((max * 1.1 || 1).toFixed(2))}`,
    `    bar [${known.map(([, v]) => Number(v.toFixed(2))).join(', ')}]`,
    '```',
  ].join('\n');
}

const MIB = 1024 * 1024;

export function renderComparison(c: Comparison): string {
  const label = (b: BuildFigures, what: string): string => `${NAMES[b.builder]} ${what}`;
  const times = c.builds.flatMap((b): Array<[string, number | undefined]> => [
    [label(b, 'build'), b.buildSeconds],
    [label(b, 'cold'), b.coldSeconds],
  ]);
  const sizes = c.builds.flatMap((b): Array<[string, number | undefined]> => [
    [label(b, 'compressed'), b.compressedBytes === undefined ? undefined : b.compressedBytes / MIB],
    [label(b, 'uncompressed'), b.uncompressedBytes === undefined ? undefined : b.uncompressedBytes / MIB],
  ]);
  return [
    '### Nix and Docker, side by side',
    '',
    comparisonTable(c),
    '',
    barChart('Build time', 'seconds', times),
    '',
    barChart('Image size', 'MiB', sizes),
    '',
  ].filter((part, i, all) => part !== '' || all[i - 1] !== '').join('\n');
}
