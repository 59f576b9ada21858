// Nothing is kept that nothing uses: exported functions and constants, and test fixtures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { REPO_ROOT } from '../support/action-runner.js';

function files(dir: string, keep: (path: string) => boolean): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .filter(keep);
}

const sources = ['src', 'test', 'bench'].flatMap((d) => files(join(REPO_ROOT, d), (p) => p.endsWith('.ts') && !p.includes(`${join('test', 'fixtures')}/`) || p.endsWith('make-image.ts')));
const text = new Map(sources.map((p) => [p, readFileSync(p, 'utf8')]));

test('every exported function and constant in src/ is used somewhere besides its declaration', () => {
  const unused: string[] = [];
  for (const file of sources.filter((p) => relative(REPO_ROOT, p).startsWith('src/'))) {
    for (const m of text.get(file)!.matchAll(/^export (?:async )?(?:function\*?|const|let|class) ([A-Za-z_$][\w$]*)/gm)) {
      const name = m[1]!;
      const word = new RegExp(`(?<![\\w$])${name.replace(/\$/g, '\\$')}(?![\\w$])`, 'g');
      const uses = [...text.entries()].reduce((n, [, t]) => n + (t.match(word)?.length ?? 0), 0);
      if (uses <= 1) unused.push(`${relative(REPO_ROOT, file)}: ${name}`);
    }
  }
  assert.deepEqual(unused, []);
});

// Copied or read as a whole directory (a workspace, a file:// binary cache, a sysfs tree under a
// root directory), so their files are used by the directory's name.
const WHOLE_DIRS = ['docker', join('nix', 'flakes'), join('nix', '2.8', 'file-cache-narinfo'), join('nix', '2.26', 'file-cache-narinfo'), 'rocm'];

test('every test fixture is read by a test (documentation aside)', () => {
  const root = join(REPO_ROOT, 'test', 'fixtures');
  const tests = [...text.entries()].filter(([p]) => relative(REPO_ROOT, p).startsWith('test/')).map(([, t]) => t).join('\n');
  const unread = files(root, (p) => !p.endsWith('.md'))
    .map((p) => relative(root, p))
    .filter((p) => !WHOLE_DIRS.some((d) => p.startsWith(`${d}/`)))
    .filter((p) => !tests.includes(`'${basename(p)}'`) && !tests.includes(`'${p}'`) && !tests.includes(basename(p, '.ts')));
  assert.deepEqual(unread, []);
});
