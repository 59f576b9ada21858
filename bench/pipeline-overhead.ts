// Benchmark (not a test): the root action's own overhead. The whole pipeline in one step against
// the same stages run as separate steps (main, then post at the job's end, as the runner does),
// on the bundled example, builder: both, every stage on. Rounds alternate the two so that warm
// caches favour neither. Target: pipeline ≤ 1.05 × the separate steps + 2 s.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newRunnerJob, readActionMetadata, runStep, type RunnerJob, type StepResult } from '../test/support/action-runner.js';
import { startActionsServices } from '../test/support/actions-services.js';
import { layExample } from '../test/support/fake-vllm.js';
import { REGISTRY } from '../test/support/tools.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const root = mkdtempSync(join(tmpdir(), 'bench-pipeline-'));
const services = await startActionsServices();
const image = `${REGISTRY}/h-pipeline/bench`;
const common = { cache: 'none', gpu: 'none', requests: '4' };

function ok(stage: string, result: StepResult): StepResult {
  if (result.exitCode !== 0) throw new Error(`${stage} failed:\n${result.stdout.slice(-3000)}`);
  return result;
}

async function timed(run: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await run();
  return (performance.now() - t0) / 1000;
}

function job(): RunnerJob {
  const j = newRunnerJob(join(root, 'runner'), services.jobEnv());
  layExample(j);
  return j;
}

/** The stages as separate steps: each main in order, then the posts in reverse, as a job runs them. */
async function separateSteps(): Promise<number> {
  const j = job();
  const ran: Array<[string, Record<string, string>, StepResult]> = [];
  const step = async (stage: string, own: Record<string, string>): Promise<StepResult> => {
    // The common inputs this stage has (the runner would warn about the others).
    const known = Object.keys(readActionMetadata(stage).inputs ?? {});
    const inputs = { ...Object.fromEntries(Object.entries(common).filter(([name]) => known.includes(name))), ...own };
    const result = ok(stage, await runStep(stage, j, { inputs }));
    ran.push([stage, inputs, result]);
    return result;
  };
  return timed(async () => {
    await step('setup-nix', {});
    const docker = await step('build-docker', {});
    const nix = await step('build-nix', {});
    await step('verify-reproducibility', { builder: 'docker', 'report-name': 'docker' });
    await step('verify-reproducibility', { builder: 'nix', 'report-name': 'nix' });
    await step('smoke-test', { image: docker.outputs['image-archive']! });
    await step('smoke-test', { image: nix.outputs['image-archive']! });
    await step('publish', { source: nix.outputs['image-archive']!, image, tags: 'separate' });
    for (const [stage, inputs, main] of ran.reverse()) {
      if (readActionMetadata(stage).runs.post) ok(`${stage} post`, await runStep(stage, j, { inputs, phase: 'post', state: main.state }));
    }
  });
}

async function pipeline(): Promise<number> {
  const j = job();
  const inputs = { ...common, builder: 'both', verify: 'true', 'smoke-test': 'true', publish: 'true', image, tags: 'pipeline' };
  return timed(async () => {
    const main = ok('pipeline', await runStep('.', j, { inputs }));
    ok('pipeline post', await runStep('.', j, { inputs, phase: 'post', state: main.state }));
  });
}

const rows: Array<[number, number]> = [];
try {
  await separateSteps(); // warm-up: the first builds of the example fill the caches for both sides
  for (let i = 0; i < ROUNDS; i++) {
    const separate = await separateSteps();
    const whole = await pipeline();
    rows.push([separate, whole]);
    console.log(`round ${i + 1}: separate steps ${separate.toFixed(1)} s, pipeline ${whole.toFixed(1)} s, ratio ${(whole / separate).toFixed(3)}`);
  }
} finally {
  await services.stop();
}
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)]!;
const separate = median(rows.map(([s]) => s));
const whole = median(rows.map(([, w]) => w));
console.log(`median: separate steps ${separate.toFixed(1)} s, pipeline ${whole.toFixed(1)} s; ratio ${(whole / separate).toFixed(3)}; target ${(1.05 * separate + 2).toFixed(1)} s (1.05 × + 2 s): ${whole <= 1.05 * separate + 2 ? 'met' : 'NOT met'}`);
