// Two docker builds on this runner, the second bypassing every cache, same SOURCE_DATE_EPOCH.
import * as core from '@actions/core';
import { join } from 'node:path';
import { buildImage, preflight } from '../build-docker/build.js';
import type { BuildDockerInputs } from '../build-docker/inputs.js';

export async function rebuildDocker(inputs: BuildDockerInputs, work: string): Promise<{ a: string; b: string }> {
  const { sourceDateEpoch, rewriteTimestamp } = await preflight(inputs);
  const build = async (side: 'a' | 'b') => {
    const image = await core.group(`build ${side.toUpperCase()}${side === 'b' ? ' (--no-cache)' : ''}`, () =>
      buildImage(inputs, {
        cache: { type: 'none' },
        output: { type: 'oci', dest: join(work, `${side}.oci.tar`) },
        sourceDateEpoch,
        rewriteTimestamp,
        metadataFile: join(work, `${side}.metadata.json`),
        noCache: side === 'b',
      }),
    );
    return image.archive!;
  };
  return { a: await build('a'), b: await build('b') };
}
