// `docker pull` of one reference under a hard timeout, with a Docker config of the caller's
// choosing (DOCKER_CONFIG): the CLI reads its credentials and hands them to the daemon.
import { runTimed } from '../tool/timed.js';

export class DockerPullError extends Error {}

export interface PullOptions {
  /** A DOCKER_CONFIG directory (the private one with this registry's credentials), or none. */
  dockerConfig?: string;
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
}

export async function dockerPull(ref: string, opts: PullOptions): Promise<void> {
  const env = { ...(opts.env ?? process.env) };
  if (opts.dockerConfig) env.DOCKER_CONFIG = opts.dockerConfig;
  const pulled = await runTimed('docker', ['pull', '--quiet', ref], { timeoutMs: opts.timeoutMs, env });
  if (pulled.missing) throw new DockerPullError('docker is not installed or not on PATH');
  if (pulled.exitCode !== 0) {
    const reason = pulled.timedOut ? `timed out after ${Math.round(opts.timeoutMs / 1000)} s` : pulled.stderr.trim().split('\n').slice(-3).join(' ');
    throw new DockerPullError(`docker pull ${ref} failed: ${reason}`);
  }
}
