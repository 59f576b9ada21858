// Integration tests need the real tools: a missing one fails the test with a pointer to the setup script.
import { execFileSync } from 'node:child_process';

export function requireTools(...tools: string[]): void {
  for (const tool of tools) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      throw new Error(`${tool} is not installed: run scripts/setup-toolchain.sh (integration tests never skip)`);
    }
  }
}

export function sh(command: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): string {
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20, ...opts });
}

/** The registry scripts/setup-toolchain.sh starts on loopback. */
export const REGISTRY = '127.0.0.1:5000';

export async function requireRegistry(): Promise<void> {
  const response = await fetch(`http://${REGISTRY}/v2/`).catch((error: Error) => {
    throw new Error(`no registry on ${REGISTRY} (${error.message}): run scripts/setup-toolchain.sh`);
  });
  if (!response.ok) throw new Error(`registry on ${REGISTRY} answered ${response.status}`);
}

/** Drops dockerd's BuildKit cache, so that cache hits can only come from an imported cache. */
export function pruneBuildCache(): void {
  sh('docker', ['buildx', 'prune', '--all', '--force']);
}
