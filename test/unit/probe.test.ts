// The in-image GPU probe script, run with this machine's python3 (no GPU, no PyTorch): each
// situation gives one JSON verdict line, never a traceback. Stand-in torch modules (fixtures)
// exercise the branches a machine without a GPU cannot reach on its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { parseProbeOutput, PROBE_SCRIPT } from '../../src/rocm/probe.js';
import { fixture } from '../support/fixtures.js';
import { requireTools } from '../support/tools.js';

function probe(expected: string, pythonPath?: string) {
  requireTools('python3');
  const result = spawnSync('python3', ['-c', PROBE_SCRIPT, expected], { encoding: 'utf8', env: { PATH: process.env.PATH, PYTHONDONTWRITEBYTECODE: '1', ...(pythonPath ? { PYTHONPATH: pythonPath } : {}) } });
  assert.doesNotMatch(result.stderr, /Traceback/, result.stderr);
  return { verdict: parseProbeOutput(result.stdout, result.stderr, result.status), status: result.status, stdout: result.stdout };
}

test('no PyTorch on this machine: verdict no-torch, one JSON line, exit 1', () => {
  // This machine's python3 has no torch; if it ever does, this test must be revisited.
  assert.throws(() => execFileSync('python3', ['-c', 'import torch'], { stdio: 'ignore' }));
  const { verdict, status, stdout } = probe('gfx1151');
  assert.equal(stdout.trim().split('\n').length, 1);
  assert.equal(status, 1);
  assert.equal(verdict.ok, false);
  assert.equal(verdict.verdict, 'no-torch');
  assert.match(verdict.detail, /PyTorch cannot be imported/);
});

test('a ROCm PyTorch that sees no GPU: verdict no-gpu naming the likely causes', () => {
  const { verdict } = probe('gfx1151', fixture('probe', 'torch-no-gpu'));
  assert.equal(verdict.verdict, 'no-gpu');
  assert.equal(verdict.backend, 'rocm');
  assert.match(verdict.detail, /render\/video group/);
});

test('a CPU-only PyTorch: verdict cpu-only-torch', () => {
  assert.equal(probe('', fixture('probe', 'torch-cpu')).verdict.verdict, 'cpu-only-torch');
});

test('a GPU of another arch: verdict arch-mismatch naming both', () => {
  const { verdict } = probe('gfx1151', fixture('probe', 'torch-wrong-arch'));
  assert.equal(verdict.verdict, 'arch-mismatch');
  assert.equal(verdict.arch, 'gfx1100');
  assert.match(verdict.detail, /reports gfx1100, expected gfx1151/);
});

test('output without a verdict line (python missing in the image, a crash) is no-verdict', () => {
  const verdict = parseProbeOutput('', 'exec: "python3": executable file not found in $PATH', 127);
  assert.equal(verdict.verdict, 'no-verdict');
  assert.match(verdict.detail, /exit 127.*python3/);
});
