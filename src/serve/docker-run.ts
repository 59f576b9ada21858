// The `docker run` argv of the server container (pure). Environment values never appear in it:
// each variable is passed by name (-e KEY) and docker reads its value from its own environment.

export const LABEL_KEY = 'vllm-rocm-action.step';

export interface ContainerSpec {
  image: string;
  name: string;
  /** This job step's identity (label value), see stepLabel. */
  step: string;
  port: number;
  /** gpu: amd — the devices and the numeric GIDs that own them. */
  gpu?: { devices: string[]; groupIds: number[] };
  envNames: string[];
  /** Host directory mounted as the Hugging Face cache. */
  modelCache?: string;
  extraArgs: string[];
  args: string[];
}

export const CONTAINER_HF_HOME = '/root/.cache/huggingface';

export function dockerRunArgs(spec: ContainerSpec): string[] {
  const argv = ['run', '--detach', '--name', spec.name, '--label', `${LABEL_KEY}=${spec.step}`, '--publish', `127.0.0.1:${spec.port}:${spec.port}`];
  if (spec.gpu) {
    for (const device of spec.gpu.devices) argv.push('--device', device);
    for (const gid of spec.gpu.groupIds) argv.push('--group-add', String(gid));
    argv.push('--ipc=host', '--security-opt', 'seccomp=unconfined');
  }
  if (spec.modelCache) argv.push('--volume', `${spec.modelCache}:${CONTAINER_HF_HOME}`, '--env', `HF_HOME=${CONTAINER_HF_HOME}`);
  for (const name of spec.envNames) argv.push('--env', name);
  argv.push(...spec.extraArgs, spec.image, ...spec.args);
  return argv;
}

/** One job step on one runner: run, attempt, job, step and runner name (matrix legs may share a host's dockerd). */
export function stepLabel(env: NodeJS.ProcessEnv): string {
  const parts = [env.GITHUB_RUN_ID, env.GITHUB_RUN_ATTEMPT, env.GITHUB_JOB, env.GITHUB_ACTION, env.RUNNER_NAME].map((p) => (p ?? 'local').replace(/[^A-Za-z0-9_.-]/g, '_'));
  return parts.join('.');
}
