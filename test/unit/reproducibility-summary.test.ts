// The job summary stays under GitHub's 1 MiB limit however many files differ, and image
// descriptions (the artifact cross-check) give the same verdict as the direct comparison.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { compareImages } from '../../src/reproducibility/compare.js';
import { compareDescriptions, describeImage, readDescription, writeDescription } from '../../src/reproducibility/describe.js';
import { renderMarkdown } from '../../src/reproducibility/markdown.js';
import { ImageArchiveError } from '../../src/oci/bounds.js';
import type { ComparisonReport, Difference } from '../../src/reproducibility/types.js';
import { baseFiles, EPOCH, makeImage, requireTools, scratch, type BuiltImage, type FileSpec, type ImageSpec } from '../fixtures/reproducibility/make-image.js';

const MiB = 1 << 20;
let work: string;

before(() => {
  requireTools('tar', 'gzip');
  work = scratch('repro-summary-');
});

after(() => rmSync(work, { recursive: true, force: true }));

describe('the Markdown summary', () => {
  let a: BuiltImage;
  let b: BuiltImage;
  before(() => {
    const files = (side: string): FileSpec[] => Array.from({ length: 20_000 }, (_, i) => ({ path: `data/${String(i % 100).padStart(2, '0')}/file-${i}.txt`, content: `${side} ${i}\n` }));
    a = makeImage(work, { layers: [{ files: baseFiles() }, { files: files('a') }], labels: { changed: 'no' } });
    b = makeImage(work, { layers: [{ files: baseFiles() }, { files: files('b') }], labels: { changed: 'yes' } });
  });

  test('20 000 differing files: every one counted, the summary under 1 MiB with a "… N more" line', async () => {
    const report = await compareImages(a.archive, b.archive, { maxDifferences: Number.POSITIVE_INFINITY });
    const fileDiffs = report.differences.filter((d) => d.where === 'file');
    assert.equal(fileDiffs.length, 20_000);
    assert.ok(fileDiffs.every((d) => d.kind === 'content'));
    assert.equal(report.counts.filesDiffering, 20_000);
    const markdown = renderMarkdown(report);
    const size = Buffer.byteLength(markdown, 'utf8');
    assert.ok(size < MiB, `${size} bytes`);
    assert.ok(size < 64 << 10, `the default summary is small (${size} bytes)`);
    assert.match(markdown, /^## Reproducibility: ❌ not reproducible/);
    assert.match(markdown, /#### non-deterministic content: 20000\n/);
    assert.match(markdown, /… 19990 more \(the JSON report lists 19990 more\)/);
    assert.match(markdown, /\| file \(layer 1\) \| `data\/00\/file-0\.txt` content sha256 \|/);
    assert.match(markdown, /\| layer 1 \| ❌ differs: 20000 of 20101 entries present on both sides differ \|/);
    // The rare cause (one label) comes before the bulk one, in the causes and in the lists.
    assert.ok(markdown.indexOf('| 1 | **config field') < markdown.indexOf('| 20000 | **non-deterministic content'));
    assert.ok(markdown.indexOf('#### config field') < markdown.indexOf('#### non-deterministic content'));
    assert.match(markdown, /Read [\d.]+ (KiB|MiB) in [\d.]+ s \(\d+ MB\/s\)/);
    // Asking for every row still stays under the limit: the output is cut at a line.
    const all = renderMarkdown(report, { maxRows: 1_000_000 });
    assert.ok(Buffer.byteLength(all, 'utf8') <= 1000 * 1024);
    assert.match(all, /summary truncated to stay under the step-summary limit/);
  });

  test('the report lists 1000 entries by default, shared by the causes, and counts them all', async () => {
    const report = await compareImages(a.archive, b.archive);
    assert.equal(report.differences.length, 1000);
    assert.equal(report.counts.total, 20_001);
    assert.equal(report.counts.notListed, 19_001);
    assert.equal(report.counts.byKind.content, 20_000);
    assert.equal(report.counts.byKind['config-field'], 1);
    assert.equal(report.differences[0]!.field, 'config.Labels.changed', 'the rare cause comes first');
    assert.deepEqual(report.causes.map((c) => [c.kind, c.count, c.listed]), [['config-field', 1, 1], ['content', 20_000, 999]]);
    assert.ok(Buffer.byteLength(JSON.stringify(report, null, 2)) < MiB);
    assert.match(renderMarkdown(report), /the JSON report lists 989 more; 19001 are counted only/);
    // --max-differences is per cause.
    const capped = await compareImages(a.archive, b.archive, { maxDifferences: 3 });
    assert.deepEqual(capped.causes.map((c) => [c.kind, c.listed]), [['config-field', 1], ['content', 3]]);
  });

  test('hostile paths and huge values cannot break the table or the size cap', () => {
    const nasty = `a|b<script>\`x\`\n${'é'.repeat(5000)}`;
    const differences: Difference[] = Array.from({ length: 20_000 }, (_, i) => ({
      where: 'file',
      kind: 'content',
      layer: { index: i % 300 },
      path: `${nasty}/${i}`,
      field: 'content sha256',
      a: nasty,
      b: 'f'.repeat(64),
      cause: nasty,
      fix: nasty,
    }));
    const layers = Array.from({ length: 300 }, (_, i) => ({ index: i, status: 'differs' as const, equal: false, a: { digest: `sha256:${'a'.repeat(64)}`, size: i, diffId: nasty }, b: undefined }));
    const report: ComparisonReport = {
      schema: 'vllm-rocm-action/reproducibility-report/v1',
      reproducible: false,
      contentReproducible: false,
      digestA: nasty,
      digestB: nasty,
      a: { input: nasty, kind: nasty },
      b: { input: nasty, kind: nasty },
      ladder: {
        top: { equal: false, a: nasty, b: nasty },
        platforms: Array.from({ length: 40 }, (_, i) => ({ platform: `${nasty}${i}`, manifest: { equal: false }, config: { equal: false }, layers })),
        attestations: { a: [], b: [] },
      },
      differences,
      counts: { total: 20_000, byWhere: { file: 20_000 }, byKind: { content: 20_000 }, filesCompared: 20_000, filesDiffering: 20_000, filesOnlyInA: 0, filesOnlyInB: 0, notListed: 0 },
      causes: Array.from({ length: 30 }, () => ({ kind: 'content' as const, count: 1, cause: nasty, fix: nasty, fixLabel: nasty, examples: [nasty, nasty], listed: 1 })),
      fixFirst: { most: [{ fixLabel: nasty, fix: nasty, count: 1, kinds: ['content'], examples: [nasty] }], rarest: [] },
      stats: { bytesRead: 1, seconds: 1, throughputMBps: 1, bytesWalked: 1, blobsVerified: 1 },
    };
    const markdown = renderMarkdown(report);
    assert.ok(Buffer.byteLength(markdown, 'utf8') <= 1000 * 1024);
    // A code span closes at the first backtick run as long as its opening one (CommonMark): the
    // backticks in the path stay inside a span opened with more.
    assert.ok(!markdown.replace(/(`+)[^\n]*?[^`\n]\1(?!`)/g, '').includes('<script>'), 'HTML only inside code spans');
    assert.match(markdown, /``a\\\|b<script>`x` é/, 'the path shown as it is, its backticks kept');
    for (const line of markdown.split('\n').filter((l) => l.startsWith('| file'))) {
      assert.equal(line.replace(/\\\|/g, '').split('|').length, 7, 'five cells, pipes escaped');
    }
  });

  test('a reproducible verdict renders as one short success block', async () => {
    const report = await compareImages(a.archive, a.archive);
    const markdown = renderMarkdown(report);
    assert.match(markdown, /^## Reproducibility: ✅ reproducible/);
    assert.match(markdown, /\| layer 1 \| ✅ equal \|/);
    assert.doesNotMatch(markdown, /Differing files/);
  });
});

describe('image descriptions (artifact mode)', () => {
  const strip = (r: ComparisonReport): unknown => ({ ...r, stats: undefined, a: undefined, b: undefined });

  const pairs: Array<[string, ImageSpec, ImageSpec]> = [];
  before(() => {
    const timed = (t: number): FileSpec[] => baseFiles().map((f) => (f.symlink ? f : { ...f, mtime: t }));
    const text: FileSpec = { path: 'opt/text', content: 'words '.repeat(30000) };
    pairs.push(
      ['identical', { layers: [{ files: baseFiles() }] }, { layers: [{ files: baseFiles() }] }],
      ['random content', { layers: [{ files: [...baseFiles(), { path: 'r', content: randomBytes(32) }] }] }, { layers: [{ files: [...baseFiles(), { path: 'r', content: randomBytes(32) }] }] }],
      ['mtimes', { layers: [{ files: timed(EPOCH), mtime: null }] }, { layers: [{ files: timed(EPOCH + 1), mtime: null }] }],
      ['file order', { layers: [{ files: baseFiles() }] }, { layers: [{ files: [...baseFiles()].reverse(), keepOrder: true }] }],
      ['gzip level', { layers: [{ files: [text], gzip: 1 }] }, { layers: [{ files: [text], gzip: 9 }] }],
      ['config and attestation', { layers: [{ files: baseFiles() }] }, { layers: [{ files: baseFiles() }], created: '2024-01-01T00:00:00Z', attestation: 'now' }],
    );
  });

  test('describe + compareDescriptions gives the direct comparison\'s verdict and differences', async () => {
    for (const [name, specA, specB] of pairs) {
      const a = makeImage(work, specA);
      const b = makeImage(work, specB);
      const direct = await compareImages(a.archive, b.archive);
      const viaDescriptions = await compareDescriptions(await describeImage(a.archive), await describeImage(b.layout));
      assert.equal(viaDescriptions.reproducible, direct.reproducible, name);
      assert.deepEqual(strip(viaDescriptions), strip(direct), name);
      assert.match(viaDescriptions.a.kind, /\(description\)$/);
    }
  });

  test('a description survives JSON (gzip\'ed) and is much smaller than the image', async () => {
    const big: FileSpec[] = [...baseFiles(), { path: 'opt/blob.bin', content: randomBytes(2 * MiB) }];
    const image = makeImage(work, { layers: [{ files: big }] });
    const description = await describeImage(image.archive);
    assert.equal(description.top.digest, image.manifestDigest);
    assert.equal(description.images[0]!.layers[0]!.files.length, 11);
    const path = join(work, 'description.json.gz');
    await writeDescription(description, path);
    assert.ok(statSync(path).size < 4096, `${statSync(path).size} bytes`);
    assert.ok(statSync(image.archive).size > 2 * MiB);
    const { description: back } = await readDescription(path);
    assert.deepEqual(back, JSON.parse(JSON.stringify(description)));
    const report = await compareDescriptions(back, description);
    assert.equal(report.reproducible, true);
  });

  test('a tampered description is refused', async () => {
    const image = makeImage(work, { layers: [{ files: baseFiles() }] });
    const description = await describeImage(image.archive);
    const tampered = JSON.parse(JSON.stringify(description));
    const manifest = JSON.parse(Buffer.from(tampered.images[0].manifest, 'base64').toString('utf8'));
    manifest.annotations = { sneaky: 'yes' };
    tampered.images[0].manifest = Buffer.from(JSON.stringify(manifest)).toString('base64');
    await assert.rejects(compareDescriptions(tampered, description), (e: Error) => e instanceof ImageArchiveError && /corrupt description/.test(e.message));
    const path = join(work, 'not-a-description.json');
    await writeDescription({ ...description, schema: 'other' as never }, path);
    await assert.rejects(readDescription(path), /is not an image description/);
    assert.ok(readFileSync(path).length > 0);
  });
});
