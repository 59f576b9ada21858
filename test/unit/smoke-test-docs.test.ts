// The README's smoke-test tables must match actions/smoke-test/action.yml exactly: every input
// (with its default) and every output, nothing more.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from '../support/action-runner.js';
import { readmeSection } from '../support/readme.js';

const action = parse(readFileSync(join(REPO_ROOT, 'actions/smoke-test/action.yml'), 'utf8')) as {
  inputs: Record<string, { default?: string }>;
  outputs: Record<string, unknown>;
};
const section = readmeSection('smoke-test');

test('every input of action.yml is in the README table with its default, and no other', () => {
  const rows = [...section.matchAll(/^\| `([a-z-]+)` \| *([^|]*?) *\|/gm)].map((m) => [m[1]!, m[2]!.trim()] as const);
  assert.deepEqual(rows.map(([name]) => name).sort(), Object.keys(action.inputs).sort());
  for (const [name, shown] of rows) {
    const value = action.inputs[name]!.default ?? '';
    if (value !== '') assert.ok(shown.includes(`\`${value}\``), `README shows '${shown}' as the default of ${name}, action.yml '${value}'`);
  }
});

test('every output of action.yml is named in the README, and no other', () => {
  const outputs = /^Outputs: ([\s\S]*?)\n\n/m.exec(section)![1]!;
  const named = [...outputs.matchAll(/`([a-z0-9-]+)`/g)].map((m) => m[1]!).filter((n) => n !== 'true' && n !== 'false');
  assert.deepEqual([...new Set(named)].sort(), Object.keys(action.outputs).sort());
});
