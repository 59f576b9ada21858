// Publishing in the only safe order: blobs, manifests by digest, the image manifest read back and
// its digest checked, and only then the tags, each checked as it lands. A failure before the tags
// leaves at most unreferenced blobs or an untagged manifest; no tag ever points at a broken image.
import { sha256Digest } from '../oci/docker-archive.js';
import { RegistryError, type RegistryClient } from './client.js';
import { getManifest, hasBlob, mountBlob, pushScope, putManifest, uploadBlob } from './api.js';
import { repositoryName, sameRegistry, type Repository } from './reference.js';
import { topManifest, type Blob, type SourceImage } from './source.js';

/**
 * Blobs pushed at once. dockerd pushes up to 5 layers at once and pulls 3 (moby
 * daemon/config/config.go, DefaultMaxConcurrentUploads / DefaultMaxConcurrentDownloads); 3 keeps
 * a 2-core runner's hashing (one core per stream) from starving the rest.
 */
export const BLOB_UPLOADS = 3;

/**
 * Runs `work` on every item, at most `limit` at a time. On the first failure no further item is
 * started; the ones under way are waited for (nothing is left running), then the failure is thrown.
 */
export async function eachBounded<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lane = async (): Promise<void> => {
    while (!failure && next < items.length) {
      const item = items[next++]!;
      try {
        await work(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  if (failure) throw failure.error;
}

export interface PushLog {
  info(message: string): void;
  retry(message: string): void;
}

export interface PushResult {
  digest: string;
  /** image:tag@digest per tag (image@digest when no tag). */
  refs: string[];
  uploaded: number;
  mounted: number;
  existing: number;
}

/** `beforeTags` runs once the image is pushed and read back, before the first tag (signing). */
export async function pushImage(
  client: RegistryClient,
  target: Repository,
  image: SourceImage,
  tags: string[],
  log: PushLog,
  beforeTags?: (digest: string) => Promise<void>,
): Promise<PushResult> {
  const name = repositoryName(target);
  // Auth (and reachability) first: refused credentials must stop us before anything moves.
  await client.ping([pushScope(target)]);

  let uploaded = 0;
  let mounted = 0;
  let existing = 0;
  const pushBlob = async (blob: Blob): Promise<void> => {
    if (await hasBlob(client, target, blob.digest)) {
      existing++;
      return;
    }
    if (blob.mountFrom && sameRegistry(blob.mountFrom.host, target.host) && (await mountBlob(client, target, blob.mountFrom, blob.digest))) {
      mounted++;
      log.info(`mounted ${blob.digest} from ${blob.mountFrom.path}`);
      return;
    }
    if (!blob.file) throw new RegistryError(`registry ${client.host} could not mount ${blob.digest} from ${blob.mountFrom?.path ?? 'its source'}, and it is not available locally`);
    log.info(`uploading ${blob.digest} (${blob.size} bytes)`);
    await uploadBlob(client, target, { digest: blob.digest, size: blob.size, file: blob.file }, log.retry);
    uploaded++;
  };
  await eachBounded(image.blobs, BLOB_UPLOADS, pushBlob);

  for (const manifest of image.manifests) {
    const answered = await putManifest(client, target, manifest.digest, manifest.mediaType, manifest.bytes);
    if (answered && answered !== manifest.digest) throw new RegistryError(`registry ${client.host} stored manifest ${manifest.digest} as ${answered}`);
  }
  const top = topManifest(image);
  const readBack = await getManifest(client, target, top.digest, [pushScope(target)]);
  const readDigest = sha256Digest(readBack.bytes);
  if (readDigest !== top.digest) {
    throw new RegistryError(`registry ${client.host}: ${name}@${top.digest} reads back with digest ${readDigest}; no tag was pushed`);
  }
  log.info(`${name}@${top.digest} pushed and read back`);
  await beforeTags?.(top.digest);

  const refs: string[] = [];
  for (const tag of tags) {
    const answered = await putManifest(client, target, tag, top.mediaType, top.bytes);
    if (answered && answered !== top.digest) throw new RegistryError(`registry ${client.host}: tag ${tag} now points at ${answered}, not ${top.digest}`);
    refs.push(`${name}:${tag}@${top.digest}`);
    log.info(`tagged ${name}:${tag}`);
  }
  if (tags.length === 0) refs.push(`${name}@${top.digest}`);
  return { digest: top.digest, refs, uploaded, mounted, existing };
}
