// smoke-test, post phase (also after a failure or a cancel): remove this step's containers (found by
// label, even when main crashed before saving state), end a host server's process group, check the
// port is free, and upload the log if main could not. Never fails the job.
import * as core from '@actions/core';
import { logInfo } from '../action/log.js';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { LABEL_KEY, stepLabel } from '../serve/docker-run.js';
import { removeLabelledContainers } from '../serve/server.js';
import { killGroup } from '../tool/timed.js';
import { uploadLogs } from './logs.js';
import { pullCredentialsDir } from './pull.js';
import { savedSmokeState } from './state.js';

export async function post(): Promise<void> {
  const state = savedSmokeState();
  await rm(pullCredentialsDir(), { recursive: true, force: true });
  const removed = await removeLabelledContainers(`${LABEL_KEY}=${stepLabel(process.env)}`);
  if (removed.length > 0) logInfo(`Removed ${removed.length} container(s) this step left running: ${removed.map((id) => id.slice(0, 12)).join(', ')}`);
  if (state.pgid && killGroup(state.pgid, 'SIGTERM')) {
    await new Promise((r) => setTimeout(r, 2000));
    killGroup(state.pgid, 'SIGKILL');
    logInfo(`Ended the server's process group ${state.pgid}.`);
  }
  if (state.port && !(await portFree(state.port))) core.warning(`Port ${state.port} is still in use after cleanup: something else on the runner holds it.`);
  if (state.logFile && state.logsUploaded === undefined && existsSync(state.logFile)) await uploadLogs([state.logFile]);
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}
