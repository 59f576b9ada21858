// A compact description of an image — its digests, manifests and configs (exact bytes), and a
// file index per layer — that can be compared with another description without the image bytes.
// Matrix runners upload a description (MBs) instead of the image (GBs) and cross-check each other.
import { readFile, stat, writeFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { gunzipSync, gzipSync } from 'node:zlib';
import { ImageArchiveError, LIMITS, mib } from '../oci/bounds.js';
import type { TarEntryType } from '../oci/tar.js';
import { isAttestation, platformString, type Descriptor } from '../oci/types.js';
import { compareModels, type LayerBackend } from './compare.js';
import { HashPool } from '../oci/hash-pool.js';
import { algorithmOf, checkDigest, configPlatform, digestOf, layerBytes, openImage, parseJson, type ImageKind, type ImageModel, type IndexDoc, type ManifestDoc, type PlatformImage } from '../oci/image.js';
import { walkLayer } from './layer-walk.js';
import type { AttestationInfo, CompareOptions, ComparisonReport, FileSummary } from './types.js';
import { ENGINE_FIELDS, engineCause, engineName, isEngineVersions, type EngineVersions } from './engine.js';

export const DESCRIPTION_SCHEMA = 'vllm-rocm-action/image-description/v1';

/** path, type, mode, uid, gid, size, sha256 (files) or null, mtime, link target, extras. */
export type FileRecord = [string, TarEntryType, number, number, number, number, string | null, number, string, FileExtras?];

export interface FileExtras {
  pax?: string;
  pyc?: FileSummary['pyc'];
  elf?: FileSummary['elf'];
  zip?: FileSummary['zip'];
  manifest?: FileSummary['manifest'];
  gz?: FileSummary['gz'];
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
  /** The engine that built the image, where the describing job built it (verify's artifact mode). */
  engine?: EngineVersions;
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
  if (s.zip) extras.zip = s.zip;
  if (s.manifest) extras.manifest = s.manifest;
  if (s.gz) extras.gz = s.gz;
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
  if (extras?.zip) s.zip = extras.zip;
  if (extras?.manifest) s.manifest = extras.manifest;
  if (extras?.gz) s.gz = extras.gz;
  return s;
}

/** Reads the whole image (every blob verified, every layer walked) into a description. */
export async function describeImage(input: string, options: { detectArtifacts?: boolean; hashWorkers?: number; engine?: EngineVersions } = {}): Promise<ImageDescription> {
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
      ...(options.engine ? { engine: options.engine } : {}),
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
  // Refused here rather than by every reader of the artifact later.
  if (json.length > LIMITS.descriptionBytes) throw new ImageArchiveError(`the description of ${description.input} is ${mib(json.length)}, more than readers accept (${mib(LIMITS.descriptionBytes)})`);
  await writeFile(path, path.endsWith('.gz') ? gzipSync(json, { level: 6 }) : json);
}

/** Reads a description written by writeDescription (plain or gzip'ed JSON), within LIMITS.descriptionBytes. */
export async function readDescription(path: string): Promise<{ description: ImageDescription; bytes: number }> {
  const limit = LIMITS.descriptionBytes;
  const tooLarge = (what: string): ImageArchiveError =>
    new ImageArchiveError(`${path} ${what} more than ${mib(limit)}: more than any image description, refusing it`);
  const info = await stat(path).catch((error: Error) => {
    throw new ImageArchiveError(`${path} cannot be read: ${error.message}`);
  });
  if (!info.isFile()) throw new ImageArchiveError(`${path} is not a file`);
  if (info.size > limit) throw tooLarge('is');
  const raw = await readFile(path).catch((error: Error) => {
    throw new ImageArchiveError(`${path} cannot be read: ${error.message}`);
  });
  let json: Buffer;
  try {
    json = raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw, { maxOutputLength: limit }) : raw;
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge('inflates to');
    throw new ImageArchiveError(`${path} is a corrupt gzip file: ${(error as Error).message}`);
  }
  checkJsonShape(path, json);
  let description: ImageDescription;
  try {
    description = JSON.parse(json.toString('utf8')) as ImageDescription;
  } catch (error) {
    throw new ImageArchiveError(`${path} is not JSON: ${(error as Error).message}`);
  }
  if (description?.schema !== DESCRIPTION_SCHEMA) throw new ImageArchiveError(`${path} is not an image description (${DESCRIPTION_SCHEMA})`);
  return { description, bytes: raw.length };
}

/** Counts arrays/objects and values outside strings before JSON.parse would allocate them all. */
function checkJsonShape(path: string, json: Buffer): void {
  let containers = 0;
  let values = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) containers++;
    else if (c === 0x2c) values++;
  }
  if (containers > LIMITS.descriptionContainers || values > LIMITS.descriptionValues) {
    throw new ImageArchiveError(
      `${path} holds ${containers} JSON arrays/objects and ${values} values: more than an image description has (at most ${LIMITS.descriptionContainers} and ${LIMITS.descriptionValues}), refusing it`,
    );
  }
}

/**
 * Rebuilds the comparison model from a description. Nothing it claims is taken on trust: the top
 * digest, the index, every manifest and config are recomputed from the bytes it carries, and the
 * layers, diff_ids, platforms and attestations must be the ones those bytes name. Anything
 * inconsistent is an error, never a verdict. (Layer file lists cannot be checked without the
 * layers; they only explain a difference the digests already decide.)
 */
function modelOf(d: ImageDescription): { model: ImageModel; files: Map<PlatformImage, FileRecord[][]> } {
  const label = `${typeof d.input === 'string' ? d.input : '(unnamed)'} (description)`;
  const forged = (what: string): ImageArchiveError => new ImageArchiveError(`${label}: ${what} (corrupt description)`);
  const decode = (base64: unknown, digest: string, what: string): Buffer => {
    if (typeof base64 !== 'string') throw forged(`the ${what} bytes are missing`);
    const bytes = Buffer.from(base64, 'base64');
    const actual = digestOf(bytes, algorithmOf(digest));
    if (actual !== digest) throw forged(`the ${what} bytes hash to ${actual}, not ${digest}`);
    return bytes;
  };
  if (typeof d.input !== 'string' || typeof d.kind !== 'string' || !d.top || !Array.isArray(d.images) || d.images.length === 0 || !Array.isArray(d.attestations)) {
    throw forged('it lacks its input, kind, top descriptor, images or attestations');
  }
  const topDigest = checkDigest(label, d.top.digest);
  if (d.engine !== undefined && !isEngineVersions(d.engine)) throw forged(`its engine is not ${ENGINE_FIELDS.join('/')} version strings`);

  let index: ImageModel['index'];
  if (d.index !== undefined) {
    const bytes = decode(d.index, topDigest, 'index');
    const json = parseJson<IndexDoc>(label, 'the index', bytes);
    if (!Array.isArray(json.manifests)) throw forged('the index lists no manifests');
    index = { bytes, json };
  }
  if (index && d.top.size !== index.bytes.length) throw forged(`the top descriptor says ${d.top.size} bytes, the index is ${index.bytes.length}`);

  const files = new Map<PlatformImage, FileRecord[][]>();
  const images = d.images.map((p, n) => {
    const what = `image ${n}`;
    if (!p || !p.descriptor || !Array.isArray(p.layers)) throw forged(`${what} lacks its descriptor or layers`);
    const manifestDigest = checkDigest(label, p.descriptor.digest);
    const manifestBytes = decode(p.manifest, manifestDigest, `${what} manifest`);
    if (p.descriptor.size !== manifestBytes.length) throw forged(`${what}: the descriptor says ${p.descriptor.size} bytes, the manifest is ${manifestBytes.length}`);
    const manifest = parseJson<ManifestDoc>(label, `${what} manifest`, manifestBytes);
    if (!manifest.config || !Array.isArray(manifest.layers)) throw forged(`${what}: ${manifestDigest} is not an image manifest`);
    const configBytes = decode(p.config, checkDigest(label, manifest.config.digest), `${what} config`);
    const config = parseJson<Record<string, unknown>>(label, `${what} config`, configBytes);
    const rootfs = config.rootfs as { diff_ids?: unknown } | undefined;
    const diffIds = Array.isArray(rootfs?.diff_ids) ? (rootfs.diff_ids as unknown[]).map((id) => checkDigest(label, id)) : [];
    if (p.layers.length !== manifest.layers.length || diffIds.length !== manifest.layers.length) {
      throw forged(`${what}: ${p.layers.length} layers described, the manifest has ${manifest.layers.length}, the config ${diffIds.length} diff_ids`);
    }
    p.layers.forEach((l, i) => {
      const m = manifest.layers[i]!;
      if (!l || l.digest !== m.digest || l.size !== m.size || l.mediaType !== m.mediaType || l.diffId !== diffIds[i] || !Array.isArray(l.files) || !l.files.every(Array.isArray)) {
        throw forged(`${what}: layer ${i} is not the one its manifest and config name`);
      }
    });
    let descriptor: Descriptor = p.descriptor;
    if (index) {
      // The descriptor (platform included) is the index's own entry.
      const entry = index.json.manifests.find((m) => m.digest === manifestDigest && !isAttestation(m));
      if (!entry) throw forged(`${what}: ${manifestDigest} is not listed in its index`);
      descriptor = entry;
    }
    const platform = platformString(descriptor.platform) || configPlatform(config);
    if (p.platform !== platform) throw forged(`${what}: described as platform ${JSON.stringify(p.platform)}, its bytes say ${JSON.stringify(platform)}`);
    const image: PlatformImage = { platform, descriptor, manifestBytes, manifest, configBytes, config, diffIds };
    files.set(image, p.layers.map((l) => l.files));
    return image;
  });

  let top: ImageModel['top'];
  let attestations: AttestationInfo[] = [];
  if (index) {
    // Every image and attestation the index names is in the description, and nothing else.
    const listed = index.json.manifests.filter((m) => !isAttestation(m)).map((m) => m.digest).sort();
    const described = images.map((m) => m.descriptor.digest).sort();
    if (JSON.stringify(listed) !== JSON.stringify(described)) throw forged(`its index lists the images ${listed.join(', ')}, it describes ${described.join(', ')}`);
    attestations = index.json.manifests.filter(isAttestation).map((m) => {
      const claimed = d.attestations.find((a) => a?.digest === m.digest);
      const refersTo = m.annotations?.['vnd.docker.reference.digest'];
      if (!claimed || claimed.refersTo !== refersTo) throw forged(`attestation ${m.digest} is not described as its index lists it`);
      return { digest: m.digest, refersTo, predicateTypes: Array.isArray(claimed.predicateTypes) ? claimed.predicateTypes.filter((t) => typeof t === 'string') : [] };
    });
    if (attestations.length !== d.attestations.length) throw forged('it describes attestations its index does not list');
    top = { digest: topDigest, mediaType: index.json.mediaType ?? d.top.mediaType, size: index.bytes.length };
    if (d.top.mediaType !== top.mediaType) throw forged(`the top media type ${d.top.mediaType} is not the index's ${top.mediaType}`);
  } else {
    const only = images[0]!;
    if (images.length !== 1 || d.attestations.length > 0) throw forged('several images or attestations without an index');
    if (topDigest !== only.descriptor.digest) throw forged(`the top digest ${topDigest} is not its manifest's ${only.descriptor.digest}`);
    if (d.top.mediaType !== only.descriptor.mediaType || d.top.size !== only.manifestBytes.length) throw forged('the top descriptor is not its manifest\'s');
    top = { digest: topDigest, mediaType: only.descriptor.mediaType, size: only.manifestBytes.length };
  }
  return { model: { input: d.input, kind: d.kind, top, index, images, attestations }, files };
}

/**
 * The comparison of two descriptions: the same differences compareImages reports for the images.
 * Where both name their engines and those differ, compression-only layers are put down to them.
 */
export async function compareDescriptions(a: ImageDescription, b: ImageDescription, options: CompareOptions & { bytesRead?: number } = {}): Promise<ComparisonReport> {
  const started = performance.now();
  const ma = modelOf(a);
  const mb = modelOf(b);
  const engines = engineCause(a.engine, b.engine);
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
  const report = await compareModels(ma.model, mb.model, backend, options, started, engines ? { compression: engines } : {});
  report.a.kind = `${a.kind} (description)`;
  report.b.kind = `${b.kind} (description)`;
  if (a.engine) report.a.engine = engineName(a.engine);
  if (b.engine) report.b.engine = engineName(b.engine);
  return report;
}
