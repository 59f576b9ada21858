// The test stand-in for vLLM (templates/example/fake-vllm.c) against what upstream does, and the
// suite's client (src/serve/openai.ts, load.ts) against each way it shows a dead engine. The
// binary runs as a host process: each behaviour here is the server's own, no container between.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { runLoad } from '../../src/serve/load.js';
import { EngineDiedError, OpenAIClient } from '../../src/serve/openai.js';
import { fakeVllmBinary, freePort } from '../support/fake-vllm.js';

function run(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(fakeVllmBinary(), args, { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8', timeout: 10_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A running fake on a free port; `ready` once /health answers 200. */
async function server(args: string[], env: Record<string, string> = {}) {
  const port = await freePort();
  const child = spawn(fakeVllmBinary(), ['serve', 'm', '--port', String(port), ...args], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const health = (): Promise<number | string> => fetch(`${url}/health`).then((r) => r.status, (e: Error & { cause?: { code?: string } }) => e.cause?.code ?? e.message);
  const ready = async (): Promise<void> => {
    for (let i = 0; i < 200; i++) {
      if ((await health()) === 200) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`never ready:\n${log}`);
  };
  return { port, url, child, exited, health, ready, log: () => log, stop: () => child.kill('SIGTERM') };
}

test("argparse's errors, as `vllm` prints them: usage, prog: error: …, exit 2", () => {
  // The release path's mistake: ENTRYPOINT ["vllm", "serve"] given `vllm serve <model> …` again.
  const doubled = run(['serve', 'vllm', 'serve', 'Qwen/Qwen2.5-0.5B-Instruct', '--host', '0.0.0.0', '--port', '8000']);
  assert.equal(doubled.status, 2);
  assert.equal(doubled.stderr, 'usage: vllm [-h] [-v] {chat,complete,serve,bench,collect-env,run-batch} ...\nvllm: error: unrecognized arguments: serve Qwen/Qwen2.5-0.5B-Instruct\n');
  assert.equal(run(['serve', 'm', '--no-such-flag', 'x']).stderr.split('\n')[1], 'vllm: error: unrecognized arguments: --no-such-flag x');
  const noServe = run(['Qwen/Qwen2.5-0.5B-Instruct', '--port', '8000']);
  assert.equal(noServe.status, 2);
  assert.match(noServe.stderr, /^vllm: error: argument subparser: invalid choice: 'Qwen\/Qwen2\.5-0\.5B-Instruct' \(choose from 'chat', 'complete', 'serve', 'bench', 'collect-env', 'run-batch'\)$/m);
  const badPort = run(['serve', 'm', '--port', 'eighty']);
  assert.equal(badPort.status, 2);
  assert.equal(badPort.stderr, "usage: vllm serve [model_tag] [options]\nvllm serve: error: argument --port: invalid int value: 'eighty'\n");
  assert.match(run(['serve', 'm', '--port']).stderr, /vllm serve: error: argument --port: expected one argument/);
  assert.match(run(['serve', 'm', '--enforce-eager=yes']).stderr, /argument --enforce-eager: ignored explicit argument 'yes'/);
  // FlexibleArgumentParser: --served-model-name before any positional model is a ValueError.
  const served = run(['serve', '--served-model-name', 'x', '--port', '1']);
  assert.equal(served.status, 1);
  assert.match(served.stderr, /ValueError: `model` should be provided as the first positional argument/);
});

test('real command lines parse: underscores, --opt=value, --no- twins, unique prefixes, nargs="+"', async () => {
  const s = await server(['--max_model_len', '4096', '--gpu-memory-utilization=0.9', '--no-enable-prefix-caching', '--served-model-name', 'a', 'b', '-tp', '1', '--enforce-eager', '--trust-remote'], { FAKE_VLLM_START_DELAY_MS: '0' });
  try {
    await s.ready();
    const models = await fetch(`${s.url}/v1/models`).then((r) => r.json() as Promise<{ data: Array<{ id: string; root: string }> }>);
    assert.deepEqual(models.data.map((m) => [m.id, m.root]), [['a', 'm']]);
  } finally {
    s.stop();
  }
});

test('connections are refused until the engine is ready (bound, not listening), then /health 200', async () => {
  const s = await server([], { FAKE_VLLM_START_DELAY_MS: '1200' });
  try {
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await s.health(), 'ECONNREFUSED');
    await s.ready();
    assert.equal(await s.health(), 200);
  } finally {
    s.stop();
  }
});

test('api key (--api-key or VLLM_API_KEY): 401 {"error":"Unauthorized"} on /v1/* only; the client sends it as a Bearer token', async () => {
  for (const [args, env] of [[['--api-key', 'k-123'], {}], [[], { VLLM_API_KEY: 'k-123' }]] as const) {
    const s = await server([...args], env);
    try {
      await s.ready();
      const bare = await fetch(`${s.url}/v1/models`);
      assert.equal(bare.status, 401);
      assert.deepEqual(await bare.json(), { error: 'Unauthorized' });
      assert.equal((await fetch(`${s.url}/v1/models`, { headers: { authorization: 'Bearer k-1234' } })).status, 401);
      assert.equal((await fetch(`${s.url}/v1/models`, { headers: { authorization: 'bearer k-123' } })).status, 200, 'the scheme is case-insensitive');
      assert.equal((await fetch(`${s.url}/metrics`)).status, 200, '/metrics is not under /v1');
      await assert.rejects(new OpenAIClient(s.url, 'm').models(), /answered 401 \(the server wants an API key: set the api-key input/);
      const client = new OpenAIClient(s.url, 'm', 10_000, 'k-123');
      assert.deepEqual(await client.models(), ['m']);
      assert.ok((await client.stream('hi', 4)).ok);
    } finally {
      s.stop();
    }
  }
});

test('engine death as vLLM shows it: an open stream gets the error in-band under 200, then 500 on generation, 503 on /health only, exit after the watchdog', async () => {
  const s = await server([], { FAKE_VLLM_DIE_AFTER: '1', FAKE_VLLM_WATCHDOG_MS: '1500' });
  try {
    await s.ready();
    const client = new OpenAIClient(s.url, 'm', 10_000);
    assert.ok((await client.complete('hi', 4)).text.length > 0);
    // Request 2 kills the engine after the first token of its stream.
    const raw = await fetch(`${s.url}/v1/completions`, { method: 'POST', body: JSON.stringify({ prompt: 'hi', max_tokens: 6, stream: true }) });
    assert.equal(raw.status, 200);
    const events = (await raw.text()).split('\n\n').filter(Boolean);
    assert.deepEqual(events.slice(-2), [
      'data: {"error":{"message":"EngineCore encountered an issue. See stack trace (above) for the root cause.","type":"InternalServerError","param":null,"code":500}}',
      'data: [DONE]',
    ]);
    assert.equal(events.length, 3, 'one token, the error, [DONE]');
    const after = await fetch(`${s.url}/v1/chat/completions`, { method: 'POST', body: '{"messages":[]}' });
    assert.equal(after.status, 500);
    assert.deepEqual(await after.json(), { error: { message: 'EngineCore encountered an issue. See stack trace (above) for the root cause.', type: 'InternalServerError', param: null, code: 500 } });
    assert.equal(await s.health(), 503);
    assert.equal((await fetch(`${s.url}/v1/models`)).status, 200, 'the model list asks nothing of the engine');
    // The client names each form "the engine died".
    await assert.rejects(client.complete('hi', 4), (e: Error) => e instanceof EngineDiedError && /answered 500 \(EngineCore encountered an issue/.test(e.message));
    await assert.rejects(client.stream('hi', 4), (e: Error) => e instanceof EngineDiedError && /answered 500/.test(e.message));
    const started = Date.now();
    assert.equal(await s.exited, 0);
    assert.ok(Date.now() - started < 3000);
    assert.match(s.log(), /EngineDeadError: EngineCore encountered an issue/);
    assert.match(s.log(), /Application shutdown complete/);
  } finally {
    s.stop();
  }
});

test('an in-band error event fails the stream (never a truncated success); a load run counts non-200s and goes on', async () => {
  const dying = await server([], { FAKE_VLLM_DIE_AFTER: '0', VLLM_KEEP_ALIVE_ON_ENGINE_DEATH: '1' });
  try {
    await dying.ready();
    await assert.rejects(new OpenAIClient(dying.url, 'm').stream('hi', 8), (e: Error) => e instanceof EngineDiedError && /the stream carried an error event after 1 chunk \("EngineCore encountered an issue/.test(e.message));
  } finally {
    dying.stop();
  }
  const rejecting = await server([], { FAKE_VLLM_REJECT_EVERY: '3' });
  try {
    await rejecting.ready();
    const client = new OpenAIClient(rejecting.url, 'm');
    const load = await runLoad({ requests: Array.from({ length: 9 }, () => ({ prompt: 'hi', promptLen: 1, outputLen: 4 })), arrivals: [], concurrency: 3 }, () => client.stream('hi', 4, true));
    assert.equal(load.completed, 6);
    assert.equal(load.failed, 3);
    assert.deepEqual(load.errors, ["POST /v1/completions answered 400: This model's maximum context length is 32768 tokens. However, you requested 33000 tokens (32968 in the messages, 32 in the completion). Please reduce the length of the messages or completion."]);
  } finally {
    rejecting.stop();
  }
});

test('FAKE_VLLM_FAIL prints each real failure and exits as vLLM does', () => {
  const cases: Array<[string, number, RegExp]> = [
    ['infer-device-type', 1, /^RuntimeError: Failed to infer device type/m],
    ['tensile-library', 1, /rocBLAS error: Cannot read \/opt\/rocm\/lib\/rocblas\/library\/TensileLibrary\.dat: No such file or directory for GPU arch : gfx1151/],
    ['memory-access-fault', 1, /Memory access fault by GPU node-1 .* Reason: Page not present or supervisor privilege\./],
    ['kv-cache-too-small', 1, /Try increasing `gpu_memory_utilization` or decreasing `max_model_len`/],
    ['hsa-out-of-resources', 1, /HSA_STATUS_ERROR_OUT_OF_RESOURCES/],
    ['hsa-exception', 1, /HSA_STATUS_ERROR_EXCEPTION/],
    ['amdsmi-missing', 1, /^ModuleNotFoundError: No module named 'amdsmi'$/m],
    ['amdsmi-init', 1, /AmdSmiLibraryException/],
    ['getpwuid', 1, /^KeyError: 'getpwuid\(\): uid not found: 0'$/m],
  ];
  for (const [name, status, text] of cases) {
    const r = run(['serve', 'm', '--port', '0'], { FAKE_VLLM_FAIL: name, FAKE_VLLM_CRASH_AFTER_MS: '0' });
    assert.equal(r.status, status, name);
    assert.match(r.stderr, text, name);
  }
  // Import-time failures come before the command line is even parsed.
  assert.match(run(['bogus'], { FAKE_VLLM_FAIL: 'getpwuid' }).stderr, /getpwuid/);
  assert.equal(run(['serve', 'm'], { FAKE_VLLM_FAIL: 'no-such-failure' }).status, 64);
});
