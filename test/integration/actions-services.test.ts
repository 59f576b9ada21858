// Proves the real @actions/cache and @actions/artifact round-trip through the local stand-in.
// Every "job" is its own Node process (the runtime running this test, Node 24 in CI) so that
// nothing is shared between jobs but the services, just as on GitHub.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { startActionsServices, type ActionsServices } from '../support/actions-services.js';

const CACHE_MODULE = import.meta.resolve('@actions/cache');
const ARTIFACT_MODULE = import.meta.resolve('@actions/artifact');
const CACHE_SERVICE = 'github.actions.results.api.v1.CacheService';
const ARTIFACT_SERVICE = 'github.actions.results.api.v1.ArtifactService';

// Job scripts, run with `node --input-type=module -e`. Arguments arrive as JSON in JOB_ARGS and
// the result goes to the JSON file JOB_RESULT (stdout carries the libraries' ::debug:: noise).
const PRELUDE = `
import { writeFileSync } from 'node:fs';
const args = JSON.parse(process.env.JOB_ARGS);
const done = (result) => writeFileSync(process.env.JOB_RESULT, JSON.stringify(result ?? null));
`;

const SAVE_CACHE = `${PRELUDE}
const cache = await import(process.env.CACHE_MODULE);
done({ cacheId: await cache.saveCache(args.paths, args.key) });
`;

const RESTORE_CACHE = `${PRELUDE}
const cache = await import(process.env.CACHE_MODULE);
const matched = await cache.restoreCache(args.paths, args.key, args.restoreKeys);
done({ matched: matched === undefined ? '<undefined>' : matched });
`;

const UPLOAD_ARTIFACT = `${PRELUDE}
const { DefaultArtifactClient } = await import(process.env.ARTIFACT_MODULE);
const res = await new DefaultArtifactClient().uploadArtifact(args.name, args.files, args.rootDir, args.options);
done(res);
`;

const DOWNLOAD_ARTIFACT = `${PRELUDE}
const { DefaultArtifactClient } = await import(process.env.ARTIFACT_MODULE);
const client = new DefaultArtifactClient();
const listed = (await client.listArtifacts()).artifacts.map((a) => a.name);
let found;
try {
  found = (await client.getArtifact(args.name)).artifact;
} catch (e) {
  done({ listed, error: e.name });
  process.exit(0);
}
const dl = await client.downloadArtifact(found.id, { path: args.path, expectedHash: found.digest });
done({ listed, artifact: found, downloadPath: dl.downloadPath, digestMismatch: dl.digestMismatch });
`;

const DELETE_ARTIFACT = `${PRELUDE}
const { DefaultArtifactClient } = await import(process.env.ARTIFACT_MODULE);
const client = new DefaultArtifactClient();
const { id } = await client.deleteArtifact(args.name);
done({ id, listed: (await client.listArtifacts()).artifacts.map((a) => a.name) });
`;

let services: ActionsServices;
let work: string;

/** Run one job script in a fresh Node process with the services' job environment. */
async function runJob<T>(
  script: string,
  args: unknown,
  opts: { runId: string; jobId: string; cwd: string },
): Promise<T> {
  const resultFile = join(work, `result-${randomBytes(6).toString('hex')}.json`);
  const runnerTemp = await mkdtemp(join(work, 'runner-temp-'));
  // Drop anything a real runner (or node --test) exported, so the job sees only our services.
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !/^(ACTIONS_|GITHUB_|RUNNER_|NODE_TEST_CONTEXT$|NODE_OPTIONS$)/.test(k),
    ),
  );
  const env = {
    ...inherited,
    ...services.jobEnv(opts.runId, opts.jobId),
    GITHUB_WORKSPACE: opts.cwd,
    RUNNER_TEMP: runnerTemp,
    CACHE_MODULE,
    ARTIFACT_MODULE,
    JOB_ARGS: JSON.stringify(args),
    JOB_RESULT: resultFile,
  };
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: opts.cwd, env });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (c) => resolve(c));
  });
  clearTimeout(timer);
  if (code !== 0) assert.fail(`job exited with ${code}:\n${output.slice(-6000)}`);
  try {
    return JSON.parse(await readFile(resultFile, 'utf8')) as T;
  } catch (e) {
    return assert.fail(`job wrote no result (${(e as Error).message}):\n${output.slice(-6000)}`);
  }
}

/** relative path -> sha256 of every file under dir. */
async function digests(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = join(entry.parentPath, entry.name);
    out.set(relative(dir, full), createHash('sha256').update(await readFile(full)).digest('hex'));
  }
  return out;
}

async function makeTree(dir: string, bigBytes: number): Promise<Map<string, string>> {
  await mkdir(join(dir, 'nested', 'deeper'), { recursive: true });
  await writeFile(join(dir, 'random.bin'), randomBytes(bigBytes));
  await writeFile(join(dir, 'hello.txt'), 'hello from job A\n');
  await writeFile(join(dir, 'nested', 'config.json'), JSON.stringify({ a: 1, b: [2, 3] }));
  await writeFile(join(dir, 'nested', 'deeper', 'empty.txt'), '');
  return digests(dir);
}

async function twirp(
  service: string,
  method: string,
  body: unknown,
  token?: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (token !== undefined) headers['Authorization'] = `Bearer ${token}`;
  const res = await fetch(new URL(`twirp/${service}/${method}`, services.resultsUrl), {
    method: 'POST',
    headers,
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('local Actions cache + artifact services', () => {
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'actions-services-test-'));
    services = await startActionsServices();
  });

  after(async () => {
    await services?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('round-trips a directory through @actions/cache (save, prefix/exact restore, miss)', async () => {
    const workspace = join(work, 'cache-workspace');
    const dir = join(workspace, 'cache-dir');
    const original = await makeTree(dir, 4 * 1024 * 1024);
    const runId = 'cache-run';
    const paths = ['cache-dir'];

    const saved = await runJob<{ cacheId: number }>(SAVE_CACHE, { paths, key: 'key-1' }, { runId, jobId: 'job-a', cwd: workspace });
    assert.ok(saved.cacheId > 0, `saveCache returned ${saved.cacheId}`);
    const entries = services.cacheEntries();
    assert.equal(entries.length, 1);
    assert.equal(entries[0].key, 'key-1');
    assert.match(entries[0].version, /^[0-9a-f]{64}$/);
    assert.ok(entries[0].sizeBytes > 4 * 1024 * 1024, `archive of ${entries[0].sizeBytes} bytes`);

    // The archive in blob storage is what the library chose to write: zstd when zstd is on PATH.
    const token = services.jobEnv(runId, 'inspector')['ACTIONS_RUNTIME_TOKEN'];
    const url = await twirp(CACHE_SERVICE, 'GetCacheEntryDownloadURL', { key: 'key-1', version: entries[0].version }, token);
    assert.equal(url.status, 200);
    assert.equal(url.body['matched_key'], 'key-1');
    const archive = Buffer.from(await (await fetch(String(url.body['signed_download_url']))).arrayBuffer());
    assert.equal(archive.length, entries[0].sizeBytes);
    assert.deepEqual([...archive.subarray(0, 4)], [0x28, 0xb5, 0x2f, 0xfd], 'archive is zstd-compressed');

    // The same (key, version) cannot be saved twice: saveCache reports -1 and does not throw.
    const again = await runJob<{ cacheId: number }>(SAVE_CACHE, { paths, key: 'key-1' }, { runId, jobId: 'job-a2', cwd: workspace });
    assert.equal(again.cacheId, -1);
    assert.equal(services.cacheEntries().length, 1);

    // Job B: the directory is gone; a restore-key prefix finds key-1.
    await rm(dir, { recursive: true });
    const byPrefix = await runJob<{ matched: string }>(
      RESTORE_CACHE,
      { paths, key: 'key-0-nomatch', restoreKeys: ['key-'] },
      { runId, jobId: 'job-b', cwd: workspace },
    );
    assert.equal(byPrefix.matched, 'key-1');
    assert.deepEqual(await digests(dir), original);

    // Exact key.
    await rm(dir, { recursive: true });
    const exact = await runJob<{ matched: string }>(RESTORE_CACHE, { paths, key: 'key-1', restoreKeys: [] }, { runId, jobId: 'job-c', cwd: workspace });
    assert.equal(exact.matched, 'key-1');
    assert.deepEqual(await digests(dir), original);

    // Misses: an unknown key, and the right key with other paths (so another version).
    await rm(dir, { recursive: true });
    const miss = await runJob<{ matched: string }>(RESTORE_CACHE, { paths, key: 'other-key', restoreKeys: ['other-'] }, { runId, jobId: 'job-d', cwd: workspace });
    assert.equal(miss.matched, '<undefined>');
    const otherVersion = await runJob<{ matched: string }>(
      RESTORE_CACHE,
      { paths: ['cache-dir', 'elsewhere'], key: 'key-1', restoreKeys: ['key-'] },
      { runId, jobId: 'job-e', cwd: workspace },
    );
    assert.equal(otherVersion.matched, '<undefined>');
    await assert.rejects(readdir(dir), { code: 'ENOENT' });
  });

  it('shares an artifact between jobs of a run, not with other runs', async () => {
    const workspace = join(work, 'artifact-workspace');
    const source = join(workspace, 'dist');
    const original = await makeTree(source, 3 * 1024 * 1024);
    const files = [...original.keys()].map((f) => join(source, f));
    const runId = 'run-one';
    const name = 'dist-bundle';

    const uploaded = await runJob<{ id: number; size: number; digest: string }>(
      UPLOAD_ARTIFACT,
      { name, files, rootDir: source },
      { runId, jobId: 'job-a', cwd: workspace },
    );
    assert.ok(uploaded.id > 0);
    assert.ok(uploaded.size > 0);
    assert.deepEqual(services.artifacts(), [{ id: uploaded.id, name, size: uploaded.size, runId, jobId: 'job-a' }]);

    const out = join(work, 'downloaded');
    const got = await runJob<{
      listed: string[];
      artifact: { id: number; name: string; size: number; digest: string };
      downloadPath: string;
      digestMismatch: boolean;
    }>(DOWNLOAD_ARTIFACT, { name, path: out }, { runId, jobId: 'job-b', cwd: workspace });
    assert.deepEqual(got.listed, [name]);
    assert.equal(got.artifact.id, uploaded.id);
    assert.equal(got.artifact.size, uploaded.size);
    assert.equal(got.artifact.digest, `sha256:${uploaded.digest}`);
    assert.equal(got.downloadPath, out);
    assert.equal(got.digestMismatch, false);
    assert.deepEqual(await digests(out), original);

    const stranger = await runJob<{ listed: string[]; error?: string }>(
      DOWNLOAD_ARTIFACT,
      { name, path: join(work, 'not-downloaded') },
      { runId: 'run-two', jobId: 'job-x', cwd: workspace },
    );
    assert.deepEqual(stranger.listed, []);
    assert.equal(stranger.error, 'ArtifactNotFoundError');

    const deleted = await runJob<{ id: number; listed: string[] }>(DELETE_ARTIFACT, { name }, { runId, jobId: 'job-c', cwd: workspace });
    assert.equal(deleted.id, uploaded.id);
    assert.deepEqual(deleted.listed, []);
    assert.deepEqual(services.artifacts(), []);
  });

  it('keeps the file name of an artifact uploaded without archiving', async () => {
    const workspace = join(work, 'raw-workspace');
    await mkdir(workspace, { recursive: true });
    const file = join(workspace, 'report.txt');
    await writeFile(file, 'raw artifact content\n');
    const runId = 'raw-run';
    const uploaded = await runJob<{ id: number }>(
      UPLOAD_ARTIFACT,
      { name: 'ignored-with-skipArchive', files: [file], rootDir: workspace, options: { skipArchive: true } },
      { runId, jobId: 'job-a', cwd: workspace },
    );
    const out = join(work, 'raw-downloaded');
    const got = await runJob<{ artifact: { id: number }; digestMismatch: boolean }>(
      DOWNLOAD_ARTIFACT,
      { name: 'report.txt', path: out },
      { runId, jobId: 'job-b', cwd: workspace },
    );
    assert.equal(got.artifact.id, uploaded.id);
    assert.equal(got.digestMismatch, false);
    assert.equal(await readFile(join(out, 'report.txt'), 'utf8'), 'raw artifact content\n');
  });

  it('requires a bearer token, and keeps a run token to its own run', async () => {
    for (const [service, method] of [
      [CACHE_SERVICE, 'GetCacheEntryDownloadURL'],
      [ARTIFACT_SERVICE, 'ListArtifacts'],
    ] as const) {
      const res = await twirp(service, method, { key: 'key-1', version: 'v', workflow_run_backend_id: 'run-one' });
      assert.equal(res.status, 401, `${method} without a token`);
      assert.equal(res.body['code'], 'unauthenticated');
      assert.equal((await twirp(service, method, {}, '')).status, 401, `${method} with an empty token`);
    }
    const otherRun = services.jobEnv('run-two', 'job-x')['ACTIONS_RUNTIME_TOKEN'];
    const res = await twirp(ARTIFACT_SERVICE, 'ListArtifacts', { workflow_run_backend_id: 'run-one', workflow_job_run_backend_id: 'job-x' }, otherRun);
    assert.equal(res.status, 403);
    assert.equal(res.body['code'], 'permission_denied');
  });

  it('scopes the cache by ref as GitHub does: a run reads its own ref, then its base and the default branch; it writes only its own', async () => {
    const version = 'f'.repeat(64);
    const token = (ref: string, baseRef?: string): string =>
      services.jobEnv('scope-run', `job-${ref.replace(/\W/g, '-')}`, { ref, ...(baseRef ? { baseRef } : {}) })['ACTIONS_RUNTIME_TOKEN']!;
    const save = async (ref: string, key: string): Promise<void> => {
      const created = await twirp(CACHE_SERVICE, 'CreateCacheEntry', { key, version }, token(ref));
      assert.equal(created.body['ok'], true, JSON.stringify(created.body));
      const content = `${key} from ${ref}`;
      const put = await fetch(String(created.body['signed_upload_url']), { method: 'PUT', headers: { 'x-ms-blob-type': 'BlockBlob' }, body: content });
      assert.ok(put.ok, `upload: ${put.status}`);
      const done = await twirp(CACHE_SERVICE, 'FinalizeCacheEntryUpload', { key, version, size_bytes: String(Buffer.byteLength(content)) }, token(ref));
      assert.equal(done.body['ok'], true, JSON.stringify(done.body));
    };
    // What a run on `ref` restores for `key` (restore keys: the `scoped-` prefix): the content's origin, or undefined.
    const restore = async (key: string, ref: string, baseRef?: string): Promise<string | undefined> => {
      const got = await twirp(CACHE_SERVICE, 'GetCacheEntryDownloadURL', { key, version, restore_keys: ['scoped-'] }, token(ref, baseRef));
      assert.equal(got.status, 200);
      if (got.body['ok'] !== true) return undefined;
      return (await fetch(String(got.body['signed_download_url']))).text();
    };

    await save('refs/heads/main', 'scoped-main');
    await save('refs/heads/feature', 'scoped-feature');
    assert.deepEqual(
      services.cacheEntries().filter((e) => e.key.startsWith('scoped-')).map((e) => [e.key, e.ref]),
      [['scoped-main', 'refs/heads/main'], ['scoped-feature', 'refs/heads/feature']],
    );
    // The default branch is readable from everywhere; a branch's entries only from that branch.
    assert.equal(await restore('scoped-main', 'refs/heads/other'), 'scoped-main from refs/heads/main');
    assert.equal(await restore('scoped-feature', 'refs/heads/other'), 'scoped-main from refs/heads/main', 'falls back to the default branch by prefix');
    assert.equal(await restore('scoped-feature', 'refs/heads/feature'), 'scoped-feature from refs/heads/feature');
    assert.equal(await restore('scoped-feature', 'refs/heads/main'), 'scoped-main from refs/heads/main', 'main never sees a branch\'s entries');
    // A pull request reads its base branch as well.
    assert.equal(await restore('scoped-feature', 'refs/pull/7/merge', 'refs/heads/feature'), 'scoped-feature from refs/heads/feature');
    // Its own ref comes first: the same key written on a branch shadows main's there, and only there.
    await save('refs/heads/other', 'scoped-main');
    assert.equal(await restore('scoped-main', 'refs/heads/other'), 'scoped-main from refs/heads/other');
    assert.equal(await restore('scoped-main', 'refs/heads/main'), 'scoped-main from refs/heads/main');
    assert.equal(await restore('scoped-main', 'refs/heads/third'), 'scoped-main from refs/heads/main');
  });

  it('refuses a runtime token it did not sign: scopes cannot be widened by editing the token', async () => {
    const token = services.jobEnv('forge-run', 'job-f', { ref: 'refs/heads/attacker' })['ACTIONS_RUNTIME_TOKEN']!;
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    claims['ac'] = JSON.stringify([{ Scope: 'refs/heads/main', Permission: 3 }]);
    const forged = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
    const res = await twirp(CACHE_SERVICE, 'CreateCacheEntry', { key: 'poison', version: 'f'.repeat(64) }, forged);
    assert.equal(res.status, 401);
    assert.equal(res.body['code'], 'unauthenticated');
    const unsigned = `${header}.${payload}.`;
    assert.equal((await twirp(CACHE_SERVICE, 'GetCacheEntryDownloadURL', { key: 'poison', version: 'f'.repeat(64) }, unsigned)).status, 401);
    assert.ok(!services.cacheEntries().some((e) => e.key === 'poison'));
  });
});
