// Benchmark (not a test): the smoke-test stage's own overhead, against the fake vLLM server of the
// tests (templates/example/fake-vllm.c), so that none of it is the model's time.
//
// 1. Noticing readiness: from the moment the server can answer (its own wall-clock log line), and
//    from its first 200 on /health, to waitForReady returning — the code the stage runs. Two server behaviours: vLLM's (port bound,
//    connections hang until ready) and a server that binds late (connections refused until ready,
//    so the poll backoff decides). Target ≤ 0.5 s.
// 2. Teardown: the whole stage run from dist/ as the runner runs it, on a container; from the
//    server's last logged request to dockerd's `destroy` event for the container. Target ≤ 3 s.
// 3. The load generator's ceiling: runLoad + the streaming client against the fake server with no
//    delays, at the default concurrency (4) and max-tokens (32), vs. the request rate of the default
//    run (16 requests, concurrency 4) against a server streaming 250 tokens/s per request (a small
//    model on a fast GPU). Target ≥ 20×.
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { waitForReady } from '../src/serve/health.js';
import { runLoad, type LoadPlan } from '../src/serve/load.js';
import { OpenAIClient } from '../src/serve/openai.js';
import { startProcess, type ServerHandle } from '../src/serve/server.js';
import { stepLabel } from '../src/serve/docker-run.js';
import { newRunnerJob, runStep } from '../test/support/action-runner.js';
import { fakeVllmBinary, fakeVllmImage, freePort } from '../test/support/fake-vllm.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 8);
const LOAD_REQUESTS = Number(process.env.BENCH_LOAD_REQUESTS ?? 2000);
const dir = mkdtempSync(join(tmpdir(), 'bench-smoke-'));

function stats(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
  return `median ${median.toFixed(0)} ms, max ${sorted[sorted.length - 1]!.toFixed(0)} ms (n=${values.length})`;
}

async function server(env: Record<string, string>, port: number): Promise<ServerHandle> {
  return startProcess([fakeVllmBinary(), 'serve', 'Qwen/Qwen2.5-0.5B-Instruct', '--port', String(port)], join(dir, `server-${port}.log`), { ...process.env, ...env });
}

/** [ready to answer → noticed, first 200 → noticed] per round. */
async function noticing(refused: boolean): Promise<[number[], number[]]> {
  const delays: number[] = [];
  const sinceFirst: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const port = await freePort();
    // A start delay that is not a multiple of the poll interval.
    const s = await server({ FAKE_VLLM_START_DELAY_MS: String(1500 + 137 * i), ...(refused ? {} : { FAKE_VLLM_LISTEN_EARLY: '1' }) }, port);
    const outcome = await waitForReady({ url: `http://127.0.0.1:${port}/health`, timeoutMs: 30_000, exited: s.exited });
    const noticed = Date.now();
    if (outcome.kind !== 'ready') throw new Error(`round ${i}: ${outcome.kind}`);
    await new Promise((r) => setTimeout(r, 50));
    const at = (prefix: string): number => {
      const line = s.log.lastLines(50).find((l) => l.startsWith(prefix));
      if (!line) throw new Error(`the server logged no '${prefix}'`);
      return Number(line.slice(prefix.length));
    };
    delays.push(noticed - at('ready to answer at '));
    sinceFirst.push(noticed - at('first /health 200 at '));
    await s.stop();
  }
  return [delays, sinceFirst];
}

async function teardown(image: string): Promise<number[]> {
  const delays: number[] = [];
  for (let i = 0; i < Math.min(ROUNDS, 5); i++) {
    const runId = `bench-${Date.now()}-${i}`;
    const job = newRunnerJob(join(dir, `runner-${i}`), { GITHUB_RUN_ID: runId });
    const label = stepLabel({ GITHUB_RUN_ID: runId, GITHUB_RUN_ATTEMPT: '1', GITHUB_JOB: 'build', GITHUB_ACTION: 'step', RUNNER_NAME: 'test-runner' });
    const events = spawn('docker', ['events', '--filter', `label=vllm-rocm-action.step=${label}`, '--filter', 'event=destroy', '--format', '{{.TimeNano}}']);
    let destroyed = '';
    events.stdout.on('data', (d: Buffer) => (destroyed += d.toString()));
    const port = String(await freePort());
    const main = await runStep('smoke-test', job, { inputs: { image, gpu: 'none', port, requests: '16', env: 'FAKE_VLLM_LOG_REQUESTS=1' } });
    await runStep('smoke-test', job, { phase: 'post', state: main.state });
    await new Promise((r) => setTimeout(r, 500));
    events.kill();
    if (main.exitCode !== 0) throw new Error(`the stage failed:\n${main.stdout.slice(-2000)}`);
    const log = readFileSync(JSON.parse(readFileSync(main.outputs.report!, 'utf8')).logFile as string, 'utf8');
    const last = Math.max(...[...log.matchAll(/^request \S+ \S+ at (\d+)$/gm)].map((m) => Number(m[1])));
    const gone = Number(destroyed.trim().split('\n')[0]) / 1e6;
    if (!Number.isFinite(gone) || !Number.isFinite(last)) throw new Error('no destroy event or no request logged');
    delays.push(gone - last);
  }
  return delays;
}

/** `count` requests of the fixed prompt, all at once, `concurrency` at a time. */
function fixedPlan(count: number, concurrency: number): LoadPlan {
  return { requests: Array.from({ length: count }, () => ({ prompt: 'The capital of France is', promptLen: 5, outputLen: 32 })), arrivals: [], concurrency };
}

async function loadCeiling(): Promise<{ ceiling: number; tokens: number; cpuMs: number; reference: number }> {
  const fast = await freePort();
  const s = await server({}, fast);
  await waitForReady({ url: `http://127.0.0.1:${fast}/health`, timeoutMs: 10_000, exited: s.exited });
  const client = new OpenAIClient(`http://127.0.0.1:${fast}`, 'Qwen/Qwen2.5-0.5B-Instruct');
  const cpu = process.cpuUsage();
  const load = await runLoad(fixedPlan(LOAD_REQUESTS, 4), () => client.stream('The capital of France is', 32, true));
  const used = process.cpuUsage(cpu);
  await s.stop();
  if (load.failed) throw new Error(`${load.failed} requests failed: ${load.errors.join('; ')}`);

  const paced = await freePort();
  const r = await server({ FAKE_VLLM_TOKEN_DELAY_MS: '4' }, paced);
  await waitForReady({ url: `http://127.0.0.1:${paced}/health`, timeoutMs: 10_000, exited: r.exited });
  const reference = await runLoad(fixedPlan(16, 4), () => new OpenAIClient(`http://127.0.0.1:${paced}`, 'Qwen/Qwen2.5-0.5B-Instruct').stream('The capital of France is', 32, true));
  await r.stop();
  return { ceiling: load.requestThroughput, tokens: load.outputThroughput, cpuMs: (used.user + used.system) / 1000 / LOAD_REQUESTS, reference: reference.requestThroughput };
}

const image = fakeVllmImage();
console.log(`node ${process.version}, ${execFileSync('nproc').toString().trim()} CPUs, docker ${execFileSync('docker', ['version', '--format', '{{.Server.Version}}']).toString().trim()}`);
const [hang, hangFirst] = await noticing(false);
console.log(`1a. port bound, connections hang until ready (vLLM's way): ready → noticed ${stats(hang)}; first 200 → noticed ${stats(hangFirst)}  [target ≤ 500 ms]`);
const [refuse, refuseFirst] = await noticing(true);
console.log(`1b. connections refused until ready (the poll backoff decides): ready → noticed ${stats(refuse)}; first 200 → noticed ${stats(refuseFirst)}  [target ≤ 500 ms]`);
const down = await teardown(image);
console.log(`2.  last test request → container destroyed (whole stage from dist/):       ${stats(down)}  [target ≤ 3000 ms]`);
const { ceiling, tokens, cpuMs, reference } = await loadCeiling();
// The default run against 250 tokens/s per stream: 4 streams × 250/32 requests/s each, at best.
const nominal = (4 * 250) / 32;
const perCore = 1000 / cpuMs;
console.log(`3.  default run (16 req, concurrency 4, 32 tokens) vs a 250 tok/s/stream server: ${reference.toFixed(1)} req/s measured, ${nominal.toFixed(2)} req/s nominal`);
console.log(`    load generator vs the undelayed server, wall clock on this machine: ${ceiling.toFixed(0)} req/s (${tokens.toFixed(0)} output tokens/s) = ${(ceiling / nominal).toFixed(1)}× nominal`);
console.log(`    load generator CPU: ${cpuMs.toFixed(3)} ms per request → ${perCore.toFixed(0)} req/s per CPU core = ${(perCore / nominal).toFixed(1)}× nominal  [target ≥ 20×]`);
