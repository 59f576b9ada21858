// Reports ordered for a person, on OCI archive pairs with planted differences (real ELF files from
// the machine, .pyc files, wheels written by python3's zipfile, RECORD manifests, gzip members):
// every cause counted and named in stdout, the Markdown summary and the JSON report, rare causes
// first, and the wording when the layering differs.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compareImages } from '../../src/reproducibility/compare.js';
import { findBuildId } from '../../src/reproducibility/layer-walk.js';
import { renderMarkdown } from '../../src/reproducibility/markdown.js';
import type { ComparisonReport, Difference } from '../../src/reproducibility/types.js';
import { elfSection, makeZip, patchElf, recordLine, stringSlot } from '../fixtures/reproducibility/artifacts.js';
import { baseFiles, makeImage, requireTools, run, scratch, type FileSpec } from '../fixtures/reproducibility/make-image.js';
import { fixture } from '../support/fixtures.js';
import { BUSYBOX } from '../support/workspace.js';

const CLI = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'reproducibility', 'cli.js');
const MiB = 1 << 20;
let work: string;
let note: { offset: number; length: number };

before(() => {
  requireTools('tar', 'gzip', 'python3');
  work = scratch('repro-causes-');
  note = findBuildId(readFileSync(BUSYBOX).subarray(0, 64 << 10))!;
  assert.ok(note, 'busybox-static carries a build-id note');
});

after(() => rmSync(work, { recursive: true, force: true }));

function path(name: string): string {
  const p = join(work, name);
  mkdirSync(dirname(p), { recursive: true });
  return p;
}

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs the CLI with every report format; returns stdout, the Markdown and the JSON. */
function reports(a: string, b: string, name: string, ...extra: string[]): { stdout: string; markdown: string; json: ComparisonReport; jsonBytes: number } {
  const json = path(`${name}.json`);
  const md = path(`${name}.md`);
  const r = cli(a, b, '--json', json, '--markdown', md, ...extra);
  assert.equal(r.status, 1, r.stderr);
  return { stdout: r.stdout, markdown: readFileSync(md, 'utf8'), json: JSON.parse(readFileSync(json, 'utf8')) as ComparisonReport, jsonBytes: statSync(json).size };
}

const fileDiffs = (r: ComparisonReport, kind?: string): Difference[] => r.differences.filter((d) => d.where === 'file' && (!kind || d.kind === kind));

/** The real .pyc fixture with its header's source mtime set. */
function pyc(mtime: number): Buffer {
  const bytes = Buffer.from(readFileSync(fixture('reproducibility', 'mod.cpython-311.pyc')));
  bytes.writeUInt32LE(mtime, 8);
  return bytes;
}

describe('rare causes are never hidden by bulk ones', () => {
  test('6,000 .pyc timestamps and one ELF build ID: the ELF file is listed, first, in stdout, Markdown and JSON', () => {
    const elfB = path('bulk/libfoo-b.so');
    patchElf(BUSYBOX, elfB, { buildIdByte: 0xbb }, note);
    const site = (t: number): FileSpec[] =>
      Array.from({ length: 6000 }, (_, i) => ({ path: `usr/lib/python3.11/site-packages/pkg${String(i % 60).padStart(2, '0')}/__pycache__/m${i}.cpython-311.pyc`, content: pyc(t) }));
    const a = makeImage(work, { layers: [{ files: site(1700000000) }, { files: [{ path: 'usr/local/lib/libfoo.so', from: BUSYBOX, mode: 0o755 }] }] });
    const b = makeImage(work, { layers: [{ files: site(1700086400) }, { files: [{ path: 'usr/local/lib/libfoo.so', from: elfB, mode: 0o755 }] }] });
    const { stdout, markdown, json, jsonBytes } = reports(a.archive, b.archive, 'bulk');

    assert.deepEqual(json.causes.map((c) => [c.kind, c.count]), [['elf-build-id', 1], ['pyc-timestamp', 6000]]);
    assert.deepEqual(json.causes[0]!.examples, ['usr/local/lib/libfoo.so']);
    const elf = fileDiffs(json, 'elf-build-id');
    assert.deepEqual(elf.map((d) => d.path), ['usr/local/lib/libfoo.so']);
    assert.equal(json.differences[0]!.path, 'usr/local/lib/libfoo.so', 'the rare cause comes first in the JSON list');
    assert.equal(elf[0]!.b, 'bb'.repeat(note.length));
    assert.equal(json.counts.byKind['pyc-timestamp'], 6000);
    assert.ok(fileDiffs(json, 'pyc-timestamp').length >= 25, 'the bulk cause keeps its own share');
    assert.ok(jsonBytes < MiB, `${jsonBytes} bytes`);
    // What to fix first: the bulk fix by count, the ELF among the rarest.
    assert.deepEqual(json.fixFirst.most.map((l) => [l.kinds, l.count]), [[['pyc-timestamp'], 6000], [['elf-build-id'], 1]]);

    assert.match(stdout, /^NOT REPRODUCIBLE\nWhat to fix first \(most differences\):\n {2}1\. compile \.pyc with --invalidation-mode checked-hash/);
    const elfLine = stdout.indexOf('elf-build-id: ELF build ID; e.g. usr/local/lib/libfoo.so');
    assert.ok(elfLine > 0, stdout);
    assert.ok(elfLine < stdout.indexOf('pyc-timestamp: .pyc source timestamp'), 'rarest first in stdout');
    assert.match(stdout, /\[elf-build-id\] file\[1\] usr\/local\/lib\/libfoo\.so content \(ELF build ID\)/);

    assert.match(markdown, /### What to fix first/);
    assert.ok(markdown.indexOf('### What to fix first') < markdown.indexOf('- A: '), 'the fixes are the first lines');
    assert.ok(markdown.indexOf('| 1 | **ELF build ID**') < markdown.indexOf('| 6000 | **.pyc source timestamp**'));
    assert.match(markdown, /#### ELF build ID: 1\n\n.*\n.*\n\| file \(layer 1\) \| `usr\/local\/lib\/libfoo\.so` content \(ELF build ID\)/);
  });

  test('100,000 differences: stdout, the Markdown and the JSON report all stay under 1 MiB', async () => {
    // Half the files change content, all change mtime (tar --mtime): two bulk causes and created.
    const files = (side: string): FileSpec[] => Array.from({ length: 100_000 }, (_, i) => ({ path: `srv/d${String(i % 200).padStart(3, '0')}/f${i}`, content: i % 2 === 0 ? `${side}${i}` : `${i}` }));
    const a = makeImage(work, { layers: [{ files: files('a'), mtime: 1700000000 }] });
    const b = makeImage(work, { layers: [{ files: files('b'), mtime: 1700000001 }], created: '2026-01-01T00:00:00Z' });
    const { stdout, markdown, json, jsonBytes } = reports(a.archive, b.archive, 'huge');
    assert.ok(json.counts.total >= 100_000, String(json.counts.total));
    assert.deepEqual(json.causes.map((c) => c.kind), ['config-created', 'history-created', 'content', 'mtime']);
    for (const [name, size] of [['stdout', Buffer.byteLength(stdout)], ['markdown', Buffer.byteLength(markdown)], ['json', jsonBytes]] as const) {
      assert.ok(size < MiB, `${name}: ${size} bytes`);
    }
    assert.equal(json.differences.length, 1000);
    assert.doesNotMatch(markdown, /summary truncated/);
  });
});

describe('causes inside files', () => {
  test('a wheel whose members carry other times: zip timestamps, with the SOURCE_DATE_EPOCH fix', async () => {
    const members = [
      { name: 'vllm/__init__.py', content: 'version = "0.6"\n' },
      { name: 'vllm/engine.py', content: 'def run():\n    return 1\n'.repeat(50) },
      { name: 'vllm-0.6.dist-info/WHEEL', content: 'Wheel-Version: 1.0\n' },
    ];
    const whlA = path('wheel/a/vllm-0.6-py3-none-any.whl');
    const whlB = path('wheel/b/vllm-0.6-py3-none-any.whl');
    const whlC = path('wheel/c/vllm-0.6-py3-none-any.whl');
    makeZip(whlA, { members, dateTime: [1980, 1, 1, 0, 0, 0] });
    makeZip(whlB, { members, dateTime: [2026, 12, 1, 10, 22, 4] });
    makeZip(whlC, { members: [...members.slice(0, 1), { name: 'vllm/engine.py', content: 'changed\n' }, ...members.slice(2)], dateTime: [2026, 12, 1, 10, 22, 4] });
    const image = (from: string): string => makeImage(work, { layers: [{ files: [...baseFiles(), { path: 'opt/dist/vllm-0.6-py3-none-any.whl', from }] }] }).archive;
    const a = image(whlA);
    const report = await compareImages(a, image(whlB));
    const [d] = fileDiffs(report);
    assert.equal(fileDiffs(report).length, 1);
    assert.equal(d!.kind, 'zip-timestamps');
    assert.equal(d!.a, '1980-01-01 00:00:00');
    assert.equal(d!.b, '2026-12-01 10:22:04');
    assert.match(d!.detail!, /^3 of 3 members have other times, e\.g\. `vllm\/__init__\.py`/);
    assert.match(d!.fix, /SOURCE_DATE_EPOCH/);
    assert.match(d!.fix, /pip wheel/);
    assert.match(d!.fix, /python -m build/);
    assert.match(renderMarkdown(report), /zip member timestamps/);
    // Times and one member's content: each named on its own.
    const both = await compareImages(a, image(whlC));
    assert.deepEqual(fileDiffs(both).map((x) => x.kind), ['zip-content', 'zip-timestamps']);
    assert.match(fileDiffs(both)[0]!.detail!, /1 member with other content: `vllm\/engine\.py`/);
    assert.equal(both.counts.filesDiffering, 1, 'one file, two causes');
  });

  test('an ELF file with another __TIME__ string in .rodata (and so another build ID): the build time, named', async () => {
    const rodata = elfSection(BUSYBOX, '.rodata');
    const original = readFileSync(BUSYBOX);
    const at = stringSlot(original, rodata, 24);
    const elfA = path('time/a.so');
    const elfB = path('time/b.so');
    patchElf(BUSYBOX, elfA, { rodata: { at, slot: 24, text: 'Dec  1 2026 10:22:01' } });
    patchElf(BUSYBOX, elfB, { buildIdByte: 0xcd, rodata: { at, slot: 24, text: 'Dec  1 2026 10:25:13' } }, note);
    const image = (from: string): string => makeImage(work, { layers: [{ files: [{ path: 'usr/lib/x86_64-linux-gnu/libhip.so.6', from }] }] }).archive;
    const report = await compareImages(image(elfA), image(elfB));
    const [d] = fileDiffs(report);
    assert.equal(d!.kind, 'elf-build-time');
    assert.equal(d!.path, 'usr/lib/x86_64-linux-gnu/libhip.so.6');
    assert.equal(d!.a, 'Dec  1 2026 10:22:01');
    assert.equal(d!.b, 'Dec  1 2026 10:25:13');
    assert.match(d!.detail!, /build ID [0-9a-f]{16}… → cdcdcdcdcdcdcdcd… \(\.note\.gnu\.build-id\)/);
    assert.match(d!.detail!, /__DATE__\/__TIME__ strings in \.rodata: "Dec {2}1 2026 10:22:01" → "Dec {2}1 2026 10:25:13"/);
    assert.match(d!.detail!, /sections that differ \(to 4096-byte blocks\): [^;]*\.rodata/);
    assert.match(d!.fix, /SOURCE_DATE_EPOCH/);
    // Another section changed too (a byte of .text): the sections are named, the cause is not a time.
    const text = elfSection(BUSYBOX, '.text');
    const code = Buffer.from(original);
    code[text[0] + Math.floor(text[1] / 2)]! ^= 0xff;
    const elfC = path('time/c.so');
    writeFileSync(elfC, code);
    const [s] = fileDiffs(await compareImages(image(BUSYBOX), image(elfC)));
    assert.equal(s!.kind, 'elf-sections');
    assert.match(s!.detail!, /sections that differ \(to 4096-byte blocks\): \.text$/);
  });

  test('a RECORD that differs only because a file it lists differs: a consequence, pointing at that file', async () => {
    const soB = path('record/_C-b.so');
    patchElf(BUSYBOX, soB, { buildIdByte: 0xee }, note);
    const init = Buffer.from('from ._C import *\n');
    const site = 'usr/lib/python3.11/site-packages';
    const record = (so: Buffer, initBytes = init): string =>
      [recordLine('vllm/__init__.py', initBytes), recordLine('vllm/_C.abi3.so', so), 'vllm-0.6.dist-info/RECORD,,', ''].join('\n');
    const files = (so: string, rec: string): FileSpec[] => [
      { path: `${site}/vllm/__init__.py`, content: init },
      { path: `${site}/vllm/_C.abi3.so`, from: so },
      { path: `${site}/vllm-0.6.dist-info/RECORD`, content: rec },
    ];
    const a = makeImage(work, { layers: [{ files: files(BUSYBOX, record(readFileSync(BUSYBOX))) }] });
    const b = makeImage(work, { layers: [{ files: files(soB, record(readFileSync(soB))) }] });
    const { json, markdown, stdout } = reports(a.archive, b.archive, 'record');
    assert.deepEqual(json.causes.map((c) => [c.kind, c.count, !!c.consequence]), [['elf-build-id', 1, false], ['manifest-consequence', 1, true]]);
    const rec = fileDiffs(json, 'manifest-consequence')[0]!;
    assert.equal(rec.path, `${site}/vllm-0.6.dist-info/RECORD`);
    assert.match(rec.detail!, /differs only in the hashes of 1 listed file that differ: `usr\/lib\/python3\.11\/site-packages\/vllm\/_C\.abi3\.so`/);
    assert.ok(json.fixFirst.most.every((l) => !l.kinds.includes('manifest-consequence')), 'a consequence is not a fix');
    assert.match(stdout, /manifest-consequence \(consequence\)/);
    assert.match(markdown, /manifest hashing changed files \(consequence\)/);
    // A RECORD line for a file that is equal in the image: the RECORD itself is a cause.
    const c = makeImage(work, { layers: [{ files: files(BUSYBOX, record(readFileSync(BUSYBOX), Buffer.from('other\n'))) }] });
    const own = await compareImages(a.archive, c.archive);
    const [d] = fileDiffs(own);
    assert.equal(d!.kind, 'content');
    assert.match(d!.detail!, /RECORD: 1 listed file with another recorded hash; it records other hashes for 1 file that are equal in the image: `usr\/lib\/python3\.11\/site-packages\/vllm\/__init__\.py`/);
  });

  test('gzip members whose headers record another mtime and name: the gzip header, with gzip -n', async () => {
    const gz = (mtime: number, name: string): string => {
      const source = path(`gz/${mtime}/${name}`);
      writeFileSync(source, 'changelog entry\n'.repeat(200));
      utimesSync(source, mtime, mtime);
      run('gzip', ['-9', '-k', '-f', source]);
      return `${source}.gz`;
    };
    const image = (from: string): string => makeImage(work, { layers: [{ files: [{ path: 'usr/share/doc/pkg/changelog.gz', from }] }] }).archive;
    const report = await compareImages(image(gz(1700000000, 'changelog')), image(gz(1700003600, 'changelog.Debian')));
    const [d] = fileDiffs(report);
    assert.equal(d!.kind, 'gzip-header');
    assert.equal(d!.a, 'mtime 1700000000, name "changelog", OS 3');
    assert.equal(d!.b, 'mtime 1700003600, name "changelog.Debian", OS 3');
    assert.match(d!.fix, /gzip -n/);
  });
});

describe('report wording (issue 7 §7)', () => {
  const entryRatios = (text: string): Array<[number, number]> => [...text.matchAll(/(\d+) of (\d+)/g)].map((m) => [Number(m[1]), Number(m[2])]);

  test('the same files in other layers: "same filesystem, different layers", never "4 of 2"', () => {
    const app: FileSpec[] = [
      { path: 'opt/app/a.txt', content: 'a\n' },
      { path: 'opt/app/b.txt', content: 'b\n' },
    ];
    const layered = makeImage(work, { layers: [{ files: baseFiles() }, { files: app }] });
    const squashed = makeImage(work, { layers: [{ files: [...baseFiles(), ...app] }] });
    const { stdout, markdown, json } = reports(layered.archive, squashed.archive, 'layering');
    assert.match(stdout, /layer counts differ \(A 2, B 1\), but the flattened filesystems are equal: same filesystem, different layers/);
    assert.match(markdown, /same filesystem, different layers/);
    assert.deepEqual(json.ladder.platforms[0]!.filesystem, { compared: 12, differing: 0, onlyInA: 0, onlyInB: 0 });
    // The history's length follows the layers; nothing else differs.
    assert.deepEqual(json.causes.map((c) => c.kind).sort(), ['config-field', 'layer-count', 'layering']);
    assert.deepEqual(fileDiffs(json), []);
    for (const [x, y] of [...entryRatios(stdout), ...entryRatios(markdown)]) assert.ok(x <= y, `"${x} of ${y}"`);
  });

  test('a whiteout in the upper layer: the flattened filesystems are compared as a runtime sees them', async () => {
    const withExtra = makeImage(work, { layers: [{ files: [...baseFiles(), { path: 'opt/app/tmp.log', content: 'build log\n' }] }, { files: [{ path: 'opt/app/.wh.tmp.log', content: '' }] }] });
    const plain = makeImage(work, { layers: [{ files: baseFiles() }] });
    const report = await compareImages(withExtra.archive, plain.archive);
    assert.equal(report.ladder.platforms[0]!.filesystem!.differing, 0);
    assert.ok(report.differences.some((d) => d.kind === 'layering'));
  });

  test('other layering and a changed file: the file is named with its layer-free path; counts add up', () => {
    const a = makeImage(work, { layers: [{ files: baseFiles() }, { files: [{ path: 'opt/app/x', content: '1\n' }, { path: 'opt/app/only-a', content: 'a\n' }] }] });
    const b = makeImage(work, { layers: [{ files: [...baseFiles(), { path: 'opt/app/x', content: '2\n' }] }] });
    const { stdout, markdown, json } = reports(a.archive, b.archive, 'layering-diff');
    assert.deepEqual(fileDiffs(json).map((d) => [d.path, d.kind, d.layer]), [['opt/app/x', 'content', undefined], ['opt/app/only-a', 'only-in-a', undefined]]);
    assert.match(stdout, /layer counts differ \(A 2, B 1\); flattened filesystems compared: 1 of 11 paths present on both sides differ, 1 only in A/);
    assert.ok(!json.differences.some((d) => d.kind === 'layering'));
    for (const [x, y] of [...entryRatios(stdout), ...entryRatios(markdown)]) assert.ok(x <= y, `"${x} of ${y}"`);
  });

  test('only the side given as a description is labelled "(description)"', () => {
    const a = makeImage(work, { layers: [{ files: baseFiles() }] });
    const b = makeImage(work, { layers: [{ files: [...baseFiles(), { path: 'etc/hostname', content: 'x\n' }] }] });
    const description = path('label/a.json');
    assert.equal(cli('describe', a.archive, '--out', description).status, 0);
    const r = cli(description, b.archive);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, /^A sha256:[0-9a-f]{64} \(oci-archive \(description\)\) /m);
    assert.match(r.stdout, /^B sha256:[0-9a-f]{64} \(oci-archive\) /m);
    const swapped = cli(b.archive, description);
    assert.match(swapped.stdout, /^A sha256:[0-9a-f]{64} \(oci-archive\) /m);
    assert.match(swapped.stdout, /^B sha256:[0-9a-f]{64} \(oci-archive \(description\)\) /m);
  });
});
