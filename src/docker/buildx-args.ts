// Pure argv builder for `docker buildx build`: every flag the build stage passes comes from here.

export type CacheBackend =
  | { type: 'none' }
  | { type: 'gha'; scope: string; mode: CacheMode }
  | { type: 'registry'; ref: string; mode: CacheMode }
  | { type: 'local'; from: string; to: string; mode: CacheMode };

export type CacheMode = 'min' | 'max';

export type ImageOutput =
  | { type: 'oci'; dest: string }
  | { type: 'docker' }
  | { type: 'registry' };

export interface BuildxBuildSpec {
  context: string;
  file: string;
  buildArgs: Array<[string, string]>;
  target?: string;
  platform: string;
  tags: string[];
  labels: Array<[string, string]>;
  cache: CacheBackend;
  output: ImageOutput;
  sourceDateEpoch: number;
  metadataFile: string;
  builder?: string;
  noCache?: boolean;
  provenance: boolean;
  sbom: boolean;
  /** Clamp layer mtimes to SOURCE_DATE_EPOCH. The docker driver's image exporter refuses it (it always unpacks). */
  rewriteTimestamp: boolean;
}

export function cacheFromArgs(cache: CacheBackend): string[] {
  switch (cache.type) {
    case 'none':
      return [];
    case 'gha':
      return [`type=gha,scope=${cache.scope}`];
    case 'registry':
      return [`type=registry,ref=${cache.ref}`];
    case 'local':
      return [`type=local,src=${cache.from}`];
  }
}

export function cacheToArgs(cache: CacheBackend): string[] {
  switch (cache.type) {
    case 'none':
      return [];
    case 'gha':
      return [`type=gha,scope=${cache.scope},mode=${cache.mode}`];
    case 'registry':
      return [`type=registry,ref=${cache.ref},mode=${cache.mode}`];
    case 'local':
      // A fresh destination each run: BuildKit's local cache only grows when written in place.
      return [`type=local,dest=${cache.to},mode=${cache.mode}`];
  }
}

/** rewrite-timestamp clamps file mtimes in new layers to SOURCE_DATE_EPOCH, so rebuilds are byte-identical. */
export function outputArg(output: ImageOutput, rewriteTimestamp = true): string {
  const rewrite = rewriteTimestamp ? ',rewrite-timestamp=true' : '';
  switch (output.type) {
    case 'oci':
      return `type=oci,dest=${output.dest}${rewrite}`;
    case 'docker':
      return `type=docker${rewrite}`;
    case 'registry':
      return `type=image,push=true${rewrite}`;
  }
}

export function buildxBuildArgs(spec: BuildxBuildSpec): string[] {
  const args = ['buildx', 'build'];
  if (spec.builder) args.push('--builder', spec.builder);
  args.push('--progress', 'rawjson');
  args.push('--file', spec.file);
  args.push('--platform', spec.platform);
  if (spec.target) args.push('--target', spec.target);
  args.push('--build-arg', `SOURCE_DATE_EPOCH=${spec.sourceDateEpoch}`);
  for (const [key, value] of spec.buildArgs) args.push('--build-arg', `${key}=${value}`);
  for (const [key, value] of spec.labels) args.push('--label', `${key}=${value}`);
  for (const tag of spec.tags) args.push('--tag', tag);
  for (const from of cacheFromArgs(spec.cache)) args.push('--cache-from', from);
  for (const to of cacheToArgs(spec.cache)) args.push('--cache-to', to);
  if (spec.noCache) args.push('--no-cache');
  // Attestations carry build times and invocation details: they change the digest every run.
  args.push(`--provenance=${spec.provenance}`);
  args.push(`--sbom=${spec.sbom}`);
  args.push('--output', outputArg(spec.output, spec.rewriteTimestamp));
  args.push('--metadata-file', spec.metadataFile);
  args.push(spec.context);
  return args;
}
