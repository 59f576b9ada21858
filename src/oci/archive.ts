// Reads what an OCI image archive (the tar `buildx --output type=oci` writes) holds at the top:
// the manifest its index.json points to, the config, and the total size. Small JSON blobs are
// kept in memory and checked against their digests; layer bodies are only counted.
import { createHash } from 'node:crypto';
import { walkTar } from './tar.js';
import {
  isAttestation,
  isIndex,
  platformString,
  type Descriptor,
  type ImageIndex,
  type ImageManifest,
} from './types.js';

export class ImageArchiveError extends Error {}

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

const SMALL_BLOB = 4 << 20;

export async function readOciArchive(path: string, platform?: string): Promise<OciArchiveSummary> {
  const small = new Map<string, Buffer>(); // path in the archive -> bytes
  const sizes = new Map<string, number>();
  try {
    await walkTar(path, (entry) => {
      if (entry.type !== 'file') return undefined;
      sizes.set(entry.name, entry.size);
      if (entry.size > SMALL_BLOB) return undefined;
      const parts: Buffer[] = [];
      return { data: (c) => parts.push(Buffer.from(c)), end: () => void small.set(entry.name, Buffer.concat(parts)) };
    });
  } catch (error) {
    throw new ImageArchiveError(`${path} is not a readable OCI archive: ${(error as Error).message}`);
  }
  const indexBytes = small.get('index.json');
  if (!indexBytes) throw new ImageArchiveError(`${path} has no index.json: not an OCI image archive`);

  const blob = (d: Descriptor): Buffer => {
    const name = `blobs/${d.digest.replace(':', '/')}`;
    const bytes = small.get(name);
    if (!bytes) throw new ImageArchiveError(`${path} lacks blob ${d.digest}`);
    const actual = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    if (actual !== d.digest) throw new ImageArchiveError(`${path}: blob ${d.digest} has digest ${actual}`);
    return bytes;
  };

  const index = JSON.parse(indexBytes.toString('utf8')) as ImageIndex;
  const top = index.manifests?.[0];
  if (!top) throw new ImageArchiveError(`${path}: index.json lists no manifests`);
  let manifestDescriptor = top;
  if (isIndex(top.mediaType)) {
    const inner = JSON.parse(blob(top).toString('utf8')) as ImageIndex;
    const candidates = inner.manifests.filter((m) => !isAttestation(m));
    const chosen = platform ? candidates.find((m) => platformString(m.platform) === platform) : candidates[0];
    if (!chosen) throw new ImageArchiveError(`${path}: no manifest for platform ${platform ?? '(any)'}`);
    manifestDescriptor = chosen;
  }
  const manifestBytes = blob(manifestDescriptor);
  const manifest = JSON.parse(manifestBytes.toString('utf8')) as ImageManifest;
  const config = JSON.parse(blob(manifest.config).toString('utf8')) as Record<string, unknown>;
  for (const layer of manifest.layers) {
    const stored = sizes.get(`blobs/${layer.digest.replace(':', '/')}`);
    if (stored === undefined) throw new ImageArchiveError(`${path} lacks layer ${layer.digest}`);
    if (stored !== layer.size) throw new ImageArchiveError(`${path}: layer ${layer.digest} is ${stored} bytes, manifest says ${layer.size}`);
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
