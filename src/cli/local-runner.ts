// A local stand-in for the Actions runner: runs an action's main and post scripts with node the
// way the runner does (INPUT_* and STATE_* variables, file commands in a temporary directory,
// GITHUB_ENV and GITHUB_PATH carried to later phases) and streams the log through a LogRenderer.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { evaluateDefault, inputEnvName, type ActionMetadata } from '../runner/action-metadata.js';
import { parseKeyValueFile } from '../runner/file-commands.js';
import { stepValues } from '../runner/workflow-commands.js';
import type { LogRenderer } from './render.js';

export interface LocalJob {
  /** RUNNER_TEMP. */
  temp: string;
  workspace: string;
  /** The environment every phase starts from (this machine's, with the runner's variables). */
  env: Record<string, string>;
  /** What `${{ github.token }}` evaluates to. */
  githubToken: string;
  exportedEnv: Record<string, string>;
  pathAdditions: string[];
  log: LogRenderer;
  write(line: string): void;
}

export interface PhaseResult {
  exitCode: number;
  outputs: Record<string, string>;
  state: Record<string, string>;
  summary: string;
}

const FILE_COMMANDS = ['GITHUB_OUTPUT', 'GITHUB_STATE', 'GITHUB_ENV', 'GITHUB_PATH', 'GITHUB_STEP_SUMMARY'] as const;

/** The INPUT_* variables: given values, else action.yml's defaults (evaluated), else ''. */
export function inputVariables(meta: ActionMetadata, given: Record<string, string>, job: Pick<LocalJob, 'githubToken' | 'temp' | 'workspace'>): Record<string, string> {
  const context = { githubToken: job.githubToken, runnerTemp: job.temp, workspace: job.workspace };
  return Object.fromEntries(Object.entries(meta.inputs ?? {}).map(([name, spec]) => [inputEnvName(name), given[name] ?? evaluateDefault(spec.default ?? '', context)]));
}

/** Whether the runner would run post after a main that ended with `mainExitCode` (post-if, default always()). */
export function runsPost(meta: ActionMetadata, mainExitCode: number): boolean {
  if (!meta.runs.post) return false;
  const condition = (meta.runs['post-if'] ?? 'always()').replace(/^\$\{\{\s*|\s*\}\}$/g, '').trim();
  if (condition === 'success()') return mainExitCode === 0;
  if (condition === 'failure()') return mainExitCode !== 0;
  return true;
}

export async function runPhase(job: LocalJob, actionDir: string, meta: ActionMetadata, phase: 'main' | 'post', inputs: Record<string, string>, state: Record<string, string> = {}): Promise<PhaseResult> {
  const entry = resolve(actionDir, phase === 'main' ? meta.runs.main : meta.runs.post!);
  const commandDir = join(job.temp, '_runner_file_commands');
  mkdirSync(commandDir, { recursive: true, mode: 0o700 });
  const files = Object.fromEntries(
    FILE_COMMANDS.map((name) => {
      const file = join(commandDir, `${name.toLowerCase()}_${randomUUID()}`);
      writeFileSync(file, '');
      return [name, file];
    }),
  ) as Record<(typeof FILE_COMMANDS)[number], string>;
  const env: Record<string, string> = {
    ...job.env,
    ...job.exportedEnv,
    PATH: [...job.pathAdditions, job.env.PATH ?? ''].join(':'),
    GITHUB_ACTION_PATH: actionDir,
    ...inputs,
    ...Object.fromEntries(Object.entries(state).map(([k, v]) => [`STATE_${k}`, v])),
    ...files,
  };

  job.log.startStep();
  const exitCode = await new Promise<number>((resolvePromise, reject) => {
    const child = spawn(process.execPath, [entry], { env, cwd: job.workspace, stdio: ['ignore', 'pipe', 'pipe'] });
    const show = (line: string | undefined): void => {
      if (line !== undefined) job.write(line);
    };
    createInterface({ input: child.stdout }).on('line', (l) => show(job.log.stdoutLine(l)));
    createInterface({ input: child.stderr }).on('line', (l) => show(job.log.stderrLine(l)));
    child.on('error', reject);
    // 'close' comes after both streams have ended, so every line has been shown.
    child.on('close', (c, signal) => resolvePromise(c ?? (signal ? 128 : 1)));
  });

  const written = Object.fromEntries(FILE_COMMANDS.map((name) => [name, readFileSync(files[name], 'utf8')])) as Record<(typeof FILE_COMMANDS)[number], string>;
  Object.assign(job.exportedEnv, parseKeyValueFile(written.GITHUB_ENV));
  job.pathAdditions.unshift(...written.GITHUB_PATH.split('\n').filter(Boolean).reverse());
  return {
    exitCode,
    // As the runner: commands while the step ran, then the files (src/runner/workflow-commands.ts stepValues).
    outputs: stepValues(job.log.commands, 'set-output', parseKeyValueFile(written.GITHUB_OUTPUT)),
    state: stepValues(job.log.commands, 'save-state', parseKeyValueFile(written.GITHUB_STATE)),
    summary: written.GITHUB_STEP_SUMMARY,
  };
}
