// Peak disk of the root pipeline (issue 20 target 5): the root action from dist/pipeline (main, then
// post) as the runner runs it, with the Actions cache stand-in, on a vLLM-shaped image whose
// entrypoint is the fake vLLM server (so the smoke test serves it): build (docker), verify, smoke
// test and publish (to the loopback registry, a repo of its own) all on, on a fresh private engine,
// so the engine's data root is its own and can be measured.
// While the step runs, `du` samples every 2 s what each place holds (RUNNER_TEMP's stage folders:
// the layout, verify's rebuild, staging; the engine's docker/ folder: BuildKit's store; containerd's
// content store and snapshots: what BuildKit's exports and `docker load` write), and statfs every
// 250 ms the file system's free space. Each stage's peak above the start is read off the samples
// taken while it ran (from the step's "✔ <stage> in N s" lines), beside the stages' own job-time
// and pipeline-disk figures from the summary.
//
//   npm run build
//   BENCH_VLLM_GB=1 node24 lib/bench/pipeline-disk.js
//
// Environment: BENCH_VLLM_GB (real files in the base, default 1), BENCH_VLLM_LAYERS (default 4),
// BENCH_VLLM_UNITS (default 80), BENCH_VLLM_FUNCTIONS (default 30), BENCH_VLLM_FILES (default 3000),
// BENCH_ENGINE (28 or 26, default 28), BENCH_DIR (default $TMPDIR/h-pdisk-bench; all but main.log and
// samples.json removed at the end unless BENCH_KEEP=1), BENCH_BRIDGE, BENCH_BRIDGE_CIDR (default vra-pdisk, 172.30.236.1/24).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { newRunnerJob, REPO_ROOT, runStep } from '../test/support/action-runner.js';
import { startActionsServices } from '../test/support/actions-services.js';
import { fakeVllmBinary, freePort } from '../test/support/fake-vllm.js';
import { startFreshEngine, stopEngine, type Engine, type PrivateEngine } from '../test/support/private-engine.js';
import { REGISTRY } from '../test/support/tools.js';
import { layVllmContext, pushRealFilesBase, type VllmShape } from '../test/support/vllm-shaped.js';
import { jobPhases, loadAverage } from './support/stage-job.js';

const GIB = 2 ** 30;
const MIB = 2 ** 20;
const SHAPE: VllmShape = {
  baseBytes: Number(process.env.BENCH_VLLM_GB ?? 1) * GIB,
  baseLayers: Number(process.env.BENCH_VLLM_LAYERS ?? 4),
  units: Number(process.env.BENCH_VLLM_UNITS ?? 80),
  unitFunctions: Number(process.env.BENCH_VLLM_FUNCTIONS ?? 30),
  smallFiles: Number(process.env.BENCH_VLLM_FILES ?? 3000),
};
const ENGINE = (process.env.BENCH_ENGINE ?? '28') as Engine;
const DIR = resolve(process.env.BENCH_DIR ?? join(tmpdir(), 'h-pdisk-bench'));
const RUN_ID = Date.now().toString(36);
const ENGINE_DIR: PrivateEngine = { dir: join(DIR, 'dockerd'), engine: ENGINE, bridge: { name: process.env.BENCH_BRIDGE ?? 'vra-pdisk', cidr: process.env.BENCH_BRIDGE_CIDR ?? '172.30.236.1/24' } };

const mib = (b: number): string => `${(b / MIB).toFixed(0)} MiB`;

/** One `du` reading: bytes on disk per place, at a time (ms since the step started). */
interface Sample {
  at: number;
  bytes: Record<string, number>;
}

/**
 * The places, children before their parents: du counts a file (and a hard link) once, under the
 * first argument that reaches it, so a parent's figure is what its listed children do not hold.
 */
function places(temp: string): Array<[string, string]> {
  const data = join(ENGINE_DIR.dir, 'data');
  const stages = join(temp, 'vllm-rocm-action');
  const stageDirs = existsSync(stages) ? readdirSync(stages).map((d): [string, string] => [`RUNNER_TEMP/${d}`, join(stages, d)]) : [];
  return [
    ...stageDirs,
    ['RUNNER_TEMP (rest)', temp],
    ['docker/buildkit', join(data, 'docker', 'buildkit')],
    ['docker (rest)', join(data, 'docker')],
    ['containerd content', join(data, 'containerd', 'io.containerd.content.v1.content')],
    ['containerd snapshots', join(data, 'containerd', 'io.containerd.snapshotter.v1.overlayfs')],
    ['containerd (rest)', join(data, 'containerd')],
  ];
}

function duSample(temp: string, at: number): Promise<Sample> {
  const list = places(temp).filter(([, p]) => existsSync(p));
  return new Promise((resolvePromise) => {
    const child = spawn('du', ['-sB1', '-x', ...list.map(([, p]) => p)], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', () => {
      const bytes: Record<string, number> = {};
      for (const line of out.split('\n')) {
        const m = /^(\d+)\t(.*)$/.exec(line);
        const place = m && list.find(([, p]) => p === m[2]);
        if (place) bytes[place[0]] = Number(m[1]);
      }
      resolvePromise({ at, bytes });
    });
  });
}

const suiteOwn = (name: string): boolean => name.startsWith('RUNNER_TEMP');
const total = (s: Sample, which: (name: string) => boolean = () => true): number => Object.entries(s.bytes).filter(([n]) => which(n)).reduce((n, [, b]) => n + b, 0);

async function main(): Promise<void> {
  if (!existsSync(join(REPO_ROOT, 'dist', 'pipeline', 'index.js'))) throw new Error('no dist/: run npm run build first');
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  console.log(`# Root pipeline disk: base ${mib(SHAPE.baseBytes)} in ${SHAPE.baseLayers} layers, ${SHAPE.units} units × ${SHAPE.unitFunctions} functions, ${SHAPE.smallFiles} small files; engine ${ENGINE}; load ${loadAverage()}`);
  const base = await pushRealFilesBase(join(DIR, 'base'), `${REGISTRY}/h-pdisk/vllm-base-${RUN_ID}`, SHAPE);
  console.log(`base ${base.ref}: ${base.layerBytes.map(mib).join(' + ')} of real files`);
  const context = join(DIR, 'context');
  layVllmContext(context, base.ref, SHAPE, { server: fakeVllmBinary() });

  const services = await startActionsServices({ dataDir: join(DIR, 'services') });
  // The smoke test publishes its server's port on 127.0.0.1: docker-proxy forwards it (the private engine has no iptables).
  process.env.BENCH_USERLAND_PROXY = 'true';
  const engineEnv = startFreshEngine(ENGINE_DIR);
  try {
    const job = newRunnerJob(join(DIR, 'runner'), services.jobEnv(`run-${RUN_ID}`, 'job-1'));
    Object.assign(job.env, engineEnv);
    execFileSync('cp', ['-a', `${context}/.`, job.workspace]);
    const repo = `h-pdisk/vllm-${RUN_ID}`;
    const inputs = { builder: 'docker', verify: 'true', 'smoke-test': 'true', gpu: 'none', requests: '4', port: String(await freePort()), publish: 'true', image: `${REGISTRY}/${repo}`, tags: 'v1' };

    const t0 = performance.now();
    const samples: Sample[] = [await duSample(job.temp, 0)];
    const fsStart = Number(statfsSync(DIR).bavail) * Number(statfsSync(DIR).bsize);
    let fsPeak = 0;
    let running = true;
    const statfsTimer = setInterval(() => {
      const fs = statfsSync(DIR);
      fsPeak = Math.max(fsPeak, fsStart - Number(fs.bavail) * Number(fs.bsize));
    }, 250);
    const duLoop = (async () => {
      while (running) {
        samples.push(await duSample(job.temp, performance.now() - t0));
        await new Promise((r) => setTimeout(r, 2000));
      }
    })();
    const mainStep = await runStep('.', job, { inputs });
    const mainEnd = performance.now() - t0;
    const postStep = await runStep('.', job, { inputs, phase: 'post', state: mainStep.state });
    running = false;
    await duLoop;
    clearInterval(statfsTimer);
    samples.push(await duSample(job.temp, performance.now() - t0));
    writeFileSync(join(DIR, 'main.log'), mainStep.stdout);
    if (mainStep.exitCode !== 0) throw new Error(`the pipeline failed:\n${mainStep.stdout.slice(-4000)}\n${mainStep.stderr.slice(-2000)}`);
    if (postStep.exitCode !== 0 || postStep.warnings.length > 0) console.log(`post: exit ${postStep.exitCode}, ${postStep.warnings.join('; ')}`);

    const imageBytes = Number(mainStep.outputs['size-bytes']);
    // Stage intervals from the step's own "✔ <stage> in N s" lines, back to back from the start.
    const intervals: Array<{ stage: string; from: number; to: number }> = [];
    let at = 0;
    for (const m of mainStep.stdout.matchAll(/^✔ (\S+)(?: \([a-z]+\))? in ([\d.]+) s$/gm)) {
      intervals.push({ stage: m[1]!, from: at, to: at + Number(m[2]) * 1000 });
      at += Number(m[2]) * 1000;
    }
    intervals.push({ stage: 'report, post', from: at, to: Infinity });
    const start = samples[0]!;
    const names = [...new Set(samples.flatMap((s) => Object.keys(s.bytes)))];
    const above = (s: Sample, name: string): number => (s.bytes[name] ?? 0) - (start.bytes[name] ?? 0);
    const peakOf = (list: Sample[], f: (s: Sample) => number): number => Math.max(0, ...list.map(f));

    console.log(`\nimage: ${mib(imageBytes)} compressed (${mainStep.outputs.digest}); main ${(mainEnd / 1000).toFixed(1)} s; ${samples.length} du samples; load ${loadAverage()}`);
    console.log('\n| stage | seconds | suite\'s own files (RUNNER_TEMP) | ÷ image | docker data root (BuildKit, containerd) | ÷ image | both (du) | ÷ image |');
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
    const row = (label: string, secs: string, list: Sample[]): void => {
      const own = peakOf(list, (s) => total(s, suiteOwn) - total(start, suiteOwn));
      const engine = peakOf(list, (s) => total(s, (n) => !suiteOwn(n)) - total(start, (n) => !suiteOwn(n)));
      const both = peakOf(list, (s) => total(s) - total(start));
      console.log(`| ${label} | ${secs} | ${mib(own)} | ${(own / imageBytes).toFixed(2)} | ${mib(engine)} | ${(engine / imageBytes).toFixed(2)} | ${mib(both)} | ${(both / imageBytes).toFixed(2)} |`);
    };
    for (const { stage, from, to } of intervals) row(stage, Number.isFinite(to) ? ((to - from) / 1000).toFixed(1) : '', samples.filter((s) => s.at >= from && s.at <= to));
    row('**whole pipeline**', (mainEnd / 1000).toFixed(1), samples);
    console.log(`\nstatfs, the file system's largest drop while the step ran (shared disk: other work counts too): ${mib(fsPeak)} (${(fsPeak / imageBytes).toFixed(2)}×)`);

    console.log('\nPeak above the start, per place and stage (du):\n');
    console.log(`| place | ${intervals.map((i) => i.stage).join(' | ')} | left after post |`);
    console.log(`|---|${intervals.map(() => '---:').join('|')}|---:|`);
    const last = samples.at(-1)!;
    for (const name of names) {
      const cells = intervals.map(({ from, to }) => mib(peakOf(samples.filter((s) => s.at >= from && s.at <= to), (s) => above(s, name))));
      console.log(`| ${name} | ${cells.join(' | ')} | ${mib(above(last, name))} |`);
    }

    console.log('\nThe stages\' own figures (summary):');
    for (const line of `${mainStep.summary}\n${postStep.summary}`.split('\n').filter((l) => /peak extra disk/i.test(l))) console.log(`  ${line.trim()}`);
    console.log(`  build-docker's job time: ${jobPhases(postStep.summary).map(([p, s]) => `${p}: ${s}`).join('; ')}`);
    writeFileSync(join(DIR, 'samples.json'), JSON.stringify({ intervals, samples }, null, 1));
  } finally {
    stopEngine(ENGINE_DIR);
    await services.stop();
    // The big things go; main.log and samples.json stay for a look.
    if (process.env.BENCH_KEEP !== '1') for (const d of ['runner', 'services', 'context', 'base']) rmSync(join(DIR, d), { recursive: true, force: true });
  }
}

await main();
