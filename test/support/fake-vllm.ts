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

/** A FROM scratch image whose ENTRYPOINT is the fake server (CMD replaced by the stage's args). */
export function fakeVllmImage(): string {
  requireTools('docker');
  const bin = fakeVllmBinary();
  const tag = `vllm-rocm-action-test/fake-vllm:${createHash('sha256').update(readFileSync(bin)).digest('hex').slice(0, 12)}`;
  const ctx = mkdtempSync(join(tmpdir(), 'fake-vllm-ctx-'));
  copyFileSync(bin, join(ctx, 'fake-vllm'));
  writeFileSync(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY fake-vllm /usr/bin/fake-vllm\nENTRYPOINT ["/usr/bin/fake-vllm"]\nCMD ["vllm", "serve", "none"]\n');
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
