// Post reads what main saved, but the runner also takes state from a step's output
// (`::save-state name=…::`, `##[save-state name=…]` anywhere in a line: actions/runner,
// src/Runner.Worker/ActionCommandManager.cs SaveStateCommandExtension), and for a key main never
// wrote through GITHUB_STATE that forged value reaches post. So post takes no path, key or process
// from state on trust: it recomputes its directories from RUNNER_TEMP and the stage scope and
// refuses (warns, does nothing) state that disagrees.
import * as core from '@actions/core';

/** Warns that post ignores the saved `what`, and gives nothing to act on. */
export function refuseState(what: string, why: string): undefined {
  core.warning(`Post: ignoring the saved ${what}: ${why}. Main did not write it (a build's output can set state), so post leaves it alone.`);
  return undefined;
}

/** The state's JSON object, or undefined (refused) when it is not one. */
export function stateObject(what: string, text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // refused below
  }
  return refuseState(what, 'it is not a JSON object');
}

/** An Actions cache key under `prefix`: the characters the stages' own keys use, bounded. */
export function isCacheKey(value: unknown, pattern: RegExp): value is string {
  return typeof value === 'string' && value.length <= 512 && pattern.test(value);
}

/** What a cache-saving post reads of its state: the directories it recomputed, the key main used and the one it restored. */
export interface CacheEntryState {
  dir: string;
  newDir: string;
  key: string;
  restoredKey?: string;
}

/**
 * The directory/key part of a cache stage's state, checked: the directories must be the ones post
 * recomputed (`dirs`), the key one of `keyPattern` (`keyKind` names it in the refusal).
 */
export function cacheEntryState(what: string, state: Record<string, unknown>, dirs: { dir: string; newDir: string }, keyPattern: RegExp, keyKind: string): CacheEntryState | undefined {
  const { dir, newDir } = dirs;
  if (state.dir !== dir || state.newDir !== newDir) return refuseState(what, `its directories are not this stage's ${dir} and ${newDir}`);
  if (!isCacheKey(state.key, keyPattern)) return refuseState(what, `its key is not a ${keyKind} of this action`);
  if (state.restoredKey !== undefined && typeof state.restoredKey !== 'string') return refuseState(what, 'its restored key is not a string');
  return { dir, newDir, key: state.key, restoredKey: state.restoredKey };
}
