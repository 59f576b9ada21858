// A compact description of an image — its digests, manifests and configs (exact bytes), and a
// file index per layer — that can be compared with another description without the image bytes.
// Matrix runners upload a description (MBs) instead of the image (GBs) and cross-check each other.
import { readFile, writeFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { gunzipSync, gzipSync } from 'node:zlib';
import { ImageArchiveError } from '../oci/bounds.js';
import type { TarEntryType } from '../oci/tar.js';
import type { Descriptor } from '../oci/types.js';
import { compareModels, type LayerBackend } from './compare.js';
import { HashPool } from '../oci/hash-pool.js';
import { algorithmOf, digestOf, layerBytes, openImage, type ImageKind, type ImageModel, type IndexDoc, type ManifestDoc, type PlatformImage } from '../oci/image.js';
import { walkLayer } from './layer-walk.js';
import type { AttestationInfo, CompareOptions, ComparisonReport, FileSummary } from './types.js';

export const DESCRIPTION_SCHEMA = 'vllm-rocm-action/image-description/v1';

/** path, type, mode, uid, gid, size, sha256 (files) or null, mtime, link target, extras. */
export type FileRecord = [string, TarEntryType, number, number, number, number, string | null, number, string, FileExtras?];

export interface FileExtras {
  pax?: string;
  pyc?: FileSummary['pyc'];
  elf?: FileSummary['elf'];
}

export interface LayerDescription {
  digest: string;
  size: number;
  mediaType: string;
  diffId: string;
  /** Entries in archive order (the order is part of the layer). */
  files: FileRecord[];
}

export interface PlatformDescription {
  platform: string;
  descriptor: Descriptor;
  /** Exact manifest and config bytes, base64. */
  manifest: string;
  config: string;
  layers: LayerDescription[];
}

export interface ImageDescription {
  schema: typeof DESCRIPTION_SCHEMA;
  input: string;
  kind: ImageKind;
  top: ImageModel['top'];
  /** Exact index bytes, base64 (when the top descriptor is an index). */
  index?: string;
  attestations: AttestationInfo[];
  images: PlatformDescription[];
  stats: { bytesRead: number; seconds: number; bytesWalked: number };
}

export function toRecord(s: FileSummary): FileRecord {
  const record: FileRecord = [s.path, s.type, s.mode, s.uid, s.gid, s.size, s.sha256 ?? null, s.mtime, s.linkname];
  const extras: FileExtras = {};
  if (s.pax !== undefined) extras.pax = s.pax;
  if (s.pyc) extras.pyc = s.pyc;
  if (s.elf) extras.elf = s.elf;
  if (Object.keys(extras).length > 0) record.push(extras);
  return record;
}

export function fromRecord(r: FileRecord): FileSummary {
  const s: FileSummary = { path: r[0], type: r[1], mode: r[2], uid: r[3], gid: r[4], size: r[5], mtime: r[7], linkname: r[8] };
  if (r[6] !== null) s.sha256 = r[6];
  const extras = r[9];
  if (extras?.pax !== undefined) s.pax = extras.pax;
  if (extras?.pyc) s.pyc = extras.pyc;
  if (extras?.elf) s.elf = extras.elf;
  return s;
}

/** Reads the whole image (every blob verified, every layer walked) into a description. */
export async function describeImage(input: string, options: { detectArtifacts?: boolean; hashWorkers?: number } = {}): Promise<ImageDescription> {
  const started = performance.now();
  const pool = new HashPool(options.hashWorkers);
  const opened = await openImage(input, pool).catch(async (error: unknown) => {
    await pool.close();
    throw error;
  });
  try {
    const { model } = opened;
    const walked = new Map<string, FileRecord[]>();
    let bytesWalked = 0;
    const images: PlatformDescription[] = [];
    for (const image of model.images) {
      const layers: LayerDescription[] = [];
      for (const [i, layer] of image.manifest.layers.entries()) {
        let files = walked.get(layer.digest);
        if (!files) {
          const list: FileRecord[] = [];
          const result = await walkLayer(
            layerBytes(opened, layer),
            { label: input, digest: layer.digest, diffId: image.diffIds[i]!, detectArtifacts: options.detectArtifacts ?? true },
            (s) => void list.push(toRecord(s)),
          );
          bytesWalked += result.bytes;
          walked.set(layer.digest, list);
          files = list;
        }
        layers.push({ digest: layer.digest, size: layer.size, mediaType: layer.mediaType, diffId: image.diffIds[i]!, files });
      }
      images.push({
        platform: image.platform,
        descriptor: image.descriptor,
        manifest: image.manifestBytes.toString('base64'),
        config: image.configBytes.toString('base64'),
        layers,
      });
    }
    return {
      schema: DESCRIPTION_SCHEMA,
      input,
      kind: model.kind,
      top: model.top,
      index: model.index?.bytes.toString('base64'),
      attestations: model.attestations,
      images,
      stats: { bytesRead: opened.container.bytesRead, seconds: Math.round(performance.now() - started) / 1000, bytesWalked },
    };
  } finally {
    await opened.close();
    await pool.close();
  }
}

/** Writes a description as JSON (gzip'ed when the path ends in .gz). */
export async function writeDescription(description: ImageDescription, path: string): Promise<void> {
  const json = Buffer.from(JSON.stringify(description));
  await writeFile(path, path.endsWith('.gz') ? gzipSync(json, { level: 6 }) : json);
}

/** Reads a description written by writeDescription (plain or gzip'ed JSON). */
export async function readDescription(path: string): Promise<{ description: ImageDescription; bytes: number }> {
  const raw = await readFile(path).catch((error: Error) => {
    throw new ImageArchiveError(`${path} cannot be read: ${error.message}`);
  });
  let json: Buffer;
  try {
    json = raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw;
  } catch (error) {
    throw new ImageArchiveError(`${path} is a corrupt gzip file: ${(error as Error).message}`);
  }
  let description: ImageDescription;
  try {
    description = JSON.parse(json.toString('utf8')) as ImageDescription;
  } catch (error) {
    throw new ImageArchiveError(`${path} is not JSON: ${(error as Error).message}`);
  }
  if (description?.schema !== DESCRIPTION_SCHEMA) throw new ImageArchiveError(`${path} is not an image description (${DESCRIPTION_SCHEMA})`);
  return { description, bytes: raw.length };
}

/** Rebuilds the comparison model from a description, checking the embedded bytes against their digests. */
function modelOf(d: ImageDescription): { model: ImageModel; files: Map<PlatformImage, FileRecord[][]> } {
  const label = `${d.input} (description)`;
  const decode = (base64: string, digest: string, what: string): Buffer => {
    const bytes = Buffer.from(base64, 'base64');
    const actual = digestOf(bytes, algorithmOf(digest));
    if (actual !== digest) throw new ImageArchiveError(`${label}: the ${what} bytes hash to ${actual}, not ${digest} (corrupt description)`);
    return bytes;
  };
  const files = new Map<PlatformImage, FileRecord[][]>();
  const images = d.images.map((p) => {
    const manifestBytes = decode(p.manifest, p.descriptor.digest, 'manifest');
    const manifest = JSON.parse(manifestBytes.toString('utf8')) as ManifestDoc;
    const configBytes = decode(p.config, manifest.config.digest, 'config');
    const image: PlatformImage = {
      platform: p.platform,
      descriptor: p.descriptor,
      manifestBytes,
      manifest,
      configBytes,
      config: JSON.parse(configBytes.toString('utf8')) as Record<string, unknown>,
      diffIds: p.layers.map((l) => l.diffId),
    };
    files.set(image, p.layers.map((l) => l.files));
    return image;
  });
  let index: ImageModel['index'];
  if (d.index !== undefined) {
    const bytes = Buffer.from(d.index, 'base64');
    index = { bytes, json: JSON.parse(bytes.toString('utf8')) as IndexDoc };
  }
  return { model: { input: d.input, kind: d.kind, top: d.top, index, images, attestations: d.attestations }, files };
}

/** The comparison of two descriptions: the same differences compareImages reports for the images. */
export async function compareDescriptions(a: ImageDescription, b: ImageDescription, options: CompareOptions & { bytesRead?: number } = {}): Promise<ComparisonReport> {
  const started = performance.now();
  const ma = modelOf(a);
  const mb = modelOf(b);
  const backend: LayerBackend = {
    verify: async () => 0,
    async walk(side, image, layerIndex, emit) {
      const records = (side === 'a' ? ma : mb).files.get(image)?.[layerIndex] ?? [];
      let bytes = 0;
      for (const record of records) {
        const wait = emit(fromRecord(record));
        if (wait) await wait;
        bytes += record[5];
      }
      return bytes;
    },
    bytesRead: () => options.bytesRead ?? 0,
    verifiesWalks: false,
  };
  const report = await compareModels(ma.model, mb.model, backend, options, started);
  report.a.kind = `${a.kind} (description)`;
  report.b.kind = `${b.kind} (description)`;
  return report;
}
