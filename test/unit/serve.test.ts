// Pure logic of the server engine and the stage's inputs: shell-like splitting, the docker run argv,
// the vllm-bench-serve statistics, the Prometheus parser and the input errors
// (the fork guard's tests: fork-guard.test.ts).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { shellWords } from '../../src/serve/shell-words.js';
import { dockerRunArgs, modelCacheEnv, reservedDockerArg, stepLabel } from '../../src/serve/docker-run.js';
import { envFileProblem, envFileText } from '../../src/serve/env-file.js';
import { percentile, runLoad, summarize } from '../../src/serve/load.js';
import { engineDeathIn, errorMessage } from '../../src/serve/openai.js';
import { defaultServerArgs, parseEntrypoint } from '../../src/serve/server-args.js';
import { keyMetrics, vllmSamples } from '../../src/serve/metrics.js';
import type { StreamTiming } from '../../src/serve/openai.js';
import { parseSmokeTestInputs } from '../../src/smoke-test/inputs.js';
import { parseDockerLoad } from '../../src/smoke-test/image.js';

const inputs = (values: Record<string, string>) => parseSmokeTestInputs((name) => values[name] ?? '', '/work');

describe('shellWords', () => {
  test('quotes and backslashes as a shell splits them, nothing expanded', () => {
    assert.deepEqual(shellWords(`--shm-size 16g -e 'A=b c' "--label=x \\"y\\"" \\$HOME $HOME`), ['--shm-size', '16g', '-e', 'A=b c', '--label=x "y"', '$HOME', '$HOME']);
    assert.deepEqual(shellWords('  '), []);
  });
  test('operators and unterminated quotes are refused', () => {
    assert.throws(() => shellWords('a; rm -rf /'), /shell operator/);
    assert.throws(() => shellWords('a $(id)'), /shell operator/);
    assert.throws(() => shellWords("it's"), /unterminated single quote/);
  });
});

describe('docker run argv', () => {
  test('gpu amd: devices, numeric groups, ipc and seccomp; env in a file, the token a read-only file; args after the image', () => {
    const argv = dockerRunArgs({ image: 'vllm:rocm', name: 'n1', step: 's1', port: 8123, gpu: { devices: ['/dev/kfd', '/dev/dri'], groupIds: [44, 992] }, envFile: '/tmp/s/server.env', tokenFile: '/tmp/s/hf-token', modelCache: { path: '/srv/hf', mode: 'rw' }, extraArgs: ['--shm-size', '16g'], args: ['vllm', 'serve', 'm'] });
    assert.deepEqual(argv.slice(0, 8), ['run', '--detach', '--name', 'n1', '--label', 'vllm-rocm-action.step=s1', '--publish', '127.0.0.1:8123:8123']);
    const joined = argv.join(' ');
    assert.match(joined, /--device \/dev\/kfd --device \/dev\/dri --group-add 44 --group-add 992 --ipc=host --security-opt seccomp=unconfined/);
    assert.match(joined, /--volume \/srv\/hf:\/root\/.cache\/huggingface /);
    assert.match(joined, /--volume \/tmp\/s\/hf-token:\/run\/secrets\/hf-token:ro --env-file \/tmp\/s\/server.env /);
    assert.doesNotMatch(joined, /--env /);
    assert.doesNotMatch(joined, /SYS_PTRACE/);
    assert.deepEqual(argv.slice(-6), ['--shm-size', '16g', 'vllm:rocm', 'vllm', 'serve', 'm']);
  });
  test('model-cache read-only (the default): mounted :ro beside HF_HOME, its hub/ used offline', () => {
    const argv = dockerRunArgs({ image: 'i', name: 'n', step: 's', port: 1, modelCache: { path: '/srv/hf', mode: 'ro' }, extraArgs: [], args: [] });
    assert.match(argv.join(' '), /--volume \/srv\/hf:\/run\/vllm-rocm-action\/hf-cache:ro/);
    assert.deepEqual(modelCacheEnv('ro'), [['HF_HUB_CACHE', '/run/vllm-rocm-action/hf-cache/hub'], ['HF_HUB_OFFLINE', '1']]);
    assert.deepEqual(modelCacheEnv('rw'), [['HF_HOME', '/root/.cache/huggingface']]);
  });
  test('gpu none: no device flags', () => {
    const argv = dockerRunArgs({ image: 'i', name: 'n', step: 's', port: 1, extraArgs: [], args: [] });
    assert.doesNotMatch(argv.join(' '), /--device|--group-add|--ipc/);
  });
  test('docker-args that would take over the name, the cleanup label, --detach or --rm are found, shorthand clusters too', () => {
    for (const args of [['--name', 'x'], ['--name=x'], ['--label', 'y'], ['--label=y'], ['-l', 'y'], ['-ly'], ['--label-file', 'f'], ['--rm'], ['--rm=false'], ['--detach=false'], ['-d'], ['-itd'], ['--cap-add', 'SYS_PTRACE', '-l', 'a=b']]) {
      assert.ok(reservedDockerArg(args), args.join(' '));
    }
    for (const args of [['--cap-add', 'SYS_PTRACE', '--shm-size', '16g'], ['-it'], ['-edebug=1'], ['-vd:/d'], ['-p8000:8000'], ['--env', 'A=--name'], ['--', '--name']]) {
      assert.equal(reservedDockerArg(args), undefined, args.join(' '));
    }
  });
  test('env files: one VAR=value a line, values verbatim; line breaks and NUL refused (docker has no quoting)', () => {
    assert.equal(envFileText([['A', 'x y "z"'], ['B', '']]), 'A=x y "z"\nB=\n');
    assert.match(envFileProblem('A', 'x\ny') ?? '', /line break/);
    assert.match(envFileProblem('A', 'x\ry') ?? '', /line break/);
    assert.match(envFileProblem('A', 'x\0y') ?? '', /NUL/);
    assert.match(envFileProblem('A B', 'x') ?? '', /not a variable name/);
    assert.match(envFileProblem('A', 'x'.repeat(70_000)) ?? '', /64 KiB/);
    assert.throws(() => envFileText([['A', 'x\ny']]), /line break/);
  });
  test('the step label tells runners, jobs, steps and attempts apart', () => {
    const base = { GITHUB_RUN_ID: '7', GITHUB_RUN_ATTEMPT: '1', GITHUB_JOB: 'smoke', GITHUB_ACTION: 'gpu', RUNNER_NAME: 'box 1' };
    assert.equal(stepLabel(base), '7.1.smoke.gpu.box_1');
    assert.notEqual(stepLabel({ ...base, RUNNER_NAME: 'box-2' }), stepLabel(base));
    assert.notEqual(stepLabel({ ...base, GITHUB_RUN_ATTEMPT: '2' }), stepLabel(base));
  });
});

describe('load statistics as vllm bench serve defines them', () => {
  const timing = (ttft: number, latency: number, tokens: number): StreamTiming => ({ ok: true, ttftMs: ttft, latencyMs: latency, itlMs: Array.from({ length: tokens - 1 }, () => (latency - ttft) / (tokens - 1)), outputTokens: tokens, promptTokens: 5, text: 'x' });
  test('percentiles interpolate linearly like numpy', () => {
    assert.equal(percentile([1, 2, 3, 4], 50), 2.5);
    assert.ok(Math.abs(percentile([1, 2, 3, 4], 99) - 3.97) < 1e-9);
    assert.equal(percentile([10], 99), 10);
    assert.equal(percentile([], 50), 0);
  });
  test('TPOT = (latency − TTFT)/(tokens − 1); throughput over the wall time; failures counted', () => {
    const stats = summarize([timing(100, 1100, 11), timing(200, 2200, 21), timing(50, 50, 1), { ...timing(1, 1, 1), ok: false, error: 'boom' }], 2000, 4);
    assert.equal(stats.completed, 3);
    assert.equal(stats.failed, 1);
    assert.deepEqual(stats.errors, ['boom']);
    assert.equal(stats.tpotMs.mean, 100, 'the one-token request has no TPOT');
    assert.equal(stats.totalOutputTokens, 33);
    assert.equal(stats.outputThroughput, 16.5);
    assert.equal(stats.requestThroughput, 1.5);
    assert.equal(stats.totalTokenThroughput, (33 + 15) / 2);
    assert.equal(stats.ttftMs.median, 100);
    assert.equal(stats.e2elMs.max, 2200);
  });
});

describe('metrics', () => {
  test('vllm:* samples with labels; the key figures', () => {
    const text = [
      '# HELP vllm:prompt_tokens_total Number of prefill tokens processed.',
      '# TYPE vllm:prompt_tokens_total counter',
      'vllm:prompt_tokens_total{engine="0",model_name="Qwen/Qwen2.5-0.5B-Instruct"} 120.0',
      'vllm:generation_tokens_total{engine="0",model_name="Qwen/Qwen2.5-0.5B-Instruct"} 640.0',
      'vllm:time_to_first_token_seconds_sum{engine="0",model_name="m"} 0.5',
      'vllm:time_to_first_token_seconds_count{engine="0",model_name="m"} 20.0',
      'vllm:time_to_first_token_seconds_bucket{engine="0",le="+Inf",model_name="m"} 20.0',
      'python_gc_objects_collected_total{generation="0"} 1234.0',
    ].join('\n');
    const samples = vllmSamples(text);
    assert.equal(samples.length, 5);
    assert.equal(samples[0]!.labels.model_name, 'Qwen/Qwen2.5-0.5B-Instruct');
    assert.equal(samples[4]!.value, 20);
    assert.deepEqual(keyMetrics(samples), { prompt_tokens_total: 120, generation_tokens_total: 640, server_mean_ttft_ms: 25 });
  });
});

describe('inputs', () => {
  test('defaults: args left to the image (server-args.ts), port 8000, gpu amd with the probe, no failed request tolerated', () => {
    const parsed = inputs({ image: 'vllm:rocm', 'served-model-name': 'qwen' });
    assert.equal(parsed.args, undefined);
    assert.deepEqual(inputs({ image: 'x', args: 'm --port 1' }).args, ['m', '--port', '1']);
    assert.deepEqual([parsed.port, parsed.gpu, parsed.probe, parsed.requests, parsed.load.concurrency, parsed.maxTokens, parsed.startupTimeoutSeconds, parsed.maxFailedRequests, parsed.apiKey], [8000, 'amd', true, 16, [4], 32, 900, 0, undefined]);
    assert.equal(inputs({ image: 'x', 'max-failed-requests': '3', 'api-key': 'k' }).maxFailedRequests, 3);
    assert.equal(inputs({ image: 'x', gpu: 'none' }).probe, false);
  });
  test('an archive path is resolved against the workspace; a reference is kept', () => {
    assert.equal(inputs({ image: 'out/image.tar' }).image, '/work/out/image.tar');
    assert.equal(inputs({ image: 'ghcr.io/org/vllm:1.0' }).image, 'ghcr.io/org/vllm:1.0');
  });
  test('errors name the input and what is allowed', () => {
    assert.throws(() => inputs({}), /Input 'image': set exactly one of 'image' .* and 'command'/);
    assert.throws(() => inputs({ image: 'x', command: 'serve' }), /exactly one of 'image' .* 'command'.*not both/);
    assert.throws(() => inputs({ image: 'x', port: '70000' }), /Input 'port': must be an integer from 1 to 65535/);
    assert.throws(() => inputs({ image: 'x', port: '80a' }), /Input 'port'/);
    assert.throws(() => inputs({ image: 'x', gpu: 'nvidia' }), /Input 'gpu': must be one of amd, none/);
    assert.throws(() => inputs({ image: 'x', 'expected-gfx': 'mi300' }), /Input 'expected-gfx'/);
    assert.throws(() => inputs({ image: 'x', expect: '(' }), /Input 'expect': must be a regular expression/);
    assert.throws(() => inputs({ image: 'x', env: 'HF_TOKEN=abc' }), /Input 'env': must not set HF_TOKEN/);
    assert.throws(() => inputs({ image: 'x', env: 'VLLM_API_KEY=abc' }), /Input 'env': must not set VLLM_API_KEY: use the api-key input/);
    assert.throws(() => inputs({ image: 'x', 'max-failed-requests': '-1' }), /Input 'max-failed-requests': must be an integer from 0 to 100000/);
    assert.throws(() => inputs({ image: 'x', 'docker-args': '--rm; id' }), /Input 'docker-args'.*shell operator/);
    assert.throws(() => inputs({ image: 'x', env: 'HF_TOKEN_PATH=/etc/shadow' }), /Input 'env': must not set HF_TOKEN_PATH/);
    assert.throws(() => inputs({ image: 'x', env: 'A=one\rtwo' }), /Input 'env': the value of A holds a line break/);
    assert.throws(() => inputs({ image: 'x', 'docker-args': '--shm-size 16g --name x --label y' }), /Input 'docker-args': must not set '--name'/);
    assert.throws(() => inputs({ image: 'x', 'docker-args': '-itd' }), /Input 'docker-args': must not set '-itd'/);
    assert.throws(() => inputs({ image: 'x', 'model-cache': '/c', 'model-cache-mode': 'rwx' }), /Input 'model-cache-mode': must be one of ro, rw/);
  });
  test('model-cache is read-only unless model-cache-mode: rw', () => {
    assert.deepEqual(inputs({ image: 'x', 'model-cache': 'hf' }).modelCache, { path: '/work/hf', mode: 'ro' });
    assert.deepEqual(inputs({ image: 'x', 'model-cache': '/srv/hf', 'model-cache-mode': 'rw' }).modelCache, { path: '/srv/hf', mode: 'rw' });
  });
  test('command is split like a shell, never run through one', () => {
    assert.deepEqual(inputs({ command: `vllm-server --model 'Qwen/Qwen2.5-0.5B-Instruct' --port 8001` }).command, ['vllm-server', '--model', 'Qwen/Qwen2.5-0.5B-Instruct', '--port', '8001']);
  });
});

test('docker load output: a tagged image, or an image ID for an untagged OCI archive', () => {
  assert.equal(parseDockerLoad('Loaded image: vllm-smoke:test\n'), 'vllm-smoke:test');
  assert.equal(parseDockerLoad('Loaded image ID: sha256:abc\n'), 'sha256:abc');
  assert.equal(parseDockerLoad('nothing'), undefined);
});

describe("the server's default arguments, from the image's entrypoint", () => {
  const opts = { model: 'Qwen/Qwen2.5-0.5B-Instruct', port: 8000 };
  test('an entrypoint that starts the server (upstream\'s ["vllm","serve"], the template\'s script) gets engine arguments only', () => {
    for (const entrypoint of [['vllm', 'serve'], ['/nix/store/abc-vllm-server/bin/vllm-server'], ['/usr/local/bin/vllm-server']]) {
      const choice = defaultServerArgs(entrypoint, { ...opts, servedModelName: 'qwen' });
      assert.deepEqual(choice.args, ['Qwen/Qwen2.5-0.5B-Instruct', '--host', '0.0.0.0', '--port', '8000', '--served-model-name', 'qwen']);
      assert.match(choice.reason, /starts the server, so the arguments are engine arguments only/);
    }
  });
  test('no entrypoint, or an init that runs its arguments: the command `vllm serve …`', () => {
    for (const entrypoint of [null, [], ['tini', '--'], ['/usr/bin/dumb-init']]) {
      assert.deepEqual(defaultServerArgs(entrypoint, opts).args, ['vllm', 'serve', 'Qwen/Qwen2.5-0.5B-Instruct', '--host', '0.0.0.0', '--port', '8000']);
    }
    // tini given a program is not a pass-through any more.
    assert.deepEqual(defaultServerArgs(['tini', '--', 'vllm', 'serve'], opts).args[0], 'Qwen/Qwen2.5-0.5B-Instruct');
  });
  test('docker image inspect {{json .Config.Entrypoint}}: null, a list of strings, nothing else', () => {
    assert.equal(parseEntrypoint('null\n'), null);
    assert.deepEqual(parseEntrypoint('["vllm","serve"]\n'), ['vllm', 'serve']);
    assert.throws(() => parseEntrypoint('"vllm serve"'), /not a list of strings/);
    assert.throws(() => parseEntrypoint('[1]'), /not a list of strings/);
    assert.throws(() => parseEntrypoint('<no value>'), /not JSON/);
  });
});

describe("vLLM's error answers", () => {
  // Bodies as vLLM sends them (ErrorResponse, vllm/entrypoints/openai/protocol.py; 401 from AuthenticationMiddleware).
  const dead = '{"error":{"message":"EngineCore encountered an issue. See stack trace (above) for the root cause.","type":"InternalServerError","param":null,"code":500}}';
  const tooLong = '{"error":{"message":"This model\'s maximum context length is 32768 tokens.","type":"BadRequestError","param":null,"code":400}}';
  test('503, or 500 carrying EngineDeadError, is engine death; another 500 or a 400 is not', () => {
    assert.equal(engineDeathIn(503, ''), 'answered 503');
    assert.match(engineDeathIn(500, dead)!, /^answered 500 \(EngineCore encountered an issue/);
    assert.equal(engineDeathIn(500, '{"error":{"message":"KV cache load failed","type":"InternalServerError","param":null,"code":500}}'), undefined);
    assert.equal(engineDeathIn(500, 'Internal Server Error'), undefined);
    assert.equal(engineDeathIn(400, tooLong), undefined);
  });
  test('the message of an error body', () => {
    assert.equal(errorMessage(tooLong), "This model's maximum context length is 32768 tokens.");
    assert.equal(errorMessage('{"error":"Unauthorized"}'), 'Unauthorized');
    assert.equal(errorMessage('{"object":"list"}'), undefined);
    assert.equal(errorMessage('null'), undefined);
    assert.equal(errorMessage('not json'), undefined);
  });
});

test('a load run counts failed requests and goes on; a thrown engine death ends it', async () => {
  const ok: StreamTiming = { ok: true, ttftMs: 1, latencyMs: 2, itlMs: [1], outputTokens: 2, promptTokens: 1, text: 'ab' };
  const plan = (concurrency: number) => ({ requests: Array.from({ length: 10 }, () => ({ prompt: 'hi', promptLen: 1, outputLen: 2 })), arrivals: [], concurrency });
  const stats = await runLoad(plan(3), async (_, i) => (i % 4 === 0 ? { ...ok, ok: false, error: 'answered 400' } : ok));
  assert.deepEqual([stats.requests, stats.completed, stats.failed, stats.errors], [10, 7, 3, ['answered 400']]);
  await assert.rejects(runLoad(plan(1), async (_, i) => {
    if (i === 2) throw new Error('the engine died');
    return ok;
  }), /the engine died/);
});
