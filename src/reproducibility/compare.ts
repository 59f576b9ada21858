// The comparison, top down: index → per-platform manifest (exact bytes) → config, field by field →
// layers by diff_id. Equal and compression-only layers are only verified (hashed, in worker
// threads); layers whose diff_id differs are walked, both sides at once, entry by entry.
import { performance } from 'node:perf_hooks';
import { ImageArchiveError } from '../oci/bounds.js';
import type { Descriptor } from '../oci/types.js';
import { Collector, DEFAULT_LIST_BUDGET } from './collector.js';
import { compareEntryStreams, compareFilesystems, SummaryQueue, type FileDifference } from './file-compare.js';
import { flatten } from './flatten.js';
import { HashPool } from '../oci/hash-pool.js';
import { layerBytes, openImage, verifyLayers, type ImageModel, type OpenedImage, type PlatformImage } from '../oci/image.js';
import { diffConfig, diffDocument, jsonEqual } from './json-diff.js';
import { walkLayer } from './layer-walk.js';
import type { CauseAndFix } from './causes.js';
import type {
  AttestationInfo,
  CompareOptions,
  ComparisonReport,
  DifferenceKind,
  FileSummary,
  LayerRung,
  PlatformLadder,
} from './types.js';

export type Side = 'a' | 'b';

/** Where layer bytes come from: image files, or descriptions made earlier. */
export interface LayerBackend {
  /** Checks the blobs' digests; returns how many were checked. */
  verify(side: Side, layers: Descriptor[]): Promise<number>;
  /** Emits the layer's entries in archive order; returns the uncompressed bytes walked. */
  walk(side: Side, image: PlatformImage, layerIndex: number, emit: (s: FileSummary) => void | Promise<void>): Promise<number>;
  bytesRead(): number;
  /** Whether a walk checks the blob it reads (images: yes; descriptions: nothing to check). */
  readonly verifiesWalks: boolean;
}

/** The default cap on listed entries (all causes together, shared out; see collector.ts). */
export const DEFAULT_MAX_DIFFERENCES = DEFAULT_LIST_BUDGET;

/** Pairs the two sides' platform images (a single image on each side is always paired). */
function pairPlatforms(a: PlatformImage[], b: PlatformImage[]): Array<{ a?: PlatformImage; b?: PlatformImage; platform: string }> {
  if (a.length === 1 && b.length === 1) return [{ a: a[0], b: b[0], platform: a[0]!.platform || b[0]!.platform }];
  const pairs: Array<{ a?: PlatformImage; b?: PlatformImage; platform: string }> = [];
  const rest = [...b];
  for (const image of a) {
    const at = rest.findIndex((x) => x.platform === image.platform);
    pairs.push({ a: image, b: at === -1 ? undefined : rest.splice(at, 1)[0], platform: image.platform });
  }
  for (const image of rest) pairs.push({ b: image, platform: image.platform });
  return pairs;
}

function attestationKey(model: ImageModel, att: AttestationInfo, i: number): string {
  const image = model.images.find((m) => m.descriptor.digest === att.refersTo);
  return image ? image.platform : att.refersTo ?? `#${i}`;
}

/** `knownCauses`: what this comparison knows better than causeOf of a kind (the engines that built each side). */
export async function compareModels(A: ImageModel, B: ImageModel, backend: LayerBackend, options: CompareOptions = {}, started = performance.now(), knownCauses: Partial<Record<DifferenceKind, CauseAndFix>> = {}): Promise<ComparisonReport> {
  const out = new Collector({ perCause: options.maxDifferences, causes: knownCauses });
  const filter = (images: PlatformImage[], label: string): PlatformImage[] => {
    if (!options.platform) return images;
    const chosen = images.filter((m) => m.platform === options.platform);
    if (chosen.length === 0) throw new ImageArchiveError(`${label} has no image for platform ${options.platform} (it has ${images.map((m) => m.platform).join(', ')})`);
    return chosen;
  };
  const imagesA = filter(A.images, A.input);
  const imagesB = filter(B.images, B.input);

  // Index level. With a platform chosen, that platform's manifest plays the top and the index
  // (other platforms, attestations) is left out.
  const single = !!options.platform;
  const topA = single ? { digest: imagesA[0]!.descriptor.digest, mediaType: imagesA[0]!.descriptor.mediaType, size: imagesA[0]!.descriptor.size } : A.top;
  const topB = single ? { digest: imagesB[0]!.descriptor.digest, mediaType: imagesB[0]!.descriptor.mediaType, size: imagesB[0]!.descriptor.size } : B.top;
  const topEqual = topA.digest === topB.digest;
  if (!topEqual && !single) {
    if (A.index && B.index) {
      for (const d of diffDocument(A.index.json as never, B.index.json as never, ['manifests'], 'index-field')) out.add({ where: 'index', ...d });
    } else if (!!A.index !== !!B.index) {
      const indexed = A.index ? A : B;
      const explainedByAttestation = indexed.attestations.length > 0 && indexed.images.length === 1;
      if (!explainedByAttestation) out.add({ where: 'index', kind: 'index-field', field: 'top media type', a: A.top.mediaType, b: B.top.mediaType });
    }
  }
  const pairs = pairPlatforms(imagesA, imagesB);
  for (const p of pairs) {
    if (!p.a || !p.b) out.add({ where: 'index', kind: 'platforms', field: `platform ${p.platform || '(unknown)'}`, a: p.a?.descriptor.digest ?? null, b: p.b?.descriptor.digest ?? null });
  }
  const attestationsA = single ? [] : A.attestations;
  const attestationsB = single ? [] : B.attestations;
  const attA = new Map(attestationsA.map((att, i) => [attestationKey(A, att, i), att]));
  const attB = new Map(attestationsB.map((att, i) => [attestationKey(B, att, i), att]));
  for (const key of new Set([...attA.keys(), ...attB.keys()])) {
    const x = attA.get(key);
    const y = attB.get(key);
    if (x?.digest !== y?.digest) out.add({ where: 'index', kind: 'attestation', field: `attestation for ${key}`, a: x?.digest ?? null, b: y?.digest ?? null });
  }

  // Per platform: manifest, config, layer plan.
  const ladders: PlatformLadder[] = [];
  const verifyA = new Map<string, Descriptor>();
  const verifyB = new Map<string, Descriptor>();
  const walks: Array<{ rung: LayerRung; a: PlatformImage; b: PlatformImage; platform: string }> = [];
  // Layer counts differ: position means nothing, the flattened filesystems are compared instead.
  const flattens: Array<{ ladder: PlatformLadder; a: PlatformImage; b: PlatformImage }> = [];
  let contentEqual = pairs.every((p) => p.a && p.b);
  for (const p of pairs) {
    const { a, b, platform } = p;
    const ladder: PlatformLadder = {
      platform,
      manifest: { equal: !!a && !!b && a.descriptor.digest === b.descriptor.digest, a: a?.descriptor.digest, b: b?.descriptor.digest },
      config: { equal: !!a && !!b && a.manifest.config.digest === b.manifest.config.digest, a: a?.manifest.config.digest, b: b?.manifest.config.digest },
      layers: [],
    };
    ladders.push(ladder);
    if (!a || !b) {
      for (const [img, set] of [[a, verifyA], [b, verifyB]] as const) img?.manifest.layers.forEach((l) => set.set(l.digest, l));
      continue;
    }
    if (!ladder.manifest.equal) {
      const docDiffs = diffDocument(a.manifest as never, b.manifest as never, ['config', 'layers'], 'manifest-field');
      if (a.manifest.config.mediaType !== b.manifest.config.mediaType) docDiffs.push({ field: 'config.mediaType', kind: 'manifest-field', a: a.manifest.config.mediaType, b: b.manifest.config.mediaType });
      if (a.manifest.layers.length !== b.manifest.layers.length) docDiffs.push({ field: 'layers (count)', kind: 'layer-count', a: a.manifest.layers.length, b: b.manifest.layers.length });
      if (docDiffs.length === 0 && jsonEqual(a.manifest, b.manifest)) docDiffs.push({ field: '(serialisation)', kind: 'manifest-encoding', a: a.descriptor.digest, b: b.descriptor.digest });
      for (const d of docDiffs) out.add({ where: 'manifest', platform, ...d });
    }
    if (!ladder.config.equal) {
      contentEqual = false;
      const configDiffs = diffConfig(a.config, b.config).filter((d) => d.kind !== 'layer-count');
      if (configDiffs.length === 0 && jsonEqual(a.config, b.config)) configDiffs.push({ field: '(serialisation)', kind: 'manifest-encoding', a: a.manifest.config.digest, b: b.manifest.config.digest });
      for (const d of configDiffs) out.add({ where: 'config', platform, ...d });
    }
    const count = Math.max(a.manifest.layers.length, b.manifest.layers.length);
    const flattened = a.manifest.layers.length !== b.manifest.layers.length;
    if (flattened) flattens.push({ ladder, a, b });
    for (let i = 0; i < count; i++) {
      const la = a.manifest.layers[i];
      const lb = b.manifest.layers[i];
      const rung: LayerRung = {
        index: i,
        status: 'equal',
        equal: false,
        a: la && { digest: la.digest, size: la.size, mediaType: la.mediaType, diffId: a.diffIds[i] },
        b: lb && { digest: lb.digest, size: lb.size, mediaType: lb.mediaType, diffId: b.diffIds[i] },
      };
      ladder.layers.push(rung);
      if (la) verifyA.set(la.digest, la);
      if (lb) verifyB.set(lb.digest, lb);
      if (!la || !lb) {
        rung.status = la ? 'only-in-a' : 'only-in-b';
        contentEqual = false;
        continue;
      }
      const layer = { index: i, diffIdA: a.diffIds[i], diffIdB: b.diffIds[i] };
      if (la.digest === lb.digest) {
        rung.status = 'equal';
        rung.equal = true;
      } else if (a.diffIds[i] === b.diffIds[i] && !flattened) {
        rung.status = 'compression-only';
        const encoding = la.mediaType !== lb.mediaType;
        out.add({
          where: 'layer',
          platform,
          layer,
          kind: encoding ? 'layer-encoding' : 'compression',
          field: encoding ? 'mediaType' : 'compressed digest',
          a: encoding ? la.mediaType : la.digest,
          b: encoding ? lb.mediaType : lb.digest,
        });
      } else if (flattened) {
        rung.status = a.diffIds[i] === b.diffIds[i] ? 'compression-only' : 'differs';
        contentEqual = false;
      } else {
        rung.status = 'differs';
        contentEqual = false;
        // The walk checks these blobs as it reads them.
        verifyA.delete(la.digest);
        verifyB.delete(lb.digest);
        walks.push({ rung, a, b, platform });
      }
    }
  }
  if (topEqual) assertSameBelowTop(A, B, topA.digest, pairs, ladders, single);
  // A blob walked on one rung may also be "equal" elsewhere: walking checks it, so don't hash twice.
  for (const w of walks) {
    const i = w.rung.index;
    verifyA.delete(w.a.manifest.layers[i]!.digest);
    verifyB.delete(w.b.manifest.layers[i]!.digest);
  }
  for (const f of flattens) {
    for (const l of f.a.manifest.layers) verifyA.delete(l.digest);
    for (const l of f.b.manifest.layers) verifyB.delete(l.digest);
  }

  // Verification of the blobs nobody walks runs in the background while the walks go on.
  const verifying = Promise.all([backend.verify('a', [...verifyA.values()]), backend.verify('b', [...verifyB.values()])]);
  verifying.catch(() => undefined);
  let bytesWalked = 0;
  for (const w of walks) bytesWalked += await walkPair(w, backend, out);
  let flattenedWalks = 0;
  for (const f of flattens) {
    const [fa, fb] = await Promise.all([flatten(backend, 'a', f.a), flatten(backend, 'b', f.b)]);
    bytesWalked += fa.bytes + fb.bytes;
    flattenedWalks += f.a.manifest.layers.length + f.b.manifest.layers.length;
    const platform = f.ladder.platform;
    const result = compareFilesystems(fa.files, fb.files, (path, { listed, ...d }) => out.add({ where: 'file', platform, path, ...d }, listed));
    f.ladder.filesystem = { compared: result.compared, differing: result.differing, onlyInA: result.onlyInA, onlyInB: result.onlyInB };
    out.counts.filesCompared += result.compared;
    out.counts.filesDiffering += result.differing;
    out.counts.filesOnlyInA += result.onlyInA;
    out.counts.filesOnlyInB += result.onlyInB;
    if (result.differing === 0) {
      out.add({
        where: 'layer',
        platform,
        kind: 'layering',
        field: 'layers',
        a: f.a.manifest.layers.length,
        b: f.b.manifest.layers.length,
        detail: `same filesystem, different layers: the ${result.compared} paths of the flattened filesystems are equal`,
      });
    }
  }
  const [verifiedA, verifiedB] = await verifying;

  if (!topEqual && out.counts.total === 0) out.add({ where: 'index', kind: 'index-field', field: 'top digest', a: topA.digest, b: topB.digest });

  const seconds = (performance.now() - started) / 1000;
  const bytesRead = backend.bytesRead();
  const { differences, causes, fixFirst } = out.finish();
  return {
    schema: 'vllm-rocm-action/reproducibility-report/v1',
    reproducible: topEqual,
    contentReproducible: contentEqual,
    digestA: topA.digest,
    digestB: topB.digest,
    a: { input: A.input, kind: A.kind },
    b: { input: B.input, kind: B.kind },
    ladder: {
      top: { equal: topEqual, a: topA.digest, b: topB.digest, mediaTypeA: topA.mediaType, mediaTypeB: topB.mediaType },
      platforms: ladders,
      attestations: { a: attestationsA, b: attestationsB },
    },
    differences,
    counts: out.counts,
    causes,
    fixFirst,
    stats: {
      bytesRead,
      seconds: round(seconds, 3),
      throughputMBps: seconds > 0 ? round(bytesRead / 1e6 / seconds, 1) : 0,
      bytesWalked,
      blobsVerified: verifiedA + verifiedB + (backend.verifiesWalks ? walks.length * 2 + flattenedWalks : 0),
    },
  };
}

/**
 * The verdict is the top digest, so it must be earned: equal top digests mean identical bytes all
 * the way down. Each side's model was checked against its own bytes (image.ts, describe.ts); if
 * the sides still disagree below an equal top, one of them is forged or corrupt — an error.
 */
function assertSameBelowTop(A: ImageModel, B: ImageModel, top: string, pairs: Array<{ a?: PlatformImage; b?: PlatformImage }>, ladders: PlatformLadder[], single: boolean): void {
  const sameIndex = single || (A.index && B.index ? A.index.bytes.equals(B.index.bytes) : !A.index && !B.index);
  const sameImages =
    pairs.every((p) => p.a && p.b && p.a.manifestBytes.equals(p.b.manifestBytes) && p.a.configBytes.equals(p.b.configBytes)) &&
    ladders.every((l) => l.layers.every((r) => r.status === 'equal' && r.a?.diffId === r.b?.diffId));
  if (!sameIndex || !sameImages) {
    throw new ImageArchiveError(`${A.input} and ${B.input} both claim the top digest ${top} but differ below it: one of them is forged or corrupt`);
  }
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

async function walkPair(w: { rung: LayerRung; a: PlatformImage; b: PlatformImage; platform: string }, backend: LayerBackend, out: Collector): Promise<number> {
  const i = w.rung.index;
  const qa = new SummaryQueue();
  const qb = new SummaryQueue();
  let bytes = 0;
  const run = (side: Side, image: PlatformImage, queue: SummaryQueue): Promise<void> =>
    backend.walk(side, image, i, (s) => queue.push(s)).then(
      (n) => {
        bytes += n;
        queue.close();
      },
      (error: Error) => {
        queue.close(error);
        throw error;
      },
    );
  const walkA = run('a', w.a, qa);
  const walkB = run('b', w.b, qb);
  // Their rejections are collected below; until then they must not count as unhandled.
  walkA.catch(() => undefined);
  walkB.catch(() => undefined);
  const layer = { index: i, diffIdA: w.a.diffIds[i], diffIdB: w.b.diffIds[i] };
  try {
    const result = await compareEntryStreams(qa, qb, (path: string, { listed, ...d }: FileDifference) => out.add({ where: 'file', platform: w.platform, layer, path, ...d }, listed));
    await Promise.all([walkA, walkB]);
    w.rung.filesCompared = result.compared;
    w.rung.filesDiffering = result.differing;
    w.rung.fileOrderDiffers = !!result.orderDiffers;
    w.rung.filesOnlyInA = result.onlyInA;
    w.rung.filesOnlyInB = result.onlyInB;
    out.counts.filesCompared += result.compared;
    out.counts.filesDiffering += result.differing;
    out.counts.filesOnlyInA += result.onlyInA;
    out.counts.filesOnlyInB += result.onlyInB;
    if (result.orderDiffers) {
      out.add({ where: 'layer', platform: w.platform, layer, kind: 'file-order', field: 'file order', path: result.orderDiffers.path, a: result.orderDiffers.positionA, b: result.orderDiffers.positionB });
    }
    if (result.differing === 0 && !result.orderDiffers) {
      out.add({ where: 'layer', platform: w.platform, layer, kind: 'tar-metadata', field: 'diff_id', a: layer.diffIdA ?? null, b: layer.diffIdB ?? null });
    }
  } catch (error) {
    qa.close(error as Error);
    qb.close(error as Error);
    const settled = await Promise.allSettled([walkA, walkB]);
    // Prefer the walk's own error (a corrupt blob) to the queue's echo of it.
    const own = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected' && s.reason instanceof ImageArchiveError);
    throw own ? own.reason : error;
  }
  return bytes;
}

export interface CompareImagesOptions extends CompareOptions {
  /** Worker threads that hash blobs (default: the cores, at most 4). */
  hashWorkers?: number;
}

/** Compares two images (OCI archive, OCI layout directory, docker-archive, plain or gzip'ed). */
export async function compareImages(inputA: string, inputB: string, options: CompareImagesOptions = {}): Promise<ComparisonReport> {
  const started = performance.now();
  const pool = new HashPool(options.hashWorkers);
  const opened = await Promise.allSettled([openImage(inputA, pool), openImage(inputB, pool)]);
  try {
    const failed = opened.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed) throw failed.reason;
    const [a, b] = opened.map((o) => (o as PromiseFulfilledResult<OpenedImage>).value) as [OpenedImage, OpenedImage];
    return await compareModels(a.model, b.model, imageBackend(a, b, options.detectArtifacts ?? true), options, started);
  } finally {
    await Promise.all(opened.map((o) => (o.status === 'fulfilled' ? o.value.close() : undefined)));
    await pool.close();
  }
}

export function imageBackend(a: OpenedImage, b: OpenedImage, detectArtifacts: boolean): LayerBackend {
  const of = (side: Side): OpenedImage => (side === 'a' ? a : b);
  return {
    async verify(side, layers) {
      if (layers.length > 0) await verifyLayers(of(side), layers);
      return layers.length;
    },
    async walk(side, image, layerIndex, emit) {
      const opened = of(side);
      const layer = image.manifest.layers[layerIndex]!;
      const result = await walkLayer(
        layerBytes(opened, layer),
        { label: opened.model.input, digest: layer.digest, diffId: image.diffIds[layerIndex]!, detectArtifacts },
        emit,
      );
      return result.bytes;
    },
    bytesRead: () => a.container.bytesRead + b.container.bytesRead,
    verifiesWalks: true,
  };
}
