// Installs Nix with the official installer when none is found. Only called when locateNix
// found nothing, so an existing install (and its leftovers) is never installed over.
import { logInfo } from '../action/log.js';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import * as exec from '@actions/exec';
import { exists } from '../tool/disk.js';

export const DEFAULT_NIX_VERSION = '2.28.3';

export function installerUrl(version: string, override?: string): string {
  const url = override ?? `https://releases.nixos.org/nix/nix-${version}/install`;
  // setup-nix's inputs refuse anything else; this guards every other caller.
  if (!url.startsWith('https://')) throw new Error(`the Nix installer is only downloaded over https (got ${url})`);
  return url;
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

/**
 * The installer is downloaded code run as this user (with sudo for a daemon install): it gets
 * what it needs to run, never the job's tokens (GITHUB_TOKEN, ACTIONS_RUNTIME_TOKEN, INPUT_*).
 */
export function installerEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const kept = Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined && INSTALLER_ENV.includes(e[0]));
  return { ...Object.fromEntries(kept), NIX_INSTALLER_NO_MODIFY_PROFILE: '1' };
}
const INSTALLER_ENV = ['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LC_ALL', 'TMPDIR', 'TERM'];

export async function installNix(version: string, override?: string): Promise<void> {
  const url = installerUrl(version, override);
  logInfo(`Installing Nix ${version} from ${url}`);
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
    const result = await exec.getExecOutput('sh', [script, ...args], { ignoreReturnCode: true, silent: true, env: installerEnv() });
    logInfo(result.stdout);
    if (result.exitCode !== 0) {
      throw new Error(`the Nix installer exited ${result.exitCode}:\n${(result.stderr || result.stdout).trim().split('\n').slice(-15).join('\n')}`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
