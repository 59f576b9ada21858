// What post needs from main. Containers need nothing: post finds them by this step's label, so a
// main that crashed before saving anything still gets its container removed.
import * as core from '@actions/core';

export interface SmokeState {
  /** Process group of a host `command` server. */
  pgid?: number;
  port?: number;
  logFile?: string;
  logsUploaded?: boolean;
}

const KEY = 'smoke-test';
let current: SmokeState = {};

export function saveSmokeState(update: Partial<SmokeState>): void {
  current = { ...current, ...update };
  core.saveState(KEY, JSON.stringify(current));
}

export function savedSmokeState(): SmokeState {
  const raw = core.getState(KEY);
  if (!raw) return {};
  try {
    return JSON.parse(raw) as SmokeState;
  } catch {
    return {};
  }
}
