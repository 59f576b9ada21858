// The README's input and output tables are generated from the action.yml files
// (scripts/readme-tables.mjs, `npm run docs`); `--check` fails when the two disagree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/action-runner.js';

const SCRIPT = join(REPO_ROOT, 'scripts', 'readme-tables.mjs');

function tables(root: string, ...args: string[]): { status: number | null; output: string } {
  const result = spawnSync(process.execPath, [SCRIPT, '--root', root, ...args], { encoding: 'utf8' });
  return { status: result.status, output: result.stdout + result.stderr };
}

/** A copy of the README and every action.yml, to plant mistakes in. */
function copy(): string {
  const root = mkdtempSync(join(tmpdir(), 'readme-tables-'));
  cpSync(join(REPO_ROOT, 'README.md'), join(root, 'README.md'));
  cpSync(join(REPO_ROOT, 'action.yml'), join(root, 'action.yml'));
  cpSync(join(REPO_ROOT, 'actions'), join(root, 'actions'), { recursive: true });
  return root;
}

function edit(path: string, change: (text: string) => string): void {
  const before = readFileSync(path, 'utf8');
  const after = change(before);
  assert.notEqual(after, before, `the planted change applies to ${path}`);
  writeFileSync(path, after);
}

test('README.md and the action.yml files agree', () => {
  const { status, output } = tables(REPO_ROOT, '--check');
  assert.equal(status, 0, output);
});

test('a README row edited by hand fails the check, naming its action.yml', () => {
  const root = copy();
  // The smoke-test section's row: the root action's table, earlier in the README, has it too.
  const row = '| `startup-timeout-seconds` | `900` |';
  edit(join(root, 'README.md'), (t) => {
    const at = t.lastIndexOf(row);
    return `${t.slice(0, at)}| \`startup-timeout-seconds\` | \`600\` |${t.slice(at + row.length)}`;
  });
  const { status, output } = tables(root, '--check');
  assert.equal(status, 1, output);
  assert.match(output, /the tables of actions\/smoke-test\/action\.yml differ from it \(run: npm run docs\)/);
});

test('an input added to an action.yml fails the check until the tables are regenerated', () => {
  const root = copy();
  edit(join(root, 'actions', 'publish', 'action.yml'), (t) => t.replace('\noutputs:\n', "\n  dry-run:\n    description: 'Push nothing | say what would be pushed to <image>.'\n    required: false\n    default: 'false'\noutputs:\n"));
  assert.equal(tables(root, '--check').status, 1);
  const write = tables(root);
  assert.equal(write.status, 0, write.output);
  assert.match(readFileSync(join(root, 'README.md'), 'utf8'), /^\| `dry-run` \| `false` \| Push nothing \\\| say what would be pushed to \\<image>\. \|$/m);
  const again = tables(root, '--check');
  assert.equal(again.status, 0, again.output);
});

test('a required input shows as (required), and an output removed from action.yml leaves the table', () => {
  const root = copy();
  edit(join(root, 'actions', 'publish', 'action.yml'), (t) => t.replace(/\n {2}attestation-url:\n {4}description: '(?:[^']|'')*'\n/, '\n'));
  assert.equal(tables(root).status, 0);
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  assert.match(readme, /^\| `source` \| \(required\) \|/m);
  assert.doesNotMatch(readme, /^\| `attestation-url` \|/m);
});

test('a stage whose section has no markers fails, in check and write mode alike', () => {
  const root = copy();
  edit(join(root, 'README.md'), (t) => t.replace(/<!-- action-tables: actions\/setup-nix\/action\.yml -->\n[\s\S]*?<!-- \/action-tables -->\n/, ''));
  for (const args of [['--check'], []]) {
    const { status, output } = tables(root, ...args);
    assert.equal(status, 1, output);
    assert.match(output, /no tables for actions\/setup-nix\/action\.yml/);
  }
});
