// `cache: local`: BuildKit's local cache directory kept in the Actions cache.
// Main restores it (exact key, then the newest entry of the same platform and Dockerfile,
// then of the same platform); buildx writes a fresh directory; post swaps it in and saves it.
import * as core from '@actions/core';
import { postStateKey } from '../action/claims.js';
import { logInfo } from '../action/log.js';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { restoreDirectory, saveDirectory } from '../action/cache.js';
import { exists } from '../tool/disk.js';
import { stageTempDir } from '../action/paths.js';
import { cacheEntryState, stateObject } from '../action/post-state.js';
import { hashContext, hashFile } from './context-hash.js';
import type { BuildDockerInputs } from './inputs.js';
import { createHash } from 'node:crypto';

const STATE_KEY = postStateKey('local-cache');

export interface LocalCacheState {
  /** Path restored into and saved from: its string is part of the Actions cache version, so it never varies. */
  dir: string;
  /** Where buildx writes this run's cache. */
  newDir: string;
  key: string;
  restoredKey?: string;
}

export function localCacheDirs(): { dir: string; newDir: string } {
  const base = stageTempDir('build-docker');
  return { dir: join(base, 'buildkit-cache'), newDir: join(base, 'buildkit-cache-new') };
}

export function cacheKeyPrefix(platform: string): string {
  return `vllm-rocm-action-buildkit-${platform.replace(/\//g, '-')}-`;
}

/** Exact key: platform, Dockerfile, and the context with the build arguments and target. */
export async function localCacheKey(inputs: CacheKeyInputs): Promise<{ key: string; restoreKeys: string[] }> {
  const prefix = cacheKeyPrefix(inputs.platform);
  const dockerfile = (await hashFile(inputs.file)).slice(0, 16);
  const build = createHash('sha256')
    .update(await hashContext(inputs.context))
    .update(JSON.stringify([inputs.buildArgs, inputs.target ?? '']))
    .digest('hex')
    .slice(0, 16);
  return { key: `${prefix}${dockerfile}-${build}`, restoreKeys: [`${prefix}${dockerfile}-`, prefix] };
}

export type CacheKeyInputs = Pick<BuildDockerInputs, 'platform' | 'file' | 'context' | 'buildArgs' | 'target'>;

export async function restoreLocalCache(inputs: CacheKeyInputs): Promise<LocalCacheState> {
  const { dir, newDir } = localCacheDirs();
  await rm(newDir, { recursive: true, force: true });
  const { key, restoreKeys } = await localCacheKey(inputs);
  const restoredKey = await restoreDirectory(dir, key, restoreKeys);
  logInfo(restoredKey ? `Restored BuildKit cache ${restoredKey}` : `No BuildKit cache for ${key} yet`);
  const state: LocalCacheState = { dir, newDir, key, restoredKey };
  core.saveState(STATE_KEY, JSON.stringify(state));
  return state;
}

/** The stage's own keys (cacheKeyPrefix, localCacheKey). */
const KEY_PATTERN = /^vllm-rocm-action-buildkit-[A-Za-z0-9._-]+-[0-9a-f]{16}-[0-9a-f]{16}$/;

/** Main's state, checked: the directories are recomputed, never taken from state (src/action/post-state.ts). */
export function savedLocalCacheState(): LocalCacheState | undefined {
  const text = core.getState(STATE_KEY);
  if (!text) return undefined;
  const what = 'BuildKit cache state';
  const state = stateObject(what, text);
  if (!state) return undefined;
  return cacheEntryState(what, state, localCacheDirs(), KEY_PATTERN, 'BuildKit cache key');
}

/** Post: save this run's cache unless the exact key was already restored; then clean up. */
export async function saveLocalCache(state: LocalCacheState): Promise<void> {
  try {
    if (state.restoredKey === state.key) {
      logInfo(`BuildKit cache ${state.key} was restored exactly; not saving it again.`);
      return;
    }
    if (!(await exists(state.newDir))) {
      logInfo('No new BuildKit cache was written (the build did not finish); nothing to save.');
      return;
    }
    await rm(state.dir, { recursive: true, force: true });
    await rename(state.newDir, state.dir);
    if (await saveDirectory(state.dir, state.key)) logInfo(`Saved BuildKit cache ${state.key}`);
  } finally {
    await rm(state.dir, { recursive: true, force: true });
    await rm(state.newDir, { recursive: true, force: true });
  }
}
