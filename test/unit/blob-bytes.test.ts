// Publish's in-place blob reads: a byte range hashed as it is read, the last chunk held back until
// the digest matches; an upload fed from it never completes for a blob that does not match; blobs
// pushed a bounded number at a time; free disk checked before staging.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobDigestError, readVerified, verifiedStream, type FileRange } from '../../src/registry/blob-bytes.js';
import { uploadBlob } from '../../src/registry/api.js';
import { RegistryClient } from '../../src/registry/client.js';
import { eachBounded } from '../../src/registry/push.js';
import { requireFreeDisk } from '../../src/tool/free-disk.js';

const sha256 = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const dir = mkdtempSync(join(tmpdir(), 'h-blob-bytes-'));

/** A blob of `size` bytes at offset 1000 of a file, between other bytes (as a member of a tar). */
function embedded(name: string, size: number): { range: FileRange; bytes: Buffer } {
  const bytes = randomBytes(size);
  const path = join(dir, name);
  writeFileSync(path, Buffer.concat([Buffer.alloc(1000, 1), bytes, Buffer.alloc(3000, 2)]));
  return { range: { path, offset: 1000, length: size }, bytes };
}

async function drain(stream: AsyncIterable<Buffer>): Promise<{ bytes: Buffer; error?: Error }> {
  const parts: Buffer[] = [];
  try {
    for await (const chunk of stream) parts.push(chunk);
    return { bytes: Buffer.concat(parts) };
  } catch (error) {
    return { bytes: Buffer.concat(parts), error: error as Error };
  }
}

describe('a blob read by byte range', () => {
  test('exactly its bytes, over several chunks, when they match the digest', async () => {
    const { range, bytes } = embedded('good', (3 << 20) + 17);
    const out = await drain(verifiedStream(range, sha256(bytes)));
    assert.equal(out.error, undefined);
    assert.ok(out.bytes.equals(bytes));
    assert.ok((await readVerified({ ...range, length: 100 }, sha256(bytes.subarray(0, 100)), 1 << 20)).equals(bytes.subarray(0, 100)));
  });
  test('bytes that do not match: an error naming the blob and the file, and the last chunk never handed out', async () => {
    const { range, bytes } = embedded('bad', (3 << 20) + 17);
    const claimed = sha256(Buffer.concat([bytes.subarray(0, 5), Buffer.from([bytes[5]! ^ 1]), bytes.subarray(6)]));
    const out = await drain(verifiedStream(range, claimed));
    assert.ok(out.error instanceof BlobDigestError, String(out.error));
    assert.match(out.error.message, new RegExp(`blob ${claimed} read from ${range.path} \\(bytes 1000-\\d+\\) has digest ${sha256(bytes)}`));
    assert.ok(out.bytes.length < bytes.length, `${out.bytes.length} of ${bytes.length} bytes went out`);
    await assert.rejects(readVerified({ ...range, length: 100 }, claimed, 1 << 20), BlobDigestError);
  });
  test('a file shorter than the range (changed since it was indexed): an error', async () => {
    const { range, bytes } = embedded('short', 5000);
    const out = await drain(verifiedStream({ ...range, length: 5000 + 3000 + 10 }, sha256(bytes)));
    assert.ok(out.error instanceof BlobDigestError);
    assert.match(out.error.message, /ended after 8000 of 8010 bytes/);
  });
  test('an empty blob: checked too', async () => {
    const { range } = embedded('empty', 0);
    assert.equal((await drain(verifiedStream(range, sha256(Buffer.alloc(0))))).error, undefined);
    assert.ok((await drain(verifiedStream(range, sha256(Buffer.from('x'))))).error instanceof BlobDigestError);
  });
  test('a document over the limit is not read', async () => {
    const { range, bytes } = embedded('big-doc', 5000);
    await assert.rejects(readVerified(range, sha256(bytes), 4096), /5000 bytes, more than the 4096/);
  });
});

describe('an upload of a blob whose bytes do not match', () => {
  const requests: Array<{ method: string; url: string; received: number }> = [];
  const server = createServer((req, res) => {
    const seen = { method: req.method!, url: req.url!, received: 0 };
    requests.push(seen);
    req.on('data', (chunk: Buffer) => (seen.received += chunk.length));
    req.on('end', () => {
      if (req.method === 'POST') res.writeHead(202, { location: '/v2/a/b/blobs/uploads/u1' }).end();
      else if (req.method === 'PATCH') res.writeHead(202, { location: '/v2/a/b/blobs/uploads/u1' }).end();
      else if (req.method === 'PUT') res.writeHead(201).end();
      else res.writeHead(204).end();
    });
  });
  const ready = new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`127.0.0.1:${(server.address() as AddressInfo).port}`)));
  server.unref();
  after(() => server.close());
  const fast = { attempts: 3, baseDelayMs: 5, maxDelayMs: 20 };

  test('a matching blob: POST, PATCH with every byte, PUT ?digest=', async () => {
    const host = await ready;
    requests.length = 0;
    const { range, bytes } = embedded('upload-good', 2 << 20);
    await uploadBlob(new RegistryClient(host, { retry: fast }), { host, path: 'a/b' }, { digest: sha256(bytes), size: bytes.length, file: range });
    assert.deepEqual(requests.map((r) => r.method), ['POST', 'PATCH', 'PUT']);
    assert.equal(requests[1]!.received, bytes.length);
    assert.match(requests[2]!.url, new RegExp(`digest=${encodeURIComponent(sha256(bytes))}`));
  });

  test('not matching: the PATCH never completes, the session is cancelled, no PUT, no second session', async () => {
    const host = await ready;
    requests.length = 0;
    const { range, bytes } = embedded('upload-bad', 2 << 20);
    const claimed = sha256(Buffer.from('what the manifest says'));
    const retries: string[] = [];
    await assert.rejects(
      uploadBlob(new RegistryClient(host, { retry: fast }), { host, path: 'a/b' }, { digest: claimed, size: bytes.length, file: range }, (m) => retries.push(m)),
      (e: unknown) => e instanceof BlobDigestError && e.message.includes(`blob ${claimed}`) && e.message.includes(range.path),
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(requests.map((r) => r.method), ['POST', 'PATCH', 'DELETE']);
    assert.ok(requests[1]!.received < bytes.length, `the registry got ${requests[1]!.received} of ${bytes.length} bytes`);
    assert.deepEqual(retries, []);
  });
});

describe('blobs pushed a bounded number at a time', () => {
  test('never more than the limit at once; all done', async () => {
    let running = 0;
    let most = 0;
    const done: number[] = [];
    await eachBounded([...Array(10).keys()], 3, async (i) => {
      most = Math.max(most, ++running);
      await new Promise((resolve) => setTimeout(resolve, 5 + (i % 3) * 5));
      running--;
      done.push(i);
    });
    assert.equal(most, 3);
    assert.deepEqual(done.sort((a, b) => a - b), [...Array(10).keys()]);
  });
  test('a failure: nothing new is started, the ones under way finish, then the failure is thrown', async () => {
    const started: number[] = [];
    let running = 0;
    await assert.rejects(
      eachBounded([...Array(10).keys()], 3, async (i) => {
        started.push(i);
        running++;
        await new Promise((resolve) => setTimeout(resolve, i === 1 ? 1 : 30));
        running--;
        if (i === 1) throw new Error('blob 1 failed');
      }),
      /blob 1 failed/,
    );
    assert.deepEqual(started, [0, 1, 2]);
    assert.equal(running, 0, 'the uploads under way were waited for');
  });
});

describe('free disk before staging', () => {
  test('too little: an error naming how much, where, and what for; a directory not made yet is looked up by its parent', async () => {
    const target = join(dir, 'not', 'yet');
    const need = (bytes: number) => ({ bytes, basis: "the gzip'ed archive's size" });
    await assert.rejects(requireFreeDisk('publish', target, need(Number.MAX_SAFE_INTEGER), 'unpacking x.tar.gz'), (e: Error) => e.message.includes(`free under ${target} for unpacking x.tar.gz`) && /needs about [\d.]+ TiB/.test(e.message) && /[\d.]+ [KMGT]?i?B is free/.test(e.message));
    await requireFreeDisk('publish', target, need(1), 'unpacking x.tar.gz');
  });
});
