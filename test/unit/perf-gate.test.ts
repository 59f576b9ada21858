// The throughput run's load (vllm bench serve's random dataset and Poisson arrivals, seeded), the
// performance gate's comparisons, the baseline's validation, and the github-action-benchmark JSON.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { arrivalTimes, randomRequests, SeededRandom } from '../../src/serve/dataset.js';
import { runLoad, type LoadStats } from '../../src/serve/load.js';
import type { StreamTiming } from '../../src/serve/openai.js';
import { predicatesOf } from '../../src/registry/cosign.js';
import { baselineFrom, MAX_BASELINE_BYTES, readBaselineFile } from '../../src/smoke-test/baseline.js';
import { benchmarkEntries } from '../../src/smoke-test/benchmark-json.js';
import { evaluateGate, type BaselineFigures } from '../../src/smoke-test/gate.js';
import { parseSmokeTestInputs, type GateSettings, type LoadSettings } from '../../src/smoke-test/inputs.js';

const inputs = (values: Record<string, string>) => parseSmokeTestInputs((name) => values[name] ?? '', '/work');

describe('the random dataset and the arrivals, from a seed', () => {
  test('the same seed gives the same prompts on every run; another seed other prompts; each prompt has input-len words', () => {
    const a = randomRequests(8, 64, 16, 7);
    assert.deepEqual(randomRequests(8, 64, 16, 7), a);
    assert.notDeepEqual(randomRequests(8, 64, 16, 8).map((r) => r.prompt), a.map((r) => r.prompt));
    for (const r of a) {
      assert.equal(r.prompt.split(' ').length, 64);
      assert.deepEqual([r.promptLen, r.outputLen], [64, 16]);
    }
    // vLLM's walk: prompt i starts at offset_i + i; prompts differ from one another.
    assert.equal(new Set(a.map((r) => r.prompt)).size, 8);
  });

  test('exponential gaps from the seeded generator have mean 1/rate and the spread of a Poisson process', () => {
    const rng = new SeededRandom(42);
    const gaps = Array.from({ length: 20_000 }, () => rng.exponential(4));
    const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    assert.ok(Math.abs(mean - 0.25) / 0.25 < 0.03, `mean gap ${mean}`);
    // Coefficient of variation 1 for an exponential (evenly spaced arrivals would give 0).
    const sd = Math.sqrt(gaps.reduce((a, g) => a + (g - mean) ** 2, 0) / gaps.length);
    assert.ok(Math.abs(sd / mean - 1) < 0.05, `cv ${sd / mean}`);
  });

  test('arrival times: request-rate inf sends all at once; a rate spreads count/rate seconds, as get_request rescales them', () => {
    assert.deepEqual(arrivalTimes(3, Infinity, 0), [0, 0, 0]);
    const times = arrivalTimes(400, 20, 3);
    assert.ok(Math.abs(times.at(-1)! - 20) < 1e-9, 'the last lands at count / rate');
    assert.ok(times.every((t, i) => i === 0 || t >= times[i - 1]!), 'in order');
    // The mean rate over the run is within tolerance of the rate asked for, and the gaps vary.
    const gaps = times.map((t, i) => t - (times[i - 1] ?? 0));
    assert.ok(Math.abs(400 / times.at(-1)! - 20) < 0.5);
    assert.ok(Math.max(...gaps) > 3 * Math.min(...gaps));
    assert.deepEqual(arrivalTimes(400, 20, 3), times, 'seeded');
    assert.notDeepEqual(arrivalTimes(400, 20, 4), times);
  });

  test('runLoad sends each request at its arrival time, and no more than concurrency at once', async () => {
    const starts: number[] = [];
    let inFlight = 0;
    let most = 0;
    const t0 = performance.now();
    const ok: StreamTiming = { ok: true, ttftMs: 1, latencyMs: 2, itlMs: [1], outputTokens: 2, promptTokens: 0, text: 'ab' };
    const requests = Array.from({ length: 4 }, () => ({ prompt: 'a b c', promptLen: 3, outputLen: 2 }));
    const stats = await runLoad({ requests, arrivals: [0, 0, 0.15, 0.3], concurrency: 2 }, async () => {
      starts.push(performance.now() - t0);
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, 20));
      inFlight--;
      return ok;
    });
    assert.equal(most, 2);
    assert.ok(starts[2]! >= 145 && starts[3]! >= 295, `starts ${starts.map((s) => s.toFixed(0))}`);
    // No usage from the server: the prompt's planned length counts, as vLLM's prompt_len.
    assert.equal(stats.totalInputTokens, 12);
  });
});

function row(concurrency: number, scale = 1): LoadStats {
  const d = (v: number) => ({ mean: v, median: v, p90: v, p99: v * 1.5, max: v * 2 });
  return {
    requests: 16, concurrency, completed: 16, failed: 0, durationS: 2,
    requestThroughput: 8 / scale, outputThroughput: 1000 / scale, totalTokenThroughput: 2000 / scale,
    totalInputTokens: 16_384, totalOutputTokens: 2048,
    ttftMs: d(50 * scale), tpotMs: d(5 * scale), itlMs: d(5 * scale), e2elMs: d(700 * scale), errors: [],
  };
}

const SETTINGS: LoadSettings = { inputLen: 1024, outputLen: 128, seed: 0, requestRate: 'inf', concurrency: [1, 4] };
const GATE: GateSettings = { maxRegressionPercent: 10, baselineTransparencyLog: true };
const current = (scale = 1, over: Partial<{ gfx: string; settings: LoadSettings }> = {}) => ({ model: 'm', gfx: 'gfx1151', settings: SETTINGS, rows: [row(1, scale), row(4, scale)], ...over });
const base = (over: Partial<BaselineFigures> = {}): BaselineFigures => ({ source: 'base.json', model: 'm', gfx: 'gfx1151', settings: SETTINGS, rows: [row(1), row(4)], ...over });

describe('the performance gate', () => {
  test('within max-regression-percent of the baseline: passes, every figure with its change', () => {
    const result = evaluateGate(current(1.05), GATE, base());
    assert.deepEqual(result.failures, []);
    assert.equal(result.baseline!.applies, true);
    const tps = result.rows.find((r) => r.concurrency === 4 && r.figure === 'output throughput')!;
    assert.equal(tps.baseline, 1000);
    assert.ok(Math.abs(tps.changePercent! - (1000 / 1.05 / 1000 - 1) * 100) < 1e-9);
    assert.equal(tps.verdict, 'pass');
    assert.equal(result.rows.length, 2 * 8, 'eight figures per concurrency row');
  });

  test('past max-regression-percent: fails naming the figure, the concurrency, both values and the change', () => {
    const result = evaluateGate(current(1.5), GATE, base());
    assert.ok(result.failures.some((f) => /^output throughput at concurrency 4 is 33\.3% lower than the baseline \(667 against 1000 tokens\/s; max-regression-percent 10\)$/.test(f)), result.failures.join('\n'));
    assert.ok(result.failures.some((f) => /^TTFT p99 at concurrency 1 is 50\.0% higher than the baseline/.test(f)));
    assert.equal(result.rows.find((r) => r.figure === 'E2EL p99')!.verdict, 'fail');
  });

  test('a better run never fails, however far from the baseline', () => {
    assert.deepEqual(evaluateGate(current(0.5), GATE, base()).failures, []);
  });

  test('another GPU, model or load settings: the baseline does not apply (no comparison, no failure)', () => {
    for (const [other, reason] of [
      [base({ gfx: 'gfx942' }), /GPU gfx942 \(this run: gfx1151\)/],
      [base({ model: 'other' }), /model other \(this run: m\)/],
      [base({ settings: { ...SETTINGS, inputLen: 512 } }), /input-len 512 \(this run: 1024\)/],
      [base({ settings: { ...SETTINGS, requestRate: 4 } }), /request-rate 4 \(this run: inf\)/],
      [base({ settings: { ...SETTINGS, concurrency: [8] } }), /concurrency 8 \(this run: 1, 4\)/],
    ] as const) {
      const result = evaluateGate(current(3), GATE, other);
      assert.equal(result.baseline!.applies, false);
      assert.match(result.baseline!.reason!, reason);
      assert.deepEqual(result.failures, []);
      assert.ok(result.rows.every((r) => r.baseline === undefined));
    }
  });

  test('a sweep that only partly overlaps the baseline compares the common rows only', () => {
    const result = evaluateGate(current(2), GATE, base({ rows: [row(4)], settings: { ...SETTINGS, concurrency: [4, 16] } }));
    assert.ok(result.failures.length > 0 && result.failures.every((f) => /at concurrency 4/.test(f)));
    assert.ok(result.rows.filter((r) => r.concurrency === 1).every((r) => r.baseline === undefined));
  });

  test('absolute limits: min-tokens-per-second, max-ttft-ms (p99 TTFT), max-p99-latency-ms, each named', () => {
    const gate = { ...GATE, minTokensPerSecond: 1200, maxTtftMs: 70, maxP99LatencyMs: 1000 };
    const result = evaluateGate(current(1), gate);
    assert.deepEqual(result.failures, [
      'output throughput 1000 tokens/s at concurrency 1 is below min-tokens-per-second 1200',
      'TTFT p99 75.0 ms at concurrency 1 is above max-ttft-ms 70',
      'E2EL p99 1050 ms at concurrency 1 is above max-p99-latency-ms 1000',
      'output throughput 1000 tokens/s at concurrency 4 is below min-tokens-per-second 1200',
      'TTFT p99 75.0 ms at concurrency 4 is above max-ttft-ms 70',
      'E2EL p99 1050 ms at concurrency 4 is above max-p99-latency-ms 1000',
    ]);
    assert.deepEqual(evaluateGate(current(1), { ...GATE, minTokensPerSecond: 900, maxTtftMs: 80, maxP99LatencyMs: 1100 }).failures, []);
  });
});

describe('the baseline is untrusted input', () => {
  const good = { passed: true, model: 'm', gfx: 'gfx1151', load: { settings: SETTINGS, rows: [row(1), row(4)] } };
  const dir = mkdtempSync(join(tmpdir(), 'baseline-'));

  test('a report is read field by field', async () => {
    const file = join(dir, 'good.json');
    writeFileSync(file, JSON.stringify({ ...good, extra: { anything: true } }));
    const figures = await readBaselineFile(file);
    assert.deepEqual(figures.rows.map((r) => r.concurrency), [1, 4]);
    assert.deepEqual(figures.settings, SETTINGS);
    assert.equal(figures.gfx, 'gfx1151');
  });

  test("a smoke-test predicate's names are read too: gfx from gpu.gpus, outputTokensPerSecond, requestsPerSecond; figures it leaves out read 0", () => {
    const { outputThroughput, requestThroughput, itlMs, totalInputTokens, totalOutputTokens, totalTokenThroughput, ...rest } = row(4);
    void [itlMs, totalInputTokens, totalOutputTokens, totalTokenThroughput];
    const predicate = { verdict: 'passed', model: 'm', gpu: { gpus: [{ gfx: 'gfx942', memoryBytes: 1 }] }, load: { settings: SETTINGS, rows: [{ ...rest, outputTokensPerSecond: outputThroughput, requestsPerSecond: requestThroughput }] } };
    const figures = baselineFrom(predicate, 'ghcr.io/o/v@sha256:' + 'a'.repeat(64));
    assert.equal(figures.gfx, 'gfx942');
    assert.deepEqual([figures.rows[0]!.outputThroughput, figures.rows[0]!.requestThroughput, figures.rows[0]!.itlMs.median], [1000, 8, 0]);
    assert.throws(() => baselineFrom({ ...predicate, verdict: 'failed' }, 'p'), /record of a failed smoke test/);
  });

  const hostile: Array<[string, unknown, RegExp]> = [
    ['not an object', [1, 2], /the document is not an object/],
    ['a failed run', { ...good, passed: false }, /record of a failed smoke test/],
    ['no rows (a report from before sweeps)', { ...good, load: { settings: SETTINGS, rows: [] } }, /load\.rows is not a list of 1 to 64 rows/],
    ['a figure as a string', { ...good, load: { settings: SETTINGS, rows: [{ ...row(1), outputThroughput: '1000' }] } }, /load\.rows\[0\]\.outputThroughput is not a finite number/],
    ['a negative figure', { ...good, load: { settings: SETTINGS, rows: [{ ...row(1), ttftMs: { ...row(1).ttftMs, p99: -1 } }] } }, /load\.rows\[0\]\.ttftMs\.p99 is not a finite number/],
    ['a model of 10 000 characters', { ...good, model: 'm'.repeat(10_000) }, /model is not a string of at most 512/],
    ['a fractional input length', { ...good, load: { ...good.load, settings: { ...SETTINGS, inputLen: 1.5 } } }, /inputLen is not an integer/],
    ['too many rows', { ...good, load: { settings: SETTINGS, rows: Array.from({ length: 65 }, () => row(1)) } }, /load\.rows is not a list of 1 to 64 rows/],
  ];
  for (const [what, value, error] of hostile) {
    test(`refused: ${what}`, () => assert.throws(() => baselineFrom(value, 'b.json'), (e: Error) => e.name === 'BaselineError' && error.test(e.message) && e.message.startsWith('the baseline b.json:')));
  }

  test('refused: a number JSON reads as Infinity (1e999), a file that is not JSON, a file past the size limit, a directory, a missing file', async () => {
    const inf = join(dir, 'inf.json');
    writeFileSync(inf, JSON.stringify(good).replace('"outputThroughput":1000', '"outputThroughput":1e999'));
    await assert.rejects(readBaselineFile(inf), /outputThroughput is not a finite number/);
    const garbage = join(dir, 'garbage.json');
    writeFileSync(garbage, '{"passed": tru');
    await assert.rejects(readBaselineFile(garbage), /is not JSON/);
    const big = join(dir, 'big.json');
    writeFileSync(big, Buffer.alloc(MAX_BASELINE_BYTES + 10, 0x20));
    await assert.rejects(readBaselineFile(big), /larger than 4194304 bytes/);
    await assert.rejects(readBaselineFile(dir), /is not a file/);
    await assert.rejects(readBaselineFile(join(dir, 'none.json')), /cannot be read \(ENOENT\)/);
  });

  test("an attestation's predicates: cosign's envelopes, one a line; other types and garbage left out", () => {
    const envelope = (predicateType: string, predicate: unknown) => JSON.stringify({ payloadType: 'application/vnd.in-toto+json', payload: Buffer.from(JSON.stringify({ _type: 'https://in-toto.io/Statement/v0.1', predicateType, subject: [], predicate })).toString('base64'), signatures: [] });
    const type = 'https://github.com/vllm-rocm-action/vllm-rocm-action/predicates/smoke-test/v1';
    const out = [envelope('https://slsa.dev/provenance/v1', { no: 1 }), 'not json {', envelope(type, good), '{"payload": 5}'].join('\n');
    assert.deepEqual(predicatesOf(out, type), [good]);
  });
});

describe('inputs of the load and the gate', () => {
  test('defaults: vllm bench serve random dataset lengths, seed 0, request-rate inf, concurrency 4, regression 10%', () => {
    const parsed = inputs({ image: 'x' });
    assert.deepEqual(parsed.load, { inputLen: 1024, outputLen: 128, seed: 0, requestRate: 'inf', concurrency: [4] });
    assert.equal(parsed.gate.maxRegressionPercent, 10);
    assert.equal(parsed.gate.baseline, undefined);
  });

  test('a concurrency sweep, a request rate, thresholds, a report file or an image baseline', () => {
    const parsed = inputs({ image: 'x', concurrency: '1, 4\n16', 'request-rate': '2.5', 'min-tokens-per-second': '100', 'max-ttft-ms': '250.5', baseline: 'reports/last.json' });
    assert.deepEqual(parsed.load.concurrency, [1, 4, 16]);
    assert.equal(parsed.load.requestRate, 2.5);
    assert.deepEqual([parsed.gate.minTokensPerSecond, parsed.gate.maxTtftMs], [100, 250.5]);
    assert.deepEqual(parsed.gate.baseline, { kind: 'file', path: '/work/reports/last.json' });
    const key = '-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n';
    assert.deepEqual(inputs({ image: 'x', baseline: 'ghcr.io/o/vllm:v1', 'baseline-key': key }).gate.baseline, { kind: 'image', ref: 'ghcr.io/o/vllm:v1' });
  });

  const bad: Array<[Record<string, string>, RegExp]> = [
    [{ concurrency: '4,0' }, /^Input 'concurrency': must be integers from 1 to 10000.*got '0'/],
    [{ concurrency: '4,4' }, /^Input 'concurrency': lists a value twice/],
    [{ 'request-rate': '-1' }, /^Input 'request-rate': must be a number above 0/],
    [{ 'request-rate': 'Infinity' }, /^Input 'request-rate'/],
    [{ 'input-len': '0' }, /^Input 'input-len': must be an integer from 1 to 131072/],
    [{ 'max-ttft-ms': 'NaN' }, /^Input 'max-ttft-ms'/],
    [{ 'max-regression-percent': '150' }, /^Input 'max-regression-percent': must be a number above 0 and at most 100/],
    [{ baseline: 'ghcr.io/o/vllm:v1' }, /^Input 'baseline': an image baseline is read from its attestation, verified: set baseline-key/],
    [{ baseline: 'a b; rm -rf /' }, /^Input 'baseline': must be a smoke-test report file/],
    [{ baseline: 'r.json', 'baseline-key': 'x' }, /^Input 'baseline-key': must hold a PEM public key/],
    [{ 'baseline-certificate-identity': 'me' }, /^Input 'baseline-certificate-oidc-issuer': keyless verification needs both/],
    [{ 'min-tokens-per-second': '10', requests: '0' }, /^Input 'requests': must be above 0 when min-tokens-per-second/],
  ];
  for (const [values, error] of bad) {
    test(`refused: ${JSON.stringify(values)}`, () => assert.throws(() => inputs({ image: 'x', ...values }), (e: Error) => e.name === 'InputError' && error.test(e.message)));
  }
});

test('github-action-benchmark JSON: a list of {name, unit, value, extra} per tool, stable names per concurrency', () => {
  const { bigger, smaller } = benchmarkEntries([row(1), row(4)], { model: 'm', gpu: 'gfx1151 Radeon', settings: SETTINGS });
  assert.deepEqual(bigger.map((e) => e.name), ['concurrency 1: output throughput', 'concurrency 1: request throughput', 'concurrency 4: output throughput', 'concurrency 4: request throughput']);
  assert.equal(smaller.length, 12);
  assert.deepEqual(Object.keys(smaller[0]!), ['name', 'unit', 'value', 'extra']);
  assert.equal(smaller.find((e) => e.name === 'concurrency 4: TTFT p99')!.value, 75);
  assert.match(bigger[0]!.extra!, /model: m\ngpu: gfx1151 Radeon\ninput-len 1024, output-len 128, request-rate inf, seed 0/);
});
