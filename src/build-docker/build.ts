// One `docker buildx build` from typed inputs to a described image. No GitHub calls here
// beyond logging, so verify-reproducibility can run it twice.
import * as core from '@actions/core';
import { logInfo } from '../action/log.js';
import { mkdir, readFile, rename, rm, rmdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { InputError } from '../action/inputs.js';
import { errorMessage, StageFailure } from '../action/stage.js';
import { buildxBuildArgs, type CacheBackend, type ImageOutput } from '../docker/buildx-args.js';
import { builderDriver, requireBuildx, runBuildx, runBuildxStreaming, type BuildRun } from '../docker/buildx.js';
import { closestName, outlineDockerfile, PREDEFINED_ARGS, type DockerfileOutline } from '../docker/dockerfile.js';
import type { BuildPhases, BuildProgress } from '../docker/progress.js';
import { capture } from '../tool/capture.js';
import { isDirectory, isFile } from '../tool/disk.js';
import type { Version } from '../tool/version.js';
import { readOciArchive } from '../oci/archive.js';
import { layoutFromTar, type LayoutFromTarStats } from '../oci/layout-from-tar.js';
import { isIndex, type ImageManifest } from '../oci/types.js';
import { commitContextFromEnv, generatedOciMetadata, withOverrides } from '../action/oci-metadata.js';
import { resolveEpoch, type SourceDateEpoch } from './epoch.js';
import type { BuildDockerInputs } from './inputs.js';
import { buildSecrets, redactCommand, secretLikeBuildArgs } from './secrets.js';

export interface BuildPlan {
  cache: CacheBackend;
  output: ImageOutput;
  sourceDateEpoch: number;
  rewriteTimestamp: boolean;
  metadataFile: string;
  noCache?: boolean;
  /**
   * With output oci-layout: an OCI layout whose blobs this image may share (verify's build A). The
   * image then comes as a tar on buildx's stdout and only the blobs `reuse` lacks are written; the
   * others are hard links to its files (src/oci/layout-from-tar.ts).
   */
  reuse?: string;
}

export interface BuiltImage {
  digest: string;
  configDigest: string;
  sizeBytes: number;
  /** buildx's wall time less importing and exporting the cache: the build itself. */
  buildSeconds: number;
  /** buildx's whole wall time. */
  buildxSeconds: number;
  /** Where buildx's time went, from BuildKit's step times. */
  phases: BuildPhases;
  cacheHit: { cached: number; total: number };
  metadata: Record<string, unknown>;
  /** The OCI archive (output oci). */
  archive?: string;
  /** The OCI image layout directory (output oci-layout). */
  layout?: string;
  /** The image's layer digests in order, where the output gives them (oci, registry). */
  layers?: string[];
  /** With plan.reuse: how many blobs were linked from it and how many written. */
  reused?: LayoutFromTarStats;
}

/** Checks what can be checked before building: the context, the Dockerfile, secrets and buildx. */
export interface Preflight {
  buildx: Version;
  driver: string;
  epoch: SourceDateEpoch;
  /** False where the builder cannot clamp layer mtimes for this output: rebuilds may then differ. */
  rewriteTimestamp: boolean;
}

export async function preflight(inputs: BuildDockerInputs): Promise<Preflight> {
  if (!(await isDirectory(inputs.context))) throw new InputError('context', `${inputs.context} is not a directory`);
  if (!(await isFile(inputs.file))) {
    throw new InputError('file', `no Dockerfile at ${inputs.file} ('file' is relative to the workspace, not to 'context'; without 'file', <context>/Dockerfile is used)`);
  }
  checkDockerfile(inputs, outlineDockerfile(await readFile(inputs.file, 'utf8')));
  for (const secret of inputs.secrets) {
    if ('env' in secret && process.env[secret.env] === undefined) {
      throw new InputError('secret-envs', `${secret.id}=${secret.env}: the environment variable ${secret.env} is not set in this step (set it with the step's env:)`);
    }
    if ('file' in secret && !(await isFile(secret.file))) throw new InputError('secret-files', `${secret.id}: no file at ${secret.file}`);
  }
  const epoch = resolveEpoch(inputs.sourceDateEpoch, process.env);
  const buildx = await requireBuildx();
  let driver: string;
  try {
    driver = await builderDriver(inputs.builder);
  } catch (error) {
    if (inputs.builder) throw new InputError('builder', `no usable buildx builder named '${inputs.builder}' (\`docker buildx ls\` lists them): ${errorMessage(error)}`);
    throw error;
  }
  // Moby's own image exporter always unpacks, and BuildKit refuses rewrite-timestamp with unpack.
  const rewriteTimestamp = inputs.output === 'oci' || inputs.output === 'oci-layout' || driver !== 'docker';
  if (!rewriteTimestamp) {
    core.warning(
      `output: ${inputs.output} on a builder with the docker driver cannot rewrite layer timestamps, so files created during the build keep their build-time mtimes and rebuilds may give another digest. For reproducible digests use output: oci or oci-layout, or a docker-container builder (builder input).`,
    );
  }
  return { buildx, driver, epoch, rewriteTimestamp };
}

/** `target` must be a stage; build args nothing consumes and secret-like ones get a warning. */
function checkDockerfile(inputs: BuildDockerInputs, outline: DockerfileOutline): void {
  if (inputs.target && !outline.stages.includes(inputs.target.toLowerCase())) {
    const stages = outline.stages.length > 0 ? `its stages: ${outline.stages.join(', ')}` : 'it names no stages (FROM … AS name)';
    throw new InputError('target', `no stage named '${inputs.target}' in ${inputs.file} (${stages})`);
  }
  for (const [name] of inputs.buildArgs) {
    if (outline.args.has(name) || PREDEFINED_ARGS.has(name)) continue;
    const near = closestName(name, outline.args);
    core.warning(`build-args: ${name} is consumed by no ARG in ${inputs.file}, so it has no effect${near ? ` (did you mean ${near}?)` : ''}.`);
  }
  for (const name of secretLikeBuildArgs(inputs)) {
    core.warning(
      `build-args: ${name} looks like a secret. Build args are kept in the image's history and build metadata, where anyone who pulls the image reads them. Pass it as \`secrets: ${name}=…\` and read it in a \`RUN --mount=type=secret,id=${name}\` step instead.`,
    );
  }
}

/**
 * The `labels` input over the generated OCI labels. Both come from the inputs, the commit and the
 * build's SOURCE_DATE_EPOCH only, so verify-reproducibility's rebuild (this same function) labels
 * its image alike and one commit still gives one digest.
 */
export function imageLabels(inputs: Pick<BuildDockerInputs, 'labels' | 'ociLabels'>, sourceDateEpoch: number, env: NodeJS.ProcessEnv = process.env): Array<[string, string]> {
  if (!inputs.ociLabels) return inputs.labels;
  return withOverrides(generatedOciMetadata(commitContextFromEnv(env), new Date(sourceDateEpoch * 1000)), inputs.labels);
}

export async function buildImage(inputs: BuildDockerInputs, plan: BuildPlan): Promise<BuiltImage> {
  // The archive or layout is written beside its final name and renamed only after a good build:
  // a failed build leaves neither a stale image of an earlier run nor a half-written one.
  const written = plan.output.type === 'oci' || plan.output.type === 'oci-layout' ? plan.output : undefined;
  const final = written?.dest;
  const partial = final === undefined ? undefined : `${final}.partial`;
  const streamed = written?.type === 'oci-layout' && plan.reuse !== undefined ? plan.reuse : undefined;
  const output: ImageOutput = streamed !== undefined ? { type: 'oci-stream' } : written ? { type: written.type, dest: partial! } : plan.output;
  if (final !== undefined) {
    await mkdir(dirname(final), { recursive: true });
    await rm(final, { recursive: true, force: true });
    await rm(partial!, { recursive: true, force: true });
  }
  await mkdir(dirname(plan.metadataFile), { recursive: true });
  await rm(plan.metadataFile, { force: true });

  const secrets = buildSecrets(inputs);
  const args = buildxBuildArgs({
    context: inputs.context,
    file: inputs.file,
    buildArgs: inputs.buildArgs,
    target: inputs.target,
    platform: inputs.platform,
    tags: inputs.tags,
    labels: imageLabels(inputs, plan.sourceDateEpoch),
    annotations: inputs.annotations,
    cache: plan.cache,
    output,
    sourceDateEpoch: plan.sourceDateEpoch,
    metadataFile: plan.metadataFile,
    builder: inputs.builder,
    noCache: plan.noCache || inputs.noCache,
    pull: inputs.pull,
    buildContexts: inputs.buildContexts,
    ssh: inputs.ssh,
    shmSize: inputs.shmSize,
    ulimits: inputs.ulimits,
    secrets: secrets.secrets,
    provenance: inputs.provenance,
    sbom: inputs.sbom,
    rewriteTimestamp: plan.rewriteTimestamp,
    compression: inputs.compression,
    compressionLevel: inputs.compressionLevel,
  });
  logInfo(`docker ${redactCommand(args)}`);
  const env = { ...secrets.env, SOURCE_DATE_EPOCH: String(plan.sourceDateEpoch) };
  let reused: LayoutFromTarStats | undefined;
  let run: BuildRun;
  try {
    if (streamed !== undefined) {
      const streamedRun = await runBuildxStreaming(args, plan.metadataFile, env, (line) => logInfo(line), (stdout) => layoutFromTar(stdout, partial!, streamed));
      run = streamedRun;
      if (streamedRun.imageError !== undefined && (run.exitCode === 0 || streamedRun.refused)) {
        throw new StageFailure('Docker build failed', `the image buildx wrote to stdout could not be written to ${final}: ${errorMessage(streamedRun.imageError)}`);
      }
      reused = streamedRun.image;
    } else {
      run = await runBuildx(args, plan.metadataFile, env, (line) => logInfo(line));
    }
  } catch (error) {
    if (partial !== undefined) await rm(partial, { recursive: true, force: true });
    throw error;
  }

  try {
    if (run.exitCode !== 0 || !run.metadata) throw buildFailure(run.exitCode, run.progress);
    reportCacheErrors(run.progress);
    const metadata = run.metadata;
    const digest = stringField(metadata, 'containerimage.digest');
    let configDigest = stringField(metadata, 'containerimage.config.digest');
    let sizeBytes: number;
    let archive: string | undefined;
    let layout: string | undefined;
    let layers: string[] | undefined;
    if (written && partial !== undefined && final !== undefined) {
      const summary = await readOciArchive(partial, inputs.platform);
      if (summary.topDigest !== digest) {
        throw new StageFailure('Docker build failed', `buildx reported ${digest} but the ${written.type === 'oci' ? "archive's" : "layout's"} index.json points to ${summary.topDigest}`);
      }
      configDigest = configDigest || summary.configDigest;
      sizeBytes = summary.sizeBytes;
      layers = summary.manifest.layers.map((l) => l.digest);
      // BuildKit's content store leaves its (empty) staging folder in the layout; no image member.
      if (written.type === 'oci-layout') await rmdir(join(partial, 'ingest')).catch(() => undefined);
      await rename(partial, final);
      if (written.type === 'oci') archive = final;
      else layout = final;
    } else if (plan.output.type === 'registry') {
      const pushed = await registryManifest(`${inputs.tags[0]!.replace(/@.*$/, '')}@${digest}`, inputs.platform);
      sizeBytes = pushed.sizeBytes;
      layers = pushed.manifest.layers.map((l) => l.digest);
    } else {
      sizeBytes = await engineImageSize(digest, inputs.tags);
    }
    const phases = run.progress.phases;
    const buildSeconds = Math.max(0, run.seconds - phases.cacheImport - phases.cacheExport);
    return { digest, configDigest, sizeBytes, buildSeconds, buildxSeconds: run.seconds, phases, cacheHit: run.progress.cacheHit, metadata, archive, layout, layers, reused };
  } finally {
    if (partial !== undefined) await rm(partial, { recursive: true, force: true });
  }
}

const TAIL_LINES = 10;

/**
 * The annotation of a failed build: the failing step's command once, its exit status and
 * Dockerfile line, the log lines that carry an error (with their context), then the last lines.
 */
export function buildFailure(exitCode: number, progress: BuildProgress): StageFailure {
  const failed = progress.failedStep;
  if (!failed) {
    const trailing = progress.trailingText.trim().split('\n').slice(-8).join('\n');
    return new StageFailure('Docker build failed', `docker buildx build exited ${exitCode}`, trailing);
  }
  // BuildKit's error repeats the command ("process \"…\" did not complete successfully: exit code: 3").
  const error = failed.error!.replace(/^process ".*" did not complete successfully: /s, '');
  const location = /^(\S+:\d+)\n-{3,}/m.exec(progress.trailingText)?.[1];
  const message = `docker buildx build failed at step "${failed.name}"${location ? ` (${location})` : ''}: ${error}`;
  const sections: string[] = [];
  if (failed.errorLines.length > 0) sections.push(`Log lines with errors:\n${failed.errorLines.join('\n')}`);
  if (failed.logTail.length > 0) sections.push(`Last log lines:\n${failed.logTail.slice(-TAIL_LINES).join('\n')}`);
  return new StageFailure('Docker build failed', message, sections.join('\n\n'));
}

/** A cache BuildKit could not import or export never fails a finished build; say which step and why. */
function reportCacheErrors(progress: BuildProgress): void {
  for (const step of progress.cacheErrors) {
    if (step.name.startsWith('exporting cache')) {
      core.warning(`The image was built, but the build cache was not saved (${step.name}: ${step.error}). The next build will not find it: check the cache's registry login or service.`);
    } else if (/not found/i.test(step.error ?? '')) {
      logInfo(`No build cache to import yet (${step.name}: ${step.error}).`);
    } else {
      core.warning(`The build cache could not be read, so the image was built without it (${step.name}: ${step.error}).`);
    }
  }
}

function stringField(metadata: Record<string, unknown>, key: string): string {
  const value = metadata[key];
  if (typeof value !== 'string') throw new StageFailure('Docker build failed', `buildx metadata has no ${key}`);
  return value;
}

/** A pushed image's manifest and size, from the registry. */
async function registryManifest(ref: string, platform: string): Promise<{ manifest: ImageManifest; sizeBytes: number }> {
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
  return { manifest: parsed, sizeBytes: Buffer.byteLength(text) + parsed.config.size + parsed.layers.reduce((n, l) => n + l.size, 0) };
}

/** For `output: docker` the engine holds the image; its own size figure is what is available. */
async function engineImageSize(digest: string, tags: string[]): Promise<number> {
  const ref = tags[0] ?? digest;
  const result = await capture('docker', ['image', 'inspect', '--format', '{{.Size}}', ref]);
  const size = Number(result.stdout.trim());
  return result.exitCode === 0 && Number.isFinite(size) ? size : 0;
}
