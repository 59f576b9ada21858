// What build-nix's post phase needs from main.
import * as core from '@actions/core';
import type { NixCacheState } from './binary-cache.js';

const CACHE = 'nix-cache';

export function saveCacheState(state: NixCacheState): void {
  core.saveState(CACHE, JSON.stringify(state));
}

export function savedCacheState(): NixCacheState | undefined {
  const text = core.getState(CACHE);
  return text ? (JSON.parse(text) as NixCacheState) : undefined;
}
