// The suite's evidence: the predicates built from real reports (the engine's own comparison of
// images made by GNU tar; a smoke report of the stage's type), checked against the published
// schemas in docs/; hostile reports refused or capped; the SBOM read from real layers.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { baselineFrom } from '../../src/smoke-test/baseline.js';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { schemaErrors, type Schema } from '../../src/attest/json-schema.js';
import { MAX_CAUSES, PREDICATE_TYPES, ReportError, reproducibilityPredicate, smokeTestPredicate } from '../../src/attest/predicates.js';
import { REPRODUCIBILITY_SCHEMA, SMOKE_TEST_SCHEMA } from '../../src/attest/schemas.js';
import { CONTENT_LIMITS, nixNameVersion, parseDpkgStatus, readImageContents } from '../../src/attest/image-contents.js';
import { openedImageSources } from '../../src/attest/image-source.js';
import { cycloneDx, purlOf } from '../../src/attest/cyclonedx.js';
import { withImage } from '../../src/oci/image.js';
import { cosignAttestArgs } from '../../src/registry/cosign.js';
import { compareImages } from '../../src/reproducibility/compare.js';
import type { SmokeReport } from '../../src/smoke-test/report.js';
import { baseFiles, makeImage, requireTools, scratch, type FileSpec } from '../fixtures/reproducibility/make-image.js';
import { REPO_ROOT } from '../support/action-runner.js';

const work = scratch('attest-unit-');
after(() => rmSync(work, { recursive: true, force: true }));
requireTools('tar', 'gzip');

const docsSchema = (name: string): Schema => JSON.parse(readFileSync(join(REPO_ROOT, 'docs', 'predicates', `${name}.schema.json`), 'utf8')) as Schema;
const DIGEST = `sha256:${'ab'.repeat(32)}`;

describe('the schemas in docs/ are the ones the builders check against', () => {
  test('docs/predicates/*.schema.json equal src/attest/schemas.ts, and their $id is the predicate type', () => {
    assert.deepEqual(docsSchema('reproducibility-v1'), REPRODUCIBILITY_SCHEMA);
    assert.deepEqual(docsSchema('smoke-test-v1'), SMOKE_TEST_SCHEMA);
    assert.equal(REPRODUCIBILITY_SCHEMA.$id, PREDICATE_TYPES.reproducibility);
    assert.equal(SMOKE_TEST_SCHEMA.$id, PREDICATE_TYPES.smokeTest);
    assert.match(PREDICATE_TYPES.reproducibility, /\/reproducibility\/v1$/);
  });

  test('the schema checker finds what is wrong, and refuses keywords it does not know', () => {
    const schema: Schema = { type: 'object', additionalProperties: false, required: ['a'], properties: { a: { type: 'integer', minimum: 0 }, b: { type: 'array', maxItems: 1, items: { $ref: '#/$defs/s' } } }, $defs: { s: { type: 'string', pattern: '^x' } } };
    assert.deepEqual(schemaErrors(schema, { a: 1, b: ['x1'] }), []);
    assert.deepEqual(schemaErrors(schema, { a: -1, b: ['y', 'x'], c: 1 }), ['$.a: below 0', '$.b: more than 1 items', '$.b[0]: does not match ^x', "$: 'c' is not allowed"]);
    assert.deepEqual(schemaErrors(schema, {}), ["$: lacks 'a'"]);
    assert.deepEqual(schemaErrors(schema, []), ['$: is array, expected object']);
    assert.throws(() => schemaErrors({ format: 'uri' }, 'x'), /keyword 'format'/);
    assert.deepEqual(schemaErrors({ anyOf: [{ type: 'string' }, { type: 'integer' }] }, 1.5), ['$: matches none of the allowed shapes']);
  });
});

describe('reproducibility predicate', () => {
  const files = (extra: FileSpec[]): FileSpec[] => [...baseFiles(), ...extra];

  test('reproducible: from the engine\'s own report of two equal images', async () => {
    const a = makeImage(work, { layers: [{ files: files([{ path: 'app/x.txt', content: 'same\n' }]) }] });
    const b = makeImage(work, { layers: [{ files: files([{ path: 'app/x.txt', content: 'same\n' }]) }] });
    const report = JSON.parse(JSON.stringify(await compareImages(a.archive, b.archive))) as unknown;
    const p = reproducibilityPredicate(report, DIGEST);
    assert.equal(p.verdict, 'reproducible');
    assert.deepEqual(p.digests, { a: a.topDigest, b: a.topDigest });
    assert.equal(p.method.kind, 'two-builds');
    assert.deepEqual(p.causes, []);
    assert.deepEqual(schemaErrors(docsSchema('reproducibility-v1'), p), []);
  });

  test('not reproducible: causes in the report\'s order, examples capped, described runners', async () => {
    const a = makeImage(work, { layers: [{ files: files([{ path: 'app/x.txt', content: 'one\n' }, { path: 'app/y.txt', content: 'y\n', mtime: 1 }]), mtime: null }] });
    const b = makeImage(work, { layers: [{ files: files([{ path: 'app/x.txt', content: 'two\n' }, { path: 'app/y.txt', content: 'y\n', mtime: 2 }]), mtime: null }] });
    const report = JSON.parse(JSON.stringify(await compareImages(a.archive, b.archive))) as { causes: Array<{ kind: string }>; a: { kind: string }; b: { kind: string } };
    assert.ok(report.causes.length >= 2, JSON.stringify(report.causes));
    const p = reproducibilityPredicate(report, DIGEST);
    assert.equal(p.verdict, 'not-reproducible');
    assert.deepEqual(p.causes.map((c) => c.kind), report.causes.map((c) => c.kind));
    assert.deepEqual(schemaErrors(docsSchema('reproducibility-v1'), p), []);
    report.a.kind += ' (description)';
    report.b.kind += ' (description)';
    assert.equal(reproducibilityPredicate(report, DIGEST).method.kind, 'two-runners');
  });

  test('hostile reports: refused with the field named, or capped', async () => {
    const a = makeImage(work, { layers: [{ files: files([{ path: 'app/x.txt', content: 'h1\n' }]) }] });
    const b = makeImage(work, { layers: [{ files: files([{ path: 'app/x.txt', content: 'h2\n' }]) }] });
    const good = JSON.parse(JSON.stringify(await compareImages(a.archive, b.archive))) as Record<string, unknown> & { causes: Array<Record<string, unknown>> };
    const variant = (change: (r: typeof good) => void): unknown => {
      const copy = JSON.parse(JSON.stringify(good)) as typeof good;
      change(copy);
      return copy;
    };
    const refused: Array<[string, unknown, RegExp]> = [
      ['not an object', [], /not a JSON object/],
      ['another schema', variant((r) => (r.schema = 'x/v9')), /schema is "x\/v9"/],
      ['a digest that is not one', variant((r) => (r.digestA = 'sha256:../../etc')), /report\.digestA is not a sha256 digest/],
      ['a verdict that contradicts the digests', variant((r) => (r.reproducible = true)), /reproducible is true but the digests are different/],
      ['a count that is not one', variant((r) => (r.causes[0]!.count = -1)), /causes\[0\]\.count is not a count/],
      ['a cause kind too long for the schema', variant((r) => (r.causes[0]!.kind = 'k'.repeat(65))), /does not fit its schema.*kind: longer than 64/],
      ['examples that are not a list', variant((r) => (r.causes[0]!.examples = 'x')), /examples is not a list/],
    ];
    for (const [what, report, message] of refused) assert.throws(() => reproducibilityPredicate(report, DIGEST), (e: Error) => e instanceof ReportError && message.test(e.message), what);

    const many = variant((r) => {
      r.causes = Array.from({ length: 50 }, (_, i) => ({ ...good.causes[0]!, kind: `k${i}`, cause: `\u001b]8;;x\u0007${'c'.repeat(2000)}`, examples: Array.from({ length: 10 }, (_, j) => `e${j}`) }));
    });
    const p = reproducibilityPredicate(many, DIGEST);
    assert.equal(p.causes.length, MAX_CAUSES);
    assert.equal(p.causesOmitted, 50 - MAX_CAUSES);
    assert.equal(p.causes[0]!.examples.length, 3);
    assert.equal(p.causes[0]!.cause.length, 500);
    assert.ok(![...p.causes[0]!.cause].some((c) => c.charCodeAt(0) < 0x20), 'control characters kept');
  });
});

describe('smoke-test predicate', () => {
  const dist = (m: number) => ({ mean: m, median: m, p90: m * 1.5, p99: m * 2, max: m * 3 });
  const passed: SmokeReport = {
    passed: true,
    image: 'ghcr.io/acme/vllm@sha256:' + 'cd'.repeat(32),
    model: 'Qwen/Qwen2.5-0.5B-Instruct',
    gpu: 'gfx942 AMD Instinct MI300X',
    preflight: [{ check: 'GPUs (KFD topology)', verdict: 'pass', detail: 'node 1: gfx942' }],
    gpus: [{ node: 1, gfx: 'gfx942', name: 'AMD Instinct MI300X', memoryBytes: 206158430208 }],
    probe: { ok: true, verdict: 'ok', detail: 'gfx942 MI300X: matmul agrees', arch: 'gfx942' },
    serverArgs: 'the image\'s entrypoint (vllm serve) with --model',
    entrypoint: ['vllm', 'serve'],
    args: ['Qwen/Qwen2.5-0.5B-Instruct', '--host', '0.0.0.0', '--port', '8000'],
    startupSeconds: 41.25,
    models: ['Qwen/Qwen2.5-0.5B-Instruct'],
    completion: { text: 'Paris', ms: 30 },
    chat: { text: 'Paris', ms: 31 },
    ttftMs: 12.5,
    gfx: 'gfx942',
    load: {
      settings: { inputLen: 1024, outputLen: 128, seed: 0, requestRate: 'inf', concurrency: [1, 4] },
      rows: [1, 4].map((concurrency) => ({ requests: 32, concurrency, completed: 32, failed: 0, durationS: 3.2, requestThroughput: 10, outputThroughput: 640.123456 * concurrency, totalTokenThroughput: 900, totalInputTokens: 32768, totalOutputTokens: 4096, ttftMs: dist(20), tpotMs: dist(5), itlMs: dist(5), e2elMs: dist(300), errors: [] })),
    },
  };

  test('a passed run: GPU, model, start-up, percentiles, tokens/s, requests and checks', () => {
    const p = smokeTestPredicate(JSON.parse(JSON.stringify(passed)));
    assert.equal(p.verdict, 'passed');
    assert.deepEqual(p.gpu.gpus, [{ gfx: 'gfx942', name: 'AMD Instinct MI300X', memoryBytes: 206158430208 }]);
    assert.equal(p.gfx, 'gfx942');
    assert.deepEqual(p.load!.settings, { inputLen: 1024, outputLen: 128, seed: 0, requestRate: 'inf', concurrency: [1, 4] });
    assert.deepEqual(p.load!.rows.map((r) => [r.concurrency, r.outputTokensPerSecond, r.totalInputTokens]), [[1, 640.123, 32768], [4, 2560.494, 32768]]);
    assert.deepEqual(p.load!.rows[0]!.e2elMs, dist(300));
    // The performance gate reads a published smoke-test attestation as its baseline: the same figures, comparable.
    const baseline = baselineFrom(p, 'an attestation');
    assert.equal(baseline.gfx, 'gfx942');
    assert.deepEqual(baseline.rows.map((r) => [r.concurrency, r.outputThroughput]), [[1, 640.123], [4, 2560.494]]);
    assert.deepEqual([p.entrypoint, p.args], [['vllm', 'serve'], ['Qwen/Qwen2.5-0.5B-Instruct', '--host', '0.0.0.0', '--port', '8000']]);
    assert.deepEqual(p.checks, [{ name: 'models', verdict: 'pass' }, { name: 'completion', verdict: 'pass' }, { name: 'chat', verdict: 'pass' }]);
    assert.deepEqual(schemaErrors(docsSchema('smoke-test-v1'), p), []);
  });

  test('a failed check: the verdicts say which, the failure is named', () => {
    const failed: SmokeReport = { ...passed, passed: false, chat: undefined, load: undefined, failure: { phase: 'test', title: 'Wrong answer', message: 'chat said Lyon', logTail: [] } };
    const p = smokeTestPredicate(JSON.parse(JSON.stringify(failed)));
    assert.equal(p.verdict, 'failed');
    assert.deepEqual(p.checks.map((c) => c.verdict), ['pass', 'pass', 'fail']);
    assert.deepEqual(p.failure, { phase: 'test', title: 'Wrong answer' });
    assert.deepEqual(schemaErrors(docsSchema('smoke-test-v1'), p), []);
  });

  test('hostile reports are refused with the field named', () => {
    const bad: Array<[unknown, RegExp]> = [
      [{ ...passed, passed: 'yes' }, /report\.passed is not true or false/],
      [{ ...passed, gpus: {} }, /report\.gpus is not a list/],
      [{ ...passed, startupSeconds: -1 }, /startupSeconds is not a non-negative number/],
      [{ ...passed, load: { ...passed.load, rows: [{ ...passed.load!.rows[0], ttftMs: { mean: 'fast' } }] } }, /rows\[0\]\.ttftMs\.mean/],
      [{ ...passed, command: Array.from({ length: 65 }, () => 'x') }, /command has 65 items/],
      [{ ...passed, gpus: [{ gfx: 'g'.repeat(65), memoryBytes: 1 }] }, /does not fit its schema/],
    ];
    for (const [report, message] of bad) assert.throws(() => smokeTestPredicate(report), (e: Error) => e instanceof ReportError && message.test(e.message), String(message));
  });
});

describe('SBOM', () => {
  const dpkg = [
    'Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2.36-9+deb12u4\n',
    'Package: removed-one\nStatus: deinstall ok config-files\nVersion: 1.0\n',
    'Package: python3.11\nStatus: install ok installed\nArchitecture: amd64\nVersion: 3.11.2-6\nDescription: x\n more\n',
  ].join('\n');
  const metadata = (name: string, version: string) => `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\nSummary: s\n\nName: not-this\n`;
  const site = 'usr/lib/python3/dist-packages';

  test('dpkg, dist-info, Nix store paths, torch\'s hip and vLLM\'s version; whiteouts honoured', async () => {
    const image = makeImage(work, {
      env: ['PATH=/usr/bin', 'PYTORCH_ROCM_ARCH=gfx90a;gfx942'],
      layers: [
        {
          files: [
            { path: 'etc/os-release', content: 'PRETTY_NAME="Debian GNU/Linux 12"\nID=debian\nVERSION_ID="12"\n' },
            { path: 'var/lib/dpkg/status', content: dpkg },
            { path: `${site}/numpy-1.26.4.dist-info/METADATA`, content: metadata('numpy', '1.26.4') },
            { path: `${site}/gone-1.0.dist-info/METADATA`, content: metadata('gone', '1.0') },
            { path: 'nix/store/0123456789abcdfghijklmnpqrsvwxyz-python3.11-torch-2.5.1', dir: true },
            { path: 'nix/store/0123456789abcdfghijklmnpqrsvwxyz-python3.11-torch-2.5.1/lib/x', content: 'x' },
          ],
        },
        {
          files: [
            { path: `${site}/.wh.gone-1.0.dist-info`, content: '' },
            { path: `${site}/site-packages/torch/version.py`, content: "__version__ = '2.5.1+rocm6.2'\ndebug = False\ncuda: Optional[str] = None\nhip: Optional[str] = '6.2.41133-dd7f95766'\n" },
            { path: `${site}/site-packages/torch-2.5.1+rocm6.2.dist-info/METADATA`, content: metadata('torch', '2.5.1+rocm6.2') },
            { path: `${site}/site-packages/vllm/_version.py`, content: "__version__ = version = '0.6.3.post2.dev1+g1a2b3c.rocm624'\n" },
            { path: `${site}/site-packages/Flash_Attn-2.6.3.dist-info/METADATA`, content: metadata('Flash_Attn', '2.6.3') },
          ],
        },
      ],
    });
    const contents = await withImage(image.archive, async (opened) => readImageContents(openedImageSources(opened)[0]!));
    const listed = contents.packages.map((p) => `${p.ecosystem}:${p.name}@${p.version}`);
    assert.deepEqual(listed, ['deb:libc6@2.36-9+deb12u4', 'deb:python3.11@3.11.2-6', 'nix:python3.11-torch@2.5.1', 'pypi:Flash_Attn@2.6.3', 'pypi:numpy@1.26.4', 'pypi:torch@2.5.1+rocm6.2']);
    assert.deepEqual(contents.torch, { version: '2.5.1+rocm6.2', hip: '6.2.41133-dd7f95766', path: `/${site}/site-packages/torch/version.py` });
    assert.equal(contents.vllm?.version, '0.6.3.post2.dev1+g1a2b3c.rocm624');
    assert.deepEqual(contents.rocmTargets, ['gfx90a', 'gfx942']);
    assert.deepEqual(contents.os, { id: 'debian', version: '12' });

    const bom = cycloneDx({ name: 'ghcr.io/acme/vllm', digest: image.topDigest }, contents, { name: 'vllm-rocm-action', version: 'test' });
    const again = cycloneDx({ name: 'ghcr.io/acme/vllm', digest: image.topDigest }, contents, { name: 'vllm-rocm-action', version: 'test' });
    assert.deepEqual(bom, again, 'the same image gives the same document');
    assert.equal(bom.bomFormat, 'CycloneDX');
    assert.equal(bom.specVersion, '1.5');
    assert.match(bom.serialNumber, /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const purls = bom.components.map((c) => c.purl).filter(Boolean);
    assert.ok(purls.includes('pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12'), purls.join('\n'));
    assert.ok(purls.includes('pkg:pypi/flash-attn@2.6.3'), purls.join('\n'));
    assert.ok(purls.includes('pkg:nix/python3.11-torch@2.5.1?outpath=%2Fnix%2Fstore%2F0123456789abcdfghijklmnpqrsvwxyz-python3.11-torch-2.5.1'), purls.join('\n'));
    assert.equal(new Set(bom.components.map((c) => c['bom-ref'])).size, bom.components.length, 'bom-refs are unique');
    assert.deepEqual(bom.metadata.properties.find((p) => p.name === 'vllm-rocm-action:torch:hip')?.value, '6.2.41133-dd7f95766');
  });

  test('hostile image: an oversized dpkg status is not read, a huge METADATA is read only up to its cap', async () => {
    const big = Buffer.alloc(CONTENT_LIMITS.dpkgStatusBytes + 1, 'a');
    const hugeMeta = Buffer.concat([Buffer.from(metadata('big', '1')), Buffer.alloc(8 << 20, 'x')]);
    const image = makeImage(work, { layers: [{ files: [{ path: 'var/lib/dpkg/status', content: big }, { path: `${site}/big-1.dist-info/METADATA`, content: hugeMeta }] }] });
    const before = process.memoryUsage().rss;
    const contents = await withImage(image.archive, async (opened) => readImageContents(openedImageSources(opened)[0]!));
    assert.deepEqual(contents.packages.map((p) => p.name), ['big']);
    assert.match(contents.truncated.join('\n'), /var\/lib\/dpkg\/status is 33554433 bytes, over the 33554432-byte cap: not read/);
    assert.ok(process.memoryUsage().rss - before < 64 << 20, 'the reader held more than it should');
  });

  test('parsers on their own', () => {
    assert.deepEqual(nixNameVersion('python3.11-torch-2.5.1'), { name: 'python3.11-torch', version: '2.5.1' });
    assert.deepEqual(nixNameVersion('glibc-2.39-52-bin'), { name: 'glibc', version: '2.39-52-bin' });
    assert.deepEqual(nixNameVersion('source'), { name: 'source', version: '' });
    // distroless status.d stanzas have no Status line: installed by construction.
    assert.deepEqual(parseDpkgStatus('Package: tzdata\nVersion: 2024a-0+deb12u1\nArchitecture: all\n', 'var/lib/dpkg/status.d/tzdata').map((p) => p.name), ['tzdata']);
    assert.equal(purlOf({ ecosystem: 'pypi', name: 'Foo.Bar_baz', version: '1!2.0', path: 'x' }), 'pkg:pypi/foo-bar-baz@1%212.0');
  });
});

test('cosign attest: key or keyless, the type and the predicate file, by digest', () => {
  const ref = `ghcr.io/acme/vllm@${DIGEST}`;
  const base = { ref, transparencyLog: true, http: false, predicateFile: '/t/p.json', type: PREDICATE_TYPES.smokeTest };
  assert.deepEqual(cosignAttestArgs({ ...base, keyFile: '/t/cosign.key' }), ['attest', '--yes', '--type', PREDICATE_TYPES.smokeTest, '--predicate', '/t/p.json', '--key', '/t/cosign.key', ref]);
  // Keyless: cosign takes the job's OIDC token itself, as cosign sign does.
  assert.deepEqual(cosignAttestArgs({ ...base, transparencyLog: false, http: true }), ['attest', '--yes', '--type', PREDICATE_TYPES.smokeTest, '--predicate', '/t/p.json', '--tlog-upload=false', '--allow-http-registry', ref]);
});
