// The build-docker stage's inputs, parsed once into a typed object. verify-reproducibility
// reuses this parser for `builder: docker`.
import { isAbsolute, join, resolve } from 'node:path';
import {
  boolean,
  InputError,
  keyValuePairs,
  list,
  nonNegativeInteger,
  oneOf,
  optionalString,
  type InputSource,
} from '../action/inputs.js';
import type { CacheMode } from '../docker/buildx-args.js';

export const CACHE_TYPES = ['gha', 'registry', 'local', 'none'] as const;
export const OUTPUT_TYPES = ['oci', 'docker', 'registry'] as const;
export const CACHE_MODES = ['min', 'max'] as const;

export type CacheType = (typeof CACHE_TYPES)[number];
export type OutputType = (typeof OUTPUT_TYPES)[number];

export interface BuildDockerInputs {
  context: string;
  file: string;
  buildArgs: Array<[string, string]>;
  target?: string;
  platform: string;
  tags: string[];
  labels: Array<[string, string]>;
  cache: CacheType;
  cacheRef?: string;
  cacheMode: CacheMode;
  /** undefined: use HEAD's committer time, else 0. */
  sourceDateEpoch?: number;
  output: OutputType;
  builder?: string;
  provenance: boolean;
  sbom: boolean;
}

const PLATFORM = /^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/;

export function parseBuildDockerInputs(get: InputSource, workspace: string): BuildDockerInputs {
  const context = resolve(workspace, optionalString(get, 'context') ?? '.');
  const fileInput = optionalString(get, 'file');
  const file = fileInput === undefined ? join(context, 'Dockerfile') : isAbsolute(fileInput) ? fileInput : resolve(workspace, fileInput);

  const platform = optionalString(get, 'platform') ?? 'linux/amd64';
  if (!PLATFORM.test(platform)) {
    throw new InputError('platform', `must be one platform such as linux/amd64 or linux/arm64 (got '${platform}')`);
  }

  const cache = oneOf(get, 'cache', CACHE_TYPES, 'gha');
  const cacheRef = optionalString(get, 'cache-ref');
  if (cache === 'registry' && cacheRef === undefined) {
    throw new InputError('cache-ref', "must be set when cache is 'registry' (a registry ref such as ghcr.io/org/vllm-cache:buildcache)");
  }

  const output = oneOf(get, 'output', OUTPUT_TYPES, 'oci');
  const tags = list(get, 'tags');
  if (output === 'registry' && tags.length === 0) {
    throw new InputError('tags', "must name at least one image reference when output is 'registry' (where to push)");
  }

  return {
    context,
    file,
    buildArgs: keyValuePairs(get, 'build-args'),
    target: optionalString(get, 'target'),
    platform,
    tags,
    labels: keyValuePairs(get, 'labels'),
    cache,
    cacheRef,
    cacheMode: oneOf(get, 'cache-mode', CACHE_MODES, 'max'),
    sourceDateEpoch: nonNegativeInteger(get, 'source-date-epoch'),
    output,
    builder: optionalString(get, 'builder'),
    provenance: boolean(get, 'provenance', false),
    sbom: boolean(get, 'sbom', false),
  };
}
