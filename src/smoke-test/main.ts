// smoke-test, main phase: inputs → fork guard → preflight → image → probe → start → wait → test →
// report. Any failure stops the server at once and carries a diagnosis; post cleans up whatever is left.
import * as core from '@actions/core';
import { logInfo } from '../action/log.js';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { refuseForkCode } from '../action/fork-guard.js';
import { actionIO, type StageIO } from '../action/io.js';
import { stageTempDir, workspaceDir } from '../action/paths.js';
import { registerSecret, scrubSecrets } from '../action/secrets.js';
import { StageFailure } from '../action/stage.js';
import { runPreflight } from '../rocm/preflight.js';
import { sampleGpus } from '../rocm/sample.js';
import { findSignature } from '../rocm/signatures.js';
import { CONTAINER_HF_TOKEN_PATH, dockerRunArgs, modelCacheEnv, stepLabel } from '../serve/docker-run.js';
import { envFileText, privateDir, removePrivate, writePrivateFile } from '../serve/env-file.js';
import { waitForReady } from '../serve/health.js';
import { startContainer, startProcess, type ServerHandle } from '../serve/server.js';
import { BaselineError, cosignAttestationReader, loadBaseline } from './baseline.js';
import { benchmarkEntries } from './benchmark-json.js';
import { runChecks } from './checks.js';
import { evaluateGate } from './gate.js';
import { prepareImage } from './image.js';
import { parseSmokeTestInputs, type SmokeTestInputs } from './inputs.js';
import { scrubFile, uploadLogs } from './logs.js';
import { runProbe } from './probe.js';
import { serverArgs } from './server-args.js';
import { serverBaseEnv } from './server-env.js';
import { renderSummary, type Diagnosis, type SmokeReport } from './report.js';
import { saveSmokeState } from './state.js';

/** A failure with its diagnosis for the report and the annotation. */
class SmokeFailure extends Error {
  constructor(readonly diagnosis: Omit<Diagnosis, 'logTail'> & { logTail?: string[] }) {
    super(diagnosis.message);
  }
}

/** The outputs action.yml declares, claimed before main runs (src/action/claims.ts). */
export const OUTPUTS = ['passed', 'startup-seconds', 'ttft-ms', 'tokens-per-second', 'p50-latency-ms', 'p99-latency-ms', 'benchmark-bigger-is-better', 'benchmark-smaller-is-better', 'gpu', 'report'] as const;

export async function main(io: StageIO = actionIO): Promise<void> {
  const token = io.get('hf-token');
  if (token) registerSecret(token);
  const apiKey = io.get('api-key');
  if (apiKey) registerSecret(apiKey);
  const inputs = parseSmokeTestInputs(io.get, workspaceDir());
  refuseForkCode(process.env, inputs.allowForkPullRequests);

  const work = stageTempDir('smoke-test');
  await mkdir(work, { recursive: true });
  const logFile = join(work, 'server.log');
  const reportFile = join(work, 'smoke-test-report.json');
  saveSmokeState({ port: inputs.port, logFile });
  const report: SmokeReport = { passed: false, image: inputs.image, command: inputs.command, model: inputs.servedModelName ?? inputs.model, gpu: '', gfx: '', preflight: [], gpus: [] };
  // The baseline first: one that cannot be read or verified fails the step before anything starts.
  let baseline;
  try {
    baseline = await loadBaseline(inputs.gate, cosignAttestationReader(inputs.gate, work));
  } catch (error) {
    if (error instanceof BaselineError) throw new StageFailure('The performance baseline cannot be used', error.message);
    throw error;
  }
  // The env file and the token file: private to this step, gone once docker has read them.
  const secrets = await privateDir(work, 'secrets-');

  let server: ServerHandle | undefined;
  let failure: SmokeFailure | undefined;
  try {
    server = await startAndTest(inputs, report, secrets, logFile, (s) => (server = s));
    report.passed = true;
  } catch (error) {
    failure = error instanceof SmokeFailure ? error : new SmokeFailure({ phase: 'test', title: 'Smoke test error', message: (error as Error).message });
    if (error instanceof Error && !(error instanceof SmokeFailure) && error.name === 'InputError') throw error;
  } finally {
    await removePrivate(secrets);
    const stopping = server?.stop();
    if (inputs.gpu === 'amd' && report.gpus.length > 0) report.gpuAfter = await sampleGpus();
    await stopping;
    // Main ended it: post must not signal a process group ID the system may hand out again.
    if (server?.kind === 'process') saveSmokeState({ pgid: undefined });
  }
  if (!failure && report.load && (baseline || inputs.gate.minTokensPerSecond !== undefined || inputs.gate.maxTtftMs !== undefined || inputs.gate.maxP99LatencyMs !== undefined)) {
    report.gate = evaluateGate({ model: report.model, gfx: report.gfx, settings: report.load.settings, rows: report.load.rows }, inputs.gate, baseline);
    if (report.gate.baseline && !report.gate.baseline.applies) core.notice(`The baseline ${report.gate.baseline.source} does not apply: ${report.gate.baseline.reason}. Only the absolute limits were checked.`, { title: 'Performance baseline not comparable' });
    if (report.gate.failures.length > 0) {
      report.passed = false;
      failure = new SmokeFailure({ phase: 'gate', title: 'Performance gate failed', message: report.gate.failures.join('; '), logTail: [] });
    }
  }
  if (failure) report.failure = { ...failure.diagnosis, logTail: failure.diagnosis.logTail ?? server?.log.lastLines(30) ?? [] };
  if (server) report.logFile = logFile;

  if (server) await scrubFile(logFile);
  await writeFile(reportFile, scrubSecrets(`${JSON.stringify(report, null, 2)}\n`));
  io.setOutput('passed', String(report.passed));
  io.setOutput('gpu', report.gpu);
  io.setOutput('report', reportFile);
  if (report.startupSeconds !== undefined) io.setOutput('startup-seconds', report.startupSeconds.toFixed(1));
  if (report.ttftMs !== undefined) io.setOutput('ttft-ms', report.ttftMs.toFixed(1));
  const firstRow = report.load?.rows[0];
  if (report.load && firstRow) {
    io.setOutput('tokens-per-second', firstRow.outputThroughput.toFixed(1));
    io.setOutput('p50-latency-ms', firstRow.e2elMs.median.toFixed(1));
    io.setOutput('p99-latency-ms', firstRow.e2elMs.p99.toFixed(1));
    const entries = benchmarkEntries(report.load.rows, { model: report.model, gpu: report.gpu, settings: report.load.settings });
    const bigger = join(work, 'benchmark-bigger-is-better.json');
    const smaller = join(work, 'benchmark-smaller-is-better.json');
    await writeFile(bigger, `${JSON.stringify(entries.bigger, null, 2)}\n`);
    await writeFile(smaller, `${JSON.stringify(entries.smaller, null, 2)}\n`);
    io.setOutput('benchmark-bigger-is-better', bigger);
    io.setOutput('benchmark-smaller-is-better', smaller);
  }
  await core.summary.addRaw(scrubSecrets(renderSummary(report)), true).write();
  if (server) saveSmokeState({ logsUploaded: await uploadLogs([logFile, reportFile]) });

  if (failure) {
    const d = report.failure!;
    const details = [d.signature ? `${d.signature.title}: ${d.signature.meaning}\nFix: ${d.signature.fix}` : '', d.logTail.length ? `Last server log lines:\n${d.logTail.join('\n')}` : ''].filter(Boolean).join('\n');
    throw new StageFailure(d.title, d.message, details);
  }
  logInfo(`Smoke test passed: ready in ${report.startupSeconds?.toFixed(1)} s, TTFT ${report.ttftMs?.toFixed(1)} ms, ${report.load?.rows.map((r) => `${r.outputThroughput.toFixed(1)} output tokens/s at concurrency ${r.concurrency}`).join(', ') ?? 'no throughput run'}.`);
}

/** The server log with every registered secret masked, before it is uploaded. */
async function startAndTest(inputs: SmokeTestInputs, report: SmokeReport, secrets: string, logFile: string, started: (s: ServerHandle) => void): Promise<ServerHandle> {
  // Preflight: every check before anything starts.
  let groupIds: number[] = [];
  if (inputs.gpu === 'amd') {
    // VLLM_ROCM_ACTION_SYSROOT: where /sys and /dev are read from (the tests' fixture trees).
    const pre = await runPreflight({ root: process.env.VLLM_ROCM_ACTION_SYSROOT || '/', expectedGfx: inputs.expectedGfx, env: { ...process.env, ...Object.fromEntries(inputs.env) }, opener: inputs.image ? 'container' : 'runner' });
    report.preflight.push(...pre.rows);
    report.gpus = pre.gpus;
    groupIds = pre.groupIds;
    const first = inputs.expectedGfx ? pre.gpus.find((g) => g.gfx === inputs.expectedGfx) ?? pre.gpus[0] : pre.gpus[0];
    if (first) {
      report.gpu = `${first.gfx}${first.name ? ` ${first.name}` : ''}`;
      report.gfx = first.gfx;
    }
    for (const row of pre.rows.filter((r) => r.verdict === 'warn')) core.warning(`${row.check}: ${row.detail}${row.fix ? ` — ${row.fix}` : ''}`, { title: 'Smoke test preflight' });
  }
  let image: string | undefined;
  if (inputs.image) {
    const prepared = await prepareImage(inputs.image, inputs.image.startsWith('/'), (row) => report.preflight.push(row));
    image = prepared.ref;
    report.image = image;
  }
  const failed = report.preflight.filter((r) => r.verdict === 'fail');
  if (failed.length > 0) {
    throw new SmokeFailure({ phase: 'preflight', title: 'GPU preflight failed', message: failed.map((r) => `${r.check}: ${r.detail}${r.fix ? ` (fix: ${r.fix})` : ''}`).join('; '), logTail: [] });
  }
  if (inputs.gpu === 'amd' && report.gpus.length > 0) report.gpuBefore = await sampleGpus();

  const step = stepLabel(process.env);
  const name = `vllm-smoke-${step.replace(/\./g, '-').slice(0, 60)}-${randomBytes(3).toString('hex')}`;
  const gpu = inputs.gpu === 'amd' ? { devices: ['/dev/kfd', '/dev/dri'], groupIds } : undefined;
  if (inputs.probe) {
    // The probe needs no token: it gets the env input only.
    const probe = await runProbe({ image, name, step, gpu, expectedGfx: inputs.expectedGfx, env: inputs.env, secrets, dockerArgs: inputs.dockerArgs });
    report.probe = probe;
    if (!probe.ok && !(probe.verdict === 'no-python' && !image)) {
      throw new SmokeFailure({ phase: 'probe', title: 'In-image GPU probe failed', message: `${probe.verdict}: ${probe.detail}`, signature: signatureOf([probe.detail], report), logTail: [] });
    }
    if (!probe.ok) core.warning(`GPU probe skipped: ${probe.detail}`);
  }

  const startedAt = performance.now();
  let server: ServerHandle;
  try {
    if (image) {
      // The container's environment: the cache's variables, the token's path, then the env input
      // (which wins), in an env file: the docker CLI itself runs in the runner's environment.
      const userNames = new Set(inputs.env.map(([key]) => key));
      const vars: Array<[string, string]> = [
        ...(inputs.modelCache ? modelCacheEnv(inputs.modelCache.mode).filter(([key]) => !userNames.has(key)) : []),
        ...(inputs.hfToken ? [['HF_TOKEN_PATH', CONTAINER_HF_TOKEN_PATH] as [string, string]] : []),
        // vLLM reads it when no --api-key is given (vllm/envs.py); the client sends it as a Bearer token.
        ...(inputs.apiKey ? [['VLLM_API_KEY', inputs.apiKey] as [string, string]] : []),
        ...inputs.env,
      ];
      const envFile = await writePrivateFile(secrets, 'server.env', envFileText(vars));
      const tokenFile = inputs.hfToken ? await writePrivateFile(secrets, 'hf-token', inputs.hfToken) : undefined;
      const args = await serverArgs(inputs, image, report);
      const argv = dockerRunArgs({ image, name, step, port: inputs.port, gpu, envFile, tokenFile, modelCache: inputs.modelCache, extraArgs: inputs.dockerArgs, args });
      logInfo(`docker ${argv.join(' ')}`);
      try {
        server = await startContainer(argv, name, logFile, serverBaseEnv(process.env));
      } finally {
        // docker has read the env file; the token's bind mount holds its file open in the container.
        await removePrivate(envFile);
        await removePrivate(tokenFile);
      }
    } else {
      // A host process is the runner user's own command: `env` is its environment (PATH there picks
      // the programs it runs, as in a shell) and the token is HF_TOKEN, both readable only by that user.
      logInfo(`Starting ${inputs.command!.join(' ')}`);
      server = startProcess(inputs.command!, logFile, { ...serverBaseEnv(process.env), ...Object.fromEntries(inputs.env), ...(inputs.hfToken ? { HF_TOKEN: inputs.hfToken } : {}), ...(inputs.apiKey ? { VLLM_API_KEY: inputs.apiKey } : {}) });
      saveSmokeState({ pgid: Number(server.id) });
    }
  } catch (error) {
    throw new SmokeFailure({ phase: 'start', title: 'The server did not start', message: (error as Error).message, signature: signatureOf([(error as Error).message], report), logTail: [] });
  }
  started(server);

  let signatureHit: Diagnosis['signature'];
  const failure = new Promise<string>((resolve) => {
    server.log.onLine((line) => {
      if (signatureHit) return;
      signatureHit = signatureOf([line], report);
      if (signatureHit) resolve(signatureHit.title);
    });
  });
  const outcome = await waitForReady({ url: `http://127.0.0.1:${inputs.port}/health`, timeoutMs: inputs.startupTimeoutSeconds * 1000, exited: server.exited, failure });
  const seconds = outcome.ms / 1000;
  if (outcome.kind !== 'ready') {
    // Give the log a moment to show why, when the server died without a known signature yet.
    if (!signatureHit && outcome.kind !== 'timeout') await Promise.race([server.exited, new Promise((r) => setTimeout(r, 1000))]);
    signatureHit ??= signatureOf(server.log.lastLines(200), report);
    const message =
      outcome.kind === 'timeout'
        ? `the server did not become ready in ${inputs.startupTimeoutSeconds} s (/health never answered 200)`
        : outcome.kind === 'engine-dead'
          ? `/health answered 503 after ${seconds.toFixed(1)} s: the engine died`
          : outcome.kind === 'exited'
            ? `${outcome.detail} after ${seconds.toFixed(1)} s, before it was ready`
            : `the log shows "${outcome.reason}" after ${seconds.toFixed(1)} s`;
    throw new SmokeFailure({ phase: 'startup', title: signatureHit ? `Server failed: ${signatureHit.title}` : 'Server failed to start', message, signature: signatureHit });
  }
  report.startupSeconds = (performance.now() - startedAt) / 1000;
  logInfo(`Ready after ${report.startupSeconds.toFixed(1)} s (${outcome.polls} /health polls).`);

  try {
    await runChecks(inputs, report, `http://127.0.0.1:${inputs.port}`, server);
  } catch (error) {
    const died = (error as Error).name === 'EngineDiedError' || server.hasExited();
    // The client can hear of the death before the log follower has the lines that say why.
    if (died && !signatureHit) await Promise.race([failure, server.exited, new Promise((r) => setTimeout(r, 2000))]);
    signatureHit ??= signatureOf(server.log.lastLines(200), report);
    throw new SmokeFailure({ phase: 'test', title: died ? 'The engine died during the test' : 'Smoke test check failed', message: (error as Error).message, signature: signatureHit });
  }
  return server;
}

/** The catalogue's diagnosis; with the image's entrypoint and args, an argparse error's fix names both. */
function signatureOf(lines: string[], report: Pick<SmokeReport, 'entrypoint' | 'args'>): Diagnosis['signature'] {
  const hit = findSignature(lines, { entrypoint: report.entrypoint, args: report.args });
  if (!hit) return undefined;
  const { id, title, meaning, fix } = hit.signature;
  return { id, title, meaning, fix, line: hit.line };
}
