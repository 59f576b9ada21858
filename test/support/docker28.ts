// The second engine scripts/setup-docker28.sh runs beside dockerd 26: Docker 28 + buildx 0.29, the
// versions of GitHub's hosted runners. A step runs against it with the env from docker28Env (its
// CLI first on PATH, DOCKER_HOST on its socket, a DOCKER_CONFIG of the job's own holding buildx
// 0.29), so it never touches the shared dockerd 26.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

export const DOCKER28_PREFIX = process.env.DOCKER28_PREFIX ?? '/opt/vllm-rocm-action/docker28';
export const DOCKER28_SOCKET = process.env.DOCKER28_SOCKET ?? '/run/vllm-rocm-action/docker28.sock';
const BIN = join(DOCKER28_PREFIX, 'bin');
const BUILDX = join(DOCKER28_PREFIX, 'root', 'usr', 'libexec', 'docker', 'cli-plugins', 'docker-buildx');

/** Env for a step or command that must use engine 28: a fresh DOCKER_CONFIG under `home` with buildx 0.29 as its only plugin. */
export function docker28Env(home: string, basePath = process.env.PATH ?? ''): Record<string, string> {
  const config = join(home, 'docker28-config');
  mkdirSync(join(config, 'cli-plugins'), { recursive: true });
  const plugin = join(config, 'cli-plugins', 'docker-buildx');
  if (!existsSync(plugin)) symlinkSync(BUILDX, plugin);
  return { PATH: `${BIN}:${basePath}`, DOCKER_HOST: `unix://${DOCKER28_SOCKET}`, DOCKER_CONFIG: config };
}

/** Runs the docker 28 CLI against engine 28. */
export function docker28(args: string[], env: Record<string, string>): string {
  return execFileSync(join(BIN, 'docker'), args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env }, maxBuffer: 64 << 20 });
}

/** Engine 28 answers with docker 28 and buildx >= 0.21, or the test fails with a pointer to the setup script. */
export function requireDocker28(env: Record<string, string>): { engine: string; buildx: string } {
  let engine: string;
  let buildx: string;
  try {
    engine = docker28(['version', '--format', '{{.Server.Version}}'], env).trim();
    buildx = docker28(['buildx', 'version'], env).trim();
  } catch (error) {
    throw new Error(`the docker 28 engine on ${DOCKER28_SOCKET} does not answer (${(error as Error).message.split('\n')[0]}): run scripts/setup-toolchain.sh (integration tests never skip)`, { cause: error });
  }
  if (!/^28\./.test(engine)) throw new Error(`the engine on ${DOCKER28_SOCKET} is ${engine}, not docker 28`);
  const minor = /buildx v?0\.(\d+)\./.exec(buildx)?.[1];
  if (minor === undefined || Number(minor) < 21) throw new Error(`buildx for engine 28 is ${buildx}, not >= 0.21`);
  return { engine, buildx };
}

/** Empties engine 28's BuildKit cache, and checks that it is empty: its next build has only an imported cache to hit. */
export function pruneDocker28BuildCache(env: Record<string, string>): void {
  docker28(['buildx', 'prune', '--all', '--force'], env);
  const usage = docker28(['buildx', 'du'], env);
  if (!/^Total:\s+0B$/m.test(usage)) throw new Error(`engine 28's build cache is not empty after a prune:\n${usage}`);
}
