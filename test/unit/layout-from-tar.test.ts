// Verify's build B written from buildx's OCI tar stream into a layout that shares build A's blobs:
// identical blobs become hard links to A's files, new ones are written, and the stream is hostile
// until each blob hashes to its name. (With real buildx: test/integration/verify-reproducibility.)
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { layoutFromTar } from '../../src/oci/layout-from-tar.js';
import { layoutTar, planLayoutTar, tarHeader } from '../../src/oci/layout-tar.js';
import { compareImages } from '../../src/reproducibility/index.js';
import { makeImage, requireTools, scratch } from '../fixtures/reproducibility/make-image.js';

requireTools('tar', 'gzip');

const shared = { files: [{ path: 'base/lib.so', content: 'the base layer, the same in both builds' }] };

function images(): { a: ReturnType<typeof makeImage>; b: ReturnType<typeof makeImage>; work: string } {
  const work = scratch('layout-from-tar-');
  const a = makeImage(work, { layers: [shared, { files: [{ path: 'app/build-id', content: 'build A' }] }] });
  const b = makeImage(work, { layers: [shared, { files: [{ path: 'app/build-id', content: 'build B' }] }] });
  return { a, b, work };
}

async function* tarOf(dir: string): AsyncGenerator<Buffer> {
  yield* layoutTar(await planLayoutTar(dir));
}

type Member = { name: string; body?: Buffer; type?: 'file' | 'directory' } | Buffer;

/** A tar stream of hand-made members (BuildKit's shape: oci-layout, index.json, then blobs); a Buffer is a raw header. */
async function* members(list: Member[]): AsyncGenerator<Buffer> {
  for (const member of list) {
    if (Buffer.isBuffer(member)) {
      yield member;
      continue;
    }
    const { name, body = Buffer.alloc(0), type = 'file' } = member;
    yield tarHeader(name, type, body.length);
    yield body;
    yield Buffer.alloc((512 - (body.length % 512)) % 512);
  }
  yield Buffer.alloc(1024);
}

const sha = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
const layoutFiles = [
  { name: 'oci-layout', body: Buffer.from('{"imageLayoutVersion":"1.0.0"}') },
  { name: 'index.json', body: Buffer.from('{"schemaVersion":2,"manifests":[]}') },
];

test('layout from tar: blobs build A holds become hard links to its files, the others are written; the layout reads like buildx wrote it', async () => {
  const { a, b, work } = images();
  const dest = join(work, 'b.oci');
  const stats = await layoutFromTar(tarOf(b.layout), dest, a.layout);
  // Shared: the base layer. Written: the app layer, the config, the manifest.
  assert.deepEqual(stats, { blobs: 4, linked: 1, written: 3, writtenBytes: stats.writtenBytes, copied: 0 });
  const baseHex = b.layers[0]!.digest.slice(7);
  assert.equal(a.layers[0]!.digest, b.layers[0]!.digest);
  const inA = statSync(join(a.layout, 'blobs', 'sha256', baseHex));
  const inB = statSync(join(dest, 'blobs', 'sha256', baseHex));
  assert.equal(inB.ino, inA.ino, 'the shared layer is build A\'s file (same inode)');
  assert.equal(inA.nlink, 2);
  const appHex = b.layers[1]!.digest.slice(7);
  assert.notEqual(statSync(join(dest, 'blobs', 'sha256', appHex)).ino, statSync(join(b.layout, 'blobs', 'sha256', appHex)).ino);
  const written = readdirSync(join(dest, 'blobs', 'sha256')).filter((h) => h !== baseHex);
  assert.equal(stats.writtenBytes, written.reduce((n, h) => n + statSync(join(dest, 'blobs', 'sha256', h)).size, 0));
  for (const name of ['index.json', 'oci-layout']) assert.deepEqual(readFileSync(join(dest, name)), readFileSync(join(b.layout, name)));
  // The comparison engine reads it as a normal layout: the same verdict as on B's own layout.
  const viaStream = await compareImages(a.layout, dest);
  const direct = await compareImages(a.layout, b.layout);
  assert.equal(viaStream.digestB, direct.digestB);
  assert.equal(viaStream.counts.total, direct.counts.total);
  assert.ok(direct.counts.total > 0);
});

test('layout from tar: BuildKit\'s member order (blobs/, blobs/sha256/, the blobs, then index.json and oci-layout, as buildx 0.13.1 and 0.29.1 write with dest=-)', async () => {
  const { a, b, work } = images();
  const blobs = join(b.layout, 'blobs', 'sha256');
  const list: Member[] = [
    { name: 'blobs/', type: 'directory' },
    { name: 'blobs/sha256/', type: 'directory' },
    ...readdirSync(blobs).sort().map((hex) => ({ name: `blobs/sha256/${hex}`, body: readFileSync(join(blobs, hex)) })),
    { name: 'index.json', body: readFileSync(join(b.layout, 'index.json')) },
    { name: 'oci-layout', body: readFileSync(join(b.layout, 'oci-layout')) },
  ];
  const dest = join(work, 'b.oci');
  const stats = await layoutFromTar(members(list), dest, a.layout);
  assert.equal(stats.linked, 1);
  assert.equal(stats.blobs, readdirSync(blobs).length);
  assert.equal((await compareImages(b.layout, dest)).reproducible, true);
});

test('layout from tar: a blob whose bytes do not hash to its name is refused and nothing is left', async () => {
  const { a, work } = images();
  const body = Buffer.from('claimed to be something else');
  const dest = join(work, 'b.oci');
  await assert.rejects(
    layoutFromTar(members([...layoutFiles, { name: `blobs/sha256/${'0'.repeat(64)}`, body }]), dest, a.layout),
    new RegExp(`blobs/sha256/${'0'.repeat(64)} has digest sha256:${sha(body)}: corrupt image stream`),
  );
  assert.ok(!existsSync(dest));
  // Also where build A holds a file of that name and size: the streamed bytes decide, nothing is linked.
  const base = a.layers[0]!.digest.slice(7);
  const same = Buffer.alloc(statSync(join(a.layout, 'blobs', 'sha256', base)).size, 1);
  await assert.rejects(layoutFromTar(members([...layoutFiles, { name: `blobs/sha256/${base}`, body: same }]), dest, a.layout), /corrupt image stream/);
  assert.ok(!existsSync(dest));
});

test('layout from tar: members outside the layout spec are refused, never written where they point', async () => {
  const { a, work } = images();
  const body = Buffer.from('x');
  const good = { name: `blobs/sha256/${sha(body)}`, body };
  const cases: Array<[string, Member[], RegExp]> = [
    ['a path out of the layout', [...layoutFiles, { name: '../escape', body }], /member "..\/escape": only oci-layout, index.json and blobs\/sha256\/<64 hex digits> are allowed/],
    ['an upper-case digest name', [...layoutFiles, { name: `blobs/sha256/${sha(body).toUpperCase()}`, body }], /only oci-layout/],
    ['another algorithm', [...layoutFiles, { name: `blobs/sha512/${sha(body)}`, body }], /only oci-layout/],
    ['a stray top-level file', [...layoutFiles, good, { name: 'manifest.json', body: Buffer.from('[]') }], /member "manifest.json"/],
    ['a directory elsewhere', [...layoutFiles, { name: 'blobs/sha256/sub/', type: 'directory' }], /directory member "blobs\/sha256\/sub\/"/],
    ['a blob twice', [...layoutFiles, good, good], /member "blobs\/sha256\/[0-9a-f]{64}" twice/],
    ['no index.json', [layoutFiles[0]!, good], /has no index.json: not an OCI image layout/],
    ['an index.json over the document cap', [{ name: 'index.json', body: Buffer.alloc((16 << 20) + 1, 0x20) }], /index.json is 16777217 bytes, more than the 16 MiB/],
  ];
  for (const [what, list, expected] of cases) {
    const dest = join(work, 'b.oci');
    await assert.rejects(layoutFromTar(members(list), dest, a.layout), expected, what);
    assert.ok(!existsSync(dest), `${what}: a partial layout was left`);
    assert.ok(!existsSync(join(work, 'escape')), what);
  }
});

/** A header of another type flag than tarHeader makes ('2' symlink, '1' hard link), linking to `target`. */
function linkHeader(name: string, flag: '1' | '2', target: string): Buffer {
  const header = tarHeader(name, 'file', 0);
  header.write(flag, 156, 1, 'ascii');
  header.write(target, 157, 100, 'ascii');
  header.fill(' ', 148, 156);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return header;
}

test('layout from tar: symlink and hard-link members are refused', async () => {
  const { a, work } = images();
  const dest = join(work, 'b.oci');
  for (const [flag, kind] of [['2', 'symlink'], ['1', 'hardlink']] as const) {
    const header = linkHeader(`blobs/sha256/${'1'.repeat(64)}`, flag, '/etc/passwd');
    await assert.rejects(layoutFromTar(members([...layoutFiles, header]), dest, a.layout), new RegExp(`a ${kind} member "blobs/sha256/1{64}": an OCI layout holds regular files only`));
    assert.ok(!existsSync(dest));
  }
});

test('layout from tar: a symlink in build A is never followed; the blob is written from the stream instead', async () => {
  const { a, b, work } = images();
  const baseHex = b.layers[0]!.digest.slice(7);
  const inA = join(a.layout, 'blobs', 'sha256', baseHex);
  // A's blob replaced by a symlink to a file of the right bytes elsewhere (e.g. a host file).
  const outside = join(work, 'outside-blob');
  writeFileSync(outside, readFileSync(inA));
  rmSync(inA);
  symlinkSync(outside, inA);
  const dest = join(work, 'b.oci');
  const stats = await layoutFromTar(tarOf(b.layout), dest, a.layout);
  assert.equal(stats.linked, 0);
  assert.equal(stats.written, 4);
  const inB = lstatSync(join(dest, 'blobs', 'sha256', baseHex));
  assert.ok(inB.isFile() && !inB.isSymbolicLink());
  assert.notEqual(inB.ino, statSync(outside).ino);
  assert.equal(statSync(outside).nlink, 1);
  // And a symlinked blobs/sha256 folder in A: nothing reached through it.
  const a2 = images();
  const moved = join(a2.work, 'moved');
  mkdirSync(moved);
  const blobs = join(a2.a.layout, 'blobs', 'sha256');
  for (const name of readdirSync(blobs)) writeFileSync(join(moved, name), readFileSync(join(blobs, name)));
  rmSync(blobs, { recursive: true });
  symlinkSync(moved, blobs);
  const stats2 = await layoutFromTar(tarOf(a2.b.layout), join(a2.work, 'b.oci'), a2.a.layout);
  assert.equal(stats2.linked, 0);
});

test('layout from tar: an existing destination is never written into', async () => {
  const { a, b, work } = images();
  const dest = join(work, 'b.oci');
  mkdirSync(dest);
  writeFileSync(join(dest, 'keep'), 'x');
  await assert.rejects(layoutFromTar(tarOf(b.layout), dest, a.layout), /EEXIST/);
  assert.equal(readFileSync(join(dest, 'keep'), 'utf8'), 'x');
});
