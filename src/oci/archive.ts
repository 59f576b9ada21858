// What an OCI image archive (the tar `buildx --output type=oci` writes) holds at the top: the
// descriptor index.json points to, the manifest for the platform, the config, and the total size.
// Read with the one bounded image reader (image.ts): every document checked against its digest,
// every layer present with the size its manifest gives.
import { checkLayerSizes, withImage } from './image.js';
import { ImageArchiveError } from './bounds.js';
import type { ImageManifest } from './types.js';

export { ImageArchiveError };

export interface OciArchiveSummary {
  /** The descriptor index.json points to (a manifest, or an index when attestations are present). */
  topDigest: string;
  /** The image manifest for the chosen platform. */
  manifestDigest: string;
  manifest: ImageManifest;
  configDigest: string;
  config: Record<string, unknown>;
  /** Compressed layers + config + manifest. */
  sizeBytes: number;
  platform: string;
}

export async function readOciArchive(path: string, platform?: string): Promise<OciArchiveSummary> {
  return withImage(path, async (opened) => {
    const { model } = opened;
    if (model.kind === 'docker-archive') throw new ImageArchiveError(`${path} is a docker-archive (manifest.json), not an OCI image archive`);
    const image = platform ? model.images.find((m) => m.platform === platform) : model.images[0];
    if (!image) throw new ImageArchiveError(`${path}: no manifest for platform ${platform} (it has ${model.images.map((m) => m.platform).join(', ')})`);
    await checkLayerSizes(opened, image.manifest.layers);
    return {
      topDigest: model.top.digest,
      manifestDigest: image.descriptor.digest,
      manifest: image.manifest,
      configDigest: image.manifest.config.digest,
      config: image.config,
      sizeBytes: image.manifestBytes.length + image.configBytes.length + image.manifest.layers.reduce((n, l) => n + l.size, 0),
      platform: image.platform,
    };
  });
}
