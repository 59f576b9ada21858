// Main claims, before anything else runs, every state key post reads and every output the
// stage's action.yml declares: each is written empty through the file commands (GITHUB_STATE,
// GITHUB_OUTPUT). The runner applies those files after the step, over whatever `save-state` or
// `set-output` commands the step's output carried (actions/runner, src/Runner.Worker/
// ActionRunner.cs: ProcessFiles in the finally after the handler ran; FileCommandManager.cs:
// SaveStateFileCommand and SetOutputFileCommand set the same values the commands do). So a
// command forged by a build's log can neither reach post nor define an output the stage left
// unset, even when main dies before writing its own value.
import * as core from '@actions/core';

/** The scopes the pipeline runs a stage in (src/action/scope.ts), besides none. */
export const RUN_SCOPES = ['docker', 'nix'] as const;

const stateKeys = new Set<string>();

/** A state key post reads: registered when its module loads, claimed by runStage's main. */
export function postStateKey(name: string): string {
  stateKeys.add(name);
  return name;
}

/** A scoped state key (src/action/scope.ts): claimed as itself and in every run scope. */
export function scopedPostStateKey(name: string): string {
  postStateKey(name);
  for (const scope of RUN_SCOPES) stateKeys.add(`${name}-${scope}`);
  return name;
}

/** The state keys registered so far (for tests). */
export function claimedStateKeys(): string[] {
  return [...stateKeys];
}

/** Writes every registered state key and every declared output, empty, through the file commands. */
export function claimStateAndOutputs(outputs: readonly string[]): void {
  for (const key of stateKeys) core.saveState(key, '');
  for (const name of outputs) core.setOutput(name, '');
}
