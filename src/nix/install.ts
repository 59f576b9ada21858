// Installs Nix with the official installer when none is found. Only called when locateNix
// found nothing, so an existing install (and its leftovers) is never installed over.
import * as core from '@actions/core';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { capture } from '../tool/capture.js';
import { exists } from '../tool/disk.js';

export const DEFAULT_NIX_VERSION = '2.28.3';

export function installerUrl(version: string, override?: string): string {
  return override ?? `https://releases.nixos.org/nix/nix-${version}/install`;
}

/** Multi-user (daemon) where systemd runs, as on hosted runners; single-user elsewhere (containers). */
export async function installerArgs(extraConfFile: string): Promise<string[]> {
  const systemd = await exists('/run/systemd/system');
  return [systemd ? '--daemon' : '--no-daemon', '--yes', '--no-channel-add', '--no-modify-profile', '--nix-extra-conf-file', extraConfFile];
}

/** The job's user must be trusted by the daemon to import the Actions-cache closure and use extra substituters. */
export function installerConf(user = process.env.USER || userInfo().username): string {
  return `trusted-users = root ${user}\nexperimental-features = nix-command flakes\n`;
}

export async function installNix(version: string, override?: string): Promise<void> {
  const url = installerUrl(version, override);
  core.info(`Installing Nix ${version} from ${url}`);
  const response = await fetch(url);
  if (!response.ok) throw new Error(`downloading the Nix installer from ${url} failed: HTTP ${response.status}`);
  const dir = await mkdtemp(join(tmpdir(), 'nix-installer-'));
  try {
    const script = join(dir, 'install');
    await writeFile(script, Buffer.from(await response.arrayBuffer()));
    await chmod(script, 0o755);
    const conf = join(dir, 'nix-extra.conf');
    await writeFile(conf, installerConf());
    const args = await installerArgs(conf);
    const result = await capture('sh', [script, ...args], { env: { NIX_INSTALLER_NO_MODIFY_PROFILE: '1' } });
    core.info(result.stdout);
    if (result.exitCode !== 0) {
      throw new Error(`the Nix installer exited ${result.exitCode}:\n${(result.stderr || result.stdout).trim().split('\n').slice(-15).join('\n')}`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
