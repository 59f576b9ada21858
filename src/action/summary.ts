// Job summaries: a heading and a two-column table, as every stage reports.
import * as core from '@actions/core';

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(2)} ${units[unit]}`;
}

export function markdownTable(rows: Array<[string, string]>): string {
  return ['| | |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${v.replace(/\|/g, '\\|')} |`)].join('\n');
}

export async function writeTableSummary(heading: string, rows: Array<[string, string]>): Promise<void> {
  await core.summary.addHeading(heading, 3).addRaw(markdownTable(rows), true).write();
}
