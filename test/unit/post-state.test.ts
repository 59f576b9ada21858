// Post takes no path, key or process from state on trust: a build's output can set state
// (`##[save-state …]`), so each stage's post recomputes what it acts on and refuses the rest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { savedPhases } from '../../src/action/job-time.js';
import { localCacheDirs, savedLocalCacheState } from '../../src/build-docker/local-cache.js';
import { cacheDirs } from '../../src/build-nix/binary-cache.js';
import { savedCacheState } from '../../src/build-nix/state.js';
import { startedStages } from '../../src/pipeline/pipeline.js';
import { savedTempDir } from '../../src/publish/state.js';
import { savedConfDir } from '../../src/setup-nix/state.js';
import { ownProcessGroup, savedSmokeState } from '../../src/smoke-test/state.js';

process.env.RUNNER_TEMP = mkdtempSync(join(tmpdir(), 'post-state-'));
const withState = <T>(key: string, value: string, read: () => T): T => {
  process.env[`STATE_${key}`] = value;
  try {
    return read();
  } finally {
    delete process.env[`STATE_${key}`];
  }
};

const BUILDKIT_KEY = 'vllm-rocm-action-buildkit-linux-amd64-0123456789abcdef-0123456789abcdef';

test('build-docker: a forged cache directory or key is refused; main\'s own state is kept', () => {
  const { dir, newDir } = localCacheDirs();
  const own = { dir, newDir, key: BUILDKIT_KEY };
  assert.deepEqual(withState('local-cache', JSON.stringify(own), savedLocalCacheState), { ...own, restoredKey: undefined });
  assert.equal(withState('local-cache', JSON.stringify({ ...own, dir: '/home/runner/victim' }), savedLocalCacheState), undefined);
  assert.equal(withState('local-cache', JSON.stringify({ ...own, newDir: `${newDir}/../../../victim` }), savedLocalCacheState), undefined);
  assert.equal(withState('local-cache', JSON.stringify({ ...own, key: 'exfil-1' }), savedLocalCacheState), undefined);
  assert.equal(withState('local-cache', 'not json', savedLocalCacheState), undefined);
});

test('build-nix: forged directories, keys, store paths and counts are refused', () => {
  const { dir, newDir } = cacheDirs();
  const own = { dir, newDir, key: 'vllm-rocm-action-nix-x86_64-linux-abc-2.8.1-0123', outPath: '/nix/store/0123456789abcdfghijklmnpqrsvwxyz-image.tar.gz', pathsBuilt: 2 };
  assert.deepEqual(withState('nix-cache', JSON.stringify(own), savedCacheState), { ...own, restoredKey: undefined });
  assert.equal(withState('nix-cache', JSON.stringify({ ...own, dir: '/etc' }), savedCacheState), undefined);
  assert.equal(withState('nix-cache', JSON.stringify({ ...own, key: 'other-entry' }), savedCacheState), undefined);
  assert.equal(withState('nix-cache', JSON.stringify({ ...own, outPath: '/home/runner/.ssh' }), savedCacheState), undefined);
  assert.equal(withState('nix-cache', JSON.stringify({ ...own, pathsBuilt: '1' }), savedCacheState), undefined);
});

test('publish and setup-nix: only the directories main makes', () => {
  const run = join(process.env.RUNNER_TEMP!, 'vllm-rocm-action', 'publish', 'run-12-345');
  assert.equal(withState('temp-dir', run, savedTempDir), run);
  assert.equal(withState('temp-dir', '/home/runner', savedTempDir), undefined);
  assert.equal(withState('temp-dir', join(run, '..', '..'), savedTempDir), undefined);
  const conf = join(process.env.RUNNER_TEMP!, 'vllm-rocm-action', 'setup-nix');
  assert.equal(withState('conf-dir', conf, savedConfDir), conf);
  assert.equal(withState('conf-dir', '/home/runner/.config/nix', savedConfDir), undefined);
});

test('smoke-test: the log file is recomputed; a port must be a port', () => {
  const logFile = join(process.env.RUNNER_TEMP!, 'vllm-rocm-action', 'smoke-test', 'server.log');
  assert.deepEqual(withState('smoke-test', JSON.stringify({ port: 8000, logFile }), savedSmokeState), { port: 8000, logFile, pgid: undefined, logsUploaded: undefined });
  assert.deepEqual(withState('smoke-test', JSON.stringify({ logFile: '/home/runner/.docker/config.json' }), savedSmokeState), {});
  assert.deepEqual(withState('smoke-test', JSON.stringify({ port: '8000; rm' }), savedSmokeState), {});
  assert.deepEqual(withState('smoke-test', JSON.stringify({ pgid: 1 }), savedSmokeState), {});
});

const IDENTITY = { GITHUB_RUN_ID: '77', GITHUB_RUN_ATTEMPT: '1', GITHUB_JOB: 'build', GITHUB_ACTION: 'smoke', RUNNER_NAME: 'r1' };

async function groupLeader(env: Record<string, string>): Promise<{ pid: number; stop(): void }> {
  const child = spawn('sleep', ['30'], { detached: true, stdio: 'ignore', env: { PATH: process.env.PATH, ...env } });
  await new Promise((r) => child.once('spawn', r));
  return { pid: child.pid!, stop: () => process.kill(-child.pid!, 'SIGKILL') };
}

test('smoke-test: only a process group carrying this step\'s identity is ours to signal', async () => {
  const ours = await groupLeader(IDENTITY);
  const other = await groupLeader({ ...IDENTITY, GITHUB_ACTION: 'another-step' });
  try {
    assert.equal(ownProcessGroup(ours.pid, IDENTITY), true);
    assert.equal(ownProcessGroup(other.pid, IDENTITY), false);
    assert.equal(ownProcessGroup(process.pid, IDENTITY), false);
    assert.equal(ownProcessGroup(1, IDENTITY), false);
    assert.equal(ownProcessGroup(-ours.pid, IDENTITY), false);
    assert.equal(ownProcessGroup(String(ours.pid), IDENTITY), false);
  } finally {
    ours.stop();
    other.stop();
  }
});

test('pipeline: the started stages must be this pipeline\'s stages in its scopes', () => {
  const own = [{ stage: 'build-docker', scope: 'docker' }, { stage: 'publish', scope: '' }];
  assert.deepEqual(startedStages(JSON.stringify(own)), own);
  assert.deepEqual(startedStages(JSON.stringify([{ stage: 'build-docker', scope: '../../x' }])), []);
  assert.deepEqual(startedStages(JSON.stringify([{ stage: 'constructor', scope: '' }])), []);
  assert.deepEqual(startedStages('{'), []);
});

test('job time: the stages\' own phase names pass; Markdown or HTML from a forged state does not', () => {
  const own: Array<[string, number]> = [
    ['restore the cache (Actions cache)', 1], ['import the cache (BuildKit)', 1], ['Dockerfile steps', 1], ['export the image (layers, archive or push)', 1],
    ['export the cache (BuildKit)', 1], ['buildx: context, resolving, solving', 1], ['evaluate the flake', 1], ['restore the cache (Actions cache, import)', 1],
    ['nix build', 1], ['sign and push', 1], ['other (checks, reading the image, …)', 1],
  ];
  assert.deepEqual(savedPhases(JSON.stringify(own)), own);
  assert.equal(savedPhases(JSON.stringify([['<img src=https://attacker/x>', 1]])), undefined);
  assert.equal(savedPhases(JSON.stringify([['a | b', 1]])), undefined);
  assert.equal(savedPhases(JSON.stringify([['[verified](https://attacker)', 1]])), undefined);
  assert.equal(savedPhases(JSON.stringify([['build', -1]])), undefined);
});
