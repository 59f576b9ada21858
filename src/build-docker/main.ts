// build-docker, main phase: a cached, reproducible `docker buildx build` that reports what it built.
import * as core from '@actions/core';
import { join } from 'node:path';
import { actionInputs, type InputSource } from '../action/inputs.js';
import { stageTempDir, workspaceDir } from '../action/paths.js';
import { buildImage, preflight } from './build.js';
import { resolveCache } from './cache-backend.js';
import { parseBuildDockerInputs } from './inputs.js';
import { writeTableSummary } from '../action/summary.js';
import { summaryRows } from './summary.js';

export async function main(get: InputSource = actionInputs): Promise<void> {
  const inputs = parseBuildDockerInputs(get, workspaceDir());
  const { buildx, driver, sourceDateEpoch, rewriteTimestamp } = await preflight(inputs);
  core.info(`buildx ${buildx.raw} (${driver} driver); SOURCE_DATE_EPOCH=${sourceDateEpoch}`);
  const cache = await resolveCache(inputs, buildx);

  const dir = stageTempDir('build-docker');
  const image = await buildImage(inputs, {
    cache: cache.backend,
    output: inputs.output === 'oci' ? { type: 'oci', dest: join(dir, 'image.oci.tar') } : { type: inputs.output },
    sourceDateEpoch,
    rewriteTimestamp,
    metadataFile: join(dir, 'metadata.json'),
  });

  core.setOutput('digest', image.digest);
  core.setOutput('config-digest', image.configDigest);
  core.setOutput('image-archive', image.archive ?? '');
  core.setOutput('size-bytes', String(image.sizeBytes));
  core.setOutput('build-seconds', image.buildSeconds.toFixed(1));
  core.setOutput('cache-hit', `${image.cacheHit.cached}/${image.cacheHit.total}`);
  core.setOutput('metadata', JSON.stringify(image.metadata));
  core.info(`Built ${image.digest} (${image.sizeBytes} bytes) in ${image.buildSeconds.toFixed(1)} s; ${image.cacheHit.cached}/${image.cacheHit.total} steps cached`);
  await writeTableSummary('Docker image built', summaryRows(inputs, image, cache.effective, sourceDateEpoch));
}
