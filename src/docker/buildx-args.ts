// Pure argv builder for `docker buildx build`: every flag the build stage passes comes from here.

export type CacheBackend =
  | { type: 'none' }
  | { type: 'gha'; scope: string; mode: CacheMode }
  | { type: 'registry'; ref: string; mode: CacheMode }
  /** `to` absent: the cache restored was this very build's (exact key), so nothing is exported. */
  | { type: 'local'; from?: string; to?: string; mode: CacheMode };

export type CacheMode = 'min' | 'max';

/** Layer compression. gzip: what every engine reads. zstd: needs containerd >= 1.5 / Docker >= 23 to pull. */
export type Compression = 'gzip' | 'zstd';

/**
 * The levels BuildKit's exporters accept per compression (moby/buildkit util/compression:
 * gzip.NewWriterLevel's 0-9; zstd's 0-22, mapped to the encoder's speed levels).
 */
export const COMPRESSION_LEVELS: Record<Compression, { min: number; max: number }> = { gzip: { min: 0, max: 9 }, zstd: { min: 0, max: 22 } };

export type ImageOutput =
  | { type: 'oci'; dest: string }
  /** An OCI image layout directory (`tar=false`): no tar stream to write, later stages read it in place. */
  | { type: 'oci-layout'; dest: string }
  /** An OCI tar on buildx's stdout (`dest=-`), for a reader that writes it out itself. */
  | { type: 'oci-stream' }
  | { type: 'docker' }
  | { type: 'registry' };

/** `--secret`: from an environment variable of the buildx process, or from a file. */
export type BuildSecret = { id: string; env: string } | { id: string; src: string };

export interface BuildxBuildSpec {
  context: string;
  file: string;
  buildArgs: Array<[string, string]>;
  target?: string;
  platform: string;
  tags: string[];
  labels: Array<[string, string]>;
  annotations?: string[];
  cache: CacheBackend;
  output: ImageOutput;
  sourceDateEpoch: number;
  metadataFile: string;
  builder?: string;
  noCache?: boolean;
  pull?: boolean;
  buildContexts?: Array<[string, string]>;
  ssh?: string[];
  shmSize?: string;
  ulimits?: string[];
  secrets?: BuildSecret[];
  provenance: boolean;
  sbom: boolean;
  /** Clamp layer mtimes to SOURCE_DATE_EPOCH. The docker driver's image exporter refuses it (it always unpacks). */
  rewriteTimestamp: boolean;
  /** Default gzip: BuildKit's own default, so no flag and the digests of earlier releases. */
  compression?: Compression;
  /** Absent: BuildKit's default level (gzip 6, zstd 3), no flag. For the image and the cache alike. */
  compressionLevel?: number;
}

/**
 * One `key=value` field of buildx's comma-separated options, which buildx reads as CSV: quoted
 * when the value holds a comma, quote or line break, so a path cannot add options of its own.
 */
export function csvField(key: string, value: string): string {
  const field = `${key}=${value}`;
  return /[",\r\n]/.test(field) ? `"${field.replace(/"/g, '""')}"` : field;
}

export function cacheFromArgs(cache: CacheBackend): string[] {
  switch (cache.type) {
    case 'none':
      return [];
    case 'gha':
      return [`type=gha,${csvField('scope', cache.scope)}`];
    case 'registry':
      return [`type=registry,${csvField('ref', cache.ref)}`];
    case 'local':
      // Nothing restored (a cold build): BuildKit would only warn that it cannot lock a missing index.json.
      return cache.from === undefined ? [] : [`type=local,${csvField('src', cache.from)}`];
  }
}

/** BuildKit's compression options, the same for the image exporter and the cache exporter; none for gzip at its default level. */
export function compressionOptions(compression: Compression = 'gzip', level?: number): string {
  return `${compression === 'zstd' ? ',compression=zstd' : ''}${level === undefined ? '' : `,compression-level=${level}`}`;
}

/**
 * ignore-error: a cache that cannot be written (registry down, login forgotten) never fails a good build.
 * The cache's layers are compressed like the image's (compression and level), so BuildKit compresses each layer once.
 */
export function cacheToArgs(cache: CacheBackend, compression: Compression = 'gzip', level?: number): string[] {
  if (cache.type === 'none') return [];
  const tail = `,mode=${cache.mode}${compressionOptions(compression, level)},ignore-error=true`;
  switch (cache.type) {
    case 'gha':
      return [`type=gha,${csvField('scope', cache.scope)}${tail}`];
    case 'registry':
      return [`type=registry,${csvField('ref', cache.ref)}${tail}`];
    case 'local':
      // A fresh destination each run: BuildKit's local cache only grows when written in place.
      return cache.to === undefined ? [] : [`type=local,${csvField('dest', cache.to)}${tail}`];
  }
}

/**
 * rewrite-timestamp clamps file mtimes in new layers to SOURCE_DATE_EPOCH, so rebuilds are byte-identical.
 * No force-compression: the compression (and level) applies to the layers the build adds, and
 * base-image layers keep their own blobs and digests (a gzip base stays gzip under zstd), so they
 * are neither converted nor pushed again (issue 20 target 1).
 */
export function outputArg(output: ImageOutput, rewriteTimestamp = true, compression: Compression = 'gzip', level?: number): string {
  const options = `${rewriteTimestamp ? ',rewrite-timestamp=true' : ''}${compressionOptions(compression, level)}`;
  switch (output.type) {
    case 'oci':
      return `type=oci,${csvField('dest', output.dest)}${options}`;
    case 'oci-layout':
      return `type=oci,${csvField('dest', output.dest)},tar=false${options}`;
    case 'oci-stream':
      return `type=oci,dest=-${options}`;
    case 'docker':
      return `type=docker${options}`;
    case 'registry':
      return `type=image,push=true${options}`;
  }
}

export function secretArg(secret: BuildSecret): string {
  return `${csvField('id', secret.id)},${'env' in secret ? csvField('env', secret.env) : csvField('src', secret.src)}`;
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
  for (const [name, value] of spec.buildContexts ?? []) args.push('--build-context', `${name}=${value}`);
  for (const secret of spec.secrets ?? []) args.push('--secret', secretArg(secret));
  for (const ssh of spec.ssh ?? []) args.push('--ssh', ssh);
  for (const [key, value] of spec.labels) args.push('--label', `${key}=${value}`);
  for (const annotation of spec.annotations ?? []) args.push('--annotation', annotation);
  for (const tag of spec.tags) args.push('--tag', tag);
  for (const from of cacheFromArgs(spec.cache)) args.push('--cache-from', from);
  for (const to of cacheToArgs(spec.cache, spec.compression, spec.compressionLevel)) args.push('--cache-to', to);
  if (spec.noCache) args.push('--no-cache');
  if (spec.pull) args.push('--pull');
  if (spec.shmSize) args.push('--shm-size', spec.shmSize);
  for (const ulimit of spec.ulimits ?? []) args.push('--ulimit', ulimit);
  // Attestations carry build times and invocation details: they change the digest every run.
  args.push(`--provenance=${spec.provenance}`);
  args.push(`--sbom=${spec.sbom}`);
  args.push('--output', outputArg(spec.output, spec.rewriteTimestamp, spec.compression, spec.compressionLevel));
  args.push('--metadata-file', spec.metadataFile);
  args.push(spec.context);
  return args;
}
