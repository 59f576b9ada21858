// A blob's bytes on this runner, read where they lie: a whole file (an OCI layout's blob, a staged
// or downloaded one) or a byte range of a plain image tar (publish reads an archive in place, no
// copy). Whatever the source, the bytes are hashed as they are read and the last of them is held
// back until the digest is checked: a reader never hands out the whole of a blob whose bytes do not
// match its digest, so an upload fed from it can never complete.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Transform, type Readable } from 'node:stream';
import { RegistryError } from './client.js';

/** `length` bytes of the file at `path`, from `offset`. */
export interface FileRange {
  path: string;
  offset: number;
  length: number;
}

/** Bytes read for a blob did not hash to its digest (a tampered or changed archive): never retried. */
export class BlobDigestError extends RegistryError {}

export function describeRange(range: FileRange): string {
  return range.offset === 0 ? range.path : `${range.path} (bytes ${range.offset}-${range.offset + range.length - 1})`;
}

function mismatch(range: FileRange, digest: string, actual: string, seen: number): BlobDigestError {
  return new BlobDigestError(`blob ${digest} read from ${describeRange(range)} has digest ${actual} (${seen} bytes): the image does not hold what its manifest says; refusing to push it`);
}

/**
 * The range's bytes as a stream that fails, before its last chunk, when they do not hash to
 * `digest` or are fewer than `range.length` (a file truncated or changed since it was indexed).
 */
export function verifiedStream(range: FileRange, digest: string): Readable {
  const algorithm = digest.slice(0, digest.indexOf(':'));
  const hash = createHash(algorithm);
  let seen = 0;
  const check = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      seen += chunk.length;
      if (seen < range.length) return done(null, chunk);
      const actual = `${algorithm}:${hash.digest('hex')}`;
      // The last chunk goes out only once the whole blob is known to match.
      if (actual !== digest) return done(mismatch(range, digest, actual, seen));
      done(null, chunk);
    },
    flush(done) {
      if (seen < range.length) return done(new BlobDigestError(`blob ${digest}: ${describeRange(range)} ended after ${seen} of ${range.length} bytes; refusing to push it`));
      done();
    },
  });
  if (range.length === 0) {
    // createReadStream cannot read nothing (end is inclusive): an empty blob is checked here.
    const actual = `${algorithm}:${hash.digest('hex')}`;
    queueMicrotask(() => (actual === digest ? check.end() : check.destroy(mismatch(range, digest, actual, 0))));
    return check;
  }
  const source = createReadStream(range.path, { start: range.offset, end: range.offset + range.length - 1, highWaterMark: 1 << 20 });
  source.on('error', (error) => check.destroy(error));
  return source.pipe(check);
}

/** A small blob (a config) read whole, at most `limit` bytes, checked against its digest. */
export async function readVerified(range: FileRange, digest: string, limit: number): Promise<Buffer> {
  if (range.length > limit) throw new RegistryError(`blob ${digest} is ${range.length} bytes, more than the ${limit} a JSON document may have`);
  const handle = await open(range.path, 'r');
  try {
    const bytes = Buffer.alloc(range.length);
    const { bytesRead } = await handle.read(bytes, 0, range.length, range.offset);
    const algorithm = digest.slice(0, digest.indexOf(':'));
    const actual = `${algorithm}:${createHash(algorithm).update(bytes.subarray(0, bytesRead)).digest('hex')}`;
    if (bytesRead !== range.length || actual !== digest) throw mismatch(range, digest, actual, bytesRead);
    return bytes;
  } finally {
    await handle.close();
  }
}
