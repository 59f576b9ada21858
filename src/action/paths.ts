// Where stages keep their files on the runner.
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { scoped } from './scope.js';

/** RUNNER_TEMP/vllm-rocm-action/<stage>[-<scope>]: emptied by the runner after each job. */
export function stageTempDir(stage: string): string {
  return join(process.env.RUNNER_TEMP || tmpdir(), 'vllm-rocm-action', scoped(stage));
}

export function workspaceDir(): string {
  return process.env.GITHUB_WORKSPACE || process.cwd();
}
