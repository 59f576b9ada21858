// Did the build keep its base image's layers as they are? A base of many GB that comes out with
// other blob digests is recompressed on every build and re-pushed whole (moby/buildkit#4805:
// rewrite-timestamp rewrote base layers on BuildKit 0.13.1 for some bases). Digests only: one
// manifest read from the registry, never a blob, so it costs the same for a 20 GB base.
import { readFile } from 'node:fs/promises';
import { baseImageOf, outlineDockerfile } from '../docker/dockerfile.js';
import { capture } from '../tool/capture.js';
import { codeSpan } from '../tool/markdown.js';
import { isDigest, isIndex, type Descriptor } from '../oci/types.js';
import type { BuildDockerInputs } from './inputs.js';

const MAX_MANIFEST = 4 << 20;

export interface LayerComparison {
  kept: number;
  rewritten: Array<{ index: number; base: string; output?: string }>;
}

/**
 * Base layer i must be output layer i, same digest, whatever the compression: the stage never
 * forces its compression onto base layers (src/docker/buildx-args.ts outputArg), so a gzip base
 * stays gzip under `compression: zstd` and any other digest is a rewrite.
 */
export function compareBaseLayers(base: Array<Pick<Descriptor, 'digest'>>, output: string[]): LayerComparison {
  const result: LayerComparison = { kept: 0, rewritten: [] };
  base.forEach((layer, index) => {
    if (output[index] === layer.digest) result.kept++;
    else result.rewritten.push({ index, base: layer.digest, output: output[index] });
  });
  return result;
}

export interface BaseCheck {
  /** The summary row's text. */
  row: string;
  /** Set when base layers came out rewritten; the caller adds the engine's versions. */
  rewritten?: { base: string; comparison: LayerComparison };
}

/**
 * The base of the built stage, checked against the output's layer digests (`undefined` output:
 * the engine holds the image, whose compressed digests it does not give). Only a base pinned by
 * digest is checked: a tag read again now may name another image than the build pulled.
 */
export async function checkBaseLayers(inputs: BuildDockerInputs, output: string[] | undefined): Promise<BaseCheck | undefined> {
  const base = baseImageOf(outlineDockerfile(await readFile(inputs.file, 'utf8')), inputs.buildArgs, inputs.target);
  if (!base || ('image' in base && base.image.toLowerCase() === 'scratch')) return undefined;
  if ('unresolved' in base) return { row: `not checked: ${codeSpan(`FROM ${base.unresolved}`)} uses an ARG with no value` };
  if (!output) return { row: `not checked for output: ${inputs.output} (the engine does not give its layers' compressed digests)` };
  const at = base.image.lastIndexOf('@');
  if (at < 0 || !isDigest(base.image.slice(at + 1))) return { row: `not checked: ${codeSpan(base.image)} is not pinned by digest (FROM image@sha256:…)` };
  const layers = await baseManifestLayers(base.image, inputs.platform);
  if (typeof layers === 'string') return { row: `not checked: ${layers}` };
  const comparison = compareBaseLayers(layers, output);
  const name = codeSpan(base.image);
  if (comparison.rewritten.length > 0) {
    return { row: `⚠️ ${comparison.rewritten.length} of ${layers.length} layers of ${name} rewritten by the build (see the warning)`, rewritten: { base: base.image, comparison } };
  }
  return { row: `${layers.length} of ${layers.length} layers of ${name} kept as they are (same blob digests: not recompressed, not pushed again)` };
}

/** The base's layer descriptors, from its manifest in the registry (the platform's, from an index), or why not. */
async function baseManifestLayers(ref: string, platform: string): Promise<Array<Pick<Descriptor, 'digest' | 'mediaType'>> | string> {
  const raw = async (r: string): Promise<Record<string, unknown> | string> => {
    const result = await capture('docker', ['buildx', 'imagetools', 'inspect', '--raw', r]);
    if (result.exitCode !== 0) return `cannot read the manifest of ${codeSpan(r)} (${codeSpan(result.stderr.trim().split('\n').pop() ?? '')})`;
    if (result.stdout.length > MAX_MANIFEST) return `the manifest of ${codeSpan(r)} is over ${MAX_MANIFEST} bytes`;
    try {
      const parsed: unknown = JSON.parse(result.stdout);
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    } catch {
      // fall through: not JSON
    }
    return `the registry's answer for ${codeSpan(r)} is not a manifest`;
  };
  let manifest = await raw(ref);
  if (typeof manifest === 'string') return manifest;
  if (isIndex(manifest.mediaType as string | undefined) || Array.isArray(manifest.manifests)) {
    const entries = Array.isArray(manifest.manifests) ? (manifest.manifests as Array<{ digest?: unknown; platform?: { os?: unknown; architecture?: unknown; variant?: unknown } }>) : [];
    const chosen = entries.find((m) => m?.platform && [m.platform.os, m.platform.architecture, m.platform.variant].filter(Boolean).join('/') === platform)
      ?? entries.find((m) => m?.platform && `${m.platform.os}/${m.platform.architecture}` === platform);
    if (!chosen || typeof chosen.digest !== 'string' || !isDigest(chosen.digest)) return `${codeSpan(ref)} lists no image for ${platform}`;
    manifest = await raw(`${ref.slice(0, ref.lastIndexOf('@'))}@${chosen.digest}`);
    if (typeof manifest === 'string') return manifest;
  }
  const layers = manifest.layers;
  if (!Array.isArray(layers) || !layers.every((l: { digest?: unknown; mediaType?: unknown }) => typeof l?.digest === 'string' && isDigest(l.digest) && typeof l.mediaType === 'string')) {
    return `the registry's answer for ${codeSpan(ref)} is not an image manifest`;
  }
  return layers as Array<Pick<Descriptor, 'digest' | 'mediaType'>>;
}

/** The warning for rewritten base layers, naming the engine that rewrote them. */
export function rewrittenWarning(base: string, comparison: LayerComparison, engine: string): string {
  const first = comparison.rewritten[0]!;
  const total = comparison.kept + comparison.rewritten.length;
  return (
    `${comparison.rewritten.length} of ${total} base layers of ${base} came out with other digests (layer ${first.index + 1}: ${first.base} became ${first.output ?? 'nothing'}): ` +
    `${engine} rewrote them, so the base is recompressed on every build and pushed again. ` +
    'This is moby/buildkit#4805 (rewrite-timestamp rewriting base layers, BuildKit 0.13.1): use a newer Docker/buildx, or a docker-container builder with a newer BuildKit.'
  );
}
