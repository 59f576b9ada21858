// Runs the in-image GPU probe (src/rocm/probe.ts) in a throwaway container with the server's GPU
// flags, or with the host's python3 for a `command` server.
import { PROBE_SCRIPT, parseProbeOutput, type ProbeVerdict } from '../rocm/probe.js';
import { LABEL_KEY } from '../serve/docker-run.js';
import { envFileText, removePrivate, writePrivateFile } from '../serve/env-file.js';
import { runTimed } from '../tool/timed.js';
import { serverBaseEnv } from './server-env.js';

const PROBE_TIMEOUT_MS = 5 * 60_000;

export interface ProbeSpec {
  image?: string;
  name: string;
  step: string;
  gpu?: { devices: string[]; groupIds: number[] };
  expectedGfx?: string;
  /** The env input (never the token: the probe downloads nothing). */
  env: Array<[string, string]>;
  /** A private directory for the probe's env file. */
  secrets: string;
  dockerArgs: string[];
}

export async function runProbe(spec: ProbeSpec): Promise<ProbeVerdict> {
  let argv: string[];
  let env: NodeJS.ProcessEnv;
  let envFile: string | undefined;
  if (spec.image) {
    // The container's values go in an env file; the docker CLI keeps the runner's environment.
    envFile = await writePrivateFile(spec.secrets, 'probe.env', envFileText(spec.env));
    env = serverBaseEnv(process.env);
    argv = ['docker', 'run', '--rm', '--name', `${spec.name}-probe`, '--label', `${LABEL_KEY}=${spec.step}`, '--entrypoint', 'python3'];
    for (const device of spec.gpu?.devices ?? []) argv.push('--device', device);
    for (const gid of spec.gpu?.groupIds ?? []) argv.push('--group-add', String(gid));
    if (spec.gpu) argv.push('--ipc=host', '--security-opt', 'seccomp=unconfined');
    argv.push('--env-file', envFile, ...spec.dockerArgs, spec.image, '-c', PROBE_SCRIPT, spec.expectedGfx ?? '');
  } else {
    // The host probe is the server's stand-in: it runs in the server's environment (env's PATH included).
    env = { ...serverBaseEnv(process.env), ...Object.fromEntries(spec.env) };
    argv = ['python3', '-c', PROBE_SCRIPT, spec.expectedGfx ?? ''];
  }
  const result = await runTimed(argv[0]!, argv.slice(1), { timeoutMs: PROBE_TIMEOUT_MS, env }).finally(() => removePrivate(envFile));
  if (spec.image && result.timedOut) await runTimed('docker', ['rm', '--force', `${spec.name}-probe`], { timeoutMs: 60_000 });
  if (result.missing) return { ok: false, verdict: 'no-python', detail: `${argv[0]} is not installed on the runner` };
  if (result.timedOut) return { ok: false, verdict: 'timeout', detail: `the probe did not finish within ${PROBE_TIMEOUT_MS / 60_000} min` };
  return parseProbeOutput(result.stdout, result.stderr, result.exitCode);
}
