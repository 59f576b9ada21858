// docs/troubleshooting.md explains every failure the smoke test diagnoses: each log signature of
// src/rocm/signatures.ts under a heading with its id, and each verdict of the in-image probe.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SIGNATURES } from '../../src/rocm/signatures.js';
import { REPO_ROOT } from '../support/action-runner.js';

const doc = readFileSync(join(REPO_ROOT, 'docs', 'troubleshooting.md'), 'utf8');

test('every log signature has its section, headed by its id, in catalogue order', () => {
  const headed = [...doc.matchAll(/^### `([a-z-]+)`:/gm)].map((m) => m[1]!);
  assert.deepEqual(headed, SIGNATURES.map((s) => s.id));
  for (const id of headed) {
    const section = doc.slice(doc.indexOf(`### \`${id}\`:`)).split(/\n### /)[0]!;
    for (const part of ['**Log:**', '**Cause:**', '**Fix:**']) assert.ok(section.includes(part), `${id}: ${part}`);
  }
});

test('every verdict the in-image probe can give is explained', () => {
  const probe = readFileSync(join(REPO_ROOT, 'src', 'rocm', 'probe.ts'), 'utf8');
  const verdicts = [...new Set([...probe.matchAll(/done\(False, "([a-z-]+)"/g)].map((m) => m[1]!))];
  assert.ok(verdicts.length >= 5, verdicts.join());
  const rows = [...doc.matchAll(/^\| `([a-z-]+)` \|/gm)].map((m) => m[1]!);
  assert.deepEqual(verdicts.filter((v) => !rows.includes(v)), []);
});
