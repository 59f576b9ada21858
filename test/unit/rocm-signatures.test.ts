// The failure signatures on log excerpts in the format vLLM, ROCm, CPython and docker print them
// (test/fixtures/rocm/logs, each file's provenance in its README): each excerpt ends the way the real
// run ends (the engine's start-up failure, or nothing), so without its own signature a case finds
// another one or none. Then: the argparse fix names the image's ENTRYPOINT and args, bounded.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findSignature, SIGNATURES } from '../../src/rocm/signatures.js';
import { REPO_ROOT } from '../support/action-runner.js';
import { fixture } from '../support/fixtures.js';

const log = (name: string): string[] => readFileSync(fixture('rocm', 'logs', name), 'utf8').split('\n');

describe('signatures on upstream log excerpts', () => {
  const cases: Array<[file: string, id: string, line: RegExp]> = [
    ['docker26-port-allocated.txt', 'docker-port-taken', /Bind for 127\.0\.0\.1:8000 failed: port is already allocated/],
    ['docker28-port-allocated.txt', 'docker-port-taken', /failed to set up container networking/],
    ['docker26-host-port-in-use.txt', 'docker-port-taken', /Error starting userland proxy/],
    ['docker28-host-port-in-use.txt', 'docker-port-taken', /failed to bind host port for 127\.0\.0\.1:8000/],
    ['vllm-serve-twice.txt', 'server-arguments', /^vllm: error: unrecognized arguments: serve /],
    ['getpwuid-nix-image.txt', 'no-user-entry', /^KeyError: 'getpwuid\(\): uid not found: 0'$/],
    ['amdsmi-missing-debug.txt', 'amdsmi-unavailable', /ROCm platform is not available because: No module named 'amdsmi'/],
    ['amdsmi-library-exception.txt', 'amdsmi-unavailable', /AmdSmiLibraryException: Error code:/],
    ['failed-to-infer-device-type.txt', 'device-type-unknown', /^RuntimeError: Failed to infer device type/],
    ['rocblas-no-tensile-gfx1151.txt', 'no-tensile-for-gfx', /^rocBLAS error: Cannot read .*TensileLibrary\.dat.* for GPU arch : gfx1151$/],
    ['memory-access-fault.txt', 'gpu-memory-fault', /^Memory access fault by GPU node-1 .*Reason: Page not present or supervisor privilege\.$/],
    ['hsa-out-of-resources.txt', 'hsa-out-of-resources', /Aborting with error : HSA_STATUS_ERROR_OUT_OF_RESOURCES/],
    ['hsa-exception.txt', 'gpu-kernel-exception', /aborting with error : HSA_STATUS_ERROR_EXCEPTION/],
    ['kv-cache-too-small.txt', 'kv-cache-too-small', /ValueError: To serve at least one request with the models's max seq len \(131072\)/],
  ];
  for (const [file, id, line] of cases) {
    test(`${file} → ${id}`, () => {
      const hit = findSignature(log(file));
      assert.equal(hit?.signature.id, id, `matched line: ${hit?.line}`);
      assert.match(hit.line, line);
    });
  }

  test('single lines in upstream wording', () => {
    const lines: Array<[string, string]> = [
      // CPython Objects/exceptions.c OSError_str: "[Errno %S] %S: %R", as Python code opening the node prints it.
      ['kfd-permission', "PermissionError: [Errno 13] Permission denied: '/dev/kfd'"],
      // CPython ≥ 3.13 Lib/getpass.py: getuser() re-raises the KeyError as OSError.
      ['no-user-entry', 'OSError: No username set in the environment'],
      // vLLM vllm/platforms/rocm.py: logger.warning("Failed to import from amdsmi with %r", e).
      ['amdsmi-unavailable', 'WARNING 12-05 11:41:10 [rocm.py:40] Failed to import from amdsmi with ModuleNotFoundError("No module named \'amdsmi\'")'],
      // CPython Lib/argparse.py: "the following arguments are required: %s", "argument %s: invalid %s value: %r".
      ['server-arguments', 'api_server.py: error: the following arguments are required: --model'],
      ['server-arguments', "vllm serve: error: argument --port: invalid int value: 'eight'"],
      // vLLM V1 kv_cache_utils.py, and the V0 engine's wording.
      ['kv-cache-too-small', 'ValueError: No available memory for the cache blocks. Try increasing `gpu_memory_utilization` when initializing the engine. See https://docs.vllm.ai/en/latest/configuration/conserving_memory/ for more details.'],
      ['kv-cache-too-small', "ValueError: The model's max seq len (32768) is larger than the maximum number of tokens that can be stored in KV cache (10272). Try increasing `gpu_memory_utilization` or decreasing `max_model_len` when initializing the engine."],
      // ROCm/clr rocprogram.cpp buildLog + ROCR hsa_status_string; ROCR loader/executable.cpp LoaderError.
      ['no-kernel-for-gfx', 'Error: AMD HSA Code Object loading failed: HSA_STATUS_ERROR_INCOMPATIBLE_ARGUMENTS: The arguments passed to a functions are not compatible.'],
      ['no-kernel-for-gfx', "LoaderError: code object's ISA (amdgcn-amd-amdhsa--gfx1100) is not supported by the agent"],
      // ROCm/clr rocdevice.cpp callbackQueue for an invalid dispatch (ROCR amd_aql_queue.cpp: EC_QUEUE_PACKET_DISPATCH_DIM_INVALID).
      ['gpu-kernel-exception', ':0:rocdevice.cpp            :2998: 2731599811 us:  Callback: Queue 0x7f0c40000000 aborting with error : HSA_STATUS_ERROR_INCOMPATIBLE_ARGUMENTS: The arguments passed to a functions are not compatible. code: 0x100d'],
      // ROCR amd_topology.cpp.
      ['driver-too-old', 'HSA Error:  Incompatible kernel and userspace, AMD Instinct MI60 / MI50 disabled. Upgrade amdgpu.'],
      // vLLM binds its socket itself (vllm/entrypoints/openai/api_server.py create_server_socket): EADDRINUSE.
      ['port-in-use', 'OSError: [Errno 98] Address already in use'],
    ];
    for (const [id, line] of lines) assert.equal(findSignature(['INFO starting', line])?.signature.id, id, line);
  });

  test('HSA_STATUS_ERROR_INCOMPATIBLE_ARGUMENTS alone is not a driver verdict', () => {
    const hit = findSignature(['HSA_STATUS_ERROR_INCOMPATIBLE_ARGUMENTS: The arguments passed to a functions are not compatible.']);
    assert.notEqual(hit?.signature.id, 'driver-too-old');
  });

  test('the HIP runtime\'s start-up exit code and PyTorch\'s no-device message stay apart from the kfd row', () => {
    // With /dev/kfd unopenable, ROCR's hsa_init answers OUT_OF_RESOURCES silently (libhsakmt/src/openclose.c,
    // core/runtime/runtime.cpp Load) and HIP reports no device (clr rocdevice.cpp): PyTorch then prints this.
    assert.equal(findSignature(['RuntimeError: No HIP GPUs are available'])?.signature.id, 'no-hip-gpus');
  });

  test('every new signature names its upstream source beside it in src/rocm/signatures.ts', () => {
    const source = readFileSync(join(REPO_ROOT, 'src', 'rocm', 'signatures.ts'), 'utf8');
    for (const id of ['docker-port-taken', 'server-arguments', 'no-user-entry', 'amdsmi-unavailable', 'device-type-unknown', 'no-tensile-for-gfx', 'gpu-memory-fault', 'hsa-out-of-resources', 'gpu-kernel-exception', 'kv-cache-too-small']) {
      const at = source.indexOf(`id: '${id}'`);
      assert.ok(at > 0, id);
      const before = source.slice(source.lastIndexOf('  {\n', at), at);
      assert.match(before, /\/\/ .*(vLLM|ROCm\/|CPython|moby)/, `${id}: no upstream citation beside it`);
    }
    assert.equal(new Set(SIGNATURES.map((s) => s.id)).size, SIGNATURES.length, 'ids are unique');
  });
});

describe('hostile log lines', () => {
  test('megabyte lines of near-matches are read in bounded time; a signature at a line\'s start still counts', () => {
    const junk = ['permission denied ', 'TensileLibrary: ', 'Free memory on device ', ': error: argument ', 'Cannot read '].map((w) => w.repeat(60_000));
    const started = performance.now();
    assert.equal(findSignature(junk), undefined);
    assert.ok(performance.now() - started < 2000, `took ${(performance.now() - started).toFixed(0)} ms`);
    assert.equal(findSignature([`RuntimeError: Failed to infer device type${' x'.repeat(500_000)}`])?.signature.id, 'device-type-unknown');
  });
});

describe('the argparse fix names the entrypoint and args', () => {
  const lines = log('vllm-serve-twice.txt');

  test('without context: the generic fix still says what must hold', () => {
    const hit = findSignature(lines)!;
    assert.match(hit.signature.fix, /ENTRYPOINT.*args/);
  });
  test('ENTRYPOINT ["vllm","serve"] and args repeating `vllm serve`: drop it, keep the model', () => {
    const hit = findSignature(lines, { entrypoint: ['vllm', 'serve'], args: ['vllm', 'serve', 'Qwen/Qwen2.5-0.5B-Instruct', '--host', '0.0.0.0', '--port', '8000'] })!;
    assert.match(hit.signature.fix, /ENTRYPOINT is \["vllm","serve"\]/);
    assert.match(hit.signature.fix, /must not repeat it/);
    assert.match(hit.signature.fix, /"Qwen\/Qwen2\.5-0\.5B-Instruct --host/);
  });
  test('no ENTRYPOINT and args without `vllm serve`: args must start with it', () => {
    const hit = findSignature(lines, { entrypoint: [], args: ['Qwen/Qwen2.5-0.5B-Instruct'] })!;
    assert.match(hit.signature.fix, /ENTRYPOINT is empty/);
    assert.match(hit.signature.fix, /must start with `vllm serve <model>`/);
  });
  test('a wrapper entrypoint: both named, the general rule given', () => {
    const hit = findSignature(lines, { entrypoint: ['/bin/vllm-server'], args: ['--bogus'] })!;
    assert.match(hit.signature.fix, /\["\/bin\/vllm-server"\].*\["--bogus"\]/);
    assert.match(hit.signature.fix, /vllm serve --help/);
  });
  test('hostile image config: quoted, one line, bounded', () => {
    const evil = ['::error::pwned\n::set-output name=x::y', 'A'.repeat(10_000)];
    const hit = findSignature(lines, { entrypoint: evil, args: evil })!;
    assert.ok(!hit.signature.fix.includes('\n'), 'no raw newline reaches the annotation');
    assert.ok(hit.signature.fix.length < 1200, `fix is ${hit.signature.fix.length} characters`);
    assert.match(hit.signature.fix, /\\n/);
  });
  test('other signatures ignore the context', () => {
    const hit = findSignature(log('kv-cache-too-small.txt'), { entrypoint: ['vllm', 'serve'], args: ['x'] })!;
    assert.equal(hit.signature, SIGNATURES.find((s) => s.id === 'kv-cache-too-small'));
  });
});
