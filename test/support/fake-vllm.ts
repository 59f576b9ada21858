// The test stand-in for vLLM, the bundled example's server (templates/example/fake-vllm.c):
// compiled here as a static binary, and put into a FROM scratch image built with the real
// dockerd, or beside the example's Dockerfile and flake. Nothing is pulled.
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, type RunnerJob } from './action-runner.js';
import { requireTools, sh } from './tools.js';

const EXAMPLE = join(REPO_ROOT, 'templates', 'example');
const EXAMPLE_SERVER = join(EXAMPLE, 'fake-vllm.c');
let binary: string | undefined;

/** gcc -static of the fake server; once per test process. */
export function fakeVllmBinary(): string {
  if (binary) return binary;
  requireTools('gcc');
  const dir = mkdtempSync(join(tmpdir(), 'fake-vllm-'));
  binary = join(dir, 'fake-vllm');
  sh('gcc', ['-static', '-O2', '-pthread', '-o', binary, EXAMPLE_SERVER]);
  return binary;
}

/**
 * A FROM scratch image with the fake server as /usr/bin/vllm. `entrypoint: true` (the default) has
 * upstream's ENTRYPOINT ["vllm", "serve"] (vllm/vllm-openai-rocm, docker/Dockerfile.rocm), so its
 * arguments are engine arguments; `false` has no ENTRYPOINT, so its arguments are the command.
 */
export function fakeVllmImage(opts: { entrypoint?: boolean } = {}): string {
  requireTools('docker');
  const entrypoint = opts.entrypoint ?? true;
  const bin = fakeVllmBinary();
  const kind = entrypoint ? 'serve' : 'plain';
  const tag = `vllm-rocm-action-test/fake-vllm-${kind}:${createHash('sha256').update(readFileSync(bin)).digest('hex').slice(0, 12)}`;
  const ctx = mkdtempSync(join(tmpdir(), 'fake-vllm-ctx-'));
  copyFileSync(bin, join(ctx, 'vllm'));
  const last = entrypoint ? 'ENTRYPOINT ["vllm", "serve"]\n' : 'CMD ["vllm", "serve", "Qwen/Qwen2.5-0.5B-Instruct", "--host", "0.0.0.0", "--port", "8000"]\n';
  writeFileSync(join(ctx, 'Dockerfile'), `FROM scratch\nCOPY vllm /usr/bin/vllm\nENV PATH=/usr/bin\n${last}`);
  sh('docker', ['build', '--quiet', '--tag', tag, ctx]);
  return tag;
}

/** The bundled example (templates/example) in the job's workspace, with its server compiled as `vllm`. */
export function layExample(job: RunnerJob): void {
  cpSync(EXAMPLE, job.workspace, { recursive: true });
  copyFileSync(fakeVllmBinary(), join(job.workspace, 'vllm'));
  chmodSync(join(job.workspace, 'vllm'), 0o755);
}

/** A port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Containers carrying this step label (all states). */
export function labelledContainers(step: string): string[] {
  return sh('docker', ['ps', '--all', '--quiet', '--filter', `label=vllm-rocm-action.step=${step}`]).split('\n').filter(Boolean);
}
