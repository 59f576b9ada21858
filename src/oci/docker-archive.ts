// A docker-archive (what dockerTools.buildImage and streamLayeredImage write) described as the
// OCI image the suite pushes. The encoding is fixed so the digest is known before pushing:
//   - config: the archive's config JSON, byte for byte;
//   - layers: the archive's layer tars, uncompressed, as application/vnd.oci.image.layer.v1.tar
//     (so each layer digest equals its diff_id);
//   - manifest: JSON.stringify of {schemaVersion, mediaType, config, layers}, keys in that order,
//     no whitespace.
import { createHash } from 'node:crypto';
import { ImageArchiveError } from './bounds.js';
import type { Descriptor, ImageManifest } from './types.js';

/** What the encoding needs of a docker-archive: manifest.json and the config, and each layer's size and digest. */
export interface ArchiveScan {
  label: string;
  /** manifest.json and the config member, exact bytes. */
  small: Map<string, Buffer>;
  /** Layer members (by name): size and sha256 of the uncompressed tar. */
  members: Map<string, { size: number; digest?: string }>;
}

export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const OCI_LAYER_TAR = 'application/vnd.oci.image.layer.v1.tar';
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

export interface DockerArchiveImage {
  manifestBytes: Buffer;
  manifestDigest: string;
  manifest: ImageManifest;
  configBytes: Buffer;
  /** Archive member holding each layer, in manifest order. */
  layerMembers: string[];
  sizeBytes: number;
  repoTags: string[];
}

interface DockerManifestEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

export function sha256Digest(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** The OCI image a docker-archive is pushed as (openImage reads it; layer digests are the config's diff_ids, checked when read). */
export function describeDockerScan(scan: ArchiveScan): DockerArchiveImage {
  const { small, members: hashed, label } = scan;
  const manifestJson = small.get('manifest.json');
  if (!manifestJson) throw new ImageArchiveError(`${label} has no manifest.json: not a docker-archive`);
  const entries = JSON.parse(manifestJson.toString('utf8')) as DockerManifestEntry[];
  const entry = entries[0];
  if (!entry) throw new ImageArchiveError(`${label}: manifest.json lists no image`);
  const configBytes = small.get(entry.Config);
  if (!configBytes) throw new ImageArchiveError(`${label} lacks its config ${entry.Config}`);
  const config = JSON.parse(configBytes.toString('utf8')) as { rootfs?: { diff_ids?: string[] } };
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== entry.Layers.length) {
    throw new ImageArchiveError(`${label}: the config lists ${diffIds.length} layers, manifest.json ${entry.Layers.length}`);
  }
  const layers: Descriptor[] = entry.Layers.map((member, i) => {
    const layer = hashed.get(member);
    if (!layer?.digest) throw new ImageArchiveError(`${label} lacks layer ${member}`);
    if (layer.digest !== diffIds[i]) throw new ImageArchiveError(`${label}: layer ${member} has digest ${layer.digest}, the config says ${diffIds[i]}`);
    return { mediaType: OCI_LAYER_TAR, digest: layer.digest, size: layer.size };
  });
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, digest: sha256Digest(configBytes), size: configBytes.length },
    layers,
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  return {
    manifestBytes,
    manifestDigest: sha256Digest(manifestBytes),
    manifest,
    configBytes,
    layerMembers: entry.Layers,
    sizeBytes: manifestBytes.length + configBytes.length + layers.reduce((n, l) => n + l.size, 0),
    repoTags: entry.RepoTags ?? [],
  };
}
