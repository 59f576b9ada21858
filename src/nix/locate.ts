// Finds an existing Nix without trusting PATH: self-hosted runners often have Nix that a
// `bash --noprofile --norc` step cannot see (NixOS, a daemon install, Debian's nix-bin).
import { access, constants, stat } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { exists } from '../tool/disk.js';
import { capture } from '../tool/capture.js';
import type { Version } from '../tool/version.js';
import { parseNixVersion } from './version.js';

export interface NixInstall {
  /** The nix executable. */
  nix: string;
  version: Version;
  /** Where it was found. */
  foundBy: 'PATH' | 'default profile' | 'NixOS system' | 'user profile' | 'installer receipt' | 'distribution package';
  /** A nix-daemon socket exists: multi-user install, settings such as substituters need a trusted user. */
  daemon: boolean;
}

export const DAEMON_SOCKET = '/nix/var/nix/daemon-socket/socket';
export const RECEIPT = '/nix/receipt.json';

/** The places Nix lives, in the order they are tried. */
export function candidatePaths(env: NodeJS.ProcessEnv): Array<{ path: string; foundBy: NixInstall['foundBy'] }> {
  const fromPath = (env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => ({ path: join(dir, 'nix'), foundBy: 'PATH' as const }));
  const home = env.HOME;
  return [
    ...fromPath,
    { path: '/nix/var/nix/profiles/default/bin/nix', foundBy: 'default profile' },
    { path: '/run/current-system/sw/bin/nix', foundBy: 'NixOS system' },
    ...(home ? [{ path: join(home, '.nix-profile', 'bin', 'nix'), foundBy: 'user profile' as const }] : []),
    ...(env.USER ? [{ path: `/nix/var/nix/profiles/per-user/${env.USER}/profile/bin/nix`, foundBy: 'user profile' as const }] : []),
    { path: '/usr/bin/nix', foundBy: 'distribution package' },
    { path: '/usr/local/bin/nix', foundBy: 'distribution package' },
  ];
}

async function executable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

export async function locateNix(env: NodeJS.ProcessEnv = process.env): Promise<NixInstall | undefined> {
  const daemon = await exists(DAEMON_SOCKET);
  const receipt = await exists(RECEIPT);
  for (const candidate of candidatePaths(env)) {
    if (!(await executable(candidate.path))) continue;
    const result = await capture(candidate.path, ['--version']).catch(() => undefined);
    const version = result && result.exitCode === 0 ? parseNixVersion(result.stdout) : undefined;
    if (!version) continue;
    const foundBy = receipt && candidate.foundBy === 'default profile' ? 'installer receipt' : candidate.foundBy;
    return { nix: candidate.path, version, foundBy, daemon };
  }
  return undefined;
}
