import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { BuildProgress, JsonObjectSplitter, isBuildStep } from '../../src/docker/progress.js';
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
