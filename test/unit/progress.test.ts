import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { BuildProgress, JsonObjectSplitter, coveredSeconds, isBuildStep } from '../../src/docker/progress.js';
import { fixture } from '../support/fixtures.js';

function feedInChunks(text: string, size: number): { progress: BuildProgress; lines: string[] } {
  const lines: string[] = [];
  const progress = new BuildProgress((l) => lines.push(l));
  for (let i = 0; i < text.length; i += size) progress.feed(text.slice(i, i + size));
  return { progress, lines };
}

test('uncached build (captured rawjson): 3 Dockerfile steps, none cached', () => {
  const { progress, lines } = feedInChunks(readFileSync(fixture('buildx/rawjson-nocache.json'), 'utf8'), 97);
  assert.deepEqual(progress.cacheHit, { cached: 0, total: 3 });
  assert.equal(progress.failedStep, undefined);
  assert.ok(lines.some((l) => /^#\d+ \[1\/3\] COPY busybox \/bin\/busybox$/.test(l)), lines.join('\n'));
  assert.ok(lines.some((l) => /^#\d+ DONE \d+\.\ds$/.test(l)));
});

test('cached build (captured rawjson): all 3 steps cached, plumbing not counted', () => {
  const { progress, lines } = feedInChunks(readFileSync(fixture('buildx/rawjson-cached.json'), 'utf8'), 4096);
  assert.deepEqual(progress.cacheHit, { cached: 3, total: 3 });
  assert.ok(progress.steps.length > 3);
  assert.equal(lines.filter((l) => l.endsWith(' CACHED')).length, 3);
});

test('failed build (captured rawjson): the failing step, its error and its last log lines', () => {
  const { progress } = feedInChunks(readFileSync(fixture('buildx/rawjson-failed.json'), 'utf8'), 13);
  const failed = progress.failedStep;
  assert.ok(failed);
  assert.match(failed.name, /^\[2\/2\] RUN /);
  assert.match(failed.error!, /exit code: 3/);
  assert.ok(failed.logTail.includes('compiling vllm'), failed.logTail.join('|'));
  assert.ok(failed.logTail.includes('error: wheel not found'));
  assert.match(progress.trailingText, /ERROR: failed to solve/);
});

test('splitter handles braces and escaped quotes inside strings across chunks', () => {
  const s = new JsonObjectSplitter();
  const text = '{"a":"}{\\"x"}\n{"b":{"c":1}}';
  const out: string[] = [];
  for (const ch of text) out.push(...s.push(ch));
  assert.deepEqual(out.map((o) => JSON.parse(o)), [{ a: '}{"x' }, { b: { c: 1 } }]);
});

test('build steps are Dockerfile instructions, with or without a stage name', () => {
  assert.ok(isBuildStep({ name: '[builder 2/5] RUN pip wheel vllm' }));
  assert.ok(isBuildStep({ name: '[3/3] COPY --from=builder /w /w' }));
  assert.ok(!isBuildStep({ name: '[internal] load build context' }));
  assert.ok(!isBuildStep({ name: 'exporting to oci image format' }));
});

test('one instruction reported as two vertexes counts once (cached when one was and none ran)', () => {
  const progress = new BuildProgress();
  const t = '2026-01-01T00:00:00Z';
  progress.feed(JSON.stringify({ vertexes: [
    { digest: 'sha256:a', name: '[1/2] COPY busybox /bin/busybox', started: t, completed: t, cached: true },
    { digest: 'sha256:b', name: '[1/2] COPY busybox /bin/busybox' },
    { digest: 'sha256:c', name: '[2/2] RUN make', started: t, completed: t, cached: true },
    { digest: 'sha256:d', name: '[2/2] RUN make', started: t, completed: t },
  ] }));
  assert.deepEqual(progress.cacheHit, { cached: 1, total: 2 });
});

test('phases (captured rawjson): steps and the image export, no cache import or export', () => {
  const { progress } = feedInChunks(readFileSync(fixture('buildx/rawjson-cached.json'), 'utf8'), 4096);
  const phases = progress.phases;
  assert.equal(phases.cacheImport, 0);
  assert.equal(phases.cacheExport, 0);
  assert.ok(Math.abs(phases.imageExport - 0.123) < 0.001, String(phases.imageExport));
  assert.ok(phases.steps < 0.001, 'cached steps take no time');
});

test('phases: parallel steps are counted once; each kind from its own vertexes', () => {
  const at = (s: number): string => new Date(Date.UTC(2026, 0, 1) + s * 1000).toISOString();
  const vertex = (digest: string, name: string, from: number, to: number) => ({ digest, name, started: at(from), completed: at(to) });
  const progress = new BuildProgress();
  progress.feed(JSON.stringify({ vertexes: [
    vertex('sha256:a', 'importing cache manifest from local:1', 0, 2),
    vertex('sha256:b', '[stage-a 1/2] RUN make', 2, 10),
    vertex('sha256:c', '[stage-b 1/1] RUN make', 4, 12),
    vertex('sha256:d', '[internal] load build context', 1, 3),
    vertex('sha256:e', 'exporting to oci image format', 12, 20),
    vertex('sha256:f', 'exporting cache to client directory', 20, 25),
  ] }));
  assert.deepEqual(progress.phases, { cacheImport: 2, steps: 10, imageExport: 8, cacheExport: 5 });
});

test('phases and errors: the gha cache exporter names its vertex "exporting to GitHub Actions Cache" (buildkit gha.go), a cache export', () => {
  const at = (s: number): string => new Date(Date.UTC(2026, 0, 1) + s * 1000).toISOString();
  const progress = new BuildProgress();
  progress.feed(JSON.stringify({ vertexes: [
    { digest: 'sha256:a', name: 'importing cache manifest from gha:14196404673944113265', started: at(0), completed: at(1) },
    { digest: 'sha256:b', name: '[1/1] RUN make', started: at(1), completed: at(10) },
    { digest: 'sha256:c', name: 'exporting to oci image format', started: at(10), completed: at(14) },
    // BuildKit's own failure text when the cache service throttles it (docs.docker.com, cache backends: gha).
    { digest: 'sha256:d', name: 'exporting to GitHub Actions Cache', started: at(14), completed: at(50), error: 'maximum timeout reached' },
  ] }));
  assert.deepEqual(progress.phases, { cacheImport: 1, steps: 9, imageExport: 4, cacheExport: 36 });
  assert.equal(progress.failedStep, undefined, 'a cache export error is not the build failing');
  assert.deepEqual(progress.cacheErrors.map((s) => s.name), ['exporting to GitHub Actions Cache']);
});

test('phases: an overlap between kinds is counted once, for the earlier kind', () => {
  const at = (s: number): string => new Date(Date.UTC(2026, 0, 1) + s * 1000).toISOString();
  const progress = new BuildProgress();
  progress.feed(JSON.stringify({ vertexes: [
    { digest: 'sha256:a', name: '[1/1] RUN make', started: at(0), completed: at(10) },
    // The export starts while a cached step still fetches its layer.
    { digest: 'sha256:b', name: 'exporting to oci image format', started: at(8), completed: at(20) },
  ] }));
  assert.deepEqual(progress.phases, { cacheImport: 0, steps: 10, imageExport: 10, cacheExport: 0 });
});

test('coveredSeconds: overlapping, nested, disjoint and unfinished spans', () => {
  const span = (a: number, b?: number) => ({ started: new Date(a * 1000).toISOString(), completed: b === undefined ? undefined : new Date(b * 1000).toISOString() });
  assert.equal(coveredSeconds([]), 0);
  assert.equal(coveredSeconds([span(0, 4), span(1, 2), span(3, 6), span(10, 11), span(5)]), 7);
});
