// The README's publish table lists exactly the inputs of actions/publish/action.yml, with their defaults.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from '../support/action-runner.js';
import { readmeSection } from '../support/readme.js';

test('README publish inputs = action.yml inputs', () => {
  const action = parse(readFileSync(join(REPO_ROOT, 'actions', 'publish', 'action.yml'), 'utf8')) as { inputs: Record<string, { default?: string; required?: boolean }>; outputs: Record<string, unknown> };
  const section = readmeSection('publish');
  const rows = section.split('\n').filter((line) => line.startsWith('| `'));
  const documented = new Map<string, string>();
  for (const row of rows) {
    const [names, def] = row.split(' | ');
    for (const name of names!.matchAll(/`([a-z-]+)`/g)) documented.set(name[1]!, def!.trim());
  }
  assert.deepEqual([...documented.keys()].sort(), Object.keys(action.inputs).sort());
  for (const [name, spec] of Object.entries(action.inputs)) {
    const def = documented.get(name)!;
    if (spec.required) assert.equal(def, '(required)', name);
    else if (spec.default && !spec.default.includes('${{')) assert.equal(def, `\`${spec.default}\``, name);
  }
  for (const output of Object.keys(action.outputs)) assert.match(section, new RegExp(`\`${output}\``), `output ${output} undocumented`);
});
