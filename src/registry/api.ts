// The distribution API calls publish makes, one function each, over RegistryClient.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { MEDIA_TYPES, type Descriptor } from '../oci/types.js';
import { header, RegistryAuthError, RegistryError, RegistryOriginError, type RegistryClient, type Response } from './client.js';
import { BlobDigestError, verifiedStream, type FileRange } from './blob-bytes.js';
import { resolveLocation } from './origin.js';
import type { Repository } from './reference.js';

export const MANIFEST_ACCEPT = [MEDIA_TYPES.ociManifest, MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerManifest, MEDIA_TYPES.dockerManifestList];

export const pullScope = (repo: Repository) => `repository:${repo.path}:pull`;
export const pushScope = (repo: Repository) => `repository:${repo.path}:pull,push`;

const v2 = (repo: Repository, rest: string) => `/v2/${repo.path}/${rest}`;

export async function getManifest(client: RegistryClient, repo: Repository, reference: string, scopes = [pullScope(repo)]): Promise<{ bytes: Buffer; mediaType: string; digest?: string }> {
  const response = await client.send({ method: 'GET', url: v2(repo, `manifests/${reference}`), headers: { accept: MANIFEST_ACCEPT.join(', ') }, scopes, expect: [200] });
  return { bytes: response.body, mediaType: (header(response, 'content-type') ?? '').split(';')[0]!.trim(), digest: header(response, 'docker-content-digest') };
}

/** The digest the registry serves for a tag or digest, or undefined when it has none. */
export async function headManifest(client: RegistryClient, repo: Repository, reference: string, scopes = [pullScope(repo)]): Promise<string | undefined> {
  const response = await client.send({ method: 'HEAD', url: v2(repo, `manifests/${reference}`), headers: { accept: MANIFEST_ACCEPT.join(', ') }, scopes, expect: [200, 404] });
  if (response.status === 404) return undefined;
  return header(response, 'docker-content-digest');
}

export async function putManifest(client: RegistryClient, repo: Repository, reference: string, mediaType: string, bytes: Buffer): Promise<string | undefined> {
  const response = await client.send({ method: 'PUT', url: v2(repo, `manifests/${reference}`), headers: { 'content-type': mediaType }, body: bytes, scopes: [pushScope(repo)], expect: [201] });
  return header(response, 'docker-content-digest');
}

export async function hasBlob(client: RegistryClient, repo: Repository, digest: string, scopes = [pushScope(repo)]): Promise<boolean> {
  const response = await client.send({ method: 'HEAD', url: v2(repo, `blobs/${digest}`), scopes, expect: [200, 404] });
  return response.status === 200;
}

/** Cross-repository mount; false when the registry opened an upload instead (it cannot mount). */
export async function mountBlob(client: RegistryClient, repo: Repository, from: Repository, digest: string): Promise<boolean> {
  const query = new URLSearchParams({ mount: digest, from: from.path });
  const response = await client.send({
    method: 'POST',
    url: v2(repo, `blobs/uploads/?${query}`),
    scopes: [pushScope(repo), pullScope(from)],
    expect: [201, 202],
  });
  if (response.status === 202) await cancelUpload(client, repo, response);
  return response.status === 201;
}

async function cancelUpload(client: RegistryClient, repo: Repository, response: Response): Promise<void> {
  const location = header(response, 'location');
  if (!location) return;
  await client.send({ method: 'DELETE', url: absolute(location, response), scopes: [pushScope(repo)], expect: [204, 404, 405, 200] }).catch(() => undefined);
}

/** A Location, resolved against the URL that answered with it (the client decides whether credentials may go there). */
function absolute(location: string, from: Response): string {
  return resolveLocation(location, from.url).toString();
}

/**
 * Uploads a blob from its bytes on this runner: POST opens a session, PATCH streams the bytes,
 * PUT ?digest= closes it (the registry checks the digest too). The bytes are hashed as they go
 * out and the last chunk is held back until they match (blob-bytes.ts): a blob whose bytes do not
 * hash to its digest never completes its PATCH, its session is cancelled, and no PUT is sent. The
 * bytes are never sent twice into one session: a PATCH or PUT that fails (a dropped connection, a
 * registry restarted under us) starts a new one, whose POST waits out the registry with the
 * client's backoff.
 */
export async function uploadBlob(client: RegistryClient, repo: Repository, blob: { digest: string; size: number; file: FileRange }, onRetry?: (message: string) => void): Promise<void> {
  const scopes = [pushScope(repo)];
  for (let session = 1; ; session++) {
    const opened = await client.send({ method: 'POST', url: v2(repo, 'blobs/uploads/'), scopes, expect: [202] });
    const location = header(opened, 'location');
    if (!location) throw new RegistryError(`registry ${client.host}: the upload of ${blob.digest} got no Location`);
    try {
      const patched = await client.send({
        method: 'PATCH',
        url: absolute(location, opened),
        headers: { 'content-type': 'application/octet-stream' },
        body: () => verifiedStream(blob.file, blob.digest),
        bodyLength: blob.size,
        scopes,
        expect: [202],
        attempts: 1,
      });
      const next = header(patched, 'location');
      const done = new URL(next ? absolute(next, patched) : absolute(location, opened));
      done.searchParams.set('digest', blob.digest);
      await client.send({ method: 'PUT', url: done.toString(), scopes, expect: [201], attempts: 1 });
      return;
    } catch (error) {
      if (error instanceof BlobDigestError) {
        await cancelUpload(client, repo, opened);
        throw error;
      }
      if (error instanceof RegistryAuthError || error instanceof RegistryOriginError || !(error instanceof RegistryError) || session >= 4) throw error;
      onRetry?.(`${error.message}; uploading ${blob.digest} again in a new session`);
    }
  }
}

/** Downloads a blob into `file`, checking its digest and size; the file is removed when they differ. */
export async function downloadBlob(client: RegistryClient, repo: Repository, d: Descriptor, file: string, scopes = [pullScope(repo)]): Promise<void> {
  let actual = '';
  let size = 0;
  // Each attempt starts the file and the hash afresh.
  await client.send({
    method: 'GET',
    url: v2(repo, `blobs/${d.digest}`),
    scopes,
    expect: [200],
    consume: async (body) => {
      const hash = createHash('sha256');
      size = 0;
      await pipeline(
        body,
        new Transform({
          transform(chunk: Buffer, _enc, done) {
            size += chunk.length;
            if (size > d.size) return done(new RegistryError(`registry ${client.host}: blob ${d.digest} is larger than its descriptor says (${d.size} bytes)`));
            hash.update(chunk);
            done(null, chunk);
          },
        }),
        createWriteStream(file, { mode: 0o600 }),
      );
      actual = `sha256:${hash.digest('hex')}`;
    },
  });
  if (actual !== d.digest || size !== d.size) {
    await rm(file, { force: true });
    throw new RegistryError(`registry ${client.host}: blob ${d.digest} downloaded as ${size} bytes with digest ${actual}`);
  }
}
