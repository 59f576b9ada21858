// The engine that built an image, as its description records it, and what a difference of engines
// explains: BuildKit's gzip streams changed between versions (bench/README.md: one Dockerfile and
// epoch gave sha256:8a2486f6… on docker 26 / buildx 0.13 and sha256:642db166… on docker 28 /
// buildx 0.29, equal diff_ids), so two runners on two engines disagree on compressed digests only.
import type { CauseAndFix } from './causes.js';

export interface EngineVersions {
  docker?: string;
  buildx?: string;
  buildkit?: string;
  driver?: string;
}

export const ENGINE_FIELDS = ['docker', 'buildx', 'buildkit', 'driver'] as const;

/** A version string as the tools print them ("26.1.5+dfsg1", "v0.29.1", "docker-container"); nothing else. */
const VERSION = /^[A-Za-z0-9][A-Za-z0-9.+~_-]{0,63}$/;

/** An engine record from another job's artifact: only known fields, each a short version string. */
export function isEngineVersions(value: unknown): value is EngineVersions {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const entries = Object.entries(value);
  return entries.length > 0 && entries.every(([key, v]) => (ENGINE_FIELDS as readonly string[]).includes(key) && typeof v === 'string' && VERSION.test(v));
}

/** "docker 26.1.5, buildx 0.13.1 (docker driver)". */
export function engineName(engine: EngineVersions): string {
  const parts: string[] = [];
  if (engine.docker) parts.push(`docker ${engine.docker}`);
  if (engine.buildkit) parts.push(`BuildKit ${engine.buildkit}`);
  if (engine.buildx) parts.push(`buildx ${engine.buildx}`);
  return `${parts.join(', ')}${engine.driver ? ` (${engine.driver} driver)` : ''}`;
}

/** The cause of compression-only layers when both sides name their engines and those differ. */
export function engineCause(a: EngineVersions | undefined, b: EngineVersions | undefined): CauseAndFix | undefined {
  if (!a || !b) return undefined;
  const differ = ENGINE_FIELDS.some((field) => field !== 'driver' && a[field] !== b[field]);
  if (!differ) return undefined;
  return {
    cause: `compression only, from different engines: the uncompressed layer (diff_id) is identical, but A was built by ${engineName(a)} and B by ${engineName(b)}, and BuildKit's gzip output differs between versions`,
    fix: 'build with compression: zstd (its layers were byte-identical across docker 26 and docker 28, bench/README.md), or pin one Docker/buildx version on every runner that must agree',
  };
}
