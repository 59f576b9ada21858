// Benchmark of the vLLM-shaped Docker build (issue 20, targets 1, 3 and 4; not a test). The build
// (test/support/vllm-shaped.ts): a multi-layer base of real files from this machine (the C
// toolchain's own files, then Python, Node, /usr/share, /usr/lib trees), pushed to the loopback
// registry and built FROM by digest (standing for rocm/pytorch); a layer of thousands of small
// real .py files (pip install); generated C units compiled with ccache under
// RUN --mount=type=cache,id=vllm-rocm-ccache (the HIP kernels); a small entrypoint layer.
// The build-docker stage runs from dist/ as the runner runs it (main + post) with the Actions cache
// stand-in, every job on a fresh private engine (an empty builder, as a fresh runner), per cache:
//   cold      nothing cached;
//   warm      unchanged source, the cache restored (cache: gha through the stand-in, or registry);
//   one unit  one .c file changed, the cache and the ccache mount (cache-mounts) restored.
// Prints warm ÷ cold, each job's "Job time by phase" rows, the ccache counts, and whether the
// output kept the base's own layer digests.
//
//   npm run build
//   BENCH_VLLM_GB=3 node24 lib/bench/vllm-build.js
//
// Environment: BENCH_VLLM_GB (real files in the base, default 3), BENCH_VLLM_LAYERS (base layers,
// default 4), BENCH_VLLM_UNITS (C units, default 320: about two minutes cold on 2 cores),
// BENCH_VLLM_FUNCTIONS (per unit, default 30), BENCH_VLLM_FILES (small files, default 6000),
// BENCH_VLLM_BASE (a base an earlier run pushed, <repo>@sha256:…: skips writing it again; its
// sizes are then the compressed ones),
// BENCH_VLLM_CACHES (default gha,registry), BENCH_ENGINE (28: docker 28 + buildx 0.29, whose gha
// cache speaks to the stand-in; 26: buildx 0.13, where gha falls back to local), BENCH_COMPRESSION
// (gzip or zstd), BENCH_DIR (default $TMPDIR/h-vllm-bench; each job's log is left in logs/ there).
// BENCH_BRIDGE, BENCH_BRIDGE_CIDR (the private engine's bridge, default vra-vllm, 172.30.234.1/24).
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readOciArchive } from '../src/oci/archive.js';
import { newRunnerJob, REPO_ROOT, runStepWithPost, type StepResult } from '../test/support/action-runner.js';
import { startActionsServices, type ActionsServices } from '../test/support/actions-services.js';
import { startFreshEngine, stopEngine, type Engine, type PrivateEngine } from '../test/support/private-engine.js';
import { REGISTRY } from '../test/support/tools.js';
import { CCACHE_MOUNT_ID, ccacheCounts, changeOneUnit, layVllmContext, pushRealFilesBase, type RealFilesBase, type VllmShape } from '../test/support/vllm-shaped.js';
import { jobPhases, loadAverage } from './support/stage-job.js';

const GIB = 2 ** 30;
const SHAPE: VllmShape = {
  baseBytes: Number(process.env.BENCH_VLLM_GB ?? 3) * GIB,
  baseLayers: Number(process.env.BENCH_VLLM_LAYERS ?? 4),
  units: Number(process.env.BENCH_VLLM_UNITS ?? 320),
  unitFunctions: Number(process.env.BENCH_VLLM_FUNCTIONS ?? 30),
  smallFiles: Number(process.env.BENCH_VLLM_FILES ?? 6000),
};
const CACHES = (process.env.BENCH_VLLM_CACHES ?? 'gha,registry').split(',') as Array<'gha' | 'registry'>;
const ENGINE = (process.env.BENCH_ENGINE ?? '28') as Engine;
const COMPRESSION = process.env.BENCH_COMPRESSION ?? 'gzip';
const DIR = resolve(process.env.BENCH_DIR ?? join(tmpdir(), 'h-vllm-bench'));
const RUN_ID = Date.now().toString(36);
const ENGINE_DIR: PrivateEngine = { dir: join(DIR, 'dockerd'), engine: ENGINE, bridge: { name: process.env.BENCH_BRIDGE ?? 'vra-vllm', cidr: process.env.BENCH_BRIDGE_CIDR ?? '172.30.234.1/24' } };

interface Job {
  name: string;
  seconds: number;
  digest: string;
  cached: string;
  ccache: string;
  baseKept: string;
  phases: Array<[string, string]>;
  imageBytes: number;
}

const fmt = (s: number): string => s.toFixed(1);
const gib = (b: number): string => `${(b / GIB).toFixed(2)} GiB`;

function check(name: string, main: StepResult, post: StepResult): void {
  if (main.exitCode !== 0) throw new Error(`${name}: build-docker failed:\n${main.stdout.slice(-3000)}\n${main.stderr.slice(-2000)}`);
  if (post.exitCode !== 0 || post.warnings.length > 0) throw new Error(`${name}: post: ${post.warnings.join('\n')}\n${post.stdout.slice(-2000)}`);
}

async function stageJob(name: string, context: string, services: ActionsServices, base: RealFilesBase, cache: 'gha' | 'registry', n: number, change?: number): Promise<Job> {
  const engineEnv = startFreshEngine(ENGINE_DIR);
  // Same RUNNER_TEMP each job, as on hosted runners (the Actions cache version includes the path).
  const job = newRunnerJob(join(DIR, 'runner'), services.jobEnv(`run-${RUN_ID}`, `job-${n}`));
  Object.assign(job.env, engineEnv);
  cpSync(context, job.workspace, { recursive: true });
  if (change !== undefined) changeOneUnit(job.workspace, change, SHAPE.unitFunctions);
  const inputs: Record<string, string> = { cache, compression: COMPRESSION, 'cache-mounts': `id=${CCACHE_MOUNT_ID}` };
  if (cache === 'registry') inputs['cache-ref'] = `${REGISTRY}/h-vbench/vllm-cache:${RUN_ID}`;
  const started = performance.now();
  const { main, post } = await runStepWithPost('build-docker', job, { inputs });
  const seconds = (performance.now() - started) / 1000;
  // The step's whole log, to see which Dockerfile step took the time (#N DONE lines).
  mkdirSync(join(DIR, 'logs'), { recursive: true });
  writeFileSync(join(DIR, 'logs', `${cache}-${n}.log`), `${main.stdout}\n---- post ----\n${post.stdout}`);
  check(name, main, post);
  const archive = main.outputs['image-archive']!;
  const image = await readOciArchive(archive);
  const kept = base.layers.filter((d, i) => image.manifest.layers[i]?.digest === d).length;
  const counts = ccacheCounts(main.stdout);
  const result: Job = {
    name: `${name} (${cache})`,
    seconds,
    digest: main.outputs.digest!,
    cached: main.outputs['cached-steps']!,
    ccache: counts ? `${counts.hits} hits, ${counts.misses} misses` : 'not run (step cached)',
    baseKept: `${kept} of ${base.layers.length}`,
    phases: jobPhases(post.summary),
    imageBytes: image.sizeBytes,
  };
  rmSync(archive, { recursive: true, force: true });
  console.log(`${result.name}: ${fmt(seconds)} s, cached steps ${result.cached}, ccache ${result.ccache}, base layers kept ${result.baseKept}, image ${gib(result.imageBytes)} (load ${loadAverage()})`);
  console.log(`  ${result.phases.map(([p, s]) => `${p}: ${s}`).join('; ')}`);
  return result;
}

/** A base an earlier run pushed (BENCH_VLLM_BASE=<repo>@sha256:…): its layers as the registry has them. */
function pushedBase(ref: string): RealFilesBase {
  if (!/^127\.0\.0\.1:5000\/[a-z0-9/_.-]+@sha256:[0-9a-f]{64}$/.test(ref)) throw new Error(`BENCH_VLLM_BASE: ${ref} is not 127.0.0.1:5000/<repo>@sha256:<64 hex>`);
  const manifest = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`], { encoding: 'utf8' })) as { layers: Array<{ digest: string; size: number }> };
  return { ref, layers: manifest.layers.map((l) => l.digest), layerBytes: manifest.layers.map((l) => l.size) };
}

async function main(): Promise<void> {
  if (!existsSync(join(REPO_ROOT, 'dist', 'build-docker', 'index.js'))) throw new Error('no dist/: run npm run build first');
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  const free = (): string => gib(Number(statfsSync(DIR).bavail) * Number(statfsSync(DIR).bsize));
  console.log(`# vLLM-shaped build: base ${gib(SHAPE.baseBytes)} in ${SHAPE.baseLayers} layers, ${SHAPE.units} units × ${SHAPE.unitFunctions} functions, ${SHAPE.smallFiles} small files; engine ${ENGINE}, ${COMPRESSION}; ${free()} free; load ${loadAverage()}`);

  let started = performance.now();
  const base = process.env.BENCH_VLLM_BASE ? pushedBase(process.env.BENCH_VLLM_BASE) : await pushRealFilesBase(join(DIR, 'base'), `${REGISTRY}/h-vbench/vllm-base-${RUN_ID}`, SHAPE);
  const what = process.env.BENCH_VLLM_BASE ? 'compressed, pushed by an earlier run' : `of real files, written and pushed in ${fmt((performance.now() - started) / 1000)} s`;
  console.log(`base ${base.ref}: ${base.layerBytes.map(gib).join(' + ')} ${what}`);
  const context = join(DIR, 'context');
  started = performance.now();
  layVllmContext(context, base.ref, SHAPE);
  console.log(`context laid in ${fmt((performance.now() - started) / 1000)} s`);

  const rows: Array<{ cache: string; cold: Job; warm: Job; one: Job }> = [];
  try {
    for (const cache of CACHES) {
      const services = await startActionsServices({ dataDir: join(DIR, `services-${cache}`) });
      try {
        const cold = await stageJob('cold', context, services, base, cache, 1);
        const warm = await stageJob('warm, unchanged', context, services, base, cache, 2);
        if (warm.digest !== cold.digest) console.log(`  DIFFERENT digest warm ${warm.digest} vs cold ${cold.digest}`);
        const one = await stageJob('warm, one unit changed', context, services, base, cache, 3, Math.floor(SHAPE.units / 2));
        rows.push({ cache, cold, warm, one });
        console.log(`  Actions cache stand-in holds ${services.cacheEntries().length} entries; ${free()} free`);
      } finally {
        await services.stop();
        rmSync(join(DIR, `services-${cache}`), { recursive: true, force: true });
      }
    }
  } finally {
    stopEngine(ENGINE_DIR);
  }

  console.log('\n| cache | cold | warm, unchanged | ÷ cold (target ≤ 0.10) | one unit changed | ÷ cold (target ≤ 0.25) | base layers kept | image |');
  console.log('|---|---:|---:|---:|---:|---:|---|---:|');
  for (const { cache, cold, warm, one } of rows) {
    console.log(`| ${cache}, engine ${ENGINE} | ${fmt(cold.seconds)} s | ${fmt(warm.seconds)} s | ${(warm.seconds / cold.seconds).toFixed(2)} | ${fmt(one.seconds)} s | ${(one.seconds / cold.seconds).toFixed(2)} | ${[cold, warm, one].map((j) => j.baseKept).join(', ')} | ${gib(cold.imageBytes)} |`);
  }
  console.log('\nJob time by phase (main + post, from the stage summary):');
  for (const { cache, cold, warm, one } of rows) {
    const names = [...new Set([cold, warm, one].flatMap((j) => j.phases.map(([p]) => p)))];
    console.log(`\n| ${cache} | cold | warm, unchanged | one unit changed |\n|---|---:|---:|---:|`);
    for (const p of names) console.log(`| ${p} | ${[cold, warm, one].map((j) => j.phases.find(([q]) => q === p)?.[1] ?? '').join(' | ')} |`);
  }
}

await main();
