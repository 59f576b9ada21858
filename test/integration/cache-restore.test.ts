// restoreDirectory (src/action/cache.ts) against hostile cache entries: through the real
// @actions/cache and the Actions cache stand-in, and through the command line's local backend.
// Each entry would write `<kind>-pwned` outside the restore directory if extracted as
// @actions/cache extracts (`tar -xf … -P -C $GITHUB_WORKSPACE`): nothing may land there, the
// restore is a warning and a miss, and a plain entry still restores byte for byte.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { newRunnerJob, node24, parseWorkflowCommands, REPO_ROOT, type RunnerJob } from '../support/action-runner.js';
import { startActionsServices, type ActionsServices } from '../support/actions-services.js';
import { HOSTILE_MEMBERS, hostileCacheArchive, plantCacheArchive } from '../support/hostile-cache.js';

const CACHE_MODULE = new URL('../../src/action/cache.js', import.meta.url).href;
const root = mkdtempSync(join(tmpdir(), 'cache-restore-'));
let services: ActionsServices;
let jobs = 0;

before(async () => {
  services = await startActionsServices();
});
after(async () => {
  await services?.stop();
  rmSync(root, { recursive: true, force: true });
});

function job(): RunnerJob {
  // One runner root: RUNNER_TEMP (in the cache version through the path) is the same for every job.
  return newRunnerJob(join(root, 'runner'), services.jobEnv('run-1', `job-${++jobs}`));
}

const jobEnv = (j: RunnerJob): Record<string, string> => ({ ...j.env, RUNNER_TEMP: j.temp, GITHUB_WORKSPACE: j.workspace });
const restoreDir = (j: RunnerJob): string => join(j.temp, 'vllm-rocm-action', 'cache-test', 'entry');

/** restoreDirectory in its own process, as a stage calls it. */
async function restore(env: Record<string, string>, dir: string, key: string): Promise<{ matched: string | null; warnings: string[] }> {
  const script = "const { restoreDirectory } = await import(process.env.CACHE_MODULE); const r = await restoreDirectory(process.argv[1], process.argv[2], []); console.log(`RESULT ${JSON.stringify(r ?? null)}`);";
  const { stdout } = await promisify(execFile)(node24(), ['--input-type=module', '-e', script, dir, key], { cwd: REPO_ROOT, env: { ...process.env, ...env, CACHE_MODULE } });
  const result = /^RESULT (.*)$/m.exec(stdout);
  assert.ok(result, stdout);
  return { matched: JSON.parse(result[1]!) as string | null, warnings: parseWorkflowCommands(stdout).warnings };
}

/** Every `*-pwned` file under `top`: what a hostile member wrote. */
function pwned(top: string): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (name.endsWith('-pwned')) found.push(path);
      if (lstatSync(path).isDirectory()) walk(path);
    }
  };
  walk(top);
  return found;
}

describe('Actions cache entries', () => {
  for (const kind of HOSTILE_MEMBERS) {
    test(`an entry with a ${kind} member is refused: nothing outside the directory, no directory, a warning`, async () => {
      const j = job();
      const victim = mkdtempSync(join(root, `victim-${kind}-`));
      const dir = restoreDir(j);
      await plantCacheArchive(jobEnv(j), dir, `hostile-${kind}`, hostileCacheArchive(kind, { workspace: j.workspace, dir, victim, work: root }));
      const { matched, warnings } = await restore(jobEnv(j), dir, `hostile-${kind}`);
      assert.deepEqual(pwned(root), [], 'a member was written outside the restore directory');
      assert.deepEqual(readdirSync(victim), []);
      assert.equal(matched, null, 'a refused entry is a miss');
      assert.ok(!existsSync(dir), 'nothing half-restored is left');
      assert.equal(warnings.length, 1, warnings.join('\n'));
      assert.match(warnings[0]!, /^Cache entry refused \(building without it\): member .* (is outside the cache directory|has an empty, '\.' or '\.\.' component|is a symlink)/);
    });
  }

  test('a plain entry saved by @actions/cache restores byte for byte, modes reduced to 0644/0755', async () => {
    const j = job();
    const dir = restoreDir(j);
    mkdirSync(join(dir, 'nar'), { recursive: true });
    writeFileSync(join(dir, 'nix-cache-info'), 'StoreDir: /nix/store\n');
    writeFileSync(join(dir, 'nar', 'a.nar.zst'), Buffer.alloc(300_000, 7));
    writeFileSync(join(dir, 'run'), '#!/bin/sh\n');
    chmodSync(join(dir, 'run'), 0o4775);
    const save = "const c = await import('@actions/cache'); if (await c.saveCache([process.argv[1]], process.argv[2]) === -1) process.exit(3);";
    await promisify(execFile)(node24(), ['--input-type=module', '-e', save, dir, 'plain-1'], { cwd: REPO_ROOT, env: { ...process.env, ...jobEnv(j) } });
    rmSync(dir, { recursive: true, force: true });

    const { matched, warnings } = await restore(jobEnv(j), dir, 'plain-1');
    assert.equal(matched, 'plain-1');
    assert.deepEqual(warnings, []);
    assert.equal(readFileSync(join(dir, 'nix-cache-info'), 'utf8'), 'StoreDir: /nix/store\n');
    assert.deepEqual(readFileSync(join(dir, 'nar', 'a.nar.zst')), Buffer.alloc(300_000, 7));
    assert.equal(statSync(join(dir, 'run')).mode & 0o7777, 0o755);
    assert.equal(statSync(join(dir, 'nix-cache-info')).mode & 0o7777, 0o644);
    assert.deepEqual(readdirSync(j.temp).filter((n) => n.startsWith('vllm-rocm-action-cache-')), [], 'the held archive is removed');
  });
});

describe('local backend (the command line)', () => {
  const local = (): { env: Record<string, string>; dir: string; entry: (key: string) => string } => {
    const servicesRoot = mkdtempSync(join(root, 'local-services-'));
    const temp = mkdtempSync(join(root, 'local-temp-'));
    return {
      env: { VLLM_ROCM_ACTION_LOCAL_SERVICES: servicesRoot, RUNNER_TEMP: temp },
      dir: join(temp, 'entry'),
      entry: (key) => {
        const path = join(servicesRoot, 'cache', encodeURIComponent(key));
        mkdirSync(path, { recursive: true });
        writeFileSync(join(path, 'nix-cache-info'), 'StoreDir: /nix/store\n');
        return path;
      },
    };
  };

  test('an entry holding a symlink out, or a fifo, is refused: no directory, a warning', async () => {
    for (const plant of ['symlink', 'fifo'] as const) {
      const l = local();
      const victim = mkdtempSync(join(root, 'local-victim-'));
      const entry = l.entry('k');
      if (plant === 'symlink') symlinkSync(victim, join(entry, 'blobs'));
      else await promisify(execFile)('mkfifo', [join(entry, 'pipe')]);
      const { matched, warnings } = await restore(l.env, l.dir, 'k');
      assert.equal(matched, null, plant);
      assert.ok(!existsSync(l.dir), `${plant}: nothing restored`);
      assert.equal(warnings.length, 1, warnings.join('\n'));
      assert.match(warnings[0]!, /^Cache restore from .* failed \(building without it\): (blobs|pipe) is not a regular file or directory/);
      assert.deepEqual(readdirSync(victim), []);
    }
  });

  test('a plain entry restores', async () => {
    const l = local();
    const entry = l.entry('k');
    mkdirSync(join(entry, 'blobs', 'sha256'), { recursive: true });
    writeFileSync(join(entry, 'blobs', 'sha256', 'ab'), 'blob');
    const { matched, warnings } = await restore(l.env, l.dir, 'k');
    assert.equal(matched, 'k');
    assert.deepEqual(warnings, []);
    assert.equal(readFileSync(join(l.dir, 'blobs', 'sha256', 'ab'), 'utf8'), 'blob');
  });
});
