// The baseline: an earlier smoke-test report, from a file (an artifact) or from the smoke-test
// attestation of an image, verified by cosign. Either way it is untrusted input: bounded in size,
// and only the figures the gate needs are taken, each checked for its type and a finite value.
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cosignVerifyAttestation, SMOKE_TEST_PREDICATE_TYPE } from '../registry/cosign.js';
import { parseReference, isLoopback } from '../registry/reference.js';
import { ToolMissingError } from '../tool/capture.js';
import type { Distribution, LoadStats } from '../serve/load.js';
import type { BaselineFigures } from './gate.js';
import type { GateSettings, LoadSettings } from './inputs.js';

/** A report is a few tens of KiB; far more is not one. */
export const MAX_BASELINE_BYTES = 4 << 20;
const MAX_ROWS = 64;

export class BaselineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BaselineError';
  }
}

/** Reads at most MAX_BASELINE_BYTES + 1 bytes: a larger file is refused without reading it all. */
export async function readBaselineFile(path: string): Promise<BaselineFigures> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw new BaselineError(`the baseline report ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  try {
    if (!(await handle.stat()).isFile()) throw new BaselineError(`the baseline ${path} is not a file`);
    const buffer = Buffer.alloc(MAX_BASELINE_BYTES + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > MAX_BASELINE_BYTES) throw new BaselineError(`the baseline report ${path} is larger than ${MAX_BASELINE_BYTES} bytes: not a smoke-test report`);
    }
    return baselineFrom(parseJson(buffer.subarray(0, length).toString('utf8'), path), path);
  } finally {
    await handle.close();
  }
}

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new BaselineError(`the baseline ${source} is not JSON (${(error as Error).message})`);
  }
}

type Json = Record<string, unknown>;

function object(value: unknown, where: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new BaselineError(`${where} is not an object`);
  return value as Json;
}

function finite(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new BaselineError(`${where} is not a finite number of 0 or more (got ${JSON.stringify(value)?.slice(0, 40)})`);
  return value;
}

function text(value: unknown, where: string, max = 512): string {
  if (typeof value !== 'string' || value.length > max) throw new BaselineError(`${where} is not a string of at most ${max} characters`);
  return value;
}

function distribution(value: unknown, where: string): Distribution {
  const d = object(value, where);
  return { mean: finite(d.mean, `${where}.mean`), median: finite(d.median, `${where}.median`), p90: finite(d.p90, `${where}.p90`), p99: finite(d.p99, `${where}.p99`), max: finite(d.max, `${where}.max`) };
}

function settings(value: unknown, where: string): LoadSettings {
  const s = object(value, where);
  const integer = (v: unknown, name: string): number => {
    const n = finite(v, `${where}.${name}`);
    if (!Number.isInteger(n)) throw new BaselineError(`${where}.${name} is not an integer`);
    return n;
  };
  const rate = s.requestRate === 'inf' ? 'inf' : finite(s.requestRate, `${where}.requestRate`);
  if (!Array.isArray(s.concurrency) || s.concurrency.length === 0 || s.concurrency.length > MAX_ROWS) throw new BaselineError(`${where}.concurrency is not a list of 1 to ${MAX_ROWS} values`);
  return { inputLen: integer(s.inputLen, 'inputLen'), outputLen: integer(s.outputLen, 'outputLen'), seed: integer(s.seed, 'seed'), requestRate: rate, concurrency: s.concurrency.map((c, i) => integer(c, `concurrency[${i}]`)) };
}

const NONE: Distribution = { mean: 0, median: 0, p90: 0, p99: 0, max: 0 };

/**
 * One concurrency row. The report's names, or the smoke-test predicate's where it renames them
 * (outputTokensPerSecond, requestsPerSecond); a figure a predicate leaves out (ITL, token totals)
 * reads 0, which the gate never compares (no per cent of 0).
 */
function row(value: unknown, where: string): LoadStats {
  const r = object(value, where);
  const n = (name: string, alias?: string): number => (r[name] === undefined && alias !== undefined && r[alias] !== undefined ? finite(r[alias], `${where}.${alias}`) : finite(r[name], `${where}.${name}`));
  const optional = (name: string): number => (r[name] === undefined ? 0 : n(name));
  return {
    requests: n('requests'),
    concurrency: n('concurrency'),
    completed: n('completed'),
    failed: n('failed'),
    durationS: n('durationS'),
    requestThroughput: n('requestThroughput', 'requestsPerSecond'),
    outputThroughput: n('outputThroughput', 'outputTokensPerSecond'),
    totalTokenThroughput: optional('totalTokenThroughput'),
    totalInputTokens: optional('totalInputTokens'),
    totalOutputTokens: optional('totalOutputTokens'),
    ttftMs: distribution(r.ttftMs, `${where}.ttftMs`),
    tpotMs: distribution(r.tpotMs, `${where}.tpotMs`),
    itlMs: r.itlMs === undefined ? NONE : distribution(r.itlMs, `${where}.itlMs`),
    e2elMs: distribution(r.e2elMs, `${where}.e2elMs`),
    errors: [],
  };
}

/** The GPU target: the report's gfx, or the first GPU of a predicate's gpu.gpus. */
function gfxOf(report: Json): string {
  if (report.gfx !== undefined) return text(report.gfx, 'gfx', 32);
  if (typeof report.gpu === 'object' && report.gpu !== null) {
    const gpus = (report.gpu as Json).gpus;
    if (Array.isArray(gpus) && gpus.length > 0) return text(object(gpus[0], 'gpu.gpus[0]').gfx, 'gpu.gpus[0].gfx', 32);
  }
  return '';
}

/**
 * The gate's figures out of a smoke-test report (or a predicate holding the report's `model`,
 * `gfx` and `load`, as the smoke-test attestation does): copied field by field, never merged.
 */
export function baselineFrom(value: unknown, source: string): BaselineFigures {
  const where = `the baseline ${source}:`;
  try {
    const report = object(value, 'the document');
    if (report.passed === false || report.verdict === 'failed') throw new BaselineError('it is the record of a failed smoke test');
    const load = object(report.load, 'load');
    if (!Array.isArray(load.rows) || load.rows.length === 0 || load.rows.length > MAX_ROWS) throw new BaselineError(`load.rows is not a list of 1 to ${MAX_ROWS} rows (a report from before input-len/concurrency sweeps has none)`);
    return {
      source,
      model: text(report.model, 'model'),
      gfx: gfxOf(report),
      settings: settings(load.settings, 'load.settings'),
      rows: load.rows.map((r, i) => row(r, `load.rows[${i}]`)),
    };
  } catch (error) {
    if (error instanceof BaselineError) throw new BaselineError(`${where} ${error.message}`);
    throw error;
  }
}

/** Where the gate's baseline comes from: a file, or an image's attestation through `attestation`. */
export async function loadBaseline(gate: GateSettings, attestation: (ref: string) => Promise<unknown>): Promise<BaselineFigures | undefined> {
  if (!gate.baseline) return undefined;
  if (gate.baseline.kind === 'file') return readBaselineFile(gate.baseline.path);
  return baselineFrom(await attestation(gate.baseline.ref), gate.baseline.ref);
}

/**
 * Reads an image's smoke-test attestation with `cosign verify-attestation`, with the runner's
 * Docker login; the key (a public key, not a secret) is written to `dir`. Of several verified
 * attestations the last cosign lists is taken.
 */
export function cosignAttestationReader(gate: GateSettings, dir: string): (ref: string) => Promise<unknown> {
  return async (ref) => {
    let host: string;
    try {
      host = parseReference(ref).host;
    } catch (error) {
      throw new BaselineError(`the baseline image ${ref} is not an image reference (${(error as Error).message})`);
    }
    let keyFile: string | undefined;
    if (gate.baselineKey) {
      keyFile = join(dir, 'baseline-cosign.pub');
      await writeFile(keyFile, gate.baselineKey.trim() + '\n', { mode: 0o644 });
    }
    let predicates: unknown[];
    try {
      predicates = await cosignVerifyAttestation({ ref, predicateType: SMOKE_TEST_PREDICATE_TYPE, keyFile, identity: gate.baselineIdentity, transparencyLog: gate.baselineTransparencyLog, http: isLoopback(host) });
    } catch (error) {
      if (error instanceof ToolMissingError) throw new BaselineError(`an image baseline is read with cosign, which is not installed (sigstore/cosign-installer installs it): ${error.message}`);
      throw new BaselineError(`the smoke-test attestation of ${ref} could not be verified: ${(error as Error).message}`);
    }
    if (predicates.length === 0) throw new BaselineError(`${ref} has no verified attestation of type ${SMOKE_TEST_PREDICATE_TYPE}`);
    return predicates[predicates.length - 1];
  };
}
