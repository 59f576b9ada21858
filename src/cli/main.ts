// `vllm-rocm-action <stage|pipeline> --<input> <value> …`: a stage's (or the root action's) own
// bundle run on this machine as the runner runs it, with a terminal's view of its log, summary
// and outputs. Exit status: 0, 1 when the stage failed, 2 for a usage error.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { homedir, hostname, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { LOCAL_SERVICES_ENV } from '../action/local-services.js';
import { readActionMetadata, type ActionMetadata } from '../runner/action-metadata.js';
import { closestName, parseArgv, resolveInputs, UsageError } from './args.js';
import { actionHelp, USAGE } from './help.js';
import { inputVariables, runPhase, runsPost, type LocalJob } from './local-runner.js';
import { LogRenderer, renderSummary } from './render.js';

const PIPELINE = 'pipeline';

/** The suite's root (action.yml beside actions/), above this script whether run from dist/ or lib/. */
function suiteRoot(): string {
  for (let dir = dirname(realpathSync(process.argv[1]!)); dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'action.yml')) && existsSync(join(dir, 'actions'))) return dir;
  }
  throw new Error(`no action.yml with an actions/ folder above ${process.argv[1]}`);
}

interface Action {
  command: string;
  dir: string;
  meta: ActionMetadata;
}

function loadActions(root: string): Action[] {
  const stages = readdirSync(join(root, 'actions'), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(root, 'actions', d.name, 'action.yml')))
    .map((d) => ({ command: d.name, dir: join(root, 'actions', d.name) }));
  return [...stages, { command: PIPELINE, dir: root }].map((a) => ({ ...a, meta: readActionMetadata(join(a.dir, 'action.yml')) }));
}

/** Whether this job has the Actions cache and artifact services (inside a node action step it does). */
function hasActionsServices(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.ACTIONS_RUNTIME_TOKEN && (env.ACTIONS_RESULTS_URL || env.ACTIONS_CACHE_URL));
}

function git(workspace: string, args: string[]): string | undefined {
  try {
    return execFileSync('git', ['-C', workspace, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** The environment a phase starts from: this machine's, less a surrounding step's runner variables, plus the runner's. */
function jobEnv(command: string, workspace: string, temp: string, debug: boolean): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !/^(INPUT_|STATE_)/.test(name) && !/^GITHUB_(OUTPUT|STATE|ENV|PATH|STEP_SUMMARY)$/.test(name)) env[name] = value;
  }
  // publish's tag-from-ref reads the commit and ref as a workflow run would have them.
  const sha = env.GITHUB_SHA ?? git(workspace, ['rev-parse', 'HEAD']);
  const tag = git(workspace, ['describe', '--exact-match', '--tags', 'HEAD']);
  const ref = env.GITHUB_REF ?? (tag ? `refs/tags/${tag}` : git(workspace, ['symbolic-ref', '-q', 'HEAD']));
  return {
    GITHUB_RUN_ID: String(Date.now()),
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_JOB: 'cli',
    RUNNER_NAME: hostname(),
    ...env,
    // This run's step identity (smoke-test labels its containers with it, and post removes what
    // carries it): its own, even inside an Actions step whose GITHUB_ACTION every run would share,
    // so two runs never clean up each other's containers.
    GITHUB_ACTION: `${command}-cli-${process.pid}-${randomBytes(4).toString('hex')}`,
    ...(sha ? { GITHUB_SHA: sha } : {}),
    ...(ref ? { GITHUB_REF: ref } : {}),
    GITHUB_WORKSPACE: workspace,
    RUNNER_TEMP: temp,
    ...(debug ? { RUNNER_DEBUG: '1' } : {}),
  };
}

function formatOutput(name: string, value: string): string {
  if (!value.includes('\n')) return `${name}=${value}`;
  let delimiter = 'EOF';
  while (value.split('\n').includes(delimiter)) delimiter += '_';
  return `${name}<<${delimiter}\n${value}\n${delimiter}`;
}

export async function cli(argv: string[]): Promise<number> {
  const say = (line: string): void => void process.stderr.write(`${line}\n`);
  try {
    return await run(argv, say);
  } catch (error) {
    if (error instanceof UsageError) {
      say(`error: ${error.message}`);
      return 2;
    }
    say(`error: ${(error as Error).message ?? String(error)}`);
    return 1;
  }
}

async function run(argv: string[], say: (line: string) => void): Promise<number> {
  // The stages are node24 actions, and run on the Node that runs this.
  if (Number(process.versions.node.split('.')[0]) < 24) throw new Error(`Node 24 or newer is needed (the stages are node24 actions); this is Node ${process.versions.node}`);
  const args = parseArgv(argv);
  const actions = loadActions(suiteRoot());
  if (args.command === undefined) {
    if (!args.help) throw new UsageError(`which stage? one of ${actions.map((a) => a.command).join(', ')} (--help lists their inputs)`);
    process.stdout.write(`${[USAGE, ...actions.map((a) => `\n${actionHelp(a.command, a.meta, false)}`)].join('\n')}\n`);
    return 0;
  }
  const action = actions.find((a) => a.command === args.command);
  if (!action) {
    const near = closestName(args.command, actions.map((a) => a.command));
    throw new UsageError(`no stage '${args.command}'${near ? ` (did you mean ${near}?)` : ''}; stages: ${actions.map((a) => a.command).join(', ')}`);
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n\n${actionHelp(action.command, action.meta, true)}\n`);
    return 0;
  }
  if (action.meta.runs.using !== 'node24') throw new Error(`${action.command}: runs.using is ${action.meta.runs.using}; only node24 actions run here`);
  for (const script of [action.meta.runs.main, action.meta.runs.post]) {
    if (script && !existsSync(resolve(action.dir, script))) throw new Error(`${resolve(action.dir, script)} is missing: build the suite first (npm run build)`);
  }
  const given = resolveInputs(action.command, action.meta, args);
  const workspace = resolve(args.workspace ?? process.cwd());
  if (!existsSync(workspace)) throw new UsageError(`--workspace ${workspace} does not exist`);

  const debug = args.debug || process.env.RUNNER_DEBUG === '1';
  const temp = mkdtempSync(join(tmpdir(), `vllm-rocm-action-${action.command}-`));
  const env = jobEnv(action.command, workspace, temp, debug);
  if (!hasActionsServices(process.env)) {
    const local = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'vllm-rocm-action');
    env[LOCAL_SERVICES_ENV] = local;
    say(`note: no Actions cache or artifact service here (ACTIONS_RUNTIME_TOKEN, ACTIONS_RESULTS_URL unset): caches and artifacts are kept under ${local}`);
  }
  const log = new LogRenderer({ debug });
  const githubToken = process.env.GITHUB_TOKEN ?? process.env.GH_TOKEN ?? '';
  log.masker.add(githubToken);
  const job: LocalJob = { temp, workspace, env, githubToken, exportedEnv: {}, pathAdditions: [], log, write: say };
  const inputs = inputVariables(action.meta, given, job);

  // Ctrl-C reaches the stage too; post still runs to clean up (containers, credentials), unless pressed again.
  let interrupted = false;
  const onInterrupt = (): void => {
    if (interrupted) process.exit(130);
    interrupted = true;
    say('interrupted: cleaning up (Ctrl-C again to stop at once)');
  };
  process.on('SIGINT', onInterrupt);
  try {
    const main = await runPhase(job, action.dir, action.meta, 'main', inputs);
    const errors = [...log.errors];
    if (runsPost(action.meta, main.exitCode)) {
      const post = await runPhase(job, action.dir, action.meta, 'post', inputs, main.state);
      if (post.exitCode !== 0) say(`warning: ${action.command}'s post phase exited ${post.exitCode}`);
    }
    if (main.summary.trim()) say(`\n${log.masker.mask(renderSummary(main.summary))}`);
    // A stage claims every output empty first (src/action/claims.ts): only those it set are shown.
    const outputs = Object.entries(main.outputs).filter(([, value]) => value !== '');
    for (const [name, value] of outputs) process.stdout.write(`${log.masker.mask(formatOutput(name, value))}\n`);
    const exported = Object.keys(job.exportedEnv);
    if (exported.length || job.pathAdditions.length) {
      say(`note: ${action.command} set ${[...exported, ...(job.pathAdditions.length ? ['PATH'] : [])].join(', ')} for later steps; a later command line run starts without them`);
    }
    if (outputs.some(([, value]) => value.includes(temp))) say(`note: outputs point into ${temp}, kept for you (delete it when done)`);
    else rmSync(temp, { recursive: true, force: true });
    if (interrupted) return 130;
    if (main.exitCode !== 0) {
      say(`error: ${action.command} failed${errors.length ? `: ${errors[errors.length - 1]!.split('\n')[0]}` : ` (exit ${main.exitCode})`}`);
      return 1;
    }
    return 0;
  } finally {
    process.off('SIGINT', onInterrupt);
    rmSync(join(temp, '_runner_file_commands'), { recursive: true, force: true });
  }
}
