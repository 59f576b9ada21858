// The job summary: what was built, as a table.
import * as core from '@actions/core';
import type { BuiltImage } from './build.js';
import type { BuildDockerInputs } from './inputs.js';

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

export function summaryRows(inputs: BuildDockerInputs, image: BuiltImage, cache: string, sourceDateEpoch: number): Array<[string, string]> {
  const rows: Array<[string, string]> = [
    ['Dockerfile', `\`${inputs.file}\`${inputs.target ? ` (target \`${inputs.target}\`)` : ''}`],
    ['Platform', inputs.platform],
    ['Digest', `\`${image.digest}\``],
    ['Config digest', `\`${image.configDigest}\``],
    ['Size', `${formatBytes(image.sizeBytes)} (${image.sizeBytes} bytes)`],
    ['Build time', `${image.buildSeconds.toFixed(1)} s`],
    ['Cache', `${cache}: ${image.cacheHit.cached}/${image.cacheHit.total} steps cached`],
    ['SOURCE_DATE_EPOCH', String(sourceDateEpoch)],
    ['Output', image.archive ? `OCI archive \`${image.archive}\`` : inputs.output === 'registry' ? `pushed to ${inputs.tags.join(', ')}` : 'loaded into the Docker engine'],
  ];
  if (inputs.tags.length > 0 && inputs.output !== 'registry') rows.push(['Tags', inputs.tags.join(', ')]);
  return rows;
}

export async function writeSummary(rows: Array<[string, string]>): Promise<void> {
  await core.summary
    .addHeading('Docker image built', 3)
    .addRaw(['| | |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${v.replace(/\|/g, '\\|')} |`)].join('\n'), true)
    .write();
}
