// The build-docker stage's inputs, parsed once into a typed object. verify-reproducibility
// reuses this parser for `builder: docker`, and the pipeline for the root action.
import { isAbsolute, join, resolve } from 'node:path';
import {
  boolean,
  InputError,
  keyValuePairs,
  lines,
  list,
  nonNegativeInteger,
  oneOf,
  optionalString,
  type InputSource,
} from '../action/inputs.js';
import { COMPRESSION_LEVELS, type CacheMode, type Compression } from '../docker/buildx-args.js';
import { STAGE_NAME } from '../docker/dockerfile.js';
import { epochFromInputs, type SourceDateEpoch } from './epoch.js';

export const CACHE_TYPES = ['gha', 'registry', 'local', 'none'] as const;
export const OUTPUT_TYPES = ['oci', 'oci-layout', 'docker', 'registry'] as const;
export const CACHE_MODES = ['min', 'max'] as const;
export const COMPRESSIONS = ['gzip', 'zstd'] as const satisfies readonly Compression[];

export type CacheType = (typeof CACHE_TYPES)[number];
export type OutputType = (typeof OUTPUT_TYPES)[number];

/** A secret for `--secret`: its value (never in argv; handed over in the environment), an env var or a file. */
export type SecretInput = { id: string; value: string } | { id: string; env: string } | { id: string; file: string };

export interface BuildDockerInputs {
  context: string;
  file: string;
  /** Without SOURCE_DATE_EPOCH: that one is `sourceDateEpoch`. */
  buildArgs: Array<[string, string]>;
  target?: string;
  platform: string;
  tags: string[];
  labels: Array<[string, string]>;
  /** Generate the OCI labels (source, revision, version, created, …) under `labels`. */
  ociLabels: boolean;
  annotations: string[];
  cache: CacheType;
  cacheRef?: string;
  cacheMode: CacheMode;
  cacheScope?: string;
  /** From `source-date-epoch` or a SOURCE_DATE_EPOCH build arg; undefined: the environment's, else 0. */
  sourceDateEpoch?: SourceDateEpoch;
  output: OutputType;
  compression: Compression;
  /** `compression-level`; undefined: BuildKit's default for the compression (gzip 6, zstd 3). */
  compressionLevel?: number;
  builder?: string;
  provenance: boolean;
  sbom: boolean;
  noCache: boolean;
  pull: boolean;
  buildContexts: Array<[string, string]>;
  ssh: string[];
  shmSize?: string;
  ulimits: string[];
  secrets: SecretInput[];
  /** `cache-mounts`: RUN cache mounts kept in the Actions cache (src/build-docker/cache-mounts.ts). */
  cacheMounts: CacheMountName[];
}

/** A cache mount as `cache-mounts` names it: by its id, or by its target (BuildKit's id when none is given). */
export interface CacheMountName {
  by: 'id' | 'target';
  value: string;
}

/** Characters of a cache id or target: nothing that could add a mount option, a quote or a variable. */
const MOUNT_NAME = /^[A-Za-z0-9_][A-Za-z0-9_./-]{0,199}$/;
const MAX_CACHE_MOUNTS = 8;

const PLATFORM = /^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/;
// Values that go into buildx's comma-separated options (cache-from/-to) must not add options.
const CACHE_REF = /^[A-Za-z0-9][A-Za-z0-9._:/@-]*$/;
const CACHE_SCOPE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const SECRET_ID = /^[A-Za-z0-9_.-]+$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SHM_SIZE = /^\d+(\.\d+)?[bkmg]?$/i;
const ULIMIT = /^[a-z]+=-?\d+(:-?\d+)?$/;
const SSH = /^[A-Za-z0-9_.-]+(=[^,\s][^\s]*)?$/;
const ANNOTATION = /^([a-z-]+(\[[^\]]+\])?(,[a-z-]+(\[[^\]]+\])?)*:)?[^=\s]+=.*$/;

/** Inputs of docker/build-push-action that users type by habit, and what this action has instead. */
export const HABIT_INPUTS: Record<string, string> = {
  push: 'use `output: registry` (with `tags`) to push the image',
  load: 'use `output: docker` to load the image into the Docker engine',
  platforms: 'use `platform` (one platform per build; a matrix builds several)',
  'cache-from': 'use `cache` (gha, registry, local or none), with `cache-ref` for a registry cache',
  'cache-to': 'use `cache` (gha, registry, local or none), with `cache-ref` and `cache-mode`',
  outputs: 'use `output` (oci, oci-layout, docker or registry)',
};

export function parseBuildDockerInputs(get: InputSource, workspace: string): BuildDockerInputs {
  // The runner passes inputs it does not know as INPUT_* too: refuse them rather than ignore them.
  for (const [name, instead] of Object.entries(HABIT_INPUTS)) {
    if (optionalString(get, name) !== undefined) throw new InputError(name, `is not an input of this action: ${instead}`);
  }

  const context = resolve(workspace, optionalString(get, 'context') ?? '.');
  const fileInput = optionalString(get, 'file');
  const file = fileInput === undefined ? join(context, 'Dockerfile') : isAbsolute(fileInput) ? fileInput : resolve(workspace, fileInput);

  const platform = optionalString(get, 'platform') ?? 'linux/amd64';
  if (!PLATFORM.test(platform)) {
    throw new InputError('platform', `must be one platform such as linux/amd64 or linux/arm64 (got '${platform}')`);
  }
  const target = optionalString(get, 'target');
  if (target !== undefined && !STAGE_NAME.test(target)) {
    throw new InputError('target', `must be a stage name of the Dockerfile: a letter, then letters, digits, '_', '-' or '.' (got '${target}')`);
  }

  const cache = oneOf(get, 'cache', CACHE_TYPES, 'gha');
  const cacheRef = optionalString(get, 'cache-ref');
  if (cache === 'registry' && cacheRef === undefined) {
    throw new InputError('cache-ref', "must be set when cache is 'registry' (a registry ref such as ghcr.io/org/vllm-cache:buildcache)");
  }
  if (cacheRef !== undefined && !CACHE_REF.test(cacheRef)) {
    throw new InputError('cache-ref', `must be one registry reference such as ghcr.io/org/vllm-cache:buildcache, without commas, quotes or spaces (got '${cacheRef}')`);
  }
  const cacheScope = optionalString(get, 'cache-scope');
  if (cacheScope !== undefined && !CACHE_SCOPE.test(cacheScope)) {
    throw new InputError('cache-scope', `must be letters, digits, '.', '_' and '-' (got '${cacheScope}')`);
  }

  const output = oneOf(get, 'output', OUTPUT_TYPES, 'oci');
  const tags = list(get, 'tags');
  if (output === 'registry' && tags.length === 0) {
    throw new InputError('tags', "must name at least one image reference when output is 'registry' (where to push)");
  }

  const allBuildArgs = keyValuePairs(get, 'build-args');
  const epochArg = allBuildArgs.find(([key]) => key === 'SOURCE_DATE_EPOCH')?.[1];
  const shmSize = optionalString(get, 'shm-size');
  const compression = oneOf(get, 'compression', COMPRESSIONS, 'gzip');
  if (shmSize !== undefined && !SHM_SIZE.test(shmSize)) throw new InputError('shm-size', `must be a size such as 2g, 512m or 1073741824 (got '${shmSize}')`);

  return {
    context,
    file,
    buildArgs: allBuildArgs.filter(([key]) => key !== 'SOURCE_DATE_EPOCH'),
    target,
    platform,
    tags,
    labels: keyValuePairs(get, 'labels'),
    ociLabels: boolean(get, 'oci-labels', true),
    annotations: matching(get, 'annotations', ANNOTATION, 'KEY=VALUE, optionally after a type such as manifest: or index:'),
    cache,
    cacheRef,
    cacheMode: oneOf(get, 'cache-mode', CACHE_MODES, 'max'),
    cacheScope,
    sourceDateEpoch: epochFromInputs(nonNegativeInteger(get, 'source-date-epoch'), epochArg),
    output,
    compression,
    compressionLevel: compressionLevel(get, compression),
    builder: optionalString(get, 'builder'),
    provenance: boolean(get, 'provenance', false),
    sbom: boolean(get, 'sbom', false),
    noCache: boolean(get, 'no-cache', false),
    pull: boolean(get, 'pull', false),
    buildContexts: keyValuePairs(get, 'build-contexts'),
    ssh: matching(get, 'ssh', SSH, "'default' or ID=PATH (an agent socket or key)"),
    shmSize,
    ulimits: matching(get, 'ulimit', ULIMIT, 'TYPE=SOFT[:HARD] such as nofile=1024:1024'),
    secrets: parseSecrets(get, workspace),
    cacheMounts: parseCacheMounts(get),
  };
}

/** `compression-level`: an integer in the range BuildKit accepts for the compression (gzip 0-9, zstd 0-22). */
export function compressionLevel(get: InputSource, compression: Compression): number | undefined {
  const value = optionalString(get, 'compression-level');
  if (value === undefined) return undefined;
  const { min, max } = COMPRESSION_LEVELS[compression];
  const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
  if (!/^\d{1,2}$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new InputError('compression-level', `must be an integer from ${min} to ${max} for compression: ${compression} (got '${shown}')`);
  }
  return Number(value);
}

/** `cache-mounts`: one `id=<id>` or `target=<absolute path>` per line, as the Dockerfile's RUN --mount writes them. */
export function parseCacheMounts(get: InputSource): CacheMountName[] {
  const names: CacheMountName[] = [];
  for (const line of lines(get, 'cache-mounts')) {
    const match = /^(id|target)\s*=\s*(.*)$/.exec(line);
    const shown = line.length > 80 ? `${line.slice(0, 80)}…` : line;
    if (!match) throw new InputError('cache-mounts', `each line must be id=<cache id> or target=<absolute path>, as in RUN --mount=type=cache,id=…,target=… (got '${shown}')`);
    const by = match[1] as 'id' | 'target';
    const value = match[2]!.replace(/\/+$/, '') || '/';
    const bare = by === 'target' ? value.slice(1) : value;
    if ((by === 'target' && !value.startsWith('/')) || !MOUNT_NAME.test(bare) || value.split('/').includes('..')) {
      throw new InputError('cache-mounts', `${by}=${by === 'target' ? 'an absolute path' : 'a cache id'} of letters, digits, '_', '.', '-' and '/' (no '..', commas, quotes, spaces or $; at most 200), got '${shown}'`);
    }
    if (names.some((n) => n.by === by && n.value === value)) throw new InputError('cache-mounts', `names ${by}=${value} twice`);
    names.push({ by, value });
  }
  if (names.length > MAX_CACHE_MOUNTS) throw new InputError('cache-mounts', `names ${names.length} mounts; at most ${MAX_CACHE_MOUNTS}`);
  return names;
}

function matching(get: InputSource, name: string, pattern: RegExp, allowed: string): string[] {
  const values = lines(get, name);
  for (const value of values) if (!pattern.test(value)) throw new InputError(name, `each line must be ${allowed} (got '${value}')`);
  return values;
}

/**
 * `secrets` (id=VALUE), `secret-envs` (id=ENV_VAR) and `secret-files` (id=PATH), as build-push-action
 * names them. Errors name the line number, never a value.
 */
function parseSecrets(get: InputSource, workspace: string): SecretInput[] {
  const secrets = new Map<string, SecretInput>();
  const each = (name: string, make: (id: string, rest: string, line: number) => SecretInput): void => {
    get(name).split(/\r?\n/).forEach((raw, index) => {
      if (raw.trim() === '') return;
      const eq = raw.indexOf('=');
      const id = eq > 0 ? raw.slice(0, eq).trim() : '';
      if (!SECRET_ID.test(id)) throw new InputError(name, `line ${index + 1} must be ID=… with an id of letters, digits, '.', '_' or '-' (the value is not shown)`);
      secrets.set(id, make(id, raw.slice(eq + 1), index + 1));
    });
  };
  each('secrets', (id, value) => ({ id, value: value.trim() }));
  each('secret-envs', (id, rest, line) => {
    const env = rest.trim();
    if (!ENV_NAME.test(env)) throw new InputError('secret-envs', `line ${line} must be ID=ENV_VAR, the name of an environment variable (got '${id}=${env}')`);
    return { id, env };
  });
  each('secret-files', (id, rest, line) => {
    const path = rest.trim();
    if (path === '') throw new InputError('secret-files', `line ${line} must be ID=PATH (got '${id}=')`);
    return { id, file: resolve(workspace, path) };
  });
  return [...secrets.values()];
}
