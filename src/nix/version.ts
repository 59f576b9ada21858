// Nix versions, and the behaviour that changed between the versions this suite supports (2.8 up).
import { atLeast, parseVersion, type Version } from '../tool/version.js';

export const MIN_NIX = '2.8.0';

/** The version check every Nix stage makes: the oldest supported is Debian 12's 2.8. */
export function unsupportedNixReason(version: Version, path: string): string | undefined {
  return atLeast(version, MIN_NIX) ? undefined : `Nix ${version.raw} at ${path} is too old: ${MIN_NIX} or newer is required.`;
}

/** `nix config show` from 2.20; `nix show-config` before (deprecated, still present later). */
export function configShowArgs(features: NixFeatures, ...names: string[]): string[] {
  return features.configShow ? ['config', 'show', ...names] : ['show-config'];
}

/** "nix (Nix) 2.8.0", "nix (Nix) 2.26.3", "nix (Determinate Nix 3.6.2) 2.29.0". */
export function parseNixVersion(output: string): Version | undefined {
  const match = /\bnix \([^)]*\)\s+(\d+\.\d+(?:\.\d+)?\S*)/i.exec(output);
  return match ? parseVersion(match[1]!) : undefined;
}

export interface NixFeatures {
  /** `nix build --print-out-paths` exists from 2.9. */
  printOutPaths: boolean;
  /** `nix path-info --json` is a map keyed by store path from 2.19, a list before. */
  pathInfoJsonIsMap: boolean;
  /** `nix config show` exists (2.20+). */
  configShow: boolean;
}

export function nixFeatures(version: Version): NixFeatures {
  return {
    printOutPaths: atLeast(version, '2.9.0'),
    pathInfoJsonIsMap: atLeast(version, '2.19.0'),
    configShow: atLeast(version, '2.20.0'),
  };
}
