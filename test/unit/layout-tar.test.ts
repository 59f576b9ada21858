// The OCI layout tar smoke-test streams into `docker load`: only what index.json references, names
// from digests, no symlink followed, every blob checked. (docker load itself: test/integration/smoke-test.)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { layoutTar, planLayoutTar, tarHeader } from '../../src/oci/layout-tar.js';
import { TarParser } from '../../src/oci/tar.js';
import { makeImage, requireTools, scratch } from '../fixtures/reproducibility/make-image.js';

requireTools('tar', 'gzip');

async function tarOf(dir: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of layoutTar(await planLayoutTar(dir))) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** GNU tar's listing of a tar stream: `type name size` per member. */
function listing(tar: Buffer): string[] {
  const result = spawnSync('tar', ['-tvf', '-'], { input: tar });
  assert.equal(result.status, 0, result.stderr.toString());
  return result.stdout
    .toString()
    .trim()
    .split('\n')
    .map((line) => {
      const parts = line.split(/\s+/);
      return `${parts[0]![0]} ${parts.at(-1)} ${parts[2]}`;
    });
}

function image(attestation?: string): ReturnType<typeof makeImage> {
  return makeImage(scratch('layout-tar-'), { layers: [{ files: [{ path: 'app/hello', content: 'hello' }] }, { files: [{ path: 'etc/x', content: 'x' }] }], attestation });
}

test('layout tar: index.json, oci-layout and exactly the referenced blobs (attestations too), each named by its digest', async () => {
  const built = image('2026-01-01T00:00:00Z');
  // Junk beside the image: BuildKit's ingest folder, a stray blob, a stray top-level file.
  mkdirSync(join(built.layout, 'ingest'));
  writeFileSync(join(built.layout, 'blobs', 'sha256', 'a'.repeat(64)), 'not referenced');
  writeFileSync(join(built.layout, 'notes.txt'), 'not an image member');
  const tar = await tarOf(built.layout);
  const members = listing(tar);
  const blobs = readdirSync(join(built.layout, 'blobs', 'sha256')).filter((n) => n !== 'a'.repeat(64));
  assert.deepEqual(members.slice(0, 4).map((m) => m.split(' ').slice(0, 2).join(' ')), ['- oci-layout', '- index.json', 'd blobs/', 'd blobs/sha256/']);
  assert.deepEqual(members.slice(4).map((m) => m.split(' ')[1]).sort(), blobs.map((b) => `blobs/sha256/${b}`).sort());
  assert.ok(!members.some((m) => m.includes('a'.repeat(64)) || m.includes('notes') || m.includes('ingest')));
  // The tar is the size the plan says (the smoke test's disk check uses it).
  assert.equal(tar.length, (await planLayoutTar(built.layout)).tarBytes);
  // And extracted again it is a layout GNU tar and the suite's own reader agree on.
  const out = scratch('layout-tar-x-');
  assert.equal(spawnSync('tar', ['-xf', '-', '-C', out], { input: tar }).status, 0);
  assert.deepEqual(readdirSync(join(out, 'blobs', 'sha256')).sort(), blobs.sort());
});

test('layout tar: a symlinked blob, blobs folder, index.json or oci-layout is refused, never followed', async () => {
  const cases: Array<[string, (dir: string) => void, RegExp]> = [
    ['a layer blob linking to a host file', (dir) => {
      const blob = join(dir, 'blobs', 'sha256', readdirSync(join(dir, 'blobs', 'sha256')).find((n) => n.length === 64)!);
      rmSync(blob);
      symlinkSync('/etc/passwd', blob);
    }, /symbolic link|is \d+ bytes|not a regular file/],
    ['blobs/sha256 linking elsewhere', (dir) => {
      renameSync(join(dir, 'blobs', 'sha256'), join(dir, 'elsewhere'));
      symlinkSync(join(dir, 'elsewhere'), join(dir, 'blobs', 'sha256'));
    }, /blobs\/sha256 is a symbolic link/],
    ['index.json a symlink', (dir) => {
      renameSync(join(dir, 'index.json'), join(dir, 'real-index.json'));
      symlinkSync(join(dir, 'real-index.json'), join(dir, 'index.json'));
    }, /index.json is a symbolic link/],
    ['oci-layout a FIFO', (dir) => {
      rmSync(join(dir, 'oci-layout'));
      assert.equal(spawnSync('mkfifo', [join(dir, 'oci-layout')]).status, 0);
    }, /oci-layout is not a regular file/],
  ];
  for (const [name, spoil, expected] of cases) {
    const built = image();
    spoil(built.layout);
    await assert.rejects(planLayoutTar(built.layout), expected, name);
  }
});

test('layout tar: every blob symlinked is refused whichever it is (manifest, config, layer)', async () => {
  const built = image();
  const dir = join(built.layout, 'blobs', 'sha256');
  for (const name of readdirSync(dir)) {
    const copy = image();
    const blob = join(copy.layout, 'blobs', 'sha256', name);
    renameSync(blob, `${blob}.real`);
    symlinkSync(`${blob}.real`, blob);
    await assert.rejects(planLayoutTar(copy.layout), /symbolic link/, name);
  }
});

test('layout tar: odd digests and names in index.json are refused (a name comes from a digest only)', async () => {
  for (const digest of ['sha256:../../../etc/passwd', `sha256:${'A'.repeat(64)}`, `sha512:${'a'.repeat(128)}`, `sha256:${'a'.repeat(63)}/`, 'sha256:']) {
    const built = image();
    writeFileSync(join(built.layout, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest, size: 2 }] }));
    await assert.rejects(planLayoutTar(built.layout), /not sha256:<64 hex>/, digest);
  }
  assert.throws(() => tarHeader('blobs/../x\n', 'file', 1), /refusing tar member name/);
  assert.throws(() => tarHeader(`blobs/${'a'.repeat(100)}`, 'file', 1), /refusing tar member name/);
});

test('layout tar: a blob whose bytes or size do not match its descriptor is an error, not a tar', async () => {
  const built = image();
  const layer = built.layers[0]!.digest.slice(7);
  const blob = join(built.layout, 'blobs', 'sha256', layer);
  const sizeBefore = (await planLayoutTar(built.layout)).blobs.find((b) => b.digest.endsWith(layer))!.size;
  writeFileSync(blob, Buffer.alloc(sizeBefore, 7));
  await assert.rejects(tarOf(built.layout), /has digest sha256:[0-9a-f]{64} .*corrupt layout/);
  writeFileSync(blob, 'short');
  await assert.rejects(planLayoutTar(built.layout), /is 5 bytes, its descriptor says/);
  // A manifest (a document) is checked against its digest before anything is written.
  const other = image();
  const manifest = join(other.layout, 'blobs', 'sha256', other.manifestDigest.slice(7));
  writeFileSync(manifest, Buffer.alloc((await planLayoutTar(other.layout)).blobs[0]!.size, 32));
  await assert.rejects(planLayoutTar(other.layout), /corrupt layout/);
});

test('tar header: ustar fields GNU tar and the suite reader agree on; base-256 size past 8 GiB', () => {
  const parse = (header: Buffer): { name: string; size: number; type: string } => {
    let seen: { name: string; size: number; type: string } | undefined;
    new TarParser((entry) => {
      seen = { name: entry.name, size: entry.size, type: entry.type };
      return undefined;
    }).push(header);
    return seen!;
  };
  assert.deepEqual(parse(tarHeader('blobs/sha256/abc', 'file', 12345)), { name: 'blobs/sha256/abc', size: 12345, type: 'file' });
  const big = 9 * 1024 ** 3 + 17;
  const header = tarHeader('blobs/sha256/big', 'file', big);
  assert.equal(header[124], 0x80, 'base-256 marker');
  assert.equal(parse(header).size, big);
  assert.equal(tarHeader('x', 'file', 8 ** 11 - 1)[124], '7'.charCodeAt(0), 'the largest octal size stays octal');
});

test("layout tar: an untagged layout's bare ref.name (BuildKit's `latest`) is left out of the tar's index.json; a full reference stays", async () => {
  const indexOf = async (dir: string): Promise<string> => {
    const out = scratch('layout-tar-i-');
    assert.equal(spawnSync('tar', ['-xf', '-', '-C', out], { input: await tarOf(dir) }).status, 0);
    return readFileSync(join(out, 'index.json'), 'utf8');
  };
  for (const [name, kept] of [['latest', false], ['v1.0', false], ['docker.io/acme/vllm:v1', true], ['localhost:5000/x', true]] as const) {
    const built = image();
    const index = JSON.parse(readFileSync(join(built.layout, 'index.json'), 'utf8')) as { manifests: Array<{ annotations?: Record<string, string> }> };
    index.manifests[0]!.annotations = { 'org.opencontainers.image.ref.name': name, 'org.opencontainers.image.created': '2026-01-01T00:00:00Z' };
    const original = JSON.stringify(index);
    writeFileSync(join(built.layout, 'index.json'), original);
    const written = await indexOf(built.layout);
    if (kept) assert.equal(written, original, `${name}: the layout's own bytes`);
    else assert.deepEqual(JSON.parse(written).manifests[0].annotations, { 'org.opencontainers.image.created': '2026-01-01T00:00:00Z' }, name);
  }
});
