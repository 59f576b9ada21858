// smoke-test, post phase (also after a failure or a cancel): remove this step's containers (found by
// label, even when main crashed before saving state), end a host server's process group, check the
// port is free, remove the env and token files main left, and upload the log (scrubbed) if main
// could not. Never fails the job.
import * as core from '@actions/core';
import { logInfo } from '../action/log.js';
import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { actionInputs, type InputSource } from '../action/inputs.js';
import { stageTempDir } from '../action/paths.js';
import { registerSecret } from '../action/secrets.js';
import { LABEL_KEY, stepLabel } from '../serve/docker-run.js';
import { removeLabelledContainers } from '../serve/server.js';
import { killGroup } from '../tool/timed.js';
import { scrubFile, uploadLogs } from './logs.js';
import { pullCredentialsDir } from './pull.js';
import { savedSmokeState } from './state.js';

/**
 * Post gets the step's inputs too (actions/runner, src/Runner.Worker/ActionRunner.cs: the post
 * step runs the same action and evaluates its inputs again; Handler.cs puts them in INPUT_*), and
 * the root action names these two the same. Masked again: post is a new process, and a main that
 * was killed never scrubbed the log.
 */
export async function post(get: InputSource = actionInputs): Promise<void> {
  for (const name of ['hf-token', 'api-key']) registerSecret(get(name));
  const state = savedSmokeState();
  await rm(pullCredentialsDir(), { recursive: true, force: true });
  await removeSecretDirs();
  const removed = await removeLabelledContainers(`${LABEL_KEY}=${stepLabel(process.env)}`);
  if (removed.length > 0) logInfo(`Removed ${removed.length} container(s) this step left running: ${removed.map((id) => id.slice(0, 12)).join(', ')}`);
  if (state.pgid && killGroup(state.pgid, 'SIGTERM')) {
    await new Promise((r) => setTimeout(r, 2000));
    killGroup(state.pgid, 'SIGKILL');
    logInfo(`Ended the server's process group ${state.pgid}.`);
  }
  if (state.port && !(await portFree(state.port))) core.warning(`Port ${state.port} is still in use after cleanup: something else on the runner holds it.`);
  if (state.logFile && state.logsUploaded === undefined && existsSync(state.logFile)) {
    await scrubFile(state.logFile);
    await uploadLogs([state.logFile]);
  }
}

/** main's private env/token directories (privateDir: `secrets-XXXXXX`), found under the recomputed stage temp dir, never taken from state. */
async function removeSecretDirs(): Promise<void> {
  const work = stageTempDir('smoke-test');
  const names = await readdir(work).catch(() => [] as string[]);
  for (const name of names.filter((n) => /^secrets-[A-Za-z0-9]{6}$/.test(n))) await rm(join(work, name), { recursive: true, force: true });
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}
