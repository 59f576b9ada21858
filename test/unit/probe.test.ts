// The in-image GPU probe script, run with this machine's python3 (no GPU, no PyTorch): each
// situation gives one JSON verdict line, never a traceback. Stand-in torch modules (fixtures)
// exercise the branches a machine without a GPU cannot reach on its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { parseProbeOutput, PROBE_SCRIPT } from '../../src/rocm/probe.js';
import { findSignature } from '../../src/rocm/signatures.js';
import { fixture } from '../support/fixtures.js';
import { requireTools } from '../support/tools.js';

function probe(expected: string, pythonPath?: string, env: Record<string, string> = {}) {
  requireTools('python3');
  const result = spawnSync('python3', ['-c', PROBE_SCRIPT, expected], { encoding: 'utf8', env: { PATH: process.env.PATH, PYTHONDONTWRITEBYTECODE: '1', ...(pythonPath ? { PYTHONPATH: pythonPath } : {}), ...env } });
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

// A ROCm torch that sees a gfx1151, with stand-ins for vLLM and amdsmi (see each fixture's comment).
const rocmImage = (...parts: string[]) => parts.map((p) => fixture('probe', p)).join(':');

test('an image whose PyTorch has no kernels for the GPU: verdict no-kernel-for-gfx naming torch\'s targets, before vLLM is imported', () => {
  const { verdict, status } = probe('gfx1151', rocmImage('torch-rocm', 'vllm-getpwuid'), { PROBE_FAKE_ARCH_LIST: 'gfx90a:xnack- gfx942 gfx1100' });
  assert.equal(status, 1);
  assert.equal(verdict.verdict, 'no-kernel-for-gfx');
  assert.match(verdict.detail, /^the image has no kernels for gfx1151: its PyTorch was built for gfx90a, gfx942, gfx1100 \(torch\.cuda\.get_arch_list\(\)\)/);
  assert.match(verdict.detail, /PYTORCH_ROCM_ARCH when they were compiled/);
  assert.deepEqual(verdict.arch_list, ['gfx90a', 'gfx942', 'gfx1100']);
  // The smoke test maps the detail to the catalogue's no-kernel-for-gfx entry.
  const hit = findSignature([verdict.detail])?.signature;
  assert.equal(hit?.id, 'no-kernel-for-gfx');
  // Its fix says what decides the kernels, not a build arg that compiles nothing.
  assert.match(hit!.fix, /fixed when they are compiled .*GFX_ARCH build arg that only sets env compiles nothing/);
  // Without expected-gfx, the GPU's own arch is the one checked.
  assert.equal(probe('', rocmImage('torch-rocm'), { PROBE_FAKE_GFX: 'gfx1201' }).verdict.verdict, 'no-kernel-for-gfx');
});

test('vLLM that dies on import for want of a passwd entry: verdict vllm-import-error with the KeyError and the fix', () => {
  const { verdict } = probe('gfx1151', rocmImage('torch-rocm', 'vllm-getpwuid', 'amdsmi'));
  assert.equal(verdict.verdict, 'vllm-import-error');
  assert.match(verdict.detail, /import vllm failed with KeyError: 'getpwuid\(\): uid not found: 0'; the image has no \/etc\/passwd entry .*dockerTools\.fakeNss.*USER and LOGNAME/);
  const missing = probe('gfx1151', rocmImage('torch-rocm', 'amdsmi')).verdict;
  assert.equal(missing.verdict, 'vllm-import-error');
  assert.match(missing.detail, /ModuleNotFoundError: No module named 'vllm'; vLLM is not installed/);
});

test('no amdsmi in the image, or one that lists no GPU: verdict no-amdsmi (vLLM would fail to infer the device type)', () => {
  const { verdict } = probe('gfx1151', rocmImage('torch-rocm', 'vllm'));
  assert.equal(verdict.verdict, 'no-amdsmi');
  assert.match(verdict.detail, /ModuleNotFoundError: No module named 'amdsmi'.*Failed to infer device type.*pip install \/opt\/rocm\/share\/amd_smi/);
  const none = probe('gfx1151', rocmImage('torch-rocm', 'vllm', 'amdsmi-none')).verdict;
  assert.equal(none.verdict, 'no-amdsmi');
  assert.match(none.detail, /amdsmi lists no GPU although PyTorch sees 1/);
});

test('an image with kernels for the GPU, vLLM and amdsmi: verdict ok after the matmul', () => {
  const { verdict, status, stdout } = probe('gfx1151', rocmImage('torch-rocm', 'vllm', 'amdsmi'));
  assert.equal(status, 0, stdout);
  assert.equal(verdict.verdict, 'ok');
  assert.equal(verdict.vllm, '0.18.0+rocm700');
  assert.deepEqual(verdict.arch_list, ['gfx90a', 'gfx942', 'gfx1100', 'gfx1151']);
});

test('output without a verdict line (python missing in the image, a crash) is no-verdict', () => {
  const verdict = parseProbeOutput('', 'exec: "python3": executable file not found in $PATH', 127);
  assert.equal(verdict.verdict, 'no-verdict');
  assert.match(verdict.detail, /exit 127.*python3/);
});
