// The performance gate: each concurrency row's figures against absolute limits and against a
// baseline (an earlier run's report). A baseline judges only like with like: the same model, GPU
// target and load settings; otherwise it does not apply, which is a notice, not a failure.
import type { LoadStats } from '../serve/load.js';
import type { GateSettings, LoadSettings } from './inputs.js';

/** What a baseline must hold, validated out of untrusted JSON (src/smoke-test/baseline.ts). */
export interface BaselineFigures {
  /** Where it came from, for the summary: a file path or an image reference. */
  source: string;
  model: string;
  gfx: string;
  settings: LoadSettings;
  rows: LoadStats[];
}

/** The figures compared, how each reads from a row, and which way is better. */
export const FIGURES = [
  { key: 'outputThroughput', name: 'output throughput', unit: 'tokens/s', better: 'bigger', of: (r: LoadStats) => r.outputThroughput },
  { key: 'requestThroughput', name: 'request throughput', unit: 'requests/s', better: 'bigger', of: (r: LoadStats) => r.requestThroughput },
  { key: 'ttftMedian', name: 'TTFT p50', unit: 'ms', better: 'smaller', of: (r: LoadStats) => r.ttftMs.median },
  { key: 'ttftP99', name: 'TTFT p99', unit: 'ms', better: 'smaller', of: (r: LoadStats) => r.ttftMs.p99 },
  { key: 'tpotMedian', name: 'TPOT p50', unit: 'ms', better: 'smaller', of: (r: LoadStats) => r.tpotMs.median },
  { key: 'itlMedian', name: 'ITL p50', unit: 'ms', better: 'smaller', of: (r: LoadStats) => r.itlMs.median },
  { key: 'e2elMedian', name: 'E2EL p50', unit: 'ms', better: 'smaller', of: (r: LoadStats) => r.e2elMs.median },
  { key: 'e2elP99', name: 'E2EL p99', unit: 'ms', better: 'smaller', of: (r: LoadStats) => r.e2elMs.p99 },
] as const;

export type Verdict = 'pass' | 'fail' | 'info';

export interface GateRow {
  concurrency: number;
  figure: string;
  unit: string;
  value: number;
  baseline?: number;
  /** (value − baseline) / baseline × 100. */
  changePercent?: number;
  /** The absolute limit that applies, e.g. "≥ 100", "≤ 250". */
  limit?: string;
  verdict: Verdict;
  /** Why it failed, naming the figure. */
  why?: string;
}

export interface GateResult {
  baseline?: { source: string; applies: boolean; reason?: string; maxRegressionPercent: number };
  rows: GateRow[];
  /** One line per failed figure; empty when the gate passed. */
  failures: string[];
}

/** Why this baseline cannot judge this run, or undefined when it can. */
export function notComparable(current: { model: string; gfx: string; settings: LoadSettings }, base: BaselineFigures): string | undefined {
  const differ: string[] = [];
  if (current.model !== base.model) differ.push(`model ${base.model} (this run: ${current.model})`);
  if (current.gfx !== base.gfx) differ.push(`GPU ${base.gfx || 'none'} (this run: ${current.gfx || 'none'})`);
  const s = current.settings;
  const b = base.settings;
  if (s.inputLen !== b.inputLen) differ.push(`input-len ${b.inputLen} (this run: ${s.inputLen})`);
  if (s.outputLen !== b.outputLen) differ.push(`output-len ${b.outputLen} (this run: ${s.outputLen})`);
  if (String(s.requestRate) !== String(b.requestRate)) differ.push(`request-rate ${b.requestRate} (this run: ${s.requestRate})`);
  if (!s.concurrency.some((c) => b.concurrency.includes(c))) differ.push(`concurrency ${b.concurrency.join(', ')} (this run: ${s.concurrency.join(', ')})`);
  return differ.length ? `the baseline was measured with ${differ.join('; ')}` : undefined;
}

function fmt(value: number): string {
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toFixed(Math.abs(value) >= 10 ? 1 : 2);
}

export function evaluateGate(current: { model: string; gfx: string; settings: LoadSettings; rows: readonly LoadStats[] }, gate: GateSettings, base?: BaselineFigures): GateResult {
  const result: GateResult = { rows: [], failures: [] };
  const reason = base ? notComparable(current, base) : undefined;
  if (base) result.baseline = { source: base.source, applies: reason === undefined, reason, maxRegressionPercent: gate.maxRegressionPercent };
  const limits: Record<string, { bound: number; kind: 'min' | 'max'; input: string } | undefined> = {
    outputThroughput: gate.minTokensPerSecond === undefined ? undefined : { bound: gate.minTokensPerSecond, kind: 'min', input: 'min-tokens-per-second' },
    ttftP99: gate.maxTtftMs === undefined ? undefined : { bound: gate.maxTtftMs, kind: 'max', input: 'max-ttft-ms' },
    e2elP99: gate.maxP99LatencyMs === undefined ? undefined : { bound: gate.maxP99LatencyMs, kind: 'max', input: 'max-p99-latency-ms' },
  };
  for (const row of current.rows) {
    const baseRow = base && reason === undefined ? base.rows.find((r) => r.concurrency === row.concurrency) : undefined;
    for (const figure of FIGURES) {
      const value = figure.of(row);
      const out: GateRow = { concurrency: row.concurrency, figure: figure.name, unit: figure.unit, value, verdict: 'info' };
      const why: string[] = [];
      const limit = limits[figure.key];
      if (limit) {
        out.limit = `${limit.kind === 'min' ? '≥' : '≤'} ${limit.bound}`;
        const broken = limit.kind === 'min' ? value < limit.bound : value > limit.bound;
        if (broken) why.push(`${figure.name} ${fmt(value)} ${figure.unit} at concurrency ${row.concurrency} is ${limit.kind === 'min' ? 'below' : 'above'} ${limit.input} ${limit.bound}`);
        out.verdict = 'pass';
      }
      if (baseRow) {
        const before = figure.of(baseRow);
        out.baseline = before;
        if (before > 0) {
          out.changePercent = ((value - before) / before) * 100;
          const worse = figure.better === 'bigger' ? -out.changePercent : out.changePercent;
          if (worse > gate.maxRegressionPercent) {
            why.push(`${figure.name} at concurrency ${row.concurrency} is ${fmt(Math.abs(out.changePercent))}% ${figure.better === 'bigger' ? 'lower' : 'higher'} than the baseline (${fmt(value)} against ${fmt(before)} ${figure.unit}; max-regression-percent ${gate.maxRegressionPercent})`);
          }
        }
        out.verdict = 'pass';
      }
      if (why.length) {
        out.verdict = 'fail';
        out.why = why.join('; ');
        result.failures.push(...why);
      }
      result.rows.push(out);
    }
  }
  return result;
}
