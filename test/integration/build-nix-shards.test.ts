// build-nix's Actions-cache closure over the shard bound, run from dist/ as the runner runs it,
// against this machine's real Nix and the Actions cache stand-in: saved as shard entries and a
// manifest, restored in parallel, and every shard checked before the signature-checked import.
// The bound is lowered through its test-only variable so a 12 MiB closure splits.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SHARD_BYTES_ENV, shardFamily } from '../../src/build-nix/binary-cache.js';
import { describeCacheFiles, planShards, shardKey } from '../../src/nix/cache-shards.js';
import { newRunnerJob, node24, REPO_ROOT, runStepWithPost, type RunnerJob, type StepResult } from '../support/action-runner.js';
import { startActionsServices, type ActionsServices } from '../support/actions-services.js';
import { deleteClosure, generateKeyPair, nixFlakeFixture, THIS_MACHINE } from '../support/nix.js';
import { requireTools } from '../support/tools.js';

const BOUND = 4 * 1024 * 1024;
const env = { [SHARD_BYTES_ENV]: String(BOUND) };
const root = mkdtempSync(join(tmpdir(), 'build-nix-shards-'));
let jobs = 0;

function shardedJob(s: ActionsServices): RunnerJob {
  const job = newRunnerJob(join(root, 'runner'), s.jobEnv('run-1', `job-${++jobs}`));
  nixFlakeFixture('sharded', job.workspace);
  return job;
}

function ok(result: StepResult): StepResult {
  assert.equal(result.exitCode, 0, `step failed:\n${result.stdout.slice(-4000)}\n${result.stderr.slice(-2000)}`);
  assert.deepEqual(result.errors, []);
  return result;
}

const run = (job: RunnerJob, inputs: Record<string, string> = {}) => runStepWithPost('build-nix', job, { inputs, env });

/** The first job: built from scratch, saved as shards. Returns the manifest key, shard keys and the output. */
async function coldSave(own: ActionsServices): Promise<{ key: string; shards: string[]; storePath: string; digest: string }> {
  const job = shardedJob(own);
  const out = THIS_MACHINE.run('nix', ['--extra-experimental-features', 'nix-command flakes', 'eval', '--raw', `path:${job.workspace}#vllm-container.outPath`]).trim();
  if (!THIS_MACHINE.run('nix-store', ['--check-validity', '--print-invalid', out]).includes(out)) deleteClosure(out);
  const first = await run(job);
  ok(first.main);
  assert.ok(Number(first.main.outputs['paths-built']) >= 6, 'built: 4 blobs, the payload, the image');
  const shards = own.cacheEntries().filter((e) => e.key.startsWith('vllm-rocm-action-nixshard-'));
  const manifests = own.cacheEntries().filter((e) => e.key.startsWith('vllm-rocm-action-nix-'));
  assert.equal(manifests.length, 1, 'one manifest entry, at the key itself');
  const key = manifests[0]!.key;
  assert.ok(shards.length >= 3, `a 12 MiB closure at a 4 MiB bound: several shards (${shards.length})`);
  for (const [i, shard] of shards.entries()) {
    assert.match(shard.key, new RegExp(`^${shardFamily(key)}-${i + 1}-of-${shards.length}-[0-9a-f]{16}$`));
    assert.ok(shard.sizeBytes <= BOUND + 64 * 1024, `shard ${shard.key} is ${shard.sizeBytes} bytes`);
  }
  assert.ok(manifests[0]!.sizeBytes < 64 * 1024, 'the manifest entry is small');
  assert.match(first.post.stdout, new RegExp(`in ${shards.length} shards of at most ${BOUND} bytes \\(${shards.length} new`));
  return { key, shards: shards.map((s) => s.key), storePath: first.main.outputs['store-path']!, digest: first.main.outputs.digest! };
}

before(() => requireTools('nix', 'nix-store', 'openssl'));

describe('build-nix: a closure over the shard bound', () => {
  let own: ActionsServices;
  before(async () => (own = await startActionsServices()));
  after(async () => own?.stop());

  test('is saved as shards plus a manifest; a fresh job restores them all, paths-built 0; unsigned shards are refused where a key is trusted', async () => {
    const saved = await coldSave(own);
    const entries = own.cacheEntries().length;

    deleteClosure(saved.storePath);
    const warm = await run(shardedJob(own));
    ok(warm.main);
    assert.equal(warm.main.outputs['paths-built'], '0');
    assert.equal(warm.main.outputs.digest, saved.digest);
    assert.match(warm.main.stdout, new RegExp(`Restored the ${saved.shards.length} shards of Nix binary cache ${saved.key}, each checked against its manifest`));
    assert.match(warm.main.stdout, /store paths imported without signatures|store paths imported/);
    assert.match(warm.post.stdout, /restored exactly and nothing new was built; not saving/);
    assert.equal(own.cacheEntries().length, entries);

    deleteClosure(saved.storePath);
    const keys = generateKeyPair('vllm-shards-1');
    const checked = await run(shardedJob(own), { 'trusted-public-keys': keys.public });
    ok(checked.main);
    assert.ok(checked.main.warnings.some((w) => /was refused \(.*(signature|signed)/i.test(w)), checked.main.warnings.join('\n'));
    assert.ok(Number(checked.main.outputs['paths-built']) >= 6, 'built from scratch instead');
    assert.equal(checked.main.outputs.digest, saved.digest);
  });
});

describe('build-nix: a shard set that is not whole', () => {
  test('a missing shard: a warning and a cold build that succeeds; its post saves the shard again, and the next job restores whole', async (t) => {
    const own = await startActionsServices();
    t.after(() => own.stop());
    const saved = await coldSave(own);
    const gone = saved.shards[1]!;
    assert.equal(own.deleteCacheEntry(gone), 1);

    deleteClosure(saved.storePath);
    const cold = await run(shardedJob(own));
    ok(cold.main);
    assert.ok(cold.main.warnings.some((w) => w.includes(`lacks 1 of its ${saved.shards.length} shards (${gone})`)), cold.main.warnings.join('\n'));
    assert.ok(Number(cold.main.outputs['paths-built']) >= 6);
    assert.equal(cold.main.outputs.digest, saved.digest);
    assert.ok(own.cacheEntries().some((e) => e.key === gone), 'the same bytes, saved again under the same key');

    deleteClosure(saved.storePath);
    const warm = await run(shardedJob(own));
    ok(warm.main);
    assert.equal(warm.main.outputs['paths-built'], '0');
  });

  test('a shard whose bytes are not its manifest\'s is refused: a cold build that succeeds', async (t) => {
    const own = await startActionsServices();
    t.after(() => own.stop());
    const saved = await coldSave(own);
    // The attacker's shard: the same names, one NAR byte changed, saved under the shard's key once it was gone.
    const copy = mkdtempSync(join(tmpdir(), 'shard-copy-'));
    THIS_MACHINE.run('nix', ['--extra-experimental-features', 'nix-command', 'copy', '--to', `file://${copy}?compression=zstd`, saved.storePath]);
    const files = await describeCacheFiles(copy);
    const planned = planShards(files, BOUND);
    const keys = planned.map((f, i) => shardKey(shardFamily(saved.key), i, planned.length, f));
    assert.deepEqual(keys, saved.shards, 'the copy splits as post split it');
    const victim = planned.findIndex((f) => f.some((x) => x.path.startsWith('nar/')));
    const job = shardedJob(own);
    const shardDir = join(job.temp, 'vllm-rocm-action', 'build-nix', 'binary-cache-shard');
    rmSync(shardDir, { recursive: true, force: true });
    for (const file of planned[victim]!) {
      mkdirSync(join(shardDir, 'nar'), { recursive: true });
      cpSync(join(copy, file.path), join(shardDir, file.path));
    }
    const nar = planned[victim]!.find((f) => f.path.startsWith('nar/'))!.path;
    const fd = openSync(join(shardDir, nar), 'r+');
    writeSync(fd, Buffer.from('!'), 0, 1, 100);
    closeSync(fd);
    assert.equal(own.deleteCacheEntry(keys[victim]!), 1);
    const save = "const c = await import('@actions/cache'); if (await c.saveCache([process.argv[1]], process.argv[2]) === -1) process.exit(3);";
    await promisify(execFile)(node24(), ['--input-type=module', '-e', save, shardDir, keys[victim]!], { cwd: REPO_ROOT, env: { ...process.env, ...job.env, RUNNER_TEMP: job.temp, GITHUB_WORKSPACE: job.workspace } });
    rmSync(shardDir, { recursive: true, force: true });
    assert.deepEqual(readdirSync(join(job.temp, 'vllm-rocm-action', 'build-nix')).filter((n) => n.startsWith('binary-cache')), []);

    deleteClosure(saved.storePath);
    const refused = await run(job);
    ok(refused.main);
    assert.ok(refused.main.warnings.some((w) => new RegExp(`${saved.key} was refused \\(shard ${keys[victim]}: ${nar} does not match its manifest's SHA-256\\)`).test(w)), refused.main.warnings.join('\n'));
    assert.ok(Number(refused.main.outputs['paths-built']) >= 6, 'built from scratch instead');
    assert.equal(refused.main.outputs.digest, saved.digest);
    const left = readdirSync(join(job.temp, 'vllm-rocm-action', 'build-nix')).filter((n) => n.startsWith('binary-cache'));
    assert.deepEqual(left, [], 'no shard directory is left behind');
  });
});
