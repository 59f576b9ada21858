// What post needs from main. Containers need nothing: post finds them by this step's label, so a
// main that crashed before saving anything still gets its container removed.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { scopedPostStateKey } from '../action/claims.js';
import { stageTempDir } from '../action/paths.js';
import { refuseState, stateObject } from '../action/post-state.js';
import { saveScopedState, scoped, scopedState } from '../action/scope.js';

export interface SmokeState {
  /** Process group of a host `command` server. */
  pgid?: number;
  port?: number;
  logFile?: string;
  logsUploaded?: boolean;
}

const KEY = scopedPostStateKey('smoke-test');
// Per scope: a second run in the same step starts from nothing.
const current = new Map<string, SmokeState>();

export function saveSmokeState(update: Partial<SmokeState>): void {
  const next = { ...current.get(scoped(KEY)), ...update };
  current.set(scoped(KEY), next);
  saveScopedState(KEY, JSON.stringify(next));
}

/**
 * Main's state, checked (src/action/post-state.ts): the log file is recomputed, the port a port,
 * and the process group one this step started (ownProcessGroup); anything else is refused.
 */
export function savedSmokeState(): SmokeState {
  const raw = scopedState(KEY);
  if (!raw) return {};
  const what = 'smoke-test state';
  const state = stateObject(what, raw);
  if (!state) return {};
  const logFile = join(stageTempDir('smoke-test'), 'server.log');
  if (state.logFile !== undefined && state.logFile !== logFile) return refuseState(what, `its log file is not ${logFile}`) ?? {};
  if (state.port !== undefined && !(Number.isInteger(state.port) && (state.port as number) > 0 && (state.port as number) < 65536)) return refuseState(what, 'its port is not a port') ?? {};
  if (state.pgid !== undefined && !ownProcessGroup(state.pgid)) return refuseState(what, `process group ${String(state.pgid)} is not a server this step started`) ?? {};
  return {
    pgid: state.pgid as number | undefined,
    port: state.port as number | undefined,
    logFile: state.logFile === undefined ? undefined : logFile,
    logsUploaded: state.logsUploaded === undefined ? undefined : state.logsUploaded === true,
  };
}

/** The runner's identity of this step, which a host server inherits (serverBaseEnv keeps it). */
const STEP_IDENTITY = ['GITHUB_RUN_ID', 'GITHUB_RUN_ATTEMPT', 'GITHUB_JOB', 'GITHUB_ACTION', 'RUNNER_NAME'];

/**
 * Whether `pgid` leads a live process group whose leader carries this step's identity in its
 * environment: a forged number names someone else's process, which post must never signal.
 */
export function ownProcessGroup(pgid: unknown, env: NodeJS.ProcessEnv = process.env, proc = '/proc'): boolean {
  if (!Number.isSafeInteger(pgid) || (pgid as number) <= 1) return false;
  try {
    // /proc/<pid>/stat: "pid (comm) state ppid pgrp …"; comm may hold spaces and parentheses.
    const stat = readFileSync(join(proc, String(pgid), 'stat'), 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) !== pgid) return false;
    const environ = new Set(readFileSync(join(proc, String(pgid), 'environ'), 'utf8').split('\0'));
    return STEP_IDENTITY.every((name) => env[name] !== undefined && environ.has(`${name}=${env[name]}`));
  } catch {
    return false;
  }
}
