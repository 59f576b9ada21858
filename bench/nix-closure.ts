// Benchmark (not a test): build-nix on a closure shaped like ROCm + PyTorch, cold vs a fresh job
// from the sharded Actions cache, run from dist/ as the runner runs it (main + post) against this
// machine's Nix and the Actions cache stand-in. The closure is the `realclosure` fixture flake:
// BENCH_NIX_PATHS store paths of varying sizes holding real trees of this machine (/usr/lib,
// /usr/share, the JDK, LLVM, Python, node, the local wheel mirror), BENCH_NIX_GIB GiB in all,
// plus a compile step of BENCH_NIX_UNITS C units (the HIP kernels' stand-in). BENCH_NIX_SHARD_MIB
// is the shard bound (the test-only VLLM_ROCM_ACTION_TEST_NIX_SHARD_BYTES; default: the action's).
// Target: from cache, paths-built 0 and at most 0.2× the cold job (main + post).
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { SHARD_BYTES, SHARD_BYTES_ENV } from '../src/build-nix/binary-cache.js';
import { newRunnerJob, runStepWithPost, type StepResult } from '../test/support/action-runner.js';
import { startActionsServices } from '../test/support/actions-services.js';
import { deleteClosure, generateKeyPair, nixFlakeFixture, THIS_MACHINE } from '../test/support/nix.js';

const GIB = Number(process.env.BENCH_NIX_GIB ?? 1);
const PATHS = Number(process.env.BENCH_NIX_PATHS ?? 40);
const UNITS = Number(process.env.BENCH_NIX_UNITS ?? 300);
const SHARD_MIB = Number(process.env.BENCH_NIX_SHARD_MIB ?? SHARD_BYTES / 1024 ** 2);
const env = { [SHARD_BYTES_ENV]: String(SHARD_MIB * 1024 * 1024) };
// Signed, as a team's cache is: post signs what the job built, main imports only what is signed.
const inputs = { 'signing-key': generateKeyPair('bench-nix-closure-1').secret };

// In the order a ROCm + PyTorch closure would take them: shared libraries first, wheels last.
const NODE_ROOT = dirname(dirname(execFileSync('readlink', ['-f', '/usr/local/bin/node24'], { encoding: 'utf8' }).trim()));
const ROOTS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/llvm-14', '/usr/lib/jvm', '/usr/share', '/usr/libexec', '/usr/include', '/usr/lib/gcc', '/usr/lib/python3.11', '/usr/lib/python3', NODE_ROOT, '/opt/pypi/files', '/opt/pypi-more/files'];
// part.sh splits its list on whitespace: only plain names.
const PLAIN = /^[A-Za-z0-9._+@/-]+$/;

/** [path, apparent bytes] of the entries directly under `dir`, largest split further when bigger than `split`. */
function entries(dir: string, split: number): Array<[string, number]> {
  const out = execFileSync('du', ['-a', '-b', '--max-depth=1', dir], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const found: Array<[string, number]> = [];
  for (const line of out.trim().split('\n')) {
    const [bytes, path] = line.split('\t') as [string, string];
    if (path === dir || !PLAIN.test(path)) continue;
    const size = Number(bytes);
    const isDir = lstatSync(path).isDirectory();
    if (isDir && size > split) found.push(...entries(path, split));
    else found.push([path, size]);
  }
  return found.sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

/** The store paths: host entries in order until GIB, cut into PATHS parts of varying sizes. */
function planParts(): { parts: Array<{ name: string; srcs: string[]; bytes: number }>; bytes: number } {
  const total = GIB * 1024 ** 3;
  const mean = total / PATHS;
  const picked: Array<[string, number]> = [];
  let sum = 0;
  for (const root of ROOTS.filter((r) => existsSync(r))) {
    for (const entry of entries(root, mean)) {
      if (sum >= total) break;
      picked.push(entry);
      sum += entry[1];
    }
  }
  if (sum < total * 0.9) throw new Error(`this machine's trees hold ${(sum / 1024 ** 3).toFixed(2)} GiB, not ${GIB}`);
  const factors = [0.3, 1.6, 0.6, 2.4, 1, 0.2, 1.4];
  const parts: Array<{ name: string; srcs: string[]; bytes: number }> = [];
  let current = { name: '', srcs: [] as string[], bytes: 0 };
  for (const [path, size] of picked) {
    if (current.srcs.length === 0) current.name = `p${parts.length + 1}-${basename(path).replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 40)}`;
    current.srcs.push(path);
    current.bytes += size;
    if (current.bytes >= mean * factors[parts.length % factors.length]!) {
      parts.push(current);
      current = { name: '', srcs: [], bytes: 0 };
    }
  }
  if (current.srcs.length > 0) parts.push(current);
  return { parts, bytes: sum };
}

const nixString = (s: string): string => JSON.stringify(s).replace(/\$\{/g, '\\${');

const dataDir = mkdtempSync(join(tmpdir(), 'bench-nix-closure-cache-'));
const services = await startActionsServices({ dataDir });
const root = mkdtempSync(join(tmpdir(), 'bench-nix-closure-'));
const plan = planParts();
const sizeNix = `{ units = ${UNITS}; parts = [\n${plan.parts.map((p) => `  { name = ${nixString(p.name)}; srcs = [ ${p.srcs.map(nixString).join(' ')} ]; }`).join('\n')}\n]; }\n`;
let jobs = 0;
function job() {
  const j = newRunnerJob(join(root, 'runner'), services.jobEnv('run-1', `job-${++jobs}`));
  nixFlakeFixture('realclosure', j.workspace);
  writeFileSync(join(j.workspace, 'size.nix'), sizeNix);
  return j;
}

/** Every output of the image's derivation closure that this store holds, and its referrers, deleted. */
function clearStore(workspace: string): void {
  const drv = THIS_MACHINE.run('nix', ['eval', '--raw', `path:${workspace}#vllm-container.drvPath`]).trim();
  const drvs = THIS_MACHINE.run('nix-store', ['--query', '--requisites', drv]).split('\n').filter((p) => p.endsWith('.drv'));
  const outputs = THIS_MACHINE.run('nix-store', ['--query', '--outputs', ...drvs]).split('\n').filter(Boolean);
  const valid = outputs.filter((p) => !THIS_MACHINE.run('nix-store', ['--check-validity', '--print-invalid', p]).includes(p));
  for (const path of valid) {
    if (!THIS_MACHINE.run('nix-store', ['--check-validity', '--print-invalid', path]).includes(path)) deleteClosure(path);
  }
}

const summaryRows = (step: StepResult): string[] => step.summary.split('\n').filter((l) => l.startsWith('|'));

async function timed(label: string): Promise<{ seconds: number; built: string }> {
  const j = job();
  const started = process.hrtime.bigint();
  const { main, post } = await runStepWithPost('build-nix', j, { env, inputs });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (main.exitCode !== 0 || post.exitCode !== 0) throw new Error(`${label} failed:\n${main.stdout.slice(-3000)}\n${post.stdout.slice(-2000)}`);
  console.log(`\n${label}: ${seconds.toFixed(1)} s (main + post), paths built ${main.outputs['paths-built']}, restore ${main.outputs['restore-seconds']} s, build ${main.outputs['build-seconds']} s`);
  for (const line of `${main.stdout}\n${post.stdout}`.split('\n')) if (/Nix binary cache|shards|imported|nix copy/.test(line)) console.log(`  ${line.trim().slice(0, 300)}`);
  for (const row of summaryRows(post)) console.log(`  ${row}`);
  return { seconds, built: main.outputs['paths-built']! };
}

try {
  console.log(`closure plan: ${plan.parts.length} host-tree paths, ${(plan.bytes / 1024 ** 3).toFixed(2)} GiB apparent, + ${UNITS} compiled units; shard bound ${SHARD_MIB} MiB`);
  const first = job();
  clearStore(first.workspace);
  const cold = await timed('cold (build, save shards)');
  const out = THIS_MACHINE.run('nix', ['eval', '--raw', `path:${first.workspace}#vllm-container.outPath`]).trim();
  const narBytes = THIS_MACHINE.run('nix', ['path-info', '--closure-size', out]).trim().split(/\s+/).pop();
  const closureCount = THIS_MACHINE.run('nix-store', ['--query', '--requisites', out]).split('\n').filter(Boolean).length;
  const entries = services.cacheEntries().filter((e) => e.key.startsWith('vllm-rocm-action-nix'));
  console.log(`closure: ${closureCount} store paths, ${(Number(narBytes) / 1024 ** 3).toFixed(2)} GiB (NAR); saved ${entries.length} cache entries, ${(entries.reduce((n, e) => n + e.sizeBytes, 0) / 1024 ** 3).toFixed(2)} GiB`);
  deleteClosure(out);
  const warm = await timed('from cache (restore shards, import)');
  console.log(`\nratio from cache / cold: ${(warm.seconds / cold.seconds).toFixed(2)} (target ≤ 0.2; paths built ${warm.built}, target 0)`);
  if (warm.built !== '0') throw new Error(`the job from cache built ${warm.built} paths`);
  deleteClosure(out);
} finally {
  await services.stop();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(root, { recursive: true, force: true });
}
