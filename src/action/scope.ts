// A per-run scope for a stage that one step runs more than once (the pipeline's builder: both runs
// verify, smoke-test and publish once per image): its saved state, temp directory and artifact
// names get the scope as a suffix, so the two runs never overwrite each other's. Runs are
// sequential, so one current scope is enough. Outside a scope, names are the stage's own.
import * as core from '@actions/core';

let current = '';

export async function inScope<T>(scope: string, run: () => Promise<T>): Promise<T> {
  const outer = current;
  current = scope;
  try {
    return await run();
  } finally {
    current = outer;
  }
}

/** `name`, or `name-<scope>` inside a scope. */
export function scoped(name: string): string {
  return current ? `${name}-${current}` : name;
}

export function saveScopedState(key: string, value: string): void {
  core.saveState(scoped(key), value);
}

export function scopedState(key: string): string {
  return core.getState(scoped(key));
}
