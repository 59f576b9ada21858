// Pure logic of the server engine and the stage's inputs: shell-like splitting, the docker run argv,
// the vllm-bench-serve statistics, the Prometheus parser, the fork guard and the input errors.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shellWords } from '../../src/serve/shell-words.js';
import { dockerRunArgs, modelCacheEnv, reservedDockerArg, stepLabel } from '../../src/serve/docker-run.js';
import { envFileProblem, envFileText } from '../../src/serve/env-file.js';
import { percentile, summarize } from '../../src/serve/load.js';
import { keyMetrics, vllmSamples } from '../../src/serve/metrics.js';
import type { StreamTiming } from '../../src/serve/openai.js';
import { forkRefusal } from '../../src/smoke-test/fork-guard.js';
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

describe('fork guard', () => {
  const event = (payload: unknown): string => {
    const file = join(mkdtempSync(join(tmpdir(), 'smoke-event-')), 'event.json');
    writeFileSync(file, JSON.stringify(payload));
    return file;
  };
  const pr = (head: unknown) => ({ pull_request: { head: { repo: head }, base: { repo: { full_name: 'org/vllm' } } } });
  const env = (path: string, extra: Record<string, string> = {}) => ({ RUNNER_ENVIRONMENT: 'self-hosted', GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: path, ...extra });
  test('a fork pull request on a self-hosted runner is refused, unless allowed', () => {
    const path = event(pr({ full_name: 'mallory/vllm', fork: true }));
    assert.match(forkRefusal(env(path), false)!, /fork mallory\/vllm/);
    assert.equal(forkRefusal(env(path), true), undefined);
  });
  test('a deleted fork (head.repo null) is refused; a same-repository pull request and a hosted runner are not', () => {
    assert.match(forkRefusal(env(event(pr(null))), false)!, /deleted/);
    assert.equal(forkRefusal(env(event(pr({ full_name: 'org/vllm', fork: false }))), false), undefined);
    assert.equal(forkRefusal(env(event(pr({ full_name: 'mallory/vllm', fork: true })), { RUNNER_ENVIRONMENT: 'github-hosted' }), false), undefined);
    assert.equal(forkRefusal(env('/nonexistent', { GITHUB_EVENT_NAME: 'push' }), false), undefined);
  });
});

describe('inputs', () => {
  test('defaults: the vllm serve args, port 8000, gpu amd with the probe', () => {
    const parsed = inputs({ image: 'vllm:rocm', 'served-model-name': 'qwen' });
    assert.deepEqual(parsed.args, ['vllm', 'serve', 'Qwen/Qwen2.5-0.5B-Instruct', '--host', '0.0.0.0', '--port', '8000', '--served-model-name', 'qwen']);
    assert.deepEqual([parsed.port, parsed.gpu, parsed.probe, parsed.requests, parsed.concurrency, parsed.maxTokens, parsed.startupTimeoutSeconds], [8000, 'amd', true, 16, 4, 32, 900]);
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
