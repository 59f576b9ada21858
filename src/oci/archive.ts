// Reads what an OCI image archive (the tar `buildx --output type=oci` writes) holds at the top:
// the manifest its index.json points to, the config, and the total size. Small JSON blobs are
// checked against their digests; layers are counted (and checked when the scan hashed them).
import { createHash } from 'node:crypto';
import { ImageArchiveError, scanImageTar, type ArchiveScan } from './scan.js';
import {
  isAttestation,
  isIndex,
  platformString,
  type Descriptor,
  type ImageIndex,
  type ImageManifest,
} from './types.js';

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
  return summarizeOciScan(await scanImageTar(path), platform);
}

export function summarizeOciScan(scan: ArchiveScan, platform?: string): OciArchiveSummary {
  const { small, members, label } = scan;
  const indexBytes = small.get('index.json');
  if (!indexBytes) throw new ImageArchiveError(`${label} has no index.json: not an OCI image archive`);

  const blob = (d: Descriptor): Buffer => {
    const name = `blobs/${d.digest.replace(':', '/')}`;
    const bytes = small.get(name);
    if (!bytes) throw new ImageArchiveError(`${label} lacks blob ${d.digest}`);
    const actual = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    if (actual !== d.digest) throw new ImageArchiveError(`${label}: blob ${d.digest} has digest ${actual}`);
    return bytes;
  };

  const index = JSON.parse(indexBytes.toString('utf8')) as ImageIndex;
  const top = index.manifests?.[0];
  if (!top) throw new ImageArchiveError(`${label}: index.json lists no manifests`);
  let manifestDescriptor = top;
  if (isIndex(top.mediaType)) {
    const inner = JSON.parse(blob(top).toString('utf8')) as ImageIndex;
    const candidates = inner.manifests.filter((m) => !isAttestation(m));
    const chosen = platform ? candidates.find((m) => platformString(m.platform) === platform) : candidates[0];
    if (!chosen) throw new ImageArchiveError(`${label}: no manifest for platform ${platform ?? '(any)'}`);
    manifestDescriptor = chosen;
  }
  const manifestBytes = blob(manifestDescriptor);
  const manifest = JSON.parse(manifestBytes.toString('utf8')) as ImageManifest;
  const config = JSON.parse(blob(manifest.config).toString('utf8')) as Record<string, unknown>;
  for (const layer of manifest.layers) {
    const stored = members.get(`blobs/${layer.digest.replace(':', '/')}`);
    if (stored === undefined) throw new ImageArchiveError(`${label} lacks layer ${layer.digest}`);
    if (stored.size !== layer.size) throw new ImageArchiveError(`${label}: layer ${layer.digest} is ${stored.size} bytes, manifest says ${layer.size}`);
    if (stored.digest && stored.digest !== layer.digest) throw new ImageArchiveError(`${label}: layer ${layer.digest} has digest ${stored.digest}`);
  }
  return {
    topDigest: top.digest,
    manifestDigest: manifestDescriptor.digest,
    manifest,
    configDigest: manifest.config.digest,
    config,
    sizeBytes: manifestBytes.length + manifest.config.size + manifest.layers.reduce((n, l) => n + l.size, 0),
    platform: platformString(manifestDescriptor.platform) || platformString(config as never),
  };
}
