// scripts/move-major-tags.sh against a real bare repository: which floating tags (vX, vX.Y) a
// release tag moves, and what it refuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/action-runner.js';

const SCRIPT = join(REPO_ROOT, 'scripts', 'move-major-tags.sh');
const GIT_ENV = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com', GIT_CONFIG_NOSYSTEM: '1', HOME: tmpdir() };

function git(cwd: string, ...args: string[]): string {
  const r = spawnSync('git', args, { cwd, env: GIT_ENV, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

function release(clone: string, tag: string): { status: number; out: string } {
  git(clone, 'tag', '-a', tag, '-m', tag);
  git(clone, 'push', '-q', 'origin', `refs/tags/${tag}`);
  const r = spawnSync('bash', [SCRIPT, tag], { cwd: clone, env: GIT_ENV, encoding: 'utf8' });
  return { status: r.status ?? -1, out: r.stdout + r.stderr };
}

/** Where each floating tag points on the remote: the release tag it names, by commit. */
function remoteTags(bare: string): Record<string, string> {
  const out = git(bare, 'for-each-ref', '--format=%(refname:short) %(*objectname)', 'refs/tags');
  const byName = Object.fromEntries(out.split('\n').filter(Boolean).map((l) => l.split(' ') as [string, string]));
  const releaseOf = (commit: string): string => Object.keys(byName).filter((n) => /^v\d+\.\d+\.\d+$/.test(n) && byName[n] === commit).sort().join('|');
  return Object.fromEntries(Object.entries(byName).filter(([n]) => /^v\d+(\.\d+)?$/.test(n)).map(([n, c]) => [n, releaseOf(c)]));
}

function commit(clone: string, what: string): void {
  writeFileSync(join(clone, 'f'), what);
  git(clone, 'add', 'f');
  git(clone, 'commit', '-qm', what);
}

test('release tags: vX.Y and vX follow the newest release; a patch of an old minor moves only vX.Y; pre-releases and stray branches move nothing', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'release-tags-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const bare = join(root, 'remote.git');
  const clone = join(root, 'clone');
  git(root, 'init', '-q', '--bare', '-b', 'main', bare);
  git(root, 'clone', '-q', bare, clone);
  git(clone, 'checkout', '-q', '-b', 'main');
  commit(clone, 'one');
  git(clone, 'push', '-q', 'origin', 'main');

  let r = release(clone, 'v1.0.0');
  assert.equal(r.status, 0, r.out);
  assert.deepEqual(remoteTags(bare), { v1: 'v1.0.0', 'v1.0': 'v1.0.0' });

  commit(clone, 'two');
  git(clone, 'push', '-q', 'origin', 'main');
  r = release(clone, 'v1.1.0');
  assert.equal(r.status, 0, r.out);
  assert.deepEqual(remoteTags(bare), { v1: 'v1.1.0', 'v1.0': 'v1.0.0', 'v1.1': 'v1.1.0' });

  // A fix for 1.0 on its maintenance branch: v1.0 moves, v1 stays on the newer 1.1.0.
  git(clone, 'checkout', '-q', '-b', 'release/v1.0', 'v1.0.0');
  commit(clone, 'fix for 1.0');
  git(clone, 'push', '-q', 'origin', 'release/v1.0');
  r = release(clone, 'v1.0.1');
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /v1 stays: v1\.1\.0 is newer than v1\.0\.1/);
  assert.deepEqual(remoteTags(bare), { v1: 'v1.1.0', 'v1.0': 'v1.0.1', 'v1.1': 'v1.1.0' });

  // A pre-release moves nothing.
  git(clone, 'checkout', '-q', 'main');
  commit(clone, 'three');
  git(clone, 'push', '-q', 'origin', 'main');
  r = release(clone, 'v2.0.0-rc.1');
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /pre-release/);
  assert.deepEqual(remoteTags(bare), { v1: 'v1.1.0', 'v1.0': 'v1.0.1', 'v1.1': 'v1.1.0' });

  r = release(clone, 'v2.0.0');
  assert.equal(r.status, 0, r.out);
  assert.deepEqual(remoteTags(bare), { v1: 'v1.1.0', 'v1.0': 'v1.0.1', 'v1.1': 'v1.1.0', v2: 'v2.0.0', 'v2.0': 'v2.0.0' });

  // A release tag on a branch that is neither main nor its release/vX.Y branch is refused.
  git(clone, 'checkout', '-q', '-b', 'experiment');
  commit(clone, 'stray');
  git(clone, 'push', '-q', 'origin', 'experiment');
  r = release(clone, 'v2.1.0');
  assert.equal(r.status, 1, r.out);
  assert.match(r.out, /v2\.1\.0 \([0-9a-f]{40}\) is on neither origin\/main nor origin\/release\/v2\.1: refusing/);
  assert.deepEqual(remoteTags(bare), { v1: 'v1.1.0', 'v1.0': 'v1.0.1', 'v1.1': 'v1.1.0', v2: 'v2.0.0', 'v2.0': 'v2.0.0' });

  // Not a version at all: an error naming what is expected.
  r = release(clone, 'v2.1');
  assert.equal(r.status, 1, r.out);
  assert.match(r.out, /'v2\.1' is not a release tag: expected vMAJOR\.MINOR\.PATCH/);
});
