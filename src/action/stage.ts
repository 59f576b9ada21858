// Runs a stage's main or post phase, the way the runner calls the same entry file twice.
// Main fails loudly; post only warns, so cleanup or a cache save never fails a green job.
import * as core from '@actions/core';
import { claimStateAndOutputs } from './claims.js';
import { InputError } from './inputs.js';

const POST_MARKER = 'vllm-rocm-action-post';

export interface Stage {
  main(): Promise<void>;
  post?(): Promise<void>;
  /** The outputs its action.yml declares: claimed (empty) before main runs (src/action/claims.ts). */
  outputs?: readonly string[];
}

export function isPostPhase(): boolean {
  return core.getState(POST_MARKER) === 'true';
}

export async function runStage(stage: Stage): Promise<void> {
  if (isPostPhase()) {
    if (!stage.post) return;
    try {
      await stage.post();
    } catch (error) {
      core.warning(`Post step: ${errorMessage(error)}`);
    }
    return;
  }
  core.saveState(POST_MARKER, 'true');
  claimStateAndOutputs(stage.outputs ?? []);
  await stage.main();
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/** A failure with a title and details for the annotation (e.g. the failing build step and its log tail). */
export class StageFailure extends Error {
  readonly title: string;
  readonly details: string;
  constructor(title: string, message: string, details = '') {
    super(message);
    this.name = 'StageFailure';
    this.title = title;
    this.details = details;
  }
}

/** The entry files' catch: one clear annotation and exit code 1. */
export function setFailed(error: unknown): void {
  if (error instanceof StageFailure) {
    core.error(error.details ? `${error.message}\n${error.details}` : error.message, { title: error.title });
  } else if (error instanceof InputError) {
    core.error(error.message, { title: 'Invalid input' });
  } else {
    core.error(errorMessage(error));
    if (error instanceof Error && error.stack) core.debug(error.stack);
  }
  process.exitCode = 1;
}
