// Parses `docker buildx version` output.
// Seen forms: "github.com/docker/buildx v0.21.1 abc123" (upstream) and
// "github.com/docker/buildx 0.13.1+ds1 0.13.1+ds1-3" (Debian).
import type { Version } from '../tool/version.js';

export function parseBuildxVersion(output: string): Version | undefined {
  const match = /buildx\s+v?(\d+)\.(\d+)(?:\.(\d+))?(\S*)/.exec(output);
  if (!match) return undefined;
  return {
    major: Number(match[1]),
    minor: Number(match[2]),
    patch: Number(match[3] ?? 0),
    raw: `${match[1]}.${match[2]}.${match[3] ?? 0}${match[4] ?? ''}`,
  };
}

/** Oldest buildx the build stage supports: rawjson progress and rewrite-timestamp came with 0.13. */
export const MIN_BUILDX = '0.13.0';
/** The gha cache exporter speaks the v2 cache service from buildx 0.21. */
export const MIN_BUILDX_GHA_V2 = '0.21.0';
