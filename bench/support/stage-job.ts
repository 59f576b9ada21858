// What the benchmarks read from a stage job: the summary's "Job time by phase" rows, and the load.
import { readFileSync } from 'node:fs';

/** The rows of the "Job time by phase" table post writes (src/action/job-time.ts), as [phase, "12.3 s (45 %)"]. */
export function jobPhases(summary: string): Array<[string, string]> {
  const lines = summary.split('\n');
  const start = lines.findIndex((l) => /Job time by phase/.test(l));
  if (start < 0) return [];
  const rows: Array<[string, string]> = [];
  for (const line of lines.slice(start + 1)) {
    if (rows.length > 0 && !line.startsWith('|')) break;
    const cells = /^\|\s*(.+?)\s*\|\s*(.+?)\s*\|$/.exec(line);
    if (!cells || /^[-:\s|]+$/.test(line) || cells[1] === 'Phase') continue;
    rows.push([cells[1]!.replace(/\*\*/g, ''), cells[2]!.replace(/\*\*/g, '')]);
  }
  return rows;
}

export function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}
