// Versions of the external tools the suite drives (buildx, Nix), and comparisons.

export interface Version {
  major: number;
  minor: number;
  patch: number;
  raw: string;
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
