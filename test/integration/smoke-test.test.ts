// smoke-test, run from dist/ as the runner runs it, against a real container: the fake vLLM server
// (templates/example/fake-vllm.c, compiled static here) in FROM scratch images built with the real
// dockerd, one with upstream's ENTRYPOINT ["vllm", "serve"] and one with none, each misbehaviour
// switched on by its environment. Each test checks the verdict, the
// diagnosis, the timing, and that no container of its step outlives it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { newRunnerJob, node24, REPO_ROOT, runStep, runStepWithPost, type StepResult } from '../support/action-runner.js';
import { startActionsServices, type ActionsServices } from '../support/actions-services.js';
import { fakeVllmBinary, fakeVllmImage, freePort, labelledContainers } from '../support/fake-vllm.js';
import { fakeTools, rocmRoot } from '../support/rocm-tree.js';
import { requireTools, sh } from '../support/tools.js';
import { stepLabel } from '../../src/serve/docker-run.js';

const root = mkdtempSync(join(tmpdir(), 'smoke-test-'));
/** ENTRYPOINT ["vllm", "serve"], as upstream's vllm/vllm-openai-rocm. */
let image: string;
/** No ENTRYPOINT: the arguments are the whole command. */
let plainImage: string;
let runId = 1000;

/** A fresh job with its own run ID, hence its own container label. */
function job(extraEnv: Record<string, string> = {}) {
  const id = String(++runId);
  const env = { GITHUB_RUN_ID: id, ...extraEnv };
  const j = newRunnerJob(join(root, `runner-${id}`), env);
  const label = stepLabel({ GITHUB_RUN_ID: id, GITHUB_RUN_ATTEMPT: '1', GITHUB_JOB: 'build', GITHUB_ACTION: 'step', RUNNER_NAME: 'test-runner' });
  return { job: j, label };
}

/** Runs main then post; `server` is the fake server's behaviour (the env input), `env` the step's. */
async function smoke(inputs: Record<string, string>, server: Record<string, string> = {}, env: Record<string, string> = {}, jobEnv: Record<string, string> = {}) {
  const { job: j, label } = job(jobEnv);
  const port = inputs.port ?? String(await freePort());
  const envInput = [inputs.env ?? '', ...Object.entries(server).map(([k, v]) => `${k}=${v}`)].filter(Boolean).join('\n');
  const started = performance.now();
  const main = await runStep('smoke-test', j, { inputs: { port, gpu: 'none', ...inputs, env: envInput }, env });
  const mainSeconds = (performance.now() - started) / 1000;
  const leftAfterMain = labelledContainers(label);
  const post = await runStep('smoke-test', j, { phase: 'post', state: main.state, env });
  assert.equal(post.exitCode, 0, `post never fails:\n${post.stdout}`);
  assert.deepEqual(labelledContainers(label), [], 'no container of this step outlives its post step');
  assert.deepEqual(main.leakedSecrets, []);
  return { main, post, mainSeconds, leftAfterMain, port, label, job: j };
}

/** The failure annotation: its title matches `title`; returns its message. */
function failedWith(main: StepResult, title: RegExp): string {
  assert.equal(main.exitCode, 1, `expected a failure:\n${main.stdout.slice(-3000)}`);
  assert.equal(main.outputs.passed, 'false');
  const annotation = main.stdout.split('\n').find((l) => l.startsWith('::error '));
  assert.ok(annotation, 'an error annotation with a title');
  assert.match(/title=([^:]*)::/.exec(annotation)![1]!, title);
  return main.errors.join('\n');
}

function report(main: StepResult) {
  return JSON.parse(readFileSync(main.outputs.report!, 'utf8')) as {
    passed: boolean;
    failure?: { phase: string; message: string; signature?: { id: string }; logTail: string[] };
    load?: { settings: { concurrency: number[] }; rows: Array<{ concurrency: number; completed: number; failed: number; totalInputTokens: number; tpotMs: { median: number }; ttftMs: { median: number } }> };
    serverArgs?: string;
    metrics?: { series: number };
    completion?: { text: string };
    preflight: Array<{ check: string; verdict: string }>;
    logFile?: string;
    probe?: { ok: boolean; detail: string };
  };
}

/** The fake server behind test/support/image-reader.c, which logs what the container was given (and is the probe's python3). */
function readerImage(): string {
  const ctx = mkdtempSync(join(root, 'reader-ctx-'));
  sh('gcc', ['-static', '-O2', '-o', join(ctx, 'reader'), join(REPO_ROOT, 'test', 'support', 'image-reader.c')]);
  copyFileSync(fakeVllmBinary(), join(ctx, 'fake-vllm'));
  const hash = createHash('sha256').update(readFileSync(join(ctx, 'reader'))).update(readFileSync(join(ctx, 'fake-vllm'))).digest('hex').slice(0, 12);
  writeFileSync(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY fake-vllm /usr/bin/fake-vllm\nCOPY reader /usr/bin/reader\nCOPY reader /usr/bin/python3\nENTRYPOINT ["/usr/bin/reader", "serve"]\n');
  const tag = `vllm-rocm-action-test/image-reader:${hash}`;
  sh('docker', ['build', '--quiet', '--tag', tag, ctx]);
  return tag;
}

/** Every file under dir (recursively) whose bytes hold `text`. */
function filesHolding(dir: string, text: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .filter((file) => readFileSync(file).includes(text));
}

before(() => {
  requireTools('docker', 'gcc');
  image = fakeVllmImage();
  plainImage = fakeVllmImage({ entrypoint: false });
});

describe('a healthy server', () => {
  let services: ActionsServices;
  before(async () => {
    services = await startActionsServices();
  });
  after(async () => {
    await services?.stop();
  });

  test('slow start (port bound, connections refused, then 200): passes with timings, metrics, summary and the log artifact', async () => {
    const { main, leftAfterMain } = await smoke(
      { image, 'served-model-name': 'qwen-smoke', expect: 'Paris', 'hf-token': 'hf_testtokenvalue0123456789' },
      { FAKE_VLLM_START_DELAY_MS: '1500' },
      {},
      services.jobEnv('run-smoke', 'job-1'),
    );
    assert.equal(main.exitCode, 0, main.stdout.slice(-4000));
    assert.deepEqual(main.errors, []);
    assert.deepEqual(leftAfterMain, [], 'main removes its container itself');
    const out = main.outputs;
    assert.equal(out.passed, 'true');
    assert.ok(Number(out['startup-seconds']) >= 1.5 && Number(out['startup-seconds']) < 5, `startup-seconds ${out['startup-seconds']}`);
    assert.ok(Number(out['ttft-ms']) > 0 && Number(out['ttft-ms']) < 1000);
    assert.ok(Number(out['tokens-per-second']) > 0);
    assert.ok(Number(out['p99-latency-ms']) >= Number(out['p50-latency-ms']));
    assert.equal(out.gpu, '');
    const r = report(main);
    assert.equal(r.passed, true);
    assert.equal(r.load!.rows[0]!.completed, 16);
    assert.ok(r.metrics!.series >= 5, 'vllm:* series scraped');
    assert.match(r.completion!.text, /Paris/);
    assert.match(main.summary, /Smoke test: ✅ passed/);
    assert.match(main.summary, /\| concurrency \| requests \| failed \| output tokens\/s \|/);
    assert.match(main.summary, /Completion \(greedy/);
    // The token reached the server as a read-only file (HF_TOKEN_PATH), and nowhere else.
    assert.ok(main.masks.includes('hf_testtokenvalue0123456789'));
    assert.ok(!main.stdout.split('\n').some((l) => !l.startsWith('::add-mask::') && l.includes('hf_testtokenvalue0123456789')));
    assert.ok(!main.summary.includes('hf_testtokenvalue0123456789'));
    assert.doesNotMatch(readFileSync(report(main).logFile!, 'utf8'), /hf token: present/, 'no HF_TOKEN variable');
    assert.match(main.stdout, /--volume \S+\/hf-token:\/run\/secrets\/hf-token:ro --env-file /);
    assert.ok(services.artifacts().some((a) => a.name.startsWith('smoke-test-logs-')), 'the log is uploaded');
  });

  test('an image archive (docker save) is loaded first; requests 0 skips the throughput run', async () => {
    const archive = join(root, 'fake-vllm.tar');
    sh('docker', ['save', '--output', archive, image]);
    const { main } = await smoke({ image: archive, requests: '0' });
    assert.equal(main.exitCode, 0, main.stdout.slice(-3000));
    assert.equal(main.outputs['tokens-per-second'], '');
    assert.match(main.warnings.join('\n'), /artifact service is not available/);
  });

  test('slow streaming: TTFT and TPOT measured as vllm bench serve defines them', async () => {
    const { main } = await smoke({ image, 'max-tokens': '8', 'output-len': '8', requests: '8', concurrency: '4' }, { FAKE_VLLM_TTFT_MS: '200', FAKE_VLLM_TOKEN_DELAY_MS: '50' });
    assert.equal(main.exitCode, 0, main.stdout.slice(-3000));
    const ttft = Number(main.outputs['ttft-ms']);
    assert.ok(ttft >= 195 && ttft < 700, `ttft ${ttft}`);
    const r = report(main);
    const tpot = r.load!.rows[0]!.tpotMs.median;
    assert.ok(tpot >= 45 && tpot < 120, `tpot ${tpot}`);
    assert.ok(Number(main.outputs['p50-latency-ms']) >= 200 + 7 * 50 - 10);
  });
});

describe('the load as vllm bench serve, and the performance gate', () => {
  // Timings dominated by the stand-in's delays (100 ms to the first token, 20 ms between tokens),
  // so two runs on this shared machine agree within max-regression-percent 25.
  const paced = { FAKE_VLLM_TTFT_MS: '100', FAKE_VLLM_TOKEN_DELAY_MS: '20' };
  const load = { 'input-len': '48', 'output-len': '12', requests: '6', 'max-regression-percent': '25' };
  let baselineFile: string;

  /** The gate's rows and notices of a run. */
  const notices = (main: StepResult) => main.commands.filter((c) => c.name === 'notice').map((c) => c.message);

  before(async () => {
    const { main } = await smoke({ image, ...load, concurrency: '1,3' }, paced);
    assert.equal(main.exitCode, 0, main.stdout.slice(-3000));
    baselineFile = main.outputs.report!;
  });

  test('a concurrency sweep: one row per value in the report, the summary and the benchmark JSON; the server counts input-len prompt tokens', () => {
    const r = JSON.parse(readFileSync(baselineFile, 'utf8')) as { gfx: string; load: { settings: Record<string, unknown>; rows: Array<{ concurrency: number; completed: number; totalInputTokens: number; totalOutputTokens: number }> } };
    assert.deepEqual(r.load.settings, { inputLen: 48, outputLen: 12, seed: 0, requestRate: 'inf', concurrency: [1, 3] });
    assert.deepEqual(r.load.rows.map((row) => [row.concurrency, row.completed, row.totalInputTokens, row.totalOutputTokens]), [
      [1, 6, 6 * 48, 6 * 12],
      [3, 6, 6 * 48, 6 * 12],
    ]);
    assert.equal(r.gfx, '');
    const dir = join(baselineFile, '..');
    const bigger = JSON.parse(readFileSync(join(dir, 'benchmark-bigger-is-better.json'), 'utf8')) as Array<{ name: string; unit: string; value: number }>;
    const smaller = JSON.parse(readFileSync(join(dir, 'benchmark-smaller-is-better.json'), 'utf8')) as Array<{ name: string; unit: string; value: number }>;
    assert.deepEqual(bigger.map((e) => e.name), ['concurrency 1: output throughput', 'concurrency 1: request throughput', 'concurrency 3: output throughput', 'concurrency 3: request throughput']);
    const itl = smaller.find((e) => e.name === 'concurrency 3: ITL p50')!;
    assert.ok(itl.value >= 19 && itl.value < 60 && itl.unit === 'ms', `ITL ${itl.value}`);
  });

  test('the same load against the baseline report of a previous run: passes, each figure shown with its change', async () => {
    const { main } = await smoke({ image, ...load, concurrency: '3,1', baseline: baselineFile }, paced);
    assert.equal(main.exitCode, 0, main.stdout.slice(-4000));
    assert.match(main.summary, /#### Performance gate: ✅ passed/);
    assert.match(main.summary, /\| 3 \| output throughput \| [\d.]+ tokens\/s \| [\d.]+ tokens\/s \| [+-][\d.]+% \| {2}\| ✅ pass \|/);
    assert.match(main.summary, /\| concurrency \| requests \| failed \| output tokens\/s/);
    assert.ok(main.outputs['benchmark-bigger-is-better'] && main.outputs['benchmark-smaller-is-better']);
  });

  test('a slowed stand-in against the same baseline: the gate fails, naming each figure, its change and both values', async () => {
    const { main } = await smoke({ image, ...load, concurrency: '1,3', baseline: baselineFile }, { FAKE_VLLM_TTFT_MS: '300', FAKE_VLLM_TOKEN_DELAY_MS: '60' });
    const error = failedWith(main, /^Performance gate failed$/);
    assert.match(error, /output throughput at concurrency 1 is [\d.]+% lower than the baseline \([\d.]+ against [\d.]+ tokens\/s; max-regression-percent 25\)/);
    assert.match(error, /TTFT p99 at concurrency 3 is [\d.]+% higher than the baseline/);
    assert.match(error, /ITL p50 at concurrency 3 is [\d.]+% higher/);
    assert.match(main.summary, /#### Performance gate: ❌ failed/);
    const r = JSON.parse(readFileSync(main.outputs.report!, 'utf8')) as { passed: boolean; failure: { phase: string }; gate: { failures: string[] } };
    assert.deepEqual([r.passed, r.failure.phase], [false, 'gate']);
    assert.ok(r.gate.failures.length >= 8);
  });

  test('a baseline from another GPU, or other load settings: not comparable, a notice, and the step passes even slowed', async () => {
    const other = JSON.parse(readFileSync(baselineFile, 'utf8')) as Record<string, unknown>;
    const otherGpu = join(root, 'baseline-gfx942.json');
    writeFileSync(otherGpu, JSON.stringify({ ...other, gfx: 'gfx942', gpu: 'gfx942 AMD Instinct MI300X' }));
    const { main } = await smoke({ image, ...load, concurrency: '1,3', baseline: otherGpu }, { FAKE_VLLM_TOKEN_DELAY_MS: '60' });
    assert.equal(main.exitCode, 0, main.stdout.slice(-3000));
    assert.match(notices(main).join('\n'), /does not apply: the baseline was measured with GPU gfx942 \(this run: none\)/);
    assert.match(main.summary, /ℹ️ The baseline .* does not apply/);
    const longer = await smoke({ image, ...load, 'input-len': '64', concurrency: '1,3', baseline: baselineFile }, { FAKE_VLLM_TOKEN_DELAY_MS: '60' });
    assert.equal(longer.main.exitCode, 0, longer.main.stdout.slice(-3000));
    assert.match(notices(longer.main).join('\n'), /input-len 48 \(this run: 64\)/);
  });

  test('absolute limits fail the step naming the figure and the input; a baseline that is not a report fails before anything starts', async () => {
    const { main } = await smoke({ image, ...load, concurrency: '2', 'min-tokens-per-second': '100000', 'max-p99-latency-ms': '50' }, paced);
    const error = failedWith(main, /^Performance gate failed$/);
    assert.match(error, /output throughput [\d.]+ tokens\/s at concurrency 2 is below min-tokens-per-second 100000/);
    assert.match(error, /E2EL p99 [\d.]+ ms at concurrency 2 is above max-p99-latency-ms 50/);
    const forged = join(root, 'forged-baseline.json');
    writeFileSync(forged, JSON.stringify({ passed: true, model: 'm', load: { settings: { inputLen: 48, outputLen: 12, seed: 0, requestRate: 'inf', concurrency: [2] }, rows: [{ concurrency: 2, outputThroughput: 'NaN' }] } }));
    const refused = await smoke({ image, ...load, baseline: forged });
    assert.equal(refused.main.exitCode, 1);
    assert.match(refused.main.errors.join('\n'), /the baseline .*forged-baseline\.json: load\.rows\[0\]\.requests is not a finite number/);
    assert.equal(refused.main.outputs.report, '', 'nothing started, no report (the output stays claimed empty)');
  });

  test('an image baseline: its smoke-test attestation, attested with cosign and a key, is read from the registry and verified', async () => {
    requireTools('cosign');
    const keys = mkdtempSync(join(root, 'cosign-'));
    sh('cosign', ['generate-key-pair'], { cwd: keys, env: { ...process.env, COSIGN_PASSWORD: '' } });
    const pub = readFileSync(join(keys, 'cosign.pub'), 'utf8');
    const repo = `127.0.0.1:5000/h-gate-baseline-${process.pid}-${Date.now()}`;
    sh('docker', ['tag', image, `${repo}:v1`]);
    const pushed = sh('docker', ['push', `${repo}:v1`]);
    const digest = /digest: (sha256:[0-9a-f]{64})/.exec(pushed)![1]!;
    const ref = `${repo}@${digest}`;
    sh('cosign', ['attest', '--yes', '--key', join(keys, 'cosign.key'), '--type', 'https://github.com/vllm-rocm-action/vllm-rocm-action/predicates/smoke-test/v1', '--predicate', baselineFile, '--tlog-upload=false', '--allow-http-registry', ref], { env: { ...process.env, COSIGN_PASSWORD: '' } });
    const { main } = await smoke({ image, ...load, concurrency: '1,3', baseline: ref, 'baseline-key': pub, 'baseline-transparency-log': 'false' }, { FAKE_VLLM_TTFT_MS: '300', FAKE_VLLM_TOKEN_DELAY_MS: '60' });
    assert.match(failedWith(main, /^Performance gate failed$/), /output throughput at concurrency 1 is [\d.]+% lower than the baseline/);
    assert.match(main.summary, new RegExp(`Baseline \`${ref.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\``));
    // Another key does not verify it: the step fails before the server starts.
    const other = mkdtempSync(join(root, 'cosign-other-'));
    sh('cosign', ['generate-key-pair'], { cwd: other, env: { ...process.env, COSIGN_PASSWORD: '' } });
    const wrong = await smoke({ image, ...load, baseline: ref, 'baseline-key': readFileSync(join(other, 'cosign.pub'), 'utf8'), 'baseline-transparency-log': 'false' });
    assert.equal(wrong.main.exitCode, 1);
    assert.match(wrong.main.errors.join('\n'), /the smoke-test attestation of .* could not be verified: cosign verify-attestation --type https:\/\/github\.com\/vllm-rocm-action\/vllm-rocm-action\/predicates\/smoke-test\/v1 .* failed/);
  });
});

describe("the server's default arguments come from the image's entrypoint", () => {
  test('ENTRYPOINT ["vllm", "serve"]: engine arguments only, and the summary says so', async () => {
    const { main } = await smoke({ image, requests: '0', 'served-model-name': 'qwen' });
    assert.equal(main.exitCode, 0, main.stdout.slice(-3000));
    assert.ok(main.stdout.includes(` ${image} Qwen/Qwen2.5-0.5B-Instruct --host 0.0.0.0 --port `), 'engine arguments right after the image');
    assert.match(report(main).serverArgs!, /ENTRYPOINT \["vllm","serve"\] starts the server, so the arguments are engine arguments only/);
    assert.match(main.summary, /Server arguments: `Qwen\/Qwen2\.5-0\.5B-Instruct --host 0\.0\.0\.0 --port \d+ --served-model-name qwen` \(the image's ENTRYPOINT/);
  });

  test('no ENTRYPOINT: the command vllm serve …', async () => {
    const { main } = await smoke({ image: plainImage, requests: '0' });
    assert.equal(main.exitCode, 0, main.stdout.slice(-3000));
    assert.match(main.summary, /Server arguments: `vllm serve Qwen\/Qwen2\.5-0\.5B-Instruct --host 0\.0\.0\.0 --port \d+` \(the image has no ENTRYPOINT/);
  });

  test('args that repeat `vllm serve` to an entrypoint that already runs it: argparse exits 2, diagnosed at once', async () => {
    const port = String(await freePort());
    const { main, mainSeconds } = await smoke({ image, port, args: `vllm serve m --host 0.0.0.0 --port ${port}`, 'startup-timeout-seconds': '120' });
    const error = failedWith(main, /Server failed/);
    // Whichever comes first: the argparse line in the log, or the container's exit.
    assert.match(error, /the container exited with code 2|the log shows "vLLM refused its command line"/);
    assert.match(error, /vllm: error: unrecognized arguments: serve m/);
    assert.equal(report(main).serverArgs, 'from the `args` input');
    // The diagnosis names this image's ENTRYPOINT and the args it was given.
    assert.match(error, /The image's ENTRYPOINT is \["vllm","serve"\] and args were \["vllm","serve","m",.*the ENTRYPOINT already runs `vllm serve`, so args must not repeat it/);
    assert.ok(mainSeconds < 20, `${mainSeconds} s`);
  });
});

describe('api key', () => {
  test('api-key: masked, given to the server as VLLM_API_KEY, sent as a Bearer token: passes', async () => {
    const key = 'sk-smoke-0123456789abcdef';
    const { main } = await smoke({ image, 'api-key': key, requests: '4' }, { FAKE_VLLM_LOG_ENV: '1' });
    assert.equal(main.exitCode, 0, main.stdout.slice(-3000));
    assert.ok(main.masks.includes(key));
    assert.ok(!main.stdout.split('\n').some((l) => !l.startsWith('::add-mask::') && l.includes(key)));
    assert.ok(!main.summary.includes(key));
    assert.match(readFileSync(report(main).logFile!, 'utf8'), /^env VLLM_API_KEY$/m);
    // Through the private env file, never on docker's command line.
    assert.match(main.stdout, /^docker run .*--env-file \S+/m);
    assert.doesNotMatch(main.stdout, /VLLM_API_KEY=/);
  });

  test('a server started with --api-key and no api-key input: 401, and the failure says to set api-key', async () => {
    const port = String(await freePort());
    const { main } = await smoke({ image, port, args: `m --port ${port} --api-key server-only-key` });
    const error = failedWith(main, /Smoke test check failed/);
    assert.match(error, /GET \/v1\/models answered 401 \(the server wants an API key: set the api-key input/);
  });
});

describe('failures are diagnosed, never waited out', () => {
  const signatures: Array<[string, string, RegExp]> = [
    // CPython's own text (vLLM and PyTorch print none for /dev/kfd: ROCR opens it silently).
    ['kfd-permission', "PermissionError: [Errno 13] Permission denied: '/dev/kfd'", /\/dev\/kfd permission denied/],
    ['no-hip-gpus', 'RuntimeError: No HIP GPUs are available', /No HIP GPUs are available/],
    ['no-kernel-for-gfx', 'RuntimeError: HIP error: invalid device function\\nHIP kernel errors might be asynchronously reported', /No GPU code for this gfx target/],
    ['no-kernel-for-gfx', 'rocBLAS error: hipErrorNoBinaryForGpu: Unable to find code object for all current devices!', /No GPU code for this gfx target/],
    // ROCm/ROCR-Runtime core/runtime/amd_topology.cpp's text.
    ['driver-too-old', 'HSA Error:  Incompatible kernel and userspace, AMD Radeon 8060S Graphics disabled. Upgrade amdgpu.', /driver too old/],
    ['gpu-out-of-memory', 'torch.OutOfMemoryError: HIP out of memory. Tried to allocate 1.50 GiB', /GPU out of memory/],
    ['free-memory-below-utilization', 'ValueError: Free memory on device (12.0/16.0 GiB) on startup is less than desired GPU memory utilization (0.9, 14.4 GiB)', /Free GPU memory below/],
  ];
  for (const [id, line, title] of signatures) {
    test(`crash at start with ${id}: the signature, its meaning and fix, and the log tail`, async () => {
      const { main, mainSeconds } = await smoke({ image, 'startup-timeout-seconds': '120' }, { FAKE_VLLM_CRASH: line });
      const error = failedWith(main, title);
      assert.match(error, /Fix: /);
      assert.match(error, /Last server log lines:/);
      assert.ok(mainSeconds < 20, `diagnosed in ${mainSeconds.toFixed(1)} s, not after the 120 s timeout`);
      const r = report(main);
      assert.equal(r.failure!.phase, 'startup');
      assert.equal(r.failure!.signature!.id, id);
      assert.match(main.summary, /Smoke test: ❌ failed/);
      assert.match(main.summary, /- Fix: /);
    });
  }

  // Each real failure as the stand-in prints it (FAKE_VLLM_FAIL: upstream's text, cited in
  // templates/example/fake-vllm.c), through the stage: the catalogue's signature, diagnosed at once.
  const realFailures: Array<[string, string]> = [
    ['infer-device-type', 'device-type-unknown'],
    ['tensile-library', 'no-tensile-for-gfx'],
    ['memory-access-fault', 'gpu-memory-fault'],
    ['kv-cache-too-small', 'kv-cache-too-small'],
    ['hsa-out-of-resources', 'hsa-out-of-resources'],
    ['hsa-exception', 'gpu-kernel-exception'],
    ['amdsmi-missing', 'amdsmi-unavailable'],
    ['amdsmi-init', 'amdsmi-unavailable'],
    ['getpwuid', 'no-user-entry'],
  ];
  for (const [failure, id] of realFailures) {
    test(`FAKE_VLLM_FAIL=${failure}: diagnosed as ${id}`, async () => {
      const { main, mainSeconds } = await smoke({ image, 'startup-timeout-seconds': '120' }, { FAKE_VLLM_FAIL: failure });
      failedWith(main, /Server failed/);
      assert.equal(report(main).failure!.signature?.id, id, report(main).failure!.message);
      assert.ok(mainSeconds < 20, `diagnosed in ${mainSeconds.toFixed(1)} s`);
    });
  }

  test('probe: true on an image without python3: no verdict, diagnosed before the server starts', async () => {
    const { main } = await smoke({ image, probe: 'true' });
    const error = failedWith(main, /In-image GPU probe failed/);
    assert.match(error, /no-verdict: .*python3/);
    assert.equal(report(main).failure!.phase, 'probe');
    assert.doesNotMatch(main.stdout, /docker run --detach/, 'the server was never started');
  });

  test('probe: true with a host command runs the host python3 (no PyTorch on this machine): no-torch', async () => {
    const port = String(await freePort());
    const { main } = await smoke({ command: `${fakeVllmBinary()} serve m --port ${port}`, port, probe: 'true' });
    const error = failedWith(main, /In-image GPU probe failed/);
    assert.match(error, /no-torch: PyTorch cannot be imported/);
  });

  test('the engine dies under an open stream: the in-band error event is "the engine died", with the log\'s root cause', async () => {
    // Requests 1 and 2 (completion, chat) pass; the streamed request 3 gets the error after HTTP 200.
    const { main } = await smoke({ image }, { FAKE_VLLM_DIE_AFTER: '2', FAKE_VLLM_WATCHDOG_MS: '60000' });
    const error = failedWith(main, /The engine died during the test/);
    assert.match(error, /the stream carried an error event after 1 chunk \("EngineCore encountered an issue/);
    const r = report(main);
    assert.equal(r.failure!.signature!.id, 'engine-dead');
    assert.ok(r.failure!.logTail.some((l) => /EngineDeadError/.test(l)));
  });

  test('a dead engine answers 500 on generation routes (not 503): "the engine died"', async () => {
    const { main } = await smoke({ image }, { FAKE_VLLM_DIE_AFTER: '0', FAKE_VLLM_WATCHDOG_MS: '60000' });
    const error = failedWith(main, /The engine died during the test/);
    assert.match(error, /POST \/v1\/completions answered 500 \(EngineCore encountered an issue/);
    assert.equal(report(main).failure!.signature!.id, 'engine-dead');
  });

  test('failed requests of the throughput run are counted: past max-failed-requests the step fails, within it a warning', async () => {
    // Every 5th generation request is refused with 400: requests 5, 10 and 15 of 3 + 16.
    const strict = await smoke({ image }, { FAKE_VLLM_REJECT_EVERY: '5' });
    const error = failedWith(strict.main, /Smoke test check failed/);
    assert.match(error, /3 of 16 requests of the throughput run at concurrency 4 failed: POST \/v1\/completions answered 400: This model's maximum context length is 32768 tokens.* \(max-failed-requests: 0\)/);
    const tolerant = await smoke({ image, 'max-failed-requests': '3' }, { FAKE_VLLM_REJECT_EVERY: '5' });
    assert.equal(tolerant.main.exitCode, 0, tolerant.main.stdout.slice(-3000));
    assert.match(tolerant.main.warnings.join('\n'), /3 of 16 requests of the throughput run at concurrency 4 failed.*within max-failed-requests: 3/);
    assert.equal(report(tolerant.main).load!.rows[0]!.failed, 3);
    assert.match(tolerant.main.summary, /\| 4 \| 13\/16 \| 3: POST \/v1\/completions answered 400/);
  });

  test('a wrong answer fails the expect check and shows the answer', async () => {
    const { main } = await smoke({ image, expect: '\\bParis\\b' }, { FAKE_VLLM_ANSWER: ' Berlin is a city.' });
    const error = failedWith(main, /Smoke test check failed/);
    // `env` values are trimmed like every KEY=VALUE input, so the server answers "Berlin is a city."
    assert.match(error, /does not match expect \/\\bParis\\b\/: "Berlin is a city\."/);
    assert.match(main.summary, /Berlin/);
  });

  test('never ready: "did not become ready in N s", after N s', async () => {
    const { main, mainSeconds } = await smoke({ image, 'startup-timeout-seconds': '2' }, { FAKE_VLLM_START_DELAY_MS: '60000' });
    const error = failedWith(main, /Server failed to start/);
    assert.match(error, /did not become ready in 2 s/);
    assert.ok(mainSeconds >= 2 && mainSeconds < 12, `${mainSeconds} s`);
  });
});

describe('a host command instead of an image', () => {
  test('the same server as a host process: passes, and its process group is gone after main', async () => {
    const bin = fakeVllmBinary();
    const port = String(await freePort());
    const { main } = await smoke(
      { command: `${bin} serve Qwen/Qwen2.5-0.5B-Instruct --port ${port}`, port, expect: 'Paris', 'hf-token': 'hf_hostprocesstoken0123' },
      { FAKE_VLLM_START_DELAY_MS: '500', FAKE_VLLM_LOG_ENV: '1' },
      { ACTIONS_RUNTIME_TOKEN: 'runtime-token-not-for-servers' },
    );
    assert.equal(main.exitCode, 0, main.stdout.slice(-3000));
    assert.equal(main.outputs.passed, 'true');
    // The server gets its env input and HF_TOKEN, not the step's inputs or the job's service tokens.
    const log = readFileSync(report(main).logFile!, 'utf8');
    assert.match(log, /^env FAKE_VLLM_LOG_ENV$/m);
    assert.match(log, /^env HF_TOKEN$/m);
    assert.doesNotMatch(log, /^env (INPUT_|ACTIONS_RUNTIME_TOKEN)/m);
    assert.equal(await fetch(`http://127.0.0.1:${port}/health`).then(() => 'up', () => 'down'), 'down');
  });

  test('a host process crashing with a signature is diagnosed', async () => {
    const port = String(await freePort());
    const { main } = await smoke({ command: `${fakeVllmBinary()} serve m --port ${port}`, port }, { FAKE_VLLM_CRASH: 'RuntimeError: No HIP GPUs are available' });
    failedWith(main, /No HIP GPUs are available/);
  });
});

describe('cleanup in post', () => {
  test('a container of this step left by a main that crashed before saving state is removed by its label', async () => {
    const { job: j, label } = job();
    sh('docker', ['run', '--detach', '--label', `vllm-rocm-action.step=${label}`, image, 'm', '--port', '18999']);
    assert.equal(labelledContainers(label).length, 1);
    const post = await runStep('smoke-test', j, { phase: 'post', state: { 'vllm-rocm-action-post': 'true' } });
    assert.equal(post.exitCode, 0);
    assert.match(post.stdout, /Removed 1 container/);
    assert.deepEqual(labelledContainers(label), []);
  });

  test('a host server left by main is ended through its saved process group', async () => {
    const { job: j } = job();
    const port = await freePort();
    // As main starts it: in its own group, with this step's identity in its environment.
    const identity = { GITHUB_RUN_ID: j.env.GITHUB_RUN_ID!, GITHUB_RUN_ATTEMPT: '1', GITHUB_JOB: 'build', GITHUB_ACTION: 'step', RUNNER_NAME: 'test-runner' };
    const child = spawn(fakeVllmBinary(), ['serve', 'm', '--port', String(port)], { detached: true, stdio: 'ignore', env: { ...process.env, ...identity } });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    const state = { 'vllm-rocm-action-post': 'true', 'smoke-test': JSON.stringify({ pgid: child.pid, port }) };
    const post = await runStep('smoke-test', j, { phase: 'post', state });
    assert.equal(post.exitCode, 0);
    assert.match(post.stdout, new RegExp(`Ended the server's process group ${child.pid}`));
    await exited;
    assert.deepEqual(post.warnings, [], 'the port is free again');
  });

  test("a saved process group that is not this step's server (forged state) is refused, never signalled", async () => {
    const { job: j } = job();
    const port = await freePort();
    // Another step's (or anyone's) process: no identity of this step in its environment.
    const other = spawn(fakeVllmBinary(), ['serve', 'm', '--port', String(port)], { detached: true, stdio: 'ignore' });
    try {
      const state = { 'vllm-rocm-action-post': 'true', 'smoke-test': JSON.stringify({ pgid: other.pid, port }) };
      const post = await runStep('smoke-test', j, { phase: 'post', state });
      assert.equal(post.exitCode, 0);
      assert.ok(post.warnings.some((w) => w.includes(`process group ${other.pid} is not a server this step started`)), post.warnings.join('\n'));
      assert.doesNotMatch(post.stdout, /Ended the server's process group/);
      assert.equal(other.exitCode, null, 'still running');
      assert.equal(other.signalCode, null);
    } finally {
      process.kill(-other.pid!, 'SIGKILL');
    }
  });
});

describe('guards before anything runs', () => {
  test('a fork pull request on a self-hosted runner is refused; allow-fork-pull-requests lets it run', async () => {
    const { job: j, label } = job();
    writeFileSync(j.eventPath, JSON.stringify({ pull_request: { head: { repo: { full_name: 'mallory/vllm', fork: true } }, base: { repo: { full_name: 'example/vllm-rocm' } } } }));
    const refused = await runStep('smoke-test', j, { inputs: { image, gpu: 'none' }, env: { GITHUB_EVENT_NAME: 'pull_request' } });
    assert.equal(refused.exitCode, 1);
    assert.match(refused.errors.join('\n'), /Refusing to run on a runner that is not GitHub-hosted \(RUNNER_ENVIRONMENT=self-hosted\): the pull_request event's pull request comes from the fork mallory\/vllm/);
    assert.deepEqual(labelledContainers(label), []);
    assert.equal(refused.outputs.passed, '', 'nothing ran');
    const allowed = await runStepWithPost('smoke-test', j, { inputs: { image, gpu: 'none', requests: '0', port: String(await freePort()), 'allow-fork-pull-requests': 'true' }, env: { GITHUB_EVENT_NAME: 'pull_request' } });
    assert.equal(allowed.main.exitCode, 0, allowed.main.stdout.slice(-2000));
  });

  test('input errors name the inputs: neither image nor command, a bad port', async () => {
    const none = await runStep('smoke-test', job().job, { inputs: {} });
    assert.equal(none.exitCode, 1);
    assert.match(none.errors.join('\n'), /Input 'image': set exactly one of 'image' .* and 'command'/);
    const port = await runStep('smoke-test', job().job, { inputs: { image, port: '0' } });
    assert.match(port.errors.join('\n'), /Input 'port': must be an integer from 1 to 65535/);
  });
});

describe('what the image under test is given, and what it is not', () => {
  let reader: string;
  before(() => {
    reader = readerImage();
  });

  test('env with DOCKER_HOST and PATH reaches the container only: the docker CLI still runs the runner\'s docker on the runner\'s daemon', async () => {
    const { main } = await smoke({ image: reader, requests: '0', env: 'DOCKER_HOST=unix:///nonexistent.sock\nPATH=/nonexistent\nREADER_SHOW=DOCKER_HOST,PATH' });
    assert.equal(main.exitCode, 0, main.stdout.slice(-3000));
    const log = readFileSync(report(main).logFile!, 'utf8');
    assert.match(log, /^reader: DOCKER_HOST=unix:\/\/\/nonexistent\.sock$/m);
    assert.match(log, /^reader: PATH=\/nonexistent$/m);
    assert.doesNotMatch(main.stdout, /DOCKER_HOST|nonexistent/, 'values are in the env file, never on the logged command line');
  });

  test('env values with a line break are refused naming env (docker env files have no quoting)', async () => {
    const { main, label } = await smoke({ image: reader, env: 'A=one\rtwo' });
    assert.equal(main.exitCode, 1);
    assert.match(main.errors.join('\n'), /Input 'env': the value of A holds a line break or NUL/);
    assert.deepEqual(labelledContainers(label), []);
  });

  test('hf-token: a read-only file the server reads (HF_TOKEN_PATH), not in docker inspect, not in the probe, masked in the log, report and summary', async () => {
    const token = 'hf_fileTokenValue0123456789abc';
    const { job: j, label } = job();
    const port = String(await freePort());
    const running = runStep('smoke-test', j, {
      inputs: { image: reader, port, gpu: 'none', probe: 'true', requests: '0', 'hf-token': token, env: `FAKE_VLLM_START_DELAY_MS=2500\nFAKE_VLLM_ANSWER= Paris, said ${token}\nREADER_SHOW=HF_TOKEN` },
    });
    // While main waits for /health: the server container as anyone on the daemon sees it.
    let inspected: { Config: { Env: string[] }; Mounts: Array<{ Destination: string; RW: boolean; Source: string }> } | undefined;
    for (let i = 0; i < 100 && !inspected; i++) {
      // The probe's container (--rm) may be gone between the listing and its inspection.
      const server = labelledContainers(label)
        .map((id) => { try { return JSON.parse(sh('docker', ['inspect', id]))[0]; } catch { return undefined; } })
        .find((c) => c && !c.Name.endsWith('-probe') && c.State.Running);
      if (server) inspected = server;
      else await new Promise((r) => setTimeout(r, 100));
    }
    const main = await running;
    const post = await runStep('smoke-test', j, { phase: 'post', state: main.state });
    assert.equal(post.exitCode, 0);
    assert.equal(main.exitCode, 0, main.stdout.slice(-3000));
    assert.ok(inspected, 'the server container was seen running');
    // (FAKE_VLLM_ANSWER quotes it on purpose, so the answer carries it into the report.)
    assert.ok(!JSON.stringify(inspected.Config.Env.filter((e) => !e.startsWith('FAKE_VLLM_ANSWER='))).includes(token), 'the token is not in Config.Env');
    assert.ok(inspected.Config.Env.includes('HF_TOKEN_PATH=/run/secrets/hf-token'));
    assert.ok(!inspected.Config.Env.some((e) => e.startsWith('HF_TOKEN=')));
    const mount = inspected.Mounts.find((m) => m.Destination === '/run/secrets/hf-token');
    assert.equal(mount?.RW, false, 'mounted read-only');
    // The server read it a second after start, when the host copy was already gone; it cannot write it.
    const log = readFileSync(report(main).logFile!, 'utf8');
    assert.match(log, /^reader: token file \/run\/secrets\/hf-token: \*\*\*$/m, 'read, and masked in the log');
    assert.match(log, /^reader: token file write: Read-only file system$/m);
    assert.match(log, /^reader: HF_TOKEN=\(unset\)$/m);
    // The probe ran in the same image without it.
    const probe = report(main).probe!;
    assert.equal(probe.ok, true);
    assert.match(probe.detail, /variables:.* READER_SHOW/);
    assert.doesNotMatch(probe.detail, /HF_TOKEN/);
    // Nothing the step leaves or uploads holds it: the log, the report (the answer quoted it), the summary.
    assert.match(report(main).completion!.text, /said \*\*\*/);
    assert.ok(!main.summary.includes(token));
    assert.deepEqual(filesHolding(j.temp, token), [], 'no file under RUNNER_TEMP holds the token');
    assert.deepEqual(labelledContainers(label), []);
  });

  test('main killed hard (SIGKILL) once the server logged the token: post masks hf-token and api-key again, uploads the log scrubbed, removes the secrets directory', async (t) => {
    const own = await startActionsServices();
    t.after(() => own.stop());
    const token = 'hf_killedMainToken0123456789abc';
    const apiKey = 'sk-killed-main-key-0123456789';
    const { job: j, label } = job(own.jobEnv('run-killed', 'job-1'));
    const port = String(await freePort());
    const pidFile = join(root, `main-${label}.pid`);
    const logFile = join(j.temp, 'vllm-rocm-action', 'smoke-test', 'server.log');
    // The runner's node process itself (exec keeps the pid), so the kill is main's, not a wrapper's.
    const inputs = { image: reader, port, gpu: 'none', requests: '0', 'hf-token': token, 'api-key': apiKey, 'startup-timeout-seconds': '120', probe: 'false', env: 'FAKE_VLLM_START_DELAY_MS=60000\nREADER_SHOW=VLLM_API_KEY' };
    const running = runStep('smoke-test', j, {
      inputs,
      wrap: ['/bin/bash', '-c', 'echo $$ > "$0"; exec "$@"', pidFile],
    });
    for (let i = 0; i < 300 && !(existsSync(logFile) && readFileSync(logFile, 'utf8').includes(token) && readFileSync(logFile, 'utf8').includes(apiKey)); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(readFileSync(logFile, 'utf8').includes(token), 'the server logged the token (main had not scrubbed it yet)');
    process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 'SIGKILL');
    const main = await running;
    assert.notEqual(main.exitCode, 0);
    // The runner gives post the step's inputs too (actions/runner, ActionRunner.cs).
    const post = await runStep('smoke-test', j, { phase: 'post', state: main.state, inputs });
    assert.equal(post.exitCode, 0, post.stdout.slice(-2000));
    assert.deepEqual(labelledContainers(label), []);
    assert.deepEqual(post.leakedSecrets, []);
    assert.ok([token, apiKey].every((secret) => post.masks.includes(secret)), 'post masks both again');
    const stage = join(j.temp, 'vllm-rocm-action', 'smoke-test');
    assert.deepEqual(readdirSync(stage).filter((n) => n.startsWith('secrets-')), [], 'the env/token directory main left is gone');
    // The uploaded artifact, downloaded as a later job would (the real @actions/artifact client).
    const name = own.artifacts().find((a) => a.name.startsWith('smoke-test-logs-'))?.name;
    assert.ok(name, `post uploaded the log: ${post.stdout.slice(-1500)}`);
    const into = mkdtempSync(join(root, 'downloaded-'));
    const download = "const { DefaultArtifactClient } = await import('@actions/artifact'); const c = new DefaultArtifactClient(); const a = (await c.getArtifact(process.argv[1])).artifact; await c.downloadArtifact(a.id, { path: process.argv[2] });";
    await promisify(execFile)(node24(), ['--input-type=module', '-e', download, name, into], { cwd: REPO_ROOT, env: { ...process.env, ...j.env, RUNNER_TEMP: j.temp, GITHUB_WORKSPACE: j.workspace } });
    const uploaded = readFileSync(join(into, 'server.log'), 'utf8');
    assert.match(uploaded, /^reader: token file \/run\/secrets\/hf-token: \*\*\*$/m, 'the token line, scrubbed');
    assert.match(uploaded, /^reader: VLLM_API_KEY=\*\*\*$/m, 'the key line, scrubbed');
    assert.ok(!uploaded.includes(token) && !uploaded.includes(apiKey));
    assert.deepEqual(filesHolding(j.temp, token), [], 'no file under RUNNER_TEMP holds the token');
  });

  test('docker-args cannot take over the container name or the cleanup label: refused naming docker-args, nothing started', async () => {
    const hijack = `h-smoke-hijack-${process.pid}`;
    for (const args of [`--name ${hijack} --label vllm-rocm-action.step=other`, '--shm-size 1g -itd']) {
      const { main, label } = await smoke({ image: reader, 'docker-args': args });
      assert.equal(main.exitCode, 1, main.stdout.slice(-2000));
      assert.match(main.errors.join('\n'), /Input 'docker-args': must not set '(--name|-itd)'/);
      assert.deepEqual(labelledContainers(label), []);
    }
    assert.equal(sh('docker', ['ps', '--all', '--quiet', '--filter', `name=${hijack}`]).trim(), '');
  });

  test('a log line with a code fence cannot close the summary\'s log block', async () => {
    const { main } = await smoke({ image: reader }, { FAKE_VLLM_CRASH: 'RuntimeError: No HIP GPUs are available\\n```\\n</details>\\n## Forged heading [x](https://example.invalid)' });
    failedWith(main, /No HIP GPUs are available/);
    const lines = main.summary.split('\n');
    const open = lines.indexOf('<details><summary>Last server log lines</summary>') + 2;
    const fence = lines[open]!;
    assert.match(fence, /^````+$/, 'a fence longer than the ``` in the log');
    const close = lines.indexOf(fence, open + 1);
    assert.ok(lines.slice(open + 1, close).includes('## Forged heading [x](https://example.invalid)'), 'the forged lines are inside the block');
    assert.equal(lines[close + 1], '</details>');
  });

  test('model-cache is read-only by default (used offline); model-cache-mode: rw lets the image write', async () => {
    const cache = join(root, `model-cache-${process.pid}`);
    mkdirSync(join(cache, 'hub'), { recursive: true });
    const show = 'READER_SHOW=HF_HOME,HF_HUB_CACHE,HF_HUB_OFFLINE';
    const ro = await smoke({ image: reader, requests: '0', 'model-cache': cache, env: `${show}\nREADER_WRITE_DIR=/run/vllm-rocm-action/hf-cache/hub` });
    assert.equal(ro.main.exitCode, 0, ro.main.stdout.slice(-3000));
    const roLog = readFileSync(report(ro.main).logFile!, 'utf8');
    assert.match(roLog, /^reader: cache write: Read-only file system$/m);
    assert.match(roLog, /^reader: HF_HUB_CACHE=\/run\/vllm-rocm-action\/hf-cache\/hub$/m);
    assert.match(roLog, /^reader: HF_HUB_OFFLINE=1$/m);
    assert.deepEqual(readdirSync(join(cache, 'hub')), [], 'nothing planted in the shared cache');
    const rw = await smoke({ image: reader, requests: '0', 'model-cache': cache, 'model-cache-mode': 'rw', env: `${show}\nREADER_WRITE_DIR=/root/.cache/huggingface/hub` });
    assert.equal(rw.main.exitCode, 0, rw.main.stdout.slice(-3000));
    const rwLog = readFileSync(report(rw.main).logFile!, 'utf8');
    assert.match(rwLog, /^reader: cache write: written$/m);
    assert.match(rwLog, /^reader: HF_HOME=\/root\/\.cache\/huggingface$/m);
    assert.deepEqual(readdirSync(join(cache, 'hub')), ['planted-by-image']);
  });
});

describe('gpu: amd preflight on fixture trees (VLLM_ROCM_ACTION_SYSROOT)', () => {
  test('no GPU: the preflight table fails with fixes; nothing is started', async () => {
    const { main, label } = await smoke({ image, gpu: 'amd' }, {}, { VLLM_ROCM_ACTION_SYSROOT: rocmRoot('no-gpu') });
    const error = failedWith(main, /GPU preflight failed/);
    assert.match(error, /\/dev\/kfd: missing/);
    assert.match(main.summary, /#### Preflight/);
    assert.match(main.summary, /\| GPUs \(KFD topology\) \| ❌ fail \|/);
    assert.equal(report(main).failure!.phase, 'preflight');
    assert.deepEqual(labelledContainers(label), []);
  });

  test('gfx1100 where gfx1151 is expected: fails naming both; the GPU output names the card', async () => {
    const bin = fakeTools({ 'rocm-smi': { print: 'rocm-smi-productname-gfx1100.txt' } });
    const { main } = await smoke({ image, gpu: 'amd', 'expected-gfx': 'gfx1151' }, {}, { VLLM_ROCM_ACTION_SYSROOT: rocmRoot('gfx1100'), PATH: `${bin}:${process.env.PATH}` });
    const error = failedWith(main, /GPU preflight failed/);
    assert.match(error, /expected gfx1151, found gfx1100/);
    assert.match(main.outputs.gpu!, /^gfx1100 Navi31/);
  });

  test('gfx1151 with HSA_OVERRIDE_GFX_VERSION: a warning naming the native target; the GPU flags reach docker run; GPU figures sampled', async () => {
    const bin = fakeTools({ rocminfo: { print: 'rocminfo-gfx1151.txt' }, 'rocm-smi': { print: 'rocm-smi-metrics-gfx1100.txt' } });
    const { main } = await smoke(
      { image, gpu: 'amd', 'expected-gfx': 'gfx1151', env: 'HSA_OVERRIDE_GFX_VERSION=11.0.0', probe: 'false' },
      {},
      { VLLM_ROCM_ACTION_SYSROOT: rocmRoot('gfx1151'), PATH: `${bin}:${process.env.PATH}` },
    );
    assert.match(main.warnings.join('\n'), /HSA_OVERRIDE_GFX_VERSION: set to 11\.0\.0 \(gfx1100\); the native target is gfx1151/);
    assert.equal(main.outputs.gpu, 'gfx1151 AMD Radeon 8060S Graphics');
    assert.match(main.stdout, /--device \/dev\/kfd --device \/dev\/dri --group-add 992 --ipc=host --security-opt seccomp=unconfined/);
    // Before and after, from rocm-smi --json (string values after a WARNING line).
    assert.match(main.summary, /\| 0 \| temperature \| 38\.0 °C \| 38\.0 °C \|/);
    assert.match(main.summary, /\| 0 \| VRAM used \| 992 MiB \| 992 MiB \|/);
    // This machine has no /dev/kfd: docker refuses the device, and the stage says so.
    if (!existsSync('/dev/kfd')) failedWith(main, /The server did not start/);
  });
});
