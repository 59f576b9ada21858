// The job summary for build-nix.
import { formatBytes, writeTableSummary } from '../action/summary.js';
import { codeSpan } from '../tool/markdown.js';
import type { BuildNixInputs } from './inputs.js';

const TRUST = {
  signed: 'signatures checked: only paths signed by signing-key or trusted-public-keys are imported',
  unsigned: ':warning: **unauthenticated**: anyone who can run a job on the default branch could have written this cache; set signing-key or trusted-public-keys to verify it',
  off: 'not restored: this job pushes, and without signing-key or trusted-public-keys nothing could be verified',
} as const;

export async function writeSummary(s: {
  inputs: BuildNixInputs;
  outputs: Record<string, string>;
  imageKind: string;
  cacheKey?: string;
  cacheHit: string;
  cacheTrust: 'signed' | 'unsigned' | 'off';
  pushed: string;
}): Promise<void> {
  const o = s.outputs;
  const rows: Array<[string, string]> = [
    ['Flake', codeSpan(`${s.inputs.flake}#packages.${s.inputs.system}.${s.inputs.attr}`)],
    ['Store path', codeSpan(o['store-path'] ?? '')],
    ['Image', `${s.imageKind}, ${codeSpan(o['image-archive'] ?? '')}`],
    ['Digest', `\`${o.digest}\``],
    ['Size', `${formatBytes(Number(o['size-bytes']))} (${o['size-bytes']} bytes)`],
    ['Build time', `${o['build-seconds']} s (restoring the cache before it: ${o['restore-seconds']} s; the whole job by phase: the post step's table)`],
    ['Paths built / substituted', `${o['paths-built']} / ${o['paths-substituted']}`],
    ['Cache', s.cacheKey ? `gha: ${s.cacheHit} (${codeSpan(s.cacheKey)})` : 'none'],
  ];
  if (s.cacheKey) rows.push(['Cache trust', TRUST[s.cacheTrust]]);
  if (s.pushed) rows.push(['Pushed to', s.pushed]);
  await writeTableSummary('Nix image built', rows);
}
