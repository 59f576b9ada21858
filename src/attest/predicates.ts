// The suite's own in-toto predicates, built from its stages' JSON reports: what was checked about
// an image digest, in a versioned shape (docs/attestations.md, docs/predicates/*.schema.json).
// A report may come from a file another job wrote, so it is read as untrusted JSON: every field is
// type-checked, every string and list capped, and the result is checked against the schema.
import { schemaErrors } from './json-schema.js';
import { REPRODUCIBILITY_SCHEMA, SMOKE_TEST_SCHEMA } from './schemas.js';

/** Predicate type URIs: the version is part of the URI; a breaking change makes a v2. */
export const PREDICATE_BASE = 'https://github.com/vllm-rocm-action/vllm-rocm-action/predicates';
export const PREDICATE_TYPES = {
  reproducibility: `${PREDICATE_BASE}/reproducibility/v1`,
  smokeTest: `${PREDICATE_BASE}/smoke-test/v1`,
  /** CycloneDX's own URI for a CycloneDX document as an in-toto predicate (in-toto attestation spec). */
  sbom: 'https://cyclonedx.org/bom',
} as const;

/** Causes listed in a reproducibility predicate (all are counted). */
export const MAX_CAUSES = 20;
const MAX_EXAMPLES = 3;
const MAX_TEXT = 500;

export class ReportError extends Error {}

type Json = Record<string, unknown>;

function object(value: unknown, what: string): Json {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new ReportError(`${what} is not a JSON object`);
  return value as Json;
}

function text(value: unknown, what: string, optional: true): string | undefined;
function text(value: unknown, what: string, optional?: false): string;
function text(value: unknown, what: string, optional = false): string | undefined {
  if (value === undefined && optional) return undefined;
  if (typeof value !== 'string') throw new ReportError(`${what} is not a string`);
  // Control characters are dropped: the predicate is data for people and policies, never a terminal's input.
  // eslint-disable-next-line no-control-regex
  const clean = value.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '');
  return clean.length > MAX_TEXT ? `${clean.slice(0, MAX_TEXT - 1)}…` : clean;
}

function count(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new ReportError(`${what} is not a count`);
  return value;
}

function figure(value: unknown, what: string, optional: true): number | undefined;
function figure(value: unknown, what: string, optional?: false): number;
function figure(value: unknown, what: string, optional = false): number | undefined {
  if (value === undefined && optional) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new ReportError(`${what} is not a non-negative number`);
  return Math.round(value * 1000) / 1000;
}

function flag(value: unknown, what: string): boolean {
  if (typeof value !== 'boolean') throw new ReportError(`${what} is not true or false`);
  return value;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

function digest(value: unknown, what: string): string {
  if (typeof value !== 'string' || !DIGEST.test(value)) throw new ReportError(`${what} is not a sha256 digest`);
  return value;
}

function checked<T>(predicate: T, schema: Record<string, unknown>, what: string): T {
  const errors = schemaErrors(schema, predicate);
  if (errors.length) throw new ReportError(`the ${what} predicate does not fit its schema: ${errors.slice(0, 3).join('; ')}`);
  return predicate;
}

export interface ReproducibilityPredicate {
  verdict: 'reproducible' | 'not-reproducible';
  /** Same top digest; contentReproducible: same images once attestations (and compression) are set aside. */
  reproducible: boolean;
  contentReproducible: boolean;
  method: {
    /** two-builds: this runner built twice (or two archives were compared); two-runners: two jobs' descriptions. */
    kind: 'two-builds' | 'two-runners';
    builder?: string;
    a: { input: string; kind: string };
    b: { input: string; kind: string };
  };
  digests: { a: string; b: string };
  counts: { differences: number; filesCompared: number; filesDiffering: number };
  /** In the report's order (rarest first, consequences last), at most MAX_CAUSES. */
  causes: Array<{ kind: string; count: number; cause: string; fix: string; fixLabel: string; examples: string[] }>;
  causesOmitted: number;
  report: { schema: string; sha256: string };
}

/** The reproducibility predicate from verify-reproducibility's report (src/reproducibility/types.ts ComparisonReport). */
export function reproducibilityPredicate(report: unknown, reportSha256: string, context: { builder?: string } = {}): ReproducibilityPredicate {
  const r = object(report, 'the reproducibility report');
  if (r.schema !== 'vllm-rocm-action/reproducibility-report/v1') throw new ReportError(`the reproducibility report's schema is ${JSON.stringify(r.schema)}, expected "vllm-rocm-action/reproducibility-report/v1"`);
  const side = (value: unknown, name: string) => {
    const s = object(value, `report.${name}`);
    return { input: text(s.input, `report.${name}.input`), kind: text(s.kind, `report.${name}.kind`) };
  };
  const a = side(r.a, 'a');
  const b = side(r.b, 'b');
  const counts = object(r.counts, 'report.counts');
  if (!Array.isArray(r.causes)) throw new ReportError('report.causes is not a list');
  const causes = r.causes.slice(0, MAX_CAUSES).map((value, i) => {
    const c = object(value, `report.causes[${i}]`);
    if (!Array.isArray(c.examples)) throw new ReportError(`report.causes[${i}].examples is not a list`);
    return {
      kind: text(c.kind, `report.causes[${i}].kind`),
      count: count(c.count, `report.causes[${i}].count`),
      cause: text(c.cause, `report.causes[${i}].cause`),
      fix: text(c.fix, `report.causes[${i}].fix`),
      fixLabel: text(c.fixLabel, `report.causes[${i}].fixLabel`),
      examples: c.examples.slice(0, MAX_EXAMPLES).map((e, j) => text(e, `report.causes[${i}].examples[${j}]`)),
    };
  });
  const reproducible = flag(r.reproducible, 'report.reproducible');
  const digestA = digest(r.digestA, 'report.digestA');
  const digestB = digest(r.digestB, 'report.digestB');
  if (reproducible !== (digestA === digestB)) throw new ReportError(`report.reproducible is ${reproducible} but the digests are ${digestA === digestB ? 'equal' : 'different'}`);
  const description = / \(description\)$/;
  const predicate: ReproducibilityPredicate = {
    verdict: reproducible ? 'reproducible' : 'not-reproducible',
    reproducible,
    contentReproducible: flag(r.contentReproducible, 'report.contentReproducible'),
    method: {
      kind: description.test(a.kind) && description.test(b.kind) ? 'two-runners' : 'two-builds',
      ...(context.builder ? { builder: context.builder } : {}),
      a,
      b,
    },
    digests: { a: digestA, b: digestB },
    counts: {
      differences: count(counts.total, 'report.counts.total'),
      filesCompared: count(counts.filesCompared, 'report.counts.filesCompared'),
      filesDiffering: count(counts.filesDiffering, 'report.counts.filesDiffering'),
    },
    causes,
    causesOmitted: r.causes.length - causes.length,
    report: { schema: r.schema, sha256: digest(reportSha256, 'the report digest') },
  };
  return checked(predicate, REPRODUCIBILITY_SCHEMA, 'reproducibility');
}

export interface Percentiles {
  mean: number;
  median: number;
  p90: number;
  p99: number;
  max: number;
}

export interface LoadRow {
  requests: number;
  completed: number;
  failed: number;
  concurrency: number;
  durationS: number;
  outputTokensPerSecond: number;
  requestsPerSecond: number;
  totalInputTokens: number;
  totalOutputTokens: number;
  ttftMs: Percentiles;
  tpotMs: Percentiles;
  itlMs: Percentiles;
  e2elMs: Percentiles;
}

export interface SmokeTestPredicate {
  verdict: 'passed' | 'failed';
  gpu: {
    gpus: Array<{ gfx: string; name?: string; memoryBytes: number }>;
    rocmVersion?: string;
    driverVersion?: string;
  };
  image?: string;
  command?: string[];
  serverArgs?: string;
  /** The image's ENTRYPOINT ([] when none) and the arguments the server was given. */
  entrypoint?: string[];
  args?: string[];
  model: string;
  startupSeconds?: number;
  ttftMs?: number;
  /** The GPU target the figures were measured on. */
  gfx?: string;
  /** The load as vllm bench serve runs it: its settings, then one row per concurrency of the sweep. */
  load?: {
    settings: { inputLen: number; outputLen: number; seed: number; requestRate: number | 'inf'; concurrency: number[] };
    rows: LoadRow[];
  };
  checks: Array<{ name: string; verdict: 'pass' | 'fail' | 'not-run' }>;
  probe?: { ok: boolean; verdict: string; detail: string };
  failure?: { phase: string; title: string };
}

function percentiles(value: unknown, what: string): Percentiles {
  const d = object(value, what);
  return { mean: figure(d.mean, `${what}.mean`), median: figure(d.median, `${what}.median`), p90: figure(d.p90, `${what}.p90`), p99: figure(d.p99, `${what}.p99`), max: figure(d.max, `${what}.max`) };
}

/** A version from the preflight's row of that name, where the preflight has one. */
function preflightVersion(rows: unknown[], pattern: RegExp): string | undefined {
  for (const row of rows) {
    const r = object(row, 'a preflight row');
    if (typeof r.check === 'string' && pattern.test(r.check) && typeof r.detail === 'string') return text(r.detail, 'a preflight row\'s detail');
  }
  return undefined;
}

/** The smoke-test predicate from smoke-test's report (src/smoke-test/report.ts SmokeReport). */
export function smokeTestPredicate(report: unknown): SmokeTestPredicate {
  const r = object(report, 'the smoke-test report');
  const passed = flag(r.passed, 'report.passed');
  if (!Array.isArray(r.gpus)) throw new ReportError('report.gpus is not a list');
  const preflight = Array.isArray(r.preflight) ? r.preflight.slice(0, 200) : [];
  const gpus = r.gpus.slice(0, 64).map((value, i) => {
    const g = object(value, `report.gpus[${i}]`);
    const name = text(g.name, `report.gpus[${i}].name`, true);
    return { gfx: text(g.gfx, `report.gpus[${i}].gfx`), ...(name ? { name } : {}), memoryBytes: count(g.memoryBytes, `report.gpus[${i}].memoryBytes`) };
  });
  const failure = r.failure === undefined ? undefined : object(r.failure, 'report.failure');
  const testFailed = failure?.phase === 'test';
  const check = (name: string, done: boolean): { name: string; verdict: 'pass' | 'fail' | 'not-run' } => ({ name, verdict: done ? 'pass' : testFailed ? 'fail' : 'not-run' });
  const predicate: SmokeTestPredicate = {
    verdict: passed ? 'passed' : 'failed',
    gpu: {
      gpus,
      ...optional('rocmVersion', text(r.rocmVersion, 'report.rocmVersion', true) ?? preflightVersion(preflight, /^ROCm( version)?$/i)),
      ...optional('driverVersion', text(r.driverVersion, 'report.driverVersion', true) ?? preflightVersion(preflight, /^(amdgpu )?driver( version)?$/i)),
    },
    ...optional('image', text(r.image, 'report.image', true)),
    ...optional('command', r.command === undefined ? undefined : list(r.command, 'report.command', 64)),
    ...optional('serverArgs', text(r.serverArgs, 'report.serverArgs', true)),
    ...optional('entrypoint', r.entrypoint === undefined ? undefined : list(r.entrypoint, 'report.entrypoint', 64)),
    ...optional('args', r.args === undefined ? undefined : list(r.args, 'report.args', 256)),
    model: text(r.model, 'report.model'),
    ...optional('startupSeconds', figure(r.startupSeconds, 'report.startupSeconds', true)),
    ...optional('ttftMs', figure(r.ttftMs, 'report.ttftMs', true)),
    checks: [check('models', Array.isArray(r.models)), check('completion', r.completion !== undefined), check('chat', r.chat !== undefined)],
  };
  const gfx = text(r.gfx, 'report.gfx', true);
  if (gfx) predicate.gfx = gfx;
  if (r.load !== undefined) {
    const l = object(r.load, 'report.load');
    const st = object(l.settings, 'report.load.settings');
    if (!Array.isArray(st.concurrency) || st.concurrency.length > 64) throw new ReportError('report.load.settings.concurrency is not a list of at most 64 values');
    if (!Array.isArray(l.rows) || l.rows.length > 64) throw new ReportError('report.load.rows is not a list of at most 64 rows');
    predicate.load = {
      settings: {
        inputLen: count(st.inputLen, 'report.load.settings.inputLen'),
        outputLen: count(st.outputLen, 'report.load.settings.outputLen'),
        seed: count(st.seed, 'report.load.settings.seed'),
        requestRate: st.requestRate === 'inf' ? 'inf' : figure(st.requestRate, 'report.load.settings.requestRate'),
        concurrency: st.concurrency.map((c, i) => count(c, `report.load.settings.concurrency[${i}]`)),
      },
      rows: l.rows.map((value, i) => {
        const row = object(value, `report.load.rows[${i}]`);
        const at = (name: string): string => `report.load.rows[${i}].${name}`;
        return {
          requests: count(row.requests, at('requests')),
          completed: count(row.completed, at('completed')),
          failed: count(row.failed, at('failed')),
          concurrency: count(row.concurrency, at('concurrency')),
          durationS: figure(row.durationS, at('durationS')),
          outputTokensPerSecond: figure(row.outputThroughput, at('outputThroughput')),
          requestsPerSecond: figure(row.requestThroughput, at('requestThroughput')),
          totalInputTokens: count(row.totalInputTokens, at('totalInputTokens')),
          totalOutputTokens: count(row.totalOutputTokens, at('totalOutputTokens')),
          ttftMs: percentiles(row.ttftMs, at('ttftMs')),
          tpotMs: percentiles(row.tpotMs, at('tpotMs')),
          itlMs: percentiles(row.itlMs, at('itlMs')),
          e2elMs: percentiles(row.e2elMs, at('e2elMs')),
        };
      }),
    };
  }
  if (r.probe !== undefined) {
    const p = object(r.probe, 'report.probe');
    predicate.probe = { ok: flag(p.ok, 'report.probe.ok'), verdict: text(p.verdict, 'report.probe.verdict'), detail: text(p.detail, 'report.probe.detail') };
  }
  if (failure) predicate.failure = { phase: text(failure.phase, 'report.failure.phase'), title: text(failure.title, 'report.failure.title') };
  return checked(predicate, SMOKE_TEST_SCHEMA, 'smoke-test');
}

function list(value: unknown, what: string, max: number): string[] {
  if (!Array.isArray(value)) throw new ReportError(`${what} is not a list`);
  if (value.length > max) throw new ReportError(`${what} has ${value.length} items, at most ${max} are taken`);
  return value.map((v, i) => text(v, `${what}[${i}]`));
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
