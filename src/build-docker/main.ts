// build-docker, main phase: a cached, reproducible `docker buildx build` that reports what it built.
import { logInfo } from '../action/log.js';
import { join } from 'node:path';
import { actionIO, type StageIO } from '../action/io.js';
import { saveMainPhases, savePeakDisk, seconds } from '../action/job-time.js';
import { stageTempDir, workspaceDir } from '../action/paths.js';
import { buildImage, preflight } from './build.js';
import { resolveCache } from './cache-backend.js';
import { restoreCacheMounts } from './cache-mounts.js';
import { parseBuildDockerInputs, type OutputType } from './inputs.js';
import type { ImageOutput } from '../docker/buildx-args.js';
import { maskSecrets } from './secrets.js';
import { writeTableSummary } from '../action/summary.js';
import { summaryRows } from './summary.js';
import * as core from '@actions/core';
import { checkBaseLayers, rewrittenWarning } from './base-layers.js';
import { buildEngine } from '../docker/buildx.js';
import { engineName } from '../reproducibility/engine.js';
import { dockerRootDir, requireFreeDisk, startStageSampler } from '../tool/free-disk.js';
import { imageDiskNeed } from './disk-need.js';

/** The outputs action.yml declares, claimed before main runs (src/action/claims.ts). */
export const OUTPUTS = ['digest', 'config-digest', 'imageid', 'image-archive', 'image-layout', 'size-bytes', 'build-seconds', 'restore-seconds', 'cache-hit', 'cached-steps', 'source-date-epoch', 'metadata'] as const;

/** Where the image goes: an archive or a layout directory under the stage's temporary folder. */
function imageOutput(output: OutputType, dir: string): ImageOutput {
  switch (output) {
    case 'oci':
      return { type: 'oci', dest: join(dir, 'image.oci.tar') };
    case 'oci-layout':
      return { type: 'oci-layout', dest: join(dir, 'image.oci') };
    default:
      return { type: output };
  }
}

export async function main(io: StageIO = actionIO): Promise<void> {
  const started = process.hrtime.bigint();
  const dir = stageTempDir('build-docker');
  const dockerRoot = await dockerRootDir();
  const disk = await startStageSampler(dir, dockerRoot);
  const inputs = parseBuildDockerInputs(io.get, workspaceDir());
  maskSecrets(inputs);
  const { buildx, driver, epoch, rewriteTimestamp } = await preflight(inputs);
  logInfo(`buildx ${buildx.raw} (${driver} driver); SOURCE_DATE_EPOCH=${epoch.value} (${epoch.source})`);
  const restoreStarted = process.hrtime.bigint();
  await restoreCacheMounts(inputs);
  const cache = await resolveCache(inputs, buildx);
  const actionsRestore = seconds(restoreStarted);

  // The archive goes under RUNNER_TEMP; an image kept in the engine or pushed passes through its store.
  const target = inputs.output === 'oci' ? dir : (dockerRoot ?? dir);
  const what = inputs.output === 'oci' ? 'the OCI archive' : "BuildKit's image layers";
  await requireFreeDisk('build-docker', target, await imageDiskNeed(cache.backend), what);
  const image = await buildImage(inputs, {
    cache: cache.backend,
    output: imageOutput(inputs.output, dir),
    sourceDateEpoch: epoch.value,
    rewriteTimestamp,
    metadataFile: join(dir, 'metadata.json'),
  });
  // Restoring: the Actions cache downloads (cache: local, cache-mounts) and BuildKit's cache import.
  const restoreSeconds = actionsRestore + image.phases.cacheImport;

  const { cached, total } = image.cacheHit;
  io.setOutput('digest', image.digest);
  io.setOutput('config-digest', image.configDigest);
  io.setOutput('imageid', image.configDigest); // build-push-action's name for it
  io.setOutput('image-archive', image.archive ?? '');
  io.setOutput('image-layout', image.layout ?? '');
  io.setOutput('size-bytes', String(image.sizeBytes));
  io.setOutput('build-seconds', image.buildSeconds.toFixed(1));
  io.setOutput('restore-seconds', restoreSeconds.toFixed(1));
  // As actions/cache: true only when everything came from the cache.
  io.setOutput('cache-hit', String(total > 0 && cached === total));
  io.setOutput('cached-steps', `${cached}/${total}`);
  io.setOutput('source-date-epoch', String(epoch.value));
  io.setOutput('metadata', JSON.stringify(image.metadata));
  logInfo(`Built ${image.digest} (${image.sizeBytes} bytes) in ${image.buildSeconds.toFixed(1)} s (restoring the cache: ${restoreSeconds.toFixed(1)} s); ${cached}/${total} steps cached`);
  const base = await checkBaseLayers(inputs, image.layers);
  if (base?.rewritten) {
    const engine = engineName(await buildEngine(buildx, driver, inputs.builder));
    core.warning(rewrittenWarning(base.rewritten.base, base.rewritten.comparison, engine));
  }
  await writeTableSummary('Docker image built', summaryRows(inputs, image, cache.effective, epoch, restoreSeconds, base?.row));

  const { phases } = image;
  const inBuildx = phases.cacheImport + phases.steps + phases.imageExport + phases.cacheExport;
  saveMainPhases(
    [
      ['restore the cache (Actions cache)', actionsRestore],
      ['import the cache (BuildKit)', phases.cacheImport],
      ['Dockerfile steps', phases.steps],
      ['export the image (layers, archive or push)', phases.imageExport],
      ['export the cache (BuildKit)', phases.cacheExport],
      ['buildx: context, resolving, solving', Math.max(0, image.buildxSeconds - inBuildx)],
    ],
    seconds(started),
  );
  savePeakDisk({ peakBytes: await disk.stop(), imageBytes: image.sizeBytes });
}
