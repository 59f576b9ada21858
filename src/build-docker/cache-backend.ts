// Turns the `cache` input into what buildx is given, restoring the local cache when needed.
import * as core from '@actions/core';
import { logInfo } from '../action/log.js';
import { createHash } from 'node:crypto';
import type { CacheBackend } from '../docker/buildx-args.js';
import { localServicesRoot } from '../action/local-services.js';
import { MIN_BUILDX_GHA_V2 } from '../docker/buildx-version.js';
import { atLeast, type Version } from '../tool/version.js';
import type { BuildDockerInputs } from './inputs.js';
import { restoreLocalCache } from './local-cache.js';

/**
 * The gha cache scope: `cache-scope` when given, else platform, target and a hash of the build
 * args, so the entries of a matrix over build args (gfx1151, gfx942) never overwrite each other.
 */
export function ghaScope(inputs: Pick<BuildDockerInputs, 'platform' | 'target' | 'buildArgs' | 'cacheScope'>): string {
  if (inputs.cacheScope) return inputs.cacheScope;
  const args = inputs.buildArgs.length > 0 ? `-${createHash('sha256').update(JSON.stringify([...inputs.buildArgs].sort())).digest('hex').slice(0, 12)}` : '';
  return `vllm-rocm-action-${inputs.platform.replace(/\//g, '-')}${inputs.target ? `-${inputs.target}` : ''}${args}`;
}

export async function resolveCache(inputs: BuildDockerInputs, buildx: Version): Promise<{ backend: CacheBackend; effective: string }> {
  let type = inputs.cache;
  // Outside Actions buildx has no cache service to talk to: the local directory backend stands in.
  if (type === 'gha' && localServicesRoot()) type = 'local';
  if (type === 'gha' && !atLeast(buildx, MIN_BUILDX_GHA_V2)) {
    core.warning(
      `cache: gha needs buildx ${MIN_BUILDX_GHA_V2} or newer for GitHub's cache service v2; this runner has ${buildx.raw}. Falling back to cache: local.`,
    );
    type = 'local';
  }
  switch (type) {
    case 'none':
      return { backend: { type: 'none' }, effective: 'none' };
    case 'gha':
      // buildx reads ACTIONS_RESULTS_URL and ACTIONS_RUNTIME_TOKEN from the environment node actions get.
      return { backend: { type: 'gha', scope: ghaScope(inputs), mode: inputs.cacheMode }, effective: 'gha' };
    case 'registry':
      return { backend: { type: 'registry', ref: inputs.cacheRef!, mode: inputs.cacheMode }, effective: 'registry' };
    case 'local': {
      const state = await restoreLocalCache(inputs);
      // Restored under the exact key: the cache of this very build, so exporting it again (minutes
      // at 20 GB) would only be thrown away in post.
      const exact = state.restoredKey === state.key;
      if (exact) logInfo('The BuildKit cache was restored under its exact key: importing it, not exporting it again.');
      return { backend: { type: 'local', from: state.restoredKey ? state.dir : undefined, to: exact ? undefined : state.newDir, mode: inputs.cacheMode }, effective: 'local' };
    }
  }
}
