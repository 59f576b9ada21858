// The ROCm readers on fixture trees and captured tool output: KFD topology, device access, the
// SMI parsers, the preflight rows (verdicts and fixes), tool timeouts, the failure signatures.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gfxFromOverride, gfxFromTargetVersion } from '../../src/rocm/gfx.js';
import { gpuNodes, readKfdTopology } from '../../src/rocm/kfd.js';
import { permits, readDevices } from '../../src/rocm/devices.js';
import { extractJson, numberOf, parseAmdSmiMetric, parseAmdSmiStatic, parseRocminfo, parseRocmSmi } from '../../src/rocm/smi.js';
import { runPreflight, type PreflightResult } from '../../src/rocm/preflight.js';
import { findSignature, SIGNATURES } from '../../src/rocm/signatures.js';
import { runTimed } from '../../src/tool/timed.js';
import { fixture } from '../support/fixtures.js';
import { fakeTools, RENDER_GID, rocmRoot } from '../support/rocm-tree.js';

const tool = (name: string): string => readFileSync(fixture('rocm', 'tools', name), 'utf8');
const RUNNER = { uid: 1001, gids: [1001] };
const RUNNER_IN_RENDER = { uid: 1001, gids: [1001, RENDER_GID] };

function row(result: PreflightResult, check: string) {
  const found = result.rows.find((r) => r.check === check);
  assert.ok(found, `no '${check}' row in ${JSON.stringify(result.rows.map((r) => r.check))}`);
  return found;
}

describe('gfx names', () => {
  test('gfx_target_version → gfx name', () => {
    assert.equal(gfxFromTargetVersion(110501), 'gfx1151');
    assert.equal(gfxFromTargetVersion(110000), 'gfx1100');
    assert.equal(gfxFromTargetVersion(90402), 'gfx942');
    assert.equal(gfxFromTargetVersion(90010), 'gfx90a');
    assert.equal(gfxFromTargetVersion(120001), 'gfx1201');
    assert.equal(gfxFromTargetVersion(0), undefined);
  });
  test('HSA_OVERRIDE_GFX_VERSION → gfx name', () => {
    assert.equal(gfxFromOverride('11.0.0'), 'gfx1100');
    assert.equal(gfxFromOverride('9.4.2'), 'gfx942');
    assert.equal(gfxFromOverride('11.5.1'), 'gfx1151');
    assert.equal(gfxFromOverride('gfx1100'), undefined);
  });
});

describe('KFD topology', () => {
  test('gfx1151: one GPU node with its render minor and carve-out, the CPU node without gfx', async () => {
    const nodes = await readKfdTopology(rocmRoot('gfx1151'));
    assert.equal(nodes.length, 2);
    assert.equal(nodes[0]!.gfx, undefined);
    const [gpu] = gpuNodes(nodes);
    assert.equal(gpu!.gfx, 'gfx1151');
    assert.equal(gpu!.drmRenderMinor, 128);
    assert.equal(gpu!.deviceId, 0x1586);
    assert.equal(gpu!.memoryBytes, 64 * 1024 ** 3);
  });
  test('gfx942: two GPUs; gfx1100: one; no GPU: none; no driver: empty', async () => {
    assert.deepEqual(gpuNodes(await readKfdTopology(rocmRoot('gfx942'))).map((n) => [n.gfx, n.drmRenderMinor]), [['gfx942', 128], ['gfx942', 136]]);
    assert.deepEqual(gpuNodes(await readKfdTopology(rocmRoot('gfx1100'))).map((n) => n.gfx), ['gfx1100']);
    assert.deepEqual(gpuNodes(await readKfdTopology(rocmRoot('no-gpu'))), []);
    assert.deepEqual(await readKfdTopology('/nonexistent-root'), []);
  });
});

describe('device access', () => {
  test('mode bits decide for a non-root identity; root may always open', () => {
    assert.equal(permits(0o660, 0, RENDER_GID, RUNNER), false);
    assert.equal(permits(0o660, 0, RENDER_GID, RUNNER_IN_RENDER), true);
    assert.equal(permits(0o666, 0, RENDER_GID, RUNNER), true);
    assert.equal(permits(0o640, 0, RENDER_GID, RUNNER_IN_RENDER), false);
    assert.equal(permits(0o600, 0, RENDER_GID, { uid: 0, gids: [] }), true);
  });
  test('devices carry their numeric group and its name', async () => {
    const { kfd, render } = await readDevices(rocmRoot('gfx942'), RUNNER_IN_RENDER);
    assert.deepEqual([kfd.exists, kfd.gid, kfd.groupName, kfd.canOpen], [true, RENDER_GID, 'render', true]);
    assert.deepEqual(render.map((r) => r.path), ['/dev/dri/renderD128', '/dev/dri/renderD136']);
  });
});

describe('SMI parsers on captured output', () => {
  test('rocminfo: GPU agents with marketing name and ISA, CPU and NPU agents told apart', () => {
    const agents = parseRocminfo(tool('rocminfo-gfx1151.txt'));
    assert.deepEqual(agents.map((a) => a.deviceType), ['CPU', 'GPU', 'DSP']);
    const gpu = agents[1]!;
    assert.equal(gpu.name, 'gfx1151');
    assert.equal(gpu.marketingName, 'AMD Radeon 8060S Graphics');
    assert.equal(gpu.computeUnits, 40);
    assert.deepEqual(gpu.isa, ['gfx1151']);
    const mi300 = parseRocminfo(tool('rocminfo-gfx942.txt')).filter((a) => a.deviceType === 'GPU');
    assert.deepEqual(mi300.map((a) => a.isa[0]), ['gfx942:sramecc+:xnack-', 'gfx942:sramecc+:xnack-']);
  });
  test('rocm-smi --json: a WARNING line before the JSON, string values', () => {
    const [card] = parseRocmSmi(tool('rocm-smi-productname-gfx1100.txt'));
    assert.equal(card!.gfx, 'gfx1100');
    assert.match(card!.marketName!, /7900 XTX/);
    const [metrics] = parseRocmSmi(tool('rocm-smi-metrics-gfx1100.txt'));
    assert.deepEqual([metrics!.temperatureC, metrics!.powerW, metrics!.vramTotalBytes, metrics!.vramUsedBytes], [38, 24, 25753026560, 1040150528]);
  });
  test('rocm-smi --json: "N/A" values are absent, the system entry is not a card', () => {
    const cards = parseRocmSmi(tool('rocm-smi-metrics-na.txt'));
    assert.equal(cards.length, 1);
    assert.equal(cards[0]!.temperatureC, 45);
    assert.equal(cards[0]!.powerW, undefined);
    assert.equal(cards[0]!.vramUsedBytes, undefined);
  });
  test('amd-smi static --json as a bare list (ROCm 6.2) and as {"gpu_data": [...]} with "N/A"', () => {
    const list = parseAmdSmiStatic(tool('amd-smi-static-list-gfx942.json'));
    assert.deepEqual(list.map((g) => [g.index, g.gfx, g.marketName]), [[0, 'gfx942', 'AMD Instinct MI300X'], [1, 'gfx942', 'AMD Instinct MI300X']]);
    assert.equal(list[0]!.vramTotalBytes, 196592 * 1024 * 1024);
    const [apu] = parseAmdSmiStatic(tool('amd-smi-static-gpudata-gfx1151.json'));
    assert.equal(apu!.gfx, 'gfx1151');
    assert.equal(apu!.marketName, undefined, '"N/A" is no name');
    assert.equal(apu!.vramTotalBytes, 65536 * 1024 * 1024);
  });
  test('amd-smi metric --json: value/unit objects, "N/A" hotspot', () => {
    const [gpu] = parseAmdSmiMetric(tool('amd-smi-metric-gpudata-gfx1151.json'));
    assert.deepEqual([gpu!.temperatureC, gpu!.powerW, gpu!.vramUsedBytes], [41, 18, 812 * 1024 * 1024]);
  });
  test('numbers and JSON extraction edge cases', () => {
    assert.equal(numberOf('N/A'), undefined);
    assert.equal(numberOf({ value: 'N/A', unit: 'W' }), undefined);
    assert.equal(numberOf('38.0'), 38);
    assert.throws(() => extractJson('WARNING: no GPU\n'), /no JSON document/);
    assert.deepEqual(extractJson('WARNING: [x] odd\n[1]\n'), [1]);
  });
});

describe('preflight', () => {
  const tools = (): string =>
    fakeTools({ rocminfo: { print: 'rocminfo-gfx1151.txt' }, 'amd-smi': { print: 'amd-smi-static-gpudata-gfx1151.json' } });
  const pathOf = (bin: string): NodeJS.ProcessEnv => ({ PATH: `${bin}:/usr/bin:/bin` });

  test('gfx1151 with the runner in the render group: every check passes, the GPU is named from rocminfo', async () => {
    const result = await runPreflight({ root: rocmRoot('gfx1151'), identity: RUNNER_IN_RENDER, expectedGfx: 'gfx1151', toolEnv: pathOf(tools()) });
    assert.equal(result.ok, true, JSON.stringify(result.rows));
    assert.deepEqual(result.gpus.map((g) => [g.gfx, g.name]), [['gfx1151', 'AMD Radeon 8060S Graphics']]);
    assert.deepEqual(result.groupIds, [RENDER_GID]);
    assert.equal(row(result, 'expected-gfx').verdict, 'pass');
    assert.equal(row(result, 'rocminfo').verdict, 'info');
    assert.equal(row(result, 'rocm-smi').detail, 'not installed (optional)');
  });
  test('gfx1100: named by rocm-smi; a gfx1151 expectation fails naming both targets', async () => {
    const bin = fakeTools({ 'rocm-smi': { print: 'rocm-smi-productname-gfx1100.txt' } });
    const result = await runPreflight({ root: rocmRoot('gfx1100'), identity: RUNNER_IN_RENDER, expectedGfx: 'gfx1151', toolEnv: pathOf(bin) });
    assert.equal(result.ok, false);
    const expected = row(result, 'expected-gfx');
    assert.equal(expected.verdict, 'fail');
    assert.match(expected.detail, /expected gfx1151, found gfx1100/);
    assert.ok(expected.fix);
    assert.match(result.gpus[0]!.name!, /7900 XTX/);
  });
  test('gfx942: two GPUs, two render nodes, named by amd-smi (bare list)', async () => {
    const bin = fakeTools({ 'amd-smi': { print: 'amd-smi-static-list-gfx942.json' } });
    const result = await runPreflight({ root: rocmRoot('gfx942'), identity: RUNNER_IN_RENDER, expectedGfx: 'gfx942', toolEnv: pathOf(bin) });
    assert.equal(result.ok, true);
    assert.deepEqual(result.gpus.map((g) => `${g.gfx} ${g.name}`), ['gfx942 AMD Instinct MI300X', 'gfx942 AMD Instinct MI300X']);
    assert.equal(result.rows.filter((r) => r.check.startsWith('/dev/dri/renderD')).length, 2);
  });
  test('no GPU: /dev/kfd missing, no render node, no GPU node — each a fail with a fix', async () => {
    const result = await runPreflight({ root: rocmRoot('no-gpu'), identity: RUNNER, toolEnv: pathOf(tools()) });
    assert.equal(result.ok, false);
    for (const check of ['/dev/kfd', '/dev/dri/renderD*', 'GPUs (KFD topology)']) {
      const r = row(result, check);
      assert.equal(r.verdict, 'fail', check);
      assert.ok(r.fix, `${check} has a fix`);
    }
    assert.deepEqual(result.gpus, []);
  });
  test('kfd without permission: the row names the owning group and says how to join it', async () => {
    const result = await runPreflight({ root: rocmRoot('gfx1151'), identity: RUNNER, toolEnv: pathOf(tools()) });
    assert.equal(result.ok, false);
    const kfd = row(result, '/dev/kfd');
    assert.equal(kfd.verdict, 'fail');
    assert.match(kfd.detail, /group render \(gid 992\), mode 0660/);
    assert.match(kfd.fix!, /usermod -aG render,video/);
  });
  test('HSA_OVERRIDE_GFX_VERSION set: a warning naming the forced and the native target', async () => {
    const result = await runPreflight({ root: rocmRoot('gfx1151'), identity: RUNNER_IN_RENDER, env: { HSA_OVERRIDE_GFX_VERSION: '11.0.0' }, toolEnv: pathOf(tools()) });
    assert.equal(result.ok, true, 'a warning, not a failure');
    const override = row(result, 'HSA_OVERRIDE_GFX_VERSION');
    assert.equal(override.verdict, 'warn');
    assert.match(override.detail, /11\.0\.0 \(gfx1100\).*native target is gfx1151/);
  });
  test('a hanging amd-smi is killed at the timeout; the preflight goes on', async () => {
    const bin = fakeTools({ rocminfo: { print: 'rocminfo-gfx1151.txt' }, 'amd-smi': { sleep: 60 } });
    const started = performance.now();
    const result = await runPreflight({ root: rocmRoot('gfx1151'), identity: RUNNER_IN_RENDER, toolTimeoutMs: 500, toolEnv: pathOf(bin) });
    assert.ok(performance.now() - started < 5000, 'the timeout bounds the preflight');
    const amd = row(result, 'amd-smi');
    assert.equal(amd.verdict, 'warn');
    assert.match(amd.detail, /did not answer within/);
    assert.equal(result.ok, true);
    assert.equal(result.gpus[0]!.name, 'AMD Radeon 8060S Graphics');
  });
  test('a failing tool without a document is a warning with its last line', async () => {
    const bin = fakeTools({ 'rocm-smi': { print: 'rocminfo-gfx1151.txt', exit: 2 } });
    const result = await runPreflight({ root: rocmRoot('gfx1151'), identity: RUNNER_IN_RENDER, toolEnv: pathOf(bin) });
    const smi = row(result, 'rocm-smi');
    assert.equal(smi.verdict, 'warn');
    assert.match(smi.detail, /^exited 2/);
  });
});

describe('runTimed', () => {
  test('kills the whole process group of a hung program', async () => {
    const result = await runTimed('sh', ['-c', 'sleep 30 & sleep 30'], { timeoutMs: 300 });
    assert.equal(result.timedOut, true);
    assert.ok(result.ms < 3000);
  });
  test('a missing program says so', async () => {
    const result = await runTimed('definitely-not-a-tool-xyz', [], { timeoutMs: 1000 });
    assert.equal(result.missing, true);
  });
});

describe('failure signatures', () => {
  const cases: Array<[string, string]> = [
    // CPython's OSError text where Python opens the node (vLLM and PyTorch reach it only through ROCR, which
    // opens it silently: ROCR libhsakmt/src/openclose.c).
    ['kfd-permission', "PermissionError: [Errno 13] Permission denied: '/dev/kfd'"],
    ['no-hip-gpus', 'RuntimeError: No HIP GPUs are available'],
    ['no-kernel-for-gfx', 'RuntimeError: HIP error: invalid device function'],
    ['no-kernel-for-gfx', 'hipErrorNoBinaryForGpu: Unable to find code object for all current devices!'],
    // ROCR runtime/hsa-runtime/core/runtime/amd_topology.cpp.
    ['driver-too-old', 'HSA Error:  Incompatible kernel and userspace, AMD Instinct MI60 / MI50 disabled. Upgrade amdgpu.'],
    ['free-memory-below-utilization', 'ValueError: Free memory on device (30.1/64.0 GiB) on startup is less than desired GPU memory utilization (0.9, 57.6 GiB).'],
    ['gpu-out-of-memory', 'torch.OutOfMemoryError: HIP out of memory. Tried to allocate 2.00 GiB.'],
    ['engine-dead', 'vllm.v1.engine.exceptions.EngineDeadError: EngineCore encountered an issue.'],
  ];
  for (const [id, line] of cases) {
    test(`${id}: ${line.slice(0, 50)}`, () => {
      assert.equal(findSignature(['INFO starting', line])?.signature.id, id);
    });
  }
  test('every signature has a meaning and a fix; ordinary log lines match none', () => {
    for (const s of SIGNATURES) assert.ok(s.meaning && s.fix, s.id);
    assert.equal(findSignature(['INFO: Started server process [1]', 'Loading weights took 1.2 s', 'INFO: Uvicorn running on http://0.0.0.0:8000']), undefined);
  });
});
