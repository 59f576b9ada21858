// Splitting a file:// binary cache into shard entries and putting it back together: pure logic,
// on the file names Nix 2.8 and 2.26 wrote (the captured .narinfo files and their URL lines).
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shardFamily } from '../../src/build-nix/binary-cache.js';
import {
  MAX_SHARDS,
  SHARD_MANIFEST_FORMAT,
  checkShard,
  describeCacheFiles,
  identifyShard,
  isCacheFileName,
  mergeShard,
  parseShardManifest,
  planShards,
  shardKey,
  type CacheFile,
  type ShardManifest,
} from '../../src/nix/cache-shards.js';
import { fixture } from '../support/fixtures.js';

/** Every name a captured file:// cache holds: nix-cache-info, the .narinfo files and the NARs they name. */
function capturedNames(version: string): string[] {
  const dir = fixture('nix', version, 'file-cache-narinfo');
  const narinfos = readdirSync(dir);
  const nars = narinfos.map((n) => /^URL: (.*)$/m.exec(readFileSync(join(dir, n), 'utf8'))![1]!);
  return ['nix-cache-info', ...narinfos, ...nars];
}

const KEY = 'vllm-rocm-action-nix-x86_64-linux-0123456789ab-2.8.1-0123456789abcdef-48scx80a40ynaqprgws5hmxmc7cl0h9h';
const FAMILY = shardFamily(KEY);
const KEY_PATTERN = new RegExp(`^${FAMILY}-[0-9]+-of-[0-9]+-[0-9a-f]{16}$`);
const file = (path: string, size: number, sha256 = 'a'.repeat(64)): CacheFile => ({ path, size, sha256 });

test('the names Nix 2.8 and 2.26 write in a file:// cache are taken; others, and any way out, are not', () => {
  for (const version of ['2.8', '2.26']) for (const name of capturedNames(version)) assert.ok(isCacheFileName(name), name);
  assert.ok(isCacheFileName('nar/0g7f229qprnrd7wladmd71sfivpjm00dxkx586dzw60928zc9mv1.nar.zst'), 'zstd, as post writes (captured from nix copy 2.8)');
  for (const bad of ['../48scx80a40ynaqprgws5hmxmc7cl0h9h.narinfo', '/etc/passwd', 'nar/../../x.nar', 'nar/18n5gv6hz3qx1mnqp03rjagldn3fy84jdfj9zxwk5qgrzi7s51b9.nar.sh', 'nix-cache-info/x', '48scx80a40ynaqprgws5hmxmc7cl0h9e.narinfo', 'evil.sh', '']) {
    assert.equal(isCacheFileName(bad), false, bad);
  }
});

test('planShards: first fit by decreasing size, every shard within the bound, the same split for any order', () => {
  const files = [file('a', 5), file('b', 4), file('c', 3), file('d', 2), file('e', 1), file('f', 9)];
  const shards = planShards(files, 6);
  assert.deepEqual(shards.map((s) => s.map((f) => f.path)), [['f'], ['a', 'e'], ['b', 'd'], ['c']]);
  for (const shard of shards.slice(1)) assert.ok(shard.reduce((n, f) => n + f.size, 0) <= 6);
  assert.deepEqual(planShards([...files].reverse(), 6), shards);
  assert.deepEqual(planShards(files, 100).length, 1, 'under the bound: one shard');
  assert.deepEqual(planShards(files, 100)[0]!.map((f) => f.path), ['a', 'b', 'c', 'd', 'e', 'f']);
  assert.throws(() => planShards(files, 0), RangeError);
});

test('a shard key names the family, its place and its content', () => {
  const a = shardKey(FAMILY, 0, 3, [file('nix-cache-info', 3)]);
  assert.match(a, KEY_PATTERN);
  assert.ok(a.startsWith(`${FAMILY}-1-of-3-`));
  assert.notEqual(a, shardKey(FAMILY, 0, 3, [file('nix-cache-info', 4)]));
  assert.ok(!a.startsWith('vllm-rocm-action-nix-'), 'no restore key of a manifest is a prefix of a shard key');
});

function manifest(): ShardManifest {
  const one = [file('nix-cache-info', 3), file('48scx80a40ynaqprgws5hmxmc7cl0h9h.narinfo', 5)];
  const two = [file('nar/1lz75137m6ildzpkkqj8kdq2iw55zj490kbpkq1i97aq67j3dmwi.nar.xz', 7)];
  return { format: SHARD_MANIFEST_FORMAT, shards: [{ key: shardKey(FAMILY, 0, 2, one), files: one }, { key: shardKey(FAMILY, 1, 2, two), files: two }] };
}

test('parseShardManifest takes what saveShards writes and refuses a manifest that is not one', () => {
  const good = manifest();
  assert.deepEqual(parseShardManifest(JSON.stringify(good), KEY_PATTERN), good);
  const refused = (m: unknown, why: RegExp): void => assert.throws(() => parseShardManifest(typeof m === 'string' ? m : JSON.stringify(m), KEY_PATTERN), why);
  refused('{not json', /not JSON/);
  refused({ ...good, format: 'other/1' }, /is not vllm-rocm-action-nix-cache-shards\/1/);
  refused({ ...good, shards: [] }, /no shards/);
  refused({ ...good, shards: Array.from({ length: MAX_SHARDS + 1 }, () => good.shards[0]) }, /more than 256/);
  refused({ ...good, shards: [good.shards[0], good.shards[0]] }, /twice/);
  refused({ ...good, shards: [{ ...good.shards[0], key: 'vllm-rocm-action-nixshard-other-1-of-2-0123456789abcdef' }] }, /no key of this cache/);
  refused({ ...good, shards: [good.shards[0], { ...good.shards[1], files: [good.shards[0]!.files[0]] }] }, /nix-cache-info in two places/);
  refused({ ...good, shards: [{ ...good.shards[0], files: [file('../../../home/runner/.bashrc', 1)] }] }, /not one of a Nix binary cache/);
  refused({ ...good, shards: [{ ...good.shards[0], files: [file('nix-cache-info', -1)] }] }, /no size/);
  refused({ ...good, shards: [{ ...good.shards[0], files: [file('nix-cache-info', 1, 'zz')] }] }, /no SHA-256/);
  refused({ ...good, shards: [{ ...good.shards[0], files: [] }] }, /lists no files/);
});

test('a restored shard is told by the names it holds, and must hold exactly one shard\'s names', () => {
  const m = manifest();
  assert.equal(identifyShard(m, ['nar/1lz75137m6ildzpkkqj8kdq2iw55zj490kbpkq1i97aq67j3dmwi.nar.xz']), 1);
  assert.equal(identifyShard(m, ['48scx80a40ynaqprgws5hmxmc7cl0h9h.narinfo', 'nix-cache-info']), 0);
  assert.throws(() => identifyShard(m, ['nix-cache-info']), /does not list together/);
  assert.throws(() => identifyShard(m, ['nix-cache-info', '48scx80a40ynaqprgws5hmxmc7cl0h9h.narinfo', 'extra']), /does not list together/);
});

test('checkShard compares sizes and SHA-256 with the manifest; mergeShard never replaces a file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'shard-'));
  mkdirSync(join(dir, 'nar'));
  writeFileSync(join(dir, 'nix-cache-info'), 'StoreDir: /nix/store\n');
  writeFileSync(join(dir, 'nar', '1lz75137m6ildzpkkqj8kdq2iw55zj490kbpkq1i97aq67j3dmwi.nar.xz'), 'nar bytes');
  const files = await describeCacheFiles(dir);
  assert.deepEqual(files.map((f) => f.path), ['nar/1lz75137m6ildzpkkqj8kdq2iw55zj490kbpkq1i97aq67j3dmwi.nar.xz', 'nix-cache-info']);
  assert.deepEqual(files[1], { path: 'nix-cache-info', size: 21, sha256: createHash('sha256').update('StoreDir: /nix/store\n').digest('hex') });
  const shard = { key: shardKey(FAMILY, 0, 1, files), files };
  await checkShard(dir, shard);

  writeFileSync(join(dir, 'nar', '1lz75137m6ildzpkkqj8kdq2iw55zj490kbpkq1i97aq67j3dmwi.nar.xz'), 'nar bytez');
  await assert.rejects(checkShard(dir, shard), /does not match its manifest's SHA-256/);
  writeFileSync(join(dir, 'nar', '1lz75137m6ildzpkkqj8kdq2iw55zj490kbpkq1i97aq67j3dmwi.nar.xz'), 'nar bytes!');
  await assert.rejects(checkShard(dir, shard), /not the size its manifest gives/);
  writeFileSync(join(dir, 'nar', '1lz75137m6ildzpkkqj8kdq2iw55zj490kbpkq1i97aq67j3dmwi.nar.xz'), 'nar bytes');
  writeFileSync(join(dir, 'stray'), '');
  await assert.rejects(checkShard(dir, shard), /does not hold exactly the files/);

  const into = mkdtempSync(join(tmpdir(), 'merged-'));
  writeFileSync(join(into, 'nix-cache-info'), 'first');
  await assert.rejects(mergeShard(dir, shard, into), /two shards hold nix-cache-info/);
  assert.equal(readFileSync(join(into, 'nix-cache-info'), 'utf8'), 'first', 'the file already merged stays');
});

test('checkShard with the digests extraction computed: compared with the manifest and the files on disk, nothing read again', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'shard-'));
  mkdirSync(join(dir, 'nar'));
  const nar = 'nar/1lz75137m6ildzpkkqj8kdq2iw55zj490kbpkq1i97aq67j3dmwi.nar.xz';
  writeFileSync(join(dir, 'nix-cache-info'), 'StoreDir: /nix/store\n');
  writeFileSync(join(dir, nar), 'nar bytes');
  const files = await describeCacheFiles(dir);
  const shard = { key: shardKey(FAMILY, 0, 1, files), files };
  const written = () => new Map(files.map((f) => [f.path, { size: f.size, sha256: f.sha256 }]));
  await checkShard(dir, shard, written());

  // The digests are taken as given: the bytes on disk are not read again (they were hashed as written).
  writeFileSync(join(dir, nar), 'nar bytez');
  await checkShard(dir, shard, written());
  await assert.rejects(checkShard(dir, shard), /does not match its manifest's SHA-256/, 'without digests the file is read');
  writeFileSync(join(dir, nar), 'nar bytes');

  // Bytes extraction wrote that do not match the manifest.
  const tampered = written();
  tampered.set(nar, { size: 9, sha256: createHash('sha256').update('nar bytez').digest('hex') });
  await assert.rejects(checkShard(dir, shard, tampered), /does not match its manifest's SHA-256/);
  const longer = written();
  longer.set(nar, { size: 10, sha256: files[0]!.sha256 });
  await assert.rejects(checkShard(dir, shard, longer), /not the size its manifest gives/);

  // A file on disk that extraction did not write (and so never hashed) is refused, not trusted.
  const partial = written();
  partial.delete(nar);
  await assert.rejects(checkShard(dir, shard, partial), /holds files its extraction did not write/);
  // Extra and missing files, whatever the digests say.
  writeFileSync(join(dir, 'stray'), '');
  const withStray = written();
  withStray.set('stray', { size: 0, sha256: createHash('sha256').update('').digest('hex') });
  await assert.rejects(checkShard(dir, shard, withStray), /does not hold exactly the files/);
  rmSync(join(dir, 'stray'));
  rmSync(join(dir, nar));
  await assert.rejects(checkShard(dir, shard, written()), /does not hold exactly the files/);
});
