// Docker builds of the verify stage: an OCI archive each, from build-docker's own build.
import * as core from '@actions/core';
import { join } from 'node:path';
import { buildImage, preflight } from '../build-docker/build.js';
import type { BuildDockerInputs } from '../build-docker/inputs.js';

/** One build into `<work>/<name>.oci.tar`, with no cache import or export. */
export async function buildDockerArchive(inputs: BuildDockerInputs, work: string, name: string, noCache = false): Promise<string> {
  const { epoch, rewriteTimestamp } = await preflight(inputs);
  const image = await buildImage(inputs, {
    cache: { type: 'none' },
    output: { type: 'oci', dest: join(work, `${name}.oci.tar`) },
    sourceDateEpoch: epoch.value,
    rewriteTimestamp,
    metadataFile: join(work, `${name}.metadata.json`),
    noCache,
  });
  return image.archive!;
}

/** Two builds on this runner, the second bypassing every cache, same SOURCE_DATE_EPOCH. */
export async function rebuildDocker(inputs: BuildDockerInputs, work: string): Promise<{ a: string; b: string }> {
  const a = await core.group('build A', () => buildDockerArchive(inputs, work, 'a'));
  const b = await core.group('build B (--no-cache)', () => buildDockerArchive(inputs, work, 'b', true));
  return { a, b };
}
