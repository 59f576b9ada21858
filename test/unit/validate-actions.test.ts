// scripts/validate-actions.mjs (actionlint + the action/workflow schemas) passes the repository's
// own files and fails on planted mistakes of each kind it is there to catch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/action-runner.js';

const SCRIPT = join(REPO_ROOT, 'scripts', 'validate-actions.mjs');

function validate(root: string): { status: number | null; output: string } {
  const result = spawnSync(process.execPath, [SCRIPT, '--root', root], { encoding: 'utf8' });
  return { status: result.status, output: result.stdout + result.stderr };
}

/** A scratch repository with one workflow and one action.yml. */
function scratch(workflow: string, action = readFileSync(join(REPO_ROOT, 'actions', 'publish', 'action.yml'), 'utf8')): string {
  const root = mkdtempSync(join(tmpdir(), 'validate-actions-'));
  mkdirSync(join(root, '.github', 'workflows'), { recursive: true });
  mkdirSync(join(root, 'actions', 'x'), { recursive: true });
  writeFileSync(join(root, '.github', 'workflows', 'w.yml'), workflow);
  writeFileSync(join(root, 'actions', 'x', 'action.yml'), action);
  writeFileSync(join(root, '.github', 'actionlint.yaml'), readFileSync(join(REPO_ROOT, '.github', 'actionlint.yaml')));
  return root;
}

const GOOD = `name: ok
on: push
permissions: {}
jobs:
  gpu:
    runs-on: [self-hosted, rocm, gfx1151]
    steps:
      - run: echo "$REF"
        env:
          REF: \${{ github.ref }}
`;

test('the repository: every workflow and action.yml passes', () => {
  const { status, output } = validate(REPO_ROOT);
  assert.equal(status, 0, output);
  assert.match(output, /0 problems/);
});

test('a clean scratch repository passes: node24 actions and the declared self-hosted labels are accepted', () => {
  const { status, output } = validate(scratch(GOOD));
  assert.equal(status, 0, output);
});

test('actionlint: an untrusted value expanded inside run: fails, naming file and line', () => {
  const { status, output } = validate(scratch(GOOD.replace('echo "$REF"', 'echo "${{ github.event.head_commit.message }}"')));
  assert.equal(status, 1, output);
  assert.match(output, /\.github\/workflows\/w\.yml:8:\d+: "github\.event\.head_commit\.message" is potentially untrusted/);
});

test('actionlint: a runner label nobody declared fails', () => {
  const { status, output } = validate(scratch(GOOD.replace('gfx1151', 'gfx9999')));
  assert.equal(status, 1, output);
  assert.match(output, /label "gfx9999" is unknown/);
});

test('shellcheck: a run: script with an unquoted expansion fails, naming the run: key\'s line', () => {
  const { status, output } = validate(scratch(GOOD.replace('echo "$REF"', 'rm -rf $REF/*')));
  assert.equal(status, 1, output);
  assert.match(output, /\.github\/workflows\/w\.yml:8: run: script line 1: .*SC2115|\.github\/workflows\/w\.yml:8: run: script line 1: .*SC2086/);
});

test('schema: a workflow job with a misspelt key fails', () => {
  const { status, output } = validate(scratch(GOOD.replace('    steps:', '    stepz:')));
  assert.equal(status, 1, output);
  assert.match(output, /w\.yml: schema \(workflow\)/);
  assert.match(output, /Additional property 'stepz' is not allowed/);
});

test('schema: an action.yml whose runs.using is unknown fails', () => {
  const action = readFileSync(join(REPO_ROOT, 'actions', 'publish', 'action.yml'), 'utf8').replace("using: 'node24'", "using: 'node99'");
  const { status, output } = validate(scratch(GOOD, action));
  assert.equal(status, 1, output);
  assert.match(output, /actions\/x\/action\.yml: schema \(action\)/);
});
