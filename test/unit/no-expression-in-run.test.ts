// Values reach a `run:` script through `env:`, never as `${{ }}` pasted into the script (where a
// value containing quotes or `$(…)` becomes shell code). Checked in every YAML file of the
// repository and in every ```yaml block of its Markdown (README.md, docs/, templates/).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { REPO_ROOT } from '../support/action-runner.js';

const SKIP = new Set(['node_modules', '.git', 'lib', 'dist', '.tmp']);

function walk(dir: string, keep: (name: string) => boolean): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (SKIP.has(e.name)) return [];
    const path = join(dir, e.name);
    return e.isDirectory() ? walk(path, keep) : keep(e.name) ? [path] : [];
  });
}

/**
 * Lines (1-based) of `${{` inside the value of a `run:` key. Line-based, so that Markdown fragments
 * with placeholders (`<owner>`) are read too: the value is the rest of the key's line plus every
 * following line indented deeper than the key (a block scalar or a folded plain scalar).
 */
function expressionsInRun(yaml: string): number[] {
  const lines = yaml.split('\n');
  const hits: number[] = [];
  for (let i = 0; i < lines.length; i++) {
    const key = /^(\s*(?:-\s+)*)run:(?:\s|$)(.*)$/.exec(lines[i]!);
    if (!key) continue;
    const column = key[1]!.length;
    if (key[2]!.includes('${{')) hits.push(i + 1);
    for (let j = i + 1; j < lines.length; j++) {
      const line = lines[j]!;
      if (line.trim() === '') continue;
      if (line.length - line.trimStart().length <= column) break;
      if (line.includes('${{')) hits.push(j + 1);
    }
  }
  return hits;
}

/** The ```yaml / ```yml blocks of a Markdown text, each with the line it starts on. */
function yamlBlocks(markdown: string): { text: string; line: number }[] {
  return [...markdown.matchAll(/^([ \t]*)```ya?ml[^\n]*\n([\s\S]*?)^\1```/gm)].map((m) => ({
    text: m[2]!,
    line: markdown.slice(0, m.index).split('\n').length + 1,
  }));
}

/** `file:line` of every expression in a run: under root. */
function offenders(root: string): string[] {
  const found: string[] = [];
  for (const file of walk(root, (n) => /\.ya?ml$/.test(n))) {
    for (const line of expressionsInRun(readFileSync(file, 'utf8'))) found.push(`${relative(root, file)}:${line}`);
  }
  const markdown = [join(root, 'README.md'), ...['docs', 'templates'].flatMap((d) => walk(join(root, d), (n) => n.endsWith('.md')))];
  for (const file of markdown) {
    for (const block of yamlBlocks(readFileSync(file, 'utf8'))) {
      for (const line of expressionsInRun(block.text)) found.push(`${relative(root, file)}:${block.line + line - 1}`);
    }
  }
  return found;
}

test('no ${{ }} inside a run: in any YAML file or Markdown YAML example of the repository', () => {
  assert.deepEqual(offenders(REPO_ROOT), []);
});

test('the scan finds planted expressions: inline, in a block scalar, in a folded plain scalar, in a Markdown example', () => {
  const root = mkdtempSync(join(tmpdir(), 'no-expression-in-run-'));
  mkdirSync(join(root, 'docs'));
  mkdirSync(join(root, 'templates', 't', '.github', 'workflows'), { recursive: true });
  writeFileSync(join(root, 'w.yml'), [
    'steps:',
    '  - run: echo ${{ github.ref }}', // 2
    '  - run: |',
    '      echo ok',
    '      echo "${{ inputs.x }}"', // 5
    '    env:',
    '      OK: ${{ github.sha }}', // an env: value, allowed
    '  - name: folded',
    '    run: echo a',
    '      ${{ matrix.b }}', // 10
  ].join('\n'));
  writeFileSync(join(root, 'templates', 't', '.github', 'workflows', 'p.yaml'), 'jobs:\n  a:\n    steps:\n      - run: >-\n          x ${{ vars.Y }}\n');
  writeFileSync(join(root, 'README.md'), 'Text with ${{ ok }}.\n\n```yaml\n- uses: <owner>/x@<sha>\n- run: echo "${{ steps.a.outputs.b }}"\n```\n');
  writeFileSync(join(root, 'docs', 'a.md'), '# a\n\n  ```yml\n  - run: |\n      do ${{ env.Z }}\n  ```\n\n```sh\nrun: ${{ not yaml }}\n```\n');
  assert.deepEqual(offenders(root).sort(), ['README.md:5', 'docs/a.md:5', 'templates/t/.github/workflows/p.yaml:5', 'w.yml:10', 'w.yml:2', 'w.yml:5']);
});

test('a key that merely ends in run (dry-run:, run-name:) is not a run: script', () => {
  assert.deepEqual(expressionsInRun('with:\n  dry-run: ${{ inputs.dry }}\nrun-name: ${{ github.ref }}\n'), []);
});
