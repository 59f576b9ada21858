// Parsers for what the nix CLI prints, across versions 2.8 to current.
import { toSri } from './hash.js';

export interface BuildResult {
  drvPath: string;
  outputs: Record<string, string>;
}

/** `nix build --json`: a list of {drvPath, outputs}; 2.12 and 2.18 added fields (startTime, …) we ignore. */
export function parseBuildJson(stdout: string): BuildResult[] {
  const parsed = JSON.parse(stdout) as Array<{ drvPath?: string; outputs?: Record<string, string> }>;
  if (!Array.isArray(parsed)) throw new Error('nix build --json did not print a list');
  return parsed.map((r) => {
    if (!r.drvPath || !r.outputs) throw new Error(`nix build --json entry without drvPath/outputs: ${JSON.stringify(r)}`);
    return { drvPath: r.drvPath, outputs: r.outputs };
  });
}

export interface PathInfo {
  path: string;
  narHash: string;
  narSize: number;
  references: string[];
  signatures: string[];
  closureSize?: number;
}

interface RawPathInfo {
  path?: string;
  narHash?: string;
  narSize?: number;
  references?: string[];
  signatures?: string[];
  closureSize?: number;
  valid?: boolean;
}

/** `nix path-info --json`: a list of objects with `path` before 2.19, a map keyed by path after. */
export function parsePathInfoJson(stdout: string): PathInfo[] {
  const parsed = JSON.parse(stdout) as RawPathInfo[] | Record<string, RawPathInfo | null>;
  const entries: Array<[string, RawPathInfo | null]> = Array.isArray(parsed)
    ? parsed.map((p) => [p.path ?? '', p])
    : Object.entries(parsed);
  return entries
    .filter((e): e is [string, RawPathInfo] => e[1] !== null && e[1].valid !== false && e[1].narHash !== undefined)
    .map(([path, p]) => ({
      path,
      narHash: toSri(p.narHash!),
      narSize: p.narSize ?? 0,
      // 2.8 gives full store paths; some later versions give base names in the map form.
      references: (p.references ?? []).map((r) => (r.startsWith('/') ? r : `/nix/store/${r}`)),
      signatures: p.signatures ?? [],
      closureSize: p.closureSize,
    }));
}

export interface DryRun {
  toBuild: string[];
  toFetch: string[];
}

/** `nix build --dry-run` (stderr): "these N derivations will be built:" / "this path will be fetched (…):" + indented paths. */
export function parseDryRun(stderr: string): DryRun {
  const result: DryRun = { toBuild: [], toFetch: [] };
  let list: string[] | undefined;
  for (const line of stderr.split('\n')) {
    if (/^(these \d+ derivations|this derivation) will be built:/.test(line)) list = result.toBuild;
    else if (/^(these \d+ paths|this path) will be fetched/.test(line)) list = result.toFetch;
    else if (/^\s+\/nix\/store\//.test(line) && list) list.push(line.trim());
    else if (line.trim() !== '') list = undefined;
  }
  return result;
}

/** `nix store verify` (stderr): the paths it reports as "path '…' is untrusted". */
export function parseUntrustedPaths(stderr: string): string[] {
  return [...stderr.matchAll(/^path '(\/nix\/store\/[^']+)' is untrusted$/gm)].map((m) => m[1]!).sort();
}

/** The last lines of a failed build's log, for the annotation. */
export function logTail(stderr: string, lines = 20): string {
  return stderr.trimEnd().split('\n').slice(-lines).join('\n');
}
