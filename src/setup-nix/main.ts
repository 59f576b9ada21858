// setup-nix, main phase: find Nix (or install it when absent), then write this job's settings
// as a drop-in read through NIX_USER_CONF_FILES, and put nix on PATH for later steps.
import * as core from '@actions/core';
import { logInfo } from '../action/log.js';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { actionIO, type StageIO } from '../action/io.js';
import { InputError } from '../action/inputs.js';
import { stageTempDir } from '../action/paths.js';
import { registerSecret } from '../action/secrets.js';
import { renderDropIn, unknownSettings } from '../nix/conf.js';
import { installNix, DEFAULT_NIX_VERSION } from '../nix/install.js';
import { locateNix, type NixInstall } from '../nix/locate.js';
import { exists } from '../tool/disk.js';
import { configShowArgs, nixFeatures, unsupportedNixReason } from '../nix/version.js';
import { capture } from '../tool/capture.js';
import { parseSetupNixInputs } from './inputs.js';
import { saveConfDir } from './state.js';

/** The outputs action.yml declares, claimed before main runs (src/action/claims.ts). */
export const OUTPUTS = ['nix-version', 'nix-path'] as const;

export async function main(io: StageIO = actionIO): Promise<void> {
  const inputs = parseSetupNixInputs(io.get);
  // Mask secrets before anything could print them.
  if (inputs.githubToken) registerSecret(inputs.githubToken);
  if (inputs.netrc) maskNetrc(inputs.netrc);

  let nix = await locateNix();
  if (nix) {
    logInfo(`Found Nix ${nix.version.raw} at ${nix.nix} (${nix.foundBy}${nix.daemon ? ', daemon' : ''}); not installing.`);
    if (inputs.nixVersion && nix.version.raw !== inputs.nixVersion) {
      core.notice(`nix-version ${inputs.nixVersion} was asked for, but Nix ${nix.version.raw} is already installed and is used as it is.`);
    }
  } else {
    await installNix(inputs.nixVersion ?? DEFAULT_NIX_VERSION, inputs.installUrl);
    nix = await locateNix({ ...process.env, HOME: process.env.HOME ?? homedir() });
    if (!nix) throw new Error('the Nix installer finished, but no nix executable was found afterwards');
  }
  const unsupported = unsupportedNixReason(nix.version, nix.nix);
  if (unsupported) throw new Error(unsupported);

  const dir = stageTempDir('setup-nix');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  saveConfDir(dir);
  const confFile = join(dir, 'nix.conf');
  let netrcFile: string | undefined;
  if (inputs.netrc) {
    netrcFile = join(dir, 'netrc');
    await writeSecret(netrcFile, inputs.netrc.endsWith('\n') ? inputs.netrc : `${inputs.netrc}\n`);
  }
  await writeSecret(
    confFile,
    renderDropIn({
      substituters: inputs.substituters,
      trustedPublicKeys: inputs.trustedPublicKeys,
      accessTokens: inputs.githubToken ? [[serverHost(), inputs.githubToken]] : [],
      netrcFile,
      extraConf: inputs.extraConf,
    }),
  );
  const userConfFiles = [confFile, ...(await existingUserConfFiles())].join(':');

  // Let Nix itself judge the settings: unknown names are a bad extra-conf, not a later surprise.
  const check = await capture(nix.nix, configShowArgs(nixFeatures(nix.version)), {
    env: { NIX_USER_CONF_FILES: userConfFiles },
  });
  const unknown = unknownSettings(check.stderr);
  if (unknown.length > 0 || check.exitCode !== 0) {
    await rm(dir, { recursive: true, force: true });
    if (unknown.length > 0) throw new InputError('extra-conf', `Nix ${nix.version.raw} does not know the setting${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `'${u}'`).join(', ')}.`);
    throw new InputError('extra-conf', `Nix refused the settings: ${check.stderr.trim().split('\n').slice(-5).join(' ')}`);
  }

  warnIfUntrusted(nix, inputs.substituters.length + inputs.trustedPublicKeys.length > 0);
  core.exportVariable('NIX_USER_CONF_FILES', userConfFiles);
  core.addPath(dirname(nix.nix));
  io.setOutput('nix-version', nix.version.raw);
  io.setOutput('nix-path', nix.nix);
  await core.summary
    .addHeading('Nix', 3)
    .addTable([
      [{ data: 'Version', header: true }, { data: 'Path', header: true }, { data: 'Found by', header: true }, { data: 'Daemon', header: true }],
      [nix.version.raw, nix.nix, nix.foundBy, nix.daemon ? 'yes' : 'no'],
    ])
    .write();
}

function serverHost(): string {
  return new URL(process.env.GITHUB_SERVER_URL || 'https://github.com').host;
}

function maskNetrc(netrc: string): void {
  registerSecret(netrc);
  for (const match of netrc.matchAll(/\bpassword\s+(\S+)/g)) registerSecret(match[1]!);
}

async function writeSecret(path: string, text: string): Promise<void> {
  await writeFile(path, text, { mode: 0o600 });
  await chmod(path, 0o600);
}

/** The user's own config files, kept in force: NIX_USER_CONF_FILES replaces the default list. */
async function existingUserConfFiles(): Promise<string[]> {
  if (process.env.NIX_USER_CONF_FILES) return process.env.NIX_USER_CONF_FILES.split(':').filter(Boolean);
  const home = process.env.HOME ?? homedir();
  const dirs = [process.env.XDG_CONFIG_HOME ?? join(home, '.config'), ...(process.env.XDG_CONFIG_DIRS ?? '/etc/xdg').split(':')];
  const found: string[] = [];
  for (const d of dirs) if (await exists(join(d, 'nix', 'nix.conf'))) found.push(join(d, 'nix', 'nix.conf'));
  return found;
}

function warnIfUntrusted(nix: NixInstall, wantsTrustedSettings: boolean): void {
  if (nix.daemon && wantsTrustedSettings && process.getuid?.() !== 0) {
    core.warning(
      'Nix runs with a daemon here: substituters and trusted-public-keys from this step take effect only if this user is in the daemon\'s trusted-users (or the substituters are in its trusted-substituters).',
    );
  }
}
