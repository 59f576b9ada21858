// One `docker buildx build` from typed inputs to a described image. No GitHub calls here
// beyond logging, so verify-reproducibility can run it twice.
import * as core from '@actions/core';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { InputError } from '../action/inputs.js';
import { errorMessage, StageFailure } from '../action/stage.js';
import { buildxBuildArgs, type CacheBackend, type ImageOutput } from '../docker/buildx-args.js';
import { builderDriver, requireBuildx, runBuildx } from '../docker/buildx.js';
import { capture } from '../tool/capture.js';
import { isDirectory, isFile } from '../tool/disk.js';
import type { Version } from '../tool/version.js';
import { headCommitTime } from '../git/commit-time.js';
import { readOciArchive } from '../oci/archive.js';
import { isIndex, type ImageManifest } from '../oci/types.js';
import type { BuildDockerInputs } from './inputs.js';

export interface BuildPlan {
  cache: CacheBackend;
  output: ImageOutput;
  sourceDateEpoch: number;
  rewriteTimestamp: boolean;
  metadataFile: string;
  noCache?: boolean;
}

export interface BuiltImage {
  digest: string;
  configDigest: string;
  sizeBytes: number;
  buildSeconds: number;
  cacheHit: { cached: number; total: number };
  metadata: Record<string, unknown>;
  archive?: string;
}

/** Checks what can be checked before building: the context, the Dockerfile and buildx. */
export interface Preflight {
  buildx: Version;
  driver: string;
  sourceDateEpoch: number;
  /** False where the builder cannot clamp layer mtimes for this output: rebuilds may then differ. */
  rewriteTimestamp: boolean;
}

export async function preflight(inputs: BuildDockerInputs): Promise<Preflight> {
  if (!(await isDirectory(inputs.context))) throw new InputError('context', `${inputs.context} is not a directory`);
  if (!(await isFile(inputs.file))) {
    throw new InputError('file', `no Dockerfile at ${inputs.file} (set 'file' to the Dockerfile's path, or 'context' to the directory that holds it)`);
  }
  const buildx = await requireBuildx();
  let driver: string;
  try {
    driver = await builderDriver(inputs.builder);
  } catch (error) {
    if (inputs.builder) throw new InputError('builder', `no usable buildx builder named '${inputs.builder}' (\`docker buildx ls\` lists them): ${errorMessage(error)}`);
    throw error;
  }
  // Moby's own image exporter always unpacks, and BuildKit refuses rewrite-timestamp with unpack.
  const rewriteTimestamp = inputs.output === 'oci' || driver !== 'docker';
  if (!rewriteTimestamp) {
    core.warning(
      `output: ${inputs.output} on a builder with the docker driver cannot rewrite layer timestamps, so files created during the build keep their build-time mtimes and rebuilds may give another digest. For reproducible digests use output: oci, or a docker-container builder (builder input).`,
    );
  }
  const sourceDateEpoch = inputs.sourceDateEpoch ?? (await headCommitTime(inputs.context)) ?? 0;
  return { buildx, driver, sourceDateEpoch, rewriteTimestamp };
}

export async function buildImage(inputs: BuildDockerInputs, plan: BuildPlan): Promise<BuiltImage> {
  // The archive is written beside its final name and renamed only after a good build.
  const finalArchive = plan.output.type === 'oci' ? plan.output.dest : undefined;
  const output: ImageOutput = finalArchive ? { type: 'oci', dest: `${finalArchive}.partial` } : plan.output;
  if (finalArchive) {
    await mkdir(dirname(finalArchive), { recursive: true });
    await rm(finalArchive, { force: true });
  }
  await mkdir(dirname(plan.metadataFile), { recursive: true });
  await rm(plan.metadataFile, { force: true });

  const args = buildxBuildArgs({
    context: inputs.context,
    file: inputs.file,
    buildArgs: inputs.buildArgs,
    target: inputs.target,
    platform: inputs.platform,
    tags: inputs.tags,
    labels: inputs.labels,
    cache: plan.cache,
    output,
    sourceDateEpoch: plan.sourceDateEpoch,
    metadataFile: plan.metadataFile,
    builder: inputs.builder,
    noCache: plan.noCache,
    provenance: inputs.provenance,
    sbom: inputs.sbom,
    rewriteTimestamp: plan.rewriteTimestamp,
  });
  core.info(`docker ${args.join(' ')}`);
  const run = await runBuildx(args, plan.metadataFile, { SOURCE_DATE_EPOCH: String(plan.sourceDateEpoch) }, (line) => core.info(line));

  try {
    if (run.exitCode !== 0 || !run.metadata) {
      const failed = run.progress.failedStep;
      const tail = failed?.logTail.slice(-15).join('\n') ?? '';
      const trailing = run.progress.trailingText.trim().split('\n').slice(-8).join('\n');
      const message = failed
        ? `docker buildx build failed at step "${failed.name}": ${failed.error}`
        : `docker buildx build exited ${run.exitCode}`;
      throw new StageFailure('Docker build failed', message, [tail && `Last log lines:\n${tail}`, trailing].filter(Boolean).join('\n'));
    }
    const metadata = run.metadata;
    const digest = stringField(metadata, 'containerimage.digest');
    let configDigest = stringField(metadata, 'containerimage.config.digest');
    let sizeBytes: number;
    let archive: string | undefined;
    if (finalArchive && output.type === 'oci') {
      const summary = await readOciArchive(output.dest, inputs.platform);
      if (summary.topDigest !== digest) {
        throw new StageFailure('Docker build failed', `buildx reported ${digest} but the archive's index.json points to ${summary.topDigest}`);
      }
      configDigest = configDigest || summary.configDigest;
      sizeBytes = summary.sizeBytes;
      await rename(output.dest, finalArchive);
      archive = finalArchive;
    } else if (plan.output.type === 'registry') {
      sizeBytes = await registryImageSize(`${inputs.tags[0]!.replace(/@.*$/, '')}@${digest}`, inputs.platform);
    } else {
      sizeBytes = await engineImageSize(digest, inputs.tags);
    }
    return { digest, configDigest, sizeBytes, buildSeconds: run.seconds, cacheHit: run.progress.cacheHit, metadata, archive };
  } finally {
    if (finalArchive) await rm(`${finalArchive}.partial`, { force: true });
  }
}

function stringField(metadata: Record<string, unknown>, key: string): string {
  const value = metadata[key];
  if (typeof value !== 'string') throw new StageFailure('Docker build failed', `buildx metadata has no ${key}`);
  return value;
}

/** Size of a pushed image, from its manifest in the registry. */
async function registryImageSize(ref: string, platform: string): Promise<number> {
  const raw = async (r: string): Promise<string> => {
    const result = await capture('docker', ['buildx', 'imagetools', 'inspect', '--raw', r]);
    if (result.exitCode !== 0) throw new StageFailure('Docker build failed', `cannot read the pushed manifest ${r}: ${result.stderr.trim()}`);
    return result.stdout;
  };
  let text = await raw(ref);
  let parsed = JSON.parse(text) as ImageManifest & { manifests?: Array<{ digest: string; platform?: { os: string; architecture: string } }> };
  if (isIndex(parsed.mediaType) && parsed.manifests) {
    const chosen = parsed.manifests.find((m) => m.platform && `${m.platform.os}/${m.platform.architecture}` === platform) ?? parsed.manifests[0]!;
    text = await raw(`${ref.split('@')[0]}@${chosen.digest}`);
    parsed = JSON.parse(text);
  }
  return Buffer.byteLength(text) + parsed.config.size + parsed.layers.reduce((n, l) => n + l.size, 0);
}

/** For `output: docker` the engine holds the image; its own size figure is what is available. */
async function engineImageSize(digest: string, tags: string[]): Promise<number> {
  const ref = tags[0] ?? digest;
  const result = await capture('docker', ['image', 'inspect', '--format', '{{.Size}}', ref]);
  const size = Number(result.stdout.trim());
  return result.exitCode === 0 && Number.isFinite(size) ? size : 0;
}
