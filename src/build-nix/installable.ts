// The installable a flake build names, checked: the flake exists and has the attribute.
import { join } from 'node:path';
import { InputError } from '../action/inputs.js';
import { errorMessage, StageFailure } from '../action/stage.js';
import { NixCli, NixCommandError } from '../nix/cli.js';
import { logTail } from '../nix/output.js';
import { isFile } from '../tool/disk.js';
import type { BuildNixInputs } from './inputs.js';

/** `<flake>#packages.<system>.<attr>`, with clear errors for a missing flake or attribute. */
export async function resolveInstallable(nix: NixCli, inputs: BuildNixInputs): Promise<string> {
  if (inputs.flakeDir) {
    if (!(await isFile(join(inputs.flakeDir, 'flake.nix')))) throw new InputError('flake', `no flake.nix in ${inputs.flakeDir} (set 'flake' to the directory holding flake.nix, or a flake reference)`);
  }
  const flakeRef = inputs.flakeDir && !inputs.flake.includes(':') ? `path:${inputs.flakeDir}` : inputs.flake;
  const packages = `${flakeRef}#packages.${inputs.system}`;
  let attrs: string[];
  try {
    attrs = await nix.evalJson<string[]>(packages, 'builtins.attrNames');
  } catch (error) {
    const detail = error instanceof NixCommandError ? logTail(error.stderr, 6) : errorMessage(error);
    if (/does not provide attribute/.test(detail)) throw new InputError('system', `the flake has no packages.${inputs.system}`);
    throw new StageFailure('Nix evaluation failed', `cannot evaluate ${packages}`, detail);
  }
  if (!attrs.includes(inputs.attr)) {
    throw new InputError('attr', `the flake has no packages.${inputs.system}.${inputs.attr}; it has: ${attrs.join(', ') || '(none)'}`);
  }
  return `${packages}.${inputs.attr}`;
}


/** `nix build` of the installable; a failure is a StageFailure with the log's last lines. */
export async function buildOrFail(nix: NixCli, installable: string, extraArgs: string[], log: (line: string) => void): Promise<{ drvPath: string; outPath: string }> {
  const build = await nix.build(installable, extraArgs, log);
  if (!build.result) {
    throw new StageFailure('Nix build failed', `nix build ${installable} exited ${build.exitCode}`, `Last log lines:\n${logTail(build.stderr)}`);
  }
  return { drvPath: build.result.drvPath, outPath: build.result.outputs.out ?? Object.values(build.result.outputs)[0]! };
}
