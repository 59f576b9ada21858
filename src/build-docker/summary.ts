// The job summary rows: what was built.
import { formatBytes } from '../action/summary.js';
import { codeSpan } from '../tool/markdown.js';
import type { BuiltImage } from './build.js';
import { describeEpoch, type SourceDateEpoch } from './epoch.js';
import type { BuildDockerInputs } from './inputs.js';

/** `baseLayers`: the base-layer check's row, where the build has a base (src/build-docker/base-layers.ts). */
export function summaryRows(inputs: BuildDockerInputs, image: BuiltImage, cache: string, epoch: SourceDateEpoch, restoreSeconds: number, baseLayers?: string): Array<[string, string]> {
  const rows: Array<[string, string]> = [
    ['Dockerfile', `${codeSpan(inputs.file)}${inputs.target ? ` (target ${codeSpan(inputs.target)})` : ''}`],
    ['Platform', inputs.platform],
    ['Digest', `\`${image.digest}\``],
    ['Config digest', `\`${image.configDigest}\``],
    ['Size', `${formatBytes(image.sizeBytes)} (${image.sizeBytes} bytes)`],
    ['Build time', `${image.buildSeconds.toFixed(1)} s (restoring the cache before it: ${restoreSeconds.toFixed(1)} s; the whole job by phase: the post step's table)`],
    ['Cache', `${cache}: ${image.cacheHit.cached}/${image.cacheHit.total} steps cached`],
    ['SOURCE_DATE_EPOCH', describeEpoch(epoch)],
    ['Compression', `${inputs.compression}${inputs.compressionLevel === undefined ? '' : `, level ${inputs.compressionLevel}`}`],
    ['Output', image.archive ? `OCI archive ${codeSpan(image.archive)}` : image.layout ? `OCI image layout ${codeSpan(image.layout)}` : inputs.output === 'registry' ? `pushed to ${inputs.tags.join(', ')}` : 'loaded into the Docker engine'],
  ];
  if (baseLayers) rows.push(['Base layers', baseLayers]);
  if (inputs.tags.length > 0 && inputs.output !== 'registry') rows.push(['Tags', inputs.tags.join(', ')]);
  return rows;
}
