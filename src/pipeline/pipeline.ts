// The whole pipeline (`uses: <owner>/vllm-rocm-action@v1`) in one node24 step, because a composite
// action cannot reference this repository's own sub-actions by a relative path, and has no post
// step for cache saves. setup-nix → build (docker, nix or both) → verify → smoke test → publish:
// each stage is its own main and post, fed the root's inputs under its own names (inputs.ts) and
// its outputs collected here. A stage that is off never starts; one that fails stops the rest.
import * as core from '@actions/core';
import { logInfo } from '../action/log.js';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ALLOW_FORKS_INPUT, refuseForkCode } from '../action/fork-guard.js';
import { actionInputs, boolean, InputError, type InputSource } from '../action/inputs.js';
import { refuseState } from '../action/post-state.js';
import type { StageIO } from '../action/io.js';
import { stageTempDir, workspaceDir } from '../action/paths.js';
import { postStateKey, RUN_SCOPES } from '../action/claims.js';
import { inScope } from '../action/scope.js';
import { errorMessage } from '../action/stage.js';
import * as buildDocker from '../build-docker/main.js';
import * as buildDockerPost from '../build-docker/post.js';
import { parseBuildNixInputs } from '../build-nix/inputs.js';
import { resolveInstallable } from '../build-nix/installable.js';
import * as buildNix from '../build-nix/main.js';
import { requireNix } from '../build-nix/nix-setup.js';
import * as buildNixPost from '../build-nix/post.js';
import * as publish from '../publish/main.js';
import * as publishPost from '../publish/post.js';
import type { ComparisonReport } from '../reproducibility/types.js';
import * as setupNix from '../setup-nix/main.js';
import * as setupNixPost from '../setup-nix/post.js';
import * as smokeTest from '../smoke-test/main.js';
import * as smokeTestPost from '../smoke-test/post.js';
import { exists, isFile } from '../tool/disk.js';
import { dockerRootDir, PeakDiskSampler, peakDiskText } from '../tool/free-disk.js';
import { writeTableSummary } from '../action/summary.js';
import { NIX_STORE } from '../build-nix/disk-need.js';
import * as verify from '../verify-reproducibility/main.js';
import { dockerCacheState, nixCacheState, renderComparison, type BuildFigures, type Comparison } from './comparison.js';
import { imageFigures } from './image-figures.js';
import { asRootInputError, dockerBuildOutput, parsePipelineInputs, publishFixedInputs, STAGES, stageInputs, type ImageBuilder, type PipelineInputs, type StageName } from './inputs.js';

/** One stage run: its scope (the image it ran on, with builder: both) is what post needs. */
interface Started {
  stage: StageName;
  scope: string;
}

/** One image through the pipeline, with each stage's outputs. */
interface Run {
  builder: ImageBuilder;
  scope: string;
  outputs: Partial<Record<StageName, Record<string, string>>>;
}

const STARTED_STATE = postStateKey('pipeline-started');

/** The outputs the root action.yml declares, claimed before main runs (src/action/claims.ts). */
export const OUTPUTS = ['digest', 'config-digest', 'imageid', 'image-archive', 'image-layout', 'size-bytes', 'build-seconds', 'restore-seconds', 'cache-hit', 'cached-steps', 'source-date-epoch', 'metadata', 'nix-version', 'nix-path', 'store-path', 'drv-path', 'nar-hash', 'paths-built', 'paths-substituted', 'reproducible', 'smoke-test-passed', 'ttft-ms', 'tokens-per-second', 'refs', 'nix-digest', 'docker-digest', 'comparison'] as const;

export async function main(get: InputSource = actionInputs): Promise<void> {
  const inputs = parsePipelineInputs(get);
  // Before any stage, whichever run: a build runs the fork's Dockerfile or flake (builder: auto
  // evaluates it) on this runner's engine, Nix store and caches, not only the smoke test.
  refuseForkCode(process.env, boolean(get, ALLOW_FORKS_INPUT, false));
  const disk = await pipelineSampler();
  const started: Started[] = [];
  const runStage = async (stage: StageName, run: Run | undefined, body: (io: StageIO) => Promise<void>): Promise<void> => {
    const scope = run?.scope ?? '';
    started.push({ stage, scope });
    core.saveState(STARTED_STATE, JSON.stringify(started));
    const outputs: Record<string, string> = {};
    if (run) run.outputs[stage] = outputs;
    const t0 = performance.now();
    logInfo(`▶ ${stage}${run ? ` (${run.builder})` : ''}`);
    try {
      await inScope(scope, () => body({ get: stageInputs(get, stage), setOutput: (name, value) => void (outputs[name] = value) }));
    } catch (error) {
      throw error instanceof InputError ? asRootInputError(stage, error) : error;
    }
    logInfo(`✔ ${stage}${run ? ` (${run.builder})` : ''} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  };
  const setupOutputs: Record<string, string> = {};
  let nixReady = false;
  const needNix = async (): Promise<void> => {
    if (nixReady) return;
    await runStage('setup-nix', undefined, (io) => setupNix.main({ ...io, setOutput: (name, value) => void (setupOutputs[name] = value) }));
    nixReady = true;
  };

  const builders = await chooseBuilders(inputs, get, needNix);
  const runs: Run[] = builders.map((builder) => ({ builder, scope: builders.length > 1 ? builder : '', outputs: {} }));
  const image = (run: Run): string => builtImage(buildOutputs(run)) ?? '';
  const dockerInputs = stageInputs(get, 'build-docker', dockerBuildOutput(inputs, get));
  try {
    for (const run of runs) {
      if (run.builder === 'nix') {
        await needNix();
        await runStage('build-nix', run, (io) => buildNix.main(io));
      } else {
        await runStage('build-docker', run, (io) => buildDocker.main({ ...io, get: dockerInputs }));
      }
    }
    if (inputs.verify) {
      for (const run of runs) {
        await runStage('verify-reproducibility', run, (io) => {
          const reportName = io.get('report-name').trim() || 'reproducibility-report';
          // Docker: the build stage's image is build A (only the cold rebuild runs), so verify
          // judges the image smoke-tested and published, and holds one copy less on disk.
          const given: Record<string, string> = run.builder === 'docker' ? { 'archive-a': image(run) } : {};
          const fixed = { builder: run.builder, mode: 'rebuild', ...given, 'report-name': run.scope ? `${reportName}-${run.scope}` : reportName };
          return verify.main({ ...io, get: stageInputs(get, 'verify-reproducibility', fixed) });
        });
      }
    }
    if (inputs.smokeTest) {
      for (const run of runs) {
        await runStage('smoke-test', run, (io) => smokeTest.main({ ...io, get: stageInputs(get, 'smoke-test', { image: image(run) }) }));
      }
    }
    if (inputs.publish) {
      const run = runs.find((r) => r.builder === inputs.publishFrom) ?? runs[0]!;
      const fixed = publishFixedInputs(get, image(run), { verify: run.outputs['verify-reproducibility']?.report, smokeTest: run.outputs['smoke-test']?.report });
      await runStage('publish', run, (io) => publish.main({ ...io, get: stageInputs(get, 'publish', fixed) }));
    }
  } finally {
    await report(inputs, runs, setupOutputs).catch((error: unknown) => core.warning(`The pipeline's outputs are incomplete: ${errorMessage(error)}`));
    await reportDisk(inputs, runs, await disk.stop()).catch((error: unknown) => core.warning(`The pipeline's peak disk is not reported: ${errorMessage(error)}`));
  }
}

/** Sampled across every stage: RUNNER_TEMP's file system, docker's and the Nix store's. */
async function pipelineSampler(): Promise<PeakDiskSampler> {
  const docker = await dockerRootDir();
  const nix = (await exists(NIX_STORE)) ? NIX_STORE : undefined;
  return PeakDiskSampler.start([stageTempDir('pipeline'), ...(docker ? [docker] : []), ...(nix ? [nix] : [])]);
}

/** The pipeline-wide peak extra disk against the published (or first) image's compressed size. */
async function reportDisk(inputs: PipelineInputs, runs: Run[], peakBytes: number): Promise<void> {
  const primary = runs.find((r) => r.builder === inputs.publishFrom) ?? runs[0];
  const size = primary ? num(buildOutputs(primary)['size-bytes']) : undefined;
  const imageBytes = size !== undefined && Number.isFinite(size) ? size : undefined;
  logInfo(`Peak extra disk of the whole pipeline: ${peakDiskText(peakBytes, imageBytes)}`);
  await writeTableSummary('Pipeline disk', [['peak extra disk (build, verify, smoke test, publish)', peakDiskText(peakBytes, imageBytes)]]);
}

/** builder: auto is nix when the flake has the attribute (Nix is set up to ask it), else docker. */
async function chooseBuilders(inputs: PipelineInputs, get: InputSource, needNix: () => Promise<void>): Promise<ImageBuilder[]> {
  if (inputs.builder === 'both') return ['docker', 'nix'];
  if (inputs.builder !== 'auto') return [inputs.builder];
  const nixInputs = parseBuildNixInputs(stageInputs(get, 'build-nix'), workspaceDir());
  if (nixInputs.flakeDir && !(await isFile(join(nixInputs.flakeDir, 'flake.nix')))) {
    logInfo(`builder: auto: no flake.nix in ${nixInputs.flakeDir}, so docker.`);
    return ['docker'];
  }
  await needNix();
  try {
    await resolveInstallable(await requireNix(), nixInputs);
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    logInfo(`builder: auto: ${error.message.replace(/^Input '[^']+': /, '')}, so docker.`);
    return ['docker'];
  }
  logInfo(`builder: auto: the flake has packages.${nixInputs.system}.${nixInputs.attr}, so nix.`);
  return ['nix'];
}

/** The root action's outputs from what ran; with builder: both, the comparison as well. */
async function report(inputs: PipelineInputs, runs: Run[], setupOutputs: Record<string, string>): Promise<void> {
  const primary = runs.find((r) => r.builder === inputs.publishFrom) ?? runs[0];
  if (!primary) return;
  const set = (name: string, value: string | undefined): void => {
    if (value !== undefined) core.setOutput(name, value);
  };
  for (const [name, value] of Object.entries({ ...setupOutputs, ...primary.outputs['build-docker'], ...primary.outputs['build-nix'] })) set(name, value);
  set('reproducible', primary.outputs['verify-reproducibility']?.reproducible);
  set('smoke-test-passed', primary.outputs['smoke-test']?.passed);
  set('ttft-ms', primary.outputs['smoke-test']?.['ttft-ms']);
  set('tokens-per-second', primary.outputs['smoke-test']?.['tokens-per-second']);
  set('refs', runs.map((r) => r.outputs.publish?.refs).find(Boolean));
  if (runs.length < 2) return;
  for (const run of runs) set(`${run.builder}-digest`, buildOutputs(run).digest);
  if (!runs.every((r) => buildOutputs(r).digest)) return;

  const comparison: Comparison = {
    schema: 'vllm-rocm-action/comparison/v1',
    published: runs.find((r) => r.outputs.publish?.digest)?.builder,
    builds: await Promise.all(runs.map(figures)),
  };
  const dir = stageTempDir('pipeline');
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'comparison.json');
  await writeFile(file, `${JSON.stringify(comparison, null, 2)}\n`);
  set('comparison', file);
  await core.summary.addRaw(renderComparison(comparison), true).write();
}

/** The image file or directory a build wrote (an OCI archive, an OCI layout, build-nix's archive). */
function builtImage(build: Record<string, string>): string | undefined {
  return build['image-layout'] || build['image-archive'] || undefined;
}

function buildOutputs(run: Run): Record<string, string> {
  return run.outputs[run.builder === 'docker' ? 'build-docker' : 'build-nix'] ?? {};
}

const num = (text: string | undefined): number | undefined => (text === undefined || text === '' ? undefined : Number(text));

async function figures(run: Run): Promise<BuildFigures> {
  const build = buildOutputs(run);
  const verified = run.outputs['verify-reproducibility'];
  const smoke = run.outputs['smoke-test'];
  const path = builtImage(build);
  const image = path ? await imageFigures(path) : undefined;
  return {
    builder: run.builder,
    digest: build.digest!,
    buildSeconds: num(build['build-seconds']),
    restoreSeconds: num(build['restore-seconds']),
    cache: run.builder === 'docker' ? dockerCacheState(build['cached-steps']) : nixCacheState(build['paths-built'], build['paths-substituted']),
    coldSeconds: num(verified?.['rebuild-seconds']),
    compressedBytes: image?.compressedBytes ?? num(build['size-bytes']),
    uncompressedBytes: image?.uncompressedBytes,
    layers: image?.layers,
    reproducible: verified?.reproducible === undefined ? undefined : verified.reproducible === 'true',
    reproducibleWhy: verified ? await why(verified) : undefined,
    smokePassed: smoke?.passed === undefined ? undefined : smoke.passed === 'true',
    startupSeconds: num(smoke?.['startup-seconds']),
    ttftMs: num(smoke?.['ttft-ms']),
    tokensPerSecond: num(smoke?.['tokens-per-second']),
  };
}

/** The verdict in words, from the verify report: the same digest, or the first fix. */
async function why(verified: Record<string, string>): Promise<string | undefined> {
  if (!verified.report) return undefined;
  const report = JSON.parse(await readFile(verified.report, 'utf8')) as ComparisonReport;
  if (report.reproducible) return 'a cache-less rebuild gave the same digest';
  const first = report.fixFirst.most[0];
  return `${report.counts.total} differences${first ? `; fix first: ${first.fixLabel} (${first.count})` : ''}`;
}

/** The stages main started, each a known stage in a known scope; anything else is refused. */
export function startedStages(text: string): Started[] {
  if (!text) return [];
  const refuse = (): Started[] => refuseState('list of started stages', 'it is not a list of this pipeline\'s stages') ?? [];
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return refuse();
  }
  if (!Array.isArray(value) || value.length > 4 * STAGES.length) return refuse();
  const known = (s: unknown): s is Started =>
    !!s && typeof s === 'object' && (STAGES as readonly string[]).includes((s as Started).stage) && ['', ...RUN_SCOPES].includes((s as Started).scope);
  if (!value.every(known)) return refuse();
  return value.map(({ stage, scope }: Started) => ({ stage, scope }));
}

export async function post(): Promise<void> {
  const started = startedStages(core.getState(STARTED_STATE));
  const posts: Partial<Record<StageName, () => Promise<void>>> = {
    'build-docker': buildDockerPost.post,
    'build-nix': buildNixPost.post,
    'smoke-test': smokeTestPost.post,
    publish: publishPost.post,
  };
  // Last started first; setup-nix last of all: build-nix's cache save needs its nix settings,
  // and the drop-in holding the token goes whatever happens to the others.
  for (const { stage, scope } of [...started].reverse()) {
    const run = posts[stage];
    if (!run) continue;
    try {
      await inScope(scope, run);
    } catch (error) {
      core.warning(`Post step: ${stage}${scope ? ` (${scope})` : ''}: ${errorMessage(error)}`);
    }
  }
  if (started.some((s) => s.stage === 'setup-nix')) await setupNixPost.post();
}
