// A forged image description must be an error (exit 2), never REPRODUCIBLE: every digest it claims
// is recomputed from the bytes it carries, and the verdict is never taken from a top digest alone.
// The CLI runs as a child process on Node 24, the way a workflow step runs it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ImageArchiveError } from '../../src/oci/bounds.js';
import type { ImageModel, PlatformImage } from '../../src/oci/image.js';
import { compareModels, type LayerBackend } from '../../src/reproducibility/compare.js';
import { baseFiles, combine, makeImage, requireTools, scratch, type BuiltImage } from '../fixtures/reproducibility/make-image.js';

const CLI = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'reproducibility', 'cli.js');

let work: string;
let honest: BuiltImage;
let evil: BuiltImage;
let honestJson: string;
let evilJson: string;

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

function load(path: string): Json {
  return JSON.parse(readFileSync(path, 'utf8'));
}

function save(name: string, description: Json): string {
  const path = join(work, name);
  writeFileSync(path, JSON.stringify(description));
  return path;
}

/** Compares the forgery with the honest description and with the honest image: an error both ways. */
function assertRefused(forged: string, pattern: RegExp): void {
  for (const args of [[honestJson, forged], [forged, honestJson], [honest.archive, forged]]) {
    const r = cli(...args);
    assert.equal(r.status, 2, `${args.join(' ')}: exit ${r.status}\n${r.stdout}${r.stderr}`);
    assert.doesNotMatch(r.stdout, /REPRODUCIBLE/);
    assert.match(r.stderr, /^error: .*corrupt description/);
    assert.match(r.stderr, pattern);
  }
}

before(() => {
  requireTools('tar', 'gzip');
  work = scratch('forged-');
  honest = makeImage(work, { layers: [{ files: baseFiles() }] });
  evil = makeImage(work, { layers: [{ files: [...baseFiles(), { path: 'usr/bin/backdoor', content: '#!/bin/sh\nexit 0\n', mode: 0o755 }] }] });
  honestJson = join(work, 'honest.json');
  evilJson = join(work, 'evil.json');
  assert.equal(cli('describe', honest.archive, '--out', honestJson).status, 0);
  assert.equal(cli('describe', evil.archive, '--out', evilJson).status, 0);
  // The untouched descriptions agree with their images: the checks below refuse forgeries only.
  assert.equal(cli(honestJson, honest.archive).status, 0);
  assert.equal(cli(honestJson, evilJson).status, 1);
});

after(() => rmSync(work, { recursive: true, force: true }));

test('only top.digest changed to the honest digest: an error, not REPRODUCIBLE', () => {
  const forged = load(evilJson);
  forged.top.digest = load(honestJson).top.digest;
  assertRefused(save('top-only.json', forged), /top digest sha256:[0-9a-f]{64} is not its manifest's/);
});

test('manifest bytes changed without their digest: an error', () => {
  const forged = load(evilJson);
  const manifest = JSON.parse(Buffer.from(forged.images[0].manifest, 'base64').toString('utf8'));
  manifest.annotations = { 'org.opencontainers.image.source': 'https://example.com/trusted' };
  forged.images[0].manifest = Buffer.from(JSON.stringify(manifest)).toString('base64');
  forged.top.digest = load(honestJson).top.digest;
  assertRefused(save('manifest-bytes.json', forged), /manifest bytes hash to sha256:[0-9a-f]{64}, not sha256:/);
});

test('the honest manifest and config over the evil layers: an error', () => {
  const good = load(honestJson);
  const forged = load(evilJson);
  forged.top = good.top;
  forged.images[0].descriptor = good.images[0].descriptor;
  forged.images[0].manifest = good.images[0].manifest;
  forged.images[0].config = good.images[0].config;
  assertRefused(save('swapped.json', forged), /layer 0 is not the one its manifest and config name/);
});

test('an index whose digest is claimed but whose bytes differ, and an image the index does not list', () => {
  const multi = combine(work, [honest]);
  const multiJson = join(work, 'multi.json');
  assert.equal(cli('describe', multi.archive, '--out', multiJson).status, 0);
  assert.equal(cli(multiJson, multi.archive).status, 0);
  const indexBytes = load(multiJson);
  const index = JSON.parse(Buffer.from(indexBytes.index, 'base64').toString('utf8'));
  index.annotations = { forged: 'yes' };
  indexBytes.index = Buffer.from(JSON.stringify(index)).toString('base64');
  const r = cli(save('index-bytes.json', indexBytes), multi.archive);
  assert.equal(r.status, 2, r.stdout + r.stderr);
  assert.match(r.stderr, /the index bytes hash to sha256:[0-9a-f]{64}, not sha256:/);

  const swapped = load(multiJson);
  const evilImage = load(evilJson).images[0];
  swapped.images[0] = evilImage;
  const s = cli(save('index-image.json', swapped), multi.archive);
  assert.equal(s.status, 2, s.stdout + s.stderr);
  assert.match(s.stderr, /is not listed in its index/);
});

test('compare refuses two models that claim one top digest but differ below it', async () => {
  const image = (created: string): PlatformImage => {
    const config = { architecture: 'amd64', os: 'linux', created, rootfs: { type: 'layers', diff_ids: [] } };
    const manifest = { schemaVersion: 2, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${created.padEnd(64, '0')}`, size: 1 }, layers: [] };
    return {
      platform: 'linux/amd64',
      descriptor: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${created.padEnd(64, '1')}`, size: 1 },
      manifestBytes: Buffer.from(JSON.stringify(manifest)),
      manifest,
      configBytes: Buffer.from(JSON.stringify(config)),
      config,
      diffIds: [],
    };
  };
  const top = { digest: `sha256:${'a'.repeat(64)}`, mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 1 };
  const model = (input: string, created: string): ImageModel => ({ input, kind: 'oci-archive', top, images: [image(created)], attestations: [] });
  const backend: LayerBackend = { verify: async () => 0, walk: async () => 0, bytesRead: () => 0, verifiesWalks: false };
  await assert.rejects(compareModels(model('a', 'aa'), model('b', 'bb'), backend), (e: Error) => {
    assert.ok(e instanceof ImageArchiveError);
    assert.match(e.message, /both claim the top digest sha256:a{64} but differ below it/);
    return true;
  });
  const same = await compareModels(model('a', 'aa'), model('b', 'aa'), backend);
  assert.equal(same.reproducible, true);
});
