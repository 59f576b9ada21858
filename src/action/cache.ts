// The Actions cache behind two calls that never fail a step: caching is an optimisation.
import * as cache from '@actions/cache';
import * as core from '@actions/core';
import { localServicesRoot, restoreLocalDirectory, saveLocalDirectory } from './local-services.js';
import { errorMessage } from './stage.js';

export async function restoreDirectory(dir: string, key: string, restoreKeys: string[]): Promise<string | undefined> {
  const local = localServicesRoot();
  if (local) return restoreLocalDirectory(local, dir, key, restoreKeys).catch((error: unknown) => {
    core.warning(`Cache restore from ${local} failed (building without it): ${errorMessage(error)}`);
    return undefined;
  });
  if (!cache.isFeatureAvailable()) {
    core.warning('The Actions cache service is not available to this job; building without a restored cache.');
    return undefined;
  }
  try {
    return await cache.restoreCache([dir], key, restoreKeys);
  } catch (error) {
    core.warning(`Cache restore failed (building without it): ${errorMessage(error)}`);
    return undefined;
  }
}

export async function saveDirectory(dir: string, key: string): Promise<boolean> {
  const local = localServicesRoot();
  if (local) return saveLocalDirectory(local, dir, key).catch((error: unknown) => {
    core.warning(`Cache save to ${local} failed: ${errorMessage(error)}`);
    return false;
  });
  if (!cache.isFeatureAvailable()) {
    core.warning('The Actions cache service is not available to this job; the cache was not saved.');
    return false;
  }
  try {
    const id = await cache.saveCache([dir], key);
    return id !== -1;
  } catch (error) {
    core.warning(`Cache save failed: ${errorMessage(error)}`);
    return false;
  }
}
