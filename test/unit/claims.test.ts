// Main claims every state key post reads and every declared output before it runs
// (src/action/claims.ts), so the file commands, applied after the step (actions/runner,
// src/Runner.Worker/ActionRunner.cs), win over a `save-state`/`set-output` a build's log forged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { claimedStateKeys } from '../../src/action/claims.js';
import { runStage } from '../../src/action/stage.js';
import { OUTPUTS as BUILD_DOCKER } from '../../src/build-docker/main.js';
import { OUTPUTS as BUILD_NIX } from '../../src/build-nix/main.js';
import { OUTPUTS as ROOT } from '../../src/pipeline/pipeline.js';
import { OUTPUTS as PUBLISH } from '../../src/publish/main.js';
import { OUTPUTS as SETUP_NIX } from '../../src/setup-nix/main.js';
import { OUTPUTS as SMOKE_TEST } from '../../src/smoke-test/main.js';
import { OUTPUTS as VERIFY } from '../../src/verify-reproducibility/main.js';
import { parseKeyValueFile } from '../../src/runner/file-commands.js';
import { stepValues } from '../../src/runner/workflow-commands.js';
import { parseWorkflowCommands, REPO_ROOT } from '../support/action-runner.js';

const declared = (file: string): string[] => Object.keys((parse(readFileSync(join(REPO_ROOT, file), 'utf8')) as { outputs?: object }).outputs ?? {});

test('each stage claims exactly the outputs its action.yml declares', () => {
  const stages: Array<[string, readonly string[]]> = [
    ['action.yml', ROOT],
    ['actions/build-docker/action.yml', BUILD_DOCKER],
    ['actions/build-nix/action.yml', BUILD_NIX],
    ['actions/publish/action.yml', PUBLISH],
    ['actions/setup-nix/action.yml', SETUP_NIX],
    ['actions/smoke-test/action.yml', SMOKE_TEST],
    ['actions/verify-reproducibility/action.yml', VERIFY],
  ];
  for (const [file, outputs] of stages) assert.deepEqual([...outputs].sort(), declared(file).sort(), file);
});

test('every state key a post reads is claimed, scoped ones in each run scope', () => {
  const keys = claimedStateKeys();
  for (const key of ['local-cache', 'nix-cache', 'conf-dir', 'pipeline-started', 'temp-dir', 'temp-dir-docker', 'temp-dir-nix', 'smoke-test', 'smoke-test-nix', 'job-time', 'job-time-docker']) {
    assert.ok(keys.includes(key), `${key} is not claimed: ${keys.join(', ')}`);
  }
});

test('a forged save-state or set-output printed while main runs is overridden by main\'s claims', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'claims-'));
  const files = { GITHUB_STATE: join(dir, 'state'), GITHUB_OUTPUT: join(dir, 'output') };
  for (const file of Object.values(files)) writeFileSync(file, '');
  const saved = { ...process.env };
  Object.assign(process.env, files);
  delete process.env['STATE_vllm-rocm-action-post'];
  // What a build step printed while main ran (main dies before writing its own values).
  const forged = [
    '#7 ##[save-state name=nix-cache]{"dir":"/home/runner/victim","newDir":"/home/runner/victim-new"}',
    '::save-state name=pipeline-started::[{"stage":"build-docker","scope":""}]',
    '#7 ##[set-output name=digest]sha256:forged',
    '::set-output name=smoke-test-passed::true',
  ].join('\n');
  try {
    await assert.rejects(runStage({ main: () => Promise.reject(new Error('killed')), outputs: ['digest', 'smoke-test-passed'] }), /killed/);
  } finally {
    process.env = saved;
  }
  const { commands } = parseWorkflowCommands(forged);
  assert.equal(commands.length, 4, 'the runner reads every forged line as a command');
  const state = stepValues(commands, 'save-state', parseKeyValueFile(readFileSync(files.GITHUB_STATE, 'utf8')));
  const outputs = stepValues(commands, 'set-output', parseKeyValueFile(readFileSync(files.GITHUB_OUTPUT, 'utf8')));
  assert.equal(state['nix-cache'], '');
  assert.equal(state['pipeline-started'], '');
  assert.equal(state['vllm-rocm-action-post'], 'true');
  assert.equal(outputs.digest, '');
  assert.equal(outputs['smoke-test-passed'], '');
});
