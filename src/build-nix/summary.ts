// The job summary for build-nix.
import { formatBytes, writeTableSummary } from '../action/summary.js';
import type { BuildNixInputs } from './inputs.js';

export async function writeSummary(s: {
  inputs: BuildNixInputs;
  outputs: Record<string, string>;
  imageKind: string;
  cacheKey?: string;
  cacheHit: string;
  pushed: string;
}): Promise<void> {
  const o = s.outputs;
  const rows: Array<[string, string]> = [
    ['Flake', `\`${s.inputs.flake}#packages.${s.inputs.system}.${s.inputs.attr}\``],
    ['Store path', `\`${o['store-path']}\``],
    ['Image', `${s.imageKind}, \`${o['image-archive']}\``],
    ['Digest', `\`${o.digest}\``],
    ['Size', `${formatBytes(Number(o['size-bytes']))} (${o['size-bytes']} bytes)`],
    ['Build time', `${o['build-seconds']} s`],
    ['Paths built / substituted', `${o['paths-built']} / ${o['paths-substituted']}`],
    ['Cache', s.cacheKey ? `gha: ${s.cacheHit} (\`${s.cacheKey}\`)` : 'none'],
  ];
  if (s.pushed) rows.push(['Pushed to', s.pushed]);
  await writeTableSummary('Nix image built', rows);
}
