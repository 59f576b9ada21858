// Finds the Nix that build-nix runs: the one setup-nix put on PATH, else any existing install.
import { locateNix } from '../nix/locate.js';
import { NixCli } from '../nix/cli.js';
import { MIN_NIX } from '../nix/version.js';
import { atLeast } from '../tool/version.js';

export class NixUnavailableError extends Error {}

export async function requireNix(): Promise<NixCli> {
  const install = await locateNix();
  if (!install) throw new NixUnavailableError('Nix is not installed on this runner: add the setup-nix stage before build-nix.');
  if (!atLeast(install.version, MIN_NIX)) {
    throw new NixUnavailableError(`Nix ${install.version.raw} at ${install.nix} is too old: ${MIN_NIX} or newer is required.`);
  }
  return new NixCli(install.nix, install.version);
}

/** The substituters Nix is configured with (to leave what they serve out of the Actions cache). */
export async function configuredSubstituters(nix: NixCli): Promise<string[]> {
  const args = nix.features.configShow ? ['config', 'show', 'substituters'] : ['show-config'];
  const result = await nix.run(args);
  if (result.exitCode !== 0) return [];
  const text = nix.features.configShow ? `substituters = ${result.stdout}` : result.stdout;
  const line = /^substituters = (.*)$/m.exec(text);
  return (line?.[1] ?? '').split(/\s+/).filter(Boolean);
}
