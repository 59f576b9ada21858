// The parts of the OCI image spec this suite reads.

export const MEDIA_TYPES = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
} as const;

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: Platform;
}

export interface ImageIndex {
  schemaVersion: number;
  mediaType?: string;
  manifests: Descriptor[];
}

export interface ImageManifest {
  schemaVersion: number;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
}

/** An attestation manifest BuildKit adds to the index, as the reports list it. */
export interface AttestationInfo {
  digest: string;
  /** Digest of the image manifest the attestation describes. */
  refersTo?: string;
  predicateTypes: string[];
}

export function isIndex(mediaType: string | undefined): boolean {
  return mediaType === MEDIA_TYPES.ociIndex || mediaType === MEDIA_TYPES.dockerManifestList;
}

/** BuildKit stores provenance/SBOM as extra "manifests" marked with this annotation. */
export function isAttestation(descriptor: Descriptor): boolean {
  return descriptor.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest';
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

export function isDigest(value: string): boolean {
  return DIGEST.test(value);
}

export function platformString(p: Platform | undefined): string {
  if (!p) return '';
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}
