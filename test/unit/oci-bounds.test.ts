// The caps of the one image reader (src/oci/bounds.ts), each a clear ImageArchiveError, and what
// stays allowed: links between members inside an OCI layout.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { closeSync, cpSync, openSync, renameSync, rmSync, symlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ImageArchiveError } from '../../src/oci/bounds.js';
import { HashPool } from '../../src/oci/hash-pool.js';
import { openImage, verifyLayers, withImage, type OpenedImage } from '../../src/oci/image.js';
import { walkTar } from '../../src/oci/tar.js';
import { tarHeader } from '../fixtures/hostile/make-hostile.js';
import { baseFiles, makeImage, requireTools, scratch } from '../fixtures/reproducibility/make-image.js';

let work: string;

before(() => {
  requireTools('tar', 'gzip');
  work = scratch('oci-bounds-');
});

after(() => rmSync(work, { recursive: true, force: true }));

/** Writes a plain tar; a member given as a number is that many zero bytes, left as a hole. */
function writeTar(name: string, members: Array<[string, Buffer | number, string?]>): string {
  const path = join(work, name);
  const fd = openSync(path, 'w');
  let at = 0;
  for (const [member, body, typeflag] of members) {
    const size = typeof body === 'number' ? body : body.length;
    writeSync(fd, tarHeader(member, size, typeflag), 0, 512, at);
    if (typeof body !== 'number') writeSync(fd, body, 0, body.length, at + 512);
    at += 512 + Math.ceil(size / 512) * 512;
  }
  writeSync(fd, Buffer.alloc(1024), 0, 1024, at);
  closeSync(fd);
  return path;
}

function pax(records: Record<string, string>): Buffer {
  return Buffer.concat(
    Object.entries(records).map(([k, v]) => {
      const body = ` ${k}=${v}\n`;
      let len = body.length + 1;
      while (String(len).length + body.length !== len) len++;
      return Buffer.from(`${len}${body}`);
    }),
  );
}

async function rejectsWith(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (error: Error) => {
    assert.ok(error instanceof ImageArchiveError, `${error.constructor.name}: ${error.message}`);
    assert.match(error.message, pattern);
    return true;
  });
}

test('a run of small pax headers before one entry is capped like one big one', async () => {
  const chunks: Buffer[] = [];
  for (let i = 0; i < 40; i++) {
    const body = pax({ [`SCHILY.xattr.user.k${i}`]: 'v'.repeat(30_000) });
    chunks.push(tarHeader(`PaxHeaders/f${i}`, body.length, 'x'), body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  chunks.push(tarHeader('f', 0), Buffer.alloc(1024));
  await rejectsWith(walkTar(Readable.from(chunks), () => undefined), /a pax header of \d+ bytes \(\d+ with the ones before it\): tar metadata is limited to 1 MiB/);
  // One header of a few KiB is fine.
  const small = pax({ path: 'a/long/name'.repeat(100) });
  const names: string[] = [];
  await walkTar(Readable.from([tarHeader('PaxHeaders/x', small.length, 'x'), small, Buffer.alloc((512 - (small.length % 512)) % 512), tarHeader('x', 0), Buffer.alloc(1024)]), (e) => void names.push(e.name));
  assert.deepEqual(names, ['a/long/name'.repeat(100)]);
});

test('global pax headers add up across a plain tar read by byte range', async () => {
  const global = (i: number): [string, Buffer, string] => [`GlobalHead.${i}`, pax({ [`SCHILY.xattr.user.g${i}`]: 'v'.repeat(400_000) }), 'g'];
  const pool = new HashPool(1);
  try {
    const archive = writeTar('globals.tar', [global(0), ['a', Buffer.from('{}')], global(1), ['b', Buffer.from('{}')], global(2), ['index.json', Buffer.from('{}')]]);
    await rejectsWith(openImage(archive, pool), /is not a readable image archive: a pax header of \d+ bytes \(\d+ with the ones before it\): tar metadata is limited to 1 MiB/);
  } finally {
    await pool.close();
  }
});

test('a 20 MiB manifest.json is not read into memory', async () => {
  const archive = writeTar('big-manifest.tar', [['manifest.json', 20 << 20]]);
  const pool = new HashPool(1);
  try {
    await rejectsWith(openImage(archive, pool), /manifest\.json is 20971520 bytes, more than the 16 MiB a manifest, config or index may have/);
  } finally {
    await pool.close();
  }
});

test('an index naming one 10 MiB manifest ten times runs out of the 64 MiB document budget', async () => {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
  const configDigest = `sha256:${createHash('sha256').update(config).digest('hex')}`;
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
      layers: [],
      annotations: { padding: 'x'.repeat(10 << 20) },
    }),
  );
  const manifestDigest = `sha256:${createHash('sha256').update(manifest).digest('hex')}`;
  const entry = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: manifestDigest, size: manifest.length };
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: Array.from({ length: 10 }, () => entry) }));
  const archive = writeTar('budget.tar', [
    ['oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}')],
    ['index.json', index],
    [`blobs/sha256/${manifestDigest.slice(7)}`, manifest],
    [`blobs/sha256/${configDigest.slice(7)}`, config],
  ]);
  await rejectsWith(withImage(archive, async () => undefined), /its manifests, configs and indexes come to more than 64 MiB \(at blob sha256:/);
});

test('links inside an OCI layout that stay inside it are followed', async () => {
  const image = makeImage(work, { layers: [{ files: baseFiles() }] });
  const layout = join(work, 'linked-layout');
  cpSync(image.layout, layout, { recursive: true });
  // The layer blob moved to another folder of the layout, the blob path a relative link to it.
  const blob = join(layout, 'blobs', 'sha256', image.layers[0]!.digest.slice(7));
  renameSync(blob, join(layout, 'layer-store'));
  symlinkSync('../../layer-store', blob);
  const verified = async (opened: OpenedImage): Promise<string> => {
    await verifyLayers(opened, opened.model.images[0]!.manifest.layers);
    return opened.model.top.digest;
  };
  assert.equal(await withImage(layout, verified), image.topDigest);
  // The layout itself reached through a link (a Nix `result`) is fine too.
  symlinkSync(layout, join(work, 'result'));
  assert.equal(await withImage(join(work, 'result'), verified), image.topDigest);
});
