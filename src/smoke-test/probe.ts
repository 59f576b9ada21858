// Runs the in-image GPU probe (src/rocm/probe.ts) in a throwaway container with the server's GPU
// flags, or with the host's python3 for a `command` server.
import { PROBE_SCRIPT, parseProbeOutput, type ProbeVerdict } from '../rocm/probe.js';
import { LABEL_KEY } from '../serve/docker-run.js';
import { runTimed } from '../tool/timed.js';
import { serverBaseEnv } from './server-env.js';

const PROBE_TIMEOUT_MS = 5 * 60_000;

export interface ProbeSpec {
  image?: string;
  name: string;
  step: string;
  gpu?: { devices: string[]; groupIds: number[] };
  expectedGfx?: string;
  env: Record<string, string>;
  dockerArgs: string[];
}

export async function runProbe(spec: ProbeSpec): Promise<ProbeVerdict> {
  // docker reads the values of the --env names from its own environment; python3 gets only these.
  const env = { ...(spec.image ? process.env : serverBaseEnv(process.env)), ...spec.env };
  let argv: string[];
  if (spec.image) {
    argv = ['docker', 'run', '--rm', '--name', `${spec.name}-probe`, '--label', `${LABEL_KEY}=${spec.step}`, '--entrypoint', 'python3'];
    for (const device of spec.gpu?.devices ?? []) argv.push('--device', device);
    for (const gid of spec.gpu?.groupIds ?? []) argv.push('--group-add', String(gid));
    if (spec.gpu) argv.push('--ipc=host', '--security-opt', 'seccomp=unconfined');
    for (const name of Object.keys(spec.env)) argv.push('--env', name);
    argv.push(...spec.dockerArgs, spec.image, '-c', PROBE_SCRIPT, spec.expectedGfx ?? '');
  } else {
    argv = ['python3', '-c', PROBE_SCRIPT, spec.expectedGfx ?? ''];
  }
  const result = await runTimed(argv[0]!, argv.slice(1), { timeoutMs: PROBE_TIMEOUT_MS, env });
  if (spec.image && result.timedOut) await runTimed('docker', ['rm', '--force', `${spec.name}-probe`], { timeoutMs: 60_000 });
  if (result.missing) return { ok: false, verdict: 'no-python', detail: `${argv[0]} is not installed on the runner` };
  if (result.timedOut) return { ok: false, verdict: 'timeout', detail: `the probe did not finish within ${PROBE_TIMEOUT_MS / 60_000} min` };
  return parseProbeOutput(result.stdout, result.stderr, result.exitCode);
}
