// The comparison engine on images built by the real dockerd + buildx (FROM scratch, Debian's
// static busybox as the only binary): the verdicts the verify-reproducibility stage gives.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareImages } from '../../src/reproducibility/compare.js';
import { compareDescriptions, describeImage } from '../../src/reproducibility/describe.js';
import { renderMarkdown } from '../../src/reproducibility/markdown.js';
import type { ComparisonReport } from '../../src/reproducibility/types.js';
import { requireTools, sh } from '../support/tools.js';
import { BUSYBOX } from '../support/workspace.js';

const EPOCH = '1700000000';
const root = mkdtempSync(join(tmpdir(), 'repro-buildx-'));
let count = 0;

function context(dockerfile: string): string {
  const dir = join(root, `ctx-${++count}`);
  mkdirSync(dir);
  copyFileSync(BUSYBOX, join(dir, 'busybox'));
  chmodSync(join(dir, 'busybox'), 0o755);
  writeFileSync(join(dir, 'Dockerfile'), dockerfile);
  return dir;
}

interface BuildOptions {
  rewriteTimestamp?: boolean;
  provenance?: boolean;
  sourceDateEpoch?: string | null;
  type?: 'oci' | 'docker';
}

function build(dir: string, name: string, o: BuildOptions = {}): string {
  const dest = join(root, `${name}.tar`);
  const env = { ...process.env };
  delete env.SOURCE_DATE_EPOCH;
  const epoch = o.sourceDateEpoch === undefined ? EPOCH : o.sourceDateEpoch;
  const args = ['buildx', 'build', '--no-cache', `--provenance=${o.provenance ?? false}`, '--sbom=false'];
  if (epoch !== null) {
    env.SOURCE_DATE_EPOCH = epoch;
    args.push('--build-arg', `SOURCE_DATE_EPOCH=${epoch}`);
  }
  args.push('--output', `type=${o.type ?? 'oci'},dest=${dest}${o.rewriteTimestamp === false ? '' : ',rewrite-timestamp=true'}`, dir);
  sh('docker', args, { env });
  return dest;
}

const DETERMINISTIC = `FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "sh", "-c", "/bin/busybox mkdir -p /opt/app && echo 'hello' > /opt/app/hello.txt"]
LABEL org.opencontainers.image.title="repro fixture"
`;

const RANDOM = `FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "sh", "-c", "/bin/busybox mkdir -p /data && /bin/busybox head -c 32 /dev/urandom > /data/random.bin && echo fixed > /data/fixed.txt"]
`;

const kinds = (r: ComparisonReport): string[] => [...new Set(r.differences.map((d) => d.kind))].sort();

after(() => rmSync(root, { recursive: true, force: true }));

before(() => {
  requireTools('docker', 'skopeo', 'gzip');
  sh('docker', ['buildx', 'version']);
});

describe('buildx images', () => {
  test('two --no-cache builds with SOURCE_DATE_EPOCH and rewrite-timestamp are reproducible', async () => {
    const dir = context(DETERMINISTIC);
    const a = build(dir, 'det-a');
    const b = build(dir, 'det-b');
    const report = await compareImages(a, b);
    assert.equal(report.reproducible, true, JSON.stringify(report.differences.slice(0, 5)));
    assert.ok(report.stats.blobsVerified >= 4);
    assert.match(renderMarkdown(report), /✅ reproducible/);
  });

  test('a step writing random bytes: the file is named with both content digests', async () => {
    const dir = context(RANDOM);
    const report = await compareImages(build(dir, 'rnd-a'), build(dir, 'rnd-b'));
    assert.equal(report.reproducible, false);
    const files = report.differences.filter((d) => d.where === 'file');
    assert.deepEqual(files.map((d) => [d.path, d.kind]), [['data/random.bin', 'content']]);
    assert.match(String(files[0]!.a), /^[0-9a-f]{64}$/);
    assert.match(files[0]!.fix, /data\/random\.bin/);
    assert.deepEqual(report.ladder.platforms[0]!.layers.map((l) => l.status), ['equal', 'differs']);
  });

  test('without rewrite-timestamp and SOURCE_DATE_EPOCH: mtimes and created differ, with their fixes', async () => {
    const dir = context(DETERMINISTIC);
    const a = build(dir, 'time-a', { rewriteTimestamp: false, sourceDateEpoch: null });
    await new Promise((r) => setTimeout(r, 1100));
    const b = build(dir, 'time-b', { rewriteTimestamp: false, sourceDateEpoch: null });
    const report = await compareImages(a, b);
    assert.equal(report.reproducible, false);
    const found = kinds(report);
    assert.ok(found.includes('mtime'), found.join());
    assert.ok(found.includes('config-created'), found.join());
    const mtime = report.differences.find((d) => d.kind === 'mtime' && d.path === 'opt/app/hello.txt')!;
    assert.ok(mtime, 'the file the RUN step wrote');
    assert.match(mtime.fix, /rewrite-timestamp=true/);
    assert.match(report.differences.find((d) => d.kind === 'config-created')!.fix, /SOURCE_DATE_EPOCH/);
  });

  test('provenance on one side: an attestation, the image content is equal', async () => {
    const dir = context(DETERMINISTIC);
    const report = await compareImages(build(dir, 'prov-a'), build(dir, 'prov-b', { provenance: true }));
    assert.equal(report.reproducible, false);
    assert.equal(report.contentReproducible, true);
    assert.deepEqual(kinds(report), ['attestation']);
    assert.equal(report.ladder.platforms[0]!.manifest.equal, true);
    assert.match(report.differences[0]!.fix, /provenance=false/);
  });

  test('docker exporter, skopeo docker-archive (plain and gzip\'ed) and OCI archive of one build', async () => {
    const dir = context(DETERMINISTIC);
    const oci = build(dir, 'fmt-oci');
    const docker = build(dir, 'fmt-docker', { type: 'docker' });
    const fromDocker = await compareImages(oci, docker);
    assert.equal(fromDocker.contentReproducible, true, JSON.stringify(fromDocker.differences.slice(0, 5)));
    const archive = join(root, 'skopeo.tar');
    sh('skopeo', ['copy', '-q', `oci-archive:${oci}`, `docker-archive:${archive}:repro:latest`]);
    sh('sh', ['-c', `gzip -n -c ${archive} > ${archive}.gz`]);
    for (const other of [archive, `${archive}.gz`]) {
      const report = await compareImages(other, oci);
      assert.equal(report.a.kind, 'docker-archive');
      assert.equal(report.contentReproducible, true);
      assert.ok(report.ladder.platforms[0]!.layers.every((l) => l.status === 'compression-only'));
    }
  });

  test('descriptions of buildx images give the direct verdict', async () => {
    const dir = context(RANDOM);
    const a = build(dir, 'desc-a');
    const b = build(dir, 'desc-b');
    const direct = await compareImages(a, b);
    const described = await compareDescriptions(await describeImage(a), await describeImage(b));
    assert.equal(described.reproducible, direct.reproducible);
    assert.deepEqual(described.differences, direct.differences);
  });
});
