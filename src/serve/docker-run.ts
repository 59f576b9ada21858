// The `docker run` argv of the server container (pure). Environment values never appear in it:
// they are in an --env-file (see env-file.ts), so the docker CLI's own environment stays the
// runner's, and a token is a read-only file, not a variable anyone on the daemon can inspect.

export const LABEL_KEY = 'vllm-rocm-action.step';

export interface ContainerSpec {
  image: string;
  name: string;
  /** This job step's identity (label value), see stepLabel. */
  step: string;
  port: number;
  /** gpu: amd — the devices and the numeric GIDs that own them. */
  gpu?: { devices: string[]; groupIds: number[] };
  /** The server's environment as a docker env file (values never on the command line). */
  envFile?: string;
  /** Host directory with the Hugging Face cache, and whether the container may write to it. */
  modelCache?: { path: string; mode: ModelCacheMode };
  /** Host file holding the Hugging Face token, mounted read-only at CONTAINER_HF_TOKEN_PATH. */
  tokenFile?: string;
  extraArgs: string[];
  args: string[];
}

export const CONTAINER_HF_HOME = '/root/.cache/huggingface';
// huggingface_hub reads its token from HF_TOKEN_PATH when HF_TOKEN is unset
// (huggingface/huggingface_hub src/huggingface_hub/constants.py, HF_TOKEN_PATH).
export const CONTAINER_HF_TOKEN_PATH = '/run/secrets/hf-token';
// A read-only cache is mounted beside HF_HOME and only its hub/ is used (HF_HUB_CACHE): HF_HOME
// (modules, xet, token) stays writable in the container, and nothing reaches the shared cache.
export const CONTAINER_HF_CACHE_RO = '/run/vllm-rocm-action/hf-cache';

export const MODEL_CACHE_MODES = ['ro', 'rw'] as const;
export type ModelCacheMode = (typeof MODEL_CACHE_MODES)[number];

/** The environment a model-cache mode sets in the container (before the user's env, which wins). */
export function modelCacheEnv(mode: ModelCacheMode): Array<[string, string]> {
  // Read-only: the hub cache must be complete, and huggingface_hub must not try to write refs or
  // locks into it (HF_HUB_OFFLINE, constants.py), so a missing model fails at once and says so.
  return mode === 'rw' ? [['HF_HOME', CONTAINER_HF_HOME]] : [['HF_HUB_CACHE', `${CONTAINER_HF_CACHE_RO}/hub`], ['HF_HUB_OFFLINE', '1']];
}

export function dockerRunArgs(spec: ContainerSpec): string[] {
  const argv = ['run', '--detach', '--name', spec.name, '--label', `${LABEL_KEY}=${spec.step}`, '--publish', `127.0.0.1:${spec.port}:${spec.port}`];
  if (spec.gpu) {
    for (const device of spec.gpu.devices) argv.push('--device', device);
    for (const gid of spec.gpu.groupIds) argv.push('--group-add', String(gid));
    argv.push('--ipc=host', '--security-opt', 'seccomp=unconfined');
  }
  if (spec.modelCache) {
    const { path, mode } = spec.modelCache;
    argv.push('--volume', mode === 'rw' ? `${path}:${CONTAINER_HF_HOME}` : `${path}:${CONTAINER_HF_CACHE_RO}:ro`);
  }
  if (spec.tokenFile) argv.push('--volume', `${spec.tokenFile}:${CONTAINER_HF_TOKEN_PATH}:ro`);
  if (spec.envFile) argv.push('--env-file', spec.envFile);
  argv.push(...spec.extraArgs, spec.image, ...spec.args);
  return argv;
}

// `docker run` flags that would take over what the action relies on: the container's name, the
// label post cleans up by, --detach and --rm (docker keeps the last of each). Their shorthands:
// -d (detach) and -l (label), docker/cli cli/command/container/opts.go and run.go.
const RESERVED_LONG = ['--name', '--label', '--label-file', '--rm', '--detach'];
const RESERVED_SHORT = new Set(['d', 'l']);
// Shorthands that take a value (the rest of the word, or the next word): a reserved letter after
// one of these is part of the value (-ldebug is a label, -edebug an env).
const VALUE_SHORT = new Set(['a', 'c', 'e', 'h', 'l', 'm', 'p', 'u', 'v', 'w']);

/** The first of `args` that would override a flag the action sets, or undefined. */
export function reservedDockerArg(args: string[]): string | undefined {
  for (const arg of args) {
    if (arg === '--') return undefined;
    if (arg.startsWith('--')) {
      const flag = arg.split('=')[0]!;
      if (RESERVED_LONG.includes(flag)) return arg;
    } else if (arg.startsWith('-') && arg.length > 1) {
      // A cluster of shorthands, as pflag reads it: -itd is -i -t -d.
      for (const letter of arg.slice(1)) {
        if (RESERVED_SHORT.has(letter)) return arg;
        if (VALUE_SHORT.has(letter)) break;
      }
    }
  }
  return undefined;
}

/** One job step on one runner: run, attempt, job, step and runner name (matrix legs may share a host's dockerd). */
export function stepLabel(env: NodeJS.ProcessEnv): string {
  const parts = [env.GITHUB_RUN_ID, env.GITHUB_RUN_ATTEMPT, env.GITHUB_JOB, env.GITHUB_ACTION, env.RUNNER_NAME].map((p) => (p ?? 'local').replace(/[^A-Za-z0-9_.-]/g, '_'));
  return parts.join('.');
}
