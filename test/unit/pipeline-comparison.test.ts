// builder: both's comparison: the table, the mermaid charts and the cache states, from figures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { comparisonTable, dockerCacheState, nixCacheState, renderComparison, type Comparison } from '../../src/pipeline/comparison.js';

const D1 = `sha256:${'d'.repeat(64)}`;
const N1 = `sha256:${'e'.repeat(64)}`;

const both: Comparison = {
  schema: 'vllm-rocm-action/comparison/v1',
  published: 'nix',
  builds: [
    { builder: 'docker', digest: D1, buildSeconds: 1834.24, restoreSeconds: 42.46, cache: 'miss (0/12 steps cached)', coldSeconds: 1901.5, compressedBytes: 22 * 1024 ** 3, uncompressedBytes: 41 * 1024 ** 3, layers: 31, reproducible: false, reproducibleWhy: '6012 differences; fix first: set SOURCE_DATE_EPOCH (5800)', smokePassed: true, startupSeconds: 74.2, ttftMs: 41.25, tokensPerSecond: 1210.04 },
    { builder: 'nix', digest: N1, buildSeconds: 182, cache: 'partial (1 built, 412 substituted)', compressedBytes: 4 * 1024 ** 3, uncompressedBytes: 9 * 1024 ** 3, layers: 100, reproducible: true, reproducibleWhy: 'a cache-less rebuild gave the same digest', smokePassed: true, startupSeconds: 70, ttftMs: 40, tokensPerSecond: 1215 },
  ],
};

test('the table: one column per build, the published one marked, every figure with its unit', () => {
  const lines = comparisonTable(both).split('\n');
  assert.equal(lines[0], '| | Docker | Nix (published) |');
  assert.equal(lines[1], '|---|---|---|');
  const row = (label: string): string => lines.find((l) => l.startsWith(`| ${label} |`))!;
  assert.equal(row('Build time'), '| Build time | 1834.2 s | 182.0 s |');
  assert.equal(row('Cache restore time'), '| Cache restore time | 42.5 s | – |');
  assert.equal(row('Cache'), '| Cache | miss (0/12 steps cached) | partial (1 built, 412 substituted) |');
  assert.equal(row('Cold build time (verify rebuild)'), '| Cold build time (verify rebuild) | 1901.5 s | – |');
  assert.equal(row('Size, compressed'), '| Size, compressed | 22.00 GiB | 4.00 GiB |');
  assert.equal(row('Size, uncompressed'), '| Size, uncompressed | 41.00 GiB | 9.00 GiB |');
  assert.equal(row('Layers'), '| Layers | 31 | 100 |');
  assert.equal(row('Reproducible'), '| Reproducible | no: 6012 differences; fix first: set SOURCE_DATE_EPOCH (5800) | yes: a cache-less rebuild gave the same digest |');
  assert.equal(row('Server start-up'), '| Server start-up | 74.2 s | 70.0 s |');
  assert.equal(row('TTFT'), '| TTFT | 41.3 ms | 40 ms |');
  assert.equal(row('Output tokens/s'), '| Output tokens/s | 1210 | 1215 |');
  assert.equal(row('Digest'), `| Digest | \`${D1}\` | \`${N1}\` |`);
});

test('stages that were off show as off, never as zero; a | in a reason cannot break the table', () => {
  const off: Comparison = { schema: 'vllm-rocm-action/comparison/v1', builds: [{ builder: 'docker', digest: D1 }, { builder: 'nix', digest: N1, reproducible: false, reproducibleWhy: 'a|b' }] };
  const table = comparisonTable(off);
  assert.match(table, /^\| \| Docker \| Nix \|$/m);
  assert.match(table, /^\| Reproducible \| – \(verify off\) \| no: a\\\|b \|$/m);
  assert.match(table, /^\| Smoke test \| – \(smoke test off\) \| – \(smoke test off\) \|$/m);
  assert.match(table, /^\| Build time \| – \| – \|$/m);
});

test('the mermaid charts: times and sizes (MiB) of what was measured; none without figures', () => {
  const text = renderComparison(both);
  assert.ok(text.startsWith('### Nix and Docker, side by side\n\n| |'));
  const charts = [...text.matchAll(/```mermaid\n([\s\S]*?)```/g)].map((m) => m[1]!);
  assert.equal(charts.length, 2);
  assert.equal(charts[0], 'xychart-beta\n    title "Build time"\n    x-axis ["Docker build", "Docker cold", "Nix build"]\n    y-axis "seconds" 0 --> 2091.65\n    bar [1834.24, 1901.5, 182]\n');
  assert.equal(charts[1], 'xychart-beta\n    title "Image size"\n    x-axis ["Docker compressed", "Docker uncompressed", "Nix compressed", "Nix uncompressed"]\n    y-axis "MiB" 0 --> 46182.4\n    bar [22528, 41984, 4096, 9216]\n');
  const bare = renderComparison({ schema: 'vllm-rocm-action/comparison/v1', builds: [{ builder: 'docker', digest: D1 }, { builder: 'nix', digest: N1 }] });
  assert.doesNotMatch(bare, /mermaid/);
  assert.doesNotMatch(bare, /\n\n\n/);
});

test('cache states: hit when nothing was built, partial, miss', () => {
  assert.equal(dockerCacheState('7/7'), 'hit (7/7 steps cached)');
  assert.equal(dockerCacheState('5/7'), 'partial (5/7 steps cached)');
  assert.equal(dockerCacheState('0/7'), 'miss (0/7 steps cached)');
  assert.equal(dockerCacheState('0/0'), 'miss (0/0 steps cached)');
  assert.equal(dockerCacheState(undefined), undefined);
  assert.equal(nixCacheState('0', '3'), 'hit (0 built, 3 substituted)');
  assert.equal(nixCacheState('1', '3'), 'partial (1 built, 3 substituted)');
  assert.equal(nixCacheState('2', '0'), 'miss (2 built, 0 substituted)');
  assert.equal(nixCacheState(undefined, undefined), undefined);
});
