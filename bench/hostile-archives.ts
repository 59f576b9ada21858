// Benchmark (not a test) of the image readers on hostile inputs (issue 7 §2): each input of
// test/fixtures/hostile/cases.ts is generated streaming, then read in a child process by the reader
// a stage uses; prints a table of the error, the time and the child's peak RSS (getrusage).
//
//   npx tsc -p tsconfig.json && node24 lib/bench/hostile-archives.js
//
// Environment: BENCH_DIR (scratch directory, default $TMPDIR/bench-hostile; about 60 MB is written),
// BENCH_KEEP=1 (keep the inputs).
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { HOSTILE_CASES, measure, RSS_LIMIT_MIB } from '../test/fixtures/hostile/cases.js';

const DIR = resolve(process.env.BENCH_DIR ?? join(tmpdir(), 'bench-hostile'));
const KEEP = process.env.BENCH_KEEP === '1';

rmSync(DIR, { recursive: true, force: true });
mkdirSync(DIR, { recursive: true });
const rows: string[] = [];
let failed = 0;
try {
  for (const hostile of HOSTILE_CASES) {
    const started = performance.now();
    const args = hostile.make(DIR);
    const generated = (performance.now() - started) / 1000;
    const result = measure(args);
    const ok = result.code === 2 && hostile.error.test(result.error) && result.maxRssMiB <= RSS_LIMIT_MIB;
    if (!ok) failed++;
    const message = result.error.replace(/^error: /, '').replaceAll(DIR + '/', '').replaceAll('|', '\\|');
    rows.push(`| ${hostile.name} | ${message} | ${result.seconds.toFixed(2)} | ${result.maxRssMiB} MiB | ${ok ? 'ok' : '**FAIL**'} | ${generated.toFixed(1)} |`);
    process.stderr.write(`${hostile.name}: ${result.seconds.toFixed(2)} s, ${result.maxRssMiB} MiB\n`);
  }
} finally {
  if (!KEEP) rmSync(DIR, { recursive: true, force: true });
}
console.log(`| input | error | seconds | peak RSS | ≤ ${RSS_LIMIT_MIB} MiB, clear error | (generating, s) |`);
console.log('|---|---|---:|---:|---|---:|');
for (const row of rows) console.log(row);
process.exitCode = failed > 0 ? 1 : 0;
