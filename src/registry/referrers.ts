// Attaches an artifact (a Sigstore bundle) to an image digest as an OCI referrer: a manifest whose
// `subject` is the image, as the distribution spec's "Pushing Manifests with Subject" describes
// (opencontainers/distribution-spec spec.md). A registry that indexes referrers answers the PUT
// with an OCI-Subject header; one that does not (Docker's registry 2.8) gets the spec's fallback,
// the "Referrers Tag Schema": an index tagged sha256-<hex> listing the referrers, updated here.
// The bundle's layout follows cosign's specs/BUNDLE_SPEC.md (sigstore/cosign), as actions/attest's
// push-to-registry writes it.
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MEDIA_TYPES, type Descriptor } from '../oci/types.js';
import { getManifest, hasBlob, pushScope, uploadBlob } from './api.js';
import { header, RegistryError, type RegistryClient } from './client.js';
import type { Repository } from './reference.js';

export const EMPTY_CONFIG: Descriptor = { mediaType: 'application/vnd.oci.empty.v1+json', digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a', size: 2 };
export const SIGSTORE_BUNDLE = 'application/vnd.dev.sigstore.bundle.v0.3+json';

export interface Referrer {
  artifactType: string;
  /** The one layer's media type and bytes. */
  mediaType: string;
  bytes: Buffer;
  annotations: Record<string, string>;
}

export interface ReferrerResult {
  digest: string;
  /** The fallback tag updated when the registry has no referrers API. */
  fallbackTag?: string;
}

const sha256 = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

async function ensureBlob(client: RegistryClient, repo: Repository, bytes: Buffer, temp: string): Promise<string> {
  const digest = sha256(bytes);
  if (await hasBlob(client, repo, digest)) return digest;
  const file = join(temp, digest.replace(':', '-'));
  await writeFile(file, bytes, { mode: 0o600 });
  await uploadBlob(client, repo, { digest, size: bytes.length, file: { path: file, offset: 0, length: bytes.length } });
  return digest;
}

export async function pushReferrer(client: RegistryClient, repo: Repository, subject: Descriptor, artifact: Referrer, temp: string): Promise<ReferrerResult> {
  await ensureBlob(client, repo, Buffer.from('{}'), temp);
  const layerDigest = await ensureBlob(client, repo, artifact.bytes, temp);
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    artifactType: artifact.artifactType,
    config: EMPTY_CONFIG,
    layers: [{ mediaType: artifact.mediaType, digest: layerDigest, size: artifact.bytes.length }],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    annotations: artifact.annotations,
  }));
  const digest = sha256(manifest);
  const scopes = [pushScope(repo)];
  const put = await client.send({ method: 'PUT', url: `/v2/${repo.path}/manifests/${digest}`, headers: { 'content-type': MEDIA_TYPES.ociManifest }, body: manifest, scopes, expect: [201] });
  if (header(put, 'oci-subject') === subject.digest) return { digest };

  // No referrers API: the fallback tag's index gets this manifest's descriptor (kept once).
  const fallbackTag = `${subject.digest.replace(':', '-')}`;
  const listed = await client.send({ method: 'GET', url: `/v2/${repo.path}/manifests/${fallbackTag}`, headers: { accept: MEDIA_TYPES.ociIndex }, scopes, expect: [200, 404] });
  let index: { schemaVersion: 2; mediaType: string; manifests: Array<Descriptor & { artifactType?: string }> } = { schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [] };
  if (listed.status === 200) {
    const existing = (await getManifest(client, repo, fallbackTag, scopes)).bytes;
    const parsed = JSON.parse(existing.toString('utf8')) as typeof index;
    if (parsed.mediaType !== MEDIA_TYPES.ociIndex || !Array.isArray(parsed.manifests)) {
      throw new RegistryError(`${repo.host}/${repo.path}:${fallbackTag} exists but is not a referrers index; not overwritten`);
    }
    index = parsed;
  }
  if (!index.manifests.some((m) => m.digest === digest)) {
    index.manifests.push({ mediaType: MEDIA_TYPES.ociManifest, digest, size: manifest.length, artifactType: artifact.artifactType, annotations: artifact.annotations });
  }
  await client.send({ method: 'PUT', url: `/v2/${repo.path}/manifests/${fallbackTag}`, headers: { 'content-type': MEDIA_TYPES.ociIndex }, body: Buffer.from(JSON.stringify(index)), scopes, expect: [201] });
  return { digest, fallbackTag };
}
