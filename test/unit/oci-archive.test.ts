import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageArchiveError, readOciArchive } from '../../src/oci/archive.js';
import { walkTar, type TarEntry } from '../../src/oci/tar.js';
import { fixture } from '../support/fixtures.js';

const archive = fixture('oci-tiny.tar');
const metadata = JSON.parse(readFileSync(fixture('oci-tiny.metadata.json'), 'utf8')) as Record<string, string>;

test('reads the manifest digest and size of a buildx OCI archive (captured)', async () => {
  const summary = await readOciArchive(archive);
  assert.equal(summary.manifestDigest, metadata['containerimage.digest']);
  assert.equal(summary.topDigest, metadata['containerimage.digest']);
  assert.equal(summary.configDigest, metadata['containerimage.config.digest']);
  // manifest 551 + config 573 + one layer 99 (sizes as stored in the archive)
  assert.equal(summary.sizeBytes, 551 + 573 + 99);
  assert.equal(summary.platform, 'linux/amd64');
});

test('tar walk lists entries with their metadata', async () => {
  const entries: TarEntry[] = [];
  await walkTar(archive, (e) => void entries.push(e));
  assert.deepEqual(entries.map((e) => e.name).sort(), [
    'blobs/', 'blobs/sha256/',
    'blobs/sha256/2fcd3cc6a60a5d33cbce7f344297e6564fe5547c9fe3f02acfbdd3e51236dbcf',
    'blobs/sha256/6cbf7d3a939da475be42c50e46bad7ab1201d15919dd74df34141ab0e954846b',
    'blobs/sha256/a203048f33b8afa750969ae91c09cb17a13825cbb979763b169d8121a5da88b5',
    'index.json', 'oci-layout',
  ]);
  const index = entries.find((e) => e.name === 'index.json')!;
  assert.equal(index.type, 'file');
  assert.equal(index.mtime, 0);
});

test('a truncated archive is an error, not a summary', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'oci-'));
  const bytes = readFileSync(archive);
  writeFileSync(join(dir, 'cut.tar'), bytes.subarray(0, 3000));
  await assert.rejects(readOciArchive(join(dir, 'cut.tar')), ImageArchiveError);
});

test('a blob whose bytes do not match its digest is refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'oci-'));
  const bytes = Buffer.from(readFileSync(archive));
  // Flip a byte inside the manifest blob body (it follows its 512-byte header).
  const at = bytes.indexOf(Buffer.from('"schemaVersion"', 'utf8'), bytes.indexOf('blobs/sha256/2fcd'));
  bytes[at + 2] ^= 0x01;
  writeFileSync(join(dir, 'bad.tar'), bytes);
  await assert.rejects(readOciArchive(join(dir, 'bad.tar')), /has digest sha256:/);
});

test('something that is not a tar archive is refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'oci-'));
  writeFileSync(join(dir, 'x.tar'), Buffer.alloc(2048, 7));
  await assert.rejects(readOciArchive(join(dir, 'x.tar')), /is not a readable image archive: bad tar header checksum/);
});
