// The smoke test's record: what ran, what it measured, and, on failure, the diagnosis. Written as
// JSON (the `report` output) and rendered into the job summary.
import type { PreflightRow, Gpu } from '../rocm/preflight.js';
import type { ProbeVerdict } from '../rocm/probe.js';
import type { GpuSample } from '../rocm/sample.js';
import type { LoadStats } from '../serve/load.js';
import { codeBlock, codeSpan, plainText } from '../tool/markdown.js';
import type { GateResult } from './gate.js';
import type { LoadSettings } from './inputs.js';

export interface Diagnosis {
  phase: 'inputs' | 'preflight' | 'image' | 'probe' | 'start' | 'startup' | 'test' | 'gate';
  title: string;
  message: string;
  signature?: { id: string; title: string; meaning: string; fix: string; line: string };
  logTail: string[];
}

export interface SmokeReport {
  passed: boolean;
  image?: string;
  command?: string[];
  model: string;
  gpu: string;
  /** The GPU target the figures were measured on (the preflight's, or expected-gfx); '' for gpu: none. */
  gfx: string;
  preflight: PreflightRow[];
  gpus: Gpu[];
  probe?: ProbeVerdict;
  /** How the container's arguments were chosen (src/serve/server-args.ts), for an image. */
  /** How the server's arguments were chosen, as one line of text (the args in backticks, then why). */
  serverArgs?: string;
  serverArgsReason?: string;
  /** The image's ENTRYPOINT ([] when none) and the arguments the container was given. */
  entrypoint?: string[];
  args?: string[];
  startupSeconds?: number;
  models?: string[];
  completion?: { text: string; ms: number };
  chat?: { text: string; ms: number };
  ttftMs?: number;
  /** The throughput run: its settings, and one row per concurrency value, in the input's order. */
  load?: { settings: LoadSettings; rows: LoadStats[] };
  /** The performance gate: each figure against the limits and the baseline. */
  gate?: GateResult;
  metrics?: { series: number; key: Record<string, number> };
  gpuBefore?: GpuSample;
  gpuAfter?: GpuSample;
  failure?: Diagnosis;
  logFile?: string;
}

const ICON: Record<string, string> = { pass: '✅', warn: '⚠️', fail: '❌', info: 'ℹ️' };

/** Server and tool text in a table cell: shown as it is, never as markup. */
function cell(text: string | undefined): string {
  return plainText(text ?? '');
}

function ms(value: number | undefined): string {
  return value === undefined ? '' : `${value.toFixed(1)} ms`;
}

export function renderSummary(r: SmokeReport): string {
  const out: string[] = [];
  out.push(`### Smoke test: ${r.passed ? '✅ passed' : '❌ failed'}`, '');
  out.push(`${r.image ? `Image ${codeSpan(r.image)}` : `Command ${codeSpan((r.command ?? []).join(' '))}`}, model ${codeSpan(r.model)}${r.gpu ? `, GPU ${plainText(r.gpu)}` : ''}.`, '');
  // The args come from the image's config or the workflow: shown as a code span, the reason as text.
  if (r.args) out.push(`Server arguments: ${codeSpan(r.args.join(' '))}${r.serverArgsReason ? ` (${plainText(r.serverArgsReason)})` : ''}.`, '');
  if (r.failure) {
    // The message and the log carry server output: text, never markup that could close its fence.
    const f = r.failure;
    out.push(`**${plainText(f.title)}** (${f.phase}): ${plainText(f.message)}`, '');
    if (f.signature) out.push(`- Signature: ${codeSpan(f.signature.line.trim().slice(0, 300))}`, `- Meaning: ${f.signature.meaning}`, `- Fix: ${f.signature.fix}`, '');
    if (f.logTail.length) out.push('<details><summary>Last server log lines</summary>', '', ...codeBlock(f.logTail.map((l) => l.slice(0, 500))), '</details>', '');
  }
  if (r.preflight.length) {
    out.push('#### Preflight', '', '| check | verdict | detail | fix |', '|---|---|---|---|');
    for (const row of r.preflight) out.push(`| ${cell(row.check)} | ${ICON[row.verdict]} ${row.verdict} | ${cell(row.detail)} | ${cell(row.fix)} |`);
    out.push('');
  }
  if (r.probe) out.push(`In-image probe: ${r.probe.ok ? '✅' : '❌'} ${r.probe.verdict}: ${plainText(r.probe.detail)}`, '');
  const rows: Array<[string, string]> = [];
  if (r.startupSeconds !== undefined) rows.push(['Startup (start → /health 200)', `${r.startupSeconds.toFixed(1)} s`]);
  if (r.ttftMs !== undefined) rows.push(['Time to first token (one streamed request)', ms(r.ttftMs)]);
  if (r.metrics) rows.push(['/metrics', `${r.metrics.series} vllm:* samples${Object.entries(r.metrics.key).map(([k, v]) => `, ${k} ${Number.isInteger(v) ? v : v.toFixed(3)}`).join('')}`]);
  if (rows.length) out.push('#### Timings', '', '| | |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${v.replace(/\|/g, '\\|')} |`), '');
  if (r.load) out.push(...loadTable(r.load));
  if (r.gate) out.push(...gateTable(r.gate));
  if (r.completion) out.push('#### Sample answer', '', `Completion (greedy, ${ms(r.completion.ms)}): ${codeSpan(r.completion.text.trim().slice(0, 500))}`, '');
  if (r.chat) out.push(`Chat (greedy, ${ms(r.chat.ms)}): ${codeSpan(r.chat.text.trim().slice(0, 500))}`, '');
  const gpuRows = gpuFigures(r);
  if (gpuRows.length) out.push('#### GPU', '', '| GPU | | before | after |', '|---|---|---|---|', ...gpuRows, '');
  return out.join('\n');
}

function gpuFigures(r: SmokeReport): string[] {
  const before = r.gpuBefore?.gpus ?? [];
  const after = r.gpuAfter?.gpus ?? [];
  const rows: string[] = [];
  const fmt = (v: number | undefined, unit: string, scale = 1): string => (v === undefined ? 'N/A' : `${(v / scale).toFixed(unit === 'MiB' ? 0 : 1)} ${unit}`);
  for (const index of [...new Set([...before, ...after].map((g) => g.index))]) {
    const b = before.find((g) => g.index === index);
    const a = after.find((g) => g.index === index);
    rows.push(`| ${index} | VRAM used | ${fmt(b?.vramUsedBytes, 'MiB', 1 << 20)} | ${fmt(a?.vramUsedBytes, 'MiB', 1 << 20)} |`);
    rows.push(`| ${index} | temperature | ${fmt(b?.temperatureC, '°C')} | ${fmt(a?.temperatureC, '°C')} |`);
    rows.push(`| ${index} | power | ${fmt(b?.powerW, 'W')} | ${fmt(a?.powerW, 'W')} |`);
  }
  return rows;
}

function loadTable(load: NonNullable<SmokeReport['load']>): string[] {
  const s = load.settings;
  const out = [
    '#### Throughput run (as vllm bench serve)',
    '',
    `Random prompts of ${s.inputLen} tokens (seed ${s.seed}), ${s.outputLen} output tokens each (ignore_eos), request rate ${s.requestRate === 'inf' ? 'inf (all at once)' : `${s.requestRate}/s (Poisson)`}.`,
    '',
    '| concurrency | requests | failed | output tokens/s | requests/s | input tokens/request | TTFT p50 / p99 | TPOT p50 / p99 | ITL p50 / p99 | E2EL p50 / p99 |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const l of load.rows) {
    out.push(
      `| ${l.concurrency} | ${l.completed}/${l.requests} | ${l.failed ? `${l.failed}: ${plainText(l.errors.slice(0, 3).join('; '))}` : '0'} | ${l.outputThroughput.toFixed(1)} | ${l.requestThroughput.toFixed(2)} | ${l.completed ? (l.totalInputTokens / l.completed).toFixed(0) : '-'} | ${ms(l.ttftMs.median)} / ${ms(l.ttftMs.p99)} | ${ms(l.tpotMs.median)} / ${ms(l.tpotMs.p99)} | ${ms(l.itlMs.median)} / ${ms(l.itlMs.p99)} | ${ms(l.e2elMs.median)} / ${ms(l.e2elMs.p99)} |`,
    );
  }
  out.push('');
  return out;
}

function gateTable(gate: GateResult): string[] {
  const out = [`#### Performance gate: ${gate.failures.length ? '❌ failed' : '✅ passed'}`, ''];
  const b = gate.baseline;
  if (b) out.push(b.applies ? `Baseline ${codeSpan(b.source)}; a figure worse by more than ${b.maxRegressionPercent}% fails.` : `ℹ️ The baseline ${codeSpan(b.source)} does not apply: ${plainText(b.reason ?? '')}. Only the absolute limits were checked.`, '');
  out.push('| concurrency | figure | value | baseline | change | limit | verdict |', '|---|---|---|---|---|---|---|');
  for (const row of gate.rows) {
    const value = `${row.value.toFixed(row.unit === 'requests/s' ? 2 : 1)} ${row.unit}`;
    const base = row.baseline === undefined ? '' : `${row.baseline.toFixed(row.unit === 'requests/s' ? 2 : 1)} ${row.unit}`;
    const change = row.changePercent === undefined ? '' : `${row.changePercent >= 0 ? '+' : ''}${row.changePercent.toFixed(1)}%`;
    out.push(`| ${row.concurrency} | ${row.figure} | ${value} | ${base} | ${change} | ${row.limit ?? ''} | ${ICON[row.verdict]} ${row.verdict} |`);
  }
  out.push('');
  return out;
}
