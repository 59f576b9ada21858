// Finds the Nix that build-nix runs: the one setup-nix put on PATH, else any existing install.
import { locateNix } from '../nix/locate.js';
import { NixCli } from '../nix/cli.js';
import { configShowArgs, unsupportedNixReason } from '../nix/version.js';

export class NixUnavailableError extends Error {}

export async function requireNix(): Promise<NixCli> {
  const install = await locateNix();
  if (!install) throw new NixUnavailableError('Nix is not installed on this runner: add the setup-nix stage before build-nix.');
  const unsupported = unsupportedNixReason(install.version, install.nix);
  if (unsupported) throw new NixUnavailableError(unsupported);
  return new NixCli(install.nix, install.version);
}

/** The substituters Nix is configured with (to leave what they serve out of the Actions cache). */
export async function configuredSubstituters(nix: NixCli): Promise<string[]> {
  const result = await nix.run(configShowArgs(nix.features, 'substituters'));
  if (result.exitCode !== 0) return [];
  const text = nix.features.configShow ? `substituters = ${result.stdout}` : result.stdout;
  const line = /^substituters = (.*)$/m.exec(text);
  return (line?.[1] ?? '').split(/\s+/).filter(Boolean);
}
