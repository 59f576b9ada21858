// What post needs from main. Containers need nothing: post finds them by this step's label, so a
// main that crashed before saving anything still gets its container removed.
import { saveScopedState, scoped, scopedState } from '../action/scope.js';

export interface SmokeState {
  /** Process group of a host `command` server. */
  pgid?: number;
  port?: number;
  logFile?: string;
  logsUploaded?: boolean;
}

const KEY = 'smoke-test';
// Per scope: a second run in the same step starts from nothing.
const current = new Map<string, SmokeState>();

export function saveSmokeState(update: Partial<SmokeState>): void {
  const next = { ...current.get(scoped(KEY)), ...update };
  current.set(scoped(KEY), next);
  saveScopedState(KEY, JSON.stringify(next));
}

export function savedSmokeState(): SmokeState {
  const raw = scopedState(KEY);
  if (!raw) return {};
  try {
    return JSON.parse(raw) as SmokeState;
  } catch {
    return {};
  }
}
