// `cache-mounts`: RUN --mount=type=cache contents (ccache, pip) kept in the Actions cache, as
// reproducible-containers/buildkit-cache-dance keeps them. Main restores each named mount through
// the confined restore (src/action/cache.ts) and copies it into the builder's cache mount (src/docker/cache-mount.ts);
// post copies the mount out after the build and saves it when its content changed. A cache mount
// is no layer: its content never reaches the image. The entry is a cache entry like the others:
// plain files only, restored under the stage's own directory, never trusted as code of the runner.
import * as core from '@actions/core';
import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { restoreDirectory, saveDirectory } from '../action/cache.js';
import { CacheEntryRefused, checkPlainTree } from '../action/cache-archive.js';
import { postStateKey } from '../action/claims.js';
import { InputError } from '../action/inputs.js';
import { logInfo } from '../action/log.js';
import { stageTempDir } from '../action/paths.js';
import { isCacheKey, refuseState, stateObject } from '../action/post-state.js';
import { errorMessage } from '../action/stage.js';
import { extractCacheMount, findStaticBusybox, injectCacheMount, type CacheMountSpec, type HelperBuild } from '../docker/cache-mount.js';
import { outlineDockerfile, type DockerfileOutline } from '../docker/dockerfile.js';
import { treeDigest } from '../tool/tree-digest.js';
import type { BuildDockerInputs, CacheMountName } from './inputs.js';
import { cacheKeyPrefix, localCacheKey } from './local-cache.js';

const STATE_KEY = postStateKey('cache-mounts');

export const BUSYBOX_NEEDED = 'cache-mounts needs a statically linked busybox on PATH to copy in and out of the builder without pulling an image (Debian and Ubuntu: sudo apt-get install -y busybox-static)';

interface MountState extends CacheMountSpec {
  key: string;
  restoredKey?: string;
  /** treeDigest of what was restored: post saves only a mount whose content changed. */
  restoredDigest?: string;
}

interface CacheMountsState extends HelperBuild {
  mounts: MountState[];
}

/** The Dockerfile's own mount for each name, so the helper build reaches the very same cache. */
export function resolveCacheMounts(names: CacheMountName[], outline: DockerfileOutline, file: string): CacheMountSpec[] {
  const variable = outline.cacheMounts.some((m) => m.id.includes('$') || m.target.includes('$'));
  return names.map((name) => {
    const use = outline.cacheMounts.find((m) => (name.by === 'id' ? m.id : m.target.replace(/\/+$/, '')) === name.value);
    if (!use) {
      const known = outline.cacheMounts.map((m) => `id=${m.id} (target=${m.target})`).join(', ');
      if (!variable) throw new InputError('cache-mounts', `${name.by}=${name.value}: no RUN --mount=type=cache in ${file} has that ${name.by} (${known ? `its cache mounts: ${known}` : 'it has no cache mounts'})`);
      core.warning(`cache-mounts: ${name.by}=${name.value} matches no cache mount of ${file} as written; some of its mounts use build variables, which this action does not expand, so it keeps the cache id ${name.value}.`);
      return { id: name.value };
    }
    if (use.from !== undefined) throw new InputError('cache-mounts', `${name.by}=${name.value}: its mount in ${file} uses from=, which keys the cache by that stage's result too; only mounts without from= can be kept`);
    if (!MOUNT_ID.test(use.id)) throw new InputError('cache-mounts', `${name.by}=${name.value}: its mount's id in ${file} ('${use.id}') has characters this action does not pass on (letters, digits, '_', '.', '-', '/')`);
    for (const [key, pattern] of [['uid', NUMBER], ['gid', NUMBER], ['mode', MODE]] as const) {
      const value = use[key];
      if (value !== undefined && !pattern.test(value)) throw new InputError('cache-mounts', `${name.by}=${name.value}: its mount's ${key} in ${file} ('${value}') is not a number this action passes on`);
    }
    return { id: use.id, uid: use.uid, gid: use.gid, mode: use.mode };
  });
}

const MOUNT_ID = /^\/?[A-Za-z0-9_][A-Za-z0-9_./-]{0,199}$/;
const NUMBER = /^\d{1,10}$/;
const MODE = /^0?[0-7]{3,4}$/;
const BUILDER = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
const KEY_PATTERN = /^vllm-rocm-action-mount-[A-Za-z0-9._-]+-[0-9a-f]{16}-[0-9a-f]{16}-[0-9a-f]{16}$/;
const MAX_MOUNTS = 8;

function idHash(id: string): string {
  return createHash('sha256').update(id).digest('hex').slice(0, 16);
}

/** Directories, from RUNNER_TEMP and the id alone: restored into and saved from (part of the cache version). */
export function mountDirs(id: string): { dir: string; work: string } {
  const base = join(stageTempDir('build-docker'), 'cache-mounts');
  return { dir: join(base, idHash(id)), work: join(base, 'helper') };
}

export function mountKeyPrefix(platform: string): string {
  return cacheKeyPrefix(platform).replace('-buildkit-', '-mount-');
}

/** Main: restores and injects every named mount before the build. Caching never fails the step. */
export async function restoreCacheMounts(inputs: BuildDockerInputs): Promise<void> {
  if (inputs.cacheMounts.length === 0) return;
  const specs = resolveCacheMounts(inputs.cacheMounts, outlineDockerfile(await readFile(inputs.file, 'utf8')), inputs.file);
  const busybox = await findStaticBusybox();
  if (!busybox) throw new Error(BUSYBOX_NEEDED);
  const namespace = inputs.buildArgs.find(([key]) => key === 'BUILDKIT_CACHE_MOUNT_NS')?.[1];
  const helper: HelperBuild = { builder: inputs.builder, namespace };
  // The build's own fingerprint (Dockerfile, context, args): an exact hit is this very build's mount.
  const { key: buildKey } = await localCacheKey(inputs);
  const fingerprint = buildKey.slice(cacheKeyPrefix(inputs.platform).length);
  const dockerfile = fingerprint.split('-')[0]!;
  const mounts: MountState[] = [];
  for (const spec of specs) {
    const prefix = `${mountKeyPrefix(inputs.platform)}${idHash(spec.id)}-`;
    const key = `${prefix}${fingerprint}`;
    const { dir, work } = mountDirs(spec.id);
    const state: MountState = { ...spec, key };
    try {
      const restoredKey = await restoreDirectory(dir, key, [`${prefix}${dockerfile}-`, prefix]);
      if (!restoredKey) {
        logInfo(`Cache mount ${spec.id}: no saved content for ${key} yet`);
      } else {
        state.restoredDigest = await treeDigest(dir);
        await injectCacheMount(spec, dir, work, busybox, helper);
        state.restoredKey = restoredKey;
        logInfo(`Cache mount ${spec.id}: restored ${restoredKey} into the builder`);
      }
    } catch (error) {
      core.warning(`Cache mount ${spec.id} was not restored (building without it): ${errorMessage(error)}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    mounts.push(state);
  }
  const saved: CacheMountsState = { mounts, ...(helper.builder ? { builder: helper.builder } : {}), ...(namespace !== undefined ? { namespace } : {}) };
  core.saveState(STATE_KEY, JSON.stringify(saved));
}

/** Main's state, checked: each value is matched against what main can write; directories are recomputed from the id. */
export function savedCacheMountsState(): CacheMountsState | undefined {
  const text = core.getState(STATE_KEY);
  if (!text) return undefined;
  const what = 'cache-mounts state';
  const state = stateObject(what, text);
  if (!state) return undefined;
  if (state.builder !== undefined && !(typeof state.builder === 'string' && BUILDER.test(state.builder))) return refuseState(what, 'its builder is not a builder name');
  if (state.namespace !== undefined && !(typeof state.namespace === 'string' && (state.namespace === '' || MOUNT_ID.test(state.namespace)))) return refuseState(what, 'its cache namespace is not one');
  if (!Array.isArray(state.mounts) || state.mounts.length > MAX_MOUNTS) return refuseState(what, `its mounts are not a list of at most ${MAX_MOUNTS}`);
  const mounts: MountState[] = [];
  for (const raw of state.mounts as unknown[]) {
    if (!raw || typeof raw !== 'object') return refuseState(what, 'a mount is not an object');
    const m = raw as Record<string, unknown>;
    if (typeof m.id !== 'string' || !MOUNT_ID.test(m.id) || m.id.split('/').includes('..')) return refuseState(what, 'a mount id is not one this action writes');
    if (!isCacheKey(m.key, KEY_PATTERN) || !m.key.includes(`-${idHash(m.id)}-`)) return refuseState(what, `the key of mount ${m.id} is not this action's key for it`);
    for (const [key, pattern] of [['uid', NUMBER], ['gid', NUMBER], ['mode', MODE], ['restoredDigest', /^[0-9a-f]{64}$/]] as const) {
      if (m[key] !== undefined && !(typeof m[key] === 'string' && pattern.test(m[key]))) return refuseState(what, `the ${key} of mount ${m.id} is not one this action writes`);
    }
    if (m.restoredKey !== undefined && !isCacheKey(m.restoredKey, KEY_PATTERN)) return refuseState(what, `the restored key of mount ${m.id} is not this action's`);
    mounts.push({ id: m.id, uid: m.uid as string | undefined, gid: m.gid as string | undefined, mode: m.mode as string | undefined, key: m.key, restoredKey: m.restoredKey as string | undefined, restoredDigest: m.restoredDigest as string | undefined });
  }
  return { mounts, builder: state.builder as string | undefined, namespace: state.namespace as string | undefined };
}

/** Post: copies each mount out of the builder and saves it when it changed. Only warns. */
export async function saveCacheMounts(state: CacheMountsState): Promise<void> {
  const busybox = await findStaticBusybox();
  if (!busybox) {
    core.warning(`The cache mounts were not saved: ${BUSYBOX_NEEDED}.`);
    return;
  }
  for (const mount of state.mounts) {
    const { dir, work } = mountDirs(mount.id);
    try {
      await extractCacheMount(mount, dir, work, busybox, { builder: state.builder, namespace: state.namespace });
      // The build wrote this content: only plain files and directories go into a cache entry.
      if (checkPlainTree(dir) === 0) {
        logInfo(`Cache mount ${mount.id} is empty; nothing to save.`);
        continue;
      }
      if ((await treeDigest(dir)) === mount.restoredDigest) {
        logInfo(`Cache mount ${mount.id} is unchanged since ${mount.restoredKey}; not saving it again.`);
        continue;
      }
      if (mount.restoredKey === mount.key) {
        logInfo(`Cache mount ${mount.id} changed, but ${mount.key} exists already (Actions cache keys cannot be overwritten); not saved.`);
        continue;
      }
      if (await saveDirectory(dir, mount.key)) logInfo(`Saved cache mount ${mount.id} as ${mount.key}`);
    } catch (error) {
      const refused = error instanceof CacheEntryRefused;
      core.warning(`Cache mount ${mount.id} was not saved: ${refused ? 'it holds something other than plain files and directories: ' : ''}${errorMessage(error)}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
      await rm(work, { recursive: true, force: true });
    }
  }
}
