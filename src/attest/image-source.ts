// The images an SBOM is read from: each platform image's config and layers, streamed. From an
// archive or layout on disk through the shared bounded reader (src/oci/image.ts); from the blobs
// publish has staged and verified (an engine or registry source), re-hashed as they are read.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { ImageArchiveError, LIMITS } from '../oci/bounds.js';
import { layerBytes, type OpenedImage } from '../oci/image.js';
import { isIndex, type Descriptor } from '../oci/types.js';
import type { ImageSource } from './image-contents.js';

/** Every platform image of an opened archive or layout (attestation manifests are not images). */
export function openedImageSources(image: OpenedImage): ImageSource[] {
  return image.model.images.map((platform) => ({
    label: `${image.model.input} (${platform.platform})`,
    config: platform.config,
    layers: platform.manifest.layers.map((layer, i) => {
      const diffId = platform.diffIds[i];
      if (!diffId) throw new ImageArchiveError(`${image.model.input}: layer ${i} has no diff_id in the config`);
      return { digest: layer.digest, diffId, bytes: () => layerBytes(image, layer) };
    }),
  }));
}

export interface StagedImage {
  label: string;
  /** Manifests and indexes, exact bytes (already checked against their digests). */
  manifests: Array<{ digest: string; mediaType: string; bytes: Buffer }>;
  /** A blob's local file, fetched on demand where it is not on this runner yet (a mounted blob). */
  blobFile(d: Descriptor): Promise<string>;
}

async function* verifiedFile(file: string, d: Descriptor, label: string): AsyncGenerator<Buffer> {
  const hash = createHash('sha256');
  let seen = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    seen += (chunk as Buffer).length;
    yield chunk as Buffer;
  }
  const actual = `sha256:${hash.digest('hex')}`;
  if (seen !== d.size || actual !== d.digest) throw new ImageArchiveError(`${label}: blob ${d.digest} now reads as ${actual} (${seen} bytes): changed since it was verified`);
}

/** Every image manifest of a staged image (children of an index, attestation manifests left out). */
export async function stagedImageSources(image: StagedImage): Promise<ImageSource[]> {
  const skip = new Set<string>();
  for (const m of image.manifests) {
    const doc = JSON.parse(m.bytes.toString('utf8')) as { manifests?: Array<Descriptor & { annotations?: Record<string, string> }> };
    if (!isIndex(m.mediaType) && !Array.isArray(doc.manifests)) continue;
    skip.add(m.digest);
    for (const child of doc.manifests ?? []) if (child.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest') skip.add(child.digest);
  }
  const sources: ImageSource[] = [];
  for (const m of image.manifests) {
    if (skip.has(m.digest)) continue;
    const doc = JSON.parse(m.bytes.toString('utf8')) as { config: Descriptor; layers: Descriptor[] };
    if (doc.config.size > LIMITS.documentBytes) throw new ImageArchiveError(`${image.label}: config ${doc.config.digest} is ${doc.config.size} bytes`);
    const configFile = await image.blobFile(doc.config);
    if ((await stat(configFile)).size !== doc.config.size) throw new ImageArchiveError(`${image.label}: config ${doc.config.digest} changed since it was verified`);
    const configBytes = await readFile(configFile);
    if (`sha256:${createHash('sha256').update(configBytes).digest('hex')}` !== doc.config.digest) throw new ImageArchiveError(`${image.label}: config ${doc.config.digest} changed since it was verified`);
    const config = JSON.parse(configBytes.toString('utf8')) as { rootfs?: { diff_ids?: unknown } };
    const diffIds = Array.isArray(config.rootfs?.diff_ids) ? (config.rootfs.diff_ids as unknown[]) : [];
    sources.push({
      label: `${image.label} (${m.digest})`,
      config: config as Record<string, unknown>,
      layers: doc.layers.map((layer, i) => {
        const diffId = diffIds[i];
        if (typeof diffId !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(diffId)) throw new ImageArchiveError(`${image.label}: layer ${i} has no valid diff_id in the config`);
        return {
          digest: layer.digest,
          diffId,
          bytes: async function* () {
            yield* verifiedFile(await image.blobFile(layer), layer, image.label);
          },
        };
      }),
    });
  }
  return sources;
}
