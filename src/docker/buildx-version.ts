// Parses `docker buildx version` output and compares versions.
// Seen forms: "github.com/docker/buildx v0.21.1 abc123" (upstream) and
// "github.com/docker/buildx 0.13.1+ds1 0.13.1+ds1-3" (Debian).

export interface Version {
  major: number;
  minor: number;
  patch: number;
  raw: string;
}

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

export function parseVersion(text: string): Version {
  const match = /^v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(text.trim());
  if (!match) throw new Error(`not a version: ${text}`);
  return { major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3] ?? 0), raw: text.trim() };
}

export function atLeast(version: Version, minimum: string): boolean {
  const min = parseVersion(minimum);
  if (version.major !== min.major) return version.major > min.major;
  if (version.minor !== min.minor) return version.minor > min.minor;
  return version.patch >= min.patch;
}

/** Oldest buildx the build stage supports: rawjson progress and rewrite-timestamp came with 0.13. */
export const MIN_BUILDX = '0.13.0';
/** The gha cache exporter speaks the v2 cache service from buildx 0.21. */
export const MIN_BUILDX_GHA_V2 = '0.21.0';
