// Benchmark of build speed (issue 12; not a test). A large FROM-scratch image — BENCH_STEPS RUN
// steps of BENCH_MIB MiB of incompressible, deterministic bytes each — built cold, then warm in a
// fresh job, with a fresh builder for every job (a private dockerd with an empty data root:
// bench/private-dockerd.sh; the shared daemons are never pruned), by
//   - the build-docker stage, run from dist/ as the runner runs it (main + post), with the
//     Actions cache stand-in, and
//   - plain `docker buildx build` with the same flags (buildxBuildArgs, the stage's own argv),
// side by side in the same run, alternating which goes first. Then build-nix cold vs from the
// Actions cache (the closure deleted from the store in between), with a BENCH_NIX_MIB payload.
//
//   npx tsc -p tsconfig.json && npm run bundle
//   BENCH_MIB=100 BENCH_REPS=2 node24 lib/bench/build-speed.js
//
// Environment: BENCH_MIB (per RUN step, default 200), BENCH_STEPS (default 4), BENCH_REPS
// (default 2), BENCH_CACHES (default local,registry), BENCH_COMPRESSION (gzip or zstd),
// BENCH_ENGINE (26: dockerd 26 + buildx 0.13; 28: dockerd 28 + buildx 0.29), BENCH_OUTPUT (oci or
// registry), BENCH_PLAIN=0 (skip plain buildx), BENCH_DOCKER=0 / BENCH_NIX=0 (skip a part),
// BENCH_NIX_MIB (default 300), BENCH_DIR (default $TMPDIR/h-speed-bench).
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildxBuildArgs, type CacheBackend, type Compression, type ImageOutput } from '../src/docker/buildx-args.js';
import { newRunnerJob, REPO_ROOT, runStepWithPost, type StepResult } from '../test/support/action-runner.js';
import { startActionsServices, type ActionsServices } from '../test/support/actions-services.js';
import { deleteClosure, nixFlakeFixture } from '../test/support/nix.js';
import { startFreshEngine, stopEngine, type Engine, type PrivateEngine } from '../test/support/private-engine.js';
import { REGISTRY } from '../test/support/tools.js';
import { loadAverage } from './support/stage-job.js';

const MIB = Number(process.env.BENCH_MIB ?? 200);
const STEPS = Number(process.env.BENCH_STEPS ?? 4);
const REPS = Number(process.env.BENCH_REPS ?? 2);
const CACHES = (process.env.BENCH_CACHES ?? 'local,registry').split(',') as Array<'local' | 'registry'>;
const COMPRESSION = (process.env.BENCH_COMPRESSION ?? 'gzip') as Compression;
const ENGINE = (process.env.BENCH_ENGINE ?? '26') as Engine;
const OUTPUT = (process.env.BENCH_OUTPUT ?? 'oci') as 'oci' | 'registry';
const PLAIN = process.env.BENCH_PLAIN !== '0';
const NIX_MIB = Number(process.env.BENCH_NIX_MIB ?? 300);
const DIR = resolve(process.env.BENCH_DIR ?? join(tmpdir(), 'h-speed-bench'));
const DAEMON_DIR = join(DIR, 'dockerd');
const EPOCH = '0';
const RUN_ID = Date.now().toString(36);

// ---------------------------------------------------------------------------------------------
// The workload: a static generator (xorshift128+, GB/s) COPY'd in, then one RUN per layer.

const GENERATOR = `
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
static uint64_t s[2];
static uint64_t next(void) { uint64_t a = s[0], b = s[1]; s[0] = b; a ^= a << 23; s[1] = a ^ b ^ (a >> 17) ^ (b >> 26); return s[1] + b; }
int main(int argc, char **argv) {
  if (argc != 4) return 2;
  s[0] = 0x9E3779B97F4A7C15ull * (uint64_t)atoll(argv[1]) + 1; s[1] = 0xD1B54A32D192ED03ull;
  FILE *f = fopen(argv[3], "wb"); if (!f) return 1;
  static uint64_t buf[1 << 17];
  for (long m = 0; m < atol(argv[2]); m++) { for (int i = 0; i < (1 << 17); i++) buf[i] = next(); fwrite(buf, 8, 1 << 17, f); }
  return fclose(f) ? 1 : 0;
}`;

function layContext(into: string): void {
  mkdirSync(into, { recursive: true });
  writeFileSync(join(DIR, 'gen.c'), GENERATOR);
  execFileSync('gcc', ['-O2', '-static', '-o', join(into, 'gen'), join(DIR, 'gen.c')]);
  const runs = Array.from({ length: STEPS }, (_, i) => `RUN ["/gen", "${i + 1}", "${MIB}", "/data-${i + 1}"]`);
  writeFileSync(join(into, 'Dockerfile'), ['FROM scratch', 'COPY gen /gen', ...runs, ''].join('\n'));
}

// ---------------------------------------------------------------------------------------------
// Engines: a fresh private dockerd per job.

// A bridge of its own, beside any other private engine (BENCH_BRIDGE*).
const ENGINE_DIR: PrivateEngine = {
  dir: DAEMON_DIR,
  engine: ENGINE,
  bridge: { name: process.env.BENCH_BRIDGE ?? 'vra-bench1', cidr: process.env.BENCH_BRIDGE_CIDR ?? '172.30.230.1/24' },
};

function freshEngine(): Record<string, string> {
  const env = startFreshEngine(ENGINE_DIR);
  Object.assign(process.env, env); // the runner harness passes DOCKER_HOST/DOCKER_CONFIG/PATH on
  return env;
}

// ---------------------------------------------------------------------------------------------
// One job each way.

interface JobTime {
  seconds: number;
  digest: string;
  detail: string;
}

function now(): number {
  return performance.now() / 1000;
}

async function stageJob(context: string, services: ActionsServices, cache: 'local' | 'registry', cacheRef: string, n: number, tag: string): Promise<JobTime> {
  freshEngine();
  // Same RUNNER_TEMP each job, as on hosted runners (the Actions cache version includes the path).
  const job = newRunnerJob(join(DIR, 'runner'), services.jobEnv(`run-${RUN_ID}`, `job-${n}`));
  cpSync(context, job.workspace, { recursive: true });
  const inputs: Record<string, string> = { cache, 'source-date-epoch': EPOCH, compression: COMPRESSION, output: OUTPUT };
  if (cache === 'registry') inputs['cache-ref'] = cacheRef;
  if (OUTPUT === 'registry') inputs.tags = tag;
  const started = now();
  const { main, post } = await runStepWithPost('build-docker', job, { inputs });
  const seconds = now() - started;
  check(main, post);
  const phases = post.summary.split('\n').filter((l) => /^\| [^ |-]/.test(l)).map((l) => l.replace(/^\| |\s*\|$/g, '').replace(' | ', ': ')).join('; ');
  return { seconds, digest: main.outputs.digest!, detail: `build-seconds ${main.outputs['build-seconds']}, restore-seconds ${main.outputs['restore-seconds']}, cached ${main.outputs['cached-steps']}; ${phases}` };
}

function check(main: StepResult, post: StepResult): void {
  if (main.exitCode !== 0) throw new Error(`build-docker failed:\n${main.stdout.slice(-3000)}\n${main.stderr.slice(-2000)}`);
  if (post.exitCode !== 0 || post.warnings.length > 0) throw new Error(`post: ${post.warnings.join('\n')}\n${post.stdout.slice(-2000)}`);
}

function plainJob(context: string, cache: CacheBackend, work: string, tag: string): JobTime {
  freshEngine();
  mkdirSync(work, { recursive: true });
  const output: ImageOutput = OUTPUT === 'oci' ? { type: 'oci', dest: join(work, 'image.oci.tar') } : { type: 'registry' };
  const args = buildxBuildArgs({
    context, file: join(context, 'Dockerfile'), buildArgs: [], platform: 'linux/amd64', tags: OUTPUT === 'registry' ? [tag] : [], labels: [],
    cache, output, sourceDateEpoch: Number(EPOCH), metadataFile: join(work, 'metadata.json'), provenance: false, sbom: false,
    // As the stage decides (build.ts): the private engine's docker driver refuses rewrite-timestamp
    // with its image exporter (it always unpacks), so output: registry goes without it.
    rewriteTimestamp: OUTPUT === 'oci', compression: COMPRESSION,
  });
  const started = now();
  const result = spawnSync('docker', args, { env: { ...process.env, SOURCE_DATE_EPOCH: EPOCH }, encoding: 'utf8', maxBuffer: 1 << 30 });
  const seconds = now() - started;
  if (result.status !== 0) throw new Error(`plain buildx failed: ${result.stderr.slice(-3000)}`);
  const metadata = JSON.parse(readFileSync(join(work, 'metadata.json'), 'utf8')) as Record<string, string>;
  rmSync(join(work, 'image.oci.tar'), { force: true });
  return { seconds, digest: metadata['containerimage.digest']!, detail: '' };
}

// ---------------------------------------------------------------------------------------------

interface Pair {
  cold: JobTime;
  warm: JobTime;
}

const fmt = (s: number): string => s.toFixed(1);
const ratio = (a: number, b: number): string => (a / b).toFixed(2);

async function dockerPart(): Promise<void> {
  const context = join(DIR, 'context');
  layContext(context);
  console.log(`# build-docker: ${STEPS} RUN steps × ${MIB} MiB, cache ${CACHES.join('/')}, output ${OUTPUT}, compression ${COMPRESSION}, engine ${ENGINE}, ${REPS} reps`);
  const digests = new Set<string>();
  for (const cache of CACHES) {
    const rows: Array<{ stage: Pair; plain?: Pair }> = [];
    for (let rep = 0; rep < REPS; rep++) {
      const id = `${RUN_ID}-${cache}-${COMPRESSION}-${rep}`;
      const stageRef = `${REGISTRY}/h-speed/bench-cache:${id}-stage`;
      const plainRef = `${REGISTRY}/h-speed/bench-cache:${id}-plain`;
      const tag = (who: string): string => `${REGISTRY}/h-speed/bench-image:${id}-${who}`;
      const runStage = async (): Promise<Pair> => {
        const services = await startActionsServices({ dataDir: join(DIR, `services-${id}`) });
        try {
          const cold = await stageJob(context, services, cache, stageRef, 1, tag('stage'));
          const warm = await stageJob(context, services, cache, stageRef, 2, tag('stage'));
          return { cold, warm };
        } finally {
          await services.stop();
          rmSync(join(DIR, `services-${id}`), { recursive: true, force: true });
        }
      };
      const runPlain = (): Pair => {
        const work = join(DIR, `plain-${id}`);
        const dir = join(work, 'cache');
        const cold = plainJob(context, cache === 'local' ? { type: 'local', from: dir, to: `${dir}-new`, mode: 'max' } : { type: 'registry', ref: plainRef, mode: 'max' }, work, tag('plain'));
        if (cache === 'local') renameSync(`${dir}-new`, dir);
        // The same flags as the stage's warm job: a local cache restored exactly is not exported again.
        const warm = plainJob(context, cache === 'local' ? { type: 'local', from: dir, mode: 'max' } : { type: 'registry', ref: plainRef, mode: 'max' }, work, tag('plain'));
        rmSync(work, { recursive: true, force: true });
        return { cold, warm };
      };
      let stage: Pair;
      let plain: Pair | undefined;
      if (PLAIN && rep % 2 === 1) {
        plain = runPlain();
        stage = await runStage();
      } else {
        stage = await runStage();
        if (PLAIN) plain = runPlain();
      }
      for (const t of [stage.cold, stage.warm, plain?.cold, plain?.warm]) if (t) digests.add(t.digest);
      rows.push({ stage, plain });
      console.log(`cache ${cache} rep ${rep + 1} (load ${loadAverage()}):`);
      console.log(`  stage cold ${fmt(stage.cold.seconds)} s (${stage.cold.detail})`);
      console.log(`  stage warm ${fmt(stage.warm.seconds)} s (${stage.warm.detail})`);
      if (plain) console.log(`  plain cold ${fmt(plain.cold.seconds)} s, warm ${fmt(plain.warm.seconds)} s`);
    }
    console.log(`\n| cache: ${cache} | rep | stage cold | stage warm | warm ÷ cold | plain cold | plain warm | stage ÷ plain cold | stage ÷ plain warm |`);
    console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|');
    rows.forEach(({ stage, plain }, i) => {
      const p = plain ? [fmt(plain.cold.seconds), fmt(plain.warm.seconds), ratio(stage.cold.seconds, plain.cold.seconds), ratio(stage.warm.seconds, plain.warm.seconds)] : ['', '', '', ''];
      console.log(`| ${COMPRESSION}, engine ${ENGINE} | ${i + 1} | ${fmt(stage.cold.seconds)} | ${fmt(stage.warm.seconds)} | ${ratio(stage.warm.seconds, stage.cold.seconds)} | ${p.join(' | ')} |`);
    });
    console.log('');
  }
  console.log(`digests: ${[...digests].join(', ')}${digests.size === 1 ? ' (one digest: cold, warm, stage and plain)' : ' — DIFFERENT'}`);
  stopEngine(ENGINE_DIR);
}

// ---------------------------------------------------------------------------------------------
// build-nix: the test fixture's OCI flake with a large incompressible payload.

async function nixPart(): Promise<void> {
  console.log(`# build-nix: OCI image with a ${NIX_MIB} MiB payload, cold vs from the Actions cache, ${REPS} reps`);
  const flake = join(DIR, 'flake');
  rmSync(flake, { recursive: true, force: true });
  nixFlakeFixture('oci', flake);
  writeFileSync(join(DIR, 'gen.c'), GENERATOR);
  execFileSync('gcc', ['-O2', '-static', '-o', join(flake, 'gen'), join(DIR, 'gen.c')]);
  // A nonce in the version: every bench run is a cold build for this store.
  const flakeNix = readFileSync(join(flake, 'flake.nix'), 'utf8').replace(/version = "[^"]*";/, `version = "bench-${RUN_ID}";`)
    .replace('vllm-payload = mk "vllm-payload" ./payload.sh { };', 'vllm-payload = mk "vllm-payload" ./payload.sh { gen = ./gen; };');
  writeFileSync(join(flake, 'flake.nix'), flakeNix);
  writeFileSync(join(flake, 'payload.sh'), `${readFileSync(join(flake, 'payload.sh'), 'utf8')}\n"$gen" 7 ${NIX_MIB} "$out/opt/vllm/weights.bin"\n`);
  const rows: Pair[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    const services = await startActionsServices({ dataDir: join(DIR, `nix-services-${rep}`) });
    const job = async (n: number): Promise<{ time: JobTime; outputs: Record<string, string> }> => {
      const j = newRunnerJob(join(DIR, 'nix-runner'), services.jobEnv(`nix-${RUN_ID}-${rep}`, `job-${n}`));
      cpSync(flake, j.workspace, { recursive: true });
      const started = now();
      const { main, post } = await runStepWithPost('build-nix', j, { inputs: {} });
      const seconds = now() - started;
      check(main, post);
      return { time: { seconds, digest: main.outputs.digest!, detail: `build-seconds ${main.outputs['build-seconds']}, restore-seconds ${main.outputs['restore-seconds']}, built ${main.outputs['paths-built']}, substituted ${main.outputs['paths-substituted']}` }, outputs: main.outputs };
    };
    try {
      // Cold: nothing of this closure in the store (a new nonce per rep) nor in the cache.
      const flakeNixRep = flakeNix.replace(/version = "[^"]*";/, `version = "bench-${RUN_ID}-${rep}";`);
      writeFileSync(join(flake, 'flake.nix'), flakeNixRep);
      const cold = await job(1);
      deleteClosure(cold.outputs['store-path']!);
      const warm = await job(2);
      deleteClosure(warm.outputs['store-path']!);
      if (cold.time.digest !== warm.time.digest) throw new Error('build-nix: the digest changed from cache');
      rows.push({ cold: cold.time, warm: warm.time });
      console.log(`nix rep ${rep + 1} (load ${loadAverage()}): cold ${fmt(cold.time.seconds)} s (${cold.time.detail}); from cache ${fmt(warm.time.seconds)} s (${warm.time.detail})`);
    } finally {
      await services.stop();
      rmSync(join(DIR, `nix-services-${rep}`), { recursive: true, force: true });
    }
  }
  console.log('\n| build-nix | rep | cold (main + post) | from cache | ratio |\n|---|---|---:|---:|---:|');
  rows.forEach((r, i) => console.log(`| ${NIX_MIB} MiB payload | ${i + 1} | ${fmt(r.cold.seconds)} | ${fmt(r.warm.seconds)} | ${ratio(r.warm.seconds, r.cold.seconds)} |`));
}

mkdirSync(DIR, { recursive: true });
if (!existsSync(join(REPO_ROOT, 'dist', 'build-docker', 'index.js'))) throw new Error('no dist/: run npm run bundle first');
try {
  if (process.env.BENCH_DOCKER !== '0') await dockerPart();
  if (process.env.BENCH_NIX !== '0') await nixPart();
} finally {
  stopEngine(ENGINE_DIR);
}
