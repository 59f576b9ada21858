// The figures as benchmark-action/github-action-benchmark reads them, so a team can keep their
// history with it: its `customBiggerIsBetter` and `customSmallerIsBetter` tools each read a JSON
// array of {name, unit, value, range?, extra?} (src/extract.ts extractCustomBenchmarkResult), one
// tool per file, hence two files.
import type { LoadStats } from '../serve/load.js';
import { FIGURES } from './gate.js';
import type { LoadSettings } from './inputs.js';

export interface BenchmarkEntry {
  name: string;
  unit: string;
  value: number;
  extra?: string;
}

/** Stable names across runs ("concurrency 4: TTFT p99"); what was measured goes in `extra`. */
export function benchmarkEntries(rows: readonly LoadStats[], context: { model: string; gpu: string; settings: LoadSettings }): { bigger: BenchmarkEntry[]; smaller: BenchmarkEntry[] } {
  const bigger: BenchmarkEntry[] = [];
  const smaller: BenchmarkEntry[] = [];
  const s = context.settings;
  for (const row of rows) {
    const extra = `model: ${context.model}\ngpu: ${context.gpu || 'none'}\ninput-len ${s.inputLen}, output-len ${s.outputLen}, request-rate ${s.requestRate}, seed ${s.seed}\n${row.completed}/${row.requests} requests, ${row.failed} failed`;
    for (const figure of FIGURES) {
      const entry = { name: `concurrency ${row.concurrency}: ${figure.name}`, unit: figure.unit, value: Number(figure.of(row).toFixed(3)), extra };
      (figure.better === 'bigger' ? bigger : smaller).push(entry);
    }
  }
  return { bigger, smaller };
}
