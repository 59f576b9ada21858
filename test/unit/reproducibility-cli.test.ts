// The command line, run as a child process on Node 24 the way a workflow step or a person runs it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { baseFiles, makeImage, requireTools, scratch, type BuiltImage } from '../fixtures/reproducibility/make-image.js';

// lib/test/unit/ → lib/src/reproducibility/cli.js
const CLI = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'reproducibility', 'cli.js');

let work: string;
let a: BuiltImage;
let b: BuiltImage;

before(() => {
  requireTools('tar', 'gzip');
  work = scratch('repro-cli-');
  a = makeImage(work, { layers: [{ files: baseFiles() }] });
  b = makeImage(work, { layers: [{ files: [...baseFiles(), { path: 'etc/hostname', content: 'builder-42\n' }] }] });
});

after(() => rmSync(work, { recursive: true, force: true }));

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('exit 0 for a reproducible pair', () => {
  const r = cli(a.archive, a.layout);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^REPRODUCIBLE/);
});

test('exit 1 when the images differ, with the JSON report and the Markdown summary written', () => {
  const json = join(work, 'report.json');
  const md = join(work, 'summary.md');
  const r = cli(a.archive, b.archive, '--json', json, '--markdown', md);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stdout, /^NOT REPRODUCIBLE/);
  assert.match(r.stdout, /etc\/hostname/);
  const report = JSON.parse(readFileSync(json, 'utf8'));
  assert.equal(report.reproducible, false);
  assert.equal(report.digestA, a.manifestDigest);
  assert.deepEqual(report.differences.filter((d: { where: string }) => d.where === 'file').map((d: { path: string; kind: string }) => [d.path, d.kind]), [['etc/hostname', 'only-in-b']]);
  assert.match(readFileSync(md, 'utf8'), /^## Reproducibility: ❌ not reproducible/);
});

test('exit 2 for errors and bad usage, with a message on stderr', () => {
  writeFileSync(join(work, 'junk.tar'), Buffer.alloc(2048, 9));
  const broken = cli(a.archive, join(work, 'junk.tar'), '--json', join(work, 'never.json'));
  assert.equal(broken.status, 2);
  assert.match(broken.stderr, /^error: .*junk\.tar is not a readable image archive/);
  assert.equal(existsSync(join(work, 'never.json')), false, 'no report for an error');
  const usage = cli(a.archive);
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /expected two images/);
  assert.equal(cli(a.archive, b.archive, '--bogus').status, 2);
  assert.equal(cli('--help').status, 0);
});

test('describe writes a description; descriptions compare with each other and with images', () => {
  const da = join(work, 'a.json.gz');
  const db = join(work, 'b.json');
  assert.equal(cli('describe', a.archive, '--out', da).status, 0);
  assert.equal(cli('describe', b.layout, '--out', db).status, 0);
  assert.equal(JSON.parse(readFileSync(db, 'utf8')).schema, 'vllm-rocm-action/image-description/v1');
  const both = cli(da, db, '--json', join(work, 'desc-report.json'));
  assert.equal(both.status, 1, both.stderr);
  assert.match(both.stdout, /etc\/hostname/);
  assert.equal(cli(da, a.archive).status, 0);
  assert.equal(cli(b.archive, db).status, 0);
});
