// Two runners on two engines: real descriptions of one Dockerfile built on docker 26 / buildx 0.13
// and docker 28 / buildx 0.29 (test/fixtures/reproducibility/README.md) differ in the compressed
// digest of their one layer only; the report must put that down to the engines, by version.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { compareDescriptions, type ImageDescription } from '../../src/reproducibility/describe.js';
import { renderMarkdown } from '../../src/reproducibility/markdown.js';
import { parseBuildkitVersion } from '../../src/docker/buildx.js';
import { fixture } from '../support/fixtures.js';

function load(name: string): ImageDescription {
  return JSON.parse(readFileSync(fixture('reproducibility', 'engines', name), 'utf8')) as ImageDescription;
}

describe('the engines that built each side', () => {
  test('the fixtures are what they claim: same diff_id, another compressed digest, each names its engine', () => {
    const [a, b] = [load('docker26.description.json'), load('docker28.description.json')];
    assert.equal(a.images[0]!.layers[0]!.diffId, b.images[0]!.layers[0]!.diffId);
    assert.notEqual(a.images[0]!.layers[0]!.digest, b.images[0]!.layers[0]!.digest);
    assert.deepEqual(a.engine, { buildx: '0.13.1+ds1', driver: 'docker', docker: '26.1.5+dfsg1' });
    assert.deepEqual(b.engine, { buildx: '0.29.1+ds1', driver: 'docker', docker: '28.5.2+dfsg4' });
  });

  test('compression only, engines differ: the cause names both engine versions and the fix is zstd or one pinned version', async () => {
    const report = await compareDescriptions(load('docker26.description.json'), load('docker28.description.json'));
    assert.equal(report.reproducible, false);
    assert.deepEqual(report.causes.map((c) => c.kind).filter((k) => k !== 'manifest-field' && k !== 'config-field'), ['compression']);
    const compression = report.causes.find((c) => c.kind === 'compression')!;
    assert.match(compression.cause, /A was built by docker 26\.1\.5\+dfsg1, buildx 0\.13\.1\+ds1 \(docker driver\) and B by docker 28\.5\.2\+dfsg4, buildx 0\.29\.1\+ds1/);
    assert.match(compression.fix, /compression: zstd/);
    const listed = report.differences.find((d) => d.kind === 'compression')!;
    assert.equal(listed.cause, compression.cause);
    assert.equal(report.a.engine, 'docker 26.1.5+dfsg1, buildx 0.13.1+ds1 (docker driver)');
    assert.equal(report.b.engine, 'docker 28.5.2+dfsg4, buildx 0.29.1+ds1 (docker driver)');
    const markdown = renderMarkdown(report);
    assert.match(markdown, /built by docker 26\.1\.5\+dfsg1/);
    assert.match(markdown, /built by docker 28\.5\.2\+dfsg4/);
    assert.match(markdown, /compression: zstd/);
  });

  test('without engines (an older description), or on the same engine, the cause stays the generic one', async () => {
    const a = load('docker26.description.json');
    const b = load('docker28.description.json');
    delete b.engine;
    const unknown = (await compareDescriptions(a, b)).causes.find((c) => c.kind === 'compression')!;
    assert.doesNotMatch(unknown.cause, /docker 2[68]/);
    assert.match(unknown.cause, /gzip level or implementation/);
    b.engine = { ...a.engine! };
    const same = (await compareDescriptions(a, b)).causes.find((c) => c.kind === 'compression')!;
    assert.doesNotMatch(same.cause, /different engines/);
  });

  test('a forged engine record is refused, never rendered', async () => {
    const forged: unknown[] = [
      { docker: '26.1.5\n::set-output name=x::y' },
      { docker: '`rm -rf`' },
      { docker: 26 },
      { compiler: 'gcc' },
      {},
      ['docker', '26'],
      { docker: 'x'.repeat(65) },
    ];
    for (const engine of forged) {
      const a = load('docker26.description.json');
      (a as { engine: unknown }).engine = engine;
      await assert.rejects(compareDescriptions(a, load('docker28.description.json')), /its engine is not docker\/buildx\/buildkit\/driver version strings \(corrupt description\)/, JSON.stringify(engine));
    }
  });
});

describe('parseBuildkitVersion', () => {
  test('the docker driver on a distribution dockerd says v0.0.0+unknown: no BuildKit version to record', () => {
    assert.equal(parseBuildkitVersion(readFileSync(fixture('buildx', 'inspect-default.txt'), 'utf8')), undefined);
  });
});
