// runBuildxStreaming's plumbing with a stand-in `docker` (a shell script on PATH): stdout is the
// image, stderr the progress; a build that fails mid-stream is a build failure, a stream refused
// mid-way stops buildx and is the cause. (With the real buildx: test/integration/verify-reproducibility.)
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runBuildxStreaming } from '../../src/docker/buildx.js';
import { layoutFromTar } from '../../src/oci/layout-from-tar.js';
import { layoutTar, planLayoutTar, tarHeader } from '../../src/oci/layout-tar.js';
import { makeImage, requireTools, scratch } from '../fixtures/reproducibility/make-image.js';

requireTools('tar', 'gzip');

/** A `docker` that writes $FAKE_TAR's first $FAKE_BYTES bytes (all without it) then $FAKE_TAIL to stdout, a progress line to stderr, and exits $FAKE_EXIT. */
function fakeDocker(dir: string): string {
  const bin = join(dir, 'bin');
  const script = join(bin, 'docker');
  mkdirSync(bin, { recursive: true });
  writeFileSync(
    script,
    `#!/bin/sh
echo '{"vertexes":[{"digest":"sha256:1","name":"[1/1] COPY busybox /bin/busybox","started":"2026-01-01T00:00:00Z"}]}' >&2
if [ -n "$FAKE_BYTES" ]; then head -c "$FAKE_BYTES" "$FAKE_TAR"; else cat "$FAKE_TAR"; fi
if [ -n "$FAKE_TAIL" ]; then cat "$FAKE_TAIL"; fi
[ "$FAKE_EXIT" = 0 ] && echo '{"containerimage.digest":"sha256:0"}' > "$FAKE_META"
exit "$FAKE_EXIT"
`,
  );
  chmodSync(script, 0o755);
  return bin;
}

async function fixture(): Promise<{ dir: string; a: string; tar: string; bin: string }> {
  const dir = scratch('buildx-stream-');
  const shared = { files: [{ path: 'base/lib', content: 'the same in both' }] };
  const a = makeImage(dir, { layers: [shared, { files: [{ path: 'id', content: 'A' }] }] });
  const b = makeImage(dir, { layers: [shared, { files: [{ path: 'id', content: 'B' }] }] });
  const chunks: Buffer[] = [];
  for await (const chunk of layoutTar(await planLayoutTar(b.layout))) chunks.push(chunk);
  const tar = join(dir, 'b.tar');
  writeFileSync(tar, Buffer.concat(chunks));
  return { dir, a: a.layout, tar, bin: fakeDocker(dir) };
}

function env(f: { dir: string; tar: string; bin: string }, extra: Record<string, string>): Record<string, string> {
  return { PATH: `${f.bin}:${process.env.PATH}`, FAKE_TAR: f.tar, FAKE_META: join(f.dir, 'meta.json'), FAKE_EXIT: '0', ...extra };
}

test('streamed build: stdout becomes the layout, stderr the progress, the metadata is read', async () => {
  const f = await fixture();
  const dest = join(f.dir, 'out.oci');
  const lines: string[] = [];
  const run = await runBuildxStreaming(['buildx', 'build'], join(f.dir, 'meta.json'), env(f, {}), (l) => lines.push(l), (stdout) => layoutFromTar(stdout, dest, f.a));
  assert.equal(run.exitCode, 0);
  assert.equal(run.imageError, undefined);
  assert.deepEqual(run.metadata, { 'containerimage.digest': 'sha256:0' });
  assert.equal(run.image?.linked, 1);
  assert.equal(run.image?.blobs, 4);
  assert.ok(lines.some((l) => l.includes('COPY busybox')), lines.join('\n'));
  assert.ok(existsSync(join(dest, 'index.json')));
});

test('streamed build: buildx failing mid-stream is the build failure (its exit status), and nothing is left', async () => {
  const f = await fixture();
  const dest = join(f.dir, 'out.oci');
  const run = await runBuildxStreaming(['buildx', 'build'], join(f.dir, 'meta.json'), env(f, { FAKE_BYTES: '3000', FAKE_EXIT: '1' }), () => undefined, (stdout) => layoutFromTar(stdout, dest, f.a));
  assert.equal(run.exitCode, 1);
  assert.equal(run.refused, false, 'the stream ended short: buildx explains it');
  assert.match(String(run.imageError), /truncated/);
  assert.equal(run.metadata, undefined);
  assert.ok(!existsSync(dest));
});

test('streamed build: a stream refused mid-way stops buildx (which would write on) and is the cause', async () => {
  const f = await fixture();
  const dest = join(f.dir, 'out.oci');
  // After a member the reader refuses, an endless stream: only stopping buildx ends the run.
  const bad = join(f.dir, 'bad.tar');
  writeFileSync(bad, Buffer.concat([tarHeader('../escape', 'file', 1), Buffer.alloc(512)]));
  const started = Date.now();
  const run = await runBuildxStreaming(['buildx', 'build'], join(f.dir, 'meta.json'), env(f, { FAKE_TAR: bad, FAKE_TAIL: '/dev/zero' }), () => undefined, (stdout) => layoutFromTar(stdout, dest, f.a));
  assert.equal(run.refused, true);
  assert.match(String(run.imageError), /member "..\/escape"/);
  assert.equal(run.metadata, undefined);
  assert.ok(Date.now() - started < 20_000);
  assert.ok(!existsSync(dest));
});
