// Runs a bundled stage (dist/<stage>/index.js) the way the GitHub runner runs a node24 action:
// inputs from action.yml defaults and INPUT_<NAME> variables, the runner's directories and
// file commands (GITHUB_OUTPUT, GITHUB_STATE, GITHUB_ENV, GITHUB_PATH, GITHUB_STEP_SUMMARY,
// including the `name<<DELIMITER` form), the post phase with STATE_* from main, exit codes,
// workflow commands read off stdout AND stderr exactly as the runner reads them (both forms,
// stop-commands; src/runner/workflow-commands.ts), with `save-state`/`set-output` applied before
// the file commands as the runner does, and a leak check over everything a step leaves behind
// (stdout, stderr and the file commands).
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { evaluateDefault, inputEnvName, readActionMetadata as readMetadataFile, type ActionMetadata } from '../../src/runner/action-metadata.js';
import { parseKeyValueFile } from '../../src/runner/file-commands.js';
import { CommandReader, runnerLines, secretPieces, stepValues, type WorkflowCommand } from '../../src/runner/workflow-commands.js';

export { inputEnvName, parseKeyValueFile };

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** One job's runner directories. */
export interface RunnerJob {
  root: string;
  temp: string;
  toolCache: string;
  workspace: string;
  home: string;
  eventPath: string;
  /** Env exported by earlier steps (GITHUB_ENV) and PATH additions (GITHUB_PATH). */
  exportedEnv: Record<string, string>;
  pathAdditions: string[];
  env: Record<string, string>;
  /** The job's `github.token`: what `${{ github.token }}` defaults evaluate to. Not in the env: the runner sets no GITHUB_TOKEN variable. */
  githubToken: string;
}

/**
 * A fresh job on a runner at `root`: empty RUNNER_TEMP and workspace (a new checkout); HOME and the tool cache persist, as on a self-hosted runner.
 * The runner hands a node action no GITHUB_TOKEN variable (only a workflow's `env:` would), so `env` may not hold one: a step's own `env`
 * option can, as a workflow's `env:` does.
 */
export function newRunnerJob(root: string, env: Record<string, string> = {}, githubToken = `ghs_${randomBytes(18).toString('hex')}`): RunnerJob {
  if ('GITHUB_TOKEN' in env) throw new Error('the runner sets no GITHUB_TOKEN variable: pass the job token as newRunnerJob\'s githubToken (it feeds ${{ github.token }})');
  const temp = join(root, '_temp');
  rmSync(temp, { recursive: true, force: true });
  rmSync(join(root, 'workspace'), { recursive: true, force: true });
  const job: RunnerJob = {
    root,
    temp,
    toolCache: join(root, '_tool'),
    workspace: join(root, 'workspace'),
    home: join(root, 'home'),
    eventPath: join(temp, '_github_workflow', 'event.json'),
    exportedEnv: {},
    pathAdditions: [],
    env,
    githubToken,
  };
  for (const dir of [temp, job.toolCache, job.workspace, job.home, dirname(job.eventPath)]) mkdirSync(dir, { recursive: true });
  writeFileSync(job.eventPath, JSON.stringify({ repository: { full_name: 'example/vllm-rocm' } }));
  return job;
}

export interface StepResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  state: Record<string, string>;
  summary: string;
  errors: string[];
  warnings: string[];
  masks: string[];
  /** Every command the runner would have acted on, in order (stdout's, then stderr's). */
  commands: WorkflowCommand[];
  /** Secrets found where they must not be (see findLeaks); `leaks` says where. */
  leakedSecrets: string[];
  leaks: Leak[];
}

export interface Leak {
  secret: string;
  /** 'stdout before its mask', 'stdout', 'stderr', or a file command's variable (GITHUB_STATE, …). */
  where: string;
}

export function readActionMetadata(stage: string): ActionMetadata {
  const file = stage === '.' ? join(REPO_ROOT, 'action.yml') : join(REPO_ROOT, 'actions', stage, 'action.yml');
  return readMetadataFile(file);
}

export interface StepOptions {
  inputs?: Record<string, string>;
  env?: Record<string, string>;
  /** A command prefix the step runs under (e.g. a chroot or mount-namespace wrapper). */
  wrap?: string[];
  /** The Node 24 binary as seen under `wrap` (default: this machine's). */
  node?: string;
}

/** Runs the main phase (phase 'post' needs the main result's state). */
export async function runStep(
  stage: string,
  job: RunnerJob,
  opts: StepOptions & { phase?: 'main' | 'post'; state?: Record<string, string> } = {},
): Promise<StepResult> {
  const meta = readActionMetadata(stage);
  if (meta.runs.using !== 'node24') throw new Error(`${stage}: runs.using is ${meta.runs.using}, expected node24`);
  const phase = opts.phase ?? 'main';
  const script = phase === 'main' ? meta.runs.main : meta.runs.post;
  if (!script) throw new Error(`${stage} has no ${phase} script`);
  const actionDir = stage === '.' ? REPO_ROOT : join(REPO_ROOT, 'actions', stage);
  const entry = resolve(actionDir, script);

  const env: Record<string, string> = {
    PATH: [...job.pathAdditions, process.env.PATH ?? ''].join(':'),
    HOME: job.home,
    LANG: 'C.UTF-8',
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: job.workspace,
    GITHUB_EVENT_PATH: job.eventPath,
    GITHUB_EVENT_NAME: 'push',
    GITHUB_REPOSITORY: 'example/vllm-rocm',
    GITHUB_REPOSITORY_OWNER: 'example',
    GITHUB_SHA: '0000000000000000000000000000000000000000',
    GITHUB_REF: 'refs/heads/main',
    GITHUB_RUN_ID: '1',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_JOB: 'build',
    GITHUB_ACTION: 'step',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_API_URL: 'https://api.github.com',
    GITHUB_ACTION_PATH: actionDir,
    RUNNER_TEMP: job.temp,
    RUNNER_TOOL_CACHE: job.toolCache,
    RUNNER_OS: 'Linux',
    RUNNER_ARCH: 'X64',
    RUNNER_NAME: 'test-runner',
    RUNNER_ENVIRONMENT: 'self-hosted',
    // A runner passes its machine's environment on; the engine selection is what the tests need
    // (a whole suite against the docker 28 engine: scripts/with-docker28.sh).
    ...pick(process.env, ['DOCKER_HOST', 'DOCKER_CONFIG']),
    ...job.env,
    ...job.exportedEnv,
    ...opts.env,
  };
  for (const [name, spec] of Object.entries(meta.inputs ?? {})) {
    const value = opts.inputs?.[name] ?? spec.default ?? '';
    env[inputEnvName(name)] = evaluateDefault(value, { githubToken: job.githubToken, runnerTemp: env.RUNNER_TEMP ?? '', workspace: env.GITHUB_WORKSPACE ?? '' });
  }
  for (const name of Object.keys(opts.inputs ?? {})) {
    if (!(name in (meta.inputs ?? {}))) throw new Error(`${stage} has no input '${name}' (the runner would warn: Unexpected input)`);
  }
  for (const [key, value] of Object.entries(opts.state ?? {})) env[`STATE_${key}`] = value;

  const commandDir = join(job.temp, '_runner_file_commands');
  mkdirSync(commandDir, { recursive: true });
  const files = Object.fromEntries(
    ['GITHUB_OUTPUT', 'GITHUB_STATE', 'GITHUB_ENV', 'GITHUB_PATH', 'GITHUB_STEP_SUMMARY'].map((name) => {
      const file = join(commandDir, `${name.toLowerCase()}_${randomUUID()}`);
      writeFileSync(file, '');
      return [name, file];
    }),
  ) as Record<string, string>;
  Object.assign(env, files);

  const { exitCode, stdout, stderr } = await spawnNode(entry, env, job.workspace, opts.wrap ?? [], opts.node);

  const written = Object.fromEntries(Object.entries(files).map(([name, file]) => [name, readFileSync(file, 'utf8')]));
  Object.assign(job.exportedEnv, parseKeyValueFile(written.GITHUB_ENV!));
  job.pathAdditions.unshift(...written.GITHUB_PATH!.split('\n').filter(Boolean).reverse());
  const commands = parseWorkflowCommands(stdout, stderr);
  // The runner masks these from the start; in a file command they are still leaks.
  const runnerSecrets = [job.githubToken, env.ACTIONS_RUNTIME_TOKEN ?? ''].filter(Boolean);
  const leaks = findLeaks({ stdout, stderr, files: written, masks: commands.masks, runnerSecrets });
  return {
    exitCode,
    stdout,
    stderr,
    outputs: stepValues(commands.commands, 'set-output', parseKeyValueFile(written.GITHUB_OUTPUT!)),
    state: stepValues(commands.commands, 'save-state', parseKeyValueFile(written.GITHUB_STATE!)),
    summary: written.GITHUB_STEP_SUMMARY!,
    ...commands,
    leakedSecrets: [...new Set(leaks.map((l) => l.secret))],
    leaks,
  };
}

/** The values a step actually set: main claims every declared output and state key, empty, before it runs (src/action/claims.ts). */
export function valuesSet(values: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== ''));
}

/** Main, then post with main's state, as the runner does for a node action with a post script. */
export async function runStepWithPost(
  stage: string,
  job: RunnerJob,
  opts: StepOptions = {},
): Promise<{ main: StepResult; post: StepResult }> {
  const main = await runStep(stage, job, opts);
  const post = await runStep(stage, job, { ...opts, phase: 'post', state: main.state });
  return { main, post };
}

function pick(from: NodeJS.ProcessEnv, names: string[]): Record<string, string> {
  return Object.fromEntries(names.flatMap((name) => (from[name] === undefined ? [] : [[name, from[name]!]])));
}

/**
 * The commands the runner acts on: one reader per step for both streams (actions/runner,
 * Handler.cs creates one ActionCommandManager per step; NodeScriptActionHandler.cs feeds it stdout
 * and stderr). The two streams' relative order is unknown; stdout is read first.
 */
export function parseWorkflowCommands(stdout: string, stderr = ''): Pick<StepResult, 'errors' | 'warnings' | 'masks' | 'commands'> {
  const reader = new CommandReader();
  const commands: WorkflowCommand[] = [];
  for (const line of [...runnerLines(stdout), ...runnerLines(stderr)]) {
    const command = reader.read(line);
    if (command) commands.push(command);
  }
  const named = (name: string): WorkflowCommand[] => commands.filter((c) => c.name.toLowerCase() === name);
  return {
    errors: named('error').map((c) => c.message),
    warnings: named('warning').map((c) => c.message),
    masks: named('add-mask').map((c) => c.message).filter((m) => m.trim() !== ''),
    commands,
  };
}

function contains(text: string, secret: string): boolean {
  return secretPieces(secret).some((piece) => text.includes(piece));
}

/**
 * Secrets where they must not be. A masked value (::add-mask::) may not appear on stdout before
 * its mask, nor anywhere else on stdout, stderr (whose order against stdout is unknown) or in any
 * file command (state, outputs, env, path, summary: the runner masks none of these). The secrets
 * the runner masks by itself (`runnerSecrets`: the job token, the runtime token) are hidden in
 * the log, so only the files are checked for them.
 */
export function findLeaks(step: { stdout: string; stderr: string; files: Record<string, string>; masks: string[]; runnerSecrets?: string[] }): Leak[] {
  const leaks: Leak[] = [];
  const add = (secret: string, where: string): void => {
    if (!leaks.some((l) => l.secret === secret && l.where === where)) leaks.push({ secret, where });
  };
  // stdout without the ::add-mask:: lines themselves, and where each mask was registered.
  let printed = '';
  const reader = new CommandReader();
  for (const line of runnerLines(step.stdout)) {
    const mask = reader.read(line);
    if (mask?.name.toLowerCase() === 'add-mask') {
      const secret = mask.message;
      if (secret && contains(printed, secret)) add(secret, 'stdout before its mask');
      continue;
    }
    printed += `${line}\n`;
  }
  for (const secret of step.masks) {
    if (contains(printed, secret)) add(secret, 'stdout');
    if (contains(step.stderr, secret)) add(secret, 'stderr');
  }
  for (const secret of [...step.masks, ...(step.runnerSecrets ?? [])]) {
    for (const [name, text] of Object.entries(step.files)) if (contains(text, secret)) add(secret, name);
  }
  return leaks;
}

function spawnNode(entry: string, env: Record<string, string>, cwd: string, wrap: string[], node?: string): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  if (!existsSync(entry)) throw new Error(`${entry} does not exist: run npm run build`);
  const argv = [...wrap, node ?? node24(), entry];
  return new Promise((resolvePromise, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolvePromise({ exitCode: code ?? (signal ? 128 : 1), stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }),
    );
  });
}

/** The runner's Node: node24 actions run on Node 24. */
export function node24(): string {
  if (process.versions.node.startsWith('24.')) return process.execPath;
  if (existsSync('/usr/local/bin/node24')) return '/usr/local/bin/node24';
  throw new Error('Node 24 is required to run node24 actions (scripts/setup-toolchain.sh installs it)');
}
