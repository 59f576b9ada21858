// A private, throw-away container engine (bench/private-dockerd.sh): its own containerd, data root
// and bridge, so "a fresh runner" is an empty builder without pruning the shared daemons other
// tests use. For the benchmarks and for tests that need a builder with nothing in it.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './action-runner.js';
import { DOCKER28_PREFIX } from './docker28.js';

export type Engine = '26' | '28';

export interface PrivateEngine {
  dir: string;
  engine: Engine;
  /** A bridge of its own (name, CIDR), beside any other private engine running. */
  bridge: { name: string; cidr: string };
}

const SCRIPT = join(REPO_ROOT, 'bench', 'private-dockerd.sh');

/** The docker CLI's environment for an engine at `host`: dockerd 26 with the system buildx, or docker 28 with buildx 0.29. */
export function engineEnv(host: string, engine: Engine, basePath = process.env.PATH ?? ''): Record<string, string> {
  if (engine !== '28') return { DOCKER_HOST: host };
  return { DOCKER_HOST: host, DOCKER_CONFIG: join(DOCKER28_PREFIX, 'config'), PATH: `${join(DOCKER28_PREFIX, 'bin')}:${basePath}` };
}

/** (Re)starts the engine with an empty data root; returns the env that reaches it. */
export function startFreshEngine(e: PrivateEngine): Record<string, string> {
  const host = execFileSync('bash', [SCRIPT, 'start', e.dir, e.engine], {
    encoding: 'utf8',
    env: { ...process.env, BENCH_BRIDGE: e.bridge.name, BENCH_BRIDGE_CIDR: e.bridge.cidr },
  }).trim();
  return engineEnv(host, e.engine);
}

export function stopEngine(e: Pick<PrivateEngine, 'dir'>): void {
  execFileSync('bash', [SCRIPT, 'stop', e.dir]);
}
