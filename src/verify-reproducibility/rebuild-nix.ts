// Nix: build, then `nix build --rebuild --keep-failed`: Nix rebuilds the image's derivation and,
// when the output differs, keeps the second one beside the first as <out>.check.
import * as core from '@actions/core';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { StageFailure } from '../action/stage.js';
import type { BuildNixInputs } from '../build-nix/inputs.js';
import { requireNix } from '../build-nix/nix-setup.js';
import { buildOrFail, resolveInstallable } from '../build-nix/installable.js';
import { logTail } from '../nix/output.js';
import { imageFile } from '../oci/image-file.js';

export interface NixRebuild {
  a: string;
  b: string;
  /** Nix found both builds bit-identical (NAR equal): B is A. */
  identical: boolean;
  cleanup(): Promise<void>;
}

export function checkOutputPath(stderr: string): string | undefined {
  return /differs from '([^']+\.check)'/.exec(stderr)?.[1];
}

export async function rebuildNix(inputs: BuildNixInputs, work: string): Promise<NixRebuild> {
  const nix = await requireNix();
  const installable = await resolveInstallable(nix, inputs);
  const { outPath } = await core.group('build A', () => buildOrFail(nix, installable, inputs.extraArgs, (line) => core.info(line)));
  const second = await core.group('build B (nix build --rebuild)', () =>
    nix.build(installable, ['--rebuild', '--keep-failed', ...inputs.extraArgs], (line) => core.info(line)),
  );
  const checkPath = second.exitCode === 0 ? undefined : checkOutputPath(second.stderr);
  const keptBuildDirs = [...second.stderr.matchAll(/keeping build directory '([^']+)'/g)].map((m) => m[1]!);
  if (second.exitCode !== 0 && !checkPath) {
    throw new StageFailure('Nix rebuild failed', `nix build --rebuild ${installable} exited ${second.exitCode}`, `Last log lines:\n${logTail(second.stderr)}`);
  }
  // A stream script's output is the script; compare the streams it writes. The comparison reads
  // and verifies the images itself, so they are only located here.
  const a = (await imageFile(outPath, join(work, 'a.stream.tar'))).path;
  const b = checkPath ? (await imageFile(checkPath, join(work, 'b.stream.tar'))).path : a;
  return {
    a,
    b,
    identical: !checkPath,
    cleanup: async () => {
      for (const dir of keptBuildDirs) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
      if (checkPath) await rm(checkPath, { recursive: true, force: true }).catch(() => core.info(`Could not remove ${checkPath}`));
    },
  };
}
