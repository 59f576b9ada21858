// Benchmark (not a test): build-nix cold vs from a sharded Actions cache, run from dist/ as the
// runner runs it, against this machine's Nix and the Actions cache stand-in. The closure is the
// `sharded` fixture flake resized: BENCH_NIX_BLOBS blobs of BENCH_NIX_MIB MiB of incompressible
// bytes; the shard bound is BENCH_NIX_SHARD_MIB. Target: from cache, paths-built 0 and at most
// 0.2× the cold job (main + post, each).
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SHARD_BYTES_ENV } from '../src/build-nix/binary-cache.js';
import { newRunnerJob, runStepWithPost } from '../test/support/action-runner.js';
import { startActionsServices } from '../test/support/actions-services.js';
import { deleteClosure, nixFlakeFixture, THIS_MACHINE } from '../test/support/nix.js';

const BLOBS = Number(process.env.BENCH_NIX_BLOBS ?? 8);
const MIB = Number(process.env.BENCH_NIX_MIB ?? 128);
const SHARD_MIB = Number(process.env.BENCH_NIX_SHARD_MIB ?? 256);
const env = { [SHARD_BYTES_ENV]: String(SHARD_MIB * 1024 * 1024) };

const services = await startActionsServices({ dataDir: mkdtempSync(join(tmpdir(), 'bench-nix-cache-')) });
const root = mkdtempSync(join(tmpdir(), 'bench-nix-shards-'));
let jobs = 0;
function job() {
  const j = newRunnerJob(join(root, 'runner'), services.jobEnv('run-1', `job-${++jobs}`));
  nixFlakeFixture('sharded', j.workspace);
  writeFileSync(join(j.workspace, 'size.nix'), `{ blobs = ${BLOBS}; mib = ${MIB}; }\n`);
  return j;
}

async function timed(label: string): Promise<{ seconds: number; built: string; main: number }> {
  const j = job();
  const started = process.hrtime.bigint();
  const { main, post } = await runStepWithPost('build-nix', j, { env });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (main.exitCode !== 0 || post.exitCode !== 0) throw new Error(`${label} failed:\n${main.stdout.slice(-3000)}\n${post.stdout.slice(-2000)}`);
  const restored = /Restored the (\d+) shards/.exec(main.stdout)?.[1] ?? '0';
  console.log(`${label}: ${seconds.toFixed(1)} s (main + post), paths built ${main.outputs['paths-built']}, shards restored ${restored}, restore ${main.outputs['restore-seconds']} s`);
  return { seconds, built: main.outputs['paths-built']!, main: Number(main.outputs['restore-seconds']) };
}

try {
  const first = job();
  const out = THIS_MACHINE.run('nix', ['eval', '--raw', `path:${first.workspace}#vllm-container.outPath`]).trim();
  if (!THIS_MACHINE.run('nix-store', ['--check-validity', '--print-invalid', out]).includes(out)) deleteClosure(out);
  console.log(`closure: ${BLOBS} × ${MIB} MiB, shard bound ${SHARD_MIB} MiB`);
  const cold = await timed('cold (build, save shards)');
  const shards = services.cacheEntries().filter((e) => e.key.startsWith('vllm-rocm-action-nixshard-'));
  console.log(`saved: ${shards.length} shards, ${(shards.reduce((n, e) => n + e.sizeBytes, 0) / 1024 ** 2).toFixed(0)} MiB`);
  deleteClosure(out);
  const warm = await timed('from cache (restore shards, import)');
  console.log(`ratio from cache / cold: ${(warm.seconds / cold.seconds).toFixed(2)} (target ≤ 0.2; paths built ${warm.built}, target 0)`);
  deleteClosure(out);
} finally {
  await services.stop();
}
